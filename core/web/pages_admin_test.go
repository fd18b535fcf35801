package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// adminBrowser signs the city admin in through the sign-in page.
func adminBrowser(t *testing.T, n *node.Node, admin *coretest.User) *browser {
	t.Helper()
	return signIn(t, n, person{id: admin.ID, email: admin.Email, password: admin.Password})
}

// grantsOf are the grants the API lists in domain, as "user role".
func grantsOf(t *testing.T, admin *coretest.User, domain string) []string {
	t.Helper()
	var out []string
	for _, it := range admin.Must(200, "GET", "/api/v1/roles/grants?domain="+url.QueryEscape(domain), nil).JSON()["items"].([]any) {
		g := it.(map[string]any)
		out = append(out, g["user_id"].(string)+" "+g["role"].(string))
	}
	return out
}

// rowsOf are the texts of the rows of the page's first table body.
func rowsOf(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, tr := range webtest.Find([]*html.Node{webtest.ParseDocument(t, body)}, tag(atom.Tr)) {
		if tr.Parent != nil && tr.Parent.DataAtom == atom.Tbody {
			out = append(out, webtest.Text(tr))
		}
	}
	return out
}

func TestPages_Admin(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		karsiyaka := newHood(t, admin, "Karşıyaka", "karsiyaka")
		newHood(t, admin, "Bornova", "bornova")
		zeynep := newPerson(t, n, "zeynep.kaya@example.org", "Zeynep Kaya")
		elif := newPerson(t, n, "elif@example.org", "Elif Yılmaz")
		ab := adminBrowser(t, n, admin)
		eb := signIn(t, n, elif)
		domain := core.NeighbourhoodDomain(karsiyaka)
		userPage := "/admin/users/" + zeynep.id

		t.Run("Index", func(t *testing.T) {
			a := ab.must(t, 200, "GET", "/", nil)
			if !strings.Contains(a.body, `href="/admin"`) {
				t.Error("the navigation lacks Administration for a city admin")
			}
			a = ab.must(t, 200, "GET", "/admin", nil)
			checkPage(t, a, "en")
			for _, href := range []string{"/admin/users", "/admin/grants", "/admin/audit", "/admin/neighbourhoods", "/admin/organisations", "/admin/plugins"} {
				if !strings.Contains(a.body, `href="`+href+`"`) {
					t.Errorf("the admin index lacks %s", href)
				}
			}
			if a := eb.must(t, 200, "GET", "/", nil); strings.Contains(a.body, `href="/admin"`) {
				t.Error("a resident's navigation shows Administration")
			}
		})
		t.Run("Search", func(t *testing.T) {
			for _, q := range []string{"KAYA@EXAMPLE", "zeynep k", "Zey"} {
				a := ab.must(t, 200, "GET", "/admin/users?q="+url.QueryEscape(q), nil)
				checkPage(t, a, "en")
				rows := rowsOf(t, a.body)
				if len(rows) != 1 || !strings.Contains(rows[0], "Zeynep Kaya") || !strings.Contains(rows[0], "zeynep.kaya@example.org") {
					t.Errorf("q=%q found %q", q, rows)
				}
				if !strings.Contains(a.body, `href="`+userPage+`"`) {
					t.Errorf("q=%q: no link to Zeynep's page", q)
				}
			}
			if rows := rowsOf(t, ab.must(t, 200, "GET", "/admin/users?q=%25", nil).body); len(rows) != 0 {
				t.Errorf("%% is a wildcard: %q", rows)
			}
			if rows := rowsOf(t, ab.must(t, 200, "GET", "/admin/users", nil).body); len(rows) != 3 {
				t.Errorf("everyone = %q", rows)
			}
			checkRefused(t, ab.do(t, "GET", "/admin/users?q="+url.QueryEscape("a\x00b"), nil, nil), "en")
			checkRefused(t, ab.do(t, "GET", "/admin/users?q="+strings.Repeat("x", core.MaxUserQuery+1), nil, nil), "en")
		})
		t.Run("Grant", func(t *testing.T) {
			a := ab.must(t, 200, "GET", userPage, nil)
			doc := webtest.Text(checkPage(t, a, "en"))
			for _, want := range []string{"Zeynep Kaya", "zeynep.kaya@example.org", "No role has been granted", "Karşıyaka", "Coordinator"} {
				if !strings.Contains(doc, want) {
					t.Errorf("the person's page lacks %q", want)
				}
			}
			if strings.Contains(a.body, `value="resident"`) {
				t.Error("the grant form offers resident, which follows from membership")
			}
			ab.must(t, http.StatusSeeOther, "POST", userPage+"/grant", url.Values{"role": {core.RoleCoordinator}, "domain": {domain}}, userPage)
			if g := grantsOf(t, admin, domain); len(g) != 1 || g[0] != zeynep.id+" coordinator" {
				t.Fatalf("grants after the form = %q", g)
			}
			a = ab.must(t, 200, "GET", userPage, nil)
			if !strings.Contains(a.body, "The role has been granted.") || !strings.Contains(a.body, "Revoke Coordinator in Karşıyaka") {
				t.Error("after granting: no flash or no revoke button")
			}
			// The grants page lists her in Karşıyaka, with every role in plain words.
			a = ab.must(t, 200, "GET", "/admin/grants?domain="+url.QueryEscape(domain), nil)
			text := webtest.Text(checkPage(t, a, "en"))
			rows := rowsOf(t, a.body)
			if len(rows) != 1 || !strings.Contains(rows[0], "Zeynep Kaya") || !strings.Contains(rows[0], "Coordinator") {
				t.Errorf("grants in Karşıyaka = %q", rows)
			}
			for _, want := range []string{"City administrator", "Resident", "Organisation representative", "Organisation member", "cannot be granted by hand"} {
				if !strings.Contains(text, want) {
					t.Errorf("the roles are not described: no %q", want)
				}
			}
			if rows := rowsOf(t, ab.must(t, 200, "GET", "/admin/grants?domain=city", nil).body); len(rows) != 1 || !strings.Contains(rows[0], "City administrator") {
				t.Errorf("grants in the city = %q", rows)
			}
		})
		t.Run("ErrGrant", func(t *testing.T) {
			before := grantsOf(t, admin, domain)
			for _, c := range []struct {
				form url.Values
				want string
			}{
				{url.Values{"role": {core.RoleResident}, "domain": {domain}}, "Choose a role from the list"},
				{url.Values{"role": {"nonsense"}, "domain": {domain}}, "Choose a role from the list"},
				{url.Values{"role": {core.RoleCoordinator}, "domain": {"nbh:nowhere"}}, "Choose the city or a neighbourhood"},
				{url.Values{"role": {core.RoleCoordinator}, "domain": {"city\x00"}}, ""},
				{url.Values{"role": {core.RoleCoordinator}, "domain": {domain}}, "already has this role"},
			} {
				checkRefused(t, ab.do(t, "POST", userPage+"/grant", c.form, nil), "en", c.want)
			}
			// Under htmx: <main>'s content only, with the summary that takes focus.
			a := ab.do(t, "POST", userPage+"/grant", url.Values{"role": {"nonsense"}, "domain": {domain}}, map[string]string{"HX-Request": "true", "HX-Target": "main#main"})
			if a.status != 422 || strings.Contains(a.body, "<footer") {
				t.Errorf("a refused grant under htmx = %d, or carries the frame", a.status)
			}
			if sum := webtest.ByID(webtest.ParseFragment(t, a.body), "kv-error-summary"); sum == nil {
				t.Error("a refused grant under htmx: no error summary")
			} else if _, ok := webtest.Attr(sum, "autofocus"); !ok {
				t.Error("a refused grant under htmx: the summary does not take focus")
			}
			if after := grantsOf(t, admin, domain); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("a refused grant changed the grants: %q, was %q", after, before)
			}
			if city := grantsOf(t, admin, core.DomainCity); len(city) != 1 {
				t.Errorf("a refused grant changed the city's grants: %q", city)
			}
			for _, id := range []string{"nobody", "%00", strings.Repeat("9", 300)} {
				for _, action := range []string{"grant", "revoke"} {
					if a := ab.do(t, "POST", "/admin/users/"+id+"/"+action, url.Values{"role": {core.RoleCoordinator}, "domain": {domain}}, nil); a.status != http.StatusNotFound {
						t.Errorf("%s for %.10q = %d", action, id, a.status)
					}
				}
				if a := ab.do(t, "GET", "/admin/users/"+id, nil, nil); a.status != http.StatusNotFound {
					t.Errorf("the page of %.10q = %d", id, a.status)
				}
			}
			for _, d := range []string{"nbh:%00", "nbh:nowhere", "org:x", strings.Repeat("x", 300)} {
				if a := ab.do(t, "GET", "/admin/grants?domain="+d, nil, nil); a.status != http.StatusNotFound {
					t.Errorf("the grants of %.10q = %d", d, a.status)
				}
			}
		})
		t.Run("ErrResident", func(t *testing.T) {
			for _, path := range []string{"/admin", "/admin/users", "/admin/users?q=a", userPage, "/admin/grants", "/admin/audit"} {
				a := eb.do(t, "GET", path, nil, nil)
				if a.status != http.StatusForbidden || !strings.Contains(a.body, "You do not have access to this page") {
					t.Errorf("resident GET %s = %d", path, a.status)
				}
				checkPage(t, a, "en")
				newBrowser(n).must(t, http.StatusSeeOther, "GET", path, nil, "/sign-in")
			}
			for _, path := range []string{userPage + "/grant", userPage + "/revoke"} {
				form := url.Values{"role": {core.RoleCoordinator}, "domain": {domain}}
				if a := eb.do(t, "POST", path, form, nil); a.status != http.StatusForbidden {
					t.Errorf("resident POST %s = %d", path, a.status)
				}
				newBrowser(n).must(t, http.StatusSeeOther, "POST", path, form, "/sign-in")
			}
			if a := ab.do(t, "POST", userPage+"/revoke", url.Values{"role": {core.RoleCoordinator}, "domain": {domain}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); a.status != http.StatusForbidden {
				t.Errorf("cross-site revoke = %d", a.status)
			}
			if g := grantsOf(t, admin, domain); len(g) != 1 {
				t.Errorf("grants after the refusals = %q", g)
			}
		})
		t.Run("Coordinator", func(t *testing.T) {
			// Zeynep coordinates Karşıyaka: she sees its grants, not the city's, nor people.
			zb := signIn(t, n, zeynep)
			a := zb.must(t, 200, "GET", "/admin/grants", nil)
			if rows := rowsOf(t, a.body); len(rows) != 1 || !strings.Contains(rows[0], "Zeynep Kaya") || !strings.Contains(a.body, "Roles granted in Karşıyaka") {
				t.Errorf("a coordinator's grants page = %q", rows)
			}
			if strings.Contains(a.body, `href="`+userPage+`"`) {
				t.Error("a coordinator is led to a person's page she may not open")
			}
			if strings.Contains(a.body, `value="city"`) || strings.Contains(a.body, "Bornova") {
				t.Error("a coordinator is offered domains she may not grant in")
			}
			for _, path := range []string{"/admin/grants?domain=city", "/admin/users", "/admin/audit", "/admin"} {
				if a := zb.do(t, "GET", path, nil, nil); a.status != http.StatusForbidden {
					t.Errorf("coordinator GET %s = %d", path, a.status)
				}
			}
		})
		t.Run("Revoke", func(t *testing.T) {
			ab.must(t, http.StatusSeeOther, "POST", userPage+"/revoke", url.Values{"role": {core.RoleCoordinator}, "domain": {domain}}, userPage)
			if g := grantsOf(t, admin, domain); len(g) != 0 {
				t.Fatalf("grants after revoking = %q", g)
			}
			a := ab.must(t, 200, "GET", userPage, nil)
			if !strings.Contains(a.body, "The role has been revoked.") || !strings.Contains(a.body, "No role has been granted") {
				t.Error("after revoking: no flash, or the grant is still shown")
			}
			if a := ab.do(t, "POST", userPage+"/revoke", url.Values{"role": {core.RoleCoordinator}, "domain": {domain}}, nil); a.status != http.StatusNotFound {
				t.Errorf("revoking twice = %d", a.status)
			}
		})
		t.Run("Audit", func(t *testing.T) {
			a := ab.must(t, 200, "GET", "/admin/audit", nil)
			checkPage(t, a, "en")
			all := rowsOf(t, a.body)
			if len(all) < 4 {
				t.Fatalf("the audit log shows %d rows", len(all))
			}
			a = ab.must(t, 200, "GET", "/admin/audit?"+url.Values{"target": {zeynep.email}, "action": {"role.granted"}}.Encode(), nil)
			rows := rowsOf(t, a.body)
			if len(rows) != 1 || !strings.Contains(rows[0], "role.granted") || !strings.Contains(rows[0], "Zeynep Kaya") || !strings.Contains(rows[0], "Karşıyaka") {
				t.Errorf("filtered by target and action: %q", rows)
			}
			a = ab.must(t, 200, "GET", "/admin/audit?"+url.Values{"actor": {admin.Email}, "domain": {domain}}.Encode(), nil)
			rows = rowsOf(t, a.body)
			if len(rows) != 3 || len(rows) >= len(all) { // created Karşıyaka, granted, revoked
				t.Errorf("filtered by actor and domain: %q", rows)
			}
			if rows := rowsOf(t, ab.must(t, 200, "GET", "/admin/audit?since=2001-01-01&until=2001-01-31", nil).body); len(rows) != 0 {
				t.Errorf("a month long ago shows %q", rows)
			}
			checkRefused(t, ab.do(t, "GET", "/admin/audit?actor=nobody%40example.org", nil, nil), "en", "Nobody has this email address")
			checkRefused(t, ab.do(t, "GET", "/admin/audit?since=2026-02-31", nil, nil), "en")
			checkRefused(t, ab.do(t, "GET", "/admin/audit?since=2026-03-02&until=2026-03-01", nil, nil), "en", "The last day")
			checkRefused(t, ab.do(t, "GET", "/admin/audit?action=a%00b", nil, nil), "en")
		})
	})
}

