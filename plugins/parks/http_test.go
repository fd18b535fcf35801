package parks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// errorBody is the error format sdk.WriteError answers with, as the core does.
type errorBody struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields,omitempty"`
		RequestID string            `json:"request_id"`
	} `json:"error"`
}

// client sends requests to the plugin through the SDK's harness, which
// routes them and checks permissions as the host would and checks every
// answer against the plugin's OpenAPI document.
type client struct {
	t *testing.T
	h *sdktest.Harness
}

func newClient(t *testing.T, w *world) *client {
	t.Helper()
	return &client{t: t, h: sdktest.ServeRoutes(t, w.plugin.Routes(), w.host)}
}

func (c *client) do(pr sdk.Principal, method, path string, body any) (int, []byte) {
	c.t.Helper()
	r := c.h.Do(pr, method, path, body)
	return r.Status, r.Body
}

func (c *client) json(pr sdk.Principal, method, path string, body any, wantStatus int, into any) {
	c.t.Helper()
	r := c.h.Must(wantStatus, pr, method, path, body)
	if into != nil {
		r.Decode(c.t, into)
	}
}

func TestHandler_Story(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		c := newClient(t, w)
		pre := "/api/v1/parks/" + w.park.ID

		var parks sdk.Page[Park]
		c.json(sdk.Principal{}, "GET", "/api/v1/parks?neighbourhood_id="+nbhID, nil, 200, &parks)
		if len(parks.Items) != 1 {
			t.Fatalf("parks %+v", parks)
		}
		var areas sdk.Page[Area]
		c.json(sdk.Principal{}, "GET", pre+"/areas", nil, 200, &areas)
		if len(areas.Items) != 4 || areas.Items[0].Name != "Whole park" {
			t.Fatalf("areas %+v", areas.Items)
		}
		// The representative finds a free slot…
		var av Availability
		c.json(w.rep, "GET", pre+"/areas/"+w.meadow.ID+"/availability?from="+at(10, 0, 0)+"&to="+at(11, 0, 0), nil, 200, &av)
		if len(av.Free) != 1 || av.Free[0].Start.Hour() != 8 {
			t.Fatalf("availability %+v", av)
		}
		slot := av.Free[0].Start
		// …requests it…
		var b Booking
		c.json(w.rep, "POST", pre+"/bookings", obj{"area_id": w.meadow.ID, "organisation_id": orgID,
			"start": slot.Format("2006-01-02T15:04:05Z07:00"), "end": slot.Add(2 * 3600e9).Format("2006-01-02T15:04:05Z07:00"),
			"title": "Painting, together; all welcome", "category": "art", "expected_attendance": 40, "public": true,
			"support_items": obj{"chairs": 20}, "volunteers_needed": true, "contact": obj{"name": "Ayşe"}}, 201, &b)
		// …the manager sees it in the queue and approves…
		var queue sdk.Page[Booking]
		c.json(w.manager, "GET", pre+"/bookings?status=requested", nil, 200, &queue)
		if len(queue.Items) != 1 || queue.Items[0].ID != b.ID {
			t.Fatalf("queue %+v", queue)
		}
		c.json(w.manager, "POST", pre+"/bookings/"+b.ID+"/approve", nil, 200, &b)
		if b.Status != StatusApproved {
			t.Fatalf("status %s", b.Status)
		}
		ev := w.published(EventApproved)
		if len(ev) != 1 || !ev[0].VolunteersNeeded || ev[0].OrganisationID != orgID {
			t.Errorf("approved event %+v", ev)
		}
		// …and the event is in the public feeds.
		var events sdk.Page[PublicEvent]
		c.json(sdk.Principal{}, "GET", "/api/v1/parks/events?neighbourhood_id="+nbhID, nil, 200, &events)
		if len(events.Items) != 1 || events.Items[0].Status != StatusApproved || events.Items[0].JSONLD["@type"] != "Event" {
			t.Fatalf("events %+v", events)
		}
		feed := c.feed("/api/v1/parks/events.ics")
		if !containsAll(feed, "UID:"+b.ID+"@parks.kvarter", "STATUS:CONFIRMED", `SUMMARY:Painting\, together\; all welcome`, "SEQUENCE:1") {
			t.Errorf("feed:\n%s", feed)
		}
		for _, path := range []string{pre + "/events.ics", "/api/v1/parks/events.ics?neighbourhood_id=" + nbhID} {
			if f := c.feed(path); !strings.Contains(f, b.ID) {
				t.Errorf("%s lacks the event", path)
			}
		}
		if f := c.feed("/api/v1/parks/events.ics?neighbourhood_id=elsewhere"); strings.Contains(f, "BEGIN:VEVENT") {
			t.Errorf("other neighbourhood's feed has events")
		}
		status, ld := c.do(sdk.Principal{}, "GET", pre+"/events/"+b.ID, nil)
		if status != 200 || !strings.Contains(string(ld), `"https://schema.org/EventScheduled"`) {
			t.Errorf("json-ld %d %s", status, ld)
		}
		// A cancellation shows as cancelled, with a higher SEQUENCE.
		c.json(w.rep, "POST", pre+"/bookings/"+b.ID+"/cancel", obj{"reason": "storm warning"}, 200, &b)
		feed = c.feed("/api/v1/parks/events.ics")
		if !containsAll(feed, "STATUS:CANCELLED", "SEQUENCE:2") {
			t.Errorf("feed after cancel:\n%s", feed)
		}
		c.json(sdk.Principal{}, "GET", pre+"/events", nil, 200, &events)
		if len(events.Items) != 1 || events.Items[0].Status != StatusCancelled {
			t.Errorf("events after cancel %+v", events)
		}
	})
}

