package volunteers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The pages anyone may open, signed in or not: the published opportunities with
// filters, one opportunity with its shifts and free places (and, for a signed-in
// resident, the buttons to apply), and the neighbourhood page's card.

func (p *Plugin) publicRoutes() []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pageBase, sdk.PermPublic, p.findPage),
		sdk.GetPage(pageOpportunity, sdk.PermPublic, p.opportunityPage),
		sdk.PostPage(pageOpportunity+"/shifts/{shiftID}/apply", sdk.PermAuthenticated, p.applyPost),
		sdk.GetPage(pageNbhCard, sdk.PermPublic, p.neighbourhoodCard),
	}
}

// pageSize is how many opportunities one page of the list shows.
const pageSize = 20

// findQuery is the list's filter form (a GET form: its values are the URL's query).
type findQuery struct {
	Neighbourhood string   `json:"neighbourhood" max:"64"`
	Skill         string   `json:"skill" max:"64"`
	From          web.Date `json:"from"`
	To            web.Date `json:"to"`
	Age           *int     `json:"age" min:"0" max:"120"`
	Newcomers     bool     `json:"newcomers"`
	Cursor        string   `json:"cursor" max:"1000"`
}

// dateOf is a form's date as the service's local date (zero for none).
func dateOf(d web.Date) match.Date {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return match.Date{}
	}
	return match.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// oppCard is one opportunity in a list.
type oppCard struct {
	ID, Title, Org, Neighbourhood, Place string
	Next                                 time.Time
	Free, MinAge                         int
	Newcomers, Check                     bool
}

// freePlaces are the places left on o's shifts starting in [from, to) (zero to: no end).
func freePlaces(o Opportunity, from, to time.Time) int {
	n := 0
	for _, sh := range o.Shifts {
		if sh.Start.Before(from) || !to.IsZero() && !sh.Start.Before(to) {
			continue
		}
		n += sh.Free
	}
	return n
}

// cards are the list's view of opps.
func (p *Plugin) cards(ctx context.Context, opps []Opportunity, from, to time.Time) ([]oppCard, error) {
	var orgIDs, nbhIDs []string
	for _, o := range opps {
		orgIDs, nbhIDs = append(orgIDs, o.OrganisationID), append(nbhIDs, o.NeighbourhoodID)
	}
	orgs, err := p.organisationNames(ctx, orgIDs)
	if err != nil {
		return nil, err
	}
	nbhs, err := p.neighbourhoodNames(ctx, nbhIDs)
	if err != nil {
		return nil, err
	}
	out := make([]oppCard, len(opps))
	for i, o := range opps {
		c := oppCard{ID: o.ID, Title: o.Title, Org: orgs[o.OrganisationID], Neighbourhood: nbhs[o.NeighbourhoodID],
			Place: o.Place, Free: freePlaces(o, from, to), MinAge: o.MinAge,
			Newcomers: o.Newcomers, Check: o.NeedsBackgroundCheck}
		for _, sh := range o.Shifts {
			if !sh.Start.Before(from) && (c.Next.IsZero() || sh.Start.Before(c.Next)) {
				c.Next = sh.Start
			}
		}
		out[i] = c
	}
	return out, nil
}

// findData is the list page.
type findData struct {
	Form          *web.Form
	Neighbourhood []web.Option
	Skills        []web.Option
	Cards         []oppCard
	Next          string
	Filtered      bool
}

// findPage lists the published opportunities with a shift ahead, filtered. A filter
// that breaks a rule (a date that is no date, an age out of range) is answered 422
// with the form again.
func (p *Plugin) findPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.view(r)
	var q findQuery
	form, err := web.DecodeQuery(r, &q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	f := PublicFilter{NeighbourhoodID: q.Neighbourhood, Skill: q.Skill, From: dateOf(q.From), To: dateOf(q.To), Newcomers: q.Newcomers}
	if q.Age != nil {
		f.Age = *q.Age
	}
	if form.Valid() && q.From != "" && q.To != "" && q.To < q.From {
		form.Invalid("to", "volunteers.find.to.before_from", nil)
	}
	d := findData{Form: form, Filtered: r.URL.RawQuery != ""}
	meta := sdk.PageMeta{Title: v.T("volunteers.find.title"), NavActive: navFind}
	names, ids, err := p.skillNames(ctx, v.lng)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d.Skills = append(d.Skills, web.Option{Value: "", Label: v.T("volunteers.find.any_skill")})
	for _, id := range ids {
		d.Skills = append(d.Skills, web.Option{Value: id, Label: names[id]})
	}
	nbhs, err := p.openNeighbourhoods(ctx)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d.Neighbourhood = append(d.Neighbourhood, web.Option{Value: "", Label: v.T("volunteers.find.any_neighbourhood")})
	for _, id := range sortedByName(nbhs) {
		d.Neighbourhood = append(d.Neighbourhood, web.Option{Value: id, Label: nbhs[id]})
	}
	lq, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	lq.Limit = pageSize
	if !form.Valid() {
		return v.invalid(w, r, "find", d, meta)
	}
	page, err := p.svc.PublicOpportunities(ctx, f, lq)
	if err != nil {
		if form.Catch(err, "volunteers.find") {
			return v.invalid(w, r, "find", d, meta)
		}
		return sdk.PageMeta{}, err
	}
	now := p.svc.clock()
	if d.Cards, err = p.cards(ctx, page.Items, now, time.Time{}); err != nil {
		return sdk.PageMeta{}, err
	}
	d.Next = web.CursorURL(r.URL, page.NextCursor)
	if d.Filtered {
		meta.Announce = v.loc.N("volunteers.find.count", len(d.Cards))
	}
	return v.render(w, r, "find", d, meta)
}

