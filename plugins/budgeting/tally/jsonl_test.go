package tally_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/internal/computetool"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// TestTally_EqualsharesComputeTool checks every answer of the equalshares.net
// compute tool in the test data: winners in order, their cost, the endowment.
func TestTally_EqualsharesComputeTool(t *testing.T) {
	cases, err := computetool.Read(filepath.Join(testdataDir, "equalshares_compute_tool.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 21 {
		t.Fatalf("%d cases, want 21", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			o, err := c.Options()
			if err != nil {
				t.Fatal(err)
			}
			res, err := tally.Tally(load(t, c.File).Election(), o)
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
