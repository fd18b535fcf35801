package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/password"
)

// Sessions: signing in, recording use for idle expiry, listing, revoking, signing out.

// Login checks an email and password and opens a session. Unknown emails and wrong
// passwords get the same answer in about the same time.
func (s *IdentityService) Login(ctx context.Context, a core.LoginAttempt) (*core.LoginResult, error) {
	s.init()
	f := core.Fields{}
	if a.Email == "" {
		f.Add("email", core.RuleRequired, "is required")
	}
	if a.Password == "" {
		f.Add("password", core.RuleRequired, "is required")
	}
	if len(a.Email) > 254 {
		f.Add("email", core.RuleMaxLength, "must be at most 254 characters")
	}
	if len(a.Password) > 4*password.MaxLength {
		f.Add("password", core.RuleMaxLength, "is too long")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	key := core.NormalizeEmail(a.Email)
	keys := s.throttleKeys(key, a.ClientIP)
	if err := s.admitAttempt(ctx, keys, key, a.ClientIP); err != nil {
		return nil, err
	}

	var row userRow
	err := get(ctx, s.DB.db, &row, `SELECT `+userColumns+` FROM users WHERE email_key = ? AND deleted_at IS NULL`, key)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find user: %w", err)
	}
	hash := s.dummyHash
	if err == nil && row.PasswordHash != nil {
		hash = *row.PasswordHash
	}
	release, slotErr := s.hashSlot(ctx)
	if slotErr != nil {
		return nil, slotErr
	}
	ok, verr := s.Settings.Hasher.Verify(a.Password, hash)
	release()
	if verr != nil {
		return nil, fmt.Errorf("verify password: %w", verr)
	}
	if err != nil || !ok {
		// The attempt was counted before the hash: nothing more to record.
		return nil, core.Errorf(core.EUNAUTHENTICATED, "The email address or password is not correct.")
	}

	now := s.DB.now()
	var (
		token string
		sess  core.Session
	)
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if err := forgetAttempt(ctx, tx, keys); err != nil {
			return err
		}
		var err error
		if token, sess, err = insertSession(ctx, tx, row.ID, a.UserAgent, a.ClientIP, now, now.Add(s.Settings.SessionAbsolute)); err != nil {
			return err
		}
		ctx := core.WithPrincipal(ctx, &core.Principal{UserID: row.ID})
		return recordAudit(ctx, tx, now, "user.login", core.DomainCity, "user:"+row.ID, map[string]any{"client_ip": a.ClientIP})
	})
	if err != nil {
		return nil, err
	}
	return &core.LoginResult{Token: token, CSRFToken: core.CSRFToken(token), User: row.user(), Session: sess}, nil
}

type sessionRow struct {
	ID          string     `db:"id"`
	UserID      string     `db:"user_id"`
	Kind        string     `db:"kind"`
	Name        string     `db:"name"`
	UserAgent   string     `db:"user_agent"`
	ClientIP    string     `db:"client_ip"`
	CreatedAt   time.Time  `db:"created_at"`
	LastSeenAt  time.Time  `db:"last_seen_at"`
	ExpiresAt   *time.Time `db:"expires_at"`
	DisplayName string     `db:"display_name"`
	Language    string     `db:"language"`
	Scope       string     `db:"scope"`
	// BirthDate is the user's verified birth date, loaded with the session so that
	// the principal's age costs no query of its own.
	BirthDate *string `db:"verified_birth_date"`
}

func (r sessionRow) session() core.Session {
	s := core.Session{ID: r.ID, Kind: r.Kind, Name: r.Name, UserAgent: r.UserAgent, ClientIP: r.ClientIP,
		CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC()}
	if r.Kind == core.KindAPIToken {
		s.Scope = r.Scope
	}
	if r.ExpiresAt != nil {
		t := r.ExpiresAt.UTC()
		s.ExpiresAt = &t
	}
	return s
}

// touchEvery limits writes of last_seen_at: precise enough for idle expiry, cheap enough
// for every request.
const touchEvery = time.Minute

// flushTouchesEvery is how often recorded uses of sessions are written, in one statement.
const flushTouchesEvery = 2 * time.Second

// pendingTouches holds sessions used since the last flush. Writing last_seen_at in the
// request would put a write and a commit on the path of a token's first request (a
// voter's only one, say); a batch every few seconds costs one statement for all.
type pendingTouches struct {
	mu sync.Mutex
	at map[string]time.Time // session id -> last use not yet written
}

func (t *pendingTouches) add(id string, at time.Time) {
	t.mu.Lock()
	if t.at == nil {
		t.at = make(map[string]time.Time)
	}
	if at.After(t.at[id]) {
		t.at[id] = at
	}
	t.mu.Unlock()
}

