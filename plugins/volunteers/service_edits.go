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

// Partial edits: a field left out of the body (null, or an absent list) keeps its value.

// OpportunityPatch is the body of PATCH /opportunities/{id}.
type OpportunityPatch struct {
	Title                *string  `json:"title" max:"200"`
	Description          *string  `json:"description" max:"10000"`
	NeighbourhoodID      *string  `json:"neighbourhood_id" max:"64" doc:"\"\" for none"`
	Place                *string  `json:"place" max:"300"`
	RequiredSkills       []string `json:"required_skills" max:"64" doc:"Skill IDs a volunteer must hold; absent keeps them, [] clears them"`
	PreferredSkills      []string `json:"preferred_skills" max:"64" doc:"Skill IDs that score; absent keeps them"`
	Languages            []string `json:"languages" max:"16" doc:"Absent keeps them"`
	MinAge               *int     `json:"min_age" min:"0" max:"120"`
	NeedsBackgroundCheck *bool    `json:"needs_background_check"`
	AutoAccept           *bool    `json:"auto_accept"`
	Newcomers            *bool    `json:"newcomers"`
}

// PatchOpportunity changes some of an opportunity's details (organisers). A cancelled
// opportunity is not edited. Who already holds a place keeps it: a stricter rule (an
// age, a skill) applies to sign-ups from now on.
func (s *Service) PatchOpportunity(ctx context.Context, p sdk.Principal, id string, in OpportunityPatch) (Opportunity, error) {
	o, err := s.organiser(ctx, p, id)
	if err != nil {
		return Opportunity{}, err
	}
	if o.State == StateCancelled {
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is cancelled", id)
	}
	var f fields
	if in.Title != nil {
		if strings.TrimSpace(*in.Title) == "" {
			f.add("title", "must not be empty", RuleRequired)
		}
		o.Title = strings.TrimSpace(*in.Title)
	}
	if in.Description != nil {
		o.Description = *in.Description
	}
	if in.Place != nil {
		o.Place = *in.Place
	}
	if in.NeighbourhoodID != nil {
		o.NeighbourhoodID = *in.NeighbourhoodID
		if o.NeighbourhoodID != "" {
			if err := s.checkNeighbourhoods(ctx, &f, "neighbourhood_id", []string{o.NeighbourhoodID}); err != nil {
				return Opportunity{}, err
			}
		}
	}
	if in.RequiredSkills != nil {
		o.RequiredSkills = dedupe(in.RequiredSkills)
	}
	if in.PreferredSkills != nil {
		o.PreferredSkills = dedupe(in.PreferredSkills)
	}
	if in.Languages != nil {
		o.Languages = dedupe(in.Languages)
	}
	if in.MinAge != nil {
		if *in.MinAge < 0 || *in.MinAge > 120 {
			f.add("min_age", "must be between 0 and 120", sdk.RuleRange)
		}
		o.MinAge = *in.MinAge
	}
	if in.NeedsBackgroundCheck != nil {
		o.NeedsBackgroundCheck = *in.NeedsBackgroundCheck
	}
	if in.AutoAccept != nil {
		o.AutoAccept = *in.AutoAccept
	}
	if in.Newcomers != nil {
		o.Newcomers = *in.Newcomers
	}
	needsCheck, err := s.checkSkills(ctx, &f, o.RequiredSkills, o.PreferredSkills)
	if err != nil {
		return Opportunity{}, err
	}
	if needsCheck && !o.NeedsBackgroundCheck {
		if in.NeedsBackgroundCheck != nil {
			f.add("needs_background_check", "a required skill implies a background check", sdk.RuleRange)
		}
		o.NeedsBackgroundCheck = true
	}
	if err := f.err("invalid opportunity"); err != nil {
		return Opportunity{}, err
	}
	o.UpdatedAt = s.clock()
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error { return s.st.updateOpportunity(ctx, tx, o) })
	if err != nil {
		return Opportunity{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.opportunity.edit", orgDomain(o.OrganisationID), id, nil)
	return s.st.opportunity(ctx, s.st.db, id)
}

func orgDomain(orgID string) string {
	if orgID == "" {
		return sdk.DomainCity
	}
	return "org:" + orgID
}

// AddShift adds a shift to an opportunity that is not cancelled or closed (organisers).
func (s *Service) AddShift(ctx context.Context, p sdk.Principal, oppID string, in ShiftInput) (Opportunity, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Opportunity{}, err
	}
	if o.State == StateCancelled || o.State == StateClosed {
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is %s", oppID, o.State)
	}
	var f fields
	start, end := s.checkShiftTimes(&f, "", in.Start, in.End)
	if in.Capacity < 0 || in.Capacity > 100000 {
		f.add("capacity", "must be between 0 and 100000", sdk.RuleRange)
	}
	if err := f.err("invalid shift"); err != nil {
		return Opportunity{}, err
	}
	sh := Shift{ID: newID(), Start: start, End: end, Capacity: in.Capacity}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error { return s.st.insertShift(ctx, tx, oppID, sh) })
	if err != nil {
		return Opportunity{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.shift.add", orgDomain(o.OrganisationID), sh.ID,
		map[string]any{"opportunity_id": oppID, "start": start, "end": end})
	return s.st.opportunity(ctx, s.st.db, oppID)
}

