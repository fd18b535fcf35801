package parks

import (
	"context"
	"errors"
	"fmt"

	"github.com/lib/pq"
)

// postgresSQL is what only PostgreSQL says: row locks that serialise the
// approval workflow of a park across nodes, an advisory lock for the
// per-organisation limit, and the exclusion constraint's error.
type postgresSQL struct{}

var _ dialectSQL = postgresSQL{}

// pgConstraintExists asks whether the exclusion constraint was created in
// the plugin's schema; the migration creates it only when btree_gist is
// installed.
const pgConstraintExists = `SELECT COUNT(*) FROM pg_constraint c
	JOIN pg_namespace n ON n.oid = c.connamespace
	WHERE c.conname = 'booking_occupancy_no_overlap' AND n.nspname = current_schema()`

func (postgresSQL) detectGuard(ctx context.Context, q queryer) (string, error) {
	var n int
	if err := q.GetContext(ctx, &n, pgConstraintExists); err != nil {
		return "", fmt.Errorf("detect overlap guard: %w", err)
	}
	if n > 0 {
		return GuardExclusion, nil
	}
	return GuardParkLock, nil
}

// lockPark serialises the approval workflow of one park across every
// node: status changes, the rejection of colliding requests, the overlap
// check and equipment allocation all happen under it. Without btree_gist
// it is the guard; with it, the exclusion constraint still holds whatever
// code writes the table.
func (postgresSQL) lockPark(ctx context.Context, q queryer, parkID string) error {
	var id string
	if err := q.GetContext(ctx, &id, `SELECT id FROM parks WHERE id = $1 FOR UPDATE`, parkID); err != nil {
		return fmt.Errorf("lock park %s: %w", parkID, err)
	}
	return nil
}

// sharePark makes a booking request and the approval workflow of its park take
// turns, while requests still run side by side (FOR SHARE conflicts with the
// approval's FOR UPDATE, not with another FOR SHARE). Without it a request could check
// for collisions before an approval committed and insert after the approval had
// rejected the open requests it saw: a colliding request left "requested" for ever.
func (postgresSQL) sharePark(ctx context.Context, q queryer, parkID string) error {
	var id string
	if err := q.GetContext(ctx, &id, `SELECT id FROM parks WHERE id = $1 FOR SHARE`, parkID); err != nil {
		return fmt.Errorf("share-lock park %s: %w", parkID, err)
	}
	return nil
}

// lockActive makes the requests of one organisation (or person) for one area take
// turns until their transactions end, so that the count of active bookings each
// checks against the area's limit includes the others'.
func (postgresSQL) lockActive(ctx context.Context, q queryer, areaID, who string) error {
	if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "parks.active:"+areaID+":"+who); err != nil {
		return fmt.Errorf("lock active bookings of %s in area %s: %w", who, areaID, err)
	}
	return nil
}

// isOverlapViolation reports SQLSTATE 23P01 exclusion_violation.
func (postgresSQL) isOverlapViolation(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23P01"
}
