// Package core holds Kvarter's domain: who people are (users, sessions, tokens), where
// they belong (neighbourhoods, organisations and their memberships), what they may do
// (roles per domain), and the audit trail of security-relevant actions.
//
// This package defines types and service interfaces only. Each technology lives in one
// adapter package that speaks to the others in these terms: sqlstore (SQL storage for
// SQLite and PostgreSQL), authz (casbin), httpapi (Fiber), password (argon2id).
package core

import (
	"context"
	"time"
)

// Clock tells the time. Services take one so that tests can move time on.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC, truncated to microseconds so that it survives a
// round trip through PostgreSQL unchanged.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Page asks for one page of a list. Cursor is opaque to the caller.
type Page struct {
	Limit  int
	Cursor string
}

// DefaultPageLimit and MaxPageLimit bound every list.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// Normalize applies the default and maximum page sizes.
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	return p
}

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
)

// WithPrincipal returns a context that carries the acting person.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the acting person, or an anonymous principal.
func PrincipalFrom(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey).(*Principal); ok && p != nil {
		return p
	}
	return &Principal{}
}

// WithRequestID returns a context that carries the request id for logs and audit.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request id, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
