package node_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/node"
)

// TestLoadConfig_OIDCProviders: each mistake in oidc_providers is a ConfigError that
// names the key and says what is expected, before the node starts.
func TestLoadConfig_OIDCProviders(t *testing.T) {
	const ok = `{"id": "suomi-fi", "issuer": "https://tunnistus.example.fi/oidc", "client_id": "kvarter", "client_secret_env": "SUOMIFI_SECRET", "label": {"fi": "Suomi.fi", "en": "Suomi.fi"}}`
	t.Run("OK", func(t *testing.T) {
		cfg, err := node.LoadConfig(writeConfig(t, `{"city": {"languages": ["fi", "en"]}, "oidc_providers": [`+ok+`]}`), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if p := cfg.OIDCProviders[0]; p.ID != "suomi-fi" || p.Label["fi"] != "Suomi.fi" {
			t.Fatalf("provider = %+v", p)
		}
	})
	for _, tc := range []struct {
		name, provider string
		want           []string
	}{
		{"BadID", `{"id": "Suomi FI", "issuer": "https://x.example", "client_id": "k", "label": {"en": "X"}}`, []string{"oidc_providers[0].id", `"Suomi FI"`, "lower-case letters"}},
		{"ReservedID", `{"id": "link", "issuer": "https://x.example", "client_id": "k", "label": {"en": "X"}}`, []string{"oidc_providers[0].id", `not "link"`}},
		{"HTTPIssuer", `{"id": "x", "issuer": "http://idp.example", "client_id": "k", "label": {"en": "X"}}`, []string{"oidc_providers[0].issuer", "https://"}},
		{"NoClientID", `{"id": "x", "issuer": "https://x.example", "label": {"en": "X"}}`, []string{"oidc_providers[0].client_id", "is empty"}},
		{"TwoSecrets", `{"id": "x", "issuer": "https://x.example", "client_id": "k", "client_secret_env": "A", "client_secret_file": "/f", "label": {"en": "X"}}`, []string{"client_secret_file", "one place"}},
		{"NoOpenID", `{"id": "x", "issuer": "https://x.example", "client_id": "k", "scopes": ["email"], "label": {"en": "X"}}`, []string{"oidc_providers[0].scopes", "openid"}},
		{"LabelMissingLanguage", `{"id": "x", "issuer": "https://x.example", "client_id": "k", "label": {"fi": "X"}}`, []string{"oidc_providers[0].label.en", "each of the city's languages"}},
		{"SecretInline", `{"id": "x", "issuer": "https://x.example", "client_id": "k", "client_secret": "hunter2", "label": {"en": "X"}}`, []string{"client_secret is not a known key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := node.LoadConfig(writeConfig(t, `{"city": {"languages": ["fi", "en"]}, "oidc_providers": [`+ok+`, `+strings.Replace(tc.provider, `"id"`, `"id"`, 1)+`]}`), noEnv)
			var ce *node.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConfigError", err)
			}
			msg := strings.ReplaceAll(err.Error(), "oidc_providers[1]", "oidc_providers[0]")
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("%q repeats the secret", msg)
			}
		})
	}
	t.Run("Twice", func(t *testing.T) {
		_, err := node.LoadConfig(writeConfig(t, `{"city": {"languages": ["fi", "en"]}, "oidc_providers": [`+ok+`, `+ok+`]}`), noEnv)
		if err == nil || !strings.Contains(err.Error(), "oidc_providers[1].id") || !strings.Contains(err.Error(), "an earlier provider") {
			t.Fatalf("err = %v", err)
		}
	})
}
