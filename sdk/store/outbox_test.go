package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/internal/sqlstore"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// publishHost is the part of the core a relay talks to: PublishAll, all or nothing,
// skipping ids it holds, as core/pluginhost does. Other Host methods are not called.
type publishHost struct {
	sdk.Host
	mu      sync.Mutex
	events  []sdk.Event
	seen    map[string]int // id -> times sent
	batches []int
	down    error         // PublishAll fails with it while set
	got     chan struct{} // a token per accepted batch
	// batchBytes, when set, sums each accepted batch's payload bytes.
	batchBytes map[int]int
}

func newPublishHost() *publishHost {
	return &publishHost{seen: map[string]int{}, got: make(chan struct{}, 10_000)}
}

func (h *publishHost) PublishAll(_ context.Context, events []sdk.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil {
		return h.down
	}
	if len(events) > sdk.MaxPublishBatch {
		return fmt.Errorf("at most %d events per PublishAll, got %d", sdk.MaxPublishBatch, len(events))
	}
	h.batches = append(h.batches, len(events))
	if h.batchBytes != nil {
		for _, e := range events {
			h.batchBytes[len(h.batches)] += len(e.Payload)
		}
	}
	for _, e := range events {
		if h.seen[e.ID]++; h.seen[e.ID] == 1 {
			h.events = append(h.events, e)
		}
	}
	h.got <- struct{}{}
	return nil
}

func (h *publishHost) setDown(err error) {
	h.mu.Lock()
	h.down = err
	h.mu.Unlock()
}

func (h *publishHost) recorded() []sdk.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// waitFor waits until the host holds n events; the bound only ends a test that would
// otherwise hang.
func (h *publishHost) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for len(h.recorded()) < n {
		select {
		case <-h.got:
		case <-deadline:
			t.Fatalf("the host holds %d events, want %d", len(h.recorded()), n)
		}
	}
}

// migrated opens a store with the SDK's tables and a table of the test's own.
func migrated(t *testing.T, cfg sdk.StoreConfig) *store.DB {
	t.Helper()
	db := open(t, cfg)
	if err := store.Migrate(context.Background(), db, appliedSoFar(t, cfg.Dialect)); err != nil {
		t.Fatal(err)
	}
	return db
}

