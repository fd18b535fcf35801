package budgeting

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// ballotOfRow is what a row of the budgeting store reveals about a ballot: its
// content, in the canonical form the plugin stores.
func ballotOfRow(r sdktest.StoreRow) (string, bool) {
	content, ok := r.Values["content"]
	if !ok {
		return "", false
	}
	var b Ballot
	if json.Unmarshal([]byte(content), &b) != nil || len(b.Projects)+len(b.Points) == 0 {
		return "", false
	}
	return canonical(b.Projects), true
}

func canonical(projects []string) string {
	b, _ := json.Marshal(Ballot{Projects: slices.Sorted(slices.Values(projects))})
	return string(b)
}

// TestHost_BallotSecrecyAttack is the attack of issue 12 on budgeting ballots, through
// the real server and plugin process: twelve residents vote, each a different set of
// projects, an officer enters two paper ballots, and an attacker who can read the
// plugin's store tries to pair residents with ballots — from every table and column,
// PostgreSQL's xmin and ctid, a pg_dump --data-only (whose row order paired them all
// before sealed ballots), and on SQLite every transaction replayed from the -wal file
// — while voting is open and after it closes. A replaced ballot counts as replaced.
func TestHost_BallotSecrecyAttack(t *testing.T) {
	opts := sdktest.Options{Package: "./cmd/kvarter-budgeting", Name: "budgeting", Settings: map[string]string{SettingBallotReplaceable: "true"}}
	sdktest.EachCore(t, opts, func(t *testing.T, core *sdktest.Core, pg bool) {
		nbh := core.Neighbourhood("Nørrebro")
		off := core.NewUser("officer@example.org")
		core.Grant(off, RoleOfficer, "nbh:"+nbh)
		var cy Cycle
		off.Must(201, "POST", base+"/cycles", map[string]any{
			"neighbourhood_id": nbh, "name": "Nørrebro 2027", "budget": 1_000_000_00, "currency": "DKK",
			"ballot": map[string]any{"type": "approval", "max": 3},
		}).Decode(t, &cy)
		c := base + "/cycles/" + cy.ID
		author := core.NewUser("author@example.org")
		core.VerifiedMember(author, nbh)
		var ids []string
		for i := range 5 {
			var p Proposal
			author.Must(201, "POST", c+"/proposals", map[string]any{"title": fmt.Sprintf("Idea %d", i), "cost": 100_000_00}).Decode(t, &p)
			ids = append(ids, p.ID)
		}
		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "review"})
		for _, id := range ids {
			off.Must(200, "POST", c+"/proposals/"+id+"/review", map[string]any{"feasible": true, "cost": 100_000_00})
		}
		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "voting"})

		// Twelve different ballots: one, two and three projects of five.
		var choices [][]string
		for i := range ids {
			choices = append(choices, []string{ids[i]})
			choices = append(choices, []string{ids[i], ids[(i+1)%5]})
		}
		choices = append(choices, []string{ids[0], ids[2], ids[4]}, []string{ids[1], ids[3], ids[4]})
		truth := map[string]string{}
		var first struct {
			Voter *sdktest.Client
			Token string
		}
		for i, projects := range choices {
			v := core.NewUser(fmt.Sprintf("voter%d@example.org", i))
			core.VerifiedMember(v, nbh)
			var rc Receipt
			v.Must(201, "POST", c+"/ballots", map[string]any{"projects": projects}).Decode(t, &rc)
			truth[v.UserID] = canonical(projects)
			if i == 0 {
				first.Voter, first.Token = v, rc.ReplaceToken
			}
		}
		off.Must(201, "POST", c+"/paper-ballots", map[string]any{"ballots": []map[string]any{
			{"projects": []string{ids[0], ids[1], ids[2]}}, {"projects": []string{ids[2], ids[3], ids[4]}},
		}})
		sdktest.CheckSecret(t, "voting open", core.ReadStore(), truth, ballotOfRow)

		replaced := []string{ids[3], ids[0]}
		var rc Receipt
		first.Voter.Must(201, "POST", c+"/ballots", map[string]any{"projects": replaced, "replace_token": first.Token}).Decode(t, &rc)
		if !rc.Replaced {
			t.Errorf("replacement not recorded: %+v", rc)
		}
		truth[first.Voter.UserID] = canonical(replaced)
		sdktest.CheckSecret(t, "ballot replaced", core.ReadStore(), truth, ballotOfRow)

		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "results"})
		after := core.ReadStore()
		sdktest.CheckSecret(t, "voting closed", after, truth, ballotOfRow)
		stored := map[string]int{}
		for _, r := range after.Tables {
			if b, ok := ballotOfRow(r); ok && r.Table == "ballots" {
				stored[b]++
			}
			if r.Table == "sealed_ballots" {
				t.Errorf("a sealed ballot is left after voting closed: %v", r.Values)
			}
		}
		want := map[string]int{canonical([]string{ids[0], ids[1], ids[2]}): 1, canonical([]string{ids[2], ids[3], ids[4]}): 1}
		for _, b := range truth {
			want[b]++
		}
		if fmt.Sprint(stored) != fmt.Sprint(want) {
			t.Errorf("stored ballots after the close:\n%v\nwant\n%v", stored, want)
		}
		var res Result
		off.Must(201, "POST", c+"/tally", map[string]any{"rule": "greedy"}).Decode(t, &res)
		if res.Ballots != 14 || res.PaperBallots != 2 {
			t.Errorf("tally counted %d ballots, %d on paper; want 14 and 2", res.Ballots, res.PaperBallots)
		}
		if pg && len(after.Dump) == 0 {
			t.Error("pg_dump returned no rows")
		}
		if !pg && len(after.WAL) == 0 {
			t.Error("no transaction replayed from the WAL")
		}
	})
}
