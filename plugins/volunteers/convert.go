package volunteers

import (
	"fmt"
	"strings"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
)

// Conversions between the API's text forms and the match engine's types.

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseDate(s string) (match.Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return match.Date{}, fmt.Errorf("must be a date YYYY-MM-DD")
	}
	return match.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// parseClock parses "HH:MM" as an offset from local midnight; "24:00" is accepted as
// the end of the day.
func parseClock(s string) (time.Duration, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) != 5 ||
		h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("must be a time HH:MM")
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func parseWindow(w AvailabilityWindow) (match.Window, error) {
	day, ok := weekdays[strings.ToLower(w.Day)]
	if !ok {
		return match.Window{}, fmt.Errorf("day must be a weekday name such as \"saturday\"")
	}
	start, err := parseClock(w.Start)
	if err != nil || start == 24*time.Hour {
		return match.Window{}, fmt.Errorf("start must be a time HH:MM before 24:00")
	}
	end, err := parseClock(w.End)
	if err != nil {
		return match.Window{}, fmt.Errorf("end %v", err)
	}
	return match.Window{Day: day, Start: start, End: end}, nil
}

var checkStatus = map[string]match.CheckStatus{
	CheckNone: match.CheckNone, CheckPending: match.CheckPending,
	CheckCleared: match.CheckCleared, CheckRejected: match.CheckRejected,
}

// matchProfile compiles a stored profile. The stored values were validated on the way in,
// so a value that does not parse (which would need a hand-edited row) is skipped rather
// than failing every ranking.
func matchProfile(p Profile) match.Profile {
	mp := match.Profile{
		ID: p.UserID, Skills: p.Skills, Tags: p.Tags, Languages: p.Languages,
		Neighbourhoods: p.Neighbourhoods, MaxWeekly: time.Duration(p.MaxHoursPerWeek) * time.Hour,
		Check: match.BackgroundCheck{Status: checkStatus[p.BackgroundCheck.Status]},
	}
	for _, w := range p.Availability {
		if mw, err := parseWindow(w); err == nil {
			mp.Weekly = append(mp.Weekly, mw)
		}
	}
	for _, d := range p.UnavailableDates {
		if md, err := parseDate(d); err == nil {
			mp.Unavailable = append(mp.Unavailable, md)
		}
	}
	mp.BirthDate, _ = parseDate(p.BirthDate)
	if p.BackgroundCheck.Expires != "" {
		mp.Check.Expires, _ = parseDate(p.BackgroundCheck.Expires)
	}
	return mp
}

func matchOpportunity(o Opportunity) match.Opportunity {
	mo := match.Opportunity{
		ID: o.ID, Neighbourhood: o.NeighbourhoodID, Required: o.RequiredSkills,
		Preferred: o.PreferredSkills, Languages: o.Languages, MinAge: o.MinAge, NeedsCheck: o.NeedsBackgroundCheck,
	}
	for _, sh := range o.Shifts {
		mo.Shifts = append(mo.Shifts, match.Shift{ID: sh.ID, Start: sh.Start, End: sh.End, Capacity: sh.Capacity, Taken: sh.Taken})
	}
	return mo
}

// ruleMessages say in plain words why a volunteer may not take a shift.
var ruleMessages = map[match.Rule]string{
	match.RuleAge:             "below the opportunity's minimum age on the shift's date",
	match.RuleBackgroundCheck: "no background check valid on the shift's date",
	match.RuleRequiredSkills:  "missing a required skill",
	match.RuleAvailability:    "availability does not cover the whole shift",
	match.RuleDateUnavailable: "marked the shift's date as unavailable",
	match.RuleOverlap:         "overlaps another confirmed shift",
	match.RuleWeeklyHours:     "would exceed the weekly hours limit",
}