func pending(t *testing.T, db *store.DB) int {
	t.Helper()
	n, err := db.PendingEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInTx(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := migrated(t, cfg)
		insert := func(tx *store.Tx, id string) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO parents (id, name) VALUES (?, ?)`), id, "n")
			return err
		}
		exists := func(id string) bool {
			var n int
			if err := db.Get(&n, db.Rebind(`SELECT COUNT(*) FROM parents WHERE id = ?`), id); err != nil {
				t.Fatal(err)
			}
			return n == 1
		}

		t.Run("Commit", func(t *testing.T) {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if err := insert(tx, "c1"); err != nil {
					return err
				}
				return tx.Emit("test.created", map[string]string{"id": "c1"})
			})
			if err != nil || !exists("c1") || pending(t, db) != 1 {
				t.Errorf("err %v, row %v, pending %d", err, exists("c1"), pending(t, db))
			}
		})
		t.Run("ErrRollsBack", func(t *testing.T) {
			before := pending(t, db)
			want := errors.New("domain says no")
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if err := insert(tx, "e1"); err != nil {
					return err
				}
				if err := tx.Emit("test.created", nil); err != nil {
					return err
				}
				return want
			})
			if err != want { // as it is, not wrapped: handlers map domain errors
				t.Errorf("err = %v, want the function's own", err)
			}
			if exists("e1") || pending(t, db) != before {
				t.Errorf("rolled back transaction left its row (%v) or event (%d pending, %d before)", exists("e1"), pending(t, db), before)
			}
		})
		t.Run("PanicRollsBack", func(t *testing.T) {
			before := pending(t, db)
			func() {
				defer func() {
					if v := recover(); v != "boom" {
						t.Errorf("recovered %v, want the panic to pass through", v)
					}
				}()
				_ = db.InTx(ctx, func(tx *store.Tx) error {
					if err := insert(tx, "p9"); err != nil {
						return err
					}
					_ = tx.Emit("test.created", nil)
					panic("boom")
				})
			}()
			if exists("p9") || pending(t, db) != before {
				t.Error("a panic left its changes")
			}
			// The store is usable after the panic (on SQLite: the writer turn was released).
			if err := db.InTx(ctx, func(tx *store.Tx) error { return insert(tx, "p10") }); err != nil || !exists("p10") {
				t.Errorf("after a panic: %v", err)
			}
		})
		t.Run("Concurrent", func(t *testing.T) {
			// Read-then-write transactions do not lose updates or fail for being busy.
			if _, err := db.Exec(`CREATE TABLE counter (n INTEGER NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO counter (n) VALUES (0)`); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 40)
			for range 40 {
				wg.Go(func() {
					errs <- db.InTx(ctx, func(tx *store.Tx) error {
						var n int
						if err := tx.Get(&n, `SELECT n FROM counter`+forUpdate(db)); err != nil {
							return err
						}
						_, err := tx.Exec(tx.Rebind(`UPDATE counter SET n = ?`), n+1)
						return err
					})
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			var n int
			if err := db.Get(&n, `SELECT n FROM counter`); err != nil || n != 40 {
				t.Errorf("counter %d, %v; want 40", n, err)
			}
		})
		t.Run("ErrCanceled", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			ran := false
			err := db.InTx(cctx, func(*store.Tx) error { ran = true; return nil })
			if err == nil || ran {
				t.Errorf("a canceled context ran the function (%v) or succeeded: %v", ran, err)
			}
		})
	})
}

func forUpdate(db *store.DB) string {
	if db.IsPostgres() {
		return ` FOR UPDATE`
	}
	return ``
}

// TestInTx_RetriesSerializationFailure: PostgreSQL aborts a transaction under
// contention with 40001 or 40P01; InTx runs it again, and gives up after three runs.
func TestInTx_RetriesSerializationFailure(t *testing.T) {
	db := migrated(t, sdktest.PostgresStore(t))
	ctx := context.Background()
	runs := 0
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if runs++; runs == 1 {
			return &pq.Error{Code: "40001", Message: "could not serialize access"}
		}
		return tx.Emit("test.retried", nil)
	})
	if err != nil || runs != 2 || pending(t, db) != 1 {
		t.Errorf("err %v after %d runs, %d pending; want success on the second run with one event", err, runs, pending(t, db))
	}
	runs = 0
	err = db.InTx(ctx, func(*store.Tx) error { runs++; return &pq.Error{Code: "40P01", Message: "deadlock detected"} })
	if err == nil || runs != 3 {
		t.Errorf("err %v after %d runs; want the deadlock after three", err, runs)
	}
	runs = 0
	_ = db.InTx(ctx, func(*store.Tx) error { runs++; return &pq.Error{Code: "23505", Message: "duplicate key"} })
	if runs != 1 {
		t.Errorf("a unique violation ran %d times, want once", runs)
	}
}

func TestEmit(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := migrated(t, cfg)
		host := newPublishHost()
		before := time.Now().Add(-time.Second)
		// Three transactions, the second of two events, and payloads of several kinds.
		type created struct {
			ID   string `json:"id"`
			Seat int    `json:"seat"`
		}
		payloads := []any{created{ID: "a", Seat: 1}, map[string]any{"id": "b"}, json.RawMessage(`{"id":"c"}`), nil}
		for _, group := range [][]any{payloads[:1], payloads[1:3], payloads[3:]} {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				for _, p := range group {
					if err := tx.Emit("test.created", p); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.FlushOutbox(ctx, host); err != nil {
			t.Fatal(err)
		}
		got := host.recorded()
		want := []string{`{"id":"a","seat":1}`, `{"id":"b"}`, `{"id":"c"}`, `{}`}
		if len(got) != len(want) {
			t.Fatalf("host got %d events, want %d", len(got), len(want))
		}
		for i, e := range got {
			if string(e.Payload) != want[i] || e.Type != "test.created" || e.ID == "" {
				t.Errorf("event %d = %s %s %s, want payload %s", i, e.ID, e.Type, e.Payload, want[i])
			}
			if e.OccurredAt.Before(before) || e.OccurredAt.Location() != time.UTC {
				t.Errorf("event %d occurred at %v", i, e.OccurredAt)
			}
			if i > 0 && e.ID <= got[i-1].ID {
				t.Errorf("ids out of order: %s after %s", e.ID, got[i-1].ID)
			}
		}
		if n := pending(t, db); n != 0 {
			t.Errorf("%d events left after the host took them", n)
		}

		t.Run("ErrPayload", func(t *testing.T) {
			for name, p := range map[string]any{
				"not JSON":  make(chan int),
				"bad raw":   json.RawMessage(`{"id":`),
				"too large": strings.Repeat("x", store.MaxEventBytes),
			} {
				err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Emit("test.created", p) })
				if err == nil || !strings.Contains(err.Error(), "test.created") {
					t.Errorf("%s: err = %v", name, err)
				}
			}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Emit("", nil) }); err == nil {
				t.Error("an empty type was emitted")
			}
			if n := pending(t, db); n != 0 {
				t.Errorf("refused events left %d rows", n)
			}
		})
	})
}

// TestEmit_ManifestTypes: under sdk.Serve, a type the manifest does not publish is
// refused in the transaction, which rolls back, instead of blocking the relay later.
// Not parallel: the manifest's types are the process's.
func TestEmit_ManifestTypes(t *testing.T) {
	db := migrated(t, sdktest.SQLiteStore(t))
	sqlstore.SetPublishes([]string{"test.created"})
	defer sqlstore.SetPublishes(nil)
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Emit("test.created", nil) }); err != nil {
		t.Errorf("declared type: %v", err)
	}
	err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Emit("test.undeclared", nil) })
	if err == nil || !strings.Contains(err.Error(), "Publishes") {
		t.Errorf("undeclared type: err = %v", err)
	}
	if n := pending(t, db); n != 1 {
		t.Errorf("%d pending, want the declared one", n)
	}
}

// TestRelay: the relay delivers after each commit without waiting for its sweep, in
// order and in batches the host accepts, keeps events while the host is away and
// delivers them when it is back.
func TestRelay(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := migrated(t, cfg)
		host := newPublishHost()
		stop := db.StartOutbox(ctx, host, slog.New(slog.DiscardHandler))
		defer stop()

		emit := func(n int, from int) { emitN(t, db, from, n) }
		emit(1, 0)
		host.waitFor(t, 1)

		// The host goes away: commits still succeed and the events wait in the store.
		host.setDown(sdk.ErrUnavailable)
		emit(1200, 1)
		emit(10, 1201)
		if n := pending(t, db); n == 0 {
			t.Error("no event waits while the host is away")
		}
		host.setDown(nil)
		host.waitFor(t, 1211)

		got := host.recorded()
		for i, e := range got {
			var p struct{ N int }
			if err := json.Unmarshal(e.Payload, &p); err != nil || p.N != i {
				t.Fatalf("event %d carries %s: out of order or lost", i, e.Payload)
			}
		}
		host.mu.Lock()
		for _, b := range host.batches {
			if b > sdk.MaxPublishBatch {
				t.Errorf("a batch of %d events", b)
			}
		}
		if len(host.batches) >= len(got) {
			t.Errorf("%d batches for %d events: not batched", len(host.batches), len(got))
		}
		host.mu.Unlock()
		// Deleting follows the host's answer; wait for the last delete to land.
		for deadline := time.Now().Add(30 * time.Second); pending(t, db) > 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d events still pending after delivery", pending(t, db))
			}
		}
	})
}

// TestRelay_Restart: events committed while no relay runs (the plugin stopped, or the
// host was away when it did) leave when a relay starts again, without a new commit.
func TestRelay_Restart(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := migrated(t, cfg)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Emit("test.left", nil) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// A new process opens the store.
		db = open(t, cfg)
		host := newPublishHost()
		stop := db.StartOutbox(ctx, host, slog.New(slog.DiscardHandler))
		defer stop()
		host.waitFor(t, 1)
		if e := host.recorded()[0]; e.Type != "test.left" {
			t.Errorf("delivered %s", e.Type)
		}
	})
}

// TestRelay_SharedStore: two nodes sharing a PostgreSQL store relay at once; SKIP
// LOCKED gives each batch to one of them, so the host is never sent an event twice.
func TestRelay_SharedStore(t *testing.T) {
	cfg := sdktest.PostgresStore(t)
	ctx := context.Background()
	a, b := migrated(t, cfg), open(t, cfg)
	const total = 3000
	for i := 0; i < total; i += 100 {
		emitN(t, a, i, 100)
	}
	host := newPublishHost()
	var wg sync.WaitGroup
	for _, db := range []*store.DB{a, b, a, b} {
		wg.Go(func() {
			if err := db.FlushOutbox(ctx, host); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	host.mu.Lock()
	defer host.mu.Unlock()
	if len(host.events) != total {
		t.Errorf("host holds %d events, want %d", len(host.events), total)
	}
	for id, n := range host.seen {
		if n != 1 {
			t.Errorf("event %s sent %d times", id, n)
		}
	}
}

// emitN commits n events "test.n" with payloads {"n": from} to {"n": from+n-1} in one
// transaction.
func emitN(tb testing.TB, db *store.DB, from, n int) {
	tb.Helper()
	if err := db.InTx(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			if err := tx.Emit("test.n", map[string]int{"n": from + i}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
}