// TestPages_AdminEveryLanguage renders every admin page, as shown and as refused, in
// all five languages, held to the frame's rules and the markup checks.
func TestPages_AdminEveryLanguage(t *testing.T) {
	n := coretest.StartNode(t, coretest.Databases(t)[0].Config, coretest.Options())
	admin := coretest.Admin(t, n, "admin@example.org")
	hood := newHood(t, admin, "Karşıyaka", "karsiyaka")
	zeynep := newPerson(t, n, "zeynep@example.org", "Zeynep Kaya")
	admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": zeynep.id, "role": core.RoleCoordinator, "domain": core.NeighbourhoodDomain(hood)})
	ab := adminBrowser(t, n, admin)
	checkEveryLanguage(t, ab, "/admin/grants?domain="+core.NeighbourhoodDomain(hood), []langPage{
		{"GET", "/admin", nil, 200},
		{"GET", "/admin/users?q=zey", nil, 200},
		{"GET", "/admin/users?q=%00", nil, 422},
		{"GET", "/admin/users/" + zeynep.id, nil, 200},
		{"POST", "/admin/users/" + zeynep.id + "/grant", url.Values{"role": {"resident"}, "domain": {"city"}}, 422},
		{"GET", "/admin/grants?domain=" + core.NeighbourhoodDomain(hood), nil, 200},
		{"GET", "/admin/audit", nil, 200},
		{"GET", "/admin/audit?actor=nobody%40example.org&until=x", nil, 422},
	})
}

