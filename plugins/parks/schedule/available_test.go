package schedule_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

func TestConflicts(t *testing.T) {
	h := func(hour, min int) time.Time { return utc(2024, 6, 1, hour, min) }
	existing := []schedule.Interval{iv(h(10, 0), h(12, 0))}
	for _, tc := range []struct {
		name          string
		cand          schedule.Interval
		before, after time.Duration
		want          bool
	}{
		{"BackToBackNoBuffer", iv(h(12, 0), h(14, 0)), 0, 0, false},
		{"BackToBackBufferAfter", iv(h(12, 0), h(14, 0)), 0, 30 * time.Minute, true},
		{"BackToBackBufferBefore", iv(h(12, 0), h(14, 0)), 30 * time.Minute, 0, true}, // the candidate's set-up would run into 10–12
		{"BeforeNoBuffer", iv(h(8, 0), h(10, 0)), 0, 0, false},
		{"BeforeBufferBefore", iv(h(8, 0), h(10, 0)), 30 * time.Minute, 0, true},
		{"BeforeBufferAfter", iv(h(8, 0), h(10, 0)), 0, 30 * time.Minute, true}, // the candidate's clean-up would run into 10–12
		{"GapEqualsBuffer", iv(h(12, 30), h(14, 0)), 15 * time.Minute, 30 * time.Minute, false},
		{"GapShortOfLargerBuffer", iv(h(12, 20), h(14, 0)), 15 * time.Minute, 30 * time.Minute, true},
		{"Overlap", iv(h(11, 0), h(13, 0)), 0, 0, true},
		{"Inside", iv(h(10, 30), h(11, 0)), 0, 0, true},
		{"Covering", iv(h(9, 0), h(13, 0)), 0, 0, true},
		{"EmptyCandidate", iv(h(11, 0), h(11, 0)), 0, 0, false},
		{"NegativeBufferIsZero", iv(h(12, 0), h(14, 0)), -time.Hour, -time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := schedule.Conflicts(tc.cand, tc.before, tc.after, existing); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("Symmetric", func(t *testing.T) {
		// Whichever of two bookings came first, the answer is the same.
		r := rand.New(rand.NewPCG(1, 2))
		for range 2000 {
			a := randomInterval(r, h(0, 0), 48)
			b := randomInterval(r, h(0, 0), 48)
			before := time.Duration(r.IntN(5)) * 15 * time.Minute
			after := time.Duration(r.IntN(5)) * 15 * time.Minute
			if schedule.Conflicts(a, before, after, []schedule.Interval{b}) != schedule.Conflicts(b, before, after, []schedule.Interval{a}) {
				t.Fatalf("asymmetric for %v and %v with buffers %v/%v", a, b, before, after)
			}
		}
	})
}

func TestAvailable(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	ist := mustLoc(t, "Europe/Istanbul")
	day := func(loc *time.Location, y int, m time.Month, d int) (time.Time, time.Time) {
		return at(loc, y, m, d, 0, 0), at(loc, y, m, d+1, 0, 0)
	}

	t.Run("OKOpenDay", func(t *testing.T) {
		from, to := day(hel, 2024, 6, 5)
		got := schedule.Available(parkHours, parkRules, hel, nil, from, to)
		assertIntervals(t, got, []schedule.Interval{iv(at(hel, 2024, 6, 5, 8, 0), at(hel, 2024, 6, 5, 22, 0))})
	})
	t.Run("OKBuffersAndGrid", func(t *testing.T) {
		from, to := day(hel, 2024, 6, 5)
		blocking := []schedule.Interval{
			iv(at(hel, 2024, 6, 5, 10, 0), at(hel, 2024, 6, 5, 12, 0)),
			iv(at(hel, 2024, 6, 5, 11, 0), at(hel, 2024, 6, 5, 12, 30)), // overlaps the first (a child area's booking)
			iv(at(hel, 2024, 6, 5, 14, 0), at(hel, 2024, 6, 5, 14, 30)),
			iv(at(hel, 2024, 6, 5, 15, 30), at(hel, 2024, 6, 5, 16, 0)), // its buffers touch the previous one's
			iv(at(hel, 2024, 6, 6, 8, 0), at(hel, 2024, 6, 6, 9, 0)),    // another day
		}
		got := schedule.Available(parkHours, parkRules, hel, blocking, from, to)
		// Buffers are max(15m, 30m) = 30m around each block: blocked
		// 09:30–13:00 and 13:30–16:30. The 13:00–13:30 gap is shorter
		// than the one-hour minimum and is dropped.
		assertIntervals(t, got, []schedule.Interval{
			iv(at(hel, 2024, 6, 5, 8, 0), at(hel, 2024, 6, 5, 9, 30)),
			iv(at(hel, 2024, 6, 5, 16, 30), at(hel, 2024, 6, 5, 22, 0)),
		})
	})
	t.Run("OKNoBuffersTouch", func(t *testing.T) {
		from, to := day(hel, 2024, 6, 5)
		blocking := []schedule.Interval{iv(at(hel, 2024, 6, 5, 10, 0), at(hel, 2024, 6, 5, 12, 0))}
		got := schedule.Available(parkHours, schedule.Rules{}, hel, blocking, from, to)
		assertIntervals(t, got, []schedule.Interval{
			iv(at(hel, 2024, 6, 5, 8, 0), at(hel, 2024, 6, 5, 10, 0)),
			iv(at(hel, 2024, 6, 5, 12, 0), at(hel, 2024, 6, 5, 22, 0)),
		})
	})
	t.Run("OKOffGridBlockTrimmed", func(t *testing.T) {
		from, to := day(hel, 2024, 6, 5)
		blocking := []schedule.Interval{iv(at(hel, 2024, 6, 5, 10, 10), at(hel, 2024, 6, 5, 12, 10))}
		got := schedule.Available(parkHours, schedule.Rules{Granularity: 30 * time.Minute}, hel, blocking, from, to)
		assertIntervals(t, got, []schedule.Interval{
			iv(at(hel, 2024, 6, 5, 8, 0), at(hel, 2024, 6, 5, 10, 0)),
			iv(at(hel, 2024, 6, 5, 12, 30), at(hel, 2024, 6, 5, 22, 0)),
		})
	})
	t.Run("OKClosureBlocksDay", func(t *testing.T) {
		from, to := day(hel, 2024, 6, 5)
		closure := []schedule.Interval{iv(at(hel, 2024, 6, 4, 0, 0), at(hel, 2024, 6, 7, 0, 0))}
		if got := schedule.Available(parkHours, parkRules, hel, closure, from, to); len(got) != 0 {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("OKInputNotModified", func(t *testing.T) {
		from, to := day(hel, 2024, 6, 5)
		blocking := []schedule.Interval{
			iv(at(hel, 2024, 6, 5, 15, 0), at(hel, 2024, 6, 5, 16, 0)),
			iv(at(hel, 2024, 6, 5, 10, 0), at(hel, 2024, 6, 5, 11, 0)),
		}
		first := blocking[0]
		schedule.Available(parkHours, parkRules, hel, blocking, from, to)
		if blocking[0] != first {
			t.Fatal("Available reordered the caller's slice")
		}
	})

	// Sundays only, hours touching the changed hour, 30-minute grid.
	sunday := func(r schedule.Range) schedule.OpeningHours {
		var w [7][]schedule.Range
		w[time.Sunday] = []schedule.Range{r}
		return allYear(w)
	}
	grid := schedule.Rules{Granularity: 30 * time.Minute}
	for _, tc := range []struct {
		name     string
		loc      *time.Location
		hours    schedule.OpeningHours
		rules    schedule.Rules
		date     [3]int
		blocking []schedule.Interval
		want     []schedule.Interval
	}{
		{"HelsinkiSpringGapIsNotFree", hel, sunday(rng(hm(2, 0), hm(6, 0))), grid, [3]int{2024, 3, 31}, nil,
			[]schedule.Interval{iv(utc(2024, 3, 31, 0, 0), utc(2024, 3, 31, 3, 0))}}, // 02:00 EET – 06:00 EEST: 3 real hours
		{"HelsinkiSpringBlockAcrossGap", hel, sunday(rng(hm(2, 0), hm(6, 0))), grid, [3]int{2024, 3, 31},
			[]schedule.Interval{iv(utc(2024, 3, 31, 0, 30), utc(2024, 3, 31, 1, 30))}, // 02:30 EET – 04:30 EEST
			[]schedule.Interval{
				iv(utc(2024, 3, 31, 0, 0), utc(2024, 3, 31, 0, 30)),
				iv(utc(2024, 3, 31, 1, 30), utc(2024, 3, 31, 3, 0)),
			}},
		{"HelsinkiSpringGridAfterGap", hel, sunday(rng(hm(2, 0), hm(6, 0))), grid, [3]int{2024, 3, 31},
			// Ends at 02:50 EET; the next grid line on the clock is 04:00 EEST, ten real minutes later.
			[]schedule.Interval{iv(utc(2024, 3, 31, 0, 0), utc(2024, 3, 31, 0, 50))},
			[]schedule.Interval{iv(utc(2024, 3, 31, 1, 0), utc(2024, 3, 31, 3, 0))}},
		{"HelsinkiSpringOpensInGap", hel, sunday(rng(hm(3, 0), hm(5, 0))), grid, [3]int{2024, 3, 31}, nil,
			[]schedule.Interval{iv(utc(2024, 3, 31, 1, 0), utc(2024, 3, 31, 2, 0))}}, // opens when clocks reach 04:00
		{"HelsinkiSpringWhollyInGap", hel, sunday(rng(hm(3, 0), hm(4, 0))), grid, [3]int{2024, 3, 31}, nil, nil},
		{"HelsinkiAutumnRepeatedHourIsFree", hel, sunday(rng(hm(2, 0), hm(5, 0))), grid, [3]int{2024, 10, 27}, nil,
			[]schedule.Interval{iv(utc(2024, 10, 26, 23, 0), utc(2024, 10, 27, 3, 0))}}, // 4 real hours
		{"HelsinkiAutumnBlockFirstOccurrence", hel, sunday(rng(hm(2, 0), hm(5, 0))), grid, [3]int{2024, 10, 27},
			[]schedule.Interval{iv(utc(2024, 10, 27, 0, 0), utc(2024, 10, 27, 1, 0))}, // 03:00–04:00 EEST
			[]schedule.Interval{
				iv(utc(2024, 10, 26, 23, 0), utc(2024, 10, 27, 0, 0)),
				iv(utc(2024, 10, 27, 1, 0), utc(2024, 10, 27, 3, 0)), // from 03:00 EET
			}},
		{"HelsinkiAutumnGridInRepeat", hel, sunday(rng(hm(2, 0), hm(5, 0))), grid, [3]int{2024, 10, 27},
			// Ends at 03:10 EET (second occurrence): next grid line is 03:30 EET.
			[]schedule.Interval{iv(utc(2024, 10, 26, 23, 0), utc(2024, 10, 27, 1, 10))},
			[]schedule.Interval{iv(utc(2024, 10, 27, 1, 30), utc(2024, 10, 27, 3, 0))}},
		{"HelsinkiAutumnClosesAtFirstOccurrence", hel, sunday(rng(hm(0, 0), hm(3, 30))), grid, [3]int{2024, 10, 27}, nil,
			[]schedule.Interval{iv(utc(2024, 10, 26, 21, 0), utc(2024, 10, 27, 0, 30))}},
		{"IstanbulSpringPlainDay", ist, sunday(rng(hm(2, 0), hm(6, 0))), grid, [3]int{2024, 3, 31}, nil,
			[]schedule.Interval{iv(utc(2024, 3, 30, 23, 0), utc(2024, 3, 31, 3, 0))}},
		{"IstanbulAutumnPlainDay", ist, sunday(rng(hm(2, 0), hm(5, 0))), grid, [3]int{2024, 10, 27},
			[]schedule.Interval{iv(utc(2024, 10, 27, 0, 0), utc(2024, 10, 27, 1, 0))},
			[]schedule.Interval{
				iv(utc(2024, 10, 26, 23, 0), utc(2024, 10, 27, 0, 0)),
				iv(utc(2024, 10, 27, 1, 0), utc(2024, 10, 27, 2, 0)),
			}},
		{"IstanbulLastSpringForward2016", ist, sunday(rng(hm(2, 0), hm(6, 0))), grid, [3]int{2016, 3, 27}, nil,
			[]schedule.Interval{iv(utc(2016, 3, 27, 0, 0), utc(2016, 3, 27, 3, 0))}},
	} {
		t.Run("OK"+tc.name, func(t *testing.T) {
			from, to := day(tc.loc, tc.date[0], time.Month(tc.date[1]), tc.date[2])
			got := schedule.Available(tc.hours, tc.rules, tc.loc, tc.blocking, from, to)
			assertIntervals(t, got, tc.want)
			for _, w := range got {
				for _, end := range []time.Time{w.Start, w.End} {
					if lt := end.In(tc.loc); lt.Minute()%30 != 0 || lt.Second() != 0 {
						t.Fatalf("%v is off the local grid (%v)", end, lt)
					}
				}
			}
		})
	}
}

// TestAvailable_Properties checks the invariants on random bookings over
// a month spanning Helsinki's spring change.
func TestAvailable_Properties(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	hours := schedule.OpeningHours{Periods: []schedule.Period{{
		Name: "all year", From: schedule.MonthDay{Month: time.January, Day: 1}, To: schedule.MonthDay{Month: time.December, Day: 31},
		Week: weekdays(
			[]schedule.Range{rng(hm(1, 0), hm(5, 0)), rng(hm(8, 0), hm(12, 0)), rng(hm(13, 0), hm(22, 0))},
			[]schedule.Range{rng(0, hm(3, 30)), rng(hm(3, 30), hm(4, 30)), rng(hm(9, 0), schedule.EndOfDay)},
		),
	}}}
	from, to := at(hel, 2024, 3, 20, 0, 0), at(hel, 2024, 4, 10, 0, 0)
	r := rand.New(rand.NewPCG(7, 11))
	for run := range 60 {
		grids := []time.Duration{0, 15 * time.Minute, 30 * time.Minute, time.Hour}
		rules := schedule.Rules{
			Granularity:  grids[r.IntN(len(grids))],
			BufferBefore: time.Duration(r.IntN(4)) * 15 * time.Minute,
			BufferAfter:  time.Duration(r.IntN(4)) * 15 * time.Minute,
		}
		rules.MinDuration = time.Duration(r.IntN(3)) * max(rules.Granularity, 30*time.Minute)
		blocking := make([]schedule.Interval, r.IntN(80))
		for i := range blocking {
			blocking[i] = randomInterval(r, from, 21*24)
		}
		got := schedule.Available(hours, rules, hel, blocking, from, to)
		open := schedule.OpenIntervals(hours, hel, from, to)
		minLen := max(rules.MinDuration, rules.Granularity, 1)

		for i, w := range got {
			if i > 0 && w.Start.Before(got[i-1].End) {
				t.Fatalf("run %d: windows %v and %v are not sorted and disjoint", run, got[i-1], w)
			}
			if w.Duration() < minLen {
				t.Fatalf("run %d: window %v shorter than %v", run, w, minLen)
			}
			if !insideAny(w, open) {
				t.Fatalf("run %d: window %v outside opening hours %v", run, w, open)
			}
			if schedule.Conflicts(w, rules.BufferBefore, rules.BufferAfter, blocking) {
				t.Fatalf("run %d: window %v conflicts with blocking+buffers", run, w)
			}
			if !onLocalGrid(w.Start, hel, rules.Granularity) || !onLocalGrid(w.End, hel, rules.Granularity) {
				t.Fatalf("run %d: window %v off the %v grid", run, w, rules.Granularity)
			}
		}
		// Nothing bookable is missing: every shortest booking on the
		// grid that is open and conflict-free lies inside a window.
		for s := from; s.Before(to); s = s.Add(15 * time.Minute) {
			c := iv(s, s.Add(minLen))
			if !onLocalGrid(c.Start, hel, rules.Granularity) || !onLocalGrid(c.End, hel, rules.Granularity) ||
				!insideAny(c, open) || schedule.Conflicts(c, rules.BufferBefore, rules.BufferAfter, blocking) {
				continue
			}
			if !insideAny(c, got) {
				t.Fatalf("run %d: bookable %v (rules %+v) is in no window %v", run, c, rules, got)
			}
		}
	}
}

func insideAny(c schedule.Interval, ivs []schedule.Interval) bool {
	for _, x := range ivs {
		if x.Contains(c) {
			return true
		}
	}
	return false
}

func onLocalGrid(t time.Time, loc *time.Location, g time.Duration) bool {
	if g == 0 {
		return true
	}
	lt := t.In(loc)
	return lt.Second() == 0 && lt.Nanosecond() == 0 && (lt.Hour()*60+lt.Minute())%int(g/time.Minute) == 0
}

// randomInterval is 5 minutes to 6 hours long, starting on a 5-minute
// step within hours of base.
func randomInterval(r *rand.Rand, base time.Time, hours int) schedule.Interval {
	s := base.Add(time.Duration(r.IntN(hours*12)) * 5 * time.Minute)
	return iv(s, s.Add(time.Duration(1+r.IntN(72))*5*time.Minute))
}

// BenchmarkAvailable_90d_5000 is one area's availability over 90 days
// with the park's 5,000 bookings passed as blocking — the worst case, in
// which the caller did not narrow them to the area's family, so nearly
// every open hour is taken and the sort of 5,000 intervals dominates.
func BenchmarkAvailable_90d_5000(b *testing.B) {
	benchmarkAvailable(b, 90)
}

// BenchmarkAvailable_90d_5000_Sparse spreads the 5,000 bookings over two
// years, so about 600 fall in the window and many free windows remain.
func BenchmarkAvailable_90d_5000_Sparse(b *testing.B) {
	benchmarkAvailable(b, 730)
}

func benchmarkAvailable(b *testing.B, spreadDays int) {
	hel := mustLoc(b, "Europe/Helsinki")
	from := at(hel, 2024, 5, 1, 0, 0)
	to := from.AddDate(0, 0, 90)
	r := rand.New(rand.NewPCG(3, 5))
	blocking := make([]schedule.Interval, 5000)
	for i := range blocking {
		day := from.AddDate(0, 0, r.IntN(spreadDays)-spreadDays/2+45)
		s := day.Add(time.Duration(8*2+r.IntN(24)) * 30 * time.Minute)
		blocking[i] = iv(s, s.Add(time.Duration(2+r.IntN(6))*30*time.Minute))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for b.Loop() {
		n = len(schedule.Available(parkHours, parkRules, hel, blocking, from, to))
	}
	b.ReportMetric(float64(n), "windows")
}
