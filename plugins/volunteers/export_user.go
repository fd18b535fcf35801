package volunteers

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

var _ sdk.Exporter = (*Plugin)(nil)

// ExportUser is the person's part of their export: their volunteer profile (birth
// date included, which organisers never see) and their applications and shifts.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	parts := []struct {
		key, query string
		times      []string
	}{
		{"profile", `SELECT skills, tags, languages, availability, unavailable, neighbourhoods, max_weekly_minutes,
			birth_date, check_status, check_expires, created_at, updated_at FROM profiles WHERE user_id = ?`,
			[]string{"created_at", "updated_at"}},
		{"applications", `SELECT a.id, a.opportunity_id, o.title AS opportunity, a.shift_id, s.starts_at, s.ends_at,
			a.status, a.origin, a.minutes, a.created_at
			FROM applications a JOIN shifts s ON s.id = a.shift_id JOIN opportunities o ON o.id = a.opportunity_id
			WHERE a.volunteer_id = ? ORDER BY s.starts_at`, []string{"starts_at", "ends_at", "created_at"}},
		{"opportunities_created", `SELECT id, title, state, created_at FROM opportunities WHERE created_by = ? ORDER BY created_at`,
			[]string{"created_at"}},
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
	"profile":                    "Your volunteer profile, if you made one: skills, languages, weekly availability, dates away (unavailable), neighbourhoods and the most minutes a week you offer.",
	"profile.birth_date":         "Your birth date, used only to check an opportunity's minimum age; organisers see only whether you meet it.",
	"profile.check_status":       "The state of your background check (none, pending, cleared or rejected) and when it expires (check_expires).",
	"applications":               "Shifts you applied to, were invited to or signed up for.",
	"applications.status":        "applied, invited, accepted, confirmed, waitlisted, declined, withdrawn, attended or no_show.",
	"applications.minutes":       "Minutes you were recorded as volunteering on the shift.",
	"opportunities_created":      "Volunteer opportunities you posted for an organisation.",
	"applications.origin":        "How the application began: you applied, or an organiser invited you.",
	"applications.starts_at":     "Start and end of the shift (ends_at), in UTC.",
	"profile.max_weekly_minutes": "The most minutes a week you offer; 0 means no limit.",
}
