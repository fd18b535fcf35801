package volunteers

import (
	"context"

	"github.com/kvarter/kvarter/sdk/store"
)

// erase removes everything kept about a person. Places they held are freed first so the
// wait lists move up as if they had withdrawn.
func (s *Service) erase(ctx context.Context, userID string) error {
	return s.st.db.InTx(ctx, func(tx *store.Tx) error {
		mine, err := s.st.applicationsBy(ctx, tx, userID)
		if err != nil {
			return err
		}
		now := s.clock()
		for _, a := range mine {
			if a.Status != StatusConfirmed {
				continue
			}
			if _, err := s.st.lockShift(ctx, tx, a.ShiftID); err != nil {
				return err
			}
			if _, err := s.st.setStatus(ctx, tx, a.ID, []string{StatusConfirmed}, StatusWithdrawn, 0, now); err != nil {
				return err
			}
			if err := s.promote(ctx, tx, a.ShiftID, now); err != nil {
				return err
			}
		}
		if err := s.st.erase(ctx, tx, userID); err != nil {
			return err
		}
		return s.st.bumpVersion(ctx, tx)
	})
}
