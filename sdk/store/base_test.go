package store_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// TestBase runs a plugin's lifecycle through store.Base: migrations from the dialect
// folders at the root or under "migrations", the city's time zone, health while the
// store is open and not after Deactivate.
func TestBase(t *testing.T) {
	ctx := context.Background()
	nested := fstest.MapFS{}
	for _, d := range []string{"sqlite", "postgres"} {
		for _, f := range []string{"0001_parent.sql", "0002_child.sql"} {
			data, err := os.ReadFile("testdata/migrations/" + d + "/" + f)
			if err != nil {
				t.Fatal(err)
			}
			nested["migrations/"+d+"/"+f] = &fstest.MapFile{Data: data}
		}
	}
	t.Run("Lifecycle", func(t *testing.T) {
		sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
			b := &store.Base{Schema: nested}
			if err := b.Health(ctx); err == nil {
				t.Error("healthy before the store was opened")
			}
			if err := b.Open(ctx, sdk.Env{Store: cfg, CityTimeZone: "Europe/Helsinki"}); err != nil {
				t.Fatal(err)
			}
			if b.Zone.String() != "Europe/Helsinki" || b.Logger == nil {
				t.Errorf("zone %v, logger %v", b.Zone, b.Logger)
			}
			if err := store.Migrate(ctx, b.DB, b.Migrations()); err != nil {
				t.Fatal(err)
			}
			if _, err := b.DB.ExecContext(ctx, `INSERT INTO parents (id, name) VALUES ('1', 'one')`); err != nil {
				t.Fatalf("the migrations did not run: %v", err)
			}
			if err := b.Health(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Deactivate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Health(ctx); err == nil {
				t.Error("healthy after the store was closed")
			}
		})
	})
	t.Run("ErrTimeZone", func(t *testing.T) {
		b := &store.Base{}
		err := b.Open(ctx, sdk.Env{Store: sdktest.SQLiteStore(t), CityTimeZone: "Mars/Olympus"})
		if err == nil || !strings.Contains(err.Error(), "Mars/Olympus") || b.DB != nil {
			t.Errorf("Open with an unknown zone: %v (store %v)", err, b.DB)
		}
	})
	t.Run("Root", func(t *testing.T) {
		b := &store.Base{Schema: os.DirFS("testdata/migrations")}
		if names, err := store.MigrationNames(sdk.DialectSQLite, b.Migrations()); err != nil || len(names) < 2 {
			t.Errorf("migrations at the root: %v %v", names, err)
		}
	})
}
