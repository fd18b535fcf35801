package tally_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// toolCase is one line of equalshares_compute_tool.jsonl: what the
// equalshares.net compute tool answered on a file with its parameters.
type toolCase struct {
	File   string `json:"file"`
	Params struct {
		TieBreaking []string `json:"tieBreaking"`
		Completion  string   `json:"completion"`
		Add1Options []string `json:"add1options"`
		Increment   int64    `json:"increment"`
	} `json:"params"`
	Winners   []string `json:"mes_winners"`
	Cost      int64    `json:"mes_cost"`
	Endowment float64  `json:"endowment"`
}

func toolCases(tb testing.TB) []toolCase {
	tb.Helper()
	f, err := os.Open(filepath.Join(testdataDir, "equalshares_compute_tool.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var cases []toolCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c toolCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			tb.Fatal(err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return cases
}

// options maps the tool's parameters to tally options.
func (c toolCase) options(tb testing.TB) tally.Options {
	tb.Helper()
	if !slices.Equal(c.Params.TieBreaking, []string{"minCost", "maxVotes"}) {
		tb.Fatalf("tie-breaking %v not mapped", c.Params.TieBreaking)
	}
	o := tally.Options{Rule: tally.MES, Completion: tally.Completion(c.Params.Completion), Increment: c.Params.Increment,
		NoExhaustiveStop: !slices.Contains(c.Params.Add1Options, "exhaustive"),
		NoIntegral:       !slices.Contains(c.Params.Add1Options, "integral")}
	return o
}

func TestTally_EqualsharesComputeTool(t *testing.T) {
	cases := toolCases(t)
	if len(cases) != 21 {
		t.Fatalf("%d cases, want 21", len(cases))
	}
	for _, c := range cases {
		o := c.options(t)
		t.Run(c.File+"/"+c.Params.Completion+"/"+fmtOpts(c.Params.Add1Options), func(t *testing.T) {
			in := load(t, c.File)
			res, err := tally.Tally(in.Election(), o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Winners, c.Winners) {
				t.Errorf("winners\n got %v\nwant %v", res.Winners, c.Winners)
			}
			if res.Cost != c.Cost {
				t.Errorf("cost %d, want %d", res.Cost, c.Cost)
			}
			if d := res.EndowmentFloat - c.Endowment; d > 1e-6 || d < -1e-6 {
				t.Errorf("endowment %v, want %v", res.EndowmentFloat, c.Endowment)
			}
		})
	}
}

func fmtOpts(o []string) string {
	if len(o) == 0 {
		return "-"
	}
	s := o[0]
	for _, x := range o[1:] {
		s += "+" + x
	}
	return s
}
