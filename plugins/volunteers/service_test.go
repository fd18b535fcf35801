package volunteers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

func TestService_Workflow(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		vol := f.volunteer(t, "vol", nil)
		o := f.published(t, nil)
		sh := o.Shifts[0]

		a, err := f.svc.Apply(ctx, vol, o.ID, sh.ID)
		if err != nil || a.Status != StatusApplied {
			t.Fatalf("apply: %+v, %v", a, err)
		}
		t.Run("ProfileWithoutContactBeforeAcceptance", func(t *testing.T) {
			views, err := applicationsOf(f.svc, f.rep, o.ID)
			if err != nil || len(views) != 1 {
				t.Fatalf("%v, %v", views, err)
			}
			if views[0].Profile == nil || views[0].Contact != nil {
				t.Errorf("profile %v contact %v", views[0].Profile, views[0].Contact)
			}
		})
		if a, err = f.svc.Decide(ctx, f.rep, o.ID, sh.ID, a.ID, ActionAccept); err != nil || a.Status != StatusAccepted {
			t.Fatalf("accept: %+v, %v", a, err)
		}
		t.Run("ContactAfterAcceptance", func(t *testing.T) {
			views, err := applicationsOf(f.svc, f.rep, o.ID)
			if err != nil || views[0].Contact == nil || views[0].Contact.Email != "vol@example.org" {
				t.Fatalf("%+v, %v", views, err)
			}
		})
		if a, err = f.svc.Decide(ctx, vol, o.ID, sh.ID, a.ID, ActionConfirm); err != nil || a.Status != StatusConfirmed {
			t.Fatalf("confirm: %+v, %v", a, err)
		}
		t.Run("ErrAttendanceBeforeShift", func(t *testing.T) {
			_, err := f.svc.RecordAttendance(ctx, f.rep, o.ID, sh.ID, a.ID, AttendanceInput{Attended: true})
			wantCode(t, err, sdk.CodeConflict)
		})
		f.clock.Set(sh.End.Add(time.Hour))
		if a, err = f.svc.RecordAttendance(ctx, f.rep, o.ID, sh.ID, a.ID, AttendanceInput{Attended: true}); err != nil || a.Status != StatusAttended {
			t.Fatalf("attend: %+v, %v", a, err)
		}
		h, err := f.svc.Hours(ctx, vol)
		if err != nil {
			t.Fatal(err)
		}
		if h.TotalMinutes != 180 || h.Attended != 1 || len(h.Entries) != 1 || h.Entries[0].Title != "Park clean-up" {
			t.Errorf("hours %+v", h)
		}
		for _, want := range []string{"volunteers.opportunity.published", "volunteers.application.accepted",
			"volunteers.assignment.confirmed", "volunteers.attendance.recorded"} {
			if !slices.Contains(f.eventTypes(t), want) {
				t.Errorf("event %s not published: %v", want, f.eventTypes(t))
			}
		}
	})
}

