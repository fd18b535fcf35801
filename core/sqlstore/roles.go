package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// bumpPolicyVersion marks that explicit grants or role permissions changed, so every
// node reloads its policy.
func bumpPolicyVersion(ctx context.Context, tx sqlx.ExtContext) error {
	if _, err := exec(ctx, tx, `UPDATE policy_version SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump policy version: %w", err)
	}
	return nil
}

// PolicyStore reads the stored policy for the authorizer.
type PolicyStore struct{ DB *DB }

// PolicyVersion returns the counter bumped on every policy change.
func (s *PolicyStore) PolicyVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := get(ctx, s.DB.db, &v, `SELECT version FROM policy_version WHERE id = 1`); err != nil {
		return 0, fmt.Errorf("policy version: %w", err)
	}
	return v, nil
}

// LoadPolicy reads every grant and stored role permission in one consistent snapshot.
func (s *PolicyStore) LoadPolicy(ctx context.Context) (*core.Policy, error) {
	p := &core.Policy{}
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if err := get(ctx, tx, &p.Version, `SELECT version FROM policy_version WHERE id = 1`); err != nil {
			return fmt.Errorf("policy version: %w", err)
		}
		if err := selectAll(ctx, tx, &p.Grants, `SELECT user_id, role, domain, COALESCE(granted_by, '') AS granted_by, created_at FROM role_grants`); err != nil {
			return fmt.Errorf("load grants: %w", err)
		}
		// A plugin's rows grant only its own namespaced permissions (migration 0004
		// removed older ones; this keeps a row written around it from counting).
		if err := selectAll(ctx, tx, &p.Permissions, `SELECT role, permission FROM role_permissions
			WHERE source = 'core' OR substr(permission, 1, length(source) + 1) = source || '.'`); err != nil {
			return fmt.Errorf("load role permissions: %w", err)
		}
		// Membership roles come from verified memberships only; an explicit grant of
		// one is a leftover from before such grants were refused and confers nothing.
		p.Grants = slices.DeleteFunc(p.Grants, func(g core.RoleGrant) bool { return slices.Contains(core.MembershipRoles, g.Role) })
		return nil
	})
	return p, err
}

// RoleService implements core.RoleService.
type RoleService struct {
	DB    *DB
	Authz core.Authorizer
	// OnPolicyChange is called after a grant or revocation commits.
	OnPolicyChange func()
}

var _ core.RoleService = (*RoleService)(nil)

// knownRoles are the roles that may be granted: the grantable core roles and every role
// a plugin has declared. A plugin's default grant to a core role ("resident") stores
// that role's name too; it stays a core role and is not made grantable by it.
func (s *RoleService) knownRoles(ctx context.Context, q sqlx.ExtContext) ([]string, error) {
	var plugin []string
	if err := selectAll(ctx, q, &plugin, `SELECT DISTINCT role FROM role_permissions WHERE source <> 'core' ORDER BY role`); err != nil {
		return nil, fmt.Errorf("known roles: %w", err)
	}
	plugin = slices.DeleteFunc(plugin, func(r string) bool { return slices.Contains(core.CoreRoles, r) })
	return append(slices.Clone(core.GrantableRoles), plugin...), nil
}

// refuseMembershipRole refuses a direct grant or revocation of a role that follows
// from verified membership (DESIGN.md §5): only deciding the membership changes it.
func refuseMembershipRole(g core.RoleGrant) error {
	if !slices.Contains(core.MembershipRoles, g.Role) {
		return nil
	}
	return &core.Error{Code: core.EFORBIDDEN, Fields: map[string]string{"role": "follows from verified membership"},
		Message: fmt.Sprintf("%s cannot be granted or revoked directly: it follows from a verified membership. "+
			"Approve or revoke the person's membership of the neighbourhood or organisation instead.", g.Role)}
}

// checkDomain verifies that a domain is well-formed and names something that exists.
func checkDomain(ctx context.Context, q sqlx.ExtContext, domain string) error {
	if domain == core.DomainCity {
		return nil
	}
	kind, id, ok := strings.Cut(domain, ":")
	table := map[string]string{"nbh": "neighbourhoods", "org": "organisations"}[kind]
	if !ok || table == "" || id == "" {
		return core.InvalidField("domain", core.RuleFormat, `must be "city", "nbh:<id>" or "org:<id>"`)
	}
	var n int
	if err := get(ctx, q, &n, `SELECT COUNT(*) FROM `+table+` WHERE id = ?`, id); err != nil {
		return fmt.Errorf("check domain: %w", err)
	}
	if n == 0 {
		return core.InvalidField("domain", core.RuleExists, "names a "+map[string]string{"nbh": "neighbourhood", "org": "organisation"}[kind]+" that does not exist")
	}
	return nil
}

// authorizeGrant applies the no-escalation rule: the granter needs core.roles.grant in
// the domain and, unless a city administrator, must hold the role there themselves.
func (s *RoleService) authorizeGrant(ctx context.Context, g core.RoleGrant) error {
	p := core.PrincipalFrom(ctx)
	if !p.Authenticated() {
		return core.Errorf(core.EUNAUTHENTICATED, "Sign in first.")
	}
	if !s.Authz.Can(p, core.PermRolesGrant, g.Domain) {
		return core.Errorf(core.EFORBIDDEN, "You may not grant or revoke roles in %s.", g.Domain)
	}
	if !p.IsCityAdmin() && !p.HasRole(g.Domain, g.Role) {
		return core.Errorf(core.EFORBIDDEN, "You may only grant roles you hold yourself; you do not hold %s in %s.", g.Role, g.Domain)
	}
	return nil
}

func (s *RoleService) validate(ctx context.Context, q sqlx.ExtContext, g core.RoleGrant) error {
	f := core.Fields{}
	if g.UserID == "" {
		f.Add("user_id", core.RuleRequired, "is required")
	}
	if g.Role == "" {
		f.Add("role", core.RuleRequired, "is required")
	}
	if g.Domain == "" {
		f.Add("domain", core.RuleRequired, "is required")
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := checkDomain(ctx, q, g.Domain); err != nil {
		return err
	}
	known, err := s.knownRoles(ctx, q)
	if err != nil {
		return err
	}
	if !slices.Contains(known, g.Role) {
		return core.InvalidField("role", core.RuleOneOf, "must be one of "+strings.Join(known, ", ")+" (resident and organisation roles follow from verified membership)")
	}
	var n int
	if err := get(ctx, q, &n, `SELECT COUNT(*) FROM users WHERE id = ? AND deleted_at IS NULL`, g.UserID); err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	if n == 0 {
		return core.InvalidField("user_id", core.RuleExists, "names no user")
	}
	return nil
}

// Grant gives a person a role in a domain.
func (s *RoleService) Grant(ctx context.Context, g core.RoleGrant) (*core.RoleGrant, error) {
	if err := s.authorizeGrant(ctx, g); err != nil {
		return nil, err
	}
	if err := refuseMembershipRole(g); err != nil {
		return nil, err
	}
	now := s.DB.now()
	g.GrantedBy, g.CreatedAt = core.PrincipalFrom(ctx).UserID, now
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if err := s.validate(ctx, tx, g); err != nil {
			return err
		}
		if _, err := exec(ctx, tx, `INSERT INTO role_grants (user_id, role, domain, granted_by, created_at) VALUES (?, ?, ?, ?, ?)`,
			g.UserID, g.Role, g.Domain, g.GrantedBy, now); err != nil {
			if isUniqueViolation(err) {
				return core.Errorf(core.ECONFLICT, "This person already holds %s in %s.", g.Role, g.Domain)
			}
			return fmt.Errorf("grant: %w", err)
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		return recordAudit(ctx, tx, now, "role.granted", g.Domain, "user:"+g.UserID, map[string]any{"role": g.Role})
	})
	if err != nil {
		return nil, err
	}
	s.changed()
	return &g, nil
}

// Revoke takes a role away.
func (s *RoleService) Revoke(ctx context.Context, g core.RoleGrant) error {
	if err := s.authorizeGrant(ctx, g); err != nil {
		return err
	}
	if err := refuseMembershipRole(g); err != nil {
		return err
	}
	now := s.DB.now()
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		n, err := exec(ctx, tx, `DELETE FROM role_grants WHERE user_id = ? AND role = ? AND domain = ?`, g.UserID, g.Role, g.Domain)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		if n == 0 {
			return core.Errorf(core.ENOTFOUND, "This person does not hold %s in %s.", g.Role, g.Domain)
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		return recordAudit(ctx, tx, now, "role.revoked", g.Domain, "user:"+g.UserID, map[string]any{"role": g.Role})
	})
	if err != nil {
		return err
	}
	s.changed()
	return nil
}

// ListGrants lists a page of the explicit grants in a domain, oldest first, for those
// who may grant there.
func (s *RoleService) ListGrants(ctx context.Context, domain string, page core.Page) ([]core.RoleGrant, string, error) {
	if err := checkDomain(ctx, s.DB.db, domain); err != nil {
		return nil, "", err
	}
	if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermRolesGrant, domain) {
		return nil, "", core.Errorf(core.EFORBIDDEN, "You may not see the roles granted in %s.", domain)
	}
	page = page.Normalize()
	key, err := cursorParts(page.Cursor, 3)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT g.user_id, u.display_name, g.role, g.domain, COALESCE(g.granted_by, '') AS granted_by, g.created_at
		FROM role_grants g JOIN users u ON u.id = g.user_id WHERE g.domain = ?`
	args := []any{domain}
	if key != nil {
		at, err := cursorTime(key[0])
		if err != nil {
			return nil, "", err
		}
		// (user, role) is unique within a domain, so the key orders every grant.
		q += ` AND (g.created_at, g.user_id, g.role) > (?, ?, ?)`
		args = append(args, at, key[1], key[2])
	}
	var out []core.RoleGrant
	if err := selectAll(ctx, s.DB.db, &out, q+` ORDER BY g.created_at, g.user_id, g.role LIMIT ?`, append(args, page.Limit+1)...); err != nil {
		return nil, "", fmt.Errorf("list grants: %w", err)
	}
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
	}
	out, next := pageRows(out, page, func(g core.RoleGrant) string { return keyTime(g.CreatedAt) + keySep + g.UserID + keySep + g.Role })
	return out, next, nil
}

