package main

import (
	"net/http"
	"os"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestMain_DemoBudgeting runs `kvarter demo` in a city that runs the budgeting plugin
// (a real child process), on SQLite and PostgreSQL, then serves the city and reads what
// a visitor sees: a budget in its voting phase with proposals on the ballot and
// ballots cast, and a finished one whose Method of Equal Shares result is published
// with every project's explanation, whose refused idea says why, whose funded
// projects have progress updates, one of which shows the city's sketch (a photo with
// its text alternative, served by the host), and whose Pabulib file downloads.
func TestMain_DemoBudgeting(t *testing.T) {
	kv := sdktest.KvarterBinary(t)
	for _, postgres := range []bool{false, true} {
		name := "sqlite"
		if postgres {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			if postgres && os.Getenv(sdktest.EnvDatabaseURL) == "" && os.Getenv("CI") == "" {
				t.Skipf("set %s to run this on PostgreSQL too", sdktest.EnvDatabaseURL)
			}
			dir, cfgPath := writeCityConfig(t, postgres, map[string]any{"plugins": []map[string]any{{"name": "budgeting"}}})
			n := demoAndServe(t, kv, dir, cfgPath)
			visitor := coretest.NewClient(t, n)

			const api = "/api/v1/budgeting/cycles"
			var cycles struct {
				Items []struct {
					ID, Name, Phase string
				} `json:"items"`
			}
			visitor.Must(200, "GET", api, nil).Decode(t, &cycles)
			phases := map[string]string{}
			for _, c := range cycles.Items {
				phases[c.Phase] = c.ID
			}
			voting, done := phases["voting"], phases["implementation"]
			if len(cycles.Items) != 2 || voting == "" || done == "" {
				t.Fatalf("demo cycles %+v, want one voting and one in implementation", cycles.Items)
			}

			type proposal struct {
				ID, Title, Status, Reason, Implementation string
				Updates                                   []struct{ Status, Note string }
				Attachments                               []struct{ Kind, Text, URL string }
			}
			var open struct{ Items []proposal }
			visitor.Must(200, "GET", api+"/"+voting+"/proposals?status=feasible", nil).Decode(t, &open)
			var turnout struct{ Ballots int }
			visitor.Must(200, "GET", api+"/"+voting+"/turnout", nil).Decode(t, &turnout)
			if len(open.Items) < 3 || turnout.Ballots == 0 {
				t.Errorf("voting cycle: %d projects on the ballot, %d ballots", len(open.Items), turnout.Ballots)
			}
			visitor.Must(404, "GET", api+"/"+voting+"/results", nil)

			var res struct {
				Rule         string
				Winners      []string
				Explanations []struct{ Project, How string } `json:"explanations"`
			}
			visitor.Must(200, "GET", api+"/"+done+"/results", nil).Decode(t, &res)
			if res.Rule != "mes" || len(res.Winners) == 0 || len(res.Explanations) == 0 {
				t.Errorf("finished cycle results %+v", res)
			}
			var all struct{ Items []proposal }
			visitor.Must(200, "GET", api+"/"+done+"/proposals", nil).Decode(t, &all)
			refused, updated, photos := 0, 0, 0
			for _, p := range all.Items {
				if p.Status == "infeasible" && p.Reason != "" {
					refused++
				}
				var full proposal
				visitor.Must(200, "GET", api+"/"+done+"/proposals/"+p.ID, nil).Decode(t, &full)
				if len(full.Updates) > 0 {
					updated++
				}
				for _, a := range full.Attachments {
					photos++
					if a.Kind != "photo" || a.Text == "" {
						t.Errorf("demo attachment %+v, want a photo with its text alternative", a)
					}
					// A page's address, not the API's: fetched as a browser's <img> would.
					r, err := http.Get(n.URL() + a.URL)
					if err != nil {
						t.Fatal(err)
					}
					r.Body.Close()
					if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
						t.Errorf("the demo sketch: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
					}
				}
			}
			if photos != 1 {
				t.Errorf("%d photos on the finished budget's proposals, want the city's sketch", photos)
			}
			if refused != 1 || updated != len(res.Winners) {
				t.Errorf("%d refused ideas with a reason (want 1), %d funded projects with updates (want %d)", refused, updated, len(res.Winners))
			}
			visitor.Must(200, "GET", api+"/"+done+"/export.pb", nil)
		})
	}
}
