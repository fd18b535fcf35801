package sqlstore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/password"
)

// Token prefixes make leaked tokens recognisable to secret scanners.
const (
	sessionTokenPrefix = "kvs_"
	apiTokenPrefix     = "kvt_"
)

// IdentitySettings are the city's rules for accounts and sign-in.
type IdentitySettings struct {
	Languages       []string
	Hasher          password.Hasher
	SessionIdle     time.Duration // a session unused this long ends
	SessionAbsolute time.Duration // a session ends this long after login, used or not
	Throttle        ThrottleSettings
	// PrincipalCacheTTL bounds how long a resolved token is reused without asking the
	// database; it is also how long a revocation made on another node may take to bite.
	PrincipalCacheTTL time.Duration
	// HashConcurrency caps simultaneous argon2id computations so that a flood of logins
	// cannot take every core.
	HashConcurrency int
}

// DefaultIdentitySettings are sensible production values.
func DefaultIdentitySettings() IdentitySettings {
	return IdentitySettings{
		Languages:         []string{"en"},
		Hasher:            password.Hasher{Params: password.DefaultParams},
		SessionIdle:       7 * 24 * time.Hour,
		SessionAbsolute:   30 * 24 * time.Hour,
		PrincipalCacheTTL: time.Second,
		HashConcurrency:   2,
		Throttle:          DefaultThrottleSettings(),
	}
}

// IdentityService implements core.IdentityService.
type IdentityService struct {
	DB       *DB
	Authz    core.Authorizer
	Settings IdentitySettings
	// OnPolicyChange is called after a change that alters explicit grants.
	OnPolicyChange func()

	hashSlots chan struct{}
	dummyHash string
	initOnce  sync.Once
	cache     principalCache

	loads   singleLoad
	touches pendingTouches

	// locks remembers lockouts this node has seen, so that a guessing flood against a
	// locked account or address is refused without touching the database.
	locksMu sync.Mutex
	locks   map[string]time.Time
	// throttleAttempts counts sign-in attempts, to purge expired counters now and then.
	throttleAttempts atomic.Uint64
}

var _ core.IdentityService = (*IdentityService)(nil)

func (s *IdentityService) init() {
	s.initOnce.Do(func() {
		n := s.Settings.HashConcurrency
		if n <= 0 {
			n = 2
		}
		s.hashSlots = make(chan struct{}, n)
		// Verifying against a dummy hash for unknown emails makes them cost the same as
		// wrong passwords, so timing does not reveal who has an account.
		s.dummyHash, _ = s.Settings.Hasher.Hash("kvarter-dummy-password")
		s.cache.entries = make(map[string]cacheEntry)
		s.cache.me = make(map[string]*core.Me)
		s.locks = make(map[string]time.Time)
	})
}

// hashSlot waits for a free argon2id slot.
func (s *IdentityService) hashSlot(ctx context.Context) (func(), error) {
	select {
	case s.hashSlots <- struct{}{}:
		return func() { <-s.hashSlots }, nil
	case <-ctx.Done():
		return nil, core.Errorf(core.EUNAVAILABLE, "The server is busy; try again shortly.")
	}
}

func hashToken(token string) string {
	h := hashTokenHex(token)
	return string(h[:])
}

// hashTokenHex is hashToken kept in an array, so that a cache lookup by it needs no
// allocation.
func hashTokenHex(token string) (h [2 * sha256.Size]byte) {
	sum := sha256.Sum256([]byte(token))
	hex.Encode(h[:], sum[:])
	return h
}

// CSRFToken derives the anti-forgery token of a session token. A page can read it from
// its cookie; a forged cross-site request cannot, and the server need not store it.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("kvarter-csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckCSRF compares a presented anti-forgery token with the session's, in constant time.
func CheckCSRF(sessionToken, presented string) bool {
	return subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(presented)) == 1
}

type userRow struct {
	ID           string     `db:"id"`
	Email        *string    `db:"email"`
	PasswordHash *string    `db:"password_hash"`
	DisplayName  string     `db:"display_name"`
	Language     string     `db:"language"`
	CreatedAt    time.Time  `db:"created_at"`
	DeletedAt    *time.Time `db:"deleted_at"`
}

func (r userRow) user() core.User {
	u := core.User{ID: r.ID, DisplayName: r.DisplayName, Language: r.Language, CreatedAt: r.CreatedAt.UTC()}
	if r.Email != nil {
		u.Email = *r.Email
	}
	return u
}

const userColumns = `id, email, password_hash, display_name, language, created_at, deleted_at`

