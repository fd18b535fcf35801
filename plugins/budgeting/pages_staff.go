package budgeting

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// Pages officers use: opening a cycle, moving its phases, the review queue, paper
// ballots, the tally and the reports on funded projects. The host let the request in
// on the permission anywhere; every handler here then asks it about the cycle's own
// neighbourhood (the service does, or staffCycle), so an officer of one neighbourhood
// cannot run another's budget.

// staffCycle is the cycle of the request when the viewer holds perm in its
// neighbourhood.
func (p *Plugin) staffCycle(r *http.Request, v view, perm string) (*Cycle, error) {
	return p.svc.cycleFor(r.Context(), v.pr, r.PathValue("id"), perm)
}

func (v view) staffMeta(c *Cycle, title string) sdk.PageMeta {
	return v.meta(title, sdk.Crumb{Label: c.Name, Href: cyclePath(c.ID)},
		sdk.Crumb{Label: v.T("budgeting.manage.title"), Href: cyclePath(c.ID) + "/manage"})
}

// cycleForm is the form that opens a cycle, and the one that changes its set-up:
// CreateCycleInput in whole units, with the ballot's rules and the phases' dates
// spelled out as fields.
type cycleForm struct {
	Name            string   `json:"name" max:"200"`
	NeighbourhoodID string   `json:"neighbourhood_id" max:"64"`
	Country         string   `json:"country" max:"100"`
	Budget          int64    `json:"budget" min:"0"`
	Currency        string   `json:"currency" max:"3"`
	BallotType      string   `json:"ballot_type" max:"32"`
	Knapsack        bool     `json:"knapsack"`
	Min             int      `json:"min" min:"0"`
	Max             int      `json:"max" min:"0"`
	Points          int64    `json:"points" min:"0"`
	MaxPerProject   int64    `json:"max_per_project" min:"0"`
	Count           string   `json:"count" max:"32"`
	Support         bool     `json:"support"`
	Ideas           web.Date `json:"ideas_from"`
	SupportFrom     web.Date `json:"support_from"`
	ReviewFrom      web.Date `json:"review_from"`
	VotingFrom      web.Date `json:"voting_from"`
	ResultsFrom     web.Date `json:"results_from"`
}

// dateFields name the form's date of each phase that can be scheduled.
var dateFields = map[Phase]string{PhaseSupport: "support_from", PhaseReview: "review_from", PhaseVoting: "voting_from", PhaseResults: "results_from"}

// date is the form's date of phase ph, "" when it has none.
func (in cycleForm) date(ph Phase) web.Date {
	return map[Phase]web.Date{PhaseIdeas: in.Ideas, PhaseSupport: in.SupportFrom, PhaseReview: in.ReviewFrom, PhaseVoting: in.VotingFrom, PhaseResults: in.ResultsFrom}[ph]
}

// rules are the ballot's rules the form names, amounts in minor units (unit per
// whole unit). A knapsack ballot's limit is the budget; the count of rankings is
// read only for ordinal ballots, the only ones counted by rank.
func (in cycleForm) rules(unit int64) BallotRules {
	rules := BallotRules{Type: in.BallotType, Min: in.Min, Max: in.Max, Points: in.Points, MaxPerProject: in.MaxPerProject}
	if in.Knapsack && in.BallotType == BallotApproval {
		rules.MaxCost = in.Budget * unit
	}
	if in.BallotType == BallotOrdinal {
		rules.Count = in.Count
	}
	return rules
}

// phases are the form's dates of the phases after the phase at index after, as
// midnight in the city's zone.
func (p *Plugin) phases(in cycleForm, after int) PhaseStarts {
	zone := p.svc.zone
	if zone == nil {
		zone = time.UTC // a service made without the city's zone (tests)
	}
	out := PhaseStarts{}
	for _, ph := range Phases[after+1:] {
		if d := in.date(ph); d != "" {
			if at, err := d.In(zone); err == nil {
				out[ph] = &at
			}
		}
	}
	return out
}

// dateField is the form field of one phase's start.
type dateField struct{ Name, Label string }

