package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/mail/mailtest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/sqlstore"
)

// Kinds the tests declare as the assemblies plugin would.
const (
	kindAnswered = "assemblies.motion.answered" // immediately by default
	kindProposal = "assemblies.proposal.new"    // weekly by default
	kindDaily    = "assemblies.meeting.minutes" // daily by default
)

// notifyNode starts a node whose digests only run when a test runs them, at clock.
func notifyNode(t *testing.T, cfg node.Config, clock *coretest.Clock) *node.Node {
	t.Helper()
	opt := coretest.Options()
	opt.Clock = clock
	opt.DigestCheckInterval = 24 * time.Hour
	n := coretest.StartNode(t, cfg, opt)
	declareTestKinds(n)
	return n
}

func declareTestKinds(n *node.Node) {
	n.Notifications.DeclareKinds("assemblies", []core.NotificationKind{
		{Name: kindAnswered, Labels: map[string]string{"en": "The city answered a motion"}, Default: core.DeliverImmediately},
		{Name: kindProposal, Labels: map[string]string{"en": "A new proposal"}, Default: core.DeliverWeekly},
		{Name: kindDaily, Labels: map[string]string{"en": "Minutes published"}, Default: core.DeliverDaily},
	})
}

// resident opens an account speaking lang and returns its id and a context acting as it.
func resident(t *testing.T, n *node.Node, email, lang string) (string, context.Context) {
	t.Helper()
	u, err := n.Identity.Register(context.Background(), core.Registration{Email: email, Password: "a long enough passphrase", DisplayName: email, Language: lang})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	// Only a verified address gets notification mail.
	db := coretest.SQL(n)
	if _, err := db.Exec(db.Rebind(`UPDATE users SET email_verified_at = ? WHERE id = ?`), n.DB.Clock.Now().UTC(), u.ID); err != nil {
		t.Fatal(err)
	}
	return u.ID, core.WithPrincipal(context.Background(), &core.Principal{UserID: u.ID, Locale: lang})
}

// request is a notification of kind in five languages.
func request(id, kind string, recipients ...string) core.NotificationRequest {
	texts := map[string]core.NotificationText{}
	for _, l := range []string{"en", "fi", "sv", "da", "tr"} {
		texts[l] = core.NotificationText{Title: l + ": the city answered", Body: l + ": body"}
	}
	return core.NotificationRequest{ID: id, Kind: kind, Source: "assemblies", Recipients: recipients,
		Subject: "assemblies.motion:m1", Link: "/assemblies/a1/motions/m1", Texts: texts}
}

