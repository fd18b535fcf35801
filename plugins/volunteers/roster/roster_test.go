package roster

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
	_ "time/tzdata"
)

func helsinki(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// checkRoster verifies every constraint straight from the problem, without
// sharing code with the solver.
func checkRoster(tb testing.TB, p Problem, r Result) {
	tb.Helper()
	shifts := map[string]Shift{}
	for _, s := range p.Shifts {
		shifts[s.ID] = s
	}
	vols := map[string]Volunteer{}
	for _, v := range p.Volunteers {
		vols[v.ID] = v
	}
	scores := map[[2]string]int{}
	for _, q := range p.Pairs {
		scores[[2]string{q.VolunteerID, q.ShiftID}] = q.Score
	}
	load := map[string]int{}
	byVol := map[string][]Shift{}
	seen := map[[2]string]bool{}
	total := 0
	for _, a := range r.Assignments {
		k := [2]string{a.VolunteerID, a.ShiftID}
		sc, ok := scores[k]
		if !ok || seen[k] || sc != a.Score || sc <= 0 {
			tb.Fatalf("assignment %+v: not an eligible positive pair, or repeated", a)
		}
		seen[k] = true
		total += sc
		load[a.ShiftID]++
		byVol[a.VolunteerID] = append(byVol[a.VolunteerID], shifts[a.ShiftID])
	}
	if total != r.Total {
		tb.Fatalf("total %d, assignments sum to %d", r.Total, total)
	}
	for id, n := range load {
		if n > shifts[id].Capacity {
			tb.Fatalf("shift %s over capacity: %d > %d", id, n, shifts[id].Capacity)
		}
	}
	for id, ss := range byVol {
		v := vols[id]
		week := map[Week]time.Duration{}
		for i, a := range ss {
			for _, b := range ss[i+1:] {
				if a.Start.Before(b.End) && b.Start.Before(a.End) {
					tb.Fatalf("volunteer %s: %s overlaps %s", id, a.ID, b.ID)
				}
			}
			for _, c := range v.Commitments {
				if a.Start.Before(c.End) && c.Start.Before(a.End) {
					tb.Fatalf("volunteer %s: %s overlaps a commitment", id, a.ID)
				}
			}
			week[WeekOf(a.Start, p.Location)] += a.End.Sub(a.Start)
		}
		if v.MaxWeekly > 0 {
			for w, d := range week {
				if d+v.Committed[w] > v.MaxWeekly {
					tb.Fatalf("volunteer %s: week %v has %v + %v > %v", id, w, d, v.Committed[w], v.MaxWeekly)
				}
			}
		}
	}
}

// bruteForce enumerates every roster. Pairs are tried in canonical order
// with "in" before "out", and only a strictly better total replaces the
// best, so the first optimum found is the lexicographically greatest one.
func bruteForce(tb testing.TB, p Problem) Result {
	tb.Helper()
	ps := slices.Clone(p.Pairs)
	slices.SortFunc(ps, func(a, b Pair) int {
		return cmp.Or(cmp.Compare(a.VolunteerID, b.VolunteerID), cmp.Compare(a.ShiftID, b.ShiftID))
	})
	var cur []Assignment
	best := Result{Total: -1}
	shifts := map[string]Shift{}
	for _, s := range p.Shifts {
		shifts[s.ID] = s
	}
	var rec func(i, total int)
	rec = func(i, total int) {
		if i == len(ps) {
			if total > best.Total {
				best = Result{Assignments: slices.Clone(cur), Total: total}
			}
			return
		}
		q := ps[i]
		cur = append(cur, Assignment{q.VolunteerID, q.ShiftID, q.Score})
		if q.Score > 0 && feasible(p, shifts, cur) {
			rec(i+1, total+q.Score)
		}
		cur = cur[:len(cur)-1]
		rec(i+1, total)
	}
	rec(0, 0)
	best.Optimal, best.Canonical = true, true
	return best
}

// feasible checks the last assignment of cur against the others.
func feasible(p Problem, shifts map[string]Shift, cur []Assignment) bool {
	last := cur[len(cur)-1]
	s := shifts[last.ShiftID]
	var v Volunteer
	for _, x := range p.Volunteers {
		if x.ID == last.VolunteerID {
			v = x
		}
	}
	n, hours := 0, s.End.Sub(s.Start)
	wk := WeekOf(s.Start, p.Location)
	for _, a := range cur {
		if a.ShiftID == last.ShiftID {
			n++
		}
		if a.VolunteerID == last.VolunteerID && a.ShiftID != last.ShiftID {
			o := shifts[a.ShiftID]
			if o.Start.Before(s.End) && s.Start.Before(o.End) {
				return false
			}
			if WeekOf(o.Start, p.Location) == wk {
				hours += o.End.Sub(o.Start)
			}
		}
	}
	for _, c := range v.Commitments {
		if c.Start.Before(s.End) && s.Start.Before(c.End) {
			return false
		}
	}
	return n <= s.Capacity && (v.MaxWeekly == 0 || hours+v.Committed[wk] <= v.MaxWeekly)
}

// randomProblem builds a small instance with dense overlaps, tight hour
// limits and shifts on both sides of an ISO-week boundary (Sunday night into
// Monday, city time).
func randomProblem(rng *rand.Rand, loc *time.Location, nv, ns int) Problem {
	base := time.Date(2025, 10, 25, 18, 0, 0, 0, loc) // Saturday before DST ends
	p := Problem{Location: loc}
	for i := range ns {
		start := base.Add(time.Duration(rng.IntN(60)) * time.Hour)
		p.Shifts = append(p.Shifts, Shift{ID: fmt.Sprintf("s%d", i), Start: start,
			End: start.Add(time.Duration(1+rng.IntN(4)) * time.Hour), Capacity: rng.IntN(3)})
	}
	for i := range nv {
		v := Volunteer{ID: fmt.Sprintf("v%d", i)}
		if rng.IntN(4) > 0 {
			v.MaxWeekly = time.Duration(2+rng.IntN(7)) * time.Hour
		}
		if rng.IntN(3) == 0 {
			v.Committed = map[Week]time.Duration{WeekOf(base, loc): time.Duration(rng.IntN(3)) * time.Hour}
		}
		if rng.IntN(4) == 0 {
			s := base.Add(time.Duration(rng.IntN(60)) * time.Hour)
			v.Commitments = []Interval{{s, s.Add(2 * time.Hour)}}
		}
		p.Volunteers = append(p.Volunteers, v)
		for _, s := range p.Shifts {
			if rng.IntN(3) > 0 {
				p.Pairs = append(p.Pairs, Pair{v.ID, s.ID, rng.IntN(12) - 1})
			}
		}
	}
	return p
}

func shuffled(rng *rand.Rand, p Problem) Problem {
	q := p
	q.Volunteers, q.Shifts, q.Pairs = slices.Clone(p.Volunteers), slices.Clone(p.Shifts), slices.Clone(p.Pairs)
	rng.Shuffle(len(q.Volunteers), func(i, j int) { q.Volunteers[i], q.Volunteers[j] = q.Volunteers[j], q.Volunteers[i] })
	rng.Shuffle(len(q.Shifts), func(i, j int) { q.Shifts[i], q.Shifts[j] = q.Shifts[j], q.Shifts[i] })
	rng.Shuffle(len(q.Pairs), func(i, j int) { q.Pairs[i], q.Pairs[j] = q.Pairs[j], q.Pairs[i] })
	return q
}

func solveOK(tb testing.TB, p Problem) Result {
	tb.Helper()
	r, err := Solve(p)
	if err != nil {
		tb.Fatal(err)
	}
	checkRoster(tb, p, r)
	return r
}

func TestSolve(t *testing.T) {
	loc := helsinki(t)
	at := func(h int) time.Time { return time.Date(2025, 6, 7, h, 0, 0, 0, loc) }
	shifts := []Shift{
		{ID: "a", Start: at(9), End: at(12), Capacity: 1},
		{ID: "b", Start: at(11), End: at(14), Capacity: 1}, // overlaps a
		{ID: "c", Start: at(12), End: at(15), Capacity: 1}, // touches a
	}
	t.Run("OK", func(t *testing.T) {
		p := Problem{Location: loc, Shifts: shifts,
			Volunteers: []Volunteer{{ID: "x"}, {ID: "y"}},
			Pairs:      []Pair{{"x", "a", 10}, {"x", "b", 9}, {"x", "c", 8}, {"y", "b", 5}}}
		r := solveOK(t, p)
		want := []Assignment{{"x", "a", 10}, {"x", "c", 8}, {"y", "b", 5}}
		if !reflect.DeepEqual(r.Assignments, want) || r.Total != 23 || !r.Optimal || !r.Canonical {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("OverlapForbidden", func(t *testing.T) {
		p := Problem{Location: loc, Shifts: shifts, Volunteers: []Volunteer{{ID: "x"}},
			Pairs: []Pair{{"x", "a", 10}, {"x", "b", 11}}}
		if r := solveOK(t, p); r.Total != 11 {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("WeeklyHours", func(t *testing.T) {
		wk := WeekOf(at(9), loc)
		p := Problem{Location: loc, Shifts: shifts,
			Volunteers: []Volunteer{{ID: "x", MaxWeekly: 8 * time.Hour, Committed: map[Week]time.Duration{wk: 3 * time.Hour}}},
			Pairs:      []Pair{{"x", "a", 10}, {"x", "c", 8}}}
		if r := solveOK(t, p); r.Total != 10 {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("CommitmentOverlap", func(t *testing.T) {
		p := Problem{Location: loc, Shifts: shifts,
			Volunteers: []Volunteer{{ID: "x", Commitments: []Interval{{at(13), at(16)}}}},
			Pairs:      []Pair{{"x", "a", 1}, {"x", "c", 8}}}
		if r := solveOK(t, p); r.Total != 1 {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("TieBreakSmallestIDsFirst", func(t *testing.T) {
		p := Problem{Location: loc, Shifts: shifts, Volunteers: []Volunteer{{ID: "x"}, {ID: "w"}},
			Pairs: []Pair{{"x", "a", 5}, {"w", "a", 5}}}
		r := solveOK(t, p)
		if len(r.Assignments) != 1 || r.Assignments[0].VolunteerID != "w" {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("ErrDuplicatePair", func(t *testing.T) {
		p := Problem{Location: loc, Shifts: shifts, Volunteers: []Volunteer{{ID: "x"}},
			Pairs: []Pair{{"x", "a", 5}, {"x", "a", 6}}}
		if _, err := Solve(p); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrUnknownID", func(t *testing.T) {
		p := Problem{Location: loc, Shifts: shifts, Pairs: []Pair{{"x", "a", 5}}}
		if _, err := Solve(p); !errors.Is(err, ErrUnknownID) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrInvalidShift", func(t *testing.T) {
		p := Problem{Location: loc, Shifts: []Shift{{ID: "a", Start: at(9), End: at(9), Capacity: 1}}}
		if _, err := Solve(p); !errors.Is(err, ErrInvalidShift) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("BudgetNeverClaimsOptimal", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		for range 50 {
			p := randomProblem(rng, loc, 5, 6)
			p.MaxNodes = 1
			r := solveOK(t, p)
			if want := bruteForce(t, p); r.Optimal && r.Total != want.Total {
				t.Fatalf("claimed optimal %d, brute force %d", r.Total, want.Total)
			}
		}
	})
}

// TestSolve_BruteForce compares the solver with exhaustive enumeration on
// hundreds of small random instances: same total, same canonical roster,
// and the same answer whatever the input order.
func TestSolve_BruteForce(t *testing.T) {
	loc := helsinki(t)
	rng := rand.New(rand.NewPCG(2025, 1))
	for i := range 400 {
		nv, ns := 1+rng.IntN(5), 1+rng.IntN(6)
		p := randomProblem(rng, loc, nv, ns)
		if len(p.Pairs) > 16 {
			p.Pairs = p.Pairs[:16]
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got := solveOK(t, p)
			want := bruteForce(t, p)
			if got.Total != want.Total || !got.Optimal {
				t.Fatalf("total %d (optimal %v), brute force %d\n%+v", got.Total, got.Optimal, want.Total, p)
			}
			if !got.Canonical || !slices.Equal(got.Assignments, want.Assignments) {
				t.Fatalf("roster %+v\nwant       %+v", got.Assignments, want.Assignments)
			}
			again := solveOK(t, shuffled(rng, p))
			if !slices.Equal(again.Assignments, got.Assignments) {
				t.Fatalf("shuffled input changed the roster")
			}
		})
	}
}
