package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SubscriberBacklog is how far one subscriber's delivery is behind the outbox.
type SubscriberBacklog struct {
	Subscriber string
	// Pending counts the events after the subscriber's cursor (of every type: the
	// cursor passes events it does not subscribe to as it goes).
	Pending int64
	// Lag is the age of the oldest pending event; zero when none is pending.
	Lag time.Duration
	// FailedAttempts counts the consecutive failed deliveries at the cursor.
	FailedAttempts int64
}

// OutboxBacklog reports every subscriber's backlog, for the metrics. It reads a few
// rows per subscriber through the primary key; run it at scrape time, not per request.
func (s *PluginStore) OutboxBacklog(ctx context.Context) ([]SubscriberBacklog, error) {
	var cursors []struct {
		Subscriber string `db:"subscriber"`
		LastSeq    int64  `db:"last_seq"`
		Attempts   int64  `db:"attempts"`
	}
	if err := selectAll(ctx, s.DB.db, &cursors, `SELECT subscriber, last_seq, attempts FROM plugin_event_cursors ORDER BY subscriber`); err != nil {
		return nil, fmt.Errorf("outbox backlog: %w", err)
	}
	now := s.DB.now()
	out := make([]SubscriberBacklog, 0, len(cursors))
	for _, c := range cursors {
		b := SubscriberBacklog{Subscriber: c.Subscriber, FailedAttempts: c.Attempts}
		if err := get(ctx, s.DB.db, &b.Pending, `SELECT COUNT(*) FROM outbox_events WHERE seq > ?`, c.LastSeq); err != nil {
			return nil, fmt.Errorf("outbox backlog of %s: %w", c.Subscriber, err)
		}
		if b.Pending > 0 {
			var oldest time.Time
			err := get(ctx, s.DB.db, &oldest, `SELECT occurred_at FROM outbox_events WHERE seq > ? ORDER BY seq LIMIT 1`, c.LastSeq)
			switch {
			case errors.Is(err, sql.ErrNoRows): // delivered meanwhile
			case err != nil:
				return nil, fmt.Errorf("outbox backlog of %s: %w", c.Subscriber, err)
			default:
				b.Lag = max(0, now.Sub(oldest))
			}
		}
		out = append(out, b)
	}
	return out, nil
}
