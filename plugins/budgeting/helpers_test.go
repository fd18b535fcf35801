package budgeting

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// eachStore runs fn on a fresh, migrated SQLite store and on a throwaway PostgreSQL
// schema (sdktest.EachStore).
func eachStore(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) { fn(t, openStore(t, cfg)) })
}

func openStore(tb testing.TB, cfg sdk.StoreConfig) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db, (&Plugin{}).Migrations()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// newClock is the clock tests move by hand, at 1 March 2026, 09:00 UTC.
func newClock() *sdktest.Clock { return sdktest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

// fixture is a service over a migrated store with a fake host (sdktest.FakeHost, the
// core as a plugin sees it) and a clock. Neighbourhoods n1 and n2 exist.
type fixture struct {
	svc   *Service
	host  *sdktest.FakeHost
	clock *sdktest.Clock
	db    *store.DB
	ctx   context.Context
}

func newFixture(tb testing.TB, db *store.DB, s Settings) *fixture {
	tb.Helper()
	h, c := newHost(), newClock()
	return &fixture{svc: NewService(db, h, c.Now, s, nil), host: h, clock: c, db: db, ctx: context.Background()}
}

// newHost is a fake core with the plugin's roles and grants and neighbourhoods n1 and
// n2.
func newHost() *sdktest.FakeHost {
	h := sdktest.NewFakeHost(New().Manifest())
	h.AddNeighbourhood(sdk.Neighbourhood{ID: "n1"})
	h.AddNeighbourhood(sdk.Neighbourhood{ID: "n2"})
	return h
}

// resident makes id a verified resident of nbh and returns their Principal.
func resident(h *sdktest.FakeHost, id, nbh string) sdk.Principal {
	h.AddUser(sdk.User{ID: id})
	h.AddMember(id, nbh)
	return h.Principal(id)
}

// officer makes id a budget officer of nbh and returns their Principal.
func officer(h *sdktest.FakeHost, id, nbh string) sdk.Principal {
	h.AddUser(sdk.User{ID: id})
	h.Grant(id, RoleOfficer, "nbh:"+nbh)
	return h.Principal(id)
}

// resident and officer are the package functions on the fixture's host.
func (f *fixture) resident(id, nbh string) sdk.Principal { return resident(f.host, id, nbh) }
func (f *fixture) officer(id, nbh string) sdk.Principal  { return officer(f.host, id, nbh) }

// events delivers the events waiting in the store's outbox to the fake host and
// returns the types of all it received, in order.
func (f *fixture) events(tb testing.TB) []string {
	tb.Helper()
	if err := f.db.FlushOutbox(f.ctx, f.host); err != nil {
		tb.Fatal(err)
	}
	return f.host.EventTypes()
}

// must returns v, failing the test on err: must(f())(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

// wantCode fails unless err is an *sdk.Error with code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("want %s error, got nil", code)
	}
	if got := ErrorCode(err); got != code {
		tb.Fatalf("want %s error, got %s: %v", code, got, err)
	}
}

// votingCycle creates a cycle in n1 with feasible projects of the given costs, moved to
// voting; it returns the cycle and the project IDs in order.
func (f *fixture) votingCycle(tb testing.TB, rules BallotRules, budget int64, costs ...int64) (*Cycle, []string) {
	tb.Helper()
	off := f.officer("officer", "n1")
	c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{
		NeighbourhoodID: "n1", Name: "Park money", Budget: budget, Currency: "EUR", Ballot: rules,
	}))(tb)
	author := f.resident("author", "n1")
	var ids []string
	for i, cost := range costs {
		p := must(f.svc.SubmitProposal(f.ctx, author, c.ID, ProposalInput{Title: fmt.Sprintf("Project %d", i+1), Cost: cost}))(tb)
		ids = append(ids, p.ID)
	}
	must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseReview))(tb)
	yes := true
	for i, id := range ids {
		cost := costs[i]
		must(f.svc.Review(f.ctx, off, c.ID, id, ReviewInput{Feasible: &yes, Cost: &cost}))(tb)
	}
	c = must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseVoting))(tb)
	return c, ids
}

// testdataMissing fails a test whose Pabulib file is missing: the files live in
// testdata/pabulib in the repository, so a missing one is a broken checkout.
func testdataMissing(t *testing.T, err error) {
	t.Helper()
	t.Fatalf("test data missing: %v", err)
}
