package consultations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// sealedAnswers reads the sealed anonymous answers of consultation id.
func (s *Storage) sealedAnswers(ctx context.Context, tx *store.Tx, id string) ([][]byte, error) {
	var sealed [][]byte
	if err := tx.SelectContext(ctx, &sealed, tx.Rebind(`SELECT sealed FROM sealed_answers WHERE consultation_id = ?`), id); err != nil {
		return nil, fmt.Errorf("read sealed answers of %s: %w", id, err)
	}
	return sealed, nil
}

// insertOpened writes opened anonymous answers, in the (shuffled) order given, with
// random IDs and no one's ID, and deletes the sealed rows: from then on every anonymous
// answer of the consultation carries this one transaction.
func (s *Storage) insertOpened(ctx context.Context, tx *store.Tx, id string, opened [][]byte) error {
	if len(opened) > 0 {
		err := store.InsertRows(ctx, tx.Tx, "answers", []string{"id", "consultation_id", "user_id", "content"}, len(opened),
			func(i int, v []any) { v[0], v[1], v[2], v[3] = randomID(), id, nil, string(opened[i]) })
		if err != nil {
			return fmt.Errorf("insert opened answers of %s: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM sealed_answers WHERE consultation_id = ?`), id); err != nil {
		return fmt.Errorf("delete sealed answers of %s: %w", id, err)
	}
	return nil
}

// eachAnswer decodes every answer of consultation id in turn.
func (s *Storage) eachAnswer(ctx context.Context, q queryer, id string, fn func(Answers)) error {
	return s.eachContent(ctx, q, id, func(content []byte) error {
		var a Answers
		if err := json.Unmarshal(content, &a); err != nil {
			return fmt.Errorf("decode answer of %s: %w", id, err)
		}
		fn(a)
		return nil
	})
}

// eachContent hands every stored answer of consultation id to fn, as stored; the
// bytes are fn's only until it returns.
func (s *Storage) eachContent(ctx context.Context, q queryer, id string, fn func([]byte) error) error {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT content FROM answers WHERE consultation_id = ?`), id)
	if err != nil {
		return fmt.Errorf("read answers of %s: %w", id, err)
	}
	defer rows.Close()
	var content sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&content); err != nil {
			return fmt.Errorf("read answer of %s: %w", id, err)
		}
		if err := fn(content); err != nil {
			return fmt.Errorf("count answer of %s: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read answers of %s: %w", id, err)
	}
	return nil
}

// copyTexts copies the free-text answers of c, shuffled, into texts with random IDs.
func (s *Storage) copyTexts(ctx context.Context, tx *store.Tx, c *Consultation) error {
	type text struct{ question, text string }
	var texts []text
	err := s.eachAnswer(ctx, tx, c.ID, func(a Answers) {
		for _, q := range c.Questions {
			if v, ok := a[q.ID]; ok && q.Kind == QuestionText && v.Text != "" {
				texts = append(texts, text{q.ID, v.Text})
			}
		}
	})
	if err != nil || len(texts) == 0 {
		return err
	}
	if err := sdk.Shuffle(len(texts), func(i, j int) { texts[i], texts[j] = texts[j], texts[i] }); err != nil {
		return err
	}
	err = store.InsertRows(ctx, tx.Tx, "texts", []string{"id", "consultation_id", "question_id", "original"}, len(texts),
		func(i int, v []any) { v[0], v[1], v[2], v[3] = randomID(), c.ID, texts[i].question, texts[i].text })
	if err != nil {
		return fmt.Errorf("copy texts of %s: %w", c.ID, err)
	}
	return nil
}

// texts reads a page of the free-text answers of consultation id by ID.
func (s *Storage) texts(ctx context.Context, id string, q sdk.ListQuery) ([]Text, error) {
	after, args, err := q.After("id")
	if err != nil {
		return nil, err
	}
	var rows []Text
	query := s.db.Rebind(`SELECT id, question_id, original, redacted, state FROM texts WHERE consultation_id = ? AND ` + after + ` ORDER BY id LIMIT ?`)
	if err := s.db.SelectContext(ctx, &rows, query, append(append([]any{id}, args...), q.Fetch())...); err != nil {
		return nil, fmt.Errorf("list texts of %s: %w", id, err)
	}
	return rows, nil
}

// decideText records a decision on one text and fills in the rest of t.
func (s *Storage) decideText(ctx context.Context, tx *store.Tx, id string, t *Text, by string) error {
	if !validID(t.ID) {
		return sdk.Errorf(sdk.CodeNotFound, "No such free-text answer.")
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE texts SET state = ?, redacted = ?, decided_by = ? WHERE consultation_id = ? AND id = ?`),
		t.State, t.Redacted, by, id, t.ID)
	if err != nil {
		return fmt.Errorf("decide text of %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sdk.Errorf(sdk.CodeNotFound, "No such free-text answer.")
	}
	if err := tx.GetContext(ctx, t, tx.Rebind(`SELECT id, question_id, original, redacted, state FROM texts WHERE id = ?`), t.ID); err != nil {
		return fmt.Errorf("read text of %s: %w", id, err)
	}
	return nil
}

// pendingTexts counts the texts of consultation id nobody decided on yet.
func (s *Storage) pendingTexts(ctx context.Context, tx *store.Tx, id string) (int, error) {
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM texts WHERE consultation_id = ? AND state = 'pending'`), id); err != nil {
		return 0, fmt.Errorf("count pending texts of %s: %w", id, err)
	}
	return n, nil
}

// publishedTexts are the redacted published texts of consultation id by question.
func (s *Storage) publishedTexts(ctx context.Context, q queryer, id string) (map[string][]string, error) {
	var rows []struct {
		QuestionID string `db:"question_id"`
		Redacted   string `db:"redacted"`
	}
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT question_id, redacted FROM texts WHERE consultation_id = ? AND state = 'published' ORDER BY id`), id); err != nil {
		return nil, fmt.Errorf("read published texts of %s: %w", id, err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.QuestionID] = append(out[r.QuestionID], r.Redacted)
	}
	return out, nil
}

