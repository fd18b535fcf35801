package budgeting

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"golang.org/x/text/currency"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// Pages residents use: proposing and editing an idea, supporting one, and the ballot
// of each type — chosen, reviewed, then cast — all plain forms. The knapsack's
// running total is worked out on every submission (the review step shows it against
// the budget, and a ballot over it comes back refused with both sums), so it needs no
// script and a screen reader hears it as text.

// proposalForm is the proposal form: ProposalInput with the cost in whole currency
// units, as people write it.
type proposalForm struct {
	Title       string `json:"title" max:"200"`
	Description string `json:"description" max:"10000"`
	Category    string `json:"category" max:"100"`
	Location    string `json:"location" max:"300"`
	Cost        int64  `json:"cost" min:"0"`
	Anonymous   bool   `json:"anonymous"`
}

// maxWholeUnits bounds amounts typed in whole units, as the import does (10^12).
const maxWholeUnits = 1_000_000_000_000

// minorPerUnit is how many minor units make one unit of the currency (100 for the
// euro, 1 for the yen).
func minorPerUnit(code string) int64 {
	scale := 2
	if u, err := currency.ParseISO(code); err == nil {
		scale, _ = currency.Standard.Rounding(u)
	}
	return int64(math.Pow10(scale))
}

// wholeUnits is an amount in minor units written in whole units, for a form's value.
func wholeUnits(minor int64, code string) string {
	return strconv.FormatInt(minor/minorPerUnit(code), 10)
}

// input turns the form into the service's input, refusing an amount out of range.
func (f proposalForm) input(c *Cycle, form *web.Form) ProposalInput {
	if f.Cost > maxWholeUnits {
		form.Invalid("cost", "budgeting.proposal.cost.too_large", nil)
	}
	return ProposalInput{Title: f.Title, Description: f.Description, Category: f.Category, Location: f.Location,
		Cost: f.Cost * minorPerUnit(c.Currency), Anonymous: f.Anonymous}
}

type proposeData struct {
	Cycle    *Cycle
	Proposal *Proposal // nil for a new one
	Form     *web.Form
	Action   string
	// Anonymous is the one box that hides the author's name.
	Anonymous []web.Option
}

func (p *Plugin) proposeForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.svc.Cycle(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := proposeData{Cycle: c, Form: web.NewForm(nil), Action: cyclePath(c.ID) + "/propose", Anonymous: anonymousOption(v)}
	return sdk.PageMeta{}, p.render(w, r, v, "propose", d, p.proposeMeta(v, c))
}

func (p *Plugin) proposeMeta(v view, c *Cycle) sdk.PageMeta {
	return v.meta(v.T("budgeting.propose.title"), sdk.Crumb{Label: c.Name, Href: cyclePath(c.ID)})
}

func (p *Plugin) propose(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.svc.Cycle(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in proposalForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := proposeData{Cycle: c, Form: form, Action: cyclePath(c.ID) + "/propose", Anonymous: anonymousOption(v)}
	input := in.input(c, form)
	if form.Valid() {
		pr, err := p.svc.SubmitProposal(r.Context(), v.pr, c.ID, input)
		if err == nil {
			web.Redirect(w, r, proposalPath(c.ID, pr.ID)+"?sent=1")
			return sdk.PageMeta{}, nil
		}
		if !p.refuse(form, err, "budgeting.proposal") {
			return sdk.PageMeta{}, err
		}
	}
	return sdk.PageMeta{}, p.invalid(w, r, v, "propose", d, p.proposeMeta(v, c))
}

// refuse records err on form when a person can fix it or must be told why the form
// was refused (a rule, or a conflict such as a phase that has ended).
func (p *Plugin) refuse(form *web.Form, err error, prefix string) bool {
	if form.Catch(err, prefix) {
		return true
	}
	var e *sdk.Error
	if errors.As(err, &e) && e.Code == sdk.CodeConflict {
		form.Refuse("budgeting.refused.conflict", map[string]any{"Reason": e.Message})
		return true
	}
	return false
}

func (p *Plugin) editProposalForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	d, err := p.proposalData(r, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	pr := d.Proposal
	if pr.AuthorID != v.pr.UserID {
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeForbidden, "only the author edits a proposal")
	}
	form := web.NewForm(url.Values{"title": {pr.Title}, "description": {pr.Description}, "category": {pr.Category},
		"location": {pr.Location}, "cost": {wholeUnits(pr.Cost, d.Cycle.Currency)}})
	if pr.Anonymous {
		form.Set("anonymous", "1")
	}
	pd := proposeData{Cycle: d.Cycle, Proposal: pr, Form: form, Action: proposalPath(d.Cycle.ID, pr.ID) + "/edit", Anonymous: anonymousOption(v)}
	return sdk.PageMeta{}, p.render(w, r, v, "propose", pd, p.editMeta(v, d.Cycle, pr))
}

