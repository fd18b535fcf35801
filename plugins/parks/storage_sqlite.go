package parks

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// SQLite needs no SQL of its own here: the store opens every transaction
// with BEGIN IMMEDIATE (_txlock=immediate), so a transaction holds the one
// write lock from its first statement and the overlap check cannot
// interleave with another approval — on this node, and SQLite has only
// one node.

// detectGuard dispatches on the dialect.
func detectGuard(ctx context.Context, db *store.DB) (string, error) {
	if db.Dialect == sdk.DialectPostgres {
		return pgDetectGuard(ctx, db)
	}
	return GuardSingleWriter, nil
}

// lockPark takes the per-park lock where the dialect has one.
func lockPark(ctx context.Context, q queryer, dialect, parkID string) error {
	if dialect == sdk.DialectPostgres {
		return pgLock(ctx, q, parkID)
	}
	return nil
}

// sharePark makes a booking request wait for an approval of its park in progress
// (and an approval for the requests in progress) where the dialect has the lock;
// SQLite's one writer already does.
func sharePark(ctx context.Context, q queryer, dialect, parkID string) error {
	if dialect == sdk.DialectPostgres {
		return pgShare(ctx, q, parkID)
	}
	return nil
}

// isOverlapViolation reports whether err is the database refusing an
// overlapping occupancy row.
func isOverlapViolation(err error) bool { return pgIsExclusionViolation(err) }
