package volunteers

import (
	"encoding/json"
	"time"
)

// parkBooking is the part of a parks.booking.approved payload the plugin reads. The
// parks plugin owns the format; fields are read leniently (booking_id or id,
// volunteers_needed as a flag or a number) so a harmless change there does not stop
// drafts here.
type parkBooking struct {
	ID               string          `json:"id"`
	BookingID        string          `json:"booking_id"`
	OrganisationID   string          `json:"organisation_id"`
	NeighbourhoodID  string          `json:"neighbourhood_id"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	ParkName         string          `json:"park_name"`
	AreaName         string          `json:"area_name"`
	Start            time.Time       `json:"start"`
	End              time.Time       `json:"end"`
	Public           *bool           `json:"public"`
	VolunteersNeeded json.RawMessage `json:"volunteers_needed"`
	NeedsVolunteers  json.RawMessage `json:"needs_volunteers"`
}
