package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/metrics"
)

// TestRoute_ObserveAllocates nothing once a route and status have been seen: the
// request path pays two atomic updates, not a label lookup.
func TestRoute_ObserveAllocates(t *testing.T) {
	m := metrics.New("1.0.0", "abc", "go1.26")
	r := m.Route("GET", "/api/v1/parks/parks/{park}", "parks")
	r.Observe(200, time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() { r.Observe(200, time.Millisecond) }); n != 0 {
		t.Fatalf("Observe allocates %v times per request", n)
	}
	if m.Route("GET", "/api/v1/parks/parks/{park}", "parks") != r {
		t.Fatal("the same route resolved twice")
	}
	if n := testing.AllocsPerRun(1000, func() { m.Route("GET", "/api/v1/parks/parks/{park}", "parks") }); n != 0 {
		t.Fatalf("Route allocates %v times per lookup", n)
	}
}

// TestMetrics_Handler: with a token, a scrape without it or with another is refused.
func TestMetrics_Handler(t *testing.T) {
	m := metrics.New("1.0.0", "abc", "go1.26")
	h := m.Handler("sixteen characters!")
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer wrong", 401}, {"Basic sixteen characters!", 401}, {"Bearer sixteen characters!x", 401}, {"Bearer sixteen characters!", 200}, {"bearer sixteen characters!", 200}} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("Authorization %q: %d, want %d", tc.auth, rec.Code, tc.want)
		}
		if rec.Code == http.StatusOK && !strings.Contains(rec.Body.String(), `kvarter_build_info{commit="abc",go_version="go1.26",version="1.0.0"} 1`) {
			t.Errorf("no build info in %s", rec.Body.String())
		}
	}
}

// BenchmarkRoute_Observe is what the metrics add to one request: resolving the route's
// handle and recording the answer.
func BenchmarkRoute_Observe(b *testing.B) {
	m := metrics.New("1.0.0", "abc", "go1.26")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Route("GET", "/api/v1/probe/nbh/{nbh}/secret", "probe").Observe(200, 3*time.Millisecond)
		}
	})
}
