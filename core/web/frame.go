package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
)

// languageNames are the switcher's labels, each in its own language, as a speaker
// looks for it.
var languageNames = map[string]string{
	"fi": "Suomi", "sv": "Svenska", "da": "Dansk", "tr": "Türkçe", "en": "English",
	"de": "Deutsch", "nb": "Norsk", "et": "Eesti",
}

// flashes are the messages a flash cookie may name: it carries an id, never text, so
// a forged cookie can show nothing but these.
var flashes = []string{"core.flash.registered", "core.flash.signed_in", "core.flash.signed_out"}

// frameView is what the frame template draws around a page's content.
type frameView struct {
	Lang      string
	Title     string
	FullTitle string
	City      string
	Logo      string
	Styles    []string
	Scripts   []string
	// NavHTML, CrumbsHTML and CardsHTML are the lists drawn by core-nav, core-crumbs
	// and core-cards (drawFrame).
	NavHTML    template.HTML
	CrumbsHTML template.HTML
	// NotifyHTML is the navigation's link to a signed-in person's notifications,
	// with their unread count (notifyHTML).
	NotifyHTML template.HTML
	SignedIn   bool
	Name       string
	Languages  []langChoice
	Back       string
	Flash      string
	Announce   string
	Content    template.HTML
	// Heading, set for a plugin's page, makes the frame draw the page's <h1> from
	// its title: a plugin writes only what follows it.
	Heading bool
	// CardsHTML are the plugins' cards the page shows after its content.
	CardsHTML template.HTML
	// Frame is "page" or "fragment" (htmx swapping <main>).
	Frame string
	// body, when set, is the content written in place of Content, without copying
	// it into a string (frameParts.write).
	body []byte
}

type navLink struct {
	Label, Path string
	// Lang is set when the label is written in another language than the page.
	Lang    string
	Current bool
	// What marks the link current (navCurrent): the page naming the entry id of the
	// plugin owner ("" for the core's), or, when a page names none, its path being
	// Path or, with under, lying under it.
	id, owner string
	under     bool
}

type crumb struct {
	Label, Href string
	Current     bool
}

type langChoice struct {
	Code, Name string
	Current    bool
}

// handle turns a page handler's error into the error panel for it.
func (p *Pages) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			p.fail(w, r, err)
		}
	})
}

// fail answers err with its panel: 404, 403, sign-in for a page that needs it, 503
// (with Retry-After) and 500 for anything else, which is logged with the request id
// and shown only as that id.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := core.ErrorCode(err)
	var se *sdk.Error
	if errors.As(err, &se) {
		code = se.Code // the kit's form decoder: not a form, or too large
	}
	switch code {
	case core.EMALFORMED, core.ETOOLARGE:
		status := http.StatusBadRequest
		if code == core.ETOOLARGE {
			status = http.StatusRequestEntityTooLarge
		}
		p.panel(w, r, status, "core.error.bad_request")
	case core.ENOTFOUND:
		p.panel(w, r, http.StatusNotFound, "core.error.not_found")
	case core.EFORBIDDEN:
		p.panel(w, r, http.StatusForbidden, "core.error.forbidden")
	case core.EUNAUTHENTICATED:
		http.Redirect(w, r, signInPath(r), http.StatusSeeOther)
	case core.EUNAVAILABLE:
		retry := 30
		var e *core.Error
		if errors.As(err, &e) && e.RetryAfterSeconds > 0 {
			retry = e.RetryAfterSeconds // a plugin restarting: 1 s; failed: a minute
		}
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		p.panel(w, r, http.StatusServiceUnavailable, "")
	default:
		// The route's pattern, not the path: a path may carry personal ids.
		p.opts.Logger.ErrorContext(r.Context(), "page failed", "pattern", r.Pattern, "err", err,
			"request_id", core.RequestIDFrom(r.Context()))
		p.panel(w, r, http.StatusInternalServerError, "core.error.internal")
	}
}

// panelView is an error panel's content.
type panelView struct {
	Key       string
	RequestID string
	Status    int
}

