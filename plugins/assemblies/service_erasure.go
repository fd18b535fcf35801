package assemblies

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/kvarter/kvarter/sdk/store"
)

// pseudonym is what an erased person's vote rows are re-keyed to.
func (s *Service) pseudonym() string {
	var b [12]byte
	if _, err := io.ReadFull(s.Rand, b[:]); err != nil {
		panic(fmt.Sprintf("assemblies: randomness failed: %v", err))
	}
	return "erased-" + hex.EncodeToString(b[:])
}

// EraseUser forgets a person after core.user.deleted. Counted ballots stay counted
// under a fresh pseudonym, so no result changes.
func (s *Service) EraseUser(ctx context.Context, userID string) error {
	if userID == "" {
		return nil
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return eraseUser(ctx, tx, userID, s.pseudonym())
	})
}
