// Package web draws the core's pages (DESIGN.md §10): the frame every page of the site
// sits in — <html lang>, head and assets, skip link, header, navigation, breadcrumbs,
// language switcher, the live region, flash messages, footer, the error panels — and
// the core's own pages: home, sign-in, registration, sign-out, the accessibility
// statement, the privacy page, a person's account and notifications, and the
// coordinators' and city admins' pages.
//
// It speaks net/http and the core's services only; the HTTP adapter (core/httpapi)
// mounts it for every path outside /api/. Pages work without JavaScript: forms post
// and answer 303 (Post/Redirect/Get) or 422 with the form again; htmx, when the
// browser runs it, swaps <main> only (see Pages.ServeHTTP).
package web

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/internal/twogen"
	"github.com/kvarter/kvarter/core/oidc"
	"github.com/kvarter/kvarter/core/web/static"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// Cookie names. The session cookie is the API's; when cookies are Secure it carries
// the __Host- prefix, which binds it to this host, path / and HTTPS.
const (
	SessionCookie       = "kvarter_session"
	SecureSessionCookie = "__Host-kvarter_session"
	LanguageCookie      = "kvarter_lang"
	FlashCookie         = "kvarter_flash"
)

// CSP is the Content-Security-Policy of every page: no inline script or style, no
// other origin, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// Catalog is the core's messages ("core.*") in fi, sv, da, tr and en.
//
//go:embed locales/*.toml
var Catalog embed.FS

//go:embed templates/*.tmpl
var templates embed.FS

// Services are the core services the pages call, the same the API calls.
type Services struct {
	Identity       core.IdentityService
	Neighbourhoods core.NeighbourhoodService
	Organisations  core.OrganisationService
	Roles          core.RoleService
	Audit          core.AuditService
	// Authz is the authorizer the services ask: the admin index and the navigation
	// ask it which sections a viewer may open, and pages that only show forms (the
	// city admins' pages) ask it the same question before drawing them; the services
	// still decide every request. nil: nobody is shown them.
	Authz core.Authorizer
	// Plugins serves the plugins' pages, navigation and cards; nil when the node
	// runs no plugins.
	Plugins core.PluginService
	// Uploads serves the files plugins' forms received at /uploads/{id}; nil when
	// the node keeps none.
	Uploads core.UploadService
	// Notifications serves a person's notifications, preferences and follows, and
	// the one-click unsubscribe link; nil when the node keeps none (the pages answer
	// 404 and the navigation shows no link).
	Notifications core.NotificationService
	// Mail is the mail queue, shown to city administrators at /admin/mail; nil
	// hides the page.
	Mail core.MailQueueService
	// OIDC signs people in with the city's identity providers, and
	// ExternalIdentities keeps their identities (pages_oidc.go); with OIDC nil the
	// pages show no provider and /sign-in/{provider} answers 404.
	OIDC               *oidc.RelyingParty
	ExternalIdentities core.ExternalIdentityService
	// Claims acts on a provider's claims after each sign-in with it (residency, say);
	// nil: nothing does.
	Claims core.ClaimsService
}

// Options describe the city and how the site is served.
type Options struct {
	// CityName is shown in the header and the titles (config city.name).
	CityName string
	// LogoURL, when set, is the city's logo beside its name.
	LogoURL string
	// Languages are the city's languages, its default first (config city.languages).
	Languages []string
	// Zone is the city's time zone; nil is UTC.
	Zone *time.Location
	// Stylesheets and Scripts are the URLs every page links, in order; nil are
	// the embedded assets' (static.Stylesheets, static.Scripts). A city's brand
	// stylesheet goes last among the stylesheets.
	Stylesheets []string
	Scripts     []string
	// SecureCookies makes every cookie Secure (and the session cookie __Host-);
	// otherwise cookies are Secure when the request came over TLS.
	SecureCookies bool
	// Nav are the entries other parts of the site add to the navigation, after the
	// core's; the caller filters them per viewer.
	Nav []sdk.NavEntry
	// CardDeadline bounds the wait for plugins' cards on a page that shows them;
	// zero is the plugin host's default.
	CardDeadline time.Duration
	// Logger records internal errors; nil discards them.
	Logger *slog.Logger
	// PublicURL is the site's address ("https://kvarter.espoo.fi"), which identity
	// providers send people back to; "" is the request's own scheme and host.
	PublicURL string
}

