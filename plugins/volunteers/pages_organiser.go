package volunteers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The organisers' pages: their opportunities, a new one with its shifts, one
// opportunity to run (publish, close, cancel; its shifts; applications to accept or
// decline; attendance and hours), the ranked matches of a shift with reasons and the
// invitation, and the roster proposal to review and apply. The host lets only holders
// of PermOpportunityManage in some domain in; the Service checks that the viewer
// organises THIS opportunity.

func (p *Plugin) organiserRoutes() []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pageOrganise, PermOpportunityManage, p.organisePage),
		sdk.GetPage(pageOrganise+"/new", PermOpportunityManage, p.newPage),
		sdk.PostPage(pageOrganise+"/new", PermOpportunityManage, p.newPost),
		sdk.GetPage(pageOrganise+"/{id}", PermOpportunityManage, p.managePage),
		sdk.GetPage(pageOrganise+"/{id}/edit", PermOpportunityManage, p.editPage),
		sdk.PostPage(pageOrganise+"/{id}/edit", PermOpportunityManage, p.editPost),
		p.statePage("publish", StatePublished),
		p.statePage("close", StateClosed),
		p.statePage("cancel", StateCancelled),
		sdk.PostPage(pageOrganise+"/{id}/shifts/{shiftID}/cancel", PermOpportunityManage, p.cancelShiftPost),
		sdk.GetPage(pageOrganise+"/{id}/shifts/{shiftID}/matches", PermOpportunityManage, p.matchesPage),
		sdk.PostPage(pageOrganise+"/{id}/shifts/{shiftID}/invite", PermOpportunityManage, p.invitePost),
		sdk.PostPage(pageOrganise+"/{id}/shifts/{shiftID}/applications/{applicationID}/attendance", PermOpportunityManage, p.attendancePost),
		p.decidePage(ActionAccept, PermOpportunityManage),
		p.decidePage(ActionDecline, PermOpportunityManage),
		sdk.GetPage(pageOrganise+"/{id}/roster", PermOpportunityManage, p.rosterPage),
		sdk.PostPage(pageOrganise+"/{id}/roster", PermOpportunityManage, p.rosterPost),
	}
}

func organisePath(id string) string { return pageOrganise + "/" + url.PathEscape(id) }

func (v view) organiseCrumbs(more ...sdk.Crumb) []sdk.Crumb {
	return v.crumbs(append([]sdk.Crumb{{Label: v.T("volunteers.nav.organise"), Href: pageOrganise}}, more...)...)
}

// organisedRow is one opportunity on the organiser's list.
type organisedRow struct {
	Opportunity
	Org  string
	Next time.Time
}

// organisePage lists the opportunities the viewer organises, in every state.
func (p *Plugin) organisePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v, pr := r.Context(), p.view(r), principal(r)
	var rows []organisedRow
	may := map[string]bool{}
	q := sdk.ListQuery{Limit: 100}
	for range 100 {
		page, err := p.svc.Opportunities(ctx, pr, q)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		for _, o := range page.Items {
			ok, seen := may[o.OrganisationID]
			if !seen {
				ok = p.svc.canOrganise(ctx, pr, o.OrganisationID) == nil
				may[o.OrganisationID] = ok
			}
			if ok {
				rows = append(rows, organisedRow{Opportunity: o})
			}
		}
		if page.NextCursor == "" || len(page.Items) == 0 {
			break
		}
		last := page.Items[len(page.Items)-1]
		q.Key = []any{last.ID}
	}
	var orgIDs []string
	for _, r := range rows {
		orgIDs = append(orgIDs, r.OrganisationID)
	}
	orgs, err := p.organisationNames(ctx, orgIDs)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	now := p.svc.clock()
	for i := range rows {
		rows[i].Org = orgs[rows[i].OrganisationID]
		for _, sh := range rows[i].Shifts {
			if sh.Start.After(now) && (rows[i].Next.IsZero() || sh.Start.Before(rows[i].Next)) {
				rows[i].Next = sh.Start
			}
		}
	}
	slices.Reverse(rows) // the newest first
	meta := sdk.PageMeta{Title: v.T("volunteers.organise.title"), NavActive: navOrganise, Breadcrumbs: v.crumbs()}
	return v.render(w, r, "organise", struct{ Rows []organisedRow }{rows}, meta)
}

