package assemblies

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// This file tests issue 18's "fix what people hit": edits, the meeting life cycle,
// hybrid meetings and the sponsors of the motion list, on both databases.

// audited reports whether the fake host's audit log holds action on target.
func audited(e *env, action, target string) bool {
	for _, a := range e.Host.Audits() {
		if a.Action == action && a.Target == target {
			return true
		}
	}
	return false
}

func TestFix_EditAssembly(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("ed", nil)
		ms := e.members(a, 3)
		base := "/api/v1/assemblies/" + a.ID

		// A vote opened under a 50% quorum keeps it when the rules change.
		m := e.tabled(a, ms[0], "Lights")
		e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/open", nil)

		edit := map[string]any{"name": "Kallio residents' assembly", "charter": "We advise the city on Kallio.",
			"quorum_percent": 100, "majority": "two_thirds", "secrecy": "secret", "membership": "approval"}
		if code, ec := errCode(e, ms[1], "PUT", base, edit); code != 403 || ec != "forbidden" {
			t.Errorf("a member edited the assembly: %d %s", code, ec)
		}
		if code, _ := errCode(e, sdk.Principal{}, "PUT", base, edit); code != 401 {
			t.Errorf("anonymous edit: %d", code)
		}
		bad := map[string]any{"name": "x", "quorum_percent": 150, "majority": "simple"}
		e.Do(chair, "PUT", base, bad).WantInvalid(t, "quorum_percent", sdk.RuleRange)
		var got Assembly
		e.Must(200, sdk.Principal{}, "GET", base, nil).Decode(t, &got)
		if got.Name != a.Name || got.QuorumPercent != 50 {
			t.Fatalf("a refused edit changed the assembly: %+v", got)
		}

		e.Must(200, chair, "PUT", base, edit).Decode(t, &got)
		if got.Name != "Kallio residents' assembly" || got.Charter != "We advise the city on Kallio." || got.QuorumPercent != 100 ||
			got.Majority != MajorityTwoThirds || got.Secrecy != SecrecySecret || got.Membership != MembershipApproval {
			t.Fatalf("after edit: %+v", got)
		}
		if !audited(e, "assemblies.assembly.edit", "assembly:"+a.ID) {
			t.Error("the edit is not in the audit log")
		}

		// Two of four vote yes: the open vote's 50% simple majority adopts, where the
		// edited rules (100%, two thirds) would not.
		e.Must(201, ms[0], "POST", base+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": "yes"})
		e.Must(201, ms[1], "POST", base+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": "yes"})
		var res CloseResult
		e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/close", nil).Decode(t, &res)
		if res.Outcome != StateAdopted || res.Motion.Vote.Secrecy != SecrecyNamed || res.Motion.Vote.QuorumPercent != 50 {
			t.Errorf("the open vote took the edited rules: %s %+v", res.Outcome, res.Motion.Vote)
		}
	})
}

