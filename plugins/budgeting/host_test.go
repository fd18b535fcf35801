package budgeting

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_Cycle runs the plugin inside a real `kvarter serve` (sdk/sdktest): real
// routing, casbin permission checks, Principals with implicit residents, the host API
// and events. A full cycle, then 50 concurrent ballots by one resident record exactly
// one. On SQLite always, and on PostgreSQL (sdktest.PostgresURL).
func TestHost_Cycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts kvarter with the plugin")
	}
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-budgeting", Name: "budgeting"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		nbh := core.Neighbourhood("Vesterbro")
		off := core.NewUser("officer@example.org")
		core.Grant(off, RoleOfficer, "nbh:"+nbh)
		alice := core.NewUser("alice@example.org")
		core.VerifiedMember(alice, nbh)
		stranger := core.NewUser("stranger@example.org")

		var cy Cycle
		core.Anonymous().Must(401, "POST", base+"/cycles", map[string]any{})
		alice.Must(403, "POST", base+"/cycles", map[string]any{})
		off.Must(201, "POST", base+"/cycles", map[string]any{
			"neighbourhood_id": nbh, "name": "Vesterbro 2026", "budget": 500_000_00, "currency": "DKK",
			"ballot": map[string]any{"type": "approval", "max": 2},
		}).Decode(t, &cy)
		c := base + "/cycles/" + cy.ID
		var ids []string
		for i, cost := range []int64{300_000_00, 250_000_00, 200_000_00} {
			var p Proposal
			alice.Must(201, "POST", c+"/proposals", map[string]any{"title": fmt.Sprintf("Idea %d", i), "cost": cost}).Decode(t, &p)
			ids = append(ids, p.ID)
		}
		stranger.Must(403, "POST", c+"/proposals", map[string]any{"title": "Not a resident", "cost": 1})
		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "review"})
		for i, cost := range []int64{300_000_00, 250_000_00, 200_000_00} {
			off.Must(200, "POST", c+"/proposals/"+ids[i]+"/review", map[string]any{"feasible": true, "cost": cost})
		}
		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "voting"})
		stranger.Must(403, "POST", c+"/ballots", map[string]any{"projects": ids[:1]})
		alice.Must(422, "POST", c+"/ballots", map[string]any{"projects": ids})

		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int]int{}
		for range 50 {
			wg.Go(func() {
				st := alice.Do("POST", c+"/ballots", map[string]any{"projects": ids[:2]}).Status
				mu.Lock()
				got[st]++
				mu.Unlock()
			})
		}
		wg.Wait()
		var n Turnout
		core.Anonymous().Must(200, "GET", c+"/turnout", nil).Decode(t, &n)
		if got[201] != 1 || got[409] != 49 || n.Voters != 1 || n.Ballots != 1 {
			t.Fatalf("50 concurrent ballots: statuses %v, turnout %+v", got, n)
		}
		for i, b := range [][]string{{ids[1], ids[2]}, {ids[2]}, {ids[0]}} {
			v := core.NewUser(fmt.Sprintf("voter%d@example.org", i))
			core.VerifiedMember(v, nbh)
			v.Must(201, "POST", c+"/ballots", map[string]any{"projects": b})
		}
		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "results"})
		var res Result
		off.Must(201, "POST", c+"/tally", map[string]any{"rule": "mes", "completion": "add1u"}).Decode(t, &res)
		if len(res.Winners) == 0 || res.Ballots != 4 {
			t.Fatalf("result %+v", res)
		}
		core.Anonymous().Must(200, "GET", c+"/results", nil)
		off.Must(201, "POST", c+"/proposals/"+res.Winners[0]+"/updates", map[string]any{"status": "in_progress", "note": "Tender out"})
		var p Proposal
		core.Anonymous().Must(200, "GET", c+"/proposals/"+res.Winners[0], nil).Decode(t, &p)
		if p.Implementation != ImplInProgress || len(p.Updates) != 1 {
			t.Errorf("proposal %+v", p)
		}
		export := core.Anonymous().Must(200, "GET", c+"/export.pb", nil)
		checkRetally(t, export.Body, &res)
	})
}
