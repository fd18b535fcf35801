package httpapi

import (
	"io"
	"log/slog"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/kvarter/kvarter/core"
)

// limitsOnly is a plugin service that only answers body limits, so the benchmark
// measures the HTTP layer's share of finding a route's limit.
type limitsOnly struct{ core.PluginService }

func (limitsOnly) BodyLimit(method, path string) int { return 0 }

// BenchmarkServer_RouteBodyLimit is what every request pays, before its body is read,
// for per-route body limits: finding the path in the request line and asking the
// plugin host (here a stub; BenchmarkHost_BodyLimit measures the host's lookup).
func BenchmarkServer_RouteBodyLimit(b *testing.B) {
	s := New(Services{Plugins: limitsOnly{}}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{})
	var h fasthttp.RequestHeader
	h.SetMethod("GET")
	h.SetRequestURI("/api/v1/probe/nbh/01936f4e-7d3c-7a10-8f2e-6b9d3c1a2b4c/secret?x=1")
	b.ReportAllocs()
	for b.Loop() {
		_ = s.routeBodyLimit(&h)
	}
}
