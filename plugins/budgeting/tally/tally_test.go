package tally_test

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

func TestTally_Ties(t *testing.T) {
	t.Run("JerseyCitySurvivesDefaultChain", func(t *testing.T) {
		in := load(t, "US_Stanford_Dataset_2022_Jersey_City_Ward_B_vote_knapsacks.pb")
		res, err := tally.Tally(in.Election(), tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1})
		if err != nil {
			t.Fatal(err)
		}
		var decisive []tally.Tie
		for _, tie := range res.Ties {
			if tie.Decisive {
				decisive = append(decisive, tie)
			}
		}
		if len(decisive) == 0 || len(decisive[0].Projects) < 2 {
			t.Fatalf("want a decisive tie, got %+v", res.Ties)
		}
		// the tied projects really are level on the default chain
		tied := decisive[0].Projects
		costs := map[string]int64{}
		for _, p := range in.Projects {
			costs[p.ID] = p.Cost
		}
		for _, id := range tied[1:] {
			if costs[id] != costs[tied[0]] || res.Votes[id] != res.Votes[tied[0]] {
				t.Errorf("%v are not level on cost and votes", tied)
			}
		}
	})
	t.Run("AssenNeedsMinCost", func(t *testing.T) {
		in := load(t, "Netherlands_Assen_2024.pb")
		o, err := in.Options()
		if err != nil {
			t.Fatal(err)
		}
		res, err := tally.Tally(in.Election(), o)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Ties) != 0 {
			t.Errorf("default chain: ties %+v, want none", res.Ties)
		}
		o.TieBreak = []tally.TieKey{tally.MaxVotes}
		res, err = tally.Tally(in.Election(), o)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Ties) == 0 {
			t.Errorf("without min-cost: no tie reported")
		}
	})
	t.Run("GreedyDecisive", func(t *testing.T) {
		e := tally.Election{Budget: 10, Projects: []tally.Project{{"a", 10}, {"b", 10}},
			Ballots: []tally.Ballot{{Projects: []string{"a"}}, {Projects: []string{"b"}}}}
		res, err := tally.Tally(e, tally.Options{Rule: tally.Greedy})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Ties) != 1 || !res.Ties[0].Decisive || res.Ties[0].Chosen != "a" || !reflect.DeepEqual(res.Winners, []string{"a"}) {
			t.Errorf("result %+v", res)
		}
		e.Budget = 20 // both fit: order cannot matter, no tie
		res, _ = tally.Tally(e, tally.Options{Rule: tally.Greedy})
		if len(res.Ties) != 0 {
			t.Errorf("ties %+v with room for both", res.Ties)
		}
	})
}

func TestTally_Greedy(t *testing.T) {
	e := tally.Election{Budget: 100, Projects: []tally.Project{{"big", 80}, {"mid", 30}, {"small", 10}},
		Ballots: []tally.Ballot{{Projects: []string{"big", "mid"}}, {Projects: []string{"big", "mid", "small"}}, {Projects: []string{"big"}}}}
	for _, tt := range []struct {
		rule tally.Rule
		thr  int64
		want []string
	}{
		{tally.Greedy, 0, []string{"big", "small"}},
		{tally.GreedyNoSkip, 0, []string{"big"}},
		{tally.GreedyThreshold, 2, []string{"big"}},
	} {
		t.Run(string(tt.rule), func(t *testing.T) {
			res, err := tally.Tally(e, tally.Options{Rule: tt.rule, Threshold: tt.thr})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Winners, tt.want) {
				t.Errorf("winners %v, want %v", res.Winners, tt.want)
			}
		})
	}
	t.Run("ErrUnknownProject", func(t *testing.T) {
		bad := e
		bad.Ballots = []tally.Ballot{{Projects: []string{"nope"}}}
		if _, err := tally.Tally(bad, tally.Options{Rule: tally.Greedy}); err == nil {
			t.Error("want error")
		}
	})
}

