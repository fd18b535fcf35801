package parks

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
)

// TestService_AreaInheritsParent: the reported bug — a 23:00–02:00 booking
// was accepted in a child area of a park closing at 22:00. A child inherits
// its parent's hours and rules unless it narrows them, in requests, in
// availability and in the rules it shows.
func TestService_AreaInheritsParent(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		park := w.area("Evening park", "", 500, dailyHours("08:00", "22:00"),
			RulesDoc{SlotGranularityMinutes: 30, MinNoticeMinutes: 24 * 60, MaxDurationMinutes: 240, BookingHorizonDays: 90})
		// No hours and no rules of its own: always open, no limits — within the park.
		lawn := w.area("Lawn", park.ID, 100, alwaysOpen(), RulesDoc{})
		// Narrower hours and a longer minimum of its own.
		pond := w.area("Pond", park.ID, 50, dailyHours("10:00", "16:00"), RulesDoc{MinDurationMinutes: 120, SlotGranularityMinutes: 60})

		_, err := w.svc.RequestBooking(ctx, w.rep, w.park.ID, BookingInput{AreaID: lawn.ID, OrganisationID: orgID,
			Start: at(10, 23, 0), End: at(11, 2, 0), Title: "Night music", Category: "art", ExpectedAttendance: 10,
			Contact: Contact{Name: "Ayşe", Email: "ayse@example.org"}})
		wantErr(t, err, sdk.CodeInvalid, schedule.RuleOpeningHours)
		_, err = w.request(w.rep, orgID, lawn, 10, 20, 23)
		wantErr(t, err, sdk.CodeInvalid, schedule.RuleOpeningHours)
		_, err = w.request(w.rep, orgID, lawn, 10, 9, 15) // 6 hours: the park's 4-hour maximum applies
		wantErr(t, err, sdk.CodeInvalid, schedule.RuleMaxDuration)
		_, err = w.request(w.rep, orgID, lawn, 2, 18, 20) // 9 hours ahead: the park's day of notice applies
		wantErr(t, err, sdk.CodeInvalid, schedule.RuleMinNotice)
		if _, err = w.request(w.rep, orgID, lawn, 3, 18, 20); err != nil {
			t.Fatalf("a request within the park's rules: %v", err)
		}
		_, err = w.request(w.rep, orgID, pond, 10, 16, 18)
		wantErr(t, err, sdk.CodeInvalid, schedule.RuleOpeningHours)
		_, err = w.request(w.rep, orgID, pond, 10, 10, 11) // the pond's own 2-hour minimum
		wantErr(t, err, sdk.CodeInvalid, schedule.RuleMinDuration)
		w.mustRequest(w.rep, orgID, pond, 10, 10, 12)

		got, err := w.svc.GetArea(ctx, w.park.ID, lawn.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := RulesDoc{SlotGranularityMinutes: 30, MinNoticeMinutes: 24 * 60, MaxDurationMinutes: 240, BookingHorizonDays: 90}
		if got.EffectiveRules != want || got.Rules != (RulesDoc{}) {
			t.Errorf("lawn: own %+v effective %+v, want own zero and effective %+v", got.Rules, got.EffectiveRules, want)
		}
		if got, _ := w.svc.GetArea(ctx, w.park.ID, pond.ID); got.EffectiveRules.SlotGranularityMinutes != 60 || got.EffectiveRules.MinDurationMinutes != 120 {
			t.Errorf("pond effective %+v, want its own 60-minute grid and 2-hour minimum", got.EffectiveRules)
		}
		loc := w.park.location()
		av, err := w.svc.Availability(ctx, w.park.ID, lawn.ID, time.Date(2025, 6, 10, 0, 0, 0, 0, loc), time.Date(2025, 6, 11, 0, 0, 0, 0, loc))
		if err != nil {
			t.Fatal(err)
		}
		if len(av.Free) != 1 || av.Free[0].Start.Format("15:04") != "08:00" || av.Free[0].End.Format("15:04") != "22:00" {
			t.Errorf("lawn free %v, want 08:00–22:00 only", av.Free)
		}
		t.Run("ErrChildOffParentGrid", func(t *testing.T) {
			_, err := w.svc.CreateArea(ctx, w.admin, w.park.ID, AreaInput{Name: "Kiosk", ParentID: park.ID, Capacity: 5,
				OpeningHours: ptr(dailyHours("08:15", "12:00"))})
			wantErr(t, err, sdk.CodeInvalid, RuleAreaConfig)
		})
	})
}

