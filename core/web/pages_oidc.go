package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/oidc"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// Sign-in with the city's identity providers (OpenID Connect, issue 22): a button per
// provider on the sign-in and registration pages, the redirect to the provider and its
// callback, the page that asks a person to sign in locally once to link an identity
// whose address is already an account's, and the page where a signed-in person links
// and unlinks identities. core/oidc speaks to the providers; the identity service
// decides what an identity means for an account.

func init() {
	flashes = append(flashes, "core.flash.identity_linked", "core.flash.identity_unlinked")
}

// Cookies of a sign-in with a provider. Each is sealed by core/oidc; the state lives
// ten minutes and is cleared at the callback, the pending link ten minutes, the
// logout hint as long as the session.
const (
	oidcStateCookie   = "kvarter_oidc_state"
	oidcPendingCookie = "kvarter_oidc_link"
	oidcLogoutCookie  = "kvarter_oidc_logout"
)

// oidcRoutes adds the provider sign-in pages to mux; with no provider configured
// they answer 404, like any path nobody serves.
func (p *Pages) oidcRoutes(mux *http.ServeMux) {
	mux.Handle("GET /sign-in/{provider}", p.handle(p.oidcStart))
	mux.Handle("GET /sign-in/{provider}/callback", p.handle(p.oidcCallback))
	mux.Handle("GET /sign-in/link", p.handle(p.linkForm))
	mux.Handle("POST /sign-in/link", p.handle(p.linkSignIn))
	mux.Handle("GET /me/identities", p.handle(p.identitiesPage))
	// A link, not a form: a form's submission may not be redirected to another
	// origin under the CSP's form-action 'self'. Starting a flow changes nothing;
	// the callback links only for the person who started it, still signed in.
	mux.Handle("GET /me/identities/{provider}/link", p.handle(p.oidcStartLink))
	mux.Handle("POST /me/identities/unlink", p.handle(p.unlinkIdentity))
}

// cookieName is name with the __Host- prefix when cookies are Secure, which binds the
// cookie to this host, path / and HTTPS.
func (v *viewer) cookieName(name string) string {
	if v.secure {
		return "__Host-" + name
	}
	return name
}

func (v *viewer) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: v.cookieName(name), Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: v.secure, SameSite: http.SameSiteLaxMode})
}

func (v *viewer) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: v.cookieName(name), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: v.secure, SameSite: http.SameSiteLaxMode})
}

func (v *viewer) cookie(r *http.Request, name string) string {
	value, _ := cookieValue(r, v.cookieName(name))
	return value
}

// providerButton is one provider's button on a page.
type providerButton struct {
	ID, Label, Href string
}

// providerButtons are the buttons of the configured providers, labelled in the
// viewer's language; back is the page to return to after signing in.
func (p *Pages) providerButtons(r *http.Request, back string) []providerButton {
	var out []providerButton
	for _, pr := range p.svc.OIDC.Providers() {
		href := "/sign-in/" + pr.ID
		if back != "" {
			href += "?back=" + url.QueryEscape(back)
		}
		out = append(out, providerButton{ID: pr.ID, Label: pr.Label(viewerOf(r).lang, p.opts.Languages[0]), Href: href})
	}
	return out
}

// siteURL is the site's address: the configured public URL, else the request's own.
func (p *Pages) siteURL(r *http.Request) string {
	if p.opts.PublicURL != "" {
		return strings.TrimSuffix(p.opts.PublicURL, "/")
	}
	scheme := "http"
	if viewerOf(r).secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (p *Pages) callbackURL(r *http.Request, provider string) string {
	return p.siteURL(r) + "/sign-in/" + provider + "/callback"
}

// oidcStart leads to the provider to sign in, keeping the flow's secrets in the
// sealed state cookie.
func (p *Pages) oidcStart(w http.ResponseWriter, r *http.Request) error {
	return p.startFlow(w, r, oidc.PurposeSignIn, "", backPath(r))
}

// oidcStartLink leads a signed-in person to the provider to link an identity.
func (p *Pages) oidcStartLink(w http.ResponseWriter, r *http.Request) error {
	v, err := signedIn(r)
	if err != nil {
		return err
	}
	return p.startFlow(w, r, oidc.PurposeLink, v.principal.UserID, "/me/identities")
}

func (p *Pages) startFlow(w http.ResponseWriter, r *http.Request, purpose, userID, back string) error {
	id := r.PathValue("provider")
	if !p.svc.OIDC.Has(id) {
		return core.Errorf(core.ENOTFOUND, "No such identity provider.")
	}
	authURL, sealed, err := p.svc.OIDC.Start(r.Context(), id, p.callbackURL(r, id), purpose, userID, back)
	if err != nil {
		return p.oidcRefused(w, r, id, err)
	}
	viewerOf(r).setCookie(w, oidcStateCookie, sealed, oidc.StateTTL)
	http.Redirect(w, r, authURL, http.StatusSeeOther)
	return nil
}

// oidcCallback finishes a flow when the provider sends the person back. The state
// cookie is cleared whatever happens, so the same callback URL works once.
func (p *Pages) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("provider")
	if !p.svc.OIDC.Has(id) {
		return core.Errorf(core.ENOTFOUND, "No such identity provider.")
	}
	v := viewerOf(r)
	sealed := v.cookie(r, oidcStateCookie)
	v.clearCookie(w, oidcStateCookie)
	res, err := p.svc.OIDC.Finish(r.Context(), id, p.callbackURL(r, id), r.URL.Query(), sealed)
	if err != nil {
		return p.oidcRefused(w, r, id, err)
	}
	if res.Purpose == oidc.PurposeLink {
		return p.finishLink(w, r, res)
	}
	return p.finishSignIn(w, r, res)
}