// checkShiftTimes parses a shift's start and end into f's problems (field names under
// prefix) and returns them in UTC to the second.
func (s *Service) checkShiftTimes(f *fields, prefix, startText, endText string) (time.Time, time.Time) {
	start, err1 := time.Parse(time.RFC3339, startText)
	end, err2 := time.Parse(time.RFC3339, endText)
	switch {
	case err1 != nil:
		f.add(prefix+"start", "must be an RFC 3339 time", RuleFormat)
	case err2 != nil:
		f.add(prefix+"end", "must be an RFC 3339 time", RuleFormat)
	case sdk.CheckTime("start", start) != nil:
		f.add(prefix+"start", "must lie between 1970-01-01 and 2199-12-31", sdk.RuleTimeRange)
	case sdk.CheckTime("end", end) != nil:
		f.add(prefix+"end", "must lie between 1970-01-01 and 2199-12-31", sdk.RuleTimeRange)
	case !end.After(start):
		f.add(prefix+"end", "shift must end after it starts", RuleEndAfterStart)
	case !start.After(s.clock()):
		f.add(prefix+"start", "shift must start in the future", RuleFuture)
	}
	return start.UTC().Truncate(time.Second), end.UTC().Truncate(time.Second)
}

// ShiftPatch is the body of PATCH /opportunities/{id}/shifts/{shiftID}.
type ShiftPatch struct {
	Start    *string `json:"start" max:"64" format:"date-time" doc:"With end: the shift's new time" example:"2025-06-07T10:00:00+03:00"`
	End      *string `json:"end" max:"64" format:"date-time" example:"2025-06-07T13:00:00+03:00"`
	Capacity *int    `json:"capacity" min:"0" max:"100000" doc:"Places; not below those already held"`
}

// PatchShift changes a shift that has not started: its time (everyone signed up is
// told, as ChangeShift does) and its places. More places move the wait list up (with
// each volunteer's rules checked again); fewer than are held is refused.
func (s *Service) PatchShift(ctx context.Context, p sdk.Principal, oppID, shiftID string, in ShiftPatch) (Opportunity, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Opportunity{}, err
	}
	sh, err := findShift(o, shiftID)
	if err != nil {
		return Opportunity{}, err
	}
	if (in.Start == nil) != (in.End == nil) {
		return Opportunity{}, invalid("end", "give start and end together", RuleRequired)
	}
	if in.Capacity != nil && (*in.Capacity < 0 || *in.Capacity > 100000) {
		return Opportunity{}, invalid("capacity", "must be between 0 and 100000", sdk.RuleRange)
	}
	if in.Start != nil {
		if o, err = s.ChangeShift(ctx, p, oppID, shiftID, ShiftChange{Start: *in.Start, End: *in.End}); err != nil {
			return Opportunity{}, err
		}
	}
	if in.Capacity == nil || *in.Capacity == sh.Capacity {
		return o, nil
	}
	switch {
	case o.State == StateCancelled:
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is cancelled", oppID)
	case !sh.Start.After(s.clock()):
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "shift %s has already started", shiftID)
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
			return err
		}
		held, err := s.st.held(ctx, tx, shiftID)
		if err != nil {
			return err
		}
		if *in.Capacity < held {
			return &sdk.Error{Code: sdk.CodeConflict, Message: fmt.Sprintf("%d places are held; the shift cannot have fewer", held),
				Fields: map[string]string{"capacity": fmt.Sprintf("at least %d: places held", held)}}
		}
		if err := s.st.setCapacity(ctx, tx, shiftID, *in.Capacity); err != nil {
			return err
		}
		return s.promote(ctx, tx, shiftID, s.clock())
	})
	if err != nil {
		return Opportunity{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.shift.capacity", orgDomain(o.OrganisationID), shiftID,
		map[string]any{"opportunity_id": oppID, "capacity": *in.Capacity})
	return s.st.opportunity(ctx, s.st.db, oppID)
}

// ProfilePatch is the body of PATCH /profile: the fields given replace theirs.
type ProfilePatch struct {
	Skills           []string             `json:"skills" max:"64" doc:"Absent keeps them, [] clears them"`
	Tags             []string             `json:"tags" max:"64"`
	Languages        []string             `json:"languages" max:"16"`
	Availability     []AvailabilityWindow `json:"availability"`
	UnavailableDates []string             `json:"unavailable_dates" max:"10" format:"date"`
	Neighbourhoods   []string             `json:"neighbourhoods" max:"64"`
	MaxHoursPerWeek  *int                 `json:"max_hours_per_week" min:"0" max:"168"`
	BirthDate        *string              `json:"birth_date" max:"10" format:"date"`
}

// PatchProfile changes some of the caller's profile, with the checks of PutProfile.
func (s *Service) PatchProfile(ctx context.Context, p sdk.Principal, in ProfilePatch) (Profile, error) {
	cur, err := s.Profile(ctx, p)
	if err != nil {
		return Profile{}, err
	}
	next := ProfileInput{Skills: cur.Skills, Tags: cur.Tags, Languages: cur.Languages, Availability: cur.Availability,
		UnavailableDates: cur.UnavailableDates, Neighbourhoods: cur.Neighbourhoods, MaxHoursPerWeek: cur.MaxHoursPerWeek,
		BirthDate: cur.BirthDate}
	for _, c := range []struct{ from, to *[]string }{{&in.Skills, &next.Skills}, {&in.Tags, &next.Tags},
		{&in.Languages, &next.Languages}, {&in.UnavailableDates, &next.UnavailableDates}, {&in.Neighbourhoods, &next.Neighbourhoods}} {
		if *c.from != nil {
			*c.to = slices.Clone(*c.from)
		}
	}
	if in.Availability != nil {
		next.Availability = in.Availability
	}
	if in.MaxHoursPerWeek != nil {
		next.MaxHoursPerWeek = *in.MaxHoursPerWeek
	}
	if in.BirthDate != nil {
		next.BirthDate = *in.BirthDate
	}
	return s.putProfile(ctx, p, next, cur.CreatedAt)
}
