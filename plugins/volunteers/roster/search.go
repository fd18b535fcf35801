package roster

import (
	"cmp"
	"math"
	"slices"
)

// scale is the number of price units per score point. Prices are integers
// so that bounds are exact; a finer scale lets subgradient steps move
// prices by fractions of a point.
const scale = 1024

const (
	rootIters  = 300 // subgradient steps at the root of a search
	childIters = 40  // steps at other nodes, warm-started from the parent
	repairEach = 8   // run the greedy repair every this many steps
	// tightenIters is how many steps refine the root prices once the
	// optimum is known, before the tie-break.
	tightenIters = 2000
)

// search holds state shared by all components of one Solve call.
type search struct {
	in     *input
	budget int
	nodes  int
}

// cpair is a pair in component-local numbering.
type cpair struct {
	v, s       int
	score      int64
	start, end int64
	dur        int64
	wslot      int
}

type cvol struct {
	pairs  []int   // local pairs, sorted by start
	budget []int64 // seconds left per week slot
}

// item is a candidate in one volunteer's subproblem.
type item struct {
	p          int
	rw         int64
	start, end int64
	dur        int64
	wslot      int
	forced     bool
}

type comp struct {
	s         *search
	pairs     []int       // global pair numbers, canonical order
	local     map[int]int // global -> local
	ps        []cpair
	vols      []cvol
	caps      []int
	byShft    [][]int // local shift -> local pairs
	shiftVols [][]int // local shift -> distinct local volunteers
	greedy    []int   // local pairs by score desc, then canonical order

	fix    []int8 // -1 free, 0 out, 1 in
	forced []int  // per shift: pairs fixed in

	best    []bool
	bestVal int64
	need    int64 // a roster must reach this total to be interesting
	phase2  bool
	stop    bool // phase 2: a roster reaching need was found
	aborted bool // node budget exhausted

	// scratch for the volunteer subproblem
	items   []item
	sfx     []int64
	used    []int64
	stack   []int
	bestSet []int
	subBest int64
	subOK   bool
}

