package authz_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/authz"
)

// fixedPolicy is a PolicySource with a fixed policy, so the rules can be tested alone.
type fixedPolicy struct{ p core.Policy }

func (f *fixedPolicy) PolicyVersion(context.Context) (int64, error) { return f.p.Version, nil }
func (f *fixedPolicy) LoadPolicy(context.Context) (*core.Policy, error) {
	p := f.p
	return &p, nil
}

func TestEnforcer_Can(t *testing.T) {
	pol := core.Policy{Version: 1,
		Grants: []core.RoleGrant{
			{UserID: "admin", Role: core.RoleCityAdmin, Domain: "city"},
			{UserID: "coord", Role: core.RoleCoordinator, Domain: "nbh:a"},
			{UserID: "cityco", Role: core.RoleCoordinator, Domain: "city"},
		},
		Permissions: []core.RolePermission{{Role: core.RoleResident, Permission: "assemblies.member.join"}},
	}
	e, err := authz.New(context.Background(), &fixedPolicy{pol}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	resident := &core.Principal{UserID: "res", Roles: map[string][]string{"nbh:a": {core.RoleResident}}, Neighbourhoods: []string{"a"}}
	forged := &core.Principal{UserID: "forger", Roles: map[string][]string{"nbh:a": {core.RoleCoordinator}}}
	tests := []struct {
		name   string
		p      *core.Principal
		perm   string
		domain string
		want   bool
	}{
		{"AdminEverywhere", &core.Principal{UserID: "admin"}, core.PermAuditRead, "city", true},
		{"AdminInNeighbourhood", &core.Principal{UserID: "admin"}, core.PermMembershipDecide, "nbh:b", true},
		{"CoordinatorOwnNeighbourhood", &core.Principal{UserID: "coord"}, core.PermMembershipDecide, "nbh:a", true},
		{"CoordinatorOtherNeighbourhood", &core.Principal{UserID: "coord"}, core.PermMembershipDecide, "nbh:b", false},
		{"CoordinatorNotCity", &core.Principal{UserID: "coord"}, core.PermRolesGrant, "city", false},
		{"CityWideRoleHoldsInEveryDomain", &core.Principal{UserID: "cityco"}, core.PermMembershipDecide, "nbh:z", true},
		{"ImplicitResident", resident, "assemblies.member.join", "nbh:a", true},
		{"ImplicitResidentElsewhere", resident, "assemblies.member.join", "nbh:b", false},
		{"AnyDomain", resident, "assemblies.member.join", "", true},
		{"RolesInPrincipalAreNotGrants", forged, core.PermMembershipDecide, "nbh:a", false},
		{"Anonymous", &core.Principal{}, "assemblies.member.join", "nbh:a", false},
		{"Nil", nil, core.PermAuditRead, "city", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.Can(tt.p, tt.perm, tt.domain); got != tt.want {
				t.Fatalf("Can = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEnforcer_ReloadForgetsDecisions: a memoised decision never outlives the policy it
// was made under.
func TestEnforcer_ReloadForgetsDecisions(t *testing.T) {
	src := &fixedPolicy{p: core.Policy{Version: 1}}
	e, err := authz.New(context.Background(), src, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	p := &core.Principal{UserID: "u"}
	if e.Can(p, core.PermMembershipDecide, "nbh:a") {
		t.Fatal("allowed before any grant")
	}
	src.p = core.Policy{Version: 2, Grants: []core.RoleGrant{{UserID: "u", Role: core.RoleCoordinator, Domain: "nbh:a"}}}
	if err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !e.Can(p, core.PermMembershipDecide, "nbh:a") {
		t.Fatal("the grant is not enforced after reload: a stale decision was kept")
	}
	src.p = core.Policy{Version: 3}
	if err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.Can(p, core.PermMembershipDecide, "nbh:a") {
		t.Fatal("the revocation is not enforced after reload")
	}
}

func BenchmarkEnforcer_Can(b *testing.B) {
	e, err := authz.New(context.Background(), &fixedPolicy{core.Policy{Version: 1,
		Grants: []core.RoleGrant{{UserID: "coord", Role: core.RoleCoordinator, Domain: "nbh:a"}}}}, slog.Default())
	if err != nil {
		b.Fatal(err)
	}
	p := &core.Principal{UserID: "coord"}
	for b.Loop() {
		if !e.Can(p, core.PermMembershipDecide, "nbh:a") {
			b.Fatal("denied")
		}
	}
}

// BenchmarkEnforcer_CanNewResident is the first check of each of many residents, as in
// a vote where every member casts one ballot: none holds an explicit grant, and each
// is allowed by the resident role the principal carries.
func BenchmarkEnforcer_CanNewResident(b *testing.B) {
	e, err := authz.New(context.Background(), &fixedPolicy{core.Policy{Version: 1,
		Grants:      []core.RoleGrant{{UserID: "coord", Role: core.RoleCoordinator, Domain: "nbh:a"}},
		Permissions: []core.RolePermission{{Role: core.RoleResident, Permission: "assemblies.ballot.cast"}}}}, slog.Default())
	if err != nil {
		b.Fatal(err)
	}
	roles := map[string][]string{"nbh:a": {core.RoleResident}}
	i := 0
	for b.Loop() {
		i++
		p := &core.Principal{UserID: "res-" + strconv.Itoa(i), Roles: roles}
		if !e.Can(p, "assemblies.ballot.cast", "nbh:a") {
			b.Fatal("denied")
		}
	}
}
