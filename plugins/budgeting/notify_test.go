package budgeting

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

func TestNotifyCatalog_Complete(t *testing.T) {
	i18ntest.CheckCatalog(t, notifyFiles)
	if err := sdk.CheckNotificationKinds("budgeting", notificationKinds()); err != nil {
		t.Fatal(err)
	}
	for _, k := range notificationKinds() {
		if len(k.Labels) != 5 {
			t.Errorf("%s is labelled in %d languages, want 5", k.Name, len(k.Labels))
		}
	}
}

// notified is the one notification of kind about subject, with its recipients sorted.
func (f *fixture) notified(t *testing.T, kind, subject string) sdktest.SentNotification {
	t.Helper()
	f.events(t)
	var got []sdktest.SentNotification
	for _, n := range f.host.Notifications(kind) {
		if n.Subject == subject {
			got = append(got, n)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d notifications %s of %s, want 1: %+v", len(got), kind, subject, got)
	}
	slices.Sort(got[0].To)
	return got[0]
}

// notifyFixture is a fixture in a city of five languages, in Helsinki.
func notifyFixture(t *testing.T, db *store.DB) *fixture {
	f := newFixture(t, db, Settings{})
	f.svc.languages = []string{"fi", "sv", "en", "da", "tr"}
	f.svc.zone, _ = time.LoadLocation("Europe/Helsinki")
	return f
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

// TestNotify_Cycle: a cycle's way from review to its projects tells those it concerns —
// the cycle's followers of each phase, each author of their proposal's review, the
// voters of the results and of the projects' progress — in their languages, and not
// the officer who acted nor residents who took no part.
func TestNotify_Cycle(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := notifyFixture(t, db)
		off := f.officer("officer", "n1")
		f.resident("bystander", "n1")
		follower := f.resident("follower", "n1")
		c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "Kallio 2026", Budget: 100_00,
			Currency: "EUR", Ballot: BallotRules{Type: BallotApproval, Max: 1}}))(t)
		must(f.svc.FollowCycle(f.ctx, follower, c.ID, true))(t)
		if _, err := f.svc.FollowCycle(f.ctx, follower, "nope", true); ErrorCode(err) != sdk.CodeNotFound {
			t.Errorf("following a cycle that does not exist: %v", err)
		}
		a1, a2, a3 := f.resident("a1", "n1"), f.resident("a2", "n1"), f.resident("a3", "n1")
		p1 := must(f.svc.SubmitProposal(f.ctx, a1, c.ID, ProposalInput{Title: "Benches", Cost: 60_00}))(t)
		p2 := must(f.svc.SubmitProposal(f.ctx, a2, c.ID, ProposalInput{Title: "Pier", Cost: 90_00}))(t)
		p3 := must(f.svc.SubmitProposal(f.ctx, a3, c.ID, ProposalInput{Title: "More benches", Cost: 50_00}))(t)
		cycle := cycleSubject(c.ID)

		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseReview))(t)
		review := f.notified(t, NotifyPhaseOpened, cycle)
		if want := sorted("a1", "a2", "a3", "follower"); !slices.Equal(review.To, want) {
			t.Errorf("review phase reached %v, want the proposers and the follower %v", review.To, want)
		}
		if got := review.Texts["fi"].Title; got != "Kallio 2026: ideoita arvioidaan" {
			t.Errorf("fi %q", got)
		}

		yes, no, cost := true, false, int64(60_00)
		must(f.svc.Review(f.ctx, off, c.ID, p1.ID, ReviewInput{Feasible: &yes, Cost: &cost}))(t)
		must(f.svc.Review(f.ctx, off, c.ID, p2.ID, ReviewInput{Feasible: &no, Reason: "The lake is protected."}))(t)
		must(f.svc.Review(f.ctx, off, c.ID, p3.ID, ReviewInput{DuplicateOf: p1.ID}))(t)
		accepted := f.notified(t, NotifyProposalReviewed, proposalSubject(p1.ID))
		rejected := f.notified(t, NotifyProposalReviewed, proposalSubject(p2.ID))
		merged := f.notified(t, NotifyProposalReviewed, proposalSubject(p3.ID))
		if !slices.Equal(accepted.To, []string{"a1"}) || !slices.Equal(rejected.To, []string{"a2"}) || !slices.Equal(merged.To, []string{"a3"}) {
			t.Errorf("reviews reached %v, %v, %v; want each author", accepted.To, rejected.To, merged.To)
		}
		if got := accepted.Texts["sv"].Title; got != "På röstsedeln: Benches" {
			t.Errorf("sv accepted %q", got)
		}
		if got := rejected.Texts["tr"]; got.Title != "Oylamada değil: Pier" || !strings.HasSuffix(got.Body, "The lake is protected.") {
			t.Errorf("tr rejected %+v", got)
		}
		if got := merged.Texts["da"].Body; !strings.Contains(got, "»Benches«") {
			t.Errorf("da merged %q does not name the proposal it joined", got)
		}

		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseVoting))(t)
		v1, v2 := f.resident("v1", "n1"), f.resident("v2", "n1")
		must(f.svc.CastBallot(f.ctx, v1, c.ID, BallotInput{Ballot: Ballot{Projects: []string{p1.ID}}}))(t)
		must(f.svc.CastBallot(f.ctx, v2, c.ID, BallotInput{Ballot: Ballot{Projects: []string{p1.ID}}}))(t)
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseResults))(t)
		if f.events(t); !slices.Equal(f.host.Followers(cycle), sorted("a1", "a2", "a3", "follower", "v1", "v2")) {
			t.Errorf("followers after voting closed (voters follow): %v", f.host.Followers(cycle))
		}
		must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "greedy"}))(t)
		results := f.notified(t, NotifyResults, cycle)
		if want := sorted("a1", "a2", "a3", "follower", "v1", "v2"); !slices.Equal(results.To, want) {
			t.Errorf("results reached %v, want %v", results.To, want)
		}

		// Progress on a project: its followers (its author) and the cycle's voters —
		// not those who voted for it, which the ballots keep secret.
		must(f.svc.UpdateImplementation(f.ctx, off, c.ID, p1.ID, UpdateInput{Status: ImplInProgress, Note: "Tender out."}))(t)
		update := f.notified(t, NotifyProjectUpdated, proposalSubject(p1.ID))
		if want := sorted("a1", "v1", "v2"); !slices.Equal(update.To, want) {
			t.Errorf("update reached %v, want %v", update.To, want)
		}
		if got := update.Texts["fi"]; got.Title != "Työn alla: Benches" || !strings.HasSuffix(got.Body, "Tender out.") {
			t.Errorf("fi update %+v", got)
		}
		for _, n := range f.host.Notifications() {
			if slices.Contains(n.To, "bystander") || slices.Contains(n.To, "officer") {
				t.Errorf("%s reached %v", n.Kind, n.To)
			}
		}
	})
}

