package sdk

import (
	"embed"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/kvarter/kvarter/sdk/i18n"
)

// errorCatalog holds the plain words of every error code and common rule in the five
// languages (locales/errors.<tag>.toml), for answers to people who read another
// language than English (DESIGN.md §7: messages are in the requester's language).
//
//go:embed locales/*.toml
var errorCatalog embed.FS

// ErrorCatalog is the catalog InLanguage reads, for the catalog checks of tests.
var ErrorCatalog = errorCatalog

var errorBundle = sync.OnceValue(func() *i18n.Bundle { return i18n.MustBundle(errorCatalog) })

// ruleWords maps the rules that share their words to the catalog's rule.
var ruleWords = map[string]string{
	RuleNUL: "characters", "utf8": "characters", "no_control_characters": "characters",
	RuleRange: "range", RuleTimeRange: "range", "max_items": "range",
}

// InLanguage is e with its message in lang, a BCP 47 tag. English (and no language)
// keeps the message as the code wrote it, which is the most precise; another language
// gets the catalog's words for the code and, for invalid input, for the field and the
// rule broken — a precise English sentence is better than none, but a resident who reads
// Finnish is better served by a plain Finnish one. Code, Fields and RetryAfterSeconds
// are kept: clients act on them, not on the words.
func (e *Error) InLanguage(lang string) *Error {
	base, _, _ := strings.Cut(lang, "-")
	if base == "" || base == i18n.Fallback || base == i18n.Pseudo {
		return e
	}
	b := errorBundle()
	if !b.Has(base) {
		return e
	}
	loc := b.Localizer(base)
	out := *e
	code, fields := e.code(), e.fieldNames()
	switch {
	case code == CodeInvalid && len(fields) == 1:
		field := fields[0]
		rule := e.Fields["rule"]
		if w, ok := ruleWords[rule]; ok {
			rule = w
		}
		id := "sdk.error.rule." + rule
		if !loc.Has(id) {
			id = "sdk.error.rule.other"
		}
		out.Message = loc.T(id, map[string]any{"Field": field})
	case code == CodeInvalid && len(fields) > 1:
		out.Message = loc.T("sdk.error.invalid", map[string]any{"Fields": strings.Join(fields, ", ")})
	case code == CodeInvalid:
		// A refusal that names no field: a wrong password has words of its own.
		out.Message = loc.T("sdk.error.invalid_value")
		if rule := e.Fields["rule"]; rule == "password_strength" || rule == "wrong_password" {
			out.Message = loc.T("sdk.error.rule." + rule)
		}
	case loc.Has("sdk.error." + code):
		out.Message = loc.T("sdk.error." + code)
	}
	return &out
}

// fieldNames are the fields at fault, sorted; "rule" is not a field.
func (e *Error) fieldNames() []string {
	names := slices.Sorted(maps.Keys(e.Fields))
	return slices.DeleteFunc(names, func(n string) bool { return n == "rule" })
}