// cycleFormData is what the set-up forms show beside the form: the choices of the
// ballot, and the phases whose start can still be set.
type cycleFormData struct {
	Form           *web.Form
	Neighbourhoods []web.Option
	Types          []web.Option
	Knapsack       []web.Option
	Counts         []web.Option
	Dates          []dateField
}

func (p *Plugin) cycleFormData(v view, form *web.Form, from Phase) cycleFormData {
	d := cycleFormData{Form: form, Types: []web.Option{
		{Value: BallotApproval, Label: v.T("budgeting.ballot.type.approval")},
		{Value: BallotCumulative, Label: v.T("budgeting.ballot.type.cumulative")},
		{Value: BallotOrdinal, Label: v.T("budgeting.ballot.type.ordinal")},
	}, Knapsack: []web.Option{{Value: "1", Label: v.T("budgeting.new.knapsack")}},
		Counts: []web.Option{
			{Value: CountBorda, Label: v.T("budgeting.new.count.borda"), Hint: v.T("budgeting.new.count.borda.hint")},
			{Value: CountApprovals, Label: v.T("budgeting.new.count.approvals"), Hint: v.T("budgeting.new.count.approvals.hint")},
		}}
	for _, ph := range Phases[from.index()+1:] {
		if name, ok := dateFields[ph]; ok {
			d.Dates = append(d.Dates, dateField{Name: name, Label: v.T("budgeting.new.from", "Phase", v.T("budgeting.phase."+string(ph)))})
		}
	}
	return d
}

// officerNeighbourhoods are the neighbourhoods where pr may open a cycle, named.
func (p *Plugin) officerNeighbourhoods(r *http.Request, pr sdk.Principal) []web.Option {
	var ids []string
	for domain := range pr.Roles {
		if id, ok := strings.CutPrefix(domain, "nbh:"); ok && p.svc.can(r.Context(), pr, PermCycleManage, domain) == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && p.svc.can(r.Context(), pr, PermCycleManage, "city") == nil {
		ids = nil // a city-wide officer: every neighbourhood
		for _, id := range pr.Neighbourhoods {
			ids = append(ids, id)
		}
	}
	nbhs, err := p.svc.host.Neighbourhoods(r.Context(), ids)
	var out []web.Option
	if err != nil {
		for _, id := range ids {
			out = append(out, web.Option{Value: id, Label: id})
		}
		return out
	}
	for _, n := range nbhs {
		out = append(out, web.Option{Value: n.ID, Label: n.Name})
	}
	return out
}

func (p *Plugin) newCycleData(r *http.Request, v view, form *web.Form) cycleFormData {
	d := p.cycleFormData(v, form, PhaseIdeas)
	d.Neighbourhoods = p.officerNeighbourhoods(r, v.pr)
	return d
}

func (p *Plugin) newCycleForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	form := web.NewForm(url.Values{"currency": {"EUR"}, "ballot_type": {BallotApproval}, "knapsack": {"1"}, "count": {CountBorda}})
	return sdk.PageMeta{}, p.render(w, r, v, "new-cycle", p.newCycleData(r, v, form), v.meta(v.T("budgeting.new.title")))
}

func (p *Plugin) createCycle(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var in cycleForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if in.Budget > maxWholeUnits {
		form.Invalid("budget", "budgeting.proposal.cost.too_large", nil)
	}
	if form.Valid() {
		cur := strings.ToUpper(strings.TrimSpace(in.Currency))
		unit := minorPerUnit(cur)
		c, err := p.svc.CreateCycle(r.Context(), v.pr, CreateCycleInput{Name: in.Name, NeighbourhoodID: in.NeighbourhoodID, Country: in.Country,
			Budget: in.Budget * unit, Currency: cur, Ballot: in.rules(unit), Phases: p.phases(in, PhaseIdeas.index()-1)})
		if err == nil {
			web.Redirect(w, r, cyclePath(c.ID)+"/manage")
			return sdk.PageMeta{}, nil
		}
		if !p.refuse(form, err, "budgeting.cycle") {
			return sdk.PageMeta{}, err
		}
	}
	return sdk.PageMeta{}, p.invalid(w, r, v, "new-cycle", p.newCycleData(r, v, form), v.meta(v.T("budgeting.new.title")))
}

