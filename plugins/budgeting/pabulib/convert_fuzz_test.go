package pabulib_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// FuzzElection fuzzes what happens to a file after it parses: the conversion to
// the tally's input (Election, Options) and the tallies run on it. Whatever
// parses must convert to an election the tally accepts, with every amount in
// the documented range, so that minor units (x1000 at most) and sums never
// overflow; every rule must then stay within the budget, fund each project at
// most once, and MES must answer the same whether add1 runs its endowments one
// at a time or in parallel.
//
//	go test -run '^$' -fuzz FuzzElection -fuzztime 30s ./pabulib/
func FuzzElection(f *testing.F) {
	for _, name := range []string{"Netherlands_Assen_2024.pb", "Poland_Czestochowa_2020_Grabowka.pb",
		"Poland_Zabrze_2021_Guido.pb", "US_Stanford_Dataset_2022_Jersey_City_Ward_B_vote_knapsacks.pb", "Switzerland_Zurich_D10.pb"} {
		data, err := os.ReadFile(filepath.Join(testdataDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("META\nkey;value\nbudget;1000\nrule;equalshares/add1u\nPROJECTS\nproject_id;cost\na;184467440737095517\nb;5\nVOTES\nvoter_id;vote\n1;a\n2;a,b\n"))
	f.Add([]byte("META\nkey;value\nbudget;1000000000000\nPROJECTS\nproject_id;cost\na;1000000000000\nb;0\nVOTES\nvoter_id;vote\n1;a\n2;b\n"))
	f.Add([]byte("\xef\xbb\xbfMETA\r\nkey;value\r\nbudget;10.0\r\nvote_type;cumulative\r\nPROJECTS\r\nproject_id;cost\r\na;4\r\nb;6\r\nVOTES\r\nvoter_id;vote;points\r\n1;a,b;1000000000,-1\r\n2;b;3\r\n"))
	f.Add([]byte("META\nkey;value\nbudget;7\nrule;greedy-threshold\nmin_project_score_threshold;2\nPROJECTS\nproject_id;cost\nx;3\ny;3\nz;1\nVOTES\nvoter_id;vote\n1;x,y\n2;y,z\n3;x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := pabulib.ParseBytes(data)
		if err != nil {
			return // FuzzParse covers the parser's errors
		}
		if in.Budget < 0 || in.Budget > pabulib.MaxAmount {
			t.Fatalf("budget %d outside the documented range", in.Budget)
		}
		e := in.Election()
		if len(e.Projects) != len(in.Projects) || len(e.Ballots) != len(in.Votes) || e.Budget != in.Budget {
			t.Fatalf("conversion lost data: %d/%d projects, %d/%d ballots", len(e.Projects), len(in.Projects), len(e.Ballots), len(in.Votes))
		}
		for _, p := range e.Projects {
			if p.Cost < 0 || p.Cost > pabulib.MaxAmount {
				t.Fatalf("cost %d of %s outside the documented range", p.Cost, p.ID)
			}
		}
		// Bound the work of one input: a fuzzer's huge election says nothing more.
		if len(e.Projects) > 40 || len(e.Ballots) > 300 {
			return
		}
		rules := []tally.Options{{Rule: tally.Greedy}, {Rule: tally.GreedyNoSkip}}
		if e.Kind == tally.Approval {
			rules = append(rules, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U},
				tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1, NoExhaustiveStop: true, NoIntegral: true})
		}
		if o, err := in.Options(); err == nil {
			rules = append(rules, o)
		}
		var maxCost int64
		for _, p := range e.Projects {
			maxCost = max(maxCost, p.Cost)
		}
		for _, o := range rules {
			if o.Rule == tally.MES && o.Completion != tally.CompletionNone && maxCost > 2000 {
				// add1 may raise the endowment up to the dearest cost, one unit
				// at a time: keep each input fast, plain MES still runs
				o.Completion = tally.CompletionNone
			}
			res, err := tally.Tally(e, o)
			if err != nil {
				if errors.Is(err, tally.ErrInvalid) {
					continue // e.g. MES on cumulative ballots
				}
				t.Fatalf("%s: %v", o.Rule, err)
			}
			if res.Cost > e.Budget || res.Leftover != e.Budget-res.Cost {
				t.Fatalf("%s/%s: cost %d over budget %d", o.Rule, o.Completion, res.Cost, e.Budget)
			}
			seen := map[string]bool{}
			for _, w := range res.Winners {
				if seen[w] {
					t.Fatalf("%s: %s funded twice", o.Rule, w)
				}
				seen[w] = true
			}
			if o.Rule == tally.MES {
				o.Workers = 1
				one, err := tally.Tally(e, o)
				if err != nil || !slices.Equal(one.Winners, res.Winners) || one.EndowmentFloat != res.EndowmentFloat {
					t.Fatalf("add1 in parallel %v (%v) differs from one at a time %v (%v)", res.Winners, res.EndowmentFloat, one.Winners, one.EndowmentFloat)
				}
			}
		}
	})
}
