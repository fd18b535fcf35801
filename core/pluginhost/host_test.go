package pluginhost_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/pluginhost"
	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// probeBin is the test plugin (internal/probe), built once for the whole test binary;
// probeV2Bin is its next version (one more migration).
var probeBin, probeV2Bin string

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		// A fuzzing worker runs one fuzz target, which launches no plugin: no probe
		// to build in every worker.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "kvarter-pluginhost-test")
	if err != nil {
		panic(err)
	}
	probeBin = filepath.Join(dir, "probe")
	probeV2Bin = filepath.Join(dir, "probe-v2")
	for _, build := range [][]string{{"-o", probeBin}, {"-tags", "probe_v2", "-o", probeV2Bin}} {
		out, err := exec.Command("go", append(append([]string{"build"}, build...), "./internal/probe")...).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build probe plugin: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startNode starts a node running the probe under each of names, as built-ins. On
// PostgreSQL each test gets its own schema/role prefix, dropped afterwards.
func startNode(t *testing.T, db coretest.DB, names ...string) *node.Node {
	t.Helper()
	return startNodeWith(t, db, func(*node.Config, *node.Options) {}, names...)
}

// startNodeWith is startNode with the node's config and options changed by set.
func startNodeWith(t *testing.T, db coretest.DB, set func(*node.Config, *node.Options), names ...string) *node.Node {
	t.Helper()
	cfg := db.Config
	cfg.Plugins = []node.PluginConfig{}
	for _, n := range names {
		cfg.Plugins = append(cfg.Plugins, node.PluginConfig{Name: n})
	}
	if cfg.DatabaseURL != "" {
		cfg.PluginStorePrefix = pgPrefix(t, cfg.DatabaseURL)
	}
	opt := coretest.Options()
	opt.Executable, opt.Builtins, opt.HostVersion = probeBin, names, "0.1.0"
	opt.PluginHealthInterval = 200 * time.Millisecond
	set(&cfg, &opt)
	return coretest.StartNode(t, cfg, opt)
}

// pgPrefix returns a fresh prefix for plugin schemas (and so roles, which end in the
// schema's name) and drops what was made with it when the test ends (roles are
// server-wide, shared by every test).
func pgPrefix(t *testing.T, dbURL string) string {
	prefix := fmt.Sprintf("tp%d_", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		if admin, err := sqlx.Open("postgres", os.Getenv(coretest.EnvDatabaseURL)); err == nil {
			sdktest.DropPluginStores(admin, prefix)
			admin.Close()
		}
	})
	return prefix
}

// pluginRole is the login role of the plugin store in schema, as the host names it
// by default: after the database.
func pluginRole(t *testing.T, n *node.Node, schema string) string {
	t.Helper()
	var dbName string
	if err := coretest.SQL(n).Get(&dbName, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	return pluginhost.PluginRoleName(dbName+"_", schema)
}

type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return m
}