// editCycleData is the page that changes a cycle's set-up. Open says the budget and
// the ballot may still change: until voting opens, since voters must know the rules
// they vote under.
type editCycleData struct {
	cycleFormData
	Cycle *Cycle
	Open  bool
}

func (p *Plugin) editCycleData(v view, c *Cycle, form *web.Form) editCycleData {
	return editCycleData{cycleFormData: p.cycleFormData(v, form, c.Phase), Cycle: c, Open: c.Phase.index() < PhaseVoting.index()}
}

// editCycleForm is the set-up of a cycle as it stands, to change.
func (p *Plugin) editCycleForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermCycleManage)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	vals := url.Values{"name": {c.Name}, "country": {c.Country}, "budget": {wholeUnits(c.Budget, c.Currency)},
		"ballot_type": {c.Ballot.Type}, "count": {c.Ballot.Count}}
	if c.Ballot.Count == "" {
		vals.Set("count", CountBorda)
	}
	if c.Ballot.MaxCost > 0 {
		vals.Set("knapsack", "1")
	}
	if c.Ballot.Max > 0 {
		vals.Set("max", strconv.Itoa(c.Ballot.Max))
	}
	if c.Ballot.Points > 0 {
		vals.Set("points", strconv.FormatInt(c.Ballot.Points, 10))
	}
	zone := p.svc.zone
	if zone == nil {
		zone = time.UTC
	}
	for ph, at := range c.Schedule {
		if name, ok := dateFields[ph]; ok {
			vals.Set(name, at.In(zone).Format(time.DateOnly))
		}
	}
	return sdk.PageMeta{}, p.render(w, r, v, "edit-cycle", p.editCycleData(v, c, web.NewForm(vals)), v.staffMeta(c, v.T("budgeting.edit_cycle.title")))
}

// editCycle saves the set-up: the name, the country and the dates of the phases
// ahead always; the budget and the ballot only while voting has not opened (the
// service refuses them after, and the form no longer offers them).
func (p *Plugin) editCycle(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermCycleManage)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in cycleForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if in.Budget > maxWholeUnits {
		form.Invalid("budget", "budgeting.proposal.cost.too_large", nil)
	}
	if form.Valid() {
		patch := CyclePatch{Name: &in.Name, Country: &in.Country, Phases: p.phases(in, c.Phase.index())}
		if c.Phase.index() < PhaseVoting.index() {
			unit := minorPerUnit(c.Currency)
			budget, rules := in.Budget*unit, in.rules(unit)
			// What the form does not show stays as it was.
			rules.Min = c.Ballot.Min
			if rules.Type == BallotCumulative && c.Ballot.Type == BallotCumulative {
				rules.MaxPerProject = c.Ballot.MaxPerProject
			}
			patch.Budget, patch.Ballot = &budget, &rules
		}
		_, err := p.svc.EditCycle(r.Context(), v.pr, c.ID, patch)
		if err == nil {
			web.Redirect(w, r, cyclePath(c.ID)+"/manage?edited=1")
			return sdk.PageMeta{}, nil
		}
		if !p.refuse(form, err, "budgeting.cycle") {
			return sdk.PageMeta{}, err
		}
	}
	return sdk.PageMeta{}, p.invalid(w, r, v, "edit-cycle", p.editCycleData(v, c, form), v.staffMeta(c, v.T("budgeting.edit_cycle.title")))
}

// manageData is a cycle's staff page.
type manageData struct {
	Cycle   *Cycle
	Steps   []phaseStep
	Next    []web.Option
	Form    *web.Form
	Turnout *Turnout
	Counts  map[string]int
	Moved   bool
	Edited  bool
}