func (p *Plugin) editMeta(v view, c *Cycle, pr *Proposal) sdk.PageMeta {
	return v.meta(v.T("budgeting.edit.title"), sdk.Crumb{Label: c.Name, Href: cyclePath(c.ID)},
		sdk.Crumb{Label: pr.Title, Href: proposalPath(c.ID, pr.ID)})
}

func (p *Plugin) editProposal(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	d, err := p.proposalData(r, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in proposalForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	input := in.input(d.Cycle, form)
	if form.Valid() {
		patch := ProposalPatch{Title: &input.Title, Description: &input.Description, Category: &input.Category, Location: &input.Location,
			Cost: &input.Cost, Anonymous: &input.Anonymous}
		_, err := p.svc.EditProposal(r.Context(), v.pr, d.Cycle.ID, d.Proposal.ID, patch)
		if err == nil {
			web.Redirect(w, r, proposalPath(d.Cycle.ID, d.Proposal.ID)+"?edited=1")
			return sdk.PageMeta{}, nil
		}
		if !p.refuse(form, err, "budgeting.proposal") {
			return sdk.PageMeta{}, err
		}
	}
	pd := proposeData{Cycle: d.Cycle, Proposal: d.Proposal, Form: form, Action: proposalPath(d.Cycle.ID, d.Proposal.ID) + "/edit", Anonymous: anonymousOption(v)}
	return sdk.PageMeta{}, p.invalid(w, r, v, "propose", pd, p.editMeta(v, d.Cycle, d.Proposal))
}

func (p *Plugin) supportProposal(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	cycle, id := r.PathValue("id"), r.PathValue("proposalID")
	if _, err := p.svc.Support(r.Context(), v.pr, cycle, id); err != nil {
		d, derr := p.proposalData(r, v)
		if derr != nil || !p.refuse(d.Form, err, "budgeting.support") {
			return sdk.PageMeta{}, err
		}
		return sdk.PageMeta{}, p.proposalRefused(w, r, v, d)
	}
	web.Redirect(w, r, proposalPath(cycle, id)+"?supported=1")
	return sdk.PageMeta{}, nil
}

// ballotChoice is one project on a ballot form.
type ballotChoice struct {
	ID, Title, Category string
	Cost                int64
	// Field is the form field of the project's points (cumulative) or rank
	// (ordinal); Value what the voter wrote there.
	Field, Value string
	Chosen       bool
}

// ballotData is the ballot form, its review step, and a paper ballot's form.
type ballotData struct {
	Cycle    *Cycle
	Choices  []ballotChoice
	Form     *web.Form
	Knapsack bool
	// Chosen are the choices of the ballot under review, Total their cost (approval)
	// or points (cumulative).
	Chosen      []ballotChoice
	Total       int64
	Over        int64
	MinAge      int
	Replaceable bool
	Hidden      url.Values // the ballot, carried from the review step to the cast
	Action      string     // where the form posts: the review step, or a paper ballot
	Paper       bool
	Recorded    bool
	// Options are the projects as checkboxes (approval); AgeOptions the age
	// confirmation's one box.
	Options, AgeOptions []web.Option

	v view // the viewer, whose language the sums of a refusal are written in

	// TooYoung is set for a voter whose verified age is below MinAge: the page says
	// so instead of offering a ballot that would be refused.
	TooYoung bool
}

// knapsack reports whether an approval ballot is held to a total cost.
func knapsack(c *Cycle) bool { return c.Ballot.Type == BallotApproval && c.Ballot.MaxCost > 0 }

// ballotView reads the ballot of a cycle in the voting phase (from the cache the cast
// uses) and lays out its projects with what values say was chosen.
func (p *Plugin) ballotView(r *http.Request, v view, values url.Values) (*ballotData, map[string]int64, error) {
	ctx := r.Context()
	c, costs, err := p.svc.ballotOf(ctx, r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	ps, err := listProposals(ctx, p.svc.db, c.ID, StatusFeasible)
	if err != nil {
		return nil, nil, err
	}
	d := &ballotData{v: v, Cycle: c, Form: web.NewForm(values), Knapsack: knapsack(c), MinAge: p.svc.settings.MinAge,
		Replaceable: p.svc.settings.BallotReplaceable, Action: cyclePath(c.ID) + "/ballot/review"}
	chosen := values["projects"]
	for _, pr := range ps {
		ch := ballotChoice{ID: pr.ID, Title: pr.Title, Category: pr.Category, Cost: pr.FinalCost, Chosen: slices.Contains(chosen, pr.ID)}
		if ch.Field = choiceField(c, pr.ID); ch.Field != "" {
			ch.Value = values.Get(ch.Field)
		}
		d.Choices = append(d.Choices, ch)
		hint := v.loc.Money(ch.Cost, c.Currency)
		if ch.Category != "" {
			hint = ch.Category + ", " + hint
		}
		d.Options = append(d.Options, web.Option{Value: ch.ID, Label: ch.Title, Hint: hint})
	}
	// A verified age answers the minimum age; only a voter without one ticks the box.
	if d.MinAge > 0 && !v.pr.AgeVerified {
		d.AgeOptions = []web.Option{{Value: "1", Label: v.T("budgeting.ballot.age.yes", "Age", d.MinAge)}}
	}
	d.TooYoung = d.MinAge > 0 && v.pr.AgeVerified && v.pr.VerifiedAge < d.MinAge
	return d, costs, nil
}

// readBallot turns the submitted form into a ballot, recording on the form a number
// that is not one. Ranks order an ordinal ballot (1 first); blank means unranked.
func (d *ballotData) readBallot() Ballot {
	var b Ballot
	form := d.Form
	switch d.Cycle.Ballot.Type {
	case BallotCumulative:
		for _, ch := range d.Choices {
			if ch.Value == "" {
				continue
			}
			n, err := strconv.ParseInt(ch.Value, 10, 64)
			if err != nil || n < 0 {
				form.Invalid(ch.Field, "budgeting.ballot.points.whole_number", map[string]any{"Project": ch.Title})
				continue
			}
			if n > 0 {
				if b.Points == nil {
					b.Points = map[string]int64{}
				}
				b.Points[ch.ID] = n
			}
		}
	case BallotOrdinal:
		type ranked struct {
			id   string
			rank int64
		}
		var rs []ranked
		seen := map[int64]bool{}
		for _, ch := range d.Choices {
			if ch.Value == "" {
				continue
			}
			n, err := strconv.ParseInt(ch.Value, 10, 32)
			if err != nil || n < 1 {
				form.Invalid(ch.Field, "budgeting.ballot.rank.whole_number", map[string]any{"Project": ch.Title})
				continue
			}
			if seen[n] {
				form.Invalid(ch.Field, "budgeting.ballot.rank.twice", map[string]any{"Project": ch.Title, "Rank": n})
				continue
			}
			seen[n] = true
			rs = append(rs, ranked{ch.ID, n})
		}
		slices.SortFunc(rs, func(a, b ranked) int { return int(a.rank - b.rank) })
		for _, r := range rs {
			b.Projects = append(b.Projects, r.id)
		}
	default:
		for _, ch := range d.Choices {
			if ch.Chosen {
				b.Projects = append(b.Projects, ch.ID)
			}
		}
	}
	return b
}

// check holds the ballot to the cycle's rules as the cast will, and works out the
// total for the review step; a broken rule is recorded on the form in the voter's
// words, with the sums that broke it.
func (d *ballotData) check(b Ballot, costs map[string]int64, err error) {
	d.Chosen, d.Total = nil, 0
	for _, ch := range d.Choices {
		switch {
		case d.Cycle.Ballot.Type == BallotCumulative && b.Points[ch.ID] > 0:
			ch.Value = strconv.FormatInt(b.Points[ch.ID], 10)
			d.Total += b.Points[ch.ID]
		case d.Cycle.Ballot.Type != BallotCumulative && slices.Contains(b.Projects, ch.ID):
			d.Total += costs[ch.ID]
		default:
			continue
		}
		d.Chosen = append(d.Chosen, ch)
	}
	if d.Cycle.Ballot.Type == BallotOrdinal {
		slices.SortFunc(d.Chosen, func(x, y ballotChoice) int { return slices.Index(b.Projects, x.ID) - slices.Index(b.Projects, y.ID) })
	}
	if err == nil || !d.Form.Valid() {
		return
	}
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != sdk.CodeInvalid {
		d.Form.Catch(err, "budgeting.ballot")
		return
	}
	field := "projects"
	if d.Cycle.Ballot.Type == BallotCumulative {
		field = "points"
	}
	if len(d.Choices) > 0 {
		switch d.Cycle.Ballot.Type {
		case BallotCumulative, BallotOrdinal:
			field = d.Choices[0].Field // the summary links to the first box
		}
	}
	r := d.Cycle.Ballot
	rule := e.Fields["rule"]
	if rule == RuleMaxCost {
		d.Over = d.Total - r.MaxCost
	}
	loc, cur := d.v.loc, d.Cycle.Currency
	total := loc.Number(d.Total)
	if d.Cycle.Ballot.Type != BallotCumulative {
		total = loc.Money(d.Total, cur)
	}
	d.Form.Invalid(field, "budgeting.ballot.rule."+rule, map[string]any{
		"Min": loc.Number(int64(max(r.Min, 1))), "Max": loc.Number(int64(r.Max)), "Points": loc.Number(r.Points),
		"PerProject": loc.Number(r.MaxPerProject), "Age": loc.Number(int64(d.MinAge)),
		"Total": total, "Limit": loc.Money(r.MaxCost, cur), "Over": loc.Money(d.Over, cur),
	})
}

func (p *Plugin) ballotMeta(v view, c *Cycle, title string) sdk.PageMeta {
	return v.meta(title, sdk.Crumb{Label: c.Name, Href: cyclePath(c.ID)})
}

// ballotForm is the ballot; the review step's "change" button brings the choices back
// in the query.
func (p *Plugin) ballotForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	d, _, err := p.ballotView(r, v, r.URL.Query())
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if d.Cycle.Phase != PhaseVoting {
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeConflict, "voting is not open in this cycle")
	}
	return sdk.PageMeta{}, p.render(w, r, v, "ballot", d, p.ballotMeta(v, d.Cycle, v.T("budgeting.ballot.title")))
}