// call sends a request straight to the node (plugin routes are not in the core's
// document, so coretest's checked client is not used here).
func call(t testing.TB, n *node.Node, method, path, token string, header map[string]string) (resp, error) {
	req, _ := http.NewRequest(method, n.URL()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return resp{Status: r.StatusCode, Header: r.Header, Body: b}, err
}

func mustCall(t testing.TB, n *node.Node, want int, method, path, token string) resp {
	t.Helper()
	r, err := call(t, n, method, path, token, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.Status != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

func calls(t *testing.T, n *node.Node, plugin string) float64 {
	t.Helper()
	c, _ := mustCall(t, n, 200, "GET", "/api/v1/"+plugin+"/calls", "").json(t)["calls"].(float64)
	return c
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

func state(n *node.Node, name string) core.PluginStatus {
	st, _ := n.Plugins.Status(name)
	return st
}

// verifiedMember registers a resident and makes them a verified member of a new
// neighbourhood, through the API.
func verifiedMember(t *testing.T, n *node.Node, admin *coretest.User, email string) (*coretest.User, string) {
	t.Helper()
	nbh := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Nbh " + email}).JSON()["id"].(string)
	u := coretest.Register(t, n, email, "Resident "+email)
	u.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", map[string]any{})
	admin.Must(200, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships/"+u.ID+"/approve", map[string]any{})
	return u, nbh
}

// TestHost_Routing: only declared routes reach the plugin, permissions are checked in
// the route's domain before forwarding, and identity headers never reach it.
func TestHost_Routing(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha", "beta")
		admin := coretest.Admin(t, n, "admin@city.example")
		res, nbh := verifiedMember(t, n, admin, "res@city.example")
		outsider := coretest.Register(t, n, "out@city.example", "Outsider")
		other := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Elsewhere"}).JSON()["id"].(string)

		if got := mustCall(t, n, 200, "GET", "/api/v1/alpha/ping", "").json(t)["name"]; got != "alpha" {
			t.Fatalf("ping answered %v", got)
		}
		t.Run("Language", func(t *testing.T) {
			// The plugin words its errors in the requester's language (sdk.WriteError):
			// the host tells it which, for API requests as for pages.
			r, err := call(t, n, "GET", "/api/v1/alpha/ping", "", map[string]string{"Accept-Language": "sv-FI, fi;q=0.5"})
			if err != nil || r.json(t)["language"] != "sv" {
				t.Errorf("the plugin was told the language %v (%v), want sv", r.json(t)["language"], err)
			}
			// A signed-in person's profile language comes first (they registered in English).
			r, err = call(t, n, "GET", "/api/v1/alpha/ping", res.Token, map[string]string{"Accept-Language": "tr"})
			if err != nil || r.json(t)["language"] != "en" {
				t.Errorf("the plugin was told the language %v (%v), want the profile's en", r.json(t)["language"], err)
			}
		})
		before := calls(t, n, "alpha")
		t.Run("ErrNotDeclared", func(t *testing.T) {
			for _, p := range []string{"/api/v1/alpha/nope", "/api/v1/alpha/ping/extra", "/api/v1/alpha"} {
				r := mustCall(t, n, 404, "GET", p, "")
				if !strings.Contains(string(r.Body), `"not_found"`) {
					t.Errorf("%s: %s", p, r.Body)
				}
			}
			// A declared path with another method: 405 with the manifest's methods.
			if r := mustCall(t, n, 405, "DELETE", "/api/v1/alpha/ping", ""); r.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(string(r.Body), `"method_not_allowed"`) {
				t.Errorf("DELETE ping: Allow %q %s, want GET, HEAD", r.Header.Get("Allow"), r.Body)
			}
			mustCall(t, n, 404, "GET", "/api/v1/nosuchplugin/ping", "")
		})
		t.Run("ErrForbidden", func(t *testing.T) {
			mustCall(t, n, 401, "GET", "/api/v1/alpha/headers", "")
			mustCall(t, n, 401, "GET", "/api/v1/alpha/nbh/"+nbh+"/secret", "")
			mustCall(t, n, 403, "GET", "/api/v1/alpha/nbh/"+nbh+"/secret", outsider.Token)
			mustCall(t, n, 403, "GET", "/api/v1/alpha/nbh/"+other+"/secret", res.Token)
			mustCall(t, n, 403, "GET", "/api/v1/alpha/city/only", res.Token)
		})
		if after := calls(t, n, "alpha"); after != before {
			t.Fatalf("refused requests reached the plugin: calls %v -> %v", before, after)
		}
		t.Run("OK", func(t *testing.T) {
			// The default grant of the manifest makes a verified member a reader there.
			if got := mustCall(t, n, 200, "GET", "/api/v1/alpha/nbh/"+nbh+"/secret", res.Token).json(t)["nbh"]; got != nbh {
				t.Fatalf("secret answered for %v", got)
			}
			// The literal route is more specific than the parameter route.
			mustCall(t, n, 200, "GET", "/api/v1/alpha/nbh/special/secret", "")
			mustCall(t, n, 200, "GET", "/api/v1/alpha/city/only", admin.Token)
			mustCall(t, n, 502, "GET", "/api/v1/alpha/badstatus", "")
		})
		t.Run("IdentityHeadersStripped", func(t *testing.T) {
			r, err := call(t, n, "GET", "/api/v1/alpha/headers", res.Token, map[string]string{
				"Cookie": "kvarter_session=stolen", "X-Kvarter-User": "admin", "X-User-Id": "admin",
				"X-Principal": "admin", "Forwarded-User": "admin", "X-Forwarded-User": "admin",
				"Remote-User": "admin", "X-Auth-Request-User": "admin", "X-Request-Id": "client-chosen-id",
				"Accept-Language": "fi",
			})
			if err != nil || r.Status != 200 {
				t.Fatalf("headers = %d %v %s", r.Status, err, r.Body)
			}
			var got struct {
				Header    map[string][]string
				Principal struct{ UserID string }
				RequestID string `json:"request_id"`
			}
			_ = json.Unmarshal(r.Body, &got)
			for k := range got.Header {
				lk := strings.ToLower(k)
				if lk == "cookie" || lk == "authorization" || (strings.Contains(lk, "user") && lk != "user-agent") || strings.Contains(lk, "principal") || strings.HasPrefix(lk, "x-kvarter") || strings.HasPrefix(lk, "x-auth") {
					t.Errorf("header %s reached the plugin: %v", k, got.Header[k])
				}
			}
			if got.Header["Accept-Language"] == nil || got.Principal.UserID != res.ID {
				t.Errorf("plugin saw %+v", got)
			}
			if got.RequestID == "" || got.RequestID != r.Header.Get("X-Request-Id") {
				t.Errorf("request id %q, response says %q", got.RequestID, r.Header.Get("X-Request-Id"))
			}
			// The plugin sees the core's request id in the header too, once.
			if rid := got.Header["X-Request-Id"]; len(rid) != 1 || rid[0] != got.RequestID {
				t.Errorf("X-Request-Id at the plugin = %v, want [%s]", rid, got.RequestID)
			}
		})
		t.Run("OpenAPI", func(t *testing.T) {
			paths := n.Server.Document()["paths"].(map[string]any)
			if paths["/api/v1/alpha/ping"] == nil || paths["/api/v1/beta/ping"] == nil {
				t.Fatalf("plugin paths missing from the document")
			}
			if me := paths["/api/v1/me"].(map[string]any); me["get"].(map[string]any)["summary"] == nil {
				t.Fatalf("a plugin replaced a core path")
			}
		})
		t.Run("Admin", func(t *testing.T) {
			var list struct{ Items []core.PluginStatus }
			admin.Must(200, "GET", "/api/v1/admin/plugins", nil).Decode(t, &list)
			if len(list.Items) != 2 || list.Items[0].Name != "alpha" || list.Items[0].State != core.PluginActive || list.Items[0].Version != "1.2.3" {
				t.Fatalf("admin list = %+v", list.Items)
			}
			res.Must(403, "GET", "/api/v1/admin/plugins", nil)
			res.Must(403, "POST", "/api/v1/admin/plugins/alpha/disable", nil)
			admin.Must(404, "POST", "/api/v1/admin/plugins/nosuch/disable", nil)
			admin.Must(200, "POST", "/api/v1/admin/plugins/beta/disable", nil)
			waitFor(t, 5*time.Second, "beta stopped", func() bool { return state(n, "beta").State == core.PluginStopped })
			mustCall(t, n, 404, "GET", "/api/v1/beta/ping", "")
			admin.Must(200, "POST", "/api/v1/admin/plugins/beta/enable", nil)
			waitFor(t, 5*time.Second, "beta active", func() bool { return state(n, "beta").State == core.PluginActive })
			mustCall(t, n, 200, "GET", "/api/v1/beta/ping", "")
			var audit struct{ Items []core.AuditEntry }
			admin.Must(200, "GET", "/api/v1/admin/audit?action=plugin.disable", nil).Decode(t, &audit)
			if len(audit.Items) != 1 || audit.Items[0].Target != "plugin:beta" {
				t.Fatalf("audit = %+v", audit.Items)
			}
		})
	})
}

// TestHost_Crash kills a plugin with SIGKILL while load runs against the core and
// another plugin: none of those requests fails, the killed plugin's routes answer 503
// with Retry-After and serve again within 5 s; past the crash budget it is failed
// while everything else keeps serving, until an operator enables it.
// TestHost_Deadline: a plugin sees the host's deadline on its request's context, and
// one that overruns it is answered for (503, in plain words) while its handler's
// context is cancelled.
func TestHost_Deadline(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		const timeout = 500 * time.Millisecond
		n := startNodeWith(t, db, func(_ *node.Config, o *node.Options) { o.PluginRequestTimeout = timeout }, "alpha")
		admin := coretest.Admin(t, n, "admin@city.example")

		left, ok := mustCall(t, n, 200, "GET", "/api/v1/alpha/headers", admin.Token).json(t)["deadline_in_ms"].(float64)
		if !ok || left <= 0 || left > float64(timeout.Milliseconds()) {
			t.Errorf("the plugin saw a deadline %v ms away, want within %v", left, timeout)
		}

		start := time.Now()
		r := mustCall(t, n, 503, "GET", "/api/v1/alpha/slow", "")
		if took := time.Since(start); took < timeout || took > timeout+5*time.Second {
			t.Errorf("the host answered after %v, want about %v", took, timeout)
		}
		if !strings.Contains(string(r.Body), "did not answer in time") || r.Header.Get("Retry-After") == "" {
			t.Errorf("overrun answered %v: %s", r.Header, r.Body)
		}
		// The cancellation reaches the plugin's handler just after the host answered.
		deadline := time.Now().Add(5 * time.Second)
		for mustCall(t, n, 200, "GET", "/api/v1/alpha/cancelled", "").json(t)["cancelled"] != float64(1) {
			if time.Now().After(deadline) {
				t.Fatal("the slow handler's context was never cancelled")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if st := state(n, "alpha"); st.State != core.PluginActive {
			t.Errorf("after an overrun the plugin is %s", st.State)
		}
	})
}

func TestHost_Crash(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha", "beta")
		admin := coretest.Admin(t, n, "admin@city.example")

		var failures, served atomic.Int64
		var firstFailure atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := []string{"/api/v1/beta/ping", "/api/v1/neighbourhoods", "/healthz"}[i%3]
				for {
					select {
					case <-stop:
						return
					default:
					}
					r, err := call(t, n, "GET", path, "", nil)
					if err != nil || r.Status != 200 {
						failures.Add(1)
						firstFailure.CompareAndSwap(nil, fmt.Sprintf("%s: %d %v %s", path, r.Status, err, r.Body))
					} else {
						served.Add(1)
					}
				}
			}()
		}

		kill := func() {
			pid := n.Plugins.Pid("alpha")
			if pid == 0 {
				t.Fatal("alpha has no process")
			}
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
		kill()
		saw503 := false
		took := waitFor(t, 5*time.Second, "alpha serves again", func() bool {
			r, err := call(t, n, "GET", "/api/v1/alpha/ping", "", nil)
			if err == nil && r.Status == 503 {
				if r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), `"unavailable"`) {
					t.Errorf("503 without Retry-After or error body: %v %s", r.Header, r.Body)
				}
				saw503 = true
			}
			return err == nil && r.Status == 200
		})
		t.Logf("alpha served again %s after SIGKILL (saw 503: %v)", took, saw503)
		if st := state(n, "alpha"); st.Restarts != 1 || st.LastError == "" {
			t.Errorf("after one crash: %+v", st)
		}

		// Two more crashes spend the budget.
		for range CrashBudgetLeft() {
			waitFor(t, 5*time.Second, "alpha active", func() bool { return n.Plugins.Pid("alpha") != 0 })
			kill()
			waitFor(t, 5*time.Second, "alpha down", func() bool { return n.Plugins.Pid("alpha") == 0 })
		}
		waitFor(t, 5*time.Second, "alpha failed", func() bool { return state(n, "alpha").State == core.PluginFailed })
		time.Sleep(300 * time.Millisecond) // no restart follows
		var list struct{ Items []core.PluginStatus }
		admin.Must(200, "GET", "/api/v1/admin/plugins", nil).Decode(t, &list)
		if list.Items[0].State != core.PluginFailed || list.Items[1].State != core.PluginActive {
			t.Fatalf("admin list = %+v", list.Items)
		}
		r := mustCall(t, n, 503, "GET", "/api/v1/alpha/ping", "")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("failed plugin's 503 has no Retry-After")
		}

		close(stop)
		wg.Wait()
		if failures.Load() != 0 {
			t.Fatalf("%d of %d requests to the core and beta failed; first: %v", failures.Load(), failures.Load()+served.Load(), firstFailure.Load())
		}
		t.Logf("%d requests to the core and beta, none failed", served.Load())

		admin.Must(200, "POST", "/api/v1/admin/plugins/alpha/enable", nil)
		waitFor(t, 5*time.Second, "alpha enabled", func() bool { return state(n, "alpha").State == core.PluginActive })
		mustCall(t, n, 200, "GET", "/api/v1/alpha/ping", "")
	})
}

