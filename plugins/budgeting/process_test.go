package budgeting

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestProcess_Cycle runs the plugin as its own executable over the real plugin
// protocol (sdk/hostside, the launcher the core uses): a full cycle with proposals,
// review, voting by verified residents, results, an implementation update and an export
// that re-tallies to the published result; then 50 concurrent ballots by one resident,
// of which exactly one is recorded. The core is stood in for by the in-test host (so
// route-level permissions are not checked here); TestHost_Cycle runs the same story
// through a real `kvarter serve`.
func TestProcess_Cycle(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		host := newHost()
		p := sdktest.LaunchProcess(t, sdktest.ProcessOptions{Pkg: "./cmd/kvarter-budgeting", Name: "budgeting",
			Host: host, Store: cfg, CityTimeZone: "Europe/Copenhagen"})
		call := func(who sdk.Principal, method, path string, body any, out any) int {
			t.Helper()
			r := p.Do(who, method, path, "", body)
			if out != nil && r.Status < 300 {
				if raw, ok := out.(*[]byte); ok {
					*raw = r.Body
				} else if err := json.Unmarshal(r.Body, out); err != nil {
					t.Errorf("%s %s: %v: %s", method, path, err, r.Body)
				}
			}
			if r.Status >= 300 && r.Status != 409 {
				t.Logf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
			return r.Status
		}
		want := func(status int, who sdk.Principal, method, path string, body, out any) {
			t.Helper()
			if got := call(who, method, path, body, out); got != status {
				t.Fatalf("%s %s: status %d, want %d", method, path, got, status)
			}
		}
		off := officer(host, "officer", "n1")
		alice := resident(host, "alice", "n1")
		outsider := resident(host, "olga", "n2")

		var cy Cycle
		want(201, off, "POST", base+"/cycles", map[string]any{
			"neighbourhood_id": "n1", "name": "Copenhagen-style", "budget": 500_000_00, "currency": "DKK",
			"ballot": map[string]any{"type": "approval", "max": 2},
		}, &cy)
		c := base + "/cycles/" + cy.ID
		var ids []string
		for i, cost := range []int64{300_000_00, 250_000_00, 200_000_00} {
			var pr Proposal
			want(201, alice, "POST", c+"/proposals", map[string]any{"title": fmt.Sprintf("Idea %d", i), "cost": cost}, &pr)
			ids = append(ids, pr.ID)
		}
		want(200, off, "POST", c+"/phase", map[string]any{"phase": "review"}, nil)
		for i, cost := range []int64{300_000_00, 250_000_00, 200_000_00} {
			want(200, off, "POST", c+"/proposals/"+ids[i]+"/review", map[string]any{"feasible": true, "cost": cost}, nil)
		}
		want(200, off, "POST", c+"/phase", map[string]any{"phase": "voting"}, nil)
		want(403, outsider, "POST", c+"/ballots", map[string]any{"projects": ids[:1]}, nil)
		want(422, alice, "POST", c+"/ballots", map[string]any{"projects": ids}, nil)

		t.Run("ConcurrentBallots", func(t *testing.T) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			got := map[int]int{}
			for range 50 {
				wg.Go(func() {
					st := call(alice, "POST", c+"/ballots", map[string]any{"projects": ids[:2]}, nil)
					mu.Lock()
					got[st]++
					mu.Unlock()
				})
			}
			wg.Wait()
			var n Turnout
			want(200, sdk.Principal{}, "GET", c+"/turnout", nil, &n)
			if got[201] != 1 || got[409] != 49 || n.Voters != 1 || n.Ballots != 1 {
				t.Errorf("statuses %v, turnout %+v", got, n)
			}
		})
		for i, b := range [][]string{{ids[1], ids[2]}, {ids[2]}, {ids[0]}} {
			v := resident(host, fmt.Sprintf("voter%d", i), "n1")
			want(201, v, "POST", c+"/ballots", map[string]any{"projects": b}, nil)
		}
		want(200, off, "POST", c+"/phase", map[string]any{"phase": "results"}, nil)
		var res Result
		want(201, off, "POST", c+"/tally", map[string]any{"rule": "mes", "completion": "add1u"}, &res)
		if len(res.Winners) == 0 || res.Ballots != 4 || res.Endowment == nil {
			t.Fatalf("result %+v", res)
		}
		var published Result
		want(200, sdk.Principal{}, "GET", c+"/results", nil, &published)
		if published.BallotHash != res.BallotHash {
			t.Errorf("published hash %s, tally %s", published.BallotHash, res.BallotHash)
		}
		want(201, off, "POST", c+"/proposals/"+res.Winners[0]+"/updates", map[string]any{"status": "in_progress", "note": "Tender out"}, nil)
		var pr Proposal
		want(200, sdk.Principal{}, "GET", c+"/proposals/"+res.Winners[0], nil, &pr)
		if pr.Implementation != ImplInProgress || len(pr.Updates) != 1 {
			t.Errorf("proposal %+v", pr)
		}
		var export []byte
		want(200, sdk.Principal{}, "GET", c+"/export.pb", nil, &export)
		checkRetally(t, export, &res)

		// Events leave the plugin's outbox in the background; Deactivate delivers what is
		// still pending before it returns.
		if err := p.Deactivate(context.Background()); err != nil {
			t.Fatal(err)
		}
		types := host.EventTypes()
		if len(types) != 5 || types[3] != EventResultsPublished || types[4] != EventProjectUpdated {
			t.Errorf("events %v", types)
		}
	})
}
