package parks

import (
	"net/url"
	"testing"

	"github.com/kvarter/kvarter/sdk"
)

// TestHandler_Edits: the routes of issue 20 through the harness (permissions
// as the host checks them, every answer against the OpenAPI document): edit
// a park and an area, preview an edit and a closure, free slots by day, the
// collisions of a request; and the host refuses the manager routes to a group.
func TestHandler_Edits(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		c := newClient(t, w)
		pre := "/api/v1/parks/" + w.park.ID
		var park Park
		c.json(w.manager, "PUT", pre, obj{"name": "Kültürpark", "address": obj{"street_address": "Şair Eşref Blv.", "postal_code": "35220", "locality": "İzmir"},
			"geo": obj{"latitude": 38.43, "longitude": 27.14}, "description": "Lawns", "accessibility": "Step-free", "rules": "No fires"}, 200, &park)
		c.json(sdk.Principal{}, "GET", pre, nil, 200, &park)
		if park.Name != "Kültürpark" || park.Address.Locality != "İzmir" || park.Geo == nil || park.Rules != "No fires" {
			t.Errorf("park %+v", park)
		}
		booked := w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12)
		rival := w.mustRequest(w.rep2, org2ID, w.meadow, 10, 11, 13)
		area := obj{"name": "Meadow", "capacity": 300, "opening_hours": dailyHours("12:00", "20:00"), "rules": w.meadow.Rules}
		var ch AreaChange
		c.json(w.manager, "POST", pre+"/areas/"+w.meadow.ID+"/preview", area, 200, &ch)
		if ch.Saved || len(ch.Conflicts) != 2 {
			t.Errorf("preview %+v", ch)
		}
		c.json(w.manager, "PUT", pre+"/areas/"+w.meadow.ID, area, 200, &ch)
		if !ch.Saved || len(ch.Conflicts) != 2 || ch.Area.OpeningHours.Periods[0].Week["monday"][0].Start != "12:00" {
			t.Errorf("edit %+v", ch)
		}
		var a Area
		c.json(sdk.Principal{}, "GET", pre+"/areas/"+w.stage.ID, nil, 200, &a)
		if a.EffectiveRules.SlotGranularityMinutes != 30 {
			t.Errorf("stage %+v", a)
		}
		var fs FreeSlots
		q := url.Values{"from": {at(10, 0, 0)}, "to": {at(12, 0, 0)}}
		c.json(sdk.Principal{}, "GET", pre+"/areas/"+w.stage.ID+"/free-slots?"+q.Encode(), nil, 200, &fs)
		if len(fs.Days) != 2 || len(fs.Days[0].Free) != 1 || fs.Days[0].Free[0].Start.Format("15:04") != "12:00" {
			t.Errorf("free slots %+v", fs)
		}
		var coll []*Booking
		c.json(w.manager, "GET", pre+"/bookings/"+booked.ID+"/collisions", nil, 200, &coll)
		if len(coll) != 1 || coll[0].ID != rival.ID {
			t.Errorf("collisions %+v", coll)
		}
		var imp ClosureImpact
		c.json(w.manager, "POST", pre+"/closures/preview", obj{"area_id": w.whole.ID, "start": at(10, 8, 0), "end": at(10, 20, 0), "title": "Mowing"}, 200, &imp)
		if len(imp.Requested) != 2 || len(imp.Approved) != 0 {
			t.Errorf("closure impact %+v", imp)
		}
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
		}{
			{"GroupEditsPark", "PUT", pre, obj{"name": "Mine"}, 403},
			{"GroupEditsArea", "PUT", pre + "/areas/" + w.meadow.ID, area, 403},
			{"GroupReadsCollisions", "GET", pre + "/bookings/" + booked.ID + "/collisions", nil, 403},
			{"GroupPreviewsClosure", "POST", pre + "/closures/preview", obj{"area_id": w.whole.ID, "start": at(10, 8, 0), "end": at(10, 20, 0), "title": "x"}, 403},
			{"NULInName", "PUT", pre, obj{"name": "a\u0000b"}, 422},
			{"LatitudeOutOfRange", "PUT", pre, obj{"name": "x", "geo": obj{"latitude": 1e9, "longitude": 0}}, 422},
			{"CapacityOverflow", "PUT", pre + "/areas/" + w.meadow.ID, obj{"name": "x", "capacity": 1 << 40}, 422},
			{"UnknownArea", "GET", pre + "/areas/nope", nil, 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pr := w.rep
				if tc.status != 403 {
					pr = w.manager
				}
				if status, body := c.do(pr, tc.method, tc.path, tc.body); status != tc.status {
					t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, status, body, tc.status)
				}
			})
		}
		c.json(sdk.Principal{}, "GET", pre, nil, 200, &park)
		if park.Name != "Kültürpark" {
			t.Errorf("a refused edit changed the park: %+v", park)
		}
	})
}