// randomElection is a small random approval election for property tests.
func randomElection(r *rand.Rand) tally.Election {
	m := 2 + r.IntN(8)
	e := tally.Election{Budget: int64(50 + r.IntN(200))}
	for i := range m {
		e.Projects = append(e.Projects, tally.Project{ID: fmt.Sprintf("p%d", i), Cost: int64(1 + r.IntN(100))})
	}
	for range 1 + r.IntN(30) {
		var b tally.Ballot
		for _, p := range e.Projects {
			if r.IntN(3) == 0 {
				b.Projects = append(b.Projects, p.ID)
			}
		}
		e.Ballots = append(e.Ballots, b)
	}
	return e
}

func shuffled(r *rand.Rand, e tally.Election) tally.Election {
	s := e
	s.Ballots = append([]tally.Ballot(nil), e.Ballots...)
	r.Shuffle(len(s.Ballots), func(i, j int) { s.Ballots[i], s.Ballots[j] = s.Ballots[j], s.Ballots[i] })
	for i, b := range s.Ballots {
		p := append([]string(nil), b.Projects...)
		r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		s.Ballots[i].Projects = p
	}
	return s
}

var propertyOptions = []tally.Options{
	{Rule: tally.Greedy}, {Rule: tally.GreedyNoSkip}, {Rule: tally.GreedyThreshold, Threshold: 3},
	{Rule: tally.MES}, {Rule: tally.MES, Completion: tally.CompletionAdd1},
	{Rule: tally.MES, Completion: tally.CompletionAdd1, NoExhaustiveStop: true},
	{Rule: tally.MES, Completion: tally.CompletionAdd1U, Increment: 3},
}

func TestTally_Properties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2)) // fixed seed: failures reproduce
	for i := range 300 {
		e := randomElection(r)
		s := shuffled(r, e)
		for _, o := range propertyOptions {
			name := fmt.Sprintf("%d/%s/%s", i, o.Rule, o.Completion)
			a, err := tally.Tally(e, o)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if a.Cost > e.Budget || a.Leftover < 0 {
				t.Fatalf("%s: cost %d over budget %d", name, a.Cost, e.Budget)
			}
			b, err := tally.Tally(s, o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Winners, b.Winners) || !reflect.DeepEqual(a.Ties, b.Ties) {
				t.Fatalf("%s: ballot order changed the result: %v vs %v", name, a.Winners, b.Winners)
			}
		}
		if tally.HashBallots(e) != tally.HashBallots(s) {
			t.Fatalf("%d: hash depends on ballot order", i)
		}
	}
}

func TestHashBallots(t *testing.T) {
	base := tally.Election{Budget: 10, Projects: []tally.Project{{"a", 1}, {"b", 2}},
		Ballots: []tally.Ballot{{Projects: []string{"a", "b"}}, {Projects: []string{"b"}}}}
	h := tally.HashBallots(base)
	if len(h) != 64 {
		t.Fatalf("hash %q", h)
	}
	t.Run("OrderIndependent", func(t *testing.T) {
		e := base
		e.Ballots = []tally.Ballot{{Projects: []string{"b"}}, {Projects: []string{"b", "a"}}}
		if tally.HashBallots(e) != h {
			t.Error("hash changed with ballot order")
		}
	})
	t.Run("SensitiveToContent", func(t *testing.T) {
		e := base
		e.Ballots = []tally.Ballot{{Projects: []string{"a"}}, {Projects: []string{"b"}}}
		if tally.HashBallots(e) == h {
			t.Error("hash ignores a ballot change")
		}
		e = base
		e.Budget = 11
		if tally.HashBallots(e) == h {
			t.Error("hash ignores the budget")
		}
	})
	t.Run("OrdinalKeepsRanking", func(t *testing.T) {
		a := tally.Election{Kind: tally.Ordinal, Projects: base.Projects, Ballots: []tally.Ballot{{Projects: []string{"a", "b"}}}}
		b := tally.Election{Kind: tally.Ordinal, Projects: base.Projects, Ballots: []tally.Ballot{{Projects: []string{"b", "a"}}}}
		if tally.HashBallots(a) == tally.HashBallots(b) {
			t.Error("ordinal rankings hash alike")
		}
	})
}

