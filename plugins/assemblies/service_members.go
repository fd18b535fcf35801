package assemblies

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

func (s *Service) termFor(a Assembly, now time.Time) (start, end store.NullTime) {
	start = setTime(now)
	if a.TermMonths > 0 {
		end = setTime(now.AddDate(0, a.TermMonths, 0))
	}
	return start, end
}

// Join makes p a member (open assemblies) or an applicant (approval assemblies). Only
// verified residents of the assembly's neighbourhood may join.
func (s *Service) Join(ctx context.Context, p sdk.Principal, assemblyID string) (Member, error) {
	if err := requireUser(p); err != nil {
		return Member{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	ok, err := s.can(ctx, p, PermMemberJoin, "nbh:"+a.NeighbourhoodID)
	if err != nil {
		return Member{}, err
	}
	if !ok || !slices.Contains(p.Neighbourhoods, a.NeighbourhoodID) {
		return Member{}, sdk.Errorf(sdk.CodeForbidden, "only verified residents of this assembly's neighbourhood may join it")
	}
	var out memberRow
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := getMember(ctx, tx, a.ID, p.UserID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil {
			switch old.Status {
			case MemberActive:
				return sdk.Errorf(sdk.CodeConflict, "you are already a member of this assembly")
			case MemberPending:
				return sdk.Errorf(sdk.CodeConflict, "your application to this assembly is already waiting for approval")
			}
		}
		now := s.Now()
		out = memberRow{AssemblyID: a.ID, UserID: p.UserID, Kind: KindResident, Position: PositionMember, AppliedAt: store.Time{Time: now}}
		// Someone removed by the assembly comes back only through approval.
		if a.Membership == MembershipOpen && old.Status != MemberRemoved {
			out.Status, out.JoinedAt = MemberActive, setTime(now)
			out.TermStart, out.TermEnd = s.termFor(a, now)
		} else {
			out.Status = MemberPending
		}
		if err := putMember(ctx, tx, out); err != nil {
			return err
		}
		return tx.Emit(EventMemberJoined, MemberJoinedPayload{AssemblyRef: refOf(a), UserID: p.UserID, Status: out.Status})
	})
	if err != nil {
		return Member{}, err
	}
	return s.named(ctx, out.member()), nil
}

// NameDelegateInput names a delegate of an organisation.
type NameDelegateInput struct {
	OrganisationID string `json:"organisation_id" max:"64"`
	// UserID is the delegate; empty means the caller.
	UserID string `json:"user_id" max:"64"`
}

// NameDelegate seats a delegate for a verified organisation active in the assembly's
// neighbourhood; p must represent the organisation.
func (s *Service) NameDelegate(ctx context.Context, p sdk.Principal, assemblyID string, in NameDelegateInput) (Member, error) {
	if err := requireUser(p); err != nil {
		return Member{}, err
	}
	if in.UserID == "" {
		in.UserID = p.UserID
	}
	if strings.TrimSpace(in.OrganisationID) == "" {
		return Member{}, invalid("organisation_id", "is required", sdk.RuleRequired)
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	if a.OrgSeats == 0 {
		return Member{}, sdk.Errorf(sdk.CodeConflict, "this assembly has no seats for organisations")
	}
	orgs, err := s.host.Organisations(ctx, []string{in.OrganisationID})
	if err != nil {
		return Member{}, fmt.Errorf("find organisation: %w", err)
	}
	if len(orgs) == 0 {
		return Member{}, invalid("organisation_id", "no such organisation", sdk.RuleExists)
	}
	org := orgs[0]
	if !org.Verified || !slices.Contains(org.NeighbourhoodIDs, a.NeighbourhoodID) {
		return Member{}, sdk.Errorf(sdk.CodeForbidden, "only verified organisations active in this assembly's neighbourhood may name a delegate")
	}
	if !slices.Contains(org.Representatives, p.UserID) {
		return Member{}, sdk.Errorf(sdk.CodeForbidden, "only a representative of %q may name its delegate", org.Name)
	}
	users, err := s.host.Users(ctx, []string{in.UserID})
	if err != nil {
		return Member{}, fmt.Errorf("find user: %w", err)
	}
	if len(users) == 0 {
		return Member{}, invalid("user_id", "no such user", sdk.RuleExists)
	}
	var out memberRow
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		all, ofOrg, err := countDelegates(ctx, tx, a.ID, org.ID)
		if err != nil {
			return err
		}
		if ofOrg > 0 {
			return sdk.Errorf(sdk.CodeConflict, "%q already has a delegate in this assembly", org.Name)
		}
		if all >= a.OrgSeats {
			return sdk.Errorf(sdk.CodeConflict, "all %d organisation seats of this assembly are taken", a.OrgSeats)
		}
		old, err := getMember(ctx, tx, a.ID, in.UserID)
		if err == nil && (old.Status == MemberActive || old.Status == MemberPending) {
			return sdk.Errorf(sdk.CodeConflict, "this person is already a member of the assembly")
		}
		now := s.Now()
		out = memberRow{AssemblyID: a.ID, UserID: in.UserID, Kind: KindDelegate, OrganisationID: org.ID,
			Status: MemberActive, Position: PositionMember, AppliedAt: store.Time{Time: now}, JoinedAt: setTime(now)}
		out.TermStart, out.TermEnd = s.termFor(a, now)
		if err := putMember(ctx, tx, out); err != nil {
			return err
		}
		return tx.Emit(EventMemberJoined, MemberJoinedPayload{AssemblyRef: refOf(a), UserID: in.UserID, Status: out.Status, OrganisationID: org.ID})
	})
	if err != nil {
		return Member{}, err
	}
	return s.named(ctx, out.member()), nil
}

