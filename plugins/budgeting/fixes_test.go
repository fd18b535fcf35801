package budgeting

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// ptr returns a pointer to v, for the optional fields of patches and reviews.
func ptr[T any](v T) *T { return &v }

// TestHandler_PatchChangesOnlyWhatItNames is issue 19's report: PATCH {"cost": N} on a
// proposal answered "title: required". Through the route, on both databases: a
// one-field patch changes that field alone, an empty patch changes nothing, a patch
// that breaks a rule is refused and changes nothing.
func TestHandler_PatchChangesOnlyWhatItNames(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		officer(api.Host, "officer", "n1")
		resident(api.Host, "alice", "n1")
		c := base + "/cycles"
		var cy Cycle
		api.Must(201, api.As("officer"), "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Parks", "budget": 1000_00, "currency": "EUR", "ballot": map[string]any{"type": "approval"},
		}).Decode(t, &cy)
		var p Proposal
		api.Must(201, api.As("alice"), "POST", c+"/"+cy.ID+"/proposals", map[string]any{
			"title": "Swings", "description": "Two swings", "category": "play", "location": "North park", "cost": 400_00,
		}).Decode(t, &p)
		u := c + "/" + cy.ID + "/proposals/" + p.ID

		var got Proposal
		api.Must(200, api.As("alice"), "PATCH", u, map[string]any{"cost": 60000_00}).Decode(t, &got)
		if got.Cost != 60000_00 || got.Title != "Swings" || got.Description != "Two swings" || got.Category != "play" || got.Location != "North park" {
			t.Errorf("cost-only patch gave %+v", got)
		}
		api.Must(200, api.As("alice"), "PATCH", u, map[string]any{"description": ""}).Decode(t, &got)
		if got.Description != "" || got.Title != "Swings" || got.Cost != 60000_00 {
			t.Errorf("clearing the description gave %+v", got)
		}
		api.Must(200, api.As("alice"), "PATCH", u, map[string]any{}).Decode(t, &got)
		if got.Title != "Swings" || got.Cost != 60000_00 || got.Location != "North park" {
			t.Errorf("empty patch changed %+v", got)
		}
		api.Do(api.As("alice"), "PATCH", u, map[string]any{"title": "  "}).WantInvalid(t, "title", sdk.RuleRequired)
		api.Do(api.As("alice"), "PATCH", u, map[string]any{"cost": -1}).WantInvalid(t, "cost", sdk.RuleRange)
		api.Do(api.As("alice"), "PATCH", u, `{"title": "a\u0000b"}`).WantInvalid(t, "title", "no_nul")
		api.Must(200, api.As(""), "GET", u, nil).Decode(t, &got)
		if got.Title != "Swings" || got.Cost != 60000_00 || strings.Contains(got.Title, "\x00") {
			t.Errorf("refused patches changed the proposal: %+v", got)
		}
	})
}

// TestService_OrdinalBorda is issue 19's report that ordinal ballots were tallied by
// approval count. A new ordinal cycle names its count, borda, and is tallied by it;
// one opened with approvals keeps counting each ranked project once. Two voters rank
// A over B and a third ranks B alone: by approvals B leads 3 to 2, by Borda A leads
// 4 to 3, and only one of the two fits in the budget.
func TestService_OrdinalBorda(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		for _, tc := range []struct {
			count, want string
			scores      [2]int64
		}{
			{"", "A", [2]int64{4, 3}},
			{CountApprovals, "B", [2]int64{2, 3}},
		} {
			t.Run("Count"+tc.count, func(t *testing.T) {
				f := newFixture(t, db, Settings{})
				c, ids := f.votingCycle(t, BallotRules{Type: BallotOrdinal, Count: tc.count}, 100_00, 60_00, 60_00)
				wantCount := tc.count
				if wantCount == "" {
					wantCount = CountBorda
				}
				if c.Ballot.Count != wantCount {
					t.Fatalf("cycle counts %q, want %q", c.Ballot.Count, wantCount)
				}
				for i, rank := range [][]string{{ids[0], ids[1]}, {ids[0], ids[1]}, {ids[1]}} {
					must(f.svc.CastBallot(f.ctx, f.resident(fmt.Sprintf("v%d-%s", i, tc.count), "n1"), c.ID, BallotInput{Ballot: Ballot{Projects: rank}}))(t)
				}
				off := f.officer("officer", "n1")
				must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseResults))(t)
				res := must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{}))(t)
				name := map[string]string{ids[0]: "A", ids[1]: "B"}
				if len(res.Winners) != 1 || name[res.Winners[0]] != tc.want {
					t.Errorf("winners %v, want %s", res.Winners, tc.want)
				}
				if res.Projects[0].Score != tc.scores[0] || res.Projects[1].Score != tc.scores[1] {
					t.Errorf("scores %d, %d; want %v", res.Projects[0].Score, res.Projects[1].Score, tc.scores)
				}
				if borda := strings.Contains(res.Explanation, "Borda"); borda != (wantCount == CountBorda) {
					t.Errorf("explanation %q", res.Explanation)
				}
				var buf bytes.Buffer
				if err := f.svc.Export(f.ctx, c.ID, &buf); err != nil {
					t.Fatal(err)
				}
				checkRetally(t, buf.Bytes(), res)
			})
		}
		t.Run("ErrCount", func(t *testing.T) {
			f := newFixture(t, db, Settings{})
			off := f.officer("officer", "n1")
			for _, rules := range []BallotRules{{Type: BallotOrdinal, Count: "plurality"}, {Type: BallotApproval, Count: CountBorda}} {
				_, err := f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "X", Budget: 1, Currency: "EUR", Ballot: rules})
				wantCode(t, err, sdk.CodeInvalid)
			}
		})
	})
}

