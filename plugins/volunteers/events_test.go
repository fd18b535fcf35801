package volunteers

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

func TestPlugin_HandleEvent(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		p := &Plugin{svc: f.svc, db: f.db, env: sdk.Env{Settings: map[string]string{"parks_shift_capacity": "4"}}}
		// booking is the approved-booking payload parks sent (testdata), for the
		// fixture's organisation, with fields changed.
		booking := func(id string, fields map[string]any) sdk.Event {
			body := parksPayload(t)
			body["organisation_id"], body["neighbourhood_id"] = "org-1", "nbh-1"
			body["start"], body["end"] = f.saturday(10, 14, 0).Start, f.saturday(10, 14, 0).End
			for k, v := range fields {
				body[k] = v
			}
			b, _ := json.Marshal(body)
			return sdk.Event{ID: id, Type: EventParksBookingApproved, Payload: b, Source: "parks"}
		}
		t.Run("ParkEventDraftsOnce", func(t *testing.T) {
			e := booking("ev-1", nil)
			for range 2 { // at-least-once delivery
				if err := p.HandleEvent(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			o, err := f.svc.OpportunityForEvent(ctx, "ev-1")
			if err != nil {
				t.Fatal(err)
			}
			if o.State != StateDraft || o.OrganisationID != "org-1" || len(o.Shifts) != 1 || o.Shifts[0].Capacity != 4 ||
				o.Title != "Volunteers for Painting, together; all welcome" || o.Place != "Living Park / Meadow" ||
				!strings.Contains(o.Description, "01a24c1e-e17e-76ff-842f-ebc24970b8e5") {
				t.Errorf("draft %+v", o)
			}
			if items, err := opportunitiesFor(f.svc, f.rep); err != nil || len(items) != 1 {
				t.Errorf("%d opportunities after redelivery (%v)", len(items), err)
			}
			var drafted []OpportunityDrafted
			for _, e := range f.events(t, EventOpportunityDrafted) {
				var d OpportunityDrafted
				if err := json.Unmarshal(e.Payload, &d); err != nil {
					t.Fatal(err)
				}
				drafted = append(drafted, d)
			}
			if want := (OpportunityDrafted{OpportunityID: o.ID, OrganisationID: "org-1",
				ParkBookingID: "01a24c1e-e17e-76ff-842f-ebc24970b8e5"}); len(drafted) != 1 || drafted[0] != want {
				t.Errorf("drafted events %+v, want one %+v", drafted, want)
			}
		})
		t.Run("PrivateOrNoVolunteersIgnored", func(t *testing.T) {
			for id, fields := range map[string]map[string]any{
				"ev-private": {"public": false}, "ev-none": {"volunteers_needed": false},
				// Not what parks sends: logged and dropped, never retried.
				"ev-unreadable": {"volunteers_needed": 4},
			} {
				if err := p.HandleEvent(ctx, booking(id, fields)); err != nil {
					t.Fatal(err)
				}
				if _, err := f.svc.OpportunityForEvent(ctx, id); errorCode(err) != sdk.CodeNotFound {
					t.Errorf("%s: %v", id, err)
				}
			}
		})
		t.Run("UserDeletedErases", func(t *testing.T) {
			o := f.published(t, func(in *OpportunityInput) { in.AutoAccept = true; in.Shifts = []ShiftInput{f.saturday(9, 12, 1)} })
			gone := f.volunteer(t, "gone", nil)
			waiting := f.volunteer(t, "waiting", nil)
			if _, err := f.svc.Apply(ctx, gone, o.ID, o.Shifts[0].ID); err != nil {
				t.Fatal(err)
			}
			w, err := f.svc.Apply(ctx, waiting, o.ID, o.Shifts[0].ID)
			if err != nil || w.Status != StatusWaitlisted {
				t.Fatalf("%+v %v", w, err)
			}
			if err := sdk.Deliver(ctx, p, sdk.Event{ID: "del-1", Type: sdk.EventUserDeleted, Payload: []byte(`{"user_id":"gone"}`)}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Profile(ctx, gone); errorCode(err) != sdk.CodeNotFound {
				t.Errorf("profile kept: %v", err)
			}
			views, _ := applicationsOf(f.svc, f.rep, o.ID)
			if len(views) != 1 || views[0].VolunteerID != "waiting" || views[0].Status != StatusConfirmed {
				t.Errorf("after erasure %+v", views)
			}
		})
	})
}

// parksPayload is a parks.booking.approved payload exactly as the parks plugin built it:
// testdata/parks_booking_approved.json was written by the parks plugin's own approval
// flow (see testdata/README.md).
func parksPayload(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "parks_booking_approved.json"))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestParkBookingApproved_SpelledAsParks: every field the plugin reads is one parks
// sends, under the same name and JSON type — a guessed name ("id" for "booking_id")
// would read as empty and silently stop every draft.
func TestParkBookingApproved_SpelledAsParks(t *testing.T) {
	sent := parksPayload(t)
	typ := reflect.TypeFor[ParkBookingApproved]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		v, ok := sent[name]
		if !ok {
			t.Errorf("field %s (%s) is not in the payload parks sends", f.Name, name)
			continue
		}
		want := map[reflect.Kind]string{reflect.String: "string", reflect.Bool: "bool", reflect.Struct: "string"}[f.Type.Kind()]
		if got := fmt.Sprintf("%T", v); got != want {
			t.Errorf("%s: parks sends a %s, the plugin reads a %s", name, got, want)
		}
	}
	b, _ := json.Marshal(sent)
	var got ParkBookingApproved
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.BookingID == "" || !got.VolunteersNeeded || !got.Public || !got.End.After(got.Start) {
		t.Errorf("read %+v", got)
	}
}