// feed fetches an iCalendar feed and checks it strictly.
func (c *client) feed(path string) string {
	c.t.Helper()
	status, body := c.do(sdk.Principal{}, "GET", path, nil)
	if status != 200 {
		c.t.Fatalf("GET %s = %d %s", path, status, body)
	}
	if err := ical.Validate(body); err != nil {
		c.t.Fatalf("GET %s: invalid iCalendar: %v\n%s", path, err, body)
	}
	return string(body)
}

func TestHandler_Errors(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		c := newClient(t, w)
		pre := "/api/v1/parks/" + w.park.ID
		good := func() obj {
			return obj{"area_id": w.meadow.ID, "organisation_id": orgID, "start": at(10, 10, 0), "end": at(10, 12, 0),
				"title": "Play day", "category": "play", "expected_attendance": 10}
		}
		with := func(k string, v any) obj { m := good(); m[k] = v; return m }
		for _, tc := range []struct {
			name   string
			pr     sdk.Principal
			method string
			path   string
			body   any
			status int
			rule   string
		}{
			{"MalformedJSON", w.rep, "POST", pre + "/bookings", "not an object", 400, ""},
			{"UnknownField", w.rep, "POST", pre + "/bookings", with("colour", "red"), 400, ""},
			{"BadTime", w.rep, "POST", pre + "/bookings", with("start", "tomorrow"), 422, ""},
			{"EndBeforeStart", w.rep, "POST", pre + "/bookings", with("end", at(10, 9, 0)), 422, "end_before_start"},
			{"OffGrid", w.rep, "POST", pre + "/bookings", with("start", at(10, 10, 10)), 422, "slot_granularity"},
			{"Closed", w.rep, "POST", pre + "/bookings", func() obj { m := with("end", at(10, 21, 0)); m["start"] = at(10, 19, 0); return m }(), 422, "opening_hours"},
			{"Unauthenticated", sdk.Principal{}, "POST", pre + "/bookings", good(), 401, ""},
			{"UnknownPark", w.rep, "GET", "/api/v1/parks/nope", nil, 404, ""},
			{"UnknownBooking", w.manager, "GET", pre + "/bookings/nope", nil, 404, ""},
			{"ApproveUnknown", w.manager, "POST", pre + "/bookings/nope/approve", nil, 404, ""},
			{"AvailabilityNoFrom", w.rep, "GET", pre + "/areas/" + w.meadow.ID + "/availability", nil, 422, RuleQueryTime},
			{"AvailabilityBadTo", w.rep, "GET", pre + "/areas/" + w.meadow.ID + "/availability?from=" + at(10, 0, 0) + "&to=soon", nil, 422, RuleQueryTime},
			{"BadLimit", w.manager, "GET", pre + "/bookings?limit=1000", nil, 422, ""},
			{"CursorOfAnotherList", w.manager, "GET", pre + "/bookings?cursor=" + sdk.EncodeCursor([]any{"Living Park", "x"}), nil, 400, ""},
			{"BadCursor", w.manager, "GET", pre + "/bookings?cursor=zzz", nil, 400, ""},
			{"CreateParkForbidden", w.rep, "POST", "/api/v1/parks", obj{"name": "Mine", "neighbourhood_id": nbhID}, 403, ""}, // the host's answer
			{"AreaBadHours", w.admin, "POST", pre + "/areas", obj{"name": "X", "capacity": 5, "opening_hours": obj{"periods": []obj{{"name": "p", "from": "01-01", "to": "12-31", "week": obj{"monday": []obj{{"start": "10:00", "end": "09:00"}}}}}}}, 422, RuleAreaConfig},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := c.do(tc.pr, tc.method, tc.path, tc.body)
				if status != tc.status {
					t.Fatalf("status %d %s, want %d", status, body, tc.status)
				}
				var e errorBody
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" || e.Error.RequestID == "" {
					t.Fatalf("error body %s", body)
				}
				if tc.rule != "" && e.Error.Fields["rule"] != tc.rule {
					t.Errorf("rule %q, want %q", e.Error.Fields["rule"], tc.rule)
				}
			})
		}
		t.Run("ApproveTwice", func(t *testing.T) {
			var b Booking
			c.json(w.rep, "POST", pre+"/bookings", good(), 201, &b)
			c.json(w.manager, "POST", pre+"/bookings/"+b.ID+"/approve", nil, 200, nil)
			status, body := c.do(w.manager, "POST", pre+"/bookings/"+b.ID+"/approve", nil)
			if status != 409 || !strings.Contains(string(body), `"rule":"status"`) {
				t.Errorf("%d %s", status, body)
			}
		})
		t.Run("Pagination", func(t *testing.T) {
			for d := 11; d < 14; d++ {
				c.json(w.rep, "POST", pre+"/bookings", with("start", at(d, 10, 0)), 422, nil) // end before start
				m := good()
				m["start"], m["end"] = at(d, 10, 0), at(d, 12, 0)
				c.json(w.rep, "POST", pre+"/bookings", m, 201, nil)
			}
			var seen []string
			path := pre + "/bookings?limit=2"
			for range 5 {
				var page sdk.Page[Booking]
				c.json(w.manager, "GET", path, nil, 200, &page)
				for _, b := range page.Items {
					seen = append(seen, b.ID)
				}
				if page.NextCursor == "" {
					break
				}
				path = pre + "/bookings?limit=2&cursor=" + page.NextCursor
			}
			if len(seen) != 4 {
				t.Errorf("paged through %d bookings, want 4", len(seen))
			}
		})
	})
}

// TestPlugin_Manifest: every route of the table (which sdk.Mux serves) is
// documented, with security where it needs sign-in.
func TestPlugin_Manifest(t *testing.T) {
	m := New().Manifest()
	var paths map[string]map[string]map[string]any
	if err := json.Unmarshal(m.OpenAPIDoc(), &paths); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ops := range paths {
		n += len(ops)
	}
	// Pages answer HTML and stay out of the document (sdk.GetPage).
	var api []sdk.Route
	for _, r := range m.Routes {
		if r.Kind == sdk.RouteAPI {
			api = append(api, r)
		}
	}
	if n != len(api) {
		t.Errorf("OpenAPI documents %d operations for %d routes", n, len(api))
	}
	for _, r := range api {
		op, ok := paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s not in OpenAPI", r.Method, r.Path)
			continue
		}
		if _, secured := op["security"]; secured != (r.Permission != sdk.PermPublic) {
			t.Errorf("%s %s (%s): security declared %v", r.Method, r.Path, r.Permission, secured)
		}
		if op["summary"] == "" || op["operationId"] == "" {
			t.Errorf("%s %s: no summary or operationId", r.Method, r.Path)
		}
	}
}
