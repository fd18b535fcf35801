package budgeting

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

var _ sdk.Exporter = (*Plugin)(nil)

// ExportUser is the person's part of their export: proposals written, proposals
// supported, and the cycles they voted in. Ballots name nobody (they are kept under a
// receipt token's hash), so the export says that the person voted, never how.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	parts := []struct {
		key, query string
		times      []string
	}{
		{"proposals", `SELECT id, cycle_id, title, description, category, location, cost, status, reason, created_at
			FROM proposals WHERE author_id = ? ORDER BY created_at`, []string{"created_at"}},
		{"supports", `SELECT s.proposal_id, pr.title FROM supports s JOIN proposals pr ON pr.id = s.proposal_id
			WHERE s.user_id = ? ORDER BY pr.created_at`, nil},
		{"voted_in", `SELECT v.cycle_id, c.name AS cycle FROM voters v JOIN cycles c ON c.id = v.cycle_id
			WHERE v.user_id = ? ORDER BY c.created_at`, nil},
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
	"proposals":        "Projects you proposed for a participatory budget, with their text, cost (in the currency's smallest unit) and review status.",
	"proposals.reason": "Why the proposal was rejected or changed in review, if it was.",
	"supports":         "Proposals you supported during a support phase.",
	"voted_in":         "Budgeting cycles in which you cast a ballot. Which projects you chose is not here: ballots are stored without your name, so nobody, Kvarter included, can link them to you.",
}
