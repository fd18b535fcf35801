package httpapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
)

// walkList walks a list page by page (limit 2) while insert adds items, between pages
// and from another goroutine at once, and fails when an item that existed before the
// walk is missing or any item comes twice (DESIGN.md §7: keyset pages are stable under
// concurrent inserts). key names an item; path has no limit or cursor of its own.
func walkList(t *testing.T, c *coretest.Client, path string, key func(map[string]any) string, insert func(i int)) {
	t.Helper()
	before := map[string]bool{}
	for _, it := range getAll(t, c, path) {
		before[key(it)] = true
	}
	if len(before) < 5 {
		t.Fatalf("%s holds %d items before the walk; the test needs more than two pages", path, len(before))
	}
	var n atomic.Int64
	n.Store(1000)
	// A bounded number of inserts from another goroutine, so that an ascending list,
	// whose new items come after the cursor, still ends.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 6 {
			select {
			case <-stop:
				return
			default:
				insert(int(n.Add(1)))
			}
		}
	}()
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		if pages < 4 {
			insert(int(n.Add(1)))
		}
		p := c.Must(200, "GET", withQuery(path, "limit=2&cursor="+url.QueryEscape(cursor)), nil).JSON()
		items, _ := p["items"].([]any)
		next, ok := p["next_cursor"].(string)
		if !ok || len(items) > 2 {
			close(stop)
			wg.Wait()
			t.Fatalf("%s: page %v, want at most 2 items and a next_cursor string", path, p)
		}
		for _, it := range items {
			k := key(it.(map[string]any))
			if seen[k] {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: %s came twice", path, k)
			}
			seen[k] = true
		}
		pages++
		if next == "" {
			break
		}
		cursor = next
		if pages > 1000 {
			t.Fatalf("%s: no end after %d pages", path, pages)
		}
	}
	close(stop)
	wg.Wait()
	for k := range before {
		if !seen[k] {
			t.Errorf("%s: %s, there before the walk, was never shown", path, k)
		}
	}
	if pages < 3 {
		t.Errorf("%s: only %d pages", path, pages)
	}
}

func withQuery(path, q string) string {
	if strings.Contains(path, "?") {
		return path + "&" + q
	}
	return path + "?" + q
}

// getAll reads every page of a list at the largest page size.
func getAll(t *testing.T, c *coretest.Client, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		p := c.Must(200, "GET", withQuery(path, "limit=200&cursor="+url.QueryEscape(cursor)), nil).JSON()
		items, _ := p["items"].([]any)
		for _, it := range items {
			out = append(out, it.(map[string]any))
		}
		cursor, _ = p["next_cursor"].(string)
		if cursor == "" {
			return out
		}
	}
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
		// newUser registers a person with a fresh address from any goroutine.
		var seq atomic.Int64
		newUser := func() *coretest.User {
			return coretest.Register(t, n, fmt.Sprintf("walker%d@example.org", seq.Add(1)), "Walker")
		}

		t.Run("Neighbourhoods", func(t *testing.T) {
			for i := 0; i < 5; i++ {
				createNeighbourhood(t, admin, fmt.Sprintf("Before %d", i))
			}
			walkList(t, admin.Client, "/api/v1/neighbourhoods", field("id"), func(i int) {
				admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": fmt.Sprintf("During %d", i)})
			})
		})
		t.Run("Memberships", func(t *testing.T) {
			for _, u := range users {
				u.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", nil)
			}
			walkList(t, admin.Client, "/api/v1/neighbourhoods/"+nbh+"/memberships", field("id"), func(int) {
				newUser().Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", nil)
			})
		})
		t.Run("Organisations", func(t *testing.T) {
			for i := 0; i < 5; i++ {
				admin.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": fmt.Sprintf("Before %d", i), "kind": "association"})
			}
			walkList(t, admin.Client, "/api/v1/organisations?state=pending", field("id"), func(i int) {
				admin.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": fmt.Sprintf("During %d", i), "kind": "association"})
			})
		})
		t.Run("OrganisationMembers", func(t *testing.T) {
			for _, u := range users {
				admin.Must(201, "POST", "/api/v1/organisations/"+org+"/members", map[string]any{"user_id": u.ID})
			}
			walkList(t, admin.Client, "/api/v1/organisations/"+org+"/members", field("user_id"), func(int) {
				admin.Must(201, "POST", "/api/v1/organisations/"+org+"/members", map[string]any{"user_id": newUser().ID})
			})
		})
		t.Run("Grants", func(t *testing.T) {
			for _, u := range users {
				admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": u.ID, "role": "coordinator", "domain": "nbh:" + nbh})
			}
			walkList(t, admin.Client, "/api/v1/roles/grants?domain=nbh:"+nbh, func(m map[string]any) string { return field("user_id")(m) + "/" + field("role")(m) }, func(int) {
				admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": newUser().ID, "role": "coordinator", "domain": "nbh:" + nbh})
			})
		})
		t.Run("Audit", func(t *testing.T) {
			walkList(t, admin.Client, "/api/v1/admin/audit", field("id"), func(i int) {
				admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": fmt.Sprintf("Audited %d", i)})
			})
		})
		t.Run("Sessions", func(t *testing.T) {
			u := users[0]
			login := func() {
				coretest.NewClient(t, n).Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password})
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
				u.Must(201, "POST", "/api/v1/me/tokens", map[string]string{"name": fmt.Sprintf("during %d", i)})
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
