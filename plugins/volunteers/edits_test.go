package volunteers

import (
	"context"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

func ptr[T any](v T) *T { return &v }

// TestEdits_Opportunity: a patch changes only the fields it names; a required skill
// implying a background check turns the check on; outsiders and cancelled
// opportunities are refused, and a refused patch changes nothing.
func TestEdits_Opportunity(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		o := f.published(t, func(in *OpportunityInput) { in.Description, in.PreferredSkills = "Bring gloves", []string{"cooking"} })
		got, err := f.svc.PatchOpportunity(ctx, f.rep, o.ID, OpportunityPatch{Title: ptr("Beach clean-up"), Newcomers: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "Beach clean-up" || !got.Newcomers || got.Description != "Bring gloves" ||
			len(got.PreferredSkills) != 1 || got.NeedsBackgroundCheck {
			t.Fatalf("after patch: %+v", got)
		}
		if _, err := f.svc.PutSkill(ctx, f.staff, Skill{ID: "working_with_children", NeedsBackgroundCheck: true,
			Names: map[string]string{"en": "Working with children"}}); err != nil {
			t.Fatal(err)
		}
		got, err = f.svc.PatchOpportunity(ctx, f.rep, o.ID, OpportunityPatch{RequiredSkills: []string{"working_with_children"}})
		if err != nil || !got.NeedsBackgroundCheck {
			t.Fatalf("a skill implying a check: %+v, %v", got, err)
		}
		_, err = f.svc.PatchOpportunity(ctx, f.rep, o.ID, OpportunityPatch{NeedsBackgroundCheck: ptr(false)})
		wantCode(t, err, sdk.CodeInvalid)
		_, err = f.svc.PatchOpportunity(ctx, f.rep, o.ID, OpportunityPatch{Title: ptr(" "), MinAge: ptr(200)})
		wantCode(t, err, sdk.CodeInvalid)
		_, err = f.svc.PatchOpportunity(ctx, f.rep, o.ID, OpportunityPatch{RequiredSkills: []string{"juggling"}})
		wantCode(t, err, sdk.CodeInvalid)
		f.host.AddUser(sdk.User{ID: "stranger"})
		_, err = f.svc.PatchOpportunity(ctx, f.host.Principal("stranger"), o.ID, OpportunityPatch{Title: ptr("Mine")})
		wantCode(t, err, sdk.CodeForbidden)
		if now, _ := f.svc.PublicOpportunity(ctx, o.ID); now.Title != "Beach clean-up" || now.MinAge != 0 {
			t.Fatalf("a refused patch changed it: %+v", now)
		}
		if _, err := f.svc.SetState(ctx, f.rep, o.ID, StateCancelled); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.PatchOpportunity(ctx, f.rep, o.ID, OpportunityPatch{Title: ptr("Again")})
		wantCode(t, err, sdk.CodeConflict)
	})
}

// TestEdits_Shift: more places move the wait list up, fewer than held is refused, a
// new time tells those signed up, and a shift can be added.
func TestEdits_Shift(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		o := f.published(t, func(in *OpportunityInput) { in.AutoAccept, in.Shifts = true, []ShiftInput{f.saturday(9, 12, 1)} })
		sh := o.Shifts[0]
		a := f.volunteer(t, "a", nil)
		b := f.volunteer(t, "b", nil)
		for _, p := range []sdk.Principal{a, b} {
			if _, err := f.svc.Apply(ctx, p, o.ID, sh.ID); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.PatchShift(ctx, f.rep, o.ID, sh.ID, ShiftPatch{Capacity: ptr(0)})
		wantCode(t, err, sdk.CodeConflict)
		got, err := f.svc.PatchShift(ctx, f.rep, o.ID, sh.ID, ShiftPatch{Capacity: ptr(2)})
		if err != nil || got.Shifts[0].Taken != 2 || got.Shifts[0].Waitlisted != 0 {
			t.Fatalf("more places: %+v, %v", got.Shifts, err)
		}
		f.wantNotified(t, NotifyPromoted, []string{"b"})
		moved := f.saturday(10, 13, 0)
		if _, err := f.svc.PatchShift(ctx, f.rep, o.ID, sh.ID, ShiftPatch{Start: &moved.Start, End: &moved.End}); err != nil {
			t.Fatal(err)
		}
		f.wantNotified(t, NotifyShiftChanged, []string{"a", "b"})
		_, err = f.svc.PatchShift(ctx, f.rep, o.ID, sh.ID, ShiftPatch{Start: &moved.Start})
		wantCode(t, err, sdk.CodeInvalid)
		got, err = f.svc.AddShift(ctx, f.rep, o.ID, f.saturday(14, 16, 4))
		if err != nil || len(got.Shifts) != 2 || got.Shifts[1].Capacity != 4 || got.Shifts[1].Free != 4 {
			t.Fatalf("add shift: %+v, %v", got.Shifts, err)
		}
		_, err = f.svc.AddShift(ctx, f.rep, o.ID, ShiftInput{Start: "2025-06-01T10:00:00Z", End: "2025-06-01T11:00:00Z", Capacity: 1})
		wantCode(t, err, sdk.CodeInvalid)
	})
}

// TestEdits_Profile: a profile patch keeps what it does not name and checks what it
// does.
func TestEdits_Profile(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		vol := f.volunteer(t, "vol", nil)
		got, err := f.svc.PatchProfile(ctx, vol, ProfilePatch{Languages: []string{"sv", "fi"}, MaxHoursPerWeek: ptr(6)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Languages) != 2 || got.MaxHoursPerWeek != 6 || len(got.Skills) != 1 || got.BirthDate != "1990-01-01" || len(got.Availability) != 7 {
			t.Fatalf("after patch: %+v", got)
		}
		_, err = f.svc.PatchProfile(ctx, vol, ProfilePatch{BirthDate: ptr("2999-01-01")})
		wantCode(t, err, sdk.CodeInvalid)
		_, err = f.svc.PatchProfile(ctx, vol, ProfilePatch{Skills: []string{"juggling"}})
		wantCode(t, err, sdk.CodeInvalid)
		if now, _ := f.svc.Profile(ctx, vol); now.BirthDate != "1990-01-01" || len(now.Skills) != 1 {
			t.Fatalf("a refused patch changed it: %+v", now)
		}
		f.host.AddUser(sdk.User{ID: "new"})
		_, err = f.svc.PatchProfile(ctx, f.host.Principal("new"), ProfilePatch{})
		wantCode(t, err, sdk.CodeNotFound)
	})
}
