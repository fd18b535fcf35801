package parks

import (
	"time"

	"github.com/kvarter/kvarter/sdk/store"
)

// Event types the plugin publishes, one per booking transition, and the
// one it consumes. Closures publish nothing of their own; the requests a
// closure or an approval pushes aside publish EventRejected.
const (
	// EventRequested: a group asked for an area (one event per date of a
	// weekly series). Payload: BookingEvent with status "requested".
	EventRequested = "parks.booking.requested"
	// EventApproved: a manager approved a request (one event per date of
	// its series). Payload: BookingEvent with status "approved".
	EventApproved = "parks.booking.approved"
	// EventRejected: a manager rejected a request, or an approval or a
	// closure it collided with rejected it; reason says why. Payload:
	// BookingEvent with status "rejected".
	EventRejected = "parks.booking.rejected"
	// EventCancelled: the group or a manager cancelled a request or an
	// approved booking (only the dates not yet over). Payload: BookingEvent
	// with status "cancelled".
	EventCancelled = "parks.booking.cancelled"
)

// BookingEvent is the payload of every parks.booking.* event: the booking's
// state after the transition, one event per booking (so one per date of a
// series). Every field is always present; a field without a value is the
// empty string, false or 0. Fields are only ever added. README.md lists
// them for subscribers.
type BookingEvent struct {
	// BookingID is the booking's ID (a UUIDv7); there is no "id" field.
	BookingID string `json:"booking_id"`
	// SeriesID groups the dates of a weekly series; "" for a single booking.
	SeriesID string `json:"series_id"`
	// Status is the booking's status after the transition: requested,
	// approved, rejected or cancelled.
	Status string `json:"status"`
	// Reason is why it was rejected or cancelled; "" otherwise.
	Reason string `json:"reason"`
	// ParkID, ParkName and NeighbourhoodID place the park.
	ParkID          string `json:"park_id"`
	ParkName        string `json:"park_name"`
	NeighbourhoodID string `json:"neighbourhood_id"`
	// AreaID and AreaName name the booked area.
	AreaID   string `json:"area_id"`
	AreaName string `json:"area_name"`
	// OrganisationID and OrganisationName name the organisation that asked;
	// both "" when a resident booked for themself.
	OrganisationID   string `json:"organisation_id"`
	OrganisationName string `json:"organisation_name"`
	// RequesterID is the user who asked; "" once their account is deleted.
	RequesterID string `json:"requester_id"`
	// Title and Category describe the event; Category is one of Categories.
	Title    string `json:"title"`
	Category string `json:"category"`
	// Start and End are the booked interval [Start, End), RFC 3339 in UTC.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// TimeZone is the park's IANA time zone, for showing Start and End.
	TimeZone string `json:"time_zone"`
	// Public is whether the event appears in the public calendar.
	Public bool `json:"public"`
	// ExpectedAttendance is how many people the group expects.
	ExpectedAttendance int `json:"expected_attendance"`
	// VolunteersNeeded is whether the group asks for volunteers (a flag,
	// never a number).
	VolunteersNeeded bool `json:"volunteers_needed"`
}

// bookingEvent is the payload announcing b's new state.
func bookingEvent(park *Park, tree areaTree, b *Booking) BookingEvent {
	areaName := ""
	if a := tree[b.AreaID]; a != nil {
		areaName = a.Name
	}
	return BookingEvent{
		BookingID: b.ID, SeriesID: b.SeriesID, Status: b.Status, Reason: b.Reason,
		ParkID: park.ID, ParkName: park.Name, NeighbourhoodID: park.NeighbourhoodID,
		AreaID: b.AreaID, AreaName: areaName, OrganisationID: b.OrganisationID, OrganisationName: b.OrganisationName,
		RequesterID: b.RequesterID, Title: b.Title, Category: b.Category, Start: b.Start, End: b.End,
		TimeZone: park.TimeZone, Public: b.Public, ExpectedAttendance: b.ExpectedAttendance, VolunteersNeeded: b.VolunteersNeeded,
	}
}

// emitEvents emits one event of typ per booking in the transaction that
// makes it true, so it is delivered exactly when the change commits — never
// lost while the host is away, never sent for a rolled-back change. The
// SDK's outbox hands it to the host after commit.
func emitEvents(tx *store.Tx, typ string, park *Park, tree areaTree, list []*Booking) error {
	for _, b := range list {
		if err := tx.Emit(typ, bookingEvent(park, tree, b)); err != nil {
			return err
		}
	}
	return nil
}