func TestFix_EditMeeting(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("em", nil)
		ms := e.members(a, 1)
		base := "/api/v1/assemblies/" + a.ID
		start := t0.Add(24 * time.Hour)
		var mt Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Spring", "starts_at": start,
			"ends_at": start.Add(2 * time.Hour), "place": "Library"}).Decode(t, &mt)
		motion := e.tabled(a, ms[0], "Benches")
		path := base + "/meetings/" + mt.ID

		moved := start.Add(48 * time.Hour)
		edit := map[string]any{"title": "Spring, moved", "starts_at": moved, "ends_at": moved.Add(time.Hour),
			"place": "School hall", "online_url": "https://meet.example.org/spring",
			"agenda": []map[string]any{{"title": "Benches", "motion_id": motion.ID}, {"title": "Any other business"}}}
		if code, _ := errCode(e, ms[0], "PUT", path, edit); code != 403 {
			t.Errorf("a member rescheduled the meeting: %d", code)
		}
		past := map[string]any{"title": "Yesterday", "starts_at": t0.Add(-time.Hour), "ends_at": t0, "place": "Hall"}
		e.Do(chair, "PUT", path, past).WantInvalid(t, "starts_at", RuleFuture)
		foreign := map[string]any{"title": "Spring", "starts_at": moved, "ends_at": moved.Add(time.Hour), "place": "Hall",
			"agenda": []map[string]any{{"title": "Other", "motion_id": "nope"}}}
		e.Do(chair, "PUT", path, foreign).WantInvalid(t, "agenda[0].motion_id", sdk.RuleExists)

		var got Meeting
		e.Must(200, chair, "PUT", path, edit).Decode(t, &got)
		if got.Title != "Spring, moved" || !got.StartsAt.Equal(moved) || got.Place != "School hall" || got.Mode != ModeHybrid ||
			got.Sequence != mt.Sequence+1 || len(got.Agenda) != 2 || got.Agenda[0].MotionID != motion.ID {
			t.Fatalf("after edit: %+v", got)
		}
		if !audited(e, "assemblies.meeting.edit", "meeting:"+mt.ID) {
			t.Error("the edit is not in the audit log")
		}
		told := e.Host.Notifications(NotifyMeetingScheduled)
		if len(told) != 2 {
			t.Fatalf("members heard of the new time %d times in all, want the schedule and the move (2)", len(told))
		}
		// The move is worded as a move, not as a second meeting.
		if title := told[1].Texts["en"].Title; title != "New time: Spring, moved" {
			t.Errorf("the move's notification says %q", title)
		}
		if body := told[1].Texts["en"].Body; !strings.Contains(body, "has moved to") {
			t.Errorf("the move's notification says %q", body)
		}
		// The motion's public timeline says it is on the agenda, then that the meeting moved;
		// an edit that moves nothing adds nothing.
		later := moved.Add(24 * time.Hour)
		edit["starts_at"], edit["ends_at"] = later, later.Add(time.Hour)
		e.Must(200, chair, "PUT", path, edit)
		e.Must(200, chair, "PUT", path, edit)
		var mot Motion
		e.Must(200, sdk.Principal{}, "GET", base+"/motions/"+motion.ID, nil).Decode(t, &mot)
		var kinds []string
		for _, en := range mot.Timeline {
			if en.Kind == "on_agenda" || en.Kind == "meeting_moved" {
				kinds = append(kinds, en.Kind)
				if en.Detail["meeting_id"] != mt.ID || en.ActorID != chair.UserID {
					t.Errorf("timeline entry %+v", en)
				}
			}
		}
		if !slices.Equal(kinds, []string{"on_agenda", "meeting_moved"}) {
			t.Errorf("the motion's timeline says %v of the meeting", kinds)
		}
		moved = later

		e.clock.Set(moved.Add(time.Minute))
		if code, _ := errCode(e, chair, "PUT", path, map[string]any{"title": "Late", "starts_at": moved.Add(24 * time.Hour),
			"ends_at": moved.Add(25 * time.Hour), "place": "Hall"}); code != 409 {
			t.Errorf("a meeting under way was rescheduled: %d", code)
		}
	})
}

func TestFix_EditDraftMotion(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("ej", nil)
		ms := e.members(a, 2)
		base := "/api/v1/assemblies/" + a.ID
		var m Motion
		e.Must(201, ms[0], "POST", base+"/motions", map[string]any{"title": "Bencehs", "text": "Typo."}).Decode(t, &m)
		path := base + "/motions/" + m.ID
		edit := map[string]any{"title": "Benches", "text": "Four benches on the square."}
		for _, p := range []sdk.Principal{ms[1], chair} {
			if code, _ := errCode(e, p, "PUT", path, edit); code != 403 {
				t.Errorf("%s edited someone else's draft: %d", p.UserID, code)
			}
		}
		e.Do(ms[0], "PUT", path, map[string]any{"title": " ", "text": "x"}).WantInvalid(t, "title", sdk.RuleRequired)
		e.Must(200, ms[0], "PUT", path, edit).Decode(t, &m)
		if m.Title != "Benches" || m.Text != "Four benches on the square." {
			t.Fatalf("after edit: %+v", m)
		}
		if last := m.Timeline[len(m.Timeline)-1]; last.Kind != "edited" || last.ActorID != ms[0].UserID {
			t.Errorf("timeline ends in %+v, want the edit", last)
		}
		if !audited(e, "assemblies.motion.edit", "motion:"+m.ID) {
			t.Error("the edit is not in the audit log")
		}
		e.Must(200, ms[0], "POST", path+"/table", nil)
		if code, _ := errCode(e, ms[0], "PUT", path, edit); code != 409 {
			t.Errorf("a tabled motion was edited: %d", code)
		}
	})
}

