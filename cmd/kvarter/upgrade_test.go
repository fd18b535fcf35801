package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/migrations"
	"github.com/kvarter/kvarter/plugins/parks"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// previousRelease builds what release N left behind: the core schema without its
// newest migration and the parks store without its newest, each holding data written
// in that older schema. It returns the city config to upgrade and handles on both
// stores for the test to inspect.
type previousRelease struct {
	cfg   map[string]any
	core  *sqlx.DB
	parks *store.DB
	// inspect reads the parks store after the upgrade: on PostgreSQL as the
	// superuser, since the upgrade hands the tables from release N's plugin login
	// (named like the schema) to the login named after the database.
	inspect   *store.DB
	coreLast  string // the core migration release N did not have
	parksLast string
}

func (r previousRelease) writeConfig(t *testing.T) string {
	t.Helper()
	b, _ := json.Marshal(r.cfg)
	path := filepath.Join(t.TempDir(), "city.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// migrationsUpTo is the .sql files of fsys's folder dir without the newest one, and
// that one's name.
func migrationsUpTo(t *testing.T, fsys fs.FS, dir string) (fstest.MapFS, string) {
	t.Helper()
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil || len(names) < 2 {
		t.Fatalf("migrations in %s: %v %v", dir, names, err)
	}
	slices.Sort(names)
	out := fstest.MapFS{}
	for _, n := range names[:len(names)-1] {
		b, _ := fs.ReadFile(fsys, n)
		out[n] = &fstest.MapFile{Data: b}
	}
	return out, filepath.Base(names[len(names)-1])
}

func setUpPreviousRelease(t *testing.T, postgres bool) previousRelease {
	t.Helper()
	ctx := context.Background()
	r := previousRelease{cfg: map[string]any{"plugins": []map[string]any{{"name": "parks"}}, "database_max_connections": 8}}
	dialect := sqlstore.SQLite
	var coreURL, dataDir string
	if postgres {
		dialect = sqlstore.Postgres
		base := sdktest.PostgresURL(t)
		var rb [5]byte
		rand.Read(rb[:])
		tag := "kvbackup_" + hex.EncodeToString(rb[:])
		admin, err := sqlx.Open("postgres", withDatabase(t, base, "postgres", ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(`CREATE DATABASE "` + tag + `"`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec(`DROP DATABASE IF EXISTS "` + tag + `" WITH (FORCE)`)
			var roles []string
			admin.Select(&roles, `SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, tag+"_")
			for _, role := range roles {
				admin.Exec(`DROP ROLE IF EXISTS "` + role + `"`)
			}
			admin.Close()
		})
		coreURL = withDatabase(t, base, tag, "")
		r.cfg["database_url"], r.cfg["plugin_store_prefix"] = coreURL, tag+"_"
	} else {
		dataDir = t.TempDir()
		r.cfg["data_dir"] = dataDir
	}

	// The core as release N migrated it, with a neighbourhood in it.
	db, err := sqlstore.Open(ctx, coreURL, dataDir, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.core = db.SQL()
	all, _ := migrations.For(dialect)
	coreN, coreLast := migrationsUpTo(t, all, ".")
	r.coreLast = coreLast
	if _, err := r.core.Exec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range coreN {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		if _, err := r.core.Exec(string(coreN[n].Data)); err != nil {
			t.Fatalf("release N's %s: %v", n, err)
		}
		r.core.MustExec(r.core.Rebind(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`), filepath.Base(n), "2026-06-01T00:00:00Z")
	}
	then := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	r.core.MustExec(r.core.Rebind(`INSERT INTO neighbourhoods (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
		"0190f000-0000-7000-8000-000000000001", "Old Town", "old-town", then, then)

	// The parks store as release N's plugin migrated it, provisioned as the host does.
	var storeCfg sdk.StoreConfig
	if postgres {
		schema := r.cfg["plugin_store_prefix"].(string) + "parks"
		pw, err := (&sqlstore.PluginStore{DB: db}).ProvisionPostgresStore(ctx, schema, schema)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(coreURL)
		u.User = url.UserPassword(schema, pw)
		storeCfg = sdk.StoreConfig{Dialect: sdk.DialectPostgres, DSN: u.String(), Schema: schema}
	} else {
		os.MkdirAll(filepath.Join(dataDir, "plugins"), 0o750)
		storeCfg = sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: filepath.Join(dataDir, "plugins", "parks.db")}
	}
	if r.parks, err = store.Open(ctx, storeCfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.parks.Close() })
	r.inspect = r.parks
	if postgres {
		if r.inspect, err = store.Open(ctx, sdk.StoreConfig{Dialect: sdk.DialectPostgres, DSN: coreURL, Schema: storeCfg.Schema}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.inspect.Close() })
	}
	parksN, parksLast := migrationsUpTo(t, parks.New().(sdk.Migrator).Migrations(), dialect)
	r.parksLast = parksLast
	if err := store.Migrate(ctx, r.parks, parksN); err != nil {
		t.Fatal(err)
	}
	r.parks.MustExec(r.parks.Rebind(`INSERT INTO parks (id, name, neighbourhood_id, time_zone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`),
		"0190f000-0000-7000-8000-0000000000aa", "Esplanadi", "0190f000-0000-7000-8000-000000000001", "Europe/Helsinki", then.UnixMicro(), then.UnixMicro())
	return r
}

// TestMain_UpgradeFromPreviousRelease upgrades release N's schema and data with this
// binary, as the operator guide's upgrade section says (`kvarter migrate`, then serve),
// and checks the data is intact and served; then it plays the rollback the guide warns
// about: a node older than the schema refuses the core, and an old plugin refuses its
// store, instead of running on a schema it does not know.
func TestMain_UpgradeFromPreviousRelease(t *testing.T) {
	kv := sdktest.KvarterBinary(t)
	for _, postgres := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[postgres]
		t.Run(name, func(t *testing.T) {
			r := setUpPreviousRelease(t, postgres)
			cfgPath := r.writeConfig(t)
			// The environment overrides the file, so the test's data dir is release N's.
			dataDir, _ := r.cfg["data_dir"].(string)
			if dataDir == "" {
				dataDir = t.TempDir()
			}
			run := func(stdin string, args ...string) (int, string, string) {
				m, out, errOut := newTestMain(t, dataDir)
				m.Options.Executable = kv
				m.Stdin = strings.NewReader(stdin)
				code := m.Run(context.Background(), args)
				return code, out.String(), errOut.String()
			}
			if code, out, errOut := run("", "migrate", "--config", cfgPath); code != 0 || !strings.Contains(out, "Applied 1 migration(s): "+r.coreLast) {
				t.Fatalf("migrate = %d %q %q", code, out, errOut)
			}
			if code, _, errOut := run("upgrade admin passphrase\n", "admin", "create-user", "--config", cfgPath, "--email", "admin@city.example", "--password-stdin", "--role", "city_admin"); code != 0 {
				t.Fatalf("create-user = %d %s", code, errOut)
			}
			m, _, errOut := newTestMain(t, dataDir)
			m.Options.Executable = kv
			srv := startServe(t, m, errOut, "--config", cfgPath)
			waitActive(t, srv.node)
			city := snapshot(t, login(t, srv.node, "admin@city.example", "upgrade admin passphrase"))
			var nbh struct{ Name, Slug string }
			json.Unmarshal(city.Neighbourhoods["0190f000-0000-7000-8000-000000000001"], &nbh)
			if nbh.Name != "Old Town" || nbh.Slug != "old-town" {
				t.Errorf("release N's neighbourhood after the upgrade: %s", city.Neighbourhoods["0190f000-0000-7000-8000-000000000001"])
			}
			var park struct {
				Name     string `json:"name"`
				TimeZone string `json:"time_zone"`
			}
			json.Unmarshal(city.Parks["0190f000-0000-7000-8000-0000000000aa"], &park)
			if park.Name != "Esplanadi" || park.TimeZone != "Europe/Helsinki" {
				t.Errorf("release N's park after the upgrade: %s", city.Parks["0190f000-0000-7000-8000-0000000000aa"])
			}
			var applied []string
			if err := r.inspect.Select(&applied, `SELECT name FROM schema_migrations ORDER BY name`); err != nil || !slices.Contains(applied, r.parksLast) {
				t.Errorf("the parks store after the upgrade has %v (%v); want %s applied", applied, err, r.parksLast)
			}
			srv.stop()

			// A schema newer than the binary: the core refuses it...
			r.core.MustExec(r.core.Rebind(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`), "9999_from_the_future.sql", "2027-01-01T00:00:00Z")
			if code, _, errOut := run("", "migrate", "--config", cfgPath); code != 1 || !strings.Contains(errOut, "newer than this kvarter") || !strings.Contains(errOut, "9999_from_the_future.sql") {
				t.Errorf("migrate on a newer core schema = %d %q", code, errOut)
			}
			r.core.MustExec(r.core.Rebind(`DELETE FROM schema_migrations WHERE name = ?`), "9999_from_the_future.sql")
			// ...and so does a plugin, which never becomes active on it.
			r.inspect.MustExec(r.inspect.Rebind(`INSERT INTO schema_migrations (name) VALUES (?)`), "9999_from_the_future.sql")
			m, _, errOut = newTestMain(t, dataDir)
			m.Options.Executable = kv
			srv = startServe(t, m, errOut, "--config", cfgPath)
			deadline := time.Now().Add(30 * time.Second)
			for {
				st, _ := srv.node.Plugins.Status("parks")
				if st.State == "active" {
					t.Fatal("parks became active on a store newer than itself")
				}
				if strings.Contains(st.LastError, "newer than this plugin") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("parks on a newer store: %+v", st)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
