package budgeting

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// Pages anyone may open: the cycles, a cycle with its proposals, a proposal with its
// review and progress, the results with the reasons behind them, and the card on the
// neighbourhood page.

// phaseStep is one phase of a cycle as the cycle page lists it.
type phaseStep struct {
	Phase   Phase
	Start   *time.Time
	Current bool
	Past    bool
}

// steps are c's phases in order, each with its scheduled start, if any.
func steps(c *Cycle) []phaseStep {
	cur := c.Phase.index()
	var out []phaseStep
	for i, ph := range Phases {
		st := phaseStep{Phase: ph, Current: i == cur, Past: i < cur}
		if at, ok := c.Schedule[ph]; ok {
			at := at
			st.Start = &at
		}
		if ph == PhaseSupport && st.Start == nil && !st.Current && !st.Past {
			continue // the support phase is optional: shown when scheduled or reached
		}
		out = append(out, st)
	}
	return out
}

type cyclesData struct {
	Cycles []*Cycle
	Next   string
	Staff  bool
}

func (p *Plugin) cyclesPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	q, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	page, err := p.svc.Cycles(r.Context(), CycleFilter{NeighbourhoodID: r.URL.Query().Get("neighbourhood")}, q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := cyclesData{Cycles: page.Items, Next: web.CursorURL(r.URL, page.NextCursor), Staff: staffAnywhere(v.pr)}
	return sdk.PageMeta{}, p.render(w, r, v, "cycles", d, sdk.PageMeta{Title: v.T("budgeting.cycles.title"), NavActive: NavBudgeting})
}

// cycleData is a cycle's page.
type cycleData struct {
	Cycle *Cycle
	// Neighbourhood is the name of the cycle's neighbourhood, "" when the host could
	// not say (the page is drawn without it rather than not at all).
	Neighbourhood string
	Steps         []phaseStep
	Proposals     []*Proposal
	Turnout       *Turnout
	// What the viewer may do now.
	CanPropose, CanSupport, CanVote, Staff, HasResults bool
	SignedIn, Voted                                    bool
}

func (p *Plugin) cyclePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	ctx := r.Context()
	c, err := p.svc.Cycle(ctx, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	ps, err := listProposals(ctx, p.svc.db, c.ID, "")
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := cycleData{Cycle: c, Steps: steps(c), Proposals: ps, SignedIn: v.pr.Authenticated()}
	if nbhs, err := p.svc.host.Neighbourhoods(ctx, []string{c.NeighbourhoodID}); err == nil && len(nbhs) == 1 {
		d.Neighbourhood = nbhs[0].Name
	}
	if v.pr.Authenticated() {
		// What this person may do now, as the service decides it for the routes.
		part, err := p.svc.Participation(ctx, v.pr, c.ID)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		d.CanPropose, d.CanSupport, d.CanVote, d.Voted = part.CanPropose, part.CanSupport, part.CanVote && !part.Voted, part.Voted
		d.Staff = p.svc.can(ctx, v.pr, PermCycleManage, c.nbh()) == nil
	}
	if c.Phase == PhaseVoting || c.Phase.index() > PhaseVoting.index() {
		if d.Turnout, err = p.svc.Turnout(ctx, c.ID); err != nil {
			return sdk.PageMeta{}, err
		}
	}
	if c.Phase.index() >= PhaseResults.index() {
		_, err := findResult(ctx, p.svc.db, c.ID)
		d.HasResults = err == nil
	}
	return sdk.PageMeta{}, p.render(w, r, v, "cycle", d, v.meta(c.Name))
}

// proposalData is a proposal's page.
type proposalData struct {
	Cycle      *Cycle
	Proposal   *Proposal
	Author     string
	MergedInto *Proposal
	CanEdit    bool
	CanSupport bool
	CanUpdate  bool
	// CanAttach offers the forms that add a photo or a document, and remove one.
	CanAttach    bool
	PhotoForm    *web.Form
	DocumentForm *web.Form
	// Photos and Documents are the proposal's own files, by kind.
	Photos    []Attachment
	Documents []Attachment
	Form      *web.Form
	Supported bool
	// Flash is the message of the change just made (a file added or removed, an
	// update posted), from the redirect's query.
	Flash string
	// ImplOptions are the statuses of a project's progress, for its update form.
	ImplOptions []web.Option
}

func (p *Plugin) proposalPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	d, err := p.proposalData(r, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	q := r.URL.Query()
	d.Supported = q.Get("supported") == "1"
	meta := v.proposalMeta(d)
	if d.Supported {
		meta.Announce = v.T("budgeting.proposal.supported")
	}
	for _, done := range []string{"sent", "edited", "attached", "detached", "updated"} {
		if q.Get(done) == "1" {
			d.Flash = v.T("budgeting.proposal.flash." + done)
			meta.Announce = d.Flash
		}
	}
	return sdk.PageMeta{}, p.render(w, r, v, "proposal", d, meta)
}

