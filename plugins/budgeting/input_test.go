package budgeting

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_BadInput sends budgeting what PostgreSQL cannot store and SQLite stores —
// support_top_n beyond 32 bits, NUL in a name — and a 900 KB proposal description
// (issue 12 items 6 and 9). Through the real core and plugin process each is a 422
// naming the field, alike on both databases, and nothing is stored.
func TestHost_BadInput(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-budgeting", Name: "budgeting"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		nbh := core.Neighbourhood("Nørrebro")
		off := core.NewUser("officer@example.org")
		core.Grant(off, RoleOfficer, "nbh:"+nbh)
		alice := core.NewUser("alice@example.org")
		core.VerifiedMember(alice, nbh)
		cycle := func(change map[string]any) map[string]any {
			c := map[string]any{"neighbourhood_id": nbh, "name": "Nørrebro 2027", "budget": 100_000_00, "currency": "DKK",
				"ballot": map[string]any{"type": "approval", "max": 2}}
			for k, v := range change {
				c[k] = v
			}
			return c
		}
		off.Do("POST", base+"/cycles", cycle(map[string]any{"support_top_n": 3_000_000_000})).WantInvalid(t, "support_top_n", sdk.RuleRange)
		off.Do("POST", base+"/cycles", cycle(map[string]any{"name": "Nørrebro\x002027"})).WantInvalid(t, "name", sdk.RuleNUL)
		off.Do("POST", base+"/cycles", cycle(map[string]any{"ballot": map[string]any{"type": "approval", "max": 1 << 40}})).WantInvalid(t, "ballot.max", sdk.RuleRange)
		off.Do("POST", base+"/cycles", cycle(map[string]any{"name": strings.Repeat("x", 201)})).WantInvalid(t, "name", sdk.RuleMaxLength)
		core.Anonymous().Do("GET", base+"/cycles?neighbourhood_id=%00", nil).WantInvalid(t, "neighbourhood_id", sdk.RuleNUL)
		var cycles struct{ Items []Cycle }
		core.Anonymous().Must(200, "GET", base+"/cycles", nil).Decode(t, &cycles)
		if len(cycles.Items) != 0 {
			t.Fatalf("refused cycles were stored: %+v", cycles.Items)
		}

		var cy Cycle
		off.Must(201, "POST", base+"/cycles", cycle(nil)).Decode(t, &cy)
		c := base + "/cycles/" + cy.ID
		alice.Do("POST", c+"/proposals", map[string]any{"title": "A bench", "cost": 1000, "description": strings.Repeat("x", 900_000)}).
			WantInvalid(t, "description", sdk.RuleMaxLength)
		alice.Do("POST", c+"/proposals", map[string]any{"title": "A bench\x00", "cost": 1000}).WantInvalid(t, "title", sdk.RuleNUL)
		var props struct{ Items []Proposal }
		core.Anonymous().Must(200, "GET", c+"/proposals", nil).Decode(t, &props)
		if len(props.Items) != 0 {
			t.Fatalf("refused proposals were stored: %+v", props.Items)
		}
	})
}
