package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// External identities (core/identities.go): signing in with a city's OpenID Connect
// provider, and the links between provider identities and accounts.

var _ core.ExternalIdentityService = (*IdentityService)(nil)

// Limits on what a provider may send: a subject is at most 255 ASCII characters
// (OpenID Connect Core §2); the id of a provider is the config's.
const (
	maxSubject    = 255
	maxProviderID = 64
)

// checkIdentity refuses an identity the database could not hold as given: a
// provider's claims are verified, not necessarily sane (a NUL byte, an over-long
// subject), and must fail as EINVALID on both databases, never as a 500.
func checkIdentity(id core.ExternalIdentity) error {
	f := core.Fields{}
	f.CheckText("provider", id.Provider, 1, maxProviderID, false)
	f.CheckText("subject", id.Subject, 1, maxSubject, false)
	if id.Email != "" {
		f.CheckEmail("email", id.Email)
	}
	if !utf8.ValidString(id.Name) || strings.ContainsRune(id.Name, 0) {
		f.Add("name", core.RuleUTF8, "must be valid UTF-8 text")
	}
	return f.Err()
}

// accountName is the display name a new account takes from the claims: the name, or
// the address's local part, cut to the 100 characters a name may have.
func accountName(id core.ExternalIdentity) string {
	name := strings.Join(strings.FieldsFunc(id.Name, func(r rune) bool { return r < ' ' || r == 0x7f }), " ")
	if strings.TrimSpace(name) == "" {
		name, _, _ = strings.Cut(id.Email, "@")
	}
	if strings.TrimSpace(name) == "" {
		name = id.Provider
	}
	if utf8.RuneCountInString(name) > 100 {
		name = string([]rune(name)[:100])
	}
	return strings.TrimSpace(name)
}

// SignInExternal opens a session for a verified external identity (see
// core.ExternalIdentityService). Everything it changes — a new account, the link,
// the session, the audit — commits together or not at all.
func (s *IdentityService) SignInExternal(ctx context.Context, in core.ExternalSignIn) (*core.ExternalSignInResult, error) {
	s.init()
	id := in.Identity
	if err := checkIdentity(id); err != nil {
		return nil, err
	}
	lang := in.Language
	if !slices.Contains(s.Settings.Languages, lang) {
		lang = s.Settings.Languages[0]
	}
	now := s.DB.now()
	var (
		res  core.ExternalSignInResult
		user userRow
	)
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var userID string
		err := get(ctx, tx, &userID, `SELECT i.user_id FROM user_identities i JOIN users u ON u.id = i.user_id WHERE i.provider = ? AND i.subject = ? AND u.deleted_at IS NULL`, id.Provider, id.Subject)
		switch {
		case err == nil:
			if _, err := exec(ctx, tx, `UPDATE user_identities SET last_sign_in_at = ?, email = ? WHERE provider = ? AND subject = ?`, now, id.Email, id.Provider, id.Subject); err != nil {
				return fmt.Errorf("touch identity: %w", err)
			}
		case errors.Is(err, sql.ErrNoRows):
			if userID, err = s.openExternalAccount(ctx, tx, id, lang, now); err != nil {
				return err
			}
			res.Created = true
		default:
			return fmt.Errorf("find identity: %w", err)
		}
		if err := get(ctx, tx, &user, `SELECT `+userColumns+` FROM users WHERE id = ?`, userID); err != nil {
			return fmt.Errorf("find account: %w", err)
		}
		token, sess, err := insertSession(ctx, tx, userID, in.UserAgent, in.ClientIP, now, now.Add(s.Settings.SessionAbsolute))
		if err != nil {
			return err
		}
		res.Token, res.CSRFToken, res.Session = token, core.CSRFToken(token), sess
		ctx := core.WithPrincipal(ctx, &core.Principal{UserID: userID})
		return recordAudit(ctx, tx, now, "user.login_external", core.DomainCity, "user:"+userID, map[string]any{"provider": id.Provider, "client_ip": in.ClientIP})
	})
	if err != nil {
		return nil, err
	}
	res.User = user.user()
	return &res, nil
}

