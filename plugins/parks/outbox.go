package parks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
)

// Events leave through a local outbox: the transaction that changes a
// booking also writes its event row, and a background flusher hands rows
// to the host (Host.Publish) and deletes them. A request therefore commits
// once — the host's outbox commit happens off its path — and an event is
// never lost when Publish fails: the row stays and the next flush retries.
// Delivery is at least once, with the row's ID as the event ID, which the
// core's outbox refuses twice; a refusal for that reason means an earlier
// attempt got through.

// Flusher timing: a kick after each commit, and a sweep for rows left by a
// failure or by a node that stopped.
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
// what the host took; it stops at the first failure. On PostgreSQL the
// batch is locked (SKIP LOCKED) so that nodes sharing the store do not
// publish the same rows at once; SQLite has one node and runs one flush at
// a time, without holding its single write lock while the host answers.
func (s *Service) flushOutbox(ctx context.Context) (int, error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if s.st.db.Dialect != sdk.DialectPostgres {
		n, perr, err := s.publishBatch(ctx, s.st.db, "")
		return n, errors.Join(err, perr)
	}
	var n int
	var perr error
	// A failed Publish still commits the deletion of what went before it.
	err := s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		n, perr, err = s.publishBatch(ctx, tx, pgSkipLocked)
		return err
	})
	return n, errors.Join(err, perr)
}

// publishBatch returns how many rows it read, the host's refusal if one
// stopped it, and a store error.
func (s *Service) publishBatch(ctx context.Context, q queryer, lock string) (int, error, error) {
	var rows []outboxRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT id, type, payload, occurred_at FROM outbox
		ORDER BY id LIMIT ?`+lock), outboxBatch); err != nil {
		return 0, nil, fmt.Errorf("read outbox: %w", err)
	}
	var done []any
	var perr error
	for _, r := range rows {
		e := sdk.Event{ID: r.ID, Type: r.Type, Payload: json.RawMessage(r.Payload), OccurredAt: fromUS(r.OccurredAt)}
		if err := s.host.Publish(ctx, e); err != nil && !alreadyPublished(err) {
			perr = fmt.Errorf("publish %s %s: %w", r.Type, r.ID, err)
			break
		}
		done = append(done, r.ID)
	}
	if len(done) > 0 {
		if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM outbox WHERE id IN (?`+strings.Repeat(", ?", len(done)-1)+`)`), done...); err != nil {
			return 0, nil, fmt.Errorf("delete published events: %w", err)
		}
	}
	return len(rows), perr, nil
}

// alreadyPublished reports the core refusing an event ID it holds: an
// earlier flush published the row but stopped before deleting it.
func alreadyPublished(err error) bool {
	return strings.Contains(err.Error(), "exists already")
}
