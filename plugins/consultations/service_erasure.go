package consultations

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kvarter/kvarter/sdk/store"
)

// EraseUser erases a deleted person: their participation marks go, their named answers
// stay in the results without them (user_id NULL, as an anonymous answer after the
// close) and without their free text, which may say who wrote it (a name, a phone
// number), and consultations they prepared forget them. Erasing twice changes nothing.
func (s *Service) EraseUser(ctx context.Context, userID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := forgetAnswerTexts(ctx, tx, userID); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM participants WHERE user_id = ?`,
			`UPDATE answers SET user_id = NULL WHERE user_id = ?`,
			`UPDATE consultations SET created_by = '' WHERE created_by = ?`,
			`UPDATE consultations SET responded_by = '' WHERE responded_by = ?`,
			`UPDATE texts SET decided_by = '' WHERE decided_by = ?`,
		} {
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), userID); err != nil {
				return fmt.Errorf("erase user: %w", err)
			}
		}
		return eraseIdeas(ctx, tx, userID)
	})
}

// forgetAnswerTexts empties the free-text answers of userID's named answers, keeping
// their choices, which count in the results and say nothing of who chose them.
func forgetAnswerTexts(ctx context.Context, tx *store.Tx, userID string) error {
	var rows []struct {
		ConsultationID string `db:"consultation_id"`
		ID             string `db:"id"`
		Content        string `db:"content"`
	}
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(`SELECT consultation_id, id, content FROM answers WHERE user_id = ?`), userID); err != nil {
		return fmt.Errorf("erase user: read answers: %w", err)
	}
	for _, r := range rows {
		var a Answers
		if err := json.Unmarshal([]byte(r.Content), &a); err != nil {
			return fmt.Errorf("erase user: answer %s: %w", r.ID, err)
		}
		for q, v := range a {
			if v.Text != "" {
				v.Text = ""
				a[q] = v
			}
		}
		content, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE answers SET content = ? WHERE consultation_id = ? AND id = ?`),
			string(content), r.ConsultationID, r.ID); err != nil {
			return fmt.Errorf("erase user: answer %s: %w", r.ID, err)
		}
	}
	return nil
}