// count runs a count query on the node's database.
func count(t testing.TB, n *node.Node, query string, args ...any) int {
	t.Helper()
	var c int
	db := coretest.SQL(n)
	if err := db.Get(&c, db.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return c
}

func TestNotificationService_Notify(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.City.Languages = []string{"sv", "fi", "en", "da", "tr"}
		n := notifyNode(t, cfg, coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)))
		ctx := context.Background()
		elif, elifCtx := resident(t, n, "elif@example.org", "tr")
		sven, svenCtx := resident(t, n, "sven@example.org", "sv")
		actor, actorCtx := resident(t, n, "actor@example.org", "fi")
		follower, followerCtx := resident(t, n, "follower@example.org", "da") // the request has no Danish: the city's default, sv
		stranger, strangerCtx := resident(t, n, "stranger@example.org", "en")
		erased, erasedCtx := resident(t, n, "erased@example.org", "en")
		if err := n.Notifications.ChangeFollows(ctx, []core.FollowChange{
			{UserID: follower, Subject: "assemblies.motion:m1", Follow: true},
			{UserID: actor, Subject: "assemblies.motion:m1", Follow: true},
			{UserID: erased, Subject: "assemblies.motion:m1", Follow: true},
			{UserID: "no-such-person", Subject: "assemblies.motion:m1", Follow: true},
		}); err != nil {
			t.Fatal(err)
		}
		if err := n.Identity.DeleteAccount(erasedCtx); err != nil {
			t.Fatal(err)
		}

		req := request("evt-1", kindAnswered, elif, sven, actor, "no-such-person")
		req.Followers = []string{"assemblies.motion:m1"}
		req.Except = []string{actor}
		delete(req.Texts, "da")
		if err := n.Notifications.Notify(ctx, []core.NotificationRequest{req}); err != nil {
			t.Fatal(err)
		}

		t.Run("OK", func(t *testing.T) {
			for _, c := range []struct {
				name  string
				ctx   context.Context
				title string
			}{{"tr", elifCtx, "tr: the city answered"}, {"sv", svenCtx, "sv: the city answered"}, {"city default", followerCtx, "sv: the city answered"}} {
				list, _, err := n.Notifications.Notifications(c.ctx, core.Page{})
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != 1 || list[0].Title != c.title || list[0].Kind != kindAnswered || list[0].Link != "/assemblies/a1/motions/m1" || list[0].ReadAt != nil {
					t.Errorf("%s: notifications %+v, want one titled %q", c.name, list, c.title)
				}
			}
			for name, c := range map[string]context.Context{"except": actorCtx, "stranger": strangerCtx} {
				if list, _, _ := n.Notifications.Notifications(c, core.Page{}); len(list) != 0 {
					t.Errorf("%s got %+v", name, list)
				}
			}
			if got := count(t, n, `SELECT count(*) FROM notifications WHERE user_id = ?`, erased) + count(t, n, `SELECT count(*) FROM follows WHERE user_id = ?`, erased); got != 0 {
				t.Errorf("the erased account has %d notifications and follows", got)
			}
			_ = stranger
			// Texts are stored once per request, not per recipient.
			if got := count(t, n, `SELECT count(*) FROM notification_texts WHERE request_id = 'evt-1'`); got != 4 {
				t.Errorf("%d texts stored, want 4", got)
			}
			if got := count(t, n, `SELECT count(*) FROM notifications WHERE request_id = 'evt-1' AND mailed_at IS NOT NULL`); got != 3 {
				t.Errorf("%d mails, want 3 (immediately by default)", got)
			}
			if got := count(t, n, `SELECT count(*) FROM mail_queue q JOIN notifications n ON n.id = q.ref AND n.user_id = q.user_id
				WHERE q.purpose = 'notification' AND n.request_id = 'evt-1'`); got != 3 {
				t.Errorf("%d mails queued, want 3", got)
			}
		})

		t.Run("Export", func(t *testing.T) {
			data, err := n.Identity.Export(followerCtx)
			if err != nil {
				t.Fatal(err)
			}
			told := data["notifications"].(map[string]any)
			if items := told["items"].([]core.Notification); len(items) != 1 || items[0].Title != "sv: the city answered" {
				t.Errorf("exported notifications %+v", items)
			}
			if follows := told["follows"].([]core.Follow); len(follows) != 1 || follows[0].Subject != "assemblies.motion:m1" {
				t.Errorf("exported follows %+v", follows)
			}
		})

		t.Run("DeliveredAgain", func(t *testing.T) {
			if err := n.Notifications.Notify(ctx, []core.NotificationRequest{req, req}); err != nil {
				t.Fatal(err)
			}
			if got := count(t, n, `SELECT count(*) FROM notifications WHERE request_id = 'evt-1'`); got != 3 {
				t.Errorf("%d notifications after a second delivery, want 3", got)
			}
			if got := count(t, n, `SELECT count(*) FROM mail_queue WHERE purpose = 'notification'`); got != 3 {
				t.Errorf("%d mails queued after a second delivery, want 3", got)
			}
		})

		t.Run("Deliveries", func(t *testing.T) {
			if err := n.Notifications.SetPreferences(svenCtx, map[string]core.Delivery{kindAnswered: core.DeliverInApp}); err != nil {
				t.Fatal(err)
			}
			if err := n.Notifications.SetPreferences(elifCtx, map[string]core.Delivery{kindAnswered: core.DeliverDaily}); err != nil {
				t.Fatal(err)
			}
			if err := n.Notifications.Notify(ctx, []core.NotificationRequest{request("evt-2", kindAnswered, elif, sven, stranger)}); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			var rows []struct {
				UserID string  `db:"user_id"`
				Mailed bool    `db:"mailed"`
				Digest *string `db:"digest"`
			}
			sqlDB := coretest.SQL(n)
			if err := sqlDB.Select(&rows, sqlDB.Rebind(`SELECT user_id, mailed_at IS NOT NULL AS mailed, digest FROM notifications WHERE request_id = ?`), "evt-2"); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				switch {
				case r.Mailed:
					got[r.UserID] = "mail"
				case r.Digest != nil:
					got[r.UserID] = *r.Digest
				default:
					got[r.UserID] = "app"
				}
			}
			if got[elif] != "daily" || got[sven] != "app" || got[stranger] != "mail" {
				t.Errorf("deliveries %v; want elif daily, sven in the app, stranger mailed", got)
			}
		})

		t.Run("ErrUnknownKind", func(t *testing.T) {
			err := n.Notifications.Notify(ctx, []core.NotificationRequest{request("evt-3", "assemblies.unknown", elif)})
			if core.ErrorCode(err) != core.EINVALID || !strings.Contains(core.ErrorMessage(err), "not a declared notification kind") {
				t.Errorf("err = %v", err)
			}
			other := request("evt-3", kindAnswered, elif)
			other.Source = "parks"
			if err := n.Notifications.Notify(ctx, []core.NotificationRequest{other}); core.ErrorCode(err) != core.EINVALID {
				t.Errorf("another source's kind: err = %v", err)
			}
			if got := count(t, n, `SELECT count(*) FROM notification_requests WHERE id = 'evt-3'`); got != 0 {
				t.Errorf("refused request stored")
			}
		})

		t.Run("ErrBadInput", func(t *testing.T) {
			before := count(t, n, `SELECT count(*) FROM notifications`) + count(t, n, `SELECT count(*) FROM notification_requests`)
			nul := request("evt-nul", kindAnswered, elif)
			nul.Texts["en"] = core.NotificationText{Title: "a\x00b", Body: "x"}
			nulBody := request("evt-nulbody", kindAnswered, elif)
			nulBody.Texts["fi"] = core.NotificationText{Title: "ok", Body: "a\x00b"}
			offsite := request("evt-offsite", kindAnswered, elif)
			offsite.Link = "//evil.example/phish"
			hugeRecipient := request("evt-huge", kindAnswered, elif, strings.Repeat("x", 100_000))
			noTexts := request("evt-notexts", kindAnswered, elif)
			noTexts.Texts = nil
			for name, r := range map[string]core.NotificationRequest{
				"huge id": request(strings.Repeat("9", 10_000), kindAnswered, elif), "NUL id": request("evt\x00", kindAnswered, elif),
				"NUL title": nul, "NUL body": nulBody, "off-site link": offsite, "huge recipient id": hugeRecipient, "no texts": noTexts,
			} {
				// A good request in the same batch is refused with it: nothing of the batch is stored.
				err := n.Notifications.Notify(ctx, []core.NotificationRequest{request("evt-good-"+name, kindAnswered, elif), r})
				if core.ErrorCode(err) != core.EINVALID {
					t.Errorf("%s: err = %v, want invalid", name, err)
				}
			}
			if err := n.Notifications.ChangeFollows(ctx, []core.FollowChange{{UserID: elif, Subject: "x\x00y", Follow: true}}); core.ErrorCode(err) != core.EINVALID {
				t.Errorf("follow with NUL: err = %v", err)
			}
			after := count(t, n, `SELECT count(*) FROM notifications`) + count(t, n, `SELECT count(*) FROM notification_requests`)
			if after != before {
				t.Errorf("refused batches stored %d rows", after-before)
			}
		})
	})
}