// openExternalAccount opens the account of an identity seen for the first time,
// inside tx, unless its verified address is an account's: that person must link.
func (s *IdentityService) openExternalAccount(ctx context.Context, tx *sqlx.Tx, id core.ExternalIdentity, lang string, now time.Time) (string, error) {
	var email, emailKey *string
	var verifiedAt *time.Time
	if id.Email != "" {
		key := core.NormalizeEmail(id.Email)
		var owner string
		err := get(ctx, tx, &owner, `SELECT id FROM users WHERE email_key = ?`, key)
		switch {
		case err == nil && id.EmailVerified:
			return "", &core.Error{Code: core.ECONFLICT, Message: "An account with this email address exists: sign in to it once with its password to link this identity.",
				Fields: map[string]string{"email": "belongs to an account", "rule": core.RuleLinkRequired}}
		case err == nil:
			// An address the provider does not vouch for, and an account has: the
			// new account goes without one rather than take it.
		case errors.Is(err, sql.ErrNoRows) && id.EmailVerified:
			email, emailKey, verifiedAt = &id.Email, &key, &now
		case errors.Is(err, sql.ErrNoRows):
			// An address the provider does not vouch for may be anyone's: taking it
			// would keep its owner from registering it, and a password reset sent
			// there would open this account. The account goes without one.
		default:
			return "", fmt.Errorf("find account by address: %w", err)
		}
	}
	userID := newID()
	if _, err := exec(ctx, tx, `INSERT INTO users (id, email, email_key, password_hash, display_name, language, created_at, updated_at, email_verified_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
		userID, email, emailKey, accountName(id), lang, now, now, verifiedAt); err != nil {
		if isUniqueViolation(err) {
			return "", core.Errorf(core.ECONFLICT, "The account is being opened by another request; try again.")
		}
		return "", fmt.Errorf("insert user: %w", err)
	}
	if err := insertIdentity(ctx, tx, userID, id, now); err != nil {
		return "", err
	}
	ctx = core.WithPrincipal(ctx, &core.Principal{UserID: userID})
	return userID, recordAudit(ctx, tx, now, "user.registered_external", core.DomainCity, "user:"+userID, map[string]any{"provider": id.Provider})
}

func insertIdentity(ctx context.Context, tx *sqlx.Tx, userID string, id core.ExternalIdentity, now time.Time) error {
	if _, err := exec(ctx, tx, `INSERT INTO user_identities (provider, subject, user_id, email, created_at, last_sign_in_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id.Provider, id.Subject, userID, id.Email, now, now); err != nil {
		if isUniqueViolation(err) {
			return &core.Error{Code: core.ECONFLICT, Message: "This identity already signs in to another account.",
				Fields: map[string]string{"identity": "is linked to another account", "rule": core.RuleLinkedElsewhere}}
		}
		return fmt.Errorf("insert identity: %w", err)
	}
	return nil
}

// LinkIdentity links a verified identity to the acting person's account; linking one
// that is already theirs changes nothing but the time of its last use.
func (s *IdentityService) LinkIdentity(ctx context.Context, id core.ExternalIdentity) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if err := checkIdentity(id); err != nil {
		return err
	}
	now := s.DB.now()
	return s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var owner string
		err := get(ctx, tx, &owner, `SELECT user_id FROM user_identities WHERE provider = ? AND subject = ?`, id.Provider, id.Subject)
		switch {
		case err == nil && owner == p.UserID:
			_, err := exec(ctx, tx, `UPDATE user_identities SET last_sign_in_at = ?, email = ? WHERE provider = ? AND subject = ?`, now, id.Email, id.Provider, id.Subject)
			return err
		case err == nil:
			return &core.Error{Code: core.ECONFLICT, Message: "This identity already signs in to another account.",
				Fields: map[string]string{"identity": "is linked to another account", "rule": core.RuleLinkedElsewhere}}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find identity: %w", err)
		}
		if err := insertIdentity(ctx, tx, p.UserID, id, now); err != nil {
			return err
		}
		return recordAudit(ctx, tx, now, "user.identity_linked", core.DomainCity, "user:"+p.UserID, map[string]any{"provider": id.Provider})
	})
}

