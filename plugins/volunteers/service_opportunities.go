package volunteers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Opportunity states.
const (
	StateDraft     = "draft"
	StatePublished = "published"
	StateClosed    = "closed"
	StateCancelled = "cancelled"
)

// Shift is one slot of an opportunity. Taken counts confirmed places (attended and
// no-show included); Waitlisted counts the wait list.
type Shift struct {
	ID         string    `json:"id" format:"uuid"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Capacity   int       `json:"capacity" doc:"Places"`
	Taken      int       `json:"taken" doc:"Places held: confirmed, attended or no-show"`
	Waitlisted int       `json:"waitlisted" doc:"Applications on the wait list"`
	Free       int       `json:"free" doc:"Places still free: capacity less those held"`
}

// Opportunity is volunteer work an organisation or the city needs done.
type Opportunity struct {
	ID                   string    `json:"id" format:"uuid"`
	OrganisationID       string    `json:"organisation_id" doc:"Empty when the city itself posted it"`
	Title                string    `json:"title"`
	Description          string    `json:"description"`
	NeighbourhoodID      string    `json:"neighbourhood_id"`
	Place                string    `json:"place"`
	RequiredSkills       []string  `json:"required_skills" nullable:"false"`
	PreferredSkills      []string  `json:"preferred_skills" nullable:"false"`
	Languages            []string  `json:"languages" nullable:"false" doc:"Language codes spoken there"`
	MinAge               int       `json:"min_age" doc:"0 for none; checked on the shift's local date"`
	NeedsBackgroundCheck bool      `json:"needs_background_check"`
	AutoAccept           bool      `json:"auto_accept" doc:"Sign-ups are accepted and confirmed without the organiser"`
	Newcomers            bool      `json:"newcomers" doc:"Welcomes newcomers: no experience needed"`
	State                string    `json:"state" enum:"draft,published,closed,cancelled"`
	Shifts               []Shift   `json:"shifts" nullable:"false"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`

	createdBy     string
	sourceEventID string
	// parkBookingID is the parks booking a draft was made from; "" for the others.
	parkBookingID string
}

// ShiftInput is one shift in a create request.
type ShiftInput struct {
	Start    string `json:"start" max:"64" format:"date-time" example:"2025-06-07T09:00:00+03:00"`
	End      string `json:"end" max:"64" format:"date-time" example:"2025-06-07T12:00:00+03:00"`
	Capacity int    `json:"capacity" max:"100000" min:"0" doc:"Places"`
}

// OpportunityInput is the body of POST /opportunities. An empty OrganisationID means the
// city itself posts it, which only city staff may do.
type OpportunityInput struct {
	OrganisationID       string       `json:"organisation_id" max:"64" doc:"Empty: the city posts it (city staff only)"`
	Title                string       `json:"title" max:"200" example:"Park clean-up"`
	Description          string       `json:"description" max:"10000"`
	NeighbourhoodID      string       `json:"neighbourhood_id" max:"64"`
	Place                string       `json:"place" max:"300"`
	RequiredSkills       []string     `json:"required_skills" max:"64" doc:"Skill IDs a volunteer must hold"`
	PreferredSkills      []string     `json:"preferred_skills" max:"64" doc:"Skill IDs that score"`
	Languages            []string     `json:"languages" max:"16"`
	MinAge               int          `json:"min_age" min:"0" max:"120" doc:"0 for none"`
	NeedsBackgroundCheck bool         `json:"needs_background_check"`
	AutoAccept           bool         `json:"auto_accept" doc:"Accept and confirm sign-ups without the organiser"`
	Newcomers            bool         `json:"newcomers" doc:"Welcomes newcomers: no experience needed"`
	Shifts               []ShiftInput `json:"shifts"`
}

// CreateOpportunity posts a draft opportunity with its shifts.
func (s *Service) CreateOpportunity(ctx context.Context, p sdk.Principal, in OpportunityInput) (Opportunity, error) {
	if err := requireUser(p); err != nil {
		return Opportunity{}, err
	}
	now := s.clock()
	var f fields
	if strings.TrimSpace(in.Title) == "" {
		f.add("title", "must not be empty", RuleRequired)
	}
	if in.MinAge < 0 || in.MinAge > 120 {
		f.add("min_age", "must be between 0 and 120", sdk.RuleRange)
	}
	if len(in.Shifts) == 0 {
		f.add("shifts", "give at least one shift", RuleRequired)
	}
	shifts := make([]Shift, 0, len(in.Shifts))
	for i, si := range in.Shifts {
		key := fmt.Sprintf("shifts[%d]", i)
		start, end := s.checkShiftTimes(&f, key+".", si.Start, si.End)
		if si.Capacity < 0 {
			f.add(key+".capacity", "capacity must not be below zero", sdk.RuleRange)
		}
		shifts = append(shifts, Shift{ID: newID(), Start: start, End: end, Capacity: si.Capacity})
	}
	needsCheck, err := s.checkSkills(ctx, &f, in.RequiredSkills, in.PreferredSkills)
	if err != nil {
		return Opportunity{}, err
	}
	if in.NeighbourhoodID != "" {
		if err := s.checkNeighbourhoods(ctx, &f, "neighbourhood_id", []string{in.NeighbourhoodID}); err != nil {
			return Opportunity{}, err
		}
	}
	if err := f.err("invalid opportunity"); err != nil {
		return Opportunity{}, err
	}
	if err := s.canOrganise(ctx, p, in.OrganisationID); err != nil {
		return Opportunity{}, err
	}
	o := Opportunity{
		ID: newID(), OrganisationID: in.OrganisationID, Title: strings.TrimSpace(in.Title), Description: in.Description,
		NeighbourhoodID: in.NeighbourhoodID, Place: in.Place, RequiredSkills: dedupe(in.RequiredSkills),
		PreferredSkills: dedupe(in.PreferredSkills), Languages: dedupe(in.Languages), MinAge: in.MinAge,
		NeedsBackgroundCheck: in.NeedsBackgroundCheck || needsCheck, AutoAccept: in.AutoAccept, Newcomers: in.Newcomers, State: StateDraft,
		Shifts: shifts, CreatedAt: now, UpdatedAt: now, createdBy: p.UserID,
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := s.st.insertOpportunity(ctx, tx, o)
		return err
	})
	if err != nil {
		return Opportunity{}, err
	}
	return s.st.opportunity(ctx, s.st.db, o.ID)
}

// Opportunity returns one opportunity: published ones to anyone signed in, the others
// only to their organisers.
func (s *Service) Opportunity(ctx context.Context, p sdk.Principal, id string) (Opportunity, error) {
	if err := requireUser(p); err != nil {
		return Opportunity{}, err
	}
	o, err := s.st.opportunity(ctx, s.st.db, id)
	if err != nil {
		return Opportunity{}, err
	}
	if o.State != StatePublished {
		if err := s.canOrganise(ctx, p, o.OrganisationID); err != nil {
			if errorCode(err) == sdk.CodeForbidden {
				return Opportunity{}, sdk.Errorf(sdk.CodeNotFound, "opportunity %s not found", id)
			}
			return Opportunity{}, err
		}
	}
	return o, nil
}

// Opportunities lists published opportunities and, for organisers, those of their
// organisations in every state, in creation order.
func (s *Service) Opportunities(ctx context.Context, p sdk.Principal, q sdk.ListQuery) (sdk.Page[Opportunity], error) {
	if err := requireUser(p); err != nil {
		return sdk.Page[Opportunity]{}, err
	}
	var orgs []string
	for _, m := range p.Organisations {
		if m.Role == "representative" && m.Verified {
			orgs = append(orgs, m.OrganisationID)
		}
	}
	if s.host != nil {
		if ok, err := s.host.Can(ctx, p.UserID, PermOpportunityManage, sdk.DomainCity); err != nil {
			return sdk.Page[Opportunity]{}, fmt.Errorf("check permission: %w", err)
		} else if ok {
			orgs = append(orgs, "")
		}
	}
	items, err := s.st.listOpportunities(ctx, []string{StatePublished}, orgs, q)
	if err != nil {
		return sdk.Page[Opportunity]{}, err
	}
	return sdk.NewPage(items, q, func(o Opportunity) []any { return []any{o.ID} }), nil
}

// transitions are the state changes organisers may make.
var transitions = map[string][]string{
	StatePublished: {StateDraft},
	StateClosed:    {StatePublished},
	StateCancelled: {StateDraft, StatePublished, StateClosed},
}

// stateEvents are the events announcing each state organisers may set.
var stateEvents = map[string]string{
	StatePublished: EventOpportunityPublished,
	StateClosed:    EventOpportunityClosed,
	StateCancelled: EventOpportunityCancelled,
}

// SetState publishes, closes or cancels an opportunity.
func (s *Service) SetState(ctx context.Context, p sdk.Principal, id, to string) (Opportunity, error) {
	o, err := s.organiser(ctx, p, id)
	if err != nil {
		return Opportunity{}, err
	}
	if !slices.Contains(transitions[to], o.State) {
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "an opportunity that is %s cannot become %s", o.State, to)
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		ok, err := s.st.setState(ctx, tx, id, o.State, to, s.clock())
		if err != nil {
			return err
		}
		if !ok {
			return sdk.Errorf(sdk.CodeConflict, "opportunity %s changed state meanwhile; reload and retry", id)
		}
		if err := tx.Emit(stateEvents[to], OpportunityChanged{OpportunityID: id, OrganisationID: o.OrganisationID}); err != nil {
			return err
		}
		if to != StateCancelled {
			return nil
		}
		// Cancelled shifts no longer commit anyone's time.
		if err := s.st.bumpVersion(ctx, tx); err != nil {
			return err
		}
		return s.tellCancelled(ctx, tx, o, p.UserID)
	})
	if err != nil {
		return Opportunity{}, err
	}
	return s.st.opportunity(ctx, s.st.db, id)
}

func findShift(o Opportunity, shiftID string) (Shift, error) {
	for _, sh := range o.Shifts {
		if sh.ID == shiftID {
			return sh, nil
		}
	}
	return Shift{}, sdk.Errorf(sdk.CodeNotFound, "shift %s not found in opportunity %s", shiftID, o.ID)
}

// ShiftChange is the body of PUT /opportunities/{id}/shifts/{shiftID}: the shift's new
// time.
type ShiftChange struct {
	Start string `json:"start" max:"64" format:"date-time" example:"2025-06-07T10:00:00+03:00"`
	End   string `json:"end" max:"64" format:"date-time" example:"2025-06-07T13:00:00+03:00"`
}

// ChangeShift moves a shift that has not started to another time, and tells everyone
// signed up for it, in the same transaction. The
// volunteers keep their places; one whom the new time does not suit withdraws, and the
// wait list moves up.
func (s *Service) ChangeShift(ctx context.Context, p sdk.Principal, oppID, shiftID string, in ShiftChange) (Opportunity, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Opportunity{}, err
	}
	old, err := findShift(o, shiftID)
	if err != nil {
		return Opportunity{}, err
	}
	now := s.clock()
	switch {
	case o.State == StateCancelled:
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is cancelled", oppID)
	case !old.Start.After(now):
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "shift %s has already started", shiftID)
	}
	var f fields
	start, end := s.checkShiftTimes(&f, "", in.Start, in.End)
	if err := f.err("invalid shift"); err != nil {
		return Opportunity{}, err
	}
	moved := Shift{ID: shiftID, Start: start, End: end}
	if moved.Start.Equal(old.Start) && moved.End.Equal(old.End) {
		return o, nil // nothing moved, nothing to tell
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
			return err
		}
		if err := s.st.moveShift(ctx, tx, shiftID, moved.Start, moved.End); err != nil {
			return err
		}
		// The shift's time is part of everyone's commitments the index is built from.
		if err := s.st.bumpVersion(ctx, tx); err != nil {
			return err
		}
		apps, err := s.st.selectApplications(ctx, tx, `WHERE shift_id = ? ORDER BY created_at, id`, shiftID)
		if err != nil {
			return fmt.Errorf("list applications: %w", err)
		}
		var to []string
		for _, a := range apps {
			if slices.Contains(signedUp, a.Status) && a.VolunteerID != p.UserID {
				to = append(to, a.VolunteerID)
			}
		}
		if len(to) == 0 {
			return nil
		}
		return s.tell(ctx, tx, NotifyShiftChanged, o, moved, sdk.Notification{Recipients: to},
			map[string]any{"Was": sdk.Span{Start: old.Start, End: old.End}})
	})
	if err != nil {
		return Opportunity{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.shift.change", orgDomain(o.OrganisationID), shiftID,
		map[string]any{"opportunity_id": oppID, "start": moved.Start, "end": moved.End})
	return s.st.opportunity(ctx, s.st.db, oppID)
}

// CancelShift cancels a shift that has not started: it is removed with its sign-ups
// (nobody has worked it yet) and everyone signed up for it is told, in the same
// transaction. An opportunity keeps at least one shift; to call off its last one,
// cancel the opportunity.
func (s *Service) CancelShift(ctx context.Context, p sdk.Principal, oppID, shiftID string) (Opportunity, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Opportunity{}, err
	}
	sh, err := findShift(o, shiftID)
	if err != nil {
		return Opportunity{}, err
	}
	switch {
	case o.State == StateCancelled:
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is cancelled", oppID)
	case !sh.Start.After(s.clock()):
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "shift %s has already started", shiftID)
	case len(o.Shifts) == 1:
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "shift %s is the opportunity's last; cancel the opportunity instead", shiftID)
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
			return err
		}
		apps, err := s.st.selectApplications(ctx, tx, `WHERE shift_id = ? ORDER BY created_at, id`, shiftID)
		if err != nil {
			return fmt.Errorf("list applications: %w", err)
		}
		if err := s.st.deleteShift(ctx, tx, shiftID); err != nil {
			return err
		}
		// Its places no longer commit anyone's time.
		if err := s.st.bumpVersion(ctx, tx); err != nil {
			return err
		}
		var to []string
		for _, a := range apps {
			if slices.Contains(signedUp, a.Status) && a.VolunteerID != p.UserID {
				to = append(to, a.VolunteerID)
			}
		}
		if len(to) == 0 {
			return nil
		}
		return s.tell(ctx, tx, NotifyShiftCancelled, o, sh, sdk.Notification{Recipients: to}, nil)
	})
	if err != nil {
		return Opportunity{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.shift.cancel", orgDomain(o.OrganisationID), shiftID,
		map[string]any{"opportunity_id": oppID, "start": sh.Start, "end": sh.End})
	return s.st.opportunity(ctx, s.st.db, oppID)
}