func TestNotificationService_Preferences(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := notifyNode(t, db.Config, coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)))
		_, ctx := resident(t, n, "aino@example.org", "fi")

		t.Run("OK", func(t *testing.T) {
			if err := n.Notifications.SetPreferences(ctx, map[string]core.Delivery{kindAnswered: core.DeliverWeekly}); err != nil {
				t.Fatal(err)
			}
			prefs, err := n.Notifications.Preferences(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range prefs {
				got[p.Kind.Name] = fmt.Sprintf("%s/%v", p.Delivery, p.Chosen)
			}
			want := map[string]string{kindAnswered: "weekly/true", kindProposal: "weekly/false", kindDaily: "daily/false"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("preferences %v, want %v", got, want)
			}
		})

		t.Run("ErrInvalid", func(t *testing.T) {
			for name, choices := range map[string]map[string]core.Delivery{
				"unknown delivery": {kindProposal: "hourly", kindDaily: core.DeliverInApp},
				"unknown kind":     {"nobody.kind": core.DeliverDaily, kindDaily: core.DeliverInApp},
				"NUL kind":         {"a\x00b": core.DeliverDaily, kindDaily: core.DeliverInApp},
			} {
				if err := n.Notifications.SetPreferences(ctx, choices); core.ErrorCode(err) != core.EINVALID {
					t.Errorf("%s: err = %v", name, err)
				}
			}
			if got := count(t, n, `SELECT count(*) FROM notification_preferences`); got != 1 {
				t.Errorf("%d preferences stored, want only the first test's", got)
			}
		})

		t.Run("ErrAnonymous", func(t *testing.T) {
			if _, err := n.Notifications.Preferences(context.Background()); core.ErrorCode(err) != core.EUNAUTHENTICATED {
				t.Errorf("err = %v", err)
			}
		})
	})
}

