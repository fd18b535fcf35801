package node

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kvarter/kvarter/core"
)

var (
	// claimProviderRE is what an identity provider's id in residency_claims looks like:
	// the same short, lower-case name the provider has in the OIDC configuration.
	claimProviderRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	// claimPathRE is a claim's name, or a dotted path into an object claim.
	claimPathRE = regexp.MustCompile(`^[A-Za-z0-9_:-]{1,100}(\.[A-Za-z0-9_:-]{1,100}){0,4}$`)
)

// validateClaims checks residency_claims and birth_date_claim. The neighbourhoods a
// rule names are data, not config, and are checked against the database by the node
// (warnUnknownClaimNeighbourhoods) and at each sign-in.
func (c Config) validateClaims() error {
	bad := func(key, problem, expected string) error {
		return &ConfigError{Key: key, Problem: problem, Expected: expected}
	}
	if c.BirthDateClaim != "" && c.BirthDateClaim != core.NoBirthDateClaim && !claimPathRE.MatchString(c.BirthDateClaim) {
		return bad("birth_date_claim", fmt.Sprintf("is %q", c.BirthDateClaim), `a claim's name such as "birthdate" (the default), or "none"`)
	}
	providers := make([]string, 0, len(c.ResidencyClaims))
	for p := range c.ResidencyClaims {
		providers = append(providers, p)
	}
	sort.Strings(providers) // the first problem is the same on every start
	for _, p := range providers {
		r, key := c.ResidencyClaims[p], "residency_claims."+p
		if !claimProviderRE.MatchString(p) {
			return bad("residency_claims", fmt.Sprintf("names the provider %q", p), "the id of an identity provider: lower-case letters, digits, _ and -, at most 40")
		}
		if !claimPathRE.MatchString(r.Claim) {
			what := "is missing"
			if r.Claim != "" {
				what = fmt.Sprintf("is %q", r.Claim)
			}
			return bad(key+".claim", what, `the claim's name, or a path into an object claim, such as "municipality_code" or "address.postal_code"`)
		}
		if len(r.Values) == 0 && len(r.Prefixes) == 0 {
			return bad(key, "maps no claim value", `"values" (exact values) or "prefixes", each to a neighbourhood's slug or id, such as {"prefixes": {"001": "kluuvi"}}`)
		}
		for _, m := range []struct {
			name    string
			entries map[string]string
		}{{"values", r.Values}, {"prefixes", r.Prefixes}} {
			for v, nbh := range m.entries {
				if strings.TrimSpace(v) != v || v == "" || len(v) > core.MaxClaimValue {
					return bad(fmt.Sprintf("%s.%s", key, m.name), fmt.Sprintf("holds the value %q", v),
						fmt.Sprintf("claim values of 1 to %d characters without surrounding spaces (the claim is compared trimmed)", core.MaxClaimValue))
				}
				if nbh == "" || len(nbh) > 64 || strings.ContainsFunc(nbh, func(r rune) bool { return r <= ' ' }) {
					return bad(fmt.Sprintf("%s.%s.%s", key, m.name, v), fmt.Sprintf("is %q", nbh), "a neighbourhood's slug or id")
				}
			}
		}
		if r.OnChange != "" && !slices.Contains(core.ClaimChangeRules, r.OnChange) {
			return bad(key+".on_change", fmt.Sprintf("is %q", r.OnChange), `"move" (the default), "end" or "keep"`)
		}
	}
	return nil
}

// checkClaimProviders refuses a residency rule for a provider oidc_providers does not
// list: no one signs in with it, so the rule would never apply, and a typo in its id
// would leave a city believing residency is verified when it never is.
func (c Config) checkClaimProviders() error {
	for p := range c.ResidencyClaims {
		if !slices.ContainsFunc(c.OIDCProviders, func(op OIDCProviderConfig) bool { return op.ID == p }) {
			return &ConfigError{Key: "residency_claims." + p, Problem: "names a provider that oidc_providers does not list",
				Expected: "the id of one of oidc_providers"}
		}
	}
	return nil
}
