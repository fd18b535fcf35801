package hello

import (
	"context"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Storage is hello's SQL: one query for both databases, ? placeholders through Rebind.
type Storage struct {
	db *store.DB
}

// AddPing records a ping.
func (s *Storage) AddPing(ctx context.Context, userID string, at time.Time) error {
	q := s.db.Rebind(`INSERT INTO pings (user_id, at) VALUES (?, ?)`)
	if _, err := s.db.ExecContext(ctx, q, userID, at.UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("add ping: %w", err)
	}
	return nil
}

// Pings returns a page of userID's pings by id: q.Fetch() rows after the cursor.
func (s *Storage) Pings(ctx context.Context, userID string, q sdk.ListQuery) ([]Ping, error) {
	after, args, err := q.After("id")
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID int64  `db:"id"`
		At string `db:"at"`
	}
	query := s.db.Rebind(`SELECT id, at FROM pings WHERE user_id = ? AND ` + after + ` ORDER BY id LIMIT ?`)
	if err := s.db.SelectContext(ctx, &rows, query, append(append([]any{userID}, args...), q.Fetch())...); err != nil {
		return nil, fmt.Errorf("list pings: %w", err)
	}
	out := make([]Ping, len(rows))
	for i, r := range rows {
		at, err := time.Parse(time.RFC3339Nano, r.At)
		if err != nil {
			return nil, fmt.Errorf("ping %d: time %q: %w", r.ID, r.At, err)
		}
		out[i] = Ping{ID: r.ID, At: at}
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
