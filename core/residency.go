package core

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Residency and age from identity claims (issue 22): a city reads from what its
// identity provider says about a person (a municipality code, a postal code) which
// neighbourhood they live in, and from a birth-date claim how old they are. The
// ClaimsService (claims.go) applies both after each sign-in through the provider.

// What a later sign-in does when the provider's claim maps to another neighbourhood
// than before, or to none.
const (
	// ClaimChangeMove ends the membership the earlier claim verified and verifies the
	// new neighbourhood, if any: the city trusts the provider's register of addresses.
	ClaimChangeMove = "move"
	// ClaimChangeEnd ends the membership the earlier claim verified and verifies
	// nothing new: a move goes through a coordinator, as a request from the person.
	ClaimChangeEnd = "end"
	// ClaimChangeKeep changes nothing once a claim verified someone: a claim only ever
	// makes the first verification, and coordinators handle moves.
	ClaimChangeKeep = "keep"
)

// ClaimChangeRules lists the values of ResidencyRule.OnChange.
var ClaimChangeRules = []string{ClaimChangeMove, ClaimChangeEnd, ClaimChangeKeep}

// DefaultBirthDateClaim is the OpenID Connect standard claim of a birth date.
const DefaultBirthDateClaim = "birthdate"

// NoBirthDateClaim, as the birth-date claim's name, reads no birth date at all.
const NoBirthDateClaim = "none"

// MaxClaimValue bounds the claim values a rule looks at: a postal or municipality code
// is a few characters, and anything longer is not one.
const MaxClaimValue = 200

// ResidencyRule is how a city reads residency from one identity provider's claim.
type ResidencyRule struct {
	// Claim is the claim's name, or a dotted path into an object claim:
	// "municipality_code", or "address.postal_code" for OpenID Connect's address.
	Claim string `json:"claim"`
	// Values maps exact claim values to a neighbourhood's id or slug.
	Values map[string]string `json:"values,omitempty"`
	// Prefixes maps the start of a claim value to a neighbourhood's id or slug. The
	// longest matching prefix wins, and an exact value in Values wins over any prefix,
	// so a city can map "001" to one neighbourhood and "00170" to its neighbour.
	Prefixes map[string]string `json:"prefixes,omitempty"`
	// OnChange is ClaimChangeMove (the default when empty), ClaimChangeEnd or
	// ClaimChangeKeep.
	OnChange string `json:"on_change,omitempty"`
}

// ChangeRule is OnChange with its default filled in.
func (r ResidencyRule) ChangeRule() string {
	if r.OnChange == "" {
		return ClaimChangeMove
	}
	return r.OnChange
}

// Neighbourhood returns the neighbourhood id or slug that claims map to under the
// rule, or "" when the claim is missing, is not a short text or number, or maps to
// none.
func (r ResidencyRule) Neighbourhood(claims map[string]any) string {
	v, ok := ClaimText(claims, r.Claim)
	if !ok {
		return ""
	}
	if n, ok := r.Values[v]; ok {
		return n
	}
	best, bestLen := "", -1
	for prefix, n := range r.Prefixes {
		if len(prefix) > bestLen && strings.HasPrefix(v, prefix) {
			best, bestLen = n, len(prefix)
		}
	}
	return best
}

// ClaimText finds the claim at path ("a.b" walks into object claims) and returns it as
// text: a string with its surrounding spaces trimmed, or a whole number in decimal.
// Anything else — missing, an object, a fraction, a string longer than MaxClaimValue
// or holding control characters — is not a value a rule can map.
func ClaimText(claims map[string]any, path string) (string, bool) {
	var v any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[part]; !ok {
			return "", false
		}
	}
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return "", false
		}
		s = strconv.FormatInt(int64(x), 10)
	case json.Number:
		if _, err := strconv.ParseInt(x.String(), 10, 64); err != nil {
			return "", false
		}
		s = x.String()
	default:
		return "", false
	}
	if s == "" || len(s) > MaxClaimValue || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", false
	}
	return s, true
}

// BirthDateLayout is how a birth date is written in claims (OpenID Connect Core §5.1)
// and stored.
const BirthDateLayout = time.DateOnly

// ParseBirthDate reads a full birth date from a claim's value: "YYYY-MM-DD", a real
// day, not after today and not before 1900. OpenID Connect also allows a year alone
// or the year 0000 for "not disclosed"; neither gives an age, so neither is a birth
// date here.
func ParseBirthDate(v any, today time.Time) (string, bool) {
	s, ok := v.(string)
	if !ok || len(s) != len(BirthDateLayout) {
		return "", false
	}
	d, err := time.Parse(BirthDateLayout, s)
	if err != nil || d.Year() < 1900 || d.Format(BirthDateLayout) > today.Format(BirthDateLayout) {
		return "", false
	}
	return s, true
}

// AgeOn is the age in whole years on the calendar day of today (in today's location)
// of a person born on birth ("YYYY-MM-DD"); false when birth is not such a date.
// Someone born on 29 February grows a year older on 1 March in other years.
func AgeOn(birth string, today time.Time) (int, bool) {
	b, err := time.Parse(BirthDateLayout, birth)
	if err != nil {
		return 0, false
	}
	y, m, d := today.Date()
	age := y - b.Year()
	if m < b.Month() || m == b.Month() && d < b.Day() {
		age--
	}
	return max(age, 0), true
}
