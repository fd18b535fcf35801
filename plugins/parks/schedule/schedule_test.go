package schedule_test

import (
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

func TestResolveLocal(t *testing.T) {
	hel := mustLoc(t, "Europe/Helsinki")
	ist := mustLoc(t, "Europe/Istanbul")
	d := func(y int, m time.Month, day int) schedule.Date { return schedule.Date{Year: y, Month: m, Day: day} }
	for _, tc := range []struct {
		name string
		loc  *time.Location
		date schedule.Date
		at   schedule.Clock
		want time.Time
	}{
		{"HelsinkiWinter", hel, d(2024, 1, 15), hm(10, 0), utc(2024, 1, 15, 8, 0)},
		{"HelsinkiSummer", hel, d(2024, 7, 15), hm(10, 0), utc(2024, 7, 15, 7, 0)},
		{"HelsinkiEndOfDay", hel, d(2024, 3, 30), schedule.EndOfDay, utc(2024, 3, 30, 22, 0)},
		// Spring forward, 31 March 2024: 03:00 EET jumps to 04:00 EEST at 01:00Z.
		{"SpringBeforeGap", hel, d(2024, 3, 31), hm(2, 59), utc(2024, 3, 31, 0, 59)},
		{"SpringGapStart", hel, d(2024, 3, 31), hm(3, 0), utc(2024, 3, 31, 1, 0)},
		{"SpringInGap", hel, d(2024, 3, 31), hm(3, 30), utc(2024, 3, 31, 1, 0)},
		{"SpringAfterGap", hel, d(2024, 3, 31), hm(4, 0), utc(2024, 3, 31, 1, 0)},
		{"SpringLater", hel, d(2024, 3, 31), hm(4, 30), utc(2024, 3, 31, 1, 30)},
		// Fall back, 27 October 2024: 04:00 EEST becomes 03:00 EET at 01:00Z.
		{"AutumnBeforeRepeat", hel, d(2024, 10, 27), hm(2, 59), utc(2024, 10, 26, 23, 59)},
		{"AutumnRepeatFirst", hel, d(2024, 10, 27), hm(3, 0), utc(2024, 10, 27, 0, 0)},
		{"AutumnRepeatMiddle", hel, d(2024, 10, 27), hm(3, 30), utc(2024, 10, 27, 0, 30)},
		{"AutumnAfterRepeat", hel, d(2024, 10, 27), hm(4, 0), utc(2024, 10, 27, 2, 0)},
		// Istanbul has stayed on +03 since 2016: the same Sundays are plain days.
		{"IstanbulSpring2024", ist, d(2024, 3, 31), hm(3, 30), utc(2024, 3, 31, 0, 30)},
		{"IstanbulAutumn2024", ist, d(2024, 10, 27), hm(3, 30), utc(2024, 10, 27, 0, 30)},
		// Its last spring forward, 27 March 2016, 03:00 +02 → 04:00 +03 at 01:00Z.
		{"IstanbulGap2016", ist, d(2016, 3, 27), hm(3, 30), utc(2016, 3, 27, 1, 0)},
		{"UTC", time.UTC, d(2024, 3, 31), hm(3, 30), utc(2024, 3, 31, 3, 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := schedule.ResolveLocal(tc.loc, tc.date, tc.at)
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for in, want := range map[string]schedule.Clock{"00:00": 0, "08:30": hm(8, 30), "24:00": schedule.EndOfDay} {
			got, err := schedule.ParseClock(in)
			if err != nil || got != want || got.String() != in {
				t.Errorf("ParseClock(%q) = %v, %v", in, got, err)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, in := range []string{"", "8", "8:5", "24:01", "25:00", "-1:00", "12:60", "ab:cd"} {
			if _, err := schedule.ParseClock(in); err == nil {
				t.Errorf("ParseClock(%q): want error", in)
			}
		}
	})
}

func TestDate_AddDays(t *testing.T) {
	d := schedule.Date{Year: 2024, Month: time.February, Day: 28}
	if got := d.AddDays(1); got != (schedule.Date{Year: 2024, Month: time.February, Day: 29}) {
		t.Fatalf("got %v", got)
	}
	if got := d.AddDays(2).Weekday(); got != time.Friday {
		t.Fatalf("1 March 2024 is a Friday, got %v", got)
	}
	if (schedule.Date{Year: 2023, Month: time.February, Day: 29}).Valid() {
		t.Fatal("29 February 2023 should be invalid")
	}
}

func TestInterval_Overlaps(t *testing.T) {
	a := iv(utc(2024, 6, 1, 10, 0), utc(2024, 6, 1, 12, 0))
	for _, tc := range []struct {
		name string
		b    schedule.Interval
		want bool
	}{
		{"Touching", iv(utc(2024, 6, 1, 12, 0), utc(2024, 6, 1, 14, 0)), false},
		{"TouchingBefore", iv(utc(2024, 6, 1, 8, 0), utc(2024, 6, 1, 10, 0)), false},
		{"Inside", iv(utc(2024, 6, 1, 10, 30), utc(2024, 6, 1, 11, 0)), true},
		{"Partial", iv(utc(2024, 6, 1, 11, 59), utc(2024, 6, 1, 14, 0)), true},
		{"Empty", iv(utc(2024, 6, 1, 11, 0), utc(2024, 6, 1, 11, 0)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.Overlaps(tc.b); got != tc.want || tc.b.Overlaps(a) != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
