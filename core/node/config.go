package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/pluginhost"
	"github.com/kvarter/kvarter/core/web/static"
	"github.com/kvarter/kvarter/sdk/telemetry"
)

// Config is the city's configuration: one JSON file, with environment variables taking
// precedence (DESIGN.md §8). The zero file is a working default: SQLite under ./data,
// every built-in plugin, listening on 127.0.0.1:8080.
type Config struct {
	City        CityConfig `json:"city"`
	Listen      string     `json:"listen"`
	DatabaseURL string     `json:"database_url"`
	// DatabaseMaxConnections is this node's whole PostgreSQL connection budget
	// (default 40), split between the core's pool and one pool per plugin process
	// (ConnectionShares): N nodes need N times it below the server's max_connections.
	DatabaseMaxConnections int    `json:"database_max_connections"`
	DataDir                string `json:"data_dir"`
	// KeyFile is the master key file that sealed ballots are derived from (DESIGN.md
	// §13): outside every database, the same file on every node, created on first
	// start. Default <data_dir>/kvarter.key; KeyFilePath resolves it.
	KeyFile string `json:"key_file"`
	// AutoMigrate applies pending core migrations when serve starts (the default).
	// With it off, a node whose schema is behind refuses to start until `kvarter
	// migrate` has run. Either way a node refuses a schema newer than itself.
	AutoMigrate *bool `json:"auto_migrate"`
	// MaxNeighbourhoodsPerPerson is how many neighbourhoods one person may be verified in.
	MaxNeighbourhoodsPerPerson int      `json:"max_neighbourhoods_per_person"`
	SecureCookies              bool     `json:"secure_cookies"`
	ProxyHeader                string   `json:"proxy_header"`
	TrustedProxies             []string `json:"trusted_proxies"`
	LogLevel                   string   `json:"log_level"`
	LogFormat                  string   `json:"log_format"`
	// PolicyPollInterval is how often a node checks for grants made on other nodes.
	PolicyPollInterval Duration `json:"policy_poll_interval"`
	// Plugins lists the plugins the city enables. Left out entirely (null), every
	// built-in plugin is enabled with its default settings; [] enables none.
	Plugins []PluginConfig `json:"plugins"`
	// PluginStorePrefix starts the PostgreSQL schema of each plugin (default
	// "plugin_", so the assemblies plugin owns schema plugin_assemblies).
	PluginStorePrefix string `json:"plugin_store_prefix"`
	// PluginRolePrefix starts each plugin's PostgreSQL login role, before the schema
	// name. Roles are cluster-wide, so by default it is the database's name and "_"
	// (kvarter_plugin_assemblies in database kvarter): two deployments on one cluster
	// never share a role.
	PluginRolePrefix string `json:"plugin_role_prefix"`
	// RequiredPlugins are the plugins without which the city does not want a node to
	// take traffic: /readyz fails while one of them is neither active nor degraded.
	RequiredPlugins []string `json:"required_plugins"`
	// MetricsListen is a separate address (host:port) serving GET /metrics in the
	// Prometheus format, e.g. on an internal interface. MetricsToken, when set, must
	// come as "Authorization: Bearer <token>"; with a token and no MetricsListen the
	// metrics are served on the public listener. With neither, no metrics are served.
	MetricsListen string `json:"metrics_listen"`
	MetricsToken  string `json:"metrics_token"`
	// OTLPEndpoint is the OTLP/HTTP base URL of an OpenTelemetry collector
	// ("http://collector:4318"). Set, every request is traced into the plugins and
	// exported there; empty (the default), tracing is off.
	OTLPEndpoint string `json:"otlp_endpoint"`
	// PublicURL is the site's address as residents reach it ("https://kvarter.espoo.fi"),
	// for the links in mail. Empty: links point at the listen address.
	PublicURL string `json:"public_url"`
	// OIDCProviders are the city's identity providers people may sign in with
	// (issue 22); none: only local accounts.
	OIDCProviders []OIDCProviderConfig `json:"oidc_providers"`
	// Mail is the city's mail server. Without a host, mail waits in the queue and
	// /admin/mail says so: a first run without a server still starts.
	Mail MailConfig `json:"mail"`
	// Notifications tune the notification service (DESIGN.md §11).
	Notifications NotificationsConfig `json:"notifications"`
	// ResidencyClaims read residency from what the city's identity providers say: by
	// provider id, the claim, how its values map to neighbourhoods (ids or slugs) and
	// what a later sign-in with another value does (docs/operators.md). The
	// neighbourhoods are looked up at each sign-in, since administrators create and
	// archive them while the node runs; one the city lacks is logged as a warning at
	// start and as an error at the sign-in that meets it, which then changes nothing.
	ResidencyClaims map[string]core.ResidencyRule `json:"residency_claims"`
	// BirthDateClaim names the claim a verified birth date is read from, by every
	// identity provider the city configured: default "birthdate" (OpenID Connect's),
	// "none" to read none.
	BirthDateClaim string `json:"birth_date_claim"`
}

