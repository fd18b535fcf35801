package budgeting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// TallyInput selects the rule, as the `pb tally` flags do. Empty fields take defaults:
// MES with add1 for approval ballots, greedy otherwise.
type TallyInput struct {
	Rule             string `json:"rule" max:"32" enum:"greedy,greedy-no-skip,greedy-threshold,mes" doc:"Empty: mes for approval ballots, greedy otherwise."`
	Completion       string `json:"completion" max:"32" enum:",none,add1,add1u" doc:"mes only; empty means add1."`
	NoExhaustiveStop bool   `json:"no_exhaustive_stop"`
	// TieBreak is a chain such as "min-cost,max-votes"; absent means that default, ""
	// means no chain.
	TieBreak *string `json:"tie_break" max:"200" doc:"A chain such as min-cost,max-votes; absent means that chain, empty none." example:"min-cost,max-votes"`
	// Increment is add1's step per voter in minor units; 0 means one whole currency
	// unit (equalshares.net's default).
	Increment int64 `json:"increment" min:"0"`
	// Threshold is greedy-threshold's minimum number of votes (or points).
	Threshold int64 `json:"threshold" min:"0"`
}

// Result is a published outcome: enough to explain it and for anyone to recompute it
// from the exported ballots. Amounts are in minor units of Currency.
type Result struct {
	CycleID        string   `json:"cycle_id"`
	Rule           string   `json:"rule" enum:"greedy,greedy-no-skip,greedy-threshold,mes"`
	Completion     string   `json:"completion" enum:",none,add1,add1u"`
	TieBreak       []string `json:"tie_break"`
	Increment      int64    `json:"increment"`
	ExhaustiveStop bool     `json:"exhaustive_stop"`
	// Integral says add1 started from a whole unit per voter (the cycle's
	// mes_integral).
	Integral  bool  `json:"integral"`
	Threshold int64 `json:"threshold"`
	// Unit is how many minor units the tally counted as one. Costs are tallied in
	// whole currency units when they all are whole, as Pabulib files and
	// equalshares.net do, so the published hash and an exported file agree.
	Unit int64 `json:"unit"`
	// BallotHash is tally.HashBallots of the ballots in Unit; re-compute it from
	// export.pb with the tally package.
	BallotHash   string `json:"ballot_hash"`
	Ballots      int64  `json:"ballots"`
	PaperBallots int64  `json:"paper_ballots"`
	Currency     string `json:"currency"`
	Budget       int64  `json:"budget"`
	Cost         int64  `json:"cost"`
	Leftover     int64  `json:"leftover"`
	// Endowment is MES's final per-voter endowment in minor units (null for greedy
	// rules); EndowmentExact the same as an exact fraction.
	Endowment      *float64        `json:"endowment"`
	EndowmentExact string          `json:"endowment_exact"`
	Winners        []string        `json:"winners"`
	Projects       []ResultProject `json:"projects"`
	Ties           []tally.Tie     `json:"ties"`
	// Purchases says, for each project MES bought, what its supporters paid;
	// Shortfalls what the supporters of each project it did not buy had left
	// (both in minor units); Completed the winners add1u's completion added.
	Purchases  []tally.Purchase  `json:"purchases,omitempty"`
	Shortfalls []tally.Shortfall `json:"shortfalls,omitempty"`
	Completed  []string          `json:"completed,omitempty"`
	// Explanations say for every project on the ballot, in its order, why it was or
	// was not funded; computed once when the tally ran.
	Explanations []ProjectExplanation `json:"explanations"`
	Explanation  string               `json:"explanation"`
	Summary      string               `json:"summary"`
	PublishedAt  time.Time            `json:"published_at"`
}

// ResultProject is one project on the ballot with its count.
type ResultProject struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Cost  int64  `json:"cost"`
	Votes int64  `json:"votes"`
	Score int64  `json:"score"`
	// Rank is the 1-based selection order of a winner, 0 for the others.
	Rank     int  `json:"rank"`
	Selected bool `json:"selected"`
}