// CrashBudgetLeft is how many more crashes, after the first, fail a plugin.
func CrashBudgetLeft() int { return 2 }

// TestHost_Checksum: an external plugin whose file does not match its sha256 is refused
// and reported, and the core keeps serving.
func TestHost_Checksum(t *testing.T) {
	db := coretest.Databases(t)[0]
	cfg := db.Config
	cfg.Plugins = []node.PluginConfig{{Name: "probe", Path: probeBin, SHA256: strings.Repeat("ab", 32)}}
	n := coretest.StartNode(t, cfg, coretest.Options())
	st := state(n, "probe")
	if st.State != core.PluginFailed || !strings.Contains(st.LastError, "sha256") {
		t.Fatalf("status = %+v", st)
	}
	mustCall(t, n, 200, "GET", "/readyz", "")
	mustCall(t, n, 503, "GET", "/api/v1/probe/ping", "")
}

// TestHost_PostgresIsolation: a plugin's role reads its own schema and nothing else —
// not the core's tables, not another plugin's.
func TestHost_PostgresIsolation(t *testing.T) {
	sdktest.PostgresURL(t) // skips outside CI when PostgreSQL is not configured; fails in CI
	db := coretest.Databases(t)[1]
	n := startNode(t, db, "alpha", "beta")
	coreSchema, _ := url.Parse(db.Config.DatabaseURL)
	prefix := n.Config.PluginStorePrefix
	role := pluginRole(t, n, prefix+"alpha")
	var pw string
	if err := coretest.SQL(n).Get(&pw, `SELECT password FROM plugin_store_logins WHERE role_name = $1`, role); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(os.Getenv(coretest.EnvDatabaseURL))
	u.User = url.UserPassword(role, pw)
	conn, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var k int
	if err := conn.Get(&k, `SELECT COUNT(*) FROM `+prefix+`alpha.seen`); err != nil {
		t.Fatalf("own schema: %v", err)
	}
	for _, table := range []string{coreSchema.Query().Get("search_path") + ".users", coreSchema.Query().Get("search_path") + ".sessions", prefix + "beta.seen"} {
		if err := conn.Get(&k, `SELECT COUNT(*) FROM `+table); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("plugin role reading %s: %v, want permission denied", table, err)
		}
	}
	if _, err := conn.Exec(`CREATE TABLE ` + prefix + `beta.intruder (x int)`); err == nil {
		t.Errorf("plugin role created a table in another plugin's schema")
	}
	// The host installs btree_gist, which the plugin's role could not.
	var gist bool
	if err := coretest.SQL(n).Get(&gist, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist')`); err != nil || !gist {
		t.Errorf("btree_gist installed = %v, %v", gist, err)
	}
}