// newForm is the new opportunity form; its shifts are rows of date, start, end and
// places (the first required, the others optional).
type newForm struct {
	OrganisationID string `json:"organisation_id" max:"64"`
	editForm
	// The shift rows, embedded so the form's decoder fills them (shift1_date…).
	shiftFields
	shiftFields2
	shiftFields3
}

// shiftRows is how many shift rows the new opportunity form has.
const shiftRows = 3

type shiftFields struct {
	Date     web.Date  `json:"shift1_date"`
	Start    web.Clock `json:"shift1_start"`
	End      web.Clock `json:"shift1_end"`
	Capacity *int      `json:"shift1_capacity" min:"1" max:"100000"`
}
type shiftFields2 struct {
	Date     web.Date  `json:"shift2_date"`
	Start    web.Clock `json:"shift2_start"`
	End      web.Clock `json:"shift2_end"`
	Capacity *int      `json:"shift2_capacity" min:"1" max:"100000"`
}
type shiftFields3 struct {
	Date     web.Date  `json:"shift3_date"`
	Start    web.Clock `json:"shift3_start"`
	End      web.Clock `json:"shift3_end"`
	Capacity *int      `json:"shift3_capacity" min:"1" max:"100000"`
}

// newData is the new opportunity page.
type newData struct {
	Form           *web.Form
	Organisations  []web.Option
	Neighbourhoods []web.Option
	Skills         []web.Option
	Languages      []web.Option
	Options        []web.Option
	Rows           []int
	Action         string // the edit form's path
}

// newChoices fills the form's options: the organisations the viewer may post for
// (verified, as representative; the city for city staff), neighbourhoods, skills,
// languages.
func (p *Plugin) newChoices(ctx context.Context, v view, pr sdk.Principal, d *newData) error {
	var orgIDs []string
	for _, m := range pr.Organisations {
		if m.Role == "representative" && m.Verified {
			orgIDs = append(orgIDs, m.OrganisationID)
		}
	}
	orgs, err := p.organisationNames(ctx, orgIDs)
	if err != nil {
		return err
	}
	for _, id := range sortedByName(orgs) {
		if p.svc.canOrganise(ctx, pr, id) == nil {
			d.Organisations = append(d.Organisations, web.Option{Value: id, Label: orgs[id]})
		}
	}
	if p.svc.canOrganise(ctx, pr, "") == nil {
		d.Organisations = append(d.Organisations, web.Option{Value: "", Label: v.T("volunteers.by_city")})
	}
	nbhs, err := p.neighbourhoodNames(ctx, pr.Neighbourhoods)
	if err != nil {
		return err
	}
	d.Neighbourhoods = append(d.Neighbourhoods, web.Option{Value: "", Label: v.T("volunteers.new.no_neighbourhood")})
	for _, id := range sortedByName(nbhs) {
		d.Neighbourhoods = append(d.Neighbourhoods, web.Option{Value: id, Label: nbhs[id]})
	}
	names, ids, err := p.skillNames(ctx, v.lng)
	if err != nil {
		return err
	}
	for _, id := range ids {
		d.Skills = append(d.Skills, web.Option{Value: id, Label: names[id]})
	}
	for _, l := range spokenLanguages {
		d.Languages = append(d.Languages, web.Option{Value: l, Label: languageName(v.lng, l)})
	}
	d.Options = []web.Option{
		{Value: "needs_background_check", Label: v.T("volunteers.new.needs_check"), Hint: v.T("volunteers.new.needs_check_hint")},
		{Value: "newcomers", Label: v.T("volunteers.new.newcomers"), Hint: v.T("volunteers.new.newcomers_hint")},
		{Value: "auto_accept", Label: v.T("volunteers.new.auto_accept"), Hint: v.T("volunteers.new.auto_accept_hint")},
	}
	d.Rows = []int{1, 2, 3}
	return nil
}

func (v view) newMeta() sdk.PageMeta {
	return sdk.PageMeta{Title: v.T("volunteers.new.title"), NavActive: navOrganise, Breadcrumbs: v.organiseCrumbs()}
}

// newPage is the form for a new (draft) opportunity.
func (p *Plugin) newPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.view(r)
	d := newData{Form: web.NewForm(nil)}
	if err := p.newChoices(r.Context(), v, principal(r), &d); err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "new", d, v.newMeta())
}

