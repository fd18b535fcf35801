package assemblies

import (
	"slices"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// adopt tables a motion by ms[0], puts it to a named vote that every one of ms
// supports, and closes it adopted.
func (e *env) adopt(a Assembly, chair sdk.Principal, ms []sdk.Principal, title string) Motion {
	e.t.Helper()
	base := "/api/v1/assemblies/" + a.ID
	m := e.tabled(a, ms[0], title)
	e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/open", map[string]any{"secrecy": "named"})
	for _, p := range append([]sdk.Principal{chair}, ms...) {
		e.Must(201, p, "POST", base+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": "yes"})
	}
	var res CloseResult
	e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/close", nil).Decode(e.t, &res)
	if res.Outcome != StateAdopted {
		e.t.Fatalf("%s: %s", title, res.Outcome)
	}
	return res.Motion
}

func TestLists_AnswersDueCityWide(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a1, c1 := e.assembly("ad1", nil)
		a2, c2 := e.assembly("ad2", nil)
		m1, m2 := e.members(a1, 2), e.members(a2, 2)
		first := e.adopt(a1, c1, m1, "Benches")
		e.clock.Advance(10 * 24 * time.Hour)
		second := e.adopt(a2, c2, m2, "Lights")
		e.clock.Advance(time.Hour)
		answered := e.adopt(a1, c1, m1, "Trees")
		responder := e.user("responder", RoleCityResponder, sdk.DomainCity)
		e.Must(200, responder, "POST", "/api/v1/assemblies/"+a1.ID+"/motions/"+answered.ID+"/answer",
			map[string]any{"decision": "declined", "reasoning": "No room for trees there."})

		var due sdk.Page[DueAnswer]
		e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/answers", nil).Decode(t, &due)
		if len(due.Items) != 2 || due.Items[0].ID != first.ID || due.Items[1].ID != second.ID {
			t.Fatalf("answers due = %+v, want Benches then Lights", due.Items)
		}
		if due.Items[0].AssemblyName != a1.Name || due.Items[1].NeighbourhoodID != "ad2" || due.Items[0].Answer == nil {
			t.Errorf("answers due lack their assembly: %+v", due.Items[0])
		}
		// 25 days on, Benches (due after 30) is overdue and Lights (due after 40) not yet.
		e.clock.Advance(25 * 24 * time.Hour)
		e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/answers?overdue=true", nil).Decode(t, &due)
		if len(due.Items) != 1 || due.Items[0].ID != first.ID || !due.Items[0].Answer.Overdue {
			t.Errorf("overdue = %+v, want Benches only", due.Items)
		}
		if code, _ := errCode(e, sdk.Principal{}, "GET", "/api/v1/assemblies/answers?overdue=maybe", nil); code != 422 {
			t.Errorf("overdue=maybe: %d", code)
		}
		sdktest.WalkPages(t, pages(t, e, sdk.Principal{}, "/api/v1/assemblies/answers", func(d DueAnswer) string { return d.ID }),
			func(i int) { e.adopt(a2, c2, m2, "Later") })
	})
}

func TestLists_ConsultationsMeetingsAndMe(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("lk", nil)
		ms := e.members(a, 2)
		base := "/api/v1/assemblies/" + a.ID
		staff := e.user("planner", RoleCityResponder, sdk.DomainCity)
		var cons Motion
		e.Must(201, staff, "POST", base+"/motions", map[string]any{"kind": "consultation", "title": "Library opening hours",
			"text": "Which hours suit the neighbourhood?", "advice_due_at": t0.Add(14 * 24 * time.Hour)}).Decode(t, &cons)
		e.tabled(a, ms[0], "Benches")

		var list sdk.Page[Motion]
		e.Must(200, sdk.Principal{}, "GET", base+"/motions?kind=consultation", nil).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != cons.ID || list.Items[0].AdviceDueAt == nil {
			t.Errorf("consultations = %+v", list.Items)
		}
		e.Must(200, sdk.Principal{}, "GET", base+"/motions", nil).Decode(t, &list)
		if len(list.Items) != 2 {
			t.Errorf("the assembly's list has %d motions, want the consultation and the motion", len(list.Items))
		}
		e.Do(sdk.Principal{}, "GET", base+"/motions?kind=petition", nil).WantInvalid(t, "kind", sdk.RuleOneOf)

		start := t0.Add(time.Hour)
		var soon, later Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Soon", "starts_at": start,
			"ends_at": start.Add(time.Hour), "place": "Hall"}).Decode(t, &soon)
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Later", "starts_at": start.Add(72 * time.Hour),
			"ends_at": start.Add(73 * time.Hour), "place": "Hall"}).Decode(t, &later)
		e.clock.Set(start.Add(3 * time.Hour))
		ids := func(when string) []string {
			var pg sdk.Page[Meeting]
			e.Must(200, sdk.Principal{}, "GET", base+"/meetings?when="+when, nil).Decode(t, &pg)
			var out []string
			for _, m := range pg.Items {
				out = append(out, m.ID)
			}
			return out
		}
		if got := ids("upcoming"); !slices.Equal(got, []string{later.ID}) {
			t.Errorf("upcoming = %v", got)
		}
		if got := ids("past"); !slices.Equal(got, []string{soon.ID}) {
			t.Errorf("past = %v", got)
		}
		e.Do(sdk.Principal{}, "GET", base+"/meetings?when=someday", nil).WantInvalid(t, "when", sdk.RuleOneOf)

		var me Member
		e.Must(200, ms[0], "GET", base+"/membership", nil).Decode(t, &me)
		if me.UserID != ms[0].UserID || me.Status != MemberActive {
			t.Errorf("membership = %+v", me)
		}
		if code, _ := errCode(e, e.resident("stranger", "lk"), "GET", base+"/membership", nil); code != 404 {
			t.Errorf("a stranger's membership: %d", code)
		}

		m := e.tabled(a, ms[0], "Secret one")
		e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/open", map[string]any{"secrecy": "secret"})
		var st BallotStatus
		e.Must(200, ms[1], "GET", base+"/motions/"+m.ID+"/vote/ballot", nil).Decode(t, &st)
		if !st.Eligible || st.Voted {
			t.Errorf("before voting: %+v", st)
		}
		e.Must(201, ms[1], "POST", base+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": "no"})
		r := e.Must(200, ms[1], "GET", base+"/motions/"+m.ID+"/vote/ballot", nil)
		r.Decode(t, &st)
		if !st.Eligible || !st.Voted || st.CanChange {
			t.Errorf("after voting: %+v", st)
		}
		if slices.Contains([]string{"no", "yes", "abstain"}, string(r.Body)) || len(r.Body) > 80 {
			t.Errorf("the ballot status says more than it should: %s", r.Body)
		}
		e.Must(200, e.resident("newcomer", "lk"), "GET", base+"/motions/"+m.ID+"/vote/ballot", nil).Decode(t, &st)
		if st.Eligible || st.Voted {
			t.Errorf("a non-member: %+v", st)
		}
	})
}