func TestNotificationService_MarkRead(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := notifyNode(t, db.Config, coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)))
		aino, ainoCtx := resident(t, n, "aino@example.org", "fi")
		elif, elifCtx := resident(t, n, "elif@example.org", "tr")
		for i := range 3 {
			if err := n.Notifications.Notify(context.Background(), []core.NotificationRequest{request(fmt.Sprint("r", i), kindAnswered, aino, elif)}); err != nil {
				t.Fatal(err)
			}
		}
		list, next, err := n.Notifications.Notifications(ainoCtx, core.Page{Limit: 2})
		if err != nil || len(list) != 2 || next == "" {
			t.Fatalf("first page %d, %q, %v", len(list), next, err)
		}
		rest, next, err := n.Notifications.Notifications(ainoCtx, core.Page{Limit: 2, Cursor: next})
		if err != nil || len(rest) != 1 || next != "" || rest[0].ID == list[0].ID || rest[0].ID == list[1].ID {
			t.Fatalf("second page %+v, %q, %v", rest, next, err)
		}
		elifs, _, _ := n.Notifications.Notifications(elifCtx, core.Page{})
		// Elif's ids in Aino's request are ignored.
		if err := n.Notifications.MarkRead(ainoCtx, []string{list[0].ID, elifs[0].ID}); err != nil {
			t.Fatal(err)
		}
		if c, _ := n.Notifications.UnreadCount(ainoCtx); c != 2 {
			t.Errorf("Aino's unread %d, want 2", c)
		}
		if c, _ := n.Notifications.UnreadCount(elifCtx); c != 3 {
			t.Errorf("Elif's unread %d, want 3", c)
		}
		if err := n.Notifications.MarkRead(ainoCtx, []string{"x\x00"}); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("NUL id: err = %v", err)
		}
		if err := n.Notifications.MarkAllRead(ainoCtx); err != nil {
			t.Fatal(err)
		}
		if c, _ := n.Notifications.UnreadCount(ainoCtx); c != 0 {
			t.Errorf("unread after all read %d", c)
		}
	})
}

// TestNotificationService_Cap floods one person with a thousand immediate
// notifications in an hour: the cap's worth are mailed, the rest ride the next daily
// digest, in one mail.
func TestNotificationService_Cap(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.City.TimeZone = "Europe/Helsinki"
		hour := 7
		cfg.Notifications.DigestHour = &hour
		clock := coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)) // 12:00 in Helsinki
		n := notifyNode(t, cfg, clock)
		aino, _ := resident(t, n, "aino@example.org", "fi")
		ctx := context.Background()
		for b := range 10 {
			var batch []core.NotificationRequest
			for i := range 100 {
				batch = append(batch, request(fmt.Sprintf("flood-%d-%d", b, i), kindAnswered, aino))
			}
			if err := n.Notifications.Notify(ctx, batch); err != nil {
				t.Fatal(err)
			}
			clock.Advance(5 * time.Minute)
		}
		if got := count(t, n, `SELECT count(*) FROM mail_queue WHERE purpose = 'notification'`); got != 10 {
			t.Errorf("%d mails in the hour, want the cap of 10", got)
		}
		if got := count(t, n, `SELECT count(*) FROM notifications WHERE digest = 'daily'`); got != 990 {
			t.Errorf("%d items for the digest, want 990", got)
		}
		// An hour on, the cap has room again.
		clock.Advance(time.Hour)
		if err := n.Notifications.Notify(ctx, []core.NotificationRequest{request("later", kindAnswered, aino)}); err != nil {
			t.Fatal(err)
		}
		if got := count(t, n, `SELECT count(*) FROM notifications WHERE request_id = 'later' AND mailed_at IS NOT NULL`); got != 1 {
			t.Errorf("the next hour's item was not mailed")
		}
		// The next morning at 07:00 in Helsinki one digest carries the 990.
		clock.Advance(time.Date(2026, 5, 5, 4, 0, 0, 0, time.UTC).Sub(clock.Now()))
		sent, err := n.Notifications.RunDueDigests(ctx)
		if err != nil || sent != 1 {
			t.Fatalf("digest mails %d, %v; want 1", sent, err)
		}
		if got := count(t, n, `SELECT count(*) FROM notifications WHERE digest_ref = 'daily:2026-05-05'`); got != 990 {
			t.Errorf("the digest carried %d items, want 990", got)
		}
		if got := count(t, n, `SELECT count(*) FROM mail_queue WHERE purpose = 'digest' AND user_id = ? AND ref = 'daily:2026-05-05'`, aino); got != 1 {
			t.Errorf("%d digest mails queued, want 1", got)
		}
	})
}

