package sdktest_test

import (
	"fmt"
	"testing"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestKillDuringDelivery: the emitter plugin commits things and their events while the
// city is killed; after the restart a subscriber has every event exactly once.
func TestKillDuringDelivery(t *testing.T) {
	var maker *sdktest.Client
	sdktest.KillDuringDelivery(t, sdktest.DeliveryCrash{
		Options: sdktest.Options{Package: "./internal/emitter"},
		Types:   []string{"emitter.thing.made"},
		Setup:   func(t testing.TB, c *sdktest.Core) { maker = c.NewUser("maker@example.org") },
		Produce: func(t testing.TB, c *sdktest.Core, round int) int {
			// Several requests, each a few transactions: the last ones' events are
			// still on their way when the city dies.
			for i := range 5 {
				maker.Must(200, "POST", "/api/v1/emitter/things", map[string]any{"count": 20, "per_tx": 4, "label": fmt.Sprintf("r%d-%d", round, i)})
			}
			return 100
		},
	})
}