// TestLists_AwaitingAndSummary: the assembly's list of adopted motions waiting for the
// city, overdue or not, and the neighbourhood's cards: the next meeting (not a
// cancelled one, not one of another neighbourhood), the open votes and the latest
// answers.
func TestLists_AwaitingAndSummary(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("sm", nil)
		other, otherChair := e.assembly("elsewhere", nil)
		ms := e.members(a, 2)
		base := "/api/v1/assemblies/" + a.ID
		waiting := e.adopt(a, chair, ms, "Waiting")
		answered := e.adopt(a, chair, ms, "Answered")
		responder := e.user("responder", RoleCityResponder, sdk.DomainCity)
		e.Must(200, responder, "POST", base+"/motions/"+answered.ID+"/answer", map[string]any{"decision": "accepted", "reasoning": "Yes."})
		open := e.tabled(a, ms[0], "Open")
		e.Must(200, chair, "POST", base+"/motions/"+open.ID+"/vote/open", nil)

		var list sdk.Page[Motion]
		e.Must(200, sdk.Principal{}, "GET", base+"/motions?awaiting=true", nil).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != waiting.ID || list.Items[0].Answer.Overdue {
			t.Errorf("awaiting = %+v", list.Items)
		}
		e.clock.Advance(31 * 24 * time.Hour)
		e.Must(200, sdk.Principal{}, "GET", base+"/motions?awaiting=true", nil).Decode(t, &list)
		if len(list.Items) != 1 || !list.Items[0].Answer.Overdue {
			t.Errorf("awaiting, a month on = %+v, want it marked overdue", list.Items)
		}

		at := e.clock.Now()
		meeting := func(chair sdk.Principal, asm Assembly, title string, in time.Duration) Meeting {
			var m Meeting
			e.Must(201, chair, "POST", "/api/v1/assemblies/"+asm.ID+"/meetings", map[string]any{"title": title,
				"starts_at": at.Add(in), "ends_at": at.Add(in + time.Hour), "place": "Hall"}).Decode(t, &m)
			return m
		}
		cancelled := meeting(chair, a, "Cancelled", time.Hour)
		e.Must(200, chair, "POST", base+"/meetings/"+cancelled.ID+"/cancel", map[string]any{"reason": "Flood"})
		meeting(otherChair, other, "Elsewhere", 2*time.Hour)
		next := meeting(chair, a, "Next", 3*time.Hour)
		meeting(chair, a, "Later", 4*time.Hour)

		var sum NeighbourhoodSummary
		e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/summary?neighbourhood_id=sm", nil).Decode(t, &sum)
		if sum.NextMeeting == nil || sum.NextMeeting.ID != next.ID {
			t.Errorf("next meeting = %+v, want %s", sum.NextMeeting, next.ID)
		}
		if len(sum.OpenVotes) != 1 || sum.OpenVotes[0].ID != open.ID {
			t.Errorf("open votes = %+v", sum.OpenVotes)
		}
		if len(sum.LatestAnswers) != 1 || sum.LatestAnswers[0].ID != answered.ID || sum.LatestAnswers[0].Answer.Decision != DecisionAccepted {
			t.Errorf("latest answers = %+v", sum.LatestAnswers)
		}
		var empty NeighbourhoodSummary
		e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/summary?neighbourhood_id=nowhere", nil).Decode(t, &empty)
		if empty.NextMeeting != nil || empty.OpenVotes == nil || len(empty.OpenVotes) != 0 || len(empty.LatestAnswers) != 0 {
			t.Errorf("an empty neighbourhood's summary = %+v", empty)
		}
		e.Do(sdk.Principal{}, "GET", "/api/v1/assemblies/summary", nil).WantInvalid(t, "neighbourhood_id", sdk.RuleRequired)
	})
}
