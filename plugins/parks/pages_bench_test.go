package parks

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// The page speed targets, measured through the plugin's own handler
// (sdk.Mux: routing, the service, the store, the templates), on SQLite and
// on PostgreSQL when KVARTER_TEST_DATABASE_URL is set:
//
//	go test -run '^$' -bench 'Pages_' -benchtime 200x .
//
// The host's frame and the gRPC hop are the same for every page and route of
// every plugin; bench/pages/run.sh measures them (issue 16).

// BenchmarkPages_Availability is an area's page of free slots for 90 days
// with 5,000 approved bookings in the park, in Finnish, and reports p50/p95
// per page. Target: p95 under 50 ms.
func BenchmarkPages_Availability(b *testing.B) {
	for name, cfg := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, cfg.Dialect, cfg, nil)
			seedBookings(b, w, 5000)
			h := sdk.Mux(w.plugin.Routes())
			target := "/parks/" + w.park.ID + "/areas/" + w.meadow.ID + "?from=2025-06-03&days=90"
			durs := make([]time.Duration, 0, b.N)
			cpu0 := cpuTime()
			for b.Loop() {
				t0 := time.Now()
				code, n := servePage(h, w.rep, "fi", target)
				durs = append(durs, time.Since(t0))
				if code != 200 || n < 10000 {
					b.Fatalf("GET %s = %d, %d bytes", target, code, n)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(len(durs))/1000, "cpu-ms/page")
			b.ReportMetric(float64(slotLinks(h, w.rep, target)), "slots")
			slices.Sort(durs)
			pct := func(p float64) float64 { return float64(durs[int(p*float64(len(durs)-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
		})
	}
}

// BenchmarkPages_Calendar is the public calendar page — a month, in Turkish
// — against the JSON route that lists the same month's events, in
// alternating rounds of one run, and reports the page's throughput as a
// share of the route's. Target: at least 0.70.
func BenchmarkPages_Calendar(b *testing.B) {
	for name, cfg := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, cfg.Dialect, cfg, nil)
			seedBookings(b, w, 5000)
			// Public, so the month shown holds about 370 events on the calendar.
			if _, err := w.plugin.db.Exec(w.plugin.db.Rebind(`UPDATE bookings SET public = ?`), true); err != nil {
				b.Fatal(err)
			}
			h := sdk.Mux(w.plugin.Routes())
			page := "/parks/calendar?view=week&date=2025-07-07"
			route := "/api/v1/parks/events?from=2025-07-07T00:00:00%2B03:00&to=2025-07-14T00:00:00%2B03:00&limit=200"
			var pageTime, routeTime time.Duration
			rounds := 0
			for b.Loop() {
				for _, tc := range []struct {
					target string
					sum    *time.Duration
				}{{route, &routeTime}, {page, &pageTime}} {
					t0 := time.Now()
					if code, _ := servePage(h, sdk.Principal{}, "tr", tc.target); code != 200 {
						b.Fatalf("GET %s = %d", tc.target, code)
					}
					*tc.sum += time.Since(t0)
				}
				rounds++
			}
			b.ReportMetric(float64(pageTime.Microseconds())/float64(rounds)/1000, "page-ms")
			b.ReportMetric(float64(routeTime.Microseconds())/float64(rounds)/1000, "route-ms")
			b.ReportMetric(float64(routeTime)/float64(pageTime), "page/route")
		})
	}
}

// benchStores are SQLite, and PostgreSQL when it is configured.
func benchStores(b *testing.B) map[string]sdk.StoreConfig {
	out := map[string]sdk.StoreConfig{"sqlite": {Dialect: sdk.DialectSQLite, DSN: "file:" + b.TempDir() + "/bench.db"}}
	if testing.Short() {
		return out
	}
	if os.Getenv(sdktest.EnvDatabaseURL) != "" {
		out["postgres"] = postgresSchema(b)
	}
	return out
}

// servePage answers target as the host asks for a page (or a route), and
// returns the status and the size of the answer.
func servePage(h http.Handler, pr sdk.Principal, lang, target string) (int, int) {
	req := httptest.NewRequest("GET", target, nil)
	ctx := sdk.WithLanguage(sdk.WithRender(sdk.WithPrincipal(req.Context(), pr), sdk.RenderPage), lang)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	return rec.Code, rec.Body.Len()
}

// cpuTime is the CPU time the test process has used: on a shared machine
// the wall time of a page waits for other processes, its CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// slotLinks counts the free slots an area page links to the request form.
func slotLinks(h http.Handler, pr sdk.Principal, target string) int {
	req := httptest.NewRequest("GET", target, nil)
	ctx := sdk.WithLanguage(sdk.WithRender(sdk.WithPrincipal(req.Context(), pr), sdk.RenderPage), "fi")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	return strings.Count(rec.Body.String(), "/request?")
}
