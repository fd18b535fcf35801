// Package metrics keeps the core's Prometheus metrics: what an operator watches a
// Kvarter node by (docs/operators.md, "Monitoring"). It is the core's adapter for
// Prometheus, as httpapi is for HTTP; it never imports the HTTP framework.
//
// The request path is kept cheap: every label value is resolved once per route and
// status (a Route handle, a small copy-on-write list of statuses), so recording a
// request is two atomic updates and no allocation. What changes slowly (plugin state,
// outbox depth, pool use) is read when Prometheus scrapes, not on every request.
package metrics

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace starts every metric name.
const Namespace = "kvarter"

// Label values for requests outside any route and for the core's own routes.
const (
	RouteUnmatched = "unmatched"
	PluginNone     = ""
)

// durationBuckets span a cached core route (well under a millisecond) to a request
// that hit the plugin deadline (10 s).
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is one node's registry and the collectors the request path updates.
type Metrics struct {
	Registry *prometheus.Registry

	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	pluginRPC      *prometheus.HistogramVec
	loginFailures  prometheus.Counter
	loginThrottled prometheus.Counter
	delivered      *prometheus.CounterVec

	mu     sync.RWMutex
	routes map[routeKey]*Route
}

type routeKey struct{ method, route, plugin string }

// New builds a registry with the Go runtime and process collectors and the build info
// (version, commit, Go version).
func New(version, commit, goVersion string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route template, status code and plugin (empty for the core's own routes).",
		}, []string{"method", "route", "status", "plugin"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route template, status code and plugin.",
			Buckets: durationBuckets,
		}, []string{"method", "route", "status", "plugin"}),
		pluginRPC: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "plugin", Name: "rpc_duration_seconds",
			Help:    "Time of one gRPC call from the host to a plugin, by plugin, call (Handle, HandleEvents, Health, ...) and outcome (ok or the gRPC code).",
			Buckets: durationBuckets,
		}, []string{"plugin", "call", "code"}),
		loginFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "auth", Name: "login_failures_total",
			Help: "Sign-in attempts refused for a wrong email or password.",
		}),
		loginThrottled: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "auth", Name: "login_throttled_total",
			Help: "Sign-in attempts refused because the account or client address is locked out after too many failures.",
		}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "outbox", Name: "events_delivered_total",
			Help: "Outbox events handed to a subscribing plugin and accepted by it.",
		}, []string{"subscriber"}),
		routes: map[routeKey]*Route{},
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help:        "Always 1; the labels say which kvarter this node runs.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "go_version": goVersion},
	})
	buildInfo.Set(1)
	reg.MustRegister(m.requests, m.duration, m.pluginRPC, m.loginFailures, m.loginThrottled, m.delivered, buildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Route returns the handle that records requests for one route template ("/api/v1/
// neighbourhoods/:id", or a plugin manifest's "/api/v1/parks/parks/{id}"), resolved
// once and kept. Route templates, never raw paths, keep the series bounded.
func (m *Metrics) Route(method, route, plugin string) *Route {
	k := routeKey{method, route, plugin}
	m.mu.RLock()
	r := m.routes[k]
	m.mu.RUnlock()
	if r != nil {
		return r
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r = m.routes[k]; r == nil {
		r = &Route{m: m, key: k}
		r.statuses.Store(&[]statusSeries{})
		m.routes[k] = r
	}
	return r
}

// Route records the requests of one route.
type Route struct {
	m   *Metrics
	key routeKey
	// statuses holds the series of each status seen so far; a new status copies the
	// list, so reading it needs no lock.
	statuses atomic.Pointer[[]statusSeries]
	mu       sync.Mutex
}

type statusSeries struct {
	status   int
	count    prometheus.Counter
	duration prometheus.Observer
}

// Observe records one answered request.
func (r *Route) Observe(status int, took time.Duration) {
	s := r.series(status)
	s.count.Inc()
	s.duration.Observe(took.Seconds())
}

func (r *Route) series(status int) statusSeries {
	for _, s := range *r.statuses.Load() {
		if s.status == status {
			return s
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.statuses.Load()
	for _, s := range old {
		if s.status == status {
			return s
		}
	}
	code := strconv.Itoa(status)
	s := statusSeries{
		status:   status,
		count:    r.m.requests.WithLabelValues(r.key.method, r.key.route, code, r.key.plugin),
		duration: r.m.duration.WithLabelValues(r.key.method, r.key.route, code, r.key.plugin),
	}
	next := append(append(make([]statusSeries, 0, len(old)+1), old...), s)
	r.statuses.Store(&next)
	return s
}

// PluginRPC returns the observer of one plugin call's latency for an outcome.
func (m *Metrics) PluginRPC(plugin, call, code string) prometheus.Observer {
	return m.pluginRPC.WithLabelValues(plugin, call, code)
}

// LoginFailed counts a sign-in refused for wrong credentials; LoginThrottled one
// refused by the lockout.
func (m *Metrics) LoginFailed()    { m.loginFailures.Inc() }
func (m *Metrics) LoginThrottled() { m.loginThrottled.Inc() }

// Delivered returns the counter of events delivered to subscriber.
func (m *Metrics) Delivered(subscriber string) prometheus.Counter {
	return m.delivered.WithLabelValues(subscriber)
}

// Handler serves the registry in the Prometheus text format. With a token, a request
// must carry "Authorization: Bearer <token>"; anything else is answered 401.
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
	if token == "" {
		return h
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kvarter metrics"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":"unauthenticated","message":"The metrics need \"Authorization: Bearer <metrics_token>\"."}}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}
