// Package i18ntest holds the checks every catalog's tests run: the core's, the web
// kit's and each plugin's.
//
//	func TestCatalog(t *testing.T) { i18ntest.CheckCatalog(t, locales) }
package i18ntest

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/kvarter/kvarter/sdk/i18n"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// CheckCatalog fails t for every problem Problems finds in the catalog of fsys
// (locales/<tag>.toml files).
func CheckCatalog(t testing.TB, fsys fs.FS) {
	t.Helper()
	for _, p := range Problems(fsys) {
		t.Error(p)
	}
}

// Problems lists what is wrong with a catalog, one sentence each: a language of
// i18n.Required without a file; a message id of English missing from another language
// or one only another language has; an empty translation; a plural message without
// every form the language's CLDR cardinal rules reach with a whole number (English
// "one" and "other"; Polish also "few" and "many"); placeholders ({{.Name}}) that differ
// between languages; a template that does not parse.
func Problems(fsys fs.FS) []string {
	files, err := i18n.ReadCatalog(fsys)
	if err != nil {
		return []string{"catalog: " + err.Error()}
	}
	var out []string
	problem := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	byLang := map[string]map[string]*goi18n.Message{}
	tags := map[string]language.Tag{}
	for _, f := range files {
		lang := f.Tag.String()
		tags[lang] = f.Tag
		if byLang[lang] == nil {
			byLang[lang] = map[string]*goi18n.Message{}
		}
		for _, m := range f.Messages {
			if _, twice := byLang[lang][m.ID]; twice {
				problem("%s: %s: defined in two files", lang, m.ID)
			}
			byLang[lang][m.ID] = m
		}
	}
	for _, lang := range i18n.Required {
		if byLang[lang] == nil {
			problem("language %s: no file %s/%s.toml", lang, i18n.Dir, lang)
		}
	}
	en := byLang[i18n.Fallback]
	if en == nil {
		return out
	}
	langs := slices.Sorted(maps.Keys(byLang))

	// An id is plural when any language gives it a form besides "other".
	isPlural := map[string]bool{}
	for _, msgs := range byLang {
		for id, m := range msgs {
			if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" {
				isPlural[id] = true
			}
		}
	}

	for _, id := range slices.Sorted(maps.Keys(en)) {
		want, err := placeholders(en[id])
		if err != nil {
			problem("en: %s: %v", id, err)
			continue
		}
		for _, lang := range langs {
			if lang == i18n.Fallback {
				continue
			}
			if _, ok := byLang[lang][id]; !ok {
				problem("%s: %s: missing (English has it)", lang, id)
				continue
			}
			got, err := placeholders(byLang[lang][id])
			if err != nil {
				problem("%s: %s: %v", lang, id, err)
				continue
			}
			if !slices.Equal(got, want) {
				problem("%s: %s: placeholders %v, English has %v", lang, id, got, want)
			}
		}
	}
	for _, lang := range langs {
		msgs := byLang[lang]
		needed := neededForms(tags[lang])
		for _, id := range slices.Sorted(maps.Keys(msgs)) {
			m := msgs[id]
			if _, ok := en[id]; !ok && lang != i18n.Fallback {
				problem("%s: %s: English does not have it", lang, id)
			}
			forms := formsOf(m)
			if isPlural[id] {
				for _, f := range needed {
					if strings.TrimSpace(forms[f]) == "" {
						problem("%s: %s: plural form %q missing or empty (CLDR: %s needs %v)", lang, id, f, lang, needed)
					}
				}
			} else if strings.TrimSpace(m.Other) == "" {
				problem("%s: %s: empty translation", lang, id)
			}
			for f, text := range forms {
				if text != "" && strings.TrimSpace(text) == "" {
					problem("%s: %s: form %q is only white space", lang, id, f)
				}
			}
		}
	}
	return out
}

func formsOf(m *goi18n.Message) map[string]string {
	return map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other}
}

// neededForms are the CLDR cardinal categories a whole number reaches in the language,
// found by asking x/text's plural rules about the numbers that tell the categories
// apart (every rule CLDR has separates them by n mod 100 and the size of n).
func neededForms(tag language.Tag) []string {
	seen := map[plural.Form]bool{}
	probe := func(n int) { seen[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)] = true }
	for n := range 1000 {
		probe(n)
	}
	for _, n := range []int{10000, 100000, 1000000, 10000000} {
		probe(n)
	}
	names := map[plural.Form]string{plural.Zero: "zero", plural.One: "one", plural.Two: "two", plural.Few: "few", plural.Many: "many", plural.Other: "other"}
	var out []string
	for _, f := range []plural.Form{plural.Zero, plural.One, plural.Two, plural.Few, plural.Many, plural.Other} {
		if seen[f] {
			out = append(out, names[f])
		}
	}
	return out
}

// placeholders are the data fields ({{.Name}}) a message's forms use, sorted.
func placeholders(m *goi18n.Message) ([]string, error) {
	set := map[string]bool{}
	for form, text := range formsOf(m) {
		if text == "" {
			continue
		}
		left, right := m.LeftDelim, m.RightDelim
		if left == "" {
			left = "{{"
		}
		if right == "" {
			right = "}}"
		}
		trees, err := parse.Parse("m", text, left, right, map[string]any{})
		if err != nil {
			return nil, fmt.Errorf("form %q: the template does not parse: %v", form, err)
		}
		for _, tree := range trees {
			walk(tree.Root, set)
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

func walk(n parse.Node, set map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, set)
		}
	case *parse.ActionNode:
		walk(n.Pipe, set)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, set)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, set)
		}
	case *parse.FieldNode:
		set[n.Ident[0]] = true
	case *parse.ChainNode:
		walk(n.Node, set)
	case *parse.IfNode:
		walk(n.Pipe, set)
		walk(n.List, set)
		walk(n.ElseList, set)
	case *parse.RangeNode:
		walk(n.Pipe, set)
		walk(n.List, set)
		walk(n.ElseList, set)
	case *parse.WithNode:
		walk(n.Pipe, set)
		walk(n.List, set)
		walk(n.ElseList, set)
	}
}

// Strict makes every missing message of b fail t (instead of being logged once), for
// the rest of the test. Tests that render pages call it, so a gap in a catalog or a
// typo in an id fails there and not in front of a resident.
func Strict(t testing.TB, b *i18n.Bundle) {
	t.Helper()
	b.OnMissing(func(lang, id string, err error) {
		t.Errorf("i18n: %s: %s: %v", lang, id, err)
	})
	t.Cleanup(func() { b.OnMissing(nil) })
}
