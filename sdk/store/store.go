// Package store opens the database the host provisioned for a plugin and applies the
// plugin's migrations. The same hand-written SQL runs on SQLite and PostgreSQL: write
// "?" placeholders and pass queries through DB.Rebind (sqlx does this for you in
// methods like NamedExec; use db.Rebind for the rest).
//
// It also carries what every plugin store needs: one transaction helper (DB.InTx), a
// transactional outbox (Tx.Emit writes an event in the transaction of the change it
// announces; the SDK delivers it to the host after commit, in batches, retrying while
// the host is away) and one time encoding (BIGINT Unix microseconds, UTC: Micros,
// FromMicros, Time, NullTime).
//
//	func (s *Service) Approve(ctx context.Context, id string) error {
//		return s.db.InTx(ctx, func(tx *store.Tx) error {
//			res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE bookings SET status = 'approved', updated_at = ? WHERE id = ? AND status = 'pending'`),
//				store.Micros(time.Now()), id)
//			if err != nil {
//				return err
//			}
//			if n, _ := res.RowsAffected(); n == 0 {
//				return ErrNotPending
//			}
//			return tx.Emit("parks.booking.approved", BookingApproved{BookingID: id})
//		})
//	}
package store

import (
	"context"
	"fmt"
	"io/fs"
	"sync"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/internal/sqlstore"
)

// DB is a plugin's store: an sqlx pool plus the dialect it speaks.
type DB struct {
	*sqlx.DB
	// Dialect is sdk.DialectSQLite or sdk.DialectPostgres.
	Dialect string

	stmtsOnce sync.Once
	stmts     *Statements

	outboxOnce sync.Once
	ob         *outbox
}

// Prepared returns a prepared statement for query ("?" placeholders), prepared on
// first use and kept for the life of the pool; see Statements for when it pays.
func (db *DB) Prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	return db.statements().Prepared(ctx, query)
}

func (db *DB) statements() *Statements {
	db.stmtsOnce.Do(func() { db.stmts = NewStatements(db.DB) })
	return db.stmts
}

// Open connects to the store described by cfg. On PostgreSQL every connection uses
// cfg.Schema as its search_path, so unqualified table names are the plugin's own; on
// SQLite the connection runs with WAL, a busy timeout and foreign keys on.
func Open(ctx context.Context, cfg sdk.StoreConfig) (*DB, error) {
	db, err := sqlstore.Open(ctx, cfg.Dialect, cfg.DSN, cfg.Schema, cfg.MaxConnections)
	if err != nil {
		return nil, err
	}
	sqlstore.Track(db.DB) // reported with the plugin's health
	s := &DB{DB: db, Dialect: cfg.Dialect}
	sqlstore.TrackOutbox(s.outbox()) // relayed by sdk.Serve while the plugin is active
	return s, nil
}

// Close stops the store's outbox relays, closes the pool and stops reporting it with
// the plugin's health. Events not yet delivered stay in the store for the next run.
func (db *DB) Close() error {
	o := db.outbox()
	sqlstore.UntrackOutbox(o)
	o.stopRelays()
	sqlstore.Untrack(db.DB.DB)
	return db.DB.Close()
}

// Migrate applies the SDK's own migrations (the outbox table kvarter_outbox, recorded
// as "sdk:NNNN_name.sql") and then the files <dialect>/NNNN_name.sql of fsys not yet
// applied, in order, each in a transaction, recording each by name in
// schema_migrations (fsys nil: the SDK's only). A plugin migration can therefore move
// rows into kvarter_outbox. sdk.Serve calls it when the host asks; plugin tests call
// it directly.
func Migrate(ctx context.Context, db *DB, fsys fs.FS) error {
	if err := sqlstore.Migrate(ctx, db.DB, db.Dialect, fsys); err != nil {
		return fmt.Errorf("migrate %s store: %w", db.Dialect, err)
	}
	return nil
}

// MigrationNames are the names schema_migrations holds for a store of dialect that
// Migrate brought up to date with fsys (nil: the SDK's only): what a backup of such a
// store lists.
func MigrationNames(dialect string, fsys fs.FS) ([]string, error) {
	return sqlstore.MigrationNames(dialect, fsys)
}

// IsPostgres reports whether the store is PostgreSQL, for the rare query that must
// differ; prefer dialect-named files for dialect-only SQL.
func (db *DB) IsPostgres() bool { return db.Dialect == sdk.DialectPostgres }
