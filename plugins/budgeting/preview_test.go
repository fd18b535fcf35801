package budgeting

import (
	"slices"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// splitVote is a cycle where greedy and the Method of Equal Shares disagree: three
// voters choose A (90 €), the fourth B (25 €) and C (30 €), budget 100 €. Greedy funds
// A by its votes; MES (add1) gives each voter 25 €, A's supporters hold 75 € < 90 €, so
// it buys B from the fourth voter's share, and C finds that share spent on B. It is in
// the results phase; it returns the cycle, the officer and A, B, C's IDs.
func (f *fixture) splitVote(t *testing.T) (*Cycle, sdk.Principal, []string) {
	t.Helper()
	c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 100_00, 90_00, 25_00, 30_00)
	for i, choice := range [][]string{{ids[0]}, {ids[0]}, {ids[0]}, {ids[1], ids[2]}} {
		v := f.resident("voter"+string(rune('1'+i)), "n1")
		must(f.svc.CastBallot(f.ctx, v, c.ID, BallotInput{Ballot: Ballot{Projects: choice}}))(t)
	}
	off := f.officer("officer", "n1")
	must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseResults))(t)
	return c, off, ids
}

// TestService_PreviewThenPublish is issue 19's first fix: a tally is first a private
// preview (greedy and MES side by side, the projects they disagree on, satisfaction)
// that tells no one and publishes nothing, then an officer publishes one candidate as
// it was previewed, with its stored explanations.
func TestService_PreviewThenPublish(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		c, off, ids := f.splitVote(t)
		before := len(f.events(t))

		p := must(f.svc.PreviewResults(f.ctx, off, c.ID, PreviewInput{}))(t)
		if len(p.Candidates) != 2 || p.Candidates[0].Rule != "greedy" || p.Candidates[1].Rule != "mes" || p.Ballots != 4 {
			t.Fatalf("preview candidates %+v", p.Candidates)
		}
		greedy, mes := p.Candidates[0], p.Candidates[1]
		if !slices.Equal(greedy.Result.Winners, ids[:1]) || !slices.Equal(mes.Result.Winners, ids[1:2]) {
			t.Errorf("greedy %v, mes %v; want [A] and [B]", greedy.Result.Winners, mes.Result.Winners)
		}
		want := []PreviewDifference{
			{Project: ids[0], Title: "Project 1", Cost: 90_00, FundedBy: []string{"greedy"}},
			{Project: ids[1], Title: "Project 2", Cost: 25_00, FundedBy: []string{"mes"}},
		}
		if len(p.Differ) != 2 || p.Differ[0].Project != want[0].Project || !slices.Equal(p.Differ[0].FundedBy, want[0].FundedBy) ||
			p.Differ[1].Project != want[1].Project || !slices.Equal(p.Differ[1].FundedBy, want[1].FundedBy) {
			t.Errorf("differ %+v, want %+v", p.Differ, want)
		}
		// Greedy: three ballots of four chose A; MES: one chose B.
		if greedy.Satisfaction.Unrepresented != 1 || mes.Satisfaction.Unrepresented != 3 || greedy.Satisfaction.MeanFunded != 0.75 || mes.Satisfaction.MeanMoney != 25_00/4 {
			t.Errorf("satisfaction greedy %+v mes %+v", greedy.Satisfaction, mes.Satisfaction)
		}

		t.Run("Private", func(t *testing.T) {
			_, err := f.svc.Results(f.ctx, c.ID)
			wantCode(t, err, sdk.CodeNotFound)
			_, err = f.svc.ResultsPreview(f.ctx, f.resident("voter1", "n1"), c.ID)
			wantCode(t, err, sdk.CodeForbidden)
			_, err = f.svc.PreviewResults(f.ctx, f.resident("voter1", "n1"), c.ID, PreviewInput{})
			wantCode(t, err, sdk.CodeForbidden)
			_, err = f.svc.ResultsPreview(f.ctx, f.officer("elsewhere", "n2"), c.ID)
			wantCode(t, err, sdk.CodeForbidden)
			_, err = f.svc.ResultsPreview(f.ctx, sdk.Principal{}, c.ID)
			wantCode(t, err, sdk.CodeUnauthenticated)
			if got := f.events(t); len(got) != before {
				t.Errorf("a preview emitted %v", got[before:])
			}
			for _, id := range ids {
				if pr := must(f.svc.Proposal(f.ctx, c.ID, id))(t); pr.Implementation != "" {
					t.Errorf("a preview planned %s", id)
				}
			}
		})
		t.Run("BadRules", func(t *testing.T) {
			_, err := f.svc.PreviewResults(f.ctx, off, c.ID, PreviewInput{Rules: []TallyInput{{Rule: "greedy"}, {Rule: "greedy"}}})
			wantCode(t, err, sdk.CodeInvalid)
			_, err = f.svc.PreviewResults(f.ctx, off, c.ID, PreviewInput{Rules: []TallyInput{{Rule: "greedy"}, {Rule: "borda!"}}})
			wantCode(t, err, sdk.CodeInvalid)
			if e := err.(*sdk.Error); e.Fields["index"] != "1" {
				t.Errorf("error names rule %q, want 1: %v", e.Fields["index"], err)
			}
			_, err = f.svc.Publish(f.ctx, off, c.ID, PublishInput{Rule: "greedy-no-skip"})
			wantCode(t, err, sdk.CodeInvalid)
		})
		t.Run("PaperBallotsDiscardThePreview", func(t *testing.T) {
			must(f.svc.EnterPaperBallots(f.ctx, off, c.ID, []Ballot{{Projects: ids[1:2]}}))(t)
			_, err := f.svc.ResultsPreview(f.ctx, off, c.ID)
			wantCode(t, err, sdk.CodeNotFound)
			_, err = f.svc.Publish(f.ctx, off, c.ID, PublishInput{Rule: "mes"})
			wantCode(t, err, sdk.CodeConflict)
			p = must(f.svc.PreviewResults(f.ctx, off, c.ID, PreviewInput{}))(t)
			if p.Ballots != 5 {
				t.Errorf("new preview counted %d ballots, want 5", p.Ballots)
			}
		})

		res := must(f.svc.Publish(f.ctx, off, c.ID, PublishInput{Rule: "mes"}))(t)
		stored := must(f.svc.Results(f.ctx, c.ID))(t)
		if res.BallotHash != p.BallotHash || !slices.Equal(stored.Winners, p.Candidates[1].Result.Winners) || stored.Rule != "mes" {
			t.Errorf("published %+v, previewed %+v", stored, p.Candidates[1].Result)
		}
		if got := f.events(t); !slices.Contains(got[before:], EventResultsPublished) {
			t.Errorf("publishing emitted %v", got[before:])
		}
		if pr := must(f.svc.Proposal(f.ctx, c.ID, ids[1]))(t); pr.Implementation != ImplPlanned {
			t.Errorf("winner not planned: %+v", pr)
		}
		_, err := f.svc.ResultsPreview(f.ctx, off, c.ID)
		wantCode(t, err, sdk.CodeNotFound)
		_, err = f.svc.Publish(f.ctx, off, c.ID, PublishInput{Rule: "greedy"})
		wantCode(t, err, sdk.CodeConflict)
		_, err = f.svc.PreviewResults(f.ctx, off, c.ID, PreviewInput{})
		wantCode(t, err, sdk.CodeConflict)

		t.Run("Explanations", func(t *testing.T) {
			ex := stored.Explanations
			if len(ex) != 3 {
				t.Fatalf("explanations %+v", ex)
			}
			a, b, cc := ex[0], ex[1], ex[2]
			if b.How != HowEqualShares || b.Step != 1 || b.Supporters != 2 || b.Cost != 25_00 {
				t.Errorf("B %+v", b)
			}
			if a.How != HowNotFunded || a.Supporters != 3 || a.Left >= a.Cost || a.Left <= 0 || len(a.SpentOn) != 0 {
				t.Errorf("A %+v: its supporters held less than its cost and spent nothing", a)
			}
			if cc.How != HowNotFunded || len(cc.SpentOn) != 1 || cc.SpentOn[0].Project != ids[1] || cc.SpentOn[0].Amount <= 0 {
				t.Errorf("C %+v: its supporter spent their share on B", cc)
			}
		})
	})
}

