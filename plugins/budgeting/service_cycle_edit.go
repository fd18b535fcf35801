package budgeting

import (
	"context"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// CyclePatch is an officer's change to a cycle's set-up: only the fields it names
// change. The name and country may change at any time; the money, the ballot and the
// shortlist only before voting opens, since voters must know them; the schedule only
// for the phases still ahead.
type CyclePatch struct {
	Name        *string      `json:"name" max:"200" example:"Vesterbro 2026"`
	Country     *string      `json:"country" max:"100" example:"Denmark"`
	Budget      *int64       `json:"budget" min:"0" doc:"In minor units of currency; before voting."`
	Ballot      *BallotRules `json:"ballot" doc:"Before voting."`
	SupportTopN *int         `json:"support_top_n" min:"0" max:"100000" doc:"Before the support phase ends."`
	// Phases, when present, replaces the schedule of the phases after the current one.
	Phases PhaseStarts `json:"phases" doc:"Replaces the schedule of the phases after the current one; {} clears it."`
}

// EditCycle changes a cycle's set-up (see CyclePatch), in the phase it was read in.
func (s *Service) EditCycle(ctx context.Context, pr sdk.Principal, id string, in CyclePatch) (*Cycle, error) {
	c, err := s.cycleFor(ctx, pr, id, PermCycleManage)
	if err != nil {
		return nil, err
	}
	beforeVoting := c.Phase.index() < PhaseVoting.index()
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" {
			return nil, sdk.Invalid("name", sdk.RuleRequired, "is required")
		}
		c.Name = name
	}
	if in.Country != nil {
		c.Country = strings.TrimSpace(*in.Country)
	}
	if in.Budget != nil {
		if !beforeVoting {
			return nil, sdk.Errorf(sdk.CodeConflict, "the budget is fixed once voting opens; the cycle is in %s", c.Phase)
		}
		if *in.Budget <= 0 {
			return nil, sdk.Invalid("budget", sdk.RuleRange, "must be a positive number of minor units")
		}
		c.Budget = *in.Budget
	}
	if in.Ballot != nil {
		if !beforeVoting {
			return nil, sdk.Errorf(sdk.CodeConflict, "the ballot is fixed once voting opens; the cycle is in %s", c.Phase)
		}
		rules := *in.Ballot
		if err := validateRules(&rules); err != nil {
			return nil, err
		}
		c.Ballot = rules
	}
	if in.SupportTopN != nil {
		if c.Phase.index() > PhaseSupport.index() {
			return nil, sdk.Errorf(sdk.CodeConflict, "the shortlist was drawn when the support phase ended; the cycle is in %s", c.Phase)
		}
		if *in.SupportTopN < 0 {
			return nil, sdk.Invalid("support_top_n", sdk.RuleRange, "must not be negative")
		}
		c.SupportTopN = *in.SupportTopN
	}
	if in.Phases != nil {
		schedule := map[Phase]time.Time{}
		for p, t := range c.Schedule {
			if p.index() <= c.Phase.index() {
				schedule[p] = t // the past stays as it was
			}
		}
		if err := in.Phases.schedule(schedule, c.Phase.index()); err != nil {
			return nil, err
		}
		c.Schedule = schedule
	}
	c.UpdatedAt = s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ok, err := updateCycle(ctx, tx, c, c.nextAt())
		if err != nil {
			return err
		}
		if !ok {
			return sdk.Errorf(sdk.CodeConflict, "cycle %s changed phase meanwhile", c.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.cycle.edit", c.nbh(), c.ID, map[string]any{"name": c.Name, "budget": c.Budget})
	return findCycle(ctx, s.db, id)
}
