package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// EnvOpenAPIOut names a file TestMain_API writes the whole /api/v1/openapi.json to
// (the core and all four plugins), for CI's third-party validator (.ci/run).
const EnvOpenAPIOut = "KVARTER_OPENAPI_OUT"

// city is a `kvarter serve` with every built-in plugin, each a child process.
type city struct {
	*serving
	admin *coretest.Client
	token string
	// newMain makes another `kvarter` of the same data folder, and cfgPath is the
	// config file: a second node of the city runs `serve --config cfgPath` with them.
	newMain func() (*Main, *bytes.Buffer)
	cfgPath string
}

// startCity runs kvarter serve in-process with all four built-in plugins on SQLite, or
// on a fresh PostgreSQL schema when postgres, and signs a city admin in.
func startCity(t *testing.T, postgres bool) *city {
	return startCityWith(t, postgres, nil)
}

// writeCityConfig writes a city config with the keys in extra over the defaults into
// a new data folder, on SQLite or on a fresh PostgreSQL schema (with its plugin stores
// dropped when the test ends), and returns the folder and the file.
func writeCityConfig(t testing.TB, postgres bool, extra map[string]any) (dir, cfgPath string) {
	t.Helper()
	dir = t.TempDir()
	cfg := map[string]any{"database_max_connections": 20}
	maps.Copy(cfg, extra)
	if postgres {
		base := sdktest.PostgresURL(t)
		var b [5]byte
		rand.Read(b[:])
		prefix := "kvapi_" + hex.EncodeToString(b[:]) + "_"
		cfg["database_url"], cfg["plugin_store_prefix"] = coretest.PostgresSchema(t, base), prefix
		t.Cleanup(func() {
			if db, err := sqlx.Open("postgres", base); err == nil {
				sdktest.DropPluginStores(db, prefix)
				db.Close()
			}
		})
	}
	cfgPath = filepath.Join(dir, "city.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cfgPath
}

// startCityWith is startCity with more config keys (a mail server, the city's
// languages) over the defaults.
func startCityWith(t testing.TB, postgres bool, extra map[string]any) *city {
	t.Helper()
	kv := sdktest.KvarterBinary(t)
	dir, cfgPath := writeCityConfig(t, postgres, extra)
	newMain := func() (*Main, *bytes.Buffer) {
		m, _, errOut := newTestMain(t, dir)
		m.Options.Executable = kv
		return m, errOut
	}
	m, errOut := newMain()
	m.Stdin = strings.NewReader("api test admin passphrase\n")
	if code := m.Run(t.Context(), []string{"admin", "create-user", "--config", cfgPath, "--email", "admin@city.example", "--password-stdin", "--role", "city_admin"}); code != 0 {
		t.Fatalf("create-user = %d %s", code, errOut)
	}
	m, errOut = newMain()
	s := startServe(t, m, errOut, "--config", cfgPath)
	waitActive(t, s.node)
	admin := login(t, s.node, "admin@city.example", "api test admin passphrase")
	// The bad requests below are odd on purpose; their answers are checked here.
	admin.SkipOpenAPICheck = true
	return &city{serving: s, admin: admin, token: admin.Token, newMain: newMain, cfgPath: cfgPath}
}

// do sends one request as the admin with a raw body and reads the answer as it came.
func (c *city) do(t *testing.T, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + c.token}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	maps.Copy(h, header)
	return coretest.RawRequest(t, method, c.node.URL()+path, body, h)
}

// TestMain_API starts the real core with all four built-in plugins and checks the API
// conventions DESIGN.md §7 fixes for core and plugins alike: the same bad input gets the
// same answer everywhere, every declared route is in the OpenAPI document with its
// security, and the HTTP conventions hold for plugin routes at the host.
func TestMain_API(t *testing.T) {
	for _, postgres := range []bool{false, true} {
		name := "sqlite"
		if postgres {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			if postgres && os.Getenv(sdktest.EnvDatabaseURL) == "" && os.Getenv("CI") == "" {
				t.Skipf("set %s to run this on PostgreSQL too", sdktest.EnvDatabaseURL)
			}
			c := startCity(t, postgres)
			t.Run("BadInputSameEverywhere", func(t *testing.T) { testBadInputSameEverywhere(t, c) })
			t.Run("OpenAPI", func(t *testing.T) { testOpenAPIEveryRoute(t, c, !postgres) })
			t.Run("PluginRoutesHTTP", func(t *testing.T) { testPluginRoutesHTTP(t, c) })
			t.Run("PluginList", func(t *testing.T) { testPluginList(t, c) })
		})
	}
}