// TestService_ConcurrentSignups is the capacity rule under load: 100 volunteers confirm
// (and, on an auto-accept opportunity, apply) at once for 10 places.
func TestService_ConcurrentSignups(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		const n, capacity = 100, 10
		vols := make([]sdk.Principal, n)
		for i := range vols {
			vols[i] = f.volunteer(t, fmt.Sprintf("v%03d", i), nil)
		}
		count := func(t *testing.T, oppID string) map[string]int {
			t.Helper()
			views, err := applicationsOf(f.svc, f.rep, oppID)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, v := range views {
				got[v.Status]++
			}
			return got
		}
		run := func(fn func(i int) error) {
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					if err := fn(i); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		}
		t.Run("Confirm", func(t *testing.T) {
			o := f.published(t, func(in *OpportunityInput) { in.Shifts = []ShiftInput{f.saturday(9, 12, capacity)} })
			sh := o.Shifts[0]
			apps := make([]Application, n)
			for i, v := range vols {
				a, err := f.svc.Apply(ctx, v, o.ID, sh.ID)
				if err != nil {
					t.Fatal(err)
				}
				if apps[i], err = f.svc.Decide(ctx, f.rep, o.ID, sh.ID, a.ID, ActionAccept); err != nil {
					t.Fatal(err)
				}
			}
			run(func(i int) error {
				_, err := f.svc.Decide(ctx, vols[i], o.ID, sh.ID, apps[i].ID, ActionConfirm)
				return err
			})
			if got := count(t, o.ID); got[StatusConfirmed] != capacity || got[StatusWaitlisted] != n-capacity {
				t.Fatalf("statuses %v", got)
			}
			// A confirmed volunteer withdraws: the longest-waiting moves up, still 10.
			var conf, first Application
			views, _ := applicationsOf(f.svc, f.rep, o.ID)
			for _, v := range views {
				if v.Status == StatusConfirmed && conf.ID == "" {
					conf = v.Application
				}
				if v.Status == StatusWaitlisted && (first.ID == "" || v.waitlistedAt.Before(first.waitlistedAt) ||
					v.waitlistedAt.Equal(first.waitlistedAt) && v.ID < first.ID) {
					first = v.Application
				}
			}
			if _, err := f.svc.Decide(ctx, sdk.Principal{UserID: conf.VolunteerID}, o.ID, sh.ID, conf.ID, ActionWithdraw); err != nil {
				t.Fatal(err)
			}
			if got := count(t, o.ID); got[StatusConfirmed] != capacity || got[StatusWaitlisted] != n-capacity-1 {
				t.Errorf("after withdrawal %v", got)
			}
			if a, _ := f.svc.st.application(ctx, f.db, first.ID); a.Status != StatusConfirmed {
				t.Errorf("longest waiting %s is %s", first.ID, a.Status)
			}
			if !slices.Contains(f.eventTypes(t), "volunteers.shift.filled") {
				t.Error("no shift.filled event")
			}
		})
		t.Run("AutoAcceptApply", func(t *testing.T) {
			o := f.published(t, func(in *OpportunityInput) {
				in.AutoAccept = true
				in.Shifts = []ShiftInput{f.saturday(14, 16, capacity)}
			})
			run(func(i int) error {
				_, err := f.svc.Apply(ctx, vols[i], o.ID, o.Shifts[0].ID)
				return err
			})
			if got := count(t, o.ID); got[StatusConfirmed] != capacity || got[StatusWaitlisted] != n-capacity {
				t.Fatalf("statuses %v", got)
			}
		})
	})
}

