package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Statements keeps prepared statements for a pool, one per query text, for the few
// queries on a hot path. On PostgreSQL a prepared statement skips parsing and, after
// a few runs, planning: on a two-core machine that is about a third of the server's
// time for a short insert or lookup. database/sql prepares each statement once on
// every pooled connection that runs it and again after a reconnect.
//
// A pooler in front of PostgreSQL must support prepared statements (PgBouncer 1.21 or
// later with max_prepared_statements set, or session pooling).
type Statements struct {
	db *sqlx.DB
	m  sync.Map // query text -> *sqlx.Stmt
}

// NewStatements prepares statements on db as they are first asked for.
func NewStatements(db *sqlx.DB) *Statements { return &Statements{db: db} }

// Prepared returns the statement for query, written with "?" placeholders (it is
// rebound for the dialect), preparing it on first use. Use it outside transactions; in
// one, pass it through tx.StmtxContext.
func (s *Statements) Prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := s.m.Load(query); ok {
		return st.(*sqlx.Stmt), nil
	}
	st, err := s.db.PreparexContext(ctx, s.db.Rebind(query))
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := s.m.LoadOrStore(query, st); loaded {
		_ = st.Close() // another caller prepared it meanwhile
		return prev.(*sqlx.Stmt), nil
	}
	return st, nil
}

// Close closes every statement prepared so far.
func (s *Statements) Close() error {
	s.m.Range(func(k, v any) bool {
		_ = v.(*sqlx.Stmt).Close()
		s.m.Delete(k)
		return true
	})
	return nil
}
