package node

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/oidc"
	"github.com/kvarter/kvarter/sdk/seal"
)

// TestConfig_relyingParty: the client secret comes from the environment or a file,
// and one that is missing stops the start with a message that names where it looked
// and never the secret.
func TestConfig_relyingParty(t *testing.T) {
	keys, err := seal.NewKeyring(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	provider := OIDCProviderConfig{ID: "city", Issuer: "https://idp.example", ClientID: "k", Label: map[string]string{"en": "City"}}
	env := func(name string) string {
		if name == "CITY_SECRET" {
			return "from-env"
		}
		return ""
	}
	t.Run("None", func(t *testing.T) {
		rp, err := Config{}.relyingParty(keys, env, oidc.Options{})
		if rp != nil || err != nil {
			t.Fatalf("%v, %v", rp, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		a, b := provider, provider
		a.ClientSecretEnv = "CITY_SECRET"
		b.ID, b.ClientSecretFile = "other", file
		rp, err := Config{OIDCProviders: []OIDCProviderConfig{a, b}}.relyingParty(keys, env, oidc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ps := rp.Providers()
		if ps[0].ClientSecret != "from-env" || ps[1].ClientSecret != "from-file" || strings.Join(ps[0].Scopes, " ") != "openid email profile" {
			t.Fatalf("providers = %+v", ps)
		}
	})
	for name, p := range map[string]OIDCProviderConfig{
		"ErrEnvUnset":   {ClientSecretEnv: "NOT_SET"},
		"ErrFileAbsent": {ClientSecretFile: filepath.Join(t.TempDir(), "absent")},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := provider
			cfg.ClientSecretEnv, cfg.ClientSecretFile = p.ClientSecretEnv, p.ClientSecretFile
			_, err := Config{OIDCProviders: []OIDCProviderConfig{cfg}}.relyingParty(keys, env, oidc.Options{})
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.HasPrefix(ce.Key, "oidc_providers[0].client_secret_") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
