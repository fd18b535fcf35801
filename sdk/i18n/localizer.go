package i18n

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// Localizer writes messages, dates, numbers and money in one language. It is cheap to
// make (one per request, or one per language kept for the process) and safe for
// concurrent use.
type Localizer struct {
	b     *Bundle
	chain []string // the languages to look in, first the Localizer's own
	zone  *time.Location
	fmt   *formats
}

// Lang is the language the Localizer writes in: the requested one if the bundle has it,
// else the first fallback it has. It belongs in <html lang> and lang attributes.
func (l *Localizer) Lang() string { return l.chain[0] }

// Bundle is the bundle the Localizer reads from.
func (l *Localizer) Bundle() *Bundle { return l.b }

// In is a copy of l that shows dates and times in zone (the city's time zone); without
// it they are shown in UTC.
func (l *Localizer) In(zone *time.Location) *Localizer {
	c := *l
	c.zone = zone
	return &c
}

// Zone is the time zone dates and times are shown in.
func (l *Localizer) Zone() *time.Location {
	if l.zone == nil {
		return time.UTC
	}
	return l.zone
}

// T is the message id, its {{.Placeholders}} filled from data (the maps are merged, a
// later key winning). A message missing from the Localizer's language is shown in a
// fallback language and reported (see Bundle.OnMissing); one no language has shows as
// its id, never as nothing. The result is plain text: html/template escapes it.
func (l *Localizer) T(id string, data ...map[string]any) string {
	return l.localize(id, nil, merge(nil, data))
}

// N is the plural message id for count: the form count takes in the Localizer's
// language (CLDR rules), with {{.Count}} set to count written as a number of that
// language ("1 234" in Finnish) unless data sets Count itself.
func (l *Localizer) N(id string, count int, data ...map[string]any) string {
	d := merge(map[string]any{"Count": l.Number(int64(count))}, data)
	return l.localize(id, count, d)
}

// Has reports whether the Localizer's language or a fallback has the message id, for
// optional messages such as a form's own wording of a rule.
func (l *Localizer) Has(id string) bool {
	for _, lang := range l.chain {
		if l.b.HasMessage(lang, id) {
			return true
		}
	}
	return false
}

func merge(into map[string]any, data []map[string]any) map[string]any {
	for _, d := range data {
		if into == nil {
			into = make(map[string]any, len(d))
		}
		maps.Copy(into, d)
	}
	return into
}

func (l *Localizer) localize(id string, count any, data map[string]any) string {
	if count != nil || data != nil {
		s, _ := l.lookup(id, count, data)
		return s
	}
	// A message without data is the same every time it is found in the Localizer's
	// own language: a page shows dozens, and go-i18n matches the language and runs
	// the message's template for each. One shown from a fallback is looked up (and
	// reported) every time.
	key := plainKey{lang: l.chain[0], id: id}
	if s, ok := l.b.plain.Load(key); ok {
		return s.(string)
	}
	s, own := l.lookup(id, nil, nil)
	if own {
		// The key outlives the call: an id read from a request (a flash cookie's) may
		// share memory that the server reuses for the next request.
		l.b.plain.Store(plainKey{lang: strings.Clone(key.lang), id: strings.Clone(id)}, s)
	}
	return s
}

// plainKey names a message without data in one language.
type plainKey struct{ lang, id string }

// lookup is the message id in the first language of the chain that has it; own
// reports it came from the Localizer's own language, with nothing missing.
func (l *Localizer) lookup(id string, count any, data map[string]any) (s string, own bool) {
	cfg := &goi18n.LocalizeConfig{MessageID: id, PluralCount: count}
	if data != nil {
		cfg.TemplateData = data
	}
	var first error
	for i, lang := range l.chain {
		if !l.b.HasMessage(lang, id) {
			if i == 0 {
				first = fmt.Errorf("message %q is not in the %s catalog", id, lang)
			}
			continue
		}
		s, err := l.b.loc[lang].Localize(cfg)
		if s == "" {
			if err == nil {
				err = errors.New("the message is empty")
			}
			if i == 0 {
				first = fmt.Errorf("message %q in %s: %w", id, lang, err)
			}
			continue
		}
		if err != nil && first == nil {
			// A plural form the language needs is missing: go-i18n showed the
			// "other" form of the same language, better than another language.
			first = fmt.Errorf("message %q in %s: %w", id, lang, err)
		}
		if first != nil {
			l.b.reportMissing(l.chain[0], id, first)
		}
		return s, first == nil && i == 0
	}
	if first == nil {
		first = fmt.Errorf("message %q is in no catalog", id)
	}
	l.b.reportMissing(l.chain[0], id, first)
	return id, false
}
