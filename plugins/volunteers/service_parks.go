package volunteers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kvarter/kvarter/sdk"
)

// places reads how many volunteers are asked for: 0 when none, def when only a flag.
func places(raw json.RawMessage, def int) int {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		if b {
			return def
		}
		return 0
	}
	var n int
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		return n
	}
	return 0
}

// draftFromParkEvent creates a draft opportunity for the organising group when an
// approved public park event asks for volunteers. The event ID is stored with the draft
// under a unique constraint, so a redelivered event creates nothing.
func (s *Service) draftFromParkEvent(ctx context.Context, e sdk.Event, defPlaces int) error {
	var b parkBooking
	if err := json.Unmarshal(e.Payload, &b); err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	n := places(b.VolunteersNeeded, defPlaces)
	if n == 0 {
		n = places(b.NeedsVolunteers, defPlaces)
	}
	if n == 0 || (b.Public != nil && !*b.Public) || b.OrganisationID == "" || !b.End.After(b.Start) {
		return nil // a private event, one without volunteers, or one we cannot place
	}
	bookingID := b.BookingID
	if bookingID == "" {
		bookingID = b.ID
	}
	title := strings.TrimSpace(b.Title)
	if title == "" {
		title = "Park event"
	}
	place := strings.Trim(b.ParkName+" / "+b.AreaName, " /")
	now := s.clock()
	o := Opportunity{
		ID: newID(), OrganisationID: b.OrganisationID, Title: "Volunteers for " + title,
		Description:     strings.TrimSpace(b.Description + "\n\nCreated from approved park booking " + bookingID + "."),
		NeighbourhoodID: b.NeighbourhoodID, Place: place, RequiredSkills: []string{}, PreferredSkills: []string{},
		Languages: []string{}, State: StateDraft, CreatedAt: now, UpdatedAt: now, sourceEventID: e.ID,
		Shifts: []Shift{{ID: newID(), Start: b.Start.UTC().Truncate(time.Second), End: b.End.UTC().Truncate(time.Second), Capacity: n}},
	}
	var created bool
	err := s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		created, err = s.st.insertOpportunity(ctx, tx, o)
		return err
	})
	if err != nil {
		return err
	}
	if created {
		s.publish(ctx, "volunteers.opportunity.drafted", map[string]any{"opportunity_id": o.ID,
			"organisation_id": o.OrganisationID, "park_booking_id": bookingID})
	}
	return nil
}

// OpportunityForEvent returns the draft created from event id, for tests and operators.
func (s *Service) OpportunityForEvent(ctx context.Context, eventID string) (Opportunity, error) {
	id, err := s.st.opportunityIDForEvent(ctx, eventID)
	if err != nil {
		return Opportunity{}, err
	}
	return s.st.opportunity(ctx, s.st.db, id)
}