// openNeighbourhoods are the names of the neighbourhoods with open opportunities, by
// ID, for the list's filter: worked out at most once a minute, as listing every open
// opportunity on each request would cost more than the list itself.
func (p *Plugin) openNeighbourhoods(ctx context.Context) (map[string]string, error) {
	p.pages.mu.Lock()
	defer p.pages.mu.Unlock()
	now := p.svc.clock()
	if p.pages.nbhs != nil && now.Sub(p.pages.nbhsAt) < time.Minute && !now.Before(p.pages.nbhsAt) {
		return p.pages.nbhs, nil
	}
	open, err := p.svc.st.openOpportunities(ctx, now)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, o := range open {
		if o.NeighbourhoodID != "" {
			ids = append(ids, o.NeighbourhoodID)
		}
	}
	nbhs, err := p.neighbourhoodNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	p.pages.nbhs, p.pages.nbhsAt = nbhs, now
	return nbhs, nil
}

// sortedByName are the IDs of names sorted by their names.
func sortedByName(names map[string]string) []string {
	ids := make([]string, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if c := strings.Compare(strings.ToLower(names[a]), strings.ToLower(names[b])); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return ids
}

// shiftView is one shift on the opportunity page.
type shiftView struct {
	ID                         string
	Start, End                 time.Time
	Capacity, Free, Waitlisted int
	Open                       bool   // takes sign-ups now
	Mine                       string // the viewer's application status on it, if any
}

// opportunityData is one opportunity's page.
type opportunityData struct {
	Form                           *web.Form
	O                              Opportunity
	Org, Neighbourhood             string
	Required, Preferred, Languages []string
	Shifts                         []shiftView
	SignedIn, Organiser, Profile   bool
	SignIn                         string
	Applied                        bool // just applied (after the redirect)
}

// loadOpportunity is the opportunity id as the viewer may see it: published or closed
// ones to anyone, drafts and cancelled ones only to their organisers; organiser says
// whether the viewer organises it.
func (p *Plugin) loadOpportunity(ctx context.Context, pr sdk.Principal, id string) (o Opportunity, organiser bool, err error) {
	o, err = p.svc.PublicOpportunity(ctx, id)
	if errorCode(err) == sdk.CodeNotFound && pr.Authenticated() {
		o, err = p.svc.Opportunity(ctx, pr, id) // a draft, to its organisers
	}
	if err != nil {
		return Opportunity{}, false, err
	}
	organiser = pr.Authenticated() && p.svc.canOrganise(ctx, pr, o.OrganisationID) == nil
	return o, organiser, nil
}

// opportunityData gathers what the opportunity page shows the viewer.
func (p *Plugin) opportunityData(r *http.Request, v view, id string, form *web.Form) (opportunityData, error) {
	ctx, pr := r.Context(), principal(r)
	o, organiser, err := p.loadOpportunity(ctx, pr, id)
	if err != nil {
		return opportunityData{}, err
	}
	d := opportunityData{Form: form, O: o, SignedIn: pr.Authenticated(), Organiser: organiser,
		SignIn: "/sign-in?" + url.Values{"back": {strings.Replace(pageOpportunity, "{id}", o.ID, 1)}}.Encode()}
	orgs, err := p.organisationNames(ctx, []string{o.OrganisationID})
	if err != nil {
		return d, err
	}
	nbhs, err := p.neighbourhoodNames(ctx, []string{o.NeighbourhoodID})
	if err != nil {
		return d, err
	}
	d.Org, d.Neighbourhood = orgs[o.OrganisationID], nbhs[o.NeighbourhoodID]
	names, _, err := p.skillNames(ctx, v.lng)
	if err != nil {
		return d, err
	}
	for _, s := range o.RequiredSkills {
		d.Required = append(d.Required, cmpOr(names[s], s))
	}
	for _, s := range o.PreferredSkills {
		d.Preferred = append(d.Preferred, cmpOr(names[s], s))
	}
	for _, l := range o.Languages {
		d.Languages = append(d.Languages, languageName(v.lng, l))
	}
	mine := map[string]string{}
	if d.SignedIn {
		apps, err := p.svc.st.applicationsBy(ctx, p.svc.st.db, pr.UserID)
		if err != nil {
			return d, err
		}
		for _, a := range apps {
			if a.OpportunityID == o.ID && a.Status != StatusWithdrawn && a.Status != StatusDeclined {
				mine[a.ShiftID] = a.Status
			}
		}
		if _, err := p.svc.st.profile(ctx, p.svc.st.db, pr.UserID); err == nil {
			d.Profile = true
		} else if errorCode(err) != sdk.CodeNotFound {
			return d, err
		}
	}
	now := p.svc.clock()
	for _, sh := range o.Shifts {
		d.Shifts = append(d.Shifts, shiftView{ID: sh.ID, Start: sh.Start, End: sh.End, Capacity: sh.Capacity,
			Free: sh.Free, Waitlisted: sh.Waitlisted, Mine: mine[sh.ID],
			Open: o.State == StatePublished && sh.Start.After(now)})
	}
	return d, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// opportunityPage shows one opportunity: what it is, where, what it asks, and its
// shifts with their free places; a signed-in resident applies from here.
func (p *Plugin) opportunityPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.view(r)
	d, err := p.opportunityData(r, v, r.PathValue("id"), nil)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := sdk.PageMeta{Title: d.O.Title, NavActive: navFind, Breadcrumbs: v.crumbs()}
	if r.URL.Query().Get("applied") == "1" {
		d.Applied = true
		meta.Announce = v.T("volunteers.opportunity.applied")
	}
	return v.render(w, r, "opportunity", d, meta)
}

// applyPost signs the viewer up for a shift: 303 to the opportunity page; a sign-up
// the rules refuse (no profile, too young, the shift full or started) is answered 422
// with the page again and the reason in the error summary.
func (p *Plugin) applyPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	id := r.PathValue("id")
	_, err := p.svc.Apply(r.Context(), principal(r), id, r.PathValue("shiftID"))
	if err == nil {
		web.Redirect(w, r, strings.Replace(pageOpportunity, "{id}", url.PathEscape(id), 1)+"?applied=1")
		return sdk.PageMeta{}, nil
	}
	form := web.NewForm(nil)
	if !refuse(form, err) {
		return sdk.PageMeta{}, err
	}
	v := p.view(r)
	d, derr := p.opportunityData(r, v, id, form)
	if derr != nil {
		return sdk.PageMeta{}, derr
	}
	return v.invalid(w, r, "opportunity", d, sdk.PageMeta{Title: d.O.Title, NavActive: navFind, Breadcrumbs: v.crumbs()})
}