// proposalMeta is a proposal page's metadata, under its cycle.
func (v view) proposalMeta(d *proposalData) sdk.PageMeta {
	return v.meta(d.Proposal.Title, sdk.Crumb{Label: d.Cycle.Name, Href: cyclePath(d.Cycle.ID)})
}

// proposalRefused answers a refused form of the proposal page (support, a file, a
// report on the project): the page again, 422, its error summary focused.
func (p *Plugin) proposalRefused(w http.ResponseWriter, r *http.Request, v view, d *proposalData) error {
	return p.invalid(w, r, v, "proposal", d, v.proposalMeta(d))
}

func (p *Plugin) proposalData(r *http.Request, v view) (*proposalData, error) {
	ctx := r.Context()
	c, err := p.svc.Cycle(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	pr, err := p.svc.Proposal(ctx, c.ID, r.PathValue("proposalID"))
	if err != nil {
		return nil, err
	}
	d := &proposalData{Cycle: c, Proposal: pr, Form: web.NewForm(nil),
		PhotoForm: web.NewForm(url.Values{"kind": {AttachPhoto}}), DocumentForm: web.NewForm(url.Values{"kind": {AttachDocument}})}
	for _, a := range pr.Attachments {
		if a.Kind == AttachPhoto {
			d.Photos = append(d.Photos, a)
		} else {
			d.Documents = append(d.Documents, a)
		}
	}
	d.CanAttach = p.svc.mayAttach(ctx, v.pr, c, pr) == nil
	if pr.AuthorID != "" && (!pr.Anonymous || pr.AuthorID == v.pr.UserID) {
		if us, err := p.svc.host.Users(ctx, []string{pr.AuthorID}); err == nil && len(us) == 1 {
			d.Author = us[0].DisplayName
		}
	}
	if pr.MergedInto != "" {
		d.MergedInto, _ = p.svc.Proposal(ctx, c.ID, pr.MergedInto)
	}
	d.CanEdit = v.pr.Authenticated() && v.pr.UserID == pr.AuthorID && c.Phase == PhaseIdeas
	d.CanSupport = c.Phase == PhaseSupport && v.pr.Authenticated() && slices.Contains(v.pr.Neighbourhoods, c.NeighbourhoodID)
	d.CanUpdate = pr.Implementation != "" && p.svc.can(ctx, v.pr, PermProjectUpdate, c.nbh()) == nil
	if d.CanUpdate {
		d.Form.Set("status", pr.Implementation)
		for _, st := range []string{ImplPlanned, ImplInProgress, ImplDone} {
			d.ImplOptions = append(d.ImplOptions, web.Option{Value: st, Label: v.T("budgeting.impl." + st)})
		}
	}
	return d, nil
}

// resultRow is one project of the results with the reason it was or was not funded,
// as the tally worked it out when it counted (Result.Explanations): a page view reads
// the reasons, never recounts.
type resultRow struct {
	ResultProject
	How string // equal_shares, completion, greedy or not_funded
	// Left is what the supporters of a project MES did not buy still held together;
	// SpentOn where the rest of their shares went.
	Left    int64
	SpentOn []spentRow
}

type spentRow struct {
	Title  string
	Amount int64
}

type resultsData struct {
	Cycle    *Cycle
	Result   *Result
	Winners  []resultRow
	Losers   []resultRow
	MES      bool
	Endowed  int64
	Download string
}

func (p *Plugin) resultsPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	ctx := r.Context()
	c, err := p.svc.Cycle(ctx, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.meta(v.T("budgeting.results.title", "Cycle", c.Name), sdk.Crumb{Label: c.Name, Href: cyclePath(c.ID)})
	body, err := p.resultsBody(ctx, c, v.loc.Lang())
	if err != nil {
		return sdk.PageMeta{}, err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, err = w.Write(body)
	}
	return meta, err
}

// resultsBody is the content of c's results page in lang: kept, or drawn from the
// published result and kept.
func (p *Plugin) resultsBody(ctx context.Context, c *Cycle, lang string) ([]byte, error) {
	key := c.ID + "\x00" + lang
	if body, ok := p.published.get(key); ok {
		return body, nil
	}
	res, err := p.svc.Results(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := p.pages().For(lang).ExecuteTemplate(&buf, "results", resultsView(c, res)); err != nil {
		return nil, err
	}
	p.published.put(key, buf.Bytes())
	return buf.Bytes(), nil
}

// drawResults draws a just-published result's page in every language, so that no
// visitor waits for the drawing (a large city's page takes tens of milliseconds to
// draw, more on a busy machine). A failure is only logged: the page is drawn on its
// first view instead.
func (p *Plugin) drawResults(c *Cycle) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, lang := range bundle().Languages() {
		if _, err := p.resultsBody(ctx, c, lang); err != nil {
			if p.log != nil {
				p.log.Warn("budgeting: drawing a results page", "cycle", c.ID, "error", err)
			}
			return
		}
	}
}

// publishedPages keeps the results page of each cycle, once drawn, in each language. A
// published result never changes (it is published once, with the reasons the tally
// worked out), nor do the projects' titles after voting, so the page of a city's
// largest vote is drawn once and then only written out: a view reads the cycle, for
// its name and to answer 404, and nothing else.
type publishedPages struct {
	mu sync.RWMutex
	m  map[string][]byte
}

// maxPublishedPages bounds the kept pages (cycles times languages); a full store
// starts again empty.
const maxPublishedPages = 512

func (pp *publishedPages) get(key string) ([]byte, bool) {
	pp.mu.RLock()
	defer pp.mu.RUnlock()
	b, ok := pp.m[key]
	return b, ok
}

func (pp *publishedPages) put(key string, b []byte) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.m == nil || len(pp.m) >= maxPublishedPages {
		pp.m = map[string][]byte{}
	}
	pp.m[key] = b
}

