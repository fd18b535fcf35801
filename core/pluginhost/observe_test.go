package pluginhost_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

const metricsToken = "a metrics token for the tests"

// scrape reads the node's metrics from its separate metrics listener.
func scrape(t *testing.T, n *node.Node, token string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+n.MetricsAddr().String()+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		return r.StatusCode, nil
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(r.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, buf.String())
	}
	return 200, fams
}

// sample is the value of the series of name whose labels include labels (pairs of
// name and value): a counter's or gauge's value, a histogram's count; -1 when there
// is no such series.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	fam := fams[name]
	if fam == nil {
		return -1
	}
next:
	for _, m := range fam.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetrics_ScriptedRun scrapes /metrics around a scripted run and checks that the
// named series move as they should: requests by route template, status and plugin;
// the call latency into the plugin; a plugin restart after its process is killed; an
// outbox backlog that builds while the subscriber is down and drains once delivered;
// a failed sign-in; the core's and the plugin's pools; and that the metrics need their token.
func TestMetrics_ScriptedRun(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNodeWith(t, db, func(c *node.Config, _ *node.Options) {
			c.MetricsListen, c.MetricsToken = "127.0.0.1:0", metricsToken
		}, "alpha", "beta")
		admin := coretest.Admin(t, n, "admin@city.example")

		// The metrics are not on the public listener, and need the token on their own.
		mustCall(t, n, 404, "GET", "/metrics", "")
		if code, _ := scrape(t, n, ""); code != 401 {
			t.Fatalf("scrape without token = %d, want 401", code)
		}
		if code, _ := scrape(t, n, "not the "+metricsToken); code != 401 {
			t.Fatalf("scrape with a wrong token = %d, want 401", code)
		}
		_, before := scrape(t, n, metricsToken)
		if v := sample(before, "kvarter_build_info", "version", "0.1.0"); v != 1 {
			t.Errorf("kvarter_build_info{version=0.1.0} = %v", v)
		}
		if v := sample(before, "go_sql_max_open_connections", "db_name", "core"); v < 1 {
			t.Errorf("core pool max open connections = %v", v)
		}
		for _, name := range []string{"alpha", "beta"} {
			if v := sample(before, "kvarter_plugin_state", "plugin", name, "state", core.PluginActive); v != 1 {
				t.Errorf("%s active = %v", name, v)
			}
		}
		ping := []string{"method", "GET", "route", "/api/v1/beta/ping", "status", "200", "plugin", "beta"}
		handleOK := []string{"plugin", "beta", "call", "Handle", "code", "OK"}
		pingsBefore := max(0, sample(before, "kvarter_http_requests_total", ping...))
		unmatchedBefore := max(0, sample(before, "kvarter_http_requests_total", "route", "unmatched", "status", "404"))
		handlesBefore := max(0, sample(before, "kvarter_plugin_rpc_duration_seconds", handleOK...))

		// Requests: a plugin route, a core route with a parameter, and paths no route
		// takes, which share one label rather than a series each.
		for range 3 {
			mustCall(t, n, 200, "GET", "/api/v1/beta/ping", "")
		}
		mustCall(t, n, 404, "GET", "/api/v1/beta/no/such/route", "")
		mustCall(t, n, 404, "GET", "/api/v1/nowhere-"+fmt.Sprint(time.Now().UnixNano()), "")
		admin.Must(404, "GET", "/api/v1/neighbourhoods/0000", nil)
		_, after := scrape(t, n, metricsToken)
		if got := sample(after, "kvarter_http_requests_total", ping...) - pingsBefore; got != 3 {
			t.Errorf("beta ping requests counted %v, want 3", got)
		}
		if got := sample(after, "kvarter_http_request_duration_seconds", ping...); got < 3 {
			t.Errorf("beta ping latency observations = %v, want >= 3", got)
		}
		if got := sample(after, "kvarter_plugin_rpc_duration_seconds", handleOK...) - handlesBefore; got != 3 {
			t.Errorf("Handle calls into beta timed %v, want 3", got)
		}
		if got := sample(after, "kvarter_http_requests_total", "route", "unmatched", "status", "404") - unmatchedBefore; got != 2 {
			t.Errorf("unmatched 404s = %v, want 2", got)
		}
		if got := sample(after, "kvarter_http_requests_total", "route", "/api/v1/neighbourhoods/:id", "status", "404", "plugin", ""); got != 1 {
			t.Errorf("core route by template = %v, want 1", got)
		}
		for _, f := range after["kvarter_http_requests_total"].Metric {
			for _, l := range f.Label {
				if l.GetName() == "route" && strings.Contains(l.GetValue(), "nowhere") {
					t.Errorf("a raw path became a label: %s", l.GetValue())
				}
			}
		}

		// A failed sign-in is counted.
		failBody := `{"email":"admin@city.example","password":"not the password at all"}`
		req, _ := http.NewRequest("POST", n.URL()+"/api/v1/auth/login", strings.NewReader(failBody))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
			t.Fatalf("wrong password: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		_, after = scrape(t, n, metricsToken)
		if got := sample(after, "kvarter_auth_login_failures_total"); got != 1 {
			t.Errorf("login failures = %v, want 1", got)
		}

		// Killing the plugin's process: one restart, one crash of the budget spent.
		if err := syscall.Kill(n.Plugins.Pid("beta"), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "beta restarted", func() bool {
			return state(n, "beta").Restarts == 1 && state(n, "beta").State == core.PluginActive
		})
		_, after = scrape(t, n, metricsToken)
		if got := sample(after, "kvarter_plugin_restarts_total", "plugin", "beta"); got != 1 {
			t.Errorf("beta restarts = %v, want 1", got)
		}
		if got := sample(after, "kvarter_plugin_recent_crashes", "plugin", "beta"); got != 1 {
			t.Errorf("beta recent crashes = %v, want 1", got)
		}
		if got := sample(after, "kvarter_plugin_crash_budget_remaining", "plugin", "beta"); got != 2 {
			t.Errorf("beta crash budget remaining = %v, want 2", got)
		}
		if got := sample(after, "kvarter_plugin_restarts_total", "plugin", "alpha"); got != 0 {
			t.Errorf("alpha restarts = %v, want 0", got)
		}

		// The outbox: with beta disabled, events published by alpha wait, and the
		// backlog shows their number and age; enabled again, beta takes them all.
		admin.Must(200, "POST", "/api/v1/admin/plugins/beta/disable", nil)
		waitFor(t, 10*time.Second, "beta stopped", func() bool { return state(n, "beta").State == core.PluginStopped })
		_, before = scrape(t, n, metricsToken)
		deliveredBefore := max(0, sample(before, "kvarter_outbox_events_delivered_total", "subscriber", "beta"))
		mustCall(t, n, 200, "POST", "/api/v1/alpha/publish?from=1&n=5", "")
		time.Sleep(50 * time.Millisecond)
		_, after = scrape(t, n, metricsToken)
		if got := sample(after, "kvarter_outbox_pending_events", "subscriber", "beta"); got != 5 {
			t.Errorf("beta's pending events = %v, want 5", got)
		}
		if got := sample(after, "kvarter_outbox_delivery_lag_seconds", "subscriber", "beta"); got <= 0 {
			t.Errorf("beta's delivery lag = %v, want > 0 while it is down", got)
		}
		if got := sample(after, "kvarter_plugin_state", "plugin", "beta", "state", core.PluginStopped); got != 1 {
			t.Errorf("beta stopped = %v", got)
		}
		admin.Must(200, "POST", "/api/v1/admin/plugins/beta/enable", nil)
		waitFor(t, 10*time.Second, "beta's backlog delivered", func() bool {
			_, m := scrape(t, n, metricsToken)
			return sample(m, "kvarter_outbox_pending_events", "subscriber", "beta") == 0
		})
		_, after = scrape(t, n, metricsToken)
		if got := sample(after, "kvarter_outbox_events_delivered_total", "subscriber", "beta") - deliveredBefore; got != 5 {
			t.Errorf("events delivered to beta = %v, want 5", got)
		}
		if got := sample(after, "kvarter_outbox_delivery_lag_seconds", "subscriber", "beta"); got != 0 {
			t.Errorf("beta's delivery lag = %v, want 0 once delivered", got)
		}
		// The backlog went over in one batch, not an event per call.
		if got := sample(after, "kvarter_plugin_rpc_duration_seconds", "plugin", "beta", "call", "HandleEvents", "code", "OK"); got != 1 {
			t.Errorf("HandleEvents calls into beta timed %v, want 1", got)
		}
		if got := sample(after, "kvarter_plugin_rpc_duration_seconds", "plugin", "beta", "call", "HandleEvent", "code", "OK"); got > 0 {
			t.Errorf("HandleEvent calls into beta timed %v, want none", got)
		}

		// The plugin's own pool, as it reports it with its health.
		waitFor(t, 5*time.Second, "beta's pool reported", func() bool {
			_, m := scrape(t, n, metricsToken)
			return sample(m, "go_sql_open_connections", "db_name", "plugin:beta") >= 1
		})

		// Every series the sample dashboard in docs/ queries is one the node exports.
		_, after = scrape(t, n, metricsToken)
		dashboard, err := os.ReadFile("../../docs/grafana-dashboard.json")
		if err != nil {
			t.Fatal(err)
		}
		names := regexp.MustCompile(`\b(?:kvarter|go_sql)_[a-z_]+`).FindAllString(string(dashboard), -1)
		if len(names) < 10 {
			t.Fatalf("the dashboard queries only %v", names)
		}
		for _, name := range names {
			base := name
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && after[b] != nil {
					base = b
				}
			}
			if after[base] == nil {
				t.Errorf("the dashboard queries %s, which the node does not export", name)
			}
		}
	})
}

// TestMetrics_PublicListener: with only a token configured the metrics are on the
// public listener and refuse a scrape without the token or with another; with neither
// a token nor a metrics address they are not served at all.
func TestMetrics_PublicListener(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		guarded := startNodeWith(t, db, func(c *node.Config, _ *node.Options) { c.MetricsToken = metricsToken })
		if guarded.MetricsAddr() != nil {
			t.Fatalf("a metrics listener without metrics_listen: %v", guarded.MetricsAddr())
		}
		for _, token := range []string{"", "not the token at all!"} {
			r := mustCall(t, guarded, 401, "GET", "/metrics", token)
			if strings.Contains(string(r.Body), "kvarter_") {
				t.Fatalf("metrics leaked without the token: %s", r.Body)
			}
		}
		if r := mustCall(t, guarded, 200, "GET", "/metrics", metricsToken); !strings.Contains(string(r.Body), "kvarter_build_info") {
			t.Fatalf("metrics with the token: %s", r.Body)
		}
		open := startNodeWith(t, db, func(*node.Config, *node.Options) {})
		mustCall(t, open, 404, "GET", "/metrics", "")
		mustCall(t, open, 404, "GET", "/metrics", metricsToken)
	})
}