// TestHandler_SimulationsOffThePublicList: issue 19's workaround for the missing
// preview, a simulation cycle, stayed in the public list of budgets. Real budgets and
// simulations are now listed apart, on both databases.
func TestHandler_SimulationsOffThePublicList(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		officer(api.Host, "officer", "n1")
		c := base + "/cycles"
		var real, sim Cycle
		api.Must(201, api.As("officer"), "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Parks", "budget": 100, "currency": "EUR", "ballot": map[string]any{"type": "approval"},
		}).Decode(t, &real)
		api.Must(201, api.As("officer"), "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Trying MES", "budget": 100, "currency": "EUR", "simulation": true, "ballot": map[string]any{"type": "approval"},
		}).Decode(t, &sim)
		for q, want := range map[string]string{"": real.ID, "?simulation=false&neighbourhood_id=n1": real.ID, "?simulation=true": sim.ID} {
			var page sdk.Page[Cycle]
			api.Must(200, api.As(""), "GET", c+q, nil).Decode(t, &page)
			if len(page.Items) != 1 || page.Items[0].ID != want {
				t.Errorf("GET %s listed %+v, want only %s", q, page.Items, want)
			}
		}
		api.Do(api.As(""), "GET", c+"?simulation=yes", nil).WantInvalid(t, "simulation", sdk.RuleOneOf)
		api.Must(200, api.As(""), "GET", c+"/"+sim.ID, nil)
	})
}

// TestService_Participation: what a person can do in a cycle now, for pages and cards;
// a person reads only their own.
func TestService_Participation(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 100, 10, 20)
		alice, bob := f.resident("alice", "n1"), f.resident("bob", "n2")
		p := must(f.svc.Participation(f.ctx, alice, c.ID))(t)
		if !p.Resident || p.Voted || !p.CanVote || p.CanPropose || p.CanReplace || p.Phase != PhaseVoting {
			t.Errorf("before voting: %+v", p)
		}
		must(f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids[:1]}}))(t)
		if p = must(f.svc.Participation(f.ctx, alice, c.ID))(t); !p.Voted || p.CanVote {
			t.Errorf("after voting: %+v", p)
		}
		if p = must(f.svc.Participation(f.ctx, bob, c.ID))(t); p.Resident || p.Voted || p.CanVote {
			t.Errorf("a resident elsewhere: %+v", p)
		}
		_, err := f.svc.Participation(f.ctx, sdk.Principal{}, c.ID)
		wantCode(t, err, sdk.CodeUnauthenticated)
	})
}

