package i18n_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
	_ "time/tzdata" // the city zones below, on a machine without zoneinfo too

	"github.com/kvarter/kvarter/sdk/i18n"
)

// catalog builds an fs.FS of locales/<lang>.toml files from TOML bodies.
func catalog(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for lang, body := range files {
		fsys["locales/"+lang+".toml"] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

var testCatalog = catalog(map[string]string{
	"en": `
["greet"]
other = "Hello {{.Name}}"
["only.en"]
other = "Only in English"
["only.en.sv"]
other = "English, Swedish has it too"
["items"]
one = "{{.Count}} item"
other = "{{.Count}} items"
["broken"]
other = "{{.Name"
`,
	"fi": `
["greet"]
other = "Hei {{.Name}}"
["items"]
one = "{{.Count}} kohde"
other = "{{.Count}} kohdetta"
`,
	"sv": `
["greet"]
other = "Hej {{.Name}}"
["only.en.sv"]
other = "Svenska"
`,
})

type missing struct {
	mu   sync.Mutex
	seen []string
}

func (m *missing) record(lang, id string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen = append(m.seen, lang+":"+id)
}

func TestNewBundle(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		b, err := i18n.NewBundle(testCatalog)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(b.Languages(), ","); got != "en,fi,sv" {
			t.Errorf("Languages() = %s, want en,fi,sv (never the pseudo-locale)", got)
		}
		if !b.Has(i18n.Pseudo) || !b.HasMessage(i18n.Pseudo, "greet") {
			t.Error("the pseudo-locale is not built from English")
		}
	})
	one := func(lang string) fstest.MapFS { return catalog(map[string]string{lang: "[\"a\"]\nother = \"x\""}) }
	bad := map[string][]fs.FS{
		"ErrNoEnglish":      {one("fi")},
		"ErrNoFiles":        {fstest.MapFS{}},
		"ErrSyntax":         {catalog(map[string]string{"en": "[\"a\"\nother = \"x\""})},
		"ErrNotAString":     {catalog(map[string]string{"en": "[\"a\"]\nother = 1"})},
		"ErrNotCanonical":   {one("en"), one("EN_gb")},
		"ErrNotATag":        {one("en"), one("not a tag")},
		"ErrDuplicateID":    {one("en"), one("en")},
		"ErrNoEnglishInAny": {one("fi"), one("sv")},
	}
	for name, sources := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := i18n.NewBundle(sources...); err == nil {
				t.Error("NewBundle succeeded")
			}
		})
	}
}

func TestLocalizer_T(t *testing.T) {
	b := i18n.MustBundle(testCatalog)
	var m missing
	b.OnMissing(m.record)

	t.Run("OK", func(t *testing.T) {
		if got := b.Localizer("fi").T("greet", map[string]any{"Name": "Aino"}); got != "Hei Aino" {
			t.Errorf("fi greet = %q", got)
		}
		if got := b.Localizer("sv-FI").T("greet", map[string]any{"Name": "Ebba"}); got != "Hej Ebba" {
			t.Errorf("sv-FI greet = %q, want the Swedish catalog", got)
		}
		if len(m.seen) != 0 {
			t.Errorf("reported missing: %v", m.seen)
		}
	})
	t.Run("DataMapsMerge", func(t *testing.T) {
		got := b.Localizer("en").T("greet", map[string]any{"Name": "a"}, map[string]any{"Name": "b"})
		if got != "Hello b" {
			t.Errorf("got %q, want the later map to win", got)
		}
	})
	t.Run("FallsBackToCityDefaultThenEnglish", func(t *testing.T) {
		m.seen = nil
		l := b.Localizer("fi", "sv")
		if got := l.T("only.en.sv"); got != "Svenska" {
			t.Errorf("fi→sv fallback = %q, want the city default's (sv) message", got)
		}
		if got := l.T("only.en"); got != "Only in English" {
			t.Errorf("fi→sv→en fallback = %q", got)
		}
		if got := strings.Join(m.seen, ","); got != "fi:only.en.sv,fi:only.en" {
			t.Errorf("missing reported %q, want both gaps of fi", got)
		}
	})
	t.Run("UnknownLanguage", func(t *testing.T) {
		l := b.Localizer("de", "sv")
		if l.Lang() != "sv" {
			t.Errorf("Lang() = %q, want the city default the bundle has", l.Lang())
		}
		if l := b.Localizer("zz-junk-<script>"); l.Lang() != "en" {
			t.Errorf("Lang() of junk = %q, want en", l.Lang())
		}
		if l := b.Localizer(strings.Repeat("a", 5000)); l.Lang() != "en" {
			t.Errorf("Lang() of a huge tag = %q, want en", l.Lang())
		}
	})
	t.Run("MissingEverywhereShowsTheID", func(t *testing.T) {
		m.seen = nil
		if got := b.Localizer("fi").T("no.such.id"); got != "no.such.id" {
			t.Errorf("got %q, want the id, never an empty string", got)
		}
		if len(m.seen) != 1 {
			t.Errorf("reported %v, want one report", m.seen)
		}
	})
	t.Run("BrokenTemplateNeverEmpty", func(t *testing.T) {
		m.seen = nil
		got := b.Localizer("en").T("broken")
		if got == "" {
			t.Error("a broken message rendered empty")
		}
		if len(m.seen) == 0 {
			t.Error("a broken message was not reported")
		}
	})
	t.Run("DefaultReporterLogsOnce", func(t *testing.T) {
		b := i18n.MustBundle(testCatalog)
		var buf bytes.Buffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
		defer slog.SetDefault(old)
		for range 3 {
			if got := b.Localizer("fi").T("only.en"); got != "Only in English" {
				t.Errorf("got %q", got)
			}
		}
		if n := strings.Count(buf.String(), "id=only.en"); n != 1 {
			t.Errorf("logged %d times, want once:\n%s", n, buf.String())
		}
	})
}

