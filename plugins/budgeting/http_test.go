package budgeting

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/openapi"
	"github.com/kvarter/kvarter/sdk/store"
)

// apiClient calls the plugin's handler in-process as a given user and checks every
// response against the manifest's OpenAPI paths.
type apiClient struct {
	t     *testing.T
	srv   *httptest.Server
	host  *fakeHost
	paths map[string]any
}

func newAPI(t *testing.T, f *fixture) *apiClient {
	t.Helper()
	h := newHandler(f.svc, nil)
	// The host puts the Principal in the context; here a test header names the user.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.host.mu.Lock()
		pr := f.host.principals[r.Header.Get("X-Test-User")]
		f.host.mu.Unlock()
		ctx := sdk.WithRequestID(sdk.WithPrincipal(r.Context(), pr), "req-1")
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)
	var paths map[string]any
	if err := json.Unmarshal(openAPI(), &paths); err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, srv: srv, host: f.host, paths: paths}
}

// do sends a request and decodes a JSON answer into out (when not nil); it returns the
// status and raw body.
func (a *apiClient) do(user, method, path string, body any, out any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, rd)
	req.Header.Set("X-Test-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if err := openapi.CheckResponse(map[string]any{"paths": a.paths}, method, path, resp.StatusCode, data); err != nil {
		a.t.Error(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, data
}

func (a *apiClient) want(status int, user, method, path string, body any, out any) []byte {
	a.t.Helper()
	got, data := a.do(user, method, path, body, out)
	if got != status {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, status, data)
	}
	return data
}