func TestExplain(t *testing.T) {
	for _, o := range propertyOptions {
		t.Run(string(o.Rule)+string(o.Completion), func(t *testing.T) {
			s := tally.Explain(o)
			if len(s) < 100 || strings.Contains(s, "Unknown") || !strings.Contains(s, "tie") {
				t.Errorf("explanation %q", s)
			}
		})
	}
}

// TestTally_Add1Parallel checks that running add1's endowments in parallel
// (and examining them in order) ends on the same endowment with the same
// winners and ties as the one-at-a-time loop, for every add1 variant.
func TestTally_Add1Parallel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	variants := []tally.Options{
		{Rule: tally.MES, Completion: tally.CompletionAdd1},
		{Rule: tally.MES, Completion: tally.CompletionAdd1U, NoExhaustiveStop: true},
		{Rule: tally.MES, Completion: tally.CompletionAdd1, NoIntegral: true, Increment: 2},
	}
	for i := range 200 {
		e := randomElection(r)
		for _, o := range variants {
			one := o
			one.Workers = 1
			a, err := tally.Tally(e, one)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []int{2, 3, 7} {
				o.Workers = w
				b, err := tally.Tally(e, o)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(a.Winners, b.Winners) || a.Endowment.Cmp(b.Endowment) != 0 || !reflect.DeepEqual(a.Ties, b.Ties) {
					t.Fatalf("%d %+v workers %d: %v at %v (ties %v), one at a time %v at %v (ties %v)",
						i, o, w, b.Winners, b.Endowment, b.Ties, a.Winners, a.Endowment, a.Ties)
				}
			}
		}
	}
}

// TestTally_Integral checks the integral start on a hand-sized election: 3
// voters and a budget of 10 start add1 at floor(10/3) = 3 per voter, not 10/3,
// and every endowment tried is whole.
func TestTally_Integral(t *testing.T) {
	e := tally.Election{Budget: 10, Projects: []tally.Project{{"a", 9}, {"b", 4}, {"c", 4}},
		Ballots: []tally.Ballot{{Projects: []string{"a", "b"}}, {Projects: []string{"a", "c"}}, {Projects: []string{"a"}}}}
	res, err := tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Endowment.IsInt() || !res.Integral {
		t.Errorf("integral endowment %v", res.Endowment)
	}
	// at 3 each, a costs 9 = 3+3+3: bought, and nothing else fits; that is
	// exhaustive (leftover 1 < 4), so add1 stops at once on 3
	if !reflect.DeepEqual(res.Winners, []string{"a"}) || res.Endowment.Cmp(big.NewRat(3, 1)) != 0 {
		t.Errorf("winners %v endowment %v, want [a] at 3", res.Winners, res.Endowment)
	}
	res, err = tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1, NoIntegral: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Endowment.Cmp(big.NewRat(10, 3)) != 0 || res.Integral {
		t.Errorf("fractional start: endowment %v", res.Endowment)
	}
	// Everything affordable: the tool runs plain MES at budget/n, no add1.
	e.Budget = 17
	res, err = tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U})
	if err != nil {
		t.Fatal(err)
	}
	if res.Endowment.Cmp(big.NewRat(17, 3)) != 0 || len(res.Winners) != 3 {
		t.Errorf("everything affordable: winners %v endowment %v, want all at 17/3", res.Winners, res.Endowment)
	}
}