// finishSignIn signs the person in with a verified identity: their account's, a new
// one, or — when the identity's verified address is an account's — the page that asks
// them to sign in to it locally once to link.
func (p *Pages) finishSignIn(w http.ResponseWriter, r *http.Request, res *oidc.Result) error {
	v := viewerOf(r)
	out, err := p.svc.ExternalIdentities.SignInExternal(r.Context(), core.ExternalSignIn{
		Identity: res.Identity, Language: v.lang, ClientIP: clientIP(r), UserAgent: r.UserAgent()})
	switch {
	case err == nil:
	case fieldRule(err, "rule") == core.RuleLinkRequired:
		sealed, err := p.svc.OIDC.SealPending(res)
		if err != nil {
			return err
		}
		v.setCookie(w, oidcPendingCookie, sealed, oidc.PendingTTL)
		sdkweb.Redirect(w, r, "/sign-in/link")
		return nil
	case core.ErrorCode(err) == core.EINVALID:
		p.oidcLog(r, res.Identity.Provider, "claims", err)
		p.panel(w, r, http.StatusUnprocessableEntity, "core.oidc.error.claims")
		return nil
	default:
		return err
	}
	// A session already open in this browser (another person's, perhaps) ends: the
	// browser now belongs to whoever the provider vouched for.
	if v.token != "" {
		if err := p.svc.Identity.Logout(r.Context(), v.token); err != nil && core.ErrorCode(err) != core.EUNAUTHENTICATED {
			return err
		}
	}
	// The claims are applied as the person now signed in, not whoever this browser
	// was signed in as before.
	p.applyClaims(core.WithPrincipal(r.Context(), &core.Principal{UserID: out.User.ID, SessionID: out.Session.ID}), out.User.ID, res)
	v.startSession(w, out.Token, out.Session)
	if out.Session.ExpiresAt != nil {
		if hint, err := p.svc.OIDC.SealLogout(oidc.Logout{Provider: res.Identity.Provider, IDToken: res.IDToken}, *out.Session.ExpiresAt); err == nil {
			v.setCookie(w, oidcLogoutCookie, hint, time.Until(*out.Session.ExpiresAt))
		}
	}
	p.flash(w, r, "core.flash.signed_in")
	redirectLocal(w, r, res.Back)
	return nil
}

// finishLink links a verified identity to the account of the person who asked,
// who must still be signed in in this browser.
func (p *Pages) finishLink(w http.ResponseWriter, r *http.Request, res *oidc.Result) error {
	v := viewerOf(r)
	if !v.principal.Authenticated() || v.principal.UserID != res.UserID {
		return p.oidcRefused(w, r, res.Identity.Provider, &oidc.Error{Kind: oidc.KindState, Err: errNotTheLinker})
	}
	if err := p.svc.ExternalIdentities.LinkIdentity(r.Context(), res.Identity); err != nil {
		return p.linkRefused(w, r, err)
	}
	p.applyClaims(r.Context(), v.principal.UserID, res)
	p.flash(w, r, "core.flash.identity_linked")
	sdkweb.Redirect(w, r, "/me/identities")
	return nil
}

var errNotTheLinker = errors.New("the person who asked to link is not signed in")

// linkRefused shows why an identity was not linked; anything else is the usual panel.
func (p *Pages) linkRefused(w http.ResponseWriter, r *http.Request, err error) error {
	if fieldRule(err, "rule") == core.RuleLinkedElsewhere {
		p.panel(w, r, http.StatusConflict, "core.oidc.error.linked_elsewhere")
		return nil
	}
	return err
}