func (p *Pages) panel(w http.ResponseWriter, r *http.Request, status int, key string) {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	data := panelView{Key: key, RequestID: core.RequestIDFrom(r.Context()), Status: status}
	title := key + ".title"
	if status == http.StatusServiceUnavailable {
		title = "web.unavailable.title" // the kit's panel, which plugins show too
	}
	if err := p.render(w, r, status, "panel", data, sdk.PageMeta{Title: loc.T(title)}); err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "page: render panel", "err", err)
		http.Error(w, http.StatusText(status), status)
	}
}

// render executes the page's content template, then the frame around it (or, for
// htmx swapping <main>, the fragment), into a buffer: a failing template answers
// nothing but its error.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data any, meta sdk.PageMeta) error {
	content := bufPool.Get().(*bytes.Buffer)
	defer putBuf(content)
	if err := p.tmpl.For(viewerOf(r).lang).ExecuteTemplate(content, name, data); err != nil {
		return err
	}
	return p.frame(w, r, status, content.Bytes(), meta, "")
}

// frame draws the frame around body, the content of <main> (HTML already escaped
// by a template, or a plugin's filtered by the host); plugin names the plugin whose
// page it is ("" for the core's), whose nav entry meta.NavActive names.
func (p *Pages) frame(w http.ResponseWriter, r *http.Request, status int, body []byte, meta sdk.PageMeta, plugin string) error {
	v := viewerOf(r)
	tmpl, loc := p.tmpl.For(v.lang), p.tmpl.Localizer(v.lang)
	if meta.Focus != "" {
		body = autofocus(body, meta.Focus)
	}
	lang := loc.Lang()
	fv := frameView{
		Lang:      lang,
		Title:     meta.Title,
		FullTitle: pageTitle(meta.Title, p.opts.CityName),
		City:      p.opts.CityName,
		Logo:      p.opts.LogoURL,
		Styles:    p.opts.Stylesheets,
		Scripts:   p.opts.Scripts,
		SignedIn:  v.principal.Authenticated(),
		Name:      v.principal.DisplayName,
		Back:      r.URL.Path,
		Flash:     p.takeFlash(w, r),
		Announce:  meta.Announce,
		body:      body, // executed by html/template, or filtered by the host
		Heading:   plugin != "",
		Frame:     "page",
	}
	if target := r.Header.Get(hxTarget); r.Header.Get(hxRequest) == "true" && (target == "main#main" || target == "main") {
		fv.Frame = "fragment"
	}
	var err error
	if fv.NavHTML, err = p.navHTML(tmpl, v, lang, r.URL.Path, meta.NavActive, plugin); err != nil {
		return err
	}
	if fv.NotifyHTML, err = p.notifyHTML(r, v); err != nil {
		return err
	}
	if fv.CrumbsHTML, err = p.crumbsHTML(tmpl, loc, lang, r.URL.Path, meta); err != nil {
		return err
	}
	if status < 300 { // not on the error panel of a page that failed
		if fv.CardsHTML, err = execHTML(tmpl, "core-cards", p.cardViews(r, lang)); err != nil {
			return err
		}
	}
	parts, err := p.framePartsFor(framePartsKey{lang: lang, frame: fv.Frame, signedIn: fv.SignedIn, heading: fv.Heading, flash: fv.Flash != ""}, fv)
	if err != nil {
		return err
	}
	out := bufPool.Get().(*bytes.Buffer)
	defer putBuf(out)
	parts.write(out, &fv)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, err := w.Write(out.Bytes())
		return err
	}
	return nil
}

// languages are the switcher's choices, lang marked.
func (p *Pages) languages(lang string) []langChoice {
	out := make([]langChoice, 0, len(p.opts.Languages))
	for _, l := range p.opts.Languages {
		name := languageNames[l]
		if name == "" {
			name = l
		}
		out = append(out, langChoice{Code: l, Name: name, Current: l == lang})
	}
	return out
}

