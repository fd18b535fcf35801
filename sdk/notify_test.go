package sdk_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
)

func TestCheckNotificationKinds(t *testing.T) {
	ok := sdk.NotificationKind{Name: "x.thing.done", Labels: map[string]string{"en": "Done", "fi": "Tehty"}, Default: sdk.DeliverDaily}
	with := func(change func(k *sdk.NotificationKind)) []sdk.NotificationKind {
		k := ok
		k.Labels = map[string]string{"en": "Done", "fi": "Tehty"}
		change(&k)
		return []sdk.NotificationKind{k}
	}
	for name, tc := range map[string]struct {
		kinds []sdk.NotificationKind
		want  string // "" when valid
	}{
		"OK":             {[]sdk.NotificationKind{ok}, ""},
		"None":           {nil, ""},
		"ForeignName":    {with(func(k *sdk.NotificationKind) { k.Name = "y.thing.done" }), `must be named "x."`},
		"BareName":       {with(func(k *sdk.NotificationKind) { k.Name = "x." }), `must be named "x."`},
		"Twice":          {[]sdk.NotificationKind{ok, ok}, "declared twice"},
		"NoEnglish":      {with(func(k *sdk.NotificationKind) { delete(k.Labels, "en") }), "no English label"},
		"EmptyLabel":     {with(func(k *sdk.NotificationKind) { k.Labels["fi"] = " " }), `label for "fi"`},
		"TwoLineLabel":   {with(func(k *sdk.NotificationKind) { k.Labels["fi"] = "a\nb" }), `label for "fi"`},
		"LongLabel":      {with(func(k *sdk.NotificationKind) { k.Labels["fi"] = strings.Repeat("a", 201) }), `label for "fi"`},
		"NoDefault":      {with(func(k *sdk.NotificationKind) { k.Default = "" }), "default delivery"},
		"UnknownDefault": {with(func(k *sdk.NotificationKind) { k.Default = "hourly" }), "default delivery"},
	} {
		t.Run(name, func(t *testing.T) {
			err := sdk.CheckNotificationKinds("x", tc.kinds)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// notifyFiles is a plugin's notification catalog, in English, Finnish and Turkish.
var notifyFiles = fstest.MapFS{
	"locales/notify.en.toml": {Data: []byte(`
"notify.x.meeting.scheduled.label" = "A meeting is scheduled"
"notify.x.meeting.scheduled.title" = "Meeting of {{.Assembly}}"
"notify.x.meeting.scheduled.body" = "It starts {{.Starts}}."
"notify.x.vote.closed.adopted.title" = "Adopted: {{.Motion}}"
"notify.x.vote.closed.rejected.title" = "Rejected: {{.Motion}}"
`)},
	"locales/notify.fi.toml": {Data: []byte(`
"notify.x.meeting.scheduled.label" = "Kokous on kutsuttu koolle"
"notify.x.meeting.scheduled.title" = "{{.Assembly}}: kokous"
"notify.x.meeting.scheduled.body" = "Kokous alkaa {{.Starts}}."
"notify.x.vote.closed.adopted.title" = "Hyväksytty: {{.Motion}}"
`)},
	"locales/notify.tr.toml": {Data: []byte(`
"notify.x.meeting.scheduled.label" = "Toplantı planlandı"
"notify.x.meeting.scheduled.title" = "{{.Assembly}} toplantısı"
`)},
}

// TestNotifyCatalog: a kind's labels come from every language of the catalog; texts
// are written in each city language the catalog has (and English), with times in the
// city's zone and each language's format, a missing message falling back to English.
func TestNotifyCatalog(t *testing.T) {
	c := sdk.NewNotifyCatalog(i18n.MustBundle(notifyFiles))
	k := c.Kind("x.meeting.scheduled", sdk.DeliverImmediately)
	if err := sdk.CheckNotificationKinds("x", []sdk.NotificationKind{k}); err != nil {
		t.Fatal(err)
	}
	if k.Labels["en"] != "A meeting is scheduled" || k.Labels["fi"] != "Kokous on kutsuttu koolle" || k.Labels["tr"] != "Toplantı planlandı" || len(k.Labels) != 3 {
		t.Errorf("labels %v", k.Labels)
	}
	zone, _ := time.LoadLocation("Europe/Helsinki")
	starts := time.Date(2026, 3, 5, 16, 30, 0, 0, time.UTC)
	texts := c.Texts([]string{"fi", "sv", "tr"}, zone, "x.meeting.scheduled", map[string]any{"Assembly": "Kallio", "Starts": starts})
	if len(texts) != 3 {
		t.Fatalf("texts in %d languages, want en, fi and tr (the catalog has no sv): %v", len(texts), texts)
	}
	if got := texts["fi"]; got.Title != "Kallio: kokous" || !strings.Contains(got.Body, "18.30") || !strings.Contains(got.Body, "5.3.2026") {
		t.Errorf("fi %+v", got)
	}
	if got := texts["en"]; got.Title != "Meeting of Kallio" || !strings.Contains(got.Body, "2026") {
		t.Errorf("en %+v", got)
	}
	if got := texts["tr"]; got.Title != "Kallio toplantısı" || !strings.HasPrefix(got.Body, "It starts") {
		t.Errorf("tr (body missing, falls back to English) %+v", got)
	}
	// A regional tag is written in its language; one the catalog lacks is left out.
	if texts := c.Texts([]string{"fi-FI", "de"}, nil, "x.meeting.scheduled", map[string]any{"Assembly": "Kallio"}); texts["fi-FI"].Title != "Kallio: kokous" || len(texts) != 2 {
		t.Errorf("regional and unknown tags: %v", texts)
	}
	variants := c.VariantTexts([]string{"fi"}, nil, "x.vote.closed", "adopted", map[string]any{"Motion": "Trees"})
	if variants["fi"].Title != "Hyväksytty: Trees" || variants["en"].Title != "Adopted: Trees" {
		t.Errorf("variant texts %v", variants)
	}
	n := sdk.Notification{Kind: "x.meeting.scheduled", Recipients: []string{"u"}, Subject: "x.meeting:1", Link: "/x/1", Texts: texts}
	if err := sdk.CheckNotification("x", []sdk.NotificationKind{k}, n); err != nil {
		t.Errorf("a notification written by the catalog: %v", err)
	}

	// Notification words a notice, its variant when set, and skips an empty audience.
	note, ok := c.Notification([]string{"fi"}, nil, sdk.Notice{Kind: "x.vote.closed", Variant: "adopted", Recipients: []string{"u1", "u2"},
		Except: "u2", Subject: "x.motion:1", Link: "/x/1", Data: map[string]any{"Motion": "Trees"}})
	if !ok || note.Texts["fi"].Title != "Hyväksytty: Trees" || !slices.Equal(note.Except, []string{"u2"}) || note.Link != "/x/1" {
		t.Errorf("a notice worded: %v %+v", ok, note)
	}
	if _, ok := c.Notification([]string{"fi"}, nil, sdk.Notice{Kind: "x.vote.closed", Subject: "x.motion:1", Link: "/x/1"}); ok {
		t.Error("a notice that tells nobody was worded")
	}
}