func (p *Plugin) manageData(r *http.Request, c *Cycle, form *web.Form, v view) (*manageData, error) {
	d := &manageData{Cycle: c, Steps: steps(c), Form: form, Counts: map[string]int{}}
	for _, ph := range Phases[c.Phase.index()+1:] {
		d.Next = append(d.Next, web.Option{Value: string(ph), Label: v.T("budgeting.phase." + string(ph))})
	}
	ps, err := listProposals(r.Context(), p.svc.db, c.ID, "")
	if err != nil {
		return nil, err
	}
	for _, pr := range ps {
		d.Counts[pr.Status]++
	}
	if d.Turnout, err = p.svc.Turnout(r.Context(), c.ID); err != nil {
		return nil, err
	}
	return d, nil
}

func (p *Plugin) managePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermCycleManage)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var form *web.Form
	if next := nextPhase(c); next != "" {
		form = web.NewForm(url.Values{"phase": {string(next)}})
	}
	d, err := p.manageData(r, c, form, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d.Moved = r.URL.Query().Get("moved") == "1"
	d.Edited = r.URL.Query().Get("edited") == "1"
	meta := v.meta(v.T("budgeting.manage.title"), sdk.Crumb{Label: c.Name, Href: cyclePath(c.ID)})
	if d.Moved {
		meta.Announce = v.T("budgeting.manage.moved", "Phase", v.T("budgeting.phase."+string(c.Phase)))
	}
	if d.Edited {
		meta.Announce = v.T("budgeting.edit_cycle.saved")
	}
	return sdk.PageMeta{}, p.render(w, r, v, "manage", d, meta)
}

