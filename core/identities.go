package core

import (
	"context"
	"time"
)

// External identities (issue 22, DESIGN.md §12): a person may sign in with the city's
// OpenID Connect provider instead of a password. The provider names the person by a
// subject; the core keeps (provider, subject) → account in user_identities. A first
// sign-in whose address matches an existing account never links by itself: the person
// signs in locally once to prove the account is theirs.

// ExternalIdentity is what a provider vouched for at a sign-in: its verified ID
// token's subject and the profile claims the core uses.
type ExternalIdentity struct {
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
	Email    string `json:"email"`
	// EmailVerified is the provider's email_verified claim: only a verified address
	// is taken as the account's verified address or matched to an existing account.
	EmailVerified bool   `json:"-"`
	Name          string `json:"-"`
	// CreatedAt and LastSignInAt are the link's, as stored.
	CreatedAt    time.Time `json:"created_at"`
	LastSignInAt time.Time `json:"last_sign_in_at"`
}

// ExternalSignIn is a sign-in with a verified external identity, from a browser.
type ExternalSignIn struct {
	Identity ExternalIdentity
	// Language is the page's language, the new account's if one is opened.
	Language  string
	ClientIP  string
	UserAgent string
}

// ExternalSignInResult is a fresh session and the account it belongs to; Created
// tells that the account was opened by this sign-in.
type ExternalSignInResult struct {
	LoginResult
	Created bool
}

// RuleLinkRequired refuses a first sign-in with an identity whose verified address
// belongs to an existing account: the person signs in to that account locally once
// to link the identity (ECONFLICT, field "email").
const RuleLinkRequired = "link_required"

// RuleLinkedElsewhere refuses linking an identity that already signs in to another
// account (ECONFLICT, field "identity").
const RuleLinkedElsewhere = "linked_elsewhere"

// RuleLastSignIn refuses unlinking the only way left to sign in to an account that
// has no password (EINVALID, field "identity").
const RuleLastSignIn = "last_sign_in"

// ExternalIdentityService signs people in with external identities and keeps their
// links.
type ExternalIdentityService interface {
	// SignInExternal opens a session for a verified identity: the linked account's,
	// or, for an identity not seen before, a new account's (named and addressed from
	// the claims, its address verified only if the provider says so). An identity
	// whose verified address matches an account fails with ECONFLICT and
	// RuleLinkRequired, and nothing changes.
	SignInExternal(ctx context.Context, in ExternalSignIn) (*ExternalSignInResult, error)
	// LinkIdentity links a verified identity to the acting person's account.
	LinkIdentity(ctx context.Context, id ExternalIdentity) error
	// ListIdentities are the acting person's linked identities, by provider.
	ListIdentities(ctx context.Context) ([]ExternalIdentity, error)
	// UnlinkIdentity removes one of the acting person's identities.
	UnlinkIdentity(ctx context.Context, provider, subject string) error
}
