package ical_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/sdk/ical"
)

var (
	stamp = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	start = time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)
	end   = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
)

// Long texts whose multi-octet characters land on the 75-octet boundary.
var multilingual = map[string]string{
	"turkish": "Kadıköy Belediyesi mahalle meclisi: çocuk parkı, ağaçlandırma; İğneada'daki şenlik " +
		"için gönüllü çağrısı — Şişli, Üsküdar ve Göztepe sakinlerine açıktır. Ğğ İı Şş Çç Öö Üü",
	"finnish": "Kallion kaupunginosayhdistyksen yleiskokous: käsittelyssä leikkipuiston kunnostus, " +
		"pyöräparkki ja syysjuhla. Äänestys päätöksistä; tervetuloa kaikki! ÄÄÄÄÖÖÖÖåååå",
	"danish": "Nørrebro lokaludvalg: Åbent møde om grønne gårde, cykelparkering og bænke ved " +
		"Søerne. Tilmelding ønskes, men er ikke nødvendig. Ææ Øø Åå ÆØÅæøå ÆØÅæøå",
	"emoji": strings.Repeat("🌳🎪🚲👩‍👩‍👧‍👦", 12) + " park day, bring food; music\nnew line",
}

func TestCalendar_Bytes(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		cal := ical.Calendar{
			ProdID: "-//Kvarter//parks//EN",
			Name:   "Parks, Kallio",
			Events: []ical.Event{{
				UID:          "b1@parks.kvarter",
				Stamp:        stamp,
				Start:        start.In(time.FixedZone("EEST", 3*3600)),
				End:          end,
				Summary:      "Picnic; bring a blanket, please",
				Description:  "Line one\nLine two\\end",
				Location:     "Meadow, Kaisaniemi",
				URL:          "https://example.org/b/1",
				Organizer:    &ical.Organizer{Name: `Kallio "parks" office`, Address: "mailto:parks@example.org"},
				Status:       ical.StatusConfirmed,
				Sequence:     2,
				LastModified: stamp,
				Categories:   []string{"park", "", "music, live"},
			}},
		}
		got, err := cal.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join([]string{
			"BEGIN:VCALENDAR",
			"VERSION:2.0",
			"PRODID:-//Kvarter//parks//EN",
			"CALSCALE:GREGORIAN",
			"METHOD:PUBLISH",
			`X-WR-CALNAME:Parks\, Kallio`,
			"BEGIN:VEVENT",
			"UID:b1@parks.kvarter",
			"DTSTAMP:20240501T080000Z",
			"DTSTART:20240601T100000Z",
			"DTEND:20240601T120000Z",
			`SUMMARY:Picnic\; bring a blanket\, please`,
			`DESCRIPTION:Line one\nLine two\\end`,
			`LOCATION:Meadow\, Kaisaniemi`,
			"URL:https://example.org/b/1",
			`ORGANIZER;CN="Kallio 'parks' office":mailto:parks@example.org`,
			"STATUS:CONFIRMED",
			"SEQUENCE:2",
			"LAST-MODIFIED:20240501T080000Z",
			`CATEGORIES:park,music\, live`,
			"END:VEVENT",
			"END:VCALENDAR",
			"",
		}, "\r\n")
		if string(got) != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
		mustValidate(t, got)
	})

	// The three faults of issue 20, each against the strict checker.
	t.Run("OKEmptyHasComponent", func(t *testing.T) {
		got, err := (&ical.Calendar{ProdID: "-//Kvarter//test//EN"}).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		mustValidate(t, got)
		if !bytes.Contains(got, []byte("BEGIN:VTIMEZONE\r\nTZID:UTC\r\n")) || !bytes.Contains(got, []byte("METHOD:PUBLISH")) {
			t.Fatalf("empty calendar:\n%s", got)
		}
	})
	t.Run("OKNoOrganizerNoMethod", func(t *testing.T) {
		got, err := calendarWith(ical.Event{UID: "u", Stamp: stamp, Start: start, Summary: "s"}).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		mustValidate(t, got)
		if bytes.Contains(got, []byte("METHOD")) {
			t.Fatalf("METHOD:PUBLISH without ORGANIZER fails RFC 5546:\n%s", got)
		}
	})
	t.Run("OKURLEncoded", func(t *testing.T) {
		got, err := calendarWith(ical.Event{UID: "u", Stamp: stamp, Start: start, Summary: "s",
			URL:       "https://kvarter.example/parklar/Kültürpark etkinliği?ad=çocuk&x=%41&y=100%",
			Organizer: &ical.Organizer{Name: "İzmir Parkları", Address: "mailto:parklar@izmir.example"}}).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		mustValidate(t, got)
		want := "https://kvarter.example/parklar/K%C3%BClt%C3%BCrpark%20etkinli%C4%9Fi?ad=%C3%A7ocuk&x=%41&y=100%25"
		lines, _ := ical.Unfold(got)
		found := false
		for _, l := range lines {
			found = found || l.Text == "URL:"+want
		}
		if !found {
			t.Fatalf("no URL:%s in\n%s", want, got)
		}
	})

	t.Run("OKMultilingual", func(t *testing.T) {
		for name, text := range multilingual {
			t.Run(name, func(t *testing.T) {
				cal := calendarWith(ical.Event{UID: "x@y", Stamp: stamp, Start: start, End: end,
					Summary: text, Description: text + "\n" + text, Location: text})
				got, err := cal.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				mustValidate(t, got)
				if !bytes.Contains(got, []byte("\r\n ")) {
					t.Fatal("expected folded lines")
				}
				for _, line := range strings.Split(strings.TrimSuffix(string(got), "\r\n"), "\r\n") {
					if len(line) > ical.MaxLineOctets {
						t.Fatalf("line of %d octets: %q", len(line), line)
					}
					if !utf8.ValidString(line) {
						t.Fatalf("fold split a character: %q", line)
					}
				}
				if v := unfoldedValue(t, got, "SUMMARY"); v != text {
					t.Fatalf("round trip: got %q, want %q", v, text)
				}
			})
		}
	})

	t.Run("ErrMissingFields", func(t *testing.T) {
		for name, ev := range map[string]ical.Event{
			"no uid":       {Stamp: stamp, Start: start},
			"no stamp":     {UID: "u", Start: start},
			"no start":     {UID: "u", Stamp: stamp},
			"end first":    {UID: "u", Stamp: stamp, Start: end, End: start},
			"bad status":   {UID: "u", Stamp: stamp, Start: start, Status: "DONE"},
			"bad url":      {UID: "u", Stamp: stamp, Start: start, URL: "https://x\r\nBEGIN:VEVENT"},
			"neg sequence": {UID: "u", Stamp: stamp, Start: start, Sequence: -1},
			"organizer":    {UID: "u", Stamp: stamp, Start: start, Organizer: &ical.Organizer{Name: "x", Address: "parks office"}},
			"geo":          {UID: "u", Stamp: stamp, Start: start, Geo: &ical.Geo{Latitude: 91}},
		} {
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if _, err := calendarWith(ev).WriteTo(&buf); err == nil {
					t.Fatal("want error")
				}
				if buf.Len() != 0 {
					t.Fatal("wrote output despite the error")
				}
			})
		}
		if _, err := (&ical.Calendar{}).Bytes(); err == nil {
			t.Fatal("want error for missing PRODID")
		}
	})
}

