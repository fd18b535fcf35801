package sdk_test

import (
	"testing"
	"testing/fstest"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
)

// TestSpan: a Span in a notification's data is written as each language writes a date
// with its start and end times, in the city's zone, and in full across midnight.
func TestSpan(t *testing.T) {
	files := fstest.MapFS{}
	for _, lang := range []string{"en", "fi", "sv", "da", "tr"} {
		files["locales/notify."+lang+".toml"] = &fstest.MapFile{Data: []byte(`
"notify.x.shift.reminder.label" = "Reminder"
"notify.x.shift.reminder.title" = "{{.When}}"
"notify.x.shift.reminder.body" = "{{.When}}"
`)}
	}
	c := sdk.NewNotifyCatalog(i18n.MustBundle(files))
	zone, _ := time.LoadLocation("Europe/Helsinki")
	start := time.Date(2025, 6, 7, 6, 0, 0, 0, time.UTC) // 09:00 in Helsinki
	for _, tc := range []struct {
		name string
		end  time.Time
		want map[string]string
	}{
		{"SameDay", start.Add(3 * time.Hour), map[string]string{
			"en": "7 Jun 2025, 09:00–12:00", "fi": "7.6.2025 klo 09.00–12.00", "sv": "2025-06-07 09:00–12:00",
			"da": "07.06.2025 09.00–12.00", "tr": "7.06.2025 09:00–12:00"}},
		{"OverMidnight", start.Add(16 * time.Hour), map[string]string{
			"en": "7 Jun 2025, 09:00 – 8 Jun 2025, 01:00", "fi": "7.6.2025 klo 09.00 – 8.6.2025 klo 01.00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			texts := c.Texts([]string{"fi", "sv", "da", "tr"}, zone, "x.shift.reminder",
				map[string]any{"When": sdk.Span{Start: start, End: tc.end}})
			for lang, want := range tc.want {
				if got := texts[lang].Title; got != want {
					t.Errorf("%s: %q, want %q", lang, got, want)
				}
			}
		})
	}
}
