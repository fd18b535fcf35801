package assemblies

import (
	"context"
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

// newNotifyEnv is newEnv in a city of five languages, in Helsinki.
func newNotifyEnv(tb testing.TB, cfg sdk.StoreConfig) *env {
	tb.Helper()
	if cfg.Dialect == sdk.DialectPostgres {
		cfg = sdktest.PostgresStore(tb)
	} else {
		cfg = sdktest.SQLiteStore(tb)
	}
	p := New().(*Plugin)
	h := sdktest.NewHarness(tb, p, sdktest.HarnessOptions{Store: cfg, Languages: []string{"fi", "sv", "en", "da", "tr"},
		CityTimeZone: "Europe/Helsinki"})
	c := sdktest.NewClock(t0)
	p.svc.Now, p.svc.Rand = c.Now, newRand(1)
	return &env{Harness: h, t: tb, plugin: p, svc: p.svc, clock: c}
}

// reached are the user IDs a notification of kind about subject reached, sorted; it
// fails unless exactly one was sent.
func reached(t *testing.T, e *env, kind, subject string) sdktest.SentNotification {
	t.Helper()
	var got []sdktest.SentNotification
	for _, n := range e.Host.Notifications(kind) {
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

func ids(ps ...sdk.Principal) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.UserID
	}
	slices.Sort(out)
	return out
}

func TestNotifyCatalog_Complete(t *testing.T) {
	i18ntest.CheckCatalog(t, notifyFiles)
	if err := sdk.CheckNotificationKinds("assemblies", notificationKinds()); err != nil {
		t.Fatal(err)
	}
	for _, k := range notificationKinds() {
		if len(k.Labels) != 5 {
			t.Errorf("%s is labelled in %d languages, want 5", k.Name, len(k.Labels))
		}
	}
}

// TestNotify_MotionLoop: a motion's way from the table to the city's answer tells
// exactly those it concerns — members of the table and the vote, members, voters and
// followers of the result, the author, sponsors, voters and followers of each step of
// the city's answer — in their languages, and never the person who acted.
func TestNotify_MotionLoop(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newNotifyEnv(t, cfg)
		a, chair := e.assembly("n1", map[string]any{"name": "Kallio"})
		ms := e.members(a, 5) // ms[0] writes, ms[1] sponsors, ms[1..3] vote, ms[4] stays away
		outsider := e.resident("outsider", "n1")
		follower := e.user("follower", "", "")
		watcher := e.user("watcher", "", "") // follows the assembly
		responder := e.user("responder", RoleCityResponder, sdk.DomainCity)
		base := "/api/v1/assemblies/" + a.ID
		e.Must(200, watcher, "PUT", base+"/follow", nil)

		var m Motion
		e.Must(201, ms[0], "POST", base+"/motions", map[string]any{"title": "Benches on the square", "text": "Because."}).Decode(t, &m)
		e.Must(200, ms[1], "POST", base+"/motions/"+m.ID+"/sponsor", nil)
		e.Must(200, ms[0], "POST", base+"/motions/"+m.ID+"/table", nil)
		subject, motion := "assemblies.motion:"+m.ID, base+"/motions/"+m.ID

		tabled := reached(t, e, NotifyMotionTabled, subject)
		if want := ids(chair, ms[1], ms[2], ms[3], ms[4], watcher); !slices.Equal(tabled.To, want) {
			t.Errorf("tabled reached %v, want the members but its author, and the assembly's followers %v", tabled.To, want)
		}
		if tabled.Link != "/assemblies/"+a.ID+"/motions/"+m.ID {
			t.Errorf("link %q", tabled.Link)
		}
		if got := tabled.Texts["fi"].Title; got != "Uusi aloite – Kallio: Benches on the square" {
			t.Errorf("fi title %q", got)
		}
		if got := tabled.Texts["tr"].Title; got != "Kallio – yeni önerge: Benches on the square" {
			t.Errorf("tr title %q", got)
		}
		if got := e.Host.Followers(subject); !slices.Equal(got, ids(ms[0], ms[1])) {
			t.Errorf("followers after drafting and sponsoring: %v", got)
		}

		e.Must(200, follower, "PUT", motion+"/follow", nil)
		if st, code := errCode(e, follower, "PUT", base+"/motions/nope/follow", nil); st != 404 {
			t.Errorf("following a motion that does not exist = %d %s", st, code)
		}
		if st, _ := errCode(e, sdk.Principal{}, "PUT", motion+"/follow", nil); st != 401 {
			t.Errorf("following anonymously = %d", st)
		}

		e.Must(200, chair, "POST", motion+"/vote/open", nil)
		opened := reached(t, e, NotifyVoteOpened, subject)
		if want := ids(ms...); !slices.Equal(opened.To, want) {
			t.Errorf("vote opened reached %v, want the electorate but the chair %v", opened.To, want)
		}
		for i, c := range []string{"yes", "yes", "no"} {
			e.Must(201, ms[i+1], "POST", motion+"/vote/ballots", map[string]any{"choice": c})
		}
		e.Must(200, chair, "POST", motion+"/vote/close", nil)
		closed := reached(t, e, NotifyVoteClosed, subject)
		if want := ids(ms[0], ms[1], ms[2], ms[3], ms[4], follower, watcher); !slices.Equal(closed.To, want) {
			t.Errorf("result reached %v, want %v", closed.To, want)
		}
		if got := closed.Texts["sv"]; got.Title != "Antagen: Benches on the square" || !strings.Contains(got.Body, "2 ja, 1 nej och 0 som avstod") {
			t.Errorf("sv result %+v", got)
		}
		if slices.Contains(closed.To, outsider.UserID) {
			t.Error("a resident who is no member heard of the result")
		}
		if got := e.Host.Followers(subject); !slices.Equal(got, ids(ms[0], ms[1], ms[2], ms[3], follower)) {
			t.Errorf("followers after the vote (voters follow): %v", got)
		}

		// The city's answer: author, sponsors, voters and followers; not the member who
		// stayed away, nor the assembly's followers, nor the responder.
		concerned := ids(ms[0], ms[1], ms[2], ms[3], follower)
		e.Must(200, responder, "POST", motion+"/acknowledge", nil)
		ack := reached(t, e, NotifyAcknowledged, subject)
		if !slices.Equal(ack.To, concerned) {
			t.Errorf("acknowledgement reached %v, want %v", ack.To, concerned)
		}
		if got := ack.Texts["fi"].Body; !strings.Contains(got, "1.4.2026") { // 30 days after the close, Helsinki time
			t.Errorf("fi acknowledgement %q names no due date", got)
		}
		e.Must(200, responder, "POST", motion+"/answer", map[string]any{"decision": "accepted", "reasoning": "Two benches in May."})
		answered := reached(t, e, NotifyAnswered, subject)
		if !slices.Equal(answered.To, concerned) {
			t.Errorf("answer reached %v, want %v", answered.To, concerned)
		}
		if got := answered.Texts["tr"]; got.Title != "Belediye “Benches on the square” önergesini kabul etti" || !strings.HasSuffix(got.Body, "Two benches in May.") {
			t.Errorf("tr answer %+v", got)
		}
		if got := answered.Texts["da"].Title; got != "Kommunen imødekommer »Benches on the square«" {
			t.Errorf("da answer %q", got)
		}

		e.Must(200, follower, "DELETE", motion+"/follow", nil)
		e.Must(200, responder, "POST", motion+"/implemented", nil)
		done := reached(t, e, NotifyImplemented, subject)
		if want := ids(ms[0], ms[1], ms[2], ms[3]); !slices.Equal(done.To, want) {
			t.Errorf("implementation reached %v, want %v (the follower stopped following)", done.To, want)
		}

		// A step refused changes nothing and tells nobody.
		before := len(e.Host.Notifications())
		e.Must(409, responder, "POST", motion+"/implemented", nil)
		if n := len(e.Host.Notifications()); n != before {
			t.Errorf("a refused step sent %d notifications", n-before)
		}
	})
}

