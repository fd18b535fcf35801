package consultations

import (
	"context"
	"fmt"

	"github.com/kvarter/kvarter/sdk/store"
)

// EraseUser erases a deleted person: their participation marks go, their named answers
// stay in the results without them (user_id NULL, as an anonymous answer after the
// close), and consultations they prepared forget them. Erasing twice changes nothing.
func (s *Service) EraseUser(ctx context.Context, userID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`DELETE FROM participants WHERE user_id = ?`,
			`UPDATE answers SET user_id = NULL WHERE user_id = ?`,
			`UPDATE consultations SET created_by = '' WHERE created_by = ?`,
			`UPDATE consultations SET responded_by = '' WHERE responded_by = ?`,
			`UPDATE texts SET decided_by = '' WHERE decided_by = ?`,
		} {
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), userID); err != nil {
				return fmt.Errorf("erase user: %w", err)
			}
		}
		return eraseIdeas(ctx, tx, userID)
	})
}