// TestService_UpdateArea: an edit changes hours, rules and capacity; the
// future bookings it conflicts with (in the area and the areas inside it)
// are listed and kept, a preview saves nothing, and only a manager of the
// park may edit.
func TestService_UpdateArea(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		onStage := w.mustApprove(w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12).ID)
		onMeadow := w.mustRequest(w.rep2, org2ID, w.meadow, 11, 14, 16, func(in *BookingInput) { in.ExpectedAttendance = 250 })
		elsewhere := w.mustRequest(w.rep2, org2ID, w.playground, 10, 8, 10)

		in := AreaInput{Name: "Big meadow", Capacity: 200, OpeningHours: ptr(dailyHours("12:00", "20:00")),
			Rules: w.meadow.Rules, Description: "Grass, some shade.", Accessibility: "Flat gravel path from the gate."}
		prev, err := w.svc.PreviewArea(ctx, w.manager, w.park.ID, w.meadow.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		byID := func(c []Conflict) map[string]string {
			m := map[string]string{}
			for _, x := range c {
				m[x.BookingID] = x.Rule
			}
			return m
		}
		want := map[string]string{onStage.ID: schedule.RuleOpeningHours, onMeadow.ID: RuleCapacity}
		if got := byID(prev.Conflicts); len(got) != 2 || got[onStage.ID] != want[onStage.ID] || got[onMeadow.ID] != want[onMeadow.ID] || prev.Saved {
			t.Fatalf("preview conflicts %v saved %v, want %v unsaved (not %s of a sibling)", got, prev.Saved, want, elsewhere.ID)
		}
		if a, _ := w.svc.GetArea(ctx, w.park.ID, w.meadow.ID); a.Name != "Meadow" || a.Capacity != 300 {
			t.Fatalf("the preview saved: %+v", a)
		}
		ch, err := w.svc.UpdateArea(ctx, w.manager, w.park.ID, w.meadow.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := byID(ch.Conflicts); len(got) != 2 || !ch.Saved || ch.Area.Name != "Big meadow" {
			t.Fatalf("update: %+v conflicts %v", ch.Area, got)
		}
		if b := w.booking(onStage.ID); b.Status != StatusApproved {
			t.Errorf("the conflicting approved booking became %s; an edit must not cancel it", b.Status)
		}
		if b := w.booking(onMeadow.ID); b.Status != StatusRequested {
			t.Errorf("the conflicting request became %s", b.Status)
		}
		a, err := w.svc.GetArea(ctx, w.park.ID, w.meadow.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Capacity != 200 || a.Accessibility != in.Accessibility || a.ParentID != w.whole.ID || !a.UpdatedAt.After(a.CreatedAt.Add(-time.Second)) {
			t.Errorf("stored area %+v", a)
		}
		// The stage now inherits 12:00–20:00, on this node at once.
		_, err = w.request(w.rep, orgID, w.stage, 12, 10, 12)
		wantErr(t, err, sdk.CodeInvalid, schedule.RuleOpeningHours)

		t.Run("ErrStranger", func(t *testing.T) {
			_, err := w.svc.UpdateArea(ctx, w.rep, w.park.ID, w.meadow.ID, in)
			wantErr(t, err, sdk.CodeForbidden, RuleParkManager)
		})
		t.Run("ErrMove", func(t *testing.T) {
			bad := in
			bad.ParentID = w.playground.ID
			_, err := w.svc.UpdateArea(ctx, w.manager, w.park.ID, w.meadow.ID, bad)
			wantErr(t, err, sdk.CodeInvalid, RuleAreaParent)
		})
		t.Run("ErrNUL", func(t *testing.T) {
			bad := in
			bad.Name, bad.Description = "Changed", "a\x00b"
			_, err := w.svc.UpdateArea(ctx, w.manager, w.park.ID, w.meadow.ID, bad)
			wantErr(t, err, sdk.CodeInvalid, RuleText)
			if a, _ := w.svc.GetArea(ctx, w.park.ID, w.meadow.ID); a.Name != "Big meadow" {
				t.Errorf("a refused edit changed the name to %q", a.Name)
			}
		})
		t.Run("ErrChildOffGrid", func(t *testing.T) {
			// A 45-minute grid on the whole park leaves the children's 08:00–20:00 fine but
			// 12:00 on a 45-minute grid is not: the edit is refused for the meadow's sake.
			bad := AreaInput{Name: w.whole.Name, Capacity: w.whole.Capacity, OpeningHours: ptr(dailyHours("00:00", "24:00")),
				Rules: RulesDoc{SlotGranularityMinutes: 45}}
			_, err := w.svc.UpdateArea(ctx, w.manager, w.park.ID, w.whole.ID, bad)
			wantErr(t, err, sdk.CodeInvalid, RuleAreaConfig)
		})
		t.Run("ErrUnknown", func(t *testing.T) {
			_, err := w.svc.UpdateArea(ctx, w.manager, w.park.ID, "no-such-area", in)
			wantErr(t, err, sdk.CodeNotFound, "")
		})
	})
}

