package budgeting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/plugins/budgeting/tally"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

func TestService_FullCycle(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		off := f.officer("officer", "n1")
		alice := f.resident("alice", "n1")
		c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{
			NeighbourhoodID: "n1", Name: "Green 2026", Budget: 100_000_00, Currency: "EUR",
			Ballot: BallotRules{Type: BallotApproval, Max: 2},
		}))(t)
		if c.Phase != PhaseIdeas || c.Ballot.Min != 1 {
			t.Fatalf("new cycle %+v", c)
		}

		t.Run("Proposals", func(t *testing.T) {
			_, err := f.svc.SubmitProposal(f.ctx, alice, c.ID, ProposalInput{Title: "Bad", Cost: -1})
			wantCode(t, err, sdk.CodeInvalid)
			_, err = f.svc.SubmitProposal(f.ctx, f.resident("bob", "n2"), c.ID, ProposalInput{Title: "Elsewhere", Cost: 1})
			wantCode(t, err, sdk.CodeForbidden)
		})
		var ids []string
		for i, cost := range []int64{60_000_00, 50_000_00, 30_000_00, 10_000_00} {
			p := must(f.svc.SubmitProposal(f.ctx, alice, c.ID, ProposalInput{Title: fmt.Sprintf("P%d", i), Cost: cost}))(t)
			ids = append(ids, p.ID)
		}
		edited := must(f.svc.EditProposal(f.ctx, alice, c.ID, ids[0], ProposalPatch{Title: ptr("Benches"), Cost: ptr[int64](55_000_00)}))(t)
		if edited.Title != "Benches" {
			t.Errorf("edit: %+v", edited)
		}
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseReview))(t)
		t.Run("EditAfterReviewStarts", func(t *testing.T) {
			_, err := f.svc.EditProposal(f.ctx, alice, c.ID, ids[0], ProposalPatch{Title: ptr("Late"), Cost: ptr[int64](1)})
			wantCode(t, err, sdk.CodeConflict)
		})
		yes, no := true, false
		cost := func(v int64) *int64 { return &v }
		must(f.svc.Review(f.ctx, off, c.ID, ids[0], ReviewInput{Feasible: &yes, Cost: cost(60_000_00)}))(t)
		must(f.svc.Review(f.ctx, off, c.ID, ids[1], ReviewInput{Feasible: &yes, Cost: cost(50_000_00)}))(t)
		must(f.svc.Review(f.ctx, off, c.ID, ids[2], ReviewInput{Feasible: &no, Reason: "Not city land"}))(t)
		merged := must(f.svc.Review(f.ctx, off, c.ID, ids[3], ReviewInput{DuplicateOf: ids[1]}))(t)
		if merged.Status != StatusMerged || merged.MergedInto != ids[1] {
			t.Errorf("merge: %+v", merged)
		}
		t.Run("ReviewNeedsReason", func(t *testing.T) {
			_, err := f.svc.Review(f.ctx, off, c.ID, ids[2], ReviewInput{Feasible: &no})
			wantCode(t, err, sdk.CodeInvalid)
			_, err = f.svc.Review(f.ctx, alice, c.ID, ids[2], ReviewInput{Feasible: &yes, Cost: cost(1)})
			wantCode(t, err, sdk.CodeForbidden)
		})
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseVoting))(t)

		t.Run("BallotOnlyFeasible", func(t *testing.T) {
			_, err := f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: []string{ids[2]}}})
			wantCode(t, err, sdk.CodeInvalid)
			if !strings.Contains(err.Error(), RuleKnownProjects) {
				t.Errorf("error does not name the rule: %v", err)
			}
		})
		// 4 ballots (one on paper) for project 0, 2 for project 1: greedy funds 0 only (60k + 50k > 100k).
		for i, b := range [][]string{{ids[0]}, {ids[0], ids[1]}, {ids[0]}, {ids[1]}} {
			v := f.resident(fmt.Sprintf("v%d", i), "n1")
			must(f.svc.CastBallot(f.ctx, v, c.ID, BallotInput{Ballot: Ballot{Projects: b}}))(t)
		}
		must(f.svc.EnterPaperBallots(f.ctx, off, c.ID, []Ballot{{Projects: []string{ids[0]}}}))(t)
		_, err := f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "greedy"})
		wantCode(t, err, sdk.CodeConflict) // still voting
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseResults))(t)
		res := must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "greedy"}))(t)
		if !slices.Equal(res.Winners, []string{ids[0]}) || res.Cost != 60_000_00 || res.Leftover != 40_000_00 {
			t.Fatalf("result %+v", res)
		}
		if res.Ballots != 5 || res.PaperBallots != 1 || res.Unit != 100 || res.Explanation == "" || !strings.Contains(res.Summary, "1 of them on paper") {
			t.Errorf("result details %+v", res)
		}
		if v := res.Projects[1]; v.ID != ids[1] || v.Votes != 2 {
			t.Errorf("project 1 %+v", v)
		}
		_, err = f.svc.Tally(f.ctx, off, c.ID, TallyInput{})
		wantCode(t, err, sdk.CodeConflict)
		got := must(f.svc.Results(f.ctx, c.ID))(t)
		if got.BallotHash != res.BallotHash || !slices.Equal(got.Winners, res.Winners) {
			t.Errorf("stored result differs: %+v", got)
		}

		t.Run("Implementation", func(t *testing.T) {
			_, err := f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[1], UpdateInput{Status: ImplInProgress})
			wantCode(t, err, sdk.CodeConflict) // not selected
			f.clock.Advance(24 * time.Hour)
			must(f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplInProgress, Note: "Ordered"}))(t)
			must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseImplementation))(t)
			f.clock.Advance(24 * time.Hour)
			p := must(f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplDone, Note: "Installed"}))(t)
			if p.Implementation != ImplDone || len(p.Updates) != 2 || !p.Updates[1].At.After(p.Updates[0].At) {
				t.Errorf("updates %+v", p)
			}
			_, err = f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplPlanned})
			wantCode(t, err, sdk.CodeInvalid)
		})

		t.Run("ExportRetallies", func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.svc.Export(f.ctx, c.ID, &buf); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(buf.String(), "alice") || strings.Contains(buf.String(), "v1") {
				t.Error("export names a person")
			}
			checkRetally(t, buf.Bytes(), res)
		})

		want := []string{EventPhaseChanged, EventPhaseChanged, EventPhaseChanged, EventResultsPublished,
			EventProjectUpdated, EventPhaseChanged, EventProjectUpdated}
		if got := f.events(t); !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})
}

