package budgeting

import (
	"context"
	"encoding/json"
	"fmt"
)

// castFirstPostgres records a first ballot on PostgreSQL in one statement, so one round
// trip pair (parse, execute) and one implicit transaction instead of BEGIN, three
// statements and COMMIT: the voter row is inserted only while the cycle is in the
// voting phase, and the ballot row only if the voter row was new. The voters primary
// key still decides who voted first; both rows commit together or not at all, exactly
// as in the transaction the generic path runs. SQLite has no INSERT inside WITH, so it
// keeps that path.
//
// open reports whether the cycle was in the voting phase; inserted whether this was the
// person's first ballot (and so both rows were written).
func castFirstPostgres(ctx context.Context, db q, cycleID, userID, ballotID, tokenHash string, b Ballot) (open, inserted bool, err error) {
	content, _ := json.Marshal(b)
	var r struct {
		Open     bool `db:"open"`
		Inserted bool `db:"inserted"`
	}
	err = get(ctx, db, &r, `WITH open AS (
			SELECT 1 FROM cycles WHERE id = ? AND phase = ?
		), voter AS (
			INSERT INTO voters (cycle_id, user_id) SELECT ?, ? FROM open
			ON CONFLICT (cycle_id, user_id) DO NOTHING RETURNING 1
		), ballot AS (
			INSERT INTO ballots (id, cycle_id, paper, imported, token_hash, content)
			SELECT ?, ?, FALSE, FALSE, ?, ? FROM voter RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM open) AS open, EXISTS (SELECT 1 FROM ballot) AS inserted`,
		cycleID, string(PhaseVoting), cycleID, userID, ballotID, cycleID, nullString(tokenHash), string(content))
	if err != nil {
		return false, false, fmt.Errorf("cast ballot: %w", err)
	}
	return r.Open, r.Inserted, nil
}
