package parks

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// Store variants the storage tests run on.
const (
	variantSQLite   = "sqlite"
	variantPostgres = "postgres"
	// variantPostgresLock is PostgreSQL without the exclusion constraint,
	// as when btree_gist is missing: the park-lock fallback alone.
	variantPostgresLock = "postgres_lock"
)

// eachStore runs fn on a fresh SQLite store and on a throwaway PostgreSQL
// schema (sdktest.EachStore: skipped without KVARTER_TEST_DATABASE_URL,
// failed under CI). With withFallback it also runs on PostgreSQL with the
// exclusion constraint removed.
func eachStore(t *testing.T, withFallback bool, fn func(t *testing.T, variant string, cfg sdk.StoreConfig)) {
	t.Helper()
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		if cfg.Dialect == sdk.DialectPostgres {
			installGist(t, cfg)
		}
		fn(t, cfg.Dialect, cfg)
	})
	if withFallback {
		t.Run(variantPostgresLock, func(t *testing.T) {
			fn(t, variantPostgresLock, postgresSchema(t))
		})
	}
}

// postgresSchema is sdktest.PostgresStore with btree_gist installed.
func postgresSchema(tb testing.TB) sdk.StoreConfig {
	tb.Helper()
	cfg := sdktest.PostgresStore(tb)
	installGist(tb, cfg)
	return cfg
}

var gistOnce sync.Once

// installGist installs btree_gist, which the exclusion constraint needs,
// in public when it may: the host installs it in production (the
// plugin's role cannot).
func installGist(tb testing.TB, cfg sdk.StoreConfig) {
	tb.Helper()
	gistOnce.Do(func() {
		admin, err := sqlx.Open("postgres", cfg.DSN)
		if err != nil {
			tb.Fatal(err)
		}
		defer admin.Close()
		if _, err := admin.Exec(`CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public`); err != nil {
			tb.Logf("btree_gist unavailable, PostgreSQL runs on the park-lock fallback: %v", err)
		}
	})
}

// world is a configured, migrated plugin with a park and people.
type world struct {
	t       testing.TB
	plugin  *Plugin
	svc     *Service
	host    *sdktest.FakeHost
	clock   *sdktest.Clock
	variant string

	admin, manager, rep, rep2, resident, stranger sdk.Principal
	park                                          *Park
	whole, meadow, stage, playground              *Area
}

// Test fixtures: people and places.
const (
	nbhID  = "nbh-1"
	orgID  = "org-1"
	org2ID = "org-2"
)

// monday0900 is "now" in most tests: Monday 2 June 2025, 09:00 in
// Helsinki (UTC+3 in summer).
var monday0900 = time.Date(2025, 6, 2, 6, 0, 0, 0, time.UTC)

