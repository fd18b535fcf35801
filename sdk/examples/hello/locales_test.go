package hello

import (
	"strings"
	"testing"
)

// TestMessages: every message is written in every language, with the same
// placeholders, and none is left in English where the language is not English.
func TestMessages(t *testing.T) {
	en := messages["en"]
	if len(messages) != len(Languages) {
		t.Errorf("%d catalogs for %d languages", len(messages), len(Languages))
	}
	// Words that read the same in a language and in English.
	same := map[string]bool{"da hello.greet.send": true}
	for _, lang := range Languages {
		m := messages[lang]
		for id, text := range en {
			got := m[id]
			if strings.TrimSpace(got) == "" {
				t.Errorf("%s: %s is missing", lang, id)
				continue
			}
			if strings.Count(got, "%d") != strings.Count(text, "%d") || strings.Count(got, "%") != strings.Count(text, "%") {
				t.Errorf("%s: %s %q has other placeholders than %q", lang, id, got, text)
			}
			if lang != "en" && got == text && !same[lang+" "+id] {
				t.Errorf("%s: %s is still English: %q", lang, id, got)
			}
		}
		for id := range m {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: %s is not an English message", lang, id)
			}
		}
	}
}

// TestCatalogFor: a regional tag finds its language; an unknown one gets English.
func TestCatalogFor(t *testing.T) {
	for tag, want := range map[string]string{"fi": "fi", "sv-FI": "sv", "TR": "tr", "da-DK": "da", "de": "en", "": "en"} {
		if got := catalogFor(tag).lang; got != want {
			t.Errorf("catalogFor(%q) = %s, want %s", tag, got, want)
		}
	}
	c := catalogFor("fi")
	for n, want := range map[int]string{0: "Et ole vielä lähettänyt tervehdyksiä.", 1: "Olet lähettänyt 1 tervehdyksen.", 2: "Olet lähettänyt 2 tervehdystä."} {
		if got := c.Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
