// Package roster proposes which volunteers take which shifts.
//
// Given volunteers, shifts and the eligible (volunteer, shift, score) pairs
// from package match, [Solve] finds an assignment that maximises the total
// score subject to
//
//   - shift capacities,
//   - each volunteer's weekly hour limit (ISO week of the shift's start in the
//     city's time zone; hours already committed that week count),
//   - no two shifts of one volunteer overlapping (half-open intervals), and
//     no shift overlapping an existing commitment,
//   - each pair used at most once.
//
// # Method
//
// Capacities are the only constraints that tie volunteers together; the
// overlap and hour rules stay inside one volunteer. That suggests a
// Lagrangian relaxation: put a price λ_s ≥ 0 on each place of shift s, and
// each volunteer independently picks the feasible set of shifts with the
// largest Σ(score − λ_s). For every λ ≥ 0,
//
//	Σ_s λ_s·capacity_s + Σ_v best_v(λ)
//
// is an upper bound on the optimum, and it is as strong as the linear
// relaxation in which every volunteer's overlap and hour rules hold exactly
// (stronger than a min-cost-flow relaxation, which would have to drop them).
// Each volunteer's subproblem is small (the shifts they are eligible for
// whose reduced score is positive) and solved exactly by depth-first search.
// Prices are improved by projected subgradient steps (Polyak step length),
// starting from market prices: the score of the first candidate who would not
// get a place.
//
// The bound drives an exact branch and bound over pairs (fix a pair in, or
// out). Scores are integers, so a node is pruned when the floor of its bound
// cannot beat the best roster found; prices are kept as integers in 1/1024
// score units so no rounding error can prune wrongly. At every node a
// greedy repair of the volunteers' choices (keep the best up to capacity,
// then fill free places best-score-first) supplies feasible rosters.
// Volunteers and shifts that share no pair are solved independently
// (connected components), which keeps the search small when a city plans
// several unrelated events at once.
//
// # Tie-break
//
// Many rosters often reach the same total. The result is canonical: list all
// pairs in order of volunteer ID, then shift ID; among optimal rosters the
// one chosen is the lexicographically greatest 0/1 vector in that order —
// whenever there is a choice, the volunteer with the smaller ID keeps the
// shift with the smaller ID. It is computed by fixing pairs in that order,
// each one "in" if an optimal roster with the decisions so far and this pair
// exists, using the same bound and search. Most pairs are ruled out without
// search: the bound with the pair fixed in, after re-pricing its shift by an
// exact one-dimensional minimisation, already falls below the optimum. The
// answer therefore depends only on the input as a set, never on its order.
//
// # Limits
//
// The search stops after [Problem.MaxNodes] nodes. It then returns the best
// roster found with Optimal=false (and Canonical=false when the tie-break
// could not be completed); it never claims optimality it has not proved.
package roster

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Week is an ISO 8601 week.
type Week struct {
	Year, Week int
}

// WeekOf returns the ISO week of t in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	y, w := t.In(loc).ISOWeek()
	return Week{y, w}
}

// Interval is a half-open interval [Start, End).
type Interval struct {
	Start, End time.Time
}

// Volunteer is one person who can be rostered.
type Volunteer struct {
	ID string
	// MaxWeekly limits the hours per ISO week; zero means no limit.
	MaxWeekly time.Duration
	// Committed is the time already committed in each ISO week.
	Committed map[Week]time.Duration
	// Commitments are existing shifts: a pair whose shift overlaps one of
	// them is never assigned.
	Commitments []Interval
}

// Shift is one slot with a number of places.
type Shift struct {
	ID         string
	Start, End time.Time
	Capacity   int
}

// Pair says a volunteer is eligible for a shift with this score. Pairs with a
// score of zero or less are never assigned: they cannot raise the total.
type Pair struct {
	VolunteerID, ShiftID string
	Score                int
}

// DefaultMaxNodes is the node budget used when Problem.MaxNodes is zero.
const DefaultMaxNodes = 20000

// Problem is the input to Solve.
type Problem struct {
	// Location is the city's time zone, which defines ISO weeks.
	Location   *time.Location
	Volunteers []Volunteer
	Shifts     []Shift
	Pairs      []Pair
	// MaxNodes bounds the branch-and-bound search; 0 means DefaultMaxNodes.
	MaxNodes int
}

// Assignment is one volunteer placed on one shift.
type Assignment struct {
	VolunteerID, ShiftID string
	Score                int
}

// Result is a proposed roster.
type Result struct {
	// Assignments sorted by volunteer ID, then shift ID.
	Assignments []Assignment
	Total       int
	// Optimal is true only when no roster with a higher total exists.
	Optimal bool
	// Canonical is true when the documented tie-break was applied in full.
	Canonical bool
	// Nodes is the number of search nodes used, for monitoring.
	Nodes int
}

// Errors for malformed input.
var (
	ErrUnknownID    = errors.New("roster: pair names an unknown volunteer or shift")
	ErrDuplicate    = errors.New("roster: duplicate ID or pair")
	ErrInvalidShift = errors.New("roster: shift must end after it starts and have capacity >= 0")
	ErrNoLocation   = errors.New("roster: nil location")
)

func overlaps(a0, a1, b0, b1 int64) bool { return a0 < b1 && b0 < a1 }

