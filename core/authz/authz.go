// Package authz decides who may do what, with casbin RBAC over domains (DESIGN.md §5).
//
// Explicit grants ("user:<id>" holds a role in a domain) and role permissions come from
// the core database; a role held in "city" holds in every domain. Roles that follow
// from membership — resident of a verified neighbourhood, member or representative of
// an organisation — are not stored as grants: they travel with the Principal and are
// checked as role subjects directly.
//
// Every node polls a policy version counter and reloads when it moves, so a grant made
// through one node is enforced by all within the poll interval.
package authz

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/kvarter/kvarter/core"
)

// modelText: r.sub is "user:<id>" or a role name; p grants a permission (or "*") to a
// role; g places a user in a role within a domain.
const modelText = `
[request_definition]
r = sub, dom, obj

[policy_definition]
p = sub, obj

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (r.sub == p.sub || g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, "city")) && (p.obj == "*" || p.obj == r.obj)
`

// PolicySource is where the stored policy comes from.
type PolicySource interface {
	PolicyVersion(ctx context.Context) (int64, error)
	LoadPolicy(ctx context.Context) (*core.Policy, error)
}

// Enforcer is a core.Authorizer backed by casbin. It swaps in a whole new casbin
// enforcer on reload, so checks never wait for a reload.
type Enforcer struct {
	source  PolicySource
	logger  *slog.Logger
	current atomic.Pointer[snapshot]
	mu      sync.Mutex // serialises reloads
	// reloads counts the snapshots made, for Generation: a reload may keep the
	// stored version (a test's source, a plugin's role permissions) yet change
	// answers.
	reloads atomic.Uint64
}

type snapshot struct {
	version    int64
	generation uint64
	e          *casbin.Enforcer
	// decisions memoises Enforce for this snapshot only: casbin evaluates its matcher
	// expression on every call, which costs tens of microseconds, while the answer for
	// one (subject, domain, permission) cannot change until the next reload, which
	// replaces the whole snapshot and so forgets every decision.
	decisions sync.Map // decisionKey -> bool
	size      atomic.Int64
	// grantees are the subjects ("user:<id>") with an explicit grant. Everyone else
	// can hold a permission only through the roles their principal carries, so for
	// them casbin need not be asked, nor its answer kept: most people have no grant,
	// and each new one would otherwise cost a matcher evaluation and a memo entry.
	grantees map[string]struct{}
}

type decisionKey struct{ sub, dom, obj string }

// maxDecisions bounds the memo; past it, decisions are computed but not kept.
const maxDecisions = 200_000

func (s *snapshot) enforce(sub, dom, obj string) bool {
	k := decisionKey{sub, dom, obj}
	if v, ok := s.decisions.Load(k); ok {
		return v.(bool)
	}
	ok, _ := s.e.Enforce(sub, dom, obj)
	if s.size.Load() < maxDecisions {
		if _, loaded := s.decisions.LoadOrStore(k, ok); !loaded {
			s.size.Add(1)
		}
	}
	return ok
}

// hasGrant reports whether sub holds any explicit grant in this snapshot's policy.
func (s *snapshot) hasGrant(sub string) bool {
	_, ok := s.grantees[sub]
	return ok
}

var _ core.Authorizer = (*Enforcer)(nil)

// New loads the policy and returns an enforcer.
func New(ctx context.Context, source PolicySource, logger *slog.Logger) (*Enforcer, error) {
	e := &Enforcer{source: source, logger: logger}
	if err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Reload reads the policy from the database now.
func (e *Enforcer) Reload(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	pol, err := e.source.LoadPolicy(ctx)
	if err != nil {
		return fmt.Errorf("load policy: %w", err)
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return fmt.Errorf("casbin model: %w", err)
	}
	ce, err := casbin.NewEnforcer(m)
	if err != nil {
		return fmt.Errorf("casbin enforcer: %w", err)
	}
	ce.EnableLog(false)
	var rules [][]string
	for _, rp := range core.BaseRolePermissions {
		rules = append(rules, []string{rp.Role, rp.Permission})
	}
	for _, rp := range pol.Permissions {
		rules = append(rules, []string{rp.Role, rp.Permission})
	}
	if len(rules) > 0 {
		if _, err := ce.AddPoliciesEx(rules); err != nil {
			return fmt.Errorf("add role permissions: %w", err)
		}
	}
	var groups [][]string
	grantees := make(map[string]struct{}, len(pol.Grants))
	for _, g := range pol.Grants {
		groups = append(groups, []string{"user:" + g.UserID, g.Role, g.Domain})
		grantees["user:"+g.UserID] = struct{}{}
	}
	if len(groups) > 0 {
		if _, err := ce.AddGroupingPoliciesEx(groups); err != nil {
			return fmt.Errorf("add grants: %w", err)
		}
	}
	e.current.Store(&snapshot{version: pol.Version, generation: e.reloads.Add(1), e: ce, grantees: grantees})
	return nil
}

// Version is the policy version currently enforced.
func (e *Enforcer) Version() int64 { return e.current.Load().version }

// Generation tells one snapshot of the policy from the next (core.Authorizer).
func (e *Enforcer) Generation() uint64 { return e.current.Load().generation }

// Watch reloads whenever the stored policy version moves, until ctx ends.
func (e *Enforcer) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := e.source.PolicyVersion(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.logger.Warn("policy version check failed", "err", err)
			}
			continue
		}
		if v != e.Version() {
			if err := e.Reload(ctx); err != nil && ctx.Err() == nil {
				e.logger.Error("policy reload failed", "err", err)
			}
		}
	}
}

// Can reports whether p may use permission in domain. Domain "" means "in any domain
// the person holds a role" (used by plugin routes that check the exact domain later).
func (e *Enforcer) Can(p *core.Principal, permission, domain string) bool {
	if p == nil || !p.Authenticated() {
		return false
	}
	snap := e.current.Load()
	if domain == "" {
		for d := range p.Roles {
			if e.Can(p, permission, d) {
				return true
			}
		}
		return false
	}
	if sub := "user:" + p.UserID; snap.hasGrant(sub) && snap.enforce(sub, domain, permission) {
		return true
	}
	// Roles that follow from membership are carried by the principal.
	for _, role := range p.RolesIn(domain) {
		if isImplicitRole(role, domain) {
			if snap.enforce(role, domain, permission) {
				return true
			}
		}
	}
	return false
}

func isImplicitRole(role, domain string) bool {
	switch {
	case strings.HasPrefix(domain, "nbh:"):
		return role == core.RoleResident
	case strings.HasPrefix(domain, "org:"):
		return role == core.RoleOrgMember || role == core.RoleOrgRepresentative
	}
	return false
}