// execHTML is the template name executed with data; nothing for no data.
func execHTML[T any](tmpl *template.Template, name string, data []T) (template.HTML, error) {
	if len(data) == 0 {
		return "", nil
	}
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // executed by html/template
}

// maxListCache bounds the lists kept drawn (listHTML). A site has few unread-count
// links and breadcrumbs of its core pages; plugins' pages may have many breadcrumbs,
// and when the cache is full it is emptied. (The navigation is kept per person:
// navLinks.)
const maxListCache = 4096

// drawnLists are the lists drawn by the frame's small templates (core-crumbs,
// core-notify), by listKey. A map under a lock rather than a sync.Map: looking a
// []byte key up in a map allocates nothing, and these lookups are on every page.
type drawnLists struct {
	mu sync.RWMutex
	m  map[string]template.HTML
}

// listKey begins the key of a list drawn by the template name in lang; its content
// follows, each field by appendField.
func listKey(buf []byte, name, lang string) []byte {
	return appendField(appendField(buf, name), lang)
}

// appendField appends s to a list's key, its length first: no label can pass for two.
func appendField(key []byte, s string) []byte {
	return append(binary.AppendUvarint(key, uint64(len(s))), s...)
}

// listHTML is the list key names (listKey), drawn by draw the first time: the same few
// lists make up nearly every page.
func (p *Pages) listHTML(key []byte, draw func() (template.HTML, error)) (template.HTML, error) {
	l := &p.lists
	l.mu.RLock()
	h, ok := l.m[string(key)]
	l.mu.RUnlock()
	if ok {
		return h, nil
	}
	h, err := draw()
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) >= maxListCache || l.m == nil {
		// Full of lists drawn once (a plugin's breadcrumbs to many records): start
		// again rather than keep them and no longer the lists in use.
		l.m = make(map[string]template.HTML)
	}
	l.m[string(key)] = h
	return h, nil
}

// crumbsHTML are the breadcrumbs (crumbs) drawn by core-crumbs in lang, tmpl and loc
// its templates and words.
func (p *Pages) crumbsHTML(tmpl *template.Template, loc *i18n.Localizer, lang, path string, meta sdk.PageMeta) (template.HTML, error) {
	if path == "/" {
		return "", nil
	}
	// The key is what crumbs draws from: the language, then the page's.
	var buf [512]byte
	key := listKey(buf[:0], "core-crumbs", lang)
	for _, c := range meta.Breadcrumbs {
		key = appendField(appendField(key, c.Label), c.Href)
	}
	key = appendField(appendField(key, meta.Title), path)
	return p.listHTML(key, func() (template.HTML, error) { return execHTML(tmpl, "core-crumbs", crumbs(loc, path, meta)) })
}

// bufPool holds the buffers pages are drawn into: a page is a few kilobytes, drawn
// thousands of times a second.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // a huge page's buffer is not worth keeping
	}
	b.Reset()
	bufPool.Put(b)
}

// autofocus marks the element whose id is id with autofocus, so the browser focuses
// it on load (no script needed) and htmx after a swap: the error summary after a form
// was refused. Ids the kit makes are plain ([A-Za-z0-9_-]); any other is left alone.
func autofocus(body []byte, id string) []byte {
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return body
		}
	}
	attr := []byte(` id="` + id + `"`)
	i := bytes.Index(body, attr)
	if i < 0 {
		return body
	}
	i += len(attr)
	return slices.Concat(body[:i], []byte(" autofocus"), body[i:])
}