// lastSeen returns the later of the stored time and a use not yet written, so idle
// expiry on this node never misses a recent use.
func (t *pendingTouches) lastSeen(id string, stored time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.at[id]; ok && p.After(stored) {
		return p
	}
	return stored
}

func (t *pendingTouches) take() map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.at
	t.at = nil
	return out
}

// FlushTouches writes recorded session uses: one statement per distinct time, grouped.
func (s *IdentityService) FlushTouches(ctx context.Context) error {
	pending := s.touches.take()
	if len(pending) == 0 {
		return nil
	}
	byTime := map[time.Time][]string{}
	for id, at := range pending {
		byTime[at] = append(byTime[at], id)
	}
	for at, ids := range byTime {
		query, args, err := in(s.DB.db, `UPDATE sessions SET last_seen_at = ? WHERE last_seen_at < ? AND id IN (?)`, at, at, ids)
		if err != nil {
			return err
		}
		if _, err := s.DB.db.ExecContext(ctx, query, args...); err != nil {
			// Put them back so the next flush tries again.
			for _, id := range ids {
				s.touches.add(id, at)
			}
			return fmt.Errorf("flush session touches: %w", err)
		}
	}
	return nil
}

// RunTouches flushes recorded session uses every few seconds until ctx ends, then once
// more, so a clean stop loses none.
func (s *IdentityService) RunTouches(ctx context.Context) {
	t := time.NewTicker(flushTouchesEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.FlushTouches(context.WithoutCancel(ctx)); err != nil {
				s.DB.Logger.Warn("flush session touches", "err", err)
			}
			return
		case <-t.C:
			if err := s.FlushTouches(ctx); err != nil && ctx.Err() == nil {
				s.DB.Logger.Warn("flush session touches", "err", err)
			}
		}
	}
}

// Logout ends the session of token.
func (s *IdentityService) Logout(ctx context.Context, token string) error {
	s.init()
	h := hashToken(token)
	s.cache.drop(h)
	if _, err := exec(ctx, s.DB.db, `UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL`, s.DB.now(), h); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// listSessions lists the acting person's open sessions of kind in id order: one page
// after the id in after, or all of them when limit is 0.
func (s *IdentityService) listSessions(ctx context.Context, kind, after string, limit int) ([]core.Session, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	q := `SELECT s.id, s.user_id, s.kind, s.name, s.user_agent, s.client_ip, s.created_at, s.last_seen_at, s.expires_at, '' AS display_name, '' AS language, s.scope
		FROM sessions s WHERE s.user_id = ? AND s.kind = ? AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > ?) AND s.id > ? ORDER BY s.id`
	args := []any{p.UserID, kind, s.DB.now(), after}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var rows []sessionRow
	if err := selectAll(ctx, s.DB.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]core.Session, 0, len(rows))
	for _, r := range rows {
		sess := r.session()
		sess.Current = r.ID == p.SessionID
		out = append(out, sess)
	}
	return out, nil
}

// sessionPage is one page of the acting person's sessions of kind.
func (s *IdentityService) sessionPage(ctx context.Context, kind string, page core.Page) ([]core.Session, string, error) {
	page = page.Normalize()
	after, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.listSessions(ctx, kind, after, page.Limit+1)
	if err != nil {
		return nil, "", err
	}
	rows, next := pageRows(rows, page, func(r core.Session) string { return r.ID })
	return rows, next, nil
}

func (s *IdentityService) revoke(ctx context.Context, id, kind, what string) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	now := s.DB.now()
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var h string
		if err := get(ctx, tx, &h, `SELECT token_hash FROM sessions WHERE id = ? AND user_id = ? AND kind = ? AND revoked_at IS NULL`, id, p.UserID, kind); err != nil {
			return notFound(err, what)
		}
		if _, err := exec(ctx, tx, `UPDATE sessions SET revoked_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("revoke %s: %w", kind, err)
		}
		s.cache.drop(h)
		return recordAudit(ctx, tx, now, kind+".revoked", core.DomainCity, kind+":"+id, nil)
	})
	return err
}

// ListSessions lists a page of the acting person's open login sessions.
func (s *IdentityService) ListSessions(ctx context.Context, page core.Page) ([]core.Session, string, error) {
	return s.sessionPage(ctx, core.KindSession, page)
}

// RevokeSession ends one of the acting person's sessions.
func (s *IdentityService) RevokeSession(ctx context.Context, id string) error {
	return s.revoke(ctx, id, core.KindSession, "The session")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
