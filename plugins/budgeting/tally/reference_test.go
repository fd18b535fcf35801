package tally_test

import (
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// referenceMES is the Method of Equal Shares written the plain way, voter by
// voter in exact arithmetic, as the equalshares.net tool's fractions mode does:
// each step prices every remaining project by sorting its supporters' budgets,
// takes the lowest price per unit of cost (ties: cheaper, then more votes,
// then listed first) and charges min(budget, price). It is slow and obviously
// right, for comparing the fast one with.
func referenceMES(e tally.Election, endowment *big.Rat) []string {
	n := len(e.Ballots)
	budget := make([]*big.Rat, n)
	for i := range budget {
		budget[i] = new(big.Rat).Set(endowment)
	}
	supp := map[string][]int{}
	for i, b := range e.Ballots {
		for _, p := range b.Projects {
			supp[p] = append(supp[p], i)
		}
	}
	var winners []string
	done := map[string]bool{}
	for {
		best, bestPay := -1, (*big.Rat)(nil)
		var bestRho *big.Rat
		for pi, p := range e.Projects {
			s := supp[p.ID]
			if done[p.ID] || p.Cost == 0 || len(s) == 0 {
				continue
			}
			cost := new(big.Rat).SetInt64(p.Cost)
			total := new(big.Rat)
			for _, v := range s {
				total.Add(total, budget[v])
			}
			if total.Cmp(cost) < 0 {
				continue
			}
			sorted := slices.Clone(s)
			slices.SortFunc(sorted, func(a, b int) int { return budget[a].Cmp(budget[b]) })
			paid, left := new(big.Rat), int64(len(sorted))
			var pay *big.Rat
			for _, v := range sorted {
				mp := new(big.Rat).Sub(cost, paid)
				mp.Quo(mp, new(big.Rat).SetInt64(left))
				if mp.Cmp(budget[v]) <= 0 {
					pay = mp
					break
				}
				paid.Add(paid, budget[v])
				left--
			}
			rho := new(big.Rat).Quo(pay, cost)
			better := best < 0
			if !better {
				switch c := rho.Cmp(bestRho); {
				case c < 0:
					better = true
				case c == 0:
					bp := e.Projects[best]
					better = p.Cost < bp.Cost || p.Cost == bp.Cost && len(s) > len(supp[bp.ID])
				}
			}
			if better {
				best, bestPay, bestRho = pi, pay, rho
			}
		}
		if best < 0 {
			return winners
		}
		p := e.Projects[best]
		done[p.ID] = true
		winners = append(winners, p.ID)
		for _, v := range supp[p.ID] {
			if budget[v].Cmp(bestPay) > 0 {
				budget[v].Sub(budget[v], bestPay)
			} else {
				budget[v].SetInt64(0)
			}
		}
	}
}

// referenceAdd1 is the tool's add1 loop (integral or not, exhaustive stop or
// not) over referenceMES.
func referenceAdd1(e tally.Election, integral, exhaustive bool) ([]string, *big.Rat) {
	n := int64(len(e.Ballots))
	cost := map[string]int64{}
	var all int64
	for _, p := range e.Projects {
		cost[p.ID] = p.Cost
		all += p.Cost
	}
	costOf := func(ws []string) (c int64) {
		for _, w := range ws {
			c += cost[w]
		}
		return c
	}
	end := big.NewRat(e.Budget, n)
	if all <= e.Budget {
		return referenceMES(e, end), end
	}
	if integral {
		end = big.NewRat(e.Budget/n, 1)
	}
	ws := referenceMES(e, end)
	for {
		if exhaustive {
			left, ex := e.Budget-costOf(ws), true
			for _, p := range e.Projects {
				if !slices.Contains(ws, p.ID) && p.Cost <= left {
					ex = false
				}
			}
			if ex {
				return ws, end
			}
		}
		next := new(big.Rat).Add(end, big.NewRat(1, 1))
		nw := referenceMES(e, next)
		if costOf(nw) > e.Budget || len(nw) == len(ws) && len(ws) == countEligible(e) {
			return ws, end
		}
		end, ws = next, nw
	}
}

func countEligible(e tally.Election) int {
	votes := map[string]int{}
	for _, b := range e.Ballots {
		for _, p := range b.Projects {
			votes[p]++
		}
	}
	k := 0
	for _, p := range e.Projects {
		if p.Cost > 0 && votes[p.ID] > 0 {
			k++
		}
	}
	return k
}

// TestTally_MatchesReference compares the fast MES (grouped voters, lazy
// pricing, floats deciding only what they clearly can, parallel add1) with the
// plain exact one on random elections, for plain MES and every add1 variant.
func TestTally_MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 3000 {
		e := randomElection(r)
		if i%2 == 0 {
			// A few voters and small whole costs: endowments like 11/3 leave
			// budgets that equal a cost exactly, which floats miss by an ulp.
			e = tinyElection(r)
		}
		res, err := tally.Tally(e, tally.Options{Rule: tally.MES})
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceMES(e, big.NewRat(e.Budget, int64(len(e.Ballots)))); !slices.Equal(res.Winners, want) {
			t.Fatalf("%d: mes %v, reference %v\n%+v", i, res.Winners, want, e)
		}
		for _, v := range []struct{ integral, exhaustive bool }{{true, true}, {true, false}, {false, true}} {
			res, err := tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1,
				NoIntegral: !v.integral, NoExhaustiveStop: !v.exhaustive})
			if err != nil {
				t.Fatal(err)
			}
			want, end := referenceAdd1(e, v.integral, v.exhaustive)
			if !reflect.DeepEqual(res.Winners, want) && !(len(res.Winners) == 0 && len(want) == 0) || res.Endowment.Cmp(end) != 0 {
				t.Fatalf("%d %+v: add1 %v at %v, reference %v at %v\n%+v", i, v, res.Winners, res.Endowment, want, end, e)
			}
		}
	}
}

func tinyElection(r *rand.Rand) tally.Election {
	e := tally.Election{Budget: int64(3 + r.IntN(13))}
	for i := range 2 + r.IntN(4) {
		e.Projects = append(e.Projects, tally.Project{ID: string(rune('a' + i)), Cost: int64(1 + r.IntN(6))})
	}
	for range 2 + r.IntN(5) {
		var b tally.Ballot
		for _, p := range e.Projects {
			if r.IntN(2) == 0 {
				b.Projects = append(b.Projects, p.ID)
			}
		}
		e.Ballots = append(e.Ballots, b)
	}
	return e
}
