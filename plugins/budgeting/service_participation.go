package budgeting

import (
	"context"
	"fmt"

	"github.com/kvarter/kvarter/sdk"
)

// Participation is what one signed-in person can do in a cycle now, for a page or a
// neighbourhood card that says "you can vote until ..." or "you have voted".
type Participation struct {
	CycleID string `json:"cycle_id"`
	Phase   Phase  `json:"phase" enum:"ideas,support,review,voting,results,implementation"`
	// Resident says the person is a verified resident of the cycle's neighbourhood.
	Resident bool `json:"resident"`
	// Voted says they have cast a ballot in this cycle (online; who voted is
	// recorded, what they voted is not theirs to read back).
	Voted      bool `json:"voted"`
	CanPropose bool `json:"can_propose"`
	CanSupport bool `json:"can_support"`
	CanVote    bool `json:"can_vote"`
	// CanReplace says they voted and may replace their ballot while voting is open
	// (with the token their first ballot gave them).
	CanReplace bool `json:"can_replace"`
}

// Participation answers what pr can do in cycle cycleID now.
func (s *Service) Participation(ctx context.Context, pr sdk.Principal, cycleID string) (*Participation, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	out := &Participation{CycleID: c.ID, Phase: c.Phase}
	may := func(perm string) (bool, error) {
		err := s.resident(ctx, pr, c, perm)
		if err != nil && ErrorCode(err) == sdk.CodeForbidden {
			return false, nil
		}
		return err == nil, err
	}
	if out.Resident, err = may(PermBallotCast); err != nil {
		return nil, err
	}
	var n int
	if err := get(ctx, s.db, &n, `SELECT COUNT(*) FROM voters WHERE cycle_id = ? AND user_id = ?`, c.ID, pr.UserID); err != nil {
		return nil, fmt.Errorf("participation in %s: %w", c.ID, err)
	}
	out.Voted = n > 0
	real := !c.Simulation
	propose := out.Resident
	if s.settings.ProposalsOpen {
		propose = true
	} else if propose, err = may(PermProposalSubmit); err != nil {
		return nil, err
	}
	support, err := may(PermProposalSupport)
	if err != nil {
		return nil, err
	}
	out.CanPropose = real && c.Phase == PhaseIdeas && propose
	out.CanSupport = real && c.Phase == PhaseSupport && support
	out.CanVote = real && c.Phase == PhaseVoting && out.Resident && !out.Voted
	out.CanReplace = real && c.Phase == PhaseVoting && out.Voted && s.settings.BallotReplaceable
	return out, nil
}
