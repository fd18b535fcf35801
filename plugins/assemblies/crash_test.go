package assemblies_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
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
			busy(c.URL+path, author.Token)
			wg.Wait()
			return n
		},
	})
}

// busy keeps the core and the plugin's store writing drafts (which publish nothing)
// while the last motions are tabled and when the city is killed, so the relay has to
// wait its turn: on SQLite, with one writer, it otherwise often delivers everything in
// the moment between the last answer and the kill. The drafts' requests end at the
// first failure (the kill) and are not counted.
func busy(url, token string) {
	for range 16 {
		go func() {
			for range 8 {
				req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"title":"Busy","text":"Busy."}`))
				if err != nil {
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
}
