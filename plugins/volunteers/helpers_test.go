package volunteers

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// fixture is a city with one neighbourhood, one verified organisation with a
// representative, a coordinator, a skill catalogue and a clock on a Monday morning.
type fixture struct {
	svc   *Service
	host  *sdktest.FakeHost
	clock *sdktest.Clock
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
	h := sdktest.NewFakeHost(New().Manifest())
	h.AddNeighbourhood(sdk.Neighbourhood{ID: "nbh-1", Name: "Keskusta"})
	h.AddUser(sdk.User{ID: "rep", DisplayName: "Rep", Email: "rep@example.org"})
	h.AddOrganisation(sdk.Organisation{ID: "org-1", Name: "Parish", Verified: true, Representatives: []string{"rep"}})
	h.AddOrganisation(sdk.Organisation{ID: "org-2", Name: "Unverified club", Representatives: []string{"rep2"}})
	h.Grant("staff", RoleCoordinator, sdk.DomainCity)
	clk := sdktest.NewClock(monday)
	svc := NewService(db, h, Config{Location: loc, Languages: []string{"fi", "en"}}, clk.Now, nil)
	f := &fixture{svc: svc, host: h, clock: clk, db: db, loc: loc, rep: h.Principal("rep"), staff: h.Principal("staff")}
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
	f.host.AddUser(sdk.User{ID: id, DisplayName: "Volunteer " + id, Email: id + "@example.org"})
	in := ProfileInput{Skills: []string{"first_aid"}, Languages: []string{"fi"}, BirthDate: "1990-01-01",
		Neighbourhoods: []string{"nbh-1"}}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		in.Availability = append(in.Availability, AvailabilityWindow{Day: d, Start: "00:00", End: "24:00"})
	}
	if mod != nil {
		mod(&in)
	}
	p := f.host.Principal(id)
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

// events relays the plugin's outbox to the fake host, as the SDK's relay does after a
// commit, and returns the events of typ the host holds.
func (f *fixture) events(t testing.TB, typ string) []sdk.Event {
	t.Helper()
	if err := f.db.FlushOutbox(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	return f.host.Events(typ)
}

// eventTypes is events for every type, by type.
func (f *fixture) eventTypes(t testing.TB) []string {
	t.Helper()
	if err := f.db.FlushOutbox(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	return f.host.EventTypes()
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := errorCode(err); err == nil || got != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

// readAll reads every page of a list, three items a page, so that every test of a
// list also pages through it.
func readAll[T any](page func(q sdk.ListQuery) (sdk.Page[T], error)) ([]T, error) {
	var out []T
	q := sdk.ListQuery{Limit: 3}
	for range 1000 {
		p, err := page(q)
		if err != nil {
			return out, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, nil
		}
		r := httptest.NewRequest("GET", "/?cursor="+p.NextCursor, nil)
		if q, err = sdk.ListParams(r); err != nil {
			return out, err
		}
		q.Limit = 3
	}
	return out, errors.New("the list did not end after 1,000 pages")
}

func applicationsOf(svc *Service, p sdk.Principal, oppID string) ([]ApplicationView, error) {
	return readAll(func(q sdk.ListQuery) (sdk.Page[ApplicationView], error) {
		return svc.Applications(context.Background(), p, oppID, q)
	})
}

func matchesOf(svc *Service, p sdk.Principal, oppID, shiftID string) ([]MatchCandidate, error) {
	return readAll(func(q sdk.ListQuery) (sdk.Page[MatchCandidate], error) {
		return svc.Matches(context.Background(), p, oppID, shiftID, q)
	})
}

func recommendationsFor(svc *Service, p sdk.Principal) ([]Recommendation, error) {
	return readAll(func(q sdk.ListQuery) (sdk.Page[Recommendation], error) {
		return svc.Recommendations(context.Background(), p, q)
	})
}

func opportunitiesFor(svc *Service, p sdk.Principal) ([]Opportunity, error) {
	return readAll(func(q sdk.ListQuery) (sdk.Page[Opportunity], error) {
		return svc.Opportunities(context.Background(), p, q)
	})
}
