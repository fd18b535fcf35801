package tally

import (
	"math/big"
	"sort"
)

// Method of Equal Shares with cost utilities, as equalshares.net and Pabulib
// define it. Every voter starts with the same endowment. A project is
// affordable if its supporters together still hold its cost; its price per
// unit of utility is rho = p/cost, where p is the smallest payment cap such
// that supporters paying min(budget_i, p) cover the cost. Each step buys the
// affordable project with the smallest rho (equivalently the largest
// "effective vote count" cost/p), and its supporters pay min(budget_i, p).
//
// Speed comes from two observations. Voters with identical approval sets are
// charged identically forever, so they are one weighted group. And the
// budgets in play take few distinct values (the endowment minus the payments
// for some set of winners), so each project keeps a short list of (budget
// class, weight) pairs instead of a list of voters; pricing a project sorts a
// handful of classes. Only the projects whose supporters just paid are
// re-priced after a step. Budgets are exact (big.Rat) per class; floats,
// derived from them, only pre-select the candidates that an exact comparison
// then decides between.

// mesModel is the election in grouped form, built once per tally and shared
// by every add1 iteration.
type mesModel struct {
	x        *election
	chain    []TieKey
	n        int64     // number of voters
	groups   [][]int32 // distinct approval sets (eligible projects only)
	weight   []int64   // voters per group
	supp     [][]int32 // per project, the groups that approve it
	eligible []bool    // cost > 0 and approved by someone (as equalshares.net)
	nElig    int
}

func newMESModel(x *election, chain []TieKey) *mesModel {
	m := &mesModel{x: x, chain: chain, n: int64(len(x.ballots))}
	np := len(x.ids)
	m.eligible = make([]bool, np)
	for p := range np {
		m.eligible[p] = x.cost[p] > 0 && x.votes[p] > 0
		if m.eligible[p] {
			m.nElig++
		}
	}
	index := map[string]int32{}
	key := make([]byte, 0, 64)
	row := make([]int32, 0, 16)
	for _, b := range x.ballots {
		row = row[:0]
		for _, p := range b {
			if m.eligible[p] {
				row = append(row, p)
			}
		}
		if len(row) == 0 {
			continue
		}
		sort.Slice(row, func(i, j int) bool { return row[i] < row[j] })
		key = key[:0]
		for _, p := range row {
			key = append(key, byte(p), byte(p>>8), byte(p>>16), byte(p>>24))
		}
		g, ok := index[string(key)]
		if !ok {
			g = int32(len(m.groups))
			index[string(key)] = g
			m.groups = append(m.groups, append([]int32(nil), row...))
			m.weight = append(m.weight, 0)
		}
		m.weight[g]++
	}
	m.supp = make([][]int32, np)
	for g, set := range m.groups {
		for _, p := range set {
			m.supp[p] = append(m.supp[p], int32(g))
		}
	}
	return m
}

// entry is a budget class and how many of a project's supporters are in it.
type entry struct {
	c int32
	w int64
}

// mesRun is the state of one MES run at a fixed endowment.
type mesRun struct {
	m      *mesModel
	budget []*big.Rat // per class; class 0 is the endowment, class 1 is empty
	bf     []float64  // float copies of budget, for pre-selection only
	cls    []int32    // class per group
	bucket [][]entry  // per project, its supporters by class (empty class omitted)
	alive  []bool     // still a candidate
	dirty  []bool     // supporters paid since last priced
	ratioF []float64  // cached float rho
	afford []bool     // cached float affordability (true when unsure)

	winners []int32
	ties    []Tie
}

const zeroClass = 1

func (m *mesModel) run(endowment *big.Rat) *mesRun {
	np := len(m.x.ids)
	r := &mesRun{
		m:      m,
		budget: []*big.Rat{new(big.Rat).Set(endowment), new(big.Rat)},
		cls:    make([]int32, len(m.groups)),
		bucket: make([][]entry, np),
		alive:  make([]bool, np),
		dirty:  make([]bool, np),
		ratioF: make([]float64, np),
		afford: make([]bool, np),
	}
	ef, _ := endowment.Float64()
	r.bf = []float64{ef, 0}
	if endowment.Sign() == 0 {
		r.cls = make([]int32, len(m.groups))
		for g := range r.cls {
			r.cls[g] = zeroClass
		}
		return r
	}
	for p := range np {
		if m.eligible[p] {
			r.alive[p], r.dirty[p] = true, true
			r.bucket[p] = []entry{{0, m.x.votes[p]}}
		}
	}
	for r.step() {
	}
	return r
}

