package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/password"
)

// Accounts: opening one (by registration or from the command line), describing it to
// its owner, exporting and erasing its personal data.

type userRow struct {
	ID           string     `db:"id"`
	Email        *string    `db:"email"`
	PasswordHash *string    `db:"password_hash"`
	DisplayName  string     `db:"display_name"`
	Language     string     `db:"language"`
	CreatedAt    time.Time  `db:"created_at"`
	DeletedAt    *time.Time `db:"deleted_at"`
	VerifiedAt   *time.Time `db:"email_verified_at"`
}

func (r userRow) user() core.User {
	u := core.User{ID: r.ID, DisplayName: r.DisplayName, Language: r.Language, CreatedAt: r.CreatedAt.UTC(), EmailVerified: r.VerifiedAt != nil}
	if r.Email != nil {
		u.Email = *r.Email
	}
	return u
}

const userColumns = `id, email, password_hash, display_name, language, created_at, deleted_at, email_verified_at`

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

// Register opens an account and queues the mail that verifies its address. An address
// that has an account gets the same answer — status, body and, since the password is
// hashed and a mail queued either way, about the same time — and its owner a mail.
func (s *IdentityService) Register(ctx context.Context, r core.Registration) (*core.User, error) {
	return s.createUser(ctx, r, "", "user.registered")
}

// CreateUser opens an account from the command line, optionally with a city-wide role.
// The operator vouches for the address: it counts as verified, and an address that
// has an account is refused (ECONFLICT), since the operator needs to know.
func (s *IdentityService) CreateUser(ctx context.Context, r core.Registration, cityRole string) (*core.User, error) {
	if cityRole != "" && !slices.Contains(core.GrantableRoles, cityRole) {
		return nil, core.InvalidField("role", core.RuleOneOf, "must be one of "+strings.Join(core.GrantableRoles, ", "))
	}
	return s.createUser(ctx, r, cityRole, "user.created")
}

