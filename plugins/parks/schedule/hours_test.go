package schedule_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

func TestOpeningHours_Validate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for name, h := range map[string]schedule.OpeningHours{
			"park":        parkHours,
			"empty":       {},
			"all year":    allYear(everyDay(rng(0, schedule.EndOfDay))),
			"touching":    allYear(everyDay(rng(hm(8, 0), hm(12, 0)), rng(hm(12, 0), hm(14, 0)))),
			"unsorted":    allYear(everyDay(rng(hm(14, 0), hm(16, 0)), rng(hm(8, 0), hm(12, 0)))),
			"summer only": {Periods: parkHours.Periods[:1]},
		} {
			t.Run(name, func(t *testing.T) {
				if err := h.Validate(); err != nil {
					t.Fatal(err)
				}
			})
		}
	})

	md := func(m time.Month, d int) schedule.MonthDay { return schedule.MonthDay{Month: m, Day: d} }
	for _, tc := range []struct {
		name string
		h    schedule.OpeningHours
		want string
	}{
		{"ErrEndBeforeStart", allYear(everyDay(rng(hm(22, 0), hm(2, 0)))), "ends before it starts"},
		{"ErrEmptyRange", allYear(everyDay(rng(hm(8, 0), hm(8, 0)))), "is empty"},
		{"ErrOutOfDay", allYear(everyDay(rng(hm(8, 0), hm(25, 0)))), "outside 00:00–24:00"},
		{"ErrOverlappingRanges", allYear(everyDay(rng(hm(8, 0), hm(12, 0)), rng(hm(11, 0), hm(14, 0)))), "08:00–12:00 overlaps 11:00–14:00"},
		{"ErrBadMonthDay", schedule.OpeningHours{Periods: []schedule.Period{{From: md(2, 30), To: md(3, 1)}}}, "not a day of the year"},
		{"ErrOverlappingPeriods", schedule.OpeningHours{Periods: []schedule.Period{
			{Name: "summer", From: md(5, 1), To: md(9, 30)},
			{Name: "autumn", From: md(9, 1), To: md(11, 30)},
		}}, "overlaps periods[0] (summer)"},
		{"ErrOverlapOverNewYear", schedule.OpeningHours{Periods: []schedule.Period{
			{Name: "winter", From: md(10, 1), To: md(4, 30)},
			{Name: "january", From: md(1, 1), To: md(1, 31)},
		}}, "1 January"},
		{"ErrClosedWithHours", schedule.OpeningHours{Periods: []schedule.Period{
			{Name: "winter", From: md(10, 1), To: md(4, 30), Closed: true, Week: everyDay(rng(hm(8, 0), hm(9, 0)))},
		}}, "closed period lists opening hours"},
		{"ErrLeapDayHole", schedule.OpeningHours{Periods: []schedule.Period{
			{Name: "winter", From: md(10, 1), To: md(2, 28)},
			{Name: "summer", From: md(3, 1), To: md(9, 30)},
		}}, "29 February"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.h.Validate()
			var cerr *schedule.ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("want a *ConfigError, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}

	t.Run("ErrReportsAll", func(t *testing.T) {
		err := allYear(everyDay(rng(hm(9, 0), hm(8, 0)))).Validate()
		if n := strings.Count(err.Error(), "ends before it starts"); n != 7 {
			t.Fatalf("want one error per weekday, got %d: %v", n, err)
		}
	})
}

func TestOpenIntervals(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	ist := mustLoc(t, "Europe/Istanbul")

	t.Run("OKSeasons", func(t *testing.T) {
		// Thu 30 April (winter, 10–18) to Sat 2 May (summer weekend, 9–23).
		got := schedule.OpenIntervals(parkHours, hel, at(hel, 2024, 4, 30, 0, 0), at(hel, 2024, 5, 3, 0, 0))
		assertIntervals(t, got, []schedule.Interval{
			iv(at(hel, 2024, 4, 30, 10, 0), at(hel, 2024, 4, 30, 18, 0)),
			iv(at(hel, 2024, 5, 1, 8, 0), at(hel, 2024, 5, 1, 22, 0)),
			iv(at(hel, 2024, 5, 2, 8, 0), at(hel, 2024, 5, 2, 22, 0)),
		})
	})
	t.Run("OKClosedPeriodWins", func(t *testing.T) {
		// Mon 23 – Fri 27 December 2024: Christmas closure 24–26.
		got := schedule.OpenIntervals(parkHours, hel, at(hel, 2024, 12, 23, 0, 0), at(hel, 2024, 12, 28, 0, 0))
		assertIntervals(t, got, []schedule.Interval{
			iv(at(hel, 2024, 12, 23, 10, 0), at(hel, 2024, 12, 23, 18, 0)),
			iv(at(hel, 2024, 12, 27, 10, 0), at(hel, 2024, 12, 27, 18, 0)),
		})
	})
	t.Run("OKClippedAndJoinedOverMidnight", func(t *testing.T) {
		h := allYear(everyDay(rng(0, hm(2, 0)), rng(hm(20, 0), schedule.EndOfDay)))
		got := schedule.OpenIntervals(h, hel, at(hel, 2024, 6, 1, 21, 0), at(hel, 2024, 6, 2, 21, 0))
		assertIntervals(t, got, []schedule.Interval{
			iv(at(hel, 2024, 6, 1, 21, 0), at(hel, 2024, 6, 2, 2, 0)),
			iv(at(hel, 2024, 6, 2, 20, 0), at(hel, 2024, 6, 2, 21, 0)),
		})
	})
	t.Run("OKWinterWrapsNewYear", func(t *testing.T) {
		got := schedule.OpenIntervals(parkHours, hel, at(hel, 2024, 12, 31, 0, 0), at(hel, 2025, 1, 2, 0, 0))
		assertIntervals(t, got, []schedule.Interval{
			iv(at(hel, 2024, 12, 31, 10, 0), at(hel, 2024, 12, 31, 18, 0)),
			iv(at(hel, 2025, 1, 1, 10, 0), at(hel, 2025, 1, 1, 18, 0)),
		})
	})
	t.Run("OKEmptyRange", func(t *testing.T) {
		if got := schedule.OpenIntervals(parkHours, hel, utc(2024, 6, 1, 0, 0), utc(2024, 6, 1, 0, 0)); got != nil {
			t.Fatalf("got %v", got)
		}
	})

	// Hours that touch the changed hour, on Sundays only; each case is
	// one Sunday, so the window is that whole local day.
	spring := func(loc *time.Location) (time.Time, time.Time) {
		return at(loc, 2024, 3, 31, 0, 0), at(loc, 2024, 4, 1, 0, 0)
	}
	autumn := func(loc *time.Location) (time.Time, time.Time) {
		return at(loc, 2024, 10, 27, 0, 0), at(loc, 2024, 10, 28, 0, 0)
	}
	for _, tc := range []struct {
		name   string
		loc    *time.Location
		day    func(*time.Location) (time.Time, time.Time)
		r      schedule.Range
		want   []schedule.Interval
		length time.Duration
	}{
		{"HelsinkiSpringWholeDay", hel, spring, rng(0, schedule.EndOfDay),
			[]schedule.Interval{iv(utc(2024, 3, 30, 22, 0), utc(2024, 3, 31, 21, 0))}, 23 * time.Hour},
		{"HelsinkiSpringAcrossGap", hel, spring, rng(hm(2, 0), hm(5, 0)),
			[]schedule.Interval{iv(utc(2024, 3, 31, 0, 0), utc(2024, 3, 31, 2, 0))}, 2 * time.Hour},
		{"HelsinkiSpringStartsInGap", hel, spring, rng(hm(3, 0), hm(5, 0)),
			[]schedule.Interval{iv(utc(2024, 3, 31, 1, 0), utc(2024, 3, 31, 2, 0))}, time.Hour},
		{"HelsinkiSpringEndsInGap", hel, spring, rng(hm(1, 0), hm(3, 30)),
			[]schedule.Interval{iv(utc(2024, 3, 30, 23, 0), utc(2024, 3, 31, 1, 0))}, 2 * time.Hour},
		{"HelsinkiSpringStraddlesGapEnd", hel, spring, rng(hm(3, 30), hm(4, 30)),
			[]schedule.Interval{iv(utc(2024, 3, 31, 1, 0), utc(2024, 3, 31, 1, 30))}, 30 * time.Minute},
		{"HelsinkiSpringWhollyInGap", hel, spring, rng(hm(3, 0), hm(4, 0)), nil, 0},
		{"HelsinkiAutumnWholeDay", hel, autumn, rng(0, schedule.EndOfDay),
			[]schedule.Interval{iv(utc(2024, 10, 26, 21, 0), utc(2024, 10, 27, 22, 0))}, 25 * time.Hour},
		{"HelsinkiAutumnAcrossRepeat", hel, autumn, rng(hm(3, 0), hm(5, 0)),
			[]schedule.Interval{iv(utc(2024, 10, 27, 0, 0), utc(2024, 10, 27, 3, 0))}, 3 * time.Hour},
		{"HelsinkiAutumnRepeatedHour", hel, autumn, rng(hm(3, 0), hm(4, 0)),
			[]schedule.Interval{iv(utc(2024, 10, 27, 0, 0), utc(2024, 10, 27, 2, 0))}, 2 * time.Hour},
		{"HelsinkiAutumnEndsInRepeat", hel, autumn, rng(hm(2, 0), hm(3, 30)),
			[]schedule.Interval{iv(utc(2024, 10, 26, 23, 0), utc(2024, 10, 27, 0, 30))}, 90 * time.Minute},
		{"HelsinkiAutumnStartsAtEnd", hel, autumn, rng(hm(4, 0), hm(6, 0)),
			[]schedule.Interval{iv(utc(2024, 10, 27, 2, 0), utc(2024, 10, 27, 4, 0))}, 2 * time.Hour},
		{"IstanbulSpringNoDST", ist, spring, rng(hm(3, 0), hm(5, 0)),
			[]schedule.Interval{iv(utc(2024, 3, 31, 0, 0), utc(2024, 3, 31, 2, 0))}, 2 * time.Hour},
		{"IstanbulAutumnNoDST", ist, autumn, rng(0, schedule.EndOfDay),
			[]schedule.Interval{iv(utc(2024, 10, 26, 21, 0), utc(2024, 10, 27, 21, 0))}, 24 * time.Hour},
	} {
		t.Run("OK"+tc.name, func(t *testing.T) {
			var week [7][]schedule.Range
			week[time.Sunday] = []schedule.Range{tc.r}
			from, to := tc.day(tc.loc)
			got := schedule.OpenIntervals(allYear(week), tc.loc, from, to)
			assertIntervals(t, got, tc.want)
			var total time.Duration
			for _, g := range got {
				total += g.Duration()
			}
			if total != tc.length {
				t.Fatalf("open for %v, want %v", total, tc.length)
			}
		})
	}
}
