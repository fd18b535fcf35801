package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kvarter/kvarter/core"
)

// Principals: resolving a session or API token to the person and their roles, with a
// short-lived cache in front of the database.

// Authenticate resolves a token to its principal, with roles and memberships.
func (s *IdentityService) Authenticate(ctx context.Context, token string) (*core.Principal, error) {
	s.init()
	if !strings.HasPrefix(token, sessionTokenPrefix) && !strings.HasPrefix(token, apiTokenPrefix) || len(token) > 100 {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "The session or token is not valid.")
	}
	hh := hashTokenHex(token)
	now := s.DB.now()
	if e, ok := s.cache.get(hh[:], now); ok {
		return e.p, nil
	}
	h := string(hh[:])
	// When a busy token's entry lapses, every request in flight misses at once; one of
	// them loads and the others wait for its answer.
	p, err, _ := s.loads.Do(h, func() (any, error) { return s.authenticateFromDB(ctx, h, now) })
	if err != nil {
		return nil, err
	}
	return p.(*core.Principal), nil
}

func (s *IdentityService) authenticateFromDB(ctx context.Context, h string, now time.Time) (*core.Principal, error) {
	if e, ok := s.cache.get([]byte(h), now); ok {
		return e.p, nil
	}
	r, p, err := s.findSession(ctx, h)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "The session or token is not valid; sign in again.")
	}
	lastSeen := s.touches.lastSeen(r.ID, r.LastSeenAt)
	if r.ExpiresAt != nil && !now.Before(*r.ExpiresAt) ||
		r.Kind == core.KindSession && !now.Before(lastSeen.Add(s.Settings.SessionIdle)) {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "The session has expired; sign in again.")
	}
	if now.Sub(lastSeen) > touchEvery {
		s.touches.add(r.ID, now)
	}
	p.DisplayName, p.Locale, p.SessionID, p.SessionKind = r.DisplayName, r.Language, r.ID, r.Kind
	p.ReadOnly = r.Scope == core.ScopeRead
	if r.BirthDate != nil {
		// Worked out once per load: the cache holds a principal for a moment, not
		// across a birthday that matters.
		p.VerifiedAge, p.AgeVerified = core.AgeOn(*r.BirthDate, now.In(s.Settings.zone()))
	}
	s.cache.put(h, cacheEntry{p: p, expires: now.Add(s.Settings.PrincipalCacheTTL)})
	s.cache.mu.Lock()
	delete(s.cache.me, p.SessionID) // rebuilt from fresh data on the next /me
	s.cache.mu.Unlock()
	return p, nil
}

// The session lookup, by its token's hash, with the user's name and language.
const (
	sessionCols  = `SELECT s.id, s.user_id, s.kind, s.name, s.user_agent, s.client_ip, s.created_at, s.last_seen_at, s.expires_at, u.display_name, u.language, s.scope, u.verified_birth_date`
	sessionFrom  = ` FROM sessions s JOIN users u ON u.id = s.user_id`
	sessionWhere = ` WHERE s.token_hash = ? AND s.revoked_at IS NULL AND u.deleted_at IS NULL`
)

// rolesOf lists the roles of the user that userExpr names as (kind, a, b, state) rows:
// explicit grants ('g': domain, role), verified neighbourhoods ('n': neighbourhood) and
// organisation memberships ('o': organisation, role, organisation state).
func rolesOf(userExpr string) string {
	return `SELECT 'g' AS kind, domain AS a, role AS b, '' AS state FROM role_grants WHERE user_id = ` + userExpr + `
	UNION ALL
	SELECT 'n', neighbourhood_id, '', '' FROM memberships WHERE user_id = ` + userExpr + ` AND state = 'verified'
	UNION ALL
	SELECT 'o', m.organisation_id, m.role, o.state FROM organisation_members m JOIN organisations o ON o.id = m.organisation_id WHERE m.user_id = ` + userExpr
}

var (
	sessionSQL = sessionCols + sessionFrom + sessionWhere
	rolesSQL   = rolesOf("?")
	// sessionWithRolesSQL is both in one PostgreSQL query, one row per role (one with
	// NULL role columns for a person without roles): a cold token — a voter's only
	// request, say — then costs one round trip instead of two.
	sessionWithRolesSQL = sessionCols + `, r.kind AS role_kind, r.a AS role_a, r.b AS role_b, r.state AS role_state` +
		sessionFrom + ` LEFT JOIN LATERAL (` + rolesOf("s.user_id") + `) r ON TRUE` + sessionWhere
)

type roleRow struct {
	Kind  string `db:"kind"`
	A     string `db:"a"`
	B     string `db:"b"`
	State string `db:"state"`
}

