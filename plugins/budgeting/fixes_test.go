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
