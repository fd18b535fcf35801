package pluginhost_test

// Running on PostgreSQL as a city does: a least-privilege core role, several
// deployments on one cluster, a connection budget. These tests make their own
// databases and roles (all named kvpgops_...) with the test server's superuser and drop
// them afterwards.

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// pgCluster is the test server, reached as its superuser.
type pgCluster struct {
	t     *testing.T
	base  *url.URL
	admin *sqlx.DB
}

func newCluster(t *testing.T) *pgCluster {
	t.Helper()
	raw := sdktest.PostgresURL(t) // skips outside CI without PostgreSQL; fails in CI
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sqlx.Open("postgres", raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return &pgCluster{t: t, base: u, admin: admin}
}

// exec runs statements as the superuser, failing the test on an error.
func (c *pgCluster) exec(stmts ...string) {
	c.t.Helper()
	for _, q := range stmts {
		if _, err := c.admin.Exec(q); err != nil {
			c.t.Fatalf("%s: %v", q, err)
		}
	}
}

// url is the cluster's URL for user (empty: the superuser) and database.
func (c *pgCluster) url(user, database string) string {
	u := *c.base
	if user != "" {
		u.User = url.User(user)
	}
	u.Path = "/" + database
	return u.String()
}

// database creates a database owned by owner (empty: the superuser) and drops it,
// with every role whose name starts with its name (the plugins' logins), when the
// test ends.
func (c *pgCluster) database(name, owner string) {
	c.t.Helper()
	stmt := `CREATE DATABASE ` + pq.QuoteIdentifier(name)
	if owner != "" {
		stmt += ` OWNER ` + pq.QuoteIdentifier(owner)
	}
	c.exec(stmt)
	c.t.Cleanup(func() {
		_, _ = c.admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(name) + ` WITH (FORCE)`)
		var roles []string
		_ = c.admin.Select(&roles, `SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, name+"_")
		for _, r := range roles {
			_, _ = c.admin.Exec(`DROP ROLE IF EXISTS ` + pq.QuoteIdentifier(r))
		}
	})
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// running is a node the test stops and starts again, as an operator restarts one.
type running struct {
	*node.Node
	stopped bool
}

// startOn starts a node on the database at dbURL running the probe under names as
// built-ins (from the executable bin).
// testDataDirs holds each test's data folder, so a node restarted by startOn finds its key.
var testDataDirs sync.Map

func startOn(t *testing.T, dbURL, bin string, set func(*node.Config), names ...string) *running {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.Listen, cfg.DatabaseURL, cfg.LogLevel = "127.0.0.1:0", dbURL, "warn"
	cfg.PolicyPollInterval = node.Duration{Duration: 100 * time.Millisecond}
	// The key file goes into one temporary folder per test, shared by its restarts, and
	// never into the source tree.
	dir, _ := testDataDirs.LoadOrStore(t, t.TempDir())
	cfg.DataDir = dir.(string)
	cfg.Plugins = []node.PluginConfig{}
	for _, n := range names {
		cfg.Plugins = append(cfg.Plugins, node.PluginConfig{Name: n})
	}
	if set != nil {
		set(&cfg)
	}
	opt := coretest.Options()
	opt.Executable, opt.Builtins, opt.HostVersion = bin, names, "0.1.0"
	opt.PluginHealthInterval = 200 * time.Millisecond
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = node.NewLogger(cfg, os.Stderr)
	}
	n, err := node.New(context.Background(), cfg, logger, opt)
	if err != nil {
		t.Fatalf("new node: %v", err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("start node: %v", err)
	}
	r := &running{Node: n}
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	if r.stopped {
		return
	}
	r.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = r.Close(ctx)
}

// mustActive fails the test unless every named plugin is active.
func mustActive(t *testing.T, n *node.Node, names ...string) {
	t.Helper()
	for _, name := range names {
		if st := state(n, name); st.State != core.PluginActive {
			t.Fatalf("plugin %s = %+v, want active", name, st)
		}
	}
}

// storeOf is what the probe reports of its store.
type storeOf struct {
	MaxOpen  int    `json:"max_open"`
	Version  string `json:"version"`
	Upgraded bool   `json:"upgraded"`
	User     string `json:"user"`
}

func probeStore(t *testing.T, n *node.Node, name string) storeOf {
	t.Helper()
	var s storeOf
	if err := json.Unmarshal(mustCall(t, n, 200, "GET", "/api/v1/"+name+"/store", "").Body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// publishAndCount has alpha publish n events and waits until beta has seen want in
// all; the events travel through the core's outbox into beta's own store.
func publishAndCount(t *testing.T, n *node.Node, from, count, want int) {
	t.Helper()
	mustCall(t, n, 200, "POST", fmt.Sprintf("/api/v1/alpha/publish?from=%d&n=%d", from, count), "")
	waitFor(t, 30*time.Second, "beta has "+strconv.Itoa(want)+" events", func() bool {
		r, err := call(t, n, "GET", "/api/v1/beta/events", "", nil)
		return err == nil && r.Status == 200 && r.json(t)["distinct"] == float64(want)
	})
}

// TestHost_CreateRoleLifecycle runs the whole life of two plugins with the core
// connected as a role that has CREATEROLE and owns its database but is no superuser,
// as docs/operators.md asks cities to set it up: first start, restart, disable,
// enable, and an upgrade to a plugin version with a new migration. Every step must
// leave the plugins active with their data; before the fix every start after the
// first failed on ALTER ROLE ... NOSUPERUSER, which only a superuser may run.
func TestHost_CreateRoleLifecycle(t *testing.T) {
	pg := newCluster(t)
	sfx := randomSuffix()
	coreRole, dbName := "kvpgops_core_"+sfx, "kvpgops_"+sfx
	pg.exec(`CREATE ROLE ` + coreRole + ` LOGIN CREATEROLE NOSUPERUSER NOCREATEDB`)
	t.Cleanup(func() { _, _ = pg.admin.Exec(`DROP ROLE IF EXISTS ` + coreRole) })
	pg.database(dbName, coreRole)
	dbURL := pg.url(coreRole, dbName)

	// First start: the plugins' roles and schemas are created.
	n := startOn(t, dbURL, probeBin, nil, "alpha", "beta")
	var super bool
	if err := coretest.SQL(n.Node).Get(&super, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`); err != nil || super {
		t.Fatalf("the core runs as a superuser (%v, %v); the test would prove nothing", super, err)
	}
	mustActive(t, n.Node, "alpha", "beta")
	publishAndCount(t, n.Node, 1, 5, 5)
	if got, want := probeStore(t, n.Node, "beta").User, dbName+"_plugin_beta"; got != want {
		t.Fatalf("beta connects as %q, want %q", got, want)
	}
	n.stop()

	// Restart: everything exists already.
	n = startOn(t, dbURL, probeBin, nil, "alpha", "beta")
	mustActive(t, n.Node, "alpha", "beta")
	publishAndCount(t, n.Node, 6, 5, 10)

	// Disable and enable: the plugin is provisioned again on the way up.
	admin := coretest.Admin(t, n.Node, "admin@city.example")
	admin.Must(200, "POST", "/api/v1/admin/plugins/beta/disable", map[string]any{})
	waitFor(t, 10*time.Second, "beta stopped", func() bool { return state(n.Node, "beta").State == core.PluginStopped })
	admin.Must(200, "POST", "/api/v1/admin/plugins/beta/enable", map[string]any{})
	waitFor(t, 20*time.Second, "beta active again", func() bool { return state(n.Node, "beta").State == core.PluginActive })
	publishAndCount(t, n.Node, 11, 5, 15)
	n.stop()

	// Upgrade: the next version brings a migration, applied through its own login.
	n = startOn(t, dbURL, probeV2Bin, nil, "alpha", "beta")
	mustActive(t, n.Node, "alpha", "beta")
	for _, name := range []string{"alpha", "beta"} {
		if s := probeStore(t, n.Node, name); s.Version != "1.3.0" || !s.Upgraded {
			t.Fatalf("%s after the upgrade: %+v, want version 1.3.0 with its new table", name, s)
		}
	}
	publishAndCount(t, n.Node, 16, 5, 20)
	n.stop()

	// And a restart after the upgrade, for good measure.
	n = startOn(t, dbURL, probeV2Bin, nil, "alpha", "beta")
	mustActive(t, n.Node, "alpha", "beta")
	publishAndCount(t, n.Node, 21, 5, 25)
}

// TestHost_TwoDeployments runs two cities on one cluster, each in its own database
// with the default plugin_store_prefix, and restarts each in turn. Both keep working,
// each plugin's stored password is the one its login role has (before the fix both
// shared the role plugin_alpha, and each start overwrote the other city's password),
// and one city's plugin login cannot read the other city's plugin tables.
func TestHost_TwoDeployments(t *testing.T) {
	pg := newCluster(t)
	sfx := randomSuffix()
	dbA, dbB := "kvpgops_"+sfx+"_a", "kvpgops_"+sfx+"_b"
	pg.database(dbA, "")
	pg.database(dbB, "")
	a := startOn(t, pg.url("", dbA), probeBin, nil, "alpha", "beta")
	b := startOn(t, pg.url("", dbB), probeBin, nil, "alpha", "beta")
	publishAndCount(t, a.Node, 1, 3, 3)
	publishAndCount(t, b.Node, 1, 4, 4)

	a.stop()
	a = startOn(t, pg.url("", dbA), probeBin, nil, "alpha", "beta")
	b.stop()
	b = startOn(t, pg.url("", dbB), probeBin, nil, "alpha", "beta")
	mustActive(t, a.Node, "alpha", "beta")
	mustActive(t, b.Node, "alpha", "beta")
	publishAndCount(t, a.Node, 4, 3, 6)
	publishAndCount(t, b.Node, 5, 4, 8)

	roleOf := map[string]string{}
	for _, d := range []struct {
		name string
		n    *node.Node
	}{{dbA, a.Node}, {dbB, b.Node}} {
		role := probeStore(t, d.n, "alpha").User
		if role != d.name+"_plugin_alpha" {
			t.Fatalf("alpha of %s connects as %q, want %q", d.name, role, d.name+"_plugin_alpha")
		}
		roleOf[d.name] = role
		var password, verifier string
		if err := coretest.SQL(d.n).Get(&password, `SELECT password FROM plugin_store_logins WHERE role_name = $1`, role); err != nil {
			t.Fatal(err)
		}
		if err := pg.admin.Get(&verifier, `SELECT COALESCE(rolpassword, '') FROM pg_authid WHERE rolname = $1`, role); err != nil {
			t.Fatal(err)
		}
		if !scramMatches(verifier, password) {
			t.Errorf("%s: the password kept for %s is not the role's (another deployment changed it)", d.name, role)
		}
	}
	if roleOf[dbA] == roleOf[dbB] {
		t.Fatalf("both deployments share the role %s", roleOf[dbA])
	}

	// City A's plugin login, pointed at city B's database, finds nothing of B's.
	intruder, err := sqlx.Open("postgres", pg.url(roleOf[dbA], dbB))
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close()
	var k int
	if err := intruder.Get(&k, `SELECT COUNT(*) FROM plugin_alpha.seen`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("city A's plugin role reading city B's table: %v, want permission denied", err)
	}
}

// scramMatches reports whether password is the one PostgreSQL stored as verifier
// (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, RFC 5802/7677): the test
// cluster trusts local logins, so a wrong password would not show by logging in.
func scramMatches(verifier, password string) bool {
	rest, ok := strings.CutPrefix(verifier, "SCRAM-SHA-256$")
	if !ok {
		return false
	}
	iterSalt, keys, _ := strings.Cut(rest, "$")
	iterText, saltText, _ := strings.Cut(iterSalt, ":")
	storedText, _, _ := strings.Cut(keys, ":")
	iter, err := strconv.Atoi(iterText)
	salt, err2 := base64.StdEncoding.DecodeString(saltText)
	if err != nil || err2 != nil {
		return false
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, salted)
	mac.Write([]byte("Client Key"))
	stored := sha256.Sum256(mac.Sum(nil))
	return base64.StdEncoding.EncodeToString(stored[:]) == storedText
}

// TestHost_ConnectionBudget: with the default budget and four plugins, the core's
// pool and every plugin's add up to database_max_connections, so two nodes fit
// PostgreSQL's default max_connections of 100 (before, one node could open 40 + 4×16).
func TestHost_ConnectionBudget(t *testing.T) {
	pg := newCluster(t)
	dbName := "kvpgops_" + randomSuffix()
	pg.database(dbName, "")
	names := []string{"alpha", "beta", "gamma", "delta"}
	n := startOn(t, pg.url("", dbName), probeBin, func(c *node.Config) { c.DatabaseMaxConnections = 0 }, names...)
	total := n.DB.SQL().Stats().MaxOpenConnections
	for _, name := range names {
		s := probeStore(t, n.Node, name)
		if s.MaxOpen < 2 {
			t.Errorf("%s's pool = %d, want at least 2", name, s.MaxOpen)
		}
		total += s.MaxOpen
	}
	if total > node.DefaultDatabaseMaxConnections {
		t.Fatalf("core and plugins may open %d connections, over the budget of %d", total, node.DefaultDatabaseMaxConnections)
	}
	if 2*node.DefaultDatabaseMaxConnections > 100-10 {
		t.Fatalf("two nodes at the default budget (%d) leave too little of max_connections 100", node.DefaultDatabaseMaxConnections)
	}
}

// TestHost_LegacyRoleUpgrade: a store made when the plugin's role was named like its
// schema (before roles were named per deployment) keeps its data: on the first start
// the tables move to the new role, which then migrates and serves them.
func TestHost_LegacyRoleUpgrade(t *testing.T) {
	pg := newCluster(t)
	dbName := "kvpgops_" + randomSuffix()
	pg.database(dbName, "")
	prefix := dbName + "_"
	legacy := prefix + "alpha" // the schema, and the old role's name
	pg.exec(`CREATE ROLE ` + legacy + ` LOGIN NOINHERIT`)
	old, err := sqlx.Open("postgres", pg.url("", dbName))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	for _, q := range []string{
		`CREATE SCHEMA ` + legacy,
		`GRANT USAGE, CREATE ON SCHEMA ` + legacy + ` TO ` + legacy,
		`SET ROLE ` + legacy,
		`CREATE TABLE ` + legacy + `.schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
		`INSERT INTO ` + legacy + `.schema_migrations (name) VALUES ('0001_probe.sql')`,
		`CREATE TABLE ` + legacy + `.seen (id TEXT PRIMARY KEY, seq BIGINT NOT NULL)`,
		`INSERT INTO ` + legacy + `.seen VALUES ('before-the-upgrade', 1)`,
		`RESET ROLE`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	n := startOn(t, pg.url("", dbName), probeV2Bin, func(c *node.Config) { c.PluginStorePrefix = prefix }, "alpha")
	mustActive(t, n.Node, "alpha")
	s := probeStore(t, n.Node, "alpha")
	if s.User == legacy || !s.Upgraded {
		t.Fatalf("alpha after the upgrade: %+v", s)
	}
	if got := mustCall(t, n.Node, 200, "GET", "/api/v1/alpha/events", "").json(t)["distinct"]; got != float64(1) {
		t.Fatalf("alpha sees %v rows of its old table, want 1", got)
	}
	var owner string
	if err := coretest.SQL(n.Node).Get(&owner, `SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'seen'`, legacy); err != nil || owner != s.User {
		t.Fatalf("the old table belongs to %q (%v), want %q", owner, err, s.User)
	}
}
