package schedule_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

// parkRules are typical rules: 30-minute grid, 1–4 hours, a day's notice,
// at most 60 days ahead.
var parkRules = schedule.Rules{
	MinDuration:     time.Hour,
	MaxDuration:     4 * time.Hour,
	Granularity:     30 * time.Minute,
	MinNotice:       24 * time.Hour,
	Horizon:         60 * 24 * time.Hour,
	BufferBefore:    15 * time.Minute,
	BufferAfter:     30 * time.Minute,
	MaxActivePerOrg: 3,
}

func TestRules_Validate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for name, r := range map[string]schedule.Rules{"park": parkRules, "zero": {}, "one day grid": {Granularity: 24 * time.Hour}} {
			if err := r.Validate(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		r    schedule.Rules
		want string
	}{
		{"ErrNegative", schedule.Rules{BufferAfter: -time.Minute}, "buffer_after: must not be negative"},
		{"ErrNegativeMaxActive", schedule.Rules{MaxActivePerOrg: -1}, "max_active_bookings"},
		{"ErrMinAboveMax", schedule.Rules{MinDuration: 3 * time.Hour, MaxDuration: 2 * time.Hour}, "longer than max_duration"},
		{"ErrGranularityNotDividingDay", schedule.Rules{Granularity: 7 * time.Minute}, "does not divide the day"},
		{"ErrGranularitySeconds", schedule.Rules{Granularity: 90 * time.Second}, "whole number of minutes"},
		{"ErrMinNotOnGrid", schedule.Rules{Granularity: 30 * time.Minute, MinDuration: 45 * time.Minute}, "min_duration: 45m0s is not a multiple"},
		{"ErrMaxNotOnGrid", schedule.Rules{Granularity: time.Hour, MaxDuration: 90 * time.Minute}, "max_duration"},
		{"ErrNoticeBeyondHorizon", schedule.Rules{MinNotice: 48 * time.Hour, Horizon: 24 * time.Hour}, "nothing could be booked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			var cerr *schedule.ConfigError
			if !errors.As(err, &cerr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a *ConfigError mentioning %q", err, tc.want)
			}
		})
	}
}

