package consultations

import (
	"encoding/json"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// BenchmarkService_Results100k measures the results of a survey with 100,000 answers
// (five questions: a choice, a dependent scale, a multiple choice, a ranking and free
// text), read from the store and tallied as PublishResults and a poll's live results
// do. The bound is under 1 s per computation.
//
//	go test -run '^$' -bench Results100k -benchtime 5x .
//	KVARTER_TEST_DATABASE_URL=postgres://... go test -run '^$' -bench Results100k/postgres -benchtime 5x .
func BenchmarkService_Results100k(b *testing.B) {
	const answers = 100_000
	run := func(b *testing.B, db *store.DB, decode bool) {
		f := newFixture(b, db)
		c := f.published(survey())
		contents := make([]string, 0, 64)
		for i := range 64 { // 64 distinct answers, repeated
			content, err := json.Marshal(answersOf(c, i%2, (i%5+1)*(1-i%2), []int{i % 3}, []int{i % 3, (i + 1) % 3, (i + 2) % 3}, map[bool]string{true: "More racks", false: ""}[i%7 == 0]))
			if err != nil {
				b.Fatal(err)
			}
			contents = append(contents, string(content))
		}
		err := db.InTx(f.ctx, func(tx *store.Tx) error {
			return store.InsertRows(f.ctx, tx.Tx, "answers", []string{"id", "consultation_id", "user_id", "content"}, answers,
				func(i int, v []any) { v[0], v[1], v[2], v[3] = randomID(), c.ID, nil, contents[i%len(contents)] })
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		cpu := sdktest.ProcessCPU()
		for range b.N {
			var res *Results
			var err error
			if decode { // the same tally through encoding/json, for the ratio
				t := newTally(c)
				err = f.svc.st.eachAnswer(f.ctx, db, c.ID, t.add)
				res = t.results(nil)
			} else {
				res, err = f.svc.compute(f.ctx, c)
			}
			if err != nil || res.Answers != answers {
				b.Fatalf("%v: %d answers", err, res.Answers)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(answers)*float64(b.N)/b.Elapsed().Seconds(), "answers/s")
		// The plugin's own CPU per computation (not PostgreSQL's, another process).
		b.ReportMetric(float64((sdktest.ProcessCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
	for _, decode := range []bool{false, true} {
		name := map[bool]string{false: "", true: "/encoding_json"}[decode]
		b.Run("sqlite"+name, func(b *testing.B) { run(b, sdktest.MigratedStore(b, sdktest.SQLiteStore(b), New().(*Plugin)), decode) })
		b.Run("postgres"+name, func(b *testing.B) {
			if os.Getenv(sdktest.EnvDatabaseURL) == "" {
				b.Skip("set " + sdktest.EnvDatabaseURL)
			}
			run(b, sdktest.MigratedStore(b, sdktest.PostgresStore(b), New().(*Plugin)), decode)
		})
	}
}

// BenchmarkService_Submit measures Submit against the store, without the host: the
// consultation read, eligibility, the answers checked and the participation mark and
// answer written in one transaction, from parallel goroutines as distinct verified
// residents. Submissions through the core are measured by bench/consultations.
//
//	go test -run '^$' -bench Service_Submit -benchtime 2000x .
func BenchmarkService_Submit(b *testing.B) {
	run := func(b *testing.B, db *store.DB) {
		f := newFixture(b, db)
		c := f.published(survey())
		answers := answersOf(c, 0, 4, []int{0, 2}, []int{2, 0, 1}, "More racks by the station")
		var n atomic.Int64
		cpu := sdktest.ProcessCPU()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				who := f.resident("r"+strconv.FormatInt(n.Add(1), 10), "n1")
				if _, err := f.svc.Submit(f.ctx, who, c.ID, AnswerInput{Answers: answers}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
		b.ReportMetric(float64((sdktest.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, sdktest.MigratedStore(b, sdktest.SQLiteStore(b), New().(*Plugin))) })
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(sdktest.EnvDatabaseURL) == "" {
			b.Skip("set " + sdktest.EnvDatabaseURL)
		}
		run(b, sdktest.MigratedStore(b, sdktest.PostgresStore(b), New().(*Plugin)))
	})
}
