package budgeting

import (
	"context"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// TestMigrate_TimeMicros builds a store at migration 0002, when times were text with
// nanoseconds, writes rows in that encoding (sub-second values, a NULL next_at, an
// empty and a full schedule), applies 0003 and reads every time back as the exact
// instant, truncated to the microsecond, through the plugin's own code; the schedule
// tick still finds a converted next_at to the microsecond, and the indexes on the
// converted columns are there again. On SQLite and PostgreSQL.
func TestMigrate_TimeMicros(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := sdktest.StoreAt(t, cfg, &Plugin{}, "0002")
		for _, stmt := range []string{
			`INSERT INTO cycles (id, neighbourhood_id, name, budget, currency, ballot, phase, schedule, next_at, created_at, updated_at)
			 VALUES ('c1', 'n1', 'Scheduled', 1000, 'EUR', '{"type":"approval","min":1}', 'ideas',
			 '{"review":"2026-04-01T00:00:00.500000000Z","voting":"2026-05-01T08:00:00.000000999Z"}',
			 '2026-04-01T00:00:00.500000000Z', '2026-03-01T09:00:00.123456789Z', '2026-03-02T10:30:15.000001999Z')`,
			`INSERT INTO cycles (id, neighbourhood_id, name, budget, currency, ballot, phase, schedule, next_at, created_at, updated_at)
			 VALUES ('c2', 'n1', 'Unscheduled', 1000, 'EUR', '{"type":"approval","min":1}', 'results', '{}',
			 NULL, '1999-12-31T23:59:59.999999999Z', '2000-01-01T00:00:00.000000000Z')`,
			`INSERT INTO proposals (id, cycle_id, title, description, category, location, cost, status, implementation, created_at, updated_at)
			 VALUES ('p1', 'c2', 'Benches', '', '', '', 100, 'feasible', 'in_progress', '2026-03-03T12:00:00.000000001Z', '2026-03-04T12:00:00.999999000Z')`,
			`INSERT INTO project_updates (id, proposal_id, status, note, at) VALUES ('u2', 'p1', 'in_progress', 'second', '2026-06-01T12:00:00.654321999Z')`,
			`INSERT INTO project_updates (id, proposal_id, status, note, at) VALUES ('u1', 'p1', 'planned', 'first', '2026-06-01T12:00:00.654320000Z')`,
			`INSERT INTO results (cycle_id, body, published_at) VALUES ('c2', '{}', '2026-07-01T00:00:00.000000001Z')`,
		} {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%v\n%s", err, stmt)
			}
		}
		if err := store.Migrate(ctx, db, (&Plugin{}).Migrations()); err != nil {
			t.Fatal(err)
		}

		at := func(y int, mo time.Month, d, h, mi, s, us int) time.Time {
			return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC)
		}
		c1 := must(findCycle(ctx, db, "c1"))(t)
		c2 := must(findCycle(ctx, db, "c2"))(t)
		for _, tc := range []struct {
			name      string
			got, want time.Time
		}{
			{"c1.created_at", c1.CreatedAt, at(2026, 3, 1, 9, 0, 0, 123456)},
			{"c1.updated_at", c1.UpdatedAt, at(2026, 3, 2, 10, 30, 15, 1)},
			{"c1.schedule.review", c1.Schedule[PhaseReview], at(2026, 4, 1, 0, 0, 0, 500000)},
			{"c1.schedule.voting", c1.Schedule[PhaseVoting], at(2026, 5, 1, 8, 0, 0, 0)},
			{"c2.created_at", c2.CreatedAt, at(1999, 12, 31, 23, 59, 59, 999999)},
			{"c2.updated_at", c2.UpdatedAt, at(2000, 1, 1, 0, 0, 0, 0)},
		} {
			if !tc.got.Equal(tc.want) {
				t.Errorf("%s = %s, want %s", tc.name, tc.got.Format(time.RFC3339Nano), tc.want.Format(time.RFC3339Nano))
			}
		}
		if len(c1.Schedule) != 2 || len(c2.Schedule) != 0 {
			t.Errorf("schedules %v and %v, want 2 phases and none", c1.Schedule, c2.Schedule)
		}
		p := must(findProposal(ctx, db, "c2", "p1"))(t)
		if want := at(2026, 3, 3, 12, 0, 0, 0); !p.CreatedAt.Equal(want) {
			t.Errorf("p1.created_at = %s, want %s", p.CreatedAt, want)
		}
		if want := at(2026, 3, 4, 12, 0, 0, 999999); !p.UpdatedAt.Equal(want) {
			t.Errorf("p1.updated_at = %s, want %s", p.UpdatedAt, want)
		}
		ups := must(listUpdates(ctx, db, "p1"))(t)
		if len(ups) != 2 || ups[0].Note != "first" || !ups[0].At.Equal(at(2026, 6, 1, 12, 0, 0, 654320)) ||
			!ups[1].At.Equal(at(2026, 6, 1, 12, 0, 0, 654321)) {
			t.Errorf("updates %+v, want first at .654320 then second at .654321", ups)
		}
		var published int64
		if err := get(ctx, db, &published, `SELECT published_at FROM results WHERE cycle_id = 'c2'`); err != nil {
			t.Fatal(err)
		}
		if got, want := store.FromMicros(published), at(2026, 7, 1, 0, 0, 0, 0); !got.Equal(want) {
			t.Errorf("published_at = %s, want %s", got, want)
		}

		// next_at converted to the microsecond: due at .500000, not a microsecond before.
		if ids := must(dueCycles(ctx, db, at(2026, 4, 1, 0, 0, 0, 499999)))(t); len(ids) != 0 {
			t.Errorf("due a microsecond early: %v", ids)
		}
		if ids := must(dueCycles(ctx, db, at(2026, 4, 1, 0, 0, 0, 500000)))(t); len(ids) != 1 || ids[0] != "c1" {
			t.Errorf("due at next_at: %v, want [c1]", ids)
		}
		indexes := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('cycles_next_at', 'project_updates_proposal')`
		if db.Dialect == sdk.DialectPostgres {
			indexes = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('cycles_next_at', 'project_updates_proposal')`
		}
		var n int
		if err := get(ctx, db, &n, indexes); err != nil || n != 2 {
			t.Errorf("%d of the 2 indexes on converted columns after the migration (%v)", n, err)
		}

		// The converted store takes new rows from the current code.
		f := newFixture(t, db, Settings{})
		off := f.officer("officer", "n1")
		c := must(f.svc.CreateCycle(ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "New", Budget: 1, Currency: "EUR",
			Ballot: BallotRules{Type: BallotApproval}}))(t)
		if got := must(f.svc.Cycle(ctx, c.ID))(t); !got.CreatedAt.Equal(c.CreatedAt) || got.CreatedAt.IsZero() {
			t.Errorf("new cycle created %s, read back %s", c.CreatedAt, got.CreatedAt)
		}
	})
}
