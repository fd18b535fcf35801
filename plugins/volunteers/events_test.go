package volunteers

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

func TestPlugin_HandleEvent(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		p := &Plugin{svc: f.svc, db: f.db, env: sdk.Env{Settings: map[string]string{}}}
		booking := func(id string, fields map[string]any) sdk.Event {
			body := map[string]any{"booking_id": "b-" + id, "organisation_id": "org-1", "neighbourhood_id": "nbh-1",
				"title": "Play day", "start": f.saturday(10, 14, 0).Start, "end": f.saturday(10, 14, 0).End,
				"public": true, "volunteers_needed": 4}
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
			if o.State != StateDraft || o.OrganisationID != "org-1" || len(o.Shifts) != 1 || o.Shifts[0].Capacity != 4 {
				t.Errorf("draft %+v", o)
			}
			page, _ := f.svc.Opportunities(ctx, f.rep, "", 100)
			if len(page.Items) != 1 {
				t.Errorf("%d opportunities after redelivery", len(page.Items))
			}
		})
		t.Run("PrivateOrNoVolunteersIgnored", func(t *testing.T) {
			for id, fields := range map[string]map[string]any{
				"ev-private": {"public": false}, "ev-none": {"volunteers_needed": false},
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
			if err := p.HandleEvent(ctx, sdk.Event{ID: "del-1", Type: EventUserDeleted, Payload: []byte(`{"user_id":"gone"}`)}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Profile(ctx, gone); errorCode(err) != sdk.CodeNotFound {
				t.Errorf("profile kept: %v", err)
			}
			views, _ := f.svc.Applications(ctx, f.rep, o.ID)
			if len(views) != 1 || views[0].VolunteerID != "waiting" || views[0].Status != StatusConfirmed {
				t.Errorf("after erasure %+v", views)
			}
		})
	})
}