// checkRetally parses an exported file, tallies it by its META and checks the outcome
// and ballot hash equal the published result.
func checkRetally(t *testing.T, data []byte, res *Result) {
	t.Helper()
	checkPabulib(t, data)
	in, err := pabulib.ParseBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	o, err := in.Options()
	if err != nil {
		t.Fatal(err)
	}
	e := in.Election()
	if h := tally.HashBallots(e); h != res.BallotHash {
		t.Errorf("hash of export %s, published %s", h, res.BallotHash)
	}
	tr, err := tally.Tally(e, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.Winners, res.Winners) || tr.Cost*res.Unit != res.Cost {
		t.Errorf("re-tally %v cost %d, published %v cost %d", tr.Winners, tr.Cost, res.Winners, res.Cost)
	}
}

// checkPabulib runs the official Pabulib checker's rules (pabulib.Check) on an
// exported file: every format rule must hold. Rules about the vote itself (a project
// nobody chose) may fire on a real vote, and are logged.
func checkPabulib(t *testing.T, data []byte) {
	t.Helper()
	for _, p := range pabulib.Check(data) {
		if p.Data {
			t.Logf("pabulib checker, about the vote: %s", p)
			continue
		}
		t.Errorf("pabulib checker: %s", p)
	}
}

func TestService_CastBallot(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval, Min: 2, Max: 3, MaxCost: 500}, 1000, 100, 200, 300, 400)
		alice := f.resident("alice", "n1")

		t.Run("ErrRules", func(t *testing.T) {
			for _, tc := range []struct {
				name     string
				projects []string
				rule     string
			}{
				{"UnderMin", ids[:1], RuleMin},
				{"OverMax", ids[:4], RuleMax},
				{"OverCost", ids[2:4], RuleMaxCost},
				{"Unknown", []string{ids[0], "nope"}, RuleKnownProjects},
				{"Twice", []string{ids[0], ids[0]}, RuleNoDuplicates},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: tc.projects}})
					wantCode(t, err, sdk.CodeInvalid)
					if e := err.(*sdk.Error); e.Fields["rule"] != tc.rule {
						t.Errorf("rule %q, want %q (%v)", e.Fields["rule"], tc.rule, err)
					}
				})
			}
			if n := must(f.svc.Turnout(f.ctx, c.ID))(t); n.Voters != 0 || n.Ballots != 0 {
				t.Errorf("rejected ballots changed turnout: %+v", n)
			}
		})
		t.Run("ErrNotResident", func(t *testing.T) {
			_, err := f.svc.CastBallot(f.ctx, f.resident("bob", "n2"), c.ID, BallotInput{Ballot: Ballot{Projects: ids[:2]}})
			wantCode(t, err, sdk.CodeForbidden)
			_, err = f.svc.CastBallot(f.ctx, f.officer("off2", "n1"), c.ID, BallotInput{Ballot: Ballot{Projects: ids[:2]}})
			wantCode(t, err, sdk.CodeForbidden)
		})
		t.Run("OK", func(t *testing.T) {
			rc := must(f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids[:2]}}))(t)
			if rc.ReplaceToken != "" {
				t.Error("token without replaceable ballots")
			}
		})
		t.Run("ErrTwice", func(t *testing.T) {
			_, err := f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids[:2]}})
			wantCode(t, err, sdk.CodeConflict)
		})
		t.Run("ErrOutsideVoting", func(t *testing.T) {
			must(f.svc.SetPhase(f.ctx, f.officer("officer", "n1"), c.ID, PhaseResults))(t)
			_, err := f.svc.CastBallot(f.ctx, f.resident("late", "n1"), c.ID, BallotInput{Ballot: Ballot{Projects: ids[:2]}})
			wantCode(t, err, sdk.CodeConflict)
		})
		if n := must(f.svc.Turnout(f.ctx, c.ID))(t); n.Voters != 1 || n.Ballots != 1 {
			t.Errorf("turnout %+v", n)
		}
	})
}

