package volunteers

import "time"

// Events the plugin publishes. Every payload is one of the structs below; README.md
// documents each field. Fields are only ever added.
const (
	EventOpportunityDrafted   = "volunteers.opportunity.drafted"
	EventOpportunityPublished = "volunteers.opportunity.published"
	EventOpportunityClosed    = "volunteers.opportunity.closed"
	EventOpportunityCancelled = "volunteers.opportunity.cancelled"

	EventApplicationInvited   = "volunteers.application.invited"
	EventApplicationAccepted  = "volunteers.application.accepted"
	EventApplicationDeclined  = "volunteers.application.declined"
	EventApplicationWithdrawn = "volunteers.application.withdrawn"

	EventAssignmentConfirmed  = "volunteers.assignment.confirmed"
	EventAssignmentWaitlisted = "volunteers.assignment.waitlisted"
	EventAssignmentPromoted   = "volunteers.assignment.promoted"

	EventShiftFilled        = "volunteers.shift.filled"
	EventAttendanceRecorded = "volunteers.attendance.recorded"
)

// Events the plugin consumes.
const (
	EventParksBookingApproved  = "parks.booking.approved"
	EventParksBookingCancelled = "parks.booking.cancelled"
	EventParksBookingRejected  = "parks.booking.rejected"
)

// Payloads maps every event type the plugin publishes to its payload type; the
// manifest's Publishes list is its keys.
var Payloads = map[string]any{
	EventOpportunityDrafted:   OpportunityDrafted{},
	EventOpportunityPublished: OpportunityChanged{},
	EventOpportunityClosed:    OpportunityChanged{},
	EventOpportunityCancelled: OpportunityChanged{},
	EventApplicationInvited:   ApplicationChanged{},
	EventApplicationAccepted:  ApplicationChanged{},
	EventApplicationDeclined:  ApplicationChanged{},
	EventApplicationWithdrawn: ApplicationChanged{},
	EventAssignmentConfirmed:  ApplicationChanged{},
	EventAssignmentWaitlisted: ApplicationChanged{},
	EventAssignmentPromoted:   ApplicationChanged{},
	EventShiftFilled:          ShiftFilled{},
	EventAttendanceRecorded:   AttendanceRecorded{},
}

// OpportunityDrafted is the payload of volunteers.opportunity.drafted: a draft
// opportunity was created for an approved park event that asks for volunteers.
type OpportunityDrafted struct {
	// OpportunityID is the new draft.
	OpportunityID string `json:"opportunity_id"`
	// OrganisationID is the organisation that booked the park and now organises the draft.
	OrganisationID string `json:"organisation_id"`
	// ParkBookingID is the parks booking the draft was created from.
	ParkBookingID string `json:"park_booking_id"`
}

// OpportunityChanged is the payload of volunteers.opportunity.published, .closed and
// .cancelled: an organiser moved the opportunity to that state.
type OpportunityChanged struct {
	// OpportunityID is the opportunity.
	OpportunityID string `json:"opportunity_id"`
	// OrganisationID is its organisation; empty when the city itself posted it.
	OrganisationID string `json:"organisation_id"`
}

// ApplicationChanged is the payload of the volunteers.application.* events (invited,
// accepted, declined, withdrawn) and the volunteers.assignment.* events (confirmed:
// the volunteer holds a place; waitlisted: the shift was full; promoted: a wait-listed
// volunteer moved up, always followed by confirmed).
type ApplicationChanged struct {
	// ApplicationID is the application.
	ApplicationID string `json:"application_id"`
	// OpportunityID is its opportunity.
	OpportunityID string `json:"opportunity_id"`
	// ShiftID is its shift.
	ShiftID string `json:"shift_id"`
	// VolunteerID is the user who applied or was invited.
	VolunteerID string `json:"volunteer_id"`
}

// ShiftFilled is the payload of volunteers.shift.filled: the last place of a shift was
// taken.
type ShiftFilled struct {
	// OpportunityID is the shift's opportunity.
	OpportunityID string `json:"opportunity_id"`
	// ShiftID is the shift.
	ShiftID string `json:"shift_id"`
	// Capacity is the shift's number of places, all now held.
	Capacity int `json:"capacity"`
}

// AttendanceRecorded is the payload of volunteers.attendance.recorded: an organiser
// recorded whether a confirmed volunteer came.
type AttendanceRecorded struct {
	// ApplicationID is the volunteer's application.
	ApplicationID string `json:"application_id"`
	// OpportunityID is its opportunity.
	OpportunityID string `json:"opportunity_id"`
	// ShiftID is its shift.
	ShiftID string `json:"shift_id"`
	// VolunteerID is the volunteer.
	VolunteerID string `json:"volunteer_id"`
	// Attended is true when the volunteer came, false for a no-show.
	Attended bool `json:"attended"`
	// Minutes are the minutes worked: 0 for a no-show.
	Minutes int `json:"minutes"`
}

// ParkBookingApproved is the part of the payload of parks.booking.approved the plugin
// reads, spelled exactly as the parks plugin sends it (its BookingEvent, documented in
// plugins/parks/README.md); the fields not listed are ignored.
type ParkBookingApproved struct {
	// BookingID is the approved booking.
	BookingID string `json:"booking_id"`
	// NeighbourhoodID is the park's neighbourhood.
	NeighbourhoodID string `json:"neighbourhood_id"`
	// ParkName and AreaName say where the event is.
	ParkName string `json:"park_name"`
	AreaName string `json:"area_name"`
	// OrganisationID is the organisation that booked; the draft is theirs.
	OrganisationID string `json:"organisation_id"`
	// Title is the event's title.
	Title string `json:"title"`
	// Start and End are the booked time (RFC 3339).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Public is true for an event open to everyone; only those get a draft.
	Public bool `json:"public"`
	// VolunteersNeeded is true when the organiser asked for volunteers.
	VolunteersNeeded bool `json:"volunteers_needed"`
}

// ParkBookingEnded is what the plugin reads from parks.booking.cancelled and
// parks.booking.rejected: the booking whose event will not take place.
type ParkBookingEnded struct {
	// BookingID is the cancelled or rejected booking.
	BookingID string `json:"booking_id"`
	// Status is "cancelled" or "rejected".
	Status string `json:"status"`
}
