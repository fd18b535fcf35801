package budgeting

import (
	"context"
	"fmt"
	"slices"
	"sync"
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

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeHost is a small in-test sdk.Host for service and handler unit tests: it answers
// Can from the principals it knows and the manifest's roles and grants, and records
// events and audit entries. End-to-end tests use the real host instead.
type fakeHost struct {
	mu         sync.Mutex
	principals map[string]sdk.Principal
	perms      map[string][]string // role -> permissions
	events     []sdk.Event
	audits     []sdk.AuditEntry
}

func newFakeHost() *fakeHost {
	h := &fakeHost{principals: map[string]sdk.Principal{}, perms: map[string][]string{}}
	m := (&Plugin{}).Manifest()
	for _, r := range m.Roles {
		h.perms[r.Name] = append(h.perms[r.Name], r.Permissions...)
	}
	for _, g := range m.Grants {
		h.perms[g.Role] = append(h.perms[g.Role], g.Permission)
	}
	return h
}

// add registers a principal so Can knows their roles.
func (h *fakeHost) add(p sdk.Principal) sdk.Principal {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.principals[p.UserID] = p
	return p
}

func resident(id, nbh string) sdk.Principal {
	return sdk.Principal{UserID: id, DisplayName: id, Roles: map[string][]string{"nbh:" + nbh: {"resident"}}, Neighbourhoods: []string{nbh}}
}

func officer(id, nbh string) sdk.Principal {
	return sdk.Principal{UserID: id, DisplayName: id, Roles: map[string][]string{"nbh:" + nbh: {RoleOfficer}}}
}

func (h *fakeHost) Users(_ context.Context, ids []string) ([]sdk.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.User
	for _, id := range ids {
		if p, ok := h.principals[id]; ok {
			out = append(out, sdk.User{ID: id, DisplayName: p.DisplayName})
		}
	}
	return out, nil
}

func (h *fakeHost) Neighbourhoods(_ context.Context, ids []string) ([]sdk.Neighbourhood, error) {
	var out []sdk.Neighbourhood
	for _, id := range ids {
		if id != "missing" {
			out = append(out, sdk.Neighbourhood{ID: id, Name: id})
		}
	}
	return out, nil
}

func (h *fakeHost) Memberships(context.Context, []string) ([]sdk.Membership, error) { return nil, nil }

func (h *fakeHost) Organisations(context.Context, []string) ([]sdk.Organisation, error) {
	return nil, nil
}

func (h *fakeHost) Can(_ context.Context, userID, perm, domain string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.principals[userID]
	for _, d := range []string{domain, sdk.DomainCity} {
		for _, role := range p.Roles[d] {
			if slices.Contains(h.perms[role], perm) {
				return true, nil
			}
		}
	}
	return false, nil
}

func (h *fakeHost) Publish(_ context.Context, e sdk.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	return nil
}

func (h *fakeHost) PublishAll(_ context.Context, events []sdk.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, events...)
	return nil
}

func (h *fakeHost) Audit(_ context.Context, e sdk.AuditEntry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.audits = append(h.audits, e)
	return nil
}

func (h *fakeHost) eventTypes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, e.Type)
	}
	return out
}

// fixture is a service over a migrated store with a fake host and a clock.
type fixture struct {
	svc   *Service
	host  *fakeHost
	clock *clock
	db    *store.DB
	ctx   context.Context
}

func newFixture(tb testing.TB, db *store.DB, s Settings) *fixture {
	tb.Helper()
	h, c := newFakeHost(), newClock()
	return &fixture{svc: NewService(db, h, c.Now, s, nil), host: h, clock: c, db: db, ctx: context.Background()}
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
	off := f.host.add(officer("officer", "n1"))
	c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{
		NeighbourhoodID: "n1", Name: "Park money", Budget: budget, Currency: "EUR", Ballot: rules,
	}))(tb)
	author := f.host.add(resident("author", "n1"))
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
