package tally

import "math"

// Skipping add1 increments whose outcome cannot change.
//
// add1 runs MES at endowments e0, e0+d, e0+2d, ... and most consecutive runs
// pick the same projects in the same order. A run tells how far that lasts.
// Fix a run's shape: which project wins each step and, for each winner, which
// budget classes pay everything they have (the partial ones) and which pay
// the cap. While the shape holds, every class budget and every payment cap is
// an affine function of the endowment: the endowment itself has slope 1, a
// cap with partial classes (cost - their money)/denominator has slope
// -sum(w*beta)/denominator <= 0, and a class that paid the cap keeps slope
// beta - capSlope >= 0. So each decision the run made is a comparison of
// functions that are affine, or (below) concave, in the endowment, and it
// keeps its outcome up to a point that can be computed from this one run:
//
//   - a winner's partial class stays partial while its budget is below the
//     cap (an affine crossing); a full class only gains on the cap;
//   - a rival c does not beat the winner w while the money its supporters
//     could pay at w's price, F_c(e) = sum_j w_j*min(b_j(e), q(e)) - cost_c
//     with q = cap_w*cost_c/cost_w, stays negative. F_c is a sum of minima of
//     affine functions, so concave: its tangent at e bounds it from above,
//     and the tangent's root bounds F_c's first root;
//   - a project found unaffordable stays so while its supporters' total
//     money (affine) stays below its cost; budgets only shrink in later
//     steps, so this also covers every later step.
//
// By induction over the steps, the run keeps its shape, hence its winners,
// for every endowment below the smallest of these bounds (mesRun.stable), and
// add1 can jump to the first grid endowment at or above it. Equalities (a
// tie, a class paying exactly its whole budget) and anything floats cannot
// separate by more than the run's tolerance give no bound: the next grid
// endowment is run as before. Floats only ever shorten a jump (margins below),
// and every endowment add1 reports or accepts is still decided by an exact
// run, so the winners are those of the plain increment-by-increment loop.

// slopeSafety inflates slopes before dividing by them, so rounding can only
// make a jump shorter.
const slopeSafety = 1 + 1e-6

// limit records that the run's shape may change from endowment t on.
func (r *mesRun) limit(t float64) {
	if t <= r.ef || math.IsNaN(t) {
		t = r.ef
	}
	if t < r.stable {
		r.stable = t
	}
}

// boundStep bounds the endowments for which the step about to buy pc keeps
// its outcome: the winner's partial classes stay partial and no rival
// catches up with the winner's price.
func (r *mesRun) boundStep(pc purchase) {
	if r.stable <= r.ef {
		return // nothing left to learn: the next grid endowment is run anyway
	}
	x := r.m.x
	capSlope := r.paySlope(pc)
	for _, e := range r.bucket[pc.p] {
		d := pc.payF - r.bf[e.c]
		if math.Abs(d) <= r.tol {
			r.limit(r.ef) // pays exactly its budget, or too close to call
			return
		}
		if d > 0 { // partial: the budget grows towards the falling cap
			if s := r.beta[e.c] - capSlope; s > 0 {
				r.limit(r.ef + (d-r.tol)/(s*slopeSafety))
			}
		}
	}
	costW := float64(x.cost[pc.p])
	rho, rhoSlope := pc.payF/costW, capSlope/costW
	for c := range r.alive {
		if !r.alive[c] || int32(c) == pc.p {
			continue
		}
		cc := float64(x.cost[c])
		q, qs := rho*cc, rhoSlope*cc
		var f, s, w float64
		for _, e := range r.bucket[c] {
			b, wt := r.bf[e.c], float64(e.w)
			w += wt
			if b < q {
				f += wt * b
				s += wt * r.beta[e.c]
			} else { // right derivative of min at b == q: qs <= 0 <= beta
				f += wt * q
				s += wt * qs
			}
		}
		f -= cc
		margin := r.tol*w + 1e-9*cc
		if f >= -margin {
			r.limit(r.ef) // level with the winner (a tie) or too close to call
			return
		}
		if s > 0 {
			r.limit(r.ef + (-f-margin)/(s*slopeSafety))
		}
	}
}

// boundDead bounds the endowments for which project p, just found
// unaffordable, stays unaffordable.
func (r *mesRun) boundDead(p int32) {
	if r.stable <= r.ef {
		return
	}
	var money, slope, w float64
	for _, e := range r.bucket[p] {
		wt := float64(e.w)
		money += wt * r.bf[e.c]
		slope += wt * r.beta[e.c]
		w += wt
	}
	cost := float64(r.m.x.cost[p])
	gap := cost - money - r.tol*w - 1e-9*cost
	if gap <= 0 {
		r.limit(r.ef)
		return
	}
	if slope > 0 {
		r.limit(r.ef + gap/(slope*slopeSafety))
	}
}