// navHTML is the navigation drawn by core-nav for the viewer in lang, the current
// link marked (navCurrent): the viewer's links (navLinks), each set of them drawn
// once per current link (viewerLinks.drawn).
func (p *Pages) navHTML(tmpl *template.Template, v *viewer, lang, path, active, plugin string) (template.HTML, error) {
	links := p.navLinks(v, lang)
	nav := links.links
	var current uint64 // a bit per link marked current: mostly one, or none
	for i, l := range nav {
		if navCurrent(l, path, active, plugin) {
			current |= 1 << i
		}
	}
	if len(nav) > 64 { // past what the bits tell: drawn each time
		nav = slices.Clone(nav)
		for i := range nav {
			nav[i].Current = navCurrent(nav[i], path, active, plugin)
		}
		return execHTML(tmpl, "core-nav", nav)
	}
	drawn := links.drawn.Load()
	if h, ok := (*drawn)[current]; ok {
		return h, nil
	}
	nav = slices.Clone(nav)
	for i := range nav {
		nav[i].Current = current&(1<<i) != 0
	}
	h, err := execHTML(tmpl, "core-nav", nav)
	if err != nil {
		return "", err
	}
	// A new map with the new markup: readers never wait, and a navigation is drawn
	// only as often as it has links to mark. One drawn meanwhile may be lost.
	more := maps.Clone(*drawn)
	more[current] = h
	links.drawn.CompareAndSwap(drawn, &more)
	return h, nil
}

// navCurrent reports whether l is the current page's link: the entry the page names
// (NavActive, an id of its own plugin's entries), else the one for its path.
func navCurrent(l navLink, path, active, plugin string) bool {
	if active != "" {
		return l.id != "" && l.id == active && l.owner == plugin
	}
	return l.Path == path || l.under && strings.HasPrefix(path, l.Path+"/")
}

// viewerLinks are a viewer's navigation links, none marked current, and their
// markup.
type viewerLinks struct {
	links []navLink
	// drawn are the links drawn by core-nav, by which are current (a bit each);
	// never nil once navLinks made them.
	drawn atomic.Pointer[map[uint64]template.HTML]
	// roles, authz and plugins are what they were worked out under: the viewer's
	// roles, and the versions of the policy and of the plugins.
	roles          map[string][]string
	authz, plugins uint64
}

// navLinks are the core's entries, then those passed in, then the plugins' the viewer
// may open, in lang. Working them out asks the authorizer for each entry and reads
// every plugin's manifest, a good part of a page's frame, so they are kept per person
// and language (navLinkCache) while the person's roles, the policy and the plugins
// stand.
func (p *Pages) navLinks(v *viewer, lang string) *viewerLinks {
	var authzGen, pluginsGen uint64
	if p.svc.Authz != nil {
		authzGen = p.svc.Authz.Generation()
	}
	if p.svc.Plugins != nil {
		pluginsGen = p.svc.Plugins.NavVersion()
	}
	var k navLinkKey
	var roles map[string][]string
	if v.principal.Authenticated() {
		k.userID, roles = v.principal.UserID, v.principal.Roles
	}
	k.lang = lang
	if l, ok := p.navLinkCache.Get(k); ok && l.authz == authzGen && l.plugins == pluginsGen && sameRoles(l.roles, roles) {
		return l
	}
	// The versions are read before the links are worked out: a change meanwhile
	// leaves links kept under the old version, worked out again on the next page.
	l := &viewerLinks{links: p.workOutNav(v, lang), roles: cloneRoles(roles), authz: authzGen, plugins: pluginsGen}
	l.drawn.Store(&map[uint64]template.HTML{})
	p.navLinkCache.Put(k, l)
	return l
}

func (p *Pages) workOutNav(v *viewer, lang string) []navLink {
	loc := p.tmpl.Localizer(lang)
	out := []navLink{{Label: loc.T("core.nav.home"), Path: "/"}}
	if v.principal.Authenticated() {
		out = append(out, navLink{Label: loc.T("core.mine.title"), Path: "/my-neighbourhood"})
	}
	if p.isAdmin(v) {
		out = append(out, navLink{Label: loc.T("core.admin.title"), Path: adminPath, under: true})
	}
	for _, e := range p.opts.Nav {
		label := e.Labels[lang]
		if label == "" {
			label = e.Labels[p.opts.Languages[0]]
		}
		if label == "" {
			label = e.Labels[i18n.Fallback]
		}
		if label == "" {
			continue
		}
		out = append(out, navLink{Label: label, Path: e.Path, id: e.ID})
	}
	if p.svc.Plugins != nil {
		for _, it := range p.svc.Plugins.Nav(v.principal, lang) {
			l := navLink{Label: it.Label, Path: it.Path, id: it.ID, owner: it.Plugin}
			if it.Lang != "" && !strings.EqualFold(it.Lang, lang) {
				l.Lang = it.Lang
			}
			out = append(out, l)
		}
	}
	return out
}

