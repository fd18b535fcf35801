package parks

import (
	"context"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// TestMigrate_SDKOutbox: events still waiting in the plugin's own outbox
// when it is upgraded move to the SDK's, with their IDs, types, payloads and
// exact instants, and are delivered from there; the old table is gone.
func TestMigrate_SDKOutbox(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		ctx := context.Background()
		// The last migrations before the SDK's outbox (the dialects number them apart).
		last := map[string]string{sdk.DialectPostgres: "0003", sdk.DialectSQLite: "0002"}[cfg.Dialect]
		db := sdktest.StoreAt(t, cfg, New().(*Plugin), last)
		occurred := time.Date(2025, 6, 2, 6, 0, 0, 123456000, time.UTC)
		want := []sdk.Event{
			{ID: "01970000-0000-7000-8000-000000000001", Type: EventRequested, Payload: []byte(`{"booking_id":"b1","status":"requested"}`), OccurredAt: occurred},
			{ID: "01970000-0000-7000-8000-000000000002", Type: EventApproved, Payload: []byte(`{"booking_id":"b1","status":"approved"}`), OccurredAt: occurred.Add(time.Microsecond)},
		}
		for _, e := range want {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO outbox (id, type, payload, occurred_at) VALUES (?, ?, ?, ?)`),
				e.ID, e.Type, string(e.Payload), e.OccurredAt.UnixMicro()); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.Migrate(ctx, db, New().(*Plugin).Migrations()); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.GetContext(ctx, &n, `SELECT COUNT(*) FROM outbox`); err == nil {
			t.Errorf("the plugin's outbox table is still there")
		}
		host := sdktest.NewFakeHost(sdk.Manifest{})
		if err := db.FlushOutbox(ctx, host); err != nil {
			t.Fatal(err)
		}
		got := host.Events()
		if len(got) != len(want) {
			t.Fatalf("delivered %d events, want %d", len(got), len(want))
		}
		for i, e := range got {
			if e.ID != want[i].ID || e.Type != want[i].Type || string(e.Payload) != string(want[i].Payload) || !e.OccurredAt.Equal(want[i].OccurredAt) {
				t.Errorf("event %d: %s %s %s %s, want %s %s %s %s", i, e.ID, e.Type, e.Payload, e.OccurredAt,
					want[i].ID, want[i].Type, want[i].Payload, want[i].OccurredAt)
			}
		}
	})
}
