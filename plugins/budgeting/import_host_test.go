package budgeting

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_ImportOverflow performs issue 12 item 7's attack through a real
// `kvarter serve` and the plugin process, on SQLite and PostgreSQL: a Pabulib file
// whose cost, times 100 for cents, wraps int64 into 84 cents (and so was selected),
// and budgets that overflowed into a 500. Each must answer 422 naming the line,
// and leave the cycle as it was.
func TestHost_ImportOverflow(t *testing.T) {
	file := func(budget, cost string) string {
		return "META\nkey;value\nbudget;" + budget + "\nvote_type;approval\nPROJECTS\nproject_id;cost\n" +
			"a;" + cost + "\nb;500\nVOTES\nvoter_id;vote\n1;a\n2;a,b\n3;a\n"
	}
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-budgeting", Name: "budgeting"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		nbh := core.Neighbourhood("Bielany")
		off := core.NewUser("officer@example.org")
		core.Grant(off, RoleOfficer, "nbh:"+nbh)
		var cy Cycle
		off.Must(201, "POST", base+"/cycles", map[string]any{
			"neighbourhood_id": nbh, "name": "Simulation", "budget": 100, "currency": "PLN", "simulation": true,
			"ballot": map[string]any{"type": "approval"},
		}).Decode(t, &cy)
		c := base + "/cycles/" + cy.ID
		attacks := []struct {
			name, body, line, field string
		}{
			{"CostWrapsToCents", file("1000", "184467440737095517"), "7", "cost"},
			{"CostAboveRange", file("1000", "1000000000001"), "7", "cost"},
			{"MaxBudget", file("9223372036854775807", "100"), "3", "budget"},
			{"BudgetWrapsInCents", file("92233720368547759", "100"), "3", "budget"},
			{"BudgetBeyondInt64", file("99999999999999999999", "100"), "3", "budget"},
		}
		for _, a := range attacks {
			t.Run(a.name, func(t *testing.T) {
				r := off.Must(422, "POST", c+"/import", a.body)
				var e struct {
					Error struct {
						Code    string            `json:"code"`
						Message string            `json:"message"`
						Fields  map[string]string `json:"fields"`
					} `json:"error"`
				}
				r.Decode(t, &e)
				if e.Error.Code != "invalid" || e.Error.Fields["line"] != a.line || !strings.Contains(e.Error.Message, a.field) {
					t.Errorf("answer %+v, want invalid naming line %s and %s", e.Error, a.line, a.field)
				}
				var got Cycle
				core.Anonymous().Must(200, "GET", c, nil).Decode(t, &got)
				var props struct {
					Items []Proposal `json:"items"`
				}
				core.Anonymous().Must(200, "GET", c+"/proposals", nil).Decode(t, &props)
				if got.Budget != 100 || got.Phase != PhaseIdeas || len(props.Items) != 0 {
					t.Errorf("refused import changed the cycle: budget %d phase %s proposals %d", got.Budget, got.Phase, len(props.Items))
				}
			})
		}
		t.Run("LargestAcceptedAmount", func(t *testing.T) {
			var sum ImportSummary
			off.Must(201, "POST", c+"/import", file("1000000000000", "1000000000000")).Decode(t, &sum)
			var res Result
			off.Must(201, "POST", c+"/tally", map[string]any{"rule": "greedy"}).Decode(t, &res)
			if res.Budget != 1_000_000_000_000_00 || res.Cost != 1_000_000_000_000_00 || len(res.Winners) != 1 || res.Winners[0] != sum.ProjectIDs["a"] {
				t.Errorf("result %+v", res)
			}
		})
	})
}