// floatPrice returns the float rho of p and whether p looks affordable
// (true when too close to call; the exact check settles it).
func (r *mesRun) floatPrice(p int32) (float64, bool) {
	es := r.bucket[p]
	sort.Slice(es, func(i, j int) bool { return r.bf[es[i].c] < r.bf[es[j].c] })
	cost := float64(r.m.x.cost[p])
	var total float64
	var denom int64
	for _, e := range es {
		total += float64(e.w) * r.bf[e.c]
		denom += e.w
	}
	if total < cost*(1-1e-9) {
		return 0, false
	}
	var paid float64
	for _, e := range es {
		mp := (cost - paid) / float64(denom)
		if mp <= r.bf[e.c] || denom == e.w {
			return mp / cost, true
		}
		paid += float64(e.w) * r.bf[e.c]
		denom -= e.w
	}
	return 1e300, true
}

// exactPay returns the exact payment cap for p, or nil if p is unaffordable.
func (r *mesRun) exactPay(p int32) *big.Rat {
	es := append([]entry(nil), r.bucket[p]...)
	sort.Slice(es, func(i, j int) bool { return r.budget[es[i].c].Cmp(r.budget[es[j].c]) < 0 })
	cost := new(big.Rat).SetInt64(r.m.x.cost[p])
	total := new(big.Rat)
	var denom int64
	t := new(big.Rat)
	for _, e := range es {
		total.Add(total, t.Mul(r.budget[e.c], new(big.Rat).SetInt64(e.w)))
		denom += e.w
	}
	if total.Cmp(cost) < 0 || denom == 0 {
		return nil
	}
	paid := new(big.Rat)
	for _, e := range es {
		mp := new(big.Rat).Sub(cost, paid)
		mp.Quo(mp, new(big.Rat).SetInt64(denom))
		if mp.Cmp(r.budget[e.c]) <= 0 {
			return mp
		}
		paid.Add(paid, t.Mul(r.budget[e.c], new(big.Rat).SetInt64(e.w)))
		denom -= e.w
	}
	// unreachable: total >= cost means the last class can pay the rest
	return nil
}

// step buys one project; false when none is affordable.
func (r *mesRun) step() bool {
	x := r.m.x
	for {
		best := -1.0
		for p := range r.alive {
			if !r.alive[p] {
				continue
			}
			if r.dirty[p] {
				r.ratioF[p], r.afford[p] = r.floatPrice(int32(p))
				r.dirty[p] = false
				if !r.afford[p] {
					r.alive[p] = false // budgets only shrink: never affordable again
					continue
				}
			}
			if best < 0 || r.ratioF[p] < best {
				best = r.ratioF[p]
			}
		}
		if best < 0 {
			return false
		}
		// exact decision among the candidates a float could confuse
		var finals []int32
		var rhos []*big.Rat
		var pays []*big.Rat
		limit := best * (1 + 1e-9)
		for p := range r.alive {
			if !r.alive[p] || r.ratioF[p] > limit {
				continue
			}
			pay := r.exactPay(int32(p))
			if pay == nil {
				r.alive[p] = false
				continue
			}
			finals = append(finals, int32(p))
			pays = append(pays, pay)
			rhos = append(rhos, new(big.Rat).Quo(pay, new(big.Rat).SetInt64(x.cost[p])))
		}
		if len(finals) == 0 {
			continue // the float favourites were unaffordable after all; re-rank
		}
		var tied []int
		for i := range finals {
			if len(tied) == 0 {
				tied = []int{i}
				continue
			}
			j := tied[0]
			c := rhos[i].Cmp(rhos[j])
			if c == 0 {
				c = chainCmp(x, r.m.chain, finals[i], finals[j])
			}
			switch {
			case c < 0:
				tied = []int{i}
			case c == 0:
				tied = append(tied, i)
			}
		}
		win := tied[0] // finals are in input order, so this is the first listed
		if len(tied) > 1 && r.tieMatters(finals, pays, tied) {
			t := Tie{Phase: "mes", Step: len(r.winners) + 1, Chosen: x.ids[finals[win]]}
			for _, i := range tied {
				t.Projects = append(t.Projects, x.ids[finals[i]])
			}
			r.ties = append(r.ties, t)
		}
		r.buy(finals[win], pays[win])
		return true
	}
}

