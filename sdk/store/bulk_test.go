package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

func TestInsertRows(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := open(t, cfg)
		if _, err := db.Exec(`CREATE TABLE bulk (id TEXT PRIMARY KEY, n INTEGER NOT NULL, flag BOOLEAN NOT NULL, note TEXT)`); err != nil {
			t.Fatal(err)
		}
		insert := func(n int, row func(i int, values []any)) error {
			tx := db.MustBegin()
			defer tx.Rollback()
			if err := store.InsertRows(ctx, tx, "bulk", []string{"id", "n", "flag", "note"}, n, row); err != nil {
				return err
			}
			return tx.Commit()
		}
		t.Run("OK", func(t *testing.T) {
			// More than one full statement and a remainder on SQLite; text that COPY's
			// text format must escape.
			const n = 1234
			err := insert(n, func(i int, v []any) {
				var note any = fmt.Sprintf("row\t%d\n\\ \"%d\" ü", i, i)
				if i%7 == 0 {
					note = nil
				}
				v[0], v[1], v[2], v[3] = fmt.Sprintf("r%05d", i), i, i%2 == 0, note
			})
			if err != nil {
				t.Fatal(err)
			}
			var rows []struct {
				ID   string  `db:"id"`
				N    int     `db:"n"`
				Flag bool    `db:"flag"`
				Note *string `db:"note"`
			}
			if err := db.Select(&rows, `SELECT id, n, flag, note FROM bulk ORDER BY id`); err != nil {
				t.Fatal(err)
			}
			if len(rows) != n {
				t.Fatalf("%d rows, want %d", len(rows), n)
			}
			for i, r := range rows {
				want := fmt.Sprintf("row\t%d\n\\ \"%d\" ü", i, i)
				if r.ID != fmt.Sprintf("r%05d", i) || r.N != i || r.Flag != (i%2 == 0) ||
					(i%7 == 0) != (r.Note == nil) || (r.Note != nil && *r.Note != want) {
					t.Fatalf("row %d is %+v", i, r)
				}
			}
		})
		t.Run("ErrRollsBack", func(t *testing.T) {
			// A duplicate key in the last rows fails the whole call; nothing is kept.
			if _, err := db.Exec(`DELETE FROM bulk`); err != nil {
				t.Fatal(err)
			}
			err := insert(600, func(i int, v []any) {
				v[0], v[1], v[2], v[3] = fmt.Sprintf("d%d", min(i, 598)), i, true, nil
			})
			if err == nil || !strings.Contains(err.Error(), "insert into bulk") && !strings.Contains(err.Error(), "copy into bulk") {
				t.Fatalf("duplicate key: %v", err)
			}
			var count int
			if err := db.Get(&count, `SELECT COUNT(*) FROM bulk`); err != nil || count != 0 {
				t.Errorf("%d rows kept after a failed insert (%v)", count, err)
			}
		})
		t.Run("None", func(t *testing.T) {
			if err := insert(0, func(int, []any) { t.Error("row asked for with n = 0") }); err != nil {
				t.Fatal(err)
			}
		})
	})
}
