package schedule_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

func TestWeeklySeries_Expand(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	ist := mustLoc(t, "Europe/Istanbul")
	date := func(y int, m time.Month, d int) schedule.Date { return schedule.Date{Year: y, Month: m, Day: d} }

	for _, tc := range []struct {
		name      string
		loc       *time.Location
		from      schedule.Date
		firstUTC  time.Time
		changeAt  int // index of the first occurrence after the DST change, -1 if none
		offsetNew time.Duration
	}{
		// Saturdays from 16 March 2024: clocks go forward after the third.
		{"HelsinkiSpring", hel, date(2024, 3, 14), utc(2024, 3, 16, 8, 0), 3, -time.Hour},
		// Saturdays from 5 October 2024: clocks go back after the fourth.
		{"HelsinkiAutumn", hel, date(2024, 10, 5), utc(2024, 10, 5, 7, 0), 4, time.Hour},
		{"IstanbulNoChange", ist, date(2024, 3, 16), utc(2024, 3, 16, 7, 0), -1, 0},
	} {
		t.Run("OK"+tc.name, func(t *testing.T) {
			s := schedule.WeeklySeries{From: tc.from, Day: time.Saturday, Start: hm(10, 0), End: hm(12, 0), Weeks: 8}
			got, err := s.Expand(tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 8 {
				t.Fatalf("got %d occurrences", len(got))
			}
			for i, occ := range got {
				want := tc.firstUTC.AddDate(0, 0, 7*i)
				if tc.changeAt >= 0 && i >= tc.changeAt {
					want = want.Add(tc.offsetNew)
				}
				if !occ.Start.Equal(want) || occ.Duration() != 2*time.Hour || occ.Start.Location() != time.UTC {
					t.Errorf("occurrence %d: got %v, want start %v", i, occ, want)
				}
				if lt := occ.Start.In(tc.loc); lt.Weekday() != time.Saturday || lt.Hour() != 10 || lt.Minute() != 0 {
					t.Errorf("occurrence %d starts at local %v", i, lt)
				}
			}
		})
	}

	t.Run("OKAcrossRepeatedHour", func(t *testing.T) {
		// Sundays 02:00–05:00 over 27 October 2024: that one is 4 real hours.
		got, err := schedule.WeeklySeries{From: date(2024, 10, 20), Day: time.Sunday, Start: hm(2, 0), End: hm(5, 0), Weeks: 3}.Expand(hel)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []time.Duration{3 * time.Hour, 4 * time.Hour, 3 * time.Hour} {
			if got[i].Duration() != want {
				t.Errorf("occurrence %d lasts %v, want %v", i, got[i].Duration(), want)
			}
		}
	})

	for _, tc := range []struct {
		name string
		s    schedule.WeeklySeries
		loc  *time.Location
		want string
	}{
		{"ErrNoZone", schedule.WeeklySeries{From: date(2024, 1, 1), Start: hm(10, 0), End: hm(12, 0), Weeks: 1}, nil, "time zone"},
		{"ErrBadDate", schedule.WeeklySeries{From: date(2024, 2, 30), Start: hm(10, 0), End: hm(12, 0), Weeks: 1}, hel, "invalid date"},
		{"ErrEndBeforeStart", schedule.WeeklySeries{From: date(2024, 1, 1), Start: hm(12, 0), End: hm(10, 0), Weeks: 1}, hel, "within one day"},
		{"ErrNoWeeks", schedule.WeeklySeries{From: date(2024, 1, 1), Start: hm(10, 0), End: hm(12, 0)}, hel, "0 weeks"},
		{"ErrBadWeekday", schedule.WeeklySeries{From: date(2024, 1, 1), Day: 7, Start: hm(10, 0), End: hm(12, 0), Weeks: 1}, hel, "weekday"},
		{"ErrInSpringGap", schedule.WeeklySeries{From: date(2024, 3, 24), Day: time.Sunday, Start: hm(3, 0), End: hm(3, 30), Weeks: 2}, hel, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Expand(tc.loc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want error mentioning %q", err, tc.want)
			}
		})
	}
}
