// Package coretest starts real Kvarter nodes for tests: on SQLite always, and on
// PostgreSQL too when KVARTER_TEST_DATABASE_URL is set (CI always sets it). Each test
// gets its own SQLite file or its own PostgreSQL schema, dropped afterwards.
package coretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/password"
	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// EnvDatabaseURL names the PostgreSQL server tests may use.
const EnvDatabaseURL = sdktest.EnvDatabaseURL

// DB is one test database: a config that points at it, and its dialect.
type DB struct {
	Name   string // "sqlite" or "postgres"
	Config node.Config
}

// Databases returns a fresh SQLite database and, when the test URL is set, a fresh
// PostgreSQL schema, each removed when the test ends.
func Databases(tb testing.TB) []DB {
	tb.Helper()
	out := []DB{{Name: sqlstore.SQLite, Config: config(tb.TempDir(), "")}}
	// Outside CI PostgreSQL is optional; in CI sdktest.PostgresURL fails the test when
	// the URL is missing, so no PostgreSQL case passes by not running.
	if os.Getenv(EnvDatabaseURL) != "" || os.Getenv("CI") != "" {
		out = append(out, DB{Name: sqlstore.Postgres, Config: config(tb.TempDir(), PostgresSchema(tb, sdktest.PostgresURL(tb)))})
	}
	return out
}

// ForEachDB runs fn as a subtest on every test database.
func ForEachDB(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	for _, db := range Databases(t) {
		t.Run(db.Name, func(t *testing.T) { fn(t, db) })
	}
}

func config(dataDir, databaseURL string) node.Config {
	cfg := node.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.DatabaseURL = databaseURL
	// Tests start many nodes against one server; a small budget (the core's pool and
	// each plugin's) keeps them within its connection limit.
	cfg.DatabaseMaxConnections = 24
	cfg.LogLevel = "warn"
	cfg.City.TimeZone = "Europe/Helsinki"
	cfg.PolicyPollInterval = node.Duration{Duration: 100 * time.Millisecond}
	return cfg
}

// PostgresSchema creates an empty schema on the server at baseURL and returns a URL
// whose connections use it; the schema is dropped when the test ends.
func PostgresSchema(tb testing.TB, baseURL string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sqlx.Open("postgres", baseURL)
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(baseURL)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Clock is a settable clock for tests. It is safe for concurrent use: a node's
// background loops (the mail queue's worker) read it while the test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Options are cheap password hashing and a short throttle window for tests.
func Options() node.Options {
	p := password.TestParams
	return node.Options{
		PasswordParams:    &p,
		RegisterFloor:     -1, // tests register many people; BenchmarkRegister sets one
		PrincipalCacheTTL: time.Nanosecond,
		FilterBuiltinHTML: true,
		Throttle: &sqlstore.ThrottleSettings{Window: 15 * time.Minute, MaxPerAccountAddr: 5, MaxPerAccount: 20, MaxPerClientAddr: 50,
			LockoutForAccount: 15 * time.Minute, LockoutForClientIP: 15 * time.Minute, KnownAddressAge: 30 * 24 * time.Hour},
	}
}

// StartNode builds and starts a node on a free loopback port, closed when the test ends.
func StartNode(tb testing.TB, cfg node.Config, opt node.Options) *node.Node {
	tb.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = node.NewLogger(cfg, os.Stderr)
	}
	n, err := node.New(context.Background(), cfg, logger, opt)
	if err != nil {
		tb.Fatalf("new node: %v", err)
	}
	if err := n.Start(context.Background()); err != nil {
		tb.Fatalf("start node: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Close(ctx); err != nil && !strings.Contains(err.Error(), "closed") {
			tb.Errorf("close node: %v", err)
		}
	})
	return n
}

// Admin creates a city administrator the way `kvarter admin create-user` does and
// signs it in.
func Admin(tb testing.TB, n *node.Node, email string) *User {
	tb.Helper()
	pw := "administrator passphrase " + email
	u, err := n.Identity.CreateUser(context.Background(), core.Registration{Email: email, Password: pw, DisplayName: "Admin " + email, Language: "en"}, core.RoleCityAdmin)
	if err != nil {
		tb.Fatalf("create admin: %v", err)
	}
	c := NewClient(tb, n)
	r := c.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw})
	c.Token, _ = r.JSON()["token"].(string)
	return &User{ID: u.ID, Email: email, Password: pw, Client: c}
}

// SQL returns the node's database handle for assertions about what is stored.
func SQL(n *node.Node) *sqlx.DB { return n.DB.SQL() }
