package consultations

import (
	"context"
	"slices"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// The plugin keeps personal data, so it exports and erases it (GDPR, DESIGN.md §12).
var (
	_ sdk.Exporter = (*Plugin)(nil)
	_ sdk.Eraser   = (*Plugin)(nil)
)

// ExportUser is the person's part of their export: the consultations they took part
// in and their named answers. Of an anonymous answer only that they took part is
// exported: nothing in the store links them to it.
func (p *Plugin) ExportUser(ctx context.Context, userID string) (sdk.PersonalData, error) {
	return store.Export(ctx, p.DB, userID, slices.Concat(exportSets, ideaRecordSets), withIdeaFields(exportFields))
}

// exportSets are the export's queries, one per kind of record.
var exportSets = []store.RecordSet{
	{Key: "participation", Query: `SELECT p.consultation_id, c.title, p.anonymous FROM participants p
		JOIN consultations c ON c.id = p.consultation_id WHERE p.user_id = ? ORDER BY c.closes_at`},
	{Key: "answers", Query: `SELECT a.consultation_id, a.content FROM answers a
		JOIN consultations c ON c.id = a.consultation_id WHERE a.user_id = ? ORDER BY c.closes_at`},
	{Key: "consultations_prepared", Query: `SELECT id, title, created_at FROM consultations WHERE created_by = ? ORDER BY created_at`,
		Micros: []string{"created_at"}},
	{Key: "responses_written", Query: `SELECT id, title, responded_at FROM consultations WHERE responded_by = ? ORDER BY responded_at`,
		Micros: []string{"responded_at"}},
}

// exportFields describes the export's records, as its README.
var exportFields = map[string]string{
	"participation":           "Consultations you took part in.",
	"participation.anonymous": "Whether you answered anonymously: an anonymous answer is sealed and cannot be linked to you, so it is not in this export.",
	"answers":                 "Your answers given in your own name.",
	"answers.content":         "Your answer to each question, by question ID: the options chosen (in order for a ranking), the point of a scale, or your text.",
	"consultations_prepared":  "Consultations you prepared as staff.",
	"responses_written":       "Consultations whose response, on behalf of the city, you published as staff.",
}

// dataUses are what the plugin keeps about people, as the city's privacy page says it.
func dataUses() []sdk.DataUse {
	return []sdk.DataUse{{ID: "answers",
		What: catalog().Texts("consultations.data.answers.what"),
		Why:  catalog().Texts("consultations.data.answers.why"),
		Kept: catalog().Texts("consultations.data.answers.kept"),
	}, ideaDataUse()}
}