// TestNotify_SecretVote: in a secret vote the voters are told from the participation
// record, all alike; no notification says who chose what.
func TestNotify_SecretVote(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newNotifyEnv(t, cfg)
		a, chair := e.assembly("n1", map[string]any{"secrecy": "secret"})
		ms := e.members(a, 3)
		m := e.tabled(a, ms[0], "Trees")
		motion := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
		e.Must(200, chair, "POST", motion+"/vote/open", nil)
		e.Must(201, ms[1], "POST", motion+"/vote/ballots", map[string]any{"choice": "yes"})
		e.Must(201, ms[2], "POST", motion+"/vote/ballots", map[string]any{"choice": "no"})
		e.Must(200, chair, "POST", motion+"/vote/close", nil)
		closed := reached(t, e, NotifyVoteClosed, "assemblies.motion:"+m.ID)
		if want := ids(ms...); !slices.Equal(closed.To, want) {
			t.Errorf("result reached %v, want %v", closed.To, want)
		}
		for _, n := range e.Host.Notifications() {
			for _, text := range n.Texts {
				for _, p := range ms {
					if strings.Contains(text.Body, p.UserID) || strings.Contains(text.Title, p.UserID) {
						t.Errorf("a notification names voter %s: %+v", p.UserID, text)
					}
				}
			}
		}
	})
}

