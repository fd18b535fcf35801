package sqlstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// ThrottleSettings limit sign-in attempts. Three counters guard every attempt, each a
// fixed window of Window that a lock, once set, holds shut for its lockout:
//
//   - one account from one client address (MaxPerAccountAddr): the limit a guesser
//     meets first, and the only one an owner shares with nobody;
//   - one client address on any account (MaxPerClientAddr): password spraying;
//   - one account from any address (MaxPerAccount): guessing spread over many
//     addresses. Addresses the account signed in from within KnownAddressAge are
//     exempt from this one, so a stranger who exhausts it locks out only other
//     strangers, never the owner at their usual address.
//
// Attempts are counted before the password is checked, each in one atomic statement
// in the shared database, so concurrent attempts on any number of nodes cannot all
// pass a check made before the count (issue 12). A successful sign-in takes its
// attempt back.
type ThrottleSettings struct {
	Window             time.Duration
	MaxPerAccountAddr  int
	MaxPerAccount      int
	MaxPerClientAddr   int
	LockoutForAccount  time.Duration // locks of an account, and of an account at one address
	LockoutForClientIP time.Duration // locks of a client address
	KnownAddressAge    time.Duration
}

// DefaultThrottleSettings are the production limits (docs/operators.md).
func DefaultThrottleSettings() ThrottleSettings {
	return ThrottleSettings{
		Window: 15 * time.Minute, MaxPerAccountAddr: 5, MaxPerAccount: 20, MaxPerClientAddr: 50,
		LockoutForAccount: 15 * time.Minute, LockoutForClientIP: 15 * time.Minute, KnownAddressAge: 30 * 24 * time.Hour,
	}
}

// withDefaults fills the settings left zero from DefaultThrottleSettings.
func (t ThrottleSettings) withDefaults() ThrottleSettings {
	d := DefaultThrottleSettings()
	for _, f := range []struct{ v, d *int }{{&t.MaxPerAccountAddr, &d.MaxPerAccountAddr}, {&t.MaxPerAccount, &d.MaxPerAccount}, {&t.MaxPerClientAddr, &d.MaxPerClientAddr}} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
	for _, f := range []struct{ v, d *time.Duration }{{&t.Window, &d.Window}, {&t.LockoutForAccount, &d.LockoutForAccount},
		{&t.LockoutForClientIP, &d.LockoutForClientIP}, {&t.KnownAddressAge, &d.KnownAddressAge}} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
	return t
}

type throttleKey struct {
	key     string
	max     int
	lockout time.Duration
}

// throttleKeys are the counters of one attempt, in the order they are counted.
type throttleKeys struct {
	pair, addr, account throttleKey
}

func (s *IdentityService) throttleKeys(emailKey, clientAddr string) throttleKeys {
	t := s.Settings.Throttle.withDefaults()
	return throttleKeys{
		pair:    throttleKey{"pair:" + clientAddr + " " + emailKey, t.MaxPerAccountAddr, t.LockoutForAccount},
		addr:    throttleKey{"ip:" + clientAddr, t.MaxPerClientAddr, t.LockoutForClientIP},
		account: throttleKey{"acct:" + emailKey, t.MaxPerAccount, t.LockoutForAccount},
	}
}

func rateLimited(wait time.Duration) error {
	return &core.Error{Code: core.ERATELIMITED, Message: "Too many failed sign-in attempts. Try again later.",
		RetryAfterSeconds: max(1, int(math.Ceil(wait.Seconds())))}
}