func TestService_CastBallotReplace(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{BallotReplaceable: true, MinAge: 16})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 1000, 100, 200)
		alice := f.resident("alice", "n1")
		_, err := f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids[:1]}})
		wantCode(t, err, sdk.CodeInvalid) // min age not confirmed
		rc := must(f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids[:1]}, AgeConfirmed: true}))(t)
		if rc.ReplaceToken == "" {
			t.Fatal("no replace token")
		}
		_, err = f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids[1:]}, AgeConfirmed: true, ReplaceToken: "wrong"})
		wantCode(t, err, sdk.CodeForbidden)
		again := must(f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids[1:]}, AgeConfirmed: true, ReplaceToken: rc.ReplaceToken}))(t)
		if !again.Replaced {
			t.Error("not replaced")
		}
		sealed := must(sealedBallots(f.ctx, db, c.ID))(t)
		if len(sealed) != 1 || strings.Contains(string(sealed[0]), ids[1]) {
			t.Errorf("sealed ballots during voting: %q", sealed)
		}
		if rows := must(listBallots(f.ctx, db, c.ID))(t); len(rows) != 0 {
			t.Errorf("ballots in the clear during voting: %+v", rows)
		}
		if err := f.svc.move(f.ctx, c, PhaseResults); err != nil {
			t.Fatal(err)
		}
		rows := must(listBallots(f.ctx, db, c.ID))(t)
		if len(rows) != 1 || !strings.Contains(rows[0].Content, ids[1]) {
			t.Errorf("ballots %+v", rows)
		}
		if sealed := must(sealedBallots(f.ctx, db, c.ID))(t); len(sealed) != 0 {
			t.Errorf("%d sealed ballots left after the close", len(sealed))
		}
	})
}

// TestService_CastBallotConcurrent sends 50 ballots by one resident at once: exactly
// one is recorded, the rest are conflicts.
func TestService_CastBallotConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 1000, 100, 200)
		alice := f.resident("alice", "n1")
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids[i%2 : i%2+1]}})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case ErrorCode(err) != sdk.CodeConflict:
				t.Errorf("unexpected error: %v", err)
			}
		}
		n := must(f.svc.Turnout(f.ctx, c.ID))(t)
		if ok != 1 || n.Voters != 1 || n.Ballots != 1 {
			t.Errorf("%d accepted, turnout %+v", ok, n)
		}
	})
}

