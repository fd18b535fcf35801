package parks

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

func TestService_RequestBooking(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()

		t.Run("OK", func(t *testing.T) {
			b := w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 12)
			if b.Status != StatusRequested || b.OrganisationName != "Art Collective" || b.RequesterID != "rep" {
				t.Errorf("booking %+v", b)
			}
			if got := w.published(EventRequested); len(got) != 1 || got[0].BookingID != b.ID {
				t.Errorf("published %+v", got)
			}
		})
		// Each bad request names its rule and stores nothing.
		for _, tc := range []struct {
			name        string
			pr          sdk.Principal
			org         string
			day, h1, h2 int
			mod         func(*BookingInput)
			code, rule  string
		}{
			{"ErrEndBeforeStart", w.rep, orgID, 11, 12, 10, nil, sdk.CodeInvalid, schedule.RuleEndBeforeStart},
			{"ErrOffGrid", w.rep, orgID, 11, 10, 12, func(in *BookingInput) { in.Start = at(11, 10, 15) }, sdk.CodeInvalid, schedule.RuleSlotGranularity},
			{"ErrOutsideHours", w.rep, orgID, 11, 19, 21, nil, sdk.CodeInvalid, schedule.RuleOpeningHours},
			{"ErrPast", w.rep, orgID, 1, 10, 12, nil, sdk.CodeInvalid, schedule.RuleInPast},
			{"ErrNotice", w.rep, orgID, 2, 14, 16, nil, sdk.CodeInvalid, schedule.RuleMinNotice},
			{"ErrHorizon", w.rep, orgID, 11, 10, 12, func(in *BookingInput) {
				in.Start, in.End = "2026-06-11T10:00:00+03:00", "2026-06-11T12:00:00+03:00"
			}, sdk.CodeInvalid, schedule.RuleHorizon},
			{"ErrTooShort", w.rep, orgID, 11, 10, 10, func(in *BookingInput) { in.End = at(11, 10, 30) }, sdk.CodeInvalid, schedule.RuleMinDuration},
			{"ErrCapacity", w.rep, orgID, 11, 10, 12, func(in *BookingInput) { in.ExpectedAttendance = 301 }, sdk.CodeInvalid, RuleCapacity},
			{"ErrUnknownItem", w.rep, orgID, 11, 10, 12, func(in *BookingInput) { in.SupportItems = map[string]int{"piano": 1} }, sdk.CodeInvalid, RuleUnknownItem},
			{"ErrMoreItemsThanExist", w.rep, orgID, 11, 10, 12, func(in *BookingInput) { in.SupportItems = map[string]int{"chairs": 51} }, sdk.CodeInvalid, RuleSupportItems},
			{"ErrCategory", w.rep, orgID, 11, 10, 12, func(in *BookingInput) { in.Category = "rave" }, sdk.CodeInvalid, RuleCategory},
			{"ErrNotRepresentative", w.rep2, orgID, 11, 10, 12, nil, sdk.CodeForbidden, RuleRepresentative},
			{"ErrUnverifiedOrg", w.rep, "org-unverified", 11, 10, 12, nil, sdk.CodeForbidden, RuleOrgVerified},
			{"ErrIndividualsOff", w.resident, "", 11, 10, 12, nil, sdk.CodeForbidden, RuleIndividual},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var mods []func(*BookingInput)
				if tc.mod != nil {
					mods = append(mods, tc.mod)
				}
				_, err := w.request(tc.pr, tc.org, w.meadow, tc.day, tc.h1, tc.h2, mods...)
				wantErr(t, err, tc.code, tc.rule)
			})
		}
		t.Run("NothingStored", func(t *testing.T) {
			var n int
			if err := w.plugin.db.Get(&n, `SELECT COUNT(*) FROM bookings`); err != nil || n != 1 {
				t.Errorf("bookings = %d, %v; want only the OK one", n, err)
			}
		})
		t.Run("ErrMaxActive", func(t *testing.T) {
			limited := w.area("Corner", w.whole.ID, 100, dailyHours("08:00", "20:00"), RulesDoc{MaxActiveBookings: 1})
			if _, err := w.request(w.rep, orgID, limited, 12, 10, 12); err != nil {
				t.Fatal(err)
			}
			_, err := w.request(w.rep, orgID, limited, 13, 10, 12)
			wantErr(t, err, sdk.CodeInvalid, schedule.RuleMaxActive)
		})
		t.Run("ErrUnauthenticated", func(t *testing.T) {
			_, err := w.svc.RequestBooking(ctx, sdk.Principal{}, w.park.ID, BookingInput{})
			wantErr(t, err, sdk.CodeUnauthenticated, "")
		})
	})
}

