package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/web"
)

// rolesIdentity hands out a new principal on every request, as the identity service
// does once its moment's cache has passed, with the roles the test gives the person.
type rolesIdentity struct {
	core.IdentityService
	mu    sync.Mutex
	roles map[string][]string
}

func (f *rolesIdentity) Authenticate(context.Context, string) (*core.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &core.Principal{UserID: "u1", DisplayName: "Aino Ääninen", Roles: f.roles}, nil
}

func (f *rolesIdentity) set(roles map[string][]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles = roles
}

// residentsNav plays a plugin host whose one entry is for residents of somewhere (as
// the parks' "My bookings"): its answer follows the viewer's roles alone, so its
// NavVersion never moves.
type residentsNav struct{ core.PluginService }

func (residentsNav) Nav(viewer *core.Principal, _ string) []core.NavItem {
	for _, roles := range viewer.Roles {
		for _, r := range roles {
			if r == core.RoleResident {
				return []core.NavItem{{Plugin: "parks", ID: "mine", Path: "/parks/mine", Label: "My bookings"}}
			}
		}
	}
	return nil
}
func (residentsNav) NavVersion() uint64                                        { return 0 }
func (residentsNav) OwnsPage(string) bool                                      { return false }
func (residentsNav) Cards(context.Context, core.CardRequest) []core.CardResult { return nil }

// The navigation is kept per person (navLinks), not per principal: a membership
// approved or revoked changes the person's roles, and the next page shows it.
func TestPages_NavFollowsRoles(t *testing.T) {
	id := &rolesIdentity{}
	p, err := web.New(web.Services{Identity: id, Neighbourhoods: hoods{}, Plugins: residentsNav{}}, web.Options{CityName: "Helsinki", Languages: langs})
	if err != nil {
		t.Fatal(err)
	}
	s := &site{Server: httptest.NewServer(p)}
	t.Cleanup(s.Close)
	shows := func() bool {
		t.Helper()
		a := s.do(t, "GET", "/", nil, map[string]string{"Cookie": web.SessionCookie + "=" + token})
		if a.status != http.StatusOK || !strings.Contains(a.body, "Aino Ääninen") {
			t.Fatalf("home page = %d, not signed in", a.status)
		}
		return strings.Contains(a.body, `href="/parks/mine"`)
	}
	if shows() {
		t.Error("a person who is no resident is shown the residents' entry")
	}
	id.set(map[string][]string{"nbh:n1": {core.RoleResident}})
	if !shows() {
		t.Error("once a resident, the person is not shown the residents' entry")
	}
	id.set(map[string][]string{"nbh:n1": {"coordinator"}})
	if shows() {
		t.Error("no longer a resident, the person is still shown the residents' entry")
	}
}
