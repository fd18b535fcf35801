package tally_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// BenchmarkMES_Lodz_add1u measures MES with the add1u completion on the
// largest file (90,494 voters, 160 projects), parsing excluded.
func BenchmarkMES_Lodz_add1u(b *testing.B) {
	e := load(b, "Poland_Lodz_2022.pb").Election()
	b.ResetTimer()
	for b.Loop() {
		res, err := tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U})
		if err != nil {
			b.Fatal(err)
		}
		if b.N == 1 {
			b.Logf("%d winners, endowment %.2f", len(res.Winners), res.EndowmentFloat)
		}
	}
}

// BenchmarkGreedy_Lodz measures parse plus greedy-threshold on Lodz, the
// whole cost of a CLI tally.
func BenchmarkGreedy_Lodz(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "Poland_Lodz_2022.pb"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		in, err := pabulib.ParseBytes(data)
		if err != nil {
			b.Fatal(err)
		}
		o, err := in.Options()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tally.Tally(in.Election(), o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMES_Bielany_add1u measures MES add1u (integral, exhaustive) on
// Warszawa 2021 Bielany (8,172 voters, nearly all with distinct ballots).
func BenchmarkMES_Bielany_add1u(b *testing.B) {
	e := load(b, "Poland_Warszawa_2021_Bielany.pb").Election()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tally.Tally(e, tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U}); err != nil {
			b.Fatal(err)
		}
	}
}
