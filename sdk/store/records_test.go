package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// TestRecords: rows come out as JSON-ready records alike on both databases — text as
// text (not bytes), numbers as numbers, micros columns as UTC times, an unset time
// as 0 — and only the rows the query selects.
func TestRecords(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := open(t, cfg)
		if _, err := db.Exec(`CREATE TABLE things (id TEXT PRIMARY KEY, owner TEXT NOT NULL, phone TEXT NOT NULL, n INTEGER NOT NULL, at_us BIGINT NOT NULL, due_us BIGINT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2027, 5, 1, 9, 30, 0, 1000, time.UTC)
		for _, r := range [][]any{{"a", "u1", "+358 40 123 4567", 3, store.Micros(at), 0}, {"b", "u2", "", 4, 1, 1}} {
			if _, err := db.Exec(db.Rebind(`INSERT INTO things VALUES (?, ?, ?, ?, ?, ?)`), r...); err != nil {
				t.Fatal(err)
			}
		}
		recs, err := store.Records(ctx, db, []string{"at_us", "due_us"}, db.Rebind(`SELECT id, phone, n, at_us, due_us FROM things WHERE owner = ?`), "u1")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(recs)
		want := `[{"at_us":"2027-05-01T09:30:00.000001Z","due_us":0,"id":"a","n":3,"phone":"+358 40 123 4567"}]`
		if string(got) != want {
			t.Errorf("records\n got %s\nwant %s", got, want)
		}
		none, err := store.Records(ctx, db, nil, db.Rebind(`SELECT id FROM things WHERE owner = ?`), "nobody")
		if err != nil || none == nil || len(none) != 0 {
			t.Errorf("no rows = %#v, %v; want an empty list", none, err)
		}
		fields := map[string]string{"things": "Your things."}
		pd, err := store.Export(ctx, db, "u1", []store.RecordSet{{Key: "things", Query: `SELECT id FROM things WHERE owner = ?`}}, fields)
		if got, _ := json.Marshal(pd.Data); err != nil || string(got) != `{"things":[{"id":"a"}]}` || pd.Fields["things"] != "Your things." {
			t.Errorf("Export = %s %v, %v", got, pd.Fields, err)
		}
	})
}
