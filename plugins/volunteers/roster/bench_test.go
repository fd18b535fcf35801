package roster

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// eventWeekend builds a deterministic instance shaped like a city festival:
// shifts of 2–4 h across a Saturday and Sunday in 12 teams (stewards, first
// aid, kitchen...), so a team's shifts overlap each other; capacities add up
// to places; each volunteer signs up for one or two teams and is eligible
// for 5–30 of their shifts; weekly limits of 4–20 h, some hours already
// committed that week; scores 1–100.
func eventWeekend(tb testing.TB, nv, ns, places int, seed uint64) Problem {
	tb.Helper()
	loc := helsinki(tb)
	rng := rand.New(rand.NewPCG(seed, 2000))
	sat := time.Date(2025, 6, 7, 8, 0, 0, 0, loc)
	const teams = 12
	p := Problem{Location: loc}
	byTeam := make([][]int, teams)
	caps := make([]int, ns)
	for i := range caps {
		caps[i] = 1
	}
	for range places - ns {
		caps[rng.IntN(ns)]++
	}
	for i := range ns {
		day := time.Duration(rng.IntN(2)) * 24 * time.Hour
		start := sat.Add(day + time.Duration(rng.IntN(13*2))*30*time.Minute) // 08:00–20:30
		team := rng.IntN(teams)
		byTeam[team] = append(byTeam[team], i)
		p.Shifts = append(p.Shifts, Shift{ID: fmt.Sprintf("s%03d", i), Start: start,
			End: start.Add(time.Duration(2+rng.IntN(3)) * time.Hour), Capacity: caps[i]})
	}
	week := WeekOf(sat, loc)
	for i := range nv {
		v := Volunteer{ID: fmt.Sprintf("v%04d", i), MaxWeekly: time.Duration(4+rng.IntN(17)) * time.Hour}
		if rng.IntN(4) == 0 {
			v.Committed = map[Week]time.Duration{week: time.Duration(1+rng.IntN(3)) * time.Hour}
		}
		p.Volunteers = append(p.Volunteers, v)
		var pool []int
		for range 1 + rng.IntN(2) {
			pool = append(pool, byTeam[rng.IntN(teams)]...)
		}
		rng.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		n := min(len(pool), 5+rng.IntN(26))
		seen := map[int]bool{}
		for _, s := range pool[:n] {
			if !seen[s] {
				seen[s] = true
				p.Pairs = append(p.Pairs, Pair{v.ID, p.Shifts[s].ID, 1 + rng.IntN(100)})
			}
		}
	}
	return p
}

// BenchmarkRoster_2000x300 solves the festival instance: 2,000 volunteers,
// 300 shifts, 1,000 places.
func BenchmarkRoster_2000x300(b *testing.B) {
	p := eventWeekend(b, 2000, 300, 1000, 1)
	b.ReportMetric(float64(len(p.Pairs)), "pairs")
	var r Result
	for b.Loop() {
		var err error
		if r, err = Solve(p); err != nil {
			b.Fatal(err)
		}
	}
	if !r.Optimal {
		b.Errorf("not proved optimal after %d nodes", r.Nodes)
	}
	b.ReportMetric(float64(r.Total), "total")
	b.ReportMetric(float64(r.Nodes), "nodes")
	b.ReportMetric(float64(len(r.Assignments)), "assigned")
}
