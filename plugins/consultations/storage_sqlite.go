package consultations

import (
	"github.com/kvarter/kvarter/sdk/store"
)

// sqliteLockRow is empty: the store opens every SQLite transaction with BEGIN
// IMMEDIATE, so a transaction holds the one write lock from its first statement and
// SQLite has no row locks to take.
const sqliteLockRow = ""

// lockRow is the clause that locks the rows a SELECT reads in db's dialect.
func lockRow(db *store.DB) string {
	if db.IsPostgres() {
		return postgresLockRow
	}
	return sqliteLockRow
}

// shareRow is the clause that shares the rows a SELECT reads in db's dialect.
func shareRow(db *store.DB) string {
	if db.IsPostgres() {
		return postgresShareRow
	}
	return sqliteLockRow
}
