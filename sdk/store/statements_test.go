package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// openNotes opens a store with an empty notes table.
func openNotes(t *testing.T, cfg sdk.StoreConfig) *store.DB {
	t.Helper()
	db := open(t, cfg)
	if _, err := db.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestPrepared(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := openNotes(t, cfg)
		const insert = `INSERT INTO notes (id, body) VALUES (?, ?)`

		// Many callers at once, over several connections, get one statement.
		db.SetMaxOpenConns(4)
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				st, err := db.Prepared(ctx, insert)
				if err == nil {
					_, err = st.ExecContext(ctx, i, "note")
				}
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		a, _ := db.Prepared(ctx, insert)
		b, _ := db.Prepared(ctx, insert)
		if a != b {
			t.Error("the same query was prepared twice")
		}
		var n int
		if err := db.Get(&n, `SELECT COUNT(*) FROM notes`); err != nil || n != 40 {
			t.Fatalf("%d rows, %v; want 40", n, err)
		}

		// In a transaction the statement joins it: a rollback undoes its insert.
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.StmtxContext(ctx, a).ExecContext(ctx, 100, "rolled back"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := db.Get(&n, `SELECT COUNT(*) FROM notes`); err != nil || n != 40 {
			t.Errorf("%d rows after the rollback, %v; want 40", n, err)
		}

		// A query the database refuses is an error, and is not kept.
		if _, err := db.Prepared(ctx, `SELECT word FROM later`); err == nil {
			t.Error("a bad query was prepared")
		}
		if _, err := db.Exec(`CREATE TABLE later (word TEXT)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Prepared(ctx, `SELECT word FROM later`); err != nil {
			t.Errorf("once the table exists: %v", err)
		}
	})
}

// TestPreparer: functions written for an sqlx.ExtContext run on prepared statements,
// on the pool and inside a transaction, with sqlx's scanning.
func TestPreparer(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := openNotes(t, cfg)
		insert := func(q sqlx.ExtContext, id int, body string) error {
			_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO notes (id, body) VALUES (?, ?)`), id, body)
			return err
		}
		p := db.Preparer(nil)
		for i := range 3 {
			if err := insert(p, i, "kept"); err != nil {
				t.Fatal(err)
			}
		}
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := insert(db.Preparer(tx), 10, "rolled back"); err != nil {
			t.Fatal(err)
		}
		var inTx int
		if err := db.Preparer(tx).GetContext(ctx, &inTx, `SELECT COUNT(*) FROM notes`); err != nil || inTx != 4 {
			t.Errorf("inside the transaction: %d rows, %v; want 4", inTx, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var bodies []string
		if err := p.SelectContext(ctx, &bodies, p.Rebind(`SELECT body FROM notes WHERE id >= ? ORDER BY id`), 0); err != nil {
			t.Fatal(err)
		}
		if len(bodies) != 3 || bodies[0] != "kept" {
			t.Errorf("after the rollback: %v; want three kept notes", bodies)
		}
		if err := insert(p, 0, "again"); err == nil {
			t.Error("a duplicate key was accepted")
		}
	})
}

// TestPreparer_InTxWithPoolBusy: a transaction never waits for a second pooled
// connection to prepare a statement. Here the only other connection is a transaction
// waiting for a lock the first holds; had the first waited for it, neither would move.
func TestPreparer_InTxWithPoolBusy(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := openNotes(t, cfg)
		db.SetMaxOpenConns(2)
		lock := func(tx *sqlx.Tx) error {
			if !db.IsPostgres() {
				return nil // SQLite: BEGIN IMMEDIATE already holds the write lock
			}
			_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(4242)`)
			return err
		}
		holder, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := lock(holder); err != nil {
			t.Fatal(err)
		}
		waiterDone := make(chan error, 1)
		go func() {
			waiter, err := db.BeginTxx(ctx, nil) // SQLite waits here
			if err == nil {
				err = lock(waiter) // PostgreSQL waits here
				_ = waiter.Rollback()
			}
			waiterDone <- err
		}()
		time.Sleep(200 * time.Millisecond) // let the waiter take the second connection

		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if _, err := db.Preparer(holder).ExecContext(qctx, db.Rebind(`INSERT INTO notes (id, body) VALUES (?, ?)`), 1, "first"); err != nil {
			t.Fatalf("a query in the lock holder's transaction: %v", err)
		}
		if err := holder.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-waiterDone; err != nil {
			t.Fatalf("the waiting transaction: %v", err)
		}
		var n int
		if err := db.Preparer(nil).GetContext(ctx, &n, `SELECT COUNT(*) FROM notes`); err != nil || n != 1 {
			t.Fatalf("%d rows, %v; want 1", n, err)
		}
	})
}