func (s *RoleService) changed() {
	if s.OnPolicyChange != nil {
		s.OnPolicyChange()
	}
}

// UserGrants lists one person's explicit grants, by domain and role, keeping those in
// domains where the caller may grant roles (a city administrator: all of them).
func (s *RoleService) UserGrants(ctx context.Context, userID string) ([]core.RoleGrant, error) {
	p := core.PrincipalFrom(ctx)
	if !p.Authenticated() {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "Sign in first.")
	}
	if !plainID(userID) {
		return []core.RoleGrant{}, nil
	}
	var all []core.RoleGrant
	if err := selectAll(ctx, s.DB.db, &all, `SELECT g.user_id, u.display_name, g.role, g.domain, COALESCE(g.granted_by, '') AS granted_by, g.created_at
		FROM role_grants g JOIN users u ON u.id = g.user_id WHERE g.user_id = ? ORDER BY g.domain, g.role`, userID); err != nil {
		return nil, fmt.Errorf("user grants: %w", err)
	}
	out := []core.RoleGrant{}
	for _, g := range all {
		if slices.Contains(core.MembershipRoles, g.Role) || !s.Authz.Can(p, core.PermRolesGrant, g.Domain) {
			continue // a leftover that confers nothing (see LoadPolicy), or not the caller's to see
		}
		g.CreatedAt = g.CreatedAt.UTC()
		out = append(out, g)
	}
	return out, nil
}

// GrantableRoles are the roles a grant may name, the core's first.
func (s *RoleService) GrantableRoles(ctx context.Context) ([]string, error) {
	return s.knownRoles(ctx, s.DB.db)
}