// TestService_UpdatePark: a park's address, coordinates and texts are kept
// and shown; bad coordinates and a NUL change nothing.
func TestService_UpdatePark(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		in := ParkEdit{Name: "Kültürpark", ParkDetails: ParkDetails{Description: "Fair grounds and lawns.",
			Address:       Address{StreetAddress: "Şair Eşref Blv. 50", PostalCode: "35220", Locality: "İzmir"},
			Geo:           &Geo{Latitude: 38.4299, Longitude: 27.1432},
			Accessibility: "Step-free from every gate.", Rules: "No amplified sound after 21:00."}}
		p, err := w.svc.UpdatePark(ctx, w.manager, w.park.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.svc.GetPark(ctx, w.park.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != in.Name || got.Address != in.Address || got.Geo == nil || *got.Geo != *in.Geo ||
			got.Rules != in.Rules || got.Accessibility != in.Accessibility || got.Description != in.Description || !got.UpdatedAt.Equal(p.UpdatedAt) {
			t.Fatalf("stored %+v, want %+v", got, in)
		}
		for name, bad := range map[string]ParkEdit{
			"geo":         {Name: "X", ParkDetails: ParkDetails{Geo: &Geo{Latitude: 91}}},
			"description": {Name: "X", ParkDetails: ParkDetails{Description: "a\x00"}},
			"name":        {Name: " "},
		} {
			t.Run("Err_"+name, func(t *testing.T) {
				_, err := w.svc.UpdatePark(ctx, w.manager, w.park.ID, bad)
				wantErr(t, err, sdk.CodeInvalid, "")
				if again, _ := w.svc.GetPark(ctx, w.park.ID); again.Name != in.Name || again.Geo == nil {
					t.Errorf("a refused edit changed the park: %+v", again)
				}
			})
		}
		_, err = w.svc.UpdatePark(ctx, w.rep, w.park.ID, in)
		wantErr(t, err, sdk.CodeForbidden, RuleParkManager)
	})
}

// TestService_FreeSlots: availability by the park's local day, every day
// listed, windows split at midnight, with the rules to show.
func TestService_FreeSlots(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		w.mustApprove(w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12).ID)
		night := w.area("Night garden", "", 20, alwaysOpen(), RulesDoc{SlotGranularityMinutes: 60})
		loc := w.park.location()
		fs, err := w.svc.FreeSlots(ctx, w.park.ID, w.stage.ID, time.Date(2025, 6, 10, 0, 0, 0, 0, loc), time.Date(2025, 6, 12, 0, 0, 0, 0, loc))
		if err != nil {
			t.Fatal(err)
		}
		show := func(fs *FreeSlots) string {
			var parts []string
			for _, d := range fs.Days {
				var ws []string
				for _, f := range d.Free {
					ws = append(ws, f.Start.Format("15:04")+"–"+f.End.Format("15:04"))
				}
				parts = append(parts, d.Date+" "+strings.Join(ws, ","))
			}
			return strings.Join(parts, "; ")
		}
		if got, want := show(fs), "2025-06-10 08:00–10:00,12:00–20:00; 2025-06-11 08:00–20:00"; got != want {
			t.Errorf("stage: %s, want %s", got, want)
		}
		if fs.Rules.SlotGranularityMinutes != 30 || fs.Rules.MinNoticeMinutes != 24*60 {
			t.Errorf("rules %+v", fs.Rules)
		}
		fs, err = w.svc.FreeSlots(ctx, w.park.ID, night.ID, time.Date(2025, 6, 10, 22, 0, 0, 0, loc), time.Date(2025, 6, 11, 2, 0, 0, 0, loc))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := show(fs), "2025-06-10 22:00–00:00; 2025-06-11 00:00–02:00"; got != want {
			t.Errorf("night garden: %s, want %s", got, want)
		}
	})
}

