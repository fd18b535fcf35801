package consultations

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// BenchmarkIdeas_List reads one page of 50 ideas of a board of 10,000, most supported
// first, at the start of the board and 5,000 ideas in (the cursor of a keyset page):
// the two should cost the same, as the page starts at the cursor's key in the index
// instead of counting its way there. On SQLite, and on PostgreSQL when
// KVARTER_TEST_DATABASE_URL is set.
func BenchmarkIdeas_List(b *testing.B) {
	stores := map[string]func(testing.TB) sdk.StoreConfig{"sqlite": sdktest.SQLiteStore}
	if os.Getenv(sdktest.EnvDatabaseURL) != "" {
		stores["postgres"] = sdktest.PostgresStore
	}
	for _, name := range []string{"sqlite", "postgres"} {
		mk, ok := stores[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			f := newFixture(b, sdktest.MigratedStore(b, mk(b), New().(*Plugin)))
			ctx := context.Background()
			c := f.published(ConsultationInput{Kind: KindIdeas, Title: "Board", Participation: ParticipationSignedIn,
				OpensAt: start, ClosesAt: start.Add(24 * time.Hour)})
			const ideas = 10_000
			err := f.db.InTx(ctx, func(tx *store.Tx) error {
				for i := range ideas {
					idea := Idea{ID: fmt.Sprintf("idea-%05d", i), ConsultationID: c.ID, Title: "Idea", Body: "Text",
						Status: IdeaOpen, CreatedAt: start.Add(time.Duration(i) * time.Second), authorID: "someone"}
					if err := f.svc.st.insertIdea(ctx, tx, idea); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE ideas SET supports = ? WHERE id = ?`), i*7919%500, idea.ID); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if f.db.IsPostgres() {
				// What autovacuum does soon after a bulk load: without statistics the
				// planner does not know the index suits the order.
				if _, err := f.db.ExecContext(ctx, `ANALYZE ideas`); err != nil {
					b.Fatal(err)
				}
			}
			// The cursor 5,000 ideas in.
			q := sdk.ListQuery{Limit: 5000}
			deep, err := f.svc.Ideas(ctx, sdk.Principal{}, c.ID, SortSupported, q)
			if err != nil {
				b.Fatal(err)
			}
			key := ideaKey(SortSupported)(deep.Items[len(deep.Items)-1])
			for _, bc := range []struct {
				name string
				q    sdk.ListQuery
			}{{"FirstPage", sdk.ListQuery{Limit: 50}}, {"Page100", sdk.ListQuery{Limit: 50, Key: key}}} {
				b.Run(bc.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						page, err := f.svc.Ideas(ctx, sdk.Principal{}, c.ID, SortSupported, bc.q)
						if err != nil || len(page.Items) != 50 {
							b.Fatal(len(page.Items), err)
						}
					}
				})
			}
		})
	}
}