func TestService_RequestBooking_Individuals(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, map[string]string{SettingAllowIndividuals: "true"})
		t.Run("OK", func(t *testing.T) {
			b := w.mustRequest(w.resident, "", w.playground, 10, 10, 12)
			if b.OrganisationID != "" || b.RequesterID != "resident" {
				t.Errorf("booking %+v", b)
			}
		})
		t.Run("ErrNotResident", func(t *testing.T) {
			_, err := w.request(w.stranger, "", w.playground, 10, 14, 16)
			wantErr(t, err, sdk.CodeForbidden, RuleIndividual)
		})
	})
}

func TestService_Approve(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()

		t.Run("RejectsColliding", func(t *testing.T) {
			a := w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 12)
			b := w.mustRequest(w.rep2, org2ID, w.meadow, 10, 11, 13)
			child := w.mustRequest(w.rep2, org2ID, w.stage, 10, 9, 11)   // inside the meadow
			parent := w.mustRequest(w.rep2, org2ID, w.whole, 10, 11, 12) // contains the meadow
			sibling := w.mustRequest(w.rep2, org2ID, w.playground, 10, 10, 12)
			later := w.mustRequest(w.rep2, org2ID, w.meadow, 10, 12, 14) // touches: half-open

			page, err := w.svc.ListBookings(ctx, w.manager, w.park.ID, StatusRequested, sdk.ListQuery{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			queue := page.Items
			for i := 1; i < len(queue); i++ {
				if queue[i].Start.Before(queue[i-1].Start) {
					t.Errorf("queue not in start order at %d", i)
				}
			}
			if !queue[0].Contested {
				t.Errorf("first in queue (%s) not marked contested", queue[0].Title)
			}

			got := w.mustApprove(a.ID)
			if got.Status != StatusApproved || got.Sequence != 1 {
				t.Errorf("approved %+v", got)
			}
			for _, id := range []string{b.ID, child.ID, parent.ID} {
				r := w.booking(id)
				if r.Status != StatusRejected || !strings.Contains(r.Reason, "Open workshop") {
					t.Errorf("%s: status %s reason %q", id, r.Status, r.Reason)
				}
			}
			for _, id := range []string{sibling.ID, later.ID} {
				if r := w.booking(id); r.Status != StatusRequested {
					t.Errorf("%s: status %s, want requested", id, r.Status)
				}
			}
			if n := len(w.published(EventRejected)); n != 3 {
				t.Errorf("%d rejected events", n)
			}
			ev := w.published(EventApproved)
			if len(ev) != 1 || ev[0].OrganisationName != "Art Collective" || ev[0].AreaName != "Meadow" || ev[0].ParkName != "Living Park" {
				t.Errorf("approved events %+v", ev)
			}
			w.mustApprove(sibling.ID)
			w.mustApprove(later.ID)
		})
		t.Run("ErrNotRequested", func(t *testing.T) {
			a := w.mustRequest(w.rep, orgID, w.playground, 11, 10, 12)
			w.mustApprove(a.ID)
			_, err := w.approve(a.ID)
			wantErr(t, err, sdk.CodeConflict, RuleStatus)
		})
		t.Run("ErrNotManager", func(t *testing.T) {
			a := w.mustRequest(w.rep, orgID, w.playground, 12, 10, 12)
			_, err := w.svc.Approve(ctx, w.rep, w.park.ID, a.ID)
			wantErr(t, err, sdk.CodeForbidden, RuleParkManager)
		})
		t.Run("ErrRequestOverApproved", func(t *testing.T) {
			_, err := w.request(w.rep2, org2ID, w.stage, 11, 10, 12) // nothing there yet on the stage
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.request(w.rep2, org2ID, w.playground, 11, 11, 13) // playground approved 10–12
			wantErr(t, err, sdk.CodeConflict, RuleOverlap)
		})
		if got := overlappingApproved(t, w.plugin.db); got != 0 {
			t.Errorf("%d overlapping approved pairs", got)
		}
	})
}