// Members lists a page of an assembly's active members and, for its officers, its
// applicants, in the order they applied (or joined). When the city hides member lists, only
// members and managers see them.
func (s *Service) Members(ctx context.Context, p sdk.Principal, assemblyID string, q sdk.ListQuery) (sdk.Page[Member], error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return sdk.Page[Member]{}, err
	}
	statuses := []string{MemberActive}
	if p.Authenticated() {
		if s.officer(ctx, s.db, a, p, true, PositionChair, PositionViceChair, PositionSecretary) == nil {
			statuses = append(statuses, MemberPending)
		}
	}
	if !s.MemberListPublic && len(statuses) == 1 {
		if err := requireUser(p); err != nil {
			return sdk.Page[Member]{}, sdk.Errorf(sdk.CodeUnauthenticated, "this city keeps member lists to members: sign in first")
		}
		if _, err := activeMember(ctx, s.db, a, p); err != nil {
			return sdk.Page[Member]{}, sdk.Errorf(sdk.CodeForbidden, "this city keeps member lists to the assembly's members")
		}
	}
	rows, err := listMembers(ctx, s.db, a.ID, statuses, q)
	if err != nil {
		return sdk.Page[Member]{}, err
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		out[i] = r.member()
	}
	pg := sdk.NewPage(out, q, memberKey)
	pg.Items = s.namedAll(ctx, pg.Items)
	return pg, nil
}

// named fills in a member's display name; a failure to ask the host leaves it blank.
func (s *Service) named(ctx context.Context, m Member) Member {
	return s.namedAll(ctx, []Member{m})[0]
}

func (s *Service) namedAll(ctx context.Context, ms []Member) []Member {
	if len(ms) == 0 {
		return ms
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := s.host.Users(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "display names unavailable", "error", err)
		return ms
	}
	names := map[string]string{}
	for _, u := range users {
		names[u.ID] = u.DisplayName
	}
	for i := range ms {
		ms[i].DisplayName = names[ms[i].UserID]
	}
	return ms
}

// MemberDecision is the body of approve, reject and remove.
type MemberDecision struct {
	Reason string `json:"reason" max:"4000"`
}