func TestFix_MeetingLifeCycle(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("lc", nil)
		ms := e.members(a, 2)
		base := "/api/v1/assemblies/" + a.ID

		e.Do(chair, "POST", base+"/meetings", map[string]any{"title": "Last week", "starts_at": t0.Add(-7 * 24 * time.Hour),
			"ends_at": t0.Add(-7*24*time.Hour + time.Hour), "place": "Hall"}).WantInvalid(t, "starts_at", RuleFuture)

		start := t0.Add(24 * time.Hour)
		var mt Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Spring", "starts_at": start,
			"ends_at": start.Add(2 * time.Hour), "place": "Hall"}).Decode(t, &mt)
		if mt.Status != MeetingScheduled {
			t.Fatalf("status %s, want scheduled", mt.Status)
		}
		path := base + "/meetings/" + mt.ID
		m := e.tabled(a, ms[0], "Trees")
		for _, try := range []struct {
			what, action string
			body         any
		}{
			{"attendance", "/attendance", map[string]any{"user_ids": []string{chair.UserID}}},
			{"minutes", "/minutes", map[string]any{"minutes": "We will have met."}},
		} {
			if code, ec := errCode(e, chair, "POST", path+try.action, try.body); code != 409 || ec != "conflict" {
				t.Errorf("%s before the meeting: %d %s", try.what, code, ec)
			}
		}
		e.Do(chair, "POST", base+"/motions/"+m.ID+"/vote/open", map[string]any{"meeting_id": mt.ID}).WantInvalid(t, "meeting_id", RuleStarted)
		var mot Motion
		e.Must(200, sdk.Principal{}, "GET", base+"/motions/"+m.ID, nil).Decode(t, &mot)
		if mot.State != StateTabled {
			t.Fatalf("a refused open changed the motion: %s", mot.State)
		}

		e.clock.Set(start.Add(10 * time.Minute))
		e.Must(200, sdk.Principal{}, "GET", path, nil).Decode(t, &mt)
		if mt.Status != MeetingHeld {
			t.Fatalf("status %s once begun, want held", mt.Status)
		}
		if code, _ := errCode(e, chair, "POST", path+"/cancel", map[string]any{"reason": "Too late"}); code != 409 {
			t.Errorf("a meeting under way was cancelled: %d", code)
		}
		e.Must(200, chair, "POST", path+"/attendance", map[string]any{"user_ids": []string{chair.UserID, ms[0].UserID}})
		e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/open", map[string]any{"meeting_id": mt.ID, "present_only": true}).Decode(t, &mot)
		if mot.Vote.Electorate != 2 {
			t.Errorf("electorate %d, want the two present", mot.Vote.Electorate)
		}
		e.Must(200, chair, "POST", path+"/minutes", map[string]any{"minutes": "We met."})
		e.Must(200, chair, "POST", path+"/minutes/approve", nil)
		e.Must(200, chair, "POST", path+"/minutes/publish", nil).Decode(t, &mt)
		if mt.Status != MeetingHeld || mt.MinutesStatus != MinutesPublished {
			t.Errorf("after minutes: %s, minutes %s", mt.Status, mt.MinutesStatus)
		}
	})
}

