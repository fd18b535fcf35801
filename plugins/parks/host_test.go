package parks

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// TestHost_Story runs cmd/kvarter-parks inside a real `kvarter serve`
// (sdk/sdktest): the core's routing, permission checks and Principals, the
// host API and the plugin's own provisioned store. It is the issue's
// story: a verified organisation's representative finds a free slot,
// requests it, a park manager (role granted through the core) approves, the
// event is in the public JSON and iCalendar feeds, and a cancellation shows
// there. Then 100 concurrent approvals of overlapping requests approve
// exactly one, and the plugin's store holds no overlapping approved
// bookings; on PostgreSQL the same again split across two core nodes.
func TestHost_Story(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-parks", Name: "parks",
		Settings: map[string]string{SettingDefaultSupport: "chairs=40,tables=4"}}, func(t *testing.T, core *sdktest.Core, pg bool) {
		// Which guard keeps approved bookings apart: the host installs
		// btree_gist on PostgreSQL, so there it is the constraint.
		want := map[bool]string{false: GuardSingleWriter, true: GuardExclusion}[pg]
		reported := func() bool {
			logs := core.LogText()
			return strings.Contains(logs, "overlap guard") && strings.Contains(logs, want)
		}
		for deadline := time.Now().Add(5 * time.Second); !reported() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		if !reported() {
			t.Errorf("the plugin did not report guard %s:\n%s", want, core.LogText())
		}

		nbh := core.Neighbourhood("Alsancak")
		manager := core.NewUser("manager@example.org")
		core.Grant(manager, RoleParkManager, "nbh:"+nbh)
		rep := core.NewUser("rep@example.org")
		org := core.Organisation(rep, "Friends of Kültürpark", nbh)
		stranger := core.NewUser("stranger@example.org")
		anon := core.Anonymous()

		var park Park
		stranger.Must(403, "POST", "/api/v1/parks", obj{"name": "Kültürpark", "neighbourhood_id": nbh})
		core.Admin().Must(201, "POST", "/api/v1/parks", obj{"name": "Kültürpark", "neighbourhood_id": nbh}).Decode(t, &park)
		if park.TimeZone != "Europe/Helsinki" || park.SupportItems["chairs"] != 40 {
			t.Errorf("park %+v", park)
		}
		pre := "/api/v1/parks/" + park.ID
		hours := dailyHours("08:00", "20:00")
		rules := RulesDoc{SlotGranularityMinutes: 30, MinDurationMinutes: 60, MaxDurationMinutes: 480,
			MinNoticeMinutes: 60, BookingHorizonDays: 180}
		var meadow, stage Area
		manager.Must(201, "POST", pre+"/areas", obj{"name": "Meadow", "capacity": 300, "opening_hours": hours, "rules": rules}).Decode(t, &meadow)
		manager.Must(201, "POST", pre+"/areas", obj{"name": "Stage", "parent_id": meadow.ID, "capacity": 100, "opening_hours": hours, "rules": rules}).Decode(t, &stage)

		// The representative finds a free slot three days ahead…
		loc, _ := time.LoadLocation("Europe/Helsinki")
		day := func(n int) time.Time {
			d := time.Now().In(loc).AddDate(0, 0, n)
			return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
		}
		var av Availability
		rep.Must(200, "GET", pre+"/areas/"+meadow.ID+"/availability?from="+day(3).Format(time.RFC3339)+"&to="+day(4).Format(time.RFC3339), nil).Decode(t, &av)
		if len(av.Free) != 1 || av.Free[0].Start.In(loc).Hour() != 8 || av.Free[0].End.In(loc).Hour() != 20 {
			t.Fatalf("availability %+v", av)
		}
		slot := av.Free[0].Start
		// …requests it…
		var b Booking
		stranger.Must(403, "POST", pre+"/bookings", obj{"area_id": meadow.ID, "organisation_id": org})
		rep.Must(201, "POST", pre+"/bookings", obj{"area_id": meadow.ID, "organisation_id": org,
			"start": slot.Format(time.RFC3339), "end": slot.Add(2 * time.Hour).Format(time.RFC3339),
			"title": "Painting, together; all welcome", "category": "art", "expected_attendance": 40, "public": true,
			"support_items": obj{"chairs": 20}, "contact": obj{"name": "Ayşe"}}).Decode(t, &b)
		// …a manager sees it in the queue and approves…
		rep.Must(403, "POST", pre+"/bookings/"+b.ID+"/approve", nil)
		var queue sdk.Page[Booking]
		manager.Must(200, "GET", pre+"/bookings?status=requested", nil).Decode(t, &queue)
		if len(queue.Items) != 1 || queue.Items[0].ID != b.ID {
			t.Fatalf("queue %+v", queue)
		}
		manager.Must(200, "POST", pre+"/bookings/"+b.ID+"/approve", nil).Decode(t, &b)
		if b.Status != StatusApproved {
			t.Fatalf("status %s", b.Status)
		}
		// …and the event is in the public feeds.
		var events sdk.Page[PublicEvent]
		anon.Must(200, "GET", "/api/v1/parks/events?neighbourhood_id="+nbh, nil).Decode(t, &events)
		if len(events.Items) != 1 || events.Items[0].ID != b.ID || events.Items[0].Status != StatusApproved || events.Items[0].JSONLD["@type"] != "Event" {
			t.Fatalf("events %+v", events)
		}
		feed := func(path string, parts ...string) {
			t.Helper()
			r := anon.Must(200, "GET", path, nil)
			if err := ical.Validate(r.Body); err != nil {
				t.Errorf("%s: %v\n%s", path, err, r.Body)
			}
			if !containsAll(string(r.Body), parts...) {
				t.Errorf("%s lacks %q:\n%s", path, parts, r.Body)
			}
		}
		for _, path := range []string{"/api/v1/parks/events.ics", pre + "/events.ics", "/api/v1/parks/events.ics?neighbourhood_id=" + nbh} {
			feed(path, "UID:"+b.ID+"@parks.kvarter", "STATUS:CONFIRMED", `SUMMARY:Painting\, together\; all welcome`)
		}
		// A cancellation shows as cancelled.
		rep.Must(422, "POST", pre+"/bookings/"+b.ID+"/cancel", obj{})
		rep.Must(200, "POST", pre+"/bookings/"+b.ID+"/cancel", obj{"reason": "storm warning"})
		for _, path := range []string{"/api/v1/parks/events.ics", pre + "/events.ics"} {
			feed(path, "UID:"+b.ID+"@parks.kvarter", "STATUS:CANCELLED", "SEQUENCE:2")
		}
		anon.Must(200, "GET", pre+"/events", nil).Decode(t, &events)
		if len(events.Items) != 1 || events.Items[0].Status != StatusCancelled {
			t.Errorf("events after cancel %+v", events)
		}

		// Open the store before the nodes' pools take PostgreSQL's
		// connections (two nodes hold up to 2 × (40 + 16) of them).
		db := openStoreReadOnly(t, core)
		// 100 overlapping requests on the meadow and its stage, approved
		// concurrently through the core: exactly one wins.
		approveRace(t, []*sdktest.Client{manager}, rep, pre, org, day(5), meadow.ID, stage.ID)
		if pg {
			n2 := core.StartNode()
			approveRace(t, []*sdktest.Client{manager, manager.On(n2)}, rep, pre, org, day(6), meadow.ID, stage.ID)
		}
		var approved int
		if err := db.Get(&approved, `SELECT COUNT(*) FROM bookings WHERE status = 'approved'`); err != nil {
			t.Fatal(err)
		}
		if n := overlappingApproved(t, db); n != 0 || approved != map[bool]int{false: 1, true: 2}[pg] {
			t.Fatalf("store: %d overlapping pairs among %d approved bookings", n, approved)
		}
	})
}

