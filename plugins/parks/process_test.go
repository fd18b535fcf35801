package parks

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
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
	if testing.Short() {
		t.Skip("builds the plugin executable")
	}
	bin := filepath.Join(t.TempDir(), "kvarter-parks")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kvarter-parks")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := hostside.Launch(ctx, hostside.LaunchOptions{Name: "parks", Cmd: exec.Command(bin),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()

	m, err := p.Describe(ctx)
	if err != nil || m.Name != "parks" || len(m.Routes) != len(New().Manifest().Routes) {
		t.Fatalf("describe: %v %+v", err, m.Name)
	}
	// Reuse the in-process fixtures for people and organisations.
	w := newWorld(t, variantSQLite, sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + filepath.Join(t.TempDir(), "w.db")}, nil)
	store := sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + filepath.Join(t.TempDir(), "parks.db")}
	if err := p.Configure(ctx, hostside.ConfigureRequest{Store: store, CityTimeZone: "Europe/Istanbul",
		Settings: map[string]string{SettingDefaultSupport: "chairs=10"}}, w.host); err != nil {
		t.Fatal(err)
	}
	if err := p.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	call := func(pr sdk.Principal, method, path, query string, body any, want int) []byte {
		t.Helper()
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		res, err := p.Handle(ctx, &hostside.HTTPRequest{Method: method, Path: path, RawQuery: query, Body: b,
			Principal: pr, RequestID: "r1"})
		if err != nil {
			t.Fatal(err)
		}
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
