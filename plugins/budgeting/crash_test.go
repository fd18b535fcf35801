package budgeting

import (
	"fmt"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_KillDuringDelivery kills the real `kvarter serve` (and with it the plugin
// process) while the schedule tick commits phase changes and their events are on
// their way, restarts it on the same data, and checks that a subscriber got every
// event exactly once with its payload (sdktest.KillDuringDelivery): events are
// written in the change's transaction, so a host that is away loses none. On SQLite
// and PostgreSQL.
//
// The tick is the burst: twenty cycles scheduled to start review at the same moment
// move one after another in the background, each in its own transaction with its own
// event, and the kill falls among those moves (a little later each attempt).
func TestHost_KillDuringDelivery(t *testing.T) {
	var nbh string
	var off *sdktest.Client
	sdktest.KillDuringDelivery(t, sdktest.DeliveryCrash{
		Options: sdktest.Options{Package: "./cmd/kvarter-budgeting", Name: "budgeting",
			Settings: map[string]string{SettingTickInterval: "10ms"}},
		Types: []string{EventPhaseChanged},
		Setup: func(t testing.TB, c *sdktest.Core) {
			nbh = c.Neighbourhood("Amager")
			off = c.NewUser("officer@example.org")
			c.Grant(off, RoleOfficer, "nbh:"+nbh)
		},
		Produce: func(t testing.TB, c *sdktest.Core, round int) int {
			const cycles = 20
			review := time.Now().Add(time.Second).UTC()
			for i := range cycles {
				off.Must(201, "POST", base+"/cycles", map[string]any{
					"neighbourhood_id": nbh, "name": fmt.Sprintf("Round %d cycle %d", round, i), "budget": 1000, "currency": "DKK",
					"ballot": map[string]any{"type": "approval"}, "phases": map[string]any{"review": review},
				})
			}
			time.Sleep(time.Until(review) + time.Duration(5+round%6*10)*time.Millisecond)
			return cycles
		},
	})
}
