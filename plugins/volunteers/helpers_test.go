package volunteers

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// testClock is the injected clock; tests move it explicitly.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// fakeHost is a small in-test core for unit tests: users, neighbourhoods, organisations,
// and grants of PermOpportunityManage per user and domain ("city" holds everywhere).
type fakeHost struct {
	sdktest.Sealing // SealingKey and Unseal with a real keyring
	mu              sync.Mutex
	users           map[string]sdk.User
	nbhs            map[string]sdk.Neighbourhood
	orgs            map[string]sdk.Organisation
	grants          map[string][]string // user -> domains
	events          []sdk.Event
}

func newFakeHost() *fakeHost {
	return &fakeHost{users: map[string]sdk.User{}, nbhs: map[string]sdk.Neighbourhood{}, orgs: map[string]sdk.Organisation{},
		grants: map[string][]string{}}
}

func (h *fakeHost) Users(_ context.Context, ids []string) ([]sdk.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.User
	for _, id := range ids {
		if u, ok := h.users[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

func (h *fakeHost) Neighbourhoods(_ context.Context, ids []string) ([]sdk.Neighbourhood, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.Neighbourhood
	for _, id := range ids {
		if n, ok := h.nbhs[id]; ok {
			out = append(out, n)
		}
	}
	return out, nil
}

func (h *fakeHost) Memberships(context.Context, []string) ([]sdk.Membership, error) { return nil, nil }

func (h *fakeHost) Organisations(_ context.Context, ids []string) ([]sdk.Organisation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.Organisation
	for _, id := range ids {
		if o, ok := h.orgs[id]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}

func (h *fakeHost) Can(_ context.Context, userID, permission, domain string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if permission != PermOpportunityManage {
		return false, nil
	}
	d := h.grants[userID]
	return slices.Contains(d, sdk.DomainCity) || slices.Contains(d, domain), nil
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

func (h *fakeHost) Audit(context.Context, sdk.AuditEntry) error { return nil }

func (h *fakeHost) eventsOf(typ string) []sdk.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.Event
	for _, e := range h.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
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

// fixture is a city with one neighbourhood, one verified organisation with a
// representative, a coordinator, a skill catalogue and a clock on a Monday morning.
type fixture struct {
	svc   *Service
	host  *fakeHost
	clock *testClock
	db    *store.DB
	loc   *time.Location
	rep   sdk.Principal // representative of org-1
	staff sdk.Principal // city coordinator
}

// monday is the fixture's "now": Monday 2 June 2025, 08:00 in Helsinki.
var monday = time.Date(2025, 6, 2, 5, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, cfg sdk.StoreConfig) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := &Plugin{}
	if err := store.Migrate(ctx, db, p.Migrations()); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	h := newFakeHost()
	h.nbhs["nbh-1"] = sdk.Neighbourhood{ID: "nbh-1", Name: "Keskusta"}
	h.orgs["org-1"] = sdk.Organisation{ID: "org-1", Name: "Parish", Verified: true, Representatives: []string{"rep"}}
	h.orgs["org-2"] = sdk.Organisation{ID: "org-2", Name: "Unverified club", Representatives: []string{"rep2"}}
	h.grants["rep"] = []string{"org:org-1"}
	h.grants["rep2"] = []string{"org:org-2"}
	h.grants["staff"] = []string{sdk.DomainCity}
	h.users["rep"] = sdk.User{ID: "rep", DisplayName: "Rep", Email: "rep@example.org"}
	clk := &testClock{t: monday}
	svc := NewService(db, h, Config{Location: loc, Languages: []string{"fi", "en"}}, clk.Now, nil)
	f := &fixture{svc: svc, host: h, clock: clk, db: db, loc: loc,
		rep:   sdk.Principal{UserID: "rep", Locale: "en", Organisations: []sdk.OrgMembership{{OrganisationID: "org-1", Role: "representative", Verified: true}}},
		staff: sdk.Principal{UserID: "staff", Locale: "en", Roles: map[string][]string{"city": {RoleCoordinator}}},
	}
	for id, name := range map[string]string{"first_aid": "First aid", "driving": "Driving", "cooking": "Cooking"} {
		if _, err := svc.PutSkill(ctx, f.staff, Skill{ID: id, Names: map[string]string{"en": name}}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// volunteer creates a user with a profile free all week.
func (f *fixture) volunteer(t testing.TB, id string, mod func(*ProfileInput)) sdk.Principal {
	t.Helper()
	f.host.mu.Lock()
	f.host.users[id] = sdk.User{ID: id, DisplayName: "Volunteer " + id, Email: id + "@example.org"}
	f.host.mu.Unlock()
	in := ProfileInput{Skills: []string{"first_aid"}, Languages: []string{"fi"}, BirthDate: "1990-01-01",
		Neighbourhoods: []string{"nbh-1"}}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		in.Availability = append(in.Availability, AvailabilityWindow{Day: d, Start: "00:00", End: "24:00"})
	}
	if mod != nil {
		mod(&in)
	}
	p := sdk.Principal{UserID: id, Locale: "en"}
	if _, err := f.svc.PutProfile(context.Background(), p, in); err != nil {
		t.Fatal(err)
	}
	return p
}

// saturday returns a shift input on Saturday 7 June 2025 from..to local hours.
func (f *fixture) saturday(from, to, capacity int) ShiftInput {
	day := time.Date(2025, 6, 7, 0, 0, 0, 0, f.loc)
	return ShiftInput{Start: day.Add(time.Duration(from) * time.Hour).Format(time.RFC3339),
		End: day.Add(time.Duration(to) * time.Hour).Format(time.RFC3339), Capacity: capacity}
}

// published creates and publishes an opportunity of org-1.
func (f *fixture) published(t testing.TB, mod func(*OpportunityInput)) Opportunity {
	t.Helper()
	ctx := context.Background()
	in := OpportunityInput{OrganisationID: "org-1", Title: "Park clean-up", NeighbourhoodID: "nbh-1",
		Shifts: []ShiftInput{f.saturday(9, 12, 3)}}
	if mod != nil {
		mod(&in)
	}
	o, err := f.svc.CreateOpportunity(ctx, f.rep, in)
	if err != nil {
		t.Fatal(err)
	}
	if o, err = f.svc.SetState(ctx, f.rep, o.ID, StatePublished); err != nil {
		t.Fatal(err)
	}
	return o
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := errorCode(err); err == nil || got != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}
