package match

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// synthCity builds a deterministic city of n profiles and q opportunities
// with one shift each. Skill popularity is skewed the way real catalogues
// are: a few skills (first aid, driving) are common, most are rare.
func synthCity(tb testing.TB, n, q int) (*Index, []Opportunity) {
	tb.Helper()
	loc := mustLoc(tb, "Europe/Helsinki")
	rng := rand.New(rand.NewPCG(2025, 6))
	const nSkills, nLangs, nNbh = 60, 8, 30
	skill := func() string {
		// Zipf-like: skill k is chosen with weight ~ 1/(k+1).
		return fmt.Sprintf("sk%02d", int(float64(nSkills)*rng.Float64()*rng.Float64()))
	}
	weekStart := time.Date(2025, 6, 2, 0, 0, 0, 0, loc) // a Monday
	profiles := make([]Profile, n)
	for i := range profiles {
		p := Profile{ID: fmt.Sprintf("v%06d", i)}
		for range 2 + rng.IntN(5) {
			p.Skills = append(p.Skills, skill())
		}
		for range 1 + rng.IntN(3) {
			p.Languages = append(p.Languages, fmt.Sprintf("l%d", rng.IntN(nLangs)))
		}
		for range 1 + rng.IntN(3) {
			p.Neighbourhoods = append(p.Neighbourhoods, fmt.Sprintf("n%02d", rng.IntN(nNbh)))
		}
		for range 2 + rng.IntN(5) {
			from := time.Duration(6+rng.IntN(12)) * time.Hour
			p.Weekly = append(p.Weekly, Window{Day: time.Weekday(rng.IntN(7)), Start: from,
				End: min(from+time.Duration(3+rng.IntN(8))*time.Hour, 24*time.Hour)})
		}
		for range rng.IntN(3) {
			p.Unavailable = append(p.Unavailable, DateOf(weekStart.AddDate(0, 0, rng.IntN(28)), loc))
		}
		p.MaxWeekly = time.Duration(4+rng.IntN(17)) * time.Hour
		p.BirthDate = Date{1950 + rng.IntN(62), time.Month(1 + rng.IntN(12)), 1 + rng.IntN(28)}
		if rng.IntN(10) < 6 {
			p.Check = BackgroundCheck{Status: CheckCleared, Expires: Date{2024 + rng.IntN(4), 6, 1}}
		}
		for range rng.IntN(3) {
			s := weekStart.Add(time.Duration(rng.IntN(28*24)) * time.Hour)
			p.Commitments = append(p.Commitments, Interval{s, s.Add(time.Duration(2+rng.IntN(3)) * time.Hour)})
		}
		p.RecentHours = time.Duration(rng.IntN(40)) * time.Hour
		p.NoShows = rng.IntN(3) * rng.IntN(2)
		profiles[i] = p
	}
	ix, err := NewIndex(loc, profiles)
	if err != nil {
		tb.Fatal(err)
	}
	opps := make([]Opportunity, q)
	for i := range opps {
		start := weekStart.Add(time.Duration(rng.IntN(28))*24*time.Hour + time.Duration(8+rng.IntN(10))*time.Hour)
		o := Opportunity{
			ID:            fmt.Sprintf("o%04d", i),
			Neighbourhood: fmt.Sprintf("n%02d", rng.IntN(nNbh)),
			Languages:     []string{fmt.Sprintf("l%d", rng.IntN(nLangs))},
			Preferred:     []string{skill(), skill()},
			NeedsCheck:    rng.IntN(10) < 3,
			MinAge:        []int{0, 16, 18}[rng.IntN(3)],
			Shifts:        []Shift{{ID: "s", Start: start, End: start.Add(time.Duration(2+rng.IntN(3)) * time.Hour), Capacity: 5}},
		}
		// A quarter of the opportunities need no skill at all, so every
		// profile has to be looked at: the slow case.
		for range rng.IntN(4) {
			o.Required = append(o.Required, skill())
		}
		opps[i] = o
	}
	return ix, opps
}

// reportP95 runs every query once per benchmark iteration, timing each, and
// reports the 95th percentile latency over all timed queries.
func reportP95(b *testing.B, run func(i int), queries int) {
	b.Helper()
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		for i := range queries {
			t0 := time.Now()
			run(i)
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
	b.ReportMetric(p(1), "max-ms")
	b.ReportMetric(0, "ns/op") // per-iteration time covers many queries; the percentiles are the figure
}

// BenchmarkRank_100k ranks all eligible volunteers (with reasons) for each of
// 200 shifts among 100,000 profiles and reports per-query percentiles.
func BenchmarkRank_100k(b *testing.B) {
	ix, opps := synthCity(b, 100_000, 200)
	var eligible int
	for i := range opps {
		got, _ := ix.Rank(&opps[i], "s", Options{})
		eligible += len(got)
	}
	reportP95(b, func(i int) {
		if _, err := ix.Rank(&opps[i], "s", Options{}); err != nil {
			b.Fatal(err)
		}
	}, len(opps))
	b.ReportMetric(float64(eligible)/float64(len(opps)), "eligible/query")
}

// BenchmarkRank_100k_Top50 is the list a coordinator first sees.
func BenchmarkRank_100k_Top50(b *testing.B) {
	ix, opps := synthCity(b, 100_000, 200)
	reportP95(b, func(i int) {
		if _, err := ix.Rank(&opps[i], "s", Options{Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}, len(opps))
}