// options turns a request into tally options for a cycle tallied in unit.
func (in TallyInput) options(c *Cycle, unit int64) (tally.Options, error) {
	var o tally.Options
	switch in.Rule {
	case "":
		o.Rule = tally.Greedy
		if c.Ballot.Type == BallotApproval {
			o.Rule, o.Completion = tally.MES, tally.CompletionAdd1
		}
	case string(tally.Greedy), string(tally.GreedyNoSkip), string(tally.GreedyThreshold):
		o.Rule = tally.Rule(in.Rule)
	case string(tally.MES):
		o.Rule, o.Completion = tally.MES, tally.CompletionAdd1
	default:
		return o, sdk.Invalid("rule", sdk.RuleOneOf, "must be greedy, greedy-no-skip, greedy-threshold or mes")
	}
	if o.Rule == tally.MES && c.Ballot.Type != BallotApproval {
		return o, sdk.InvalidField("rule", fmt.Sprintf("the Method of Equal Shares needs approval ballots; this cycle has %s ballots", c.Ballot.Type))
	}
	if in.Completion != "" {
		if o.Rule != tally.MES {
			return o, sdk.InvalidField("completion", "applies to rule mes only")
		}
		switch cp := tally.Completion(in.Completion); cp {
		case tally.CompletionNone, tally.CompletionAdd1, tally.CompletionAdd1U:
			o.Completion = cp
		default:
			return o, sdk.Invalid("completion", sdk.RuleOneOf, "must be none, add1 or add1u")
		}
	}
	if (in.NoExhaustiveStop || in.Increment != 0) && o.Rule != tally.MES {
		return o, sdk.InvalidField("increment", "no_exhaustive_stop and increment apply to rule mes only")
	}
	o.NoExhaustiveStop = in.NoExhaustiveStop
	o.NoIntegral = !c.MESIntegral
	o.Borda = c.Ballot.Type == BallotOrdinal && c.Ballot.Count == CountBorda
	// Whole currency units, whatever unit the tally counts in (minor units
	// when some cost has cents): integral endowments and the default step are
	// whole euros, as on equalshares.net.
	o.WholeUnit = minorPerMajor(c.Currency) / unit
	o.Increment = o.WholeUnit
	if in.Increment != 0 {
		if in.Increment < 0 || in.Increment%unit != 0 {
			return o, sdk.InvalidField("increment", fmt.Sprintf("must be a positive multiple of %d minor units", unit))
		}
		o.Increment = in.Increment / unit
	}
	if in.Threshold != 0 && o.Rule != tally.GreedyThreshold {
		return o, sdk.InvalidField("threshold", "applies to rule greedy-threshold only")
	}
	o.Threshold = in.Threshold
	if in.TieBreak != nil {
		chain, err := tally.ParseTieBreak(*in.TieBreak)
		if err != nil {
			return o, sdk.InvalidField("tie_break", err.Error())
		}
		o.TieBreak = chain
	}
	return o, nil
}

// election is a cycle's ballot as the tally package sees it.
type election struct {
	tally.Election
	unit      int64
	proposals []*Proposal
	paper     []bool
	imported  []bool
}

