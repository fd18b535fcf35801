package tally

import (
	"math"
	"math/big"
	"sort"
	"strings"
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

// purchase is one MES step, kept so its exact payment can be computed on
// demand: the classes that paid everything they had (partial) and the
// weight of those that paid the full cap.
type purchase struct {
	p       int32
	partial []entry
	denom   int64
	payF    float64
	pay     *big.Rat // exact cap; nil until needed
}

// paySlope is how fast the purchase's payment cap moves as the endowment
// grows while the run keeps its shape: the partial classes bring more money,
// so the others pay less.
func (r *mesRun) paySlope(pc purchase) float64 {
	var s float64
	for _, e := range pc.partial {
		s -= float64(e.w) * r.beta[e.c]
	}
	return s / float64(pc.denom)
}

// mesRun is the state of one MES run at a fixed endowment.
//
// Exact values are lazy: a class's budget is its parent's minus the payment
// of the purchase that created it, and a purchase's payment follows from its
// partial classes. They are materialised only when floats cannot decide a
// comparison, which on real data is rare, so most runs do no big.Rat
// arithmetic at all.
type mesRun struct {
	m      *mesModel
	tol    float64    // absolute tolerance for float money comparisons
	exact  []*big.Rat // per class; nil until needed
	bf     []float64  // per class, float budget
	beta   []float64  // per class, d budget / d endowment while the run keeps its shape
	parent []int32    // per class
	made   []int32    // per class, the purchase that created it
	buys   []purchase
	cls    []int32   // class per group
	bucket [][]entry // per project, its supporters by class (empty class omitted)
	alive  []bool    // still a candidate
	dirty  []bool    // supporters paid since last priced
	ratioF []float64 // cached float rho
	payF   []float64 // cached float payment cap
	vague  []bool    // cached: floats too close to call for this project

	classIdx []int32 // scratch for buy
	acc      []int64 // scratch for buy

	winners []int32
	ties    []Tie

	// ef is the endowment as a float, and stable an endowment up to which
	// (exclusive) every run has the same shape and so the same winners; see
	// limit. It is ef when nothing can be said.
	ef     float64
	stable float64

	// forceStep/forceP replay a run taking forceP at a tie on forceStep, to
	// see whether the other choice would have mattered.
	forceStep int
	forceP    int32
}

const zeroClass = 1

func (m *mesModel) run(endowment *big.Rat) *mesRun { return m.runForced(endowment, 0, -1) }

func (m *mesModel) runForced(endowment *big.Rat, forceStep int, forceP int32) *mesRun {
	np := len(m.x.ids)
	ef, _ := endowment.Float64()
	r := &mesRun{
		m:      m,
		tol:    ef * 1e-8,
		exact:  []*big.Rat{new(big.Rat).Set(endowment), new(big.Rat)},
		bf:     []float64{ef, 0},
		beta:   []float64{1, 0},
		ef:     ef,
		stable: math.Inf(1),
		parent: []int32{-1, -1},
		made:   []int32{-1, -1},
		cls:    make([]int32, len(m.groups)),
		bucket: make([][]entry, np),
		alive:  make([]bool, np),
		dirty:  make([]bool, np),
		ratioF: make([]float64, np),
		payF:   make([]float64, np),
		vague:  make([]bool, np),

		forceStep: forceStep,
		forceP:    forceP,
	}
	if endowment.Sign() == 0 {
		r.stable = ef
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

func (r *mesRun) exactBudget(c int32) *big.Rat {
	if r.exact[c] == nil {
		b := new(big.Rat).Sub(r.exactBudget(r.parent[c]), r.exactPay(r.made[c]))
		r.exact[c] = b
	}
	return r.exact[c]
}

func (r *mesRun) exactPay(s int32) *big.Rat {
	b := &r.buys[s]
	if b.pay == nil {
		pay := new(big.Rat).SetInt64(r.m.x.cost[b.p])
		t := new(big.Rat)
		for _, e := range b.partial {
			pay.Sub(pay, t.Mul(r.exactBudget(e.c), t.SetInt64(e.w)))
		}
		b.pay = pay.Quo(pay, t.SetInt64(b.denom))
	}
	return b.pay
}

// floatPrice prices p in floats: rho, the payment cap, whether p is
// affordable, and whether any of that was too close to call.
func (r *mesRun) floatPrice(p int32) (rho, pay float64, ok, vague bool) {
	es := r.bucket[p]
	sort.Slice(es, func(i, j int) bool { return r.bf[es[i].c] < r.bf[es[j].c] })
	cost := float64(r.m.x.cost[p])
	var total float64
	var denom int64
	for _, e := range es {
		total += float64(e.w) * r.bf[e.c]
		denom += e.w
	}
	slack := r.tol * float64(denom)
	if total < cost-slack {
		return 0, 0, false, false
	}
	vague = total <= cost+slack
	var paid float64
	for i, e := range es {
		mp := (cost - paid) / float64(denom)
		if mp <= r.bf[e.c] || i == len(es)-1 {
			if d := r.bf[e.c] - mp; d < r.tol && d > -r.tol {
				vague = true
			}
			if i > 0 {
				if d := mp - r.bf[es[i-1].c]; d < r.tol {
					vague = true
				}
			}
			return mp / cost, mp, true, vague
		}
		paid += float64(e.w) * r.bf[e.c]
		denom -= e.w
	}
	return 0, 0, false, true
}

// exactPrice runs the pricing procedure exactly; it returns the purchase
// that buying p now would be, or false if p is unaffordable.
func (r *mesRun) exactPrice(p int32) (purchase, bool) {
	es := append([]entry(nil), r.bucket[p]...)
	for _, e := range es {
		r.exactBudget(e.c)
	}
	sort.Slice(es, func(i, j int) bool { return r.exact[es[i].c].Cmp(r.exact[es[j].c]) < 0 })
	cost := new(big.Rat).SetInt64(r.m.x.cost[p])
	total := new(big.Rat)
	var denom int64
	t := new(big.Rat)
	for _, e := range es {
		total.Add(total, t.Mul(r.exact[e.c], t.SetInt64(e.w)))
		denom += e.w
	}
	if total.Cmp(cost) < 0 || denom == 0 {
		return purchase{}, false
	}
	paid := new(big.Rat)
	for i, e := range es {
		mp := new(big.Rat).Sub(cost, paid)
		mp.Quo(mp, t.SetInt64(denom))
		if mp.Cmp(r.exact[e.c]) <= 0 {
			f, _ := mp.Float64()
			return purchase{p: p, partial: es[:i:i], denom: denom, payF: f, pay: mp}, true
		}
		paid.Add(paid, t.Mul(r.exact[e.c], t.SetInt64(e.w)))
		denom -= e.w
	}
	return purchase{}, false // unreachable: total >= cost
}

// step buys one project; false when none is affordable.
func (r *mesRun) step() bool {
	x := r.m.x
	for {
		best, bestP := -1.0, -1
		for p := range r.alive {
			if !r.alive[p] {
				continue
			}
			if r.dirty[p] {
				var ok bool
				r.ratioF[p], r.payF[p], ok, r.vague[p] = r.floatPrice(int32(p))
				r.dirty[p] = false
				if !ok {
					r.alive[p] = false // budgets only shrink: never affordable again
					r.boundDead(int32(p))
					continue
				}
			}
			if best < 0 || r.ratioF[p] < best {
				best, bestP = r.ratioF[p], p
			}
		}
		if best < 0 {
			return false
		}
		var finals []int32
		for p := range r.alive {
			if r.alive[p] && r.ratioF[p] <= best+(r.tol+best*1e-9)/float64(x.cost[p]) {
				finals = append(finals, int32(p))
			}
		}
		if len(finals) == 1 && !r.vague[bestP] {
			// the common case: floats decide, the exact payment stays lazy
			es := r.bucket[bestP]
			var partial []entry
			var denom int64
			for _, e := range es { // sorted by floatPrice
				if r.bf[e.c] < r.payF[bestP] {
					partial = append(partial, e)
				} else {
					denom += e.w
				}
			}
			pc := purchase{p: int32(bestP), partial: partial, denom: denom, payF: r.payF[bestP]}
			r.boundStep(pc)
			r.buy(pc)
			return true
		}
		// exact decision among the candidates floats could confuse
		var cands []purchase
		var rhos []*big.Rat
		for _, p := range finals {
			pc, ok := r.exactPrice(p)
			if !ok {
				r.alive[p] = false
				r.boundDead(p)
				continue
			}
			cands = append(cands, pc)
			rhos = append(rhos, new(big.Rat).Quo(pc.pay, new(big.Rat).SetInt64(x.cost[p])))
		}
		if len(cands) == 0 {
			continue // the float favourites were unaffordable after all; re-rank
		}
		var tied []int
		for i := range cands {
			if len(tied) == 0 {
				tied = []int{i}
				continue
			}
			j := tied[0]
			c := rhos[i].Cmp(rhos[j])
			if c == 0 {
				c = chainCmp(x, r.m.chain, cands[i].p, cands[j].p)
			}
			switch {
			case c < 0:
				tied = []int{i}
			case c == 0:
				tied = append(tied, i)
			}
		}
		win := tied[0] // candidates are in input order, so this is the first listed
		if r.forceStep == len(r.winners)+1 {
			for _, i := range tied {
				if cands[i].p == r.forceP {
					win = i
				}
			}
		}
		if len(tied) > 1 && r.tieMatters(cands, tied) {
			t := Tie{Phase: "mes", Step: len(r.winners) + 1, Chosen: x.ids[cands[win].p]}
			for _, i := range tied {
				t.Projects = append(t.Projects, x.ids[cands[i].p])
			}
			r.ties = append(r.ties, t)
		}
		r.boundStep(cands[win])
		r.buy(cands[win])
		return true
	}
}

// tieMatters reports whether the order among tied projects can change the
// outcome. It cannot when every voter who supports two or more of them can
// pay the full share of each: then each project's price is untouched by the
// others being bought first, so all are bought, in some order, at this
// price. Otherwise the tied projects compete for the same money and the tie
// is reported.
func (r *mesRun) tieMatters(cands []purchase, tied []int) bool {
	payOf := map[int32]*big.Rat{}
	for _, i := range tied {
		payOf[cands[i].p] = cands[i].pay
	}
	seen := map[int32]bool{}
	need := new(big.Rat)
	for _, i := range tied {
		for _, g := range r.m.supp[cands[i].p] {
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
			if k >= 2 && r.exactBudget(r.cls[g]).Cmp(need) < 0 {
				return true
			}
		}
	}
	return false
}

// buy records the purchase, charges the supporters min(budget, cap) by moving
// their groups to new budget classes, and updates every other project's
// buckets in one pass per class.
func (r *mesRun) buy(pc purchase) {
	p := pc.p
	s := int32(len(r.buys))
	r.buys = append(r.buys, pc)
	r.winners = append(r.winners, p)
	r.alive[p] = false
	es := r.bucket[p]
	k := len(es)
	slope := r.paySlope(pc)
	if cap(r.classIdx) < len(r.bf) {
		r.classIdx = make([]int32, len(r.bf)+64)
	}
	idx := r.classIdx[:len(r.bf)]
	next := make([]int32, k)
	for ci, e := range es {
		idx[e.c] = int32(ci)
		b := r.bf[e.c]
		var zero bool
		switch {
		case b < pc.payF-r.tol:
			zero = true
		case b > pc.payF+r.tol:
			zero = false
		default:
			zero = r.exactBudget(e.c).Cmp(r.exactPay(s)) <= 0
		}
		if zero {
			next[ci] = zeroClass
			continue
		}
		next[ci] = int32(len(r.bf))
		r.bf = append(r.bf, b-pc.payF)
		r.beta = append(r.beta, r.beta[e.c]-slope)
		r.exact = append(r.exact, nil)
		r.parent = append(r.parent, e.c)
		r.made = append(r.made, s)
	}
	np := len(r.m.x.ids)
	if cap(r.acc) < np*k {
		r.acc = make([]int64, np*k)
	}
	acc := r.acc[:np*k]
	clear(acc)
	for _, g := range r.m.supp[p] {
		c := r.cls[g]
		if c == zeroClass {
			continue
		}
		ci := idx[c]
		r.cls[g] = next[ci]
		w := r.m.weight[g]
		for _, q := range r.m.groups[g] {
			acc[int(q)*k+int(ci)] += w
		}
	}
	for q := range np {
		if !r.alive[q] {
			continue
		}
		row := acc[q*k : q*k+k]
		bq := r.bucket[q]
		for ci, w := range row {
			if w == 0 {
				continue
			}
			r.dirty[q] = true
			c, nc := es[ci].c, next[ci]
			for i := range bq {
				if bq[i].c == c {
					bq[i].w -= w
					if bq[i].w == 0 {
						bq[i] = bq[len(bq)-1]
						bq = bq[:len(bq)-1]
					}
					break
				}
			}
			if nc != zeroClass {
				bq = append(bq, entry{nc, w}) // nc is new this step: not yet in bq
			}
		}
		r.bucket[q] = bq
	}
}

// mesOutcome is what runMES hands back to Tally.
type mesOutcome struct {
	winners   []int32
	ties      []Tie
	endowment *big.Rat
	// run is the MES run at the final endowment; winners[:mesWinners] are
	// its, the rest add1u's completion.
	run        *mesRun
	mesWinners int
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

// add1Run is one iteration of the add1 loop, kept to audit its ties.
type add1Run struct {
	e   *big.Rat
	run *mesRun
}

// add1Start is the endowment add1 (and plain MES) starts from: budget/n, or
// with integral (equalshares.net's default) floor(budget/n), so that every
// endowment add1 tries is a whole number of currency units.
func add1Start(x *election, n int64, integral bool) *big.Rat {
	if integral {
		return new(big.Rat).SetInt64(x.budget / n)
	}
	return big.NewRat(x.budget, n)
}

// skipIncrements is false only in tests that compare the jumping add1 loop
// with the plain one.
var skipIncrements = true

// mesParams are the MES options runMES needs.
type mesParams struct {
	comp           Completion
	inc            int64
	exhaustiveStop bool
	integral       bool
}

// runMES runs MES with the chosen completion the way the equalshares.net
// compute tool does. If every project together fits in the budget there is
// nothing for add1 to decide and plain MES at budget/n is used (as the tool
// does). Otherwise add1 starts from add1Start and raises the endowment by inc
// while the outcome fits in the budget, stopping early on an exhaustive
// outcome unless told not to; jumps over increments whose outcome cannot
// change (skip.go) do not change which endowment it ends on.
func runMES(x *election, chain []TieKey, mp mesParams) mesOutcome {
	if len(x.ballots) == 0 {
		return mesOutcome{endowment: new(big.Rat)}
	}
	m := newMESModel(x, chain)
	var all int64
	for _, c := range x.cost {
		all += c
	}
	add1 := mp.comp != CompletionNone && all > x.budget
	e := big.NewRat(x.budget, m.n)
	if add1 {
		e = add1Start(x, m.n, mp.integral)
	}
	cur := m.run(e)
	var runs []add1Run
	// decide says whether the loop accepts a run's outcome and goes on.
	decide := func(first bool, ws []int32) (accepted, proceeds bool) {
		accepted = first || x.costOf(ws) <= x.budget
		proceeds = accepted && !(mp.exhaustiveStop && x.exhaustive(ws)) && len(ws) != m.nElig
		return accepted, proceeds
	}
	if add1 {
		runs = append(runs, add1Run{e: e, run: cur})
		step := new(big.Rat).SetInt64(mp.inc)
		for {
			// cur is always accepted (the first run, or one within budget)
			if _, goOn := decide(true, cur.winners); !goOn {
				break
			}
			// Every endowment below cur.stable gives cur's winners, which the
			// loop accepts: jump to the first increment at or above it.
			jump := int64(1)
			if skipIncrements && cur.stable > cur.ef {
				if math.IsInf(cur.stable, 1) {
					break // no endowment changes the outcome: the loop would never end
				}
				k := math.Ceil((cur.stable - cur.ef) / float64(mp.inc))
				if k > 1 && k < 1<<40 {
					jump = int64(k)
				}
			}
			next := new(big.Rat).Add(e, new(big.Rat).Mul(step, new(big.Rat).SetInt64(jump)))
			nr := m.run(next)
			if x.costOf(nr.winners) > x.budget {
				if jump > 1 {
					// the increments skipped were accepted with cur's winners;
					// the loop ends on the last of them
					e = new(big.Rat).Sub(next, step)
					cur = m.run(e)
					runs = append(runs, add1Run{e: e, run: cur})
				}
				runs = append(runs, add1Run{e: next, run: nr})
				break
			}
			runs = append(runs, add1Run{e: next, run: nr})
			e, cur = next, nr
		}
	}
	ties := cur.ties
	for i := range ties {
		ties[i].Decisive = true // competing for money in the returned run
	}
	// Ties in other add1 iterations are reported once per set of projects.
	// Such a tie is decisive only if choosing differently would have changed
	// whether the loop accepted that run and went on: each run starts
	// afresh, so nothing else carries over. Replay to find out. (Runs
	// skipped by a jump have no ties: a tie bounds a run's stable range at
	// its own endowment.)
	seen := map[string]int{}
	for i, ar := range runs {
		if ar.run == cur {
			continue
		}
		acc, pro := decide(i == 0, ar.run.winners)
		for _, t := range ar.run.ties {
			decisive := false
			for _, alt := range t.Projects {
				if alt == t.Chosen {
					continue
				}
				rr := m.runForced(ar.e, t.Step, indexOf(x, alt))
				if a2, p2 := decide(i == 0, rr.winners); a2 != acc || p2 != pro {
					decisive = true
					break
				}
			}
			key := strings.Join(t.Projects, ",")
			if j, dup := seen[key]; dup {
				ties[j].Runs++
				ties[j].Decisive = ties[j].Decisive || decisive
				continue
			}
			t.Phase, t.Decisive, t.Runs = "add1", decisive, 1
			t.Endowment, _ = ar.e.Float64()
			seen[key] = len(ties)
			ties = append(ties, t)
		}
	}
	out := mesOutcome{winners: cur.winners, ties: ties, endowment: e, run: cur}
	if mp.comp == CompletionAdd1U {
		in := make([]bool, len(x.ids))
		for _, w := range out.winners {
			in[w] = true
		}
		eligible := make([]bool, len(x.ids))
		for p := range eligible {
			eligible[p] = !in[p]
		}
		more, ties := greedy(x, x.votes, chain, eligible, x.budget-x.costOf(out.winners), false, "completion")
		out.mesWinners = len(out.winners)
		out.winners = append(out.winners, more...)
		out.ties = append(out.ties, ties...)
	} else {
		out.mesWinners = len(out.winners)
	}
	return out
}

func indexOf(x *election, id string) int32 {
	for i, v := range x.ids {
		if v == id {
			return int32(i)
		}
	}
	return -1
}