func TestLocalizer_N(t *testing.T) {
	b := i18n.MustBundle(testCatalog)
	cases := []struct {
		lang  string
		count int
		want  string
	}{
		{"en", 1, "1 item"},
		{"en", 0, "0 items"},
		{"en", 2, "2 items"},
		{"fi", 1, "1 kohde"},
		{"fi", 1234567, "1\u00a0234\u00a0567 kohdetta"},
		{"en", 1234567, "1,234,567 items"},
	}
	for _, c := range cases {
		if got := b.Localizer(c.lang).N("items", c.count); got != c.want {
			t.Errorf("%s N(items, %d) = %q, want %q", c.lang, c.count, got, c.want)
		}
	}
	if got := b.Localizer("en").N("items", 3, map[string]any{"Count": "three"}); got != "three items" {
		t.Errorf("data's Count did not win: %q", got)
	}
}

func TestNegotiate(t *testing.T) {
	city := []string{"tr", "en", "fi", "sv", "da"}
	cases := []struct {
		name                    string
		profile, cookie, accept string
		city                    []string
		want                    string
	}{
		{"Profile", "fi", "sv", "da", city, "fi"},
		{"ProfileRegional", "sv-FI", "", "", city, "sv"},
		{"ProfileNotOfTheCity", "de", "sv", "", city, "sv"},
		{"Cookie", "", "da", "fi", city, "da"},
		{"CookieJunk", "", "<script>", "fi", city, "fi"},
		{"AcceptQ", "", "", "de;q=0.9, sv;q=0.8, fi;q=0.85", city, "fi"},
		{"AcceptOrderAmongEquals", "", "", "da, fi", city, "da"},
		{"AcceptRegional", "", "", "sv-FI,sv;q=0.9", city, "sv"},
		{"AcceptCase", "", "", "FI-fi", city, "fi"},
		{"AcceptWildcard", "", "", "de, *;q=0.5", city, "tr"},
		{"AcceptZeroRefuses", "", "", "fi;q=0, da;q=0.1", city, "da"},
		{"AcceptOnlyRefused", "", "", "fi;q=0", city, "tr"},
		{"AcceptNone", "", "", "", city, "tr"},
		{"KeepsCitySpelling", "", "", "sv-SE", []string{"tr", "sv-FI"}, "sv-FI"},
		{"NoCity", "fi", "", "", nil, "en"},
		// Junk a client can send.
		{"JunkSemicolons", "", "", ";;;,,,;q=1", city, "tr"},
		{"JunkQNotANumber", "", "", "fi;q=abc, sv", city, "sv"},
		{"JunkQAboveOne", "", "", "fi;q=2, sv;q=0.1", city, "sv"},
		{"JunkQNegative", "", "", "fi;q=-1, da;q=0.2", city, "da"},
		{"JunkQNaN", "", "", "fi;q=NaN, da;q=0.2", city, "da"},
		{"JunkQInf", "", "", "fi;q=Inf, da;q=0.2", city, "da"},
		{"JunkNUL", "\x00", "\x00fi", "f\x00i, da", city, "da"},
		{"JunkNotUTF8", "", "", "\xff\xfe, sv", city, "sv"},
		{"JunkHuge", "", "", strings.Repeat("x", 100000) + ",fi", city, "tr"},
		{"JunkHugeTag", "", "", strings.Repeat("a", 70) + ", da", city, "da"},
		{"TooManyEntries", "", "", strings.Repeat("de,", 40) + "fi", city, "tr"},
		{"JunkOnlyParams", "", "", ";q=0.5", city, "tr"},
		{"JunkTagChars", "", "", "fi<script>, sv", city, "sv"},
		{"JunkUnicode", "", "", "ｆｉ, sv", city, "sv"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := i18n.Negotiate(c.profile, c.cookie, c.accept, c.city); got != c.want {
				t.Errorf("Negotiate(%q, %q, %.60q, %v) = %q, want %q", c.profile, c.cookie, c.accept, c.city, got, c.want)
			}
		})
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "fi", "sv-FI;q=0.5, da", "*", ";q=", "x;q=1e400", "\xff"} {
		f.Add(s, s, s)
	}
	city := []string{"tr", "en", "fi"}
	f.Fuzz(func(t *testing.T, profile, cookie, accept string) {
		got := i18n.Negotiate(profile, cookie, accept, city)
		if got != "tr" && got != "en" && got != "fi" {
			t.Fatalf("Negotiate answered %q, not a city language", got)
		}
	})
}