func (s *search) newComp(global []int) *comp {
	in := s.in
	c := &comp{s: s, pairs: global, local: make(map[int]int, len(global))}
	vMap, sMap := map[int]int{}, map[int]int{}
	for i, g := range global {
		c.local[g] = i
		q := in.pairs[g]
		lv, ok := vMap[q.v]
		if !ok {
			lv = len(c.vols)
			vMap[q.v] = lv
			c.vols = append(c.vols, cvol{budget: in.vols[q.v].week})
		}
		ls, ok := sMap[q.s]
		if !ok {
			ls = len(c.caps)
			sMap[q.s] = ls
			c.caps = append(c.caps, in.cap[q.s])
			c.byShft = append(c.byShft, nil)
		}
		c.ps = append(c.ps, cpair{v: lv, s: ls, score: q.score, start: q.start, end: q.end, dur: q.dur, wslot: q.wslot})
		c.byShft[ls] = append(c.byShft[ls], i)
	}
	for g, lv := range vMap {
		for _, gp := range in.vols[g].pairs {
			c.vols[lv].pairs = append(c.vols[lv].pairs, c.local[gp])
		}
	}
	c.shiftVols = make([][]int, len(c.caps))
	for s, ps := range c.byShft {
		for _, p := range ps {
			if v := c.ps[p].v; !slices.Contains(c.shiftVols[s], v) {
				c.shiftVols[s] = append(c.shiftVols[s], v)
			}
		}
	}
	c.greedy = make([]int, len(c.ps))
	for i := range c.greedy {
		c.greedy[i] = i
	}
	slices.SortStableFunc(c.greedy, func(a, b int) int { return cmp.Compare(c.ps[b].score, c.ps[a].score) })
	c.fix = make([]int8, len(c.ps))
	for i := range c.fix {
		c.fix[i] = -1
	}
	c.forced = make([]int, len(c.caps))
	c.best = make([]bool, len(c.ps))
	return c
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// solve runs both phases for the component and reports whether the total
// was proved optimal and the tie-break completed.
func (c *comp) solve() (optimal, canonical bool) {
	lam := c.marketPrices()
	// The empty roster is always feasible.
	c.bestVal, c.need = 0, 1
	c.node(lam, rootIters, nil)
	if c.aborted {
		return false, false
	}
	c.tighten(lam, c.bestVal, tightenIters)
	return true, c.canonicalise(lam)
}

// tighten lowers the bound towards the known optimum opt with subgradient
// steps aimed exactly at it, leaving the best prices in lam. The closer the
// bound is to opt, the more pairs the tie-break can rule out without search.
func (c *comp) tighten(lam []int64, opt int64, iters int) int64 {
	e := c.newEvaluator()
	x := e.x
	best := slices.Clone(lam)
	bestL := int64(math.MaxInt64)
	g := make([]float64, len(c.caps))
	load := make([]int, len(c.caps))
	mu, stall := 1.0, 0
	for range iters {
		L, ok := e.eval(lam)
		if !ok {
			break
		}
		if L < bestL {
			bestL, stall = L, 0
			copy(best, lam)
		} else if stall++; stall >= 10 {
			mu, stall = mu/2, 0
		}
		if L <= opt*scale || mu < 1.0/1024 {
			break
		}
		clear(load)
		for p, in := range x {
			if in {
				load[c.ps[p].s]++
			}
		}
		var norm float64
		for s := range g {
			g[s] = float64(c.caps[s] - load[s])
			if g[s] > 0 && lam[s] == 0 {
				g[s] = 0
			}
			norm += g[s] * g[s]
		}
		if norm == 0 {
			break
		}
		t := mu * float64(L-opt*scale) / norm
		for s := range lam {
			lam[s] = max(0, lam[s]-int64(math.Round(t*g[s])))
		}
	}
	copy(lam, best)
	return bestL
}

// marketPrices starts each shift's price at the score of the first candidate
// who would miss out if every candidate only wanted that shift.
func (c *comp) marketPrices() []int64 {
	lam := make([]int64, len(c.caps))
	for s, ps := range c.byShft {
		if len(ps) <= c.caps[s] {
			continue
		}
		sc := make([]int64, len(ps))
		for i, p := range ps {
			sc[i] = c.ps[p].score
		}
		slices.Sort(sc)
		lam[s] = sc[len(sc)-1-c.caps[s]] * scale
	}
	return lam
}

// setFix changes the fixing of p and reports whether that flipped its
// shift between "full of fixed pairs" and not, which changes who else may
// take it.
func (c *comp) setFix(p int, v int8) bool {
	s := c.ps[p].s
	was := c.forced[s] >= c.caps[s]
	if c.fix[p] == 1 {
		c.forced[s]--
	}
	c.fix[p] = v
	if v == 1 {
		c.forced[s]++
	}
	return was != (c.forced[s] >= c.caps[s])
}

// solveVol finds the best feasible set of shifts for volunteer v at prices
// lam, honouring fixed pairs, and marks it in x. It returns false when the
// pairs fixed in cannot all be held together.
func (c *comp) solveVol(v int, lam []int64, x []bool) (int64, bool) {
	c.items = c.items[:0]
	for _, p := range c.vols[v].pairs {
		q := &c.ps[p]
		f := c.fix[p]
		if f == 0 || (f == -1 && c.forced[q.s] >= c.caps[q.s]) {
			continue
		}
		rw := q.score*scale - lam[q.s]
		if f == 1 || rw > 0 {
			c.items = append(c.items, item{p, rw, q.start, q.end, q.dur, q.wslot, f == 1})
		}
	}
	n := len(c.items)
	if n == 0 {
		return 0, true
	}
	c.sfx = slices.Grow(c.sfx[:0], n+1)[:n+1]
	c.sfx[n] = 0
	for i := n - 1; i >= 0; i-- {
		it := &c.items[i]
		c.sfx[i] = c.sfx[i+1]
		if it.forced || it.rw > 0 {
			c.sfx[i] += it.rw
		}
	}
	c.used = slices.Grow(c.used[:0], len(c.vols[v].budget))[:len(c.vols[v].budget)]
	clear(c.used)
	c.stack, c.bestSet = c.stack[:0], c.bestSet[:0]
	c.subOK, c.subBest = false, math.MinInt64
	c.dfs(v, 0, 0, math.MinInt64)
	if !c.subOK {
		return 0, false
	}
	for _, i := range c.bestSet {
		x[c.items[i].p] = true
	}
	return c.subBest, true
}

func (c *comp) dfs(v, i int, cur, maxEnd int64) {
	if c.subOK && cur+c.sfx[i] <= c.subBest {
		return
	}
	if i == len(c.items) {
		c.subOK, c.subBest = true, cur
		c.bestSet = append(c.bestSet[:0], c.stack...)
		return
	}
	it := &c.items[i]
	if it.start >= maxEnd && c.used[it.wslot]+it.dur <= c.vols[v].budget[it.wslot] {
		c.used[it.wslot] += it.dur
		c.stack = append(c.stack, i)
		c.dfs(v, i+1, cur+it.rw, max(maxEnd, it.end))
		c.stack = c.stack[:len(c.stack)-1]
		c.used[it.wslot] -= it.dur
	}
	if !it.forced {
		c.dfs(v, i+1, cur, maxEnd)
	}
}

// evaluator computes the Lagrangian bound at given prices. It remembers each
// volunteer's answer, so after a price step only the volunteers on shifts
// whose price moved are solved again — near convergence that is few of them.
type evaluator struct {
	c     *comp
	vals  []int64
	x     []bool // the volunteers' chosen pairs
	prev  []int64
	fresh bool
	stamp []int
	epoch int
	dirty []int // volunteers whose fixings changed since the last eval
}

// clone copies the evaluator so a child node can diverge from its parent.
func (e *evaluator) clone() *evaluator {
	return &evaluator{c: e.c, vals: slices.Clone(e.vals), x: slices.Clone(e.x), prev: slices.Clone(e.prev),
		fresh: e.fresh, stamp: make([]int, len(e.stamp)), dirty: slices.Clone(e.dirty)}
}

// touch records that pair p was fixed or freed: its volunteer must be
// solved again, and so must everyone on its shift when the shift's "full"
// status flipped.
func (e *evaluator) touch(p int, flipped bool) {
	q := &e.c.ps[p]
	e.dirty = append(e.dirty, q.v)
	if flipped {
		e.dirty = append(e.dirty, e.c.shiftVols[q.s]...)
	}
}

func (c *comp) newEvaluator() *evaluator {
	return &evaluator{c: c, vals: make([]int64, len(c.vols)), x: make([]bool, len(c.ps)),
		prev: make([]int64, len(c.caps)), stamp: make([]int, len(c.vols))}
}

// eval returns the bound at lam in score units × scale; ok is false when
// the pairs fixed in cannot all be held.
func (e *evaluator) eval(lam []int64) (L int64, ok bool) {
	c := e.c
	redo := func(v int) bool {
		for _, p := range c.vols[v].pairs {
			e.x[p] = false
		}
		var ok bool
		e.vals[v], ok = c.solveVol(v, lam, e.x)
		return ok
	}
	if !e.fresh {
		for v := range c.vols {
			if !redo(v) {
				return 0, false
			}
		}
		e.fresh = true
	} else {
		e.epoch++
		for _, v := range e.dirty {
			if e.stamp[v] != e.epoch {
				e.stamp[v] = e.epoch
				if !redo(v) {
					return 0, false
				}
			}
		}
		for s, l := range lam {
			if l == e.prev[s] {
				continue
			}
			for _, v := range c.shiftVols[s] {
				if e.stamp[v] != e.epoch {
					e.stamp[v] = e.epoch
					if !redo(v) {
						return 0, false
					}
				}
			}
		}
	}
	e.dirty = e.dirty[:0]
	copy(e.prev, lam)
	for s, l := range lam {
		L += l * int64(c.caps[s])
	}
	for _, v := range e.vals {
		L += v
	}
	return L, true
}

// offer records a feasible roster.
func (c *comp) offer(sol []bool, val int64) {
	if c.phase2 {
		if val >= c.need {
			copy(c.best, sol)
			c.bestVal = val
			c.stop = true
		}
		return
	}
	if val > c.bestVal {
		copy(c.best, sol)
		c.bestVal, c.need = val, val+1
	}
}

// repair turns the volunteers' choices into a feasible roster: within an
// over-full shift keep fixed pairs, then higher scores; then fill free places
// best score first.
func (c *comp) repair(x []bool) ([]bool, int64) {
	sol := slices.Clone(x)
	load := make([]int, len(c.caps))
	for s, ps := range c.byShft {
		var in []int
		for _, p := range ps {
			if sol[p] {
				in = append(in, p)
			}
		}
		if len(in) > c.caps[s] {
			slices.SortStableFunc(in, func(a, b int) int {
				if fa, fb := c.fix[a] == 1, c.fix[b] == 1; fa != fb {
					if fa {
						return -1
					}
					return 1
				}
				return cmp.Compare(c.ps[b].score, c.ps[a].score)
			})
			for _, p := range in[c.caps[s]:] {
				sol[p] = false
			}
			in = in[:c.caps[s]]
		}
		load[s] = len(in)
	}
	for _, p := range c.greedy {
		q := &c.ps[p]
		if sol[p] || c.fix[p] == 0 || load[q.s] >= c.caps[q.s] || !c.fits(sol, p) {
			continue
		}
		sol[p] = true
		load[q.s]++
	}
	var val int64
	for p, ok := range sol {
		if ok {
			val += c.ps[p].score
		}
	}
	return sol, val
}

// fits reports whether volunteer of p can add p to its pairs in sol.
func (c *comp) fits(sol []bool, p int) bool {
	q := &c.ps[p]
	vol := &c.vols[q.v]
	used := q.dur
	for _, o := range vol.pairs {
		if !sol[o] {
			continue
		}
		r := &c.ps[o]
		if overlaps(q.start, q.end, r.start, r.end) {
			return false
		}
		if r.wslot == q.wslot {
			used += r.dur
		}
	}
	return used <= vol.budget[q.wslot]
}

// relax improves prices by projected subgradient steps and returns the best
// bound found (in whole score points, rounded down) with the choices that
// achieved it. It stops early once the node can be pruned or the choices are
// a proven optimum for the node.
func (c *comp) relax(lam []int64, iters int, e *evaluator) (bound int64, x []bool, feasible bool) {
	if e == nil {
		e = c.newEvaluator()
	}
	x = e.x
	bestX := make([]bool, len(c.ps))
	bestL := int64(math.MaxInt64)
	bestLam := slices.Clone(lam)
	// Hand the best prices back: children and the tie-break start there.
	defer copy(lam, bestLam)
	mu, stall := 1.0, 0
	load := make([]int, len(c.caps))
	g := make([]float64, len(c.caps))
	for it := 0; it < iters; it++ {
		L, ok := e.eval(lam)
		if !ok {
			return math.MinInt64, nil, false
		}
		if L < bestL {
			bestL, stall = L, 0
			copy(bestX, x)
			copy(bestLam, lam)
		} else if stall++; stall >= 10 {
			mu, stall = mu/2, 0
		}
		clear(load)
		for p, in := range x {
			if in {
				load[c.ps[p].s]++
			}
		}
		var norm float64
		over := false
		for s := range g {
			g[s] = float64(c.caps[s] - load[s])
			if g[s] > 0 && lam[s] == 0 {
				g[s] = 0
			}
			if g[s] < 0 {
				over = true
			}
			norm += g[s] * g[s]
		}
		if !over || it%repairEach == 0 || it == iters-1 {
			sol, val := c.repair(x)
			c.offer(sol, val)
			if c.stop {
				return floorDiv(bestL, scale), bestX, true
			}
		}
		if floorDiv(bestL, scale) < c.need || norm == 0 || mu < 1.0/256 {
			break
		}
		t := mu * float64(L-(c.need-1)*scale) / norm
		moved := false
		for s := range lam {
			d := int64(math.Round(t * g[s]))
			if d != 0 && !(d > 0 && lam[s] == 0) {
				lam[s] = max(0, lam[s]-d)
				moved = true
			}
		}
		if !moved {
			mu *= 2 // too small to move any price: grow the step
			if mu > 2 {
				break
			}
		}
	}
	return floorDiv(bestL, scale), bestX, true
}

// node explores one branch-and-bound node with the current fixings. It
// returns true when the whole search must stop.
func (c *comp) node(lam []int64, iters int, e *evaluator) bool {
	c.s.nodes++
	if c.s.nodes > c.s.budget {
		c.aborted = true
		return true
	}
	if e == nil {
		e = c.newEvaluator()
	}
	bound, x, ok := c.relax(lam, iters, e)
	if c.stop {
		return true
	}
	if !ok || bound < c.need {
		return false
	}
	p, inFirst := c.pickBranch(x)
	if p < 0 {
		return false
	}
	order := [2]int8{0, 1}
	if inFirst {
		order = [2]int8{1, 0}
	}
	for _, f := range order {
		flipped := c.setFix(p, f)
		if f == 0 || c.forced[c.ps[p].s] <= c.caps[c.ps[p].s] {
			ce := e.clone()
			ce.touch(p, flipped)
			if c.node(slices.Clone(lam), childIters, ce) {
				c.setFix(p, -1)
				return true
			}
		}
		c.setFix(p, -1)
		if bound < c.need { // the incumbent improved enough to prune the rest
			return false
		}
	}
	return false
}

// pickBranch chooses the pair to fix next. Where a shift is over-full, the
// weakest chosen pair there is tried "out" first; otherwise a chosen free
// pair is tried "in" first, so diving follows the relaxation.
func (c *comp) pickBranch(x []bool) (int, bool) {
	load := make([]int, len(c.caps))
	for p, in := range x {
		if in {
			load[c.ps[p].s]++
		}
	}
	bestS, bestOver := -1, 0
	for s := range c.caps {
		if o := load[s] - c.caps[s]; o > bestOver {
			bestS, bestOver = s, o
		}
	}
	if bestS >= 0 {
		pick := -1
		for _, p := range c.byShft[bestS] {
			if x[p] && c.fix[p] == -1 && (pick < 0 || c.ps[p].score <= c.ps[pick].score) {
				pick = p
			}
		}
		if pick >= 0 {
			return pick, false
		}
	}
	for p, in := range x {
		if in && c.fix[p] == -1 {
			return p, true
		}
	}
	for p := range c.ps {
		if c.fix[p] == -1 {
			return p, true
		}
	}
	return -1, false
}

// descend tries to prove cheaply that no optimal roster holds the pair p
// just fixed in: it re-prices p's shift, then the other shifts whose choice
// by p's volunteer changed, each by an exact one-dimensional minimisation of
// the bound, on a copy of the prices. It returns false when the bound falls
// below opt.
func (c *comp) descend(p int, lamStar []int64, e0 *evaluator, opt int64) bool {
	lam := slices.Clone(lamStar)
	e := e0.clone()
	v := c.ps[p].v
	shifts := []int{c.ps[p].s}
	for _, o := range c.vols[v].pairs {
		if e.x[o] != c.best[o] && c.ps[o].s != c.ps[p].s {
			shifts = append(shifts, c.ps[o].s)
		}
	}
	for _, s := range shifts {
		c.lineMin(s, lam, e)
		L, ok := e.eval(lam)
		if !ok || floorDiv(L, scale) < opt {
			return false
		}
	}
	return true
}

// lineMin sets lam[s] to minimise the bound with all other prices held.
// Each volunteer u on s is worth max(A_u − δ, B_u) when the price rises by
// δ, where A_u is their best with s and B_u their best without it, so the
// bound is convex and piecewise linear in δ and its minimum is read off the
// sorted breakpoints A_u − B_u.
func (c *comp) lineMin(s int, lam []int64, e *evaluator) {
	const inf = math.MinInt64 / 4
	var breaks []int64
	hold := 0 // volunteers that keep s whatever its price
	scratch := make([]bool, len(c.ps))
	for _, u := range c.shiftVols[s] {
		q := -1
		for _, o := range c.vols[u].pairs {
			if c.ps[o].s == s {
				q = o
			}
		}
		f := c.fix[q]
		a, b := int64(inf), int64(inf)
		if f == 1 {
			hold++
			continue
		}
		if f == -1 && c.forced[s] < c.caps[s] {
			c.fix[q] = 1
			if val, ok := c.solveVol(u, lam, scratch); ok {
				a = val
			}
			c.fix[q] = -1
		}
		c.fix[q] = 0
		if val, ok := c.solveVol(u, lam, scratch); ok {
			b = val
		}
		c.fix[q] = f
		if a > inf && b > inf {
			breaks = append(breaks, a-b)
		}
	}
	room := c.caps[s] - hold
	if room < 0 {
		return
	}
	slices.Sort(breaks)
	slices.Reverse(breaks)
	d := -lam[s]
	if room < len(breaks) {
		d = max(d, breaks[room])
	}
	lam[s] += d
}

// canonicalise applies the tie-break: walking pairs in canonical order, fix
// each one in if some optimal roster agrees with every decision so far and
// contains it. c.best stays an optimal roster agreeing with all decisions.
func (c *comp) canonicalise(lamStar []int64) bool {
	opt := c.bestVal
	c.phase2 = true
	e := c.newEvaluator()
	if _, ok := e.eval(lamStar); !ok {
		return false // cannot happen: nothing is fixed yet
	}
	for p := range c.ps {
		e.touch(p, c.setFix(p, 1))
		L, ok := e.eval(lamStar)
		// c.best is an optimal roster agreeing with every decision so far.
		keep := c.best[p]
		if !keep && ok && c.forced[c.ps[p].s] <= c.caps[c.ps[p].s] && floorDiv(L, scale) >= opt {
			ok = c.descend(p, lamStar, e, opt)
		}
		if !keep && ok && c.forced[c.ps[p].s] <= c.caps[c.ps[p].s] && floorDiv(L, scale) >= opt {
			c.need, c.stop = opt, false
			c.node(slices.Clone(lamStar), childIters, e.clone())
			if c.aborted {
				c.setFix(p, -1)
				return false
			}
			keep = c.stop
		}
		if !keep {
			e.touch(p, c.setFix(p, 0))
			e.eval(lamStar)
		}
	}
	return true
}