// TestNotificationService_RunDueDigests sends the daily digest at 08:00 in Stockholm on
// the day before and the day of the spring DST change, once, skipping people with
// nothing new.
func TestNotificationService_RunDueDigests(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.City.TimeZone = "Europe/Stockholm"
		hour := 8
		cfg.Notifications.DigestHour = &hour
		cfg.Notifications.DigestWeekday = "sunday"
		clock := coretest.NewClock(time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC))
		n := notifyNode(t, cfg, clock)
		ctx := context.Background()
		aino, ainoCtx := resident(t, n, "aino@example.org", "fi")
		elif, _ := resident(t, n, "elif@example.org", "tr")
		idle, idleCtx := resident(t, n, "idle@example.org", "sv")
		for _, c := range []context.Context{ainoCtx, idleCtx} {
			if err := n.Notifications.SetPreferences(c, map[string]core.Delivery{kindAnswered: core.DeliverDaily}); err != nil {
				t.Fatal(err)
			}
		}
		_ = idle
		notify := func(id string, to ...string) {
			t.Helper()
			if err := n.Notifications.Notify(ctx, []core.NotificationRequest{request(id, kindAnswered, to...)}); err != nil {
				t.Fatal(err)
			}
		}
		at := func(utc time.Time, want int) {
			t.Helper()
			clock.Advance(utc.Sub(clock.Now()))
			sent, err := n.Notifications.RunDueDigests(ctx)
			if err != nil || sent != want {
				t.Errorf("at %s (%s in Stockholm): %d digests, %v; want %d", utc.Format(time.RFC3339), utc.In(time.FixedZone("", 0)).Format("15:04"), sent, err, want)
			}
		}
		notify("d1", aino, elif)
		notify("d2", aino)

		// Saturday 28 March, CET (UTC+1): 08:00 is 07:00 UTC.
		at(time.Date(2026, 3, 28, 6, 59, 0, 0, time.UTC), 0)
		at(time.Date(2026, 3, 28, 7, 0, 0, 0, time.UTC), 1) // Aino; Elif hears immediately, the idle one has nothing
		at(time.Date(2026, 3, 28, 7, 30, 0, 0, time.UTC), 0)
		if got := count(t, n, `SELECT count(*) FROM notifications WHERE user_id = ? AND digest_ref = 'daily:2026-03-28'`, aino); got != 2 {
			t.Errorf("Saturday's digest carried %d items, want both", got)
		}

		notify("d3", aino)
		// A new proposal (weekly by default) waits for Sunday's weekly digest.
		if err := n.Notifications.Notify(ctx, []core.NotificationRequest{request("w1", kindProposal, elif)}); err != nil {
			t.Fatal(err)
		}
		// Sunday 29 March, CEST (UTC+2) from 02:00: 08:00 is 06:00 UTC.
		at(time.Date(2026, 3, 29, 5, 59, 0, 0, time.UTC), 0)
		at(time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC), 2) // Aino's daily, Elif's weekly
		if got := count(t, n, `SELECT count(*) FROM notifications WHERE user_id = ? AND digest_ref = 'weekly:2026-03-29'`, elif); got != 1 {
			t.Errorf("Sunday's weekly digest carried %d items, want 1", got)
		}
		if got := count(t, n, `SELECT count(*) FROM notifications WHERE user_id = ? AND digest_ref = 'daily:2026-03-29'`, aino); got != 1 {
			t.Errorf("Sunday's digest carried %d items, want the one new", got)
		}
		if got := count(t, n, `SELECT count(*) FROM notification_digest_runs WHERE finished_at IS NOT NULL`); got != 3 {
			t.Errorf("%d finished runs, want daily twice and Sunday's weekly", got)
		}

		// Two nodes share one database on PostgreSQL only.
		if db.Name == sqlstore.Postgres {
			t.Run("TwoNodes", func(t *testing.T) {
				other := notifyNode(t, cfg, clock)
				notify("d4", aino)
				clock.Advance(24 * time.Hour)
				var wg sync.WaitGroup
				sent := make([]int, 2)
				for i, nd := range []*node.Node{n, other} {
					wg.Go(func() {
						s, err := nd.Notifications.RunDueDigests(ctx)
						if err != nil {
							t.Error(err)
						}
						sent[i] = s
					})
				}
				wg.Wait()
				if sent[0]+sent[1] != 1 {
					t.Errorf("two nodes sent %v digests, want one between them", sent)
				}
				if got := count(t, n, `SELECT count(*) FROM mail_queue WHERE purpose = 'digest' AND ref = 'daily:2026-03-30'`); got != 1 {
					t.Errorf("%d digest mails queued, want 1", got)
				}
			})
		}
	})
}

