package web

import (
	"net/http"

	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// The person's data page: download everything Kvarter holds about them (the JSON of
// GET /api/v1/me/export, the plugins' sections included), and delete the account after
// reading what deletion erases, what it anonymises and what the law keeps.

func init() {
	flashes = append(flashes, "core.flash.account_deleted")
}

// dataRoutes adds the data page to mux.
func (p *Pages) dataRoutes(mux *http.ServeMux) {
	mux.Handle("GET /me/data", p.handle(p.dataPage))
	mux.Handle("POST /me/data/delete", p.handle(p.deleteAccount))
}

// dataView is the page: the deletion form and its one checkbox.
type dataView struct {
	Form    *sdkweb.Form
	Confirm []sdkweb.Option
}

func (p *Pages) dataPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	return p.renderData(w, r, http.StatusOK, sdkweb.NewForm(nil))
}

func (p *Pages) renderData(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form) error {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	data := dataView{Form: form, Confirm: []sdkweb.Option{{Value: "yes", Label: loc.T("core.data.delete.confirm")}}}
	return p.render(w, r, status, "data", data, p.formMeta(r, "core.data.title", form))
}

// deleteInput is the deletion form: the person ticks that they understand.
type deleteInput struct {
	Confirm string `json:"confirm" max:"10"`
}

// deleteAccount erases the account once the person confirmed, signs the browser out
// and says so on the home page. The plugins erase their part on core.user.deleted.
func (p *Pages) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	v, err := signedIn(r)
	if err != nil {
		return err
	}
	var in deleteInput
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	if in.Confirm != "yes" {
		form.Invalid("confirm", "core.data.delete.confirm_required", nil)
		return p.renderData(w, r, http.StatusUnprocessableEntity, form)
	}
	if err := p.svc.Identity.DeleteAccount(r.Context()); err != nil {
		return err
	}
	v.clearSession(w)
	p.flash(w, r, "core.flash.account_deleted")
	sdkweb.Redirect(w, r, "/")
	return nil
}
