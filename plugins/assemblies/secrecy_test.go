package assemblies_test

import (
	"testing"

	"github.com/kvarter/kvarter/plugins/assemblies"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// secretChoiceOf is what a row of the assemblies store reveals about a choice: a
// choice column (a counter row only when its count is not zero).
func secretChoiceOf(r sdktest.StoreRow) (string, bool) {
	c, ok := r.Values["choice"]
	if !ok || (c != assemblies.ChoiceYes && c != assemblies.ChoiceNo && c != assemblies.ChoiceAbstain) {
		return "", false
	}
	if n, counter := r.Values["n"]; counter && n == "0" {
		return "", false
	}
	return c, true
}

// TestHosted_SecretBallotAttack is the attack of issue 12 on a secret vote, through
// the real server and plugin process: twelve members vote, and an attacker who can
// read the plugin's store tries to pair them with their choices — from every table
// and column, PostgreSQL's xmin and ctid, a pg_dump --data-only, and on SQLite every
// transaction replayed from the -wal file — while the vote is open and after the
// close. Before sealed ballots the xmin join, the WAL replay and the counters paired
// nearly every voter. Then one member changes their ballot (the assembly allows it),
// and the close counts the changed ballot.
func TestHosted_SecretBallotAttack(t *testing.T) {
	eachHost(t, func(t *testing.T, c *sdktest.Core, pg bool) {
		tw := newTown(t, c, "Kallio", 13, map[string]any{"secrecy": "secret", "ballot_changeable": true})
		motion := tw.motionToVote(t, "Benches on the square")
		ballots := tw.path("/motions/" + motion + "/vote/ballots")
		truth := map[string]string{}
		order := []string{"yes", "no", "abstain", "no", "yes", "yes", "abstain", "no", "abstain", "yes", "no", "abstain"}
		for i, choice := range order {
			v := tw.members[i+1]
			v.Must(201, "POST", ballots, map[string]any{"choice": choice})
			truth[v.UserID] = choice
		}
		sdktest.CheckSecret(t, "vote open", c.ReadStore(), truth, secretChoiceOf)

		var rc assemblies.Receipt
		tw.members[1].Must(201, "POST", ballots, map[string]any{"choice": "no"}).Decode(t, &rc)
		if !rc.Changed || rc.Choice != "" {
			t.Errorf("changed secret ballot: receipt %+v", rc)
		}
		truth[tw.members[1].UserID] = "no"
		sdktest.CheckSecret(t, "ballot changed", c.ReadStore(), truth, secretChoiceOf)

		var closed struct {
			Counts assemblies.Counts `json:"counts"`
		}
		tw.chair.Must(200, "POST", tw.path("/motions/"+motion+"/vote/close"), nil).Decode(t, &closed)
		if closed.Counts != (assemblies.Counts{Yes: 3, No: 5, Abstain: 4}) {
			t.Errorf("counts %+v, want 3 yes, 5 no, 4 abstain", closed.Counts)
		}
		after := c.ReadStore()
		sdktest.CheckSecret(t, "vote closed", after, truth, secretChoiceOf)
		// The tally is reproducible from what the close left: twelve bare choices.
		counted := map[string]int{}
		for _, r := range after.Tables {
			if ch, ok := secretChoiceOf(r); ok && r.Table == "secret_ballots" {
				counted[ch]++
			}
			if r.Table == "sealed_ballots" {
				t.Errorf("a sealed ballot is left after the close: %v", r.Values)
			}
		}
		if counted["yes"] != 3 || counted["no"] != 5 || counted["abstain"] != 4 {
			t.Errorf("stored ballots after the close count %v", counted)
		}
		if pg && len(after.Dump) == 0 {
			t.Error("pg_dump returned no rows")
		}
		if !pg && len(after.WAL) == 0 {
			t.Error("no transaction replayed from the WAL")
		}
	})
}
