package assemblies

import (
	"context"
	"fmt"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// castPostgresSQL is the whole ballot on PostgreSQL as one statement, run in its own
// implicit transaction: one round trip (the statement is prepared once per
// connection) and one commit, instead of BEGIN, four statements, COMMIT and their
// parse round trips. It keeps every rule of SQLite's transaction (sqlite.castBallot):
//
//   - the motion row is read FOR SHARE, so the close (FOR UPDATE) either waits for
//     this ballot to commit and counts it, or this ballot waits for the close and
//     then re-reads the row, finds the vote closed and writes nothing;
//   - only members of the electorate frozen at the open may vote (one primary-key
//     lookup);
//   - the voters primary key decides "already voted": of concurrent ballots by one
//     member exactly one inserts the row, and only that one is recorded;
//   - a secret ballot writes (or, where changing is allowed, replaces) the sealed
//     choice; the caller passes the choice itself only for a named vote, so a secret
//     choice never reaches the database in the clear;
//   - a named ballot writes (or, where changing is allowed, replaces) the choice.
//
// SQLite has no INSERT or UPDATE inside WITH, so it keeps the transaction.
const castPostgresSQL = `WITH m AS (
		SELECT id, state, secrecy, ballot_changeable, vote_opened_at FROM motions
		WHERE id = ? AND assembly_id = ? FOR SHARE
	), eligible AS (
		SELECT 1 FROM electorate WHERE motion_id = ? AND user_id = ?
	), ok AS (
		SELECT m.id, m.secrecy, m.ballot_changeable FROM m
		WHERE m.state = 'voting' AND EXISTS (SELECT 1 FROM eligible)
	), voter AS (
		INSERT INTO voters (motion_id, user_id) SELECT id, ? FROM ok
		ON CONFLICT (motion_id, user_id) DO NOTHING RETURNING 1
	), sealed AS (
		INSERT INTO sealed_ballots (motion_id, user_id, sealed)
		SELECT id, ?, ? FROM ok
		WHERE secrecy = 'secret' AND (EXISTS (SELECT 1 FROM voter) OR ballot_changeable)
		ON CONFLICT (motion_id, user_id) DO UPDATE SET sealed = excluded.sealed RETURNING 1
	), named AS (
		INSERT INTO named_ballots (motion_id, user_id, choice)
		SELECT id, ?, ? FROM ok
		WHERE secrecy = 'named' AND (EXISTS (SELECT 1 FROM voter) OR ballot_changeable)
		ON CONFLICT (motion_id, user_id) DO UPDATE SET choice = excluded.choice RETURNING 1
	)
	SELECT m.state, m.secrecy, m.ballot_changeable, m.vote_opened_at,
		EXISTS (SELECT 1 FROM eligible) AS eligible,
		EXISTS (SELECT 1 FROM voter) AS first,
		(SELECT COUNT(*) FROM sealed) AS sealed,
		(SELECT COUNT(*) FROM named) AS named
	FROM m`

// postgres is the SQL only PostgreSQL speaks.
type postgres struct{}

// forUpdate: the close (and every other change of a motion) takes the row
// exclusively, a ballot shares it (castPostgresSQL).
func (postgres) forUpdate() string { return " FOR UPDATE" }

func (postgres) jsonElements() string { return "json_array_elements_text(CAST(? AS json))" }

// castBallot runs the ballot statement, prepared once per connection. b is the
// sealed ballot of a secret vote or the choice of a named one.
func (postgres) castBallot(ctx context.Context, db *store.DB, assemblyID, motionID, userID string, b ballot) (castResult, error) {
	stmt, err := db.Prepared(ctx, castPostgresSQL)
	if err != nil {
		return castResult{}, fmt.Errorf("prepare ballot statement: %w", err)
	}
	var r castResult
	rows, err := stmt.QueryxContext(ctx, motionID, assemblyID, motionID, userID, userID,
		userID, b.sealed, userID, b.choice)
	if err != nil {
		return r, fmt.Errorf("cast ballot: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return r, fmt.Errorf("cast ballot: %w", err)
		}
		return r, sdk.Errorf(sdk.CodeNotFound, "motion %q does not exist", motionID)
	}
	if err := rows.StructScan(&r); err != nil {
		return r, fmt.Errorf("cast ballot: %w", err)
	}
	return r, nil
}
