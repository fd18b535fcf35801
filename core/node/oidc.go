package node

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/kvarter/kvarter/core/oidc"
	"github.com/kvarter/kvarter/sdk/seal"
)

// OIDCProviderConfig is one of the city's OpenID Connect identity providers
// (config oidc_providers; docs/operators.md "Signing in with an identity provider").
// The client secret is never in the file: it is read from client_secret_file or the
// environment variable client_secret_env, or there is none (a public client, which
// PKCE protects).
type OIDCProviderConfig struct {
	// ID names the provider in its paths (/sign-in/{id}) and in the accounts' links;
	// changing it unlinks every identity of the provider.
	ID               string   `json:"id"`
	Issuer           string   `json:"issuer"`
	ClientID         string   `json:"client_id"`
	ClientSecretFile string   `json:"client_secret_file,omitempty"`
	ClientSecretEnv  string   `json:"client_secret_env,omitempty"`
	Scopes           []string `json:"scopes,omitempty"`
	// Label is the button's text per language, e.g. {"fi": "Suomi.fi", "en": "Suomi.fi"}.
	Label map[string]string `json:"label"`
}

// DefaultOIDCScopes are asked for when a provider lists none: the subject, the
// address and the name, from which a first sign-in opens an account.
var DefaultOIDCScopes = []string{"openid", "email", "profile"}

var providerIDRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// reservedProviderIDs are paths under /sign-in/ that are pages of their own.
var reservedProviderIDs = map[string]bool{"link": true}

// validateOIDC checks oidc_providers without reading any secret.
func (c Config) validateOIDC() error {
	seen := map[string]bool{}
	for i, p := range c.OIDCProviders {
		key := func(field string) string { return fmt.Sprintf("oidc_providers[%d].%s", i, field) }
		switch {
		case !providerIDRE.MatchString(p.ID) || len(p.ID) > 64 || reservedProviderIDs[p.ID]:
			return &ConfigError{Key: key("id"), Problem: fmt.Sprintf("is %q", p.ID), Expected: `lower-case letters, digits and hyphens, at most 64, such as "suomi-fi" (not "link")`}
		case seen[p.ID]:
			return &ConfigError{Key: key("id"), Problem: fmt.Sprintf("is %q, which an earlier provider has", p.ID), Expected: "a different id for each provider"}
		}
		seen[p.ID] = true
		if u, err := url.Parse(p.Issuer); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
			!(u.Scheme == "https" || (u.Scheme == "http" && loopbackHost(u.Hostname()))) {
			return &ConfigError{Key: key("issuer"), Problem: fmt.Sprintf("is %q", p.Issuer),
				Expected: `the provider's https:// issuer URL exactly as its discovery document names it, such as "https://tunnistus.suomi.fi/oidc" (http:// only on this machine, for tests)`}
		}
		if strings.TrimSpace(p.ClientID) == "" {
			return &ConfigError{Key: key("client_id"), Problem: "is empty", Expected: "the client id the provider gave the city"}
		}
		if p.ClientSecretFile != "" && p.ClientSecretEnv != "" {
			return &ConfigError{Key: key("client_secret_file"), Problem: "is set, and so is client_secret_env", Expected: "one place for the client secret"}
		}
		if len(p.Scopes) > 0 && !contains(p.Scopes, "openid") {
			return &ConfigError{Key: key("scopes"), Problem: fmt.Sprintf("are %q, without openid", p.Scopes), Expected: `a list with "openid", such as ["openid", "email", "profile"]`}
		}
		if len(p.Label) == 0 {
			return &ConfigError{Key: key("label"), Problem: "is empty", Expected: `the button's text per language, such as {"fi": "Suomi.fi", "en": "Suomi.fi"}`}
		}
		for _, lang := range c.City.Languages {
			if strings.TrimSpace(p.Label[lang]) == "" {
				return &ConfigError{Key: key("label." + lang), Problem: "is missing", Expected: "the button's text in each of the city's languages"}
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// relyingParty builds the OpenID Connect relying party of the configured providers,
// reading each client secret; nil when the city configures none. Its cookies are
// sealed with a key derived from the node's key file, so every node opens the
// others'.
func (c Config) relyingParty(keys *seal.Keyring, getenv func(string) string, opts oidc.Options) (*oidc.RelyingParty, error) {
	if len(c.OIDCProviders) == 0 {
		return nil, nil
	}
	providers := make([]oidc.Provider, len(c.OIDCProviders))
	for i, p := range c.OIDCProviders {
		key := func(field string) string { return fmt.Sprintf("oidc_providers[%d].%s", i, field) }
		secret := ""
		switch {
		case p.ClientSecretEnv != "":
			if secret = getenv(p.ClientSecretEnv); secret == "" {
				return nil, &ConfigError{Key: key("client_secret_env"), Problem: fmt.Sprintf("names %s, which is not set", p.ClientSecretEnv), Expected: "the name of an environment variable holding the client secret"}
			}
		case p.ClientSecretFile != "":
			b, err := os.ReadFile(p.ClientSecretFile)
			if err != nil || strings.TrimSpace(string(b)) == "" {
				return nil, &ConfigError{Key: key("client_secret_file"), Problem: fmt.Sprintf("%s cannot be read or is empty", p.ClientSecretFile), Expected: "a readable file holding the client secret"}
			}
			secret = strings.TrimSpace(string(b))
		}
		scopes := p.Scopes
		if len(scopes) == 0 {
			scopes = DefaultOIDCScopes
		}
		providers[i] = oidc.Provider{ID: p.ID, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: secret, Scopes: scopes, Labels: p.Label}
	}
	stateKey, err := keys.Derive("oidc-state")
	if err != nil {
		return nil, err
	}
	return oidc.New(providers, stateKey, opts)
}
