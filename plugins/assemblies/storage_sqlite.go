package assemblies

import (
	"context"
	"fmt"

	"github.com/kvarter/kvarter/sdk/store"
)

// sqlite is the SQL only SQLite speaks, and what it does without: the store begins
// every transaction IMMEDIATE, taking the one write lock at BEGIN, so writers are
// serialised and no row lock is needed.
type sqlite struct{}

func (sqlite) forUpdate() string { return "" }

func (sqlite) jsonElements() string { return "json_each(?)" }

// castBallot records the ballot in a transaction of separate statements: SQLite has
// no INSERT inside WITH, so it cannot be one statement as on PostgreSQL. The write
// lock taken at BEGIN orders it before or after the close.
func (sqlite) castBallot(ctx context.Context, db *store.DB, assemblyID, motionID, userID string, b ballot) (castResult, error) {
	var r castResult
	err := db.InTx(ctx, func(tx *store.Tx) error {
		m, err := getMotion(ctx, tx, assemblyID, motionID)
		if err != nil {
			return err
		}
		r.State, r.Secrecy, r.BallotChangeable, r.VoteOpenedAt = m.State, m.Secrecy, m.BallotChangeable, m.VoteOpenedAt
		if m.State != StateVoting {
			return nil
		}
		if r.Eligible, err = inElectorate(ctx, tx, m.ID, userID); err != nil || !r.Eligible {
			return err
		}
		if r.First, err = markVoted(ctx, tx, m.ID, userID); err != nil {
			return err
		}
		if !r.First && !m.BallotChangeable {
			return nil
		}
		if m.Secrecy != b.secrecy {
			return fmt.Errorf("cast ballot: motion %s is %s, the ballot was prepared as %s", m.ID, m.Secrecy, b.secrecy)
		}
		if m.Secrecy == SecrecySecret {
			r.Sealed = 1
			return putSealedBallot(ctx, tx, m.ID, userID, b.sealed)
		}
		r.Named = 1
		return putNamedBallot(ctx, tx, m.ID, userID, b.choice)
	})
	return r, err
}
