package parks

import (
	"context"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// TestService_Transition walks the table of allowed moves through the four
// decisions that share one transition: each allowed move changes the status,
// publishes its event (closures none) and is audited; each refused one
// answers 409 naming the rule and changes nothing.
func TestService_Transition(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		day := 9 // each case books its own day, so cases never collide
		// booking returns a booking of the playground in status from.
		booking := func(t *testing.T, from string) *Booking {
			t.Helper()
			day++
			b := w.mustRequest(w.rep, orgID, w.playground, day, 10, 12)
			switch from {
			case StatusApproved:
				w.mustApprove(b.ID)
			case StatusRejected:
				if _, err := w.svc.Reject(ctx, w.manager, w.park.ID, b.ID, "no"); err != nil {
					t.Fatal(err)
				}
			case StatusCancelled:
				if _, err := w.svc.Cancel(ctx, w.rep, w.park.ID, b.ID, "no"); err != nil {
					t.Fatal(err)
				}
			case StatusCompleted:
				w.mustApprove(b.ID)
				w.clock.Set(monday0900.Add(60 * 24 * time.Hour))
				t.Cleanup(func() { w.clock.Set(monday0900) })
			}
			return b
		}
		decide := map[string]func(id string) (*Booking, error){
			"approve": func(id string) (*Booking, error) { return w.svc.Approve(ctx, w.manager, w.park.ID, id) },
			"reject":  func(id string) (*Booking, error) { return w.svc.Reject(ctx, w.manager, w.park.ID, id, "full") },
			"cancel":  func(id string) (*Booking, error) { return w.svc.Cancel(ctx, w.manager, w.park.ID, id, "rain") },
		}
		for _, tc := range []struct {
			decision, from string
			to, event      string // when allowed
			rule           string // when refused
		}{
			{"approve", StatusRequested, StatusApproved, EventApproved, ""},
			{"approve", StatusApproved, "", "", RuleStatus},
			{"approve", StatusRejected, "", "", RuleStatus},
			{"approve", StatusCancelled, "", "", RuleStatus},
			{"reject", StatusRequested, StatusRejected, EventRejected, ""},
			{"reject", StatusApproved, "", "", RuleStatus},
			{"reject", StatusCancelled, "", "", RuleStatus},
			{"cancel", StatusRequested, StatusCancelled, EventCancelled, ""},
			{"cancel", StatusApproved, StatusCancelled, EventCancelled, ""},
			{"cancel", StatusRejected, "", "", RuleStatus},
			{"cancel", StatusCancelled, "", "", RuleStatus},
			{"cancel", StatusCompleted, "", "", RuleEnded},
		} {
			t.Run(tc.decision+"_"+tc.from, func(t *testing.T) {
				b := booking(t, tc.from)
				before := w.booking(b.ID)
				events, audits := len(w.published(tc.event)), len(w.host.Audits())
				got, err := decide[tc.decision](b.ID)
				if tc.rule != "" {
					wantErr(t, err, sdk.CodeConflict, tc.rule)
					if after := w.booking(b.ID); after.Status != before.Status || after.Sequence != before.Sequence {
						t.Errorf("refused move changed the booking: %s/%d, was %s/%d", after.Status, after.Sequence, before.Status, before.Sequence)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != tc.to || got.Sequence != before.Sequence+1 {
					t.Errorf("status %s sequence %d, want %s %d", got.Status, got.Sequence, tc.to, before.Sequence+1)
				}
				if ev := w.published(tc.event); len(ev) != events+1 || ev[len(ev)-1].BookingID != b.ID || ev[len(ev)-1].Status != tc.to {
					t.Errorf("%s events %+v", tc.event, ev[events:])
				}
				if n := len(w.host.Audits()); n != audits+1 || w.host.Audits()[n-1].Target != b.ID {
					t.Errorf("audit %+v", w.host.Audits()[audits:])
				}
			})
		}
		t.Run("closure", func(t *testing.T) {
			events := len(w.published(EventApproved)) + len(w.published(EventRejected))
			c, err := w.svc.CreateClosure(ctx, w.manager, w.park.ID, ClosureInput{AreaID: w.playground.ID,
				Start: at(30, 8, 0), End: at(30, 20, 0), Title: "Repairs"})
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != StatusApproved || c.Kind != KindClosure || c.Sequence != 0 {
				t.Errorf("closure %+v", c)
			}
			if n := len(w.published(EventApproved)) + len(w.published(EventRejected)); n != events {
				t.Errorf("a closure with nothing to push aside published %d events", n-events)
			}
			_, err = w.svc.CreateClosure(ctx, w.manager, w.park.ID, ClosureInput{AreaID: w.whole.ID,
				Start: at(30, 12, 0), End: at(30, 13, 0), Title: "Concert"})
			wantErr(t, err, sdk.CodeConflict, RuleClosureOverlap)
			if _, err := w.svc.Cancel(ctx, w.manager, w.park.ID, c.ID, "repaired early"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.CreateClosure(ctx, w.manager, w.park.ID, ClosureInput{AreaID: w.whole.ID,
				Start: at(30, 12, 0), End: at(30, 13, 0), Title: "Concert"}); err != nil {
				t.Errorf("the cancelled closure still blocks: %v", err)
			}
		})
	})
}