// DecideMember approves, rejects or removes a member. Officers (chair, vice-chair)
// and the neighbourhood's coordinators decide; removal needs a reason.
func (s *Service) DecideMember(ctx context.Context, p sdk.Principal, assemblyID, userID, action string, in MemberDecision) (Member, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if action == "remove" && in.Reason == "" {
		return Member{}, invalid("reason", "is required: a removal is always explained", sdk.RuleRequired)
	}
	var out memberRow
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.officer(ctx, tx, a, p, true, PositionChair, PositionViceChair); err != nil {
			return err
		}
		m, err := getMember(ctx, tx, a.ID, userID)
		if err != nil {
			return notFound(err, "member", userID)
		}
		now := s.Now()
		switch action {
		case "approve", "reject":
			if m.Status != MemberPending {
				return sdk.Errorf(sdk.CodeConflict, "only a pending application can be approved or rejected; this membership is %s", m.Status)
			}
			if action == "approve" {
				m.Status, m.JoinedAt = MemberActive, setTime(now)
				m.TermStart, m.TermEnd = s.termFor(a, now)
			} else {
				m.Status, m.EndedAt, m.EndReason = MemberRejected, setTime(now), in.Reason
			}
		case "remove":
			if m.Status != MemberActive {
				return sdk.Errorf(sdk.CodeConflict, "only an active member can be removed; this membership is %s", m.Status)
			}
			m.Status, m.EndedAt, m.EndReason, m.Position = MemberRemoved, setTime(now), in.Reason, PositionMember
		}
		out = m
		return putMember(ctx, tx, m)
	})
	if err != nil {
		return Member{}, err
	}
	s.audit(ctx, p, "assemblies.member."+action, a, "user:"+userID, map[string]any{"reason": in.Reason})
	return s.named(ctx, out.member()), nil
}

// PositionInput sets a member's position and, optionally, term.
type PositionInput struct {
	Position  string     `json:"position" max:"32" enum:"chair,vice_chair,secretary,member"`
	TermStart *time.Time `json:"term_start"`
	TermEnd   *time.Time `json:"term_end"`
}

// SetPosition appoints a member to a position. Coordinators and the chair appoint;
// an assembly has at most one chair, so appointing a new chair demotes the old one.
func (s *Service) SetPosition(ctx context.Context, p sdk.Principal, assemblyID, userID string, in PositionInput) (Member, error) {
	if !slices.Contains([]string{PositionChair, PositionViceChair, PositionSecretary, PositionMember}, in.Position) {
		return Member{}, invalid("position", "must be chair, vice_chair, secretary or member", sdk.RuleOneOf)
	}
	if in.TermStart != nil && in.TermEnd != nil && !in.TermEnd.After(*in.TermStart) {
		return Member{}, invalid("term_end", "must be after term_start", RuleAfter)
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	var out memberRow
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.officer(ctx, tx, a, p, true, PositionChair); err != nil {
			return err
		}
		m, err := getMember(ctx, tx, a.ID, userID)
		if err != nil {
			return notFound(err, "member", userID)
		}
		if m.Status != MemberActive {
			return sdk.Errorf(sdk.CodeConflict, "only an active member can hold a position; this membership is %s", m.Status)
		}
		if in.Position == PositionChair || in.Position == PositionViceChair || in.Position == PositionSecretary {
			if _, err := exec(ctx, tx, `UPDATE members SET position = 'member' WHERE assembly_id = ? AND position = ? AND user_id <> ?`,
				a.ID, in.Position, userID); err != nil {
				return fmt.Errorf("demote previous %s: %w", in.Position, err)
			}
		}
		m.Position = in.Position
		if in.TermStart != nil {
			m.TermStart = setTime(*in.TermStart)
		}
		if in.TermEnd != nil {
			m.TermEnd = setTime(*in.TermEnd)
		}
		out = m
		return putMember(ctx, tx, m)
	})
	if err != nil {
		return Member{}, err
	}
	s.audit(ctx, p, "assemblies.member.position", a, "user:"+userID, map[string]any{"position": in.Position})
	return s.named(ctx, out.member()), nil
}

// Leave ends p's own membership or application.
func (s *Service) Leave(ctx context.Context, p sdk.Principal, assemblyID string) (Member, error) {
	if err := requireUser(p); err != nil {
		return Member{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	var out memberRow
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := getMember(ctx, tx, a.ID, p.UserID)
		if err != nil || (m.Status != MemberActive && m.Status != MemberPending) {
			return sdk.Errorf(sdk.CodeConflict, "you are not a member of this assembly")
		}
		m.Status, m.EndedAt, m.Position = MemberLeft, setTime(s.Now()), PositionMember
		out = m
		return putMember(ctx, tx, m)
	})
	if err != nil {
		return Member{}, err
	}
	return s.named(ctx, out.member()), nil
}
