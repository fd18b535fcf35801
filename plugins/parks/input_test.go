package parks

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_BadInput sends what PostgreSQL cannot store and SQLite stores — NUL in
// text, integers beyond 32 bits — and the other bad values of issue 12 (items 6 and
// 10): a park in time zone Local, a closure in the year 9999, NUL in a path and in a
// query. Through the real core and plugin process, each is a 422 naming the field,
// alike on both databases, and nothing is stored.
func TestHost_BadInput(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-parks", Name: "parks"}, func(t *testing.T, core *sdktest.Core, pg bool) {
		nbh := core.Neighbourhood("Karşıyaka")
		admin, anon := core.Admin(), core.Anonymous()

		admin.Do("POST", "/api/v1/parks", obj{"name": "Park\x00", "neighbourhood_id": nbh}).WantInvalid(t, "name", sdk.RuleNUL)
		admin.Do("POST", "/api/v1/parks", obj{"name": "Park", "neighbourhood_id": nbh + "\x00"}).WantInvalid(t, "neighbourhood_id", sdk.RuleNUL)
		admin.Do("POST", "/api/v1/parks", obj{"name": "Park", "neighbourhood_id": nbh, "time_zone": "Local"}).WantInvalid(t, "time_zone", RuleTimeZone)
		admin.Do("POST", "/api/v1/parks", obj{"name": "Park", "neighbourhood_id": nbh, "support_items": obj{"chairs\x00": 1}}).WantInvalid(t, "support_items.chairs\x00", sdk.RuleNUL)
		admin.Do("POST", "/api/v1/parks", obj{"name": "Park", "neighbourhood_id": nbh, "support_items": obj{"chairs": 1 << 40}}).WantInvalid(t, "support_items.chairs", sdk.RuleRange)
		anon.Do("GET", "/api/v1/parks?neighbourhood_id=%00", nil).WantInvalid(t, "neighbourhood_id", sdk.RuleNUL)
		anon.Do("GET", "/api/v1/parks/%00", nil).WantInvalid(t, "path", sdk.RuleNUL)
		var parks sdk.Page[Park]
		anon.Must(200, "GET", "/api/v1/parks", nil).Decode(t, &parks)
		if len(parks.Items) != 0 {
			t.Fatalf("refused parks were stored: %+v", parks.Items)
		}

		var park Park
		admin.Must(201, "POST", "/api/v1/parks", obj{"name": "Park", "neighbourhood_id": nbh, "time_zone": "Europe/Istanbul"}).Decode(t, &park)
		pre := "/api/v1/parks/" + park.ID
		area := obj{"name": "Meadow", "capacity": 3_000_000_000, "opening_hours": dailyHours("08:00", "20:00")}
		admin.Do("POST", pre+"/areas", area).WantInvalid(t, "capacity", sdk.RuleRange)
		area["capacity"], area["name"] = 100, "Meadow\x00"
		admin.Do("POST", pre+"/areas", area).WantInvalid(t, "name", sdk.RuleNUL)
		area["name"], area["rules"] = "Meadow", obj{"min_notice_minutes": 1 << 31}
		admin.Do("POST", pre+"/areas", area).WantInvalid(t, "rules.min_notice_minutes", sdk.RuleRange)
		var areas sdk.Page[Area]
		anon.Must(200, "GET", pre+"/areas", nil).Decode(t, &areas)
		if len(areas.Items) != 0 {
			t.Fatalf("refused areas were stored: %+v", areas.Items)
		}

		delete(area, "rules")
		var meadow Area
		admin.Must(201, "POST", pre+"/areas", area).Decode(t, &meadow)
		for _, year := range []string{"0000", "9999"} {
			admin.Do("POST", pre+"/closures", obj{"area_id": meadow.ID, "title": "Works",
				"start": year + "-06-01T10:00:00Z", "end": year + "-06-01T12:00:00Z"}).WantInvalid(t, "start", sdk.RuleTimeRange)
		}
		var bookings sdk.Page[Booking]
		admin.Must(200, "GET", pre+"/bookings", nil).Decode(t, &bookings)
		if len(bookings.Items) != 0 {
			t.Fatalf("refused closures were stored: %+v", bookings.Items)
		}
	})
}