func TestLocalizer_Format(t *testing.T) {
	b := i18n.MustBundle(catalog(map[string]string{
		"en": "[\"a\"]\nother = \"a\"", "fi": "[\"a\"]\nother = \"a\"", "sv": "[\"a\"]\nother = \"a\"",
		"da": "[\"a\"]\nother = \"a\"", "tr": "[\"a\"]\nother = \"a\"",
	}))
	istanbul, err := time.LoadLocation("Europe/Istanbul")
	if err != nil {
		t.Fatal(err)
	}
	// 22:30 UTC on 5 December is 01:30 on the 6th in Istanbul (UTC+3): the date must
	// be the city's, not UTC's.
	at := time.Date(2026, 12, 5, 22, 30, 0, 0, time.UTC)
	const nb = "\u00a0"
	cases := []struct {
		lang                  string
		date, clock, dateTime string
		number                string
		money                 string
		moneyCur              string
	}{
		{"en", "6 Dec 2026", "01:30", "6 Dec 2026, 01:30", "1,234,567", "€860,000.00", "EUR"},
		{"fi", "6.12.2026", "01.30", "6.12.2026 klo 01.30", "1" + nb + "234" + nb + "567", "860" + nb + "000,00" + nb + "€", "EUR"},
		{"sv", "2026-12-06", "01:30", "2026-12-06 01:30", "1" + nb + "234" + nb + "567", "860" + nb + "000,00" + nb + "kr", "SEK"},
		{"da", "06.12.2026", "01.30", "06.12.2026 01.30", "1.234.567", "860.000,00" + nb + "kr.", "DKK"},
		{"tr", "6.12.2026", "01:30", "6.12.2026 01:30", "1.234.567", "₺860.000,00", "TRY"},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			l := b.Localizer(c.lang).In(istanbul)
			check := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("Date", l.Date(at), c.date)
			check("Time", l.Time(at), c.clock)
			check("DateTime", l.DateTime(at), c.dateTime)
			check("Number", l.Number(1234567), c.number)
			check("Money", l.Money(86000000, c.moneyCur), c.money)
		})
	}
	t.Run("UTCWithoutZone", func(t *testing.T) {
		if got := b.Localizer("fi").Date(at); got != "5.12.2026" {
			t.Errorf("Date without a zone = %q, want UTC's 5.12.2026", got)
		}
	})
	t.Run("MoneyEdges", func(t *testing.T) {
		en, fi := b.Localizer("en"), b.Localizer("fi")
		check := func(got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
		check(en.Money(-150, "EUR"), "-€1.50")
		check(fi.Money(-150, "EUR"), "−1,50"+nb+"€")
		check(en.Money(5, "EUR"), "€0.05")
		check(en.Money(1500, "JPY"), "¥1,500") // no minor units
		check(en.Money(86000000, "DKK"), "DKK"+nb+"860,000.00")
		check(en.Money(100, "<b>"), "XXX"+nb+"1.00")
		check(fi.Money(0, "EUR"), "0,00"+nb+"€")
		if got := en.Money(math.MinInt64, "JPY"); !strings.Contains(got, "9,223,372,036,854,775,808") && !strings.Contains(got, "9223372036854775808") {
			t.Errorf("MinInt64 yen = %q", got)
		}
		if got := en.Money(math.MinInt64, "EUR"); !strings.HasSuffix(got, ".08") {
			t.Errorf("MinInt64 cents = %q", got)
		}
	})
	t.Run("OtherLanguage", func(t *testing.T) {
		b := i18n.MustBundle(catalog(map[string]string{"en": "[\"a\"]\nother = \"a\"", "de": "[\"a\"]\nother = \"a\""}))
		l := b.Localizer("de").In(istanbul)
		if got := l.Date(at); got != "2026-12-06" {
			t.Errorf("de Date = %q, want ISO 8601", got)
		}
		if got := l.Money(86000000, "EUR"); got != "€"+nb+"860.000,00" {
			t.Errorf("de Money = %q, want CLDR root's pattern", got)
		}
	})
}

