package httpapi_test

import (
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
)

// BenchmarkPages measures a core page through the whole stack — a real node and
// database, Fiber, the session lookup, the frame — against GET /api/v1/me with the
// same session (issue 16: the page at >= 50% of /me's throughput). It is the profile's
// source: go test -run '^$' -bench Pages -cpuprofile cpu.out ./core/httpapi.
// bench/pages/run.sh measures the same over the network with wrk.
func BenchmarkPages(b *testing.B) {
	for _, db := range coretest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			opt := coretest.Options()
			opt.PrincipalCacheTTL = 0 // the node's default, as `kvarter serve` runs
			cfg := db.Config
			cfg.City.Languages = []string{"fi", "sv", "da", "tr", "en"}
			n := coretest.StartNode(b, cfg, opt)
			admin := coretest.Admin(b, n, "admin@example.org")
			for _, name := range []string{"Karşıyaka", "Bornova", "Alsancak", "Buca", "Konak", "Bayraklı"} {
				admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]string{"name": name})
			}
			// A Finnish resident: the profile's language is the page's.
			anon := coretest.NewClient(b, n)
			anon.Must(201, "POST", "/api/v1/auth/register", map[string]string{"email": "aino@example.org",
				"password": "a long bench passphrase", "display_name": "Aino", "language": "fi"})
			login := anon.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": "aino@example.org", "password": "a long bench passphrase"})
			token, _ := login.JSON()["token"].(string)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			get := func(b *testing.B, path string, header map[string]string) {
				req, _ := http.NewRequest("GET", n.URL()+path, nil)
				for k, v := range header {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("GET %s = %d", path, resp.StatusCode)
				}
			}
			cookie := map[string]string{"Cookie": "kvarter_session=" + token}
			for _, c := range []struct {
				name, path string
				header     map[string]string
			}{
				{"Me", "/api/v1/me", map[string]string{"Authorization": "Bearer " + token}},
				{"Home", "/", cookie},
				{"Accessibility", "/accessibility", cookie},
				{"HomeAnonymous", "/", map[string]string{"Accept-Language": "fi"}},
			} {
				b.Run(c.name, func(b *testing.B) {
					start := cpuTime()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							get(b, c.path, c.header)
						}
					})
					// The machine is shared: the process's CPU time per request
					// (server and client) moves less with the neighbours' load than
					// the wall clock does.
					b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
				})
			}
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