// TestHost_Events publishes 10,000 events from one plugin while the subscriber is
// killed midway: every event arrives, each is applied once, in publish order.
func TestHost_Events(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha", "beta")
		const total, chunk = 10000, 500
		start := time.Now()
		for from := 0; from < total; from += chunk {
			mustCall(t, n, 200, "POST", fmt.Sprintf("/api/v1/alpha/publish?from=%d&n=%d", from+1, chunk), "")
			if from == total/2 {
				if err := syscall.Kill(n.Plugins.Pid("beta"), syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		t.Logf("published %d events in %s", total, time.Since(start))
		var got map[string]any
		took := waitFor(t, 60*time.Second, "all events delivered to beta", func() bool {
			r, err := call(t, n, "GET", "/api/v1/beta/events", "", nil)
			if err != nil || r.Status != 200 {
				return false
			}
			_ = json.Unmarshal(r.Body, &got)
			return got["distinct"] == float64(total)
		})
		t.Logf("beta has all %d events %s after the last publish: %v", total, took, got)
		if got["out_of_order"] != float64(0) {
			t.Fatalf("events out of order: %v", got)
		}
		if st := state(n, "beta"); st.Restarts != 1 {
			t.Errorf("beta restarts = %d, want 1", st.Restarts)
		}
		var cursor int64
		store := &sqlstore.PluginStore{DB: n.DB}
		if cursor, _ = store.EventCursor(context.Background(), "beta"); cursor == 0 {
			t.Errorf("beta's cursor did not move")
		}
	})
}

// TestHost_PublishAll: a batch is recorded in one call, in order, and reaches the
// subscriber; IDs the outbox holds already are skipped, neither duplicated nor an error;
// an event the host refuses (a type outside the manifest, a payload that is not JSON)
// or a batch over sdk.MaxPublishBatch records nothing of the batch.
// TestHost_EventsTwoNodes: two nodes on one PostgreSQL database each run the
// subscriber; every event reaches it once, because one node at a time delivers a
// subscriber's stream (an advisory lock) and moves the shared cursor.
func TestHost_EventsTwoNodes(t *testing.T) {
	url := coretest.PostgresSchema(t, sdktest.PostgresURL(t))
	cfg := coretest.Databases(t)[0].Config
	cfg.DataDir, cfg.DatabaseURL = t.TempDir(), url // the key file goes there, not into the source tree
	db := coretest.DB{Name: "postgres", Config: cfg}
	prefix := pgPrefix(t, url)
	shared := func(c *node.Config, _ *node.Options) { c.PluginStorePrefix = prefix }
	a := startNodeWith(t, db, shared, "alpha", "beta")
	b := startNodeWith(t, db, shared, "alpha", "beta")

	const total, chunk = 3000, 500
	for from := 0; from < total; from += chunk {
		mustCall(t, a, 200, "POST", fmt.Sprintf("/api/v1/alpha/publish?from=%d&n=%d", from+1, chunk), "")
	}
	waitFor(t, 60*time.Second, "all events delivered to beta", func() bool {
		return mustCall(t, b, 200, "GET", "/api/v1/beta/events", "").json(t)["distinct"] == float64(total)
	})
	for _, n := range []*node.Node{a, b} {
		got := mustCall(t, n, 200, "GET", "/api/v1/beta/events", "").json(t)
		if got["redelivered"] != float64(0) || got["out_of_order"] != float64(0) {
			t.Errorf("node %s: beta saw %v; want no event twice and none out of order", n.URL(), got)
		}
	}
}

// TestHost_EventsFailingInBatch: twenty events reach the subscriber in one batch, and
// it refuses the eighth until healed. The seven before it are handled once and the
// cursor moves past them; the eighth is retried with backoff and nothing after it is
// handled meanwhile; once healed, it and the twelve after it arrive, in order, each once.
func TestHost_EventsFailingInBatch(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha", "beta")
		events := make([]probeEvent, 20)
		for i := range events {
			events[i] = probeEvent{ID: fmt.Sprintf("fb%02d", i+1), Type: "alpha.tick", Payload: fmt.Sprintf(`{"seq": %d}`, i+1)}
		}
		events[7].Payload = `{"seq": 8, "fail": true}`
		publishAll(t, n, 200, events...) // one transaction: the first pass sees all twenty
		_, seqs := outbox(t, n, "alpha")

		probeEvents := func() map[string]any { return mustCall(t, n, 200, "GET", "/api/v1/beta/events", "").json(t) }
		waitFor(t, 20*time.Second, "beta refused the eighth event twice", func() bool { return probeEvents()["refused"].(float64) >= 2 })
		got := probeEvents()
		if got["distinct"] != float64(7) || got["max_seq"] != float64(7) || got["redelivered"] != float64(0) {
			t.Fatalf("while the eighth fails beta holds %v; want the seven before it, each once", got)
		}
		var cursor struct {
			LastSeq   int64  `db:"last_seq"`
			Attempts  int    `db:"attempts"`
			LastError string `db:"last_error"`
		}
		sqlDB := coretest.SQL(n)
		if err := sqlDB.Get(&cursor, sqlDB.Rebind(`SELECT last_seq, attempts, last_error FROM plugin_event_cursors WHERE subscriber = ?`), "beta"); err != nil {
			t.Fatal(err)
		}
		if cursor.LastSeq != seqs[6] || cursor.Attempts < 1 || !strings.Contains(cursor.LastError, "fb08") {
			t.Errorf("beta's cursor = %+v; want it at the seventh event (seq %d), the failure of fb08 recorded", cursor, seqs[6])
		}

		mustCall(t, n, 200, "POST", "/api/v1/beta/heal", "")
		waitFor(t, 30*time.Second, "beta has all twenty", func() bool { return probeEvents()["distinct"] == float64(20) })
		got = probeEvents()
		if got["redelivered"] != float64(0) || got["out_of_order"] != float64(0) || got["max_seq"] != float64(20) {
			t.Errorf("beta saw %v; want every event once, in order", got)
		}
		// The plugin has the events before the host commits the cursor past them.
		waitFor(t, 10*time.Second, "beta's cursor at the last event", func() bool {
			if err := sqlDB.Get(&cursor, sqlDB.Rebind(`SELECT last_seq, attempts, last_error FROM plugin_event_cursors WHERE subscriber = ?`), "beta"); err != nil {
				t.Fatal(err)
			}
			return cursor.LastSeq == seqs[19]
		})
		if cursor.LastSeq != seqs[19] || cursor.Attempts != 0 || cursor.LastError != "" {
			t.Errorf("beta's cursor = %+v; want it at the last event (seq %d), the failure cleared", cursor, seqs[19])
		}
	})
}

