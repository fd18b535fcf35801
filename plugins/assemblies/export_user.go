package assemblies

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

var _ sdk.Exporter = (*Plugin)(nil)

// ExportUser is the person's part of their export: memberships, meetings attended,
// motions written, sponsored and answered, votes cast — with the choice of a named
// vote, and of a secret vote only that they voted, which is all the store can tell.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	parts := []struct {
		key, query string
		times      []string
	}{
		{"memberships", `SELECT m.assembly_id, a.name AS assembly, m.kind, m.organisation_id, m.status, m.position,
			m.term_start, m.term_end, m.applied_at, m.joined_at, m.ended_at, m.end_reason
			FROM members m JOIN assemblies a ON a.id = m.assembly_id WHERE m.user_id = ? ORDER BY m.applied_at`,
			[]string{"term_start", "term_end", "applied_at", "joined_at", "ended_at"}},
		{"attendance", `SELECT a.meeting_id, me.title AS meeting, me.starts_at FROM attendance a
			JOIN meetings me ON me.id = a.meeting_id WHERE a.user_id = ? ORDER BY me.starts_at`, []string{"starts_at"}},
		{"motions_written", `SELECT id, assembly_id, title, text, state, created_at FROM motions WHERE author_id = ? ORDER BY created_at`,
			[]string{"created_at"}},
		{"motions_sponsored", `SELECT s.motion_id, mo.title FROM sponsors s JOIN motions mo ON mo.id = s.motion_id
			WHERE s.user_id = ? ORDER BY mo.created_at`, nil},
		{"votes", `SELECT v.motion_id, mo.title, mo.secrecy, COALESCE(nb.choice, '') AS choice FROM voters v
			JOIN motions mo ON mo.id = v.motion_id
			LEFT JOIN named_ballots nb ON nb.motion_id = v.motion_id AND nb.user_id = v.user_id
			WHERE v.user_id = ? ORDER BY mo.vote_opened_at`, nil},
		{"answers_given", `SELECT id AS motion_id, title, answer_decision, answer_reasoning, answered_at FROM motions
			WHERE answered_by = ? ORDER BY answered_at`, []string{"answered_at"}},
		{"actions", `SELECT motion_id, kind, at FROM timeline WHERE actor_id = ? ORDER BY id`, []string{"at"}},
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
	"memberships":                   "The assemblies you belong to, applied to or left.",
	"memberships.kind":              "resident, or organisation when you sit for an organisation (organisation_id).",
	"memberships.status":            "pending (applied), active, rejected, left or removed.",
	"memberships.position":          "Your position: member, chair, vice_chair or secretary.",
	"memberships.term_start":        "Start and end of your term, when the assembly has terms (term_end).",
	"memberships.applied_at":        "When you applied; joined_at when you were accepted, ended_at and end_reason when your membership ended.",
	"attendance":                    "Meetings recorded as attended by you, with the meeting's title and start.",
	"motions_written":               "Motions you wrote, with their text and state. If you delete your account their text stays, without your name.",
	"motions_sponsored":             "Motions you co-sponsored.",
	"votes":                         "Votes you took part in.",
	"votes.secrecy":                 "named (everyone may see each member's choice) or secret.",
	"votes.choice":                  "Your choice in a named vote. Empty for a secret vote: your choice was sealed and counted apart from your name, so nobody, Kvarter included, can tell how you voted.",
	"answers_given":                 "The city's answers to adopted motions that you gave as a city responder.",
	"actions":                       "Steps on motions' public timelines that you took (tabled, opened a vote, answered...), with when.",
	"answers_given.answer_decision": "accepted, partly_accepted or declined.",
}
