package sqlstore_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

// TestDB_Migrate: migrations apply once, are recorded, and a schema newer than the
// binary is refused rather than run against.
func TestDB_Migrate(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, tdb coretest.DB) {
		ctx := context.Background()
		db, err := node.OpenDB(ctx, tdb.Config)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		pending, _, err := db.SchemaStatus(ctx)
		if err != nil || len(pending) == 0 {
			t.Fatalf("fresh database: pending = %v, %v", pending, err)
		}
		applied, err := db.Migrate(ctx)
		if err != nil || len(applied) != len(pending) {
			t.Fatalf("Migrate = %v, %v; want %v", applied, err, pending)
		}
		again, err := db.Migrate(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second Migrate = %v, %v; want nothing to do", again, err)
		}
		if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`), "9999_from_the_future.sql", "2030-01-01"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
		}
		if _, err := node.New(ctx, tdb.Config, slog.Default(), node.Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("node.New on a newer schema = %v, want a refusal", err)
		}
	})
}