// TestHost_OperatorCommands: enable, disable and restart given through one node hold
// on every node sharing the database, and a disable outlives a restart of the node.
func TestHost_OperatorCommands(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		prefix := ""
		shared := func(c *node.Config, _ *node.Options) {
			if c.DatabaseURL != "" {
				if prefix == "" {
					prefix = pgPrefix(t, c.DatabaseURL)
				}
				c.PluginStorePrefix = prefix
			}
		}
		a := startNodeWith(t, db, shared, "alpha")
		admin := coretest.Admin(t, a, "admin@city.example")
		admin.Must(200, "POST", "/api/v1/admin/plugins/alpha/disable", nil)
		waitFor(t, 10*time.Second, "alpha disabled", func() bool {
			r, err := call(t, a, "GET", "/api/v1/alpha/ping", "", nil)
			return err == nil && r.Status == 404
		})

		// A node started later, or restarted, keeps the plugin disabled.
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		b := startNodeWith(t, db, shared, "alpha")
		if r := mustCall(t, b, 404, "GET", "/api/v1/alpha/ping", ""); !strings.Contains(string(r.Body), "disabled") {
			t.Errorf("a disabled plugin answered %s", r.Body)
		}
		if st := state(b, "alpha"); st.State != core.PluginStopped {
			t.Errorf("after a restart the disabled plugin is %s", st.State)
		}
		if db.Config.DatabaseURL == "" {
			return // one node per SQLite file
		}

		// With two nodes, a command given through either holds on both.
		c := startNodeWith(t, db, shared, "alpha")
		mustCall(t, c, 404, "GET", "/api/v1/alpha/ping", "")
		onB := coretest.NewClient(t, b)
		onB.Token = admin.Token
		onB.Must(200, "POST", "/api/v1/admin/plugins/alpha/enable", nil)
		for _, n := range []*node.Node{b, c} {
			waitFor(t, 10*time.Second, "alpha serving on every node", func() bool {
				r, err := call(t, n, "GET", "/api/v1/alpha/ping", "", nil)
				return err == nil && r.Status == 200
			})
		}
		before := c.Plugins.Pid("alpha")
		onB.Must(200, "POST", "/api/v1/admin/plugins/alpha/restart", nil)
		waitFor(t, 10*time.Second, "alpha restarted on the other node", func() bool {
			pid := c.Plugins.Pid("alpha")
			return pid != 0 && pid != before && state(c, "alpha").State == core.PluginActive
		})
		onB.Must(200, "POST", "/api/v1/admin/plugins/alpha/disable", nil)
		waitFor(t, 10*time.Second, "alpha disabled on the other node", func() bool {
			r, err := call(t, c, "GET", "/api/v1/alpha/ping", "", nil)
			return err == nil && r.Status == 404
		})
	})
}

