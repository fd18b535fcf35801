package roster

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// decodeProblem turns fuzz bytes into an instance small enough for brute
// force: up to 4 volunteers, 5 shifts and 12 pairs, on a weekend that
// crosses an ISO-week boundary and the end of summer time in Helsinki.
func decodeProblem(loc *time.Location, data []byte) Problem {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	base := time.Date(2025, 10, 25, 20, 0, 0, 0, loc)
	p := Problem{Location: loc}
	nv, ns := 1+next()%4, 1+next()%5
	for i := range ns {
		start := base.Add(time.Duration(next()%40) * time.Hour)
		p.Shifts = append(p.Shifts, Shift{ID: fmt.Sprintf("s%d", i), Start: start,
			End: start.Add(time.Duration(1+next()%4) * time.Hour), Capacity: next() % 3})
	}
	for i := range nv {
		v := Volunteer{ID: fmt.Sprintf("v%d", i), MaxWeekly: time.Duration(next()%9) * time.Hour}
		if c := next() % 4; c > 0 {
			v.Committed = map[Week]time.Duration{WeekOf(base, loc): time.Duration(c) * time.Hour}
		}
		if c := next() % 50; c < 40 && next()%3 == 0 {
			s := base.Add(time.Duration(c) * time.Hour)
			v.Commitments = []Interval{{s, s.Add(time.Hour)}}
		}
		p.Volunteers = append(p.Volunteers, v)
	}
	for i := range nv {
		for j := range ns {
			if b := next(); b%3 != 0 && len(p.Pairs) < 12 {
				p.Pairs = append(p.Pairs, Pair{p.Volunteers[i].ID, p.Shifts[j].ID, b%23 - 2})
			}
		}
	}
	return p
}

// FuzzRoster checks, on instances decoded from arbitrary bytes, that every
// proposal is feasible, optimal and canonical (equal to the brute-force
// lexicographic optimum).
func FuzzRoster(f *testing.F) {
	loc := helsinki(f)
	f.Add([]byte{3, 4, 1, 2, 1, 2, 3, 2, 3, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
	f.Add([]byte{255, 255, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7})
	f.Add([]byte("roster fuzz seed with some overlap and hours"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := decodeProblem(loc, data)
		got := solveOK(t, p)
		want := bruteForce(t, p)
		if got.Total != want.Total || !got.Optimal || !got.Canonical {
			t.Fatalf("total %d (optimal %v canonical %v), brute force %d", got.Total, got.Optimal, got.Canonical, want.Total)
		}
		if !slices.Equal(got.Assignments, want.Assignments) {
			t.Fatalf("roster %+v\nwant       %+v", got.Assignments, want.Assignments)
		}
	})
}