func TestFold(t *testing.T) {
	for _, n := range []int{0, 1, 74, 75, 76, 149, 150, 151, 400} {
		for _, unit := range []string{"a", "ä", "€", "🌳"} {
			line := "X:" + strings.Repeat(unit, n)
			got := ical.Fold(line)
			if !strings.HasSuffix(got, "\r\n") {
				t.Fatalf("no CRLF: %q", got)
			}
			joined := strings.ReplaceAll(strings.TrimSuffix(got, "\r\n"), "\r\n ", "")
			if joined != line {
				t.Fatalf("n=%d %q: fold is not reversible", n, unit)
			}
			for _, phys := range strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n") {
				if len(phys) > ical.MaxLineOctets || !utf8.ValidString(phys) {
					t.Fatalf("n=%d %q: bad physical line %q", n, unit, phys)
				}
			}
		}
	}
}

func TestEscapeText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"a,b;c\\d", `a\,b\;c\\d`},
		{"one\r\ntwo\rthree\nfour", `one\ntwo\nthree\nfour`},
		{"tab\tkept, bell\x07 dropped", "tab\tkept\\, bell dropped"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	} {
		if got := ical.EscapeText(tc.in); got != tc.want {
			t.Errorf("EscapeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnescapeText(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := ical.UnescapeText(`a\,b\;c\\d\ne\N`)
		if err != nil || got != "a,b;c\\d\ne\n" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("Err", func(t *testing.T) {
		for _, in := range []string{`a,b`, `a;b`, `a\`, `a\x`} {
			if _, err := ical.UnescapeText(in); err == nil {
				t.Errorf("UnescapeText(%q): want error", in)
			}
		}
	})
}

func TestUnfold(t *testing.T) {
	t.Run("OKRoundTrip", func(t *testing.T) {
		text := multilingual["turkish"] + multilingual["emoji"]
		got, err := calendarWith(ical.Event{UID: "u", Stamp: stamp, Start: start, Description: text}).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if v := unfoldedValue(t, got, "DESCRIPTION"); v != text {
			t.Fatalf("got %q, want %q", v, text)
		}
	})
	t.Run("OKTabContinuation", func(t *testing.T) {
		lines, err := ical.Unfold([]byte("SUMMARY:ab\r\n\tcd\r\n e\r\nX:y\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 2 || lines[0].Text != "SUMMARY:abcde" || lines[1].Num != 4 {
			t.Fatalf("got %+v", lines)
		}
	})
}

func TestValidate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for name, feed := range map[string]string{
			"minimal": valid,
			"other components and params": feedOf(
				"BEGIN:VTIMEZONE", "TZID:Europe/Helsinki", "BEGIN:STANDARD", "DTSTART:19701025T040000",
				"TZOFFSETFROM:+0300", "TZOFFSETTO:+0200", "END:STANDARD", "END:VTIMEZONE",
				"BEGIN:VEVENT", "UID:1", "DTSTAMP:20240101T000000Z",
				"DTSTART;TZID=Europe/Helsinki:20240601T100000", "DTEND;TZID=Europe/Helsinki:20240601T120000",
				`ORGANIZER;CN="Park office; Kallio, Helsinki":mailto:parks@example.org`,
				"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM", "END:VEVENT"),
			"all-day": feedOf("BEGIN:VEVENT", "UID:1", "DTSTAMP:20240101T000000Z",
				"DTSTART;VALUE=DATE:20240601", "DTEND;VALUE=DATE:20240602", "END:VEVENT"),
			"no events, a time zone": feedOf("BEGIN:VTIMEZONE", "TZID:UTC", "BEGIN:STANDARD", "DTSTART:19700101T000000",
				"TZOFFSETFROM:+0000", "TZOFFSETTO:+0000", "END:STANDARD", "END:VTIMEZONE"),
			"publish": feedOf("METHOD:PUBLISH", "BEGIN:VEVENT", "UID:1", "DTSTAMP:20240101T000000Z", "DTSTART:20240601T100000Z",
				"SUMMARY:x", "ORGANIZER;CN=Parks:mailto:parks@example.org", "URL:https://example.org/K%C3%BClt%C3%BCrpark", "END:VEVENT"),
		} {
			t.Run(name, func(t *testing.T) { mustValidate(t, []byte(feed)) })
		}
	})

	long := "DESCRIPTION:" + strings.Repeat("x", 70)
	splitRune := "SUMMARY:" + strings.Repeat("a", 66) + "\xc3\r\n \xa4"
	for _, tc := range []struct {
		name, feed, want string
	}{
		{"LFEndings", strings.ReplaceAll(valid, "\r\n", "\n"), "bare LF"},
		{"MixedEndings", strings.Replace(valid, "UID:1\r\n", "UID:1\n", 1), "bare LF"},
		{"NoFinalCRLF", strings.TrimSuffix(valid, "\r\n"), "CRLF"},
		{"BareCR", strings.Replace(valid, "SUMMARY:Picnic", "SUMMARY:Pic\rnic", 1), "bare CR"},
		{"LongLine", eventFeed(long), "longer than 75"},
		{"FoldSplitsRune", eventFeed(splitRune), "not valid UTF-8"},
		{"InvalidUTF8", eventFeed("SUMMARY:caf\xe9"), "not valid UTF-8"},
		{"EmptyLine", strings.Replace(valid, "UID:1\r\n", "UID:1\r\n\r\n", 1), "empty line"},
		{"LeadingContinuation", " " + valid, "nothing to continue"},
		{"MissingUID", strings.Replace(valid, "UID:1\r\n", "", 1), "no UID"},
		{"TwoUIDs", strings.Replace(valid, "UID:1\r\n", "UID:1\r\nUID:2\r\n", 1), "2 UID"},
		{"MissingDTSTAMP", strings.Replace(valid, "DTSTAMP:20240101T000000Z\r\n", "", 1), "no DTSTAMP"},
		{"LocalDTSTAMP", strings.Replace(valid, "DTSTAMP:20240101T000000Z", "DTSTAMP:20240101T000000", 1), "UTC"},
		{"MissingDTSTART", strings.Replace(valid, "DTSTART:20240601T100000Z\r\n", "", 1), "no DTSTART"},
		{"EndBeforeStart", strings.Replace(valid, "DTEND:20240601T120000Z", "DTEND:20240601T090000Z", 1), "before DTSTART"},
		{"EndDateVsDateTime", strings.Replace(valid, "DTEND:20240601T120000Z", "DTEND;VALUE=DATE:20240602", 1), "value type"},
		{"BadDate", strings.Replace(valid, "DTSTART:20240601T100000Z", "DTSTART:20241301T100000Z", 1), "not a valid"},
		{"DTENDAndDURATION", strings.Replace(valid, "UID:1\r\n", "UID:1\r\nDURATION:PT1H\r\n", 1), "DURATION"},
		{"BadStatus", strings.Replace(valid, "STATUS:CONFIRMED", "STATUS:DONE", 1), "STATUS"},
		{"UnescapedComma", strings.Replace(valid, "SUMMARY:Picnic", "SUMMARY:Picnic, games", 1), "unescaped"},
		{"UnescapedSemicolon", strings.Replace(valid, "SUMMARY:Picnic", "SUMMARY:Picnic; games", 1), "unescaped"},
		{"CommaInLocation", eventFeed("LOCATION:Meadow, Kallio"), "unescaped"},
		{"BadEscape", eventFeed(`DESCRIPTION:a\qb`), "unknown escape"},
		{"SemicolonInCategory", eventFeed(`CATEGORIES:a;b,c`), "unescaped"},
		{"ControlChar", eventFeed("SUMMARY:a\x07b"), "control character"},
		{"UnbalancedEnd", strings.Replace(valid, "END:VEVENT\r\n", "", 1), "END:VCALENDAR closes BEGIN:VEVENT"},
		{"ExtraEnd", strings.Replace(valid, "END:VEVENT\r\n", "END:VEVENT\r\nEND:VEVENT\r\n", 1), "closes BEGIN:VCALENDAR"},
		{"NeverEnded", strings.TrimSuffix(valid, "END:VCALENDAR\r\n"), "never ended"},
		{"NestedEvent", eventFeed("BEGIN:VEVENT", "END:VEVENT"), "nested"},
		{"ContentAfterEnd", valid + "X-FOO:bar\r\n", "after END:VCALENDAR"},
		{"PropertyOutside", "X-FOO:bar\r\n" + valid, "outside"},
		{"NoVersion", strings.Replace(valid, "VERSION:2.0\r\n", "", 1), "VERSION"},
		{"WrongVersion", strings.Replace(valid, "VERSION:2.0", "VERSION:1.0", 1), "want 2.0"},
		{"NoProdID", strings.Replace(valid, "PRODID:-//Kvarter//test//EN\r\n", "", 1), "PRODID"},
		{"NoColon", eventFeed("SUMMARY"), "missing ':'"},
		{"BadSequence", eventFeed("SEQUENCE:-1"), "SEQUENCE"},
		{"Empty", "", "empty feed"},
		{"NoComponent", feedOf(), "no component"},
		{"PublishNoOrganizer", strings.Replace(valid, "VERSION:2.0\r\n", "VERSION:2.0\r\nMETHOD:PUBLISH\r\n", 1), "0 ORGANIZER"},
		{"PublishNoSummary", feedOf("METHOD:PUBLISH", "BEGIN:VEVENT", "UID:1", "DTSTAMP:20240101T000000Z", "DTSTART:20240601T100000Z",
			"ORGANIZER:mailto:a@example.org", "END:VEVENT"), "0 SUMMARY"},
		{"RawNonASCIIURL", eventFeed("URL:https://example.org/Kültürpark"), "percent-encode"},
		{"SpaceInURL", eventFeed("URL:https://example.org/a b"), "percent-encode"},
		{"BadGeo", eventFeed("GEO:38.4,27.1"), "GEO"},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			err := ical.Validate([]byte(tc.feed))
			var ierr *ical.Error
			if !errors.As(err, &ierr) {
				t.Fatalf("want *ical.Error, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func FuzzCalendar_Bytes(f *testing.F) {
	f.Add("uid", "Picnic, games; music", "a\\b\r\nc", "Meadow", "cat,egory")
	for _, text := range multilingual {
		f.Add("ü@x", text, text, text, text)
	}
	f.Add("\x00", "\xff\xfe", "\r\r\n\n", "\x7f", "")
	f.Fuzz(func(t *testing.T, uid, summary, desc, loc, cat string) {
		got, err := calendarWith(ical.Event{UID: "id-" + uid, Stamp: stamp, Start: start, End: end,
			Summary: summary, Description: desc, Location: loc, Categories: []string{cat, cat}}).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if err := ical.Validate(got); err != nil {
			t.Fatalf("%v\n%q", err, got)
		}
		if summary != "" {
			want := mustUnescape(t, ical.EscapeText(summary))
			if v := unfoldedValue(t, got, "SUMMARY"); v != want {
				t.Fatalf("round trip: got %q, want %q", v, want)
			}
		}
	})
}

const valid = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kvarter//test//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240601T100000Z\r\n" +
	"DTEND:20240601T120000Z\r\nSUMMARY:Picnic\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// feedOf wraps lines in a minimal VCALENDAR.
func feedOf(lines ...string) string {
	all := append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kvarter//test//EN"}, lines...)
	return strings.Join(append(all, "END:VCALENDAR"), "\r\n") + "\r\n"
}

// eventFeed is a valid one-event feed plus extra raw event lines.
func eventFeed(extra ...string) string {
	lines := append([]string{"BEGIN:VEVENT", "UID:1", "DTSTAMP:20240101T000000Z", "DTSTART:20240601T100000Z"}, extra...)
	return feedOf(append(lines, "END:VEVENT")...)
}

func calendarWith(ev ical.Event) *ical.Calendar {
	return &ical.Calendar{ProdID: "-//Kvarter//test//EN", Name: "Test", Events: []ical.Event{ev}}
}

func mustValidate(tb testing.TB, feed []byte) {
	tb.Helper()
	if err := ical.Validate(feed); err != nil {
		tb.Fatalf("Validate: %v\n%s", err, feed)
	}
}

func mustUnescape(tb testing.TB, s string) string {
	tb.Helper()
	v, err := ical.UnescapeText(s)
	if err != nil {
		tb.Fatalf("UnescapeText(%q): %v", s, err)
	}
	return v
}

// unfoldedValue returns the unescaped value of the first property called
// name.
func unfoldedValue(tb testing.TB, feed []byte, name string) string {
	tb.Helper()
	lines, err := ical.Unfold(feed)
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l.Text, name+":"); ok {
			return mustUnescape(tb, v)
		}
	}
	tb.Fatalf("no %s in feed", name)
	return ""
}