func TestPseudoText(t *testing.T) {
	cases := map[string]string{
		"Next page":       "[Ñéẋţ þáĝé~~~~]",
		"":                "",
		"Hello {{.Name}}": "[Ĥéľľó {{.Name}}~~~~]",
		"{{.Count}} rows": "[{{.Count}} ŕóŵš~~~~]",
		"Unclosed {{ x":   "[Úñçľóšéð {{ x~~~~]",
	}
	for in, want := range cases {
		if got := i18n.PseudoText(in); got != want {
			t.Errorf("PseudoText(%q) = %q, want %q", in, got, want)
		}
	}
	b := i18n.MustBundle(testCatalog)
	l := b.Localizer(i18n.Pseudo)
	if l.Lang() != i18n.Pseudo {
		t.Fatalf("Lang() = %q", l.Lang())
	}
	if got := l.T("greet", map[string]any{"Name": "Aino"}); got != "[Ĥéľľó Aino~~~~]" {
		t.Errorf("pseudo greet = %q", got)
	}
	if got := l.N("items", 1); got != "[1 íţéɱ~~~~]" {
		t.Errorf("pseudo N = %q", got)
	}
	if got := l.Number(1234); got != "1,234" {
		t.Errorf("pseudo Number = %q, want English's", got)
	}
}

func Example() {
	b := i18n.MustBundle(catalog(map[string]string{
		"en": "[\"parks.booking.count\"]\none = \"{{.Count}} booking\"\nother = \"{{.Count}} bookings\"",
		"fi": "[\"parks.booking.count\"]\none = \"{{.Count}} varaus\"\nother = \"{{.Count}} varausta\"",
	}))
	lang := i18n.Negotiate("", "", "fi-FI,fi;q=0.9,en;q=0.8", []string{"tr", "fi", "en"})
	l := b.Localizer(lang, "tr")
	fmt.Printf("%s %q\n", lang, l.N("parks.booking.count", 1200))
	// Output: fi "1\u00a0200 varausta"
}

func TestBundle_Texts(t *testing.T) {
	b := i18n.MustBundle(testCatalog)
	got := b.Texts("only.en.sv")
	if len(got) != 2 || got["en"] != "English, Swedish has it too" || got["sv"] != "Svenska" {
		t.Errorf("Texts(only.en.sv) = %v: want English and Swedish only, no pseudo-locale", got)
	}
	if got := b.Texts("nowhere"); len(got) != 0 {
		t.Errorf("Texts of a missing id = %v, want none", got)
	}
}
