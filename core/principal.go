package core

import "slices"

// Base roles defined by the core (DESIGN.md §5).
const (
	RoleCityAdmin         = "city_admin"
	RoleCoordinator       = "coordinator"
	RoleResident          = "resident"
	RoleOrgRepresentative = "org_representative"
	RoleOrgMember         = "org_member"
)

// DomainCity is the domain whose roles hold everywhere.
const DomainCity = "city"

// NeighbourhoodDomain and OrganisationDomain name the domains of one place or group.
func NeighbourhoodDomain(id string) string { return "nbh:" + id }

// OrganisationDomain names the domain of one organisation.
func OrganisationDomain(id string) string { return "org:" + id }

// Principal is the acting person as the request path sees them: who they are and their
// roles per domain, so that most checks need no database round trip. An anonymous
// principal has an empty UserID. The identity service shares one Principal between
// the requests of a session while it caches it: never change one handed out.
type Principal struct {
	UserID         string              `json:"user_id"`
	DisplayName    string              `json:"display_name"`
	Locale         string              `json:"locale"`
	SessionID      string              `json:"-"`
	SessionKind    string              `json:"-"`
	Roles          map[string][]string `json:"roles"`
	Neighbourhoods []string            `json:"neighbourhoods"`
	Organisations  []OrgMembership     `json:"organisations"`

	// ReadOnly is set for a read-only API token: the API refuses it any unsafe request.
	ReadOnly bool `json:"-"`

	// AgeVerified is set when an identity provider vouched for the person's birth
	// date; VerifiedAge is then their age in whole years on the day (in the city's
	// time zone) the principal was loaded. A rule such as a minimum voting age needs
	// the age, so plugins get it, and never the date.
	AgeVerified bool `json:"-"`
	VerifiedAge int  `json:"-"`
}

// OrgMembership is a person's place in an organisation.
type OrgMembership struct {
	OrganisationID string `json:"organisation_id"`
	Role           string `json:"role"`
	Verified       bool   `json:"verified"`
}

// Authenticated reports whether a person is signed in.
func (p *Principal) Authenticated() bool { return p != nil && p.UserID != "" }

// HasRole reports whether the person holds role in domain, counting city-wide roles.
func (p *Principal) HasRole(domain, role string) bool {
	if p == nil {
		return false
	}
	return slices.Contains(p.Roles[domain], role) || slices.Contains(p.Roles[DomainCity], role)
}

// IsCityAdmin reports whether the person is a city administrator.
func (p *Principal) IsCityAdmin() bool { return p.HasRole(DomainCity, RoleCityAdmin) }

// RolesIn returns the roles the person holds in domain, not counting city-wide ones.
func (p *Principal) RolesIn(domain string) []string {
	if p == nil {
		return nil
	}
	return p.Roles[domain]
}

// Authorizer answers whether a principal may use a permission in a domain.
type Authorizer interface {
	Can(p *Principal, permission, domain string) bool
	// Generation changes whenever an answer of Can may change for the same
	// principal: after every reload of the policy. What is worked out from Can's
	// answers (the navigation a viewer is shown) may be kept while it stands.
	Generation() uint64
}