// badInputTarget is a POST route that decodes a JSON object with a text field and,
// unless intField is empty, an integer field.
type badInputTarget struct {
	name, path          string
	textField, intField string
}

var badInputTargets = []badInputTarget{
	// The core's bodies hold no numbers: its int32 case has no field to go in.
	{"core", "/api/v1/neighbourhoods", "name", ""},
	{"assemblies", "/api/v1/assemblies", "name", "quorum_percent"},
	{"budgeting", "/api/v1/budgeting/cycles", "name", "support_top_n"},
	{"parks", "/api/v1/parks", "name", ""},
	{"volunteers", "/api/v1/volunteers/opportunities", "title", "min_age"},
}

// testBadInputSameEverywhere sends the same bad bodies to a POST route of the core and
// of each plugin: each must answer the same status with the same error code, the
// field at fault and, on a 422, the rule, and the request's id in the body.
func testBadInputSameEverywhere(t *testing.T, c *city) {
	cases := []struct {
		name   string
		body   func(tg badInputTarget) string
		status int
		field  func(tg badInputTarget) string // "" when the body names no field
		rule   string
		needs  func(tg badInputTarget) bool
	}{
		{name: "MalformedJSON", body: func(tg badInputTarget) string { return `{"` + tg.textField + `": ` }, status: 400},
		{name: "WrongJSONType", body: func(tg badInputTarget) string { return `{"` + tg.textField + `": 5}` }, status: 400,
			field: func(tg badInputTarget) string { return tg.textField }},
		{name: "UnknownField", body: func(badInputTarget) string { return `{"no_such_field": true}` }, status: 400,
			field: func(badInputTarget) string { return "no_such_field" }},
		{name: "NULByte", body: func(tg badInputTarget) string { return `{"` + tg.textField + `": "a\u0000b"}` }, status: 422,
			field: func(tg badInputTarget) string { return tg.textField }, rule: sdk.RuleNUL},
		{name: "Int32Overflow", body: func(tg badInputTarget) string { return `{"` + tg.intField + `": 3000000000}` }, status: 422,
			field: func(tg badInputTarget) string { return tg.intField }, rule: sdk.RuleRange,
			needs: func(tg badInputTarget) bool { return tg.intField != "" }},
		{name: "EmptyBody", body: func(badInputTarget) string { return "" }, status: 400},
	}
	for _, tc := range cases {
		for _, tg := range badInputTargets {
			if tc.needs != nil && !tc.needs(tg) {
				continue
			}
			t.Run(tc.name+"/"+tg.name, func(t *testing.T) {
				resp, body := c.do(t, "POST", tg.path, tc.body(tg), nil)
				var e sdk.ErrorBody
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("%d %s: not the error format: %v", resp.StatusCode, body, err)
				}
				if resp.StatusCode != tc.status || e.Error.Code != sdk.CodeOf(tc.status) || e.Error.Message == "" {
					t.Fatalf("got %d %s, want %d with code %s", resp.StatusCode, body, tc.status, sdk.CodeOf(tc.status))
				}
				if e.Error.RequestID == "" || e.Error.RequestID != resp.Header.Get("X-Request-ID") {
					t.Fatalf("request_id %q, want the answer's X-Request-ID %q: %s", e.Error.RequestID, resp.Header.Get("X-Request-ID"), body)
				}
				if tc.field != nil {
					if f := tc.field(tg); !hasFieldPrefix(e.Error.Fields, f) {
						t.Fatalf("fields %v do not name %s: %s", e.Error.Fields, f, body)
					}
				}
				if e.Error.Fields["rule"] != tc.rule {
					t.Fatalf("rule %q, want %q: %s", e.Error.Fields["rule"], tc.rule, body)
				}
				for _, bad := range []string{"json:", "Go value", "a JSON a", "unmarshal", "int64", "struct"} {
					if strings.Contains(e.Error.Message, bad) {
						t.Fatalf("message %q speaks of %q", e.Error.Message, bad)
					}
				}
			})
		}
	}
}

