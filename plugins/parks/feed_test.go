package parks

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
)

// feedWorld is a world whose park has an address and coordinates, with an
// approved public event whose texts need escaping and a cancelled one.
func feedWorld(t *testing.T, variant string, cfg sdk.StoreConfig, settings map[string]string) (*world, *Booking, *Booking) {
	t.Helper()
	w := newWorld(t, variant, cfg, settings)
	ctx := context.Background()
	if _, err := w.svc.UpdatePark(ctx, w.manager, w.park.ID, ParkEdit{Name: "Kültürpark", ParkDetails: ParkDetails{
		Address: Address{StreetAddress: "Şair Eşref Blv. 50", PostalCode: "35220", Locality: "İzmir"},
		Geo:     &Geo{Latitude: 38.4299, Longitude: 27.1432}}}); err != nil {
		t.Fatal(err)
	}
	w.park, _ = w.svc.GetPark(ctx, w.park.ID)
	a := w.mustApprove(w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12, func(in *BookingInput) {
		in.Title = "Çocuklar için resim; boya, fırça"
		in.Description = "Herkes davetli.\nYağmurda: çadır"
		in.Category = "art"
	}).ID)
	b := w.mustApprove(w.mustRequest(w.rep2, org2ID, w.playground, 11, 14, 16).ID)
	if _, err := w.svc.Cancel(ctx, w.rep2, w.park.ID, b.ID, "storm warning"); err != nil {
		t.Fatal(err)
	}
	return w, a, b
}

// TestFeed_Fixes: the three faults of issue 20 in the parks feeds and the
// Schema.org data — an empty feed has a component, METHOD:PUBLISH comes with
// an ORGANIZER, the URL is percent-encoded — and Event.location has the
// address (and coordinates) and the event its url.
func TestFeed_Fixes(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w, a, _ := feedWorld(t, variant, cfg, map[string]string{
			SettingPublicURL: "https://parklar.izmir.example/şehir", SettingOrganizerEmail: "parklar@izmir.example"})
		ctx := context.Background()
		feed, err := w.svc.Feed(ctx, CalendarFilter{ParkID: w.park.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := ical.Validate(feed); err != nil {
			t.Fatalf("%v\n%s", err, feed)
		}
		wantURL := "URL:https://parklar.izmir.example/%C5%9Fehir/parks/" + w.park.ID + "/events/" + a.ID
		unfolded := strings.ReplaceAll(string(feed), "\r\n ", "")
		if !containsAll(unfolded, "METHOD:PUBLISH", `ORGANIZER;CN="Kültürpark":mailto:parklar@izmir.example`, wantURL,
			`LOCATION:Stage\, Kültürpark\, Şair Eşref Blv. 50\, 35220 İzmir`, "GEO:38.4299;27.1432") {
			t.Errorf("feed:\n%s", unfolded)
		}

		other, err := w.svc.CreatePark(ctx, w.admin, ParkInput{Name: "Empty park", NeighbourhoodID: nbhID})
		if err != nil {
			t.Fatal(err)
		}
		empty, err := w.svc.Feed(ctx, CalendarFilter{ParkID: other.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := ical.Validate(empty); err != nil || !bytes.Contains(empty, []byte("BEGIN:VTIMEZONE")) {
			t.Errorf("empty feed (%v):\n%s", err, empty)
		}

		e, err := w.svc.PublicEvent(ctx, w.park.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		ld, _ := json.Marshal(e.JSONLD)
		var got struct {
			URL      string `json:"url"`
			Location struct {
				Address struct {
					Type     string `json:"@type"`
					Street   string `json:"streetAddress"`
					Postal   string `json:"postalCode"`
					Locality string `json:"addressLocality"`
				} `json:"address"`
				Geo struct {
					Lat float64 `json:"latitude"`
				} `json:"geo"`
			} `json:"location"`
		}
		if err := json.Unmarshal(ld, &got); err != nil {
			t.Fatal(err)
		}
		if got.URL != "https://parklar.izmir.example/şehir/parks/"+w.park.ID+"/events/"+a.ID || got.Location.Address.Type != "PostalAddress" ||
			got.Location.Address.Street != "Şair Eşref Blv. 50" || got.Location.Address.Locality != "İzmir" ||
			got.Location.Address.Postal != "35220" || got.Location.Geo.Lat != 38.4299 {
			t.Errorf("JSON-LD %s", ld)
		}
	})
}

// TestFeed_Unconfigured: without the site's address or an organizer email the
// feed is still a valid published calendar (the ORGANIZER is the park's URN
// and no relative URL goes into it) and the JSON-LD still has an address and
// a (relative) url.
func TestFeed_Unconfigured(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		a := w.mustApprove(w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12).ID)
		feed, err := w.svc.Feed(ctx, CalendarFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if err := ical.Validate(feed); err != nil {
			t.Fatalf("%v\n%s", err, feed)
		}
		if !containsAll(string(feed), "METHOD:PUBLISH", "ORGANIZER;CN=\"Living Park\":urn:uuid:"+w.park.ID) || strings.Contains(string(feed), "URL:") {
			t.Errorf("feed:\n%s", feed)
		}
		e, err := w.svc.PublicEvent(ctx, w.park.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		addr := e.JSONLD["location"].(map[string]any)["address"].(map[string]any)
		if e.JSONLD["url"] != "/parks/"+w.park.ID+"/events/"+a.ID || addr["addressLocality"] != "Living Park" {
			t.Errorf("JSON-LD %v", e.JSONLD)
		}
	})
}

// TestFeed_ParsersAgree: the feeds read the same in python icalendar and in
// ical.js (testdata/ical), and what they read is the data: titles, times,
// statuses, the organizer and the URL. Outside CI a missing parser skips
// its half; under CI it fails.
func TestFeed_ParsersAgree(t *testing.T) {
	python := parserCommand(t, "python icalendar (apt-get install -y python3-icalendar)",
		[]string{"/usr/bin/python3", "python3"}, "-c", "import icalendar")
	node := parserCommand(t, "node 18 or later", []string{"node"}, "-e", "if (+process.versions.node.split('.')[0] < 18) process.exit(1)")
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		if variant != sdk.DialectSQLite {
			t.Skip("the parsers read the same bytes whichever store made them; TestFeed_Fixes runs on both")
		}
		w, a, b := feedWorld(t, variant, cfg, map[string]string{
			SettingPublicURL: "https://parklar.izmir.example/şehir", SettingOrganizerEmail: "parklar@izmir.example"})
		ctx := context.Background()
		full, err := w.svc.Feed(ctx, CalendarFilter{})
		if err != nil {
			t.Fatal(err)
		}
		other, err := w.svc.CreatePark(ctx, w.admin, ParkInput{Name: "Empty park", NeighbourhoodID: nbhID})
		if err != nil {
			t.Fatal(err)
		}
		empty, err := w.svc.Feed(ctx, CalendarFilter{ParkID: other.ID})
		if err != nil {
			t.Fatal(err)
		}
		for name, feed := range map[string][]byte{"full": full, "empty": empty} {
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), name+".ics")
				if err := os.WriteFile(path, feed, 0o600); err != nil {
					t.Fatal(err)
				}
				var dumps []feedDump
				if python != "" {
					dumps = append(dumps, runDump(t, python, "testdata/ical/dump.py", path))
				}
				if node != "" {
					dumps = append(dumps, runDump(t, node, "testdata/ical/dump.mjs", path))
				}
				if len(dumps) == 2 && !reflect.DeepEqual(dumps[0], dumps[1]) {
					t.Fatalf("python icalendar and ical.js differ:\n%+v\n%+v", dumps[0], dumps[1])
				}
				for _, d := range dumps {
					if d.Calendar.Method != "PUBLISH" || d.Calendar.Version != "2.0" {
						t.Errorf("calendar %+v", d.Calendar)
					}
					if name == "empty" {
						if len(d.Events) != 0 || !reflect.DeepEqual(d.Components, []string{"VTIMEZONE"}) {
							t.Errorf("empty feed read as %+v", d)
						}
						continue
					}
					if len(d.Events) != 2 {
						t.Fatalf("read %d events, want 2: %+v", len(d.Events), d)
					}
					first, second := d.Events[0], d.Events[1]
					wantURL := "https://parklar.izmir.example/%C5%9Fehir/parks/" + w.park.ID + "/events/" + a.ID
					if first.UID != a.ID+uidDomainSuffix || first.Summary != a.Title || first.Status != "CONFIRMED" ||
						first.Start != a.Start.UTC().Format("2006-01-02T15:04:05Z") || first.URL != wantURL ||
						first.Organizer != "mailto:parklar@izmir.example" || first.OrganizerCN != "Kültürpark" ||
						!strings.HasSuffix(first.Description, a.Description) || !reflect.DeepEqual(first.Categories, []string{"art"}) ||
						!reflect.DeepEqual(first.Geo, []float64{38.4299, 27.1432}) {
						t.Errorf("first event read as %+v", first)
					}
					if second.UID != b.ID+uidDomainSuffix || second.Status != "CANCELLED" || second.Sequence < 2 {
						t.Errorf("cancelled event read as %+v", second)
					}
				}
			})
		}
	})
}