func TestService_BadInput(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		vol := f.volunteer(t, "vol", nil)
		other := f.volunteer(t, "other", nil)
		create := func(mod func(*OpportunityInput)) error {
			in := OpportunityInput{OrganisationID: "org-1", Title: "T", Shifts: []ShiftInput{f.saturday(9, 12, 3)}}
			mod(&in)
			_, err := f.svc.CreateOpportunity(ctx, f.rep, in)
			return err
		}
		countOpps := func() int {
			items, err := opportunitiesFor(f.svc, f.rep)
			if err != nil {
				t.Fatal(err)
			}
			return len(items)
		}
		before := countOpps()
		t.Run("ErrShiftEndsBeforeStart", func(t *testing.T) {
			wantCode(t, create(func(in *OpportunityInput) { in.Shifts = []ShiftInput{f.saturday(12, 9, 3)} }), sdk.CodeInvalid)
		})
		t.Run("ErrNegativeCapacity", func(t *testing.T) {
			wantCode(t, create(func(in *OpportunityInput) { in.Shifts = []ShiftInput{f.saturday(9, 12, -1)} }), sdk.CodeInvalid)
		})
		t.Run("ErrUnknownSkill", func(t *testing.T) {
			wantCode(t, create(func(in *OpportunityInput) { in.RequiredSkills = []string{"juggling"} }), sdk.CodeInvalid)
			_, err := f.svc.PutProfile(ctx, vol, ProfileInput{BirthDate: "1990-01-01", Skills: []string{"juggling"}})
			wantCode(t, err, sdk.CodeInvalid)
		})
		t.Run("ErrUnverifiedOrganisation", func(t *testing.T) {
			_, err := f.svc.CreateOpportunity(ctx, sdk.Principal{UserID: "rep2"},
				OpportunityInput{OrganisationID: "org-2", Title: "T", Shifts: []ShiftInput{f.saturday(9, 12, 3)}})
			wantCode(t, err, sdk.CodeForbidden)
		})
		t.Run("ErrNotRepresentative", func(t *testing.T) {
			_, err := f.svc.CreateOpportunity(ctx, vol,
				OpportunityInput{OrganisationID: "org-1", Title: "T", Shifts: []ShiftInput{f.saturday(9, 12, 3)}})
			wantCode(t, err, sdk.CodeForbidden)
		})
		if got := countOpps(); got != before {
			t.Errorf("bad input created opportunities: %d -> %d", before, got)
		}
		t.Run("ErrBirthDateInFuture", func(t *testing.T) {
			_, err := f.svc.PutProfile(ctx, vol, ProfileInput{BirthDate: "2030-01-01"})
			wantCode(t, err, sdk.CodeInvalid)
			if p, _ := f.svc.Profile(ctx, vol); p.BirthDate != "1990-01-01" {
				t.Errorf("profile changed: %+v", p)
			}
		})
		o := f.published(t, nil)
		sh := o.Shifts[0]
		a, err := f.svc.Apply(ctx, vol, o.ID, sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("ErrSignUpTwice", func(t *testing.T) {
			_, err := f.svc.Apply(ctx, vol, o.ID, sh.ID)
			wantCode(t, err, sdk.CodeConflict)
		})
		t.Run("ErrWithdrawSomeoneElses", func(t *testing.T) {
			_, err := f.svc.Decide(ctx, other, o.ID, sh.ID, a.ID, ActionWithdraw)
			wantCode(t, err, sdk.CodeForbidden)
			if got, _ := f.svc.st.application(ctx, f.db, a.ID); got.Status != StatusApplied {
				t.Errorf("status %s", got.Status)
			}
		})
		t.Run("ErrAcceptByVolunteer", func(t *testing.T) {
			_, err := f.svc.Decide(ctx, vol, o.ID, sh.ID, a.ID, ActionAccept)
			wantCode(t, err, sdk.CodeForbidden)
		})
		t.Run("ErrCancelled", func(t *testing.T) {
			c := f.published(t, nil)
			if _, err := f.svc.SetState(ctx, f.rep, c.ID, StateCancelled); err != nil {
				t.Fatal(err)
			}
			_, err := f.svc.Apply(ctx, vol, c.ID, c.Shifts[0].ID)
			wantCode(t, err, sdk.CodeConflict)
		})
		t.Run("ErrPastShift", func(t *testing.T) {
			f.clock.Set(sh.Start.Add(time.Minute))
			defer f.clock.Set(monday)
			_, err := f.svc.Apply(ctx, other, o.ID, sh.ID)
			wantCode(t, err, sdk.CodeConflict)
		})
		t.Run("ErrDraft", func(t *testing.T) {
			d, err := f.svc.CreateOpportunity(ctx, f.rep, OpportunityInput{OrganisationID: "org-1", Title: "D",
				Shifts: []ShiftInput{f.saturday(9, 12, 3)}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.Apply(ctx, vol, d.ID, d.Shifts[0].ID)
			wantCode(t, err, sdk.CodeConflict)
			_, err = f.svc.Opportunity(ctx, vol, d.ID)
			wantCode(t, err, sdk.CodeNotFound)
		})
		t.Run("ErrNoProfile", func(t *testing.T) {
			_, err := f.svc.Apply(ctx, sdk.Principal{UserID: "nobody"}, o.ID, sh.ID)
			wantCode(t, err, sdk.CodeConflict)
		})
	})
}

// TestService_HardRules: a minor is never proposed or admitted below their age, and an
// expired background check excludes a volunteer for shifts after the expiry date only.
func TestService_HardRules(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		minor := f.volunteer(t, "minor", func(in *ProfileInput) { in.BirthDate = "2010-01-01" })
		f.volunteer(t, "adult", nil)
		expiring := f.volunteer(t, "expiring", nil)
		if _, err := f.svc.SetBackgroundCheck(ctx, f.staff, expiring.UserID,
			BackgroundCheck{Status: CheckCleared, Expires: "2025-06-10"}); err != nil {
			t.Fatal(err)
		}
		ids := func(l []MatchCandidate) []string {
			var out []string
			for _, c := range l {
				out = append(out, c.VolunteerID)
			}
			slices.Sort(out)
			return out
		}
		t.Run("MinAge", func(t *testing.T) {
			o := f.published(t, func(in *OpportunityInput) { in.MinAge = 18 })
			got, err := matchesOf(f.svc, f.rep, o.ID, o.Shifts[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(ids(got), "minor") || !slices.Contains(ids(got), "adult") {
				t.Errorf("matches %v", ids(got))
			}
			r, err := f.svc.Roster(ctx, f.rep, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range r.Assignments {
				if a.VolunteerID == "minor" {
					t.Errorf("minor proposed: %+v", r)
				}
			}
			if !r.Optimal || len(r.Assignments) == 0 {
				t.Errorf("roster %+v", r)
			}
			_, err = f.svc.Apply(ctx, minor, o.ID, o.Shifts[0].ID)
			wantCode(t, err, sdk.CodeConflict)
		})
		t.Run("BackgroundCheckExpiry", func(t *testing.T) {
			before := f.published(t, func(in *OpportunityInput) { in.NeedsBackgroundCheck = true })
			after := f.published(t, func(in *OpportunityInput) {
				in.NeedsBackgroundCheck = true
				day := time.Date(2025, 6, 11, 9, 0, 0, 0, f.loc)
				in.Shifts = []ShiftInput{{Start: day.Format(time.RFC3339), End: day.Add(2 * time.Hour).Format(time.RFC3339), Capacity: 2}}
			})
			got, _ := matchesOf(f.svc, f.rep, before.ID, before.Shifts[0].ID)
			if want := []string{"expiring"}; !slices.Equal(ids(got), want) {
				t.Errorf("before expiry %v, want %v", ids(got), want)
			}
			got, _ = matchesOf(f.svc, f.rep, after.ID, after.Shifts[0].ID)
			if len(got) != 0 {
				t.Errorf("after expiry %v", ids(got))
			}
		})
		t.Run("ReasonsAndRecommendations", func(t *testing.T) {
			o := f.published(t, func(in *OpportunityInput) {
				in.PreferredSkills = []string{"first_aid"}
				in.Languages = []string{"fi"}
			})
			got, err := matchesOf(f.svc, f.rep, o.ID, o.Shifts[0].ID)
			if err != nil || len(got) == 0 || len(got[0].Reasons) == 0 {
				t.Fatalf("%+v, %v", got, err)
			}
			rec, err := recommendationsFor(f.svc, sdk.Principal{UserID: "adult"})
			if err != nil || !slices.ContainsFunc(rec, func(r Recommendation) bool { return r.OpportunityID == o.ID }) {
				t.Errorf("recommendations %+v, %v", rec, err)
			}
		})
	})
}

func TestService_Visibility(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		vol := f.volunteer(t, "vol", nil)
		f.volunteer(t, "bystander", nil)
		o := f.published(t, nil)
		if _, err := f.svc.Apply(ctx, vol, o.ID, o.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		t.Run("OnlyApplicantsProfiles", func(t *testing.T) {
			views, err := applicationsOf(f.svc, f.rep, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range views {
				if v.VolunteerID == "bystander" {
					t.Error("bystander's profile shown")
				}
			}
		})
		t.Run("ErrOtherOrganiser", func(t *testing.T) {
			_, err := applicationsOf(f.svc, sdk.Principal{UserID: "rep2"}, o.ID)
			wantCode(t, err, sdk.CodeForbidden)
			_, err = matchesOf(f.svc, vol, o.ID, o.Shifts[0].ID)
			wantCode(t, err, sdk.CodeForbidden)
		})
		t.Run("InviteRequiresEligibility", func(t *testing.T) {
			young := f.volunteer(t, "young", func(in *ProfileInput) { in.BirthDate = "2012-05-05" })
			o18 := f.published(t, func(in *OpportunityInput) { in.MinAge = 18 })
			_, err := f.svc.Invite(ctx, f.rep, o18.ID, o18.Shifts[0].ID, young.UserID)
			wantCode(t, err, sdk.CodeConflict)
			a, err := f.svc.Invite(ctx, f.rep, o18.ID, o18.Shifts[0].ID, "bystander")
			if err != nil || a.Status != StatusInvited {
				t.Fatalf("%+v, %v", a, err)
			}
			a, err = f.svc.Decide(ctx, sdk.Principal{UserID: "bystander"}, o18.ID, o18.Shifts[0].ID, a.ID, ActionConfirm)
			if err != nil || a.Status != StatusConfirmed {
				t.Fatalf("%+v, %v", a, err)
			}
		})
	})
}