// MailConfig is the SMTP server the node sends mail through. The password is never in
// the file: it comes from the environment variable PasswordEnv or the file
// PasswordFile (e.g. a container secret), and is never logged.
type MailConfig struct {
	Host string `json:"host"`
	// Port defaults to 587 with starttls, 465 with tls, 25 with none.
	Port int `json:"port"`
	// TLS is none, starttls (the default) or tls.
	TLS string `json:"tls"`
	// Auth is plain, login or empty (no sign-in).
	Auth         string `json:"auth"`
	Username     string `json:"username"`
	PasswordEnv  string `json:"password_env"`
	PasswordFile string `json:"password_file"`
	// From is the sender's address; FromName defaults to the city's name.
	From     string `json:"from"`
	FromName string `json:"from_name"`
	// Connections bounds the connections kept open to the server (default 4).
	Connections int `json:"connections"`
}

// NotificationsConfig tunes notifications: when digests go out, in the city's time
// zone, and how many mails of their own one person gets per hour (the rest folds into
// their next daily digest). Their links start with public_url.
type NotificationsConfig struct {
	// DigestHour is the local hour (0-23) digests are sent at; default 7.
	DigestHour *int `json:"digest_hour,omitempty"`
	// DigestWeekday is the day of the weekly digest ("monday", the default).
	DigestWeekday string `json:"digest_weekday,omitempty"`
	// HourlyCap is the most mails per person per hour; default 10.
	HourlyCap int `json:"hourly_cap,omitempty"`
}

// DefaultDigestHour is the local hour of digests when the config sets none.
const DefaultDigestHour = 7

// digestWeekdays are the values of notifications.digest_weekday.
var digestWeekdays = map[string]time.Weekday{"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday}

// digestSchedule is the configured digest hour and weekday, defaults filled in.
func (c NotificationsConfig) digestSchedule() (int, time.Weekday) {
	hour := DefaultDigestHour
	if c.DigestHour != nil {
		hour = *c.DigestHour
	}
	day, ok := digestWeekdays[strings.ToLower(c.DigestWeekday)]
	if !ok {
		day = time.Monday
	}
	return hour, day
}

func (c NotificationsConfig) validate() error {
	if c.DigestHour != nil && (*c.DigestHour < 0 || *c.DigestHour > 23) {
		return &ConfigError{Key: "notifications.digest_hour", Problem: fmt.Sprintf("is %d", *c.DigestHour), Expected: "a local hour from 0 to 23"}
	}
	if _, ok := digestWeekdays[strings.ToLower(c.DigestWeekday)]; c.DigestWeekday != "" && !ok {
		return &ConfigError{Key: "notifications.digest_weekday", Problem: fmt.Sprintf("is %q", c.DigestWeekday), Expected: "a day of the week in English, such as \"monday\""}
	}
	if c.HourlyCap < 0 {
		return &ConfigError{Key: "notifications.hourly_cap", Problem: fmt.Sprintf("is %d", c.HourlyCap), Expected: "a whole number of mails per person per hour (default 10)"}
	}
	return nil
}

// CityConfig describes the city.
type CityConfig struct {
	Name      string   `json:"name"`
	TimeZone  string   `json:"time_zone"`
	Languages []string `json:"languages"`
	// BrandColour is the colour of the pages' header, "#rrggbb"; the header's text is
	// black or white, whichever reads better on it. Empty keeps Kvarter's blue.
	BrandColour string `json:"brand_colour,omitempty"`
	// Logo is the path of the city's logo (PNG, JPEG or SVG, at most 256 KiB), shown
	// beside its name in the header; a relative path is from the working directory.
	Logo string `json:"logo,omitempty"`
}

// PluginConfig enables one plugin: a built-in by name, or an external executable by
// path with its sha256. Settings override the plugin's defaults.
type PluginConfig struct {
	Name     string            `json:"name"`
	Path     string            `json:"path,omitempty"`
	SHA256   string            `json:"sha256,omitempty"`
	Disabled bool              `json:"disabled,omitempty"`
	Settings map[string]string `json:"settings,omitempty"`
}

var (
	storePrefixRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,20}$`)
	// Role names are always quoted, so a database's name with capitals or dashes
	// serves as a role prefix too.
	rolePrefixRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,39}$`)
)

