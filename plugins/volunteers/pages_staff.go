package volunteers

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// City staff's pages: the skill catalogue with each skill's name in every city
// language, and the volunteers' background checks. The host lets only holders of the
// permissions in the city domain in.

func (p *Plugin) staffRoutes() []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pageSkills, PermSkillManage, p.skillsPage).In(sdk.DomainCity),
		sdk.PostPage(pageSkills, PermSkillManage, p.skillsPost).In(sdk.DomainCity),
		sdk.GetPage(pageChecks, PermCheckSet, p.checksPage).In(sdk.DomainCity),
		sdk.PostPage(pageChecks, PermCheckSet, p.checksPost).In(sdk.DomainCity),
	}
}

// cityLanguages are the languages the catalogue names skills in: the city's, else the
// five Kvarter speaks.
func (p *Plugin) cityLanguages() []string {
	if len(p.svc.cfg.Languages) > 0 {
		return p.svc.cfg.Languages
	}
	return []string{"fi", "sv", "da", "tr", "en"}
}

// skillView is one catalogue skill with its names in the city's languages, in order.
type skillView struct {
	ID    string
	Names []string
	Check bool // implies a background check
}

// skillsData is the catalogue page.
type skillsData struct {
	Form      *web.Form
	Languages []web.Option // code and name in the viewer's language
	Rows      []skillView
	Saved     bool
}

// skillForm adds or renames one skill: its ID and a name per language ("name_fi").
type skillForm struct {
	ID    string   `json:"id" max:"64"`
	Check []string `json:"needs_check" max:"8"`
}

func (v view) skillsMeta() sdk.PageMeta {
	return sdk.PageMeta{Title: v.T("volunteers.skills.title"), NavActive: navSkills, Breadcrumbs: v.crumbs()}
}

func (p *Plugin) renderSkills(w http.ResponseWriter, r *http.Request, form *web.Form, saved bool) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.view(r)
	d := skillsData{Form: form, Saved: saved}
	langs := p.cityLanguages()
	for _, l := range langs {
		d.Languages = append(d.Languages, web.Option{Value: l, Label: languageName(v.lng, l)})
	}
	all, err := p.svc.st.skills(ctx)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	for _, sk := range all {
		row := skillView{ID: sk.ID, Check: sk.NeedsBackgroundCheck}
		for _, l := range langs {
			row.Names = append(row.Names, sk.Names[l])
		}
		d.Rows = append(d.Rows, row)
	}
	meta := v.skillsMeta()
	if !form.Valid() {
		return v.invalid(w, r, "skills", d, meta)
	}
	if saved {
		meta.Announce = v.T("volunteers.skills.saved")
	}
	return v.render(w, r, "skills", d, meta)
}

// skillsPage lists the catalogue with the form that adds or renames a skill.
func (p *Plugin) skillsPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.renderSkills(w, r, web.NewForm(nil), r.URL.Query().Get("saved") == "1")
}

// skillsPost adds or renames a skill: 303 back to the catalogue, 422 on a broken rule.
func (p *Plugin) skillsPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	var in skillForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	names := map[string]string{}
	for _, l := range p.cityLanguages() {
		n := r.PostForm.Get("name_" + l)
		if err := sdk.CheckInput(&struct {
			N string `json:"name" max:"200"`
		}{n}); err != nil {
			form.Invalid("name_"+l, "web.rule.max_length", map[string]any{"Max": 200})
			continue
		}
		if n != "" {
			names[l] = n
		}
	}
	if form.Valid() {
		switch {
		case in.ID == "" || !validSlug(in.ID):
			form.Invalid("id", "volunteers.form.id.format", nil)
		case len(names) == 0:
			form.Invalid("name_"+p.cityLanguages()[0], "volunteers.form.name.required", nil)
		}
	}
	if form.Valid() {
		_, err := p.svc.PutSkill(r.Context(), principal(r), Skill{ID: in.ID, Names: names, NeedsBackgroundCheck: len(in.Check) > 0})
		if err == nil {
			web.Redirect(w, r, pageSkills+"?saved=1")
			return sdk.PageMeta{}, nil
		}
		if !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
	}
	return p.renderSkills(w, r, form, false)
}

// checkForm records a volunteer's background check.
type checkForm struct {
	UserID  string   `json:"user_id" max:"64"`
	Status  string   `json:"status" max:"32"`
	Expires web.Date `json:"expires"`
}

// checksData is the background checks page.
type checksData struct {
	Form     *web.Form
	Statuses []web.Option
	Saved    bool
	// Filter is the list's status filter; Rows the volunteers it shows.
	Filter  *web.Form
	Choices []web.Option
	Rows    []CheckEntry
	Next    string
}

func (p *Plugin) renderChecks(w http.ResponseWriter, r *http.Request, form *web.Form) (sdk.PageMeta, error) {
	v := p.view(r)
	d := checksData{Form: form, Saved: r.Method == http.MethodGet && r.URL.Query().Get("saved") == "1"}
	for _, s := range []string{CheckCleared, CheckPending, CheckRejected, CheckNone} {
		d.Statuses = append(d.Statuses, web.Option{Value: s, Label: v.T("volunteers.check." + s)})
	}
	status := r.URL.Query().Get("show")
	if !slices.Contains([]string{CheckCleared, CheckPending, CheckRejected, CheckNone}, status) {
		status = ""
	}
	d.Filter = web.NewForm(url.Values{"show": {status}})
	d.Choices = append([]web.Option{{Value: "", Label: v.T("volunteers.checks.all")}}, d.Statuses...)
	q, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if r.Method == http.MethodPost {
		q = sdk.ListQuery{Limit: sdk.DefaultLimit}
	}
	page, err := p.svc.BackgroundChecks(r.Context(), principal(r), status, q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d.Rows = page.Items
	d.Next = web.CursorURL(r.URL, page.NextCursor)
	meta := sdk.PageMeta{Title: v.T("volunteers.checks.title"), NavActive: navSkills, Breadcrumbs: v.crumbs()}
	if !form.Valid() {
		return v.invalid(w, r, "checks", d, meta)
	}
	if d.Saved {
		meta.Announce = v.T("volunteers.checks.saved")
	}
	return v.render(w, r, "checks", d, meta)
}

// checksPage is the form that records a background check.
func (p *Plugin) checksPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.renderChecks(w, r, web.NewForm(url.Values{"status": {CheckCleared}, "user_id": {r.URL.Query().Get("user_id")}}))
}

// checksPost records the check: 303 back, 422 on a broken rule or an unknown volunteer.
func (p *Plugin) checksPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	var in checkForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if form.Valid() {
		switch {
		case in.UserID == "":
			form.Invalid("user_id", "volunteers.form.user_id.required", nil)
		case !slices.Contains([]string{CheckCleared, CheckPending, CheckRejected, CheckNone}, in.Status):
			form.Invalid("status", "volunteers.form.status.enum", nil)
		}
	}
	if form.Valid() {
		_, err := p.svc.SetBackgroundCheck(r.Context(), principal(r), in.UserID, BackgroundCheck{Status: in.Status, Expires: string(in.Expires)})
		if err == nil {
			web.Redirect(w, r, pageChecks+"?saved=1")
			return sdk.PageMeta{}, nil
		}
		if errorCode(err) == sdk.CodeNotFound {
			form.Invalid("user_id", "volunteers.form.user_id.unknown", nil)
		} else if !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
	}
	return p.renderChecks(w, r, form)
}
