package assemblies

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/seal"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		majority             string
		pct, abs, electorate int
		c                    Counts
		want                 string
	}{
		{"StoryAdopted", MajoritySimple, 50, 0, 9, Counts{4, 1, 1}, StateAdopted},
		{"QuorumRoundsUp", MajoritySimple, 50, 0, 9, Counts{4, 0, 0}, StateNoQuorum},
		{"QuorumExact", MajoritySimple, 50, 0, 10, Counts{5, 0, 0}, StateAdopted},
		{"AbstentionsCountForQuorum", MajoritySimple, 50, 0, 10, Counts{1, 0, 4}, StateAdopted},
		{"SimpleTie", MajoritySimple, 10, 0, 10, Counts{2, 2, 0}, StateRejected},
		{"NoBallots", MajoritySimple, 0, 1, 10, Counts{}, StateNoQuorum},
		{"AbsoluteQuorum", MajoritySimple, 0, 3, 100, Counts{2, 0, 0}, StateNoQuorum},
		{"AbsoluteMajorityAbstainsCount", MajorityAbsolute, 50, 0, 10, Counts{3, 1, 2}, StateRejected},
		{"AbsoluteMajority", MajorityAbsolute, 50, 0, 10, Counts{4, 1, 2}, StateAdopted},
		{"TwoThirdsExact", MajorityTwoThirds, 50, 0, 9, Counts{4, 2, 3}, StateAdopted},
		{"TwoThirdsShort", MajorityTwoThirds, 50, 0, 9, Counts{3, 2, 4}, StateRejected},
		{"TwoThirdsAllAbstain", MajorityTwoThirds, 50, 0, 9, Counts{0, 0, 9}, StateRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.majority, tc.pct, tc.abs, tc.electorate, tc.c); got != tc.want {
				t.Errorf("Decide = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestPlugin_Story is the story in-process (fake host); the same story runs
// through the real host in hosted_test.go once sdktest exists.
func TestPlugin_Story(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("n1", nil)
		ms := e.members(a, 8) // nine members with the chair
		base := "/api/v1/assemblies/" + a.ID

		var members sdk.Page[Member]
		e.Must(200, sdk.Principal{}, "GET", base+"/members", nil).Decode(t, &members)
		if len(members.Items) != 9 || members.Items[0].DisplayName == "" || members.Items[0].UserID != chair.UserID {
			t.Fatalf("members = %+v", members)
		}

		var mt Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{
			"title": "Spring assembly", "starts_at": t0.Add(48 * time.Hour), "ends_at": t0.Add(50 * time.Hour),
			"place": "Library, room 2", "agenda": []map[string]any{{"title": "Welcome"}},
		}).Decode(t, &mt)

		m := e.tabled(a, ms[0], "Benches on the square")
		e.clock.Advance(48 * time.Hour)
		e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/open", map[string]any{"meeting_id": mt.ID}).Decode(t, &m)
		if m.State != StateVoting || m.Vote.Electorate != 9 {
			t.Fatalf("after open: %+v", m.Vote)
		}
		late := e.resident("late", "n1")
		e.Must(201, late, "POST", base+"/members", nil)

		choices := []string{"yes", "yes", "yes", "yes", "no", "abstain"}
		for i, c := range choices {
			e.Must(201, ms[i], "POST", base+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": c})
		}
		if code, ec := errCode(e, late, "POST", base+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": "yes"}); code != 403 || ec != "forbidden" {
			t.Errorf("late joiner voted: %d %s", code, ec)
		}
		var closed CloseResult
		e.Must(200, chair, "POST", base+"/motions/"+m.ID+"/vote/close", nil).Decode(t, &closed)
		if closed.Outcome != StateAdopted || closed.Counts != (Counts{4, 1, 1}) {
			t.Fatalf("close = %s %+v", closed.Outcome, closed.Counts)
		}
		if closed.Motion.Answer == nil || closed.Motion.Answer.Status != AnswerSubmitted {
			t.Fatalf("answer = %+v", closed.Motion.Answer)
		}

		admin := e.admin()
		e.Must(200, admin, "POST", base+"/motions/"+m.ID+"/acknowledge", nil)
		e.Must(200, admin, "POST", base+"/motions/"+m.ID+"/answer", map[string]any{
			"decision": "partly_accepted", "reasoning": "Two benches this year, two next year.",
		})
		e.Must(200, admin, "POST", base+"/motions/"+m.ID+"/implemented", nil)

		var got Motion
		e.Must(200, sdk.Principal{}, "GET", base+"/motions/"+m.ID, nil).Decode(t, &got)
		var kinds []string
		for _, te := range got.Timeline {
			kinds = append(kinds, te.Kind)
		}
		want := []string{"drafted", "tabled", "vote_opened", "vote_closed", "submitted_to_city", "acknowledged", "answered", "implemented"}
		if !slices.Equal(kinds, want) {
			t.Errorf("timeline = %v, want %v", kinds, want)
		}
		if got.Answer.Decision != DecisionPartlyAccepted || got.Answer.Overdue {
			t.Errorf("answer = %+v", got.Answer)
		}

		var pop PopoloExport
		e.Must(200, sdk.Principal{}, "GET", base+"/popolo", nil).Decode(t, &pop)
		if len(pop.VoteEvents) != 1 || len(pop.VoteEvents[0].Votes) != 6 {
			t.Fatalf("popolo = %+v", pop)
		}
		counts := map[string]int{}
		for _, v := range pop.VoteEvents[0].Votes {
			counts[v.Option]++
		}
		for _, c := range pop.VoteEvents[0].Counts {
			if counts[c.Option] != c.Value {
				t.Errorf("popolo count %s = %d, votes say %d", c.Option, c.Value, counts[c.Option])
			}
		}
		if pop.VoteEvents[0].Result != "pass" || pop.Motions[0].Result != "pass" {
			t.Errorf("popolo result = %+v", pop.VoteEvents[0])
		}

		evs := e.Host.EventTypes()
		for _, typ := range []string{EventMotionTabled, EventVoteOpened, EventMotionAdopted, EventMotionAcknowledged, EventMotionAnswered, EventMotionImplemented} {
			if !slices.Contains(evs, typ) {
				t.Errorf("event %s not published; got %v", typ, evs)
			}
		}
	})
}

func TestService_CastBallot(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		for _, secrecy := range []string{SecrecyNamed, SecrecySecret} {
			t.Run("Concurrent50_"+secrecy, func(t *testing.T) {
				e := newEnv(t, cfg, nil)
				a, chair := e.assembly("c-"+secrecy, map[string]any{"secrecy": secrecy})
				ms := e.members(a, 2)
				m := e.tabled(a, ms[0], "Concurrency")
				base := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
				e.Must(200, chair, "POST", base+"/vote/open", nil)
				var wg sync.WaitGroup
				codes := make([]int, 50)
				for i := range codes {
					wg.Go(func() {
						codes[i] = e.Do(ms[1], "POST", base+"/vote/ballots", map[string]any{"choice": []string{"yes", "no"}[i%2]}).Status
					})
				}
				wg.Wait()
				created := 0
				for _, c := range codes {
					switch c {
					case 201:
						created++
					case 409:
					default:
						t.Errorf("ballot answered %d", c)
					}
				}
				if created != 1 {
					t.Errorf("%d ballots accepted, want 1", created)
				}
				var closed CloseResult
				e.Must(200, chair, "POST", base+"/vote/close", nil).Decode(t, &closed)
				if closed.Counts.Total() != 1 {
					t.Errorf("counts %+v, want one ballot", closed.Counts)
				}
			})
		}
		for _, secrecy := range []string{SecrecyNamed, SecrecySecret} {
			// Ballots racing the close: each is either counted by it (201) or refused as
			// late (409), never accepted and lost.
			t.Run("RaceWithClose_"+secrecy, func(t *testing.T) {
				e := newEnv(t, cfg, nil)
				a, chair := e.assembly("r-"+secrecy, map[string]any{"secrecy": secrecy})
				ms := e.members(a, 30)
				m := e.tabled(a, ms[0], "Race")
				base := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
				e.Must(200, chair, "POST", base+"/vote/open", nil)
				var wg sync.WaitGroup
				codes := make([]int, len(ms))
				for i := range ms {
					wg.Go(func() {
						codes[i] = e.Do(ms[i], "POST", base+"/vote/ballots", map[string]any{"choice": Choices[i%3]}).Status
					})
				}
				var closed CloseResult
				wg.Go(func() { e.Must(200, chair, "POST", base+"/vote/close", nil).Decode(t, &closed) })
				wg.Wait()
				accepted := 0
				for _, c := range codes {
					switch c {
					case 201:
						accepted++
					case 409:
					default:
						t.Errorf("ballot answered %d", c)
					}
				}
				if closed.Counts.Total() != accepted {
					t.Errorf("close counted %+v, but %d ballots were accepted", closed.Counts, accepted)
				}
			})
		}
		t.Run("ErrBadBallots", func(t *testing.T) {
			e := newEnv(t, cfg, nil)
			a, chair := e.assembly("b1", nil)
			other, _ := e.assembly("b2", nil)
			ms := e.members(a, 3)
			outsider := e.members(other, 1)[0]
			m := e.tabled(a, ms[0], "Bad ballots")
			base := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
			ballot := func(p sdk.Principal, choice string) (int, string) {
				return errCode(e, p, "POST", base+"/vote/ballots", map[string]any{"choice": choice})
			}
			if code, ec := ballot(ms[1], "yes"); code != 409 || ec != "conflict" {
				t.Errorf("before open: %d %s", code, ec)
			}
			e.Must(200, chair, "POST", base+"/vote/open", nil)
			for name, tc := range map[string]struct {
				p      sdk.Principal
				choice string
				status int
			}{
				"UnknownOption":    {ms[1], "maybe", 422},
				"OtherAssembly":    {outsider, "yes", 403},
				"NonMember":        {e.resident("stranger", "b1"), "yes", 403},
				"Anonymous":        {sdk.Principal{}, "yes", 401},
				"OtherNbhResident": {e.resident("far", "b2"), "yes", 403},
			} {
				if code, _ := ballot(tc.p, tc.choice); code != tc.status {
					t.Errorf("%s: status %d, want %d", name, code, tc.status)
				}
			}
			e.Must(201, ms[1], "POST", base+"/vote/ballots", map[string]any{"choice": "yes"})
			if code, _ := ballot(ms[1], "no"); code != 409 {
				t.Errorf("twice: %d", code)
			}
			if code, _ := errCode(e, ms[1], "POST", base+"/vote/close", nil); code != 403 {
				t.Errorf("non-chair close: %d", code)
			}
			e.Must(200, chair, "POST", base+"/vote/close", nil)
			if code, _ := ballot(ms[2], "yes"); code != 409 {
				t.Errorf("after close: %d", code)
			}
			if code, _ := errCode(e, chair, "POST", base+"/vote/close", nil); code != 409 {
				t.Errorf("close twice: %d", code)
			}
			if code, _ := errCode(e, chair, "POST", base+"/vote/open", nil); code != 409 {
				t.Errorf("reopen: %d", code)
			}
			var got Motion
			e.Must(200, sdk.Principal{}, "GET", base, nil).Decode(t, &got)
			if *got.Vote.Counts != (Counts{Yes: 1}) {
				t.Errorf("counts changed by bad ballots: %+v", got.Vote.Counts)
			}
		})
		t.Run("ChangeNamedBallot", func(t *testing.T) {
			e := newEnv(t, cfg, nil)
			a, chair := e.assembly("ch", map[string]any{"ballot_changeable": true})
			ms := e.members(a, 1)
			m := e.tabled(a, ms[0], "Change")
			base := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
			e.Must(200, chair, "POST", base+"/vote/open", nil)
			e.Must(201, ms[0], "POST", base+"/vote/ballots", map[string]any{"choice": "no"})
			var rc Receipt
			e.Must(201, ms[0], "POST", base+"/vote/ballots", map[string]any{"choice": "yes"}).Decode(t, &rc)
			if !rc.Changed {
				t.Error("receipt does not say changed")
			}
			var closed CloseResult
			e.Must(200, chair, "POST", base+"/vote/close", nil).Decode(t, &closed)
			if closed.Counts != (Counts{Yes: 1}) {
				t.Errorf("counts %+v", closed.Counts)
			}
		})
	})
}