func TestHost_PublishAll(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha", "beta")
		tick := func(id string, seq int) probeEvent {
			return probeEvent{ID: id, Type: "alpha.tick", Payload: fmt.Sprintf(`{"seq": %d}`, seq)}
		}
		wantOutbox := func(t *testing.T, want ...string) {
			t.Helper()
			ids, seqs := outbox(t, n, "alpha")
			if !slices.Equal(ids, want) {
				t.Fatalf("outbox holds %v, want %v", ids, want)
			}
			// A skipped or refused event takes no seq: delivery would wait at the hole.
			for i := 1; i < len(seqs); i++ {
				if seqs[i] != seqs[i-1]+1 {
					t.Errorf("outbox seqs %v have a hole", seqs)
				}
			}
		}

		t.Run("OK", func(t *testing.T) {
			publishAll(t, n, 200, tick("e1", 1), tick("e2", 2), tick("e3", 3))
			wantOutbox(t, "e1", "e2", "e3")
			waitFor(t, 10*time.Second, "beta has the batch", func() bool { return distinctEvents(t, n, "beta") == 3 })
		})
		t.Run("Redelivered", func(t *testing.T) {
			publishAll(t, n, 200, tick("e2", 2), tick("e3", 3), tick("e4", 4), tick("e4", 4))
			wantOutbox(t, "e1", "e2", "e3", "e4")
		})
		t.Run("ErrNotInManifest", func(t *testing.T) {
			r := publishAll(t, n, 500, tick("e5", 5), probeEvent{ID: "e6", Type: "alpha.undeclared", Payload: "{}"})
			if !strings.Contains(string(r.Body), "not in the manifest") {
				t.Errorf("error %s", r.Body)
			}
			wantOutbox(t, "e1", "e2", "e3", "e4")
		})
		t.Run("ErrPayload", func(t *testing.T) {
			r := publishAll(t, n, 500, tick("e5", 5), probeEvent{ID: "e6", Type: "alpha.tick", Payload: "{not json"})
			if !strings.Contains(string(r.Body), "not JSON") {
				t.Errorf("error %s", r.Body)
			}
			wantOutbox(t, "e1", "e2", "e3", "e4")
		})
		t.Run("ErrTooMany", func(t *testing.T) {
			events := make([]probeEvent, sdk.MaxPublishBatch+1)
			for i := range events {
				events[i] = tick(fmt.Sprintf("big%04d", i), 100+i)
			}
			r := publishAll(t, n, 500, events...)
			if !strings.Contains(string(r.Body), fmt.Sprintf("at most %d events", sdk.MaxPublishBatch)) {
				t.Errorf("error %s", r.Body)
			}
			wantOutbox(t, "e1", "e2", "e3", "e4")
		})
		waitFor(t, 10*time.Second, "beta has every recorded event once", func() bool { return distinctEvents(t, n, "beta") == 4 })
	})
}