func (s *IdentityService) validateRegistration(r core.Registration) error {
	f := core.Fields{}
	f.CheckEmail("email", r.Email)
	f.CheckText("display_name", r.DisplayName, 1, 100, false)
	if r.Language == "" {
		f.Add("language", core.RuleRequired, "is required")
	} else if !slices.Contains(s.Settings.Languages, r.Language) {
		f.Add("language", core.RuleOneOf, "must be one of the city's languages: "+strings.Join(s.Settings.Languages, ", "))
	}
	local := r.Email
	if i := strings.IndexByte(local, '@'); i > 0 {
		local = local[:i]
	}
	if problem := password.Check(r.Password, r.Email, local, r.DisplayName); problem != "" {
		f.Add("password", core.RulePassword, problem)
	}
	return f.Err()
}

// Register opens an account.
func (s *IdentityService) Register(ctx context.Context, r core.Registration) (*core.User, error) {
	return s.createUser(ctx, r, "", "user.registered")
}

// CreateUser opens an account from the command line, optionally with a city-wide role.
func (s *IdentityService) CreateUser(ctx context.Context, r core.Registration, cityRole string) (*core.User, error) {
	if cityRole != "" && !slices.Contains(core.GrantableRoles, cityRole) {
		return nil, core.InvalidField("role", core.RuleOneOf, "must be one of "+strings.Join(core.GrantableRoles, ", "))
	}
	return s.createUser(ctx, r, cityRole, "user.created")
}

func (s *IdentityService) createUser(ctx context.Context, r core.Registration, cityRole, action string) (*core.User, error) {
	s.init()
	r.Email = strings.TrimSpace(r.Email)
	r.DisplayName = strings.TrimSpace(r.DisplayName)
	if err := s.validateRegistration(r); err != nil {
		return nil, err
	}
	release, err := s.hashSlot(ctx)
	if err != nil {
		return nil, err
	}
	hash, err := s.Settings.Hasher.Hash(r.Password)
	release()
	if err != nil {
		return nil, err
	}
	now := s.DB.now()
	u := core.User{ID: newID(), Email: r.Email, DisplayName: r.DisplayName, Language: r.Language, CreatedAt: now}
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := exec(ctx, tx, `INSERT INTO users (id, email, email_key, password_hash, display_name, language, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Email, core.NormalizeEmail(u.Email), hash, u.DisplayName, u.Language, now, now); err != nil {
			if isUniqueViolation(err) {
				return &core.Error{Code: core.ECONFLICT, Message: "An account with this email address already exists.", Fields: map[string]string{"email": "is already registered"}}
			}
			return fmt.Errorf("insert user: %w", err)
		}
		if cityRole != "" {
			if _, err := exec(ctx, tx, `INSERT INTO role_grants (user_id, role, domain, granted_by, created_at) VALUES (?, ?, ?, NULL, ?)`,
				u.ID, cityRole, core.DomainCity, now); err != nil {
				return fmt.Errorf("grant %s: %w", cityRole, err)
			}
			if err := bumpPolicyVersion(ctx, tx); err != nil {
				return err
			}
		}
		return recordAudit(ctx, tx, now, action, core.DomainCity, "user:"+u.ID, map[string]any{"city_role": cityRole})
	})
	if err != nil {
		return nil, err
	}
	if cityRole != "" && s.OnPolicyChange != nil {
		s.OnPolicyChange()
	}
	return &u, nil
}

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

	token := randomToken(sessionTokenPrefix)
	now := s.DB.now()
	expires := now.Add(s.Settings.SessionAbsolute)
	sess := core.Session{ID: newID(), Kind: core.KindSession, UserAgent: truncate(a.UserAgent, 200), ClientIP: a.ClientIP,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: &expires}
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if err := forgetAttempt(ctx, tx, keys); err != nil {
			return err
		}
		if _, err := exec(ctx, tx, `INSERT INTO sessions (id, user_id, token_hash, kind, user_agent, client_ip, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.ID, row.ID, hashToken(token), core.KindSession, sess.UserAgent, sess.ClientIP, now, now, expires); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		ctx := core.WithPrincipal(ctx, &core.Principal{UserID: row.ID})
		return recordAudit(ctx, tx, now, "user.login", core.DomainCity, "user:"+row.ID, map[string]any{"client_ip": a.ClientIP})
	})
	if err != nil {
		return nil, err
	}
	return &core.LoginResult{Token: token, CSRFToken: CSRFToken(token), User: row.user(), Session: sess}, nil
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
}

