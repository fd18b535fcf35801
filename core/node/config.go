package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/core/pluginhost"
	"github.com/kvarter/kvarter/sdk/telemetry"
)

// Config is the city's configuration: one JSON file, with environment variables taking
// precedence (DESIGN.md §8). The zero file is a working default: SQLite under ./data,
// every built-in plugin, listening on 127.0.0.1:8080.
type Config struct {
	City        CityConfig `json:"city"`
	Listen      string     `json:"listen"`
	DatabaseURL string     `json:"database_url"`
	// DatabaseMaxConnections bounds this node's PostgreSQL pool (default 40). Plugins
	// have pools of their own; together they must fit the server's max_connections.
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
	// PluginStorePrefix starts the PostgreSQL schema and login role of each plugin
	// (default "plugin_", so the assemblies plugin owns schema plugin_assemblies).
	PluginStorePrefix string `json:"plugin_store_prefix"`
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
}

// CityConfig describes the city.
type CityConfig struct {
	Name      string   `json:"name"`
	TimeZone  string   `json:"time_zone"`
	Languages []string `json:"languages"`
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

var storePrefixRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,20}$`)

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

// LoadConfig reads the file at path (none when path is ""), then applies environment
// overrides from getenv, then checks the result.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		path = getenv("KVARTER_CONFIG")
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for env, dst := range map[string]*string{
		"KVARTER_ADDR": &cfg.Listen, "KVARTER_DATA_DIR": &cfg.DataDir,
		"KVARTER_DATABASE_URL": &cfg.DatabaseURL, "KVARTER_LOG_LEVEL": &cfg.LogLevel,
		"KVARTER_KEY_FILE":       &cfg.KeyFile,
		"KVARTER_METRICS_LISTEN": &cfg.MetricsListen, "KVARTER_METRICS_TOKEN": &cfg.MetricsToken,
		"OTEL_EXPORTER_OTLP_ENDPOINT": &cfg.OTLPEndpoint,
	} {
		if v := getenv(env); v != "" {
			*dst = v
		}
	}
	return cfg, cfg.Validate()
}

// Validate explains the first problem with the configuration.
func (c Config) Validate() error {
	if c.Listen == "" {
		return fmt.Errorf("config: listen address is empty")
	}
	if _, err := time.LoadLocation(c.City.TimeZone); err != nil {
		return fmt.Errorf("config: city.time_zone %q is not an IANA time zone", c.City.TimeZone)
	}
	if len(c.City.Languages) == 0 {
		return fmt.Errorf("config: city.languages lists no language")
	}
	for _, l := range c.City.Languages {
		if len(l) < 2 || len(l) > 8 || strings.ToLower(l) != l {
			return fmt.Errorf("config: city.languages: %q is not a lower-case language code such as \"fi\"", l)
		}
	}
	if c.MaxNeighbourhoodsPerPerson < 1 {
		return fmt.Errorf("config: max_neighbourhoods_per_person must be at least 1")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		return fmt.Errorf("config: log_level must be debug, info, warn or error")
	}
	if err := pluginhost.ValidateSpecs(c.pluginSpecs(nil)); err != nil {
		return fmt.Errorf("config: plugins: %w", err)
	}
	if c.PluginStorePrefix != "" && !storePrefixRE.MatchString(c.PluginStorePrefix) {
		return fmt.Errorf("config: plugin_store_prefix must be lower-case letters, digits and _")
	}
	if err := c.validateObservability(); err != nil {
		return err
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		return fmt.Errorf("config: data_dir is empty and no database_url is set")
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
			return fmt.Errorf("config: metrics_listen %q must be host:port, such as \"127.0.0.1:9090\"", c.MetricsListen)
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < MinMetricsTokenLength {
		return fmt.Errorf("config: metrics_token must be at least %d characters", MinMetricsTokenLength)
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: otlp_endpoint %q must be an http:// or https:// URL, such as \"http://collector:4318\"", telemetry.RedactURL(c.OTLPEndpoint))
		}
	}
	return nil
}