// applyClaims hands the ID token's claims to the city's claims service (residency
// from a municipality code, say). The sign-in stands if it fails: the claims apply
// again at the next sign-in.
func (p *Pages) applyClaims(ctx context.Context, userID string, res *oidc.Result) {
	if p.svc.Claims == nil || res.Claims == nil {
		return
	}
	if err := p.svc.Claims.ApplyClaims(ctx, userID, res.Identity.Provider, res.Claims); err != nil {
		p.opts.Logger.ErrorContext(ctx, "oidc: apply claims", "provider", res.Identity.Provider, "err", err)
	}
}

// oidcRefused answers a refused flow with a page that says what happened, in the
// viewer's language; the log names the provider and the kind, never a token.
func (p *Pages) oidcRefused(w http.ResponseWriter, r *http.Request, provider string, err error) error {
	kind := oidc.KindToken
	if e, ok := err.(*oidc.Error); ok {
		kind = e.Kind
	}
	p.oidcLog(r, provider, kind, err)
	switch kind {
	case oidc.KindUnavailable:
		w.Header().Set("Retry-After", "30")
		p.panel(w, r, http.StatusServiceUnavailable, "core.oidc.error.unavailable")
	case oidc.KindUnknownProvider:
		return core.Errorf(core.ENOTFOUND, "No such identity provider.")
	case oidc.KindState, oidc.KindDenied:
		p.panel(w, r, http.StatusBadRequest, "core.oidc.error."+kind)
	default:
		p.panel(w, r, http.StatusBadRequest, "core.oidc.error.token")
	}
	return nil
}

func (p *Pages) oidcLog(r *http.Request, provider, kind string, err error) {
	p.opts.Logger.InfoContext(r.Context(), "oidc: sign-in refused", "provider", provider, "kind", kind, "reason", err.Error())
}

// fieldRule is the rule a core error names under field, or "".
func fieldRule(err error, field string) string {
	if e, ok := err.(*core.Error); ok {
		return e.Fields[field]
	}
	return ""
}

// linkView is the page that asks a person to sign in locally once to link an identity.
type linkView struct {
	Form     *sdkweb.Form
	Provider string
	Email    string
}

// pendingLink is the identity waiting to be linked, from its sealed cookie.
func (p *Pages) pendingLink(r *http.Request) (oidc.Pending, bool) {
	sealed := viewerOf(r).cookie(r, oidcPendingCookie)
	if sealed == "" || p.svc.OIDC == nil {
		return oidc.Pending{}, false
	}
	return p.svc.OIDC.OpenPending(sealed)
}

func (p *Pages) linkForm(w http.ResponseWriter, r *http.Request) error {
	pending, ok := p.pendingLink(r)
	if !ok {
		p.panel(w, r, http.StatusBadRequest, "core.oidc.error.state")
		return nil
	}
	form := sdkweb.NewForm(nil)
	form.Set("email", pending.Identity.Email)
	return p.renderLink(w, r, http.StatusOK, form, pending)
}

func (p *Pages) renderLink(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form, pending oidc.Pending) error {
	label := pending.Identity.Provider
	for _, b := range p.providerButtons(r, "") {
		if b.ID == pending.Identity.Provider {
			label = b.Label
		}
	}
	data := linkView{Form: form, Provider: label, Email: pending.Identity.Email}
	return p.render(w, r, status, "oidc-link", data, p.formMeta(r, "core.oidc.link.title", form))
}

// linkSignIn signs in to a local account with its password and links the pending
// identity to it: proof of both, so an address alone never links.
func (p *Pages) linkSignIn(w http.ResponseWriter, r *http.Request) error {
	pending, ok := p.pendingLink(r)
	if !ok {
		p.panel(w, r, http.StatusBadRequest, "core.oidc.error.state")
		return nil
	}
	var in core.LoginAttempt
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	form.Set("password", "")
	required(form, map[string]string{"email": in.Email, "password": in.Password})
	if !form.Valid() {
		return p.renderLink(w, r, http.StatusUnprocessableEntity, form, pending)
	}
	in.ClientIP, in.UserAgent = clientIP(r), r.UserAgent()
	res, err := p.svc.Identity.Login(r.Context(), in)
	if status, refused := loginRefused(form, err); refused {
		return p.renderLink(w, r, status, form, pending)
	} else if err != nil {
		return err
	}
	ctx := core.WithPrincipal(r.Context(), &core.Principal{UserID: res.User.ID, SessionID: res.Session.ID})
	if err := p.svc.ExternalIdentities.LinkIdentity(ctx, pending.Identity); err != nil {
		// The identity was linked elsewhere meanwhile: the session just opened ends,
		// so that the refusal changes nothing.
		_ = p.svc.Identity.Logout(r.Context(), res.Token)
		return p.linkRefused(w, r, err)
	}
	v := viewerOf(r)
	v.clearCookie(w, oidcPendingCookie)
	p.applyClaims(ctx, res.User.ID, &oidc.Result{Identity: pending.Identity, Claims: pending.Claims})
	v.startSession(w, res.Token, res.Session)
	p.flash(w, r, "core.flash.identity_linked")
	redirectLocal(w, r, pending.Back)
	return nil
}

