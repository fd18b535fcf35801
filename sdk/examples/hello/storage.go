package hello

import (
	"context"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Storage is hello's SQL: one query for both databases, ? placeholders through Rebind,
// times as Unix microseconds (store.Micros, store.Time). Writes take the transaction
// the service opened, so a change and its event commit together.
type Storage struct {
	db *store.DB
}

// InTx runs fn in one transaction; see store.DB.InTx.
func (s *Storage) InTx(ctx context.Context, fn func(tx *store.Tx) error) error {
	return s.db.InTx(ctx, fn)
}

// AddPing records a ping, with its message ("" for none), in tx.
func (s *Storage) AddPing(ctx context.Context, tx *store.Tx, userID, message string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO pings (user_id, message, at) VALUES (?, ?, ?)`), userID, message, store.Micros(at)); err != nil {
		return fmt.Errorf("add ping: %w", err)
	}
	return nil
}

// CountPings counts userID's pings.
func (s *Storage) CountPings(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT COUNT(*) FROM pings WHERE user_id = ?`), userID); err != nil {
		return 0, fmt.Errorf("count pings: %w", err)
	}
	return n, nil
}

// Pings returns a page of userID's pings by id: q.Fetch() rows after the cursor.
func (s *Storage) Pings(ctx context.Context, userID string, q sdk.ListQuery) ([]Ping, error) {
	after, args, err := q.After("id")
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID      int64      `db:"id"`
		Message string     `db:"message"`
		At      store.Time `db:"at"`
	}
	query := s.db.Rebind(`SELECT id, message, at FROM pings WHERE user_id = ? AND ` + after + ` ORDER BY id LIMIT ?`)
	if err := s.db.SelectContext(ctx, &rows, query, append(append([]any{userID}, args...), q.Fetch())...); err != nil {
		return nil, fmt.Errorf("list pings: %w", err)
	}
	out := make([]Ping, len(rows))
	for i, r := range rows {
		out[i] = Ping{ID: r.ID, Message: r.Message, At: r.At.Time}
	}
	return out, nil
}

// ForgetUser deletes what hello kept about a person.
func (s *Storage) ForgetUser(ctx context.Context, userID string) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM pings WHERE user_id = ?`), userID); err != nil {
		return fmt.Errorf("forget user %s: %w", userID, err)
	}
	return nil
}
