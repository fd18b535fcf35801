package budgeting

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// TestPlugin_Activate configures the plugin as the SDK does, migrates it, and checks
// that the background tick moves a cycle whose scheduled phase has started.
func TestPlugin_Activate(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	host := newHost()
	p := &Plugin{Now: clk.Now}
	env := sdk.Env{
		Settings: map[string]string{SettingTickInterval: "10ms"},
		Store:    sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + filepath.Join(t.TempDir(), "b.db")},
		Host:     host,
	}
	if err := p.Configure(ctx, env); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, p.db, p.Migrations()); err != nil {
		t.Fatal(err)
	}
	off := officer(host, "officer", "n1")
	start := clk.Now().Add(time.Hour)
	c := must(p.Service().CreateCycle(ctx, off, CreateCycleInput{
		NeighbourhoodID: "n1", Name: "Tick", Budget: 100, Currency: "EUR", Ballot: BallotRules{Type: BallotApproval},
		Phases: map[Phase]*time.Time{PhaseReview: &start},
	}))(t)
	if err := p.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour)
	// Wait for the tick to see the new time; the deadline only bounds a broken loop.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := must(p.Service().Cycle(ctx, c.ID))(t)
		if got.Phase == PhaseReview {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tick never moved the cycle (phase %s)", got.Phase)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.Health(ctx); err != nil {
		t.Error(err)
	}
	if err := p.Deactivate(ctx); err != nil {
		t.Error(err)
	}
}

func TestParseSettings(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		s, err := parseSettings(nil)
		if err != nil || s.TickInterval != time.Minute || s.ProposalsOpen || s.BallotReplaceable || s.MinAge != 0 {
			t.Errorf("%+v %v", s, err)
		}
	})
	for _, bad := range []map[string]string{
		{SettingMinAge: "-1"}, {SettingTickInterval: "0s"}, {SettingBallotReplaceable: "maybe"}, {SettingProposalsOpen: "2"},
	} {
		if _, err := parseSettings(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestService_TallyTie checks that a tie the chain cannot break is published as a
// tie rather than decided silently.
func TestService_TallyTie(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval, Max: 1}, 100_00, 100_00, 100_00)
		for i, id := range ids {
			must(f.svc.CastBallot(f.ctx, f.resident("v"+id, "n1"), c.ID, BallotInput{Ballot: Ballot{Projects: ids[i : i+1]}}))(t)
		}
		off := f.officer("officer", "n1")
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseResults))(t)
		res := must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "greedy"}))(t)
		if len(res.Ties) != 1 || !res.Ties[0].Decisive || len(res.Ties[0].Projects) != 2 {
			t.Fatalf("ties %+v", res.Ties)
		}
		if len(res.Winners) != 1 {
			t.Errorf("winners %v", res.Winners)
		}
	})
}