// Solve computes the roster. It is deterministic and reads no clock.
func Solve(p Problem) (Result, error) {
	in, err := prepare(p)
	if err != nil {
		return Result{}, err
	}
	budget := p.MaxNodes
	if budget <= 0 {
		budget = DefaultMaxNodes
	}
	res := Result{Optimal: true, Canonical: true}
	s := &search{in: in, budget: budget}
	chosen := make([]bool, len(in.pairs))
	for _, comp := range in.components() {
		c := s.newComp(comp)
		opt, canon := c.solve()
		res.Optimal = res.Optimal && opt
		res.Canonical = res.Canonical && canon
		for _, q := range c.pairs {
			if c.best[c.local[q]] {
				chosen[q] = true
			}
		}
	}
	res.Nodes = s.nodes
	for q, ok := range chosen {
		if ok {
			pr := &in.pairs[q]
			res.Assignments = append(res.Assignments, Assignment{in.vols[pr.v].ID, in.shifts[pr.s].ID, int(pr.score)})
			res.Total += int(pr.score)
		}
	}
	return res, nil
}

// pair is a usable (volunteer, shift) pair in compiled form.
type pair struct {
	v, s       int
	score      int64
	start, end int64
	dur        int64
	wslot      int // index into the volunteer's week budgets
}

type vol struct {
	ID    string
	pairs []int   // sorted by start, then shift order
	week  []int64 // remaining seconds per week slot
}

type input struct {
	vols   []vol
	shifts []Shift
	cap    []int
	pairs  []pair // sorted by (volunteer ID, shift ID): the canonical order
}

func prepare(p Problem) (*input, error) {
	if p.Location == nil {
		return nil, ErrNoLocation
	}
	in := &input{}
	vs := slices.Clone(p.Volunteers)
	slices.SortFunc(vs, func(a, b Volunteer) int { return cmp.Compare(a.ID, b.ID) })
	vIdx := make(map[string]int, len(vs))
	for i, v := range vs {
		if _, dup := vIdx[v.ID]; dup {
			return nil, fmt.Errorf("%w: volunteer %q", ErrDuplicate, v.ID)
		}
		vIdx[v.ID] = i
	}
	in.shifts = slices.Clone(p.Shifts)
	slices.SortFunc(in.shifts, func(a, b Shift) int { return cmp.Compare(a.ID, b.ID) })
	sIdx := make(map[string]int, len(in.shifts))
	for i, s := range in.shifts {
		if _, dup := sIdx[s.ID]; dup {
			return nil, fmt.Errorf("%w: shift %q", ErrDuplicate, s.ID)
		}
		if !s.End.After(s.Start) || s.Capacity < 0 {
			return nil, fmt.Errorf("%w: %q", ErrInvalidShift, s.ID)
		}
		sIdx[s.ID] = i
		in.cap = append(in.cap, s.Capacity)
	}
	ps := slices.Clone(p.Pairs)
	slices.SortFunc(ps, func(a, b Pair) int {
		if c := cmp.Compare(a.VolunteerID, b.VolunteerID); c != 0 {
			return c
		}
		return cmp.Compare(a.ShiftID, b.ShiftID)
	})
	in.vols = make([]vol, len(vs))
	weekSlot := make([]map[Week]int, len(vs))
	for i := range vs {
		in.vols[i].ID = vs[i].ID
		weekSlot[i] = map[Week]int{}
	}
	for i, pr := range ps {
		if i > 0 && ps[i-1].VolunteerID == pr.VolunteerID && ps[i-1].ShiftID == pr.ShiftID {
			return nil, fmt.Errorf("%w: pair (%q, %q)", ErrDuplicate, pr.VolunteerID, pr.ShiftID)
		}
		vi, ok1 := vIdx[pr.VolunteerID]
		si, ok2 := sIdx[pr.ShiftID]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: (%q, %q)", ErrUnknownID, pr.VolunteerID, pr.ShiftID)
		}
		sh := &in.shifts[si]
		v := &vs[vi]
		q := pair{v: vi, s: si, score: int64(pr.Score), start: sh.Start.Unix(), end: sh.End.Unix()}
		q.dur = q.end - q.start
		if pr.Score <= 0 || sh.Capacity == 0 {
			continue
		}
		if slices.ContainsFunc(v.Commitments, func(c Interval) bool {
			return overlaps(q.start, q.end, c.Start.Unix(), c.End.Unix())
		}) {
			continue
		}
		wk := WeekOf(sh.Start, p.Location)
		slot, ok := weekSlot[vi][wk]
		if !ok {
			slot = len(in.vols[vi].week)
			weekSlot[vi][wk] = slot
			left := int64(1) << 50
			if v.MaxWeekly > 0 {
				left = int64((v.MaxWeekly - v.Committed[wk]) / time.Second)
			}
			in.vols[vi].week = append(in.vols[vi].week, left)
		}
		if q.dur > in.vols[vi].week[slot] {
			continue
		}
		q.wslot = slot
		in.vols[vi].pairs = append(in.vols[vi].pairs, len(in.pairs))
		in.pairs = append(in.pairs, q)
	}
	for i := range in.vols {
		v := &in.vols[i]
		slices.SortStableFunc(v.pairs, func(a, b int) int { return cmp.Compare(in.pairs[a].start, in.pairs[b].start) })
	}
	return in, nil
}

// components groups pairs by connected component of the volunteer–shift
// graph, each listed in canonical pair order; components are ordered by
// their first pair.
func (in *input) components() [][]int {
	parent := make([]int, len(in.vols)+len(in.shifts))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, q := range in.pairs {
		a, b := find(q.v), find(len(in.vols)+q.s)
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	byRoot := map[int]int{}
	var out [][]int
	for i, q := range in.pairs {
		r := find(q.v)
		k, ok := byRoot[r]
		if !ok {
			k = len(out)
			byRoot[r] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], i)
	}
	return out
}
