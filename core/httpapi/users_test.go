package httpapi_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
)

// searchNames asks GET /api/v1/users?q= as c and returns the display names found.
func searchNames(t *testing.T, c *coretest.User, q string) []string {
	t.Helper()
	r := c.Must(200, "GET", "/api/v1/users?q="+url.QueryEscape(q), nil).JSON()
	var out []string
	for _, it := range r["items"].([]any) {
		out = append(out, it.(map[string]any)["display_name"].(string))
	}
	return out
}

func TestAPI_SearchUsers(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		zeynep := coretest.Register(t, n, "zeynep.kaya@example.org", "Zeynep Kaya")
		coretest.Register(t, n, "sule@example.org", "Şule Öztürk")
		coretest.Register(t, n, "a_b@example.org", "Anders Ødegård")
		coretest.Register(t, n, "percent@example.org", "Hundred Percent")

		t.Run("OK", func(t *testing.T) {
			for _, c := range []struct {
				q    string
				want []string
			}{
				{"KAYA@ex", []string{"Zeynep Kaya"}}, // part of the email, any case
				{"zeynep", []string{"Zeynep Kaya"}},
				{"şULE ö", []string{"Şule Öztürk"}}, // Turkish letters fold on both databases
				{"ØDEGÅRD", []string{"Anders Ødegård"}},
				{"_", []string{"Anders Ødegård"}}, // LIKE's wildcards are plain characters
				{"%", nil},                        // no email or name holds a percent sign
				{"nobody at all", nil},
			} {
				if got := searchNames(t, admin, c.q); !slices.Equal(got, c.want) {
					t.Errorf("q=%q found %q, want %q", c.q, got, c.want)
				}
			}
			// Without q, everyone, by name; the answer never carries a secret.
			r := admin.Must(200, "GET", "/api/v1/users", nil)
			all := searchNames(t, admin, "")
			if len(all) != 5 || !slices.IsSorted(all) {
				t.Errorf("everyone = %q", all)
			}
			for _, secret := range []string{"password", "hash", "argon2", "session", "token"} {
				if strings.Contains(strings.ToLower(string(r.Body)), secret) {
					t.Errorf("the answer mentions %q: %s", secret, r.Body)
				}
			}
			item := r.JSON()["items"].([]any)[0].(map[string]any)
			for k := range item {
				if !slices.Contains([]string{"id", "email", "display_name", "language", "created_at", "email_verified"}, k) {
					t.Errorf("an item carries %q", k)
				}
			}
		})
		t.Run("Pages", func(t *testing.T) {
			var seen []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 5 {
					t.Fatal("the pages do not end")
				}
				r := admin.Must(200, "GET", "/api/v1/users?limit=2&cursor="+url.QueryEscape(cursor), nil).JSON()
				for _, it := range r["items"].([]any) {
					seen = append(seen, it.(map[string]any)["id"].(string))
				}
				if cursor = r["next_cursor"].(string); cursor == "" {
					break
				}
			}
			if len(seen) != 5 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 5 {
				t.Errorf("walked %d people (%v), want 5 once each", len(seen), seen)
			}
		})
		t.Run("ErrInput", func(t *testing.T) {
			for _, q := range []string{"a\x00b", strings.Repeat("x", core.MaxUserQuery+1), "tab\there"} {
				r := admin.Do("GET", "/api/v1/users?q="+url.QueryEscape(q), nil)
				if r.Status != 422 || r.ErrorCode() != core.EINVALID {
					t.Errorf("q=%.20q = %d %s, want 422", q, r.Status, r.Body)
				}
			}
			if r := admin.Do("GET", "/api/v1/users?limit=201", nil); r.Status != 422 {
				t.Errorf("limit=201 = %d", r.Status)
			}
			if r := admin.Do("GET", "/api/v1/users?cursor=%21%21", nil); r.Status != 400 {
				t.Errorf("a forged cursor = %d", r.Status)
			}
			if r := admin.Do("GET", "/api/v1/users?cursor="+url.QueryEscape("bm9zZXBhcmF0b3I"), nil); r.Status != 400 {
				t.Errorf("a cursor without a separator = %d", r.Status)
			}
		})
		t.Run("Get", func(t *testing.T) {
			u := admin.Must(200, "GET", "/api/v1/users/"+zeynep.ID, nil).JSON()
			if u["display_name"] != "Zeynep Kaya" || u["email"] != zeynep.Email || len(u) != 6 {
				t.Errorf("GET the user = %v", u)
			}
			for _, id := range []string{"nobody", "%00", strings.Repeat("9", 65)} {
				if r := admin.Do("GET", "/api/v1/users/"+id, nil); r.Status != 404 && r.Status != 422 {
					t.Errorf("GET user %.10q = %d %s", id, r.Status, r.Body)
				}
			}
			if r := zeynep.Do("GET", "/api/v1/users/"+zeynep.ID, nil); r.Status != 403 {
				t.Errorf("a resident reading a user = %d, want 403 (their own data is /me)", r.Status)
			}
		})
		t.Run("ErrForbidden", func(t *testing.T) {
			if r := zeynep.Do("GET", "/api/v1/users?q=a", nil); r.Status != 403 {
				t.Errorf("a resident searching = %d, want 403", r.Status)
			}
			// A coordinator grants in their neighbourhood but does not search the city's people.
			nbh := createNeighbourhood(t, admin, "Konak")
			admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": zeynep.ID, "role": core.RoleCoordinator, "domain": core.NeighbourhoodDomain(nbh)})
			if r := zeynep.Do("GET", "/api/v1/users?q=a", nil); r.Status != 403 {
				t.Errorf("a coordinator searching = %d, want 403", r.Status)
			}
			if r := coretest.NewClient(t, n).Do("GET", "/api/v1/users", nil); r.Status != 401 {
				t.Errorf("anonymous = %d, want 401", r.Status)
			}
		})
	})
}
