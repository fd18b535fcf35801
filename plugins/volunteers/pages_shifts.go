package volunteers

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The organisers' shift forms: add a shift to an opportunity, or change one that has
// not started (its time, which tells everyone signed up, and its places). The Service
// checks the organiser and the rules; a refusal comes back as 422 with the form.

func (p *Plugin) shiftRoutes() []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pageOrganise+"/{id}/shifts/new", PermOpportunityManage, p.shiftPage),
		sdk.PostPage(pageOrganise+"/{id}/shifts/new", PermOpportunityManage, p.shiftPost),
		sdk.GetPage(pageOrganise+"/{id}/shifts/{shiftID}/edit", PermOpportunityManage, p.shiftPage),
		sdk.PostPage(pageOrganise+"/{id}/shifts/{shiftID}/edit", PermOpportunityManage, p.shiftPost),
	}
}

// shiftForm is one shift as a person writes it: a local date, times and places.
type shiftForm struct {
	Date     web.Date  `json:"date"`
	Start    web.Clock `json:"start"`
	End      web.Clock `json:"end"`
	Capacity *int      `json:"capacity" min:"0" max:"100000"`
}

// shiftData is the shift form page.
type shiftData struct {
	Form   *web.Form
	O      Opportunity
	Action string
	New    bool
}

func (p *Plugin) renderShift(w http.ResponseWriter, r *http.Request, form *web.Form) (sdk.PageMeta, error) {
	ctx, v, pr := r.Context(), p.view(r), principal(r)
	o, err := p.svc.organiser(ctx, pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	shiftID := r.PathValue("shiftID")
	d := shiftData{Form: form, O: o, New: shiftID == "", Action: r.URL.Path}
	title := v.T("volunteers.shift_form.add_title")
	if !d.New {
		sh, err := findShift(o, shiftID)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		title = v.T("volunteers.shift_form.edit_title", "When", v.loc.Date(sh.Start))
		if form == nil {
			local := sh.Start.In(p.svc.cfg.Location)
			d.Form = web.NewForm(url.Values{"date": {local.Format(time.DateOnly)}, "start": {local.Format("15:04")},
				"end": {sh.End.In(p.svc.cfg.Location).Format("15:04")}, "capacity": {strconv.Itoa(sh.Capacity)}})
		}
	}
	if d.Form == nil {
		d.Form = web.NewForm(nil)
	}
	meta := sdk.PageMeta{Title: title, NavActive: navOrganise,
		Breadcrumbs: v.organiseCrumbs(sdk.Crumb{Label: o.Title, Href: organisePath(o.ID)})}
	if !d.Form.Valid() {
		return v.invalid(w, r, "shift-form", d, meta)
	}
	return v.render(w, r, "shift-form", d, meta)
}

// shiftPage shows the form adding a shift, or changing one.
func (p *Plugin) shiftPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.renderShift(w, r, nil)
}

// shiftPost adds or changes the shift: 303 to the opportunity's page, or 422.
func (p *Plugin) shiftPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, pr := r.Context(), principal(r)
	var in shiftForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	id, shiftID := r.PathValue("id"), r.PathValue("shiftID")
	if form.Valid() {
		switch {
		case in.Date == "":
			form.Invalid("date", "volunteers.form.shift.date", nil)
		case in.Start == "":
			form.Invalid("start", "volunteers.form.shift.start", nil)
		case in.End == "":
			form.Invalid("end", "volunteers.form.shift.end", nil)
		case in.Capacity == nil:
			form.Invalid("capacity", "volunteers.form.shift.capacity", nil)
		}
	}
	if form.Valid() {
		zone := p.svc.cfg.Location
		start, err1 := in.Date.At(in.Start, zone)
		end, err2 := in.Date.At(in.End, zone)
		if err1 != nil || err2 != nil {
			return sdk.PageMeta{}, sdk.Malformed("The shift's date or time cannot be read.")
		}
		if !end.After(start) {
			end = end.AddDate(0, 0, 1) // ends after midnight
		}
		s, e := start.Format(time.RFC3339), end.Format(time.RFC3339)
		if shiftID == "" {
			_, err = p.svc.AddShift(ctx, pr, id, ShiftInput{Start: s, End: e, Capacity: *in.Capacity})
		} else {
			_, err = p.svc.PatchShift(ctx, pr, id, shiftID, ShiftPatch{Start: &s, End: &e, Capacity: in.Capacity})
		}
		if err == nil {
			done := "shift_added"
			if shiftID != "" {
				done = "shift_changed"
			}
			web.Redirect(w, r, organisePath(id)+"?done="+done)
			return sdk.PageMeta{}, nil
		}
		if !catchShift(form, err) && !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
	}
	return p.renderShift(w, r, form)
}

// catchShift records the service's refusal of a shift against the form's fields, worded
// by rule ("volunteers.form.shift.future").
func catchShift(form *web.Form, err error) bool {
	e, ok := err.(*sdk.Error)
	if !ok || e.Code != sdk.CodeInvalid {
		return false
	}
	for k := range e.Fields {
		switch k {
		case "rule":
		case "capacity":
			form.Invalid("capacity", "volunteers.form.shift."+e.Fields["rule"], nil)
		default:
			form.Invalid("date", "volunteers.form.shift."+e.Fields["rule"], nil)
		}
	}
	return true
}
