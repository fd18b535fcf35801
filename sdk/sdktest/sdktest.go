// Package sdktest runs a plugin under test inside a real Kvarter core: it builds the
// plugin's main package, starts a real `kvarter serve` (SQLite in a temp dir, or a
// throwaway PostgreSQL schema when KVARTER_TEST_DATABASE_URL is set) with the plugin
// configured as an external executable pinned by its sha256, and gives the test HTTP
// clients and helpers to create people, neighbourhoods, memberships and grants.
//
// Plugin tests therefore exercise the real path: routing, permission checks, the
// Principal, the host API, events and the plugin's own store.
//
//	func TestPing(t *testing.T) {
//		c := sdktest.Start(t, sdktest.Options{Package: "./cmd/myplugin"})
//		res := c.NewUser("res@example.org")
//		res.Must(200, "GET", "/api/v1/myplugin/things", nil)
//	}
//
// The kvarter binary is KVARTER_BIN if set, or built once per test binary from the
// cmd module next to this SDK in the Kvarter repository.
package sdktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL for throwaway schemas

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/openapi"
)

// EnvDatabaseURL names a PostgreSQL server to test on as well as SQLite.
const EnvDatabaseURL = "KVARTER_TEST_DATABASE_URL"

// EnvKvarterBin names a prebuilt kvarter binary to use instead of building one.
const EnvKvarterBin = "KVARTER_BIN"

// Options describe the plugin under test.
type Options struct {
	// Package is the plugin's main package, as `go build` takes it (e.g.
	// "./cmd/myplugin", relative to the test's package directory).
	Package string
	// Name is the plugin's name in its manifest; the last element of Package when empty.
	Name string
	// Settings override the manifest's defaults, as a city config would.
	Settings map[string]string
	// Postgres, when true, runs on PostgreSQL (KVARTER_TEST_DATABASE_URL must be set).
	Postgres bool
	// DatabaseProxy, with Postgres, connects the core and its plugins to PostgreSQL
	// through a loopback proxy that Core.DatabaseDown and DatabaseUp cut and restore,
	// so a test can take the database away from a running city.
	DatabaseProxy bool
	// Others are more plugins the city runs beside the one under test, such as a
	// Recorder subscribed to its events.
	Others []OtherPlugin
}

// OtherPlugin is a built plugin executable a test runs beside the plugin under test.
type OtherPlugin struct {
	Name, Path string
	Settings   map[string]string
}

// Core is a running kvarter with the plugin under test.
type Core struct {
	tb  testing.TB
	URL string
	// Pid is the kvarter process id.
	Pid     int
	DataDir string
	// Logs collects kvarter's and the plugin's log output. Read it with LogText while
	// kvarter runs.
	Logs *bytes.Buffer
	// PluginPath is the built plugin executable.
	PluginPath string

	cmd   *exec.Cmd
	logw  *lockedWriter
	admin *Client
	done  chan struct{}
	cfg   map[string]any // the city config, shared by further nodes
	name  string         // the plugin under test
	proxy *dbProxy       // with Options.DatabaseProxy
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
	tmpDir  string
)

// build runs go build (with flags, if any) once per package and test binary; Go's
// build cache makes repeated runs fast.
func build(tb testing.TB, dir, pkg, name string, flags ...string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := dir + "|" + pkg + "|" + strings.Join(flags, " ")
	if p, ok := built[key]; ok {
		return p
	}
	if tmpDir == "" {
		d, err := os.MkdirTemp("", "kvarter-sdktest-")
		if err != nil {
			tb.Fatal(err)
		}
		tmpDir = d
	}
	out := filepath.Join(tmpDir, fmt.Sprintf("%s-%d", name, len(built)))
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, flags...), pkg)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[key] = out
	return out
}

// BuildPlugin builds a plugin's main package (as `go build` takes it, relative to the
// test's package directory) once per test binary, and returns the executable and its
// sha256, as a city's config pins an external plugin.
func BuildPlugin(tb testing.TB, pkg string) (path, sum string) {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	path = build(tb, wd, pkg, filepath.Base(pkg))
	if sum, err = fileSHA256(path); err != nil {
		tb.Fatal(err)
	}
	return path, sum
}

// KvarterBinary returns the kvarter executable: KVARTER_BIN, or one built from the
// repository's cmd module.
func KvarterBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(EnvKvarterBin); p != "" {
		return p
	}
	cmdDir := filepath.Join(sdkDir(tb), "..", "cmd")
	if _, err := os.Stat(filepath.Join(cmdDir, "kvarter")); err != nil {
		tb.Fatalf("no kvarter sources at %s; set %s to a kvarter binary", cmdDir, EnvKvarterBin)
	}
	return build(tb, cmdDir, "./kvarter", "kvarter")
}

