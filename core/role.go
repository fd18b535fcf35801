package core

import (
	"context"
	"slices"
	"time"
)

// RoleGrant gives a person a role in a domain.
type RoleGrant struct {
	UserID string `json:"user_id" db:"user_id"`
	// DisplayName is the person's name, in lists of grants: whoever may see the
	// grants of a domain may know whom they name.
	DisplayName string    `json:"display_name,omitempty" db:"display_name"`
	Role        string    `json:"role" db:"role"`
	Domain      string    `json:"domain" db:"domain"`
	GrantedBy   string    `json:"granted_by,omitempty" db:"granted_by"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// RolePermission gives every holder of a role a permission.
type RolePermission struct {
	Role       string `json:"role" db:"role"`
	Permission string `json:"permission" db:"permission"`
}

// Policy is everything the authorizer needs: explicit grants and role permissions,
// with the version counter that moves on every change.
type Policy struct {
	Version     int64
	Grants      []RoleGrant
	Permissions []RolePermission
}

// Core permissions. Plugins add their own, namespaced by plugin name.
const (
	PermNeighbourhoodManage = "core.neighbourhood.manage"
	PermMembershipDecide    = "core.membership.decide"
	PermMembershipImport    = "core.membership.import"
	PermOrganisationVerify  = "core.organisation.verify"
	PermOrganisationMembers = "core.organisation.members.manage"
	PermRolesGrant          = "core.roles.grant"
	PermAuditRead           = "core.audit.read"
	PermPluginsManage       = "core.plugins.manage"
	// PermUsersRead finds people by email address or name and reads their details:
	// city administrators only (through "*"), since a list of every resident's email
	// address is more than a coordinator's work needs.
	PermUsersRead = "core.users.read"
)

// BaseRolePermissions are the permissions of the core roles. city_admin holds every
// permission ("*"). Coordinators manage their own neighbourhood.
var BaseRolePermissions = []RolePermission{
	{Role: RoleCityAdmin, Permission: "*"},
	{Role: RoleCoordinator, Permission: PermMembershipDecide},
	{Role: RoleCoordinator, Permission: PermRolesGrant},
	{Role: RoleOrgRepresentative, Permission: PermOrganisationMembers},
}

// GrantableRoles are the core roles that may be granted explicitly. resident and the
// organisation roles follow from verified membership and are never granted by hand.
var GrantableRoles = []string{RoleCityAdmin, RoleCoordinator}

// MembershipRoles follow from a verified membership of a neighbourhood or an
// organisation. Nobody grants or revokes them directly: a grant would make someone a
// resident the city never verified, so the membership is the only way in or out.
var MembershipRoles = []string{RoleResident, RoleOrgRepresentative, RoleOrgMember}

// CoreRoles are every role the core defines. A plugin's default grants may name them,
// but that does not make them plugin roles that can be granted.
var CoreRoles = append(slices.Clone(GrantableRoles), MembershipRoles...)

// RoleService grants and revokes roles.
type RoleService interface {
	Grant(ctx context.Context, g RoleGrant) (*RoleGrant, error)
	Revoke(ctx context.Context, g RoleGrant) error
	ListGrants(ctx context.Context, domain string, page Page) ([]RoleGrant, string, error)
	// UserGrants are one person's explicit grants in the domains where the caller
	// may grant roles; a person holds a handful, so there is no paging.
	UserGrants(ctx context.Context, userID string) ([]RoleGrant, error)
	// GrantableRoles are the roles a grant may name: GrantableRoles and every role a
	// plugin declares.
	GrantableRoles(ctx context.Context) ([]string, error)
}
