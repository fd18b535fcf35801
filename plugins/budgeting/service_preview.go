package budgeting

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// PreviewInput lists the rules to tally side by side. Empty: greedy and the Method of
// Equal Shares (add1) for approval ballots, greedy alone for the others.
type PreviewInput struct {
	Rules []TallyInput `json:"rules" max:"4" doc:"The rules to compare, each as in POST /tally; at most 4, no rule twice. Empty: greedy and mes for approval ballots, greedy otherwise."`
}

// Preview is a private tally: what each rule would publish, the projects they
// disagree on and how satisfied the voters would be. Only officers who may publish
// see it; publishing one candidate makes it the result as it was previewed.
type Preview struct {
	CycleID    string      `json:"cycle_id"`
	Ballots    int64       `json:"ballots"`
	BallotHash string      `json:"ballot_hash"`
	Candidates []Candidate `json:"candidates"`
	// Differ lists the projects some candidates fund and others do not, in ballot order.
	Differ    []PreviewDifference `json:"differ"`
	CreatedAt time.Time           `json:"created_at"`
}

// Candidate is one rule's outcome in a preview.
type Candidate struct {
	// Rule names the candidate for POST /publish.
	Rule         string       `json:"rule"`
	Input        TallyInput   `json:"input"`
	Result       *Result      `json:"result"`
	Satisfaction Satisfaction `json:"satisfaction"`
}

// Satisfaction sums up an outcome from the voters' side (as `kvarter pb compare`).
type Satisfaction struct {
	// MeanFunded is how many funded projects the average ballot chose; MeanMoney how
	// much money (minor units) went to projects the average ballot chose.
	MeanFunded float64 `json:"mean_funded"`
	MeanMoney  int64   `json:"mean_money"`
	// Unrepresented is how many ballots chose no funded project.
	Unrepresented int64 `json:"unrepresented"`
}

// PreviewDifference is a project only some candidates fund.
type PreviewDifference struct {
	Project  string   `json:"project"`
	Title    string   `json:"title"`
	Cost     int64    `json:"cost"`
	FundedBy []string `json:"funded_by" doc:"The candidates' rules that fund it."`
}

// PublishInput names the previewed candidate to publish.
type PublishInput struct {
	Rule string `json:"rule" max:"32" enum:"greedy,greedy-no-skip,greedy-threshold,mes" doc:"The rule of a candidate in the cycle's current preview."`
}

// PreviewResults tallies a cycle's ballots by each rule asked for, keeps the outcome
// private and returns it; a new preview replaces the one before. Nothing is
// published and no one is told.
func (s *Service) PreviewResults(ctx context.Context, pr sdk.Principal, cycleID string, in PreviewInput) (*Preview, error) {
	c, err := s.cycleFor(ctx, pr, cycleID, PermResultsPublish)
	if err != nil {
		return nil, err
	}
	if c.Phase != PhaseResults {
		return nil, sdk.Errorf(sdk.CodeConflict, "results are previewed in the results phase; the cycle is in %s", c.Phase)
	}
	rules := in.Rules
	if len(rules) == 0 {
		rules = []TallyInput{{Rule: "greedy"}}
		if c.Ballot.Type == BallotApproval {
			rules = append(rules, TallyInput{Rule: "mes"})
		}
	}
	if len(rules) > 4 {
		return nil, sdk.Invalid("rules", sdk.RuleMaxLength, "at most 4 rules")
	}
	var p *Preview
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := findResult(ctx, tx, c.ID); err == nil {
			return sdk.Errorf(sdk.CodeConflict, "results for cycle %s are already published", c.ID)
		}
		e, err := loadElection(ctx, tx, c)
		if err != nil {
			return err
		}
		p = &Preview{CycleID: c.ID, Ballots: int64(len(e.Ballots)), CreatedAt: s.now(), Differ: []PreviewDifference{}}
		for i, r := range rules {
			o, err := r.options(c, e.unit)
			if err != nil {
				return withIndex(err, i)
			}
			res, err := s.count(c, e, o)
			if err != nil {
				return withIndex(err, i)
			}
			name := res.Rule
			if slices.ContainsFunc(p.Candidates, func(c Candidate) bool { return c.Rule == name }) {
				return withIndex(sdk.InvalidField("rules", fmt.Sprintf("rule %s is asked for twice", name)), i)
			}
			r.Rule = name
			p.BallotHash = res.BallotHash
			p.Candidates = append(p.Candidates, Candidate{Rule: name, Input: r, Result: res, Satisfaction: satisfaction(e, res)})
		}
		for _, rp := range p.Candidates[0].Result.Projects {
			var by []string
			for _, cand := range p.Candidates {
				if slices.Contains(cand.Result.Winners, rp.ID) {
					by = append(by, cand.Rule)
				}
			}
			if len(by) > 0 && len(by) < len(p.Candidates) {
				p.Differ = append(p.Differ, PreviewDifference{Project: rp.ID, Title: rp.Title, Cost: rp.Cost, FundedBy: by})
			}
		}
		body, _ := json.Marshal(p)
		return savePreview(ctx, tx, c.ID, body, p.CreatedAt)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.results.preview", c.nbh(), c.ID, map[string]any{"ballot_hash": p.BallotHash, "candidates": len(p.Candidates)})
	return p, nil
}

