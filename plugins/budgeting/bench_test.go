package budgeting

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// BenchmarkService_CastBallot measures CastBallot against the store, without the host:
// ballot validation and the voters and ballots rows (one statement on PostgreSQL, one
// transaction on SQLite), from parallel goroutines as distinct residents. Ballots
// through the core's HTTP path are measured by bench/budgeting/run.sh.
//
//	go test -run '^$' -bench CastBallot -benchtime 3000x .
//	KVARTER_TEST_DATABASE_URL=postgres://... go test -run '^$' -bench CastBallot/postgres -cpu 32 .
func BenchmarkService_CastBallot(b *testing.B) {
	run := func(b *testing.B, db *store.DB) {
		f := newFixture(b, db, Settings{})
		c, ids := f.votingCycle(b, BallotRules{Type: BallotApproval, Max: 3}, 1_000_000, 100, 200, 300, 400, 500)
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				pr := resident("voter-"+strconv.FormatInt(i, 10), "n1")
				f.host.add(pr)
				if _, err := f.svc.CastBallot(f.ctx, pr, c.ID, BallotInput{Ballot: Ballot{Projects: ids[i%3 : i%3+3]}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
	}
	b.Run("sqlite", func(b *testing.B) {
		run(b, openStore(b, sdktest.SQLiteStore(b)))
	})
	b.Run("postgres", func(b *testing.B) {
		run(b, openStore(b, sdktest.PostgresStore(b)))
	})
}