func (r sessionRow) session() core.Session {
	s := core.Session{ID: r.ID, Kind: r.Kind, Name: r.Name, UserAgent: r.UserAgent, ClientIP: r.ClientIP,
		CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC()}
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
	return s.loads.do(h, func() (*core.Principal, error) { return s.authenticateFromDB(ctx, h, now) })
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
	s.cache.put(h, cacheEntry{p: p, expires: now.Add(s.Settings.PrincipalCacheTTL)})
	s.cache.mu.Lock()
	delete(s.cache.me, p.SessionID) // rebuilt from fresh data on the next /me
	s.cache.mu.Unlock()
	return p, nil
}

// The session lookup, by its token's hash, with the user's name and language.
const (
	sessionCols  = `SELECT s.id, s.user_id, s.kind, s.name, s.user_agent, s.client_ip, s.created_at, s.last_seen_at, s.expires_at, u.display_name, u.language`
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

func requireUser(ctx context.Context) (*core.Principal, error) {
	p := core.PrincipalFrom(ctx)
	if !p.Authenticated() {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "Sign in first.")
	}
	return p, nil
}

// listSessions lists the acting person's open sessions of kind in id order: one page
// after the id in after, or all of them when limit is 0.
func (s *IdentityService) listSessions(ctx context.Context, kind, after string, limit int) ([]core.Session, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	q := `SELECT s.id, s.user_id, s.kind, s.name, s.user_agent, s.client_ip, s.created_at, s.last_seen_at, s.expires_at, '' AS display_name, '' AS language
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

// CreateToken makes a personal API token, returned once.
func (s *IdentityService) CreateToken(ctx context.Context, name string) (*core.NewToken, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	f := core.Fields{}
	f.CheckText("name", name, 1, 100, false)
	if err := f.Err(); err != nil {
		return nil, err
	}
	token := randomToken(apiTokenPrefix)
	now := s.DB.now()
	sess := core.Session{ID: newID(), Kind: core.KindAPIToken, Name: strings.TrimSpace(name), CreatedAt: now, LastSeenAt: now}
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := exec(ctx, tx, `INSERT INTO sessions (id, user_id, token_hash, kind, name, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sess.ID, p.UserID, hashToken(token), core.KindAPIToken, sess.Name, now, now); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		return recordAudit(ctx, tx, now, "api_token.created", core.DomainCity, "api_token:"+sess.ID, map[string]any{"name": sess.Name})
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

// Me describes the acting person. It answers from what Authenticate gathered for this
// session when that is still fresh.
func (s *IdentityService) Me(ctx context.Context) (*core.Me, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	s.init()
	s.cache.mu.RLock()
	me, ok := s.cache.me[p.SessionID]
	s.cache.mu.RUnlock()
	if ok && me.User.ID == p.UserID {
		return me, nil
	}
	me, err = s.loadMe(ctx, p)
	if err != nil {
		return nil, err
	}
	// Kept for as long as the session's principal: a client polling /me costs one set
	// of queries per cache TTL. Built only when asked, so that other requests (a plugin
	// route, a ballot) do not pay for it.
	s.cache.mu.Lock()
	s.cache.me[p.SessionID] = me
	s.cache.mu.Unlock()
	return me, nil
}

func (s *IdentityService) loadMe(ctx context.Context, p *core.Principal) (*core.Me, error) {
	var row userRow
	if err := get(ctx, s.DB.db, &row, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`, p.UserID); err != nil {
		return nil, notFound(err, "The account")
	}
	me := &core.Me{User: row.user(), Roles: p.Roles, Memberships: []core.Membership{}, Organisations: []core.OrganisationRoleRef{}}
	if err := selectAll(ctx, s.DB.db, &me.Memberships, `SELECT `+membershipColumns+` FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.user_id = ? AND m.state IN ('requested', 'verified') ORDER BY m.id`, p.UserID); err != nil {
		return nil, fmt.Errorf("me memberships: %w", err)
	}
	fixMembershipTimes(me.Memberships)
	if err := selectAll(ctx, s.DB.db, &me.Organisations, `SELECT o.id AS organisation_id, o.name, m.role, o.state = 'verified' AS verified FROM organisation_members m JOIN organisations o ON o.id = m.organisation_id WHERE m.user_id = ? ORDER BY o.id`, p.UserID); err != nil {
		return nil, fmt.Errorf("me organisations: %w", err)
	}
	return me, nil
}

// Export gathers every piece of personal data the core holds about the acting person.
func (s *IdentityService) Export(ctx context.Context) (map[string]any, error) {
	me, err := s.Me(ctx)
	if err != nil {
		return nil, err
	}
	p := core.PrincipalFrom(ctx)
	sessions, err := s.listSessions(ctx, core.KindSession, "", 0)
	if err != nil {
		return nil, err
	}
	tokens, err := s.listSessions(ctx, core.KindAPIToken, "", 0)
	if err != nil {
		return nil, err
	}
	var all []core.Membership
	if err := selectAll(ctx, s.DB.db, &all, `SELECT `+membershipColumns+` FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.user_id = ? ORDER BY m.id`, p.UserID); err != nil {
		return nil, fmt.Errorf("export memberships: %w", err)
	}
	fixMembershipTimes(all)
	var grants []core.RoleGrant
	if err := selectAll(ctx, s.DB.db, &grants, `SELECT user_id, role, domain, COALESCE(granted_by, '') AS granted_by, created_at FROM role_grants WHERE user_id = ? ORDER BY domain, role`, p.UserID); err != nil {
		return nil, fmt.Errorf("export grants: %w", err)
	}
	var audit []auditRow
	if err := selectAll(ctx, s.DB.db, &audit, `SELECT seq, id, at, actor_id, action, domain, target, request_id, detail FROM audit_log WHERE actor_id = ? OR target = ? ORDER BY seq`, p.UserID, "user:"+p.UserID); err != nil {
		return nil, fmt.Errorf("export audit: %w", err)
	}
	actions := make([]map[string]any, len(audit))
	for i, a := range audit {
		actions[i] = map[string]any{"at": a.At.UTC(), "action": a.Action, "domain": a.Domain, "target": a.Target}
	}
	return map[string]any{
		"exported_at":   s.DB.now(),
		"user":          me.User,
		"roles":         me.Roles,
		"memberships":   all,
		"organisations": me.Organisations,
		"role_grants":   grants,
		"sessions":      sessions,
		"api_tokens":    tokens,
		"activity":      actions,
	}, nil
}

// DeleteAccount erases the acting person's personal data in one transaction. The user
// row stays as a pseudonym ("Deleted user") so that records which must remain, such as
// the audit log and counted votes in plugins, keep a valid reference without the person.
func (s *IdentityService) DeleteAccount(ctx context.Context) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	now := s.DB.now()
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var hashes []string
		if err := selectAll(ctx, tx, &hashes, `SELECT token_hash FROM sessions WHERE user_id = ?`, p.UserID); err != nil {
			return fmt.Errorf("delete account: %w", err)
		}
		for _, h := range hashes {
			s.cache.drop(h)
		}
		var emailKey *string
		if err := get(ctx, tx, &emailKey, `SELECT email_key FROM users WHERE id = ?`, p.UserID); err != nil {
			return fmt.Errorf("delete account: %w", err)
		}
		if emailKey != nil {
			if err := forgetAccountThrottle(ctx, tx, *emailKey); err != nil {
				return err
			}
		}
		steps := []string{
			`UPDATE users SET email = NULL, email_key = NULL, password_hash = NULL, display_name = 'Deleted user', deleted_at = ?, updated_at = ? WHERE id = ?`,
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM memberships WHERE user_id = ?`,
			`DELETE FROM organisation_members WHERE user_id = ?`,
			`DELETE FROM role_grants WHERE user_id = ?`,
		}
		for i, q := range steps {
			args := []any{p.UserID}
			if i == 0 {
				args = []any{now, now, p.UserID}
			}
			if _, err := exec(ctx, tx, q, args...); err != nil {
				return fmt.Errorf("delete account: %w", err)
			}
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		if err := publishEvent(ctx, tx, now, core.EventUserDeleted, map[string]string{"user_id": p.UserID}); err != nil {
			return err
		}
		return recordAudit(ctx, tx, now, "user.deleted", core.DomainCity, "user:"+p.UserID, nil)
	})
	if err != nil {
		return err
	}
	if s.OnPolicyChange != nil {
		s.OnPolicyChange()
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
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

// singleLoad runs one load per key at a time; concurrent callers share its result.
type singleLoad struct {
	mu       sync.Mutex
	inFlight map[string]*loadCall
}

type loadCall struct {
	done chan struct{}
	p    *core.Principal
	err  error
}

func (g *singleLoad) do(key string, load func() (*core.Principal, error)) (*core.Principal, error) {
	g.mu.Lock()
	if g.inFlight == nil {
		g.inFlight = make(map[string]*loadCall)
	}
	if c, ok := g.inFlight[key]; ok {
		g.mu.Unlock()
		<-c.done
		return c.p, c.err
	}
	c := &loadCall{done: make(chan struct{})}
	g.inFlight[key] = c
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.inFlight, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.p, c.err = load()
	return c.p, c.err
}