// tieMatters reports whether the order among tied projects can change the
// outcome. It cannot when every voter who supports two or more of them can
// pay the full share of each: then each project's price is untouched by the
// others being bought first, so all are bought, in some order, at this
// price. Otherwise the tied projects compete for the same money and the tie
// is reported.
func (r *mesRun) tieMatters(finals []int32, pays []*big.Rat, tied []int) bool {
	payOf := map[int32]*big.Rat{}
	for _, i := range tied {
		payOf[finals[i]] = pays[i]
	}
	seen := map[int32]bool{}
	need := new(big.Rat)
	for _, i := range tied {
		for _, g := range r.m.supp[finals[i]] {
			if seen[g] {
				continue
			}
			seen[g] = true
			need.SetInt64(0)
			k := 0
			for _, q := range r.m.groups[g] {
				if pay, ok := payOf[q]; ok {
					need.Add(need, pay)
					k++
				}
			}
			if k >= 2 && r.budget[r.cls[g]].Cmp(need) < 0 {
				return true
			}
		}
	}
	return false
}

// buy charges p's supporters min(budget, pay) and moves their groups to new
// budget classes, updating every other project's buckets.
func (r *mesRun) buy(p int32, pay *big.Rat) {
	r.winners = append(r.winners, p)
	r.alive[p] = false
	trans := map[int32]int32{}
	for _, e := range r.bucket[p] {
		b := r.budget[e.c]
		if b.Cmp(pay) <= 0 {
			trans[e.c] = zeroClass
			continue
		}
		nb := new(big.Rat).Sub(b, pay)
		f, _ := nb.Float64()
		trans[e.c] = int32(len(r.budget))
		r.budget = append(r.budget, nb)
		r.bf = append(r.bf, f)
	}
	for _, g := range r.m.supp[p] {
		c := r.cls[g]
		if c == zeroClass {
			continue
		}
		nc := trans[c]
		r.cls[g] = nc
		w := r.m.weight[g]
		for _, q := range r.m.groups[g] {
			if !r.alive[q] {
				continue
			}
			r.dirty[q] = true
			es := r.bucket[q]
			for i := range es {
				if es[i].c == c {
					es[i].w -= w
					if es[i].w == 0 {
						es[i] = es[len(es)-1]
						es = es[:len(es)-1]
					}
					break
				}
			}
			if nc != zeroClass {
				found := false
				for i := range es {
					if es[i].c == nc {
						es[i].w += w
						found = true
						break
					}
				}
				if !found {
					es = append(es, entry{nc, w})
				}
			}
			r.bucket[q] = es
		}
	}
}

// mesOutcome is what runMES hands back to Tally.
type mesOutcome struct {
	winners   []int32
	ties      []Tie
	endowment *big.Rat
}

func (x *election) costOf(ws []int32) int64 {
	var c int64
	for _, w := range ws {
		c += x.cost[w]
	}
	return c
}

// exhaustive reports whether no unselected project (any project, as
// equalshares.net checks) fits in what the outcome leaves.
func (x *election) exhaustive(ws []int32) bool {
	left := x.budget - x.costOf(ws)
	in := make([]bool, len(x.ids))
	for _, w := range ws {
		in[w] = true
	}
	for p := range x.ids {
		if !in[p] && x.cost[p] <= left {
			return false
		}
	}
	return true
}

func runMES(x *election, chain []TieKey, comp Completion, inc int64, exhaustiveStop bool) mesOutcome {
	if len(x.ballots) == 0 {
		return mesOutcome{endowment: new(big.Rat)}
	}
	m := newMESModel(x, chain)
	e := big.NewRat(x.budget, m.n)
	cur := m.run(e)
	if comp != CompletionNone {
		step := new(big.Rat).SetInt64(inc)
		for {
			if exhaustiveStop && x.exhaustive(cur.winners) {
				break
			}
			if len(cur.winners) == m.nElig {
				break // every candidate is in: a larger endowment changes nothing
			}
			next := new(big.Rat).Add(e, step)
			nr := m.run(next)
			if x.costOf(nr.winners) > x.budget {
				break
			}
			e, cur = next, nr
		}
	}
	out := mesOutcome{winners: cur.winners, ties: cur.ties, endowment: e}
	if comp == CompletionAdd1U {
		in := make([]bool, len(x.ids))
		for _, w := range out.winners {
			in[w] = true
		}
		eligible := make([]bool, len(x.ids))
		for p := range eligible {
			eligible[p] = !in[p]
		}
		more, ties := greedy(x, x.votes, chain, eligible, x.budget-x.costOf(out.winners), false, "completion")
		out.winners = append(out.winners, more...)
		out.ties = append(out.ties, ties...)
	}
	return out
}