// dumpTables returns every row of every table a vote writes, canonically ordered.
func dumpTables(t *testing.T, e *env) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"voters", "electorate", "secret_tally", "sealed_ballots", "secret_ballots", "named_ballots", "timeline", "motions", "kvarter_outbox"} {
		rows, err := e.svc.db.Queryx(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			m := map[string]any{}
			if err := rows.MapScan(m); err != nil {
				t.Fatal(err)
			}
			if table == "kvarter_outbox" || table == "timeline" || table == "motions" {
				delete(m, "id") // unrelated to ballots; event ids and times come from the SDK's clock
				delete(m, "occurred_at")
			}
			for k, v := range m {
				if bs, ok := v.([]byte); ok {
					m[k] = string(bs)
				}
			}
			if sealed, ok := m["sealed"].(string); ok {
				// Random by design (a fresh nonce each); its length must not vary.
				m["sealed"] = fmt.Sprintf("%d bytes", len(sealed))
			}
			j, _ := json.Marshal(m)
			lines = append(lines, string(j))
		}
		rows.Close()
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s:\n%s\n", table, strings.Join(lines, "\n"))
	}
	return b.String()
}

// TestService_SecretVoteUnlinkable casts the same ballots twice with the voters'
// choices swapped around, and checks that the stored data is identical: nothing in
// the tables depends on who chose what, so nothing can link a person to a choice.
func TestService_SecretVoteUnlinkable(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		run := func(t *testing.T, choices []string) (open, closed string, counts Counts) {
			e := newEnv(t, cfg, nil)
			a, chair := e.assembly("s", map[string]any{"secrecy": "secret"})
			ms := e.members(a, len(choices))
			m := e.tabled(a, ms[0], "Secret")
			base := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
			e.Must(200, chair, "POST", base+"/vote/open", nil)
			for i, c := range choices {
				var rc Receipt
				e.Must(201, ms[i], "POST", base+"/vote/ballots", map[string]any{"choice": c}).Decode(t, &rc)
				if rc.Choice != "" {
					t.Errorf("secret receipt repeats the choice: %+v", rc)
				}
				e.clock.Advance(time.Minute)
			}
			var pop PopoloExport
			open = dumpTables(t, e)
			var result CloseResult
			e.Must(200, chair, "POST", base+"/vote/close", nil).Decode(t, &result)
			e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/"+a.ID+"/popolo", nil).Decode(t, &pop)
			if len(pop.VoteEvents[0].Votes) != 0 {
				t.Errorf("popolo lists votes of a secret vote: %+v", pop.VoteEvents[0].Votes)
			}
			return open, dumpTables(t, e), result.Counts
		}
		o1, d1, c1 := run(t, []string{"yes", "no", "abstain", "yes"})
		o2, d2, c2 := run(t, []string{"no", "yes", "yes", "abstain"})
		if c1 != c2 || c1 != (Counts{2, 1, 1}) {
			t.Errorf("counts %+v and %+v", c1, c2)
		}
		if o1 != o2 {
			t.Errorf("stored data during the vote differs when only who-chose-what differs:\n%s\n---\n%s", o1, o2)
		}
		if strings.Count(o1, `"sealed":"`+fmt.Sprint(sealedSize+seal.Overhead)+` bytes"`) != 4 {
			t.Errorf("dump during the vote does not hold 4 sealed ballots of one size:\n%s", o1)
		}
		if d1 != d2 {
			t.Errorf("stored data after the close differs when only who-chose-what differs:\n%s\n---\n%s", d1, d2)
		}
		if strings.Count(d1, `{"choice":"yes","motion_id"`) != 2 || strings.Contains(d1, `"sealed":`) {
			t.Errorf("dump after the close does not hold the opened ballots (and no sealed ones):\n%s", d1)
		}
	})
}