// feedDump is what dump.py and dump.mjs print.
type feedDump struct {
	Calendar struct {
		Version string `json:"version"`
		ProdID  string `json:"prodid"`
		Method  string `json:"method"`
		Name    string `json:"name"`
	} `json:"calendar"`
	Components []string `json:"components"`
	Events     []struct {
		UID         string    `json:"uid"`
		Summary     string    `json:"summary"`
		Description string    `json:"description"`
		Location    string    `json:"location"`
		URL         string    `json:"url"`
		Status      string    `json:"status"`
		Sequence    int       `json:"sequence"`
		Start       string    `json:"start"`
		End         string    `json:"end"`
		Stamp       string    `json:"stamp"`
		Organizer   string    `json:"organizer"`
		OrganizerCN string    `json:"organizer_cn"`
		Categories  []string  `json:"categories"`
		Geo         []float64 `json:"geo"`
	} `json:"events"`
}

// parserCommand returns the first of names that runs check, "" when none
// does: a skip outside CI, a failure under it.
func parserCommand(t *testing.T, what string, names []string, check ...string) string {
	t.Helper()
	for _, n := range names {
		if path, err := exec.LookPath(n); err == nil && exec.Command(path, check...).Run() == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Errorf("%s is missing; CI must install it", what)
	} else {
		t.Logf("%s is missing: that parser is not compared", what)
	}
	return ""
}

func runDump(t *testing.T, cmd, script, feed string) feedDump {
	t.Helper()
	out, err := exec.Command(cmd, script, feed).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", cmd, script, err, stderr)
	}
	var d feedDump
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return d
}