func TestService_Tick(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		off := f.officer("officer", "n1")
		start := f.clock.Now()
		at := func(d time.Duration) *time.Time { v := start.Add(d); return &v }
		c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{
			NeighbourhoodID: "n1", Name: "Scheduled", Budget: 1000, Currency: "EUR", SupportTopN: 1,
			Ballot: BallotRules{Type: BallotApproval},
			Phases: map[Phase]*time.Time{PhaseSupport: at(24 * time.Hour), PhaseReview: at(48 * time.Hour), PhaseVoting: at(72 * time.Hour)},
		}))(t)
		alice, bob := f.resident("alice", "n1"), f.resident("bob", "n1")
		p1 := must(f.svc.SubmitProposal(f.ctx, alice, c.ID, ProposalInput{Title: "One", Cost: 10}))(t)
		p2 := must(f.svc.SubmitProposal(f.ctx, alice, c.ID, ProposalInput{Title: "Two", Cost: 10}))(t)

		if n := must(f.svc.Tick(f.ctx))(t); n != 0 {
			t.Errorf("moved %d before schedule", n)
		}
		f.clock.Advance(25 * time.Hour)
		if n := must(f.svc.Tick(f.ctx))(t); n != 1 {
			t.Fatalf("moved %d", n)
		}
		if got := must(f.svc.Cycle(f.ctx, c.ID))(t); got.Phase != PhaseSupport {
			t.Fatalf("phase %s", got.Phase)
		}
		must(f.svc.Support(f.ctx, alice, c.ID, p2.ID))(t)
		must(f.svc.Support(f.ctx, bob, c.ID, p2.ID))(t)
		must(f.svc.Support(f.ctx, bob, c.ID, p2.ID))(t) // twice counts once
		// Skip straight past review: the tick moves to the latest started phase.
		f.clock.Advance(72 * time.Hour)
		must(f.svc.Tick(f.ctx))(t)
		if got := must(f.svc.Cycle(f.ctx, c.ID))(t); got.Phase != PhaseVoting {
			t.Fatalf("phase %s", got.Phase)
		}
		if got := must(f.svc.Proposal(f.ctx, c.ID, p1.ID))(t); got.Status != StatusNotShortlisted {
			t.Errorf("p1 %s", got.Status)
		}
		if got := must(f.svc.Proposal(f.ctx, c.ID, p2.ID))(t); got.Status != StatusSubmitted || got.Supports != 2 {
			t.Errorf("p2 %s %d", got.Status, got.Supports)
		}
		if n := must(f.svc.Tick(f.ctx))(t); n != 0 {
			t.Errorf("moved %d after the last scheduled phase", n)
		}
	})
}

func TestService_Import(t *testing.T) {
	const file = "testdata/pabulib/Netherlands_Assen_2024.pb"
	data, err := os.ReadFile(file)
	if err != nil {
		testdataMissing(t, err)
	}
	official := must(pabulib.ParseBytes(data))(t)
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		off := f.officer("officer", "n1")
		newSim := func() *Cycle {
			return must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{
				NeighbourhoodID: "n1", Name: "Assen", Budget: 1, Currency: "EUR", Simulation: true, Ballot: BallotRules{Type: BallotApproval},
			}))(t)
		}
		t.Run("ErrMalformed", func(t *testing.T) {
			c := newSim()
			bad := bytes.Replace(data, []byte("PROJECTS"), []byte("PROJECTZ"), 1)
			_, err := f.svc.Import(f.ctx, off, c.ID, bad)
			wantCode(t, err, sdk.CodeInvalid)
			if e := err.(*sdk.Error); e.Fields["line"] == "" {
				t.Errorf("no line number: %v", err)
			}
			if n := must(countProposals(f.ctx, db, c.ID))(t); n != 0 {
				t.Errorf("malformed import left %d proposals", n)
			}
		})
		t.Run("ErrRealCycle", func(t *testing.T) {
			c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{
				NeighbourhoodID: "n1", Name: "Real", Budget: 1, Currency: "EUR", Ballot: BallotRules{Type: BallotApproval},
			}))(t)
			_, err := f.svc.Import(f.ctx, off, c.ID, data)
			wantCode(t, err, sdk.CodeConflict)
		})
		t.Run("OK", func(t *testing.T) {
			c := newSim()
			sum := must(f.svc.Import(f.ctx, off, c.ID, data))(t)
			if sum.Ballots != len(official.Votes) || sum.Projects != len(official.Projects) {
				t.Fatalf("imported %+v", sum)
			}
			res := must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "mes", Completion: "add1"}))(t)
			var want []string
			for _, p := range official.Projects {
				if p.Selected == pabulib.SelectedYes {
					want = append(want, sum.ProjectIDs[p.ID])
				}
			}
			got := slices.Clone(res.Winners)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("winners %v, official %v", got, want)
			}
			if res.Endowment == nil || res.Unit != 100 {
				t.Errorf("endowment %v unit %d", res.Endowment, res.Unit)
			}
			var buf bytes.Buffer
			if err := f.svc.Export(f.ctx, c.ID, &buf); err != nil {
				t.Fatal(err)
			}
			checkRetally(t, buf.Bytes(), res)
		})
	})
}

