package pbcli_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/internal/computetool"
	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/pbcli"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// TestRun_TallyMatchesComputeTool runs `pb tally` on every case the
// equalshares.net compute tool answered (testdata/pabulib/README.md): winners in
// the tool's order, and its endowment.
func TestRun_TallyMatchesComputeTool(t *testing.T) {
	cases, err := computetool.Read(filepath.Join(testdataDir, "equalshares_compute_tool.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 21 {
		t.Fatalf("%d cases, want 21", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name(), func(t *testing.T) {
			if _, err := tc.Options(); err != nil || tc.Params.Increment != 1 {
				t.Fatalf("parameters %+v not mapped: %v", tc.Params, err)
			}
			args := []string{"tally", corpusFile(t, tc.File), "--rule", "mes", "--completion", tc.Params.Completion, "--format", "json",
				"--tie-break", "min-cost,max-votes", "--increment", "1"}
			if tc.Params.Completion != "none" {
				if !tc.Exhaustive() {
					args = append(args, "--no-exhaustive-stop")
				}
				if !tc.Integral() {
					args = append(args, "--no-integral")
				}
			}
			code, stdout, stderr := run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got out
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Winners, tc.Winners) {
				t.Errorf("winners\n got %v\nwant %v", got.Winners, tc.Winners)
			}
			if got.Endowment == nil || math.Abs(*got.Endowment-tc.Endowment) > 1e-6 {
				t.Errorf("endowment %v, tool %v", got.Endowment, tc.Endowment)
			}
		})
	}
}

func TestRun_Compare(t *testing.T) {
	path := corpusFile(t, "Poland_Swiecie_2023.pb")
	code, stdout, stderr := run(t, "compare", path, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got pbcli.Comparison
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	in, err := pabulib.ParseBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	e := in.Election()
	g, _ := tally.Tally(e, tally.Options{Rule: tally.Greedy})
	m, _ := tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U})
	if !slices.Equal(got.Greedy.Winners, g.Winners) || !slices.Equal(got.MES.Winners, m.Winners) {
		t.Fatalf("winners %v / %v, want %v / %v", got.Greedy.Winners, got.MES.Winners, g.Winners, m.Winners)
	}
	// count satisfaction and the differences independently, voter by voter
	won := func(ws []string) map[string]bool {
		s := map[string]bool{}
		for _, w := range ws {
			s[w] = true
		}
		return s
	}
	gw, mw := won(g.Winners), won(m.Winners)
	var gSat, mSat int
	var gNone int64
	for _, b := range e.Ballots {
		k := 0
		for _, p := range b.Projects {
			if gw[p] {
				k++
			}
			if mw[p] {
				mSat++
			}
		}
		gSat += k
		if k == 0 {
			gNone++
		}
	}
	n := float64(len(e.Ballots))
	if math.Abs(got.Greedy.Satisfaction-float64(gSat)/n) > 1e-9 || math.Abs(got.MES.Satisfaction-float64(mSat)/n) > 1e-9 || got.Greedy.Unrepresented != gNone {
		t.Errorf("satisfaction %+v / %+v, counted %d %d %d", got.Greedy, got.MES, gSat, mSat, gNone)
	}
	for _, id := range got.OnlyMES {
		if !mw[id] || gw[id] {
			t.Errorf("%s listed as MES only", id)
		}
	}
	for _, id := range got.OnlyGreedy {
		if !gw[id] || mw[id] {
			t.Errorf("%s listed as greedy only", id)
		}
	}
	onlyMES := 0
	for w := range mw {
		if !gw[w] {
			onlyMES++
		}
	}
	if len(got.OnlyMES) != onlyMES || onlyMES == 0 {
		t.Errorf("only-MES %v, counted %d", got.OnlyMES, onlyMES)
	}
	t.Run("Text", func(t *testing.T) {
		code, stdout, _ := run(t, "compare", path, "--completion", "add1")
		if code != 0 || !strings.Contains(stdout, "mes/add1") || !strings.Contains(stdout, "funded by greedy only") ||
			!strings.Contains(stdout, "voters with no funded project") {
			t.Errorf("exit %d\n%s", code, stdout)
		}
	})
}
