package web

import (
	"errors"
	"net/http"

	"github.com/kvarter/kvarter/core"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// The pages account mail leads to: confirming an address (a GET only shows the
// button, since mail scanners follow links; the POST uses the token), asking for a
// password reset and choosing the new password.

func init() {
	flashes = append(flashes, "core.flash.registered_check_mail", "core.flash.email_verified", "core.flash.verification_sent",
		"core.flash.reset_requested", "core.flash.password_reset")
}

func (p *Pages) mailRoutes(mux *http.ServeMux) {
	mux.Handle("GET /verify-email", p.handle(p.verifyEmailForm))
	mux.Handle("POST /verify-email", p.handle(p.verifyEmail))
	mux.Handle("POST /profile/verify-email", p.handle(p.resendVerification))
	mux.Handle("GET /password/forgot", p.handle(p.forgotForm))
	mux.Handle("POST /password/forgot", p.handle(p.forgot))
	mux.Handle("GET /password/reset", p.handle(p.resetForm))
	mux.Handle("POST /password/reset", p.handle(p.reset))
}

// tokenView is a page whose form carries a link's token; Invalid says the token was
// refused.
type tokenView struct {
	Form    *sdkweb.Form
	Invalid bool
}

func (p *Pages) verifyEmailForm(w http.ResponseWriter, r *http.Request) error {
	form := sdkweb.NewForm(nil)
	form.Set("token", r.URL.Query().Get("t"))
	return p.render(w, r, http.StatusOK, "verify-email", tokenView{Form: form}, p.formMeta(r, "core.verify.title", form))
}

func (p *Pages) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	var in core.EmailVerification
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	switch err := p.svc.Identity.VerifyEmail(r.Context(), in); core.ErrorCode(err) {
	case "":
	case core.EINVALID:
		form.Refuse("core.verify.invalid", nil)
		return p.render(w, r, http.StatusUnprocessableEntity, "verify-email", tokenView{Form: form, Invalid: true}, p.formMeta(r, "core.verify.title", form))
	default:
		return err
	}
	p.flash(w, r, "core.flash.email_verified")
	next := "/sign-in"
	if viewerOf(r).principal.Authenticated() {
		next = "/profile"
	}
	sdkweb.Redirect(w, r, next)
	return nil
}

func (p *Pages) resendVerification(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	if err := p.svc.Identity.ResendVerification(r.Context()); err != nil {
		return err
	}
	p.flash(w, r, "core.flash.verification_sent")
	sdkweb.Redirect(w, r, "/profile")
	return nil
}

func (p *Pages) forgotForm(w http.ResponseWriter, r *http.Request) error {
	form := sdkweb.NewForm(nil)
	return p.render(w, r, http.StatusOK, "password-forgot", formView{Form: form}, p.formMeta(r, "core.forgot.title", form))
}

// forgot asks for a reset link; whatever the address, the answer is the same.
func (p *Pages) forgot(w http.ResponseWriter, r *http.Request) error {
	var in core.PasswordResetRequest
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	required(form, map[string]string{"email": in.Email})
	if form.Valid() {
		switch err := p.svc.Identity.RequestPasswordReset(r.Context(), in); core.ErrorCode(err) {
		case "":
		case core.EINVALID:
			form.Catch(sdkError(err), "core.forgot")
		default:
			return err
		}
	}
	if !form.Valid() {
		return p.render(w, r, http.StatusUnprocessableEntity, "password-forgot", formView{Form: form}, p.formMeta(r, "core.forgot.title", form))
	}
	p.flash(w, r, "core.flash.reset_requested")
	sdkweb.Redirect(w, r, "/sign-in")
	return nil
}

func (p *Pages) resetForm(w http.ResponseWriter, r *http.Request) error {
	form := sdkweb.NewForm(nil)
	form.Set("token", r.URL.Query().Get("t"))
	return p.render(w, r, http.StatusOK, "password-reset", tokenView{Form: form}, p.formMeta(r, "core.reset.title", form))
}

func (p *Pages) reset(w http.ResponseWriter, r *http.Request) error {
	var in core.PasswordReset
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	form.Set("new_password", "") // never sent back to the browser
	invalid := false
	if in.NewPassword == "" {
		form.Invalid("new_password", "web.rule.required", nil)
	}
	if form.Valid() {
		err := p.svc.Identity.ResetPassword(r.Context(), in)
		var e *core.Error
		switch core.ErrorCode(err) {
		case "":
		case core.EINVALID:
			if errors.As(err, &e) && e.Fields["rule"] == core.RuleToken {
				form.Refuse("core.reset.invalid", nil)
				invalid = true
			} else {
				form.Catch(sdkError(err), "core.reset")
			}
		default:
			return err
		}
	}
	if !form.Valid() {
		return p.render(w, r, http.StatusUnprocessableEntity, "password-reset", tokenView{Form: form, Invalid: invalid}, p.formMeta(r, "core.reset.title", form))
	}
	// Every session of the person ended, this browser's too.
	viewerOf(r).clearSession(w)
	p.flash(w, r, "core.flash.password_reset")
	sdkweb.Redirect(w, r, "/sign-in")
	return nil
}