// TestNotify_Meetings: members and the assembly's followers hear of a meeting
// scheduled (with its time in the city's zone), cancelled (with the reason) and of its
// minutes.
func TestNotify_Meetings(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newNotifyEnv(t, cfg)
		a, chair := e.assembly("n1", map[string]any{"name": "Kallio"})
		ms := e.members(a, 2)
		watcher := e.user("watcher", "", "")
		e.resident("outsider", "n1")
		base := "/api/v1/assemblies/" + a.ID
		e.Must(200, watcher, "PUT", base+"/follow", nil)
		subject, want := "assemblies.assembly:"+a.ID, ids(ms[0], ms[1], watcher)

		var mt Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Spring meeting",
			"place": "Library", "starts_at": time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC), "ends_at": time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC)}).Decode(t, &mt)
		scheduled := reached(t, e, NotifyMeetingScheduled, subject)
		if !slices.Equal(scheduled.To, want) || scheduled.Link != base[len("/api/v1"):]+"/meetings/"+mt.ID {
			t.Errorf("scheduled reached %v (link %s), want %v", scheduled.To, scheduled.Link, want)
		}
		if got := scheduled.Texts["fi"].Body; !strings.Contains(got, "10.3.2026") || !strings.Contains(got, "17.00") {
			t.Errorf("fi %q: the time is not in Helsinki's zone", got)
		}

		e.clock.Set(time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC)) // held: minutes can be written
		e.Must(200, chair, "POST", base+"/meetings/"+mt.ID+"/minutes", map[string]any{"minutes": "We met."})
		e.Must(200, chair, "POST", base+"/meetings/"+mt.ID+"/minutes/approve", nil)
		e.Must(200, chair, "POST", base+"/meetings/"+mt.ID+"/minutes/publish", nil)
		if got := reached(t, e, NotifyMinutesPublished, subject); !slices.Equal(got.To, want) {
			t.Errorf("minutes reached %v", got.To)
		}

		var other Meeting
		e.Must(201, chair, "POST", base+"/meetings", map[string]any{"title": "Autumn meeting",
			"place": "Library", "starts_at": time.Date(2026, 9, 10, 15, 0, 0, 0, time.UTC), "ends_at": time.Date(2026, 9, 10, 17, 0, 0, 0, time.UTC)}).Decode(t, &other)
		e.Must(200, chair, "POST", base+"/meetings/"+other.ID+"/cancel", map[string]any{"reason": "The hall is flooded."})
		cancelled := reached(t, e, NotifyMeetingCancelled, subject)
		if !slices.Equal(cancelled.To, want) || !strings.HasSuffix(cancelled.Texts["sv"].Body, "The hall is flooded.") {
			t.Errorf("cancelled %+v", cancelled)
		}
	})
}

// TestNotify_Overdue: the city's responders hear once of an answer gone overdue; a
// motion answered in time is not overdue.
func TestNotify_Overdue(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newNotifyEnv(t, cfg)
		a, chair := e.assembly("n1", nil)
		ms := e.members(a, 2)
		responder := e.user("responder", RoleCityResponder, sdk.DomainCity)
		adopt := func(title string) string {
			m := e.tabled(a, ms[0], title)
			motion := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
			e.Must(200, chair, "POST", motion+"/vote/open", nil)
			e.Must(201, ms[0], "POST", motion+"/vote/ballots", map[string]any{"choice": "yes"})
			e.Must(201, ms[1], "POST", motion+"/vote/ballots", map[string]any{"choice": "yes"})
			e.Must(200, chair, "POST", motion+"/vote/close", nil)
			return m.ID
		}
		late, inTime := adopt("Late"), adopt("In time")
		e.Must(200, responder, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+late+"/acknowledge", nil)
		e.Must(200, responder, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+inTime+"/answer",
			map[string]any{"decision": "declined", "reasoning": "No budget."})

		if n, err := e.svc.NotifyOverdue(context.Background()); err != nil || n != 0 {
			t.Fatalf("before the deadline: %d, %v", n, err)
		}
		e.clock.Advance(31 * 24 * time.Hour)
		for round, want := range []int{1, 0} {
			n, err := e.svc.NotifyOverdue(context.Background())
			if err != nil || n != want {
				t.Fatalf("sweep %d: %d motions, %v; want %d", round+1, n, err, want)
			}
			e.Flush()
		}
		overdue := reached(t, e, NotifyAnswerOverdue, "assemblies.motion:"+late)
		if !slices.Equal(overdue.To, ids(responder)) {
			t.Errorf("overdue reached %v, want the responder", overdue.To)
		}
		if len(e.Host.Notifications(NotifyAnswerOverdue)) != 1 {
			t.Error("the motion answered in time was reported overdue")
		}
		var m Motion
		e.Must(200, sdk.Principal{}, "GET", "/api/v1/assemblies/"+a.ID+"/motions/"+late, nil).Decode(t, &m)
		if !slices.ContainsFunc(m.Timeline, func(te TimelineEntry) bool { return te.Kind == "answer_overdue" }) {
			t.Error("the public timeline does not show the deadline passing")
		}
	})
}

