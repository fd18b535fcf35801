package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/password"
)

// Account mail (core.AccountMailService): the links that verify an address and reset
// a password. A link's token is random and kept as its SHA-256 only, is for one
// purpose and one address, works once and expires.

// How long links work, and how many of one kind a person is sent an hour (more
// requests change nothing and answer the same).
const (
	VerifyLinkTTL         = 48 * time.Hour
	ResetLinkTTL          = time.Hour
	MaxAccountLinksAnHour = 3
)

var _ core.AccountMailService = (*IdentityService)(nil)

func invalidToken() error {
	return core.InvalidField("token", core.RuleToken, "is not a valid link: it may have been used or have expired")
}

// accountLink stores a fresh token for userID and purpose, sent to email, unless the
// person was sent MaxAccountLinksAnHour of them within the hour ("" then).
func accountLink(ctx context.Context, tx *sqlx.Tx, userID, purpose, email string, now time.Time, ttl time.Duration) (string, error) {
	var recent int
	if err := get(ctx, tx, &recent, `SELECT COUNT(*) FROM account_tokens WHERE user_id = ? AND purpose = ? AND created_at > ?`,
		userID, purpose, now.Add(-time.Hour)); err != nil {
		return "", fmt.Errorf("count links: %w", err)
	}
	if recent >= MaxAccountLinksAnHour {
		return "", nil
	}
	token := randomToken("")
	if _, err := exec(ctx, tx, `INSERT INTO account_tokens (token_hash, user_id, purpose, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		hashToken(token), userID, purpose, email, now, now.Add(ttl)); err != nil {
		return "", fmt.Errorf("store link: %w", err)
	}
	return token, nil
}

// queueAccountMail writes one account mail and queues it in tx.
func (s *IdentityService) queueAccountMail(ctx context.Context, tx *sqlx.Tx, key, userID string, m core.AccountMail) ([]core.QueuedMail, error) {
	mail, err := s.AccountMail.ComposeAccountMail(m)
	if err != nil {
		return nil, fmt.Errorf("compose %s mail: %w", m.Purpose, err)
	}
	q := []core.QueuedMail{{Key: key, UserID: userID, Purpose: m.Purpose, Mail: &mail}}
	return q, enqueueMails(ctx, tx, q)
}

// verificationMail queues a verification link to email for userID.
func (s *IdentityService) verificationMail(ctx context.Context, tx *sqlx.Tx, userID, email, name, lang string, now time.Time) ([]core.QueuedMail, error) {
	if s.AccountMail == nil || s.Mail == nil {
		return nil, nil
	}
	token, err := accountLink(ctx, tx, userID, core.PurposeVerifyEmail, email, now, VerifyLinkTTL)
	if err != nil || token == "" {
		return nil, err
	}
	return s.queueAccountMail(ctx, tx, "verify_email:"+hashToken(token), userID,
		core.AccountMail{Purpose: core.PurposeVerifyEmail, Lang: lang, To: email, Name: name, Token: token})
}

// accountExistsMail tells the owner of an address someone tried to register with it:
// at most once an hour. An owner who never verified the address gets a verification
// link instead (it may well be them, trying again), since nothing else may be sent
// to an unverified address.
func (s *IdentityService) accountExistsMail(ctx context.Context, tx *sqlx.Tx, owner userRow, now time.Time) ([]core.QueuedMail, error) {
	if s.AccountMail == nil || s.Mail == nil || owner.Email == nil || owner.DeletedAt != nil {
		return nil, nil
	}
	if owner.VerifiedAt == nil {
		return s.verificationMail(ctx, tx, owner.ID, *owner.Email, owner.DisplayName, owner.Language, now)
	}
	key := "account_exists:" + owner.ID + ":" + now.Truncate(time.Hour).Format(time.RFC3339)
	return s.queueAccountMail(ctx, tx, key, owner.ID,
		core.AccountMail{Purpose: core.PurposeAccountExists, Lang: owner.Language, To: *owner.Email, Name: owner.DisplayName})
}

// ResendVerification mails the acting person a new verification link.
func (s *IdentityService) ResendVerification(ctx context.Context) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	now := s.DB.now()
	var mails []core.QueuedMail
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var row userRow
		if err := get(ctx, tx, &row, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`, p.UserID); err != nil {
			return notFound(err, "The account")
		}
		if row.VerifiedAt != nil || row.Email == nil {
			return nil
		}
		mails, err = s.verificationMail(ctx, tx, row.ID, *row.Email, row.DisplayName, row.Language, now)
		return err
	})
	if err == nil && len(mails) > 0 {
		s.Mail.Wake()
	}
	return err
}

// tokenRow is a link's stored half.
type tokenRow struct {
	UserID string `db:"user_id"`
	Email  string `db:"email"`
}

// useToken consumes a live token of purpose in tx, or fails with invalidToken.
func useToken(ctx context.Context, tx *sqlx.Tx, token, purpose string, now time.Time) (tokenRow, error) {
	var t tokenRow
	if token == "" {
		return t, invalidToken()
	}
	h := hashToken(token)
	err := get(ctx, tx, &t, `SELECT user_id, email FROM account_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`, h, purpose, now)
	if errors.Is(err, sql.ErrNoRows) {
		return t, invalidToken()
	}
	if err != nil {
		return t, fmt.Errorf("find link: %w", err)
	}
	// A second request with the same token, racing this one, finds it used here.
	n, err := exec(ctx, tx, `UPDATE account_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL`, now, h)
	if err != nil {
		return t, fmt.Errorf("use link: %w", err)
	}
	if n != 1 {
		return t, invalidToken()
	}
	return t, nil
}

