package budgeting

import (
	"context"
	"fmt"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// UpdateInput is an implementation update on a selected project.
type UpdateInput struct {
	Status string `json:"status" max:"32" enum:"planned,in_progress,done"`
	Note   string `json:"note" max:"4000" example:"Tender out"`
	// Photos are files the host received for the update's page form; never read
	// from a JSON body, since only the host may say an upload id is one it received.
	Photos []AttachmentInput `json:"-"`
}

// UpdateImplementation records a dated public update on a selected project. Status
// moves planned → in_progress → done and never back; repeating a status adds a note.
func (s *Service) UpdateImplementation(ctx context.Context, pr sdk.Principal, cycleID, id string, in UpdateInput) (*Proposal, error) {
	c, err := s.cycleFor(ctx, pr, cycleID, PermProjectUpdate)
	if err != nil {
		return nil, err
	}
	next, ok := implOrder[in.Status]
	if !ok {
		return nil, sdk.Invalid("status", sdk.RuleOneOf, "must be planned, in_progress or done")
	}
	if c.Phase != PhaseResults && c.Phase != PhaseImplementation {
		return nil, sdk.Errorf(sdk.CodeConflict, "implementation is reported after results; the cycle is in %s", c.Phase)
	}
	for i := range in.Photos {
		if in.Photos[i].Kind != AttachPhoto {
			return nil, sdk.Invalid("photo", sdk.RuleOneOf, "an update carries photos only")
		}
		if err := in.Photos[i].check(); err != nil {
			return nil, err
		}
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := findProposal(ctx, tx, cycleID, id)
		if err != nil {
			return err
		}
		if p.Implementation == "" {
			return sdk.Errorf(sdk.CodeConflict, "proposal %s was not selected", id)
		}
		if next < implOrder[p.Implementation] {
			return sdk.InvalidField("status", fmt.Sprintf("cannot go back from %s to %s", p.Implementation, in.Status))
		}
		p.Implementation, p.UpdatedAt = in.Status, now
		if err := updateProposal(ctx, tx, p); err != nil {
			return err
		}
		updateID := newID()
		if err := insertUpdate(ctx, tx, updateID, id, Update{Status: in.Status, Note: strings.TrimSpace(in.Note), At: now}); err != nil {
			return err
		}
		for _, ph := range in.Photos {
			a := Attachment{ID: newID(), Kind: AttachPhoto, Text: ph.Text, AddedAt: now}
			if err := insertAttachment(ctx, tx, id, updateID, pr.UserID, a, ph.UploadID); err != nil {
				return err
			}
		}
		if err := s.notifyUpdate(ctx, tx, c, p, strings.TrimSpace(in.Note), pr.UserID); err != nil {
			return err
		}
		return tx.Emit(EventProjectUpdated, ProjectUpdated{CycleID: cycleID, ProposalID: id, Status: in.Status})
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.project.update", c.nbh(), id, map[string]any{"status": in.Status})
	return s.Proposal(ctx, cycleID, id)
}
