package schedule

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Range is an opening range within one local day, [Start, End). Ranges do
// not cross midnight: "22:00–02:00" is written as 22:00–24:00 on one day
// and 00:00–02:00 on the next, which join seamlessly in [OpenIntervals].
type Range struct {
	Start, End Clock
}

// String formats the range as HH:MM–HH:MM.
func (r Range) String() string { return r.Start.String() + "–" + r.End.String() }

// MonthDay is a day of the year without a year, the unit seasons are
// published in ("summer: 1 May – 30 September").
type MonthDay struct {
	Month time.Month
	Day   int
}

// ord orders month-days within a year.
func (md MonthDay) ord() int { return int(md.Month)*32 + md.Day }

// Valid reports whether md exists in a leap year.
func (md MonthDay) Valid() bool {
	return md.Month >= time.January && md.Month <= time.December &&
		md.Day >= 1 && md.Day <= daysIn(md.Month)
}

// String formats md as "1 May".
func (md MonthDay) String() string { return fmt.Sprintf("%d %s", md.Day, md.Month) }

func daysIn(m time.Month) int {
	// 2000 is a leap year, so 29 February is valid.
	return time.Date(2000, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Period is a season with its own weekly hours. From and To are inclusive;
// a period whose To is before its From wraps over the new year (1 October –
// 30 April). A Closed period closes the area for every day it covers: it
// is how a winter closure or "closed 24–26 December every year" is
// written, and it may overlap open periods, which it overrides.
type Period struct {
	// Name is used in validation errors ("summer").
	Name     string
	From, To MonthDay
	Closed   bool
	// Week holds the opening ranges per weekday, indexed by time.Weekday
	// (Sunday is 0). A weekday without ranges is closed.
	Week [7][]Range
}

func (p *Period) covers(md MonthDay) bool {
	o, f, t := md.ord(), p.From.ord(), p.To.ord()
	if f <= t {
		return f <= o && o <= t
	}
	return o >= f || o <= t
}

// OpeningHours is an area's opening hours over the year. A date that no
// period covers is closed, so a park with only a summer season needs no
// explicit winter closure.
type OpeningHours struct {
	Periods []Period
	// Within are the hours of enclosing places (a park's area inside a
	// larger area): the area is open only when its own periods and every
	// one of these say so. It can narrow what encloses it, never widen it.
	// Validate checks the own periods only; each enclosing place's hours
	// were checked as its own.
	Within []OpeningHours
}

// periodFor returns the period covering d, or nil. A closed period wins;
// validation guarantees at most one open period.
func (h *OpeningHours) periodFor(d Date) *Period {
	md := MonthDay{d.Month, d.Day}
	var found *Period
	for i := range h.Periods {
		if p := &h.Periods[i]; p.covers(md) {
			if p.Closed {
				return p
			}
			found = p
		}
	}
	return found
}

// ConfigError is one problem in an area's opening hours or rules. Field
// names the offending setting so an admin form can highlight it.
type ConfigError struct {
	Field   string
	Message string
}

// Error formats the problem with the "schedule:" prefix and field path.
func (e *ConfigError) Error() string { return "schedule: " + e.Field + ": " + e.Message }

func configErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Validate reports every problem with the opening hours at once, joined,
// each a [*ConfigError], so an admin can fix them in one go.
func (h OpeningHours) Validate() error {
	var errs []error
	owner := map[MonthDay]int{} // month-day → index of the open period covering it
	covered := map[MonthDay]bool{}
	clash := map[[2]int]bool{}
	for i := range h.Periods {
		p := &h.Periods[i]
		field := fmt.Sprintf("periods[%d]", i)
		if p.Name != "" {
			field = fmt.Sprintf("periods[%d] (%s)", i, p.Name)
		}
		if !p.From.Valid() {
			errs = append(errs, configErr(field+".from", "%d/%d is not a day of the year", p.From.Day, int(p.From.Month)))
		}
		if !p.To.Valid() {
			errs = append(errs, configErr(field+".to", "%d/%d is not a day of the year", p.To.Day, int(p.To.Month)))
		}
		for wd, ranges := range p.Week {
			if p.Closed && len(ranges) > 0 {
				errs = append(errs, configErr(field, "a closed period lists opening hours on %s", time.Weekday(wd)))
				break
			}
			errs = append(errs, validateDay(fmt.Sprintf("%s.%s", field, time.Weekday(wd)), ranges)...)
		}
		if !p.From.Valid() || !p.To.Valid() {
			continue
		}
		for m := time.January; m <= time.December; m++ {
			for d := 1; d <= daysIn(m); d++ {
				md := MonthDay{m, d}
				if !p.covers(md) {
					continue
				}
				covered[md] = true
				if p.Closed {
					continue
				}
				if j, ok := owner[md]; ok {
					if !clash[[2]int{j, i}] {
						clash[[2]int{j, i}] = true
						errs = append(errs, configErr(field, "overlaps periods[%d] (%s), e.g. on %s; a day must belong to one open season",
							j, h.Periods[j].Name, md))
					}
					continue
				}
				owner[md] = i
			}
		}
	}
	// A season written as "… – 28 February" silently closes the park on
	// leap days; almost always a mistake.
	if covered[MonthDay{time.February, 28}] && covered[MonthDay{time.March, 1}] && !covered[MonthDay{time.February, 29}] {
		errs = append(errs, configErr("periods", "29 February belongs to no period, so the area would close on leap days; end the season on 29 February"))
	}
	return errors.Join(errs...)
}

func validateDay(field string, ranges []Range) []error {
	var errs []error
	for j, r := range ranges {
		f := fmt.Sprintf("%s[%d]", field, j)
		switch {
		case !r.Start.Valid() || !r.End.Valid():
			errs = append(errs, configErr(f, "%s is outside 00:00–24:00", r))
		case r.End < r.Start:
			errs = append(errs, configErr(f, "%s ends before it starts; split a range over midnight into two days", r))
		case r.End == r.Start:
			errs = append(errs, configErr(f, "%s is empty", r))
		}
	}
	sorted := slices.Clone(ranges)
	slices.SortFunc(sorted, func(a, b Range) int { return int(a.Start - b.Start) })
	for j := 1; j < len(sorted); j++ {
		if sorted[j].Start < sorted[j-1].End {
			errs = append(errs, configErr(field, "%s overlaps %s", sorted[j-1], sorted[j]))
		}
	}
	return errs
}

// OpenIntervals returns the instants in [from, to) at which the area is
// open, in UTC, sorted and merged (a range ending at 24:00 joins one
// starting at 00:00 the next day). Wall times are resolved with
// [ResolveLocal].
func OpenIntervals(h OpeningHours, loc *time.Location, from, to time.Time) []Interval {
	if loc == nil {
		loc = time.UTC
	}
	if !from.Before(to) {
		return nil
	}
	out := ownOpenIntervals(h, loc, from, to)
	for _, w := range h.Within {
		if len(out) == 0 {
			break
		}
		out = intersectIntervals(out, OpenIntervals(w, loc, out[0].Start, out[len(out)-1].End))
	}
	return out
}

// intersectIntervals returns the instants in both a and b, each sorted and
// disjoint, sorted and disjoint.
func intersectIntervals(a, b []Interval) []Interval {
	var out []Interval
	for i, j := 0, 0; i < len(a) && j < len(b); {
		s, e := a[i].Start, a[i].End
		if b[j].Start.After(s) {
			s = b[j].Start
		}
		if b[j].End.Before(e) {
			e = b[j].End
		}
		if s.Before(e) {
			out = append(out, Interval{s, e})
		}
		if a[i].End.Before(b[j].End) {
			i++
		} else {
			j++
		}
	}
	return out
}

// ownOpenIntervals is OpenIntervals for h's own periods.
func ownOpenIntervals(h OpeningHours, loc *time.Location, from, to time.Time) []Interval {
	var out []Interval
	// A day's ranges can reach into the next day only via 24:00, and a
	// range resolved on the day before from can still end after it.
	last := DateOf(to.In(loc))
	for d := DateOf(from.In(loc)).AddDays(-1); !last.Before(d); d = d.AddDays(1) {
		p := h.periodFor(d)
		if p == nil || p.Closed {
			continue
		}
		for _, r := range p.Week[d.Weekday()] {
			iv := Interval{ResolveLocal(loc, d, r.Start), ResolveLocal(loc, d, r.End)}
			if iv.Start.Before(from) {
				iv.Start = from
			}
			if iv.End.After(to) {
				iv.End = to
			}
			if !iv.Empty() {
				out = append(out, Interval{iv.Start.UTC(), iv.End.UTC()})
			}
		}
	}
	return mergeIntervals(out)
}

// mergeIntervals sorts ivs and joins those that overlap or touch.
func mergeIntervals(ivs []Interval) []Interval {
	slices.SortFunc(ivs, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	out := ivs[:0]
	for _, iv := range ivs {
		if n := len(out); n > 0 && !iv.Start.After(out[n-1].End) {
			if iv.End.After(out[n-1].End) {
				out[n-1].End = iv.End
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}
