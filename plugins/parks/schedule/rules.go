package schedule

import (
	"errors"
	"fmt"
	"time"
)

// Rules are an area's booking rules. A zero value means "no limit" for
// every field, so an admin only sets what the park actually restricts.
type Rules struct {
	// MinDuration and MaxDuration bound a booking's elapsed length.
	MinDuration, MaxDuration time.Duration
	// Granularity is the slot grid in local time: bookings start and end
	// at a multiple of it after local midnight. It must be whole minutes
	// and divide 24 hours so the grid is the same every day.
	Granularity time.Duration
	// MinNotice is how long before its start a booking must be requested,
	// so staff have time to review it.
	MinNotice time.Duration
	// Horizon is how far ahead a booking may start.
	Horizon time.Duration
	// BufferBefore and BufferAfter are set-up and clean-up time around
	// each booking, see [Conflicts].
	BufferBefore, BufferAfter time.Duration
	// MaxActivePerOrg limits the bookings an organisation may hold that
	// have not yet ended, so one club cannot reserve a whole summer.
	MaxActivePerOrg int
}

// Narrow returns the rules that keep both r and outer: the longer minimum
// duration, notice and buffers, the shorter non-zero maximum duration,
// horizon and per-organisation limit, and a slot grid on which both grids
// fall (their least common multiple). It is how an area inherits the rules
// of the area it lies in unless it narrows them.
func (r Rules) Narrow(outer Rules) Rules {
	lowest := func(a, b time.Duration) time.Duration { // non-zero minimum; zero is no limit
		if a == 0 || (b != 0 && b < a) {
			return b
		}
		return a
	}
	out := Rules{
		MinDuration:     max(r.MinDuration, outer.MinDuration),
		MaxDuration:     lowest(r.MaxDuration, outer.MaxDuration),
		MinNotice:       max(r.MinNotice, outer.MinNotice),
		Horizon:         lowest(r.Horizon, outer.Horizon),
		BufferBefore:    max(r.BufferBefore, outer.BufferBefore),
		BufferAfter:     max(r.BufferAfter, outer.BufferAfter),
		MaxActivePerOrg: int(lowest(time.Duration(r.MaxActivePerOrg), time.Duration(outer.MaxActivePerOrg))),
		Granularity:     r.Granularity,
	}
	switch g, h := r.Granularity, outer.Granularity; {
	case g == 0:
		out.Granularity = h
	case h != 0 && g%time.Minute == 0 && h%time.Minute == 0:
		a, b := int64(g/time.Minute), int64(h/time.Minute)
		x, y := a, b
		for y != 0 {
			x, y = y, x%y
		}
		out.Granularity = time.Duration(a/x*b) * time.Minute
	}
	return out
}

// Validate reports every problem with the rules, joined, each a
// [*ConfigError].
func (r Rules) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"min_duration", r.MinDuration}, {"max_duration", r.MaxDuration}, {"slot_granularity", r.Granularity},
		{"min_notice", r.MinNotice}, {"booking_horizon", r.Horizon},
		{"buffer_before", r.BufferBefore}, {"buffer_after", r.BufferAfter},
	} {
		if f.d < 0 {
			errs = append(errs, configErr(f.name, "must not be negative, got %s", f.d))
		}
	}
	if r.MaxActivePerOrg < 0 {
		errs = append(errs, configErr("max_active_bookings", "must not be negative, got %d", r.MaxActivePerOrg))
	}
	if r.MaxDuration > 0 && r.MinDuration > r.MaxDuration {
		errs = append(errs, configErr("min_duration", "%s is longer than max_duration %s", r.MinDuration, r.MaxDuration))
	}
	if g := r.Granularity; g > 0 {
		switch {
		case g%time.Minute != 0:
			errs = append(errs, configErr("slot_granularity", "%s is not a whole number of minutes", g))
		case (24*time.Hour)%g != 0:
			errs = append(errs, configErr("slot_granularity", "%s does not divide the day into equal slots", g))
		default:
			if r.MinDuration%g != 0 {
				errs = append(errs, configErr("min_duration", "%s is not a multiple of the %s slot", r.MinDuration, g))
			}
			if r.MaxDuration%g != 0 {
				errs = append(errs, configErr("max_duration", "%s is not a multiple of the %s slot", r.MaxDuration, g))
			}
		}
	}
	if r.Horizon > 0 && r.MinNotice >= r.Horizon {
		errs = append(errs, configErr("min_notice", "%s is not shorter than booking_horizon %s; nothing could be booked", r.MinNotice, r.Horizon))
	}
	return errors.Join(errs...)
}