// approveRace requests 100 pairwise overlapping bookings on day (starting
// 10:00–11:30, two hours each, alternating between areas), approves all of
// them at once through the given nodes in turn, and checks that exactly one
// is approved and the rest were refused as conflicts.
func approveRace(t *testing.T, managers []*sdktest.Client, rep *sdktest.Client, pre, org string, day time.Time, areas ...string) {
	t.Helper()
	const n = 100
	ids := make([]string, n)
	for i := range n {
		start := day.Add(10*time.Hour + time.Duration(i%4)*30*time.Minute)
		var b Booking
		rep.Must(201, "POST", pre+"/bookings", obj{"area_id": areas[i%len(areas)], "organisation_id": org,
			"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339),
			"title": fmt.Sprintf("Contested %d", i), "category": "play", "expected_attendance": 10, "public": true,
			"support_items": obj{"chairs": 5}}).Decode(t, &b)
		ids[i] = b.ID
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	var winner string
	for i, id := range ids {
		wg.Go(func() {
			r := managers[i%len(managers)].Do("POST", pre+"/bookings/"+id+"/approve", nil)
			mu.Lock()
			defer mu.Unlock()
			got[r.Status]++
			if r.Status == 200 {
				winner = id
			}
		})
	}
	wg.Wait()
	if got[200] != 1 || got[409] != n-1 {
		// A 500 here has been PostgreSQL refusing connections: each node's
		// core pools up to 40 and the plugin 16, against max_connections 100.
		t.Fatalf("%d concurrent approvals over %d node(s): statuses %v, want one 200 and %d 409", n, len(managers), got, n-1)
	}
	// Through the API: the winner is the only approved booking that day.
	var approved sdk.Page[Booking]
	managers[0].Must(200, "GET", pre+"/bookings?status=approved&limit=100", nil).Decode(t, &approved)
	var that []string
	for _, b := range approved.Items {
		if b.Start.After(day) && b.Start.Before(day.Add(24*time.Hour)) {
			that = append(that, b.ID)
		}
	}
	if len(that) != 1 || that[0] != winner {
		t.Fatalf("approved that day %v, want only %s", that, winner)
	}
}

// openStoreReadOnly opens the plugin's store, as provisioned by the host,
// read-only with one connection, kept open.
func openStoreReadOnly(t *testing.T, core *sdktest.Core) *store.DB {
	t.Helper()
	dialect, dsn := core.PluginStore()
	cfg := sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + dsn + "?mode=ro"}
	if dialect == "postgres" {
		cfg = sdk.StoreConfig{Dialect: sdk.DialectPostgres, DSN: dsn + "&default_transaction_read_only=on"}
	}
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	t.Cleanup(func() { db.Close() })
	return db
}