// TestHandler_AnonymousProposal: the public pages show a proposal's author unless it
// was proposed anonymously. Through the routes, on both databases, nobody but the
// author reads who wrote an anonymous proposal, in the list, alone or when supporting
// it; the author can still edit it and make it signed.
func TestHandler_AnonymousProposal(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		officer(api.Host, "officer", "n1")
		resident(api.Host, "alice", "n1")
		resident(api.Host, "bob", "n1")
		c := base + "/cycles"
		var cy Cycle
		api.Must(201, api.As("officer"), "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Parks", "budget": 1000_00, "currency": "EUR", "ballot": map[string]any{"type": "approval"},
		}).Decode(t, &cy)
		var p Proposal
		api.Must(201, api.As("alice"), "POST", c+"/"+cy.ID+"/proposals", map[string]any{"title": "Swings", "cost": 400_00, "anonymous": true}).Decode(t, &p)
		if !p.Anonymous || p.AuthorID != "alice" {
			t.Fatalf("the author's answer %+v", p)
		}
		u := c + "/" + cy.ID + "/proposals/" + p.ID
		for _, who := range []string{"", "bob", "officer"} {
			var got Proposal
			api.Must(200, api.As(who), "GET", u, nil).Decode(t, &got)
			var list sdk.Page[Proposal]
			api.Must(200, api.As(who), "GET", c+"/"+cy.ID+"/proposals", nil).Decode(t, &list)
			if got.AuthorID != "" || !got.Anonymous || len(list.Items) != 1 || list.Items[0].AuthorID != "" {
				t.Errorf("%q reads the author of an anonymous proposal: %+v %+v", who, got, list.Items)
			}
		}
		api.Must(200, api.As("officer"), "POST", c+"/"+cy.ID+"/phase", map[string]any{"phase": "support"})
		var supported Proposal
		api.Must(200, api.As("bob"), "POST", u+"/support", nil).Decode(t, &supported)
		if supported.AuthorID != "" || supported.Supports != 1 {
			t.Errorf("supporting reads %+v", supported)
		}
		var mine Proposal
		api.Must(200, api.As("alice"), "GET", u, nil).Decode(t, &mine)
		if mine.AuthorID != "alice" {
			t.Errorf("the author does not see it is theirs: %+v", mine)
		}
		api.Must(200, api.As("alice"), "PATCH", u, map[string]any{"anonymous": false})
		var signed Proposal
		api.Must(200, api.As(""), "GET", u, nil).Decode(t, &signed)
		if signed.AuthorID != "alice" || signed.Anonymous || signed.Title != "Swings" {
			t.Errorf("signed proposal %+v", signed)
		}
	})
}

// TestHandler_EditCycle: staff set a cycle up and change it, naming only what changes;
// what voters rely on is fixed once voting opens. On both databases, through the
// routes, with the attacks: a resident and an officer of another neighbourhood.
func TestHandler_EditCycle(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		officer(api.Host, "officer", "n1")
		officer(api.Host, "other", "n2")
		resident(api.Host, "alice", "n1")
		c := base + "/cycles"
		var cy Cycle
		api.Must(201, api.As("officer"), "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Parks", "budget": 1000_00, "currency": "EUR", "ballot": map[string]any{"type": "approval"},
		}).Decode(t, &cy)
		u := c + "/" + cy.ID
		api.Must(403, api.As("alice"), "PATCH", u, map[string]any{"budget": 1})
		api.Must(403, api.As("other"), "PATCH", u, map[string]any{"budget": 1})
		api.Must(401, api.As(""), "PATCH", u, map[string]any{"budget": 1})

		var got Cycle
		api.Must(200, api.As("officer"), "PATCH", u, map[string]any{"budget": 2000_00, "country": "Denmark",
			"ballot": map[string]any{"type": "ordinal", "max": 3}, "phases": map[string]any{"voting": "2026-05-01T00:00:00Z"}}).Decode(t, &got)
		if got.Budget != 2000_00 || got.Name != "Parks" || got.Country != "Denmark" || got.Ballot.Type != BallotOrdinal ||
			got.Ballot.Count != CountBorda || got.Schedule[PhaseVoting].IsZero() {
			t.Errorf("edited %+v", got)
		}
		api.Do(api.As("officer"), "PATCH", u, map[string]any{"name": " "}).WantInvalid(t, "name", sdk.RuleRequired)
		api.Do(api.As("officer"), "PATCH", u, map[string]any{"budget": 0}).WantInvalid(t, "budget", sdk.RuleRange)
		api.Do(api.As("officer"), "PATCH", u, map[string]any{"phases": map[string]any{"ideas": "2026-04-01T00:00:00Z"}}).WantInvalid(t, "phases.ideas", sdk.RuleInvalidValue)
		api.Do(api.As("officer"), "PATCH", u, map[string]any{"ballot": map[string]any{"type": "approval", "count": "borda"}}).WantInvalid(t, "ballot.count", sdk.RuleInvalidValue)
		api.Must(200, api.As(""), "GET", u, nil).Decode(t, &got)
		if got.Budget != 2000_00 || got.Name != "Parks" || got.Ballot.Type != BallotOrdinal {
			t.Errorf("refused edits changed the cycle: %+v", got)
		}

		api.Must(200, api.As("officer"), "POST", u+"/phase", map[string]any{"phase": "voting"})
		api.Must(409, api.As("officer"), "PATCH", u, map[string]any{"budget": 1})
		api.Must(409, api.As("officer"), "PATCH", u, map[string]any{"ballot": map[string]any{"type": "approval"}})
		api.Must(200, api.As("officer"), "PATCH", u, map[string]any{"name": "Parks 2026"}).Decode(t, &got)
		if got.Name != "Parks 2026" || got.Budget != 2000_00 {
			t.Errorf("renamed in voting: %+v", got)
		}
	})
}
