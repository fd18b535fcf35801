package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// A plugin that had an outbox of its own moves its rows into the SDK's in a
// migration; the SDK's table exists by then (its migrations run first). These are the
// statements the plugins use: parks kept occurred_at as BIGINT microseconds already,
// assemblies kept "at" as TEXT "2006-01-02T15:04:05.000000Z".
var moveOutbox = map[string]map[string]string{
	"micros": {
		sdk.DialectSQLite:   `INSERT INTO kvarter_outbox (id, type, payload, occurred_at) SELECT id, type, payload, occurred_at FROM outbox; DROP TABLE outbox;`,
		sdk.DialectPostgres: `INSERT INTO kvarter_outbox (id, type, payload, occurred_at) SELECT id, type, payload, occurred_at FROM outbox; DROP TABLE outbox;`,
	},
	"text": {
		sdk.DialectSQLite: `INSERT INTO kvarter_outbox (id, type, payload, occurred_at)
			SELECT id, type, payload, CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(at, 21, 6) AS INTEGER) FROM outbox;
			DROP TABLE outbox;`,
		sdk.DialectPostgres: `INSERT INTO kvarter_outbox (id, type, payload, occurred_at)
			SELECT id, type, payload, (EXTRACT(EPOCH FROM at::timestamptz) * 1000000)::BIGINT FROM outbox;
			DROP TABLE outbox;`,
	},
}

func TestMoveOldOutbox(t *testing.T) {
	at := time.Date(2026, 11, 3, 17, 4, 5, 123456000, time.UTC)
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		for kind, column := range map[string]string{"micros": "occurred_at BIGINT", "text": "at TEXT"} {
			t.Run(kind, func(t *testing.T) {
				db := migrated(t, cfg)
				defer db.Exec(`DELETE FROM kvarter_outbox`)
				if _, err := db.Exec(`CREATE TABLE outbox (id TEXT PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, ` + column + ` NOT NULL)`); err != nil {
					t.Fatal(err)
				}
				var v any = store.Micros(at)
				if kind == "text" {
					v = at.Format("2006-01-02T15:04:05.000000Z")
				}
				if _, err := db.Exec(db.Rebind(`INSERT INTO outbox VALUES (?, ?, ?, ?)`), "0190-old", "old.made", `{"id":"x"}`, v); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(moveOutbox[kind][cfg.Dialect]); err != nil {
					t.Fatal(err)
				}
				host := newPublishHost()
				if err := db.FlushOutbox(ctx, host); err != nil {
					t.Fatal(err)
				}
				got := host.recorded()
				if len(got) != 1 || got[0].ID != "0190-old" || string(got[0].Payload) != `{"id":"x"}` || !got[0].OccurredAt.Equal(at) {
					t.Errorf("moved and delivered %+v, want the old row at %v", got, at)
				}
			})
		}
	})
}