// sdkDir is the directory of the SDK module this test builds with.
func sdkDir(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/kvarter/kvarter/sdk").Output()
	if err != nil {
		tb.Fatalf("find the sdk module (set %s to a kvarter binary instead): %v", EnvKvarterBin, err)
	}
	return strings.TrimSpace(string(out))
}

// Start builds the plugin, starts kvarter with it, creates a city admin and waits
// until the plugin is active. Everything is stopped and removed when the test ends.
func Start(tb testing.TB, o Options) *Core {
	tb.Helper()
	// Building kvarter and the plugin takes seconds; `go test -short` is the quick loop
	// of unit tests, so every end-to-end test skips here, in one place. CI never runs
	// with -short.
	if testing.Short() {
		tb.Skip("builds and starts kvarter with the plugin")
	}
	if o.Name == "" {
		o.Name = filepath.Base(o.Package)
	}
	wd, _ := os.Getwd()
	kv := KvarterBinary(tb)
	plug := build(tb, wd, o.Package, o.Name)
	sum, err := fileSHA256(plug)
	if err != nil {
		tb.Fatal(err)
	}
	c := &Core{tb: tb, DataDir: tb.TempDir(), Logs: &bytes.Buffer{}, PluginPath: plug, done: make(chan struct{}), name: o.Name}
	plugins := []map[string]any{{"name": o.Name, "path": plug, "sha256": sum, "settings": o.Settings}}
	for _, p := range o.Others {
		sum, err := fileSHA256(p.Path)
		if err != nil {
			tb.Fatal(err)
		}
		plugins = append(plugins, map[string]any{"name": p.Name, "path": p.Path, "sha256": sum, "settings": p.Settings})
	}
	cfg := map[string]any{
		"city":      map[string]any{"name": "Testville", "time_zone": "Europe/Helsinki", "languages": []string{"en", "fi"}},
		"listen":    "127.0.0.1:0",
		"data_dir":  c.DataDir,
		"log_level": "info",
		"plugins":   plugins,
	}
	if o.Postgres {
		base := PostgresURL(tb)
		if o.DatabaseProxy {
			c.proxy, base = startProxy(tb, base)
		}
		cfg["database_url"], cfg["plugin_store_prefix"] = postgresSchema(tb, base)
	}
	c.cfg = cfg
	cfgPath := c.writeConfig()

	adminPW := "sdktest admin passphrase"
	create := exec.Command(kv, "admin", "create-user", "--config", cfgPath, "--email", "admin@sdktest.invalid", "--password-stdin", "--role", "city_admin")
	create.Env = cleanEnv()
	create.Stdin = strings.NewReader(adminPW + "\n")
	if out, err := create.CombinedOutput(); err != nil {
		tb.Fatalf("kvarter admin create-user: %v\n%s", err, out)
	}

	c.serve(kv, cfgPath)
	c.admin = c.login("admin@sdktest.invalid", adminPW)
	c.checkActive()
	return c
}

// StartNode starts another kvarter node on c's PostgreSQL database with the same
// plugin, as a second replica of a city would run: people, sessions, grants and the
// plugin's store are shared, so clients move between nodes with [Client.On]. The
// node has its own data directory and logs and stops when the test ends.
func (c *Core) StartNode() *Core {
	c.tb.Helper()
	if _, ok := c.cfg["database_url"]; !ok {
		c.tb.Fatal("sdktest: StartNode needs Options{Postgres: true}: SQLite is one node's file")
	}
	n := &Core{tb: c.tb, DataDir: c.tb.TempDir(), Logs: &bytes.Buffer{}, PluginPath: c.PluginPath,
		done: make(chan struct{}), name: c.name, cfg: map[string]any{}}
	for k, v := range c.cfg {
		n.cfg[k] = v
	}
	n.cfg["data_dir"] = n.DataDir
	n.serve(KvarterBinary(c.tb), n.writeConfig())
	n.admin = c.admin.On(n)
	n.checkActive()
	return n
}

// PluginStore says where the plugin's own store is, for a test that inspects it:
// on SQLite the database file, on PostgreSQL the test server's URL (the test's
// login, not the plugin's) with search_path set to the plugin's schema.
func (c *Core) PluginStore() (dialect, dsn string) {
	c.tb.Helper()
	return c.storeOf(c.name)
}