func TestService_Calendar(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("cal", nil)
		base := "/api/v1/assemblies/" + a.ID
		long := strings.Repeat("Ärende; om parken, \"bänkar\" och träd — ", 6)
		var m1, m2 Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{
			"title": long, "starts_at": t0.Add(24 * time.Hour), "ends_at": t0.Add(26 * time.Hour),
			"place": "Folkets hus, sal 1; ingång B", "online_url": "https://meet.example/x?y=1,2",
			"agenda": []map[string]any{{"title": "Budget, parks; benches"}, {"title": "Övrigt"}},
		}).Decode(t, &m1)
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{
			"title": "Cancelled one", "starts_at": t0.Add(72 * time.Hour), "ends_at": t0.Add(73 * time.Hour), "place": "Hall",
		}).Decode(t, &m2)
		e.Must(200, chair, "POST", base+"/meetings/"+m2.ID+"/cancel", map[string]any{"reason": "Storm warning"})
		feed := e.Must(200, sdk.Principal{}, "GET", base+"/calendar.ics", nil).Body
		if err := ical.Validate(feed); err != nil {
			t.Fatalf("feed invalid: %v\n%s", err, feed)
		}
		s := string(feed)
		for _, want := range []string{"UID:" + m1.ID + "@assemblies.kvarter", "STATUS:CANCELLED", "STATUS:CONFIRMED", "DTSTAMP:", "\r\n "} {
			if !strings.Contains(s, want) {
				t.Errorf("feed lacks %q", want)
			}
		}
		if strings.Count(s, "BEGIN:VEVENT") != 2 || strings.Count(s, "DTSTAMP:") != 2 {
			t.Errorf("feed has wrong events:\n%s", s)
		}
		t.Run("ErrEndsBeforeStart", func(t *testing.T) {
			code, ec := errCode(e, chair, "POST", base+"/meetings", map[string]any{
				"title": "Backwards", "starts_at": t0.Add(2 * time.Hour), "ends_at": t0.Add(time.Hour), "place": "Hall",
			})
			if code != 422 || ec != "invalid" {
				t.Errorf("status %d %s", code, ec)
			}
			var ms sdk.Page[Meeting]
			e.Must(200, sdk.Principal{}, "GET", base+"/meetings", nil).Decode(t, &ms)
			if len(ms.Items) != 2 {
				t.Errorf("%d meetings after a rejected one", len(ms.Items))
			}
		})
	})
}