// findSession returns the live session of token hash h and its principal's roles, or
// nil when there is none. Both statements are prepared: they run for every new token.
func (s *IdentityService) findSession(ctx context.Context, h string) (*sessionRow, *core.Principal, error) {
	if s.DB.Dialect != Postgres {
		var r sessionRow
		st, err := s.DB.stmts.Prepared(ctx, sessionSQL)
		if err == nil {
			err = st.GetContext(ctx, &r, h)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("find session: %w", err)
		}
		p, err := loadPrincipal(ctx, s.DB, r.UserID)
		return &r, p, err
	}
	var rows []struct {
		sessionRow
		RoleKind  sql.NullString `db:"role_kind"`
		RoleA     sql.NullString `db:"role_a"`
		RoleB     sql.NullString `db:"role_b"`
		RoleState sql.NullString `db:"role_state"`
	}
	st, err := s.DB.stmts.Prepared(ctx, sessionWithRolesSQL)
	if err == nil {
		err = st.SelectContext(ctx, &rows, h)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	roles := make([]roleRow, 0, len(rows))
	for _, r := range rows {
		if r.RoleKind.Valid {
			roles = append(roles, roleRow{Kind: r.RoleKind.String, A: r.RoleA.String, B: r.RoleB.String, State: r.RoleState.String})
		}
	}
	return &rows[0].sessionRow, principalOf(rows[0].UserID, roles), nil
}

// loadPrincipal gathers a person's roles per domain: explicit grants, resident of each
// verified neighbourhood, and their organisation roles, in one query.
func loadPrincipal(ctx context.Context, d *DB, userID string) (*core.Principal, error) {
	var rows []roleRow
	st, err := d.stmts.Prepared(ctx, rolesSQL)
	if err == nil {
		err = st.SelectContext(ctx, &rows, userID, userID, userID)
	}
	if err != nil {
		return nil, fmt.Errorf("load principal: %w", err)
	}
	return principalOf(userID, rows), nil
}

// principalOf turns role rows into a principal, in a stable order.
func principalOf(userID string, rows []roleRow) *core.Principal {
	slices.SortFunc(rows, func(x, y roleRow) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B))
	})
	p := &core.Principal{UserID: userID, Roles: map[string][]string{}, Neighbourhoods: []string{}, Organisations: []core.OrgMembership{}}
	for _, r := range rows {
		switch r.Kind {
		case "g":
			// An explicit grant of a membership role can only be a leftover from before
			// such grants were refused; membership alone confers these roles.
			if !slices.Contains(core.MembershipRoles, r.B) {
				p.Roles[r.A] = append(p.Roles[r.A], r.B)
			}
		case "n":
			p.Neighbourhoods = append(p.Neighbourhoods, r.A)
			d := core.NeighbourhoodDomain(r.A)
			p.Roles[d] = append(p.Roles[d], core.RoleResident)
		case "o":
			p.Organisations = append(p.Organisations, core.OrgMembership{OrganisationID: r.A, Role: r.B, Verified: r.State == core.OrganisationVerified})
			d := core.OrganisationDomain(r.A)
			p.Roles[d] = append(p.Roles[d], core.RoleOrgMember)
			if r.B == core.OrgRoleRepresentative {
				p.Roles[d] = append(p.Roles[d], core.RoleOrgRepresentative)
			}
		}
	}
	return p
}

// principalCache keeps resolved tokens for a moment, so that a busy client costs one
// database lookup per TTL rather than one per request.
type principalCache struct {
	mu      sync.RWMutex
	entries map[string]cacheEntry // by token hash
	me      map[string]*core.Me   // by session id, built on the first /me after a refresh
}

type cacheEntry struct {
	p       *core.Principal
	expires time.Time
}

const principalCacheMax = 100_000

func (c *principalCache) get(h []byte, now time.Time) (cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.entries[string(h)]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return cacheEntry{}, false
	}
	return e, true
}

func (c *principalCache) put(h string, e cacheEntry) {
	c.mu.Lock()
	if len(c.entries) >= principalCacheMax {
		clear(c.entries)
		clear(c.me)
	}
	c.entries[h] = e
	c.mu.Unlock()
}

func (c *principalCache) drop(h string) {
	c.mu.Lock()
	if e, ok := c.entries[h]; ok {
		delete(c.me, e.p.SessionID)
	}
	delete(c.entries, h)
	c.mu.Unlock()
}

// DropCachedPrincipals forgets every cached principal, e.g. after a policy change.
func (s *IdentityService) DropCachedPrincipals() {
	s.init()
	s.cache.mu.Lock()
	clear(s.cache.entries)
	clear(s.cache.me)
	s.cache.mu.Unlock()
}