// newPost creates the draft: 303 to its page, or 422 with the form again.
func (p *Plugin) newPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v, pr := r.Context(), p.view(r), principal(r)
	var in newForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	oi := OpportunityInput{OrganisationID: in.OrganisationID, Title: in.Title, Description: in.Description,
		NeighbourhoodID: in.NeighbourhoodID, Place: in.Place, RequiredSkills: in.RequiredSkills,
		PreferredSkills: in.PreferredSkills, Languages: in.Languages,
		NeedsBackgroundCheck: slices.Contains(in.Options, "needs_background_check"),
		AutoAccept:           slices.Contains(in.Options, "auto_accept"),
		Newcomers:            slices.Contains(in.Options, "newcomers")}
	if in.MinAge != nil {
		oi.MinAge = *in.MinAge
	}
	zone := p.svc.cfg.Location
	rows := []shiftFields{in.shiftFields, shiftFields(in.shiftFields2), shiftFields(in.shiftFields3)}
	if form.Valid() {
		if strings.TrimSpace(in.Title) == "" {
			form.Invalid("title", "volunteers.form.title.required", nil)
		}
		for i, sf := range rows {
			key := fmt.Sprintf("shift%d_", i+1)
			if sf.Date == "" && sf.Start == "" && sf.End == "" && sf.Capacity == nil {
				if i == 0 {
					form.Invalid(key+"date", "volunteers.form.shift.required", nil)
				}
				continue
			}
			switch {
			case sf.Date == "":
				form.Invalid(key+"date", "volunteers.form.shift.date", nil)
				continue
			case sf.Start == "":
				form.Invalid(key+"start", "volunteers.form.shift.start", nil)
				continue
			case sf.End == "":
				form.Invalid(key+"end", "volunteers.form.shift.end", nil)
				continue
			case sf.Capacity == nil:
				form.Invalid(key+"capacity", "volunteers.form.shift.capacity", nil)
				continue
			}
			start, err1 := sf.Date.At(sf.Start, zone)
			end, err2 := sf.Date.At(sf.End, zone)
			if err1 != nil || err2 != nil {
				form.Invalid(key+"date", "volunteers.form.shift.date", nil)
				continue
			}
			if !end.After(start) {
				end = end.AddDate(0, 0, 1) // ends after midnight
			}
			oi.Shifts = append(oi.Shifts, ShiftInput{Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339), Capacity: *sf.Capacity})
		}
	}
	if form.Valid() {
		o, err := p.svc.CreateOpportunity(ctx, pr, oi)
		if err == nil {
			web.Redirect(w, r, organisePath(o.ID)+"?done=created")
			return sdk.PageMeta{}, nil
		}
		if !catchOpportunity(form, err) && !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
	}
	d := newData{Form: form}
	if err := p.newChoices(ctx, v, pr, &d); err != nil {
		return sdk.PageMeta{}, err
	}
	return v.invalid(w, r, "new", d, v.newMeta())
}

// catchOpportunity records the service's refusal of a new opportunity against the
// form's fields: its shifts[i].start is the form's shift row i+1, worded by the rule
// ("volunteers.form.shift.future").
func catchOpportunity(form *web.Form, err error) bool {
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != sdk.CodeInvalid {
		return false
	}
	rest := map[string]string{}
	for k, val := range e.Fields {
		var i int
		var part string
		if n, _ := fmt.Sscanf(k, "shifts[%d].%s", &i, &part); n == 2 {
			field := fmt.Sprintf("shift%d_date", i+1)
			if part == "capacity" {
				field = fmt.Sprintf("shift%d_capacity", i+1)
			}
			form.Invalid(field, "volunteers.form.shift."+e.Fields["rule"], nil)
			continue
		}
		rest[k] = val
	}
	if len(rest) > 1 || len(rest) == 1 && rest["rule"] == "" {
		form.Catch(&sdk.Error{Code: e.Code, Message: e.Message, Fields: rest}, "volunteers.form")
	}
	return true
}

