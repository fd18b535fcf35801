package budgeting

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
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
				pr := f.resident("voter-"+strconv.FormatInt(i, 10), "n1")
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

// BenchmarkService_CloseVoting moves a cycle with 100,000 sealed online ballots out of
// the voting phase: the host (a fake with a real keyring) opens them in batches, they
// are shuffled, written in the clear and the sealed rows deleted, in the transaction
// that moves the phase. Between iterations the cycle is put back (not timed).
//
//	go test -run '^$' -bench CloseVoting -benchtime 3x .
func BenchmarkService_CloseVoting(b *testing.B) {
	const n = 100_000
	run := func(b *testing.B, db *store.DB) {
		f := newFixture(b, db, Settings{})
		c, ids := f.votingCycle(b, BallotRules{Type: BallotApproval, Max: 3}, 1_000_000, 100, 200, 300, 400, 500)
		_, projects, err := f.svc.ballotOf(f.ctx, c.ID)
		if err != nil {
			b.Fatal(err)
		}
		tx := db.MustBegin()
		for i := range n {
			content, _ := json.Marshal(Ballot{Projects: ids[i%3 : i%3+3]})
			sealed, err := f.svc.box.Seal(f.ctx, c.ID, content, sealedSize(projects))
			if err != nil {
				b.Fatal(err)
			}
			uid := "voter-" + strconv.Itoa(i)
			if _, err := insertVoter(f.ctx, tx, c.ID, uid); err != nil {
				b.Fatal(err)
			}
			if err := insertSealedBallot(f.ctx, tx, c.ID, uid, "", sealed); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tx.Exec(`CREATE TABLE bench_sealed AS SELECT * FROM sealed_ballots`); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		var cpu time.Duration
		for b.Loop() {
			before := processCPU()
			if err := f.svc.move(f.ctx, c, PhaseResults); err != nil {
				b.Fatal(err)
			}
			cpu += processCPU() - before
			b.StopTimer()
			if got := must(countBallots(f.ctx, db, c.ID))(b); got != n {
				b.Fatalf("%d ballots after the close, want %d", got, n)
			}
			for _, q := range []string{`DELETE FROM ballots`, `INSERT INTO sealed_ballots SELECT * FROM bench_sealed`} {
				if _, err := db.Exec(q); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := db.Exec(db.Rebind(`UPDATE cycles SET phase = ? WHERE id = ?`), string(PhaseVoting), c.ID); err != nil {
				b.Fatal(err)
			}
			// A real close meets tables that autovacuum keeps clean; without this, each
			// round would also pay for the dead rows and index entries of the one before.
			if db.Dialect == sdk.DialectPostgres {
				if _, err := db.Exec(`VACUUM ANALYZE ballots, sealed_ballots`); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(n), "ballots/close")
		// CPU of this process (the plugin's code and SQLite, not the PostgreSQL server).
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/close")
	}
	b.Run("sqlite", func(b *testing.B) {
		run(b, openStore(b, sdktest.SQLiteStore(b)))
	})
	b.Run("postgres", func(b *testing.B) {
		run(b, openStore(b, sdktest.PostgresStore(b)))
	})
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