var errRegisteredMeanwhile = errors.New("address registered meanwhile")

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
	byOperator := action == "user.created"
	now := s.DB.now()
	u := core.User{ID: newID(), Email: r.Email, DisplayName: r.DisplayName, Language: r.Language, CreatedAt: now, EmailVerified: byOperator}
	var verifiedAt *time.Time
	if byOperator {
		verifiedAt = &now
	}
	var mails []core.QueuedMail
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var owner userRow
		switch err := get(ctx, tx, &owner, `SELECT `+userColumns+` FROM users WHERE email_key = ?`, core.NormalizeEmail(u.Email)); {
		case err == nil && byOperator:
			return &core.Error{Code: core.ECONFLICT, Message: "An account with this email address already exists.", Fields: map[string]string{"email": "is already registered"}}
		case err == nil:
			// The answer is the user that would have been made; the owner hears of it
			// (once an hour). The attempt is audited, which also makes every such
			// answer write and commit as a new account's does: an answer that skipped
			// the write would come back sooner and tell that the address is taken.
			if mails, err = s.accountExistsMail(ctx, tx, owner, now); err != nil {
				return err
			}
			return recordAudit(ctx, tx, now, "user.registration_taken", core.DomainCity, "user:"+owner.ID, nil)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find account: %w", err)
		}
		if _, err := exec(ctx, tx, `INSERT INTO users (id, email, email_key, password_hash, display_name, language, created_at, updated_at, email_verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Email, core.NormalizeEmail(u.Email), hash, u.DisplayName, u.Language, now, now, verifiedAt); err != nil {
			if isUniqueViolation(err) && !byOperator {
				return errRegisteredMeanwhile
			}
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
		if !byOperator {
			var err error
			if mails, err = s.verificationMail(ctx, tx, u.ID, u.Email, u.DisplayName, u.Language, now); err != nil {
				return err
			}
		}
		return recordAudit(ctx, tx, now, action, core.DomainCity, "user:"+u.ID, map[string]any{"city_role": cityRole})
	})
	if errors.Is(err, errRegisteredMeanwhile) {
		return &u, nil // a concurrent request registered the address: the same answer
	}
	if err != nil {
		return nil, err
	}
	if len(mails) > 0 && s.Mail != nil {
		s.Mail.Wake()
	}
	if cityRole != "" && s.OnPolicyChange != nil {
		s.OnPolicyChange()
	}
	return &u, nil
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
	uploads, err := uploadsOf(ctx, s.DB.db, p.UserID)
	if err != nil {
		return nil, err
	}
	told, err := notificationDataOf(ctx, s.DB.db, p.UserID)
	if err != nil {
		return nil, err
	}
	claims, err := claimDataOf(ctx, s.DB.db, p.UserID)
	if err != nil {
		return nil, err
	}
	identities, err := identitiesOf(ctx, s.DB.db, p.UserID)
	if err != nil {
		return nil, err
	}
	actions := make([]map[string]any, len(audit))
	for i, a := range audit {
		actions[i] = map[string]any{"at": a.At.UTC(), "action": a.Action, "domain": a.Domain, "target": a.Target}
	}
	return map[string]any{
		"exported_at":     s.DB.now(),
		"user":            me.User,
		"roles":           me.Roles,
		"memberships":     all,
		"organisations":   me.Organisations,
		"role_grants":     grants,
		"sessions":        sessions,
		"api_tokens":      tokens,
		"activity":        actions,
		"uploads":         uploads,
		"notifications":   told,
		"identity_claims": claims,
		"identities":      identities,
	}, nil
}

// DeleteAccount erases the acting person's personal data in one transaction, files
// they uploaded through plugins included. The user row stays as a pseudonym ("Deleted
// user") so that records which must remain, such as the audit log and counted votes in
// plugins, keep a valid reference without the person.
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
			`UPDATE users SET email = NULL, email_key = NULL, password_hash = NULL, display_name = 'Deleted user', verified_birth_date = NULL, deleted_at = ?, updated_at = ? WHERE id = ?`,
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM claim_residences WHERE user_id = ?`, // where identity providers placed them
			`DELETE FROM memberships WHERE user_id = ?`,
			`DELETE FROM organisation_members WHERE user_id = ?`,
			`DELETE FROM role_grants WHERE user_id = ?`,
			`DELETE FROM uploads WHERE uploader_id = ?`, // photos and attachments they sent through plugins
			// What they were told, what they follow and how they chose to hear of it.
			`DELETE FROM notifications WHERE user_id = ?`,
			`DELETE FROM follows WHERE user_id = ?`,
			`DELETE FROM notification_preferences WHERE user_id = ?`,
			// Their identities at the city's providers: a later sign-in with one
			// opens a new account, never this one again.
			`DELETE FROM user_identities WHERE user_id = ?`,
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

// UpdateProfile changes the acting person's name, email address or language. The
// cached principals of their sessions are dropped, so the next request already sees
// the new name and language.
func (s *IdentityService) UpdateProfile(ctx context.Context, u core.ProfileUpdate) (*core.User, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	s.init()
	f := core.Fields{}
	if u.DisplayName != nil {
		name := strings.TrimSpace(*u.DisplayName)
		u.DisplayName = &name
		f.CheckText("display_name", name, 1, 100, false)
	}
	if u.Email != nil {
		email := strings.TrimSpace(*u.Email)
		u.Email = &email
		f.CheckEmail("email", email)
	}
	if u.Language != nil && !slices.Contains(s.Settings.Languages, *u.Language) {
		f.Add("language", core.RuleOneOf, "must be one of the city's languages: "+strings.Join(s.Settings.Languages, ", "))
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if u.Email != nil {
		if err := s.checkEmailChange(ctx, p.UserID, *u.Email, u.CurrentPassword); err != nil {
			return nil, err
		}
	}
	now := s.DB.now()
	var out core.User
	var hashes []string
	var mails []core.QueuedMail
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var row userRow
		if err := get(ctx, tx, &row, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`, p.UserID); err != nil {
			return notFound(err, "The account")
		}
		out = row.user()
		changed := map[string]any{}
		if u.DisplayName != nil && *u.DisplayName != out.DisplayName {
			out.DisplayName, changed["display_name"] = *u.DisplayName, true
		}
		if u.Email != nil && *u.Email != out.Email {
			out.Email, changed["email"] = *u.Email, true
		}
		if u.Language != nil && *u.Language != out.Language {
			out.Language, changed["language"] = *u.Language, true
		}
		if len(changed) == 0 {
			return nil
		}
		if _, err := exec(ctx, tx, `UPDATE users SET display_name = ?, email = ?, email_key = ?, language = ?, updated_at = ? WHERE id = ?`,
			out.DisplayName, out.Email, core.NormalizeEmail(out.Email), out.Language, now, p.UserID); err != nil {
			if isUniqueViolation(err) {
				return &core.Error{Code: core.ECONFLICT, Message: "An account with this email address already exists.", Fields: map[string]string{"email": "is already registered"}}
			}
			return fmt.Errorf("update profile: %w", err)
		}
		if changed["email"] != nil {
			// The new address is the person's word only until its link is followed.
			if _, err := exec(ctx, tx, `UPDATE users SET email_verified_at = NULL WHERE id = ?`, p.UserID); err != nil {
				return fmt.Errorf("update profile: %w", err)
			}
			if mails, err = s.verificationMail(ctx, tx, p.UserID, out.Email, out.DisplayName, out.Language, now); err != nil {
				return err
			}
			out.EmailVerified = false
		}
		var err error
		if hashes, err = s.dropUserSessions(ctx, tx, p.UserID); err != nil {
			return err
		}
		return recordAudit(ctx, tx, now, "user.updated", core.DomainCity, "user:"+p.UserID, changed)
	})
	if err != nil {
		return nil, err
	}
	s.dropCached(hashes)
	if len(mails) > 0 && s.Mail != nil {
		s.Mail.Wake()
	}
	return &out, nil
}

// checkEmailChange asks for the current password when email is not the account's
// address now.
func (s *IdentityService) checkEmailChange(ctx context.Context, userID, email, current string) error {
	var row userRow
	if err := get(ctx, s.DB.db, &row, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`, userID); err != nil {
		return notFound(err, "The account")
	}
	if row.Email != nil && *row.Email == email {
		return nil
	}
	if current == "" {
		return core.InvalidField("current_password", core.RuleRequired, "is required to change the email address")
	}
	ok, err := s.verify(ctx, row, current)
	if err != nil {
		return err
	}
	if !ok {
		return core.InvalidField("current_password", core.RuleWrongPassword, "is not the account's current password")
	}
	return nil
}

// verify checks pw, typed again by the signed-in person, against the account's
// password hash. Each try is counted for the account, as sign-in counts them for an
// account at an address: a borrowed session — or the API tokens it could make —
// may guess as few times as a stranger at the sign-in page (MaxPerAccountAddr a
// window, then the account's lockout). A right password takes its try back.
func (s *IdentityService) verify(ctx context.Context, row userRow, pw string) (bool, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return false, err
	}
	t := s.Settings.Throttle.withDefaults()
	key := throttleKey{"reauth:" + p.UserID, t.MaxPerAccountAddr, t.LockoutForAccount}
	now := s.DB.now()
	var until time.Time
	if err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		until, err = s.countAttempt(ctx, tx, key, now)
		return err
	}); err != nil {
		return false, err
	}
	if !until.IsZero() {
		return false, rateLimited(until.Sub(now))
	}
	if row.PasswordHash == nil {
		return false, nil
	}
	release, err := s.hashSlot(ctx)
	if err != nil {
		return false, err
	}
	ok, err := s.Settings.Hasher.Verify(pw, *row.PasswordHash)
	release()
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	if ok {
		if _, err := exec(ctx, s.DB.db, `UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = ? AND failures > 0`, key.key); err != nil {
			return false, fmt.Errorf("reset throttle: %w", err)
		}
	}
	return ok, nil
}

