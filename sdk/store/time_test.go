package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

func TestMicros(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	in := time.Date(2026, 3, 29, 3, 30, 0, 123456789, helsinki)
	us := store.Micros(in)
	if us != in.UnixMicro() {
		t.Errorf("Micros = %d", us)
	}
	out := store.FromMicros(us)
	if !out.Equal(in.Truncate(time.Microsecond)) || out.Location() != time.UTC {
		t.Errorf("FromMicros = %v, want %v in UTC", out, in.Truncate(time.Microsecond))
	}
	if !store.FromMicros(store.Micros(time.Time{})).IsZero() {
		t.Error("the zero time does not round-trip")
	}
}

// TestTime: times written and read through Time and NullTime come back to the
// microsecond in UTC, sort in SQL as times do, and a column holding anything but an
// integer (or NULL in a NOT NULL time) is an error, never a zero time.
func TestTime(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := open(t, cfg)
		if _, err := db.Exec(`CREATE TABLE times (id INTEGER PRIMARY KEY, at BIGINT, due BIGINT, legacy TEXT)`); err != nil {
			t.Fatal(err)
		}
		early := time.Date(1969, 7, 20, 20, 17, 40, 999, time.UTC) // before 1970: negative
		late := time.Date(2026, 10, 25, 3, 59, 59, 999_999_999, time.FixedZone("EET", 2*3600))
		ins := db.Rebind(`INSERT INTO times (id, at, due, legacy) VALUES (?, ?, ?, ?)`)
		if _, err := db.ExecContext(ctx, ins, 1, store.Time{Time: late}, store.NullTimeOf(&early), "2026-10-25T03:59:59Z"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, ins, 2, store.Time{Time: early}, store.NullTime{}, nil); err != nil {
			t.Fatal(err)
		}

		var rows []struct {
			ID  int            `db:"id"`
			At  store.Time     `db:"at"`
			Due store.NullTime `db:"due"`
		}
		if err := db.SelectContext(ctx, &rows, `SELECT id, at, due FROM times ORDER BY at`); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].ID != 2 || rows[1].ID != 1 {
			t.Fatalf("rows %+v: not in time order", rows)
		}
		if !rows[1].At.Equal(late.Truncate(time.Microsecond)) || rows[1].At.Location() != time.UTC {
			t.Errorf("at = %v, want %v in UTC", rows[1].At, late)
		}
		if !rows[0].At.Equal(early.Truncate(time.Microsecond)) {
			t.Errorf("at = %v, want %v", rows[0].At, early)
		}
		if p := rows[1].Due.Ptr(); p == nil || !p.Equal(early.Truncate(time.Microsecond)) {
			t.Errorf("due = %+v", rows[1].Due)
		}
		if rows[0].Due.Valid || rows[0].Due.Ptr() != nil {
			t.Errorf("NULL due read as %+v", rows[0].Due)
		}
		var n int
		if err := db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM times WHERE at < ?`), store.Time{Time: late}); err != nil || n != 1 {
			t.Errorf("compare in SQL: %d, %v", n, err)
		}

		for name, q := range map[string]string{
			"text into Time":     `SELECT legacy FROM times WHERE id = 1`,
			"NULL into Time":     `SELECT due FROM times WHERE id = 2`,
			"text into NullTime": `SELECT legacy FROM times WHERE id = 1`,
		} {
			var err error
			if strings.Contains(name, "NullTime") {
				var v store.NullTime
				err = db.GetContext(ctx, &v, q)
			} else {
				var v store.Time
				err = db.GetContext(ctx, &v, q)
			}
			if err == nil || !strings.Contains(err.Error(), "store.") {
				t.Errorf("%s: err = %v, want a clear error", name, err)
			}
		}
	})
}