type identityRow struct {
	Provider     string    `db:"provider"`
	Subject      string    `db:"subject"`
	Email        string    `db:"email"`
	CreatedAt    time.Time `db:"created_at"`
	LastSignInAt time.Time `db:"last_sign_in_at"`
}

// ListIdentities are the acting person's linked identities.
func (s *IdentityService) ListIdentities(ctx context.Context) ([]core.ExternalIdentity, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	return identitiesOf(ctx, s.DB.db, p.UserID)
}

func identitiesOf(ctx context.Context, q sqlx.ExtContext, userID string) ([]core.ExternalIdentity, error) {
	var rows []identityRow
	if err := selectAll(ctx, q, &rows, `SELECT provider, subject, email, created_at, last_sign_in_at FROM user_identities WHERE user_id = ? ORDER BY provider, subject`, userID); err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	out := make([]core.ExternalIdentity, len(rows))
	for i, r := range rows {
		out[i] = core.ExternalIdentity{Provider: r.Provider, Subject: r.Subject, Email: r.Email, CreatedAt: r.CreatedAt.UTC(), LastSignInAt: r.LastSignInAt.UTC()}
	}
	return out, nil
}

// UnlinkIdentity removes one of the acting person's identities, unless it is the
// only way left into an account without a password.
func (s *IdentityService) UnlinkIdentity(ctx context.Context, provider, subject string) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if err := checkIdentity(core.ExternalIdentity{Provider: provider, Subject: subject}); err != nil {
		return err
	}
	now := s.DB.now()
	return s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var hash *string
		if err := get(ctx, tx, &hash, `SELECT password_hash FROM users WHERE id = ?`, p.UserID); err != nil {
			return fmt.Errorf("find account: %w", err)
		}
		var others int
		if err := get(ctx, tx, &others, `SELECT COUNT(*) FROM user_identities WHERE user_id = ? AND NOT (provider = ? AND subject = ?)`, p.UserID, provider, subject); err != nil {
			return fmt.Errorf("count identities: %w", err)
		}
		n, err := exec(ctx, tx, `DELETE FROM user_identities WHERE user_id = ? AND provider = ? AND subject = ?`, p.UserID, provider, subject)
		if err != nil {
			return fmt.Errorf("unlink identity: %w", err)
		}
		if n == 0 {
			return core.Errorf(core.ENOTFOUND, "No such identity is linked to your account.")
		}
		if hash == nil && others == 0 {
			return &core.Error{Code: core.EINVALID, Message: "This is the only way to sign in to your account: set a password first.",
				Fields: map[string]string{"identity": "is the only way to sign in", "rule": core.RuleLastSignIn}}
		}
		return recordAudit(ctx, tx, now, "user.identity_unlinked", core.DomainCity, "user:"+p.UserID, map[string]any{"provider": provider})
	})
}

// insertSession opens a browser session of userID inside tx and returns its token,
// which is shown once and stored only as a hash.
func insertSession(ctx context.Context, tx *sqlx.Tx, userID, userAgent, clientIP string, now, expires time.Time) (string, core.Session, error) {
	token := randomToken(sessionTokenPrefix)
	sess := core.Session{ID: newID(), Kind: core.KindSession, UserAgent: truncate(userAgent, 200), ClientIP: clientIP,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: &expires}
	if _, err := exec(ctx, tx, `INSERT INTO sessions (id, user_id, token_hash, kind, user_agent, client_ip, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, userID, hashToken(token), core.KindSession, sess.UserAgent, sess.ClientIP, now, now, expires); err != nil {
		return "", core.Session{}, fmt.Errorf("insert session: %w", err)
	}
	return token, sess, nil
}
