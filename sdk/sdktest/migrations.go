package sdktest

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// MigratedStore opens cfg's store with all of m's migrations (and the SDK's) applied,
// as the host leaves it before activating the plugin. The store is closed when the
// test ends.
func MigratedStore(tb testing.TB, cfg sdk.StoreConfig, m sdk.Migrator) *store.DB {
	tb.Helper()
	return storeWith(tb, cfg, m.Migrations(), "all")
}

// storeWith opens cfg's store with the migrations of fsys (up to last) applied.
func storeWith(tb testing.TB, cfg sdk.StoreConfig, fsys fs.FS, last string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := store.Migrate(ctx, db, fsys); err != nil {
		tb.Fatalf("migrate up to %s: %v", last, err)
	}
	return db
}

// EachMigratedStore is EachStore with m's migrations applied: fn runs on a fresh
// SQLite store and on a throwaway PostgreSQL schema, each as MigratedStore leaves it.
func EachMigratedStore(t *testing.T, m sdk.Migrator, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) { fn(t, MigratedStore(t, cfg, m)) })
}

// StoreAt opens cfg's store with m's migrations up to and including number last (e.g.
// "0002") applied, in cfg's dialect: the store as an older release left it, for a test
// that writes rows in the old encoding and then applies the migrations after. The
// store is closed when the test ends.
func StoreAt(tb testing.TB, cfg sdk.StoreConfig, m sdk.Migrator, last string) *store.DB {
	tb.Helper()
	return storeWith(tb, cfg, MigrationsUpTo(tb, m, cfg.Dialect, last), last)
}

// MigrationsUpTo are m's migrations of one dialect numbered up to and including last.
// A number with no migration fails the test.
func MigrationsUpTo(tb testing.TB, m sdk.Migrator, dialect, last string) fs.FS {
	tb.Helper()
	all := m.Migrations()
	entries, err := fs.ReadDir(all, dialect)
	if err != nil {
		tb.Fatal(err)
	}
	out, found := fstest.MapFS{}, false
	for _, e := range entries {
		number, _, _ := strings.Cut(e.Name(), "_")
		if number > last {
			continue
		}
		found = found || number == last
		name := path.Join(dialect, e.Name())
		b, err := fs.ReadFile(all, name)
		if err != nil {
			tb.Fatal(err)
		}
		out[name] = &fstest.MapFile{Data: b}
	}
	if !found {
		tb.Fatalf("no migration %s/%s_*", dialect, last)
	}
	return out
}