func TestNotificationService_Unsubscribe(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := notifyNode(t, db.Config, coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)))
		aino, ainoCtx := resident(t, n, "aino@example.org", "fi")
		elif, elifCtx := resident(t, n, "elif@example.org", "tr")
		ctx := context.Background()
		svc := n.Notifications
		delivery := func(c context.Context, kind string) core.Delivery {
			t.Helper()
			prefs, err := svc.Preferences(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range prefs {
				if p.Kind.Name == kind {
					return p.Delivery
				}
			}
			t.Fatalf("no kind %s", kind)
			return ""
		}
		good := svc.UnsubscribeToken(aino, kindAnswered)
		parts := strings.Split(good, ".")
		elifsOther := strings.Split(svc.UnsubscribeToken(elif, kindProposal), ".")

		t.Run("ErrTampered", func(t *testing.T) {
			for name, token := range map[string]string{
				"other user":        elifsOther[0] + "." + parts[1] + "." + parts[2],
				"other kind":        parts[0] + "." + elifsOther[1] + "." + parts[2],
				"other's signature": parts[0] + "." + parts[1] + "." + elifsOther[2],
				"truncated":         good[:len(good)-3],
				"no signature":      parts[0] + "." + parts[1],
				"empty":             "",
				"NUL":               good + "\x00",
				"huge":              strings.Repeat("A", 100_000),
			} {
				if _, err := svc.Unsubscribe(ctx, token); core.ErrorCode(err) != core.EINVALID {
					t.Errorf("%s: err = %v", name, err)
				}
			}
			if got := count(t, n, `SELECT count(*) FROM notification_preferences`); got != 0 {
				t.Errorf("tampered tokens changed %d preferences", got)
			}
		})

		t.Run("OK", func(t *testing.T) {
			k, err := svc.Unsubscribe(ctx, good)
			if err != nil || k.Name != kindAnswered {
				t.Fatalf("unsubscribe: %+v, %v", k, err)
			}
			if d := delivery(ainoCtx, kindAnswered); d != core.DeliverInApp {
				t.Errorf("Aino's delivery %s, want in-app", d)
			}
			if d := delivery(ainoCtx, kindProposal); d != core.DeliverWeekly {
				t.Errorf("another kind changed to %s", d)
			}
			if d := delivery(elifCtx, kindAnswered); d != core.DeliverImmediately {
				t.Errorf("another person's delivery changed to %s", d)
			}
			// Again: no error, nothing more.
			if _, err := svc.Unsubscribe(ctx, good); err != nil {
				t.Error(err)
			}
		})

		t.Run("Digest", func(t *testing.T) {
			if _, err := svc.Unsubscribe(ctx, svc.UnsubscribeToken(elif, sqlstore.DigestWeeklyKind)); err != nil {
				t.Fatal(err)
			}
			if d := delivery(elifCtx, kindProposal); d != core.DeliverInApp {
				t.Errorf("weekly kind now %s, want in-app", d)
			}
			if d := delivery(elifCtx, kindDaily); d != core.DeliverDaily {
				t.Errorf("daily kind now %s, want unchanged", d)
			}
		})

		// Two nodes share one database on PostgreSQL only.
		if db.Name == sqlstore.Postgres {
			t.Run("OtherNode", func(t *testing.T) {
				// Every node derives the same key from the shared key file.
				cfg := db.Config
				other := notifyNode(t, cfg, coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)))
				if got := other.Notifications.UnsubscribeToken(aino, kindAnswered); got != good {
					t.Errorf("the other node signs %q, this one %q", got, good)
				}
			})
		}
	})
}

