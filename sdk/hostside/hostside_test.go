package hostside_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// testHost is the core as far as the plugin can tell; it records every callback.
type testHost struct {
	sdktest.Sealing // SealingKey and Unseal with a real keyring
	mu              sync.Mutex
	calls           []string
	published       []sdk.Event
	audits          []sdk.AuditEntry
}

var _ sdk.Host = (*testHost)(nil)

func (h *testHost) record(call string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, call)
}

func (h *testHost) called(call string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Contains(h.calls, call)
}

func (h *testHost) Users(_ context.Context, ids []string) ([]sdk.User, error) {
	h.record("Users " + strings.Join(ids, ","))
	var out []sdk.User
	for _, id := range ids {
		out = append(out, sdk.User{ID: id, DisplayName: "Name of " + id, Locale: "sv", Email: id + "@example.org"})
	}
	return out, nil
}

func (h *testHost) Neighbourhoods(_ context.Context, ids []string) ([]sdk.Neighbourhood, error) {
	h.record("Neighbourhoods")
	return nil, nil
}

func (h *testHost) Memberships(_ context.Context, ids []string) ([]sdk.Membership, error) {
	h.record("Memberships")
	return nil, nil
}

func (h *testHost) Organisations(_ context.Context, ids []string) ([]sdk.Organisation, error) {
	h.record("Organisations")
	return nil, nil
}

func (h *testHost) Can(_ context.Context, userID, permission, domain string) (bool, error) {
	h.record("Can " + userID + " " + permission + " " + domain)
	return userID == "u-admin", nil
}

func (h *testHost) Publish(_ context.Context, e sdk.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "Publish "+e.Type)
	h.published = append(h.published, e)
	return nil
}

func (h *testHost) PublishAll(_ context.Context, events []sdk.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "PublishAll "+strconv.Itoa(len(events)))
	h.published = append(h.published, events...)
	return nil
}

func (h *testHost) Audit(_ context.Context, e sdk.AuditEntry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.audits = append(h.audits, e)
	return nil
}

