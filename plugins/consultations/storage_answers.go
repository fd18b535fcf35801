package consultations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/sdk/store"
)

// participation reports whether userID took part in consultation id, and anonymously.
func (s *Storage) participation(ctx context.Context, q queryer, id, userID string) (answered, anonymous bool, err error) {
	if !validID(userID) || !validID(id) {
		return false, false, nil
	}
	err = q.GetContext(ctx, &anonymous, q.Rebind(`SELECT anonymous FROM participants WHERE consultation_id = ? AND user_id = ?`), id, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("read participation in %s: %w", id, err)
	}
	return true, anonymous, nil
}

// addParticipant marks userID as having answered; false when they had already.
func (s *Storage) addParticipant(ctx context.Context, tx *store.Tx, id, userID string, anonymous bool) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO participants (consultation_id, user_id, anonymous) VALUES (?, ?, ?)
		ON CONFLICT (consultation_id, user_id) DO NOTHING`), id, userID, anonymous)
	if err != nil {
		return false, fmt.Errorf("mark participant of %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// insertAnswer stores an answer in the clear; userID nil for nobody's.
func (s *Storage) insertAnswer(ctx context.Context, tx *store.Tx, id string, userID *string, content []byte) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO answers (id, consultation_id, user_id, content) VALUES (?, ?, ?, ?)`),
		randomID(), id, userID, string(content)); err != nil {
		return fmt.Errorf("insert answer to %s: %w", id, err)
	}
	return nil
}

// updateAnswer replaces userID's named answer.
func (s *Storage) updateAnswer(ctx context.Context, tx *store.Tx, id, userID string, content []byte) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE answers SET content = ? WHERE consultation_id = ? AND user_id = ?`),
		string(content), id, userID); err != nil {
		return fmt.Errorf("update answer to %s: %w", id, err)
	}
	return nil
}

// insertSealed stores a sealed anonymous answer under a random ID.
func (s *Storage) insertSealed(ctx context.Context, tx *store.Tx, id string, sealed []byte) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO sealed_answers (id, consultation_id, sealed) VALUES (?, ?, ?)`),
		randomID(), id, sealed); err != nil {
		return fmt.Errorf("insert sealed answer to %s: %w", id, err)
	}
	return nil
}

// answerOf reads userID's named answer.
func (s *Storage) answerOf(ctx context.Context, id, userID string) (Answers, error) {
	var content string
	err := s.db.GetContext(ctx, &content, s.db.Rebind(`SELECT content FROM answers WHERE consultation_id = ? AND user_id = ?`), id, userID)
	if err != nil {
		return nil, fmt.Errorf("read answer to %s: %w", id, err)
	}
	var a Answers
	if err := json.Unmarshal([]byte(content), &a); err != nil {
		return nil, fmt.Errorf("decode answer to %s: %w", id, err)
	}
	return a, nil
}

// shareOpen reads when consultation id was closed early, under a shared lock that a
// close waits for (PostgreSQL; SQLite's single writer serialises anyway).
func (s *Storage) shareOpen(ctx context.Context, tx *store.Tx, id string) (*time.Time, error) {
	var closed store.NullTime
	if err := tx.GetContext(ctx, &closed, tx.Rebind(`SELECT closed_at FROM consultations WHERE id = ?`+shareRow(s.db)), id); err != nil {
		return nil, fmt.Errorf("share consultation %s: %w", id, err)
	}
	return closed.Ptr(), nil
}
