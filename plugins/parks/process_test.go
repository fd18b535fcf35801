package parks

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestPlugin_Process runs cmd/kvarter-parks as a real child process over
// the plugin protocol (gRPC, go-plugin, host callbacks through the broker),
// with this test standing in for the core. It is not the issue's
// through-host story — that needs sdk/sdktest and a real `kvarter serve` —
// but it proves the executable, its migrations and its host calls work
// outside this process.
func TestPlugin_Process(t *testing.T) {
	// Reuse the in-process fixtures for people and organisations.
	w := newWorld(t, variantSQLite, sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + filepath.Join(t.TempDir(), "w.db")}, nil)
	p := sdktest.LaunchProcess(t, sdktest.ProcessOptions{Pkg: "./cmd/kvarter-parks", Name: "parks", Host: w.host,
		CityTimeZone: "Europe/Istanbul", Settings: map[string]string{SettingDefaultSupport: "chairs=10"}})
	ctx := context.Background()
	m, err := p.Describe(ctx)
	if err != nil || m.Name != "parks" || len(m.Routes) != len(New().Manifest().Routes) {
		t.Fatalf("describe: %v %+v", err, m.Name)
	}
	call := func(pr sdk.Principal, method, path, query string, body any, want int) []byte {
		t.Helper()
		res := p.Do(pr, method, path, query, body)
		if res.Status != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, res.Status, res.Body, want)
		}
		return res.Body
	}
	var park Park
	json.Unmarshal(call(w.admin, "POST", "/api/v1/parks", "", obj{"name": "Kültürpark", "neighbourhood_id": nbhID}, 201), &park)
	if park.TimeZone != "Europe/Istanbul" || park.SupportItems["chairs"] != 10 {
		t.Errorf("park %+v", park)
	}
	pre := "/api/v1/parks/" + park.ID
	var area Area
	json.Unmarshal(call(w.admin, "POST", pre+"/areas", "", obj{"name": "Lawn", "capacity": 100}, 201), &area)
	// The process uses the real clock: book a week ahead, on the hour.
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	var b Booking
	json.Unmarshal(call(w.rep, "POST", pre+"/bookings", "", obj{"area_id": area.ID, "organisation_id": orgID,
		"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339),
		"title": "Çocuk şenliği", "category": "play", "expected_attendance": 30, "public": true}, 201), &b)
	call(w.manager, "POST", pre+"/bookings/"+b.ID+"/approve", "", nil, 200)
	feed := call(sdk.Principal{}, "GET", pre+"/events.ics", "", nil, 200)
	if err := ical.Validate(feed); err != nil || !strings.Contains(string(feed), b.ID) {
		t.Errorf("feed %v\n%s", err, feed)
	}
	// The SDK relays the plugin's outbox after commit, in the background.
	got := sdktest.Payloads[BookingEvent](t, w.host, EventApproved)
	for deadline := time.Now().Add(10 * time.Second); len(got) == 0 && time.Now().Before(deadline); got = sdktest.Payloads[BookingEvent](t, w.host, EventApproved) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != 1 || got[0].BookingID != b.ID {
		t.Errorf("events through the broker: %+v", got)
	}
	if err := p.Deactivate(ctx); err != nil {
		t.Error(err)
	}
}