// manageData is one opportunity's organiser page.
type manageData struct {
	Form       *web.Form
	O          Opportunity
	Org        string
	Shifts     []manageShift
	Done       string
	CanPublish bool
	CanClose   bool
	CanCancel  bool
	Path       string
	// Speaks are the languages of each applicant, by application ID, in the viewer's
	// words.
	Speaks map[string]string
}

// manageShift is a shift with its applications.
type manageShift struct {
	Shift
	Apps     []ApplicationView
	Started  bool
	Cancel   bool
	MatchURL string
}

// renderManage draws the organiser page of id, with form's problems when an action
// was refused (422) or none (200).
func (p *Plugin) renderManage(w http.ResponseWriter, r *http.Request, v view, id string, form *web.Form) (sdk.PageMeta, error) {
	ctx, pr := r.Context(), principal(r)
	o, err := p.svc.organiser(ctx, pr, id)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := manageData{Form: form, O: o, Path: organisePath(o.ID),
		CanPublish: o.State == StateDraft, CanClose: o.State == StatePublished, CanCancel: o.State != StateCancelled}
	orgs, err := p.organisationNames(ctx, []string{o.OrganisationID})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d.Org = orgs[o.OrganisationID]
	var apps []ApplicationView
	q := sdk.ListQuery{Limit: 100}
	for range 1000 {
		page, err := p.svc.Applications(ctx, pr, o.ID, q)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		apps = append(apps, page.Items...)
		if page.NextCursor == "" || len(page.Items) == 0 {
			break
		}
		last := page.Items[len(page.Items)-1]
		q.Key = []any{last.ShiftID, last.CreatedAt, last.ID}
	}
	d.Speaks = map[string]string{}
	for _, a := range apps {
		if a.Profile != nil && len(a.Profile.Languages) > 0 {
			names := make([]string, len(a.Profile.Languages))
			for i, l := range a.Profile.Languages {
				names[i] = languageName(v.lng, l)
			}
			d.Speaks[a.ID] = strings.Join(names, ", ")
		}
	}
	now := p.svc.clock()
	for _, sh := range o.Shifts {
		ms := manageShift{Shift: sh, Started: !sh.Start.After(now),
			Cancel:   o.State != StateCancelled && sh.Start.After(now) && len(o.Shifts) > 1,
			MatchURL: fmt.Sprintf("%s/shifts/%s/matches", d.Path, sh.ID)}
		for _, a := range apps {
			if a.ShiftID == sh.ID && a.Status != StatusWithdrawn {
				ms.Apps = append(ms.Apps, a)
			}
		}
		d.Shifts = append(d.Shifts, ms)
	}
	meta := sdk.PageMeta{Title: o.Title, NavActive: navOrganise, Breadcrumbs: v.organiseCrumbs()}
	if !form.Valid() {
		return v.invalid(w, r, "manage", d, meta)
	}
	if done := r.URL.Query().Get("done"); done != "" && v.loc.Has("volunteers.manage.done."+done) {
		d.Done = done
		meta.Announce = v.T("volunteers.manage.done." + done)
	}
	return v.render(w, r, "manage", d, meta)
}

// managePage runs one opportunity.
func (p *Plugin) managePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.renderManage(w, r, p.view(r), r.PathValue("id"), nil)
}

// statePage publishes, closes or cancels an opportunity.
func (p *Plugin) statePage(verb, to string) sdk.Route {
	return sdk.PostPage(pageOrganise+"/{id}/"+verb, PermOpportunityManage, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
		id := r.PathValue("id")
		if _, err := p.svc.SetState(r.Context(), principal(r), id, to); err != nil {
			form := web.NewForm(nil)
			if !refuse(form, err) {
				return sdk.PageMeta{}, err
			}
			return p.renderManage(w, r, p.view(r), id, form)
		}
		web.Redirect(w, r, organisePath(id)+"?done="+to)
		return sdk.PageMeta{}, nil
	})
}

// cancelShiftPost cancels one shift; those signed up are told.
func (p *Plugin) cancelShiftPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	id := r.PathValue("id")
	if _, err := p.svc.CancelShift(r.Context(), principal(r), id, r.PathValue("shiftID")); err != nil {
		form := web.NewForm(nil)
		if !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
		return p.renderManage(w, r, p.view(r), id, form)
	}
	web.Redirect(w, r, organisePath(id)+"?done=shift_cancelled")
	return sdk.PageMeta{}, nil
}