func (p *Plugin) setPhase(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var in PhaseInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if form.Valid() {
		c, err := p.svc.SetPhase(r.Context(), v.pr, r.PathValue("id"), in.Phase)
		if err == nil {
			web.Redirect(w, r, cyclePath(c.ID)+"/manage?moved=1")
			return sdk.PageMeta{}, nil
		}
		if !p.refuse(form, err, "budgeting.phase") {
			return sdk.PageMeta{}, err
		}
	}
	c, err := p.staffCycle(r, v, PermCycleManage)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, err := p.manageData(r, c, form, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return sdk.PageMeta{}, p.invalid(w, r, v, "manage", d, v.meta(v.T("budgeting.manage.title"), sdk.Crumb{Label: c.Name, Href: cyclePath(c.ID)}))
}

// reviewItem is one proposal of the review queue with its form. Each proposal has
// its own form on the page, so its fields carry the proposal's ID in their names
// ("decision-<id>"), which keeps the ids of the page unique.
type reviewItem struct {
	Proposal *Proposal
	Form     *web.Form
	Others   []web.Option // proposals it may duplicate
}

type reviewData struct {
	Cycle     *Cycle
	Items     []reviewItem
	Decisions []web.Option
	Reviewed  string    // the title of the proposal just reviewed
	Summary   *web.Form // the refused form, whose summary heads the page
}

// The decisions of the review form.
const (
	decisionAccept = "accept"
	decisionReject = "reject"
	decisionMerge  = "merge"
)

func (p *Plugin) reviewData(r *http.Request, v view, c *Cycle) (*reviewData, error) {
	ps, err := listProposals(r.Context(), p.svc.db, c.ID, "")
	if err != nil {
		return nil, err
	}
	d := &reviewData{Cycle: c, Decisions: []web.Option{
		{Value: decisionAccept, Label: v.T("budgeting.review.accept")},
		{Value: decisionReject, Label: v.T("budgeting.review.reject")},
		{Value: decisionMerge, Label: v.T("budgeting.review.merge")},
	}}
	for _, pr := range ps {
		if pr.Status == StatusNotShortlisted {
			continue
		}
		id := pr.ID
		values := url.Values{"cost-" + id: {wholeUnits(pr.Cost, c.Currency)}, "reason-" + id: {pr.Reason}, "duplicate_of-" + id: {pr.MergedInto}}
		switch pr.Status {
		case StatusFeasible:
			values.Set("decision-"+id, decisionAccept)
			values.Set("cost-"+id, wholeUnits(pr.FinalCost, c.Currency))
		case StatusInfeasible:
			values.Set("decision-"+id, decisionReject)
		case StatusMerged:
			values.Set("decision-"+id, decisionMerge)
		}
		item := reviewItem{Proposal: pr, Form: web.NewForm(values)}
		for _, o := range ps {
			if o.ID != pr.ID && o.Status != StatusMerged {
				if item.Others == nil {
					item.Others = []web.Option{{Value: "", Label: v.T("budgeting.review.duplicate_of.none")}}
				}
				item.Others = append(item.Others, web.Option{Value: o.ID, Label: o.Title})
			}
		}
		d.Items = append(d.Items, item)
	}
	return d, nil
}

func (p *Plugin) reviewQueue(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermProposalReview)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, err := p.reviewData(r, v, c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.staffMeta(c, v.T("budgeting.review.title"))
	if id := r.URL.Query().Get("reviewed"); id != "" {
		for _, it := range d.Items {
			if it.Proposal.ID == id {
				d.Reviewed = it.Proposal.Title
				meta.Announce = v.T("budgeting.review.done", "Title", d.Reviewed)
			}
		}
	}
	return sdk.PageMeta{}, p.render(w, r, v, "review", d, meta)
}

// reviewProposal records one decision of the queue: 303 back to the queue, or the
// queue again, 422, with this proposal's form refused.
func (p *Plugin) reviewProposal(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermProposalReview)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	id := r.PathValue("proposalID")
	var in reviewForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	// The fields carry the proposal's ID: read them into the plain names and check
	// them as Decode does (no NUL, lengths), reporting under the page's names.
	plain := url.Values{}
	for _, name := range []string{"decision", "cost", "reason", "duplicate_of"} {
		plain[name] = r.PostForm[name+"-"+id]
	}
	sub, err := web.DecodeQuery(&http.Request{URL: &url.URL{RawQuery: plain.Encode()}}, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	for _, fp := range sub.Problems() {
		if fp.Count != nil {
			form.Invalid(fp.Field+"-"+id, "budgeting.review.too_long", map[string]any{"Max": *fp.Count})
			continue
		}
		form.Invalid(fp.Field+"-"+id, problemID(fp.Problem), fp.Data)
	}
	var rin ReviewInput
	switch in.Decision {
	case decisionAccept:
		yes := true
		if in.Cost > maxWholeUnits {
			form.Invalid("cost-"+id, "budgeting.proposal.cost.too_large", nil)
		}
		cost := in.Cost * minorPerUnit(c.Currency)
		rin = ReviewInput{Feasible: &yes, Cost: &cost}
	case decisionReject:
		no := false
		rin = ReviewInput{Feasible: &no, Reason: in.Reason}
		if strings.TrimSpace(in.Reason) == "" {
			form.Invalid("reason-"+id, "budgeting.review.reason.required", nil)
		}
	case decisionMerge:
		rin = ReviewInput{DuplicateOf: in.DuplicateOf}
		if in.DuplicateOf == "" {
			form.Invalid("duplicate_of-"+id, "budgeting.review.duplicate_of.required", nil)
		}
	default:
		form.Invalid("decision-"+id, "budgeting.review.decision.required", nil)
	}
	if form.Valid() {
		_, err := p.svc.Review(r.Context(), v.pr, c.ID, id, rin)
		if err == nil {
			web.Redirect(w, r, cyclePath(c.ID)+"/review?reviewed="+url.QueryEscape(id))
			return sdk.PageMeta{}, nil
		}
		var e *sdk.Error
		if errors.As(err, &e) && e.Code == sdk.CodeInvalid {
			// The service names the plain field; the page's has the ID.
			for field := range e.Fields {
				if field != "rule" {
					form.Invalid(field+"-"+id, "budgeting.review."+field+"."+e.Fields["rule"], nil)
				}
			}
		}
		if form.Valid() && !p.refuse(form, err, "budgeting.review") {
			return sdk.PageMeta{}, err
		}
	}
	d, err := p.reviewData(r, v, c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	for i := range d.Items {
		if d.Items[i].Proposal.ID == id {
			d.Items[i].Form = form
		}
	}
	d.Summary = form
	return sdk.PageMeta{}, p.invalid(w, r, v, "review", d, v.staffMeta(c, v.T("budgeting.review.title")))
}

// problemID is the first message id of a problem the kit found.
func problemID(p web.Problem) string {
	if len(p.IDs) > 0 {
		return p.IDs[0]
	}
	return "web.rule.invalid_value"
}

// paperForm is a paper ballot transcribed: the ballot form, posted one at a time.
func (p *Plugin) paperForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermBallotPaper)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, _, err := p.ballotView(r, v, nil)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d.Paper, d.Action = true, cyclePath(c.ID)+"/paper"
	d.Recorded = r.URL.Query().Get("recorded") == "1"
	meta := v.staffMeta(c, v.T("budgeting.paper.title"))
	if d.Recorded {
		meta.Announce = v.T("budgeting.paper.recorded")
	}
	return sdk.PageMeta{}, p.render(w, r, v, "ballot", d, meta)
}