// TestTally_Account checks the explanation of MES results on random elections:
// a purchase's equal payers pay its whole cost unless some paid all they had,
// nobody pays more than the endowment, and every project MES left out was
// unaffordable for its supporters when it stopped.
func TestTally_Account(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 200 {
		e := randomElection(r)
		res, err := tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U})
		if err != nil {
			t.Fatal(err)
		}
		cost := map[string]int64{}
		for _, p := range e.Projects {
			cost[p.ID] = p.Cost
		}
		if len(res.Purchases)+len(res.Completed) != len(res.Winners) {
			t.Fatalf("%d: %d purchases + %d completed for %d winners", i, len(res.Purchases), len(res.Completed), len(res.Winners))
		}
		for k, p := range res.Purchases {
			if p.Project != res.Winners[k] || p.Step != k+1 {
				t.Fatalf("%d: purchase %+v is not winner %d", i, p, k)
			}
			paid := p.Price * float64(p.PaidPrice)
			if p.Price > res.EndowmentFloat+1e-9 || paid > float64(cost[p.Project])+1e-6 ||
				p.PaidAll == 0 && math.Abs(paid-float64(cost[p.Project])) > 1e-6 {
				t.Fatalf("%d: purchase %+v of cost %d at endowment %v", i, p, cost[p.Project], res.EndowmentFloat)
			}
		}
		for _, s := range res.Shortfalls {
			if s.Cost > 0 && res.Votes[s.Project] > 0 && s.Money >= float64(s.Cost) {
				t.Fatalf("%d: %s left out with %v for cost %d", i, s.Project, s.Money, s.Cost)
			}
		}
	}
}

// TestTally_CompletionOrder checks add1u's completion against the tool's: by
// votes alone, equal votes in the tool's project order (ids that are numbers
// first, numerically, then the others as listed), not the file's order.
func TestTally_CompletionOrder(t *testing.T) {
	// MES buys "a" (everyone approves it); at 6 per voter it would buy all of
	// "x", "10" and "9" and overspend, so add1 ends at 5 with 4 left for the
	// completion, where the three have one vote and cost 4 each: only one
	// fits. The file lists "x" first; the tool takes "9".
	e := tally.Election{Budget: 10, Projects: []tally.Project{{"a", 6}, {"x", 4}, {"10", 4}, {"9", 4}},
		Ballots: []tally.Ballot{{Projects: []string{"a", "10"}}, {Projects: []string{"a", "9"}}, {Projects: []string{"a", "x"}}}}
	res, err := tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Winners, []string{"a", "9"}) || !reflect.DeepEqual(res.Completed, []string{"9"}) ||
		res.Endowment.Cmp(big.NewRat(5, 1)) != 0 {
		t.Errorf("winners %v (completed %v) at %v, want [a 9] at 5", res.Winners, res.Completed, res.Endowment)
	}
	var tie *tally.Tie
	for i := range res.Ties {
		if res.Ties[i].Phase == "completion" {
			tie = &res.Ties[i]
		}
	}
	if tie == nil || !tie.Decisive || tie.Chosen != "9" || len(tie.Projects) != 3 {
		t.Errorf("completion tie %+v in %+v", tie, res.Ties)
	}
}

// TestTally_ExactBudget is a regression test for a float boundary: at 11/3
// per voter, after "a" costs each 5/3, the supporter of "x" holds exactly its
// cost 2, which floats make 1.9999999999999998. MES must still buy it.
func TestTally_ExactBudget(t *testing.T) {
	e := tally.Election{Budget: 8, Projects: []tally.Project{{"a", 5}, {"x", 2}, {"10", 3}, {"9", 3}},
		Ballots: []tally.Ballot{{Projects: []string{"a", "10"}}, {Projects: []string{"a", "9"}}, {Projects: []string{"a", "x"}}}}
	res, err := tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U, NoIntegral: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Winners, []string{"a", "x"}) || res.Endowment.Cmp(big.NewRat(11, 3)) != 0 {
		t.Errorf("winners %v at %v, want [a x] at 11/3", res.Winners, res.Endowment)
	}
}