// TestNotify_RollbackAndRedelivery: an update that fails after its notification was
// written tells nobody; a notification the relay delivers twice reaches each person
// once.
func TestNotify_RollbackAndRedelivery(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := notifyFixture(t, db)
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval, Max: 1}, 100_00, 100_00)
		off := f.officer("officer", "n1")
		must(f.svc.CastBallot(f.ctx, f.resident("v1", "n1"), c.ID, BallotInput{Ballot: Ballot{Projects: ids}}))(t)
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseResults))(t)
		must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "greedy"}))(t)
		f.events(t)

		failEvent(t, db, EventProjectUpdated, true)
		if _, err := f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplInProgress}); err == nil {
			t.Fatal("the failing update succeeded")
		}
		failEvent(t, db, EventProjectUpdated, false)
		if f.events(t); len(f.host.Notifications(NotifyProjectUpdated)) != 0 {
			t.Fatal("an update that rolled back told someone")
		}

		// Relayed, then relayed again as after a relay that stopped before deleting.
		must(f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplInProgress}))(t)
		pending := outboxEvents(t, db)
		f.events(t)
		if err := f.host.PublishAll(f.ctx, pending); err != nil {
			t.Fatal(err)
		}
		update := f.notified(t, NotifyProjectUpdated, proposalSubject(ids[0]))
		if want := sorted("author", "v1"); !slices.Equal(update.To, want) {
			t.Errorf("update reached %v, want %v", update.To, want)
		}
	})
}

// failEvent makes (or stops making) the outbox refuse events of type typ, so that the
// transaction writing one fails at its end.
func failEvent(t *testing.T, db *store.DB, typ string, on bool) {
	t.Helper()
	var stmts []string
	switch {
	case db.IsPostgres() && on:
		stmts = []string{`CREATE FUNCTION fail_event() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.type = '` + typ + `' THEN RAISE EXCEPTION 'event fails'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER fail_event BEFORE INSERT ON kvarter_outbox FOR EACH ROW EXECUTE FUNCTION fail_event()`}
	case db.IsPostgres():
		stmts = []string{`DROP TRIGGER fail_event ON kvarter_outbox`, `DROP FUNCTION fail_event()`}
	case on:
		stmts = []string{`CREATE TRIGGER fail_event BEFORE INSERT ON kvarter_outbox WHEN NEW.type = '` + typ + `'
			BEGIN SELECT RAISE(ABORT, 'event fails'); END`}
	default:
		stmts = []string{`DROP TRIGGER fail_event`}
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

// outboxEvents reads the events waiting in the plugin's outbox, as the relay sends them.
func outboxEvents(t *testing.T, db *store.DB) []sdk.Event {
	t.Helper()
	var rows []struct {
		ID      string `db:"id"`
		Type    string `db:"type"`
		Payload string `db:"payload"`
	}
	if err := db.Select(&rows, `SELECT id, type, payload FROM kvarter_outbox ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("nothing waits in the outbox")
	}
	out := make([]sdk.Event, len(rows))
	for i, r := range rows {
		out[i] = sdk.Event{ID: r.ID, Type: r.Type, Payload: json.RawMessage(r.Payload)}
	}
	return out
}
