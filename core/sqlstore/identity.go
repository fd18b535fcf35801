package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

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
	// Zone is the city's time zone, whose calendar day a verified age is counted on
	// (nil: UTC).
	Zone *time.Location
}

func (s IdentitySettings) zone() *time.Location {
	if s.Zone == nil {
		return time.UTC
	}
	return s.Zone
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

// IdentityService implements core.IdentityService. Its methods are filed by subject:
// accounts.go, sessions.go (sign-in and sessions), tokens.go (API tokens) and
// principals.go (from a token to the person and their roles).
type IdentityService struct {
	DB       *DB
	Authz    core.Authorizer
	Settings IdentitySettings
	// OnPolicyChange is called after a change that alters explicit grants.
	OnPolicyChange func()
	// Mail queues account mail, written by AccountMail; with either nil no account
	// mail is sent (a command-line tool's service).
	Mail        *MailQueue
	AccountMail core.AccountMailComposer

	hashSlots chan struct{}
	dummyHash string
	initOnce  sync.Once
	cache     principalCache

	loads   singleflight.Group // one database lookup per token hash at a time
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

// requireUser is the signed-in person acting, or an unauthenticated error.
func requireUser(ctx context.Context) (*core.Principal, error) {
	p := core.PrincipalFrom(ctx)
	if !p.Authenticated() {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "Sign in first.")
	}
	return p, nil
}
