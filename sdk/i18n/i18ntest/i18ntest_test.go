package i18ntest_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
)

// good is a complete catalog in the five languages.
func good() map[string]string {
	return map[string]string{
		"en": "[\"hello\"]\nother = \"Hello {{.Name}}\"\n[\"count\"]\none = \"{{.Count}} row\"\nother = \"{{.Count}} rows\"\n",
		"fi": "[\"hello\"]\nother = \"Hei {{.Name}}\"\n[\"count\"]\none = \"{{.Count}} rivi\"\nother = \"{{.Count}} riviä\"\n",
		"sv": "[\"hello\"]\nother = \"Hej {{.Name}}\"\n[\"count\"]\none = \"{{.Count}} rad\"\nother = \"{{.Count}} rader\"\n",
		"da": "[\"hello\"]\nother = \"Hej {{.Name}}\"\n[\"count\"]\none = \"{{.Count}} række\"\nother = \"{{.Count}} rækker\"\n",
		"tr": "[\"hello\"]\nother = \"Merhaba {{.Name}}\"\n[\"count\"]\none = \"{{.Count}} satır\"\nother = \"{{.Count}} satır\"\n",
	}
}

func fsOf(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for lang, body := range files {
		fsys["locales/"+lang+".toml"] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

func TestProblems(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		if p := i18ntest.Problems(fsOf(good())); len(p) != 0 {
			t.Errorf("a good catalog has problems: %v", p)
		}
	})
	cases := []struct {
		name   string
		change func(map[string]string)
		want   string // a problem that must be reported
	}{
		{"ErrLanguageMissing", func(m map[string]string) { delete(m, "da") }, "language da: no file"},
		{"ErrIDMissing", func(m map[string]string) {
			m["sv"] = "[\"count\"]\none = \"{{.Count}} rad\"\nother = \"{{.Count}} rader\"\n"
		}, "sv: hello: missing"},
		{"ErrIDOnlyElsewhere", func(m map[string]string) { m["fi"] += "[\"extra\"]\nother = \"Lisä\"\n" }, "fi: extra: English does not have it"},
		{"ErrEmpty", func(m map[string]string) {
			m["tr"] = strings.Replace(m["tr"], "Merhaba {{.Name}}", "   ", 1)
		}, "tr: hello: empty translation"},
		{"ErrPluralFormMissing", func(m map[string]string) {
			m["fi"] = strings.Replace(m["fi"], "one = \"{{.Count}} rivi\"\n", "", 1)
		}, `fi: count: plural form "one" missing`},
		{"ErrPluralInEnglishOnly", func(m map[string]string) {
			m["da"] = strings.Replace(m["da"], "one = \"{{.Count}} række\"\n", "", 1)
		}, `da: count: plural form "one" missing`},
		{"ErrPlaceholders", func(m map[string]string) {
			m["sv"] = strings.Replace(m["sv"], "Hej {{.Name}}", "Hej {{.Namn}}", 1)
		}, "sv: hello: placeholders [Namn], English has [Name]"},
		{"ErrPlaceholderDropped", func(m map[string]string) {
			m["da"] = strings.Replace(m["da"], "Hej {{.Name}}", "Hej", 1)
		}, "da: hello: placeholders [], English has [Name]"},
		{"ErrTemplate", func(m map[string]string) {
			m["fi"] = strings.Replace(m["fi"], "Hei {{.Name}}", "Hei {{.Name", 1)
		}, "fi: hello: form \"other\": the template does not parse"},
		{"ErrPolishNeedsFewAndMany", func(m map[string]string) {
			m["pl"] = "[\"hello\"]\nother = \"Cześć {{.Name}}\"\n[\"count\"]\none = \"{{.Count}} wiersz\"\nother = \"{{.Count}} wiersza\"\n"
		}, `pl: count: plural form "few" missing`},
		{"ErrUnreadable", func(m map[string]string) { m["fi"] = "[\"hello\"\n" }, "catalog:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good()
			c.change(m)
			problems := i18ntest.Problems(fsOf(m))
			for _, p := range problems {
				if strings.Contains(p, c.want) {
					return
				}
			}
			t.Errorf("no problem %q among %q", c.want, problems)
		})
	}
}

// A catalog split into <part>.<tag>.toml files is one catalog per language: an id in
// any of a language's files counts, and an id in two of them is a problem.
func TestProblems_SplitFiles(t *testing.T) {
	fsys := fsOf(good())
	for lang, text := range map[string]string{"en": "Admin", "fi": "Ylläpito", "sv": "Administration", "da": "Administration", "tr": "Yönetim"} {
		fsys["locales/admin."+lang+".toml"] = &fstest.MapFile{Data: []byte("[\"admin\"]\nother = \"" + text + "\"\n")}
	}
	if p := i18ntest.Problems(fsys); len(p) != 0 {
		t.Fatalf("a split catalog has problems: %v", p)
	}
	delete(fsys, "locales/admin.tr.toml")
	if p := strings.Join(i18ntest.Problems(fsys), "\n"); !strings.Contains(p, "tr: admin: missing") {
		t.Errorf("an id missing from a part file is not reported: %q", p)
	}
	fsys["locales/again.en.toml"] = &fstest.MapFile{Data: []byte("[\"hello\"]\nother = \"Hi\"\n")}
	if p := strings.Join(i18ntest.Problems(fsys), "\n"); !strings.Contains(p, "en: hello: defined in two files") {
		t.Errorf("an id in two files is not reported: %q", p)
	}
}

func TestProblems_PolishComplete(t *testing.T) {
	m := good()
	m["pl"] = "[\"hello\"]\nother = \"Cześć {{.Name}}\"\n[\"count\"]\none = \"{{.Count}} wiersz\"\nfew = \"{{.Count}} wiersze\"\nmany = \"{{.Count}} wierszy\"\nother = \"{{.Count}} wiersza\"\n"
	if p := i18ntest.Problems(fsOf(m)); len(p) != 0 {
		t.Errorf("a complete Polish catalog has problems: %v", p)
	}
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()           {}
func (r *recorder) Error(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheckCatalog(t *testing.T) {
	r := &recorder{TB: t}
	m := good()
	delete(m, "tr")
	i18ntest.CheckCatalog(r, fsOf(m))
	if len(r.errs) == 0 {
		t.Error("CheckCatalog passed a catalog without Turkish")
	}
}

func TestStrict(t *testing.T) {
	b := i18n.MustBundle(fsOf(good()))
	r := &recorder{TB: t}
	i18ntest.Strict(r, b)
	if got := b.Localizer("fi").T("nope"); got != "nope" {
		t.Errorf("got %q", got)
	}
	if len(r.errs) != 1 {
		t.Errorf("Strict reported %d errors for a missing id, want 1", len(r.errs))
	}
}
