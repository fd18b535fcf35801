package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// Statements keeps prepared statements for a pool, one per query text, for the few
// queries on a hot path. On PostgreSQL a prepared statement skips parsing and, after
// a few runs, planning: on a two-core machine that is about a third of the server's
// time for a short insert or lookup. database/sql prepares each statement once on
// every pooled connection that runs it and again after a reconnect.
//
// Closing the pool closes them. A pooler in front of PostgreSQL must support prepared
// statements (PgBouncer 1.21 or later with max_prepared_statements set, or session
// pooling).
type Statements struct {
	db      *sqlx.DB
	m       sync.Map // rebound query text -> *sqlx.Stmt
	n       atomic.Int32
	warming sync.Map // rebound query text -> true while prepared in the background
}

// NewStatements prepares statements on db as they are first asked for.
func NewStatements(db *sqlx.DB) *Statements { return &Statements{db: db} }

// Prepared returns the statement for query, written with "?" placeholders (it is
// rebound for the dialect), preparing it on first use. Use it outside transactions; in
// one, pass it through tx.StmtxContext.
func (s *Statements) Prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	return s.prepared(ctx, s.db.Rebind(query), true)
}

// prepared returns the statement for an already rebound query. Past maxStatements it
// prepares one anyway when always is set, and otherwise returns nil.
func (s *Statements) prepared(ctx context.Context, query string, always bool) (*sqlx.Stmt, error) {
	if st, ok := s.m.Load(query); ok {
		return st.(*sqlx.Stmt), nil
	}
	if !always && s.n.Load() >= maxStatements {
		return nil, nil
	}
	st, err := s.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := s.m.LoadOrStore(query, st); loaded {
		_ = st.Close() // another caller prepared it meanwhile
		return prev.(*sqlx.Stmt), nil
	}
	s.n.Add(1)
	return st, nil
}

// warm prepares query on the pool in the background, for a caller that cannot wait
// for a pooled connection.
func (s *Statements) warm(query string) {
	if s.n.Load() >= maxStatements {
		return
	}
	if _, busy := s.warming.LoadOrStore(query, true); busy {
		return
	}
	go func() {
		defer s.warming.Delete(query)
		ctx, cancel := context.WithTimeout(context.Background(), warmTimeout)
		defer cancel()
		_, _ = s.prepared(ctx, query, false) // a failure shows when the query runs
	}()
}

// warmTimeout bounds a background prepare's wait for a pooled connection.
const warmTimeout = 30 * time.Second

// maxStatements bounds how many query texts a Statements keeps prepared; a query
// built with a varying number of placeholders past that runs unprepared.
const maxStatements = 256

// Preparer runs queries like a *sqlx.DB or *sqlx.Tx, preparing each query text once
// per pooled connection. Pass one to functions that take an sqlx.ExtContext (or
// sqlx's GetContext/SelectContext) to put a whole request path on prepared statements
// without rewriting it.
type Preparer struct {
	db *DB
	tx *sqlx.Tx // nil: the pool
}

// Preparer runs queries on the pool, or in tx when it is not nil.
func (db *DB) Preparer(tx *sqlx.Tx) *Preparer { return &Preparer{db: db, tx: tx} }

// stmt returns the prepared statement for query, bound to the transaction if any, or
// nil when the query should run unprepared this time.
func (p *Preparer) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	s := p.db.statements()
	if p.tx == nil {
		return s.prepared(ctx, query, false)
	}
	// Preparing on the pool needs a second connection while the transaction holds
	// one. If every pooled connection is in a transaction waiting for a lock this
	// one holds, that wait never ends; so a transaction runs a query not yet prepared
	// unprepared, and the pool prepares it in the background for next time. Binding
	// a prepared statement to the transaction uses the transaction's own connection.
	st, ok := s.m.Load(query)
	if !ok {
		s.warm(query)
		return nil, nil
	}
	return p.tx.StmtxContext(ctx, st.(*sqlx.Stmt)), nil
}

func (p *Preparer) ext() sqlx.ExtContext {
	if p.tx != nil {
		return p.tx
	}
	return p.db.DB
}

// DriverName, Rebind and BindNamed are those of the pool.
func (p *Preparer) DriverName() string         { return p.db.DriverName() }
func (p *Preparer) Rebind(query string) string { return p.db.Rebind(query) }
func (p *Preparer) BindNamed(query string, arg any) (string, []any, error) {
	return p.db.BindNamed(query, arg)
}

// ExecContext runs a prepared statement for query.
func (p *Preparer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.ext().ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs a prepared statement for query.
func (p *Preparer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.ext().QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryxContext runs a prepared statement for query.
func (p *Preparer) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.ext().QueryxContext(ctx, query, args...)
	}
	return st.QueryxContext(ctx, args...)
}

// QueryRowxContext runs a prepared statement for query.
func (p *Preparer) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		// sqlx.Row carries its error; the unprepared path reports a failed prepare too.
		return p.ext().QueryRowxContext(ctx, query, args...)
	}
	return st.QueryRowxContext(ctx, args...)
}

// GetContext scans one row into dest, as sqlx.GetContext.
func (p *Preparer) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, p, dest, query, args...)
}

// SelectContext scans all rows into dest, as sqlx.SelectContext.
func (p *Preparer) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, p, dest, query, args...)
}
