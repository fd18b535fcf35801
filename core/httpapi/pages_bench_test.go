package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// BenchmarkPages measures a core page through the whole stack — a real node and
// database, Fiber, the session lookup, the frame — against GET /api/v1/me with the
// same session (issue 16: the page at >= 50% of /me's throughput). It is the profile's
// source: go test -run '^$' -bench Pages -cpuprofile cpu.out ./core/httpapi.
// bench/pages/run.sh measures the same over the network with wrk.
func BenchmarkPages(b *testing.B) {
	for _, db := range coretest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			s := startBenchCity(b, db.Config)
			cookie := map[string]string{"Cookie": "kvarter_session=" + s.token}
			s.run(b, "Me", "/api/v1/me", map[string]string{"Authorization": "Bearer " + s.token})
			s.run(b, "Home", "/", cookie)
			s.run(b, "Accessibility", "/accessibility", cookie)
			s.run(b, "HomeAnonymous", "/", map[string]string{"Accept-Language": "fi"})
		})
	}
}

// BenchmarkPluginPage measures a plugin's page in the frame against the same plugin's
// JSON route (issue 16: the page at >= 70% of the route's throughput): the SDK's hello
// plugin, a child process of the node, its greeting form (/hello/greet) and
// GET /api/v1/hello/calls, as the same resident.
func BenchmarkPluginPage(b *testing.B) {
	hello, sum := sdktest.BuildPlugin(b, "../../sdk/examples/hello/cmd/hello")
	for _, db := range coretest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			cfg := db.Config
			cfg.Plugins = []node.PluginConfig{{Name: "hello", Path: hello, SHA256: sum}}
			s := startBenchCity(b, cfg)
			s.run(b, "Route", "/api/v1/hello/calls", map[string]string{"Authorization": "Bearer " + s.token})
			s.run(b, "Page", "/hello/greet", map[string]string{"Cookie": "kvarter_session=" + s.token})
		})
	}
}

// benchCity is a node with six neighbourhoods and a Finnish resident signed in.
type benchCity struct {
	n      *node.Node
	token  string
	client *http.Client
}

func startBenchCity(b *testing.B, cfg node.Config) *benchCity {
	b.Helper()
	opt := coretest.Options()
	opt.PrincipalCacheTTL = 0 // the node's default, as `kvarter serve` runs
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
	return &benchCity{n: n, token: token, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// run measures GET path with header as sub-benchmark name, reporting besides the wall
// clock the process's CPU time per request (server and client), which moves less with
// the neighbours' load on a shared machine, and that of its plugin processes.
func (s *benchCity) run(b *testing.B, name, path string, header map[string]string) {
	b.Run(name, func(b *testing.B) {
		start, startPlugins := cpuTime(), childrenCPUTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", s.n.URL()+path, nil)
				for k, v := range header {
					req.Header.Set(k, v)
				}
				resp, err := s.client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("GET %s = %d", path, resp.StatusCode)
				}
			}
		})
		b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		if plugins := childrenCPUTime() - startPlugins; plugins > 0 {
			b.ReportMetric(float64(plugins.Microseconds())/float64(b.N), "plugin-cpu-µs/op")
		}
	})
}

// childrenCPUTime is the CPU time the process's running children (its plugins) have
// used, user and system, from Linux's /proc; 0 elsewhere.
func childrenCPUTime() time.Duration {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var ticks int64
	for _, f := range tasks {
		kids, _ := os.ReadFile(f)
		for _, pid := range strings.Fields(string(kids)) {
			stat, err := os.ReadFile("/proc/" + pid + "/stat")
			if err != nil {
				continue
			}
			// The fields after the command's closing parenthesis: utime and stime are
			// the 12th and 13th of them.
			rest := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(rest) > 12 {
				u, _ := strconv.ParseInt(rest[11], 10, 64)
				s, _ := strconv.ParseInt(rest[12], 10, 64)
				ticks += u + s
			}
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ, 100 on Linux
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