// reviewBallot is the step before casting: the ballot as it will be cast, its total
// against the budget, and the buttons to cast it or change it. A ballot that breaks a
// rule comes back as the form, 422, with the reason and the sums.
func (p *Plugin) reviewBallot(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	if err := r.ParseForm(); err != nil {
		return sdk.PageMeta{}, sdk.Malformed("The form cannot be read.")
	}
	d, costs, err := p.ballotView(r, v, r.PostForm)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	b := d.readBallot()
	_, verr := validateBallot(d.Cycle.Ballot, b, costs)
	d.check(b, costs, verr)
	if !d.Form.Valid() {
		return sdk.PageMeta{}, p.invalid(w, r, v, "ballot", d, p.ballotMeta(v, d.Cycle, v.T("budgeting.ballot.title")))
	}
	d.Hidden = ballotValues(b)
	return sdk.PageMeta{}, p.render(w, r, v, "ballot-review", d, p.ballotMeta(v, d.Cycle, v.T("budgeting.ballot.review.title")))
}

// ballotValues is a ballot as the hidden fields of the review step: the same names the
// ballot form uses, so the cast reads them the same way.
func ballotValues(b Ballot) url.Values {
	out := url.Values{}
	for i, id := range b.Projects {
		out.Add("projects", id)
		out.Set("rank-"+id, strconv.Itoa(i+1))
	}
	for id, n := range b.Points {
		out.Set("points-"+id, strconv.FormatInt(n, 10))
	}
	return out
}

