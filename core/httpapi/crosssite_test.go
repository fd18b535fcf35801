package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/httpapi"
)

// Every unsafe API route refuses a cross-site request that rides on a browser's
// session cookie, even one that carries the anti-forgery token (DESIGN §10: Fetch
// Metadata or Origin for every unsafe method), and the refusal changes nothing.
func TestAPI_CrossSiteRefusedOnEveryUnsafeRoute(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		resp, body := coretest.RawRequest(t, "POST", n.URL()+"/api/v1/auth/login",
			`{"email":"admin@city.example","password":"`+admin.Password+`"}`, map[string]string{"Content-Type": "application/json"})
		var login struct {
			CSRFToken string `json:"csrf_token"`
		}
		if err := json.Unmarshal(body, &login); err != nil || resp.StatusCode != 200 {
			t.Fatalf("login = %d %s", resp.StatusCode, body)
		}
		var session string
		for _, c := range resp.Cookies() {
			if c.Name == httpapi.SessionCookie {
				session = c.Name + "=" + c.Value
			}
		}
		if session == "" {
			t.Fatal("no session cookie")
		}
		audit := func() int {
			var n2 int
			if err := coretest.SQL(n).Get(&n2, `SELECT COUNT(*) FROM audit_log`); err != nil {
				t.Fatal(err)
			}
			return n2
		}
		before := audit()
		host := strings.TrimPrefix(n.URL(), "http://")
		unsafe := 0
		for _, route := range n.Server.RouteTemplates() {
			method, path, _ := strings.Cut(route, " ")
			if method == "GET" || method == "OPTIONS" || !strings.HasPrefix(path, "/api/") {
				continue
			}
			unsafe++
			path = fillParams(path)
			for _, h := range []map[string]string{
				{"Sec-Fetch-Site": "cross-site"},
				{"Sec-Fetch-Site": "same-site"},
				{"Origin": "https://evil.example"},
				{"Origin": "http://" + host + ".evil.example"},
			} {
				h["Cookie"] = session
				h[httpapi.CSRFHeader] = login.CSRFToken
				h["Content-Type"] = "application/json"
				resp, body := coretest.RawRequest(t, method, n.URL()+path, `{}`, h)
				if resp.StatusCode != 403 || !strings.Contains(string(body), `"forbidden"`) {
					t.Errorf("%s %s with %v = %d %s, want 403", method, path, h, resp.StatusCode, body)
				}
			}
		}
		if unsafe < 10 {
			t.Fatalf("only %d unsafe routes found; the walk is broken", unsafe)
		}
		if after := audit(); after != before {
			t.Errorf("refused requests changed something: audit entries %d -> %d", before, after)
		}
		// The same session from the site itself still works.
		resp, body = coretest.RawRequest(t, "POST", n.URL()+"/api/v1/neighbourhoods", `{"name":"Alsancak"}`,
			map[string]string{"Cookie": session, httpapi.CSRFHeader: login.CSRFToken, "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin", "Origin": n.URL()})
		if resp.StatusCode != 201 {
			t.Errorf("a same-origin POST = %d %s, want 201", resp.StatusCode, body)
		}
	})
}

// fillParams puts a well-formed id in each {param} of an OpenAPI path.
func fillParams(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "01900000-0000-7000-8000-000000000000"
		}
	}
	return strings.Join(segs, "/")
}
