package consultations

import (
	"context"
	"fmt"
	"maps"

	"github.com/google/uuid"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// The idea board's part of a person's export (ExportUser) and of their erasure
// (EraseUser).

// ideaRecordSets are what the idea board keeps about a person.
var ideaRecordSets = []store.RecordSet{
	{Key: "ideas", Query: `SELECT id, consultation_id, title, body, neighbourhood_id, author_name AS name_shown, status, status_reason,
		supports, hidden_category, created_at FROM ideas WHERE author_id = ? ORDER BY created_at`, Micros: []string{"created_at"}},
	{Key: "idea_comments", Query: `SELECT id, idea_id, body, author_name AS name_shown, hidden_category, created_at
		FROM idea_comments WHERE author_id = ? ORDER BY created_at`, Micros: []string{"created_at"}},
	{Key: "idea_supports", Query: `SELECT s.idea_id, i.title, s.created_at FROM idea_supports s JOIN ideas i ON i.id = s.idea_id
		WHERE s.user_id = ? ORDER BY s.created_at`, Micros: []string{"created_at"}},
	{Key: "reports", Query: `SELECT id, target_kind, target_id, category, body, state, created_at FROM moderation_reports
		WHERE reporter_id = ? ORDER BY created_at`, Micros: []string{"created_at"}},
	{Key: "moderation", Query: `SELECT id, target_kind, target_id, category, note, hidden_at, appeal, appealed_at, decision,
		decision_note, decided_at FROM moderation_cases WHERE author_id = ? ORDER BY hidden_at`,
		Micros: []string{"hidden_at", "appealed_at", "decided_at"}},
}

// ideaExportFields describe ideaRecordSets, as the export's README.
var ideaExportFields = map[string]string{
	"ideas":                    "Ideas you posted on idea boards.",
	"ideas.name_shown":         "The name shown with the idea; empty when you chose not to show it (\"a resident\").",
	"ideas.status":             "What became of the idea: open, under_review, taken_forward or not_taken_forward, with the city's reason (status_reason).",
	"ideas.hidden_category":    "Set when a moderator hid the idea: why.",
	"idea_comments":            "Comments you wrote on ideas.",
	"idea_supports":            "Ideas you support.",
	"reports":                  "Ideas and comments you reported to the moderators; the authors never see who reported them.",
	"moderation":               "Your ideas and comments a moderator hid, the note to you, your appeal and its decision.",
	"moderation.decision":      "upheld (it stays hidden) or restored.",
	"reports.state":            "open, hidden (a moderator hid it) or kept.",
	"idea_comments.name_shown": "The name shown with the comment; empty when you chose not to show it.",
}

// withIdeaFields is fields with ideaExportFields added.
func withIdeaFields(fields map[string]string) map[string]string {
	out := maps.Clone(fields)
	maps.Copy(out, ideaExportFields)
	return out
}

// eraseIdeas forgets a deleted person on the idea boards, in the erasure's transaction:
// their ideas and comments stay, by "a former member"; their supports go and stop
// counting; their reports stay for the moderation's record under a pseudonym nobody can
// trace back; the cases about their words forget them; their rate windows go.
func eraseIdeas(ctx context.Context, tx *store.Tx, userID string) error {
	pseudonym := "erased:" + uuid.NewString()
	steps := []struct {
		query string
		args  []any
	}{
		{`UPDATE ideas SET author_id = '', author_name = '' WHERE author_id = ?`, []any{userID}},
		{`UPDATE ideas SET status_by = '' WHERE status_by = ?`, []any{userID}},
		{`UPDATE idea_comments SET author_id = '', author_name = '' WHERE author_id = ?`, []any{userID}},
		{`UPDATE ideas SET supports = supports - 1 WHERE id IN (SELECT idea_id FROM idea_supports WHERE user_id = ?)`, []any{userID}},
		{`DELETE FROM idea_supports WHERE user_id = ?`, []any{userID}},
		{`UPDATE moderation_reports SET reporter_id = ? WHERE reporter_id = ?`, []any{pseudonym, userID}},
		{`UPDATE moderation_reports SET handled_by = '' WHERE handled_by = ?`, []any{userID}},
		{`UPDATE moderation_cases SET author_id = '' WHERE author_id = ?`, []any{userID}},
		{`UPDATE moderation_cases SET hidden_by = '' WHERE hidden_by = ?`, []any{userID}},
		{`UPDATE moderation_cases SET decided_by = '' WHERE decided_by = ?`, []any{userID}},
		{`DELETE FROM idea_rate_windows WHERE user_id = ?`, []any{userID}},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, tx.Rebind(s.query), s.args...); err != nil {
			return fmt.Errorf("erase from idea boards: %w", err)
		}
	}
	return nil
}

// ideaDataUse is what the idea board keeps about people, for the privacy page.
func ideaDataUse() sdk.DataUse {
	return sdk.DataUse{ID: "ideas",
		What: catalog().Texts("consultations.ideas.data.what"),
		Why:  catalog().Texts("consultations.ideas.data.why"),
		Kept: catalog().Texts("consultations.ideas.data.kept"),
	}
}
