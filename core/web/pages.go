package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// homeView is the home page's content.
type homeView struct {
	City     string
	SignedIn bool
	Name     string
	// Neighbourhoods are the cards of the open neighbourhoods (home-neighbourhoods).
	Neighbourhoods template.HTML
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) error {
	v := viewerOf(r)
	parts, err := p.homeParts(r.Context(), homeKey{tmpl: p.tmpl.For(v.lang), signedIn: v.principal.Authenticated()})
	if err != nil {
		return err
	}
	content := bufPool.Get().(*bytes.Buffer)
	defer putBuf(content)
	parts.write(content, &frameView{Name: v.principal.DisplayName})
	return p.frame(w, r, http.StatusOK, content.Bytes(), sdk.PageMeta{Title: p.opts.CityName}, "")
}

func (p *Pages) neighbourhood(w http.ResponseWriter, r *http.Request) error {
	n, err := p.svc.Neighbourhoods.FindNeighbourhood(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if n.ArchivedAt != nil {
		return core.Errorf(core.ENOTFOUND, "The neighbourhood is archived.")
	}
	return p.render(w, r, http.StatusOK, "neighbourhood", n, sdk.PageMeta{Title: n.Name})
}

// staticView is the content of a page of fixed text.
type staticView struct{ City string }

// privacyView is the privacy page: the core's text, then what each enabled plugin
// declares it keeps (core.PluginService.DataUses), one table per plugin.
type privacyView struct {
	City    string
	Plugins []privacyPlugin
}

type privacyPlugin struct {
	Title string
	Lang  string // the plugin's texts' language, when it is not the page's
	Uses  []core.PluginDataUse
}

// privacy draws the privacy page; it asks the host, never a plugin, so it answers
// while a plugin restarts.
func (p *Pages) privacy(w http.ResponseWriter, r *http.Request) error {
	lang := viewerOf(r).lang
	data := privacyView{City: p.opts.CityName}
	if p.svc.Plugins != nil {
		for _, u := range p.svc.Plugins.DataUses(lang) {
			if n := len(data.Plugins); n == 0 || data.Plugins[n-1].Uses[0].Name != u.Name {
				data.Plugins = append(data.Plugins, privacyPlugin{Title: u.Plugin})
			}
			last := &data.Plugins[len(data.Plugins)-1]
			if u.Lang != lang {
				last.Lang = u.Lang
			}
			last.Uses = append(last.Uses, u)
		}
	}
	return p.render(w, r, http.StatusOK, "privacy", data, sdk.PageMeta{Title: p.tmpl.Localizer(lang).T("core.privacy.title")})
}

// static serves a page of fixed text, drawn once per language: its content depends
// on nothing else.
func (p *Pages) static(name, title string) func(http.ResponseWriter, *http.Request) error {
	var drawn sync.Map // *template.Template (a language's) → []byte
	return func(w http.ResponseWriter, r *http.Request) error {
		lang := viewerOf(r).lang
		tmpl := p.tmpl.For(lang)
		content, ok := drawn.Load(tmpl)
		if !ok {
			var b bytes.Buffer
			if err := tmpl.ExecuteTemplate(&b, name, staticView{City: p.opts.CityName}); err != nil {
				return err
			}
			content, _ = drawn.LoadOrStore(tmpl, b.Bytes())
		}
		meta := sdk.PageMeta{Title: p.tmpl.Localizer(lang).T(title)}
		return p.frame(w, r, http.StatusOK, content.([]byte), meta, "")
	}
}

// formView is a form page's content.
type formView struct {
	Form *sdkweb.Form
	// Back is where sign-in leads afterwards: the page that asked for it (a local path).
	Back string
	// Providers are the city's identity providers' buttons (sign-in and registration).
	Providers []providerButton
}

func (p *Pages) signInForm(w http.ResponseWriter, r *http.Request) error {
	return p.renderSignIn(w, r, http.StatusOK, sdkweb.NewForm(nil))
}

// renderSignIn shows the sign-in form, keeping the page that asked for it (?back=, a
// local path only: sign-in must never lead off the site).
func (p *Pages) renderSignIn(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form) error {
	meta := sdk.PageMeta{Title: p.tmpl.Localizer(viewerOf(r).lang).T("core.signin.title")}
	if !form.Valid() {
		meta.Focus = sdkweb.ErrorSummaryID
	}
	return p.render(w, r, status, "sign-in", formView{Form: form, Back: backPath(r), Providers: p.providerButtons(r, backPath(r))}, meta)
}

// backPath is the request's ?back= when it is a path on this site, else "".
func backPath(r *http.Request) string {
	if b := r.URL.Query().Get("back"); localPath(b) {
		return b
	}
	return ""
}

// signIn signs in through the same service as POST /api/v1/auth/login: the same
// rules, throttling and messages; the session cookie is the API's.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request) error {
	var in core.LoginAttempt
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	form.Set("password", "") // never sent back to the browser
	required(form, map[string]string{"email": in.Email, "password": in.Password})
	if !form.Valid() {
		return p.renderSignIn(w, r, http.StatusUnprocessableEntity, form)
	}
	in.ClientIP, in.UserAgent = clientIP(r), r.UserAgent()
	res, err := p.svc.Identity.Login(r.Context(), in)
	if status, refused := loginRefused(form, err); refused {
		return p.renderSignIn(w, r, status, form)
	} else if err != nil {
		return err
	}
	viewerOf(r).startSession(w, res.Token, res.Session)
	p.flash(w, r, "core.flash.signed_in")
	redirectLocal(w, r, backPath(r))
	return nil
}