func testLogger() *slog.Logger {
	// Killed plugins log errors by design; show them only with -v.
	level := slog.LevelError + 1
	if testing.Verbose() {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func launch(tb testing.TB, o hostside.LaunchOptions) *hostside.Process {
	tb.Helper()
	if o.Name == "" {
		o.Name = "hello"
	}
	if o.Cmd == nil {
		o.Cmd = exec.Command(helloBin)
	}
	if o.Logger == nil {
		o.Logger = testLogger()
	}
	p, err := hostside.Launch(context.Background(), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Kill)
	return p
}

// started launches hello, configures it with a SQLite store in a temp dir and
// migrates it, as the core does before a plugin gets traffic.
func started(tb testing.TB) (*hostside.Process, *testHost, string) {
	tb.Helper()
	// The store's directory first: cleanups run last-registered first, so the plugin
	// is killed before its directory is removed, not while it still writes there.
	dbPath := filepath.Join(tb.TempDir(), "hello.db")
	p := launch(tb, hostside.LaunchOptions{})
	host := &testHost{}
	ctx := context.Background()
	err := p.Configure(ctx, hostside.ConfigureRequest{
		Settings:     map[string]string{"greeting": "hej"},
		Store:        sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + dbPath},
		CityTimeZone: "Europe/Stockholm",
		Languages:    []string{"sv", "en"},
		HostVersion:  "0.1.0",
	}, host)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := p.Activate(ctx); err != nil {
		tb.Fatal(err)
	}
	return p, host, dbPath
}

func handle(tb testing.TB, p *hostside.Process, r *hostside.HTTPRequest) (*hostside.HTTPResponse, map[string]any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := p.Handle(ctx, r)
	if err != nil {
		tb.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		tb.Fatalf("response body %q: %v", resp.Body, err)
	}
	return resp, body
}

func TestProcess_Describe(t *testing.T) {
	p := launch(t, hostside.LaunchOptions{})
	m, err := p.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "hello" || m.Version != "0.1.0" {
		t.Errorf("name, version = %q, %q", m.Name, m.Version)
	}
	want := sdk.Route{Method: "POST", Path: "/api/v1/hello/nbh/{nbh}/echo", Permission: "hello.echo.use", Domain: "nbh:{nbh}"}
	// Only the wire fields cross; the documentation and the handler stay in the plugin.
	if !slices.ContainsFunc(m.Routes, func(r sdk.Route) bool {
		return r.Method == want.Method && r.Path == want.Path && r.Permission == want.Permission && r.Domain == want.Domain && r.MaxBodyBytes == want.MaxBodyBytes
	}) {
		t.Errorf("routes %+v lack %+v", m.Routes, want)
	}
	if !slices.Equal(m.Publishes, []string{"hello.pinged"}) || !slices.Equal(m.Subscribes, []string{"core.user.deleted"}) {
		t.Errorf("publishes %v, subscribes %v", m.Publishes, m.Subscribes)
	}
	if len(m.Grants) != 1 || m.Grants[0] != (sdk.Grant{Role: "resident", Permission: "hello.echo.use"}) {
		t.Errorf("grants %+v", m.Grants)
	}
	if len(m.Roles) != 1 || !slices.Equal(m.Roles[0].Permissions, []string{"hello.echo.use"}) {
		t.Errorf("roles %+v", m.Roles)
	}
	if !json.Valid(m.OpenAPI) {
		t.Errorf("openapi not JSON: %s", m.OpenAPI)
	}
	if p.Pid() <= 0 {
		t.Errorf("pid %d", p.Pid())
	}
}

func TestProcess_Configure(t *testing.T) {
	t.Run("HostCallbacks", func(t *testing.T) {
		p, host, _ := started(t)
		_, body := handle(t, p, &hostside.HTTPRequest{
			Method: "GET", Path: "/api/v1/hello/whoami", RequestID: "req-1",
			Principal: sdk.Principal{UserID: "u-admin", DisplayName: "Ada"},
		})
		if !host.called("Users u-admin") || !host.called("Can u-admin hello.echo.use city") {
			t.Errorf("host calls %v", host.calls)
		}
		if body["can_echo_city"] != true || body["request_id"] != "req-1" {
			t.Errorf("body %v", body)
		}
		users := body["users"].([]any)
		if len(users) != 1 || users[0].(map[string]any)["DisplayName"] != "Name of u-admin" {
			t.Errorf("users %v", users)
		}

		_, body = handle(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/ping"})
		if body["greeting"] != "hej" {
			t.Errorf("ping %v: settings did not arrive", body)
		}
		// The ping's event leaves the plugin's outbox after its commit, through the
		// SDK's relay: it reaches the host shortly after the answer.
		var published []sdk.Event
		for deadline := time.Now().Add(10 * time.Second); len(published) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			host.mu.Lock()
			published = slices.Clone(host.published)
			host.mu.Unlock()
		}
		if len(published) != 1 {
			t.Fatalf("published %v", published)
		}
		if e := published[0]; e.Type != "hello.pinged" || e.Source != "hello" || !json.Valid(e.Payload) {
			t.Errorf("published %+v", e)
		}
	})
	t.Run("ErrTwice", func(t *testing.T) {
		p, host, _ := started(t)
		err := p.Configure(context.Background(), hostside.ConfigureRequest{}, host)
		if err == nil {
			t.Fatal("second Configure succeeded")
		}
	})
	t.Run("ErrBadStore", func(t *testing.T) {
		p := launch(t, hostside.LaunchOptions{})
		err := p.Configure(context.Background(), hostside.ConfigureRequest{
			Store: sdk.StoreConfig{Dialect: "oracle"},
		}, &testHost{})
		if err == nil || !strings.Contains(err.Error(), "oracle") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestProcess_Migrate(t *testing.T) {
	p, _, dbPath := started(t)
	// Migrating again is a no-op.
	if err := p.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names []string
	if err := db.Select(&names, `SELECT name FROM schema_migrations ORDER BY name`); err != nil {
		t.Fatal(err)
	}
	// The plugin's files, and the SDK's outbox table under its own name.
	if !slices.Equal(names, []string{"0001_pings.sql", "0002_ping_times_as_microseconds.sql", "0003_ping_messages.sql", "sdk:0001_outbox.sql"}) {
		t.Errorf("applied %v", names)
	}
	var n int
	if err := db.Get(&n, `SELECT COUNT(*) FROM pings`); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.Get(&mode, `PRAGMA journal_mode`); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v", mode, err)
	}
}

func TestProcess_Handle(t *testing.T) {
	p, _, _ := started(t)
	principal := sdk.Principal{
		UserID: "u-1", DisplayName: "Bea", Locale: "sv",
		Roles:          map[string][]string{"nbh:n-1": {"resident"}, "city": {"coordinator"}},
		Neighbourhoods: []string{"n-1"},
		Organisations:  []sdk.OrgMembership{{OrganisationID: "o-1", Role: "representative", Verified: true}},
	}
	resp, body := handle(t, p, &hostside.HTTPRequest{
		Method: "POST", Path: "/api/v1/hello/nbh/n-1/echo", RawQuery: "a=1&b=two%20words",
		Header: http.Header{
			"Content-Type":  {"text/plain"},
			"X-Multi":       {"one", "two"},
			"Cookie":        {"session=secret"},
			"Authorization": {"Bearer secret"},
		},
		Body:      []byte("hello body"),
		Principal: principal,
		RequestID: "req-2",
	})
	if resp.Status != http.StatusCreated {
		t.Errorf("status %d", resp.Status)
	}
	if resp.Header.Get("X-Hello-Nbh") != "n-1" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response header %v", resp.Header)
	}
	if body["method"] != "POST" || body["path"] != "/api/v1/hello/nbh/n-1/echo" ||
		body["query"] != "a=1&b=two%20words" || body["body"] != "hello body" || body["nbh"] != "n-1" {
		t.Errorf("echo %v", body)
	}
	hdr := body["header"].(map[string]any)
	if hdr["Cookie"] != nil || hdr["Authorization"] != nil {
		t.Errorf("credentials reached the plugin: %v", hdr)
	}
	if m := hdr["X-Multi"].([]any); len(m) != 2 || m[1] != "two" {
		t.Errorf("X-Multi %v", m)
	}
	var got sdk.Principal
	raw, _ := json.Marshal(body["principal"])
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.UserID != "u-1" || !got.HasRole("nbh:n-1", "resident") || !got.HasRole("nbh:n-9", "coordinator") ||
		got.HasRole("nbh:n-9", "resident") || len(got.Organisations) != 1 || !got.Organisations[0].Verified {
		t.Errorf("principal %+v", got)
	}

	t.Run("Anonymous", func(t *testing.T) {
		_, body := handle(t, p, &hostside.HTTPRequest{Method: "POST", Path: "/api/v1/hello/nbh/n-1/echo"})
		raw, _ := json.Marshal(body["principal"])
		var got sdk.Principal
		_ = json.Unmarshal(raw, &got)
		if got.Authenticated() {
			t.Errorf("principal %+v", got)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		resp, err := p.Handle(context.Background(), &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/nope"})
		if err != nil || resp.Status != http.StatusNotFound {
			t.Errorf("resp %+v, err %v", resp, err)
		}
	})
	t.Run("Counted", func(t *testing.T) {
		_, before := handle(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/calls"})
		handle(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/ping"})
		_, after := handle(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/calls"})
		if after["calls"].(float64) != before["calls"].(float64)+1 {
			t.Errorf("calls %v then %v", before["calls"], after["calls"])
		}
	})
	t.Run("ErrDeadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		time.Sleep(time.Millisecond)
		_, err := p.Handle(ctx, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/ping"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestProcess_Deliver(t *testing.T) {
	p, _, _ := started(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		err := p.Deliver(ctx, sdk.Event{
			ID: "ev-1", Type: "core.user.deleted", OccurredAt: time.Now(),
			Payload: json.RawMessage(`{"user_id":"u-1"}`), Source: "core",
		})
		if err != nil {
			t.Fatal(err)
		}
		_, body := handle(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/calls"})
		if ev := body["events"].([]any); len(ev) != 1 || ev[0] != "ev-1" {
			t.Errorf("events %v", ev)
		}
	})
	t.Run("ErrHandler", func(t *testing.T) {
		err := p.Deliver(ctx, sdk.Event{ID: "ev-2", Type: "core.user.deleted", Payload: json.RawMessage(`{"fail":true}`)})
		if err == nil || !strings.Contains(err.Error(), "asked to fail") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestProcess_DeliverAll: a batch travels in one call; the plugin handles it in order
// and stops at the event its handler refuses, which and whose followers stay unhandled.
func TestProcess_DeliverAll(t *testing.T) {
	p, _, _ := started(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := func(id, payload string) sdk.Event {
		return sdk.Event{ID: id, Type: "core.user.deleted", OccurredAt: time.Now(), Payload: json.RawMessage(payload), Source: "core"}
	}
	received := func() []any {
		_, body := handle(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/calls"})
		return body["events"].([]any)
	}
	t.Run("ErrHandlerInTheMiddle", func(t *testing.T) {
		handled, err := p.DeliverAll(ctx, []sdk.Event{ev("b1", `{}`), ev("b2", `{}`), ev("b3", `{"fail":true}`), ev("b4", `{}`)})
		if handled != 2 || err == nil || !strings.Contains(err.Error(), "b3") || !strings.Contains(err.Error(), "asked to fail") {
			t.Fatalf("DeliverAll = %d, %v; want 2 handled and b3's failure", handled, err)
		}
		if got := received(); !slices.Equal(got, []any{"b1", "b2"}) {
			t.Errorf("the plugin received %v, want b1, b2", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		handled, err := p.DeliverAll(ctx, []sdk.Event{ev("b3", `{}`), ev("b4", `{}`)})
		if handled != 2 || err != nil {
			t.Fatalf("DeliverAll = %d, %v; want both handled", handled, err)
		}
		if got := received(); !slices.Equal(got, []any{"b1", "b2", "b3", "b4"}) {
			t.Errorf("the plugin received %v, want b1 to b4", got)
		}
	})
}

func TestProcess_Health(t *testing.T) {
	p, _, _ := started(t)
	if err := p.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Deactivate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The store is closed now, so hello reports itself unhealthy.
	if err := p.Health(context.Background()); err == nil {
		t.Error("healthy after Deactivate")
	}
}

func TestProcess_Exited(t *testing.T) {
	t.Run("Crash", func(t *testing.T) {
		p, _, _ := started(t)
		select {
		case <-p.Exited():
			t.Fatal("exited early")
		default:
		}
		// Kill the plugin behind the host's back, as a crash would.
		if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Exited():
		case <-time.After(2 * time.Second):
			t.Fatal("Exited not closed 2 s after the plugin died")
		}
		_, err := p.Handle(context.Background(), &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/ping"})
		if !errors.Is(err, hostside.ErrUnavailable) {
			t.Errorf("Handle after exit: %v", err)
		}
	})
	t.Run("Kill", func(t *testing.T) {
		p := launch(t, hostside.LaunchOptions{})
		pid := p.Pid()
		p.Kill()
		select {
		case <-p.Exited():
		case <-time.After(2 * time.Second):
			t.Fatal("Exited not closed after Kill")
		}
		if alive(pid) {
			t.Errorf("pid %d still alive", pid)
		}
	})
	t.Run("Close", func(t *testing.T) {
		p := launch(t, hostside.LaunchOptions{})
		p.Close()
		select {
		case <-p.Exited():
		case <-time.After(3 * time.Second):
			t.Fatal("Exited not closed after Close")
		}
	})
}

func TestLaunch(t *testing.T) {
	t.Run("Checksum", func(t *testing.T) {
		b, err := os.ReadFile(helloBin)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		launch(t, hostside.LaunchOptions{Checksum: sum[:]})
	})
	t.Run("ErrChecksum", func(t *testing.T) {
		sum := sha256.Sum256([]byte("not the plugin"))
		_, err := hostside.Launch(context.Background(), hostside.LaunchOptions{
			Name: "hello", Cmd: exec.Command(helloBin), Checksum: sum[:], Logger: testLogger(),
		})
		if !errors.Is(err, hostside.ErrChecksum) || !strings.Contains(err.Error(), helloBin) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNotAPlugin", func(t *testing.T) {
		_, err := hostside.Launch(context.Background(), hostside.LaunchOptions{
			Name: "true", Cmd: exec.Command("/bin/true"), Logger: testLogger(), StartTimeout: 2 * time.Second,
		})
		if err == nil {
			t.Fatal("launched /bin/true")
		}
	})
	t.Run("ErrCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := hostside.Launch(ctx, hostside.LaunchOptions{Name: "hello", Cmd: exec.Command(helloBin), Logger: testLogger()})
		if err == nil {
			t.Fatal("launched with a cancelled context")
		}
	})
}

// TestLaunch_ParentKilled kills a host with SIGKILL and expects its plugin to go too.
func TestLaunch_ParentKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	for _, mode := range []string{"launch", "plain"} {
		t.Run(mode, func(t *testing.T) {
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			parent := exec.Command(self, "-test.run=^$")
			parent.Env = append(os.Environ(), "KVARTER_TEST_PARENT="+mode, "KVARTER_TEST_PLUGIN="+helloBin)
			parent.Stderr = os.Stderr
			out, err := parent.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := parent.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				parent.Process.Kill()
				parent.Wait()
				t.Fatalf("read plugin pid: %v", err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil || !alive(pid) {
				t.Fatalf("plugin pid %q (%v) not running", line, err)
			}
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

			if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			parent.Wait()
			deadline := time.Now().Add(5 * time.Second)
			for alive(pid) {
				if time.Now().After(deadline) {
					t.Fatalf("plugin %d outlived its parent by 5 s", pid)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// BenchmarkHandle measures one Handle round trip: host → plugin over gRPC with mTLS
// on a Unix socket, through the SDK adapter and the handler, and back. "calls" is the
// smallest handler; "echo" also carries a principal, headers and a body both ways.
func BenchmarkHandle(b *testing.B) {
	p, _, _ := started(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		status int
		req    *hostside.HTTPRequest
	}{
		{"calls", http.StatusOK, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/calls"}},
		{"echo", http.StatusCreated, &hostside.HTTPRequest{
			Method: "POST", Path: "/api/v1/hello/nbh/n-1/echo",
			Header:    http.Header{"Content-Type": {"application/json"}},
			Body:      []byte(`{"hello":"world"}`),
			Principal: sdk.Principal{UserID: "u-1", Roles: map[string][]string{"nbh:n-1": {"resident"}}},
			RequestID: "bench",
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := p.Handle(ctx, bc.req)
				if err != nil || resp.Status != bc.status {
					b.Fatal(resp, err)
				}
			}
		})
	}
}

// A principal crosses to the plugin whole, whether the host encodes it per request or
// once (EncodedPrincipal), and one caller always has one encoding.
func TestProcess_Principal(t *testing.T) {
	p, _, _ := started(t)
	who := sdk.Principal{
		UserID: "u-1", DisplayName: "Åsa Öberg", Locale: "sv",
		Roles: map[string][]string{"city": {"city_responder"}, "nbh:n-1": {"resident", "coordinator"},
			"nbh:n-2": {"resident"}, "org:o-1": {"org_representative"}},
		Neighbourhoods: []string{"n-1", "n-2"},
		Organisations:  []sdk.OrgMembership{{OrganisationID: "o-1", Role: "representative", Verified: true}},
		AgeVerified:    true, VerifiedAge: 17, // crosses as an age, never a birth date
	}
	enc, err := hostside.EncodePrincipal(who)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 { // map order differs from call to call; the encoding must not
		again, _ := hostside.EncodePrincipal(who)
		if !bytes.Equal(again, enc) {
			t.Fatal("two encodings of one principal differ")
		}
	}
	if b, err := hostside.EncodePrincipal(sdk.Principal{}); b != nil || err != nil {
		t.Errorf("anonymous encodes as %q, %v", b, err)
	}
	if _, err := hostside.EncodePrincipal(sdk.Principal{UserID: "u-2", DisplayName: "\xff"}); err == nil {
		t.Error("a name that is not UTF-8 was encoded")
	}

	want, _ := json.Marshal(who)
	for _, r := range []*hostside.HTTPRequest{
		{Method: "GET", Path: "/api/v1/hello/whoami", Principal: who},
		{Method: "GET", Path: "/api/v1/hello/whoami", EncodedPrincipal: enc},
		{Method: "GET", Path: "/api/v1/hello/whoami", EncodedPrincipal: enc}, // decoded once, then cached
	} {
		_, body := handle(t, p, r)
		if got, _ := json.Marshal(body["principal"]); !jsonEqual(t, got, want) {
			t.Errorf("plugin saw %s, want %s", got, want)
		}
	}
	_, body := handle(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/whoami"})
	if pr := body["principal"].(map[string]any); pr["UserID"] != "" || pr["Roles"] != nil {
		t.Errorf("anonymous request saw %v", pr)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