// Intervals are half-open: 10–12 then 12–14 is fine without a buffer and
// refused with one.
func TestService_Approve_Buffers(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		hours := dailyHours("08:00", "20:00")
		plain := w.area("Plain lawn", "", 50, hours, RulesDoc{})
		buffered := w.area("Buffered lawn", "", 50, hours, RulesDoc{BufferBeforeMinutes: 30, BufferAfterMinutes: 30})
		t.Run("OKWithoutBuffer", func(t *testing.T) {
			w.mustApprove(w.mustRequest(w.rep, orgID, plain, 10, 10, 12).ID)
			w.mustApprove(w.mustRequest(w.rep2, org2ID, plain, 10, 12, 14).ID)
		})
		t.Run("ErrWithBuffer", func(t *testing.T) {
			w.mustApprove(w.mustRequest(w.rep, orgID, buffered, 10, 10, 12).ID)
			_, err := w.request(w.rep2, org2ID, buffered, 10, 12, 14)
			wantErr(t, err, sdk.CodeConflict, RuleOverlap)
			// Half an hour later the buffers are respected.
			w.mustApprove(w.mustRequest(w.rep2, org2ID, buffered, 10, 12, 14, func(in *BookingInput) {
				in.Start = at(10, 12, 30)
			}).ID)
		})
		if got := overlappingApproved(t, w.plugin.db); got != 0 {
			t.Errorf("%d overlapping approved pairs", got)
		}
	})
}

// 100 concurrent approvals of overlapping requests approve exactly one;
// on PostgreSQL with the exclusion constraint and with the lock fallback.
func TestService_Approve_Concurrent(t *testing.T) {
	eachStore(t, true, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		const n = 100
		ids := make([]string, n)
		for i := range n {
			// Staggered half-hour starts, all overlapping 12:00–13:00.
			b := w.mustRequest(w.rep, orgID, w.meadow, 20, 10, 13, func(in *BookingInput) {
				in.Start = at(20, 9+(i%3)/2, (i%2)*30)
				in.End = at(20, 13+(i%3), 0)
				in.Title = fmt.Sprintf("Request %d", i)
			})
			ids[i] = b.ID
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = w.approve(ids[i])
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			default:
				if e, isErr := err.(*sdk.Error); !isErr || e.Code != sdk.CodeConflict {
					t.Errorf("approval %d: %v", i, err)
				}
			}
		}
		if ok != 1 {
			t.Fatalf("%d approvals succeeded, want exactly 1", ok)
		}
		var approved, rejected int
		w.plugin.db.Get(&approved, `SELECT COUNT(*) FROM bookings WHERE status = 'approved'`)
		w.plugin.db.Get(&rejected, `SELECT COUNT(*) FROM bookings WHERE status = 'rejected' AND reason <> ''`)
		if approved != 1 || rejected != n-1 {
			t.Errorf("approved %d, rejected with reason %d", approved, rejected)
		}
		if got := overlappingApproved(t, w.plugin.db); got != 0 {
			t.Errorf("%d overlapping approved pairs", got)
		}
		g, _ := w.svc.st.overlapGuard(context.Background())
		want := map[string]string{variantSQLite: GuardSingleWriter, variantPostgres: GuardExclusion, variantPostgresLock: GuardParkLock}[variant]
		if g != want {
			t.Logf("guard %s (want %s; btree_gist missing?)", g, want)
		}
	})
}

// Concurrent requests of one organisation never hold more active bookings
// of an area than its limit allows.
func TestService_RequestBooking_ActiveLimitConcurrent(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		const limit, n = 3, 20
		limited := w.area("Pavilion", w.whole.ID, 40, dailyHours("08:00", "20:00"), RulesDoc{
			SlotGranularityMinutes: 30, MinDurationMinutes: 60, MaxDurationMinutes: 480,
			MinNoticeMinutes: 24 * 60, BookingHorizonDays: 180, MaxActiveBookings: limit})
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				// Different days: no two requests compete for a time.
				_, errs[i] = w.request(w.rep, orgID, limited, 10+i, 10, 12)
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			if err == nil {
				ok++
			} else if e, isErr := err.(*sdk.Error); !isErr || e.Fields["rule"] != schedule.RuleMaxActive {
				t.Errorf("request %d: %v", i, err)
			}
		}
		var stored int
		w.plugin.db.Get(&stored, `SELECT COUNT(*) FROM bookings WHERE area_id = $1`, limited.ID)
		if ok != limit || stored != limit {
			t.Fatalf("%d requests accepted and %d stored, want %d each", ok, stored, limit)
		}
	})
}

