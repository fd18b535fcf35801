package budgeting

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk/store"
)

// sqliteSQL is the SQL only SQLite runs (see dialectSQL): none, because SQLite has one
// writer at a time and the store opens every transaction with BEGIN IMMEDIATE.
type sqliteSQL struct{}

// castFirst leaves every ballot to the transaction CastBallot runs: SQLite has no
// INSERT inside WITH, so there is no one-statement path.
func (sqliteSQL) castFirst(context.Context, *store.DB, string, string, string, string, []byte) (castOutcome, error) {
	return castNotTried, nil
}

// lockForClose needs no lock: the close's transaction holds SQLite's one write lock
// from its first statement, and a ballot writes (and so takes that lock) before it
// reads the phase.
func (sqliteSQL) lockForClose(context.Context, *sqlx.Tx) error { return nil }
