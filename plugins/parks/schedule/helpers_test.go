package schedule_test

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

// hm is a short alias for range literals.
var hm = schedule.HM

func rng(a, b schedule.Clock) schedule.Range { return schedule.Range{Start: a, End: b} }

// weekdays builds a week with one set of ranges Monday–Friday and another
// on Saturday and Sunday.
func weekdays(work, weekend []schedule.Range) [7][]schedule.Range {
	var w [7][]schedule.Range
	for d := time.Sunday; d <= time.Saturday; d++ {
		if d == time.Saturday || d == time.Sunday {
			w[d] = weekend
		} else {
			w[d] = work
		}
	}
	return w
}

func everyDay(rs ...schedule.Range) [7][]schedule.Range { return weekdays(rs, rs) }

// allYear is one open period covering the whole year.
func allYear(week [7][]schedule.Range) schedule.OpeningHours {
	return schedule.OpeningHours{Periods: []schedule.Period{{
		Name: "all year", From: schedule.MonthDay{Month: time.January, Day: 1},
		To: schedule.MonthDay{Month: time.December, Day: 31}, Week: week,
	}}}
}

// parkHours is a typical seasonal park: long summer days, short winter
// weekdays, closed winter weekends, closed over Christmas.
var parkHours = schedule.OpeningHours{Periods: []schedule.Period{
	{
		Name: "summer", From: schedule.MonthDay{Month: time.May, Day: 1}, To: schedule.MonthDay{Month: time.September, Day: 30},
		Week: weekdays([]schedule.Range{rng(hm(8, 0), hm(22, 0))}, []schedule.Range{rng(hm(9, 0), hm(23, 0))}),
	},
	{
		Name: "winter", From: schedule.MonthDay{Month: time.October, Day: 1}, To: schedule.MonthDay{Month: time.April, Day: 30},
		Week: weekdays([]schedule.Range{rng(hm(10, 0), hm(18, 0))}, nil),
	},
	{
		Name: "christmas", From: schedule.MonthDay{Month: time.December, Day: 24}, To: schedule.MonthDay{Month: time.December, Day: 26},
		Closed: true,
	},
}}

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// at is a local wall time in loc, for test inputs that are unambiguous.
func at(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func iv(s, e time.Time) schedule.Interval { return schedule.Interval{Start: s, End: e} }

func assertIntervals(tb testing.TB, got, want []schedule.Interval) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d intervals %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			tb.Fatalf("interval %d: got %v, want %v\nall: %v", i, got[i], want[i], got)
		}
	}
}