// The exclusion constraint holds even against writes that skip the
// service.
func TestStore_ExclusionConstraint(t *testing.T) {
	cfg := postgresSchema(t)
	w := newWorld(t, variantPostgres, cfg, nil)
	if g, _ := w.svc.st.overlapGuard(context.Background()); g != GuardExclusion {
		t.Skipf("guard is %s: btree_gist not installed", g)
	}
	a := w.mustApprove(w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 12).ID)
	b := w.mustRequest(w.rep2, org2ID, w.stage, 10, 14, 16)
	t.Run("ErrChildOverlap", func(t *testing.T) {
		_, err := w.plugin.db.Exec(`INSERT INTO booking_occupancy (booking_id, area_id, self, lo, hi) VALUES ($1, $2, 0, $3, $4)`,
			b.ID, w.meadow.ID, store.Micros(a.Start), store.Micros(a.End))
		if !w.svc.st.isOverlapViolation(err) {
			t.Fatalf("err = %v, want exclusion violation", err)
		}
	})
	t.Run("OKSiblingHolds", func(t *testing.T) {
		// Two children both hold their parent: not a clash.
		_, err := w.plugin.db.Exec(`INSERT INTO booking_occupancy (booking_id, area_id, self, lo, hi) VALUES ($1, $2, 0, $3, $4)`,
			b.ID, w.whole.ID, store.Micros(a.Start), store.Micros(a.End))
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A weekly series is decided as one unit, with a per-date report.
func TestService_Series(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		// Saturday 14 June 2025 and 7 more Saturdays.
		weekly := func(in *BookingInput) { in.RepeatWeeks = 8 }
		blocker := w.mustApprove(w.mustRequest(w.rep2, org2ID, w.meadow, 28, 11, 12).ID)

		t.Run("ErrPerDateConflicts", func(t *testing.T) {
			_, err := w.request(w.rep, orgID, w.stage, 14, 10, 12, weekly)
			wantErr(t, err, sdk.CodeConflict, RuleOverlap)
			e := err.(*sdk.Error)
			if len(e.Fields) != 2 || e.Fields["2025-06-28"] == "" {
				t.Errorf("report %v", e.Fields)
			}
		})
		t.Run("OK", func(t *testing.T) {
			if _, err := w.svc.Cancel(context.Background(), w.manager, w.park.ID, blocker.ID, "moved"); err != nil {
				t.Fatal(err)
			}
			b := w.mustRequest(w.rep, orgID, w.stage, 14, 10, 12, weekly)
			if len(b.Series) != 8 || b.SeriesID == "" {
				t.Fatalf("series %+v", b.Series)
			}
			// Across no DST change, but wall time must stay 10:00.
			loc := w.park.location()
			for _, o := range b.Series {
				if lt := o.Start.In(loc); lt.Hour() != 10 || lt.Weekday() != time.Saturday {
					t.Errorf("occurrence %v", lt)
				}
			}
			got := w.mustApprove(b.Series[3].ID)
			for _, o := range got.Series {
				if o.Status != StatusApproved {
					t.Errorf("occurrence %s %s", o.Start, o.Status)
				}
			}
			c, err := w.svc.Cancel(context.Background(), w.rep, w.park.ID, b.ID, "the group disbanded")
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range c.Series {
				if o.Status != StatusCancelled {
					t.Errorf("occurrence %s %s", o.Start, o.Status)
				}
			}
		})
	})
}

// Support items cannot be over-allocated by overlapping bookings.
func TestService_SupportItems(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		chairs := func(n int) func(*BookingInput) {
			return func(in *BookingInput) { in.SupportItems = map[string]int{"chairs": n} }
		}
		a := w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 14, chairs(30))
		b := w.mustRequest(w.rep2, org2ID, w.playground, 10, 12, 16, chairs(30)) // sibling: no place clash
		c := w.mustRequest(w.rep2, org2ID, w.playground, 10, 14, 16, chairs(30)) // after a ends
		w.mustApprove(a.ID)
		t.Run("ErrOverAllocated", func(t *testing.T) {
			_, err := w.approve(b.ID)
			wantErr(t, err, sdk.CodeConflict, RuleItemsOverBooked)
			_, err = w.request(w.rep2, org2ID, w.playground, 10, 12, 14, chairs(21))
			wantErr(t, err, sdk.CodeConflict, RuleItemsOverBooked)
		})
		t.Run("OKHalfOpen", func(t *testing.T) {
			w.mustApprove(c.ID)
			w.mustApprove(w.mustRequest(w.rep2, org2ID, w.playground, 10, 12, 14, chairs(20)).ID)
		})
		// Requests read the park from a short-lived cache; a change of the
		// catalogue on this node holds for the very next request.
		t.Run("ErrCatalogueLowered", func(t *testing.T) {
			w.mustRequest(w.rep, orgID, w.meadow, 11, 10, 12, chairs(40))
			if _, err := w.svc.SetSupportItems(context.Background(), w.manager, w.park.ID, map[string]int{"chairs": 5}); err != nil {
				t.Fatal(err)
			}
			_, err := w.request(w.rep, orgID, w.meadow, 11, 12, 14, chairs(40))
			wantErr(t, err, sdk.CodeInvalid, RuleSupportItems)
		})
	})
}

