package node_test

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/node"
)

// TestConfig_Observability: the metrics and tracing keys are checked at start, naming
// the key and what it expects.
func TestConfig_Observability(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*node.Config)
		want string
	}{
		{"metrics_listen without a port", func(c *node.Config) { c.MetricsListen = "10.0.0.5" }, "metrics_listen"},
		{"short metrics_token", func(c *node.Config) { c.MetricsToken = "short" }, "metrics_token is too short; expected at least 16"},
		{"otlp_endpoint without scheme", func(c *node.Config) { c.OTLPEndpoint = "collector:4318" }, "otlp_endpoint"},
		{"otlp_endpoint with credentials", func(c *node.Config) { c.OTLPEndpoint = "ftp://kvarter:s3cret@collector:4318" }, "ftp://kvarter:xxxxx@collector:4318"},
		{"all good", func(c *node.Config) {
			c.MetricsListen, c.MetricsToken, c.OTLPEndpoint = "127.0.0.1:9090", "a long enough token", "http://collector:4318"
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := node.DefaultConfig()
			tc.set(&cfg)
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Fatalf("the error shows the endpoint's password: %v", err)
			}
		})
	}
	cfg, err := node.LoadConfig("", func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318", "KVARTER_METRICS_LISTEN": "127.0.0.1:9191",
			"KVARTER_METRICS_TOKEN": "a token from the environment"}[k]
	})
	if err != nil || cfg.OTLPEndpoint != "http://otel:4318" || cfg.MetricsListen != "127.0.0.1:9191" || cfg.MetricsToken != "a token from the environment" {
		t.Fatalf("environment: %+v, %v", cfg, err)
	}
}
