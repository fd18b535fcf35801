package web

import (
	"net/http"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// A person's own pages: the profile (name, email address, language) and the password,
// my neighbourhood, and for coordinators their neighbourhood's requests and members.
// Each calls the same core service as the API; the service decides who may do what.

func init() {
	flashes = append(flashes, "core.flash.profile_saved", "core.flash.password_changed",
		"core.flash.join_requested", "core.flash.left", "core.flash.withdrawn")
}

// accountRoutes adds the person's own pages and the coordinators' to mux.
func (p *Pages) accountRoutes(mux *http.ServeMux) {
	mux.Handle("GET /profile", p.handle(p.profileForm))
	mux.Handle("POST /profile", p.handle(p.saveProfile))
	mux.Handle("GET /profile/password", p.handle(p.passwordForm))
	mux.Handle("POST /profile/password", p.handle(p.changePassword))
	mux.Handle("GET /my-neighbourhood", p.handle(p.myNeighbourhood))
	mux.Handle("POST /my-neighbourhood", p.handle(p.askToJoin))
	mux.Handle("POST /my-neighbourhood/leave", p.handle(p.leave))
	p.coordinatorRoutes(mux)
	p.tokenRoutes(mux)
	p.dataRoutes(mux)
}

// signedIn is the signed-in viewer, or the error that sends a visitor to sign in.
func signedIn(r *http.Request) (*viewer, error) {
	v := viewerOf(r)
	if !v.principal.Authenticated() {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "Sign in first.")
	}
	return v, nil
}

// profileView is the profile form and the city's languages to choose from.
type profileView struct {
	Form      *sdkweb.Form
	Languages []sdkweb.Option
	// Unverified offers to send the confirmation mail again.
	Unverified bool
	// Providers links the sign-in services page: the city has identity providers.
	Providers bool
}

func (p *Pages) profileForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	me, err := p.svc.Identity.Me(r.Context())
	if err != nil {
		return err
	}
	form := sdkweb.NewForm(nil)
	form.Set("display_name", me.User.DisplayName)
	form.Set("email", me.User.Email)
	form.Set("language", me.User.Language)
	return p.renderProfile(w, r, http.StatusOK, form, !me.User.EmailVerified)
}

// profileInput is the profile form as posted: every field is sent, so an empty one is
// a mistake to point out, not "unchanged".
type profileInput struct {
	DisplayName     string `json:"display_name" max:"100"`
	Email           string `json:"email" max:"254"`
	Language        string `json:"language" max:"16"`
	CurrentPassword string `json:"current_password" max:"1024"`
}

// saveProfile changes the name, email address and language through the service that
// answers for the account; the next page is in the language chosen.
func (p *Pages) saveProfile(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	var in profileInput
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	form.Set("current_password", "") // never sent back to the browser
	required(form, map[string]string{"display_name": in.DisplayName, "email": in.Email})
	if form.Valid() {
		_, err := p.svc.Identity.UpdateProfile(r.Context(), core.ProfileUpdate{DisplayName: &in.DisplayName, Email: &in.Email,
			Language: &in.Language, CurrentPassword: in.CurrentPassword})
		switch core.ErrorCode(err) {
		case "":
		case core.EINVALID:
			form.Catch(sdkError(err), "core.profile")
		case core.ECONFLICT:
			form.Invalid("email", "core.profile.email.taken", nil)
		case core.ERATELIMITED:
			form.Refuse("core.password.throttled", nil)
			return p.renderProfile(w, r, http.StatusTooManyRequests, form, false)
		default:
			return err
		}
	}
	if !form.Valid() {
		return p.renderProfile(w, r, http.StatusUnprocessableEntity, form, false)
	}
	p.flash(w, r, "core.flash.profile_saved")
	sdkweb.Redirect(w, r, "/profile")
	return nil
}

func (p *Pages) renderProfile(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form, unverified bool) error {
	data := profileView{Form: form, Unverified: unverified, Providers: len(p.svc.OIDC.Providers()) > 0}
	for _, l := range p.opts.Languages {
		name := languageNames[l]
		if name == "" {
			name = l
		}
		data.Languages = append(data.Languages, sdkweb.Option{Value: l, Label: name})
	}
	return p.render(w, r, status, "profile", data, p.formMeta(r, "core.profile.title", form))
}

// formMeta is a form page's title, with the focus on the error summary when the form
// was refused.
func (p *Pages) formMeta(r *http.Request, title string, form *sdkweb.Form) sdk.PageMeta {
	meta := sdk.PageMeta{Title: p.tmpl.Localizer(viewerOf(r).lang).T(title)}
	if !form.Valid() {
		meta.Focus = sdkweb.ErrorSummaryID
	}
	return meta
}

func (p *Pages) passwordForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	form := sdkweb.NewForm(nil)
	return p.render(w, r, http.StatusOK, "password", formView{Form: form}, p.passwordMeta(r, form))
}

func (p *Pages) passwordMeta(r *http.Request, form *sdkweb.Form) sdk.PageMeta {
	meta := p.formMeta(r, "core.password.title", form)
	meta.Breadcrumbs = []sdk.Crumb{{Label: p.tmpl.Localizer(viewerOf(r).lang).T("core.profile.title"), Href: "/profile"}}
	return meta
}

// changePassword replaces the password; the service checks the current one and the
// core's rules for a new one, and ends the person's other sessions.
func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	var in core.PasswordChange
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	form.Set("current_password", "") // never sent back to the browser
	form.Set("new_password", "")
	if in.Current == "" {
		form.Invalid("current_password", "web.rule.required", nil)
	}
	if in.New == "" {
		form.Invalid("new_password", "web.rule.required", nil)
	}
	if form.Valid() {
		switch err := p.svc.Identity.ChangePassword(r.Context(), in); core.ErrorCode(err) {
		case "":
		case core.EINVALID:
			form.Catch(sdkError(err), "core.password")
		case core.ERATELIMITED:
			form.Refuse("core.password.throttled", nil)
			return p.render(w, r, http.StatusTooManyRequests, "password", formView{Form: form}, p.passwordMeta(r, form))
		default:
			return err
		}
	}
	if !form.Valid() {
		return p.render(w, r, http.StatusUnprocessableEntity, "password", formView{Form: form}, p.passwordMeta(r, form))
	}
	p.flash(w, r, "core.flash.password_changed")
	sdkweb.Redirect(w, r, "/profile")
	return nil
}