// navLinkKey names a viewer's links: the person ("" for everyone signed out) and the
// language. The identity service hands out a new principal every moment
// (sqlstore's PrincipalCacheTTL), so the person, not the principal, is the key; the
// links depend on the principal only through the authorizer, which reads its user
// id and roles (viewerLinks.roles).
type navLinkKey struct {
	userID, lang string
}

// sameRoles reports whether two principals' roles are the same, domain by domain.
func sameRoles(a, b map[string][]string) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}

func cloneRoles(roles map[string][]string) map[string][]string {
	if roles == nil {
		return nil
	}
	out := make(map[string][]string, len(roles))
	for d, rs := range roles {
		out[d] = slices.Clone(rs)
	}
	return out
}

// crumbs lead from the home page to this one; the home page has none.
func crumbs(loc *i18n.Localizer, path string, meta sdk.PageMeta) []crumb {
	if path == "/" {
		return nil
	}
	out := []crumb{{Label: loc.T("core.nav.home"), Href: "/"}}
	for _, c := range meta.Breadcrumbs {
		out = append(out, crumb{Label: c.Label, Href: c.Href})
	}
	if len(meta.Breadcrumbs) == 0 || meta.Breadcrumbs[len(meta.Breadcrumbs)-1].Href != path {
		out = append(out, crumb{Label: meta.Title, Href: path})
	}
	out[len(out)-1].Current = true
	return out
}

// flash leaves a message for the next page the browser shows (after a 303): a
// short-lived cookie holding the message's id.
func (p *Pages) flash(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: FlashCookie, Value: id, Path: "/", MaxAge: 60,
		HttpOnly: true, Secure: viewerOf(r).secure, SameSite: http.SameSiteLaxMode})
}

// takeFlash is the flash message the request carries, in the viewer's language, and
// clears it so it shows once.
func (p *Pages) takeFlash(w http.ResponseWriter, r *http.Request) string {
	flash, ok := cookieValue(r, FlashCookie)
	if !ok {
		return ""
	}
	v := viewerOf(r)
	http.SetCookie(w, &http.Cookie{Name: FlashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: v.secure, SameSite: http.SameSiteLaxMode})
	if !slices.Contains(flashes, flash) {
		return ""
	}
	return p.tmpl.Localizer(v.lang).T(flash)
}

// pageTitle is the <title>: the page's, then the city's.
func pageTitle(title, city string) string {
	if title == "" || strings.EqualFold(title, city) {
		return city
	}
	return title + " – " + city
}

// Plugin pages (DESIGN.md §10). A plugin renders the content of <main> in its own
// process; the host authorises the request, forwards it with the render mode and the
// viewer's language, and filters third-party HTML. Here the answer goes into the
// frame: the title as <h1> and <title>, breadcrumbs after "Home", the plugin's nav
// entry marked, the announcement in #kv-status and focus on the element it names.

// maxPageForm bounds a form posted to a plugin's page, unless its route declares
// more (one that takes files: the host receives them, see pluginhost/uploads.go).
const maxPageForm = 1 << 20

// The host pages' card slots: the home page's, and a neighbourhood's page, whose cards
// fill {nbh} in their paths and domains with the neighbourhood's id.
const (
	slotHome          = "home"
	slotNeighbourhood = "neighbourhood"
)