// storeResults keeps the published results.
func (s *Storage) storeResults(ctx context.Context, tx *store.Tx, id string, r *Results) error {
	content, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode results of %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO published_results (consultation_id, content) VALUES (?, ?)`), id, string(content)); err != nil {
		return fmt.Errorf("store results of %s: %w", id, err)
	}
	return nil
}

// results reads the published results of consultation id.
func (s *Storage) results(ctx context.Context, id string) (*Results, error) {
	var content string
	err := s.db.GetContext(ctx, &content, s.db.Rebind(`SELECT content FROM published_results WHERE consultation_id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotPublished
	}
	if err != nil {
		return nil, fmt.Errorf("read results of %s: %w", id, err)
	}
	var r Results
	if err := json.Unmarshal([]byte(content), &r); err != nil {
		return nil, fmt.Errorf("decode results of %s: %w", id, err)
	}
	return &r, nil
}

// participants are the IDs of everyone who took part in consultation id.
func (s *Storage) participants(ctx context.Context, tx *store.Tx, id string) ([]string, error) {
	var ids []string
	if err := tx.SelectContext(ctx, &ids, tx.Rebind(`SELECT user_id FROM participants WHERE consultation_id = ? ORDER BY user_id`), id); err != nil {
		return nil, fmt.Errorf("read participants of %s: %w", id, err)
	}
	return ids, nil
}

// setRespondedBy records who wrote the response.
func (s *Storage) setRespondedBy(ctx context.Context, tx *store.Tx, id, by string) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE consultations SET responded_by = ? WHERE id = ?`), by, id); err != nil {
		return fmt.Errorf("record responder of %s: %w", id, err)
	}
	return nil
}

// toFinalise are the IDs of up to n published consultations closed at now and not
// finalised.
func (s *Storage) toFinalise(ctx context.Context, now time.Time, n int) ([]string, error) {
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, s.db.Rebind(`SELECT id FROM consultations
		WHERE published_at IS NOT NULL AND finalised_at IS NULL AND (closed_at IS NOT NULL OR closes_at <= ?)
		ORDER BY closes_at, id LIMIT ?`), store.Micros(now), n); err != nil {
		return nil, fmt.Errorf("consultations to finalise: %w", err)
	}
	return ids, nil
}