// hasFieldPrefix reports whether fields names field or one of its parts ("a.b").
func hasFieldPrefix(fields map[string]string, field string) bool {
	for k := range fields {
		if k == field || strings.HasPrefix(k, field+".") {
			return true
		}
	}
	return false
}

// testOpenAPIEveryRoute: every route the core serves and every route each plugin's
// manifest declares is an operation of /api/v1/openapi.json, with an operationId and a
// summary, and with `security` unless anyone may use it. With dump, the document is
// also written where EnvOpenAPIOut says, for the validator CI runs.
func testOpenAPIEveryRoute(t *testing.T, c *city, dump bool) {
	resp, body := c.do(t, "GET", "/api/v1/openapi.json", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json = %d", resp.StatusCode)
	}
	var doc struct {
		Servers    []map[string]any                     `json:"servers"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) == 0 || doc.Components.SecuritySchemes["bearer"] == nil || doc.Components.SecuritySchemes["cookie"] == nil {
		t.Fatalf("the document lacks servers or the two security schemes")
	}
	check := func(who, method, path string, public bool, hostAnswers []string) {
		op := doc.Paths[path][strings.ToLower(method)]
		if op == nil {
			t.Errorf("%s route %s %s is not in the document", who, method, path)
			return
		}
		if op["operationId"] == "" || op["operationId"] == nil || op["summary"] == "" || op["summary"] == nil {
			t.Errorf("%s %s %s: no operationId or summary", who, method, path)
		}
		sec, _ := op["security"].([]any)
		if public && len(sec) != 0 || !public && len(sec) == 0 {
			t.Errorf("%s %s %s: security %v, want it exactly when sign-in is needed (public %v)", who, method, path, op["security"], public)
		}
		responses, _ := op["responses"].(map[string]any)
		for _, status := range hostAnswers {
			if responses[status] == nil {
				t.Errorf("%s %s %s: the host's %s is not documented", who, method, path, status)
			}
		}
	}
	for _, r := range c.node.Server.RouteTemplates() {
		method, path, _ := strings.Cut(r, " ")
		op := doc.Paths[path][strings.ToLower(method)]
		auth, _ := op["x-kvarter-auth"].(string)
		check("core", method, path, auth == "public", nil)
	}
	n := 0
	for _, name := range builtinNames() {
		for _, r := range builtins[name]().Manifest().Routes {
			if r.Kind == sdk.RoutePage {
				continue // pages answer HTML and stay out of the document
			}
			answers := []string{"401", "503"}
			if r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH" {
				answers = append(answers, "403", "413")
			}
			check(name, r.Method, r.Path, r.Permission == sdk.PermPublic, answers)
			n++
		}
	}
	if n < 50 {
		t.Fatalf("only %d plugin routes declared; the listing is broken", n)
	}
	if out := os.Getenv(EnvOpenAPIOut); dump && out != "" {
		if err := os.WriteFile(out, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testPluginRoutesHTTP checks the host's HTTP conventions on every plugin's routes:
// HEAD where GET works, 405 with Allow from the manifest, ETag and 304 on public GET
// answers, no-store on personal ones, and the security headers.
func testPluginRoutesHTTP(t *testing.T, c *city) {
	for _, name := range builtinNames() {
		routes := builtins[name]().Manifest().Routes
		t.Run(name, func(t *testing.T) {
			// A GET route without parameters: HEAD answers as GET does, without a body.
			var get *sdk.Route
			for i, r := range routes {
				if r.Kind == sdk.RouteAPI && r.Method == "GET" && !strings.Contains(r.Path, "{") && (get == nil || r.Permission == sdk.PermPublic) {
					get = &routes[i]
				}
			}
			if get == nil {
				t.Fatalf("%s declares no GET route without parameters", name)
			}
			g, gBody := c.do(t, "GET", get.Path, "", nil)
			h, hBody := c.do(t, "HEAD", get.Path, "", nil)
			if h.StatusCode != g.StatusCode || len(hBody) != 0 || h.Header.Get("Content-Type") != g.Header.Get("Content-Type") {
				t.Errorf("HEAD %s = %d %q (%v), want GET's %d without a body", get.Path, h.StatusCode, hBody, h.Header, g.StatusCode)
			}
			for _, hdr := range []string{"X-Content-Type-Options", "Referrer-Policy", "Cache-Control", "X-Request-ID"} {
				if g.Header.Get(hdr) == "" {
					t.Errorf("GET %s has no %s", get.Path, hdr)
				}
			}
			if g.StatusCode == 200 && get.Permission == sdk.PermPublic {
				etag := g.Header.Get("ETag")
				again, body := c.do(t, "GET", get.Path, "", map[string]string{"If-None-Match": etag})
				if etag == "" || again.StatusCode != 304 || len(body) != 0 {
					t.Errorf("public GET %s: ETag %q, conditional GET %d %q, want 304", get.Path, etag, again.StatusCode, body)
				}
			} else if g.StatusCode == 200 && g.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s behind %s: Cache-Control %q, want no-store", get.Path, get.Permission, g.Header.Get("Cache-Control"))
			}
			if len(gBody) == 0 {
				t.Errorf("GET %s answered no body", get.Path)
			}

			// A declared path with a method it does not take: 405, Allow from the manifest.
			byPath := map[string][]string{}
			for _, r := range routes {
				if r.Kind != sdk.RouteAPI {
					continue // a page's path answers the frame's HTML
				}
				byPath[r.Path] = append(byPath[r.Path], r.Method)
				if r.Method == "GET" {
					byPath[r.Path] = append(byPath[r.Path], "HEAD")
				}
			}
			// The first such path in order, whose concrete form no PUT route's template
			// takes either: PUT /parks/events is PUT /parks/{id}, an edit of a park.
			paths := slices.Sorted(maps.Keys(byPath))
			for _, path := range paths {
				methods := byPath[path]
				p := strings.NewReplacer("{", "x", "}", "").Replace(path)
				if slices.ContainsFunc(paths, func(q string) bool { return slices.Contains(byPath[q], "PUT") && templateMatches(q, p) }) {
					continue
				}
				slices.Sort(methods)
				resp, body := c.do(t, "PUT", p, `{}`, nil)
				var e sdk.ErrorBody
				_ = json.Unmarshal(body, &e)
				if resp.StatusCode != 405 || resp.Header.Get("Allow") != strings.Join(methods, ", ") || e.Error.Code != sdk.CodeMethodNotAllowed || e.Error.RequestID == "" {
					t.Errorf("PUT %s = %d Allow %q %s, want 405 with Allow %q", p, resp.StatusCode, resp.Header.Get("Allow"), body, strings.Join(methods, ", "))
				}
				break
			}
		})
	}
}

// testPluginList walks GET /api/v1/admin/plugins one plugin a page.
func testPluginList(t *testing.T, c *city) {
	var names []string
	cursor := ""
	for range 10 {
		resp, body := c.do(t, "GET", "/api/v1/admin/plugins?limit=1&cursor="+url.QueryEscape(cursor), "", nil)
		var page struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != 200 || len(page.Items) != 1 || page.NextCursor == nil {
			t.Fatalf("plugins page = %d %s", resp.StatusCode, body)
		}
		names = append(names, page.Items[0].Name)
		if cursor = *page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(names, builtinNames()) {
		t.Fatalf("walked %v, want %v once each", names, builtinNames())
	}
}

// templateMatches reports whether a route template ("/api/v1/parks/{id}") takes the
// concrete path p, segment by segment.
func templateMatches(template, p string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(p, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if !strings.HasPrefix(ts[i], "{") && ts[i] != ps[i] {
			return false
		}
	}
	return true
}