// Pages serves the core's pages in the frame.
type Pages struct {
	svc       Services
	opts      Options
	tmpl      *sdkweb.Templates
	handler   http.Handler
	homeCache homeCache // the home page's content (home.go)
	// frames and lists are the frame's parts and lists, drawn once (frame.go).
	frames *frameCache
	lists  drawnLists
	// navLinkCache keeps each viewer's navigation links (frame.go).
	navLinkCache twogen.Map[navLinkKey, *viewerLinks]
	// unread are the people's unread counts the navigation shows
	// (pages_notifications.go).
	unread unreadCounts
}

// New parses the templates for every language and builds the pages' routes.
func New(svc Services, opts Options) (*Pages, error) {
	if opts.CityName == "" {
		opts.CityName = "Kvarter"
	}
	if len(opts.Languages) == 0 {
		opts.Languages = []string{i18n.Fallback}
	}
	if opts.Stylesheets == nil {
		opts.Stylesheets = static.Stylesheets()
	}
	if opts.Scripts == nil {
		opts.Scripts = static.Scripts()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	bundle, err := sdkweb.NewBundle(Catalog)
	if err != nil {
		return nil, fmt.Errorf("web: catalog: %w", err)
	}
	tmpl, err := sdkweb.NewTemplates(bundle, sdkweb.Options{Zone: opts.Zone, Default: opts.Languages[0]}, templates, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	p := &Pages{svc: svc, opts: opts, tmpl: tmpl, frames: newFrameCache()}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", p.handle(p.withCards(slotHome, p.home)))
	mux.Handle("GET /sign-in", p.handle(p.signInForm))
	mux.Handle("POST /sign-in", p.handle(p.signIn))
	mux.Handle("GET /register", p.handle(p.registerForm))
	mux.Handle("POST /register", p.handle(p.register))
	mux.Handle("POST /sign-out", p.handle(p.signOut))
	mux.Handle("POST /language", p.handle(p.switchLanguage))
	mux.Handle("GET /accessibility", p.handle(p.static("accessibility", "core.a11y.title")))
	mux.Handle("GET /privacy", p.handle(p.privacy))
	mux.Handle("GET /neighbourhoods/{id}", p.handle(p.withCardsOf(slotNeighbourhood,
		func(r *http.Request) map[string]string { return map[string]string{"nbh": r.PathValue("id")} }, p.neighbourhood)))
	mux.Handle("GET /uploads/{id}", p.handle(p.upload))
	p.accountRoutes(mux)      // pages_account.go
	p.mailRoutes(mux)         // pages_mail.go: confirming an address, resetting a password
	p.adminRoutes(mux)        // pages_admin.go: the admin index, people, grants, audit
	p.adminPlacesRoutes(mux)  // pages_admin_places.go: neighbourhoods, organisations, plugins
	p.notificationRoutes(mux) // pages_notifications.go
	p.oidcRoutes(mux)         // pages_oidc.go: sign-in with the city's identity providers
	// Every other path is a plugin's page (/<plugin>/...) or nobody's.
	mux.Handle("/", p.handle(p.pluginPage))
	cop := http.NewCrossOriginProtection()
	// The one exception: a mail client's one-click unsubscribe (RFC 8058) posts from
	// no page of this site and without cookies; the signed token in its URL is what
	// authorises it, and it does nothing else (pages_notifications.go).
	cop.AddInsecureBypassPattern("POST " + unsubscribePath)
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.panel(w, r, http.StatusForbidden, "core.error.cross_site")
	}))
	p.handler = cop.Handler(mux)
	return p, nil
}

// ServeHTTP answers a page. Every answer carries the CSP and is not stored by caches
// (pages show who is signed in and are written in the viewer's language). The viewer
// — the session cookie's person, the negotiated language — is resolved once here.
// Unsafe methods pass Go's CrossOriginProtection (Sec-Fetch-Site, else Origin against
// Host) before any handler runs; a refused one answers 403 and changes nothing.
//
// A request from htmx (HX-Request) that targets <main> (HX-Target "main#main", as
// htmx 4 names it, or "main") gets only
// the content of <main>, preceded by the page's <title> (htmx sets the document's
// title from it), the header out of band (navigation and the switcher stay current),
// and the announcement swapped into #kv-status; the element to focus carries
// autofocus, which browsers honour on load and htmx after a swap.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, vs := range pageHeaders {
		h[k] = vs
	}
	v := p.viewer(w, r)
	if csp := p.logoutFormAction(r, v); csp != "" {
		h.Set("Content-Security-Policy", csp)
	}
	ctx := context.WithValue(r.Context(), viewerKey{}, v)
	if v.principal.Authenticated() {
		ctx = core.WithPrincipal(ctx, v.principal)
	}
	p.handler.ServeHTTP(w, r.WithContext(ctx))
}