// TestEvents_Documented: README.md names every event type and documents every field of
// its payload, for the events published and those consumed.
func TestEvents_Documented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]any{EventParksBookingApproved: ParkBookingApproved{}, sdk.EventUserDeleted: sdk.UserDeleted{},
		EventParksBookingCancelled: ParkBookingEnded{}, EventParksBookingRejected: ParkBookingEnded{}}
	for typ, payload := range Payloads {
		docs[typ] = payload
	}
	for typ, payload := range docs {
		if !strings.Contains(string(readme), "`"+typ+"`") {
			t.Errorf("README.md does not name %s", typ)
		}
		rt := reflect.TypeOf(payload)
		name := strings.TrimPrefix(rt.String(), "volunteers.") // sdk's types keep "sdk."
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not name %s's payload %s", typ, name)
		}
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if !strings.Contains(string(readme), "| `"+name+"` |") {
				t.Errorf("README.md does not document %s.%s", rt.Name(), name)
			}
		}
	}
}

// TestService_EventsInTransaction: an event is written with the change that causes it,
// in the plugin's store. While the host is away the change still commits and its events
// wait; once the host is back they are delivered, with their payloads. A change that
// fails leaves no event behind.
func TestService_EventsInTransaction(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		vol := f.volunteer(t, "vol", nil)
		o := f.published(t, func(in *OpportunityInput) { in.AutoAccept = true; in.Shifts = []ShiftInput{f.saturday(9, 12, 1)} })
		f.eventTypes(t) // deliver what setting up emitted

		f.host.SetUnavailable(true)
		a, err := f.svc.Apply(ctx, vol, o.ID, o.Shifts[0].ID)
		if err != nil || a.Status != StatusConfirmed {
			t.Fatalf("apply while the host is away: %+v, %v", a, err)
		}
		if err := f.db.FlushOutbox(ctx, f.host); !sdk.IsUnavailable(err) {
			t.Fatalf("relay while the host is away: %v", err)
		}
		// confirmed and filled, and the notification of the place and the follow of the
		// opportunity, which travel through the same outbox.
		if n, err := f.db.PendingEvents(ctx); err != nil || n != 4 {
			t.Fatalf("%d events pending (%v), want confirmed, filled, the notification and the follow", n, err)
		}
		f.host.SetUnavailable(false)
		want := ApplicationChanged{ApplicationID: a.ID, OpportunityID: o.ID, ShiftID: o.Shifts[0].ID, VolunteerID: "vol"}
		if got := sdktest.Payloads[ApplicationChanged](t, f.host, EventAssignmentConfirmed); len(got) != 0 {
			t.Fatalf("delivered while the host was away: %+v", got)
		}
		f.events(t, EventAssignmentConfirmed)
		if got := sdktest.Payloads[ApplicationChanged](t, f.host, EventAssignmentConfirmed); len(got) != 1 || got[0] != want {
			t.Fatalf("confirmed events %+v, want %+v", got, want)
		}
		filled := sdktest.Payloads[ShiftFilled](t, f.host, EventShiftFilled)
		if len(filled) != 1 || filled[0] != (ShiftFilled{OpportunityID: o.ID, ShiftID: o.Shifts[0].ID, Capacity: 1}) {
			t.Fatalf("filled events %+v", filled)
		}

		_, err = f.svc.Apply(ctx, vol, o.ID, o.Shifts[0].ID) // twice: refused, rolled back
		wantCode(t, err, sdk.CodeConflict)
		if n, err := f.db.PendingEvents(ctx); err != nil || n != 0 {
			t.Fatalf("a refused sign-up left %d events (%v)", n, err)
		}
	})
}