// withIndex names the rule of a preview an error is about.
func withIndex(err error, i int) error {
	if e, ok := err.(*sdk.Error); ok && e.Fields != nil {
		e.Message = fmt.Sprintf("rules %d: %s", i, e.Message)
		e.Fields["index"] = fmt.Sprint(i)
	}
	return err
}

// ResultsPreview returns a cycle's current private preview, to officers who may
// publish.
func (s *Service) ResultsPreview(ctx context.Context, pr sdk.Principal, cycleID string) (*Preview, error) {
	c, err := s.cycleFor(ctx, pr, cycleID, PermResultsPublish)
	if err != nil {
		return nil, err
	}
	var p Preview
	ok, err := findPreview(ctx, s.db, c.ID, &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sdk.Errorf(sdk.CodeNotFound, "cycle %s has no preview; tally one first", c.ID)
	}
	return &p, nil
}

// Publish makes one candidate of the cycle's preview its published result, exactly as
// it was previewed (with the explanations computed then): winners become planned
// projects, followers hear of it and the preview is gone.
func (s *Service) Publish(ctx context.Context, pr sdk.Principal, cycleID string, in PublishInput) (*Result, error) {
	c, err := s.cycleFor(ctx, pr, cycleID, PermResultsPublish)
	if err != nil {
		return nil, err
	}
	if c.Phase != PhaseResults {
		return nil, sdk.Errorf(sdk.CodeConflict, "results are published in the results phase; the cycle is in %s", c.Phase)
	}
	var res *Result
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var p Preview
		ok, err := findPreview(ctx, tx, c.ID, &p)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := findResult(ctx, tx, c.ID); err == nil {
				return sdk.Errorf(sdk.CodeConflict, "results for cycle %s are already published", c.ID)
			}
			return sdk.Errorf(sdk.CodeConflict, "there is no preview to publish; tally one first")
		}
		i := slices.IndexFunc(p.Candidates, func(c Candidate) bool { return c.Rule == in.Rule })
		if i < 0 {
			names := make([]string, len(p.Candidates))
			for j, cand := range p.Candidates {
				names[j] = cand.Rule
			}
			return sdk.Invalid("rule", sdk.RuleOneOf, fmt.Sprintf("must be a previewed rule: %v", names))
		}
		res = p.Candidates[i].Result
		res.PublishedAt = s.now()
		return s.publishTx(ctx, tx, c, res, pr)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.results.publish", c.nbh(), c.ID, map[string]any{"rule": res.Rule, "ballot_hash": res.BallotHash})
	return res, nil
}

// satisfaction measures res from the ballots' side.
func satisfaction(e *election, res *Result) Satisfaction {
	won := make(map[string]int64, len(res.Winners))
	for _, rp := range res.Projects {
		if rp.Selected {
			won[rp.ID] = rp.Cost
		}
	}
	var s Satisfaction
	var funded, money float64
	for _, b := range e.Ballots {
		k := 0
		for _, id := range b.Projects {
			if cost, ok := won[id]; ok {
				k++
				money += float64(cost)
			}
		}
		funded += float64(k)
		if k == 0 {
			s.Unrepresented++
		}
	}
	if n := float64(len(e.Ballots)); n > 0 {
		s.MeanFunded, s.MeanMoney = funded/n, int64(money/n)
	}
	return s
}
