package parks

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

var _ sdk.Exporter = (*Plugin)(nil)

// ExportUser is the person's part of their export: the bookings they requested, with
// the contact details they gave, and those they decided as a park manager.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	parts := []struct {
		key, query string
		times      []string
	}{
		{"bookings_requested", `SELECT b.id, b.park_id, pk.name AS park, b.organisation_name, b.title, b.description, b.status,
			b.public, b.expected_attendance, b.accessibility_notes, b.contact_name, b.contact_email, b.contact_phone,
			b.start_us, b.end_us, b.reason, b.created_at
			FROM bookings b JOIN parks pk ON pk.id = b.park_id WHERE b.requester_id = ? ORDER BY b.start_us`,
			[]string{"start_us", "end_us", "created_at"}},
		{"bookings_decided", `SELECT id, park_id, title, status, reason, updated_at FROM bookings WHERE decided_by = ? ORDER BY start_us`,
			[]string{"updated_at"}},
	}
	out := sdk.PersonalData{Data: map[string]any{}, Fields: exportFields}
	for _, part := range parts {
		recs, err := store.Records(ctx, p.db, part.times, p.db.Rebind(part.query), userID)
		if err != nil {
			return sdk.PersonalData{}, err
		}
		out.Data[part.key] = recs
	}
	return out, nil
}

// exportFields describes the export's records, as its README.
var exportFields = map[string]string{
	"bookings_requested":               "Park bookings and event requests you made, for yourself or an organisation.",
	"bookings_requested.contact_phone": "The contact details you gave with the request (contact_name, contact_email, contact_phone); only park managers see them.",
	"bookings_requested.start_us":      "Start and end of the booking (end_us), in UTC.",
	"bookings_requested.status":        "requested, approved, rejected or cancelled; reason says why it was rejected or cancelled.",
	"bookings_decided":                 "Requests you approved, rejected or cancelled as a park manager.",
}
