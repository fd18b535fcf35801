package node_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/node"
)

// noEnv is an environment with nothing set.
func noEnv(string) string { return "" }

// writeConfig writes text to a config file in a fresh folder and returns its path.
func writeConfig(tb testing.TB, text string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "kvarter.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// goLeaks are the words of encoding/json's own messages, which name Go types instead
// of the operator's keys.
var goLeaks = []string{"json:", "Go struct", "Go value", "node.", "unmarshal", "[]node", "map[string]"}

func TestLoadConfig_OK(t *testing.T) {
	path := writeConfig(t, `{
  "city": {"name": "Espoo", "time_zone": "Europe/Helsinki", "languages": ["fi", "sv"]},
  "listen": "127.0.0.1:9000",
  "database_max_connections": 30,
  "policy_poll_interval": "1s",
  "auto_migrate": false,
  "plugins": [{"name": "parks", "settings": {"max_days": "30"}}, {"name": "budgeting"}],
  "required_plugins": ["budgeting"],
  "plugin_role_prefix": "espoo_",
  "oidc_providers": [{"id": "suomifi", "issuer": "https://tunnistus.example.fi/oidc", "client_id": "kvarter", "client_secret_env": "SUOMIFI_SECRET", "label": {"fi": "Suomi.fi", "sv": "Suomi.fi"}}],
  "residency_claims": {"suomifi": {"claim": "address.postal_code", "prefixes": {"001": "kluuvi"}, "values": {"00170": "kruununhaka"}, "on_change": "end"}},
  "birth_date_claim": "none"
}`)
	cfg, err := node.LoadConfig(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.City.Name != "Espoo" || cfg.DatabaseMaxConnections != 30 || len(cfg.Plugins) != 2 || *cfg.AutoMigrate ||
		cfg.RequiredPlugins[0] != "budgeting" || cfg.PluginRolePrefix != "espoo_" || cfg.Plugins[0].Settings["max_days"] != "30" ||
		cfg.ResidencyClaims["suomifi"].Prefixes["001"] != "kluuvi" || cfg.ResidencyClaims["suomifi"].ChangeRule() != "end" || cfg.BirthDateClaim != "none" {
		t.Fatalf("config %+v", cfg)
	}
}

// TestLoadConfig_Errors: every mistake is reported with the key, the file and line,
// and what is expected, never in encoding/json's words about Go types.
func TestLoadConfig_Errors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // all in the message
	}{
		{"PluginsNotAList", `{
  "listen": "127.0.0.1:8080",
  "plugins": "parks"
}`, []string{"line 3, column 14", "plugins", `the string "parks"`, `expected a list of plugins such as [{"name": "parks"}`}},
		{"UnknownKeyWithSuggestion", `{"city": {"name": "X"},
 "listn": ":8080"}`, []string{"line 2, column 2", "listn is not a known key", `did you mean "listen"?`, "expected one of"}},
		{"UnknownNestedKey", `{"plugins": [{"name": "parks"}, {"name": "volunteers", "setings": {}}]}`,
			[]string{"line 1, column 56", `plugins[1].setings is not a known key`, `did you mean "settings"?`}},
		{"WrongTypeInList", `{"city": {"languages": ["fi", 7]}}`, []string{"city.languages[1]", "the number 7", "a string"}},
		{"NumberAsString", `{"database_max_connections": "40"}`, []string{"database_max_connections", `the string "40"`, "a whole number"}},
		{"NotWhole", `{"database_max_connections": 4.5}`, []string{"database_max_connections", "4.5", "a whole number"}},
		{"BoolAsString", `{"auto_migrate": "yes"}`, []string{"auto_migrate", "true or false"}},
		{"BadDuration", "{\n\n  \"policy_poll_interval\": \"soon\"}", []string{"line 3, column 27", "policy_poll_interval", `a duration such as "500ms"`}},
		{"DurationAsNumber", `{"policy_poll_interval": 200}`, []string{"policy_poll_interval", "the number 200", "a duration"}},
		{"SyntaxMissingComma", "{\n  \"listen\": \":8080\"\n  \"log_level\": \"debug\"\n}", []string{"line 3, column 3", "not valid JSON", "commas between items"}},
		{"TrailingComma", `{"listen": ":8080",}`, []string{"line 1, column 20", "not valid JSON"}},
		{"Truncated", `{"city": {"name": "X"`, []string{"ends in the middle of a value"}},
		{"NotAnObject", `["listen"]`, []string{"line 1, column 1", "holds a list", "a JSON object"}},
		{"Empty", ``, []string{"is empty", "a JSON object"}},
		{"Twice", `{"listen": ":1", "listen": ":2"}`, []string{"listen is set twice"}},
		{"MoreAfter", `{"listen": ":1"} {}`, []string{"line 1, column 18", "more after the configuration object"}},
		{"TimeZone", "{\"city\": {\n  \"time_zone\": \"Mars/Olympus\"}}", []string{"line 2, column 16", "city.time_zone", `"Mars/Olympus"`, "an IANA time zone"}},
		{"Language", `{"city": {"languages": ["fi", "SV"]}}`, []string{"line 1, column 31", "city.languages[1]", `"SV"`, "lower-case language code"}},
		{"LogLevel", `{"log_level": "loud"}`, []string{"line 1, column 15", "log_level", "debug, info, warn or error"}},
		{"PluginSHA", `{"plugins": [{"name": "ext", "path": "/opt/ext", "sha256": "abc"}]}`, []string{"line 1, column 14", "plugins[0]", "sha256", "64 hex digits"}},
		{"PluginTwice", `{"plugins": [{"name": "parks"}, {"name": "parks"}]}`, []string{"plugins", "listed twice"}},
		{"RequiredUnknown", `{"plugins": [{"name": "parks"}], "required_plugins": ["budgeting"]}`, []string{"required_plugins[0]", `"budgeting"`, "a plugin listed in plugins"}},
		{"RolePrefix", `{"plugin_role_prefix": "staging prod"}`, []string{"plugin_role_prefix", "letters, digits, _ and -"}},
		{"NegativeBudget", `{"database_max_connections": -1}`, []string{"database_max_connections", "a whole number of connections"}},
		// Residency from claims (issue 22).
		{"ClaimProviderNotListed", `{"residency_claims": {"suomifi": {"claim": "zip", "values": {"00100": "kluuvi"}}}}`,
			[]string{"residency_claims.suomifi", "oidc_providers does not list"}},
		{"ClaimsNotAnObject", `{"residency_claims": ["suomifi"]}`, []string{"residency_claims", "a list", `an object by identity provider such as {"suomifi"`}},
		{"ClaimMissing", "{\"residency_claims\": {\"suomifi\": {\n  \"prefixes\": {\"001\": \"kluuvi\"}}}}", []string{"residency_claims.suomifi.claim is missing", `"address.postal_code"`}},
		{"ClaimUnknownKey", `{"residency_claims": {"suomifi": {"claim": "x", "prefix": {}}}}`, []string{"residency_claims.suomifi.prefix is not a known key", `did you mean "prefixes"?`}},
		{"ClaimMapsNothing", `{"residency_claims": {"suomifi": {"claim": "address.postal_code"}}}`, []string{"residency_claims.suomifi maps no claim value", `"values"`}},
		{"ClaimPath", `{"residency_claims": {"suomifi": {"claim": "address..postal_code", "values": {"00100": "kluuvi"}}}}`, []string{"line 1, column 44", "residency_claims.suomifi.claim", `"address..postal_code"`}},
		{"ClaimValueSpaces", `{"residency_claims": {"suomifi": {"claim": "zip", "prefixes": {" 001": "kluuvi"}}}}`, []string{"residency_claims.suomifi.prefixes", `holds the value " 001"`, "without surrounding spaces"}},
		{"ClaimNeighbourhoodEmpty", `{"residency_claims": {"suomifi": {"claim": "zip", "values": {"00100": ""}}}}`, []string{"residency_claims.suomifi.values.00100", "a neighbourhood's slug or id"}},
		{"ClaimNeighbourhoodNotString", `{"residency_claims": {"suomifi": {"claim": "zip", "values": {"00100": 7}}}}`, []string{"residency_claims.suomifi.values.00100", "the number 7"}},
		{"ClaimOnChange", `{"residency_claims": {"suomifi": {"claim": "zip", "values": {"00100": "kluuvi"}, "on_change": "moves"}}}`, []string{"residency_claims.suomifi.on_change", `"moves"`, `"move" (the default), "end" or "keep"`}},
		{"ClaimProvider", `{"residency_claims": {"Suomi.fi": {"claim": "zip", "values": {"00100": "kluuvi"}}}}`, []string{"residency_claims", `names the provider "Suomi.fi"`, "lower-case letters"}},
		{"BirthDateClaim", `{"birth_date_claim": "birth date"}`, []string{"birth_date_claim", `"birth date"`, `"birthdate" (the default), or "none"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.text)
			_, err := node.LoadConfig(path, noEnv)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			var ce *node.ConfigError
			if !errors.As(err, &ce) || !strings.HasPrefix(msg, "config "+path) {
				t.Errorf("%q: not a ConfigError naming the file", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			for _, leak := range goLeaks {
				if strings.Contains(strings.TrimPrefix(msg, "config "+path), leak) {
					t.Errorf("%q speaks Go (%q)", msg, leak)
				}
			}
		})
	}
}

// TestLoadConfig_Env: a bad value from the environment names the variable, not the
// file's line.
func TestLoadConfig_Env(t *testing.T) {
	path := writeConfig(t, `{"log_level": "info"}`)
	_, err := node.LoadConfig(path, func(k string) string {
		if k == "KVARTER_LOG_LEVEL" {
			return "chatty"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "config (environment variable KVARTER_LOG_LEVEL): log_level is \"chatty\"; expected debug") {
		t.Fatalf("err = %v", err)
	}
	_, err = node.LoadConfig(filepath.Join(t.TempDir(), "missing.json"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "missing.json: cannot be read: no such file") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestConnectionShares(t *testing.T) {
	for _, tc := range []struct {
		budget, plugins         int
		wantCore, wantPerPlugin int
		wantErr                 bool
	}{
		{0, 4, 20, 5, false}, // the default budget with the four built-ins
		{40, 4, 20, 5, false},
		{40, 0, 40, 0, false},
		{100, 4, 52, 12, false},
		{16, 4, 8, 2, false}, // the smallest budget four plugins take
		{15, 4, 0, 0, true},
		{16, 2, 8, 4, false},
	} {
		core, per, err := node.ConnectionShares(tc.budget, tc.plugins)
		if (err != nil) != tc.wantErr || core != tc.wantCore || per != tc.wantPerPlugin {
			t.Errorf("ConnectionShares(%d, %d) = %d, %d, %v; want %d, %d, error %v", tc.budget, tc.plugins, core, per, err, tc.wantCore, tc.wantPerPlugin, tc.wantErr)
		}
		if err == nil && core+tc.plugins*per > max(tc.budget, node.DefaultDatabaseMaxConnections*btoi(tc.budget == 0)) {
			t.Errorf("ConnectionShares(%d, %d) overspends: %d + %d×%d", tc.budget, tc.plugins, core, tc.plugins, per)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FuzzLoadConfig: whatever the file holds, loading it does not panic, and a refusal
// is a ConfigError naming the file, in the operator's words, pointing at a line the
// file has.
func FuzzLoadConfig(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"city": {"name": "Espoo", "time_zone": "Europe/Helsinki", "languages": ["fi", "sv"]}, "listen": ":8080"}`,
		`{"plugins": [{"name": "parks", "settings": {"a": "b"}}, {"name": "ext", "path": "/x", "sha256": "` + strings.Repeat("ab", 32) + `"}]}`,
		`{"plugins": "parks"}`,
		`{"policy_poll_interval": "1s", "database_max_connections": 12, "auto_migrate": null}`,
		`{"listen": ":1",}`,
		`[1, 2]`,
		`{"city": {"languages": ["fi", {"x": 1}]}}`,
		"{\n\"required_plugins\": [\"budgeting\"],\n\"plugins\": []\n}",
		`"just a string"`,
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := node.LoadConfig(path, noEnv)
		if err == nil {
			if verr := cfg.Validate(); verr != nil {
				t.Fatalf("loaded a config that does not validate: %v", verr)
			}
			return
		}
		var ce *node.ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("%T %v is not a ConfigError", err, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "config "+path) {
			t.Fatalf("%q does not name the file", msg)
		}
		for _, leak := range goLeaks[:3] {
			if strings.Contains(strings.TrimPrefix(msg, "config "+path), leak) {
				t.Fatalf("%q speaks Go (%q)", msg, leak)
			}
		}
		if lines := strings.Count(string(data), "\n") + 1; ce.Line > lines || ce.Line < 0 {
			t.Fatalf("%q points at line %d of %d", msg, ce.Line, lines)
		}
	})
}