func TestFix_HybridMeetings(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("hy", nil)
		ms := e.members(a, 3)
		base := "/api/v1/assemblies/" + a.ID
		start := t0.Add(time.Hour)
		schedule := func(place, link string) Meeting {
			var mt Meeting
			e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Meeting", "starts_at": start,
				"ends_at": start.Add(time.Hour), "place": place, "online_url": link}).Decode(t, &mt)
			return mt
		}
		online, hybrid, room := schedule("", "https://meet.example.org/a"), schedule("Hall", "https://meet.example.org/b"), schedule("Hall", "")
		if online.Mode != ModeOnline || hybrid.Mode != ModeHybrid || room.Mode != ModeInPerson {
			t.Fatalf("modes %s %s %s", online.Mode, hybrid.Mode, room.Mode)
		}
		e.clock.Set(start)
		var mt Meeting
		e.Must(200, chair, "POST", base+"/meetings/"+hybrid.ID+"/attendance", map[string]any{
			"user_ids": []string{chair.UserID}, "remote_user_ids": []string{ms[0].UserID, ms[1].UserID}}).Decode(t, &mt)
		if len(mt.Attendance) != 3 || !slices.Equal(mt.Remote, []string{ms[0].UserID, ms[1].UserID}) {
			t.Errorf("attendance %v, remote %v", mt.Attendance, mt.Remote)
		}
		e.Do(chair, "POST", base+"/meetings/"+room.ID+"/attendance", map[string]any{
			"remote_user_ids": []string{ms[0].UserID}}).WantInvalid(t, "remote_user_ids", RuleOnlineOnly)
		e.Do(chair, "POST", base+"/meetings/"+hybrid.ID+"/attendance", map[string]any{
			"user_ids": []string{ms[2].UserID}, "remote_user_ids": []string{ms[2].UserID}}).WantInvalid(t, "remote_user_ids[0]", RuleOnce)
		// The refused list changed nothing.
		e.Must(200, sdk.Principal{}, "GET", base+"/meetings/"+hybrid.ID, nil).Decode(t, &mt)
		if len(mt.Attendance) != 3 || len(mt.Remote) != 2 {
			t.Errorf("a refused list changed attendance: %v %v", mt.Attendance, mt.Remote)
		}
		// Those who joined from home are present for a vote of those present.
		m := e.tabled(a, ms[0], "Online too")
		var mot Motion
		e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/open", map[string]any{"meeting_id": hybrid.ID, "present_only": true}).Decode(t, &mot)
		if mot.Vote.Electorate != 3 {
			t.Errorf("electorate %d, want 3 (one in the room, two online)", mot.Vote.Electorate)
		}
	})
}

func TestFix_MotionListSponsors(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, _ := e.assembly("sp", nil)
		ms := e.members(a, 3)
		base := "/api/v1/assemblies/" + a.ID
		m := e.tabled(a, ms[0], "Sponsored")
		e.clock.Advance(time.Minute) // the list is oldest first
		e.tabled(a, ms[0], "Alone")
		e.Must(200, ms[1], "POST", base+"/motions/"+m.ID+"/sponsor", nil)
		e.Must(200, ms[2], "POST", base+"/motions/"+m.ID+"/sponsor", nil)
		var one Motion
		e.Must(200, sdk.Principal{}, "GET", base+"/motions/"+m.ID, nil).Decode(t, &one)
		var list sdk.Page[Motion]
		e.Must(200, sdk.Principal{}, "GET", base+"/motions", nil).Decode(t, &list)
		if len(list.Items) != 2 || !slices.Equal(list.Items[0].Sponsors, one.Sponsors) || len(one.Sponsors) != 2 ||
			list.Items[1].Sponsors == nil || len(list.Items[1].Sponsors) != 0 {
			t.Errorf("list sponsors %v / %v, motion shows %v", list.Items[0].Sponsors, list.Items[1].Sponsors, one.Sponsors)
		}
	})
}

// TestFix_InviteSponsors: the author asks members to co-sponsor; each hears of it at
// once in every city language, and nobody else may ask or be asked.
func TestFix_InviteSponsors(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newNotifyEnv(t, cfg)
		a, chair := e.assembly("iv", nil)
		ms := e.members(a, 3)
		base := "/api/v1/assemblies/" + a.ID
		var m Motion
		e.Must(201, ms[0], "POST", base+"/motions", map[string]any{"title": "Benches", "text": "Four."}).Decode(t, &m)
		path := base + "/motions/" + m.ID + "/invite"
		e.Must(200, ms[1], "POST", base+"/motions/"+m.ID+"/sponsor", nil)

		if code, _ := errCode(e, chair, "POST", path, map[string]any{"user_ids": []string{ms[2].UserID}}); code != 403 {
			t.Errorf("the chair invited on someone else's motion: %d", code)
		}
		outsider := e.resident("outsider", "iv")
		e.Do(ms[0], "POST", path, map[string]any{"user_ids": []string{outsider.UserID}}).WantInvalid(t, "user_ids[0]", RuleActive)
		e.Do(ms[0], "POST", path, map[string]any{"user_ids": []string{ms[0].UserID}}).WantInvalid(t, "user_ids[0]", RuleOnce)
		e.Do(ms[0], "POST", path, map[string]any{"user_ids": []string{}}).WantInvalid(t, "user_ids", sdk.RuleRequired)
		if n := len(e.Host.Notifications(NotifySponsorInvited)); n != 0 {
			t.Fatalf("refused invitations told %d", n)
		}

		var got Invited
		e.Must(200, ms[0], "POST", path, map[string]any{"user_ids": []string{ms[1].UserID, ms[2].UserID, chair.UserID, ms[2].UserID}}).Decode(t, &got)
		if !slices.Equal(got.UserIDs, []string{ms[2].UserID, chair.UserID}) {
			t.Errorf("invited %v, want the two who do not sponsor yet, once each", got.UserIDs)
		}
		n := reached(t, e, NotifySponsorInvited, motionSubject(m.ID))
		if !slices.Equal(n.To, ids(chair, ms[2])) {
			t.Errorf("the invitation reached %v", n.To)
		}
		for _, lang := range []string{"fi", "sv", "en", "da", "tr"} {
			if txt := n.Texts[lang]; txt.Title == "" || !strings.Contains(txt.Body, "Benches") || !strings.Contains(txt.Body, "Resident iv-m000") {
				t.Errorf("%s: %+v", lang, txt)
			}
		}
		e.Must(200, ms[0], "POST", base+"/motions/"+m.ID+"/withdraw", nil)
		if code, _ := errCode(e, ms[0], "POST", path, map[string]any{"user_ids": []string{ms[2].UserID}}); code != 409 {
			t.Errorf("invited on a withdrawn motion: %d", code)
		}
	})
}