func (p *Plugin) enterPaper(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermBallotPaper)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if err := r.ParseForm(); err != nil {
		return sdk.PageMeta{}, sdk.Malformed("The form cannot be read.")
	}
	d, costs, err := p.ballotView(r, v, r.PostForm)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d.Paper, d.Action = true, cyclePath(c.ID)+"/paper"
	b := d.readBallot()
	if d.Form.Valid() {
		_, err := p.svc.EnterPaperBallots(r.Context(), v.pr, c.ID, []Ballot{b})
		if err == nil {
			web.Redirect(w, r, cyclePath(c.ID)+"/paper?recorded=1")
			return sdk.PageMeta{}, nil
		}
		// EnterPaperBallots names the ballot by its index; the rule is the same.
		d.check(b, costs, err)
		if d.Form.Valid() && !p.refuse(d.Form, err, "budgeting.ballot") {
			return sdk.PageMeta{}, err
		}
	}
	return sdk.PageMeta{}, p.invalid(w, r, v, "ballot", d, v.staffMeta(c, v.T("budgeting.paper.title")))
}

// tallyData is the tally page: the private preview — each rule's outcome side by
// side, the projects they disagree on, how satisfied voters would be — and the form
// that publishes one of them; before any preview, the button that makes one.
type tallyData struct {
	Cycle   *Cycle
	Form    *web.Form
	Preview *Preview
	Rules   []web.Option
	// Titles name the projects of the preview.
	Titles map[string]string
}

func (p *Plugin) tallyData(r *http.Request, v view, c *Cycle, form *web.Form) (tallyData, error) {
	d := tallyData{Cycle: c, Form: form}
	pv, err := p.svc.ResultsPreview(r.Context(), v.pr, c.ID)
	switch {
	case isCode(err, sdk.CodeNotFound):
		return d, nil
	case err != nil:
		return d, err
	}
	d.Preview = pv
	for _, cand := range pv.Candidates {
		d.Rules = append(d.Rules, web.Option{Value: cand.Rule, Label: v.T("budgeting.rule." + ruleFamily(cand.Rule))})
	}
	if form.Value("rule") == "" && len(d.Rules) > 0 {
		form.Set("rule", d.Rules[len(d.Rules)-1].Value) // MES, when it is there, is listed last
	}
	return d, nil
}

// ruleFamily is the words' key of a rule: the greedy variants read as greedy.
func ruleFamily(rule string) string {
	if rule == "mes" {
		return "mes"
	}
	return "greedy"
}

func (p *Plugin) tallyForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermResultsPublish)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, err := p.tallyData(r, v, c, web.NewForm(nil))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.staffMeta(c, v.T("budgeting.tally.title"))
	if d.Preview != nil && r.URL.Query().Get("previewed") == "1" {
		meta.Announce = v.T("budgeting.tally.previewed")
	}
	return sdk.PageMeta{}, p.render(w, r, v, "tally", d, meta)
}

