package hello

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// firstRelease is the store as hello's first release left it: migration 0001 only, with
// ping times as TEXT in Go's RFC 3339 format with nanoseconds.
func firstRelease(t *testing.T, cfg sdk.StoreConfig, times ...string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db := sdktest.StoreAt(t, cfg, New(), "0001")
	for _, at := range times {
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO pings (user_id, at) VALUES ('ann', ?)`), at); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestMigrations_PingTimesAsMicroseconds: 0002 turns every time the first release wrote
// (time.RFC3339Nano in UTC) into the microseconds the plugin now reads, on both
// databases, and the plugin reads them back through its storage.
func TestMigrations_PingTimesAsMicroseconds(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),                // a whole second: no fraction written
		time.Date(2026, 3, 2, 9, 0, 0, 500_000_000, time.UTC),      // one digit
		time.Date(2028, 2, 29, 23, 59, 59, 999_999_000, time.UTC),  // a leap day, six digits
		time.Date(2026, 12, 31, 23, 59, 59, 123_456_789, time.UTC), // nine digits: the last three go
		time.Date(1969, 12, 31, 23, 59, 59, 250_000_000, time.UTC), // before 1970
		time.Date(2026, 7, 1, 12, 30, 0, 1_000, time.UTC),          // one microsecond
	}
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		var text []string
		for _, at := range times {
			text = append(text, at.Format(time.RFC3339Nano))
		}
		db := firstRelease(t, cfg, text...)
		ctx := context.Background()
		if err := store.Migrate(ctx, db, New().Migrations()); err != nil {
			t.Fatal(err)
		}
		pings, err := (&Storage{db: db}).Pings(ctx, "ann", sdk.ListQuery{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(pings) != len(times) {
			t.Fatalf("%d pings after the migration, want %d", len(pings), len(times))
		}
		for i, p := range pings {
			if want := times[i].Truncate(time.Microsecond); !p.At.Equal(want) {
				t.Errorf("ping %d stored as %q reads %s, want %s", i, text[i], p.At.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
			}
		}
	})
}

// TestMigrations_PingTimesRefuseBadValues: 0002 stops at a stored time it cannot
// convert exactly, names it, and changes nothing.
func TestMigrations_PingTimesRefuseBadValues(t *testing.T) {
	bad := []struct{ name, value string }{
		{"NotADay", "2026-02-30T09:00:00Z"},
		{"Words", "yesterday"},
		{"Empty", ""},
		{"LocalTime", "2026-03-02 09:00:00.5"},
		{"Offset", "2026-03-02T09:00:00+01:00"},
		{"TenDigits", "2026-03-02T09:00:00.1234567890Z"},
		{"EmptyFraction", "2026-03-02T09:00:00.Z"},
	}
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				fresh := sdktest.SQLiteStore(t)
				if cfg.Dialect == sdk.DialectPostgres {
					fresh = sdktest.PostgresStore(t)
				}
				ctx := context.Background()
				good := "2026-03-02T09:00:01.5Z"
				db := firstRelease(t, fresh, good, b.value)
				err := store.Migrate(ctx, db, New().Migrations())
				if err == nil {
					t.Fatal("migrated a store holding a time it cannot convert")
				}
				want := "pings.at holds '" + b.value + "', which is not a time in the format 2006-01-02T15:04:05.999999999Z"
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nwant it to say %q", err, want)
				}
				var applied int
				if err := db.GetContext(ctx, &applied, `SELECT COUNT(*) FROM schema_migrations WHERE name LIKE '0002%'`); err != nil || applied != 0 {
					t.Errorf("0002 recorded as applied: %d, %v", applied, err)
				}
				var kept []string
				if err := db.SelectContext(ctx, &kept, `SELECT at FROM pings ORDER BY id`); err != nil || len(kept) != 2 || kept[0] != good || kept[1] != b.value {
					t.Errorf("pings hold %q, %v; want them as they were", kept, err)
				}
			})
		}
	})
}