// probeEvent is an event as the probe's publishall route takes it.
type probeEvent struct{ ID, Type, Payload string }

// publishAll has the alpha probe publish events with one Host.PublishAll.
func publishAll(t *testing.T, n *node.Node, want int, events ...probeEvent) resp {
	t.Helper()
	body, _ := json.Marshal(events)
	r, err := http.Post(n.URL()+"/api/v1/alpha/publishall", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != want {
		t.Fatalf("publishall = %d, want %d: %s", r.StatusCode, want, b)
	}
	return resp{Status: r.StatusCode, Header: r.Header, Body: b}
}

// outbox returns the IDs and seqs of the events source published, in publish order.
func outbox(t *testing.T, n *node.Node, source string) ([]string, []int64) {
	t.Helper()
	var rows []struct {
		ID  string `db:"id"`
		Seq int64  `db:"seq"`
	}
	db := coretest.SQL(n)
	if err := db.Select(&rows, db.Rebind(`SELECT id, seq FROM outbox_events WHERE source = ? ORDER BY seq`), source); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var seqs []int64
	for _, r := range rows {
		ids, seqs = append(ids, r.ID), append(seqs, r.Seq)
	}
	return ids, seqs
}

// distinctEvents is how many distinct events a probe has applied.
func distinctEvents(t *testing.T, n *node.Node, plugin string) float64 {
	t.Helper()
	r, err := call(t, n, "GET", "/api/v1/"+plugin+"/events", "", nil)
	if err != nil || r.Status != 200 {
		return -1
	}
	d, _ := r.json(t)["distinct"].(float64)
	return d
}

// TestHost_Readiness: /readyz names the plugins that are not active, stays 200 while
// only optional ones are down, and answers 503 naming a required plugin that is down;
// /healthz stays 200 throughout (the process is alive).
func TestHost_Readiness(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNodeWith(t, db, func(c *node.Config, _ *node.Options) { c.RequiredPlugins = []string{"alpha"} }, "alpha", "beta")
		admin := coretest.Admin(t, n, "admin@city.example")
		type readiness struct {
			Status           string                 `json:"status"`
			Reason           string                 `json:"reason"`
			PluginsNotActive []core.PluginReadiness `json:"plugins_not_active"`
		}
		ready := func(want int) readiness {
			t.Helper()
			var r readiness
			if err := json.Unmarshal(mustCall(t, n, want, "GET", "/readyz", "").Body, &r); err != nil {
				t.Fatal(err)
			}
			mustCall(t, n, 200, "GET", "/healthz", "")
			return r
		}
		if r := ready(200); r.Status != "ready" || len(r.PluginsNotActive) != 0 {
			t.Fatalf("all active: %+v", r)
		}

		admin.Must(200, "POST", "/api/v1/admin/plugins/beta/disable", map[string]any{})
		waitFor(t, 10*time.Second, "beta stopped", func() bool { return state(n, "beta").State == core.PluginStopped })
		r := ready(200)
		if want := []core.PluginReadiness{{Name: "beta", State: core.PluginStopped}}; !slices.Equal(r.PluginsNotActive, want) {
			t.Fatalf("optional beta down: %+v, want %+v listed", r, want)
		}

		admin.Must(200, "POST", "/api/v1/admin/plugins/alpha/disable", map[string]any{})
		waitFor(t, 10*time.Second, "alpha stopped", func() bool { return state(n, "alpha").State == core.PluginStopped })
		r = ready(503)
		if r.Status != "not_ready" || !strings.Contains(r.Reason, "alpha") ||
			!slices.Contains(r.PluginsNotActive, core.PluginReadiness{Name: "alpha", State: core.PluginStopped, Required: true}) {
			t.Fatalf("required alpha down: %+v", r)
		}

		admin.Must(200, "POST", "/api/v1/admin/plugins/alpha/enable", map[string]any{})
		waitFor(t, 20*time.Second, "alpha active", func() bool { return state(n, "alpha").State == core.PluginActive })
		if r := ready(200); r.Status != "ready" || len(r.PluginsNotActive) != 1 {
			t.Fatalf("alpha back: %+v", r)
		}
	})
}

