package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk/internal/sqlstore"
)

// Tx is a transaction opened by DB.InTx: an sqlx transaction that can also Emit
// events.
type Tx struct {
	*sqlx.Tx
	db      *DB
	ctx     context.Context // InTx's: Emit takes none, as it runs in the transaction's
	emitted bool
}

// maxTxAttempts bounds how often InTx runs fn when PostgreSQL aborts the transaction
// for a serialization failure or a deadlock.
const maxTxAttempts = 3

// InTx runs fn in a transaction and commits it when fn returns nil; an error or a
// panic in fn rolls it back, and fn's error is returned as it is. Once a transaction
// that emitted events commits, the outbox relay is woken to deliver them.
//
// On PostgreSQL a transaction aborted by a serialization failure (SQLSTATE 40001) or a
// deadlock (40P01) is run again, up to three times in all, so fn must do nothing
// outside the transaction that it cannot do twice. On SQLite, which admits one writer,
// the process's transactions queue for the store's single write lock here, waiting as
// long as ctx allows, rather than in the driver's busy timeout; every transaction
// takes the write lock at BEGIN (BEGIN IMMEDIATE), so a read followed by a write in
// one transaction cannot be overtaken by another writer. Do not call InTx inside fn.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	for attempt := 1; ; attempt++ {
		emitted, err := db.runTx(ctx, fn)
		if err == nil {
			if emitted {
				db.outbox().kick()
			}
			return nil
		}
		if attempt == maxTxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
}

func (db *DB) runTx(ctx context.Context, fn func(tx *Tx) error) (emitted bool, err error) {
	release, err := db.lockWriter(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	stx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer stx.Rollback() // after Commit a no-op; on an error or a panic the rollback
	tx := &Tx{Tx: stx, db: db, ctx: ctx}
	if err := fn(tx); err != nil {
		return false, err
	}
	if err := stx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return tx.emitted, nil
}

// lockWriter waits, on SQLite, for this process's turn to write; on PostgreSQL it
// returns at once.
func (db *DB) lockWriter(ctx context.Context) (release func(), err error) {
	w := db.outbox().writer
	if w == nil {
		return func() {}, nil
	}
	select {
	case w <- struct{}{}:
		return func() { <-w }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("begin: %w", ctx.Err())
	}
}

// retryable reports a PostgreSQL serialization failure or deadlock.
func retryable(err error) bool {
	var state interface{ SQLState() string }
	if !errors.As(err, &state) {
		return false
	}
	s := state.SQLState()
	return s == "40001" || s == "40P01"
}

// MaxEventBytes bounds an event's JSON payload. An event is a notice that something
// happened, with the ids a subscriber needs to look at it, not a copy of the data.
const MaxEventBytes = 64 << 10

// Emit writes an event into the store's outbox in this transaction: it is delivered
// to the host after the transaction commits, and never if it rolls back. payload is
// encoded as JSON (nil as {}); eventType must be one of the manifest's Publishes.
//
// Delivery is at least once and in the order of Emit calls within a process; the
// event's ID is the outbox row's, so the host records an event sent twice once. Events
// wait in the store while the host is away and leave when it is back, across restarts
// of the host and of the plugin.
func (tx *Tx) Emit(eventType string, payload any) error {
	if eventType == "" {
		return errors.New("emit: the event type is empty")
	}
	if !sqlstore.MayPublish(eventType) {
		return fmt.Errorf("emit %s: the plugin's manifest does not list this type in Publishes", eventType)
	}
	body := []byte("{}")
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return fmt.Errorf("emit %s: encode payload: %w", eventType, err)
		}
	}
	if len(body) > MaxEventBytes {
		return fmt.Errorf("emit %s: the payload is %d bytes, more than %d", eventType, len(body), MaxEventBytes)
	}
	now := time.Now()
	_, err := tx.db.Preparer(tx.Tx).ExecContext(tx.ctx, tx.db.Rebind(insertEvent), newEventID(now), eventType, string(body), Micros(now))
	if err != nil {
		return fmt.Errorf("emit %s: %w", eventType, err)
	}
	tx.emitted = true
	return nil
}

const insertEvent = `INSERT INTO kvarter_outbox (id, type, payload, occurred_at) VALUES (?, ?, ?, ?)`
