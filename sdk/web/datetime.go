package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// Date is a calendar date from a form's date field, normalised to "2027-03-14". A
// browser with a date picker sends that form; where the browser shows a plain text box
// instead, people also type the date as their language writes it — "14.3.2027" (fi, da,
// tr, de) or "14/3/2027" — and those are read day first. Decode fills a Date field and
// refuses anything else, or a date outside sdk.MinTime to sdk.MaxTime, naming the rule.
type Date string

// Clock is a time of day from a form's time field, normalised to "14:30" (24-hour
// clock); "14.30", as Finnish and Danish write it, is read too.
type Clock string

// ruleError is an UnmarshalText error that names the rule broken, for Decode.
type ruleError struct{ rule string }

func (e ruleError) Error() string { return "breaks the rule " + e.rule }

// UnmarshalText reads a date in one of the forms Date takes.
func (d *Date) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	var y, m, day int
	var err error
	switch {
	case strings.Count(s, "-") == 2:
		y, m, day, err = three(s, "-")
	case strings.Count(s, ".") == 2 || strings.Count(s, ".") == 3 && strings.HasSuffix(s, "."):
		day, m, y, err = three(strings.TrimSuffix(s, "."), ".")
	case strings.Count(s, "/") == 2:
		day, m, y, err = three(s, "/")
	default:
		err = ruleError{sdk.RuleFormat}
	}
	if err != nil {
		return ruleError{sdk.RuleFormat}
	}
	t := time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != day {
		return ruleError{sdk.RuleFormat} // 31.2.2027 is no day
	}
	if sdk.CheckTime("", t) != nil {
		return ruleError{sdk.RuleTimeRange}
	}
	*d = Date(t.Format(time.DateOnly))
	return nil
}

func three(s, sep string) (a, b, c int, err error) {
	parts := strings.Split(s, sep)
	var n [3]int
	for i, p := range parts {
		if len(p) == 0 || len(p) > 4 {
			return 0, 0, 0, fmt.Errorf("bad part %q", p)
		}
		if n[i], err = strconv.Atoi(p); err != nil || n[i] < 0 {
			return 0, 0, 0, fmt.Errorf("bad part %q", p)
		}
	}
	return n[0], n[1], n[2], nil
}

// In is the start of the date in zone (the city's): midnight, or the first moment of
// the day where a clock change skips midnight.
func (d Date) In(zone *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, string(d), zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("web: date %q: %w", string(d), err)
	}
	return t, nil
}

// At is the date at clock c in zone (the city's).
func (d Date) At(c Clock, zone *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly+" 15:04", string(d)+" "+string(c), zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("web: date %q at %q: %w", string(d), string(c), err)
	}
	return t, nil
}

// UnmarshalText reads a time of day as "14:30" or "14.30" (seconds are dropped).
func (c *Clock) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	sep := ":"
	if !strings.Contains(s, ":") {
		sep = "."
	}
	parts := strings.Split(s, sep)
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) == 0 || len(parts[0]) > 2 || len(parts[1]) != 2 {
		return ruleError{sdk.RuleFormat}
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return ruleError{sdk.RuleFormat}
	}
	*c = Clock(fmt.Sprintf("%02d:%02d", h, m))
	return nil
}
