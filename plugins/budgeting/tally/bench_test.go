package tally_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

// The MES benchmarks run add1u with the integral and exhaustive options (the
// equalshares.net defaults), parsing excluded, and report the CPU time per
// tally beside the wall time: the machines are shared, and the CPU time says
// what the tally costs whatever else runs. With 2 cores the add1 endowments
// run two at a time, so the wall time on an idle machine is about half the CPU
// time.
//
//	go test -run '^$' -bench 'MES|Greedy' -benchtime 5x ./tally/

var approvalFiles = []string{
	"Netherlands_Assen_2024.pb",
	"Poland_Lodz_2022.pb",
	"Poland_Swiecie_2023.pb",
	"Poland_Warszawa_2021_Bielany.pb",
	"Poland_Wieliczka_2023_Green_Budget.pb",
	"US_Stanford_Dataset_2022_Jersey_City_Ward_B_vote_knapsacks.pb",
}

var add1u = tally.Options{Rule: tally.MES, Completion: tally.CompletionAdd1U}

func BenchmarkMES_add1u(b *testing.B) {
	for _, name := range approvalFiles {
		e := load(b, name).Election()
		b.Run(name[:len(name)-3], func(b *testing.B) { benchTally(b, e, add1u) })
	}
	b.Run("Synthetic_200000x300", func(b *testing.B) { benchTally(b, Synthetic(SyntheticSeed), add1u) })
}

func benchTally(b *testing.B, e tally.Election, o tally.Options) {
	b.Helper()
	var res *tally.Result
	cpu := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		var err error
		if res, err = tally.Tally(e, o); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(len(res.Winners)), "winners")
	b.ReportMetric(res.EndowmentFloat, "endowment")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGreedy_Lodz measures parse plus greedy-threshold on Lodz, the
// whole cost of a CLI tally.
func BenchmarkGreedy_Lodz(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "Poland_Lodz_2022.pb"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	cpu := cpuTime()
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
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// SyntheticSeed seeds the synthetic benchmark instance.
const SyntheticSeed = 20261206

// Synthetic generates the benchmark's large instance: 200,000 voters, 300
// projects in 10 districts of 30. Costs are log-uniform between 20,000 and
// 2,000,000; the budget is a quarter of all costs. A voter lives in a district
// (uniformly) and approves 1 to 12 projects (mean about 4), each with
// probability 0.8 from their own district, else from anywhere, weighted by a
// Zipf-like popularity (1/rank^0.8 within the district), so support is
// uneven and approval sets mostly distinct, like a city-wide vote.
func Synthetic(seed uint64) tally.Election {
	r := rand.New(rand.NewPCG(seed, 1))
	const voters, districts, perDistrict = 200_000, 10, 30
	e := tally.Election{Kind: tally.Approval}
	var total int64
	pop := make([]float64, districts*perDistrict)
	for d := range districts {
		for k := range perDistrict {
			i := d*perDistrict + k
			cost := int64(math.Exp(math.Log(20_000) + r.Float64()*(math.Log(2_000_000)-math.Log(20_000))))
			e.Projects = append(e.Projects, tally.Project{ID: fmt.Sprintf("d%02dp%02d", d, k), Cost: cost})
			total += cost
			pop[i] = 1 / math.Pow(float64(k+1), 0.8)
		}
	}
	e.Budget = total / 4
	pick := func(lo, hi int) int { // weighted by pop within [lo, hi)
		var sum float64
		for _, w := range pop[lo:hi] {
			sum += w
		}
		x := r.Float64() * sum
		for i := lo; i < hi; i++ {
			if x -= pop[i]; x < 0 {
				return i
			}
		}
		return hi - 1
	}
	for range voters {
		d := r.IntN(districts)
		k := 1 + min(11, int(r.ExpFloat64()*3))
		chosen := map[int]bool{}
		var b tally.Ballot
		for len(b.Projects) < k {
			var p int
			if r.Float64() < 0.8 {
				p = pick(d*perDistrict, (d+1)*perDistrict)
			} else {
				p = pick(0, len(pop))
			}
			if !chosen[p] {
				chosen[p] = true
				b.Projects = append(b.Projects, e.Projects[p].ID)
			}
		}
		e.Ballots = append(e.Ballots, b)
	}
	return e
}

// TestSynthetic_WriteFile writes the synthetic instance as a Pabulib file when
// KVARTER_SYNTHETIC_PB names one, to time other tools on the same input.
func TestSynthetic_WriteFile(t *testing.T) {
	path := os.Getenv("KVARTER_SYNTHETIC_PB")
	if path == "" {
		t.Skip("set KVARTER_SYNTHETIC_PB=FILE to write the synthetic instance")
	}
	e := Synthetic(SyntheticSeed)
	in := &pabulib.Instance{Meta: map[string]string{}, Budget: e.Budget, VoteType: pabulib.VoteApproval, Rule: "equalshares/add1u",
		ProjectColumns: []string{"project_id", "cost"}, VoteColumns: []string{"voter_id", "vote"}}
	for _, k := range []string{"description", "num_projects", "num_votes", "budget", "vote_type", "rule"} {
		in.MetaKeys = append(in.MetaKeys, k)
	}
	in.Meta["description"] = fmt.Sprintf("Kvarter synthetic benchmark instance, seed %d", SyntheticSeed)
	in.Meta["num_projects"], in.Meta["num_votes"] = fmt.Sprint(len(e.Projects)), fmt.Sprint(len(e.Ballots))
	in.Meta["budget"], in.Meta["vote_type"], in.Meta["rule"] = fmt.Sprint(e.Budget), "approval", "equalshares/add1u"
	for _, p := range e.Projects {
		in.Projects = append(in.Projects, pabulib.Project{ID: p.ID, Cost: p.Cost})
	}
	for i, b := range e.Ballots {
		in.Votes = append(in.Votes, pabulib.Vote{VoterID: fmt.Sprint(i + 1), Projects: b.Projects})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pabulib.Write(f, in); err != nil {
		t.Fatal(err)
	}
}
