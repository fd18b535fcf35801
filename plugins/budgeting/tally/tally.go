// Package tally computes participatory-budgeting outcomes: the greedy rules
// cities have long used and the Method of Equal Shares (MES) as run by
// equalshares.net and documented by Pabulib.
//
// The input is neutral (project ids and costs, ballots as lists of project
// ids with optional points) so that the budgeting plugin and the kvarter CLI
// can share it; package pabulib converts files into it.
//
// Every comparison that decides an outcome is exact: money is int64 whole
// units, MES budgets and payments are big.Rat. Floating point is used only to
// rule out candidates that are clearly worse, never to choose between close
// ones. Ties that survive the configured tie-break chain are reported in
// Result.Ties rather than resolved silently; the outcome is still
// deterministic (the tied project listed first in Election.Projects wins) so
// a results page can show both the outcome and the tie.
package tally

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"strings"
)

// Kind says how ballots are to be read.
type Kind string

// Ballot kinds, named as in Pabulib's vote_type.
const (
	Approval   Kind = "approval"   // a set of approved projects (choose-1 is a set of one)
	Cumulative Kind = "cumulative" // points distributed over projects
	Ordinal    Kind = "ordinal"    // a ranking; order matters
	Scoring    Kind = "scoring"    // a score per project, possibly negative
)

// Project is a candidate project.
type Project struct {
	ID   string
	Cost int64 // whole currency units, >= 0
}

// Ballot is one voter's ballot.
type Ballot struct {
	// Projects lists project ids; for Ordinal ballots the order is the
	// ranking, otherwise it carries no meaning.
	Projects []string
	// Points is parallel to Projects for Cumulative and Scoring ballots and
	// nil otherwise.
	Points []int64
}

// Election is the whole input of a tally.
type Election struct {
	Budget   int64
	Kind     Kind // Approval when empty
	Projects []Project
	Ballots  []Ballot
}

// Rule names a selection rule.
type Rule string

// The rules Tally implements.
const (
	Greedy          Rule = "greedy"
	GreedyNoSkip    Rule = "greedy-no-skip"
	GreedyThreshold Rule = "greedy-threshold"
	MES             Rule = "mes"
)

// Completion names how MES spends money it leaves unspent.
type Completion string

// The MES completions.
const (
	// CompletionNone returns plain MES with endowment budget/n.
	CompletionNone Completion = "none"
	// CompletionAdd1 raises the per-voter endowment by Increment while the
	// outcome stays within the budget (equalshares.net "add1").
	CompletionAdd1 Completion = "add1"
	// CompletionAdd1U is add1 followed by greedy by approval count over
	// whatever budget is still left ("add1u", utilitarian completion).
	CompletionAdd1U Completion = "add1u"
)

// TieKey is one link of a tie-break chain.
type TieKey string

// Tie-break keys. Votes are approval counts (ballots naming the project).
const (
	MinCost  TieKey = "min-cost"
	MaxCost  TieKey = "max-cost"
	MaxVotes TieKey = "max-votes"
	MinVotes TieKey = "min-votes"
	// MinID orders by project id (string order). Never in the default chain:
	// it is arbitrary, and a tie it "breaks" is still a tie a city should
	// see.
	MinID TieKey = "min-id"
)

// DefaultTieBreak is the equalshares.net convention: cheaper first, then
// more votes.
var DefaultTieBreak = []TieKey{MinCost, MaxVotes}

