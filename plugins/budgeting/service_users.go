package budgeting

import (
	"context"

	"github.com/google/uuid"
	"github.com/kvarter/kvarter/sdk/store"
)

// EraseUser forgets a deleted user (core.user.deleted) once per event: their name goes
// from proposals, their supports and voter rows keep counting under a pseudonym, and
// the ballots — which never named anyone — stay counted.
func (s *Service) EraseUser(ctx context.Context, eventID, userID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if eventID != "" {
			isNew, err := markEvent(ctx, tx, eventID)
			if err != nil || !isNew {
				return err
			}
		}
		return eraseUser(ctx, tx, userID, "erased:"+uuid.NewString())
	})
}