// pluginPage serves a path under a plugin's prefix, or the 404 panel for a path no
// plugin and no core page owns. Unsafe methods reached it through the same
// CrossOriginProtection as the core's forms.
func (p *Pages) pluginPage(w http.ResponseWriter, r *http.Request) error {
	if p.svc.Plugins == nil || !p.svc.Plugins.OwnsPage(r.URL.Path) {
		return core.Errorf(core.ENOTFOUND, "There is no page %s.", r.URL.Path)
	}
	if !cleanURL(r.URL) {
		// What the API's checkURL refuses at its door: a plugin would hand a NUL
		// or broken UTF-8 from its path or query to its database (a 500 on
		// PostgreSQL) or to its pages.
		p.panel(w, r, http.StatusBadRequest, "core.error.bad_request")
		return nil
	}
	v := viewerOf(r)
	var body []byte
	if r.ContentLength != 0 { // a GET says it has no body: nothing to read or bound
		limit := int64(max(maxPageForm, p.svc.Plugins.BodyLimit(r.Method, r.URL.Path)))
		var err error
		if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit)); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return core.Errorf(core.ETOOLARGE, "The form is too large.")
			}
			return core.Malformed("The request cannot be read.")
		}
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // HEAD wherever GET works: the frame writes no body
	}
	// The session is the host's business: the plugin learns who asks from the
	// Principal, never from the credentials. The values are shared: the request's
	// header is not changed, and the plugin gets a copy over the wire.
	header := make(http.Header, len(r.Header))
	for k, vs := range r.Header {
		if k != "Cookie" && k != "Authorization" {
			header[k] = vs
		}
	}
	fragment := r.Header.Get(hxRequest) == "true" && !targetsMain(r)
	render := sdk.RenderPage
	if fragment {
		render = sdk.RenderFragment
	}
	resp, err := p.svc.Plugins.ServePage(r.Context(), v.principal, &core.PageRequest{
		Method: method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: header, Body: body,
		Render: render, Language: v.lang,
	})
	switch core.ErrorCode(err) {
	case "":
	case core.EINVALID, core.ETOOLARGE:
		// The host refused a file of the form (its type, its size) before the
		// plugin saw it; nothing was stored. Only uploads are refused so.
		status, key := http.StatusUnprocessableEntity, "core.upload.refused"
		if core.ErrorCode(err) == core.ETOOLARGE {
			status, key = http.StatusRequestEntityTooLarge, "core.upload.too_large"
		}
		p.panel(w, r, status, key)
		return nil
	default:
		return err
	}
	plugin, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case resp.Status >= 300 && resp.Status < 400:
		// Post/Redirect/Get: the host has checked that Location stays on this site.
		loc := resp.Header.Get("Location")
		if loc == "" || !localPath(loc) {
			return fmt.Errorf("plugin %s: redirect without a local Location %q", plugin, loc)
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(resp.Status)
		return nil
	case resp.Error != nil:
		switch resp.Error.Code {
		case core.EINVALID, core.ECONFLICT, core.ERATELIMITED:
			// A refusal without a form to show it in: the plugin's status, the
			// frame's words.
			p.panel(w, r, resp.Status, "core.error.bad_request")
			return nil
		}
		return resp.Error
	case resp.Status >= 400 && len(resp.HTML) == 0:
		return core.Errorf(statusCode(resp.Status), "The plugin %s answered %d.", plugin, resp.Status)
	}
	if fragment {
		return p.fragment(w, r, resp)
	}
	return p.frame(w, r, resp.Status, resp.HTML, resp.Meta, plugin)
}

