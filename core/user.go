package core

import (
	"context"
	"time"
)

// User is a person with an account.
type User struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Language    string    `json:"language"`
	CreatedAt   time.Time `json:"created_at"`
	// EmailVerified is true once the person followed the link mailed to the address.
	EmailVerified bool `json:"email_verified"`
}

// Registration is what a person gives to open an account.
type Registration struct {
	Email       string `json:"email" max:"254"`
	Password    string `json:"password" max:"128"`
	DisplayName string `json:"display_name" max:"100"`
	Language    string `json:"language" max:"16"`
}

// Session is a signed-in browser or script. Kind is "session" for a login and
// "api_token" for a personal API token. The token itself is never stored.
type Session struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name,omitempty"`
	UserAgent  string     `json:"user_agent,omitempty"`
	ClientIP   string     `json:"client_ip,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	Current    bool       `json:"current,omitempty"`
	// Scope is what an API token may do (ScopeFull or ScopeRead); sessions are full.
	Scope string `json:"scope,omitempty"`
}

// Session kinds.
const (
	KindSession  = "session"
	KindAPIToken = "api_token"
)

// API token scopes: a read-only token answers safe requests only (GET, HEAD,
// OPTIONS), so a dashboard or a newsroom script can read without being able to act.
const (
	ScopeFull = "full"
	ScopeRead = "read"
)

// LoginResult is a fresh session: the token is shown to the caller exactly once.
type LoginResult struct {
	Token     string  `json:"token"`
	CSRFToken string  `json:"csrf_token"`
	User      User    `json:"user"`
	Session   Session `json:"-"`
}

// NewToken is a fresh personal API token, shown once.
type NewToken struct {
	Token   string  `json:"token"`
	Session Session `json:"token_info"`
}

// LoginAttempt carries what the throttle needs to know about the caller.
type LoginAttempt struct {
	Email     string `json:"email" max:"254"`
	Password  string `json:"password" max:"1024"`
	ClientIP  string `json:"-"`
	UserAgent string `json:"-"`
}

// IdentityService registers people, signs them in and out, and answers for their data.
type IdentityService interface {
	// Register opens an account and mails a verification link. For an address that
	// has an account it answers the same (a user that does not exist) and mails the
	// owner instead, so that nobody learns who is registered.
	Register(ctx context.Context, r Registration) (*User, error)
	AccountMailService
	Login(ctx context.Context, a LoginAttempt) (*LoginResult, error)
	// Authenticate resolves a session or API token to the acting person.
	Authenticate(ctx context.Context, token string) (*Principal, error)
	Logout(ctx context.Context, token string) error
	ListSessions(ctx context.Context, page Page) ([]Session, string, error)
	RevokeSession(ctx context.Context, id string) error
	// CreateToken makes a personal API token named name with scope ScopeFull or
	// ScopeRead ("" is full).
	CreateToken(ctx context.Context, name, scope string) (*NewToken, error)
	ListTokens(ctx context.Context, page Page) ([]Session, string, error)
	RevokeToken(ctx context.Context, id string) error
	// CreateUser makes an account from the command line, optionally with a city role.
	CreateUser(ctx context.Context, r Registration, cityRole string) (*User, error)
	// Export gathers every piece of personal data held about the acting person.
	Export(ctx context.Context) (map[string]any, error)
	// DeleteAccount erases the acting person's personal data and publishes core.user.deleted.
	DeleteAccount(ctx context.Context) error
	// Me describes the acting person: the user, roles per domain, memberships.
	Me(ctx context.Context) (*Me, error)
	// UpdateProfile changes the acting person's name, email address or language. A
	// new address is unverified until its owner follows the link mailed to it.
	UpdateProfile(ctx context.Context, u ProfileUpdate) (*User, error)
	// ChangePassword replaces the acting person's password, given the current one, and
	// ends their other sessions.
	ChangePassword(ctx context.Context, c PasswordChange) error
	// SearchUsers finds people whose email address or display name holds q (any
	// case; "" finds everyone), by name, for holders of core.users.read in the city.
	// It names a grant's person so that nobody has to type an id.
	SearchUsers(ctx context.Context, q string, page Page) ([]User, string, error)
	// FindUser is one person, for holders of core.users.read in the city.
	FindUser(ctx context.Context, id string) (*User, error)
}

// MaxUserQuery bounds a search for people, in characters: longer than any email
// address or name the core accepts.
const MaxUserQuery = 254

// ProfileUpdate changes some of a person's own details; nil means unchanged. A new
// email address needs CurrentPassword too: the address is how an account is found
// and, later, recovered, so a borrowed session alone must not be able to move it.
type ProfileUpdate struct {
	DisplayName     *string `json:"display_name" max:"100"`
	Email           *string `json:"email" max:"254"`
	Language        *string `json:"language" max:"16"`
	CurrentPassword string  `json:"current_password" max:"1024"`
}

// PasswordChange is a new password and the current one, which proves that the person
// at the keyboard is the account's owner and not someone at an unlocked screen.
// A refused PasswordChange names current_password with RuleWrongPassword.
type PasswordChange struct {
	Current string `json:"current_password" max:"1024"`
	New     string `json:"new_password" max:"128"`
}

// Me is the answer to GET /api/v1/me.
type Me struct {
	User          User                  `json:"user"`
	Roles         map[string][]string   `json:"roles"`
	Memberships   []Membership          `json:"memberships"`
	Organisations []OrganisationRoleRef `json:"organisations"`
}

// OrganisationRoleRef names an organisation a person belongs to and in what role.
type OrganisationRoleRef struct {
	OrganisationID string `json:"organisation_id" db:"organisation_id"`
	Name           string `json:"name" db:"name"`
	Role           string `json:"role" db:"role"`
	Verified       bool   `json:"verified" db:"verified"`
}

// RuleWrongPassword refuses a password change whose current password is not the
// account's.
const RuleWrongPassword = "wrong_password"
