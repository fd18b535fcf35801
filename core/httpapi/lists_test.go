package httpapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// walkList walks a list two items a page with sdktest.WalkPages while insert adds items
// alongside, and fails when an item that existed before is missing or one comes twice
// (DESIGN.md §7). key names an item; path has no limit or cursor of its own. insert runs
// on another goroutine: it reports with t.Error.
func walkList(t *testing.T, c *coretest.Client, path string, key func(map[string]any) string, insert func(i int)) {
	t.Helper()
	pages := 0
	ids := sdktest.WalkPages(t, func(cursor string) ([]string, string) {
		pages++
		p := c.Must(200, "GET", withQuery(path, "limit=2&cursor="+url.QueryEscape(cursor)), nil).JSON()
		items, _ := p["items"].([]any)
		next, ok := p["next_cursor"].(string)
		if !ok || len(items) > 2 {
			t.Fatalf("%s: page %v, want at most 2 items and a next_cursor string", path, p)
		}
		var out []string
		for _, it := range items {
			out = append(out, key(it.(map[string]any)))
		}
		return out, next
	}, insert)
	if len(ids) < 5 || pages < 6 {
		t.Fatalf("%s: %d items on %d pages; the test needs a longer list", path, len(ids), pages)
	}
}

// doOK sends a request from any goroutine and reports an unexpected status with
// t.Error (a goroutine other than the test's may not call t.Fatal).
func doOK(t *testing.T, c *coretest.Client, want int, method, path string, body any) {
	if r := c.For(t).Do(method, path, body); r.Status != want {
		t.Errorf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
}

func withQuery(path, q string) string {
	if strings.Contains(path, "?") {
		return path + "&" + q
	}
	return path + "?" + q
}

func field(name string) func(map[string]any) string {
	return func(m map[string]any) string { s, _ := m[name].(string); return s }
}

// TestLists_StableUnderInserts walks every list route of the core (the plugins' list
// of /api/v1/admin/plugins is walked in cmd/kvarter, where plugins run).
func TestLists_StableUnderInserts(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		nbh := createNeighbourhood(t, admin, "Konak")
		org := admin.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": "Walkers", "kind": "association"}).JSON()["id"].(string)
		var users []*coretest.User
		for i := 0; i < 6; i++ {
			users = append(users, coretest.Register(t, n, fmt.Sprintf("pre%d@example.org", i), "Pre"))
		}
		// Inserting needs new people: registered here, taken one per insert.
		var pool []*coretest.User
		for i := 0; i < 60; i++ {
			pool = append(pool, coretest.Register(t, n, fmt.Sprintf("walker%d@example.org", i), "Walker"))
		}
		var taken atomic.Int64
		newUser := func() *coretest.User { return pool[int(taken.Add(1)-1)%len(pool)] }

		t.Run("Neighbourhoods", func(t *testing.T) {
			for i := 0; i < 5; i++ {
				createNeighbourhood(t, admin, fmt.Sprintf("Before %d", i))
			}
			walkList(t, admin.Client, "/api/v1/neighbourhoods", field("id"), func(i int) {
				doOK(t, admin.Client, 201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": fmt.Sprintf("During %d", i)})
			})
		})
		t.Run("Memberships", func(t *testing.T) {
			for _, u := range users {
				u.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", nil)
			}
			walkList(t, admin.Client, "/api/v1/neighbourhoods/"+nbh+"/memberships", field("id"), func(int) {
				doOK(t, newUser().Client, 201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", nil)
			})
		})
		t.Run("Organisations", func(t *testing.T) {
			for i := 0; i < 5; i++ {
				admin.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": fmt.Sprintf("Before %d", i), "kind": "association"})
			}
			walkList(t, admin.Client, "/api/v1/organisations?state=pending", field("id"), func(i int) {
				doOK(t, admin.Client, 201, "POST", "/api/v1/organisations", map[string]any{"name": fmt.Sprintf("During %d", i), "kind": "association"})
			})
		})
		t.Run("OrganisationMembers", func(t *testing.T) {
			for _, u := range users {
				admin.Must(201, "POST", "/api/v1/organisations/"+org+"/members", map[string]any{"user_id": u.ID})
			}
			walkList(t, admin.Client, "/api/v1/organisations/"+org+"/members", field("user_id"), func(int) {
				doOK(t, admin.Client, 201, "POST", "/api/v1/organisations/"+org+"/members", map[string]any{"user_id": newUser().ID})
			})
		})
		t.Run("Grants", func(t *testing.T) {
			for _, u := range users {
				admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": u.ID, "role": "coordinator", "domain": "nbh:" + nbh})
			}
			walkList(t, admin.Client, "/api/v1/roles/grants?domain=nbh:"+nbh, func(m map[string]any) string { return field("user_id")(m) + "/" + field("role")(m) }, func(int) {
				doOK(t, admin.Client, 201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": newUser().ID, "role": "coordinator", "domain": "nbh:" + nbh})
			})
		})
		t.Run("Audit", func(t *testing.T) {
			walkList(t, admin.Client, "/api/v1/admin/audit", field("id"), func(i int) {
				doOK(t, admin.Client, 201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": fmt.Sprintf("Audited %d", i)})
			})
		})
		t.Run("Sessions", func(t *testing.T) {
			u := users[0]
			login := func() {
				doOK(t, coretest.NewClient(t, n), 200, "POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password})
			}
			for i := 0; i < 5; i++ {
				login()
			}
			walkList(t, u.Client, "/api/v1/me/sessions", field("id"), func(int) { login() })
		})
		t.Run("Tokens", func(t *testing.T) {
			u := users[1]
			for i := 0; i < 5; i++ {
				u.Must(201, "POST", "/api/v1/me/tokens", map[string]string{"name": fmt.Sprintf("before %d", i)})
			}
			walkList(t, u.Client, "/api/v1/me/tokens", field("id"), func(i int) {
				doOK(t, u.Client, 201, "POST", "/api/v1/me/tokens", map[string]string{"name": fmt.Sprintf("during %d", i)})
			})
		})
		t.Run("BadPage", func(t *testing.T) {
			for _, p := range []string{"/api/v1/me/sessions", "/api/v1/me/tokens", "/api/v1/roles/grants", "/api/v1/organisations/" + org + "/members"} {
				if r := admin.Do("GET", withQuery(p, "limit=201"), nil); r.Status != 422 {
					t.Errorf("%s limit=201 = %d, want 422", p, r.Status)
				}
				if r := admin.Do("GET", withQuery(p, "cursor=bm90IGEga2V5"), nil); r.Status != 400 && r.Status != 200 {
					t.Errorf("%s with a foreign cursor = %d %s", p, r.Status, r.Body)
				}
			}
		})
	})
}
