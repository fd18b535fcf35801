package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

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

// TestBase_Every: background work runs from Activate, at once and then on its period,
// and has stopped when Deactivate returns; a failing run is logged and the next comes.
func TestBase_Every(t *testing.T) {
	ctx := context.Background()
	b := &store.Base{}
	if err := b.Open(ctx, sdk.Env{Store: sdktest.SQLiteStore(t)}); err != nil {
		t.Fatal(err)
	}
	runs := make(chan struct{}, 100)
	var stopped atomic.Bool
	b.Every(time.Millisecond, func(ctx context.Context) error {
		if stopped.Load() {
			t.Error("background work ran after Deactivate returned")
		}
		runs <- struct{}{}
		return errors.New("a failing run")
	})
	if err := b.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		<-runs // a failing run does not stop the next
	}
	if err := b.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	stopped.Store(true)
	time.Sleep(5 * time.Millisecond) // a run after Deactivate would fail the test
}

// TestBase_EveryAgain: configured again (Open, then Every), the plugin has each job
// once, not the earlier registration too; activated again, the work started first is
// stopped before the new starts, so no job runs twice side by side.
func TestBase_EveryAgain(t *testing.T) {
	ctx := context.Background()
	b := &store.Base{}
	env := sdk.Env{Store: sdktest.SQLiteStore(t)}
	if err := b.Open(ctx, env); err != nil {
		t.Fatal(err)
	}
	var stale atomic.Int32
	b.Every(time.Hour, func(context.Context) error { stale.Add(1); return nil })
	if err := b.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Open(ctx, env); err != nil { // the host configures the plugin again
		t.Fatal(err)
	}
	runs := make(chan context.Context, 10)
	b.Every(time.Hour, func(ctx context.Context) error { runs <- ctx; return nil })

	if err := b.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	first := <-runs // every job runs at once on Activate
	if err := b.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	second := <-runs
	if first.Err() == nil {
		// Fatal: Deactivate would wait for that work for ever.
		t.Fatal("the work of the first Activate still runs after the second")
	}
	if second.Err() != nil {
		t.Error("the work of the second Activate was stopped")
	}
	if err := b.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if second.Err() == nil {
		t.Error("the work still runs after Deactivate")
	}
	if n := stale.Load(); n != 0 || len(runs) != 0 {
		t.Errorf("the job registered before the second Open ran %d times; %d extra runs", n, len(runs))
	}
}
