package assemblies_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/plugins/assemblies"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHosted_KillDuringDelivery kills the city between the plugin's commits and the
// delivery of their events, restarts it, and finds every event delivered to a
// subscriber exactly once, with its payload (sdktest.KillDuringDelivery), on SQLite
// and PostgreSQL. The events are motions tabled by a member, one per request.
func TestHosted_KillDuringDelivery(t *testing.T) {
	var author *sdktest.Client
	var path string
	sdktest.KillDuringDelivery(t, sdktest.DeliveryCrash{
		Options: sdktest.Options{Package: "./cmd/kvarter-assemblies", Name: "assemblies"},
		Types:   []string{assemblies.EventMotionTabled},
		// SQLite's relay often delivers everything before the kill lands; each attempt
		// that misses is tried again (a few seconds each).
		Attempts: 40,
		Setup: func(t testing.TB, c *sdktest.Core) {
			nbh := c.Neighbourhood("Kadikoy")
			var a assemblies.Assembly
			c.Admin().Must(201, "POST", "/api/v1/assemblies", map[string]any{"neighbourhood_id": nbh, "name": "Kadikoy assembly",
				"quorum_percent": 50}).Decode(t, &a)
			path = "/api/v1/assemblies/" + a.ID + "/motions"
			author = c.NewUser("author@example.org")
			c.VerifiedMember(author, nbh)
			author.Must(201, "POST", "/api/v1/assemblies/"+a.ID+"/members", nil)
		},
		Produce: func(t testing.TB, c *sdktest.Core, round int) int {
			// Drafts publish nothing; tabling them all at once commits their events
			// together, so the last are still on their way when the city dies.
			const n = 96
			ids := make([]string, n)
			for i := range ids {
				var m assemblies.Motion
				author.Must(201, "POST", path, map[string]any{"title": fmt.Sprintf("Motion %d.%d", round, i), "text": "Please."}).Decode(t, &m)
				ids[i] = m.ID
			}
			var wg sync.WaitGroup
			for _, id := range ids {
				wg.Go(func() {
					if r := author.Do("POST", path+"/"+id+"/table", nil); r.Status != 200 {
						t.Errorf("table %s: %d %s", id, r.Status, r.Body)
					}
				})
			}
			wg.Wait()
			return n
		},
	})
}
