package parks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// Events leave through a local outbox: the transaction that changes a
// booking also writes its event row, and a background flusher hands rows
// to the host a batch at a time (Host.PublishAll: one call and one commit
// in the core per batch) and deletes them. A request therefore commits
// once — the host's outbox commit happens off its path — and an event is
// never lost when PublishAll fails: the host records all of a batch or
// none of it, the rows stay and the next flush retries. Delivery is at
// least once, with the row's ID as the event ID: the core skips an ID its
// outbox holds already, so a batch sent again after a flush that stopped
// before deleting is recorded once.

// Flusher timing: a kick after each commit, and a sweep for rows left by a
// failure or by a node that stopped. A batch is one PublishAll, so at most
// sdk.MaxPublishBatch.
const (
	outboxBatch = 200
	outboxSweep = 5 * time.Second
)

type outboxRow struct {
	ID         string `db:"id"`
	Type       string `db:"type"`
	Payload    string `db:"payload"`
	OccurredAt int64  `db:"occurred_at"`
}

func enqueue(ctx context.Context, q queryer, r outboxRow) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO outbox (id, type, payload, occurred_at) VALUES (?, ?, ?, ?)`),
		r.ID, r.Type, r.Payload, r.OccurredAt); err != nil {
		return fmt.Errorf("queue event %s: %w", r.Type, err)
	}
	return nil
}

// kickOutbox wakes the flusher without waiting for it.
func (s *Service) kickOutbox() {
	if s.kick == nil {
		return
	}
	select {
	case s.kick <- struct{}{}:
	default: // a flush is already due
	}
}

// runOutbox flushes on every kick and every sweep until ctx ends.
func (s *Service) runOutbox(ctx context.Context) {
	t := time.NewTicker(outboxSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
		for {
			n, err := s.flushOutbox(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "parks: publish queued events; will retry", "error", err)
				}
				break
			}
			if n < outboxBatch {
				break
			}
		}
	}
}

// flushOutbox publishes one batch of queued events in order and deletes
// it once the host has taken it. Storage decides how the batch is held:
// on PostgreSQL locked (SKIP LOCKED) so that nodes sharing the store do
// not publish the same rows at once; on SQLite, which has one node, without
// holding its single write lock while the host answers.
func (s *Service) flushOutbox(ctx context.Context) (int, error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	return s.st.outboxBatch(ctx, s.st, func(q queryer, lock string) (int, error) {
		return s.publishBatch(ctx, q, lock)
	})
}

// publishBatch hands up to outboxBatch rows to the host in one PublishAll
// and deletes them if it took them; it returns how many rows it read. A
// failure to delete leaves rows the host has; the next flush sends them
// again and the host skips them.
func (s *Service) publishBatch(ctx context.Context, q queryer, lock string) (int, error) {
	var rows []outboxRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT id, type, payload, occurred_at FROM outbox
		ORDER BY id LIMIT ?`+lock), outboxBatch); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	events := make([]sdk.Event, len(rows))
	ids := make([]any, len(rows))
	for i, r := range rows {
		events[i] = sdk.Event{ID: r.ID, Type: r.Type, Payload: json.RawMessage(r.Payload), OccurredAt: fromUS(r.OccurredAt)}
		ids[i] = r.ID
	}
	if err := s.host.PublishAll(ctx, events); err != nil {
		return len(rows), fmt.Errorf("publish %d events from %s: %w", len(rows), rows[0].ID, err)
	}
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM outbox WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`), ids...); err != nil {
		return len(rows), fmt.Errorf("delete published events: %w", err)
	}
	return len(rows), nil
}
