package i18n

import (
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
)

// Bounds on what Negotiate reads of a header a client controls: a real Accept-Language
// is a few dozen bytes with a handful of entries.
const (
	maxAcceptLanguage = 4096
	maxAcceptEntries  = 32
	maxTag            = 64
)

// Negotiate picks the language to answer in, among the city's languages (city, the
// default first): a signed-in person's profile language, else the language switcher's
// cookie, else the best entry of the Accept-Language header (highest q first, in header
// order among equals; a regional tag counts as its language, so "sv-FI" picks "sv"; "*"
// picks the default), else the city's default. A value that names no city language, or
// is not a language tag at all, is skipped. The answer is always one of city, as
// written there, or "en" when city is empty.
func Negotiate(profile, cookie, acceptLanguage string, city []string) string {
	if len(city) == 0 {
		return Fallback
	}
	for _, v := range []string{profile, cookie} {
		if c, ok := match(v, city); ok {
			return c
		}
	}
	for _, tag := range acceptOrder(acceptLanguage) {
		if tag == "*" {
			return city[0]
		}
		if c, ok := match(tag, city); ok {
			return c
		}
	}
	return city[0]
}

// match finds the city language that tag names: the same tag, or the same base
// language.
func match(tag string, city []string) (string, bool) {
	tag = strings.TrimSpace(tag)
	if tag == "" || len(tag) > maxTag {
		return "", false
	}
	if i := slices.IndexFunc(city, func(c string) bool { return strings.EqualFold(c, tag) }); i >= 0 {
		// A city language written as it is: the profile's and the cookie's always
		// are, and parsing the tag cost most of a page's negotiation.
		return city[i], true
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", false
	}
	if i := slices.IndexFunc(city, func(c string) bool { return strings.EqualFold(c, t.String()) }); i >= 0 {
		return city[i], true
	}
	base, conf := t.Base()
	if conf == language.No {
		return "", false
	}
	for _, c := range city {
		ct, err := language.Parse(c)
		if err != nil {
			continue
		}
		if cb, _ := ct.Base(); cb == base {
			return c, true
		}
	}
	return "", false
}

// acceptOrder is the tags of an Accept-Language header, most wanted first; entries with
// q=0, a q that is not a number from 0 to 1, or a malformed tag are dropped.
func acceptOrder(header string) []string {
	if len(header) > maxAcceptLanguage {
		header = header[:maxAcceptLanguage]
	}
	type entry struct {
		tag string
		q   float64
	}
	var entries []entry
	for part := range strings.SplitSeq(header, ",") {
		if len(entries) == maxAcceptEntries {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		if tag == "" || len(tag) > maxTag {
			continue
		}
		q, ok := 1.0, true
		for p := range strings.SplitSeq(params, ";") {
			k, v, found := strings.Cut(strings.TrimSpace(p), "=")
			if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 || f != f {
				ok = false
				break
			}
			q = f
		}
		if !ok || q == 0 {
			continue
		}
		entries = append(entries, entry{tag, q})
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.tag
	}
	return out
}
