package parks

import "context"

// sqliteSQL is SQLite's side of dialectSQL. It needs almost no SQL of its
// own: the store opens every transaction with BEGIN IMMEDIATE
// (_txlock=immediate), so a transaction holds the one write lock from its
// first statement, and the overlap check cannot interleave with another
// approval or request — on this node, and SQLite has only one node. The
// locks PostgreSQL needs are therefore no-ops here.
type sqliteSQL struct{}

var _ dialectSQL = sqliteSQL{}

func (sqliteSQL) detectGuard(context.Context, queryer) (string, error) { return GuardSingleWriter, nil }

func (sqliteSQL) lockPark(context.Context, queryer, string) error { return nil }

func (sqliteSQL) sharePark(context.Context, queryer, string) error { return nil }

func (sqliteSQL) lockActive(context.Context, queryer, string, string) error { return nil }

// isOverlapViolation is always false: without an exclusion constraint the
// explicit check under the single writer is the guard.
func (sqliteSQL) isOverlapViolation(error) bool { return false }
