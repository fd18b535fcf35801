package sdk

import (
	"context"
	"slices"
)

// Principal is the authenticated caller of a request, as established by the core.
// It carries enough that most handlers need no callback to the host. Treat it as
// read-only: requests of the same caller share its maps and slices.
type Principal struct {
	UserID      string
	DisplayName string
	Locale      string
	// Roles maps a domain ("city", "nbh:<id>", "org:<id>") to the role names held there,
	// including the implicit "resident" of verified neighbourhoods.
	Roles map[string][]string
	// Neighbourhoods are the IDs of verified neighbourhood memberships.
	Neighbourhoods []string
	Organisations  []OrgMembership
	// AgeVerified is set when the city's identity provider vouched for the person's
	// birth date; VerifiedAge is then their age in whole years today, in the city's
	// time zone. Without it, a rule that needs an age falls back on what the person
	// declares. The birth date itself never reaches a plugin.
	AgeVerified bool
	VerifiedAge int
}

// OldEnough applies a minimum age (none when minAge <= 0) to the principal. An age
// the city's identity provider vouched for decides when there is one, and then the
// person need confirm nothing; confirmed, the person's own declaration, stands in
// only when there is none. verified reports which decided, so that a refusal can say
// either "confirm your age" or that no confirmation will help.
func (p Principal) OldEnough(minAge int, confirmed bool) (ok, verified bool) {
	switch {
	case minAge <= 0:
		return true, p.AgeVerified
	case p.AgeVerified:
		return p.VerifiedAge >= minAge, true
	}
	return confirmed, false
}

// OrgMembership is a principal's membership in an organisation.
type OrgMembership struct {
	OrganisationID string
	// Role is "member" or "representative".
	Role     string
	Verified bool
}

// DomainCity is the domain whose roles hold in every domain.
const DomainCity = "city"

// Authenticated reports whether the principal is a signed-in user.
func (p Principal) Authenticated() bool { return p.UserID != "" }

// HasRole reports whether the principal holds role in domain. A role held in "city"
// holds in every domain.
func (p Principal) HasRole(domain, role string) bool {
	return slices.Contains(p.Roles[domain], role) || slices.Contains(p.Roles[DomainCity], role)
}

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
	hostKey
)

// PrincipalFrom returns the caller of the request ctx belongs to; the zero Principal
// when the caller is anonymous.
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey).(Principal)
	return p
}

// RequestIDFrom returns the core's request id, for logs and error messages.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// HostFrom returns the Host handed to Configure, so handlers need not carry it.
// It is nil outside a request served by the SDK.
func HostFrom(ctx context.Context) Host {
	h, _ := ctx.Value(hostKey).(Host)
	return h
}

// WithPrincipal returns a context carrying p. The SDK does this for every request; it
// is exported for plugin tests that call handlers directly.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// WithRequestID returns a context carrying a request id, for plugin tests.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// WithHost returns a context carrying h, for plugin tests.
func WithHost(ctx context.Context, h Host) context.Context {
	return context.WithValue(ctx, hostKey, h)
}
