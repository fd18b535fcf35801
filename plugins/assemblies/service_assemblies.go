package assemblies

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// CreateAssemblyInput is what a coordinator gives to create an assembly.
type CreateAssemblyInput struct {
	NeighbourhoodID string `json:"neighbourhood_id" max:"64"`
	Name            string `json:"name" max:"200"`
	Charter         string `json:"charter" max:"20000"`
	Rules
}

func (in *CreateAssemblyInput) normalise() error {
	in.Name, in.NeighbourhoodID = strings.TrimSpace(in.Name), strings.TrimSpace(in.NeighbourhoodID)
	if in.Majority == "" {
		in.Majority = MajoritySimple
	}
	if in.Secrecy == "" {
		in.Secrecy = SecrecyNamed
	}
	if in.Membership == "" {
		in.Membership = MembershipOpen
	}
	var f fieldErrors
	if in.NeighbourhoodID == "" {
		f.add("neighbourhood_id", "is required", sdk.RuleRequired)
	}
	if in.Name == "" {
		f.add("name", "is required", sdk.RuleRequired)
	} else if len(in.Name) > 200 {
		f.add("name", "must be at most 200 characters", sdk.RuleMaxLength)
	}
	switch {
	case in.QuorumPercent != 0 && in.QuorumAbsolute != 0:
		f.add("quorum_percent", "set either quorum_percent or quorum_absolute, not both", RuleEitherOr)
	case in.QuorumPercent == 0 && in.QuorumAbsolute == 0:
		f.add("quorum_percent", "is required (1–100), unless quorum_absolute is set", RuleEitherOr)
	case in.QuorumPercent < 0 || in.QuorumPercent > 100:
		f.add("quorum_percent", "must be between 1 and 100: a quorum above the whole membership can never be met", sdk.RuleRange)
	case in.QuorumAbsolute < 0:
		f.add("quorum_absolute", "must be a positive number of ballots", sdk.RuleRange)
	}
	if !slices.Contains([]string{MajoritySimple, MajorityAbsolute, MajorityTwoThirds}, in.Majority) {
		f.add("majority", "must be simple, absolute or two_thirds", sdk.RuleOneOf)
	}
	if !slices.Contains([]string{SecrecyNamed, SecrecySecret}, in.Secrecy) {
		f.add("secrecy", "must be named or secret", sdk.RuleOneOf)
	}
	if !slices.Contains([]string{MembershipOpen, MembershipApproval}, in.Membership) {
		f.add("membership", "must be open or approval", sdk.RuleOneOf)
	}
	if in.TermMonths < 0 || in.TermMonths > 120 {
		f.add("term_months", "must be between 0 (no fixed term) and 120", sdk.RuleRange)
	}
	if in.OrgSeats < 0 || in.OrgSeats > 1000 {
		f.add("org_seats", "must be between 0 and 1000", sdk.RuleRange)
	}
	return f.err()
}

// CreateAssembly creates an assembly in a neighbourhood p manages.
func (s *Service) CreateAssembly(ctx context.Context, p sdk.Principal, in CreateAssemblyInput) (Assembly, error) {
	if err := requireUser(p); err != nil {
		return Assembly{}, err
	}
	if err := in.normalise(); err != nil {
		return Assembly{}, err
	}
	nbhs, err := s.host.Neighbourhoods(ctx, []string{in.NeighbourhoodID})
	if err != nil {
		return Assembly{}, fmt.Errorf("find neighbourhood: %w", err)
	}
	if len(nbhs) == 0 {
		return Assembly{}, invalid("neighbourhood_id", "no such neighbourhood", sdk.RuleExists)
	}
	if nbhs[0].Archived {
		return Assembly{}, invalid("neighbourhood_id", "the neighbourhood is archived", RuleActive)
	}
	ok, err := s.can(ctx, p, PermAssemblyManage, "nbh:"+in.NeighbourhoodID)
	if err != nil {
		return Assembly{}, err
	}
	if !ok {
		return Assembly{}, sdk.Errorf(sdk.CodeForbidden, "only a coordinator of neighbourhood %q or a city admin may create its assemblies", nbhs[0].Name)
	}
	a := Assembly{ID: s.newID(), NeighbourhoodID: in.NeighbourhoodID, Name: in.Name, Charter: in.Charter,
		Rules: in.Rules, CreatedAt: s.Now().UTC()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertAssembly(ctx, tx, a, p.UserID); err != nil {
			return err
		}
		return tx.Emit(EventAssemblyCreated, AssemblyCreatedPayload{refOf(a)})
	})
	if err != nil {
		return Assembly{}, err
	}
	s.audit(ctx, p, "assemblies.assembly.create", a, "assembly:"+a.ID, nil)
	return a, nil
}

// Assembly returns one assembly.
func (s *Service) Assembly(ctx context.Context, id string) (Assembly, error) {
	return getAssembly(ctx, s.db, id, s.Now())
}

// Assemblies lists a page of assemblies, oldest first, optionally of one
// neighbourhood.
func (s *Service) Assemblies(ctx context.Context, neighbourhoodID string, q sdk.ListQuery) (sdk.Page[Assembly], error) {
	rows, err := listAssemblies(ctx, s.db, neighbourhoodID, s.Now(), q)
	if err != nil {
		return sdk.Page[Assembly]{}, err
	}
	return sdk.NewPage(rows, q, assemblyKey), nil
}
