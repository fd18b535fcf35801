package assemblies

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchStores are the stores benchmarks run on: SQLite, and PostgreSQL under the SDK's
// rule (sdktest.PostgresURL). The config only names the dialect; newEnv makes the store.
func benchStores(b *testing.B, fn func(b *testing.B, cfg sdk.StoreConfig)) {
	for _, d := range []string{sdk.DialectSQLite, sdk.DialectPostgres} {
		b.Run(d, func(b *testing.B) { fn(b, sdk.StoreConfig{Dialect: d}) })
	}
}

// votingMotion makes a motion whose vote is open with an electorate of n synthetic
// members (written straight to the tables: going through Join n times would measure
// the setup, not the vote), and returns the env, assembly, chair and motion.
func votingMotion(b *testing.B, cfg sdk.StoreConfig, secrecy string, n int) (*env, Assembly, sdk.Principal, Motion) {
	b.Helper()
	e := newEnv(b, cfg, nil)
	a, chair := e.assembly("bench", map[string]any{"secrecy": secrecy})
	m := e.tabled(a, chair, "Benchmark")
	e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/open", nil)
	ctx := context.Background()
	tx, err := e.svc.db.BeginTxx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ins := tx.Rebind(`INSERT INTO electorate (motion_id, user_id) VALUES (?, ?)`)
	for i := range n {
		if _, err := tx.ExecContext(ctx, ins, m.ID, fmt.Sprintf("u%07d", i)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE motions SET electorate = electorate + ? WHERE id = ?`), n, m.ID); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return e, a, chair, m
}

// BenchmarkService_CloseVote closes a vote of 100,000 ballots: for a secret vote the
// host (a fake with a real keyring) opens the sealed ballots, which are shuffled,
// written in plaintext and deleted; then recount, invariant check, decision, timeline
// and event. Between iterations the motion is put back to
// voting (not timed).
func BenchmarkService_CloseVote(b *testing.B) {
	const n = 100_000
	benchStores(b, func(b *testing.B, cfg sdk.StoreConfig) {
		for _, secrecy := range []string{SecrecyNamed, SecrecySecret} {
			b.Run(secrecy, func(b *testing.B) {
				e, a, chair, m := votingMotion(b, cfg, secrecy, n)
				ctx := context.Background()
				db := e.svc.db
				tx, _ := db.BeginTxx(ctx, nil)
				choices := []string{ChoiceYes, ChoiceNo, ChoiceYes, ChoiceAbstain}
				for i := range n {
					uid, choice := fmt.Sprintf("u%07d", i), choices[i%len(choices)]
					if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO voters (motion_id, user_id) VALUES (?, ?)`), m.ID, uid); err != nil {
						b.Fatal(err)
					}
					if secrecy == SecrecyNamed {
						if err := putNamedBallot(ctx, tx, m.ID, uid, choice); err != nil {
							b.Fatal(err)
						}
						continue
					}
					sealed, err := e.svc.box.Seal(ctx, m.ID, []byte(choice), sealedSize)
					if err != nil {
						b.Fatal(err)
					}
					if err := putSealedBallot(ctx, tx, m.ID, uid, sealed); err != nil {
						b.Fatal(err)
					}
				}
				if secrecy == SecrecySecret {
					// The close deletes the sealed ballots; keep them to put back.
					if _, err := tx.ExecContext(ctx, `CREATE TABLE bench_sealed AS SELECT * FROM sealed_ballots`); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				var cpu time.Duration
				b.ResetTimer()
				for b.Loop() {
					before := processCPU()
					got, err := e.svc.CloseVote(ctx, chair, a.ID, m.ID)
					cpu += processCPU() - before
					if err != nil {
						b.Fatal(err)
					}
					if got.Vote.Counts.Total() != n || got.State != StateAdopted {
						b.Fatalf("close: %s %+v", got.State, got.Vote.Counts)
					}
					b.StopTimer()
					if _, err := db.Exec(db.Rebind(`UPDATE motions SET state = 'voting', vote_closed_at = NULL, outcome = '', answer_status = '', answer_due_at = NULL WHERE id = ?`), m.ID); err != nil {
						b.Fatal(err)
					}
					if secrecy == SecrecySecret {
						for _, q := range []string{`DELETE FROM secret_ballots`, `INSERT INTO sealed_ballots SELECT * FROM bench_sealed`} {
							if _, err := db.Exec(q); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(n), "ballots/close")
				// The CPU this process spent per close (the test and the plugin's code,
				// and SQLite, but not the PostgreSQL server): on a shared machine the
				// wall time above also counts waiting for a core.
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/close")
			})
		}
	})
}

// BenchmarkService_CastBallot casts b.N ballots from distinct members in parallel on
// one motion, through the service (the HTTP path adds the host round trip).
func BenchmarkService_CastBallot(b *testing.B) {
	benchStores(b, func(b *testing.B, cfg sdk.StoreConfig) {
		for _, secrecy := range []string{SecrecyNamed, SecrecySecret} {
			b.Run(secrecy, func(b *testing.B) {
				e, a, _, m := votingMotion(b, cfg, secrecy, b.N)
				ctx := context.Background()
				var next atomic.Int64
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1) - 1
						p := sdk.Principal{UserID: fmt.Sprintf("u%07d", i)}
						if _, err := e.svc.CastBallot(ctx, p, a.ID, m.ID, Choices[i%3]); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				var voters int
				if err := e.svc.db.Get(&voters, e.svc.db.Rebind(`SELECT COUNT(*) FROM voters WHERE motion_id = ?`), m.ID); err != nil || voters != b.N {
					b.Errorf("%d voters recorded for %d ballots (%v)", voters, b.N, err)
				}
			})
		}
	})
}
