package schedule

import (
	"errors"
	"fmt"
	"time"
)

// maxSeriesWeeks bounds a series to ten years, far beyond any horizon, so
// a typo cannot make a request expand into millions of intervals.
const maxSeriesWeeks = 520

// WeeklySeries is a recurring booking such as "every Saturday 10:00–12:00
// for 8 weeks". The times are local wall times, so the booking stays at
// 10:00 on the clock when daylight saving time starts or ends.
type WeeklySeries struct {
	// From is the first date considered; the first occurrence is the
	// first Day on or after it.
	From Date
	Day  time.Weekday
	// Start and End are the local times of each occurrence; End must be
	// after Start (a series does not cross midnight).
	Start, End Clock
	// Weeks is the number of occurrences.
	Weeks int
}

// Expand returns the occurrences of the series in loc as UTC intervals,
// resolving each wall time with [ResolveLocal].
func (s WeeklySeries) Expand(loc *time.Location) ([]Interval, error) {
	switch {
	case loc == nil:
		return nil, errors.New("schedule: series needs a time zone")
	case !s.From.Valid():
		return nil, fmt.Errorf("schedule: series starts on invalid date %s", s.From)
	case s.Day < time.Sunday || s.Day > time.Saturday:
		return nil, fmt.Errorf("schedule: series weekday %d is invalid", s.Day)
	case !s.Start.Valid() || !s.End.Valid() || s.End <= s.Start:
		return nil, fmt.Errorf("schedule: series time %s–%s must be a range within one day", s.Start, s.End)
	case s.Weeks < 1 || s.Weeks > maxSeriesWeeks:
		return nil, fmt.Errorf("schedule: series of %d weeks, want 1 to %d", s.Weeks, maxSeriesWeeks)
	}
	d := s.From.AddDays((int(s.Day) - int(s.From.Weekday()) + 7) % 7)
	out := make([]Interval, 0, s.Weeks)
	for range s.Weeks {
		iv := Interval{ResolveLocal(loc, d, s.Start), ResolveLocal(loc, d, s.End)}
		if iv.Empty() {
			// Only a range wholly inside a spring-forward gap; a
			// silent empty booking would confuse everyone.
			return nil, fmt.Errorf("schedule: series occurrence on %s, %s–%s, does not exist in %s (clocks skip it)", d, s.Start, s.End, loc)
		}
		out = append(out, iv)
		d = d.AddDays(7)
	}
	return out, nil
}