// TestHandler_CalendarCategory: the public calendar filters by category (the
// calendar page's filter), in the JSON route and the feed; an unknown one is 422.
func TestHandler_CalendarCategory(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		c := newClient(t, w)
		art := w.mustApprove(w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12, func(in *BookingInput) { in.Category = "art" }).ID)
		play := w.mustApprove(w.mustRequest(w.rep2, org2ID, w.playground, 10, 10, 12, func(in *BookingInput) { in.Category = "play" }).ID)
		var events struct{ Items []PublicEvent }
		c.json(sdk.Principal{}, "GET", "/api/v1/parks/events?category=art", nil, 200, &events)
		if len(events.Items) != 1 || events.Items[0].ID != art.ID {
			t.Errorf("art events %+v", events.Items)
		}
		c.json(sdk.Principal{}, "GET", "/api/v1/parks/"+w.park.ID+"/events?category=play", nil, 200, &events)
		if len(events.Items) != 1 || events.Items[0].ID != play.ID {
			t.Errorf("play events %+v", events.Items)
		}
		if feed := c.feed("/api/v1/parks/events.ics?category=play"); !containsAll(feed, play.ID) || containsAll(feed, art.ID) {
			t.Errorf("play feed:\n%s", feed)
		}
		if status, body := c.do(sdk.Principal{}, "GET", "/api/v1/parks/events?category=parade", nil); status != 422 && status != 400 {
			t.Errorf("unknown category = %d %s", status, body)
		}
	})
}

// TestHandler_SupportAvailable: what the request form shows of the support
// items: the catalogue less what approved bookings hold then, not requests.
func TestHandler_SupportAvailable(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil) // chairs=50, tables=10, sound_system=1
		c := newClient(t, w)
		items := func(in *BookingInput) { in.SupportItems = map[string]int{"chairs": 30, "sound_system": 1} }
		w.mustApprove(w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12, items).ID)
		w.mustRequest(w.rep2, org2ID, w.playground, 10, 10, 12, func(in *BookingInput) { in.SupportItems = map[string]int{"tables": 10} })
		var av SupportAvailability
		q := url.Values{"from": {at(10, 11, 0)}, "to": {at(10, 14, 0)}}
		c.json(sdk.Principal{}, "GET", "/api/v1/parks/"+w.park.ID+"/support-items/available?"+q.Encode(), nil, 200, &av)
		if av.Free["chairs"] != 20 || av.Free["sound_system"] != 0 || av.Free["tables"] != 10 || av.Owned["chairs"] != 50 {
			t.Errorf("available %+v", av)
		}
		q = url.Values{"from": {at(10, 12, 0)}, "to": {at(10, 14, 0)}}
		c.json(sdk.Principal{}, "GET", "/api/v1/parks/"+w.park.ID+"/support-items/available?"+q.Encode(), nil, 200, &av)
		if av.Free["chairs"] != 50 || av.Free["sound_system"] != 1 {
			t.Errorf("available after the booking %+v", av)
		}
		if status, _ := c.do(sdk.Principal{}, "GET", "/api/v1/parks/"+w.park.ID+"/support-items/available?from="+url.QueryEscape(at(10, 14, 0))+"&to="+url.QueryEscape(at(10, 11, 0)), nil); status != 422 {
			t.Errorf("reversed interval = %d, want 422", status)
		}
	})
}
