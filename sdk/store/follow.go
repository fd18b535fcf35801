package store

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
)

// Follow makes userID follow subject (or stop following it) in a transaction of its
// own, for a plugin's follow routes: check first that the person may see the subject.
// Acting on something follows it in the transaction of the act instead (Tx.Follow).
func (db *DB) Follow(ctx context.Context, userID, subject string, follow bool) (sdk.FollowState, error) {
	err := db.InTx(ctx, func(tx *Tx) error { return tx.Follow(ctx, userID, subject, follow) })
	if err != nil {
		return sdk.FollowState{}, err
	}
	return sdk.FollowState{Subject: subject, Following: follow}, nil
}