// previewTally counts the ballots by every rule the cycle allows, privately.
func (p *Plugin) previewTally(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermResultsPublish)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	form := web.NewForm(nil)
	_, err = p.svc.PreviewResults(r.Context(), v.pr, c.ID, PreviewInput{})
	if err == nil {
		web.Redirect(w, r, cyclePath(c.ID)+"/tally?previewed=1")
		return sdk.PageMeta{}, nil
	}
	if !p.refuse(form, err, "budgeting.tally") {
		return sdk.PageMeta{}, err
	}
	d, derr := p.tallyData(r, v, c, form)
	if derr != nil {
		return sdk.PageMeta{}, derr
	}
	return sdk.PageMeta{}, p.invalid(w, r, v, "tally", d, v.staffMeta(c, v.T("budgeting.tally.title")))
}

// tallyInput is the publish form.
type tallyInput struct {
	Rule string `json:"rule" max:"32"`
}

// tally publishes the previewed outcome of one rule.
func (p *Plugin) tally(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.staffCycle(r, v, PermResultsPublish)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in tallyInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if in.Rule == "" && form.Valid() {
		form.Invalid("rule", "budgeting.tally.rule.required", nil)
	}
	if form.Valid() {
		_, err := p.svc.Publish(r.Context(), v.pr, c.ID, PublishInput{Rule: in.Rule})
		if err == nil {
			go p.drawResults(c)
			web.Redirect(w, r, cyclePath(c.ID)+"/results")
			return sdk.PageMeta{}, nil
		}
		if !p.refuse(form, err, "budgeting.tally") {
			return sdk.PageMeta{}, err
		}
	}
	d, err := p.tallyData(r, v, c, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return sdk.PageMeta{}, p.invalid(w, r, v, "tally", d, v.staffMeta(c, v.T("budgeting.tally.title")))
}

// updateForm is the report on a funded project, with a photo of the work if one was
// sent (the host put its id in the photo field) and its text alternative.
type updateForm struct {
	Status string `json:"status" max:"32"`
	Note   string `json:"note" max:"4000"`
	Alt    string `json:"alt" max:"300"`
}

// postUpdate records a report on a funded project, from the project's page.
func (p *Plugin) postUpdate(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var f updateForm
	form, err := web.Decode(r, &f)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	in := UpdateInput{Status: f.Status, Note: f.Note}
	if err := sdk.UploadError(r, AttachPhoto); err != nil {
		form.Catch(err, "budgeting.attach")
	} else if id := sdk.UploadID(r, AttachPhoto); id != "" {
		in.Photos = []AttachmentInput{{Kind: AttachPhoto, UploadID: id, Text: f.Alt}}
	}
	cycle, id := r.PathValue("id"), r.PathValue("proposalID")
	if form.Valid() {
		_, err := p.svc.UpdateImplementation(r.Context(), v.pr, cycle, id, in)
		if err == nil {
			web.Redirect(w, r, proposalPath(cycle, id)+"?updated=1")
			return sdk.PageMeta{}, nil
		}
		if !p.refuse(form, err, "budgeting.update") {
			return sdk.PageMeta{}, err
		}
	}
	d, err := p.proposalData(r, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	form.Set(AttachPhoto, "") // a file input shows no value
	d.Form = form
	return sdk.PageMeta{}, p.proposalRefused(w, r, v, d)
}

// reviewForm is one decision of the review queue, under the fields' plain names.
type reviewForm struct {
	Decision    string `json:"decision" max:"16"`
	Cost        int64  `json:"cost" min:"0"`
	Reason      string `json:"reason" max:"4000"`
	DuplicateOf string `json:"duplicate_of" max:"64"`
}

// nextPhase is the phase the staff page offers first: the next one, passing over the
// support phase unless the cycle shortlists ideas or scheduled it.
func nextPhase(c *Cycle) Phase {
	for _, ph := range Phases[c.Phase.index()+1:] {
		if ph == PhaseSupport && c.SupportTopN == 0 {
			if _, scheduled := c.Schedule[PhaseSupport]; !scheduled {
				continue
			}
		}
		return ph
	}
	return ""
}