// The navigation is kept per person and language (navLinks): a role granted or revoked
// shows in the next page of the same session, the current page is marked on each, and
// one person's links are never another's.
func TestPages_NavFollowsGrants(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		zeynep := newPerson(t, n, "zeynep.kaya@example.org", "Zeynep Kaya")
		elif := newPerson(t, n, "elif@example.org", "Elif Yılmaz")
		zb, eb := signIn(t, n, zeynep), signIn(t, n, elif)
		adminLink := func(b *browser, path string) (shown, current bool) {
			t.Helper()
			body := b.must(t, 200, "GET", path, nil).body
			return strings.Contains(body, `href="/admin"`), strings.Contains(body, `href="/admin" aria-current="page"`)
		}
		if shown, _ := adminLink(zb, "/"); shown {
			t.Fatal("a resident's navigation shows Administration")
		}
		grant := map[string]string{"user_id": zeynep.id, "role": core.RoleCityAdmin, "domain": core.DomainCity}
		admin.Must(201, "POST", "/api/v1/roles/grants", grant)
		if shown, current := adminLink(zb, "/"); !shown || current {
			t.Errorf("after the grant, on the home page: Administration shown %v, marked current %v", shown, current)
		}
		if shown, current := adminLink(zb, "/admin/users"); !shown || !current {
			t.Errorf("after the grant, on an admin page: Administration shown %v, marked current %v", shown, current)
		}
		if shown, _ := adminLink(eb, "/"); shown {
			t.Error("another resident's navigation shows Administration")
		}
		admin.Must(204, "DELETE", "/api/v1/roles/grants", grant)
		if shown, _ := adminLink(zb, "/"); shown {
			t.Error("after the revocation, the navigation still shows Administration")
		}
	})
}