// DefaultDatabaseMaxConnections is the default connection budget of one node: two
// nodes fit PostgreSQL's default max_connections of 100 with 20 to spare for
// superuser_reserved_connections, migrations, backups and an operator's psql.
const DefaultDatabaseMaxConnections = 40

// Shares of the connection budget. The core holds one connection per subscribing
// plugin while it delivers events, besides its requests', so it keeps at least
// coreMinConnections plus one per plugin.
const (
	pluginMinConnections = 2
	coreMinConnections   = 4
)

// ConnectionShares splits a node's connection budget: the plugins share half of it
// evenly (at least 2 each), the core keeps the rest. It explains a budget too small
// for the number of plugins.
func ConnectionShares(budget, plugins int) (coreConns, perPlugin int, err error) {
	if budget <= 0 {
		budget = DefaultDatabaseMaxConnections
	}
	need := coreMinConnections + plugins*(pluginMinConnections+1)
	if budget < need {
		return 0, 0, &ConfigError{Key: "database_max_connections", Problem: fmt.Sprintf("is %d, too small for the core and %d plugins", budget, plugins),
			Expected: fmt.Sprintf("at least %d", need)}
	}
	if plugins == 0 {
		return budget, 0, nil
	}
	perPlugin = max(pluginMinConnections, budget/(2*plugins))
	return budget - plugins*perPlugin, perPlugin, nil
}

// pluginSpecs turns the configured plugins into the host's terms. With no plugins
// section at all, every built-in is enabled.
func (c Config) pluginSpecs(builtins []string) []pluginhost.Spec {
	var out []pluginhost.Spec
	if c.Plugins == nil {
		for _, name := range builtins {
			out = append(out, pluginhost.Spec{Name: name})
		}
		return out
	}
	for _, p := range c.Plugins {
		out = append(out, pluginhost.Spec{Name: p.Name, Path: p.Path, SHA256: strings.ToLower(p.SHA256), Settings: p.Settings, Disabled: p.Disabled})
	}
	return out
}

// Duration reads "250ms", "2s" from JSON.
type Duration struct{ time.Duration }

// UnmarshalJSON parses a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"500ms\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// DefaultConfig is what a city gets with no config file.
func DefaultConfig() Config {
	on := true
	return Config{
		City:                       CityConfig{Name: "Kvarter", TimeZone: "UTC", Languages: []string{"en", "fi", "sv", "da", "tr"}},
		Listen:                     "127.0.0.1:8080",
		DataDir:                    "./data",
		AutoMigrate:                &on,
		MaxNeighbourhoodsPerPerson: 1,
		LogLevel:                   "info",
		LogFormat:                  "json",
		PolicyPollInterval:         Duration{200 * time.Millisecond},
	}
}