// TestHandler_PreviewIsPrivate attacks the preview through the routes: no resident,
// visitor or officer of another neighbourhood reads or publishes it, and the public
// results stay absent until an officer publishes.
func TestHandler_PreviewIsPrivate(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		off := officer(api.Host, "officer", "n1")
		officer(api.Host, "other", "n2")
		c := base + "/cycles"
		var cy Cycle
		api.Must(201, api.As("officer"), "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Sim", "budget": 100, "currency": "EUR", "simulation": true, "ballot": map[string]any{"type": "approval"},
		}).Decode(t, &cy)
		_ = off
		api.Must(201, api.As("officer"), "POST", c+"/"+cy.ID+"/import",
			"META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost\na;90\nb;25\nc;30\nVOTES\nvoter_id;vote\n1;a\n2;a\n3;a\n4;b,c\n")
		u := c + "/" + cy.ID
		var p Preview
		api.Must(201, api.As("officer"), "POST", u+"/preview", map[string]any{}).Decode(t, &p)
		if len(p.Candidates) != 2 || len(p.Differ) != 2 {
			t.Fatalf("preview %+v", p)
		}
		resident(api.Host, "alice", "n1")
		for _, who := range []string{"", "alice", "other"} {
			want := 403
			if who == "" {
				want = 401
			}
			api.Must(want, api.As(who), "GET", u+"/preview", nil)
			api.Must(want, api.As(who), "POST", u+"/preview", map[string]any{})
			api.Must(want, api.As(who), "POST", u+"/publish", map[string]any{"rule": "mes"})
		}
		api.Must(404, api.As(""), "GET", u+"/results", nil)
		api.Must(409, api.As(""), "GET", u+"/export.pb", nil)
		api.Must(200, api.As("officer"), "GET", u+"/preview", nil)
		var res Result
		api.Must(201, api.As("officer"), "POST", u+"/publish", map[string]any{"rule": "greedy"}).Decode(t, &res)
		var pub Result
		api.Must(200, api.As(""), "GET", u+"/results", nil).Decode(t, &pub)
		if pub.Rule != "greedy" || !slices.Equal(pub.Winners, p.Candidates[0].Result.Winners) || len(pub.Explanations) != 3 {
			t.Errorf("published %+v", pub)
		}
		api.Must(404, api.As("officer"), "GET", u+"/preview", nil)
	})
}