// refuse records in form why the service refused an action a person may fix or must
// know about (a broken rule, a conflict such as a full shift or a missing profile), in
// the viewer's words; it reports whether it did. Any other error is the handler's.
func refuse(form *web.Form, err error) bool {
	var e *sdk.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case sdk.CodeInvalid:
		return form.Catch(err, "volunteers.form")
	case sdk.CodeConflict:
	default:
		return false
	}
	rules := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		if k != "rule" {
			rules = append(rules, k)
		}
	}
	slices.Sort(rules)
	for _, rule := range rules {
		form.Refuse("volunteers.refused."+rule, nil)
	}
	if len(rules) == 0 {
		switch {
		case strings.Contains(e.Message, "no volunteer profile"):
			form.Refuse("volunteers.refused.no_profile", nil)
		case strings.Contains(e.Message, "already started"):
			form.Refuse("volunteers.refused.started", nil)
		case strings.Contains(e.Message, "already"):
			form.Refuse("volunteers.refused.already", nil)
		default:
			form.Refuse("volunteers.refused.closed", nil)
		}
	}
	return true
}

// nbhCardData is the neighbourhood page's card.
type nbhCardData struct {
	Cards []oppCard
	More  string
}

// neighbourhoodCard lists, for the core's neighbourhood page, the opportunities in
// the neighbourhood with free places on shifts this month.
func (p *Plugin) neighbourhoodCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.view(r)
	nbh := r.PathValue("nbh")
	now := p.svc.clock()
	local := now.In(p.svc.cfg.Location)
	end := time.Date(local.Year(), local.Month()+1, 1, 0, 0, 0, 0, p.svc.cfg.Location)
	last := end.AddDate(0, 0, -1)
	f := PublicFilter{NeighbourhoodID: nbh, From: match.Date{Year: local.Year(), Month: local.Month(), Day: local.Day()},
		To: match.Date{Year: last.Year(), Month: last.Month(), Day: last.Day()}}
	page, err := p.svc.PublicOpportunities(ctx, f, sdk.ListQuery{Limit: 50})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	opps := slices.DeleteFunc(page.Items, func(o Opportunity) bool { return freePlaces(o, now, end) == 0 })
	if len(opps) > 5 {
		opps = opps[:5]
	}
	d := nbhCardData{More: pageBase + "?" + url.Values{"neighbourhood": {nbh}}.Encode()}
	if d.Cards, err = p.cards(ctx, opps, now, end); err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "nbh-card", d, sdk.PageMeta{Title: v.T("volunteers.card.title")})
}