func TestValidateConfig(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		if err := schedule.ValidateConfig(parkHours, parkRules); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrHoursOffGrid", func(t *testing.T) {
		err := schedule.ValidateConfig(allYear(everyDay(rng(hm(8, 15), hm(22, 0)))), parkRules)
		if err == nil || !strings.Contains(err.Error(), "08:15–22:00 is not on the 30m0s slot grid") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrBoth", func(t *testing.T) {
		err := schedule.ValidateConfig(allYear(everyDay(rng(hm(9, 0), hm(8, 0)))), schedule.Rules{MinNotice: -1})
		if err == nil || !strings.Contains(err.Error(), "ends before") || !strings.Contains(err.Error(), "min_notice") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCheckRequest(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	now := at(hel, 2024, 6, 3, 12, 0) // Monday, summer
	for _, tc := range []struct {
		name       string
		rules      schedule.Rules
		hours      schedule.OpeningHours
		start, end time.Time
		now        time.Time
		rule       string // "" for OK
	}{
		{"OK", parkRules, parkHours, at(hel, 2024, 6, 5, 10, 0), at(hel, 2024, 6, 5, 12, 0), now, ""},
		{"OKWholeOpeningDay", schedule.Rules{}, parkHours, at(hel, 2024, 6, 5, 8, 0), at(hel, 2024, 6, 5, 22, 0), now, ""},
		{"OKExactlyAtNotice", parkRules, parkHours, at(hel, 2024, 6, 4, 12, 0), at(hel, 2024, 6, 4, 13, 0), now, ""},
		{"OKExactlyAtHorizon", parkRules, parkHours, now.Add(60 * 24 * time.Hour), now.Add(61 * 24 * time.Hour).Add(-23 * time.Hour), now, ""},
		{"ErrEndBeforeStart", parkRules, parkHours, at(hel, 2024, 6, 5, 12, 0), at(hel, 2024, 6, 5, 10, 0), now, schedule.RuleEndBeforeStart},
		{"ErrEmpty", parkRules, parkHours, at(hel, 2024, 6, 5, 12, 0), at(hel, 2024, 6, 5, 12, 0), now, schedule.RuleEndBeforeStart},
		{"ErrInPast", parkRules, parkHours, at(hel, 2024, 6, 3, 10, 0), at(hel, 2024, 6, 3, 12, 0), now, schedule.RuleInPast},
		{"ErrInsideNotice", parkRules, parkHours, at(hel, 2024, 6, 4, 10, 0), at(hel, 2024, 6, 4, 12, 0), now, schedule.RuleMinNotice},
		{"ErrBeyondHorizon", parkRules, parkHours, at(hel, 2024, 8, 5, 10, 0), at(hel, 2024, 8, 5, 12, 0), now, schedule.RuleHorizon},
		{"ErrTooShort", parkRules, parkHours, at(hel, 2024, 6, 5, 10, 0), at(hel, 2024, 6, 5, 10, 30), now, schedule.RuleMinDuration},
		{"ErrTooLong", parkRules, parkHours, at(hel, 2024, 6, 5, 10, 0), at(hel, 2024, 6, 5, 14, 30), now, schedule.RuleMaxDuration},
		{"ErrOffGridStart", parkRules, parkHours, at(hel, 2024, 6, 5, 10, 15), at(hel, 2024, 6, 5, 12, 0), now, schedule.RuleSlotGranularity},
		{"ErrOffGridEnd", parkRules, parkHours, at(hel, 2024, 6, 5, 10, 0), at(hel, 2024, 6, 5, 11, 59), now, schedule.RuleSlotGranularity},
		{"ErrOffGridSeconds", parkRules, parkHours, at(hel, 2024, 6, 5, 10, 0).Add(time.Second), at(hel, 2024, 6, 5, 12, 0).Add(time.Second), now, schedule.RuleSlotGranularity},
		{"ErrBeforeOpening", parkRules, parkHours, at(hel, 2024, 6, 5, 7, 0), at(hel, 2024, 6, 5, 9, 0), now, schedule.RuleOpeningHours},
		{"ErrAfterClosing", parkRules, parkHours, at(hel, 2024, 6, 5, 21, 0), at(hel, 2024, 6, 5, 23, 0), now, schedule.RuleOpeningHours},
		{"ErrOvernight", schedule.Rules{}, parkHours, at(hel, 2024, 6, 5, 20, 0), at(hel, 2024, 6, 6, 9, 0), now, schedule.RuleOpeningHours},
		{"ErrClosedSeason", schedule.Rules{}, parkHours, at(hel, 2024, 12, 25, 11, 0), at(hel, 2024, 12, 25, 12, 0), now, schedule.RuleOpeningHours},
		{"ErrClosedWeekday", schedule.Rules{}, parkHours, at(hel, 2024, 11, 2, 11, 0), at(hel, 2024, 11, 2, 12, 0), now, schedule.RuleOpeningHours},
		// Helsinki autumn, 27 October 2024: 02:00–05:00 on the clock is four real hours.
		{"ErrAutumnRealDurationTooLong", schedule.Rules{MaxDuration: 3 * time.Hour, Granularity: 30 * time.Minute},
			allYear(everyDay(rng(0, schedule.EndOfDay))), at(hel, 2024, 10, 27, 2, 0), utc(2024, 10, 27, 3, 0), now, schedule.RuleMaxDuration},
		{"OKAutumnSecondOccurrenceOnGrid", schedule.Rules{Granularity: 30 * time.Minute},
			allYear(everyDay(rng(0, schedule.EndOfDay))), utc(2024, 10, 27, 1, 30), utc(2024, 10, 27, 2, 0), now, ""}, // 03:30 EET–04:00 EET
		// Helsinki spring, 31 March 2024: 02:30 EET to 04:00 EEST is 30 real minutes, both on the grid.
		{"OKSpringAcrossGap", schedule.Rules{Granularity: 30 * time.Minute},
			allYear(everyDay(rng(hm(2, 0), hm(5, 0)))), utc(2024, 3, 31, 0, 30), utc(2024, 3, 31, 1, 0), at(hel, 2024, 3, 1, 0, 0), ""},
		{"ErrSpringTooShortAcrossGap", schedule.Rules{Granularity: 30 * time.Minute, MinDuration: time.Hour},
			allYear(everyDay(rng(hm(2, 0), hm(5, 0)))), utc(2024, 3, 31, 0, 30), utc(2024, 3, 31, 1, 0), at(hel, 2024, 3, 1, 0, 0), schedule.RuleMinDuration},
		{"ErrSpringBeforeOpeningInGap", schedule.Rules{},
			allYear(everyDay(rng(hm(3, 30), hm(5, 0)))), utc(2024, 3, 31, 0, 30), utc(2024, 3, 31, 2, 0), at(hel, 2024, 3, 1, 0, 0), schedule.RuleOpeningHours},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := schedule.CheckRequest(tc.hours, tc.rules, hel, tc.start, tc.end, tc.now)
			if tc.rule == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var v schedule.Violation
			if !errors.As(err, &v) {
				t.Fatalf("want a Violation of %s, got %v", tc.rule, err)
			}
			if v.Rule != tc.rule || v.Message == "" {
				t.Fatalf("got %+v, want rule %s", v, tc.rule)
			}
		})
	}

	t.Run("Messages", func(t *testing.T) {
		err := schedule.CheckRequest(parkHours, parkRules, hel, at(hel, 2024, 6, 5, 10, 15), at(hel, 2024, 6, 5, 12, 0), now)
		want := schedule.Violation{Rule: "slot_granularity", Message: "Bookings must start and end on the 30-minute grid."}
		if err != want {
			t.Fatalf("got %#v, want %#v", err, want)
		}
		err = schedule.CheckRequest(parkHours, parkRules, hel, at(hel, 2024, 6, 4, 10, 0), at(hel, 2024, 6, 4, 12, 0), now)
		if err == nil || err.Error() != "min_notice: Bookings must be requested at least 1 day in advance." {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrInvalidConfig", func(t *testing.T) {
		err := schedule.CheckRequest(parkHours, schedule.Rules{Granularity: 7 * time.Minute}, hel, at(hel, 2024, 6, 5, 10, 0), at(hel, 2024, 6, 5, 12, 0), now)
		var v schedule.Violation
		var cerr *schedule.ConfigError
		if errors.As(err, &v) || !errors.As(err, &cerr) {
			t.Fatalf("want a configuration error, got %v", err)
		}
	})
}

func TestCheckActiveLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		active int
		err    bool
	}{
		{"OKUnlimited", 0, 100, false},
		{"OKBelow", 3, 2, false},
		{"ErrAtLimit", 3, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := schedule.CheckActiveLimit(schedule.Rules{MaxActivePerOrg: tc.max}, tc.active)
			var v schedule.Violation
			if tc.err != (err != nil) || (err != nil && (!errors.As(err, &v) || v.Rule != schedule.RuleMaxActive)) {
				t.Fatalf("got %v", err)
			}
		})
	}
}