func TestService_CreateAssembly(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		e.neighbourhood("n1")
		e.neighbourhood("n2")
		good := map[string]any{"neighbourhood_id": "n1", "name": "A", "quorum_percent": 50}
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for kk, vv := range good {
				m[kk] = vv
			}
			m[k] = v
			return m
		}
		for name, tc := range map[string]struct {
			body        map[string]any
			field, rule string
		}{
			"QuorumOver100":  {with("quorum_percent", 101), "quorum_percent", sdk.RuleRange},
			"QuorumNegative": {with("quorum_percent", -5), "quorum_percent", sdk.RuleRange},
			"QuorumBoth":     {with("quorum_absolute", 3), "quorum_percent", RuleEitherOr},
			"QuorumMissing":  {with("quorum_percent", 0), "quorum_percent", RuleEitherOr},
			"Majority":       {with("majority", "most"), "majority", sdk.RuleOneOf},
			"Secrecy":        {with("secrecy", "open"), "secrecy", sdk.RuleOneOf},
			"Name":           {with("name", " "), "name", sdk.RuleRequired},
			"Neighbourhood":  {with("neighbourhood_id", "nowhere"), "neighbourhood_id", sdk.RuleExists},
		} {
			t.Run("Err"+name, func(t *testing.T) {
				e.Do(e.admin(), "POST", "/api/v1/assemblies", tc.body).WantInvalid(t, tc.field, tc.rule)
			})
		}
		t.Run("ErrCoordinatorElsewhere", func(t *testing.T) {
			coord := e.user("coord", sdktest.RoleCoordinator, "nbh:n2")
			if code, _ := errCode(e, coord, "POST", "/api/v1/assemblies", good); code != 403 {
				t.Errorf("status %d", code)
			}
			if code, _ := errCode(e, e.resident("r", "n1"), "POST", "/api/v1/assemblies", good); code != 403 {
				t.Errorf("resident: status %d", code)
			}
		})
		t.Run("ErrMalformed", func(t *testing.T) {
			if code, _ := errCode(e, e.admin(), "POST", "/api/v1/assemblies", map[string]any{"name": 5}); code != 400 {
				t.Errorf("status %d", code)
			}
		})
		t.Run("OKCoordinator", func(t *testing.T) {
			coord := e.user("coord2", sdktest.RoleCoordinator, "nbh:n1")
			var a Assembly
			e.Must(201, coord, "POST", "/api/v1/assemblies", good).Decode(t, &a)
			if a.Majority != MajoritySimple || a.Secrecy != SecrecyNamed || a.Membership != MembershipOpen {
				t.Errorf("defaults: %+v", a.Rules)
			}
			var list sdk.Page[Assembly]
			e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies?neighbourhood_id=n1", nil).Decode(t, &list)
			if len(list.Items) != 1 || list.Items[0].ID != a.ID || list.NextCursor != "" {
				t.Errorf("list = %+v", list)
			}
		})
	})
}