// redirectLocal leads to back when it is a path of this site, else home.
func redirectLocal(w http.ResponseWriter, r *http.Request, back string) {
	if !localPath(back) {
		back = "/"
	}
	sdkweb.Redirect(w, r, back)
}

// loginRefused puts a refused local sign-in on form — wrong address or password,
// too many attempts, a field the service refuses — and says with which status to draw
// the form again; refused is false for success and for errors that are no refusal.
func loginRefused(form *sdkweb.Form, err error) (status int, refused bool) {
	switch core.ErrorCode(err) {
	case core.EUNAUTHENTICATED:
		form.Refuse("core.signin.failed", nil)
		return http.StatusUnprocessableEntity, true
	case core.ERATELIMITED:
		form.Refuse("core.signin.throttled", nil)
		return http.StatusTooManyRequests, true
	case core.EINVALID:
		form.Catch(sdkError(err), "core.signin")
		return http.StatusUnprocessableEntity, true
	}
	return 0, false
}

func (p *Pages) registerForm(w http.ResponseWriter, r *http.Request) error {
	return p.renderForm(w, r, http.StatusOK, "register", "core.register.title", sdkweb.NewForm(nil))
}

// register opens an account through the same service as POST /api/v1/auth/register,
// in the language the page is read in, then leads to sign-in with a word about the
// confirmation mail.
func (p *Pages) register(w http.ResponseWriter, r *http.Request) error {
	var in core.Registration
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	form.Set("password", "")
	// Empty fields are named here, each with its own message: the service's error
	// carries one rule for all the fields it names.
	required(form, map[string]string{"display_name": in.DisplayName, "email": in.Email, "password": in.Password})
	if form.Valid() {
		in.Language = viewerOf(r).lang
		_, err := p.svc.Identity.Register(r.Context(), in)
		switch core.ErrorCode(err) {
		case "":
		case core.EINVALID:
			form.Catch(sdkError(err), "core.register")
		default:
			return err
		}
	}
	if !form.Valid() {
		return p.renderForm(w, r, http.StatusUnprocessableEntity, "register", "core.register.title", form)
	}
	// The same answer for an address that has an account: its owner got a mail.
	p.flash(w, r, "core.flash.registered_check_mail")
	sdkweb.Redirect(w, r, "/sign-in")
	return nil
}

// signOut ends the session, as POST /api/v1/auth/logout does. Signing out when not
// signed in just leads home. A session begun at an identity provider that offers
// RP-initiated logout ends there too: the answer leads to the provider, which leads
// back home.
func (p *Pages) signOut(w http.ResponseWriter, r *http.Request) error {
	v := viewerOf(r)
	to := "/"
	if v.token != "" {
		if err := p.svc.Identity.Logout(r.Context(), v.token); err != nil && core.ErrorCode(err) != core.EUNAUTHENTICATED {
			return err
		}
		v.clearSession(w)
		p.flash(w, r, "core.flash.signed_out")
		if end, ok := p.endSessionURL(w, r); ok {
			to = end
		}
	}
	sdkweb.Redirect(w, r, to)
	return nil
}

// switchLanguage remembers the chosen language in a cookie for a year (and in the
// profile of a signed-in person) and leads back to the page the switcher was on.
func (p *Pages) switchLanguage(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return core.Malformed("The form cannot be read.")
	}
	lang := r.PostForm.Get("lang")
	for _, l := range p.opts.Languages {
		if l == lang {
			http.SetCookie(w, &http.Cookie{Name: LanguageCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: viewerOf(r).secure, SameSite: http.SameSiteLaxMode})
			// A signed-in person's profile language wins over the cookie, so the
			// choice is saved in the profile too (where messages to them follow it).
			if v := viewerOf(r); v.principal.Authenticated() && v.principal.Locale != l {
				if _, err := p.svc.Identity.UpdateProfile(r.Context(), core.ProfileUpdate{Language: &l}); err != nil {
					return err
				}
			}
		}
	}
	back := r.PostForm.Get("back")
	if !localPath(back) {
		back = "/"
	}
	sdkweb.Redirect(w, r, back)
	return nil
}

func (p *Pages) renderForm(w http.ResponseWriter, r *http.Request, status int, name, title string, form *sdkweb.Form) error {
	meta := sdk.PageMeta{Title: p.tmpl.Localizer(viewerOf(r).lang).T(title)}
	if !form.Valid() {
		meta.Focus = sdkweb.ErrorSummaryID
	}
	data := formView{Form: form}
	if name == "register" {
		data.Providers = p.providerButtons(r, "")
	}
	return p.render(w, r, status, name, data, meta)
}

// sdkError is the core's refusal as the SDK's error, which the kit's forms read; the
// core spells its codes and rules as the SDK does.
func sdkError(err error) error {
	var e *core.Error
	if !errors.As(err, &e) {
		return err
	}
	return &sdk.Error{Code: e.Code, Message: e.Message, Fields: e.Fields}
}

// required records "fill in this field" for each empty field of values, in the
// order of the form (the form's own order of fields decides the summary's).
func required(form *sdkweb.Form, values map[string]string) {
	for _, name := range []string{"display_name", "email", "password"} {
		if v, ok := values[name]; ok && strings.TrimSpace(v) == "" {
			form.Invalid(name, "web.rule.required", nil)
		}
	}
}
