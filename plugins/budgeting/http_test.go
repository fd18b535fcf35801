package budgeting

import (
	"encoding/json"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// newAPI serves the plugin in-process on the store cfg as the host would
// (sdktest.Harness: route match, permission check against the fake host, every answer
// checked against the generated OpenAPI document), with a hand-moved clock and the
// fake host of the service tests.
func newAPI(t *testing.T, cfg sdk.StoreConfig, settings map[string]string) *sdktest.Harness {
	t.Helper()
	return sdktest.NewHarness(t, &Plugin{Now: newClock().Now}, sdktest.HarnessOptions{Store: cfg, Host: newHost(), Settings: settings})
}

func TestHandler_Cycle(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		officer(api.Host, "officer", "n1")
		resident(api.Host, "alice", "n1")
		resident(api.Host, "bob", "n2")
		api.Host.Grant("admin", sdktest.RoleCityAdmin, sdk.DomainCity) // may open a cycle anywhere, even where there is no neighbourhood
		c := base + "/cycles"

		t.Run("CreateErrors", func(t *testing.T) {
			api.Must(400, api.As("officer"), "POST", c, `{"name": `)
			api.Must(400, api.As("officer"), "POST", c, `{"unknown": 1}`)
			bad := func(change map[string]any) map[string]any {
				body := map[string]any{"neighbourhood_id": "n1", "name": "X", "budget": 100, "currency": "EUR", "ballot": map[string]any{"type": "approval"}}
				maps.Copy(body, change)
				return body
			}
			for _, tc := range []struct {
				change      map[string]any
				field, rule string
			}{
				{map[string]any{"currency": "eur"}, "currency", sdk.RuleFormat},
				{map[string]any{"name": " "}, "name", sdk.RuleRequired},
				{map[string]any{"budget": 0}, "budget", sdk.RuleRange},
				{map[string]any{"neighbourhood_id": "nowhere"}, "neighbourhood_id", sdk.RuleExists},
				{map[string]any{"ballot": map[string]any{"type": "borda"}}, "ballot.type", sdk.RuleOneOf},
				{map[string]any{"phases": map[string]any{"review": "2026-05-01T00:00:00Z", "voting": "2026-04-01T00:00:00Z"}}, "phases.voting", sdk.RuleInvalidValue},
			} {
				api.Do(api.As("admin"), "POST", c, bad(tc.change)).WantInvalid(t, tc.field, tc.rule)
			}
			api.Must(403, api.As("alice"), "POST", c, map[string]any{
				"neighbourhood_id": "n1", "name": "X", "budget": 100, "currency": "EUR", "ballot": map[string]any{"type": "approval"},
			})
		})
		var cy Cycle
		api.Must(201, api.As("officer"), "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Parks", "budget": 1000_00, "currency": "EUR",
			"ballot": map[string]any{"type": "cumulative", "points": 10, "max_per_project": 6},
			"phases": map[string]any{"voting": "2026-05-01T00:00:00Z"},
		}).Decode(t, &cy)
		api.Must(200, api.As(""), "GET", c+"/"+cy.ID, nil)
		api.Must(404, api.As(""), "GET", c+"/nope", nil)
		var page sdk.Page[Cycle]
		api.Must(200, api.As(""), "GET", c+"?neighbourhood_id=n1&limit=1", nil).Decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != cy.ID {
			t.Errorf("list %+v", page)
		}
		api.Must(422, api.As(""), "GET", c+"?limit=0", nil)

		var p1, p2 Proposal
		api.Must(201, api.As("alice"), "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Swings", "cost": 400_00}).Decode(t, &p1)
		api.Must(201, api.As("alice"), "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Trees", "cost": 300_00}).Decode(t, &p2)
		api.Must(422, api.As("alice"), "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Negative", "cost": -5})
		api.Must(403, api.As("bob"), "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Not mine", "cost": 5})
		api.Must(403, api.As("bob"), "PATCH", c+"/"+cy.ID+"/proposals/"+p1.ID, map[string]any{"title": "Hijack", "cost": 5})
		api.Must(200, api.As("alice"), "PATCH", c+"/"+cy.ID+"/proposals/"+p1.ID, map[string]any{"title": "Swings!", "cost": 400_00})
		api.Must(409, api.As("alice"), "POST", c+"/"+cy.ID+"/proposals/"+p1.ID+"/support", nil)

		api.Must(200, api.As("officer"), "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "review"})
		api.Must(409, api.As("officer"), "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "ideas"})
		api.Must(200, api.As("officer"), "POST", c+"/"+cy.ID+"/proposals/"+p1.ID+"/review", map[string]any{"feasible": true, "cost": 450_00})
		api.Must(200, api.As("officer"), "POST", c+"/"+cy.ID+"/proposals/"+p2.ID+"/review", map[string]any{"feasible": true, "cost": 300_00})
		api.Must(422, api.As("officer"), "POST", c+"/"+cy.ID+"/proposals/"+p2.ID+"/review", map[string]any{"feasible": false})
		api.Must(200, api.As("officer"), "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "voting"})

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
				data := api.Must(tc.status, api.As("alice"), "POST", ballots, tc.body).Body
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
			api.Must(403, api.As("bob"), "POST", ballots, map[string]any{"points": map[string]int{p1.ID: 1}})
		})
		var rc Receipt
		api.Must(201, api.As("alice"), "POST", ballots, map[string]any{"points": map[string]int{p1.ID: 6, p2.ID: 4}}).Decode(t, &rc)
		api.Must(409, api.As("alice"), "POST", ballots, map[string]any{"points": map[string]int{p1.ID: 6}})
		api.Must(201, api.As("officer"), "POST", c+"/"+cy.ID+"/paper-ballots", map[string]any{"ballots": []any{map[string]any{"points": map[string]int{p2.ID: 6}}}})
		api.Must(422, api.As("officer"), "POST", c+"/"+cy.ID+"/paper-ballots", map[string]any{"ballots": []any{map[string]any{"points": map[string]int{p2.ID: 11}}}})
		var turnout Turnout
		api.Must(200, api.As(""), "GET", c+"/"+cy.ID+"/turnout", nil).Decode(t, &turnout)
		if turnout.Voters != 1 || turnout.Ballots != 2 {
			t.Errorf("turnout %+v", turnout)
		}

		api.Must(409, api.As(""), "GET", c+"/"+cy.ID+"/export.pb", nil)
		api.Must(404, api.As(""), "GET", c+"/"+cy.ID+"/results", nil)
		api.Must(200, api.As("officer"), "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "results"})
		api.Must(422, api.As("officer"), "POST", c+"/"+cy.ID+"/tally", map[string]any{"rule": "mes"})
		var res Result
		api.Must(201, api.As("officer"), "POST", c+"/"+cy.ID+"/tally", map[string]any{"rule": "greedy", "tie_break": "min-cost,max-votes"}).Decode(t, &res)
		// Points: p2 10, p1 6; greedy funds p2 (300), then p1 (450) still fits 1000.
		if len(res.Winners) != 2 || res.Winners[0] != p2.ID || res.Cost != 750_00 {
			t.Errorf("result %+v", res)
		}
		api.Must(200, api.As(""), "GET", c+"/"+cy.ID+"/results", nil)
		data := api.Must(200, api.As(""), "GET", c+"/"+cy.ID+"/export.pb", nil).Body
		checkRetally(t, data, &res)
		api.Must(201, api.As("officer"), "POST", c+"/"+cy.ID+"/proposals/"+p2.ID+"/updates", map[string]any{"status": "in_progress", "note": "Planting in May"})
		var got Proposal
		api.Must(200, api.As(""), "GET", c+"/"+cy.ID+"/proposals/"+p2.ID, nil).Decode(t, &got)
		if got.Implementation != ImplInProgress || len(got.Updates) != 1 {
			t.Errorf("proposal %+v", got)
		}
		var props sdk.Page[Proposal]
		api.Must(200, api.As(""), "GET", c+"/"+cy.ID+"/proposals?status=feasible", nil).Decode(t, &props)
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
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		officer(api.Host, "officer", "n1")
		var cy Cycle
		api.Must(201, api.As("officer"), "POST", base+"/cycles", map[string]any{
			"neighbourhood_id": "n1", "name": "Grabowka", "budget": 1, "currency": "PLN", "simulation": true,
			"ballot": map[string]any{"type": "cumulative", "points": 10},
		}).Decode(t, &cy)
		bad := api.Must(422, api.As("officer"), "POST", base+"/cycles/"+cy.ID+"/import", "META\nkey;value\nbudget;abc\n").Body
		if !strings.Contains(string(bad), `"line":"3"`) {
			t.Errorf("no line number: %s", bad)
		}
		var sum ImportSummary
		api.Must(201, api.As("officer"), "POST", base+"/cycles/"+cy.ID+"/import", data).Decode(t, &sum)
		var res Result
		api.Must(201, api.As("officer"), "POST", base+"/cycles/"+cy.ID+"/tally", map[string]any{}).Decode(t, &res)
		if res.Rule != "greedy" || len(res.Winners) == 0 {
			t.Errorf("result %+v", res)
		}
		export := api.Must(200, api.As(""), "GET", base+"/cycles/"+cy.ID+"/export.pb", nil).Body
		checkRetally(t, export, &res)
	})
}

// TestPlugin_Manifest checks that every route is documented and every permission a
// route, role or grant names is declared.
func TestPlugin_Manifest(t *testing.T) {
	m := New().Manifest()
	var paths map[string]map[string]any
	if err := json.Unmarshal(m.OpenAPIDoc(), &paths); err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{sdk.PermPublic: true, sdk.PermAuthenticated: true}
	for _, p := range m.Permissions {
		declared[p.Name] = true
	}
	pages := 0 // page routes stay out of the OpenAPI document
	for _, r := range m.Routes {
		if r.Kind == sdk.RoutePage {
			pages++
		} else if paths[r.Path][strings.ToLower(r.Method)] == nil {
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
	if n != len(m.Routes)-pages {
		t.Errorf("OpenAPI has %d operations, manifest %d API routes", n, len(m.Routes)-pages)
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