// admitAttempt counts a sign-in attempt and refuses it when a limit is passed. It runs
// before the password hash is computed, so refused guesses cost almost nothing, and
// each count is one atomic statement, so the limit holds under any concurrency. The
// counts share one transaction: one commit per attempt, and on PostgreSQL the rows
// stay locked, always in the same order, until it ends.
// A counter is advanced only when the ones before it admitted the attempt: guesses
// refused at one address do not use up the account's allowance for other addresses.
func (s *IdentityService) admitAttempt(ctx context.Context, k throttleKeys, emailKey, clientAddr string) error {
	now := s.DB.now()
	// A lock this node has seen refuses without touching the database. The account
	// counter is not cached: whether it applies depends on the address.
	s.locksMu.Lock()
	wait := time.Duration(0)
	for _, key := range []string{k.pair.key, k.addr.key} {
		if until, ok := s.locks[key]; ok && until.After(now) {
			wait = max(wait, until.Sub(now))
		}
	}
	s.locksMu.Unlock()
	if wait > 0 {
		return rateLimited(wait)
	}
	var refused time.Time
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if s.DB.Dialect == Postgres {
			// Dialect-only: the count need not wait for the disk. Other nodes see it
			// at commit all the same; a server crash may forget the last fraction of
			// a second of attempts, which costs an attacker's guesses nothing worth
			// having, while waiting for a flush would cost every sign-in one.
			if _, err := exec(ctx, tx, `SET LOCAL synchronous_commit = off`); err != nil {
				return fmt.Errorf("count sign-in attempt: %w", err)
			}
		}
		for _, key := range []throttleKey{k.pair, k.addr, k.account} {
			until, err := s.countAttempt(ctx, tx, key, now)
			if err != nil {
				return err
			}
			if until.IsZero() {
				continue
			}
			if key == k.account {
				known, err := s.knownAddress(ctx, tx, emailKey, clientAddr, now)
				if err != nil {
					return err
				}
				if known {
					continue
				}
			} else {
				s.rememberLock(key.key, until)
			}
			refused = until
			return nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !refused.IsZero() {
		return rateLimited(refused.Sub(now))
	}
	return nil
}

// countAttempt adds one attempt to a counter and returns when its lock ends, or zero
// when the attempt is within the limit. A window that ran out, or a lock that ended,
// starts the count afresh; the attempt that passes the limit sets the lock. It is one
// UPSERT ... RETURNING on both databases, so two attempts never read the same count.
func (s *IdentityService) countAttempt(ctx context.Context, q sqlx.ExtContext, k throttleKey, now time.Time) (time.Time, error) {
	windowStart := now.Add(-s.Settings.Throttle.withDefaults().Window)
	var lockedUntil *time.Time
	const fresh = `(login_throttle.locked_until IS NULL AND login_throttle.window_start <= ?) OR login_throttle.locked_until <= ?`
	err := get(ctx, q, &lockedUntil, `INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until) VALUES (?, 1, ?, NULL)
		ON CONFLICT (throttle_key) DO UPDATE SET
			failures = CASE WHEN `+fresh+` THEN 1 ELSE login_throttle.failures + 1 END,
			window_start = CASE WHEN `+fresh+` THEN excluded.window_start ELSE login_throttle.window_start END,
			locked_until = CASE WHEN `+fresh+` THEN NULL
				WHEN login_throttle.locked_until IS NULL AND login_throttle.failures + 1 > ? THEN ?
				ELSE login_throttle.locked_until END
		RETURNING locked_until`,
		k.key, now, windowStart, now, windowStart, now, windowStart, now, k.max, now.Add(k.lockout))
	if err != nil {
		return time.Time{}, fmt.Errorf("count sign-in attempt: %w", err)
	}
	if lockedUntil != nil && lockedUntil.After(now) {
		return lockedUntil.UTC(), nil
	}
	return time.Time{}, nil
}

// knownAddress reports whether the account signed in from addr recently: its owner's
// usual address, which the account-wide limit does not shut.
func (s *IdentityService) knownAddress(ctx context.Context, q sqlx.ExtContext, emailKey, addr string, now time.Time) (bool, error) {
	var n int
	err := get(ctx, q, &n, `SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE u.email_key = ? AND u.deleted_at IS NULL AND s.kind = ? AND s.client_ip = ? AND s.created_at > ?`,
		emailKey, core.KindSession, addr, now.Add(-s.Settings.Throttle.withDefaults().KnownAddressAge))
	if err != nil {
		return false, fmt.Errorf("known sign-in address: %w", err)
	}
	return n > 0, nil
}

// forgetAttempt is called after a successful sign-in: the account may be tried from
// this address afresh, and the attempt no longer counts against the address or the
// account.
func forgetAttempt(ctx context.Context, q sqlx.ExtContext, k throttleKeys) error {
	if _, err := exec(ctx, q, `DELETE FROM login_throttle WHERE throttle_key = ?`, k.pair.key); err != nil {
		return fmt.Errorf("reset throttle: %w", err)
	}
	for _, key := range []string{k.addr.key, k.account.key} {
		if _, err := exec(ctx, q, `UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = ? AND failures > 0`, key); err != nil {
			return fmt.Errorf("reset throttle: %w", err)
		}
	}
	return nil
}

func (s *IdentityService) rememberLock(key string, until time.Time) {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	if len(s.locks) > 100_000 {
		clear(s.locks)
	}
	s.locks[key] = until
}
