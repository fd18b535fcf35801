package volunteers

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestParks_CancelledBookingCancelsOpportunity: the opportunity drafted from an
// approved park event goes when the booking is cancelled (published, with a volunteer
// signed up: they are told) or rejected (still a draft); a redelivery tells nobody
// twice; another booking's opportunity stays.
func TestParks_CancelledBookingCancelsOpportunity(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		p := &Plugin{svc: f.svc, db: f.db, env: sdk.Env{Settings: map[string]string{"parks_shift_capacity": "4"}}}
		// event is the payload parks sends for every booking transition (testdata), with
		// the booking, status and type given.
		event := func(id, typ, bookingID, status string) sdk.Event {
			body := parksPayload(t)
			body["organisation_id"], body["neighbourhood_id"] = "org-1", "nbh-1"
			body["start"], body["end"] = f.saturday(10, 14, 0).Start, f.saturday(10, 14, 0).End
			body["booking_id"], body["status"] = bookingID, status
			b, _ := json.Marshal(body)
			return sdk.Event{ID: id, Type: typ, Payload: b, Source: "parks"}
		}
		deliver := func(e sdk.Event) {
			t.Helper()
			if err := p.HandleEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		deliver(event("ap-1", EventParksBookingApproved, "bk-1", "approved"))
		deliver(event("ap-2", EventParksBookingApproved, "bk-2", "approved"))
		deliver(event("ap-3", EventParksBookingApproved, "bk-3", "approved"))
		one, _ := f.svc.OpportunityForEvent(ctx, "ap-1")
		two, _ := f.svc.OpportunityForEvent(ctx, "ap-2")
		three, _ := f.svc.OpportunityForEvent(ctx, "ap-3")
		if _, err := f.svc.PatchOpportunity(ctx, f.rep, one.ID, OpportunityPatch{AutoAccept: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetState(ctx, f.rep, one.ID, StatePublished); err != nil {
			t.Fatal(err)
		}
		vol := f.volunteer(t, "vol", nil)
		if _, err := f.svc.Apply(ctx, vol, one.ID, one.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		f.eventTypes(t)
		for range 2 { // at-least-once delivery
			deliver(event("cx-1", EventParksBookingCancelled, "bk-1", "cancelled"))
		}
		deliver(event("rj-2", EventParksBookingRejected, "bk-2", "rejected"))
		for _, c := range []struct {
			o    Opportunity
			want string
		}{{one, StateCancelled}, {two, StateCancelled}, {three, StateDraft}} {
			got, err := f.svc.Opportunity(ctx, f.rep, c.o.ID)
			if err != nil || got.State != c.want {
				t.Errorf("%s: %s, %v; want %s", c.o.ID, got.State, err, c.want)
			}
		}
		f.wantNotified(t, NotifyShiftCancelled, []string{"vol"})
		if got := f.events(t, EventOpportunityCancelled); len(got) != 2 {
			t.Errorf("%d cancelled events, want 2", len(got))
		}
		if _, err := f.svc.PublicOpportunity(ctx, one.ID); errorCode(err) != sdk.CodeNotFound {
			t.Errorf("the cancelled opportunity is still public: %v", err)
		}
		// An approval that reaches the plugin after its booking's cancellation drafts nothing.
		deliver(event("cx-4", EventParksBookingCancelled, "bk-4", "cancelled"))
		deliver(event("ap-4", EventParksBookingApproved, "bk-4", "approved"))
		if _, err := f.svc.OpportunityForEvent(ctx, "ap-4"); errorCode(err) != sdk.CodeNotFound {
			t.Errorf("a late approval drafted: %v", err)
		}
	})
}
