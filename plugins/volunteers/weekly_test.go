package volunteers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestService_WeeklyHours: a volunteer with a 4-hour weekly limit cannot book past it
// (week 23 of 2025 is Monday 2 to Sunday 8 June in Helsinki) — not by applying to an
// auto-accepting opportunity, not by being accepted, not by confirming, and not by two
// sign-ups at once; the refusal is a conflict naming weekly_hours, and nothing changes.
func TestService_WeeklyHours(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		limited := func(id string) sdk.Principal {
			return f.volunteer(t, id, func(in *ProfileInput) { in.MaxHoursPerWeek = 4 })
		}
		at := func(day, hour, minute int) time.Time { return time.Date(2025, 6, day, hour, minute, 0, 0, f.loc) }
		opportunity := func(t *testing.T, auto bool, start time.Time, d time.Duration) Opportunity {
			t.Helper()
			return f.published(t, func(in *OpportunityInput) {
				in.AutoAccept = auto
				in.Shifts = []ShiftInput{{Start: start.Format(time.RFC3339), End: start.Add(d).Format(time.RFC3339), Capacity: 10}}
			})
		}
		wantWeekly := func(t *testing.T, err error) {
			t.Helper()
			wantCode(t, err, sdk.CodeConflict)
			var e *sdk.Error
			if !errors.As(err, &e) || !strings.Contains(e.Message, "weekly_hours") || e.Fields["weekly_hours"] == "" {
				t.Fatalf("error does not name weekly_hours: %v", err)
			}
		}
		status := func(t *testing.T, o Opportunity, volunteerID string) string {
			t.Helper()
			views, err := applicationsOf(f.svc, f.rep, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range views {
				if v.VolunteerID == volunteerID {
					return v.Status
				}
			}
			return ""
		}

		t.Run("ApplyAutoAccept", func(t *testing.T) {
			v := limited("auto")
			sat := opportunity(t, true, at(7, 9, 0), 3*time.Hour)
			if a, err := f.svc.Apply(ctx, v, sat.ID, sat.Shifts[0].ID); err != nil || a.Status != StatusConfirmed {
				t.Fatalf("first 3 h: %+v, %v", a, err)
			}
			sun := opportunity(t, true, at(8, 9, 0), 3*time.Hour)
			_, err := f.svc.Apply(ctx, v, sun.ID, sun.Shifts[0].ID)
			wantWeekly(t, err)
			if e := err.(*sdk.Error); !strings.Contains(e.Fields["weekly_hours"], "3 h already committed in week 23 of 2025") {
				t.Errorf("message %q", e.Fields["weekly_hours"])
			}
			if got := status(t, sun, v.UserID); got != "" {
				t.Errorf("refused sign-up left an application: %s", got)
			}
			// Exactly up to the limit is fine.
			hour := opportunity(t, true, at(8, 14, 0), time.Hour)
			if a, err := f.svc.Apply(ctx, v, hour.ID, hour.Shifts[0].ID); err != nil || a.Status != StatusConfirmed {
				t.Fatalf("1 h more, 4 h in all: %+v, %v", a, err)
			}
			// Monday 00:30 in Helsinki is still Sunday in UTC: the city's week is new.
			monday := opportunity(t, true, at(9, 0, 30), 3*time.Hour)
			if a, err := f.svc.Apply(ctx, v, monday.ID, monday.Shifts[0].ID); err != nil || a.Status != StatusConfirmed {
				t.Fatalf("next week in the city's time zone: %+v, %v", a, err)
			}
		})

		wed := opportunity(t, false, at(4, 9, 0), 3*time.Hour)
		thu := opportunity(t, false, at(5, 9, 0), 3*time.Hour)
		apply := func(t *testing.T, v sdk.Principal, o Opportunity) Application {
			t.Helper()
			a, err := f.svc.Apply(ctx, v, o.ID, o.Shifts[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		decide := func(t *testing.T, who sdk.Principal, a Application, action string) error {
			t.Helper()
			_, err := f.svc.Decide(ctx, who, a.OpportunityID, a.ShiftID, a.ID, action)
			return err
		}
		t.Run("Accept", func(t *testing.T) {
			v := limited("accepted")
			a, b := apply(t, v, wed), apply(t, v, thu)
			if err := decide(t, f.rep, a, ActionAccept); err != nil {
				t.Fatal(err)
			}
			if err := decide(t, v, a, ActionConfirm); err != nil {
				t.Fatal(err)
			}
			wantWeekly(t, decide(t, f.rep, b, ActionAccept))
			if got := status(t, thu, v.UserID); got != StatusApplied {
				t.Errorf("refused acceptance left the application %s", got)
			}
		})
		t.Run("Confirm", func(t *testing.T) {
			v := limited("confirmed")
			a, b := apply(t, v, wed), apply(t, v, thu)
			for _, x := range []Application{a, b} {
				if err := decide(t, f.rep, x, ActionAccept); err != nil { // nothing committed yet
					t.Fatal(err)
				}
			}
			if err := decide(t, v, a, ActionConfirm); err != nil {
				t.Fatal(err)
			}
			wantWeekly(t, decide(t, v, b, ActionConfirm))
			if got := status(t, thu, v.UserID); got != StatusAccepted {
				t.Errorf("refused confirmation left the application %s", got)
			}
		})
		t.Run("Concurrent", func(t *testing.T) {
			// Each volunteer applies to two 3-hour auto-accepted shifts of one day at
			// once: exactly one is confirmed, the other refused.
			morning := opportunity(t, true, at(3, 9, 0), 3*time.Hour)
			evening := opportunity(t, true, at(3, 14, 0), 3*time.Hour)
			const n = 8
			var wg sync.WaitGroup
			results := make([][2]error, n)
			for i := range n {
				v := limited(fmt.Sprintf("rush%d", i))
				for j, o := range []Opportunity{morning, evening} {
					wg.Go(func() {
						_, results[i][j] = f.svc.Apply(ctx, v, o.ID, o.Shifts[0].ID)
					})
				}
			}
			wg.Wait()
			for i, r := range results {
				ok, refused := 0, 0
				for _, err := range r {
					switch {
					case err == nil:
						ok++
					case errorCode(err) == sdk.CodeConflict && strings.Contains(err.Error(), "weekly_hours"):
						refused++
					default:
						t.Errorf("rush%d: %v", i, err)
					}
				}
				if ok != 1 || refused != 1 {
					t.Errorf("rush%d: %d confirmed, %d refused: %v", i, ok, refused, r)
				}
			}
			taken := 0
			for _, o := range []Opportunity{morning, evening} {
				got, err := f.svc.st.opportunity(ctx, f.svc.st.db, o.ID)
				if err != nil {
					t.Fatal(err)
				}
				taken += got.Shifts[0].Taken
			}
			if taken != n {
				t.Errorf("%d places taken by %d volunteers with room for one shift each", taken, n)
			}
		})
	})
}
