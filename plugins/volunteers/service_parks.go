package volunteers

import (
	"context"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk/store"
)

// draftFromParkEvent creates a draft opportunity for the organising group when an
// approved public park event asks for volunteers, with one shift of places places over
// the booked time. The event ID is stored with the draft under a unique constraint, so
// a redelivered event creates nothing.
func (s *Service) draftFromParkEvent(ctx context.Context, eventID string, b ParkBookingApproved, places int) error {
	if !b.VolunteersNeeded || !b.Public || b.OrganisationID == "" || !b.End.After(b.Start) {
		return nil // a private event, one without volunteers, or one we cannot place
	}
	title := strings.TrimSpace(b.Title)
	if title == "" {
		title = "Park event"
	}
	place := strings.Trim(b.ParkName+" / "+b.AreaName, " /")
	now := s.clock()
	o := Opportunity{
		ID: newID(), OrganisationID: b.OrganisationID, Title: "Volunteers for " + title,
		Description:     "Created from approved park booking " + b.BookingID + ".",
		NeighbourhoodID: b.NeighbourhoodID, Place: place, RequiredSkills: []string{}, PreferredSkills: []string{},
		Languages: []string{}, State: StateDraft, CreatedAt: now, UpdatedAt: now, sourceEventID: eventID, parkBookingID: b.BookingID,
		Shifts: []Shift{{ID: newID(), Start: b.Start.UTC().Truncate(time.Second), End: b.End.UTC().Truncate(time.Second), Capacity: places}},
	}
	return s.st.db.InTx(ctx, func(tx *store.Tx) error {
		if ended, err := s.st.parkBookingEnded(ctx, tx, b.BookingID); err != nil || ended {
			return err // cancelled or rejected before its approval reached us
		}
		created, err := s.st.insertOpportunity(ctx, tx, o)
		if err != nil || !created {
			return err // a redelivery: the draft and its event exist
		}
		return tx.Emit(EventOpportunityDrafted, OpportunityDrafted{OpportunityID: o.ID,
			OrganisationID: o.OrganisationID, ParkBookingID: b.BookingID})
	})
}

// cancelForParkBooking cancels the opportunities drafted from a park booking that was
// cancelled or rejected: the event will not take place, so neither will its volunteer
// work. Whoever signed up for a shift still to come, and the followers, are told, as
// when an organiser cancels; the change is announced with
// volunteers.opportunity.cancelled. Delivered again, it finds them cancelled and does
// nothing.
func (s *Service) cancelForParkBooking(ctx context.Context, bookingID string) error {
	if bookingID == "" {
		return nil
	}
	if err := s.st.endParkBooking(ctx, bookingID, s.clock()); err != nil {
		return err
	}
	ids, err := s.st.opportunitiesOfBooking(ctx, bookingID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		o, err := s.st.opportunity(ctx, s.st.db, id)
		if err != nil {
			return err
		}
		if o.State == StateCancelled {
			continue
		}
		err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
			ok, err := s.st.setState(ctx, tx, id, o.State, StateCancelled, s.clock())
			if err != nil || !ok {
				return err // !ok: an organiser changed it meanwhile; the redelivery decides
			}
			if err := tx.Emit(EventOpportunityCancelled, OpportunityChanged{OpportunityID: id, OrganisationID: o.OrganisationID}); err != nil {
				return err
			}
			if err := s.st.bumpVersion(ctx, tx); err != nil {
				return err
			}
			return s.tellCancelled(ctx, tx, o, "")
		})
		if err != nil {
			return err
		}
		s.audit(ctx, "", "volunteers.opportunity.cancel_with_park_booking", orgDomain(o.OrganisationID), id,
			map[string]any{"park_booking_id": bookingID})
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