func TestHandler_Cycle(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		api := newAPI(t, f)
		f.host.add(officer("officer", "n1"))
		f.host.add(resident("alice", "n1"))
		f.host.add(resident("bob", "n2"))
		c := base + "/cycles"

		t.Run("CreateErrors", func(t *testing.T) {
			api.want(400, "officer", "POST", c, `{"name": `, nil)
			api.want(400, "officer", "POST", c, `{"unknown": 1}`, nil)
			data := api.want(422, "officer", "POST", c, map[string]any{
				"neighbourhood_id": "n1", "name": "X", "budget": 100, "currency": "euro", "ballot": map[string]any{"type": "approval"},
			}, nil)
			if !strings.Contains(string(data), `"currency"`) {
				t.Errorf("error does not name the field: %s", data)
			}
			api.want(403, "alice", "POST", c, map[string]any{
				"neighbourhood_id": "n1", "name": "X", "budget": 100, "currency": "EUR", "ballot": map[string]any{"type": "approval"},
			}, nil)
		})
		var cy Cycle
		api.want(201, "officer", "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Parks", "budget": 1000_00, "currency": "EUR",
			"ballot": map[string]any{"type": "cumulative", "points": 10, "max_per_project": 6},
			"phases": map[string]any{"voting": "2026-05-01T00:00:00Z"},
		}, &cy)
		api.want(200, "", "GET", c+"/"+cy.ID, nil, nil)
		api.want(404, "", "GET", c+"/nope", nil, nil)
		var page list[Cycle]
		api.want(200, "", "GET", c+"?neighbourhood_id=n1&limit=1", nil, &page)
		if len(page.Items) != 1 || page.Items[0].ID != cy.ID {
			t.Errorf("list %+v", page)
		}
		api.want(422, "", "GET", c+"?limit=0", nil, nil)

		var p1, p2 Proposal
		api.want(201, "alice", "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Swings", "cost": 400_00}, &p1)
		api.want(201, "alice", "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Trees", "cost": 300_00}, &p2)
		api.want(422, "alice", "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Negative", "cost": -5}, nil)
		api.want(403, "bob", "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Not mine", "cost": 5}, nil)
		api.want(403, "bob", "PATCH", c+"/"+cy.ID+"/proposals/"+p1.ID, map[string]any{"title": "Hijack", "cost": 5}, nil)
		api.want(200, "alice", "PATCH", c+"/"+cy.ID+"/proposals/"+p1.ID, map[string]any{"title": "Swings!", "cost": 400_00}, nil)
		api.want(409, "alice", "POST", c+"/"+cy.ID+"/proposals/"+p1.ID+"/support", nil, nil)

		api.want(200, "officer", "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "review"}, nil)
		api.want(409, "officer", "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "ideas"}, nil)
		api.want(200, "officer", "POST", c+"/"+cy.ID+"/proposals/"+p1.ID+"/review", map[string]any{"feasible": true, "cost": 450_00}, nil)
		api.want(200, "officer", "POST", c+"/"+cy.ID+"/proposals/"+p2.ID+"/review", map[string]any{"feasible": true, "cost": 300_00}, nil)
		api.want(422, "officer", "POST", c+"/"+cy.ID+"/proposals/"+p2.ID+"/review", map[string]any{"feasible": false}, nil)
		api.want(200, "officer", "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "voting"}, nil)

		ballots := c + "/" + cy.ID + "/ballots"
		t.Run("BallotErrors", func(t *testing.T) {
			for _, tc := range []struct {
				body   any
				status int
				rule   string
			}{
				{map[string]any{"points": map[string]int{p1.ID: 7}}, 422, RuleMaxPerProject},
				{map[string]any{"points": map[string]int{p1.ID: 6, p2.ID: 6}}, 422, RulePoints},
				{map[string]any{"points": map[string]int{"ghost": 1}}, 422, RuleKnownProjects},
				{map[string]any{"projects": []string{p1.ID}}, 422, RuleType},
			} {
				data := api.want(tc.status, "alice", "POST", ballots, tc.body, nil)
				var e struct {
					Error struct {
						Message string            `json:"message"`
						Fields  map[string]string `json:"fields"`
					} `json:"error"`
				}
				_ = json.Unmarshal(data, &e)
				if e.Error.Fields["rule"] != tc.rule || !strings.Contains(e.Error.Message, tc.rule) {
					t.Errorf("%v: %s", tc.body, data)
				}
			}
			api.want(403, "bob", "POST", ballots, map[string]any{"points": map[string]int{p1.ID: 1}}, nil)
		})
		var rc Receipt
		api.want(201, "alice", "POST", ballots, map[string]any{"points": map[string]int{p1.ID: 6, p2.ID: 4}}, &rc)
		api.want(409, "alice", "POST", ballots, map[string]any{"points": map[string]int{p1.ID: 6}}, nil)
		api.want(201, "officer", "POST", c+"/"+cy.ID+"/paper-ballots", map[string]any{"ballots": []any{map[string]any{"points": map[string]int{p2.ID: 6}}}}, nil)
		api.want(422, "officer", "POST", c+"/"+cy.ID+"/paper-ballots", map[string]any{"ballots": []any{map[string]any{"points": map[string]int{p2.ID: 11}}}}, nil)
		var turnout Turnout
		api.want(200, "", "GET", c+"/"+cy.ID+"/turnout", nil, &turnout)
		if turnout.Voters != 1 || turnout.Ballots != 2 {
			t.Errorf("turnout %+v", turnout)
		}

		api.want(409, "", "GET", c+"/"+cy.ID+"/export.pb", nil, nil)
		api.want(404, "", "GET", c+"/"+cy.ID+"/results", nil, nil)
		api.want(200, "officer", "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "results"}, nil)
		api.want(422, "officer", "POST", c+"/"+cy.ID+"/tally", map[string]any{"rule": "mes"}, nil)
		var res Result
		api.want(201, "officer", "POST", c+"/"+cy.ID+"/tally", map[string]any{"rule": "greedy", "tie_break": "min-cost,max-votes"}, &res)
		// Points: p2 10, p1 6; greedy funds p2 (300), then p1 (450) still fits 1000.
		if len(res.Winners) != 2 || res.Winners[0] != p2.ID || res.Cost != 750_00 {
			t.Errorf("result %+v", res)
		}
		api.want(200, "", "GET", c+"/"+cy.ID+"/results", nil, nil)
		data := api.want(200, "", "GET", c+"/"+cy.ID+"/export.pb", nil, nil)
		checkRetally(t, data, &res)
		api.want(201, "officer", "POST", c+"/"+cy.ID+"/proposals/"+p2.ID+"/updates", map[string]any{"status": "in_progress", "note": "Planting in May"}, nil)
		var got Proposal
		api.want(200, "", "GET", c+"/"+cy.ID+"/proposals/"+p2.ID, nil, &got)
		if got.Implementation != ImplInProgress || len(got.Updates) != 1 {
			t.Errorf("proposal %+v", got)
		}
		var props list[Proposal]
		api.want(200, "", "GET", c+"/"+cy.ID+"/proposals?status=feasible", nil, &props)
		if len(props.Items) != 2 {
			t.Errorf("proposals %+v", props)
		}
	})
}

func TestHandler_Import(t *testing.T) {
	data, err := os.ReadFile("testdata/pabulib/Poland_Czestochowa_2020_Grabowka.pb")
	if err != nil {
		testdataMissing(t, err)
	}
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		api := newAPI(t, f)
		f.host.add(officer("officer", "n1"))
		var cy Cycle
		api.want(201, "officer", "POST", base+"/cycles", map[string]any{
			"neighbourhood_id": "n1", "name": "Grabowka", "budget": 1, "currency": "PLN", "simulation": true,
			"ballot": map[string]any{"type": "cumulative", "points": 10},
		}, &cy)
		bad := api.want(422, "officer", "POST", base+"/cycles/"+cy.ID+"/import", "META\nkey;value\nbudget;abc\n", nil)
		if !strings.Contains(string(bad), `"line":"3"`) {
			t.Errorf("no line number: %s", bad)
		}
		var sum ImportSummary
		api.want(201, "officer", "POST", base+"/cycles/"+cy.ID+"/import", data, &sum)
		var res Result
		api.want(201, "officer", "POST", base+"/cycles/"+cy.ID+"/tally", map[string]any{}, &res)
		if res.Rule != "greedy" || len(res.Winners) == 0 {
			t.Errorf("result %+v", res)
		}
		export := api.want(200, "", "GET", base+"/cycles/"+cy.ID+"/export.pb", nil, nil)
		checkRetally(t, export, &res)
	})
}

