package store_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/internal/sqlstore"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

func open(t *testing.T, cfg sdk.StoreConfig) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrate(t *testing.T) {
	fsys := os.DirFS("testdata/migrations")
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := open(t, cfg)
		t.Run("OK", func(t *testing.T) {
			if err := store.Migrate(ctx, db, fsys); err != nil {
				t.Fatal(err)
			}
			// Applying again changes nothing (the INSERT would collide otherwise).
			if err := store.Migrate(ctx, db, fsys); err != nil {
				t.Fatal(err)
			}
			var names []string
			if err := db.Select(&names, `SELECT name FROM schema_migrations ORDER BY name`); err != nil {
				t.Fatal(err)
			}
			// The SDK's outbox table comes first, under a name no plugin file can have.
			if strings.Join(names, ",") != "0001_parent.sql,0002_child.sql,sdk:0001_outbox.sql" {
				t.Errorf("applied %v", names)
			}
			var name string
			if err := db.Get(&name, db.Rebind(`SELECT name FROM parents WHERE id = ?`), "p1"); err != nil || name != "first" {
				t.Errorf("name %q, %v", name, err)
			}
		})
		t.Run("ForeignKeys", func(t *testing.T) {
			_, err := db.Exec(db.Rebind(`INSERT INTO children (id, parent_id) VALUES (?, ?)`), "c1", "nobody")
			if err == nil {
				t.Error("foreign key not enforced")
			}
		})
		t.Run("ErrRollsBack", func(t *testing.T) {
			bad := appliedSoFar(t, cfg.Dialect)
			bad[cfg.Dialect+"/0003_half.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE half (id TEXT); SELECT * FROM no_such_table;`)}
			if err := store.Migrate(ctx, db, bad); err == nil {
				t.Fatal("bad migration applied")
			}
			var n int
			if err := db.Get(&n, `SELECT COUNT(*) FROM schema_migrations WHERE name = '0003_half.sql'`); err != nil || n != 0 {
				t.Errorf("recorded %d, %v", n, err)
			}
			if _, err := db.Exec(`SELECT * FROM half`); err == nil {
				t.Error("half-applied migration left its table")
			}
		})
		t.Run("ErrNewerSchema", func(t *testing.T) {
			// An older release of the plugin knows only the first migration.
			older := appliedSoFar(t, cfg.Dialect)
			delete(older, cfg.Dialect+"/0002_child.sql")
			err := store.Migrate(ctx, db, older)
			if err == nil || !strings.Contains(err.Error(), "newer than this plugin") || !strings.Contains(err.Error(), "0002_child.sql") {
				t.Errorf("err = %v", err)
			}
		})
		t.Run("ErrNewerSDK", func(t *testing.T) {
			if _, err := db.Exec(`INSERT INTO schema_migrations (name) VALUES ('sdk:9999_future.sql')`); err != nil {
				t.Fatal(err)
			}
			defer db.Exec(`DELETE FROM schema_migrations WHERE name = 'sdk:9999_future.sql'`)
			err := store.Migrate(ctx, db, appliedSoFar(t, cfg.Dialect))
			if err == nil || !strings.Contains(err.Error(), "sdk:9999_future.sql") {
				t.Errorf("err = %v", err)
			}
		})
		t.Run("ErrName", func(t *testing.T) {
			bad := fstest.MapFS{cfg.Dialect + "/create.sql": {Data: []byte(`SELECT 1`)}}
			if err := store.Migrate(ctx, db, bad); err == nil || !strings.Contains(err.Error(), "NNNN_name.sql") {
				t.Errorf("err = %v", err)
			}
		})
		t.Run("ErrNoDialectDir", func(t *testing.T) {
			if err := store.Migrate(ctx, db, fstest.MapFS{}); err == nil {
				t.Error("missing directory accepted")
			}
		})
	})
}

// appliedSoFar is the testdata migrations of dialect as a MapFS a subtest can extend.
func appliedSoFar(t *testing.T, dialect string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	for _, name := range []string{"0001_parent.sql", "0002_child.sql"} {
		b, err := os.ReadFile("testdata/migrations/" + dialect + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		out[dialect+"/"+name] = &fstest.MapFile{Data: b}
	}
	return out
}

func TestOpen(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		db := open(t, cfg)
		if db.Dialect != cfg.Dialect {
			t.Errorf("dialect %q", db.Dialect)
		}
		if cfg.Dialect == sdk.DialectPostgres {
			// Unqualified names resolve in the plugin's schema on every connection.
			db.SetMaxOpenConns(3)
			for range 3 {
				var s string
				if err := db.Get(&s, `SELECT current_schema()`); err != nil || s != cfg.Schema {
					t.Errorf("current_schema %q, %v", s, err)
				}
			}
			return
		}
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000"} {
			var got string
			if err := db.Get(&got, `PRAGMA `+pragma); err != nil || got != want {
				t.Errorf("%s = %q, %v; want %q", pragma, got, err, want)
			}
		}
	})
	t.Run("ErrDialect", func(t *testing.T) {
		if _, err := store.Open(context.Background(), sdk.StoreConfig{Dialect: "mysql"}); err == nil {
			t.Error("unknown dialect accepted")
		}
	})
}

// TestClose_Untracks: a closed store no longer counts in the pool statistics the
// plugin reports with its health.
func TestClose_Untracks(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		before, _ := sqlstore.PoolStats()
		db, err := store.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(7)
		if s, _ := sqlstore.PoolStats(); s.MaxOpenConnections != before.MaxOpenConnections+7 {
			t.Fatalf("an open store: max open %d, want %d", s.MaxOpenConnections, before.MaxOpenConnections+7)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if s, _ := sqlstore.PoolStats(); s.MaxOpenConnections != before.MaxOpenConnections {
			t.Errorf("after Close: max open %d, want %d", s.MaxOpenConnections, before.MaxOpenConnections)
		}
	})
}
