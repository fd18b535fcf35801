package volunteers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/plugins/volunteers/roster"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// RosterAssignment is one proposed placement.
type RosterAssignment struct {
	OpportunityID string `json:"opportunity_id"`
	ShiftID       string `json:"shift_id"`
	VolunteerID   string `json:"volunteer_id"`
	Score         int    `json:"score"`
}

// Roster is a proposal: organisers invite, volunteers confirm; nothing is booked by it.
type Roster struct {
	OpportunityID string             `json:"opportunity_id"`
	Assignments   []RosterAssignment `json:"assignments" nullable:"false"`
	TotalScore    int                `json:"total_score"`
	Optimal       bool               `json:"optimal" doc:"Proved the best total score"`
	Canonical     bool               `json:"canonical" doc:"The same proposal every time for the same data"`
}

// DayRoster is one proposal for every shift of a local date the caller organises,
// solved together: nobody is proposed for overlapping shifts, and weekly limits hold
// across the opportunities.
type DayRoster struct {
	Date string `json:"date" format:"date"`
	// OrganisationID is the organisation asked for; empty for everything the caller
	// organises.
	OrganisationID string             `json:"organisation_id"`
	OpportunityIDs []string           `json:"opportunity_ids" nullable:"false"`
	Assignments    []RosterAssignment `json:"assignments" nullable:"false"`
	TotalScore     int                `json:"total_score"`
	Optimal        bool               `json:"optimal" doc:"Proved the best total score"`
	Canonical      bool               `json:"canonical" doc:"The same proposal every time for the same data"`
}

// Roster proposes who takes which of the opportunity's open shifts, maximising the total
// score under capacities, weekly hours and overlaps. It books nothing.
func (s *Service) Roster(ctx context.Context, p sdk.Principal, oppID string) (Roster, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Roster{}, err
	}
	as, res, err := s.propose(ctx, []Opportunity{o}, func(Shift) bool { return true })
	if err != nil {
		return Roster{}, err
	}
	return Roster{OpportunityID: oppID, Assignments: as, TotalScore: res.Total, Optimal: res.Optimal,
		Canonical: res.Canonical}, nil
}

// DayRoster proposes one roster for every published opportunity the caller organises
// with a shift starting on date (YYYY-MM-DD, the city's local date): city staff plan
// the whole city, organisation representatives their verified organisations' work;
// orgID narrows it to one organisation. The shifts are solved together, so nobody is
// proposed for two overlapping shifts of different opportunities, and weekly hour limits
// hold across them. It books nothing.
func (s *Service) DayRoster(ctx context.Context, p sdk.Principal, date, orgID string) (DayRoster, error) {
	if err := requireUser(p); err != nil {
		return DayRoster{}, err
	}
	d, err := parseDate(date)
	if err != nil {
		return DayRoster{}, invalid("date", err.Error(), RuleFormat)
	}
	from := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, s.cfg.Location)
	to := from.AddDate(0, 0, 1) // a day is 23 or 25 hours when the clocks change
	orgs, all, err := s.organisedBy(ctx, p, orgID)
	if err != nil {
		return DayRoster{}, err
	}
	opps, err := s.st.opportunitiesStarting(ctx, from, to, orgs, all)
	if err != nil {
		return DayRoster{}, err
	}
	out := DayRoster{Date: date, OrganisationID: orgID, OpportunityIDs: []string{}}
	for _, o := range opps {
		out.OpportunityIDs = append(out.OpportunityIDs, o.ID)
	}
	as, res, err := s.propose(ctx, opps, func(sh Shift) bool { return !sh.Start.Before(from) && sh.Start.Before(to) })
	if err != nil {
		return DayRoster{}, err
	}
	out.Assignments, out.TotalScore, out.Optimal, out.Canonical = as, res.Total, res.Optimal, res.Canonical
	return out, nil
}

// organisedBy returns the organisations whose opportunities p organises: orgID alone when
// given (checked), every organisation and the city (all) for city staff, otherwise the
// verified organisations p represents. Someone who organises nothing is forbidden.
func (s *Service) organisedBy(ctx context.Context, p sdk.Principal, orgID string) (orgs []string, all bool, err error) {
	if orgID != "" {
		if err := s.canOrganise(ctx, p, orgID); err != nil {
			return nil, false, err
		}
		return []string{orgID}, false, nil
	}
	if err := s.canOrganise(ctx, p, ""); err == nil {
		return nil, true, nil
	} else if errorCode(err) != sdk.CodeForbidden {
		return nil, false, err
	}
	for _, m := range p.Organisations {
		if m.Role != "representative" || slices.Contains(orgs, m.OrganisationID) {
			continue
		}
		if err := s.canOrganise(ctx, p, m.OrganisationID); err == nil {
			orgs = append(orgs, m.OrganisationID)
		} else if errorCode(err) != sdk.CodeForbidden && errorCode(err) != sdk.CodeNotFound {
			return nil, false, err
		}
	}
	if len(orgs) == 0 {
		return nil, false, sdk.Errorf(sdk.CodeForbidden, "only city staff and representatives of verified organisations may plan a day's rosters")
	}
	return orgs, false, nil
}