// envKeys are the environment variables that override keys of the file.
var envKeys = []struct{ env, key string }{
	{"KVARTER_ADDR", "listen"}, {"KVARTER_DATA_DIR", "data_dir"},
	{"KVARTER_DATABASE_URL", "database_url"}, {"KVARTER_LOG_LEVEL", "log_level"},
	{"KVARTER_METRICS_LISTEN", "metrics_listen"}, {"KVARTER_METRICS_TOKEN", "metrics_token"},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"}, {"KVARTER_KEY_FILE", "key_file"},
}

func (c *Config) stringKey(key string) *string {
	switch key {
	case "listen":
		return &c.Listen
	case "data_dir":
		return &c.DataDir
	case "database_url":
		return &c.DatabaseURL
	case "log_level":
		return &c.LogLevel
	case "metrics_listen":
		return &c.MetricsListen
	case "metrics_token":
		return &c.MetricsToken
	case "otlp_endpoint":
		return &c.OTLPEndpoint
	case "key_file":
		return &c.KeyFile
	}
	return nil
}

// LoadConfig reads the file at path (none when path is ""), then applies environment
// overrides from getenv, then checks the result. A problem comes back as a
// *ConfigError naming the key, the file and line or the environment variable, and what
// is expected.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		path = getenv("KVARTER_CONFIG")
	}
	var places map[string]position
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, &ConfigError{File: path, Problem: "cannot be read: " + errors.Unwrap(err).Error(),
				Expected: "a readable JSON file (--config FILE or KVARTER_CONFIG)"}
		}
		if places, err = checkConfigJSON(path, b); err != nil {
			return cfg, err
		}
		// The checker has seen every key and type, so this cannot fail on them.
		if err := json.Unmarshal(b, &cfg); err != nil {
			return cfg, &ConfigError{File: path, Problem: "could not be read", Expected: "a JSON object of the keys in docs/operators.md"}
		}
	}
	fromEnv := map[string]string{}
	for _, e := range envKeys {
		if v := getenv(e.env); v != "" {
			*cfg.stringKey(e.key) = v
			fromEnv[e.key] = e.env
		}
	}
	err := cfg.Validate()
	var ce *ConfigError
	if errors.As(err, &ce) {
		if env, ok := fromEnv[ce.Key]; ok {
			ce.Env = env
		} else if at, ok := places[ce.Key]; ok {
			ce.File, ce.Line, ce.Column = path, at.line, at.column
		} else if path != "" {
			ce.File = path
		}
	}
	return cfg, err
}

