// Package schedule is the pure booking arithmetic of the parks plugin: when
// an area is open, what is still free, whether a requested booking obeys the
// area's rules, and whether the park has enough equipment for it.
//
// Nothing here touches storage or the clock. Callers pass the blocking
// intervals (approved bookings and closures of the area, its ancestors and
// its descendants, since booking a park conflicts with booking its stage)
// and "now"; the same functions therefore serve the HTTP handlers, the
// approval workflow and the tests.
//
// # Time
//
// Intervals are half-open, [Start, End), and are instants: a booking from
// 10:00 to 12:00 followed by one from 12:00 to 14:00 does not overlap.
// Opening hours, slot grids and weekly series are in the park's local wall
// time (an IANA zone passed as *time.Location), because that is what the
// signs at the park gate say. Results are returned in UTC.
//
// # Daylight saving
//
// A local date and wall-clock time is turned into an instant by
// [ResolveLocal], with one rule used everywhere:
//
//   - a wall time inside the spring-forward gap (in Helsinki, 03:00–03:59 on
//     the last Sunday of March) does not exist; it resolves to the moment the
//     clocks jump, 04:00 local. An area "open 03:00–05:00" on that day is
//     therefore open for one hour, from 04:00, and one "open 03:00–03:30" is
//     closed: no clock in the park ever shows a time in that range.
//   - a wall time in the repeated autumn hour (03:00–03:59 on the last
//     Sunday of October) resolves to its first occurrence, as RFC 5545
//     does. "Open 00:00–03:30" closes at the first 03:30; "open 03:00–05:00"
//     is open for three real hours.
//
// Durations (minimum and maximum booking length, notice, horizon, buffers)
// are real elapsed time, so a booking over the autumn change from 02:00 to
// 05:00 lasts four hours.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Interval is a half-open span of time [Start, End).
type Interval struct {
	Start, End time.Time
}

// Empty reports whether the interval contains no instant.
func (iv Interval) Empty() bool { return !iv.Start.Before(iv.End) }

// Duration is the elapsed time of the interval.
func (iv Interval) Duration() time.Duration { return iv.End.Sub(iv.Start) }

// Overlaps reports whether the two intervals share an instant; intervals
// that merely touch do not.
func (iv Interval) Overlaps(o Interval) bool {
	return iv.Start.Before(o.End) && o.Start.Before(iv.End) && !iv.Empty() && !o.Empty()
}

// Contains reports whether o lies entirely inside iv.
func (iv Interval) Contains(o Interval) bool {
	return !o.Start.Before(iv.Start) && !o.End.After(iv.End)
}

// String formats the interval in RFC 3339 for error messages and tests.
func (iv Interval) String() string {
	return "[" + iv.Start.Format(time.RFC3339) + ", " + iv.End.Format(time.RFC3339) + ")"
}

// Clock is a local wall-clock time of day in minutes after midnight, from
// 00:00 (0) to 24:00 (1440). Minutes are the finest unit opening hours are
// published in; 24:00 lets a range run to the end of the day.
type Clock int

// EndOfDay is 24:00, the end of a range that closes at midnight.
const EndOfDay Clock = 24 * 60

// HM returns the clock time h:m.
func HM(h, m int) Clock { return Clock(h*60 + m) }

// ParseClock parses "HH:MM", including "24:00".
func ParseClock(s string) (Clock, error) {
	hs, ms, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if !ok || err1 != nil || err2 != nil || len(ms) != 2 || m < 0 || m > 59 || h < 0 || HM(h, m) > EndOfDay {
		return 0, fmt.Errorf("schedule: invalid time of day %q, want HH:MM between 00:00 and 24:00", s)
	}
	return HM(h, m), nil
}

// Valid reports whether c lies between 00:00 and 24:00.
func (c Clock) Valid() bool { return c >= 0 && c <= EndOfDay }

// String formats c as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Date is a calendar date without a time or zone, the unit opening hours
// and weekly series are defined on.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Valid reports whether d names a real calendar day.
func (d Date) Valid() bool {
	n := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return DateOf(n) == d
}

// AddDays returns the date n days later (earlier when n is negative). The
// arithmetic is done in UTC, where every day has 24 hours.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// ResolveLocal returns the instant at which clocks in loc show the wall time
// c on date d, in UTC. A wall time skipped by a spring-forward change
// resolves to the instant of the change; a wall time repeated by an autumn
// change resolves to its first occurrence (see the package documentation).
// c may be 24:00, which is 00:00 of the next day.
func ResolveLocal(loc *time.Location, d Date, c Clock) time.Time {
	wall := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() + int64(c)*60
	// The offsets in force a day either side are the only candidates;
	// zones do not change twice within two days.
	before, after := offsetAt(loc, wall-86400), offsetAt(loc, wall+86400)
	best, found := int64(0), false
	for _, off := range [2]int64{before, after} {
		u := wall - off
		if offsetAt(loc, u) == off && (!found || u < best) {
			best, found = u, true
		}
	}
	if found {
		return time.Unix(best, 0).UTC()
	}
	// In the gap: reading the wall time with the old offset lands after
	// the change, inside the new zone period, whose start is the change.
	t := time.Unix(wall-before, 0).In(loc)
	if start, _ := t.ZoneBounds(); !start.IsZero() {
		return start.UTC()
	}
	return t.UTC()
}

func offsetAt(loc *time.Location, unix int64) int64 {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return int64(off)
}