func TestService_Membership(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, map[string]string{SettingMemberListPublic: "false"})
		a, chair := e.assembly("ap", map[string]any{"membership": "approval", "org_seats": 1})
		base := "/api/v1/assemblies/" + a.ID

		r := e.resident("applicant", "ap")
		var m Member
		e.Must(201, r, "POST", base+"/members", nil).Decode(t, &m)
		if m.Status != MemberPending {
			t.Fatalf("status %s", m.Status)
		}
		if code, _ := errCode(e, r, "POST", base+"/members", nil); code != 409 {
			t.Errorf("apply twice: %d", code)
		}
		if code, _ := errCode(e, e.resident("elsewhere", "zz"), "POST", base+"/members", nil); code != 403 {
			t.Errorf("resident of another neighbourhood joined: %d", code)
		}
		if code, _ := errCode(e, r, "POST", base+"/members/"+r.UserID+"/approve", nil); code != 403 {
			t.Errorf("self-approval: %d", code)
		}
		e.Must(200, chair, "POST", base+"/members/"+r.UserID+"/approve", nil).Decode(t, &m)
		if m.Status != MemberActive {
			t.Errorf("status %s", m.Status)
		}
		if code, _ := errCode(e, chair, "POST", base+"/members/"+r.UserID+"/remove", map[string]any{}); code != 422 {
			t.Errorf("removal without reason: %d", code)
		}

		t.Run("HiddenList", func(t *testing.T) {
			if code, _ := errCode(e, sdk.Principal{}, "GET", base+"/members", nil); code != 401 {
				t.Errorf("anonymous: %d", code)
			}
			if code, _ := errCode(e, e.resident("nosy", "ap"), "GET", base+"/members", nil); code != 403 {
				t.Errorf("non-member: %d", code)
			}
			var list sdk.Page[Member]
			e.Must(200, r, "GET", base+"/members", nil).Decode(t, &list)
			if len(list.Items) != 2 {
				t.Errorf("members = %+v", list)
			}
		})

		t.Run("Delegate", func(t *testing.T) {
			e.Host.AddUser(sdk.User{ID: "rep", DisplayName: "Rep"})
			e.Host.AddOrganisation(sdk.Organisation{ID: "o1", Name: "Park friends", Verified: true, NeighbourhoodIDs: []string{"ap"}, Representatives: []string{"rep"}})
			e.Host.AddOrganisation(sdk.Organisation{ID: "o2", Name: "Chess club", Verified: true, NeighbourhoodIDs: []string{"ap"}, Representatives: []string{"rep"}})
			rep := e.As("rep")
			e.Must(201, rep, "POST", base+"/delegates", map[string]any{"organisation_id": "o1"}).Decode(t, &m)
			if m.Kind != KindDelegate || m.Status != MemberActive {
				t.Errorf("delegate = %+v", m)
			}
			if code, _ := errCode(e, rep, "POST", base+"/delegates", map[string]any{"organisation_id": "o2", "user_id": "applicant"}); code != 409 {
				t.Errorf("over the seat limit: %d", code)
			}
		})

		e.Must(200, chair, "POST", base+"/members/"+r.UserID+"/remove", map[string]any{"reason": "Moved away"}).Decode(t, &m)
		if m.Status != MemberRemoved || m.EndReason != "Moved away" {
			t.Errorf("removed = %+v", m)
		}
	})
}

