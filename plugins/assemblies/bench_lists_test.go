package assemblies

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// BenchmarkService_AnswersDue reads the first page (20) of the city-wide answers due
// among 20,000 motions, 2,000 of them adopted and unanswered, written straight to the
// tables (adopting each through votes would measure the setup). The partial index of
// migration 0005 keeps the read to the page, however many motions the city has; the
// assembly's own motion list (first page of 20, by the index it had) is measured
// beside it, in the same store, as the yardstick.
func BenchmarkService_AnswersDue(b *testing.B) {
	benchStores(b, func(b *testing.B, cfg sdk.StoreConfig) {
		e := newEnv(b, cfg, nil)
		a, _ := e.assembly("due", nil)
		ctx := context.Background()
		tx, err := e.svc.db.BeginTxx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		ins := tx.Rebind(`INSERT INTO motions (id, assembly_id, kind, title, text, author_id, state, answer_status,
			answer_due_at, created_at, updated_at) VALUES (?, ?, 'motion', 'Motion', 'Text', '', ?, ?, ?, ?, ?)`)
		for i := range 20_000 {
			state, status := StateRejected, ""
			var due any
			if i%10 == 0 {
				state, status = StateAdopted, AnswerSubmitted
				due = store.Micros(t0.Add(time.Duration(i) * time.Minute))
			}
			now := store.Micros(t0)
			if _, err := tx.ExecContext(ctx, ins, fmt.Sprintf("m%07d", i), a.ID, state, status, due, now, now); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.db.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
		b.Run("answers_due", func(b *testing.B) {
			for b.Loop() {
				pg, err := e.svc.AnswersDue(ctx, false, sdk.ListQuery{Limit: 20})
				if err != nil || len(pg.Items) != 20 {
					b.Fatalf("%d items, %v", len(pg.Items), err)
				}
			}
		})
		b.Run("motions", func(b *testing.B) {
			for b.Loop() {
				pg, err := e.svc.ListMotions(ctx, a.ID, MotionQuery{}, sdk.ListQuery{Limit: 20})
				if err != nil || len(pg.Items) != 20 {
					b.Fatalf("%d items, %v", len(pg.Items), err)
				}
			}
		})
	})
}