// TestFix_EditsStayInTheirAssembly attacks the edits' object checks: a coordinator of
// another neighbourhood, the chair of another assembly and a plain member are refused,
// a meeting or motion named under the wrong assembly is not found, and nothing they
// sent changed anything; the coordinator of the assembly's own neighbourhood may.
func TestFix_EditsStayInTheirAssembly(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("x1", nil)
		b, otherChair := e.assembly("x2", nil)
		ms := e.members(a, 1)
		base := "/api/v1/assemblies/" + a.ID
		start := t0.Add(24 * time.Hour)
		var mt Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Spring", "starts_at": start,
			"ends_at": start.Add(time.Hour), "place": "Hall"}).Decode(t, &mt)
		var draft Motion
		e.Must(201, ms[0], "POST", base+"/motions", map[string]any{"title": "Mine", "text": "Draft."}).Decode(t, &draft)

		asm := map[string]any{"name": "Taken over", "quorum_percent": 10}
		meet := map[string]any{"title": "Moved", "starts_at": start.Add(time.Hour), "ends_at": start.Add(2 * time.Hour), "place": "Elsewhere"}
		foreignCoord := e.user("coord-x2", sdktest.RoleCoordinator, "nbh:x2")
		for _, p := range []sdk.Principal{foreignCoord, otherChair, ms[0]} {
			if code, _ := errCode(e, p, "PUT", base, asm); code != 403 {
				t.Errorf("%s edited the assembly: %d", p.UserID, code)
			}
			if code, _ := errCode(e, p, "PUT", base+"/meetings/"+mt.ID, meet); code != 403 {
				t.Errorf("%s moved the meeting: %d", p.UserID, code)
			}
		}
		// The right ids under the wrong assembly.
		if code, _ := errCode(e, otherChair, "PUT", "/api/v1/assemblies/"+b.ID+"/meetings/"+mt.ID, meet); code != 404 {
			t.Errorf("a meeting edited through another assembly: %d", code)
		}
		if code, _ := errCode(e, ms[0], "PUT", "/api/v1/assemblies/"+b.ID+"/motions/"+draft.ID, map[string]any{"title": "x", "text": "y"}); code != 404 {
			t.Errorf("a draft edited through another assembly: %d", code)
		}
		var got Assembly
		e.Must(200, sdk.Principal{}, "GET", base, nil).Decode(t, &got)
		var gotMeeting Meeting
		e.Must(200, sdk.Principal{}, "GET", base+"/meetings/"+mt.ID, nil).Decode(t, &gotMeeting)
		if got.Name != a.Name || !gotMeeting.StartsAt.Equal(start) || gotMeeting.Title != "Spring" {
			t.Fatalf("refused edits changed things: %+v / %+v", got, gotMeeting)
		}
		ownCoord := e.user("coord-x1", sdktest.RoleCoordinator, "nbh:x1")
		e.Must(200, ownCoord, "PUT", base+"/meetings/"+mt.ID, meet)
		e.Must(200, ownCoord, "PUT", base, asm).Decode(t, &got)
		if got.Name != "Taken over" {
			t.Errorf("the neighbourhood's coordinator could not edit: %+v", got)
		}
	})
}
