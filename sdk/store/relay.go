package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
)

// The relay hands a store's outbox to the host: a batch at a time (one PublishAll,
// one commit in the core), in id order, deleting the rows once the host has taken
// them. It runs when a transaction that emitted commits, on a sweep for rows left by
// a failure, a restart or another node, and backs off while the host is away. The
// host records all of a batch or none of it and skips ids it holds already, so a batch
// sent again after a relay stopped between publishing and deleting is recorded once:
// delivery is at least once, with the row id as the event id.
//
// On PostgreSQL a batch is claimed with FOR UPDATE SKIP LOCKED, so that nodes sharing
// the store never send the same rows at once. SQLite has one node; there one relay at
// a time reads a batch without holding the write lock while the host answers.

// Relay timing and sizes.
const (
	// outboxSweep is how often a relay looks for rows nobody woke it for.
	outboxSweep = 5 * time.Second
	// Backoff while the host refuses or is away: doubling from retryBase up to
	// retryMax, with jitter so that nodes do not retry in step.
	retryBase = 200 * time.Millisecond
	retryMax  = 10 * time.Second
	// publishTimeout bounds one PublishAll, during which PostgreSQL holds the batch's
	// row locks.
	publishTimeout = 30 * time.Second
	// maxBatchBytes keeps a batch's payloads well inside the plugin connection's
	// message limit (32 MiB).
	maxBatchBytes = 8 << 20
)

// outbox is a store's relay state.
type outbox struct {
	db *DB
	// kicks wakes a relay; one pending kick is enough.
	kicks chan struct{}
	// writer, on SQLite, is the process's turn to write (see InTx); nil on PostgreSQL.
	writer chan struct{}
	// flushMu lets one batch at a time leave this process.
	flushMu sync.Mutex

	mu      sync.Mutex
	relays  map[*relay]struct{}
	relayWG sync.WaitGroup
}

type relay struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (db *DB) outbox() *outbox {
	db.outboxOnce.Do(func() {
		db.ob = &outbox{db: db, kicks: make(chan struct{}, 1), relays: map[*relay]struct{}{}}
		if !db.IsPostgres() {
			db.ob.writer = make(chan struct{}, 1)
		}
	})
	return db.ob
}

func (o *outbox) kick() {
	select {
	case o.kicks <- struct{}{}:
	default: // a flush is due already
	}
}

// StartOutbox relays the store's outbox to host until ctx ends or stop is called
// (stop waits for the relay to finish). sdk.Serve does this for every store opened
// with Open while the plugin is active; call it yourself in a test that drives a
// plugin without Serve, or use FlushOutbox to deliver at a moment of your choosing.
// logger gets a warning, without payloads, for each failed attempt; nil is
// slog.Default(). Closing the store stops its relays.
func (db *DB) StartOutbox(ctx context.Context, host sdk.Host, logger *slog.Logger) (stop func()) {
	if host == nil {
		panic("store: StartOutbox needs a host")
	}
	if logger == nil {
		logger = slog.Default()
	}
	o := db.outbox()
	ctx, cancel := context.WithCancel(ctx)
	r := &relay{cancel: cancel, done: make(chan struct{})}
	o.mu.Lock()
	o.relays[r] = struct{}{}
	o.relayWG.Add(1)
	o.mu.Unlock()
	go func() {
		defer o.relayWG.Done()
		defer close(r.done)
		o.run(ctx, host, logger)
	}()
	return func() {
		cancel()
		<-r.done
		o.mu.Lock()
		delete(o.relays, r)
		o.mu.Unlock()
	}
}

// stopRelays stops every relay of the store, which is closing.
func (o *outbox) stopRelays() {
	o.mu.Lock()
	for r := range o.relays {
		r.cancel()
	}
	o.mu.Unlock()
	o.relayWG.Wait()
}

// run flushes at start (rows a previous run left), on every kick and every sweep,
// backing off after a failure until ctx ends.
func (o *outbox) run(ctx context.Context, host sdk.Host, logger *slog.Logger) {
	failures := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.kicks:
			if failures > 0 {
				continue // backing off: the timer retries
			}
		case <-timer.C:
		}
		err := o.flush(ctx, host)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			failures++
			delay := retryDelay(failures)
			logger.Warn("outbox: events not delivered; will retry", "attempt", failures, "retry_in", delay, "error", err)
			timer.Reset(delay)
		default:
			if failures > 0 {
				logger.Info("outbox: delivering again", "failed_attempts", failures)
			}
			failures = 0
			timer.Reset(outboxSweep)
		}
	}
}

