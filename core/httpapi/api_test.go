package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/openapi"
)

// count returns one integer from the node's database.
func count(t *testing.T, c *coretest.Client, query string, args ...any) int {
	t.Helper()
	db := coretest.SQL(c.Node)
	var n int
	if err := db.Get(&n, db.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func createNeighbourhood(t *testing.T, admin *coretest.User, name string) string {
	t.Helper()
	r := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": name})
	return r.JSON()["id"].(string)
}

// TestResidentJourney: a resident registers, logs in with a cookie and a bearer token,
// asks to join, is approved by the neighbourhood's coordinator, and /me shows resident.
func TestResidentJourney(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		nbh := createNeighbourhood(t, admin, "Karşıyaka")

		coord := coretest.Register(t, n, "coord@example.org", "Ceren")
		admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": coord.ID, "role": "coordinator", "domain": "nbh:" + nbh})

		// The resident uses a browser: cookie session plus anti-forgery header.
		browser := coretest.NewClient(t, n)
		pw := "sea breeze over the bay"
		reg := browser.Must(201, "POST", "/api/v1/auth/register", map[string]string{"email": "Ayse@Example.org", "password": pw, "display_name": "Ayşe", "language": "tr"})
		residentID := reg.JSON()["id"].(string)
		login := browser.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": "ayse@example.org", "password": pw})
		var lr struct {
			Token     string `json:"token"`
			CSRFToken string `json:"csrf_token"`
		}
		login.Decode(t, &lr)
		cookie := login.Header.Values("Set-Cookie")
		if len(cookie) == 0 || !strings.Contains(cookie[0], "HttpOnly") || !strings.Contains(cookie[0], "SameSite=Lax") {
			t.Fatalf("session cookie = %v, want HttpOnly and SameSite=Lax", cookie)
		}
		if got := count(t, browser, `SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, lr.Token); got != 0 {
			t.Fatal("the session token is stored in clear")
		}

		// Without the anti-forgery header a cookie-authenticated POST is refused.
		if r := browser.Do("POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", map[string]string{"note": "Cemal Gürsel Cd. 12"}); r.Status != 403 {
			t.Fatalf("POST without CSRF token = %d, want 403", r.Status)
		}
		browser.CSRF = lr.CSRFToken
		browser.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", map[string]string{"note": "Cemal Gürsel Cd. 12"})

		// The same session as a bearer token.
		bearer := coretest.NewClient(t, n)
		bearer.Token = lr.Token
		me := bearer.Must(200, "GET", "/api/v1/me", nil).JSON()
		if ms := me["memberships"].([]any); len(ms) != 1 || ms[0].(map[string]any)["state"] != "requested" {
			t.Fatalf("memberships before approval = %v", ms)
		}

		pending := coord.Must(200, "GET", "/api/v1/neighbourhoods/"+nbh+"/memberships?state=requested", nil).JSON()["items"].([]any)
		if len(pending) != 1 || pending[0].(map[string]any)["note"] != "Cemal Gürsel Cd. 12" {
			t.Fatalf("coordinator sees %v", pending)
		}
		coord.Must(200, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships/"+residentID+"/approve", nil)

		me = browser.Must(200, "GET", "/api/v1/me", nil).JSON()
		roles := me["roles"].(map[string]any)["nbh:"+nbh]
		if fmt.Sprint(roles) != "[resident]" {
			t.Fatalf("roles in nbh:%s = %v, want [resident]", nbh, roles)
		}
		if got := count(t, browser, `SELECT COUNT(*) FROM outbox_events WHERE type = 'core.membership.verified'`); got != 1 {
			t.Fatalf("core.membership.verified events = %d, want 1", got)
		}
		if got := count(t, browser, `SELECT COUNT(*) FROM audit_log WHERE action = 'membership.approved' AND actor_id = ?`, coord.ID); got != 1 {
			t.Fatalf("audit entries for the approval = %d, want 1", got)
		}

		// Approving again is a conflict in plain words and changes nothing.
		r := coord.Do("POST", "/api/v1/neighbourhoods/"+nbh+"/memberships/"+residentID+"/approve", nil)
		if r.Status != 409 || !strings.Contains(r.JSON()["error"].(map[string]any)["message"].(string), "verified") {
			t.Fatalf("second approval = %d %s", r.Status, r.Body)
		}

		// Logout ends the session everywhere it was used.
		stale := browser.HTTP.Jar.Cookies(mustURL(t, n.URL()))
		browser.Must(204, "POST", "/api/v1/auth/logout", nil)
		if r := bearer.Do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("after logout /me = %d, want 401", r.Status)
		}
		// A browser still holding the old cookie is anonymous on public pages, not locked out.
		old := coretest.NewClient(t, n)
		old.HTTP.Jar.SetCookies(mustURL(t, n.URL()), stale)
		old.Must(200, "GET", "/api/v1/neighbourhoods", nil)
		old.Must(401, "GET", "/api/v1/me", nil)
	})
}

// TestCoordinatorBoundaries: a coordinator of A cannot approve members of B, grant roles
// in B, or grant city_admin; nothing changes in the database.
func TestCoordinatorBoundaries(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		a := createNeighbourhood(t, admin, "Alsancak")
		b := createNeighbourhood(t, admin, "Bornova")
		coord := coretest.Register(t, n, "coord-a@example.org", "Coordinator A")
		admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": coord.ID, "role": "coordinator", "domain": "nbh:" + a})
		res := coretest.Register(t, n, "res-b@example.org", "Resident B")
		res.Must(201, "POST", "/api/v1/neighbourhoods/"+b+"/memberships", nil)
		other := coretest.Register(t, n, "other@example.org", "Other")

		grantsBefore := count(t, admin.Client, `SELECT COUNT(*) FROM role_grants`)
		cases := []struct {
			name, method, path string
			body               any
		}{
			{"ApproveInB", "POST", "/api/v1/neighbourhoods/" + b + "/memberships/" + res.ID + "/approve", nil},
			{"ListInB", "GET", "/api/v1/neighbourhoods/" + b + "/memberships", nil},
			{"GrantInB", "POST", "/api/v1/roles/grants", map[string]string{"user_id": other.ID, "role": "coordinator", "domain": "nbh:" + b}},
			{"GrantCityAdmin", "POST", "/api/v1/roles/grants", map[string]string{"user_id": other.ID, "role": "city_admin", "domain": "city"}},
			{"GrantCityAdminInA", "POST", "/api/v1/roles/grants", map[string]string{"user_id": other.ID, "role": "city_admin", "domain": "nbh:" + a}},
			{"CreateNeighbourhood", "POST", "/api/v1/neighbourhoods", map[string]string{"name": "Buca"}},
			{"ReadAudit", "GET", "/api/v1/admin/audit", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := coord.For(t).Do(tc.method, tc.path, tc.body)
				if r.Status != 403 || r.ErrorCode() != "forbidden" {
					t.Fatalf("%s %s = %d %s, want 403 forbidden", tc.method, tc.path, r.Status, r.Body)
				}
			})
		}
		if got := count(t, admin.Client, `SELECT COUNT(*) FROM role_grants`); got != grantsBefore {
			t.Fatalf("role_grants changed: %d → %d", grantsBefore, got)
		}
		if got := count(t, admin.Client, `SELECT COUNT(*) FROM memberships WHERE user_id = ? AND state = 'requested'`, res.ID); got != 1 {
			t.Fatalf("B's request changed state")
		}
		if got := count(t, admin.Client, `SELECT COUNT(*) FROM neighbourhoods`); got != 2 {
			t.Fatalf("neighbourhoods = %d, want 2", got)
		}
		// Inside A the coordinator may grant the role they hold.
		coord.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": other.ID, "role": "coordinator", "domain": "nbh:" + a})
		if got := count(t, admin.Client, `SELECT COUNT(*) FROM audit_log WHERE action = 'role.granted' AND actor_id = ?`, coord.ID); got != 1 {
			t.Fatalf("the coordinator's grant was not audited")
		}
	})
}

// TestLoginThrottle: repeated wrong passwords are throttled with Retry-After; unknown
// email and wrong password look the same; the right password works after the window.
func TestLoginThrottle(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		clock := coretest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		opt := coretest.Options()
		opt.Clock = clock
		n := coretest.StartNode(t, db.Config, opt)
		u := coretest.Register(t, n, "victim@example.org", "Victim")
		c := coretest.NewClient(t, n)

		wrong := c.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "not the password at all"})
		unknown := c.Do("POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.org", "password": "not the password at all"})
		if wrong.Status != 401 || unknown.Status != 401 || wrong.JSON()["error"].(map[string]any)["message"] != unknown.JSON()["error"].(map[string]any)["message"] {
			t.Fatalf("wrong password %d %s vs unknown email %d %s: must look the same", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
		}
		for i := 0; i < 4; i++ {
			c.Must(401, "POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "still the wrong one"})
		}
		r := c.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password})
		if r.Status != 429 || r.Header.Get("Retry-After") == "" || r.ErrorCode() != "rate_limited" {
			t.Fatalf("after 5 failures the right password = %d (Retry-After %q), want 429", r.Status, r.Header.Get("Retry-After"))
		}
		clock.Advance(16 * time.Minute)
		c.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password})
	})
}

// TestBadInput: malformed requests get a clear 4xx naming the problem and change nothing.
func TestBadInput(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		nbh := createNeighbourhood(t, admin, "Konak")
		u := coretest.Register(t, n, "someone@example.org", "Someone")
		u.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", nil)
		admin.Must(200, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships/"+u.ID+"/reject", map[string]string{"reason": "Not in this district"})
		anon := coretest.NewClient(t, n)
		usersBefore := count(t, admin.Client, `SELECT COUNT(*) FROM users`)
		nbhBefore := count(t, admin.Client, `SELECT COUNT(*) FROM neighbourhoods`)

		reg := func(email, pw, name, lang string) map[string]string {
			return map[string]string{"email": email, "password": pw, "display_name": name, "language": lang}
		}
		cases := []struct {
			name       string
			c          *coretest.Client
			method     string
			path       string
			body       any
			wantStatus int
			wantField  string
		}{
			{"MalformedJSON", anon, "POST", "/api/v1/auth/register", `{"email": `, 400, ""},
			{"UnknownField", anon, "POST", "/api/v1/auth/register", `{"email":"x@example.org","password":"long enough pw 1","display_name":"X","language":"en","admin":true}`, 400, "admin"},
			{"MissingFields", anon, "POST", "/api/v1/auth/register", map[string]string{}, 422, "email"},
			{"WrongType", anon, "POST", "/api/v1/auth/register", `{"email": 5}`, 400, "email"},
			{"InvalidUTF8", anon, "POST", "/api/v1/auth/register", "{\"email\":\"a\xffb@example.org\"}", 400, ""},
			{"TwoObjects", anon, "POST", "/api/v1/auth/register", `{} {}`, 400, ""},
			{"ShortPassword", anon, "POST", "/api/v1/auth/register", reg("x@example.org", "short", "X", "en"), 422, "password"},
			{"CommonPassword", anon, "POST", "/api/v1/auth/register", reg("x@example.org", "password123", "X", "en"), 422, "password"},
			{"UnknownLanguage", anon, "POST", "/api/v1/auth/register", reg("x@example.org", "long enough passphrase", "X", "xx"), 422, "language"},
			{"LongName", anon, "POST", "/api/v1/auth/register", reg("x@example.org", "long enough passphrase", strings.Repeat("n", 101), "en"), 422, "display_name"}, // the documented maxLength (issue 12)
			{"BadEmail", anon, "POST", "/api/v1/auth/register", reg("not-an-email", "long enough passphrase", "X", "en"), 422, "email"},
			// A taken address is no error: it answers as a new one (TestRegister_ExistingAddress).
			{"UnknownNeighbourhood", u.Client, "POST", "/api/v1/neighbourhoods/01900000-0000-7000-8000-000000000000/memberships", nil, 404, ""},
			{"ApproveRejected", admin.Client, "POST", "/api/v1/neighbourhoods/" + nbh + "/memberships/" + u.ID + "/approve", nil, 409, ""},
			{"RejectWithoutReason", admin.Client, "POST", "/api/v1/neighbourhoods/" + nbh + "/memberships/" + u.ID + "/reject", nil, 422, "reason"},
			{"BadSlug", admin.Client, "POST", "/api/v1/neighbourhoods", map[string]string{"name": "X", "slug": "Not A Slug"}, 422, "slug"},
			{"DuplicateSlug", admin.Client, "POST", "/api/v1/neighbourhoods", map[string]string{"name": "Konak"}, 409, "slug"},
			{"BadBoundary", admin.Client, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Y", "boundary": map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{0, 0}, {1, 0}, {1, 1}}}}}, 422, "boundary"},
			{"UnknownParent", admin.Client, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Z", "parent_id": "nope"}, 422, "parent_id"},
			{"GrantUnknownRole", admin.Client, "POST", "/api/v1/roles/grants", map[string]string{"user_id": u.ID, "role": "emperor", "domain": "city"}, 422, "role"},
			{"GrantBadDomain", admin.Client, "POST", "/api/v1/roles/grants", map[string]string{"user_id": u.ID, "role": "coordinator", "domain": "galaxy:1"}, 422, "domain"},
			{"BadLimit", anon, "GET", "/api/v1/neighbourhoods?limit=0", nil, 422, "limit"},
			{"BadCursor", anon, "GET", "/api/v1/neighbourhoods?cursor=%%%", nil, 400, "cursor"},
			{"BadBearer", &coretest.Client{}, "GET", "/api/v1/me", nil, 401, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := tc.c
				if c.Node == nil {
					c = coretest.NewClient(t, n)
					c.Token = "kvs_forged"
				}
				c = c.For(t)
				r := c.Do(tc.method, tc.path, tc.body)
				if r.Status != tc.wantStatus {
					t.Fatalf("status = %d, want %d: %s", r.Status, tc.wantStatus, r.Body)
				}
				e, _ := r.JSON()["error"].(map[string]any)
				if e == nil || e["message"] == "" {
					t.Fatalf("no error message: %s", r.Body)
				}
				if want := sdk.CodeOf(tc.wantStatus); e["code"] != want || e["request_id"] != r.Header.Get("X-Request-ID") || e["request_id"] == "" {
					t.Fatalf("code %v and request_id %v, want %s and the X-Request-ID: %s", e["code"], e["request_id"], want, r.Body)
				}
				if fields, _ := e["fields"].(map[string]any); tc.wantStatus == 422 && fields["rule"] == nil {
					t.Fatalf("a 422 names no rule: %s", r.Body)
				}
				if tc.wantField != "" {
					fields, _ := e["fields"].(map[string]any)
					if _, ok := fields[tc.wantField]; !ok {
						t.Fatalf("error does not name field %q: %s", tc.wantField, r.Body)
					}
				}
			})
		}
		t.Run("BodyTooLarge", func(t *testing.T) {
			// Declare a 2 MiB body and send almost none of it: the server must refuse on
			// the declared length, before reading, and say so in the error format.
			conn, err := net.Dial("tcp", n.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /api/v1/auth/register HTTP/1.1\r\nHost: kvarter\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 2<<20)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 413 || !strings.Contains(string(body), `"code":"too_large"`) {
				t.Fatalf("oversized body = %d %s, want 413 in the error format", resp.StatusCode, body)
			}
		})
		if got := count(t, admin.Client, `SELECT COUNT(*) FROM users`); got != usersBefore {
			t.Fatalf("users changed: %d → %d", usersBefore, got)
		}
		if got := count(t, admin.Client, `SELECT COUNT(*) FROM neighbourhoods`); got != nbhBefore {
			t.Fatalf("neighbourhoods changed: %d → %d", nbhBefore, got)
		}
	})
}

// TestOpenAPI_CoversEveryRoute fails when a registered route is not in the document.
func TestOpenAPI_CoversEveryRoute(t *testing.T) {
	db := coretest.Databases(t)[0]
	n := coretest.StartNode(t, db.Config, coretest.Options())
	doc := n.Server.Document()
	paths := doc["paths"].(map[string]any)
	routes := n.Server.RouteTemplates()
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered; the listing is broken", len(routes))
	}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		item, _ := paths[path].(map[string]any)
		if _, ok := item[strings.ToLower(method)]; !ok {
			t.Errorf("route %s is missing from /api/v1/openapi.json", r)
		}
	}
	c := coretest.NewClient(t, n)
	got := c.Must(http.StatusOK, "GET", "/api/v1/openapi.json", nil).JSON()
	if got["openapi"] != "3.0.3" {
		t.Fatalf("openapi version = %v", got["openapi"])
	}
	// Every response a coretest client sees is checked against this document
	// (sdk/openapi); here the checker must refuse a body the document does not allow.
	if err := openapi.CheckResponse(doc, "GET", "/api/v1/neighbourhoods/x", 200, []byte(`{"id": 5}`)); err == nil {
		t.Fatal("CheckResponse accepted a neighbourhood whose id is a number")
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