// TestService_Collisions: the manager's queue names the competing requests,
// and the collisions of one booking include the approved events in its way;
// a group cannot read them.
func TestService_Collisions(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		a := w.mustRequest(w.rep, orgID, w.meadow, 10, 10, 12)
		b := w.mustRequest(w.rep2, org2ID, w.stage, 10, 11, 13)
		c := w.mustRequest(w.rep2, org2ID, w.playground, 10, 10, 12) // a sibling: no collision
		page, err := w.svc.ListBookings(ctx, w.manager, w.park.ID, StatusRequested, sdk.ListQuery{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range page.Items {
			want := map[string][]string{a.ID: {b.ID}, b.ID: {a.ID}, c.ID: {}}[x.ID]
			if !slices.Equal(x.CollidesWith, want) || x.Contested != (len(want) > 0) {
				t.Errorf("%s collides with %v (contested %v), want %v", x.ID, x.CollidesWith, x.Contested, want)
			}
		}
		d := w.mustRequest(w.rep, orgID, w.whole, 11, 9, 11)
		w.mustApprove(w.mustRequest(w.rep2, org2ID, w.playground, 11, 10, 12).ID)
		got, err := w.svc.Collisions(ctx, w.manager, w.park.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Status != StatusApproved || got[0].AreaID != w.playground.ID {
			t.Errorf("collisions of the whole-park request: %+v", got)
		}
		_, err = w.svc.Collisions(ctx, w.rep, w.park.ID, a.ID)
		wantErr(t, err, sdk.CodeForbidden, RuleParkManager)
	})
}

// TestService_PreviewClosure: a closure's preview lists the approved events
// it would need to cancel and the requests it would reject, saving nothing.
func TestService_PreviewClosure(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		approved := w.mustApprove(w.mustRequest(w.rep, orgID, w.stage, 10, 10, 12).ID)
		requested := w.mustRequest(w.rep2, org2ID, w.meadow, 10, 13, 15)
		w.mustRequest(w.rep2, org2ID, w.playground, 10, 13, 15) // a sibling of the meadow
		in := ClosureInput{AreaID: w.meadow.ID, Start: at(10, 8, 0), End: at(10, 16, 0), Title: "Mowing"}
		imp, err := w.svc.PreviewClosure(ctx, w.manager, w.park.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(imp.Approved) != 1 || imp.Approved[0].BookingID != approved.ID || len(imp.Requested) != 1 ||
			imp.Requested[0].BookingID != requested.ID || len(imp.Closures) != 0 {
			t.Fatalf("impact %+v", imp)
		}
		if b := w.booking(requested.ID); b.Status != StatusRequested {
			t.Errorf("the preview rejected the request: %s", b.Status)
		}
		_, err = w.svc.PreviewClosure(ctx, w.rep, w.park.ID, in)
		wantErr(t, err, sdk.CodeForbidden, RuleParkManager)
	})
}

// TestService_SetParkPlan: a manager sets a park's plan (an upload id the host
// gave a page form) with its text alternative, which is required; anyone reads
// it with the park; an empty id removes it; others may not.
func TestService_SetParkPlan(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		const id = "01970000-0000-7000-8000-0000000000aa"
		_, err := w.svc.SetParkPlan(ctx, w.manager, w.park.ID, id, " ")
		wantErr(t, err, sdk.CodeInvalid, RulePlanAlt)
		_, err = w.svc.SetParkPlan(ctx, w.manager, w.park.ID, "../etc/passwd", "x")
		wantErr(t, err, sdk.CodeInvalid, RuleText)
		_, err = w.svc.SetParkPlan(ctx, w.rep, w.park.ID, id, "Plan")
		wantErr(t, err, sdk.CodeForbidden, RuleParkManager)
		if p, _ := w.svc.GetPark(ctx, w.park.ID); p.Plan != nil {
			t.Fatalf("a refused plan was kept: %+v", p.Plan)
		}
		alt := "Two gates on the north side; the stage in the middle, the playground by the east gate."
		if _, err := w.svc.SetParkPlan(ctx, w.manager, w.park.ID, id, alt); err != nil {
			t.Fatal(err)
		}
		p, err := w.svc.GetPark(ctx, w.park.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Plan == nil || p.Plan.UploadID != id || p.Plan.URL != "/uploads/"+id || p.Plan.Alt != alt {
			t.Fatalf("plan %+v", p.Plan)
		}
		if _, err := w.svc.SetParkPlan(ctx, w.manager, w.park.ID, "", ""); err != nil {
			t.Fatal(err)
		}
		if p, _ := w.svc.GetPark(ctx, w.park.ID); p.Plan != nil {
			t.Errorf("the plan was not removed: %+v", p.Plan)
		}
	})
}

// TestService_LegacyMisconfiguredArea: an area stored before inheritance whose
// own hours are off its parent's grid is refused with a clear 409 naming
// area_configuration, not an internal error.
func TestService_LegacyMisconfiguredArea(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		kiosk := w.area("Kiosk", "", 100, dailyHours("08:00", "20:00"), RulesDoc{})
		// As an older version could store it: under the whole park (30-minute grid), open from 08:15.
		hours := jsonString(dailyHours("08:15", "20:00"))
		if _, err := w.plugin.db.Exec(w.plugin.db.Rebind(`UPDATE areas SET parent_id = ?, opening_hours = ? WHERE id = ?`), w.whole.ID, hours, kiosk.ID); err != nil {
			t.Fatal(err)
		}
		_, err := w.request(w.rep, orgID, kiosk, 10, 10, 12)
		wantErr(t, err, sdk.CodeConflict, RuleAreaConfig)
	})
}
