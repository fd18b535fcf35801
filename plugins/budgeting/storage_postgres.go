package budgeting

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk/store"
)

// postgresSQL is the SQL only PostgreSQL runs (see dialectSQL).
type postgresSQL struct{}

// castFirst records a first ballot on PostgreSQL in one statement, so one round trip
// pair (parse, execute) and one implicit transaction instead of BEGIN, three
// statements and COMMIT: the voter row is inserted only while the cycle is in the
// voting phase, and the ballot row only if the voter row was new. The voters primary
// key still decides who voted first; both rows commit together or not at all, exactly
// as in the transaction the generic path runs. The statement is prepared once per
// connection: it runs for every ballot, and parsing and planning it again each time
// was a third of the server's work.
//
// The ballot is sealed (see CastBallot).
func (postgresSQL) castFirst(ctx context.Context, db *store.DB, cycleID, userID, ballotID, tokenHash string, sealed []byte) (castOutcome, error) {
	var r struct {
		Open     bool `db:"open"`
		Inserted bool `db:"inserted"`
	}
	st, err := db.Prepared(ctx, `WITH open AS (
			SELECT 1 FROM cycles WHERE id = ? AND phase = ?
		), voter AS (
			INSERT INTO voters (cycle_id, user_id) SELECT ?, ? FROM open
			ON CONFLICT (cycle_id, user_id) DO NOTHING RETURNING 1
		), ballot AS (
			INSERT INTO sealed_ballots (id, cycle_id, token_hash, sealed)
			SELECT ?, ?, ?, ? FROM voter RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM open) AS open, EXISTS (SELECT 1 FROM ballot) AS inserted`)
	if err != nil {
		return 0, fmt.Errorf("cast ballot: %w", err)
	}
	err = st.GetContext(ctx, &r, cycleID, string(PhaseVoting), cycleID, userID, ballotID, cycleID, nullString(tokenHash), sealed)
	if err != nil {
		return 0, fmt.Errorf("cast ballot: %w", err)
	}
	switch {
	case !r.Open:
		return castClosed, nil
	case r.Inserted:
		return castRecorded, nil
	}
	return castAlreadyVoted, nil
}

// lockForClose waits for every ballot still committing. A ballot may have read the
// phase before the close changed it: taking SHARE on sealed_ballots waits for every
// transaction writing it to end, and a ballot that starts after waits for the close
// and then sees voting closed.
func (postgresSQL) lockForClose(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := tx.ExecContext(ctx, `LOCK TABLE sealed_ballots IN SHARE MODE`); err != nil {
		return fmt.Errorf("close voting: %w", err)
	}
	return nil
}