func TestPlugin_HandleEvent(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 1000, 100)
		alice := f.resident("alice", "n1")
		must(f.svc.CastBallot(f.ctx, alice, c.ID, BallotInput{Ballot: Ballot{Projects: ids}}))(t)
		p := &Plugin{svc: f.svc}
		for range 2 { // redelivery is harmless
			for _, user := range []string{"alice", "author"} {
				ev := sdk.Event{ID: "ev-" + user, Type: sdk.EventUserDeleted, Payload: []byte(`{"user_id":"` + user + `"}`)}
				if err := sdk.Deliver(f.ctx, p, ev); err != nil {
					t.Fatal(err)
				}
			}
		}
		var n int
		if err := get(f.ctx, db, &n, `SELECT COUNT(*) FROM voters WHERE user_id IN ('alice', 'author')`); err != nil || n != 0 {
			t.Errorf("voters still name the user: %d %v", n, err)
		}
		if got := must(f.svc.Proposal(f.ctx, c.ID, ids[0]))(t); got.AuthorID != "" {
			t.Errorf("author kept: %q", got.AuthorID)
		}
		if n := must(f.svc.Turnout(f.ctx, c.ID))(t); n.Voters != 1 || n.Ballots != 1 {
			t.Errorf("counted ballots lost: %+v", n)
		}
	})
}

// TestService_CastBallotRouteChecked covers the eligibility shortcut: once the host has
// checked the route permission, a principal whose roles are all in the cycle's
// neighbourhood needs no second check over the host API, and anyone else still gets one.
func TestService_CastBallotRouteChecked(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 1000, 100, 200)
		ctx := withRouteChecked(f.ctx, PermBallotCast)
		t.Run("OK", func(t *testing.T) {
			must(f.svc.CastBallot(ctx, f.resident("alice", "n1"), c.ID, BallotInput{Ballot: Ballot{Projects: ids[:1]}}))(t)
		})
		t.Run("ErrRolesElsewhere", func(t *testing.T) {
			// A verified member whose grants the host denies in n1: roles outside the
			// cycle's neighbourhood mean the host's route check proved nothing about n1.
			// The Principal (as the request carried it) still names n1; the host knows
			// better.
			f.resident("carol", "n2")
			f.host.Grant("carol", sdktest.RoleCoordinator, "nbh:n1")
			pr := sdk.Principal{UserID: "carol", Roles: map[string][]string{"nbh:n1": {"coordinator"}, "nbh:n2": {"resident"}}, Neighbourhoods: []string{"n1", "n2"}}
			_, err := f.svc.CastBallot(ctx, pr, c.ID, BallotInput{Ballot: Ballot{Projects: ids[:1]}})
			wantCode(t, err, sdk.CodeForbidden)
		})
		if n := must(f.svc.Turnout(f.ctx, c.ID))(t); n.Voters != 1 || n.Ballots != 1 {
			t.Errorf("turnout %+v", n)
		}
	})
}

// TestVotingCycles_LoadOnce: ballots that arrive together for a cycle not yet cached
// share one read of it; a waiter whose request goes away stops waiting.
func TestVotingCycles_LoadOnce(t *testing.T) {
	var vc votingCycles
	var calls atomic.Int32
	release := make(chan struct{})
	want := &Cycle{ID: "c1"}
	read := func() (*Cycle, map[string]int64, error) {
		calls.Add(1)
		<-release
		return want, map[string]int64{"p1": 100}, nil
	}
	var wg sync.WaitGroup
	got := make([]*Cycle, 20)
	for i := range got {
		wg.Go(func() {
			c, projects, err := vc.load(context.Background(), "c1", read)
			if err != nil || projects["p1"] != 100 {
				t.Errorf("load %d: %v, %v", i, projects, err)
			}
			got[i] = c
		})
	}
	// Wait until one call reads and the 19 others wait for it, then let one more
	// waiter give up.
	waiting := func() int {
		vc.mu.Lock()
		defer vc.mu.Unlock()
		if l := vc.loading["c1"]; l != nil {
			return l.waiters
		}
		return 0
	}
	for waiting() < len(got)-1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := vc.load(ctx, "c1", read); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled waiter got %v", err)
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d reads for 20 ballots arriving together, want 1", n)
	}
	for i, c := range got {
		if c != want {
			t.Errorf("ballot %d got cycle %v", i, c)
		}
	}
	// Once done, the next load reads again (the cache proper is votingCycles.put's).
	if _, _, err := vc.load(context.Background(), "c1", func() (*Cycle, map[string]int64, error) { return want, nil, nil }); err != nil {
		t.Error(err)
	}
}
