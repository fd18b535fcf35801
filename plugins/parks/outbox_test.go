package parks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
)

// TestService_FlushOutbox: queued events reach the host one PublishAll per
// batch, in order; a refused batch stays queued until the host takes it;
// rows the host holds already (a flush that stopped before deleting) are
// sent again without an error and recorded once.
func TestService_FlushOutbox(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		t.Run("OK", func(t *testing.T) {
			w := newWorld(t, variant, cfg, nil)
			ids := w.queueEvents(0, outboxBatch+50)
			w.flushAll()
			if got := w.hostEventIDs(); !slices.Equal(got, ids) {
				t.Errorf("host has %d events %v…, want %d in order", len(got), head(got), len(ids))
			}
			w.host.mu.Lock()
			batches := w.host.batches
			w.host.mu.Unlock()
			if batches != 2 {
				t.Errorf("%d PublishAll calls for %d events, want 2", batches, len(ids))
			}
			if n := w.queued(); n != 0 {
				t.Errorf("%d events still queued", n)
			}
		})
		t.Run("ErrHostRefuses", func(t *testing.T) {
			w := newWorld(t, variant, cfg, nil)
			w.host.mu.Lock()
			w.host.refuse = errors.New("host unavailable")
			w.host.mu.Unlock()
			ids := w.queueEvents(0, 3)
			if _, err := w.svc.flushOutbox(context.Background()); err == nil {
				t.Fatal("flush succeeded while the host refused")
			}
			if n := w.queued(); n != len(ids) {
				t.Errorf("%d events queued after a refusal, want %d", n, len(ids))
			}
			w.host.mu.Lock()
			w.host.refuse = nil
			w.host.mu.Unlock()
			w.flushAll()
			if got := w.hostEventIDs(); !slices.Equal(got, ids) {
				t.Errorf("host has %v, want %v", got, ids)
			}
		})
		t.Run("Redelivered", func(t *testing.T) {
			w := newWorld(t, variant, cfg, nil)
			ids := w.queueEvents(0, 3)
			w.flushAll()
			// As if the flush had stopped before deleting: the same rows again.
			again := append(w.queueEvents(1, 2), w.queueEvents(3, 1)...)
			if _, err := w.svc.flushOutbox(context.Background()); err != nil {
				t.Fatalf("flush of rows the host holds: %v", err)
			}
			if got, want := w.hostEventIDs(), append(ids, again[2]); !slices.Equal(got, want) {
				t.Errorf("host has %v, want %v", got, want)
			}
			if n := w.queued(); n != 0 {
				t.Errorf("%d events still queued", n)
			}
		})
	})
}

// queueEvents commits n events to the plugin's outbox in one transaction,
// with IDs from, from+1, … (sortable, so in flush order), and returns the
// IDs.
func (w *world) queueEvents(from, n int) []string {
	w.t.Helper()
	var ids []string
	err := w.svc.st.inTx(context.Background(), func(tx *sqlx.Tx) error {
		for i := from; i < from+n; i++ {
			id := fmt.Sprintf("evt-%04d", i)
			r := outboxRow{ID: id, Type: EventRequested, Payload: fmt.Sprintf(`{"booking_id": "b%d"}`, i), OccurredAt: us(monday0900)}
			if err := enqueue(context.Background(), tx, r); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return ids
}

// flushAll flushes until the outbox is empty.
func (w *world) flushAll() {
	w.t.Helper()
	for {
		n, err := w.svc.flushOutbox(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (w *world) queued() int {
	w.t.Helper()
	var n int
	if err := w.svc.st.db.GetContext(context.Background(), &n, `SELECT COUNT(*) FROM outbox`); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) hostEventIDs() []string {
	w.host.mu.Lock()
	defer w.host.mu.Unlock()
	var out []string
	for _, e := range w.host.events {
		out = append(out, e.ID)
	}
	return out
}

func head(ids []string) []string { return ids[:min(len(ids), 3)] }
