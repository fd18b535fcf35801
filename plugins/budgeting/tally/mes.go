package tally

import (
	"cmp"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Method of Equal Shares with cost utilities, as equalshares.net and Pabulib
// define it. Every voter starts with the same endowment. A project is
// affordable if its supporters together still hold its cost; its price per
// unit of utility is rho = p/cost, where p is the smallest payment cap such
// that supporters paying min(budget_i, p) cover the cost. Each step buys the
// affordable project with the smallest rho (equivalently the largest
// "effective vote count" cost/p), and its supporters pay min(budget_i, p).
//
// Speed comes from a few observations. Voters with identical approval sets
// are charged identically forever, so they are one weighted group. A
// project's price only rises as budgets shrink, so its last price is a lower
// bound and only the few projects that can still win a step are re-priced
// (step). Pricing fills water over the supporters instead of sorting them
// (floatPrice). Budgets take few distinct values (the endowment minus the
// payments for some set of winners): each group sits in a budget class, and
// the exact budget (big.Rat) of a class is derived lazily from its parent's
// and the payment that created it. Floats, kept per group, only pre-select
// the candidates that an exact comparison then decides between; on real data
// that is rare, so most runs do no big.Rat arithmetic at all. add1's runs
// are independent and run on every core (add1Loop).

// mesModel is the election in grouped form, built once per tally and shared
// by every add1 iteration.
type mesModel struct {
	x      *election
	chain  []TieKey
	n      int64     // number of voters
	groups [][]int32 // distinct approval sets (eligible projects only)
	weight []int64   // voters per group
	supp   [][]int32 // per project, the groups that approve it
	// supp again, flat: project p's groups are flatG[flatOff[p]:flatOff[p+1]],
	// their weights (as floats) in flatW beside them. Runs copy these and
	// drop the groups that have nothing left (floatPrice).
	flatG    []int32
	flatW    []float64
	flatOff  []int32
	votesF   []float64 // per project, its supporters as a float
	overlap  [][]bool  // overlap[p][q]: some voter approves both
	eligible []bool    // cost > 0 and approved by someone (as equalshares.net)
	nElig    int
	minCost  float64 // cheapest eligible project, for a safe float tolerance on rho

	spare sync.Pool // *mesRun buffers to reuse (release)
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
	m.minCost = math.Inf(1)
	for p := range np {
		if m.eligible[p] {
			m.minCost = min(m.minCost, float64(x.cost[p]))
		}
	}
	m.supp = make([][]int32, np)
	m.votesF = make([]float64, np)
	m.overlap = make([][]bool, np)
	for p := range np {
		m.overlap[p] = make([]bool, np)
	}
	for g, set := range m.groups {
		w := float64(m.weight[g])
		for _, p := range set {
			m.supp[p] = append(m.supp[p], int32(g))
			m.votesF[p] += w
			for _, q := range set {
				m.overlap[p][q] = true
			}
		}
	}
	m.flatOff = make([]int32, np+1)
	for p, gs := range m.supp {
		m.flatOff[p+1] = m.flatOff[p] + int32(len(gs))
		for _, g := range gs {
			m.flatG = append(m.flatG, g)
			m.flatW = append(m.flatW, float64(m.weight[g]))
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
	parent []int32    // per class
	made   []int32    // per class, the purchase that created it
	buys   []purchase
	cls    []int32   // class per group
	gb     []float64 // float budget per group: bf[cls[g]], kept flat for the pricing loops
	// The supporters floatPrice still has to look at: project p's are
	// supG/supW[flatOff[p]:flatOff[p]+supN[p]]; groups with nothing left are
	// dropped as floatPrice meets them, and their voters counted in spent[p].
	supG   []int32
	supW   []float64
	supN   []int32
	spent  []float64
	alive  []bool    // still a candidate
	dirty  []bool    // supporters paid since last priced
	ratioF []float64 // cached float rho
	payF   []float64 // cached float payment cap
	vague  []bool    // cached: floats too close to call for this project

	order, finals []int32 // scratch for step
	classPos      []int32 // scratch: class -> position in a bucket, valid where classStamp matches
	classStamp    []int32
	stamp         int32

	winners []int32
	ties    []Tie

	// forceStep/forceP replay a run taking forceP at a tie on forceStep, to
	// see whether the other choice would have mattered.
	forceStep int
	forceP    int32
}

const zeroClass = 1

func (m *mesModel) run(endowment *big.Rat) *mesRun { return m.runForced(endowment, 0, -1) }

func (m *mesModel) runForced(endowment *big.Rat, forceStep int, forceP int32) *mesRun {
	r, _ := m.spare.Get().(*mesRun)
	if r == nil {
		r = &mesRun{m: m}
	}
	r.reset(endowment, forceStep, forceP)
	if endowment.Sign() == 0 {
		return r
	}
	for r.step() {
	}
	return r
}

// release hands a run's buffers back for the next run: add1 makes hundreds of
// runs of the same size, and reusing their arrays keeps the garbage
// collector (and its pauses of the pricing loops) out of the way.
func (m *mesModel) release(r *mesRun) {
	if r != nil {
		m.spare.Put(r)
	}
}

// reset makes r a fresh run at endowment, reusing its arrays.
func (r *mesRun) reset(endowment *big.Rat, forceStep int, forceP int32) {
	m := r.m
	np, ng := len(m.x.ids), len(m.groups)
	ef, _ := endowment.Float64()
	r.tol = ef * 1e-8
	clear(r.exact)
	r.exact = append(r.exact[:0], new(big.Rat).Set(endowment), new(big.Rat))
	r.bf = append(r.bf[:0], ef, 0)
	r.parent = append(r.parent[:0], -1, -1)
	r.made = append(r.made[:0], -1, -1)
	clear(r.buys)
	r.buys = r.buys[:0]
	r.cls = resize(r.cls, ng)
	r.gb = resize(r.gb, ng)
	r.alive = resize(r.alive, np)
	r.dirty = resize(r.dirty, np)
	r.ratioF = resize(r.ratioF, np)
	r.payF = resize(r.payF, np)
	r.vague = resize(r.vague, np)
	r.supG = append(r.supG[:0], m.flatG...)
	r.supW = append(r.supW[:0], m.flatW...)
	r.supN = resize(r.supN, np)
	for p := range np {
		r.supN[p] = m.flatOff[p+1] - m.flatOff[p]
	}
	r.spent = resize(r.spent, np)
	r.winners, r.ties = nil, nil
	r.forceStep, r.forceP = forceStep, forceP
	if endowment.Sign() == 0 {
		return
	}
	for g := range r.gb {
		r.gb[g] = ef
	}
	for p := range np {
		if m.eligible[p] {
			r.alive[p] = true
			r.initialPrice(int32(p), ef)
		}
	}
}

// resize returns s with length n and every element zero.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
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
//
// It fills water instead of sorting: start from every supporter paying an
// equal share; the groups that cannot pay it pay everything they have, which
// raises the others' share; repeat until nobody new falls short. The share
// only rises, so the loop ends at the cap the sorted procedure finds; on
// real data after two or three passes over the supporters.
func (r *mesRun) floatPrice(p int32) (rho, pay float64, ok, vague bool) {
	off := r.m.flatOff[p]
	n := r.supN[p]
	sup, wf := r.supG[off:off+n], r.supW[off:off+n]
	gb, cls := r.gb, r.cls
	// Drop the groups with nothing left: they pay nothing, now or later.
	for i := 0; i < len(sup); {
		if cls[sup[i]] == zeroClass {
			r.spent[p] += wf[i]
			last := len(sup) - 1
			sup[i], wf[i] = sup[last], wf[last]
			sup, wf = sup[:last], wf[:last]
			continue
		}
		i++
	}
	r.supN[p] = int32(len(sup))
	cost, denom := float64(r.m.x.cost[p]), r.m.votesF[p]-r.spent[p]
	if denom <= 0 {
		return 0, 0, false, false
	}
	slack := r.tol * denom
	// The first pass sums the money and finds who falls short of an equal
	// share, which needs no total: the number of supporters is known.
	mp := cost / denom
	var total, paid, sw float64
	near := false
	for i, g := range sup {
		b := gb[g]
		total += wf[i] * b
		if b < mp {
			paid += wf[i] * b
			sw += wf[i]
		}
		if d := b - mp; d < r.tol && d > -r.tol {
			near = true
		}
	}
	if total < cost-slack {
		return 0, 0, false, false
	}
	vague = total <= cost+slack
	for sw != 0 {
		if denom-sw <= 0 {
			// Everyone falls short of the share: floats put the money at the
			// cost within rounding (total ~ cost). The price is about the
			// largest budget; the exact pricing decides.
			mp = 0
			for _, g := range sup {
				mp = max(mp, gb[g])
			}
			return mp / cost, mp, true, true
		}
		next := (cost - paid) / (denom - sw)
		if next < mp {
			// The share did not rise: only rounding can do that, so floats
			// cannot tell the cap here; the exact pricing decides. (It must
			// rise for the loop to end: the set of those short only grows.)
			return next / cost, next, true, true
		}
		mp = next
		shortW := sw
		paid, sw, near = 0, 0, false
		for i, g := range sup {
			b := gb[g]
			if b < mp {
				paid += wf[i] * b
				sw += wf[i]
			}
			if d := b - mp; d < r.tol && d > -r.tol {
				near = true
			}
		}
		if sw == shortW { // nobody new fell short: mp is the cap
			break
		}
	}
	return mp / cost, mp, true, vague || near
}

// initialPrice prices p before anything is bought, when every supporter
// holds the endowment ef: the supporters share the cost equally if they can
// (floatPrice in closed form); anything less clear is left to floatPrice.
func (r *mesRun) initialPrice(p int32, ef float64) {
	cost, votes := float64(r.m.x.cost[p]), r.m.votesF[p]
	mp, total, slack := cost/votes, ef*votes, r.tol*votes
	switch {
	case total < cost-slack:
		r.alive[p] = false // budgets only shrink: never affordable in this run
	case ef >= mp+r.tol && total > cost+slack:
		r.ratioF[p], r.payF[p] = mp/cost, mp
	default:
		r.dirty[p] = true
	}
}

// bucket returns p's supporters by budget class, with weights.
func (r *mesRun) bucket(p int32) []entry {
	r.nextStamp()
	var es []entry
	for _, g := range r.m.supp[p] {
		c := r.cls[g]
		if c == zeroClass {
			continue
		}
		if r.classStamp[c] != r.stamp {
			r.classStamp[c], r.classPos[c] = r.stamp, int32(len(es))
			es = append(es, entry{c: c})
		}
		es[r.classPos[c]].w += r.m.weight[g]
	}
	return es
}

// split divides p's supporters at the payment cap pay: the budget classes
// below it, which pay everything they have (with their weights), and the
// number of voters who pay the cap. Voters with nothing left are in neither.
func (r *mesRun) split(p int32, pay float64) (partial []entry, denom int64) {
	r.nextStamp()
	for _, g := range r.m.supp[p] {
		c := r.cls[g]
		if c == zeroClass {
			continue
		}
		if r.gb[g] >= pay {
			denom += r.m.weight[g]
			continue
		}
		if r.classStamp[c] != r.stamp {
			r.classStamp[c], r.classPos[c] = r.stamp, int32(len(partial))
			partial = append(partial, entry{c: c})
		}
		partial[r.classPos[c]].w += r.m.weight[g]
	}
	return partial, denom
}

// nextStamp invalidates classPos in O(1) and sizes it to the classes.
func (r *mesRun) nextStamp() {
	if len(r.classStamp) < len(r.bf) {
		n := 2*len(r.bf) + 64
		r.classStamp = append(r.classStamp, make([]int32, n-len(r.classStamp))...)
		r.classPos = append(r.classPos, make([]int32, n-len(r.classPos))...)
	}
	r.stamp++
}

// exactPrice runs the pricing procedure exactly; it returns the purchase
// that buying p now would be, or false if p is unaffordable.
func (r *mesRun) exactPrice(p int32) (purchase, bool) {
	es := r.bucket(p)
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
//
// A project's rho only rises as budgets shrink, so a cached rho is a lower
// bound of its current one. Candidates are visited by cached rho, and the
// visit stops once the bound is worse than the best current rho found
// (beyond the float tolerance): only the few projects that can still win are
// re-priced, as the equalshares.net tool also does.
func (r *mesRun) step() bool {
	x := r.m.x
	for {
		order := r.order[:0]
		for p := range r.alive {
			if r.alive[p] {
				order = append(order, int32(p))
			}
		}
		r.order = order
		slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(r.ratioF[a], r.ratioF[b]) })
		best, bestP := -1.0, -1
		for _, p := range order {
			if best >= 0 && r.ratioF[p] > best+(r.tol+best*1e-9)/r.m.minCost {
				break // this and every later bound is beyond reach
			}
			if r.dirty[p] {
				var ok bool
				r.ratioF[p], r.payF[p], ok, r.vague[p] = r.floatPrice(p)
				r.dirty[p] = false
				if !ok {
					r.alive[p] = false // budgets only shrink: never affordable again
					continue
				}
			}
			if best < 0 || r.ratioF[p] < best {
				best, bestP = r.ratioF[p], int(p)
			}
		}
		if best < 0 {
			return false
		}
		finals := r.finals[:0]
		for _, p := range order {
			if r.alive[p] && !r.dirty[p] && r.ratioF[p] <= best+(r.tol+best*1e-9)/float64(x.cost[p]) {
				finals = append(finals, p)
			}
		}
		r.finals = finals
		slices.Sort(finals) // input order, which the exact tie-break below relies on
		if len(finals) == 1 && !r.vague[bestP] {
			// the common case: floats decide, the exact payment stays lazy
			partial, denom := r.split(int32(bestP), r.payF[bestP])
			r.buy(purchase{p: int32(bestP), partial: partial, denom: denom, payF: r.payF[bestP]})
			return true
		}
		// exact decision among the candidates floats could confuse
		var cands []purchase
		var rhos []*big.Rat
		for _, p := range finals {
			pc, ok := r.exactPrice(p)
			if !ok {
				r.alive[p] = false
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

// buy records the purchase and charges the supporters min(budget, cap) by
// moving their groups to new budget classes (one per class that paid the
// cap, the zero class for the others); the projects they support are to be
// re-priced.
func (r *mesRun) buy(pc purchase) {
	p := pc.p
	s := int32(len(r.buys))
	r.buys = append(r.buys, pc)
	r.winners = append(r.winners, p)
	r.alive[p] = false
	r.nextStamp()
	for _, g := range r.m.supp[p] {
		c := r.cls[g]
		if c == zeroClass {
			continue
		}
		if r.classStamp[c] != r.stamp {
			r.classStamp[c] = r.stamp
			b := r.bf[c]
			var zero bool
			switch {
			case b < pc.payF-r.tol:
				zero = true
			case b > pc.payF+r.tol:
				zero = false
			default:
				zero = r.exactBudget(c).Cmp(r.exactPay(s)) <= 0
			}
			if zero {
				r.classPos[c] = zeroClass
			} else {
				r.classPos[c] = int32(len(r.bf))
				r.bf = append(r.bf, b-pc.payF)
				r.exact = append(r.exact, nil)
				r.parent = append(r.parent, c)
				r.made = append(r.made, s)
			}
		}
		nc := r.classPos[c]
		r.cls[g], r.gb[g] = nc, r.bf[nc]
	}
	for q, shared := range r.m.overlap[p] {
		r.dirty[q] = r.dirty[q] || shared
	}
}

// add1Loop raises the endowment from e (whose run is cur, already accepted)
// by inc until a run's outcome exceeds the budget or decide stops the loop,
// and returns the final endowment, its run and every run made in order.
//
// The runs are independent, so the next `workers` endowments are run at
// once, one per core, and then examined in order exactly as the one-at-a-time
// loop would; runs past the point where the loop stops are discarded. On 2
// cores this nearly halves the time of a long add1 and costs at most one
// wasted run.
func (m *mesModel) add1Loop(e *big.Rat, cur *mesRun, runs []add1Run, inc int64, workers int,
	decide func(first bool, ws []int32) (bool, bool)) (*big.Rat, *mesRun, []add1Run) {
	step := new(big.Rat).SetInt64(inc)
	workers = max(1, workers)
	batch := make([]add1Run, workers)
	for {
		// cur is always accepted (the first run, or one within budget)
		if _, goOn := decide(true, cur.winners); !goOn {
			return e, cur, runs
		}
		var wg sync.WaitGroup
		next := e
		for i := range batch {
			next = new(big.Rat).Add(next, step)
			batch[i].e = next
			wg.Add(1)
			go func(ar *add1Run) {
				defer wg.Done()
				ar.run = m.run(ar.e)
				ar.winners, ar.ties = ar.run.winners, ar.run.ties
			}(&batch[i])
		}
		wg.Wait()
		stop := -1
		for i, ar := range batch {
			if stop >= 0 {
				m.release(ar.run) // past the point where the loop stops
				continue
			}
			runs = append(runs, add1Run{e: ar.e, winners: ar.winners, ties: ar.ties})
			if m.x.costOf(ar.winners) > m.x.budget {
				m.release(ar.run)
				stop = i
				continue
			}
			m.release(cur)
			e, cur = ar.e, ar.run
			if _, goOn := decide(true, cur.winners); !goOn {
				stop = i
			}
		}
		if stop >= 0 {
			return e, cur, runs
		}
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
	e       *big.Rat
	winners []int32
	ties    []Tie
	run     *mesRun // while it may still be the loop's current run
}

// add1Start is the endowment add1 (and plain MES) starts from: budget/n, or
// with integral (equalshares.net's default) floor(budget/n), so that every
// endowment add1 tries is a whole number of currency units.
func add1Start(x *election, n int64, integral bool, whole int64) *big.Rat {
	if integral {
		return new(big.Rat).SetInt64(x.budget / (n * whole) * whole)
	}
	return big.NewRat(x.budget, n)
}

// mesParams are the MES options runMES needs.
type mesParams struct {
	comp           Completion
	inc            int64
	exhaustiveStop bool
	integral       bool
	whole          int64 // money units per currency unit, for integral
	workers        int   // add1 endowments run at once
}

// runMES runs MES with the chosen completion the way the equalshares.net
// compute tool does. If every project together fits in the budget there is
// nothing for add1 to decide and plain MES at budget/n is used (as the tool
// does). Otherwise add1 starts from add1Start and raises the endowment by inc
// while the outcome fits in the budget, stopping early on an exhaustive
// outcome unless told not to.
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
		e = add1Start(x, m.n, mp.integral, mp.whole)
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
		runs = append(runs, add1Run{e: e, winners: cur.winners, ties: cur.ties})
		e, cur, runs = m.add1Loop(e, cur, runs, mp.inc, mp.workers, decide)
	}
	ties := cur.ties
	for i := range ties {
		ties[i].Decisive = true // competing for money in the returned run
	}
	// Ties in other add1 iterations are reported once per set of projects.
	// Such a tie is decisive only if choosing differently would have changed
	// whether the loop accepted that run and went on: each run starts
	// afresh, so nothing else carries over. Replay to find out.
	seen := map[string]int{}
	for i, ar := range runs {
		if ar.e.Cmp(e) == 0 {
			continue // the returned run: its ties are above
		}
		acc, pro := decide(i == 0, ar.winners)
		for _, t := range ar.ties {
			decisive := false
			for _, alt := range t.Projects {
				if alt == t.Chosen {
					continue
				}
				rr := m.runForced(ar.e, t.Step, indexOf(x, alt))
				a2, p2 := decide(i == 0, rr.winners)
				m.release(rr)
				if a2 != acc || p2 != pro {
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
		// The tool's utilitarian completion orders by votes alone, equal votes
		// in its project order; a tie that decides something is still reported.
		more, ties := greedy(x, x.votes, []TieKey{}, toolOrder(x.ids), eligible, x.budget-x.costOf(out.winners), false, "completion")
		out.mesWinners = len(out.winners)
		out.winners = append(out.winners, more...)
		out.ties = append(out.ties, ties...)
	} else {
		out.mesWinners = len(out.winners)
	}
	return out
}

// toolOrder ranks projects the way the equalshares.net tool lists them: it
// keeps projects in a JavaScript object keyed by id, whose keys come out with
// the ids that are array indices (0 to 2^32-2, written without leading
// zeros) first, in numeric order, then the others in file order. Its add1u
// completion breaks equal votes by that order.
func toolOrder(ids []string) []int32 {
	type key struct {
		numeric bool
		n       uint64
		i       int
	}
	keys := make([]key, len(ids))
	for i, id := range ids {
		keys[i] = key{i: i}
		if n, err := strconv.ParseUint(id, 10, 64); err == nil && n < 1<<32-1 && strconv.FormatUint(n, 10) == id {
			keys[i].numeric, keys[i].n = true, n
		}
	}
	sorted := slices.Clone(keys)
	slices.SortStableFunc(sorted, func(a, b key) int {
		switch {
		case a.numeric && b.numeric:
			return cmp.Compare(a.n, b.n)
		case a.numeric:
			return -1
		case b.numeric:
			return 1
		}
		return 0
	})
	rank := make([]int32, len(ids))
	for r, k := range sorted {
		rank[k.i] = int32(r)
	}
	return rank
}

func indexOf(x *election, id string) int32 {
	for i, v := range x.ids {
		if v == id {
			return int32(i)
		}
	}
	return -1
}
