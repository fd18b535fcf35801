package match

import (
	"errors"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the machine's zoneinfo
)

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

func at(tb testing.TB, loc *time.Location, s string) time.Time {
	tb.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// alwaysFree is availability on every day, all day.
func alwaysFree() []Window {
	var w []Window
	for d := time.Sunday; d <= time.Saturday; d++ {
		w = append(w, Window{Day: d, Start: 0, End: 24 * time.Hour})
	}
	return w
}

// basic returns a profile that passes every rule for basicOpp.
func basic(id string) Profile {
	return Profile{
		ID:        id,
		Skills:    []string{"first-aid", "driving"},
		Languages: []string{"fi"},
		Weekly:    alwaysFree(),
		BirthDate: Date{1990, time.January, 1},
		Check:     BackgroundCheck{Status: CheckCleared},
	}
}

func basicOpp(tb testing.TB, loc *time.Location, start, end string) Opportunity {
	tb.Helper()
	return Opportunity{
		ID:            "opp",
		Neighbourhood: "kallio",
		Required:      []string{"first-aid"},
		Shifts:        []Shift{{ID: "s", Start: at(tb, loc, start), End: at(tb, loc, end), Capacity: 3}},
	}
}

func explain(tb testing.TB, loc *time.Location, p Profile, opp Opportunity) Verdict {
	tb.Helper()
	ix, err := NewIndex(loc, []Profile{p})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := ix.Explain(p.ID, &opp, opp.Shifts[0].ID, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestIndex_Explain(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	tests := []struct {
		name   string
		edit   func(p *Profile, o *Opportunity)
		start  string
		end    string
		failed []Rule
	}{
		{name: "OK", edit: func(*Profile, *Opportunity) {}, start: "2025-06-07 09:00", end: "2025-06-07 13:00"},
		{name: "AgeMinorExcluded", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.BirthDate = Date{2008, time.June, 8} // 18 tomorrow
				o.MinAge = 18
			}, failed: []Rule{RuleAge}},
		{name: "AgeBirthdayOnShiftDate", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.BirthDate = Date{2007, time.June, 7}
				o.MinAge = 18
			}},
		{name: "AgeUsesCityZone", start: "2025-06-07 00:30", end: "2025-06-07 03:00",
			// 00:30 in Helsinki is still 6 June in UTC; the city date counts.
			edit: func(p *Profile, o *Opportunity) {
				p.BirthDate = Date{2007, time.June, 7}
				o.MinAge = 18
			}},
		{name: "AgeLeapDayNotYet", start: "2025-02-28 09:00", end: "2025-02-28 12:00",
			edit: func(p *Profile, o *Opportunity) {
				p.BirthDate = Date{2008, time.February, 29}
				o.MinAge = 17
			}, failed: []Rule{RuleAge}},
		{name: "AgeLeapDayOnMarch1", start: "2025-03-01 09:00", end: "2025-03-01 12:00",
			edit: func(p *Profile, o *Opportunity) {
				p.BirthDate = Date{2008, time.February, 29}
				o.MinAge = 17
			}},
		{name: "AgeLeapDayInLeapYear", start: "2028-02-29 09:00", end: "2028-02-29 12:00",
			edit: func(p *Profile, o *Opportunity) {
				p.BirthDate = Date{2008, time.February, 29}
				o.MinAge = 20
			}},
		{name: "CheckExpiredBeforeShift", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Check.Expires = Date{2025, time.June, 6}
				o.NeedsCheck = true
			}, failed: []Rule{RuleBackgroundCheck}},
		{name: "CheckExpiresOnShiftDateInclusive", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Check.Expires = Date{2025, time.June, 7}
				o.NeedsCheck = true
			}},
		{name: "CheckExpiresDuringOvernightShift", start: "2025-06-07 22:00", end: "2025-06-08 02:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Check.Expires = Date{2025, time.June, 7}
				o.NeedsCheck = true
			}, failed: []Rule{RuleBackgroundCheck}},
		{name: "CheckPending", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Check.Status = CheckPending
				o.NeedsCheck = true
			}, failed: []Rule{RuleBackgroundCheck}},
		{name: "CheckNotNeeded", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) { p.Check.Status = CheckNone }},
		{name: "RequiredSkillMissing", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit:   func(p *Profile, o *Opportunity) { o.Required = []string{"first-aid", "forklift"} },
			failed: []Rule{RuleRequiredSkills}},
		{name: "AvailabilityPartial", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Weekly = []Window{{Day: time.Saturday, Start: 9 * time.Hour, End: 12 * time.Hour}}
			}, failed: []Rule{RuleAvailability}},
		{name: "AvailabilityWhole", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Weekly = []Window{{Day: time.Saturday, Start: 9 * time.Hour, End: 11 * time.Hour},
					{Day: time.Saturday, Start: 11 * time.Hour, End: 13 * time.Hour}}
			}},
		{name: "AvailabilityOvernightWindow", start: "2025-06-06 23:00", end: "2025-06-07 02:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Weekly = []Window{{Day: time.Friday, Start: 22 * time.Hour, End: 3 * time.Hour}}
			}},
		{name: "AvailabilityWrongDay", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Weekly = []Window{{Day: time.Sunday, Start: 9 * time.Hour, End: 13 * time.Hour}}
			}, failed: []Rule{RuleAvailability}},
		{name: "DateUnavailable", start: "2025-06-07 22:00", end: "2025-06-08 01:00",
			edit:   func(p *Profile, o *Opportunity) { p.Unavailable = []Date{{2025, time.June, 8}} },
			failed: []Rule{RuleDateUnavailable}},
		{name: "OverlapCommitment", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Commitments = []Interval{{at(t, hel, "2025-06-07 12:59"), at(t, hel, "2025-06-07 15:00")}}
			}, failed: []Rule{RuleOverlap}},
		{name: "OverlapHalfOpenTouching", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.Commitments = []Interval{{at(t, hel, "2025-06-07 13:00"), at(t, hel, "2025-06-07 15:00")},
					{at(t, hel, "2025-06-07 07:00"), at(t, hel, "2025-06-07 09:00")}}
			}},
		{name: "WeeklyHoursExceeded", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.MaxWeekly = 6 * time.Hour
				p.Commitments = []Interval{{at(t, hel, "2025-06-02 09:00"), at(t, hel, "2025-06-02 12:00")}}
			}, failed: []Rule{RuleWeeklyHours}},
		{name: "WeeklyHoursExactlyMax", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.MaxWeekly = 7 * time.Hour
				p.Commitments = []Interval{{at(t, hel, "2025-06-02 09:00"), at(t, hel, "2025-06-02 12:00")}}
			}},
		{name: "WeeklyHoursOtherISOWeek", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			// Sunday 1 June belongs to the previous ISO week.
			edit: func(p *Profile, o *Opportunity) {
				p.MaxWeekly = 6 * time.Hour
				p.Commitments = []Interval{{at(t, hel, "2025-06-01 09:00"), at(t, hel, "2025-06-01 12:00")}}
			}},
		{name: "WeeklyHoursWeekInCityZone", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			// Monday 00:30 in Helsinki is Sunday in UTC; the city's week counts.
			edit: func(p *Profile, o *Opportunity) {
				p.MaxWeekly = 6 * time.Hour
				p.Commitments = []Interval{{at(t, hel, "2025-06-02 00:30"), at(t, hel, "2025-06-02 03:30")}}
			}, failed: []Rule{RuleWeeklyHours}},
		{name: "AllFailuresReported", start: "2025-06-07 09:00", end: "2025-06-07 13:00",
			edit: func(p *Profile, o *Opportunity) {
				p.BirthDate = Date{2015, time.January, 1}
				o.MinAge = 16
				o.NeedsCheck = true
				p.Check = BackgroundCheck{}
				p.Skills = nil
				p.Weekly = nil
				p.Unavailable = []Date{{2025, time.June, 7}}
				p.MaxWeekly = time.Hour
				p.Commitments = []Interval{{at(t, hel, "2025-06-07 10:00"), at(t, hel, "2025-06-07 11:00")}}
			}, failed: []Rule{RuleAge, RuleBackgroundCheck, RuleRequiredSkills, RuleAvailability,
				RuleDateUnavailable, RuleOverlap, RuleWeeklyHours}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basic("v1")
			o := basicOpp(t, hel, tt.start, tt.end)
			tt.edit(&p, &o)
			v := explain(t, hel, p, o)
			if !slices.Equal(v.Failed, tt.failed) {
				t.Fatalf("failed = %v, want %v", v.Failed, tt.failed)
			}
			if v.Eligible != (len(tt.failed) == 0) {
				t.Fatalf("eligible = %v with failures %v", v.Eligible, v.Failed)
			}
		})
	}
	t.Run("ErrUnknownVolunteer", func(t *testing.T) {
		ix, _ := NewIndex(hel, nil)
		o := basicOpp(t, hel, "2025-06-07 09:00", "2025-06-07 13:00")
		if _, err := ix.Explain("nobody", &o, "s", Options{}); !errors.Is(err, ErrUnknownVolunteer) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrUnknownShift", func(t *testing.T) {
		ix, _ := NewIndex(hel, []Profile{basic("v1")})
		o := basicOpp(t, hel, "2025-06-07 09:00", "2025-06-07 13:00")
		if _, err := ix.Explain("v1", &o, "nope", Options{}); !errors.Is(err, ErrUnknownShift) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestIndex_ExplainDST checks wall-clock availability on the days the clocks
// change. The shifts are given as absolute instants so that the test states
// exactly which hour of a repeated or skipped hour is meant.
func TestIndex_ExplainDST(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	ist := mustLoc(t, "Europe/Istanbul")
	utc := func(s string) time.Time { return at(t, time.UTC, s) }
	night := func(d time.Weekday, from, to time.Duration) []Window {
		return []Window{{Day: d, Start: from, End: to}}
	}
	tests := []struct {
		name   string
		loc    *time.Location
		weekly []Window
		start  time.Time
		end    time.Time
		ok     bool
	}{
		// Helsinki springs forward on 2025-03-30 at 03:00 EET -> 04:00 EEST.
		{"HelsinkiSpringCovered", hel, night(time.Sunday, 2*time.Hour, 6*time.Hour),
			utc("2025-03-30 00:00"), utc("2025-03-30 03:00"), true}, // 02:00 EET .. 06:00 EEST
		{"HelsinkiSpringTooLate", hel, night(time.Sunday, 2*time.Hour, 5*time.Hour),
			utc("2025-03-30 00:00"), utc("2025-03-30 03:00"), false},
		{"HelsinkiSpringMorningWallClock", hel, night(time.Sunday, 9*time.Hour, 13*time.Hour),
			utc("2025-03-30 06:00"), utc("2025-03-30 10:00"), true}, // 09:00-13:00 EEST
		{"HelsinkiWeekBeforeMorningWallClock", hel, night(time.Sunday, 9*time.Hour, 13*time.Hour),
			utc("2025-03-23 07:00"), utc("2025-03-23 11:00"), true}, // 09:00-13:00 EET
		{"HelsinkiSpringUTCShiftedFails", hel, night(time.Sunday, 9*time.Hour, 13*time.Hour),
			utc("2025-03-30 07:00"), utc("2025-03-30 11:00"), false}, // 10:00-14:00 EEST
		// Helsinki falls back on 2025-10-26 at 04:00 EEST -> 03:00 EET.
		{"HelsinkiAutumnRepeatedHourCovered", hel, night(time.Sunday, 0, 4*time.Hour),
			utc("2025-10-25 23:00"), utc("2025-10-26 01:30"), true}, // 02:00 EEST .. 03:30 EET
		{"HelsinkiAutumnPastWindow", hel, night(time.Sunday, 0, 4*time.Hour),
			utc("2025-10-25 23:00"), utc("2025-10-26 02:30"), false}, // .. 04:30 EET
		{"HelsinkiAutumnOvernight", hel, night(time.Saturday, 22*time.Hour, 5*time.Hour),
			utc("2025-10-25 19:00"), utc("2025-10-26 03:00"), true}, // 22:00 EEST .. 05:00 EET, 8 h
		// Istanbul fell back on 2015-11-08 at 04:00 EEST -> 03:00 EET.
		{"IstanbulAutumn2015Covered", ist, night(time.Sunday, 1*time.Hour, 4*time.Hour),
			utc("2015-11-07 22:00"), utc("2015-11-08 01:00"), true}, // 01:00 EEST .. 03:00 EET
		{"IstanbulAutumn2015Short", ist, night(time.Sunday, 1*time.Hour, 3*time.Hour),
			utc("2015-11-07 22:00"), utc("2015-11-08 01:00"), false},
		// Istanbul sprang forward on 2015-03-29 at 03:00 EET -> 04:00 EEST.
		{"IstanbulSpring2015Covered", ist, night(time.Sunday, 2*time.Hour, 5*time.Hour),
			utc("2015-03-29 00:00"), utc("2015-03-29 02:00"), true}, // 02:00 EET .. 05:00 EEST
		// Since September 2016 Istanbul stays on +03 all year.
		{"IstanbulNoDST2025", ist, night(time.Sunday, 9*time.Hour, 13*time.Hour),
			utc("2025-10-26 06:00"), utc("2025-10-26 10:00"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basic("v1")
			p.Weekly = tt.weekly
			o := Opportunity{ID: "o", Shifts: []Shift{{ID: "s", Start: tt.start, End: tt.end, Capacity: 1}}}
			v := explain(t, tt.loc, p, o)
			if v.Eligible != tt.ok {
				t.Fatalf("eligible = %v (failed %v), want %v", v.Eligible, v.Failed, tt.ok)
			}
		})
	}
}

func TestIndex_Rank(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	mk := func(id string, edit func(p *Profile)) Profile {
		p := basic(id)
		edit(&p)
		return p
	}
	profiles := []Profile{
		mk("c", func(p *Profile) { p.Languages = []string{"tr"} }),
		mk("a", func(p *Profile) { p.Languages = []string{"tr"} }), // ties with c, wins on ID
		mk("b", func(p *Profile) {
			p.Languages = []string{"tr", "fi"}
			p.Skills = append(p.Skills, "cooking")
			p.Neighbourhoods = []string{"kallio"}
		}),
		mk("d", func(p *Profile) { p.Skills = []string{"driving"} }), // lacks required skill
		mk("e", func(p *Profile) { p.NoShows = 2; p.RecentHours = 10 * time.Hour }),
		mk("f", func(p *Profile) { p.BirthDate = Date{2012, 1, 1} }), // minor
	}
	ix, err := NewIndex(hel, profiles)
	if err != nil {
		t.Fatal(err)
	}
	o := basicOpp(t, hel, "2025-06-07 09:00", "2025-06-07 13:00")
	o.Languages = []string{"tr"}
	o.Preferred = []string{"cooking"}
	o.MinAge = 18
	lb := Labels{Skills: map[string]string{"cooking": "cooking"}, Languages: map[string]string{"tr": "Turkish"}}

	t.Run("OK", func(t *testing.T) {
		got, err := ix.Rank(&o, "s", Options{Labels: lb})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.VolunteerID)
		}
		if want := []string{"b", "a", "c", "e"}; !slices.Equal(ids, want) {
			t.Fatalf("order = %v, want %v", ids, want)
		}
		// 20 preferred + 10 language + 15 neighbourhood + 20 fairness.
		if got[0].Score != 65 {
			t.Errorf("score b = %d", got[0].Score)
		}
		want := "speaks Turkish; cooking; free Saturday morning; helps in this neighbourhood; has not volunteered recently"
		if got[0].Reason() != want {
			t.Errorf("reason = %q\nwant     %q", got[0].Reason(), want)
		}
		if got[3].Score != 20-5-20 || got[3].Reason() != "free Saturday morning; few recent hours; missed 2 shifts" {
			t.Errorf("e = %d %q", got[3].Score, got[3].Reason())
		}
	})
	t.Run("Limit", func(t *testing.T) {
		got, err := ix.Rank(&o, "s", Options{Limit: 2})
		if err != nil || len(got) != 2 || got[0].VolunteerID != "b" || got[1].VolunteerID != "a" {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("After", func(t *testing.T) {
		// Page by page, one result at a time from each page's last: the same ranking.
		var ids []string
		var after *Candidate
		for range 10 {
			got, err := ix.Rank(&o, "s", Options{Limit: 1, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			ids = append(ids, got[0].VolunteerID)
			after = &got[0]
		}
		if want := []string{"b", "a", "c", "e"}; !slices.Equal(ids, want) {
			t.Fatalf("paged = %v, want %v", ids, want)
		}
	})
	t.Run("UnknownRequiredSkill", func(t *testing.T) {
		o2 := o
		o2.Required = []string{"juggling"}
		got, err := ix.Rank(&o2, "s", Options{})
		if err != nil || len(got) != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestIndex_Recommend(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	p := basic("v")
	p.Neighbourhoods = []string{"kallio"}
	ix, err := NewIndex(hel, []Profile{p})
	if err != nil {
		t.Fatal(err)
	}
	sh := func(id, start string, taken int) Shift {
		s := at(t, hel, start)
		return Shift{ID: id, Start: s, End: s.Add(3 * time.Hour), Capacity: 2, Taken: taken}
	}
	opps := []Opportunity{
		{ID: "o1", Neighbourhood: "vallila", Shifts: []Shift{sh("past", "2025-06-01 09:00", 0), sh("later", "2025-06-09 09:00", 0)}},
		{ID: "o2", Neighbourhood: "kallio", Shifts: []Shift{sh("full", "2025-06-08 09:00", 2), sh("ok", "2025-06-10 09:00", 0)}},
		{ID: "o3", Neighbourhood: "vallila", Required: []string{"forklift"}, Shifts: []Shift{sh("x", "2025-06-08 09:00", 0)}},
		{ID: "o4", Neighbourhood: "vallila", Shifts: []Shift{sh("sooner", "2025-06-08 12:00", 0)}},
	}
	got, err := ix.Recommend("v", opps, Options{Now: at(t, hel, "2025-06-05 00:00")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.OpportunityID+"/"+c.ShiftID)
	}
	if want := []string{"o2/ok", "o4/sooner", "o1/later"}; !slices.Equal(ids, want) {
		t.Fatalf("got %v, want %v", ids, want)
	}
	t.Run("After", func(t *testing.T) {
		var paged []string
		var after *Candidate
		for range 10 {
			got, err := ix.Recommend("v", opps, Options{Now: at(t, hel, "2025-06-05 00:00"), Limit: 1, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			paged = append(paged, got[0].OpportunityID+"/"+got[0].ShiftID)
			after = &got[0]
		}
		if !slices.Equal(paged, ids) {
			t.Fatalf("paged = %v, want %v", paged, ids)
		}
	})
	t.Run("ErrUnknownVolunteer", func(t *testing.T) {
		if _, err := ix.Recommend("zz", opps, Options{}); !errors.Is(err, ErrUnknownVolunteer) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewIndex(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	t.Run("ErrDuplicate", func(t *testing.T) {
		if _, err := NewIndex(hel, []Profile{basic("a"), basic("a")}); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("ErrBadWindow", func(t *testing.T) {
		p := basic("a")
		p.Weekly = []Window{{Day: 9, Start: 0, End: time.Hour}}
		if _, err := NewIndex(hel, []Profile{p}); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("ErrNilLocation", func(t *testing.T) {
		if _, err := NewIndex(nil, nil); err == nil {
			t.Fatal("want error")
		}
	})
}