func TestService_Answer(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, map[string]string{SettingAnswerDeadlineDays: "10"})
		a, chair := e.assembly("ans", nil)
		ms := e.members(a, 1)
		m := e.tabled(a, ms[0], "Lights")
		base := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
		if code, _ := errCode(e, e.admin(), "POST", base+"/answer", map[string]any{"decision": "accepted", "reasoning": "x"}); code != 409 {
			t.Errorf("answer before adoption: %d", code)
		}
		e.Must(200, chair, "POST", base+"/vote/open", nil)
		e.Must(201, ms[0], "POST", base+"/vote/ballots", map[string]any{"choice": "yes"})
		e.Must(200, chair, "POST", base+"/vote/close", nil)

		responder := e.user("resp", RoleCityResponder, sdk.DomainCity)
		if code, _ := errCode(e, ms[0], "POST", base+"/answer", map[string]any{"decision": "accepted", "reasoning": "x"}); code != 403 {
			t.Errorf("resident answered: %d", code)
		}
		if code, _ := errCode(e, responder, "POST", base+"/answer", map[string]any{"decision": "accepted"}); code != 422 {
			t.Errorf("answer without reasoning: %d", code)
		}
		e.clock.Advance(11 * 24 * time.Hour)
		var overdue sdk.Page[Motion]
		e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/"+a.ID+"/motions?overdue=true", nil).Decode(t, &overdue)
		if len(overdue.Items) != 1 || !overdue.Items[0].Answer.Overdue {
			t.Fatalf("overdue = %+v", overdue)
		}
		var asm Assembly
		e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/"+a.ID, nil).Decode(t, &asm)
		if asm.OverdueAnswers != 1 {
			t.Errorf("overdue_answers = %d", asm.OverdueAnswers)
		}
		var got Motion
		e.Must(200, responder, "POST", base+"/answer", map[string]any{"decision": "declined", "reasoning": "No budget this year."}).Decode(t, &got)
		if !got.Answer.Overdue || got.Answer.Status != AnswerAnswered {
			t.Errorf("late answer not marked: %+v", got.Answer)
		}
		if code, _ := errCode(e, responder, "POST", base+"/implemented", nil); code != 409 {
			t.Errorf("declined marked implemented: %d", code)
		}
		e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/"+a.ID+"/motions?overdue=true", nil).Decode(t, &overdue)
		if len(overdue.Items) != 0 {
			t.Errorf("answered motion still listed overdue")
		}
	})
}