// TestPlugin_Manifest checks that every route is documented and every permission a
// route, role or grant names is declared.
func TestPlugin_Manifest(t *testing.T) {
	m := New().Manifest()
	var paths map[string]map[string]any
	if err := json.Unmarshal(m.OpenAPI, &paths); err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{sdk.PermPublic: true, sdk.PermAuthenticated: true}
	for _, p := range m.Permissions {
		declared[p.Name] = true
	}
	for _, r := range m.Routes {
		if paths[r.Path][strings.ToLower(r.Method)] == nil {
			t.Errorf("%s %s not in OpenAPI", r.Method, r.Path)
		}
		if !declared[r.Permission] {
			t.Errorf("%s %s: undeclared permission %s", r.Method, r.Path, r.Permission)
		}
	}
	n := 0
	for _, item := range paths {
		n += len(item)
	}
	if n != len(m.Routes) {
		t.Errorf("OpenAPI has %d operations, manifest %d routes", n, len(m.Routes))
	}
	for _, g := range m.Grants {
		if !declared[g.Permission] {
			t.Errorf("grant of undeclared %s", g.Permission)
		}
	}
	for _, r := range m.Roles {
		for _, p := range r.Permissions {
			if !declared[p] {
				t.Errorf("role %s: undeclared %s", r.Name, p)
			}
		}
	}
}