// Validate explains the first problem with the configuration as a *ConfigError.
func (c Config) Validate() error {
	bad := func(key string, value any, expected string) error {
		return &ConfigError{Key: key, Problem: fmt.Sprintf("is %q", fmt.Sprint(value)), Expected: expected}
	}
	if c.Listen == "" {
		return &ConfigError{Key: "listen", Problem: "is empty", Expected: `an address such as "127.0.0.1:8080" or ":8080"`}
	}
	if _, err := time.LoadLocation(c.City.TimeZone); err != nil {
		return bad("city.time_zone", c.City.TimeZone, `an IANA time zone such as "Europe/Helsinki"`)
	}
	if len(c.City.Languages) == 0 {
		return &ConfigError{Key: "city.languages", Problem: "lists no language", Expected: `at least one, such as ["fi", "sv", "en"]`}
	}
	for i, l := range c.City.Languages {
		if len(l) < 2 || len(l) > 8 || strings.ToLower(l) != l {
			return bad(fmt.Sprintf("city.languages[%d]", i), l, `a lower-case language code such as "fi"`)
		}
	}
	if c.City.BrandColour != "" {
		if _, err := static.BrandCSS(c.City.BrandColour); err != nil {
			return bad("city.brand_colour", c.City.BrandColour, `a colour such as "#0062ba"`)
		}
	}
	if c.MaxNeighbourhoodsPerPerson < 1 {
		return bad("max_neighbourhoods_per_person", c.MaxNeighbourhoodsPerPerson, "a whole number of at least 1")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		return bad("log_level", c.LogLevel, "debug, info, warn or error")
	}
	if !slices.Contains([]string{"json", "text", ""}, c.LogFormat) {
		return bad("log_format", c.LogFormat, "json or text")
	}
	if c.DatabaseMaxConnections < 0 {
		return bad("database_max_connections", c.DatabaseMaxConnections, fmt.Sprintf("a whole number of connections (default %d)", DefaultDatabaseMaxConnections))
	}
	if c.PolicyPollInterval.Duration < 0 {
		return bad("policy_poll_interval", c.PolicyPollInterval, `a positive duration such as "200ms"`)
	}
	specs := c.pluginSpecs(nil)
	for i, s := range specs {
		if err := pluginhost.ValidateSpecs([]pluginhost.Spec{s}); err != nil {
			return &ConfigError{Key: fmt.Sprintf("plugins[%d]", i), Problem: "is wrong: " + err.Error(),
				Expected: `{"name": "parks"} for a built-in, or {"name": ..., "path": ..., "sha256": ...} for an external plugin`}
		}
	}
	if err := pluginhost.ValidateSpecs(specs); err != nil {
		return &ConfigError{Key: "plugins", Problem: "is wrong: " + err.Error(), Expected: "each plugin listed once"}
	}
	for i, name := range c.RequiredPlugins {
		if c.Plugins != nil && !slices.ContainsFunc(specs, func(s pluginhost.Spec) bool { return s.Name == name }) {
			return bad(fmt.Sprintf("required_plugins[%d]", i), name, "the name of a plugin listed in plugins")
		}
	}
	if c.PluginStorePrefix != "" && !storePrefixRE.MatchString(c.PluginStorePrefix) {
		return bad("plugin_store_prefix", c.PluginStorePrefix, "lower-case letters, digits and _, starting with a letter, at most 21")
	}
	if c.PluginRolePrefix != "" && !rolePrefixRE.MatchString(c.PluginRolePrefix) {
		return bad("plugin_role_prefix", c.PluginRolePrefix, "letters, digits, _ and -, starting with a letter, at most 40 (a database's name and _ is a good one)")
	}
	if err := c.validateObservability(); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return bad("public_url", c.PublicURL, `the site's address, such as "https://kvarter.espoo.fi"`)
		}
	}
	// The password is read when the node starts (MailSender); here any would do.
	present := func(string) string { return "present" }
	readable := func(string) ([]byte, error) { return []byte("present"), nil }
	if _, err := c.Mail.sender(c.City.Name, present, readable); err != nil {
		return err
	}
	if err := c.Notifications.validate(); err != nil {
		return err
	}
	if err := c.validateClaims(); err != nil {
		return err
	}
	if err := c.validateOIDC(); err != nil {
		return err
	}
	if err := c.checkClaimProviders(); err != nil {
		return err
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		return &ConfigError{Key: "data_dir", Problem: "is empty and no database_url is set", Expected: `a folder for the SQLite files such as "./data"`}
	}
	if c.KeyFile == "" && c.DataDir == "" {
		return fmt.Errorf("config: key_file is empty and so is data_dir, where it would default to")
	}
	return nil
}

// MinMetricsTokenLength keeps a metrics token from being guessable.
const MinMetricsTokenLength = 16

func (c Config) validateObservability() error {
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return &ConfigError{Key: "metrics_listen", Problem: fmt.Sprintf("is %q", c.MetricsListen), Expected: `host:port, such as "127.0.0.1:9090"`}
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < MinMetricsTokenLength {
		// The token is a secret: the message never repeats it.
		return &ConfigError{Key: "metrics_token", Problem: "is too short", Expected: fmt.Sprintf("at least %d characters", MinMetricsTokenLength)}
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &ConfigError{Key: "otlp_endpoint", Problem: fmt.Sprintf("is %q", telemetry.RedactURL(c.OTLPEndpoint)), Expected: `an http:// or https:// URL, such as "http://collector:4318"`}
		}
	}
	return nil
}