// castBallot casts the reviewed ballot: 303 to the confirmation. A ballot refused
// comes back as the form, 422, with the reason.
func (p *Plugin) castBallot(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	if err := r.ParseForm(); err != nil {
		return sdk.PageMeta{}, sdk.Malformed("The form cannot be read.")
	}
	// The cast reads nothing but the cycle's cached ballot, as the JSON route does;
	// the projects' titles are read only to show a refused ballot again.
	c, costs, err := p.svc.ballotOf(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	quick := &ballotData{v: v, Cycle: c, Form: web.NewForm(r.PostForm)}
	for id := range costs {
		quick.Choices = append(quick.Choices, ballotChoice{ID: id, Field: choiceField(c, id), Value: r.PostForm.Get(choiceField(c, id)),
			Chosen: slices.Contains(r.PostForm["projects"], id)})
	}
	var castErr error
	if b := quick.readBallot(); quick.Form.Valid() {
		in := BallotInput{Ballot: b, AgeConfirmed: r.PostForm.Get("age_confirmed") != "", ReplaceToken: r.PostForm.Get("replace_token")}
		// The host checked the page's permission, as it does the JSON route's.
		rc, err := p.svc.CastBallot(withRouteChecked(r.Context(), PermBallotCast), v.pr, c.ID, in)
		switch {
		case err == nil && rc.ReplaceToken == "":
			web.Redirect(w, r, cyclePath(c.ID)+"/ballot/cast")
			return sdk.PageMeta{}, nil
		case err == nil:
			// The token that lets the voter change their ballot is shown once, in
			// this answer, and never put in an address (history, logs).
			data := castData{Cycle: c, Token: rc.ReplaceToken, Replaced: rc.Replaced}
			meta := p.ballotMeta(v, c, v.T("budgeting.cast.title"))
			meta.Announce = v.T("budgeting.cast.done")
			return sdk.PageMeta{}, p.render(w, r, v, "ballot-cast", data, meta)
		}
		castErr = err
	}
	// Refused: the ballot form again, with what was chosen and why it was refused.
	d, costs, err := p.ballotView(r, v, r.PostForm)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if b := d.readBallot(); d.Form.Valid() {
		d.check(b, costs, castErr)
		if d.Form.Valid() && isCode(castErr, sdk.CodeConflict) {
			// A ballot after voting closed, or a second one: said in the voter's
			// words, told apart by the phase the cycle is in now.
			if now, err := p.svc.Cycle(r.Context(), c.ID); err == nil && now.Phase != PhaseVoting {
				d.Form.Refuse("budgeting.ballot.closed", nil)
			} else {
				d.Form.Refuse("budgeting.ballot.already_voted", nil)
			}
		}
		if d.Form.Valid() && !p.refuse(d.Form, castErr, "budgeting.ballot") {
			return sdk.PageMeta{}, castErr
		}
	}
	return sdk.PageMeta{}, p.invalid(w, r, v, "ballot", d, p.ballotMeta(v, d.Cycle, v.T("budgeting.ballot.title")))
}

type castData struct {
	Cycle    *Cycle
	Token    string
	Replaced bool
}

// ballotCast confirms a cast ballot.
func (p *Plugin) ballotCast(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.svc.Cycle(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := p.ballotMeta(v, c, v.T("budgeting.cast.title"))
	meta.Announce = v.T("budgeting.cast.done")
	return sdk.PageMeta{}, p.render(w, r, v, "ballot-cast", castData{Cycle: c}, meta)
}

// choiceField is the form field of a project's points (cumulative) or rank (ordinal);
// "" for approval ballots, whose projects are checkboxes named "projects".
func choiceField(c *Cycle, id string) string {
	switch c.Ballot.Type {
	case BallotCumulative:
		return "points-" + id
	case BallotOrdinal:
		return "rank-" + id
	}
	return ""
}

// anonymousOption is the proposal form's box that hides the author's name.
func anonymousOption(v view) []web.Option {
	return []web.Option{{Value: "1", Label: v.T("budgeting.propose.anonymous")}}
}

// Photos and documents on a proposal: its author adds them until review, the city at
// any time, from the proposal's page. The host receives the file and puts its id in
// the file field; the rest of the form says what the file shows.

// Largest files a proposal or an update takes; the host refuses larger ones.
const (
	maxPhotoBytes    = 8 << 20
	maxDocumentBytes = 10 << 20
)

// attachForm is one of the proposal page's two file forms: a photo with its text
// alternative, or a PDF document with its title. Kind, a hidden field, says which.
type attachForm struct {
	Kind  string `json:"kind" max:"16"`
	Alt   string `json:"alt" max:"300"`
	Title string `json:"title" max:"300"`
}

// attach adds the file the host received to the proposal: 303 back to its page, or
// the page again, 422, with the form's problem (a refused file, no text alternative).
func (p *Plugin) attach(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var in attachForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	input := AttachmentInput{Kind: AttachPhoto, UploadID: sdk.UploadID(r, AttachPhoto), Text: in.Alt}
	if in.Kind == AttachDocument {
		input = AttachmentInput{Kind: AttachDocument, UploadID: sdk.UploadID(r, AttachDocument), Text: in.Title}
	}
	if err := sdk.UploadError(r, input.Kind); err != nil {
		form.Catch(err, "budgeting.attach")
	}
	cycle, id := r.PathValue("id"), r.PathValue("proposalID")
	if form.Valid() {
		_, err := p.svc.AddAttachment(r.Context(), v.pr, cycle, id, input)
		if err == nil {
			web.Redirect(w, r, proposalPath(cycle, id)+"?attached=1")
			return sdk.PageMeta{}, nil
		}
		if !p.refuse(form, err, "budgeting.attach") {
			return sdk.PageMeta{}, err
		}
	}
	d, err := p.proposalData(r, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	// A file input shows no value; the id the host gave is not the person's to see.
	form.Set(AttachPhoto, "")
	form.Set(AttachDocument, "")
	if in.Kind == AttachDocument {
		d.DocumentForm = form
	} else {
		d.PhotoForm = form
	}
	return sdk.PageMeta{}, p.proposalRefused(w, r, v, d)
}

// detach takes a photo or a document off the proposal.
func (p *Plugin) detach(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	cycle, id := r.PathValue("id"), r.PathValue("proposalID")
	if _, err := p.svc.RemoveAttachment(r.Context(), v.pr, cycle, id, r.PathValue("attachmentID")); err != nil {
		d, derr := p.proposalData(r, v)
		if derr != nil || !p.refuse(d.Form, err, "budgeting.attach") {
			return sdk.PageMeta{}, err
		}
		return sdk.PageMeta{}, p.proposalRefused(w, r, v, d)
	}
	web.Redirect(w, r, proposalPath(cycle, id)+"?detached=1")
	return sdk.PageMeta{}, nil
}