// fragment answers an htmx request that targets an element inside <main> with the
// plugin's fragment alone, and its announcement swapped into #kv-status.
func (p *Pages) fragment(w http.ResponseWriter, r *http.Request, resp *core.PageResponse) error {
	var out bytes.Buffer
	body := resp.HTML
	if resp.Meta.Focus != "" {
		body = autofocus(body, resp.Meta.Focus)
	}
	out.Write(body)
	if resp.Meta.Announce != "" {
		out.WriteString(`<div hx-swap-oob="innerHTML:#kv-status">`)
		template.HTMLEscape(&out, []byte(resp.Meta.Announce))
		out.WriteString(`</div>`)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(resp.Status)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(out.Bytes())
	return err
}

// The htmx request headers by their keys in http.Header (textproto's canonical form):
// Get("HX-Request") would make "Hx-Request" anew on each call, three times a page.
const (
	hxRequest = "Hx-Request"
	hxTarget  = "Hx-Target"
)

// targetsMain reports an htmx request that swaps the whole of <main>, which gets the
// page in the fragment frame; any other target is a piece inside it.
func targetsMain(r *http.Request) bool {
	t := r.Header.Get(hxTarget)
	return t == "" || t == "main#main" || t == "main"
}

// statusCode is the core's error code for a status a plugin answered without saying
// why.
func statusCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return core.EUNAUTHENTICATED
	case http.StatusForbidden:
		return core.EFORBIDDEN
	case http.StatusNotFound, http.StatusGone:
		return core.ENOTFOUND
	case http.StatusRequestEntityTooLarge:
		return core.ETOOLARGE
	case http.StatusServiceUnavailable:
		return core.EUNAVAILABLE
	case http.StatusBadRequest:
		return core.EMALFORMED
	}
	return core.EINTERNAL
}

// signInPath is the sign-in page with the path to come back to afterwards.
func signInPath(r *http.Request) string {
	back := r.URL.Path
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		back += "?" + r.URL.RawQuery
	}
	if back == "/" || !localPath(back) {
		return "/sign-in"
	}
	return "/sign-in?" + url.Values{"back": {back}}.Encode()
}

// cardView is one plugin card as the frame draws it.
type cardView struct {
	Label, Link string
	// Lang is set when the label is in another language than the page.
	Lang     string
	HTML     template.HTML
	Fallback bool
}

type cardsKey struct{}

// withCards fetches the cards of slot for the viewer while fn prepares the page, and
// hands them to the frame, which draws them after the page's content. The host
// bounds the wait (Options.CardDeadline): a card late or failed is a link with its
// label, and the page is never held beyond the deadline.
func (p *Pages) withCards(slot string, fn func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return p.withCardsOf(slot, nil, fn)
}

// withCardsOf is withCards for a slot whose cards take parameters from the request:
// params names the values of the {name} segments of the cards' paths and domains.
func (p *Pages) withCardsOf(slot string, params func(*http.Request) map[string]string, fn func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if p.svc.Plugins == nil {
			return fn(w, r)
		}
		v := viewerOf(r)
		f := &cardFetch{done: make(chan struct{})}
		go func() {
			defer close(f.done)
			q := core.CardRequest{Slot: slot, Viewer: v.principal, Language: v.lang, Base: r.URL.Path, Deadline: p.opts.CardDeadline}
			if params != nil {
				q.Params = params(r)
			}
			f.cards = p.svc.Plugins.Cards(r.Context(), q)
		}()
		return fn(w, r.WithContext(context.WithValue(r.Context(), cardsKey{}, f)))
	}
}

// cardFetch is the cards of a page, fetched while the page prepares its content.
type cardFetch struct {
	done  chan struct{}
	cards []core.CardResult
}

// cardViews waits for the cards withCards fetches, if the page has any.
func (p *Pages) cardViews(r *http.Request, lang string) []cardView {
	f, ok := r.Context().Value(cardsKey{}).(*cardFetch)
	if !ok {
		return nil
	}
	<-f.done
	var out []cardView
	for _, c := range f.cards {
		cv := cardView{Label: c.Label, Link: c.Link, Fallback: c.Fallback || len(c.HTML) == 0,
			HTML: template.HTML(c.HTML)} // filtered by the host as pages are
		if c.Lang != "" && !strings.EqualFold(c.Lang, lang) {
			cv.Lang = c.Lang
		}
		out = append(out, cv)
	}
	return out
}

// cleanURL reports a path and query without a NUL and in valid UTF-8.
func cleanURL(u *url.URL) bool {
	clean := func(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
	if !clean(u.Path) {
		return false
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return false
	}
	for k, vs := range q {
		if !clean(k) {
			return false
		}
		for _, v := range vs {
			if !clean(v) {
				return false
			}
		}
	}
	return true
}