// VerifyEmail verifies the address a verification link was sent to. Signed in as
// someone else, the link is refused: it is not theirs to use.
func (s *IdentityService) VerifyEmail(ctx context.Context, v core.EmailVerification) error {
	now := s.DB.now()
	var hashes []string
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		t, err := useToken(ctx, tx, v.Token, core.PurposeVerifyEmail, now)
		if err != nil {
			return err
		}
		if p := core.PrincipalFrom(ctx); p.Authenticated() && p.UserID != t.UserID {
			return invalidToken()
		}
		n, err := exec(ctx, tx, `UPDATE users SET email_verified_at = ?, updated_at = ? WHERE id = ? AND email_key = ? AND deleted_at IS NULL`,
			now, now, t.UserID, core.NormalizeEmail(t.Email))
		if err != nil {
			return fmt.Errorf("verify email: %w", err)
		}
		if n == 0 { // the account has another address by now
			return invalidToken()
		}
		if hashes, err = s.dropUserSessions(ctx, tx, t.UserID); err != nil {
			return err
		}
		return recordAudit(ctx, tx, now, "user.email_verified", core.DomainCity, "user:"+t.UserID, nil)
	})
	if err != nil {
		return err
	}
	s.dropCached(hashes)
	return nil
}

// RequestPasswordReset mails a reset link to an address that has an account. The
// answer is the same whether it has one or not.
func (s *IdentityService) RequestPasswordReset(ctx context.Context, r core.PasswordResetRequest) error {
	email := strings.TrimSpace(r.Email)
	f := core.Fields{}
	f.CheckEmail("email", email)
	if err := f.Err(); err != nil {
		return err
	}
	now := s.DB.now()
	var mails []core.QueuedMail
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var row userRow
		err := get(ctx, tx, &row, `SELECT `+userColumns+` FROM users WHERE email_key = ? AND deleted_at IS NULL`, core.NormalizeEmail(email))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && row.Email == nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find account: %w", err)
		}
		if s.AccountMail == nil || s.Mail == nil {
			return nil
		}
		token, err := accountLink(ctx, tx, row.ID, core.PurposeResetPassword, *row.Email, now, ResetLinkTTL)
		if err != nil || token == "" {
			return err
		}
		mails, err = s.queueAccountMail(ctx, tx, "reset_password:"+hashToken(token), row.ID,
			core.AccountMail{Purpose: core.PurposeResetPassword, Lang: row.Language, To: *row.Email, Name: row.DisplayName, Token: token})
		return err
	})
	if err == nil && len(mails) > 0 {
		s.Mail.Wake()
	}
	return err
}

// ResetPassword sets a new password with a reset link, ends every session and token
// of the person, and lifts a sign-in lockout: whoever held the old password is out,
// the owner is in. Following the link proves the address too.
func (s *IdentityService) ResetPassword(ctx context.Context, r core.PasswordReset) error {
	s.init()
	now := s.DB.now()
	// The rules need the person's name and address, so the token is looked at first;
	// it is used only in the transaction that changes the password.
	var t tokenRow
	err := get(ctx, s.DB.db, &t, `SELECT user_id, email FROM account_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`,
		hashToken(r.Token), core.PurposeResetPassword, now)
	if errors.Is(err, sql.ErrNoRows) || r.Token == "" {
		return invalidToken()
	}
	if err != nil {
		return fmt.Errorf("find link: %w", err)
	}
	var row userRow
	if err := get(ctx, s.DB.db, &row, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`, t.UserID); err != nil {
		return invalidToken()
	}
	u := row.user()
	local, _, _ := strings.Cut(u.Email, "@")
	if r.NewPassword == "" {
		return core.InvalidField("new_password", core.RuleRequired, "is required")
	}
	if problem := password.Check(r.NewPassword, u.Email, local, u.DisplayName); problem != "" {
		return core.InvalidField("new_password", core.RulePassword, problem)
	}
	release, err := s.hashSlot(ctx)
	if err != nil {
		return err
	}
	hash, err := s.Settings.Hasher.Hash(r.NewPassword)
	release()
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	var hashes []string
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		used, err := useToken(ctx, tx, r.Token, core.PurposeResetPassword, now)
		if err != nil {
			return err
		}
		key := core.NormalizeEmail(used.Email)
		n, err := exec(ctx, tx, `UPDATE users SET password_hash = ?, email_verified_at = COALESCE(email_verified_at, ?), updated_at = ? WHERE id = ? AND email_key = ? AND deleted_at IS NULL`,
			hash, now, now, used.UserID, key)
		if err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		if n == 0 { // the account has another address by now
			return invalidToken()
		}
		// Other reset links die with this one.
		if _, err := exec(ctx, tx, `UPDATE account_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL`, now, used.UserID, core.PurposeResetPassword); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		if hashes, err = s.dropUserSessions(ctx, tx, used.UserID); err != nil {
			return err
		}
		if _, err := exec(ctx, tx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, now, used.UserID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if err := forgetAccountThrottle(ctx, tx, key); err != nil {
			return err
		}
		return recordAudit(ctx, tx, now, "user.password_reset", core.DomainCity, "user:"+used.UserID, nil)
	})
	if err != nil {
		return err
	}
	s.dropCached(hashes)
	return nil
}