// resultsView lays a result out for its page: the winners in the order they were
// chosen, then the others by votes, each with its reason.
func resultsView(c *Cycle, res *Result) resultsData {
	d := resultsData{Cycle: c, Result: res, MES: res.Rule == "mes", Download: base + "/cycles/" + c.ID + "/export.pb"}
	if res.Endowment != nil {
		d.Endowed = int64(*res.Endowment)
	}
	titles := make(map[string]string, len(res.Projects))
	for _, pj := range res.Projects {
		titles[pj.ID] = pj.Title
	}
	why := make(map[string]ProjectExplanation, len(res.Explanations))
	for _, e := range res.Explanations {
		why[e.Project] = e
	}
	for _, pj := range res.Projects {
		row := resultRow{ResultProject: pj, How: "greedy"}
		if !pj.Selected {
			row.How = "not_funded"
		}
		if e, ok := why[pj.ID]; ok {
			row.How, row.Left = e.How, e.Left
			for _, sp := range e.SpentOn {
				row.SpentOn = append(row.SpentOn, spentRow{Title: titles[sp.Project], Amount: sp.Amount})
			}
		}
		if pj.Selected {
			d.Winners = append(d.Winners, row)
		} else {
			d.Losers = append(d.Losers, row)
		}
	}
	slices.SortStableFunc(d.Winners, func(a, b resultRow) int { return a.Rank - b.Rank })
	slices.SortStableFunc(d.Losers, func(a, b resultRow) int { return int(b.Votes - a.Votes) })
	return d
}

// cardData is the card on a neighbourhood's page: its current cycles and what a
// resident can do in each now.
type cardData struct {
	Cycles []cardCycle
}

// cardCycle is one running budget on the card: its phase, until when, and the one
// thing a resident can do in it now, as a link (none while the city reviews).
type cardCycle struct {
	*Cycle
	Until       *time.Time
	ActionHref  string
	ActionLabel string
}

// cardAction is what a resident can do in c now: propose, support, vote, or read
// the results; "" while there is nothing for them to do.
func cardAction(c *Cycle) (href, labelID string) {
	switch c.Phase {
	case PhaseIdeas:
		return cyclePath(c.ID) + "/propose", "budgeting.card.action.ideas"
	case PhaseSupport:
		return cyclePath(c.ID), "budgeting.card.action.support"
	case PhaseVoting:
		return cyclePath(c.ID) + "/ballot", "budgeting.card.action.voting"
	case PhaseResults:
		return cyclePath(c.ID) + "/results", "budgeting.card.action.results"
	}
	return "", ""
}

func (p *Plugin) neighbourhoodCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.card(w, r, []string{r.PathValue("nbh")})
}

// homeCard is the card on a signed-in resident's home page: the budgets running in
// their neighbourhoods.
func (p *Plugin) homeCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.card(w, r, sdk.PrincipalFrom(r.Context()).Neighbourhoods)
}

// card lists the running (not yet implemented) budgets of the neighbourhoods.
func (p *Plugin) card(w http.ResponseWriter, r *http.Request, nbhs []string) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var d cardData
	for _, nbh := range nbhs {
		page, err := p.svc.Cycles(r.Context(), CycleFilter{NeighbourhoodID: nbh}, sdk.ListQuery{Limit: sdk.MaxLimit})
		if err != nil {
			return sdk.PageMeta{}, err
		}
		for _, c := range page.Items {
			if c.Simulation || c.Phase == PhaseImplementation {
				continue
			}
			cc := cardCycle{Cycle: c}
			if href, id := cardAction(c); href != "" {
				cc.ActionHref, cc.ActionLabel = href, v.T(id)
			}
			for _, ph := range Phases[c.Phase.index()+1:] {
				if at, ok := c.Schedule[ph]; ok {
					cc.Until = &at
					break
				}
			}
			d.Cycles = append(d.Cycles, cc)
		}
	}
	return sdk.PageMeta{}, p.render(w, r, v, "card", d, sdk.PageMeta{Title: v.T("budgeting.card.title")})
}

// staffAnywhere reports whether pr holds a role that runs budgets somewhere: the cycles
// list then offers to open one (the form's handler asks the host for the permission).
func staffAnywhere(pr sdk.Principal) bool {
	for _, roles := range pr.Roles {
		if slices.Contains(roles, RoleOfficer) || slices.Contains(roles, "city_admin") {
			return true
		}
	}
	return false
}