// TestNotify_RollbackAndRedelivery: a close that fails after its notification was
// written tells nobody; a notification the relay delivers twice reaches each person
// once.
func TestNotify_RollbackAndRedelivery(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newNotifyEnv(t, cfg)
		a, chair := e.assembly("n1", nil)
		ms := e.members(a, 2)
		m := e.tabled(a, ms[0], "Lights")
		motion := "/api/v1/assemblies/" + a.ID + "/motions/" + m.ID
		e.Must(200, chair, "POST", motion+"/vote/open", nil)
		e.Must(201, ms[0], "POST", motion+"/vote/ballots", map[string]any{"choice": "yes"})
		e.Must(201, ms[1], "POST", motion+"/vote/ballots", map[string]any{"choice": "yes"})

		// The last step of an adopting close fails: its notification and the voters'
		// follows, written before, roll back with it.
		failSubmission(t, e.plugin.db, true)
		if st, _ := errCode(e, chair, "POST", motion+"/vote/close", nil); st != 500 {
			t.Fatalf("the failing close answered %d", st)
		}
		if n, _ := e.plugin.db.PendingEvents(context.Background()); n != 0 || len(e.Host.Notifications(NotifyVoteClosed)) != 0 {
			t.Fatalf("a close that rolled back left %d outbox rows, told %d", n, len(e.Host.Notifications(NotifyVoteClosed)))
		}
		if got := e.Host.Followers("assemblies.motion:" + m.ID); !slices.Equal(got, ids(ms[0])) {
			t.Errorf("followers after the failed close: %v", got)
		}
		failSubmission(t, e.plugin.db, false)

		// The host is away while the vote closes; what waits in the outbox is then
		// delivered twice.
		e.Host.SetUnavailable(true)
		e.Must(200, chair, "POST", motion+"/vote/close", nil)
		pending := outboxEvents(t, e.plugin.db)
		e.Host.SetUnavailable(false)
		e.Flush()
		if err := e.Host.PublishAll(context.Background(), pending); err != nil {
			t.Fatal(err)
		}
		closed := reached(t, e, NotifyVoteClosed, "assemblies.motion:"+m.ID)
		if want := ids(ms...); !slices.Equal(closed.To, want) {
			t.Errorf("result reached %v, want %v", closed.To, want)
		}
	})
}

// failSubmission makes (or stops making) the close's last step, the motion's
// submission to the city on its timeline, fail.
func failSubmission(t *testing.T, db *store.DB, on bool) {
	t.Helper()
	var stmts []string
	switch {
	case db.IsPostgres() && on:
		stmts = []string{`CREATE FUNCTION fail_submission() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.kind = 'submitted_to_city' THEN RAISE EXCEPTION 'submission fails'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER fail_submission BEFORE INSERT ON timeline FOR EACH ROW EXECUTE FUNCTION fail_submission()`}
	case db.IsPostgres():
		stmts = []string{`DROP TRIGGER fail_submission ON timeline`, `DROP FUNCTION fail_submission()`}
	case on:
		stmts = []string{`CREATE TRIGGER fail_submission BEFORE INSERT ON timeline WHEN NEW.kind = 'submitted_to_city'
			BEGIN SELECT RAISE(ABORT, 'submission fails'); END`}
	default:
		stmts = []string{`DROP TRIGGER fail_submission`}
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