// pageHeaders are on every page. Every answer shares their values: Set replaces a
// value and Add appends past its slice's end, so none is written in place.
var pageHeaders = http.Header{
	"Content-Security-Policy": {CSP},
	"X-Content-Type-Options":  {"nosniff"},
	"Referrer-Policy":         {"no-referrer"},
	"Cache-Control":           {"no-store"},
	"Vary":                    {"Cookie, Accept-Language, HX-Request, HX-Target"},
}

// viewer is who asks and in which language the answer is written.
type viewer struct {
	principal *core.Principal
	token     string
	lang      string
	secure    bool
}

type viewerKey struct{}

func viewerOf(r *http.Request) *viewer {
	if v, ok := r.Context().Value(viewerKey{}).(*viewer); ok {
		return v
	}
	return &viewer{principal: &core.Principal{}, lang: i18n.Fallback}
}

func (p *Pages) viewer(w http.ResponseWriter, r *http.Request) *viewer {
	c, _ := r.Context().Value(clientKey{}).(*client)
	v := &viewer{principal: &core.Principal{}, secure: p.opts.SecureCookies || r.TLS != nil || c != nil && c.https}
	if token, ok := cookieValue(r, v.sessionCookie()); ok && token != "" {
		pr, err := p.svc.Identity.Authenticate(r.Context(), token)
		switch {
		case err == nil:
			v.principal, v.token = pr, token
		case core.ErrorCode(err) == core.EUNAUTHENTICATED:
			// A stale cookie: the browser was signed in once. Forget it and go on
			// as anonymous, so public pages keep working.
			v.clearSession(w)
		default:
			p.opts.Logger.ErrorContext(r.Context(), "page: authenticate", "err", err)
		}
	}
	cookie, _ := cookieValue(r, LanguageCookie)
	v.lang = i18n.Negotiate(v.principal.Locale, cookie, r.Header.Get("Accept-Language"), p.opts.Languages)
	return v
}

// maxCookies is as many cookies as net/http reads from a request (its GODEBUG
// httpcookiemaxnum's default): past it, none.
const maxCookies = 3000

// cookieValue is the value of the request's first cookie called name, as r.Cookie
// reads it, without making a Cookie of each one the browser sent: every page reads
// two or three of them.
func cookieValue(r *http.Request, name string) (string, bool) {
	lines, count := r.Header["Cookie"], 0
	for _, line := range lines {
		count += strings.Count(line, ";") + 1
	}
	if count > maxCookies {
		return "", false // none at all, as net/http
	}
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' }) {
				continue // not a cookie value, as net/http skips it
			}
			return v, true
		}
	}
	return "", false
}

func (v *viewer) sessionCookie() string {
	if v.secure {
		return SecureSessionCookie
	}
	return SessionCookie
}

func (v *viewer) setSession(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: v.sessionCookie(), Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: v.secure, SameSite: http.SameSiteLaxMode})
}

// startSession sets the cookie of a session just opened, for as long as it lasts. A
// provider's logout cookie left by an earlier session in this browser goes: it
// belongs to whoever signed in at the provider before (their ID token, their
// provider's sign-out), and a session begun at a provider sets its own after this.
func (v *viewer) startSession(w http.ResponseWriter, token string, s core.Session) {
	expires := time.Now().Add(24 * time.Hour)
	if s.ExpiresAt != nil {
		expires = *s.ExpiresAt
	}
	v.clearCookie(w, oidcLogoutCookie)
	v.setSession(w, token, expires)
}

func (v *viewer) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: v.sessionCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: v.secure, SameSite: http.SameSiteLaxMode})
}

// clientKey carries the client's address and scheme as the HTTP adapter
// resolved them (behind trusted proxies).
type clientKey struct{}

type client struct {
	ip    string
	https bool
}

// WithClient returns ctx carrying the client's address, which sign-in throttles by as
// the API does, and whether the client reached the site over HTTPS, which makes the
// cookies Secure (and the session cookie __Host-). Without it the request's peer
// address and its own TLS state are used.
func WithClient(ctx context.Context, ip string, https bool) context.Context {
	return context.WithValue(ctx, clientKey{}, &client{ip: ip, https: https})
}

func clientIP(r *http.Request) string {
	if c, ok := r.Context().Value(clientKey{}).(*client); ok && c.ip != "" {
		return c.ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath reports whether s is a path of this site, safe to redirect to
// (core.LocalPath).
func localPath(s string) bool { return core.LocalPath(s) }
