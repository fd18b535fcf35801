package parks

import (
	"fmt"
	"strings"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

// Opening hours and booking rules: the JSON documents an area is created
// with, and their conversion to package schedule's types, which do the
// arithmetic.

// HoursDoc is the JSON form of opening hours: seasonal periods with ranges
// per weekday in local wall time.
type HoursDoc struct {
	Periods []PeriodDoc `json:"periods"`
}

// PeriodDoc is one season: From and To are "MM-DD", inclusive; Week maps
// lower-case English weekday names to opening ranges.
type PeriodDoc struct {
	Name   string                `json:"name" max:"200"`
	From   string                `json:"from" max:"5"`
	To     string                `json:"to" max:"5"`
	Closed bool                  `json:"closed"`
	Week   map[string][]RangeDoc `json:"week"`
}

// RangeDoc is an opening range "HH:MM"–"HH:MM" within one day.
type RangeDoc struct {
	Start string `json:"start" max:"5"`
	End   string `json:"end" max:"5"`
}

// alwaysOpen is used when an area is created without opening hours.
func alwaysOpen() HoursDoc {
	week := map[string][]RangeDoc{}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		week[strings.ToLower(wd.String())] = []RangeDoc{{"00:00", "24:00"}}
	}
	return HoursDoc{Periods: []PeriodDoc{{Name: "all year", From: "01-01", To: "12-31", Week: week}}}
}

// toSchedule converts the document, naming the field of the first problem.
func (h HoursDoc) toSchedule() (schedule.OpeningHours, error) {
	var out schedule.OpeningHours
	for i, p := range h.Periods {
		field := fmt.Sprintf("opening_hours.periods[%d]", i)
		from, err := parseMonthDay(p.From)
		if err != nil {
			return out, invalid(field+".from", schedule.RuleOpeningHours, err.Error())
		}
		to, err := parseMonthDay(p.To)
		if err != nil {
			return out, invalid(field+".to", schedule.RuleOpeningHours, err.Error())
		}
		sp := schedule.Period{Name: p.Name, From: from, To: to, Closed: p.Closed}
		for day, ranges := range p.Week {
			wd, ok := weekdays[strings.ToLower(day)]
			if !ok {
				return out, invalid(field+".week", schedule.RuleOpeningHours, fmt.Sprintf("%q is not a weekday", day))
			}
			for j, r := range ranges {
				s, err1 := schedule.ParseClock(r.Start)
				e, err2 := schedule.ParseClock(r.End)
				if err1 != nil || err2 != nil {
					return out, invalid(fmt.Sprintf("%s.week.%s[%d]", field, day, j), schedule.RuleOpeningHours, "want HH:MM between 00:00 and 24:00")
				}
				sp.Week[wd] = append(sp.Week[wd], schedule.Range{Start: s, End: e})
			}
		}
		out.Periods = append(out.Periods, sp)
	}
	return out, nil
}

var weekdays = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		m[strings.ToLower(wd.String())] = wd
	}
	return m
}()

func parseMonthDay(s string) (schedule.MonthDay, error) {
	var m, d int
	if _, err := fmt.Sscanf(s, "%02d-%02d", &m, &d); err != nil || len(s) != 5 {
		return schedule.MonthDay{}, fmt.Errorf("want MM-DD, got %q", s)
	}
	md := schedule.MonthDay{Month: time.Month(m), Day: d}
	if !md.Valid() {
		return md, fmt.Errorf("%q is not a day of the year", s)
	}
	return md, nil
}

// RulesDoc is the JSON form of an area's booking rules; zero means no
// limit. Names match the rule names of violations.
type RulesDoc struct {
	MinDurationMinutes     int `json:"min_duration_minutes" min:"0" max:"527040"`
	MaxDurationMinutes     int `json:"max_duration_minutes" min:"0" max:"527040"`
	SlotGranularityMinutes int `json:"slot_granularity_minutes" min:"0" max:"527040"`
	MinNoticeMinutes       int `json:"min_notice_minutes" min:"0" max:"527040"`
	BookingHorizonDays     int `json:"booking_horizon_days" min:"0" max:"3660"`
	BufferBeforeMinutes    int `json:"buffer_before_minutes" min:"0" max:"527040"`
	BufferAfterMinutes     int `json:"buffer_after_minutes" min:"0" max:"527040"`
	MaxActiveBookings      int `json:"max_active_bookings" min:"0" max:"100000"`
}

func (r RulesDoc) toSchedule() schedule.Rules {
	min := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	return schedule.Rules{
		MinDuration:     min(r.MinDurationMinutes),
		MaxDuration:     min(r.MaxDurationMinutes),
		Granularity:     min(r.SlotGranularityMinutes),
		MinNotice:       min(r.MinNoticeMinutes),
		Horizon:         time.Duration(r.BookingHorizonDays) * 24 * time.Hour,
		BufferBefore:    min(r.BufferBeforeMinutes),
		BufferAfter:     min(r.BufferAfterMinutes),
		MaxActivePerOrg: r.MaxActiveBookings,
	}
}

// rulesDoc is the inverse of RulesDoc.toSchedule.
func rulesDoc(r schedule.Rules) RulesDoc {
	mins := func(d time.Duration) int { return int(d / time.Minute) }
	return RulesDoc{
		MinDurationMinutes:     mins(r.MinDuration),
		MaxDurationMinutes:     mins(r.MaxDuration),
		SlotGranularityMinutes: mins(r.Granularity),
		MinNoticeMinutes:       mins(r.MinNotice),
		BookingHorizonDays:     int(r.Horizon / (24 * time.Hour)),
		BufferBeforeMinutes:    mins(r.BufferBefore),
		BufferAfterMinutes:     mins(r.BufferAfter),
		MaxActiveBookings:      r.MaxActivePerOrg,
	}
}