// storeOf is PluginStore for any plugin of the city.
func (c *Core) storeOf(name string) (dialect, dsn string) {
	c.tb.Helper()
	dbURL, _ := c.cfg["database_url"].(string)
	if dbURL == "" {
		return "sqlite", filepath.Join(c.DataDir, "plugins", name+".db")
	}
	prefix, _ := c.cfg["plugin_store_prefix"].(string)
	u, err := url.Parse(dbURL)
	if err != nil {
		c.tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", prefix+name)
	u.RawQuery = q.Encode()
	return "postgres", u.String()
}

// On returns a copy of the client, with the same identity, that talks to node n.
func (cl *Client) On(n *Core) *Client {
	cp := *cl
	cp.base = n.URL
	return &cp
}

func (c *Core) writeConfig() string {
	path := filepath.Join(c.DataDir, "city.json")
	b, _ := json.Marshal(c.cfg)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		c.tb.Fatal(err)
	}
	return path
}

// serve starts `kvarter serve` and waits until it listens.
func (c *Core) serve(kv, cfgPath string) {
	tb := c.tb
	tb.Helper()
	addrFile := filepath.Join(c.DataDir, "addr")
	c.cmd = exec.Command(kv, "serve", "--config", cfgPath, "--addr-file", addrFile)
	c.cmd.Env = cleanEnv()
	// One writer for both streams, so that their lines never interleave mid-write.
	c.logw = &lockedWriter{w: c.Logs}
	c.cmd.Stdout, c.cmd.Stderr = c.logw, c.logw
	if err := c.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c.Pid = c.cmd.Process.Pid
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	tb.Cleanup(c.stop)

	deadline := time.Now().Add(60 * time.Second)
	for {
		if addr, err := os.ReadFile(addrFile); err == nil {
			c.URL = "http://" + string(addr)
			break
		}
		select {
		case <-c.done:
			tb.Fatalf("kvarter serve exited:\n%s", c.Logs)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("kvarter serve did not start:\n%s", c.Logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkActive fails the test unless the plugin under test is active on this node.
func (c *Core) checkActive() {
	c.tb.Helper()
	var list struct {
		Items []struct{ Name, State, LastError string } `json:"items"`
	}
	c.admin.Must(200, "GET", "/api/v1/admin/plugins", nil).Decode(c.tb, &list)
	for _, p := range list.Items {
		if p.Name == c.name && p.State != "active" {
			c.tb.Fatalf("plugin %s is %s: %s\n%s", p.Name, p.State, p.LastError, c.Logs)
		}
	}
}

// stop ends kvarter as an operator would (SIGTERM), killing it after 10 s.
func (c *Core) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// Done is closed when the kvarter process has exited.
func (c *Core) Done() <-chan struct{} { return c.done }

// cleanEnv is the test's environment without KVARTER_* variables, so that only the
// generated config decides.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KVARTER_") {
			env = append(env, kv)
		}
	}
	return env
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// DropPluginStores drops, in db's database, the plugin schemas a test made with the
// schema prefix (plugin_store_prefix) and their login roles, which hold the prefix in
// their names (the host names them after the database, then the schema). Roles are
// server-wide: a test that leaves them behind leaves them for every other.
func DropPluginStores(db *sqlx.DB, prefix string) {
	var schemas, roles []string
	_ = db.Select(&schemas, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, prefix)
	for _, s := range schemas {
		_, _ = db.Exec(`DROP SCHEMA IF EXISTS "` + s + `" CASCADE`)
	}
	_ = db.Select(&roles, `SELECT rolname FROM pg_roles WHERE strpos(rolname, $1) > 0`, prefix)
	for _, r := range roles {
		_, _ = db.Exec(`DROP OWNED BY "` + r + `"`)
		_, _ = db.Exec(`DROP ROLE IF EXISTS "` + r + `"`)
	}
}

// postgresSchema makes a throwaway schema for the core and a prefix for the plugin's
// schema and role, dropping all of them when the test ends.
func postgresSchema(tb testing.TB, base string) (dbURL, prefix string) {
	tb.Helper()
	var rb [5]byte
	_, _ = rand.Read(rb[:])
	suffix := hex.EncodeToString(rb[:])
	schema, prefix := "sdkt_"+suffix, "sdkp_"+suffix+"_"
	db, err := sqlx.Open("postgres", base)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer db.Close()
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		DropPluginStores(db, prefix)
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), prefix
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// LogText returns the logs so far; safe while kvarter is writing them.
func (c *Core) LogText() string {
	if c.logw == nil {
		return c.Logs.String()
	}
	c.logw.mu.Lock()
	defer c.logw.mu.Unlock()
	return c.Logs.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Client speaks to the core as one person (or anonymously) with a bearer token.
type Client struct {
	tb     testing.TB
	base   string
	Token  string
	UserID string
	Email  string
}

// Response is a status, headers and body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode decodes a JSON body into v.
func (r *Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// JSON decodes the body as an object.
func (r *Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Anonymous returns a client with no identity.
func (c *Core) Anonymous() *Client { return &Client{tb: c.tb, base: c.URL} }

// Admin returns a client signed in as the city administrator.
func (c *Core) Admin() *Client { return c.admin }

func (c *Core) login(email, password string) *Client {
	cl := c.Anonymous()
	r := cl.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.Decode(c.tb, &out)
	cl.Token, cl.UserID, cl.Email = out.Token, out.User.ID, email
	return cl
}

// NewUser registers a resident and returns a client signed in as them.
func (c *Core) NewUser(email string) *Client {
	c.tb.Helper()
	pw := "sdktest passphrase for " + email
	c.Anonymous().Must(201, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": pw, "display_name": strings.Split(email, "@")[0], "language": "en"})
	return c.login(email, pw)
}

// Neighbourhood creates a neighbourhood and returns its id.
func (c *Core) Neighbourhood(name string) string {
	c.tb.Helper()
	id, _ := c.admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": name}).JSON()["id"].(string)
	return id
}

// VerifiedMember makes u a verified member (a resident) of the neighbourhood.
func (c *Core) VerifiedMember(u *Client, nbhID string) {
	c.tb.Helper()
	u.Must(201, "POST", "/api/v1/neighbourhoods/"+nbhID+"/memberships", map[string]any{})
	c.admin.Must(200, "POST", "/api/v1/neighbourhoods/"+nbhID+"/memberships/"+u.UserID+"/approve", map[string]any{})
}

// Organisation registers a verified organisation with rep as its representative.
func (c *Core) Organisation(rep *Client, name string, nbhIDs ...string) string {
	c.tb.Helper()
	if nbhIDs == nil {
		nbhIDs = []string{}
	}
	id, _ := rep.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": name, "kind": "association", "neighbourhood_ids": nbhIDs}).JSON()["id"].(string)
	c.admin.Must(200, "POST", "/api/v1/organisations/"+id+"/verify", map[string]any{})
	return id
}

// Grant gives u role in domain ("city", "nbh:<id>", "org:<id>").
func (c *Core) Grant(u *Client, role, domain string) {
	c.tb.Helper()
	c.admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": u.UserID, "role": role, "domain": domain})
}

// Do sends a request; body may be nil, a string or []byte (sent as is) or a value
// (sent as JSON).
func (cl *Client) Do(method, path string, body any) *Response {
	cl.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			cl.tb.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, cl.base+path, rd)
	if err != nil {
		cl.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cl.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// WantInvalid fails the test unless the response is a 422 in the error format that
// names field and, when rule is not empty, the rule broken (error.fields.rule).
func (r *Response) WantInvalid(tb testing.TB, field, rule string) {
	tb.Helper()
	CheckInvalid(tb, r.Status, r.Body, field, rule)
}

// CheckInvalid is WantInvalid for any client's response: status and body.
func CheckInvalid(tb testing.TB, status int, body []byte, field, rule string) {
	tb.Helper()
	var e struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	if status != http.StatusUnprocessableEntity || e.Error.Code != "invalid" {
		tb.Fatalf("status %d, want 422 invalid naming %s: %s", status, field, body)
	}
	if _, ok := e.Error.Fields[field]; !ok {
		tb.Fatalf("the error does not name field %s: %s", field, body)
	}
	if rule != "" && e.Error.Fields["rule"] != rule {
		tb.Fatalf("rule %q, want %q: %s", e.Error.Fields["rule"], rule, body)
	}
}

// CheckRequestLimits fails the test when a request body field of p's OpenAPI document
// states no limit (openapi.CheckRequestLimits): the document must say what
// sdk.DecodeJSON refuses.
func CheckRequestLimits(tb testing.TB, p sdk.Plugin) {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(p.Manifest().OpenAPIDoc(), &doc); err != nil {
		tb.Fatal(err)
	}
	if err := openapi.CheckRequestLimits(doc); err != nil {
		tb.Fatal(err)
	}
}

// Must sends a request and fails the test unless the status is want.
func (cl *Client) Must(want int, method, path string, body any) *Response {
	cl.tb.Helper()
	r := cl.Do(method, path, body)
	if r.Status != want {
		cl.tb.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}