func TestService_Cancel(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		a := w.mustApprove(w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 12).ID)
		t.Run("ErrReasonRequired", func(t *testing.T) {
			_, err := w.svc.Cancel(ctx, w.rep, w.park.ID, a.ID, " ")
			wantErr(t, err, sdk.CodeInvalid, RuleReasonRequired)
		})
		t.Run("ErrOtherGroup", func(t *testing.T) {
			_, err := w.svc.Cancel(ctx, w.rep2, w.park.ID, a.ID, "mine now")
			wantErr(t, err, sdk.CodeForbidden, RuleParkManager)
		})
		t.Run("OKFreesThePlace", func(t *testing.T) {
			c, err := w.svc.Cancel(ctx, w.rep, w.park.ID, a.ID, "rain")
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != StatusCancelled || c.Sequence != 2 {
				t.Errorf("cancelled %+v", c)
			}
			w.mustApprove(w.mustRequest(w.rep2, org2ID, w.meadow, 10, 10, 12).ID)
		})
		t.Run("ErrAlreadyOver", func(t *testing.T) {
			b := w.mustApprove(w.mustRequest(w.rep, orgID, w.playground, 10, 10, 12).ID)
			w.clock.Set(monday0900.Add(10 * 24 * time.Hour))
			defer w.clock.Set(monday0900)
			if got := w.booking(b.ID); got.Status != StatusCompleted {
				t.Errorf("status %s, want completed", got.Status)
			}
			_, err := w.svc.Cancel(ctx, w.rep, w.park.ID, b.ID, "too late")
			wantErr(t, err, sdk.CodeConflict, RuleEnded)
		})
	})
}

func TestService_CreateClosure(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		req := w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12)
		t.Run("OK", func(t *testing.T) {
			c, err := w.svc.CreateClosure(ctx, w.manager, w.park.ID, ClosureInput{AreaID: w.meadow.ID,
				Start: at(10, 0, 0), End: at(11, 0, 0), Title: "Mowing"})
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != KindClosure || c.Status != StatusApproved {
				t.Errorf("closure %+v", c)
			}
			if r := w.booking(req.ID); r.Status != StatusRejected || !strings.Contains(r.Reason, "Mowing") {
				t.Errorf("request %s %q", r.Status, r.Reason)
			}
		})
		t.Run("ErrOverlap", func(t *testing.T) {
			_, err := w.svc.CreateClosure(ctx, w.manager, w.park.ID, ClosureInput{AreaID: w.whole.ID,
				Start: at(10, 9, 0), End: at(10, 10, 0), Title: "Concert"})
			wantErr(t, err, sdk.CodeConflict, RuleClosureOverlap)
		})
		t.Run("ErrNotManager", func(t *testing.T) {
			_, err := w.svc.CreateClosure(ctx, w.rep, w.park.ID, ClosureInput{AreaID: w.whole.ID,
				Start: at(12, 9, 0), End: at(12, 10, 0), Title: "Mine"})
			wantErr(t, err, sdk.CodeForbidden, RuleParkManager)
		})
	})
}

func TestService_Availability(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		w.mustApprove(w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12).ID)
		if _, err := w.svc.CreateClosure(ctx, w.manager, w.park.ID, ClosureInput{AreaID: w.whole.ID,
			Start: at(10, 16, 0), End: at(10, 17, 0), Title: "Inspection"}); err != nil {
			t.Fatal(err)
		}
		free := func(t *testing.T, area *Area) []string {
			t.Helper()
			loc := w.park.location()
			av, err := w.svc.Availability(ctx, w.park.ID, area.ID,
				time.Date(2025, 6, 10, 0, 0, 0, 0, loc), time.Date(2025, 6, 11, 0, 0, 0, 0, loc))
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, f := range av.Free {
				out = append(out, f.Start.Format("15:04")+"–"+f.End.Format("15:04"))
			}
			return out
		}
		for _, tc := range []struct {
			area *Area
			want string
		}{
			{w.stage, "08:00–10:00 12:00–16:00 17:00–20:00"},
			{w.meadow, "08:00–10:00 12:00–16:00 17:00–20:00"}, // a child's booking blocks the parent
			{w.whole, "08:00–10:00 12:00–16:00 17:00–20:00"},
			{w.playground, "08:00–16:00 17:00–20:00"}, // a sibling's does not; the parent's closure does
		} {
			t.Run(tc.area.Name, func(t *testing.T) {
				if got := strings.Join(free(t, tc.area), " "); got != tc.want {
					t.Errorf("free %s, want %s", got, tc.want)
				}
			})
		}
		t.Run("ErrRangeTooLong", func(t *testing.T) {
			_, err := w.svc.Availability(ctx, w.park.ID, w.stage.ID, monday0900, monday0900.Add(400*24*time.Hour))
			wantErr(t, err, sdk.CodeInvalid, RuleRangeTooLong)
		})
	})
}