// TestHost_RequestDuringApproval races booking requests against the approval of a
// request they collide with (issue 12 item 10). Whichever commits first, no colliding
// request may stay "requested" once the approval is done: it is refused when it comes
// after (409), or rejected as colliding when it came before — never left in the queue.
func TestHost_RequestDuringApproval(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-parks", Name: "parks"}, func(t *testing.T, core *sdktest.Core, pg bool) {
		nbh := core.Neighbourhood("Bornova")
		manager := core.NewUser("manager@example.org")
		core.Grant(manager, RoleParkManager, "nbh:"+nbh)
		rep := core.NewUser("rep@example.org")
		org := core.Organisation(rep, "Bornova Gardeners", nbh)
		var park Park
		core.Admin().Must(201, "POST", "/api/v1/parks", obj{"name": "Aşık Veysel", "neighbourhood_id": nbh}).Decode(t, &park)
		pre := "/api/v1/parks/" + park.ID
		var meadow Area
		manager.Must(201, "POST", pre+"/areas", obj{"name": "Meadow", "capacity": 300,
			"opening_hours": dailyHours("00:00", "24:00")}).Decode(t, &meadow)

		request := func(start time.Time, title string) *sdktest.Response {
			return rep.Do("POST", pre+"/bookings", obj{"area_id": meadow.ID, "organisation_id": org,
				"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339),
				"title": title, "category": "play", "expected_attendance": 10, "public": true})
		}
		const rounds, racers = 8, 12
		base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 3)
		for round := range rounds {
			start := base.AddDate(0, 0, round).Add(10 * time.Hour)
			var first Booking
			r := request(start, fmt.Sprintf("Round %d", round))
			if r.Status != 201 {
				t.Fatalf("first request: %d %s", r.Status, r.Body)
			}
			r.Decode(t, &first)
			var wg sync.WaitGroup
			statuses := make([]int, racers)
			for i := range racers {
				wg.Go(func() {
					statuses[i] = request(start.Add(time.Duration(i%4)*15*time.Minute), fmt.Sprintf("Racer %d.%d", round, i)).Status
				})
			}
			manager.Must(200, "POST", pre+"/bookings/"+first.ID+"/approve", nil)
			wg.Wait()
			for i, s := range statuses {
				if s != 201 && s != 409 {
					t.Fatalf("round %d racer %d: status %d, want 201 or 409", round, i, s)
				}
			}
		}
		var queue sdk.Page[Booking]
		manager.Must(200, "GET", pre+"/bookings?status=requested&limit=200", nil).Decode(t, &queue)
		if len(queue.Items) != 0 {
			ids := make([]string, len(queue.Items))
			for i, b := range queue.Items {
				ids[i] = b.Title
			}
			t.Fatalf("%d requests colliding with an approved booking are still requested: %v", len(queue.Items), ids)
		}
	})
}

// TestHost_DatabaseDown takes the database away from a running city (issue 12 item 6):
// on PostgreSQL the connections of the core and the plugin drop and new ones are
// refused; on SQLite another process holds the write lock past the busy timeout. Core
// routes — the unauthenticated login among them — and plugin routes answer 503 with
// Retry-After, not 500, and work again once the database is back.
func TestHost_DatabaseDown(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-parks", Name: "parks", DatabaseProxy: true}, func(t *testing.T, core *sdktest.Core, pg bool) {
		nbh := core.Neighbourhood("Buca")
		admin, anon := core.Admin(), core.Anonymous()
		admin.Must(201, "POST", "/api/v1/parks", obj{"name": "Buca Göleti", "neighbourhood_id": nbh})
		newPark := obj{"name": "Another", "neighbourhood_id": nbh}
		login := map[string]string{"email": "nobody@example.org", "password": "a long wrong passphrase"}

		want503 := func(r *sdktest.Response, what string) {
			t.Helper()
			if r.Status != 503 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s with the database down: %d (Retry-After %q), want 503 with Retry-After: %s",
					what, r.Status, r.Header.Get("Retry-After"), r.Body)
			}
		}
		if pg {
			core.DatabaseDown()
			want503(admin.Do("POST", "/api/v1/parks", newPark), "plugin write")
			want503(anon.Do("GET", "/api/v1/parks", nil), "plugin read")
			want503(anon.Do("POST", "/api/v1/auth/login", login), "core login")
			want503(admin.Do("POST", "/api/v1/me/tokens", obj{"name": "script"}), "core write")
			core.DatabaseUp()
		} else {
			// In WAL mode readers carry on; a writer waits for the lock, then gives up.
			release := holdWriteLock(t, core.DataDir+"/kvarter.db", core.DataDir+"/plugins/parks.db")
			want503(admin.Do("POST", "/api/v1/parks", newPark), "plugin write")
			want503(admin.Do("POST", "/api/v1/me/tokens", obj{"name": "script"}), "core write")
			release()
		}
		// Back up: the pools reconnect and the same requests succeed.
		var r *sdktest.Response
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if r = admin.Do("POST", "/api/v1/parks", newPark); r.Status == 201 {
				break
			}
		}
		if r.Status != 201 {
			t.Fatalf("after the database came back: %d %s", r.Status, r.Body)
		}
		admin.Must(201, "POST", "/api/v1/me/tokens", obj{"name": "script"})
	})
}

// holdWriteLock takes SQLite's write lock on each database file from this process, as
// a stuck backup or a second program would, until release is called.
func holdWriteLock(t *testing.T, paths ...string) (release func()) {
	t.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	for _, p := range paths {
		db, err := sql.Open("sqlite", "file:"+p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatalf("lock %s: %v", p, err)
		}
		conns = append(conns, conn)
	}
	return func() {
		for _, c := range conns {
			_, _ = c.ExecContext(ctx, "ROLLBACK")
			c.Close()
		}
	}
}