// ParseTieBreak reads a comma-separated chain such as "min-cost,max-votes".
// An empty string means no chain (every equal primary value is a tie).
func ParseTieBreak(s string) ([]TieKey, error) {
	if strings.TrimSpace(s) == "" {
		return []TieKey{}, nil
	}
	var keys []TieKey
	seen := map[TieKey]bool{}
	for _, part := range strings.Split(s, ",") {
		k := TieKey(strings.TrimSpace(part))
		switch k {
		case MinCost, MaxCost, MaxVotes, MinVotes, MinID:
		default:
			return nil, fmt.Errorf("unknown tie-break key %q (want min-cost, max-cost, max-votes, min-votes or min-id)", k)
		}
		if seen[k] {
			return nil, fmt.Errorf("tie-break key %q repeated", k)
		}
		seen[k] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// Options selects the rule and its parameters. The zero value of every field
// other than Rule is a sensible default.
type Options struct {
	Rule Rule
	// Completion applies to MES only; empty means CompletionNone.
	Completion Completion
	// NoExhaustiveStop turns off add1's early stop on an exhaustive outcome
	// (one where no unselected project fits the leftover). Wieliczka 2023 was
	// run this way.
	NoExhaustiveStop bool
	// Increment is add1's step in currency units per voter; 0 means 1.
	Increment int64
	// NoIntegral starts add1 at budget/n instead of floor(budget/n).
	// equalshares.net's default ("integral") starts at floor(budget/n) and
	// so only ever tries whole-unit endowments; the two can select
	// different projects (Lodz 2022 differs from its 20th winner on).
	NoIntegral bool
	// WholeUnit is how many of the election's money units make one currency
	// unit, for integral endowments (floor(budget/n) whole currency units);
	// 0 means 1. The budgeting plugin tallies in minor units when a cost has
	// cents and sets 100 for EUR then.
	WholeUnit int64
	// Workers is how many add1 endowments are run at once; 0 means one per
	// available CPU (GOMAXPROCS). The result does not depend on it.
	Workers int
	// TieBreak is the chain applied after the rule's own criterion; nil means
	// DefaultTieBreak, an empty non-nil slice means none.
	TieBreak []TieKey
	// Threshold is greedy-threshold's minimum score; projects scoring less
	// are dropped before greedy.
	Threshold int64
	// Borda scores ordinal ballots by rank, as Pabulib's score column does: a
	// ballot ranking k projects gives the first k points, the next k-1, and the
	// last 1. Without it every ranked project scores one, as an approval.
	Borda bool
}

// Tie records a decision the rule and tie-break chain could not make.
type Tie struct {
	// Phase is "greedy", "mes" (the returned MES run), "add1" (another add1
	// iteration) or "completion" (add1u's greedy pass).
	Phase string `json:"phase"`
	// Step is the 1-based selection step (MES) or rank position (greedy) at
	// which the tie arose.
	Step int `json:"step"`
	// Projects are the tied project ids, in input order.
	Projects []string `json:"projects"`
	// Chosen is the one the deterministic fallback (input order) took first.
	Chosen string `json:"chosen"`
	// Decisive is true when choosing another tied project would change the
	// result (for greedy and the returned MES run: the tied projects compete
	// for the same money, so it may; for other add1 iterations: replaying
	// with the other choice flips the loop's continue-or-stop decision).
	// A non-decisive tie is still reported so a results page can say so.
	Decisive bool `json:"decisive"`
	// Endowment is, for Phase "add1", the per-voter endowment of the first
	// add1 iteration (other than the returned one) with this tie, and Runs
	// how many iterations had it.
	Endowment float64 `json:"endowment,omitempty"`
	Runs      int     `json:"runs,omitempty"`
}

// Result is a tally's outcome.
type Result struct {
	Rule       Rule
	Completion Completion // MES only
	TieBreak   []TieKey
	// Increment and ExhaustiveStop are the add1 parameters used.
	Increment      int64
	ExhaustiveStop bool
	Integral       bool
	Threshold      int64 // greedy-threshold only

	// Winners in selection order.
	Winners  []string
	Cost     int64
	Budget   int64
	Leftover int64
	// Votes is the approval count per project; Scores the points per project
	// (equal to Votes for approval and ordinal ballots).
	Votes  map[string]int64
	Scores map[string]int64
	// Endowment is MES's final per-voter endowment, exact and as a float for
	// display; nil for greedy rules.
	Endowment      *big.Rat
	EndowmentFloat float64
	// Ties that survived the tie-break chain among projects competing for
	// the same money, decisive or not.
	Ties []Tie
	// For MES: what the supporters of each project bought paid (in the run
	// at Endowment), what the others' supporters had left when it stopped,
	// and which winners add1u's completion added after it (by votes, in the
	// money MES left).
	Purchases  []Purchase
	Shortfalls []Shortfall
	Completed  []string
}

// ErrInvalid marks input or option errors.
var ErrInvalid = errors.New("invalid tally input")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// election is the indexed form every rule works on.
type election struct {
	budget  int64
	ids     []string
	cost    []int64
	votes   []int64
	scores  []int64
	ballots [][]int32
	kind    Kind
}

func index(e Election) (*election, error) {
	if e.Budget < 0 {
		return nil, invalidf("negative budget %d", e.Budget)
	}
	kind := e.Kind
	if kind == "" {
		kind = Approval
	}
	switch kind {
	case Approval, Cumulative, Ordinal, Scoring:
	default:
		return nil, invalidf("unknown ballot kind %q", kind)
	}
	x := &election{budget: e.Budget, kind: kind}
	m := len(e.Projects)
	x.ids = make([]string, m)
	x.cost = make([]int64, m)
	x.votes = make([]int64, m)
	x.scores = make([]int64, m)
	ix := make(map[string]int32, m)
	var total int64
	for i, p := range e.Projects {
		if p.Cost < 0 {
			return nil, invalidf("project %q has negative cost", p.ID)
		}
		if total > math.MaxInt64-p.Cost {
			return nil, invalidf("the costs add up to more than %d", int64(math.MaxInt64))
		}
		total += p.Cost
		if _, dup := ix[p.ID]; dup {
			return nil, invalidf("duplicate project %q", p.ID)
		}
		ix[p.ID] = int32(i)
		x.ids[i], x.cost[i] = p.ID, p.Cost
	}
	x.ballots = make([][]int32, len(e.Ballots))
	for bi, b := range e.Ballots {
		if b.Points != nil && len(b.Points) != len(b.Projects) {
			return nil, invalidf("ballot %d has %d projects but %d points", bi+1, len(b.Projects), len(b.Points))
		}
		row := make([]int32, len(b.Projects))
		for j, id := range b.Projects {
			p, ok := ix[id]
			if !ok {
				return nil, invalidf("ballot %d names unknown project %q", bi+1, id)
			}
			for _, prev := range row[:j] {
				if prev == p {
					return nil, invalidf("ballot %d names project %q twice", bi+1, id)
				}
			}
			row[j] = p
			x.votes[p]++
			if b.Points != nil && (kind == Cumulative || kind == Scoring) {
				s, pt := x.scores[p], b.Points[j]
				if pt > 0 && s > math.MaxInt64-pt || pt < 0 && s < math.MinInt64-pt {
					return nil, invalidf("the points for project %q add up beyond int64", id)
				}
				x.scores[p] = s + pt
			} else {
				x.scores[p]++
			}
		}
		x.ballots[bi] = row
	}
	return x, nil
}

// borda replaces x's scores with Borda scores: of a ballot ranking k projects, the
// one ranked j-th (from 0) gets k-j points.
func (x *election) borda() {
	clear(x.scores)
	for _, row := range x.ballots {
		for j, p := range row {
			x.scores[p] += int64(len(row) - j)
		}
	}
}

// Tally runs the rule o.Rule on e.
func Tally(e Election, o Options) (*Result, error) {
	x, err := index(e)
	if err != nil {
		return nil, err
	}
	chain := o.TieBreak
	if chain == nil {
		chain = DefaultTieBreak
	}
	if o.Borda {
		if x.kind != Ordinal {
			return nil, invalidf("borda needs ordinal ballots, got %s", x.kind)
		}
		x.borda()
	}
	res := &Result{Rule: o.Rule, TieBreak: chain, Budget: e.Budget,
		Votes: make(map[string]int64, len(x.ids)), Scores: make(map[string]int64, len(x.ids))}
	for i, id := range x.ids {
		res.Votes[id], res.Scores[id] = x.votes[i], x.scores[i]
	}
	var winners []int32
	switch o.Rule {
	case Greedy, GreedyNoSkip, GreedyThreshold:
		eligible := make([]bool, len(x.ids))
		for i := range eligible {
			eligible[i] = o.Rule != GreedyThreshold || x.scores[i] >= o.Threshold
		}
		if o.Rule == GreedyThreshold {
			res.Threshold = o.Threshold
		}
		winners, res.Ties = greedy(x, x.scores, chain, nil, eligible, x.budget, o.Rule == GreedyNoSkip, "greedy")
	case MES:
		if x.kind != Approval {
			return nil, invalidf("mes needs approval ballots, got %s", x.kind)
		}
		comp := o.Completion
		if comp == "" {
			comp = CompletionNone
		}
		switch comp {
		case CompletionNone, CompletionAdd1, CompletionAdd1U:
		default:
			return nil, invalidf("unknown completion %q", comp)
		}
		inc := o.Increment
		if inc == 0 {
			inc = 1
		}
		if inc < 0 {
			return nil, invalidf("increment must be positive, got %d", inc)
		}
		res.Completion = comp
		if comp != CompletionNone {
			res.Increment, res.ExhaustiveStop, res.Integral = inc, !o.NoExhaustiveStop, !o.NoIntegral
		}
		whole := o.WholeUnit
		if whole == 0 {
			whole = 1
		}
		if whole < 0 {
			return nil, invalidf("whole unit must be positive, got %d", whole)
		}
		workers := o.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		out := runMES(x, chain, mesParams{comp: comp, inc: inc, exhaustiveStop: !o.NoExhaustiveStop,
			integral: !o.NoIntegral, whole: whole, workers: workers})
		winners, res.Ties, res.Endowment = out.winners, out.ties, out.endowment
		res.EndowmentFloat, _ = out.endowment.Float64()
		if out.run != nil {
			res.Purchases, res.Shortfalls = out.run.account()
		}
		for _, w := range winners[out.mesWinners:] {
			res.Completed = append(res.Completed, x.ids[w])
		}
	default:
		return nil, invalidf("unknown rule %q", o.Rule)
	}
	for _, w := range winners {
		res.Winners = append(res.Winners, x.ids[w])
		res.Cost += x.cost[w]
	}
	res.Leftover = res.Budget - res.Cost
	return res, nil
}
