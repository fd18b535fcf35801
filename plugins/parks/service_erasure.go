package parks

import (
	"context"

	"github.com/kvarter/kvarter/sdk/store"
)

// EraseUser removes a deleted person's personal data from bookings while
// the bookings themselves, and so the public calendar, stay.
func (s *Service) EraseUser(ctx context.Context, eventID, userID string) error {
	if userID == "" {
		return nil
	}
	return s.st.db.InTx(ctx, func(tx *store.Tx) error {
		fresh, err := markProcessed(ctx, tx, eventID, s.now())
		if err != nil || !fresh {
			return err
		}
		_, err = eraseUser(ctx, tx, userID, s.now())
		return err
	})
}
