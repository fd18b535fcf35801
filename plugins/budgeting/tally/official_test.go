package tally_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

const testdataDir = "../testdata/pabulib"

func load(tb testing.TB, name string) *pabulib.Instance {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	in, err := pabulib.ParseBytes(data)
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// officialSelected reads the file's selected column: the city's own result.
func officialSelected(tb testing.TB, in *pabulib.Instance) []string {
	tb.Helper()
	var ids []string
	for _, p := range in.Projects {
		switch p.Selected {
		case pabulib.SelectedYes:
			ids = append(ids, p.ID)
		case pabulib.SelectedUnknown:
			tb.Fatalf("project %s has no selected value", p.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTally_Official(t *testing.T) {
	tests := []struct {
		file   string
		adjust func(*tally.Options)
	}{
		{"Netherlands_Assen_2024.pb", nil},
		{"Poland_Swiecie_2023.pb", nil},
		{"Poland_Wieliczka_2023_Green_Budget.pb", func(o *tally.Options) { o.NoExhaustiveStop = true }},
		{"Poland_Warszawa_2021_Bielany.pb", nil},
		{"Poland_Lodz_2022.pb", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := load(t, tt.file)
			o, err := in.Options()
			if err != nil {
				t.Fatal(err)
			}
			if tt.adjust != nil {
				tt.adjust(&o)
			}
			res, err := tally.Tally(in.Election(), o)
			if err != nil {
				t.Fatal(err)
			}
			want := officialSelected(t, in)
			if got := sortedCopy(res.Winners); !equal(got, want) {
				t.Errorf("rule %s/%s: winners %v\nofficial %v", o.Rule, o.Completion, got, want)
			}
			if res.Cost > res.Budget {
				t.Errorf("cost %d over budget %d", res.Cost, res.Budget)
			}
			t.Logf("winners %d cost %d endowment %v ties %v", len(res.Winners), res.Cost, res.EndowmentFloat, res.Ties)
		})
	}
}