// ValidateConfig checks opening hours and rules together: each on its own,
// and that every opening range lies on the slot grid, since a park opening
// at 08:15 with a 30-minute grid would lose its first quarter hour without
// anyone noticing.
func ValidateConfig(h OpeningHours, r Rules) error {
	errs := []error{h.Validate(), r.Validate()}
	if g := r.Granularity; g > 0 && g%time.Minute == 0 && (24*time.Hour)%g == 0 {
		gm := Clock(g / time.Minute)
		for i, p := range h.Periods {
			for wd, ranges := range p.Week {
				for j, rg := range ranges {
					if rg.Start%gm != 0 || rg.End%gm != 0 {
						errs = append(errs, configErr(fmt.Sprintf("periods[%d].%s[%d]", i, time.Weekday(wd), j),
							"%s is not on the %s slot grid", rg, g))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Rule names carried by a [Violation]. They are stable identifiers for API
// clients and translations; the messages are English defaults.
const (
	RuleEndBeforeStart  = "end_before_start"
	RuleInPast          = "in_past"
	RuleMinNotice       = "min_notice"
	RuleHorizon         = "booking_horizon"
	RuleMinDuration     = "min_duration"
	RuleMaxDuration     = "max_duration"
	RuleSlotGranularity = "slot_granularity"
	RuleOpeningHours    = "opening_hours"
	RuleMaxActive       = "max_active_bookings"
)

// Violation is a booking request that breaks one rule. Rule is one of the
// Rule constants; Message can be shown to the resident as is.
type Violation struct {
	Rule    string
	Message string
}

// Error returns "rule: message", for logs; show Message to residents.
func (v Violation) Error() string { return v.Rule + ": " + v.Message }

// CheckRequest checks one requested booking [start, end) against the rules
// and the opening hours at time now. It returns the first broken rule as a
// [Violation], in the order a resident can best act on: the shape of the
// request, then when it is made, then its length, grid and hours. An
// invalid configuration is reported as a (non-Violation) error.
//
// The horizon limits the start of a booking, not its end, so a booking
// on the last bookable evening is not refused for running past midnight.
// Conflicts with other bookings are checked separately ([Conflicts]),
// because they need the blocking intervals from storage.
func CheckRequest(h OpeningHours, r Rules, tz *time.Location, start, end, now time.Time) error {
	if err := ValidateConfig(h, r); err != nil {
		return fmt.Errorf("schedule: invalid area configuration: %w", err)
	}
	return CheckValidatedRequest(h, r, tz, start, end, now)
}

// CheckValidatedRequest is [CheckRequest] for a configuration that already passed
// [ValidateConfig]: a caller that validates an area once when it loads it saves the
// check of every day of the year on each request.
func CheckValidatedRequest(h OpeningHours, r Rules, tz *time.Location, start, end, now time.Time) error {
	switch {
	case !start.Before(end):
		return Violation{RuleEndBeforeStart, "The booking must end after it starts."}
	case start.Before(now):
		return Violation{RuleInPast, "Bookings cannot start in the past."}
	case start.Before(now.Add(r.MinNotice)):
		return Violation{RuleMinNotice, fmt.Sprintf("Bookings must be requested at least %s in advance.", human(r.MinNotice))}
	case r.Horizon > 0 && start.After(now.Add(r.Horizon)):
		return Violation{RuleHorizon, fmt.Sprintf("Bookings can start at most %s ahead.", human(r.Horizon))}
	}
	return CheckFit(h, r, tz, start, end)
}

// CheckFit checks the part of [CheckValidatedRequest] that does not depend
// on when a booking is asked for: its length, the slot grid and the opening
// hours. It is how a booking made earlier is checked against hours or rules
// changed since.
func CheckFit(h OpeningHours, r Rules, tz *time.Location, start, end time.Time) error {
	if tz == nil {
		tz = time.UTC
	}
	d := end.Sub(start)
	switch {
	case d < r.MinDuration:
		return Violation{RuleMinDuration, fmt.Sprintf("Bookings must last at least %s.", human(r.MinDuration))}
	case r.MaxDuration > 0 && d > r.MaxDuration:
		return Violation{RuleMaxDuration, fmt.Sprintf("Bookings can last at most %s.", human(r.MaxDuration))}
	case !onGrid(start, tz, r.Granularity) || !onGrid(end, tz, r.Granularity):
		return Violation{RuleSlotGranularity, fmt.Sprintf("Bookings must start and end on the %s grid.", adjective(r.Granularity))}
	}
	open := OpenIntervals(h, tz, start, end)
	if len(open) != 1 || !open[0].Start.Equal(start) || !open[0].End.Equal(end) {
		return Violation{RuleOpeningHours, "The area is not open for the whole of the requested time."}
	}
	return nil
}

// CheckActiveLimit checks the per-organisation limit, given how many of its
// bookings are approved or pending and not yet ended.
func CheckActiveLimit(r Rules, active int) error {
	if r.MaxActivePerOrg > 0 && active >= r.MaxActivePerOrg {
		return Violation{RuleMaxActive, fmt.Sprintf("An organisation can hold at most %d active bookings of this area.", r.MaxActivePerOrg)}
	}
	return nil
}

// onGrid reports whether t's local wall time is a multiple of g after
// midnight. Reading the wall time of the instant (rather than counting from
// midnight) keeps the grid on the clock face across DST changes.
func onGrid(t time.Time, loc *time.Location, g time.Duration) bool {
	if g <= 0 {
		return true
	}
	lt := t.In(loc)
	if lt.Second() != 0 || lt.Nanosecond() != 0 {
		return false
	}
	return (lt.Hour()*60+lt.Minute())%int(g/time.Minute) == 0
}

// human formats a duration the way a booking form speaks: "2 days",
// "3 hours", "90 minutes".
func human(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d > 0 && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return d.String()
}

// adjective formats a slot length as "30-minute" or "1-hour".
func adjective(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d-hour", d/time.Hour)
	}
	return fmt.Sprintf("%d-minute", d/time.Minute)
}
