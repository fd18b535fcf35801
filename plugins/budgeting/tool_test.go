package budgeting

import (
	"bytes"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/internal/computetool"
	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
	"github.com/kvarter/kvarter/sdk/store"
)

func readToolCases(t *testing.T) []computetool.Case {
	t.Helper()
	cases, err := computetool.Read("testdata/pabulib/equalshares_compute_tool.jsonl")
	if err != nil {
		testdataMissing(t, err)
	}
	if len(cases) != 21 {
		t.Fatalf("%d cases, want 21", len(cases))
	}
	return cases
}

// TestService_TallyMatchesComputeTool imports every file of the compute tool's
// answers into a simulation cycle (integral add1 is the default) and publishes a
// result for each of its parameter sets through Service.Tally: the published
// winners, in order, and the endowment must be the tool's, on both databases.
func TestService_TallyMatchesComputeTool(t *testing.T) {
	cases := readToolCases(t)
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		off := f.officer("officer", "n1")
		imported := map[string]*ImportSummary{}
		cycles := map[string]string{}
		for _, tc := range cases {
			t.Run(tc.Name(), func(t *testing.T) {
				if _, err := tc.Options(); err != nil || tc.Params.Increment != 1 || !tc.Integral() && tc.Params.Completion != "none" {
					t.Fatalf("parameters %+v not mapped by this test: %v", tc.Params, err)
				}
				if _, ok := imported[tc.File]; !ok {
					c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: tc.File,
						Budget: 1, Currency: "PLN", Simulation: true, Ballot: BallotRules{Type: BallotApproval}}))(t)
					if !c.MESIntegral {
						t.Fatal("a new cycle is not integral by default")
					}
					data, err := os.ReadFile("testdata/pabulib/" + tc.File)
					if err != nil {
						testdataMissing(t, err)
					}
					imported[tc.File] = must(f.svc.Import(f.ctx, off, c.ID, data))(t)
					cycles[tc.File] = c.ID
				} else {
					// one import per file: withdraw the previous case's result
					// so this case is published through the same path
					must(db.ExecContext(f.ctx, db.Rebind(`DELETE FROM results WHERE cycle_id = ?`), cycles[tc.File]))(t)
					// behind the service's back, so its copy of the result goes too
					f.svc.published.Delete(cycles[tc.File])
				}
				sum, cycleID := imported[tc.File], cycles[tc.File]
				in := TallyInput{Rule: "mes", Completion: tc.Params.Completion,
					NoExhaustiveStop: !tc.Exhaustive()}
				if tc.Params.Completion == "none" {
					in.NoExhaustiveStop = false
				}
				must(f.svc.Tally(f.ctx, off, cycleID, in))(t)
				res := must(f.svc.Results(f.ctx, cycleID))(t)
				var want []string
				for _, id := range tc.Winners {
					want = append(want, sum.ProjectIDs[id])
				}
				if !slices.Equal(res.Winners, want) {
					t.Errorf("published winners differ from the tool's\n got %v\nwant %v", res.Winners, want)
				}
				// amounts are published in grosze
				if res.Endowment == nil || math.Abs(*res.Endowment/100-tc.Endowment) > 1e-6 {
					t.Errorf("endowment %v grosze, tool %v zł", res.Endowment, tc.Endowment)
				}
				if tc.Params.Completion != "none" && !res.Integral {
					t.Error("result does not say it was integral")
				}
			})
		}
	})
}

// TestService_TallyFractionalCycle checks the cycle setting that turns integral
// off: add1 then starts from budget/n exactly, as tally.Options.NoIntegral.
func TestService_TallyFractionalCycle(t *testing.T) {
	data, err := os.ReadFile("testdata/pabulib/Poland_Swiecie_2023.pb")
	if err != nil {
		testdataMissing(t, err)
	}
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		off := f.officer("officer", "n1")
		no := false
		c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "Swiecie",
			Budget: 1, Currency: "PLN", Simulation: true, MESIntegral: &no, Ballot: BallotRules{Type: BallotApproval}}))(t)
		if got := must(f.svc.Cycle(f.ctx, c.ID))(t); got.MESIntegral {
			t.Fatal("mes_integral false was not stored")
		}
		sum := must(f.svc.Import(f.ctx, off, c.ID, data))(t)
		res := must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "mes", Completion: "add1", NoExhaustiveStop: true}))(t)
		e, err := tallyFile(data, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1, NoExhaustiveStop: true, NoIntegral: true})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, id := range e.Winners {
			want = append(want, sum.ProjectIDs[id])
		}
		if !slices.Equal(res.Winners, want) || res.Integral {
			t.Errorf("winners %v integral %v, want %v", res.Winners, res.Integral, want)
		}
		if whole := *res.Endowment / 100; whole == math.Trunc(whole) {
			t.Errorf("fractional cycle ended on a whole endowment %v", whole)
		}
		// the export says so, and re-tallies to the same result
		var buf bytes.Buffer
		if err := f.svc.Export(f.ctx, c.ID, &buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(buf.Bytes(), []byte(" integral=false")) {
			t.Error("export does not record the fractional start")
		}
		checkRetally(t, buf.Bytes(), res)
	})
}

func tallyFile(data []byte, o tally.Options) (*tally.Result, error) {
	in, err := pabulib.ParseBytes(data)
	if err != nil {
		return nil, err
	}
	return tally.Tally(in.Election(), o)
}
