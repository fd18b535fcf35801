package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// Personal API tokens: sessions that do not idle out, made and revoked by their owner.

// CreateToken makes a personal API token, returned once.
func (s *IdentityService) CreateToken(ctx context.Context, name, scope string) (*core.NewToken, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	f := core.Fields{}
	f.CheckText("name", name, 1, 100, false)
	if scope == "" {
		scope = core.ScopeFull
	}
	if scope != core.ScopeFull && scope != core.ScopeRead {
		f.Add("scope", core.RuleOneOf, "Choose full or read.")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	token := randomToken(apiTokenPrefix)
	now := s.DB.now()
	sess := core.Session{ID: newID(), Kind: core.KindAPIToken, Name: strings.TrimSpace(name), CreatedAt: now, LastSeenAt: now, Scope: scope}
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := exec(ctx, tx, `INSERT INTO sessions (id, user_id, token_hash, kind, name, created_at, last_seen_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.ID, p.UserID, hashToken(token), core.KindAPIToken, sess.Name, now, now, scope); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		return recordAudit(ctx, tx, now, "api_token.created", core.DomainCity, "api_token:"+sess.ID, map[string]any{"name": sess.Name, "scope": scope})
	})
	if err != nil {
		return nil, err
	}
	return &core.NewToken{Token: token, Session: sess}, nil
}

// ListTokens lists a page of the acting person's API tokens (never the tokens
// themselves).
func (s *IdentityService) ListTokens(ctx context.Context, page core.Page) ([]core.Session, string, error) {
	return s.sessionPage(ctx, core.KindAPIToken, page)
}

// RevokeToken revokes one of the acting person's API tokens.
func (s *IdentityService) RevokeToken(ctx context.Context, id string) error {
	return s.revoke(ctx, id, core.KindAPIToken, "The API token")
}