// attendanceForm records whether a confirmed volunteer came, and for how long.
type attendanceForm struct {
	Attended string `json:"attended" max:"8"`
	Minutes  *int   `json:"minutes" min:"0" max:"1440"`
}

// attendancePost records attendance and hours, or a no-show.
func (p *Plugin) attendancePost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	id := r.PathValue("id")
	var in attendanceForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if form.Valid() {
		_, err = p.svc.RecordAttendance(r.Context(), principal(r), id, r.PathValue("shiftID"), r.PathValue("applicationID"),
			AttendanceInput{Attended: in.Attended != "no", Minutes: in.Minutes})
		if err == nil {
			web.Redirect(w, r, organisePath(id)+"?done=attendance")
			return sdk.PageMeta{}, nil
		}
		if !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
	}
	return p.renderManage(w, r, p.view(r), id, form)
}

// matchRow is one ranked volunteer on the matches page.
type matchRow struct {
	Rank        int
	VolunteerID string
	Score       int
	Why         []string
	// App is the volunteer's application for the shift, if they applied or were
	// invited: the organiser then sees who it is and may accept.
	App  *ApplicationView
	Name string
}

// matchesData is the matches page.
type matchesData struct {
	Form    *web.Form
	O       Opportunity
	Shift   Shift
	Rows    []matchRow
	Next    string
	Path    string
	Invited bool
}

// matchesPage ranks the volunteers eligible for a shift, best first, with the reasons
// in the viewer's language; a volunteer who applied shows with their application and
// the button to accept, any other with the button to invite.
func (p *Plugin) matchesPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.renderMatches(w, r, nil)
}

