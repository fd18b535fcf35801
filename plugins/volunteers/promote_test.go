package volunteers

import (
	"context"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestPromotion_RechecksWeeklyHours: a volunteer who took other hours while on a wait
// list is not promoted past their weekly limit; they keep waiting and the next in line
// moves up instead.
func TestPromotion_RechecksWeeklyHours(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		holder := f.volunteer(t, "holder", nil)
		limited := f.volunteer(t, "limited", func(in *ProfileInput) { in.MaxHoursPerWeek = 4 })
		next := f.volunteer(t, "next", nil)
		full := f.published(t, func(in *OpportunityInput) { in.AutoAccept, in.Shifts = true, []ShiftInput{f.saturday(9, 12, 1)} })
		sh := full.Shifts[0]
		var holding Application
		for _, p := range []sdk.Principal{holder, limited, next} {
			a, err := f.svc.Apply(ctx, p, full.ID, sh.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID == "holder" {
				holding = a
			}
		}
		// While waiting, limited takes two hours on Friday of the same week: 2 + 3 > 4.
		friday := time.Date(2025, 6, 6, 10, 0, 0, 0, f.loc)
		other := f.published(t, func(in *OpportunityInput) {
			in.AutoAccept, in.Shifts = true, []ShiftInput{{Start: friday.Format(time.RFC3339), End: friday.Add(2 * time.Hour).Format(time.RFC3339), Capacity: 1}}
		})
		if a, err := f.svc.Apply(ctx, limited, other.ID, other.Shifts[0].ID); err != nil || a.Status != StatusConfirmed {
			t.Fatalf("%+v, %v", a, err)
		}
		if _, err := f.svc.Decide(ctx, holder, full.ID, sh.ID, holding.ID, ActionWithdraw); err != nil {
			t.Fatal(err)
		}
		status := map[string]string{}
		views, _ := applicationsOf(f.svc, f.rep, full.ID)
		for _, v := range views {
			status[v.VolunteerID] = v.Status
		}
		if status["limited"] != StatusWaitlisted || status["next"] != StatusConfirmed {
			t.Fatalf("after the place freed: %v", status)
		}
		f.wantNotified(t, NotifyPromoted, []string{"next"}, "limited")
		// With nobody else waiting, the place stays free rather than break the limit.
		nextApp := views[2]
		if _, err := f.svc.Decide(ctx, next, full.ID, sh.ID, nextApp.ID, ActionWithdraw); err != nil {
			t.Fatal(err)
		}
		o, _ := f.svc.PublicOpportunity(ctx, full.ID)
		if o.Shifts[0].Taken != 0 || o.Shifts[0].Waitlisted != 1 {
			t.Fatalf("shift after the second withdrawal: %+v", o.Shifts[0])
		}
	})
}