// postDeclared sends the header of a POST declaring a body of size bytes and only the
// first bytes of it, and reads the answer: a server that refuses on the declared
// length answers at once, before reading the body (and before a client could finish
// sending it).
func postDeclared(t *testing.T, n *node.Node, path string, size int) resp {
	t.Helper()
	conn, err := net.Dial("tcp", n.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: kvarter\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\nxxxx", path, size)
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s with %d bytes declared: %v", path, size, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{Status: r.StatusCode, Header: r.Header, Body: b}
}

// TestHost_RouteBodyLimit: a route's manifest may declare a larger body limit than
// the core's 1 MiB, and the host enforces each route's own: a 3 MiB upload reaches
// the plugin whole, while 3 MiB to a route without a declared limit, and 5 MiB to the
// upload route, are refused with 413 on the declared length, before the body is read
// and before the plugin sees anything.
func TestHost_RouteBodyLimit(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha")
		three := bytes.Repeat([]byte("x"), 3<<20)
		hr, err := http.Post(n.URL()+"/api/v1/alpha/upload", "application/octet-stream", bytes.NewReader(three))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(hr.Body)
		hr.Body.Close()
		r := resp{Status: hr.StatusCode, Body: body}
		if r.Status != 200 || r.json(t)["bytes"] != float64(len(three)) {
			t.Fatalf("3 MiB to a route declaring 4 MiB = %d %s", r.Status, r.Body)
		}
		before := calls(t, n, "alpha")
		for _, c := range []struct {
			path string
			size int
		}{
			{"/api/v1/alpha/publishall", 3 << 20},          // the default limit
			{"/api/v1/alpha/upload", 5 << 20},              // over the declared limit
			{"/api/v1/alpha/upload?x=/api/v1/", 5 << 20},   // a query cannot move the route
			{"/api/v1/alpha/../alpha/upload", 5 << 20},     // nor a path that is not the route's
			{"/api/v1/neighbourhoods", (1 << 20) + 1},      // a core route keeps 1 MiB
			{"/api/v1/nosuchplugin/upload", (1 << 20) + 1}, // an unknown plugin too
		} {
			r := postDeclared(t, n, c.path, c.size)
			if r.Status != 413 || !strings.Contains(string(r.Body), `"code":"too_large"`) {
				t.Errorf("%d bytes to %s = %d %s, want 413 too_large", c.size, c.path, r.Status, r.Body)
			}
		}
		if got := calls(t, n, "alpha"); got != before {
			t.Errorf("refused bodies reached the plugin: calls %v → %v", before, got)
		}
	})
}

// BenchmarkHost_BodyLimit is the host's share of a request's body limit, for a plugin
// that declares limits of its own (the probe's upload route), so that every request
// to it is matched against its routes once more before its body is read.
func BenchmarkHost_BodyLimit(b *testing.B) {
	db := coretest.Databases(b)[0]
	cfg := db.Config
	cfg.Plugins = []node.PluginConfig{{Name: "probe"}}
	opt := coretest.Options()
	opt.Executable, opt.Builtins, opt.HostVersion = probeBin, []string{"probe"}, "0.1.0"
	n := coretest.StartNode(b, cfg, opt)
	path := "/api/v1/probe/nbh/01936f4e-7d3c-7a10-8f2e-6b9d3c1a2b4c/secret"
	if got := n.Plugins.BodyLimit("POST", "/api/v1/probe/upload"); got != 4<<20 {
		b.Fatalf("upload limit = %d", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = n.Plugins.BodyLimit("GET", path)
	}
}