// propose solves one roster over the open shifts of opps that keep admits: the
// best-ranked candidates per shift, less those who declined, withdrew or were declined
// for it, with every candidate's commitments and weekly hours, in one roster.Solve.
// Assignments are sorted by opportunity, shift and volunteer ID.
func (s *Service) propose(ctx context.Context, opps []Opportunity, keep func(Shift) bool) ([]RosterAssignment, roster.Result, error) {
	c, err := s.index.Get(ctx)
	if err != nil {
		return nil, roster.Result{}, err
	}
	now := s.clock()
	prob := roster.Problem{Location: s.cfg.Location, MaxNodes: s.cfg.RosterMaxNodes}
	oppOf := map[string]string{}
	seen := map[string]bool{}
	for _, o := range opps {
		apps, err := s.st.applicationsOf(ctx, o.ID)
		if err != nil {
			return nil, roster.Result{}, err
		}
		// People who declined or withdrew, or were declined, are not proposed again for
		// that shift.
		refused := map[[2]string]bool{}
		for _, a := range apps {
			if a.Status == StatusDeclined || a.Status == StatusWithdrawn {
				refused[[2]string{a.VolunteerID, a.ShiftID}] = true
			}
		}
		mo := matchOpportunity(o)
		for _, sh := range o.Shifts {
			free := sh.Capacity - sh.Taken
			if !sh.Start.After(now) || free <= 0 || !keep(sh) {
				continue
			}
			cands, err := c.Rank(&mo, sh.ID, match.Options{Limit: max(s.cfg.RosterCandidates, 2*free)})
			if err != nil {
				return nil, roster.Result{}, fmt.Errorf("rank: %w", err)
			}
			oppOf[sh.ID] = o.ID
			prob.Shifts = append(prob.Shifts, roster.Shift{ID: sh.ID, Start: sh.Start, End: sh.End, Capacity: free})
			for _, cand := range cands {
				if refused[[2]string{cand.VolunteerID, sh.ID}] {
					continue
				}
				prob.Pairs = append(prob.Pairs, roster.Pair{VolunteerID: cand.VolunteerID, ShiftID: sh.ID, Score: cand.Score})
				if !seen[cand.VolunteerID] {
					seen[cand.VolunteerID] = true
					prob.Volunteers = append(prob.Volunteers, s.rosterVolunteer(c.Profile(cand.VolunteerID)))
				}
			}
		}
	}
	res, err := roster.Solve(prob)
	if err != nil {
		return nil, roster.Result{}, fmt.Errorf("solve roster: %w", err)
	}
	out := make([]RosterAssignment, 0, len(res.Assignments))
	for _, a := range res.Assignments {
		out = append(out, RosterAssignment{OpportunityID: oppOf[a.ShiftID], ShiftID: a.ShiftID,
			VolunteerID: a.VolunteerID, Score: a.Score})
	}
	slices.SortFunc(out, func(a, b RosterAssignment) int {
		return cmp.Or(cmp.Compare(a.OpportunityID, b.OpportunityID), cmp.Compare(a.ShiftID, b.ShiftID),
			cmp.Compare(a.VolunteerID, b.VolunteerID))
	})
	return out, res, nil
}

func (s *Service) rosterVolunteer(mp *match.Profile) roster.Volunteer {
	v := roster.Volunteer{ID: mp.ID, MaxWeekly: mp.MaxWeekly, Committed: map[roster.Week]time.Duration{}}
	for _, c := range mp.Commitments {
		v.Commitments = append(v.Commitments, roster.Interval{Start: c.Start, End: c.End})
		v.Committed[roster.WeekOf(c.Start, s.cfg.Location)] += c.End.Sub(c.Start)
	}
	return v
}

// RosterApplied says what applying a roster proposal did.
type RosterApplied struct {
	// Invited are the invitations sent.
	Invited []Application `json:"invited" nullable:"false"`
	// Skipped are the proposed placements left out: the volunteer already signed up for
	// the shift, or no longer passes its rules (Reason says which).
	Skipped []RosterSkip `json:"skipped" nullable:"false"`
}

// RosterSkip is one proposed placement applying left out.
type RosterSkip struct {
	RosterAssignment
	Reason string `json:"reason" doc:"Why, in plain words"`
}

// ApplyRoster computes the opportunity's roster proposal and invites every proposed
// volunteer, in one transaction: the organiser reviewed the proposal, so it is applied
// as a whole or, if the store fails, not at all. A placement whose volunteer already
// signed up for the shift, or no longer passes its rules, is skipped and reported.
func (s *Service) ApplyRoster(ctx context.Context, p sdk.Principal, oppID string) (RosterApplied, error) {
	out := RosterApplied{Invited: []Application{}, Skipped: []RosterSkip{}}
	ro, err := s.Roster(ctx, p, oppID)
	if err != nil {
		return out, err
	}
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return out, err
	}
	org, err := s.organisationName(ctx, o.OrganisationID)
	if err != nil {
		return out, err
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		out = RosterApplied{Invited: []Application{}, Skipped: []RosterSkip{}}
		for _, ra := range ro.Assignments {
			sh, err := s.openShift(o, ra.ShiftID)
			if err == nil {
				var a Application
				if a, err = s.invite(ctx, tx, o, sh, ra.VolunteerID, org); err == nil {
					out.Invited = append(out.Invited, a)
					continue
				}
			}
			if errorCode(err) != sdk.CodeConflict {
				return err
			}
			out.Skipped = append(out.Skipped, RosterSkip{RosterAssignment: ra, Reason: err.Error()})
		}
		return nil
	})
	if err != nil {
		return RosterApplied{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.roster.apply", orgDomain(o.OrganisationID), oppID,
		map[string]any{"invited": len(out.Invited), "skipped": len(out.Skipped)})
	return out, nil
}