func newWorld(t testing.TB, variant string, cfg sdk.StoreConfig, settings map[string]string) *world {
	t.Helper()
	ctx := context.Background()
	host := sdktest.NewFakeHost(New().Manifest())
	clk := sdktest.NewClock(monday0900)
	p := newPlugin(clk.Now)
	if settings == nil {
		settings = map[string]string{}
	}
	if _, ok := settings[SettingDefaultSupport]; !ok {
		settings[SettingDefaultSupport] = "chairs=50,tables=10,sound_system=1"
	}
	err := p.Configure(ctx, sdk.Env{Settings: settings, Store: cfg, Host: host, CityTimeZone: "Europe/Helsinki",
		Languages: []string{"fi", "sv", "en", "da", "tr"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Deactivate(context.Background()) })
	if err := store.Migrate(ctx, p.db, p.Migrations()); err != nil {
		t.Fatal(err)
	}
	if variant == variantPostgresLock {
		if _, err := p.db.Exec(`ALTER TABLE booking_occupancy DROP CONSTRAINT IF EXISTS booking_occupancy_no_overlap`); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, plugin: p, svc: p.svc, host: host, clock: clk, variant: variant}
	host.AddNeighbourhood(sdk.Neighbourhood{ID: nbhID, Name: "Kadıköy"})
	host.AddOrganisation(sdk.Organisation{ID: orgID, Name: "Art Collective", Verified: true, Representatives: []string{"rep"}})
	host.AddOrganisation(sdk.Organisation{ID: org2ID, Name: "Play Club", Verified: true, Representatives: []string{"rep2"}})
	host.AddOrganisation(sdk.Organisation{ID: "org-unverified", Name: "New Group", Representatives: []string{"rep"}})
	host.Grant("admin", sdktest.RoleCityAdmin, sdk.DomainCity)
	host.Grant("manager", RoleParkManager, "nbh:"+nbhID)
	host.AddMember("resident", nbhID)
	w.admin, w.manager, w.rep, w.rep2 = host.Principal("admin"), host.Principal("manager"), host.Principal("rep"), host.Principal("rep2")
	w.resident, w.stranger = host.Principal("resident"), host.Principal("stranger")

	w.park = w.must(w.svc.CreatePark(ctx, w.admin, ParkInput{Name: "Living Park", NeighbourhoodID: nbhID}))
	hours := dailyHours("08:00", "20:00")
	rules := RulesDoc{SlotGranularityMinutes: 30, MinDurationMinutes: 60, MaxDurationMinutes: 480,
		MinNoticeMinutes: 24 * 60, BookingHorizonDays: 180}
	w.whole = w.area("Whole park", "", 1000, hours, rules)
	w.meadow = w.area("Meadow", w.whole.ID, 300, hours, rules)
	w.stage = w.area("Stage", w.meadow.ID, 100, hours, rules)
	w.playground = w.area("Playground", w.whole.ID, 50, hours, rules)
	return w
}

// published delivers the plugin's outbox, then returns the payloads of the
// events of typ the host received.
func (w *world) published(typ string) []BookingEvent {
	w.t.Helper()
	if err := w.plugin.db.FlushOutbox(context.Background(), w.host); err != nil {
		w.t.Fatal(err)
	}
	return sdktest.Payloads[BookingEvent](w.t, w.host, typ)
}

func (w *world) must(p *Park, err error) *Park {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) area(name, parent string, capacity int, hours HoursDoc, rules RulesDoc) *Area {
	w.t.Helper()
	a, err := w.svc.CreateArea(context.Background(), w.admin, w.park.ID,
		AreaInput{Name: name, ParentID: parent, Capacity: capacity, OpeningHours: &hours, Rules: rules})
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func dailyHours(open, close string) HoursDoc {
	week := map[string][]RangeDoc{}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		week[d] = []RangeDoc{{open, close}}
	}
	return HoursDoc{Periods: []PeriodDoc{{Name: "all year", From: "01-01", To: "12-31", Week: week}}}
}

// at returns the RFC 3339 form of a Helsinki wall time in June 2025.
func at(day, hour, minute int) string {
	loc, _ := time.LoadLocation("Europe/Helsinki")
	return time.Date(2025, 6, day, hour, minute, 0, 0, loc).Format(time.RFC3339)
}

// request asks for area from h1 to h2 on a June day, as rep.
func (w *world) request(pr sdk.Principal, org string, area *Area, day, h1, h2 int, mod ...func(*BookingInput)) (*Booking, error) {
	w.t.Helper()
	in := BookingInput{AreaID: area.ID, OrganisationID: org, Start: at(day, h1, 0), End: at(day, h2, 0),
		Title: "Open workshop", Category: "workshop", ExpectedAttendance: 20, Public: true,
		Contact: Contact{Name: "Ayşe", Email: "ayse@example.org"}}
	for _, m := range mod {
		m(&in)
	}
	return w.svc.RequestBooking(context.Background(), pr, w.park.ID, in)
}

func (w *world) mustRequest(pr sdk.Principal, org string, area *Area, day, h1, h2 int, mod ...func(*BookingInput)) *Booking {
	w.t.Helper()
	b, err := w.request(pr, org, area, day, h1, h2, mod...)
	if err != nil {
		w.t.Fatalf("request: %v", err)
	}
	return b
}

func (w *world) approve(id string) (*Booking, error) {
	return w.svc.Approve(context.Background(), w.manager, w.park.ID, id)
}

func (w *world) mustApprove(id string) *Booking {
	w.t.Helper()
	b, err := w.approve(id)
	if err != nil {
		w.t.Fatalf("approve: %v", err)
	}
	return b
}

func (w *world) booking(id string) *Booking {
	w.t.Helper()
	b, err := w.svc.GetBooking(context.Background(), w.manager, w.park.ID, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// wantErr checks err's code and, when rule is set, the rule it names.
func wantErr(t *testing.T, err error, code, rule string) {
	t.Helper()
	e, ok := err.(*sdk.Error)
	if !ok {
		t.Fatalf("err = %v (%T), want *sdk.Error %s/%s", err, err, code, rule)
	}
	if e.Code != code || (rule != "" && e.Fields["rule"] != rule) {
		t.Fatalf("err = %s %v, want %s rule %s", e.Code, e, code, rule)
	}
}

// overlappingApprovedSQL counts clashing pairs of approved occupancy rows; it
// has no placeholders, so it runs as is on both dialects.
const overlappingApprovedSQL = `SELECT COUNT(*) FROM booking_occupancy a
	JOIN booking_occupancy b ON a.area_id = b.area_id AND a.booking_id < b.booking_id
		AND a.self <> b.self AND a.lo < b.hi AND b.lo < a.hi
	JOIN bookings ba ON ba.id = a.booking_id JOIN bookings bb ON bb.id = b.booking_id
	WHERE ba.status = 'approved' AND bb.status = 'approved'`

// overlappingApproved is the invariant query: pairs of approved bookings
// or closures whose occupancy rows clash. It must always be empty.
func overlappingApproved(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Get(&n, overlappingApprovedSQL); err != nil {
		t.Fatal(err)
	}
	return n
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// obj is a JSON object in test bodies.
type obj = map[string]any
