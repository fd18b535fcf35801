package budgeting

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// ProposalInput is what an author writes.
type ProposalInput struct {
	Title       string `json:"title" max:"200" example:"Benches along the canal"`
	Description string `json:"description" max:"10000"`
	Category    string `json:"category" max:"100"`
	Location    string `json:"location" max:"300"`
	Cost        int64  `json:"cost" min:"0" doc:"The author's estimate, in minor units." example:"4000000"`
	Anonymous   bool   `json:"anonymous" doc:"Show the proposal without its author."`
}

func (in *ProposalInput) validate() error {
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" {
		return sdk.Invalid("title", sdk.RuleRequired, "is required")
	}
	if len(in.Title) > 200 {
		return sdk.Invalid("title", sdk.RuleMaxLength, "at most 200 characters")
	}
	if in.Cost < 0 {
		return sdk.Invalid("cost", sdk.RuleRange, "must not be negative")
	}
	return nil
}

// SubmitProposal adds an idea during the ideas phase.
func (s *Service) SubmitProposal(ctx context.Context, pr sdk.Principal, cycleID string, in ProposalInput) (*Proposal, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if !s.settings.ProposalsOpen {
		if err := s.resident(ctx, pr, c, PermProposalSubmit); err != nil {
			return nil, err
		}
	}
	if c.Phase != PhaseIdeas {
		return nil, sdk.Errorf(sdk.CodeConflict, "proposals are accepted in the ideas phase; the cycle is in %s", c.Phase)
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.now()
	p := &Proposal{
		ID: newID(), CycleID: c.ID, AuthorID: pr.UserID, Title: in.Title, Description: in.Description,
		Category: in.Category, Location: in.Location, Cost: in.Cost, Status: StatusSubmitted, Anonymous: in.Anonymous,
		Updates: []Update{}, CreatedAt: now, UpdatedAt: now,
	}
	// Proposing follows the proposal and its cycle.
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertProposal(ctx, tx, p); err != nil {
			return err
		}
		if err := follow(ctx, tx, pr.UserID, proposalSubject(p.ID)); err != nil {
			return err
		}
		return follow(ctx, tx, pr.UserID, cycleSubject(c.ID))
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ProposalPatch is an edit: only the fields it names change. An absent field (or
// null) keeps its value, so {"cost": 6000000} changes the cost alone.
type ProposalPatch struct {
	Title       *string `json:"title" max:"200" example:"Benches along the canal"`
	Description *string `json:"description" max:"10000"`
	Category    *string `json:"category" max:"100"`
	Location    *string `json:"location" max:"300"`
	Cost        *int64  `json:"cost" min:"0" doc:"The author's estimate, in minor units." example:"6000000"`
	Anonymous   *bool   `json:"anonymous" doc:"Show the proposal without its author."`
}

// apply returns p's fields as they read after the patch.
func (in ProposalPatch) apply(p *Proposal) ProposalInput {
	out := ProposalInput{Title: p.Title, Description: p.Description, Category: p.Category, Location: p.Location, Cost: p.Cost, Anonymous: p.Anonymous}
	if in.Title != nil {
		out.Title = *in.Title
	}
	if in.Description != nil {
		out.Description = *in.Description
	}
	if in.Category != nil {
		out.Category = *in.Category
	}
	if in.Location != nil {
		out.Location = *in.Location
	}
	if in.Cost != nil {
		out.Cost = *in.Cost
	}
	if in.Anonymous != nil {
		out.Anonymous = *in.Anonymous
	}
	return out
}

// EditProposal lets the author change an idea until review starts. Only the fields
// the patch names change; the result must still be a valid proposal.
func (s *Service) EditProposal(ctx context.Context, pr sdk.Principal, cycleID, id string, patch ProposalPatch) (*Proposal, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	p, err := findProposal(ctx, s.db, cycleID, id)
	if err != nil {
		return nil, err
	}
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if p.AuthorID != pr.UserID {
		return nil, sdk.Errorf(sdk.CodeForbidden, "only the author may edit a proposal")
	}
	if c.Phase != PhaseIdeas && c.Phase != PhaseSupport {
		return nil, sdk.Errorf(sdk.CodeConflict, "proposals can be edited until review; the cycle is in %s", c.Phase)
	}
	in := patch.apply(p)
	if err := in.validate(); err != nil {
		return nil, err
	}
	p.Title, p.Description, p.Category, p.Location, p.Cost = in.Title, in.Description, in.Category, in.Location, in.Cost
	p.Anonymous = in.Anonymous
	p.UpdatedAt = s.now()
	if err := updateProposal(ctx, s.db, p); err != nil {
		return nil, err
	}
	if err := withAttachments(ctx, s.db, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Proposal returns one proposal with its files and implementation updates.
func (s *Service) Proposal(ctx context.Context, cycleID, id string) (*Proposal, error) {
	p, err := findProposal(ctx, s.db, cycleID, id)
	if err != nil {
		return nil, err
	}
	if err := withAttachments(ctx, s.db, p); err != nil {
		return nil, err
	}
	return p, nil
}

// proposalStatuses are the statuses a list of proposals may be narrowed to.
var proposalStatuses = []string{StatusSubmitted, StatusNotShortlisted, StatusFeasible, StatusInfeasible, StatusMerged}

// Proposals lists a cycle's proposals a page at a time, in the order they were
// submitted; status, when set, narrows the list to one status.
func (s *Service) Proposals(ctx context.Context, cycleID, status string, q sdk.ListQuery) (sdk.Page[*Proposal], error) {
	if status != "" && !slices.Contains(proposalStatuses, status) {
		return sdk.Page[*Proposal]{}, sdk.Invalid("status", sdk.RuleOneOf, "must be one of "+strings.Join(proposalStatuses, ", "))
	}
	if _, err := findCycle(ctx, s.db, cycleID); err != nil {
		return sdk.Page[*Proposal]{}, err
	}
	ps, err := pageProposals(ctx, s.db, cycleID, status, q)
	if err != nil {
		return sdk.Page[*Proposal]{}, err
	}
	return sdk.NewPage(ps, q, func(p *Proposal) []any { return []any{p.ID} }), nil
}

// Support records a resident's support for an idea during the support phase.
func (s *Service) Support(ctx context.Context, pr sdk.Principal, cycleID, id string) (*Proposal, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	if err := s.resident(ctx, pr, c, PermProposalSupport); err != nil {
		return nil, err
	}
	if c.Phase != PhaseSupport {
		return nil, sdk.Errorf(sdk.CodeConflict, "ideas are supported in the support phase; the cycle is in %s", c.Phase)
	}
	p, err := findProposal(ctx, s.db, cycleID, id)
	if err != nil {
		return nil, err
	}
	if p.Status != StatusSubmitted {
		return nil, sdk.Errorf(sdk.CodeConflict, "proposal is %s", p.Status)
	}
	// Supporting an idea follows it.
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertSupport(ctx, tx, id, pr.UserID); err != nil {
			return err
		}
		return follow(ctx, tx, pr.UserID, proposalSubject(id))
	})
	if err != nil {
		return nil, err
	}
	return findProposal(ctx, s.db, cycleID, id)
}

// ReviewInput is an officer's assessment: feasible with a final cost, infeasible with
// a public reason, or a duplicate of another proposal.
type ReviewInput struct {
	Feasible    *bool  `json:"feasible" doc:"true: on the ballot at cost; false: rejected for reason."`
	Cost        *int64 `json:"cost" min:"0" doc:"The final cost of a feasible proposal, in minor units."`
	Reason      string `json:"reason" max:"4000" doc:"The public reason an infeasible proposal is rejected."`
	DuplicateOf string `json:"duplicate_of" max:"64" doc:"Merge into this proposal instead."`
}

// Review records an assessment during the review phase; it may be revised until
// voting starts.
func (s *Service) Review(ctx context.Context, pr sdk.Principal, cycleID, id string, in ReviewInput) (*Proposal, error) {
	c, err := s.cycleFor(ctx, pr, cycleID, PermProposalReview)
	if err != nil {
		return nil, err
	}
	if c.Phase != PhaseReview {
		return nil, sdk.Errorf(sdk.CodeConflict, "proposals are reviewed in the review phase; the cycle is in %s", c.Phase)
	}
	var out *Proposal
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := findProposal(ctx, tx, cycleID, id)
		if err != nil {
			return err
		}
		if p.Status == StatusNotShortlisted || p.Status == StatusMerged {
			return sdk.Errorf(sdk.CodeConflict, "proposal is %s", p.Status)
		}
		p.Reason, p.MergedInto, p.FinalCost = "", "", 0
		var mergedInto string // the title of the proposal it duplicates
		switch {
		case in.DuplicateOf != "":
			if in.DuplicateOf == id {
				return sdk.InvalidField("duplicate_of", "a proposal cannot duplicate itself")
			}
			target, err := findProposal(ctx, tx, cycleID, in.DuplicateOf)
			if err != nil {
				return sdk.Invalid("duplicate_of", sdk.RuleExists, "no such proposal in this cycle")
			}
			if target.Status == StatusMerged || target.Status == StatusNotShortlisted {
				return sdk.InvalidField("duplicate_of", fmt.Sprintf("cannot merge into a proposal that is %s", target.Status))
			}
			p.Status, p.MergedInto, mergedInto = StatusMerged, target.ID, target.Title
		case in.Feasible == nil:
			return sdk.Invalid("feasible", sdk.RuleRequired, "is required (or duplicate_of)")
		case *in.Feasible:
			if in.Cost == nil || *in.Cost < 0 {
				return sdk.InvalidField("cost", "a feasible proposal needs a final cost of 0 or more")
			}
			p.Status, p.FinalCost = StatusFeasible, *in.Cost
		default:
			if strings.TrimSpace(in.Reason) == "" {
				return sdk.InvalidField("reason", "an infeasible proposal needs a public reason")
			}
			p.Status, p.Reason = StatusInfeasible, strings.TrimSpace(in.Reason)
		}
		p.UpdatedAt = s.now()
		out = p
		if err := updateProposal(ctx, tx, p); err != nil {
			return err
		}
		return s.notifyReviewed(ctx, tx, c, p, mergedInto, pr.UserID)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.proposal.review", c.nbh(), id, map[string]any{"status": out.Status, "final_cost": out.FinalCost})
	return out, nil
}