// loadElection reads the projects on the ballot (in submission order, which the tally
// uses as its last, deterministic fallback) and every ballot (in random-ID order).
func loadElection(ctx context.Context, db q, c *Cycle) (*election, error) {
	_, ps, err := onBallot(ctx, db, c.ID)
	if err != nil {
		return nil, err
	}
	rows, err := listBallots(ctx, db, c.ID)
	if err != nil {
		return nil, err
	}
	unit := minorPerMajor(c.Currency)
	if c.Budget%unit != 0 {
		unit = 1
	}
	for _, p := range ps {
		if p.FinalCost%unit != 0 {
			unit = 1
		}
	}
	e := &election{unit: unit, proposals: ps}
	e.Budget = c.Budget / unit
	switch c.Ballot.Type {
	case BallotCumulative:
		e.Kind = tally.Cumulative
	case BallotOrdinal:
		e.Kind = tally.Ordinal
	default:
		e.Kind = tally.Approval
	}
	for _, p := range ps {
		e.Projects = append(e.Projects, tally.Project{ID: p.ID, Cost: p.FinalCost / unit})
	}
	e.Ballots = make([]tally.Ballot, len(rows))
	for i, r := range rows {
		var b Ballot
		if err := json.Unmarshal([]byte(r.Content), &b); err != nil {
			return nil, fmt.Errorf("ballot %s: %w", r.ID, err)
		}
		tb := tally.Ballot{Projects: b.Projects}
		if e.Kind == tally.Cumulative {
			ids := make([]string, 0, len(b.Points))
			for id := range b.Points {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			tb.Projects, tb.Points = ids, make([]int64, len(ids))
			for j, id := range ids {
				tb.Points[j] = b.Points[id]
			}
		}
		e.Ballots[i] = tb
		e.paper = append(e.paper, r.Paper)
		e.imported = append(e.imported, r.Imported)
	}
	return e, nil
}

// Tally counts a cycle's ballots by the chosen rule and publishes the result, once.
// Winners become planned projects.
func (s *Service) Tally(ctx context.Context, pr sdk.Principal, cycleID string, in TallyInput) (*Result, error) {
	c, err := s.cycleFor(ctx, pr, cycleID, PermResultsPublish)
	if err != nil {
		return nil, err
	}
	if c.Phase != PhaseResults {
		return nil, sdk.Errorf(sdk.CodeConflict, "results are tallied in the results phase; the cycle is in %s", c.Phase)
	}
	var res *Result
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		e, err := loadElection(ctx, tx, c)
		if err != nil {
			return err
		}
		o, err := in.options(c, e.unit)
		if err != nil {
			return err
		}
		if res, err = s.count(c, e, o); err != nil {
			return err
		}
		return s.publishTx(ctx, tx, c, res, pr)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.results.publish", c.nbh(), c.ID, map[string]any{"rule": res.Rule, "ballot_hash": res.BallotHash})
	return res, nil
}

// publishTx publishes res in tx, once: its winners become planned projects, followers
// hear of it, the event goes out and any preview is dropped.
func (s *Service) publishTx(ctx context.Context, tx *store.Tx, c *Cycle, res *Result, pr sdk.Principal) error {
	body, _ := json.Marshal(res)
	ok, err := insertResult(ctx, tx, c.ID, body, res.PublishedAt)
	if err != nil {
		return err
	}
	if !ok {
		return sdk.Errorf(sdk.CodeConflict, "results for cycle %s are already published", c.ID)
	}
	if err := planWinners(ctx, tx, res.Winners, res.PublishedAt); err != nil {
		return err
	}
	if err := deletePreview(ctx, tx, c.ID); err != nil {
		return err
	}
	if err := s.notifyResults(ctx, tx, c, len(res.Winners), pr.UserID); err != nil {
		return err
	}
	return tx.Emit(EventResultsPublished, ResultsPublished{
		CycleID: c.ID, NeighbourhoodID: c.NeighbourhoodID, Winners: res.Winners, BallotHash: res.BallotHash,
	})
}

// count runs the tally and renders its outcome in minor units.
func (s *Service) count(c *Cycle, e *election, o tally.Options) (*Result, error) {
	tr, err := tally.Tally(e.Election, o)
	if err != nil {
		if errors.Is(err, tally.ErrInvalid) {
			return nil, sdk.InvalidField("rule", err.Error())
		}
		return nil, fmt.Errorf("tally cycle %s: %w", c.ID, err)
	}
	u := e.unit
	res := &Result{
		CycleID: c.ID, Rule: string(tr.Rule), Completion: string(tr.Completion),
		Increment: tr.Increment * u, ExhaustiveStop: tr.ExhaustiveStop, Integral: tr.Integral, Threshold: tr.Threshold,
		Unit: u, BallotHash: tally.HashBallots(e.Election), Ballots: int64(len(e.Ballots)),
		Currency: c.Currency, Budget: tr.Budget * u, Cost: tr.Cost * u, Leftover: tr.Leftover * u,
		Winners: append([]string{}, tr.Winners...), Ties: append([]tally.Tie{}, tr.Ties...),
		Explanation: tally.Explain(o), PublishedAt: s.now(),
	}
	if tr.Rule != tally.MES {
		res.Completion, res.Increment, res.ExhaustiveStop, res.Integral = "", 0, false, false
	}
	for _, k := range tr.TieBreak {
		res.TieBreak = append(res.TieBreak, string(k))
	}
	if res.TieBreak == nil {
		res.TieBreak = []string{}
	}
	for i := range res.Ties {
		res.Ties[i].Endowment *= float64(u)
	}
	ur := new(big.Rat).SetInt64(u)
	for _, p := range tr.Purchases {
		exact, _ := new(big.Rat).SetString(p.PriceExact)
		exact.Mul(exact, ur)
		p.Price, _ = exact.Float64()
		p.PriceExact = exact.RatString()
		res.Purchases = append(res.Purchases, p)
	}
	for _, s := range tr.Shortfalls {
		s.Cost *= u
		s.Money *= float64(u)
		res.Shortfalls = append(res.Shortfalls, s)
	}
	res.Completed = tr.Completed
	for _, p := range e.paper {
		if p {
			res.PaperBallots++
		}
	}
	if tr.Endowment != nil {
		exact := new(big.Rat).Mul(tr.Endowment, new(big.Rat).SetInt64(u))
		f, _ := exact.Float64()
		res.Endowment, res.EndowmentExact = &f, exact.RatString()
	}
	rank := map[string]int{}
	for i, id := range tr.Winners {
		rank[id] = i + 1
	}
	for _, p := range e.proposals {
		res.Projects = append(res.Projects, ResultProject{
			ID: p.ID, Title: p.Title, Cost: p.FinalCost, Votes: tr.Votes[p.ID], Score: tr.Scores[p.ID],
			Rank: rank[p.ID], Selected: rank[p.ID] > 0,
		})
	}
	if res.Projects == nil {
		res.Projects = []ResultProject{}
	}
	res.Explanations = explain(e, tr, u)
	res.Summary = summary(res)
	return res, nil
}

// summary says in plain words what happened.
func summary(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d ballot(s) were counted", r.Ballots)
	if r.PaperBallots > 0 {
		fmt.Fprintf(&b, ", %d of them on paper", r.PaperBallots)
	}
	fmt.Fprintf(&b, ". %d of %d project(s) are funded, costing %s of the %s budget; %s is left over.",
		len(r.Winners), len(r.Projects), money(r.Cost, r.Currency), money(r.Budget, r.Currency), money(r.Leftover, r.Currency))
	decisive := 0
	for _, t := range r.Ties {
		if t.Decisive {
			decisive++
		}
	}
	if decisive > 0 {
		fmt.Fprintf(&b, " %d tie(s) could not be broken by the rules and decided the outcome; they are listed so the city can settle them openly.", decisive)
	}
	return b.String()
}

// Results returns a cycle's published result, explanations included. A published
// result never changes, so the first read on a node is kept and every later one (a
// results page, the JSON route) is a map lookup: nothing is decoded, let alone
// recomputed. The result is shared: callers must not modify it.
func (s *Service) Results(ctx context.Context, cycleID string) (*Result, error) {
	if r, ok := s.published.Load(cycleID); ok {
		return r.(*Result), nil
	}
	if _, err := findCycle(ctx, s.db, cycleID); err != nil {
		return nil, err
	}
	r, err := findResult(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	s.published.Store(cycleID, r)
	return r, nil
}

// pabulibRule names a result's rule the way Pabulib META does.
func pabulibRule(r *Result) string {
	switch r.Rule {
	case string(tally.MES):
		if r.Completion == string(tally.CompletionNone) {
			return "equalshares"
		}
		return "equalshares/" + r.Completion
	}
	return r.Rule
}

// Export writes a finished cycle's anonymised ballots as a Pabulib file. Voter IDs are
// 1..n over the ballots in random-ID order, so they carry nothing; amounts are in the
// result's unit, so `pb tally` on the file reproduces the published result and
// tally.HashBallots of it equals the published ballot hash.
func (s *Service) Export(ctx context.Context, cycleID string, w io.Writer) error {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return err
	}
	res, err := findResult(ctx, s.db, cycleID)
	if err != nil {
		return sdk.Errorf(sdk.CodeConflict, "ballots are exported once results are published")
	}
	e, err := loadElection(ctx, s.db, c)
	if err != nil {
		return err
	}
	if e.unit != res.Unit {
		return fmt.Errorf("export %s: unit %d differs from the result's %d", c.ID, e.unit, res.Unit)
	}
	in := &pabulib.Instance{
		Meta:     map[string]string{},
		Budget:   e.Budget,
		VoteType: string(e.Kind),
		Rule:     pabulibRule(res),
	}
	// META keys in the order Pabulib's checker expects them; only Pabulib's own keys.
	meta := func(k, v string) {
		in.Meta[k] = v
		in.MetaKeys = append(in.MetaKeys, k)
	}
	zone := s.zone
	if zone == nil {
		zone = time.UTC
	}
	begin, end := c.CreatedAt, res.PublishedAt
	if c.VotingBegan != nil {
		begin = *c.VotingBegan
	}
	if c.VotingEnded != nil {
		end = *c.VotingEnded
	}
	begin, end = begin.In(zone), end.In(zone)
	country := c.Country
	if country == "" {
		country = "Worldwide" // the checker's word for a place it cannot name
	}
	unit := c.NeighbourhoodID
	if nbhs, err := s.host.Neighbourhoods(ctx, []string{c.NeighbourhoodID}); err == nil && len(nbhs) == 1 && nbhs[0].Name != "" {
		unit = nbhs[0].Name
	}
	meta("description", "Kvarter participatory budget "+c.Name+" (anonymised ballots)")
	meta("country", country)
	meta("unit", unit)
	meta("instance", strconv.Itoa(begin.Year()))
	meta("num_projects", strconv.Itoa(len(e.Projects)))
	meta("num_votes", strconv.Itoa(len(e.Ballots)))
	meta("budget", strconv.FormatInt(e.Budget, 10))
	meta("vote_type", in.VoteType)
	meta("rule", in.Rule)
	meta("date_begin", begin.Format("02.01.2006"))
	meta("date_end", end.Format("02.01.2006"))
	// The ballot's limits, where every ballot was checked against them (imported
	// ones were not: a simulation cycle's rules are its defaults).
	rules := c.Ballot
	if !c.Simulation {
		if rules.Type != BallotCumulative && rules.Min > 1 {
			meta("min_length", strconv.Itoa(rules.Min))
		}
		if rules.Type != BallotCumulative && rules.Max > 0 {
			meta("max_length", strconv.Itoa(rules.Max))
		}
		if rules.MaxCost > 0 {
			meta("max_sum_cost", strconv.FormatInt(rules.MaxCost/e.unit, 10))
		}
	}
	if e.Kind == tally.Cumulative {
		if rules.MaxPerProject > 0 && !c.Simulation {
			meta("max_points", strconv.FormatInt(rules.MaxPerProject, 10))
		}
		most := rules.Points
		if c.Simulation { // the most any imported ballot gave
			most = 0
			for _, b := range e.Ballots {
				var sum int64
				for _, p := range b.Points {
					sum += p
				}
				most = max(most, sum)
			}
		}
		meta("max_sum_points", strconv.FormatInt(most, 10))
	}
	if res.Rule == string(tally.GreedyThreshold) {
		t := res.Threshold
		in.MinProjectScoreThreshold = &t
		meta("min_project_score_threshold", strconv.FormatInt(t, 10))
	}
	meta("currency", c.Currency)
	var all int64
	for _, p := range e.Projects {
		all += p.Cost
	}
	if all <= e.Budget {
		meta("fully_funded", "1")
	}
	// What Pabulib has no key for goes in comment, the format's free text.
	opts := []string{"tie_break=" + strings.Join(res.TieBreak, ",")}
	if res.Rule == string(tally.MES) {
		opts = append(opts, "increment="+strconv.FormatInt(res.Increment/e.unit, 10),
			"exhaustive_stop="+strconv.FormatBool(res.ExhaustiveStop), "integral="+strconv.FormatBool(res.Integral))
	}
	if e.Kind == tally.Ordinal {
		opts = append(opts, "borda="+strconv.FormatBool(c.Ballot.Count == CountBorda))
	}
	if e.unit == 1 && minorPerMajor(c.Currency) != 1 {
		opts = append(opts, "amounts=minor")
	}
	meta("comment", "#1: "+pabulib.KvarterOptionsLabel+" "+strings.Join(opts, " "))

	// score holds what Pabulib defines: the points given (cumulative) or, for a
	// ranking of k projects, k for the first down to 1 for the last (ordinal).
	// Approval files have votes only.
	in.ProjectColumns = []string{"project_id", "cost", "votes", "name", "category", "selected"}
	var borda map[string]int64
	switch e.Kind {
	case tally.Cumulative:
		in.ProjectColumns = []string{"project_id", "cost", "votes", "score", "name", "category", "selected"}
	case tally.Ordinal:
		in.ProjectColumns = []string{"project_id", "cost", "votes", "score", "name", "category", "selected"}
		borda = map[string]int64{}
		for _, b := range e.Ballots {
			for j, id := range b.Projects {
				borda[id] += int64(len(b.Projects) - j)
			}
		}
	}
	category := make(map[string]string, len(e.proposals))
	for _, p := range e.proposals {
		category[p.ID] = strings.ReplaceAll(p.Category, ",", " ")
	}
	for _, rp := range res.Projects {
		v, sc := rp.Votes, rp.Score
		if borda != nil {
			sc = borda[rp.ID]
		}
		sel := pabulib.SelectedNo
		if rp.Selected {
			sel = pabulib.SelectedYes
		}
		in.Projects = append(in.Projects, pabulib.Project{ID: rp.ID, Cost: rp.Cost / e.unit, Votes: &v, Score: &sc, Name: rp.Title, Selected: sel,
			Extra: map[string]string{"category": category[rp.ID]}})
	}
	// voting_method is internet or paper; imported ballots came from a file that may
	// not have said, so a simulation's export leaves the column out.
	imported := slices.Contains(e.imported, true)
	in.VoteColumns = []string{"voter_id", "vote"}
	if e.Kind == tally.Cumulative {
		in.VoteColumns = append(in.VoteColumns, "points")
	}
	if !imported {
		in.VoteColumns = append(in.VoteColumns, "voting_method")
	}
	for i, b := range e.Ballots {
		v := pabulib.Vote{VoterID: strconv.Itoa(i + 1), Projects: b.Projects, Points: b.Points}
		if !imported {
			method := "internet"
			if e.paper[i] {
				method = "paper"
			}
			v.Extra = []string{method}
		}
		in.Votes = append(in.Votes, v)
	}
	return pabulib.Write(w, in)
}