func (p *Plugin) renderMatches(w http.ResponseWriter, r *http.Request, form *web.Form) (sdk.PageMeta, error) {
	ctx, v, pr := r.Context(), p.view(r), principal(r)
	id, shiftID := r.PathValue("id"), r.PathValue("shiftID")
	q, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if r.Method == http.MethodPost {
		q = sdk.ListQuery{}
	}
	if q.Limit == 0 || q.Limit > 50 {
		q.Limit = 50
	}
	pr.Locale = v.lng
	page, err := p.svc.Matches(ctx, pr, id, shiftID, q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	o, err := p.svc.organiser(ctx, pr, id)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	sh, err := findShift(o, shiftID)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	apps, err := p.svc.st.applicationsOf(ctx, o.ID)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	byVolunteer := map[string]Application{}
	for _, a := range apps {
		if a.ShiftID == shiftID {
			byVolunteer[a.VolunteerID] = a
		}
	}
	names, _, err := p.skillNames(ctx, v.lng)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := matchesData{Form: form, O: o, Shift: sh, Path: organisePath(o.ID), Invited: r.URL.Query().Get("invited") == "1"}
	var userIDs []string
	rank := 0
	if q.Key != nil {
		if n, err := strconv.Atoi(r.URL.Query().Get("rank")); err == nil && n > 0 {
			rank = n
		}
	}
	for _, m := range page.Items {
		rank++
		row := matchRow{Rank: rank, VolunteerID: m.VolunteerID, Score: m.Score, Why: v.reasons(m.ReasonCodes, names)}
		if a, ok := byVolunteer[m.VolunteerID]; ok {
			row.App = &ApplicationView{Application: a}
			if contactStatuses[a.Status] {
				// As in the service's applications view: an applicant is named to the
				// organiser once accepted, not for applying.
				userIDs = append(userIDs, m.VolunteerID)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if len(userIDs) > 0 && p.svc.host != nil {
		users, err := p.svc.host.Users(ctx, userIDs)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		shown := map[string]string{}
		for _, u := range users {
			shown[u.ID] = u.DisplayName
		}
		for i := range d.Rows {
			d.Rows[i].Name = shown[d.Rows[i].VolunteerID]
		}
	}
	if page.NextCursor != "" {
		d.Next = fmt.Sprintf("%s/shifts/%s/matches?%s", d.Path, sh.ID,
			url.Values{"cursor": {page.NextCursor}, "rank": {strconv.Itoa(rank)}}.Encode())
	}
	meta := sdk.PageMeta{Title: v.T("volunteers.matches.title", "When", v.loc.Date(sh.Start)), NavActive: navOrganise,
		Breadcrumbs: v.organiseCrumbs(sdk.Crumb{Label: o.Title, Href: d.Path})}
	if !form.Valid() {
		return v.invalid(w, r, "matches", d, meta)
	}
	if d.Invited {
		meta.Announce = v.T("volunteers.matches.invited")
	}
	return v.render(w, r, "matches", d, meta)
}

// inviteForm names the volunteer invited.
type inviteForm struct {
	VolunteerID string `json:"volunteer_id" max:"64"`
}

// invitePost invites a matched volunteer: 303 to the matches page, or 422 with it
// and the reason (no longer eligible, already signed up).
func (p *Plugin) invitePost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	var in inviteForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	id, shiftID := r.PathValue("id"), r.PathValue("shiftID")
	if form.Valid() {
		_, err = p.svc.Invite(r.Context(), principal(r), id, shiftID, in.VolunteerID)
		if err == nil {
			web.Redirect(w, r, fmt.Sprintf("%s/shifts/%s/matches?invited=1", organisePath(id), url.PathEscape(shiftID)))
			return sdk.PageMeta{}, nil
		}
		if !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
	}
	return p.renderMatches(w, r, form)
}

// rosterData is the roster proposal page.
type rosterData struct {
	Form    *web.Form
	O       Opportunity
	Rows    []rosterRow
	Roster  Roster
	Path    string
	Invited int
	Done    bool
}

// rosterRow is one proposed placement.
type rosterRow struct {
	RosterAssignment
	Start, End time.Time
	Rank       int
	Status     string
}

func (p *Plugin) renderRoster(w http.ResponseWriter, r *http.Request, form *web.Form) (sdk.PageMeta, error) {
	ctx, v, pr := r.Context(), p.view(r), principal(r)
	id := r.PathValue("id")
	ro, err := p.svc.Roster(ctx, pr, id)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	o, err := p.svc.organiser(ctx, pr, id)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	apps, err := p.svc.st.applicationsOf(ctx, o.ID)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	status := map[[2]string]string{}
	for _, a := range apps {
		status[[2]string{a.ShiftID, a.VolunteerID}] = a.Status
	}
	d := rosterData{Form: form, O: o, Roster: ro, Path: organisePath(o.ID)}
	for i, a := range ro.Assignments {
		sh, _ := findShift(o, a.ShiftID)
		d.Rows = append(d.Rows, rosterRow{RosterAssignment: a, Start: sh.Start, End: sh.End, Rank: i + 1,
			Status: status[[2]string{a.ShiftID, a.VolunteerID}]})
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("invited")); err == nil && r.Method == http.MethodGet {
		d.Done, d.Invited = true, n
	}
	meta := sdk.PageMeta{Title: v.T("volunteers.roster.title"), NavActive: navOrganise,
		Breadcrumbs: v.organiseCrumbs(sdk.Crumb{Label: o.Title, Href: d.Path})}
	if !form.Valid() {
		return v.invalid(w, r, "roster", d, meta)
	}
	if d.Done {
		meta.Announce = v.loc.N("volunteers.roster.invited", d.Invited)
	}
	return v.render(w, r, "roster", d, meta)
}

// rosterPage shows the roster proposal: who takes which shift, maximising the total
// score; it books nothing.
func (p *Plugin) rosterPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.renderRoster(w, r, nil)
}

// rosterPost applies the proposal in one transaction: every proposed volunteer
// without a sign-up for the shift is invited; those the rules refuse meanwhile are left
// out, and the page says how many were invited.
func (p *Plugin) rosterPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	id := r.PathValue("id")
	got, err := p.svc.ApplyRoster(r.Context(), principal(r), id)
	if err != nil {
		form := web.NewForm(nil)
		if !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
		return p.renderRoster(w, r, form)
	}
	web.Redirect(w, r, organisePath(id)+"/roster?invited="+strconv.Itoa(len(got.Invited)))
	return sdk.PageMeta{}, nil
}

// editForm is the opportunity's details as the edit form (and the new-opportunity
// form) sends them; a checkbox left unticked is sent as nothing, so every field is
// given and the patch sets them all.
type editForm struct {
	Title           string   `json:"title" max:"200"`
	Description     string   `json:"description" max:"10000"`
	NeighbourhoodID string   `json:"neighbourhood_id" max:"64"`
	Place           string   `json:"place" max:"300"`
	RequiredSkills  []string `json:"required_skills" max:"64"`
	PreferredSkills []string `json:"preferred_skills" max:"64"`
	Languages       []string `json:"languages" max:"16"`
	MinAge          *int     `json:"min_age" min:"0" max:"120"`
	Options         []string `json:"options" max:"32"`
}

// editValues are the form's values showing o.
func editValues(o Opportunity) url.Values {
	v := url.Values{"title": {o.Title}, "description": {o.Description}, "neighbourhood_id": {o.NeighbourhoodID},
		"place": {o.Place}, "required_skills": o.RequiredSkills, "preferred_skills": o.PreferredSkills, "languages": o.Languages}
	if o.MinAge > 0 {
		v.Set("min_age", strconv.Itoa(o.MinAge))
	}
	for name, on := range map[string]bool{"needs_background_check": o.NeedsBackgroundCheck, "auto_accept": o.AutoAccept, "newcomers": o.Newcomers} {
		if on {
			v.Add("options", name)
		}
	}
	return v
}

func (p *Plugin) renderEdit(w http.ResponseWriter, r *http.Request, form *web.Form) (sdk.PageMeta, error) {
	ctx, v, pr := r.Context(), p.view(r), principal(r)
	o, err := p.svc.organiser(ctx, pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if form == nil {
		form = web.NewForm(editValues(o))
	}
	d := newData{Form: form, Action: organisePath(o.ID) + "/edit"}
	if err := p.newChoices(ctx, v, pr, &d); err != nil {
		return sdk.PageMeta{}, err
	}
	if o.NeighbourhoodID != "" && !slices.ContainsFunc(d.Neighbourhoods, func(op web.Option) bool { return op.Value == o.NeighbourhoodID }) {
		names, err := p.neighbourhoodNames(ctx, []string{o.NeighbourhoodID})
		if err != nil {
			return sdk.PageMeta{}, err
		}
		d.Neighbourhoods = append(d.Neighbourhoods, web.Option{Value: o.NeighbourhoodID, Label: cmpOr(names[o.NeighbourhoodID], o.NeighbourhoodID)})
	}
	meta := sdk.PageMeta{Title: v.T("volunteers.edit.title", "Title", o.Title), NavActive: navOrganise,
		Breadcrumbs: v.organiseCrumbs(sdk.Crumb{Label: o.Title, Href: organisePath(o.ID)})}
	if !form.Valid() {
		return v.invalid(w, r, "edit", d, meta)
	}
	return v.render(w, r, "edit", d, meta)
}

// editPage is the form changing an opportunity's details.
func (p *Plugin) editPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.renderEdit(w, r, nil)
}

// editPost saves the details: 303 to the opportunity's page, 422 with the form.
func (p *Plugin) editPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	var in editForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	id := r.PathValue("id")
	if form.Valid() && strings.TrimSpace(in.Title) == "" {
		form.Invalid("title", "volunteers.form.title.required", nil)
	}
	if form.Valid() {
		minAge := 0
		if in.MinAge != nil {
			minAge = *in.MinAge
		}
		check, auto, newcomers := slices.Contains(in.Options, "needs_background_check"), slices.Contains(in.Options, "auto_accept"), slices.Contains(in.Options, "newcomers")
		patch := OpportunityPatch{Title: &in.Title, Description: &in.Description, NeighbourhoodID: &in.NeighbourhoodID, Place: &in.Place,
			RequiredSkills: append([]string{}, in.RequiredSkills...), PreferredSkills: append([]string{}, in.PreferredSkills...),
			Languages: append([]string{}, in.Languages...), MinAge: &minAge, NeedsBackgroundCheck: &check, AutoAccept: &auto, Newcomers: &newcomers}
		_, err = p.svc.PatchOpportunity(r.Context(), principal(r), id, patch)
		if err == nil {
			web.Redirect(w, r, organisePath(id)+"?done=edited")
			return sdk.PageMeta{}, nil
		}
		if !form.Catch(err, "volunteers.form") && !refuse(form, err) {
			return sdk.PageMeta{}, err
		}
	}
	return p.renderEdit(w, r, form)
}