// ChangePassword replaces the acting person's password after checking the current
// one, and ends every other session and API token of theirs: whoever may have learnt
// the old password is signed out. The session that made the change stays open.
func (s *IdentityService) ChangePassword(ctx context.Context, c core.PasswordChange) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	s.init()
	var row userRow
	if err := get(ctx, s.DB.db, &row, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`, p.UserID); err != nil {
		return notFound(err, "The account")
	}
	f := core.Fields{}
	if c.Current == "" {
		f.Add("current_password", core.RuleRequired, "is required")
	}
	u := row.user()
	local := u.Email
	if i := strings.IndexByte(local, '@'); i > 0 {
		local = local[:i]
	}
	if c.New == "" {
		f.Add("new_password", core.RuleRequired, "is required")
	} else if problem := password.Check(c.New, u.Email, local, u.DisplayName); problem != "" {
		f.Add("new_password", core.RulePassword, problem)
	}
	if err := f.Err(); err != nil {
		return err
	}
	ok, err := s.verify(ctx, row, c.Current)
	if err != nil {
		return err
	}
	if !ok {
		return core.InvalidField("current_password", core.RuleWrongPassword, "is not the account's current password")
	}
	release, err := s.hashSlot(ctx)
	if err != nil {
		return err
	}
	hash, err := s.Settings.Hasher.Hash(c.New)
	release()
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	now := s.DB.now()
	var hashes []string
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := exec(ctx, tx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, now, p.UserID); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		var err error
		if hashes, err = s.dropUserSessions(ctx, tx, p.UserID); err != nil {
			return err
		}
		if _, err := exec(ctx, tx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL`, now, p.UserID, p.SessionID); err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		return recordAudit(ctx, tx, now, "user.password_changed", core.DomainCity, "user:"+p.UserID, nil)
	})
	if err != nil {
		return err
	}
	s.dropCached(hashes)
	return nil
}

// dropUserSessions forgets the cached principals of every session of userID and
// returns their token hashes, to forget once more after the commit: a request
// resolved meanwhile may have cached what the transaction was about to change.
func (s *IdentityService) dropUserSessions(ctx context.Context, tx *sqlx.Tx, userID string) ([]string, error) {
	var hashes []string
	if err := selectAll(ctx, tx, &hashes, `SELECT token_hash FROM sessions WHERE user_id = ?`, userID); err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", userID, err)
	}
	s.dropCached(hashes)
	return hashes, nil
}

func (s *IdentityService) dropCached(hashes []string) {
	for _, h := range hashes {
		s.cache.drop(h)
	}
}