// TestNotificationService_TwoNodes delivers one request through two nodes on one
// PostgreSQL at once: each recipient gets one notification and one mail.
func TestNotificationService_TwoNodes(t *testing.T) {
	for _, db := range coretest.Databases(t) {
		if db.Name != sqlstore.Postgres {
			continue
		}
		clock := coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
		a, b := notifyNode(t, db.Config, clock), notifyNode(t, db.Config, clock)
		var ids []string
		for i := range 50 {
			id, _ := resident(t, a, fmt.Sprintf("p%d@example.org", i), "en")
			ids = append(ids, id)
		}
		for round := range 5 {
			req := request(fmt.Sprint("both-", round), kindAnswered, ids...)
			var wg sync.WaitGroup
			for _, nd := range []*node.Node{a, b, a, b} {
				wg.Go(func() {
					if err := nd.Notifications.Notify(context.Background(), []core.NotificationRequest{req}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		if got := count(t, a, `SELECT count(*) FROM notifications`); got != 250 {
			t.Errorf("%d notifications, want 250", got)
		}
		if got := count(t, a, `SELECT count(*) FROM mail_queue WHERE purpose = 'notification'`); got != 250 {
			t.Errorf("%d mails queued, want 250", got)
		}
	}
}

// TestNotificationMail_Compose makes the mails the queue sends: a notification in the
// language picked for its recipient (Turkish, Swedish) with the city's name, an
// absolute link to the item and the RFC 8058 headers of a link that unsubscribes that
// person from that kind; and a digest listing its items.
func TestNotificationMail_Compose(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.City.Name = "Helsingborg"
		cfg.PublicURL = "https://kvarter.helsingborg.se"
		cfg.City.TimeZone = "Europe/Stockholm"
		clock := coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
		n := notifyNode(t, cfg, clock)
		elif, _ := resident(t, n, "elif@example.org", "tr")
		sven, svenCtx := resident(t, n, "sven@example.org", "sv")
		ctx := context.Background()
		if err := n.Notifications.SetPreferences(svenCtx, map[string]core.Delivery{kindAnswered: core.DeliverDaily}); err != nil {
			t.Fatal(err)
		}
		req := request("m1", kindAnswered, elif, sven)
		req.Texts["tr"] = core.NotificationText{Title: "Şehir önergenizi yanıtladı", Body: "Liman Caddesi mayısta yenilenecek.\n\nTeşekkürler."}
		if err := n.Notifications.Notify(ctx, []core.NotificationRequest{req, request("m2", kindAnswered, sven)}); err != nil {
			t.Fatal(err)
		}
		var id string
		sqlDB := coretest.SQL(n)
		if err := sqlDB.Get(&id, sqlDB.Rebind(`SELECT id FROM notifications WHERE user_id = ? AND request_id = 'm1'`), elif); err != nil {
			t.Fatal(err)
		}

		t.Run("Notification", func(t *testing.T) {
			m, err := n.NotificationMail.Compose(ctx, core.QueuedMail{UserID: elif, Purpose: core.PurposeNotification, Ref: id})
			if err != nil {
				t.Fatal(err)
			}
			token := n.Notifications.UnsubscribeToken(elif, kindAnswered)
			for what, ok := range map[string]bool{
				"to":              m.To == "elif@example.org",
				"subject":         m.Subject == "Şehir önergenizi yanıtladı – Helsingborg",
				"text paragraphs": strings.Contains(m.Text, "Liman Caddesi mayısta yenilenecek.\n\nTeşekkürler."),
				"item link":       strings.Contains(m.Text, "https://kvarter.helsingborg.se/assemblies/a1/motions/m1"),
				"Turkish words":   strings.Contains(m.Text, "Sitede görüntüle"),
				"html lang":       strings.Contains(m.HTML, `lang="tr"`),
				"List-Unsubscribe": m.Headers["List-Unsubscribe"] == "<https://kvarter.helsingborg.se/unsubscribe?t="+token+">" &&
					m.Headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click",
			} {
				if !ok {
					t.Errorf("%s wrong in %+v", what, m)
				}
			}
			// Another person's notification is not theirs to mail.
			if _, err := n.NotificationMail.Compose(ctx, core.QueuedMail{UserID: sven, Purpose: core.PurposeNotification, Ref: id}); core.ErrorCode(err) != core.ENOTFOUND {
				t.Errorf("another's notification: err = %v", err)
			}
		})

		t.Run("Digest", func(t *testing.T) {
			clock.Advance(24 * time.Hour)
			if sent, err := n.Notifications.RunDueDigests(ctx); err != nil || sent != 1 {
				t.Fatalf("digests %d, %v", sent, err)
			}
			m, err := n.NotificationMail.Compose(ctx, core.QueuedMail{UserID: sven, Purpose: core.PurposeDigest, Ref: "daily:2026-05-05"})
			if err != nil {
				t.Fatal(err)
			}
			token := n.Notifications.UnsubscribeToken(sven, sqlstore.DigestDailyKind)
			for what, ok := range map[string]bool{
				"subject":          m.Subject == "Dagens sammanfattning: 2 nya aviseringar – Helsingborg",
				"both items":       strings.Count(m.Text, "sv: the city answered") == 2,
				"List-Unsubscribe": m.Headers["List-Unsubscribe"] == "<https://kvarter.helsingborg.se/unsubscribe?t="+token+">",
			} {
				if !ok {
					t.Errorf("%s wrong in %+v", what, m)
				}
			}
		})
	})
}

// TestNotifications_MailLoop sends what Notify and a digest queued through the queue
// to an SMTP server: each recipient gets one mail in their language with the RFC 8058
// headers, a second delivery of the request sends nothing more, nobody else gets one,
// and the daily digest arrives as one mail.
func TestNotifications_MailLoop(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.City.Name = "Helsingborg"
		cfg.City.TimeZone = "Europe/Stockholm"
		cfg.PublicURL = "https://kvarter.helsingborg.se"
		clock := coretest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
		n := notifyNode(t, cfg, clock)
		srv := mailtest.Start(t, mailtest.Options{})
		q := &sqlstore.MailQueue{DB: n.DB, Authz: n.Authz, Mailer: testSender(t, srv)}
		q.RegisterComposer(core.PurposeNotification, n.NotificationMail)
		q.RegisterComposer(core.PurposeDigest, n.NotificationMail)
		ctx := context.Background()
		elif, _ := resident(t, n, "elif@example.org", "tr")
		sven, svenCtx := resident(t, n, "sven@example.org", "sv")
		resident(t, n, "stranger@example.org", "en")
		if err := n.Notifications.SetPreferences(svenCtx, map[string]core.Delivery{kindDaily: core.DeliverDaily}); err != nil {
			t.Fatal(err)
		}
		// Registration queued each address's verification mail: out of the way first.
		drain := func() {
			t.Helper()
			for {
				if sent, err := q.SendDue(ctx); err != nil {
					t.Fatal(err)
				} else if sent == 0 {
					return
				}
			}
		}
		drain()
		before := len(srv.Messages())
		req := request("answered-1", kindAnswered, elif, sven)
		req.Texts["tr"] = core.NotificationText{Title: "Şehir önergeyi yanıtladı", Body: "Liman Caddesi mayısta yenilenecek."}
		req.Texts["sv"] = core.NotificationText{Title: "Staden har svarat på motionen", Body: "Hamngatan läggs om i maj."}
		for range 2 {
			if err := n.Notifications.Notify(ctx, []core.NotificationRequest{req}); err != nil {
				t.Fatal(err)
			}
		}
		if err := n.Notifications.Notify(ctx, []core.NotificationRequest{request("minutes-1", kindDaily, sven), request("minutes-2", kindDaily, sven)}); err != nil {
			t.Fatal(err)
		}
		drain()
		msgs := srv.Messages()[before:]
		got := map[string]string{}
		for _, m := range msgs {
			got[strings.Join(m.To, ",")] = m.Subject
			if u := m.Header.Get("List-Unsubscribe"); !strings.HasPrefix(u, "<https://kvarter.helsingborg.se/unsubscribe?t=") || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
				t.Errorf("mail to %v: List-Unsubscribe %q", m.To, u)
			}
		}
		want := map[string]string{"elif@example.org": "Şehir önergeyi yanıtladı – Helsingborg", "sven@example.org": "Staden har svarat på motionen – Helsingborg"}
		if len(msgs) != 2 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("mails %v, want %v", got, want)
		}

		// The next morning at 07:00 Stockholm time Sven's two minutes come in one mail.
		clock.Advance(time.Date(2026, 5, 5, 5, 0, 0, 0, time.UTC).Sub(clock.Now()))
		if _, err := n.Notifications.RunDueDigests(ctx); err != nil {
			t.Fatal(err)
		}
		drain()
		msgs = srv.Messages()[before:]
		if len(msgs) != 3 || msgs[2].To[0] != "sven@example.org" || msgs[2].Subject != "Dagens sammanfattning: 2 nya aviseringar – Helsingborg" ||
			!strings.Contains(msgs[2].Text, "https://kvarter.helsingborg.se/assemblies/a1/motions/m1") {
			t.Errorf("after the digest: %d mails, last %+v", len(msgs), msgs[len(msgs)-1])
		}
	})
}
