package core_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
)

func TestResidencyRule_Neighbourhood(t *testing.T) {
	helsinki := core.ResidencyRule{
		Claim:    "address.postal_code",
		Prefixes: map[string]string{"001": "kluuvi", "0017": "kruununhaka", "005": "kallio"},
		Values:   map[string]string{"00171": "katajanokka"},
	}
	municipality := core.ResidencyRule{Claim: "municipality_code", Values: map[string]string{"091": "helsinki", "49": "espoo"}}
	address := func(code any) map[string]any { return map[string]any{"address": map[string]any{"postal_code": code}} }
	for _, tc := range []struct {
		name   string
		rule   core.ResidencyRule
		claims map[string]any
		want   string
	}{
		{"Prefix", helsinki, address("00100"), "kluuvi"},
		{"LongestPrefixWins", helsinki, address("00170"), "kruununhaka"},
		{"ExactWinsOverPrefix", helsinki, address("00171"), "katajanokka"},
		{"Trimmed", helsinki, address(" 00530 "), "kallio"},
		{"Unmapped", helsinki, address("02100"), ""},
		{"Missing", helsinki, map[string]any{"address": map[string]any{"locality": "Helsinki"}}, ""},
		{"NotAnObject", helsinki, map[string]any{"address": "Mannerheimintie 1, 00100 Helsinki"}, ""},
		{"NoClaims", helsinki, nil, ""},
		{"Empty", helsinki, address(""), ""},
		{"NUL", helsinki, address("001\x00"), ""},
		{"Newline", helsinki, address("00100\n"), "kluuvi"}, // trimmed like any space
		{"ControlInside", helsinki, address("001\u00859"), ""},
		{"TooLong", helsinki, address("001" + strings.Repeat("9", core.MaxClaimValue)), ""},
		{"NotUTF8", helsinki, address("001\xff"), ""},
		{"Object", helsinki, address(map[string]any{"code": "00100"}), ""},
		{"Bool", helsinki, address(true), ""},
		{"ExactString", municipality, map[string]any{"municipality_code": "091"}, "helsinki"},
		{"WholeNumber", municipality, map[string]any{"municipality_code": float64(49)}, "espoo"},
		{"JSONNumber", municipality, map[string]any{"municipality_code": json.Number("49")}, "espoo"},
		{"Fraction", municipality, map[string]any{"municipality_code": 49.5}, ""},
		{"HugeNumber", municipality, map[string]any{"municipality_code": 1e300}, ""},
		{"NumberLosesZero", municipality, map[string]any{"municipality_code": float64(91)}, ""}, // 091 is a string, 91 is not it
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.Neighbourhood(tc.claims); got != tc.want {
				t.Errorf("= %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResidencyRule_ChangeRule(t *testing.T) {
	if got := (core.ResidencyRule{}).ChangeRule(); got != core.ClaimChangeMove {
		t.Errorf("default = %q, want move", got)
	}
	if got := (core.ResidencyRule{OnChange: core.ClaimChangeKeep}).ChangeRule(); got != core.ClaimChangeKeep {
		t.Errorf("= %q, want keep", got)
	}
}

func TestParseBirthDate(t *testing.T) {
	today := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"OK", "2008-12-08", "2008-12-08"},
		{"Today", "2026-12-07", "2026-12-07"},
		{"Tomorrow", "2026-12-08", ""},
		{"YearWithheld", "0000-12-08", ""},
		{"YearOnly", "2008", ""},
		{"NoSuchDay", "2009-02-29", ""},
		{"LeapDay", "2008-02-29", "2008-02-29"},
		{"BeforeRegisters", "1899-12-31", ""},
		{"Time", "2008-12-08T00:00:00Z", ""},
		{"Slashes", "08/12/2008", ""},
		{"Number", float64(20081208), ""},
		{"NUL", "2008-12-0\x00", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := core.ParseBirthDate(tc.v, today)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("= %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestAgeOn(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, birth string
		today       time.Time
		want        int
	}{
		{"DayBefore", "2008-12-08", time.Date(2026, 12, 7, 23, 59, 0, 0, helsinki), 17},
		{"Birthday", "2008-12-08", time.Date(2026, 12, 8, 0, 0, 0, 0, helsinki), 18},
		// 22:30 UTC on the 7th is already the 8th in Helsinki: the city's day counts.
		{"CityDay", "2008-12-08", time.Date(2026, 12, 7, 22, 30, 0, 0, time.UTC).In(helsinki), 18},
		{"LaterMonth", "2008-06-30", time.Date(2026, 12, 7, 0, 0, 0, 0, helsinki), 18},
		{"EarlierMonth", "2008-12-31", time.Date(2027, 1, 1, 0, 0, 0, 0, helsinki), 18},
		{"LeapDayOnFeb28", "2008-02-29", time.Date(2026, 2, 28, 12, 0, 0, 0, helsinki), 17},
		{"LeapDayOnMar1", "2008-02-29", time.Date(2026, 3, 1, 12, 0, 0, 0, helsinki), 18},
		{"BornToday", "2026-12-07", time.Date(2026, 12, 7, 12, 0, 0, 0, helsinki), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := core.AgeOn(tc.birth, tc.today)
			if !ok || got != tc.want {
				t.Errorf("= %d, %v; want %d", got, ok, tc.want)
			}
		})
	}
	if _, ok := core.AgeOn("not a date", time.Now()); ok {
		t.Error("a date that is none gave an age")
	}
}