func TestPlugin_HandleEvent(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("er", nil)
		ms := e.members(a, 2)
		m := e.tabled(a, ms[0], "Erasure")
		base := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
		e.Must(200, chair, "POST", base+"/vote/open", nil)
		e.Must(201, ms[0], "POST", base+"/vote/ballots", map[string]any{"choice": "yes"})
		e.Must(201, ms[1], "POST", base+"/vote/ballots", map[string]any{"choice": "no"})
		ev := sdk.Event{ID: "ev1", Type: sdk.EventUserDeleted, Payload: json.RawMessage(`{"user_id":"` + ms[0].UserID + `"}`)}
		for range 2 { // at-least-once delivery
			if err := sdk.Deliver(context.Background(), e.plugin, ev); err != nil {
				t.Fatal(err)
			}
		}
		var closed CloseResult
		e.Must(200, chair, "POST", base+"/vote/close", nil).Decode(t, &closed)
		if closed.Counts != (Counts{Yes: 1, No: 1}) {
			t.Errorf("counts after erasure %+v", closed.Counts)
		}
		dump := dumpTables(t, e)
		var n int
		if err := e.svc.db.Get(&n, e.svc.db.Rebind(`SELECT COUNT(*) FROM members WHERE user_id = ?`), ms[0].UserID); err != nil || n != 0 {
			t.Errorf("member row kept: %d %v", n, err)
		}
		if strings.Contains(dump, ms[0].UserID) {
			t.Errorf("erased user still in the vote tables:\n%s", dump)
		}
	})
}

func TestPlugin_Manifest(t *testing.T) {
	m := New().Manifest()
	var doc map[string]map[string]any
	if err := json.Unmarshal(m.OpenAPIDoc(), &doc); err != nil {
		t.Fatal(err)
	}
	perms := map[string]bool{sdk.PermPublic: true, sdk.PermAuthenticated: true}
	for _, p := range m.Permissions {
		if !strings.HasPrefix(p.Name, "assemblies.") {
			t.Errorf("permission %s not namespaced", p.Name)
		}
		perms[p.Name] = true
	}
	for _, r := range m.Routes {
		if !perms[r.Permission] {
			t.Errorf("%s %s: undeclared permission %s", r.Method, r.Path, r.Permission)
		}
		// Pages (sdk.GetPage, PostPage) are HTML for browsers: the host leaves them out
		// of the API's document, and every API route is in it.
		if r.Kind == sdk.RoutePage {
			if doc[r.Path] != nil {
				t.Errorf("page %s %s is in the OpenAPI document", r.Method, r.Path)
			}
			continue
		}
		if doc[r.Path][strings.ToLower(r.Method)] == nil {
			t.Errorf("%s %s has no OpenAPI operation", r.Method, r.Path)
		}
	}
	for _, g := range m.Grants {
		if !perms[g.Permission] {
			t.Errorf("grant of undeclared %s", g.Permission)
		}
	}
}