// Opening hours across the spring and autumn changes give the right free
// intervals; Istanbul has kept UTC+3 all year since 2016, so there the
// same wall times must map to the same UTC times on both dates.
func TestService_Availability_DST(t *testing.T) {
	// Each case covers the day before the change and the day of it.
	for _, tc := range []struct {
		zone, day  string
		open, shut string
		want       string // free intervals in UTC
	}{
		{"Europe/Helsinki", "2025-03-30", "08:00", "20:00", "06:00Z–18:00Z 05:00Z–17:00Z"}, // EET, then EEST
		{"Europe/Helsinki", "2025-10-26", "08:00", "20:00", "05:00Z–17:00Z 06:00Z–18:00Z"}, // EEST, then EET
		// Hours spanning the change itself: 02:00–05:00 is two real hours
		// in spring (03:00 is skipped) and four in autumn (03:00 repeats).
		{"Europe/Helsinki", "2025-03-30", "02:00", "05:00", "00:00Z–03:00Z 00:00Z–02:00Z"},
		{"Europe/Helsinki", "2025-10-26", "02:00", "05:00", "23:00Z–02:00Z 23:00Z–03:00Z"},
		{"Europe/Istanbul", "2025-03-30", "08:00", "20:00", "05:00Z–17:00Z 05:00Z–17:00Z"}, // UTC+3 all year
		{"Europe/Istanbul", "2025-10-26", "08:00", "20:00", "05:00Z–17:00Z 05:00Z–17:00Z"},
	} {
		t.Run(tc.zone+"/"+tc.day+"/"+tc.open, func(t *testing.T) {
			cfg := sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + t.TempDir() + "/p.db"}
			w := newWorld(t, variantSQLite, cfg, nil)
			w.clock.Set(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
			ctx := context.Background()
			p, err := w.svc.CreatePark(ctx, w.admin, ParkInput{Name: "DST park", NeighbourhoodID: nbhID, TimeZone: tc.zone})
			if err != nil {
				t.Fatal(err)
			}
			a, err := w.svc.CreateArea(ctx, w.admin, p.ID, AreaInput{Name: "Lawn", Capacity: 10,
				OpeningHours: ptr(dailyHours(tc.open, tc.shut)), Rules: RulesDoc{SlotGranularityMinutes: 60}})
			if err != nil {
				t.Fatal(err)
			}
			loc, _ := time.LoadLocation(tc.zone)
			d, _ := time.ParseInLocation("2006-01-02", tc.day, loc)
			av, err := w.svc.Availability(ctx, p.ID, a.ID, d.AddDate(0, 0, -1), d.AddDate(0, 0, 1))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range av.Free {
				got = append(got, f.Start.UTC().Format("15:04Z")+"–"+f.End.UTC().Format("15:04Z"))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("free %v, want %s", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestService_EraseUser(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		a := w.mustApprove(w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 12).ID)
		ev := sdk.Event{ID: "ev-1", Type: sdk.EventUserDeleted, Payload: []byte(`{"user_id":"rep"}`)}
		for range 2 { // at-least-once delivery
			if err := sdk.Deliver(ctx, w.plugin, ev); err != nil {
				t.Fatal(err)
			}
		}
		b := w.booking(a.ID)
		if b.RequesterID != "" || b.Contact != (Contact{}) {
			t.Errorf("personal data kept: %+v", b)
		}
		events, err := w.svc.PublicEvents(ctx, CalendarFilter{}, sdk.ListQuery{Limit: 50})
		if err != nil || len(events.Items) != 1 || events.Items[0].Title != "Open workshop" {
			t.Errorf("calendar %+v, %v", events, err)
		}
	})
}