// retryDelay is the wait after the n-th failure in a row.
func retryDelay(n int) time.Duration {
	d := retryMax
	if n < 16 {
		d = min(retryBase<<(n-1), retryMax)
	}
	return d*3/4 + rand.N(d/2)
}

// FlushOutbox hands every pending event to host now, batch by batch, and returns the
// first error (the rest stay for the next try). Plugin tests use it to see the events
// a call emitted; sdk.Serve flushes once when the plugin is deactivated.
func (db *DB) FlushOutbox(ctx context.Context, host sdk.Host) error {
	return db.outbox().flush(ctx, host)
}

// PendingEvents counts the events waiting in the store's outbox.
func (db *DB) PendingEvents(ctx context.Context) (int, error) {
	var n int
	if err := db.GetContext(ctx, &n, `SELECT COUNT(*) FROM kvarter_outbox`); err != nil {
		return 0, fmt.Errorf("count pending events: %w", err)
	}
	return n, nil
}

func (o *outbox) flush(ctx context.Context, host sdk.Host) error {
	for {
		more, err := o.batch(ctx, host)
		if err != nil || !more {
			return err
		}
	}
}

// Relay and Flush let sdk.Serve drive the store's outbox (sqlstore.Outbox).
func (o *outbox) Relay(host any, logger *slog.Logger) (stop func()) {
	return o.db.StartOutbox(context.Background(), host.(sdk.Host), logger)
}

func (o *outbox) Flush(ctx context.Context, host any) error {
	return o.flush(ctx, host.(sdk.Host))
}

type outboxRow struct {
	ID         string `db:"id"`
	Type       string `db:"type"`
	Payload    string `db:"payload"`
	OccurredAt int64  `db:"occurred_at"`
}

// batch publishes the oldest pending events, at most sdk.MaxPublishBatch, and deletes
// them once the host has them; more reports that others may be waiting.
func (o *outbox) batch(ctx context.Context, host sdk.Host) (more bool, err error) {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	db := o.db
	if !db.IsPostgres() {
		return o.publish(ctx, host, db.DB, "", true)
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("outbox: begin: %w", err)
	}
	defer tx.Rollback()
	more, err = o.publish(ctx, host, tx, " FOR UPDATE SKIP LOCKED", false)
	if err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("outbox: commit: %w", err)
	}
	return more, nil
}

// publish reads a batch through q (lock appended to the query), hands it to the host
// and deletes it, holding the process's turn to write for the delete when holdWriter.
func (o *outbox) publish(ctx context.Context, host sdk.Host, q sqlx.ExtContext, lock string, holdWriter bool) (bool, error) {
	var rows []outboxRow
	err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(`SELECT id, type, payload, occurred_at FROM kvarter_outbox ORDER BY id LIMIT ?`+lock), sdk.MaxPublishBatch)
	if err != nil {
		return false, fmt.Errorf("outbox: read: %w", err)
	}
	if len(rows) == 0 {
		return false, nil
	}
	full := len(rows) == sdk.MaxPublishBatch
	events := make([]sdk.Event, 0, len(rows))
	ids := make([]any, 0, len(rows))
	size := 0
	for _, r := range rows {
		if size += len(r.Payload); size > maxBatchBytes && len(events) > 0 {
			full = true
			break
		}
		events = append(events, sdk.Event{ID: r.ID, Type: r.Type, Payload: json.RawMessage(r.Payload), OccurredAt: FromMicros(r.OccurredAt)})
		ids = append(ids, r.ID)
	}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	err = host.PublishAll(pctx, events)
	cancel()
	if err != nil {
		return false, fmt.Errorf("outbox: publish %d events from %s: %w", len(events), events[0].ID, err)
	}
	if holdWriter {
		release, err := o.db.lockWriter(ctx)
		if err != nil {
			return false, fmt.Errorf("outbox: delete published events: %w", err)
		}
		defer release()
	}
	del := q.Rebind(`DELETE FROM kvarter_outbox WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`)
	if _, err := q.ExecContext(ctx, del, ids...); err != nil {
		// The host has them; the next flush sends them again and the host skips them.
		return false, fmt.Errorf("outbox: delete published events: %w", err)
	}
	return full, nil
}