// identitiesView is the page of a person's linked identities and the providers they
// can link.
type identitiesView struct {
	Linked  []identityRow
	CanLink []providerButton
	Form    *sdkweb.Form
}

type identityRow struct {
	Provider, ProviderLabel, Subject, Email, Linked, LastUsed string
}

func (p *Pages) identitiesPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	return p.renderIdentities(w, r, http.StatusOK, sdkweb.NewForm(nil))
}

func (p *Pages) renderIdentities(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form) error {
	linked, err := p.svc.ExternalIdentities.ListIdentities(r.Context())
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	buttons := p.providerButtons(r, "")
	label := func(id string) string {
		for _, b := range buttons {
			if b.ID == id {
				return b.Label
			}
		}
		return id
	}
	data := identitiesView{Form: form}
	has := map[string]bool{}
	for _, l := range linked {
		has[l.Provider] = true
		data.Linked = append(data.Linked, identityRow{Provider: l.Provider, ProviderLabel: label(l.Provider), Subject: l.Subject, Email: l.Email,
			Linked: loc.Date(l.CreatedAt), LastUsed: loc.Date(l.LastSignInAt)})
	}
	for _, b := range buttons {
		if !has[b.ID] {
			data.CanLink = append(data.CanLink, b)
		}
	}
	return p.render(w, r, status, "identities", data, p.formMeta(r, "core.identities.title", form))
}

// unlinkInput is the unlink form as posted.
type unlinkInput struct {
	Provider string `json:"provider" max:"64"`
	Subject  string `json:"subject" max:"255"`
}

func (p *Pages) unlinkIdentity(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	var in unlinkInput
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	err = p.svc.ExternalIdentities.UnlinkIdentity(r.Context(), in.Provider, in.Subject)
	switch {
	case err == nil:
	case fieldRule(err, "rule") == core.RuleLastSignIn:
		form.Refuse("core.identities.last_sign_in", nil)
		return p.renderIdentities(w, r, http.StatusUnprocessableEntity, form)
	case core.ErrorCode(err) == core.EINVALID:
		return core.Errorf(core.ENOTFOUND, "No such identity is linked to your account.")
	default:
		return err
	}
	p.flash(w, r, "core.flash.identity_unlinked")
	sdkweb.Redirect(w, r, "/me/identities")
	return nil
}

// logoutFormAction is the CSP for a viewer whose session began at a provider: its
// form-action also allows the provider's origins, because Chrome checks form-action
// against every redirect of a form's submission, and signing out (a form) ends at
// the provider's end_session_endpoint. Everyone else gets CSP.
func (p *Pages) logoutFormAction(r *http.Request, v *viewer) string {
	if p.svc.OIDC == nil || v.token == "" {
		return ""
	}
	sealed := v.cookie(r, oidcLogoutCookie)
	if sealed == "" {
		return ""
	}
	l, ok := p.svc.OIDC.OpenLogout(sealed)
	if !ok {
		return ""
	}
	origins := p.svc.OIDC.Origins(l.Provider)
	if len(origins) == 0 {
		return ""
	}
	return strings.Replace(CSP, "form-action 'self'", "form-action 'self' "+strings.Join(origins, " "), 1)
}

// endSessionURL is where signing out leads when the session began at a provider
// that offers RP-initiated logout: to it, with the ID token as the hint and this
// site's home to come back to. The logout cookie is cleared either way.
func (p *Pages) endSessionURL(w http.ResponseWriter, r *http.Request) (string, bool) {
	v := viewerOf(r)
	sealed := v.cookie(r, oidcLogoutCookie)
	if sealed == "" || p.svc.OIDC == nil {
		return "", false
	}
	v.clearCookie(w, oidcLogoutCookie)
	l, ok := p.svc.OIDC.OpenLogout(sealed)
	if !ok {
		return "", false
	}
	return p.svc.OIDC.EndSessionURL(r.Context(), l.Provider, l.IDToken, p.siteURL(r)+"/")
}
