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
	"github.com/kvarter/kvarter/core/mail"
	"github.com/kvarter/kvarter/core/mail/mailtest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/sqlstore"
)

// mailNode is a node whose own worker has no mailer (so it sends nothing) and a queue
// over its database that the test steps with SendDue.
func mailNode(t *testing.T, db coretest.DB) (*node.Node, *coretest.Clock, *mailtest.Server, *sqlstore.MailQueue) {
	t.Helper()
	clock := coretest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	opt := coretest.Options()
	opt.Clock = clock
	n := coretest.StartNode(t, db.Config, opt)
	srv := mailtest.Start(t, mailtest.Options{})
	q := &sqlstore.MailQueue{DB: n.DB, Authz: n.Authz, Mailer: testSender(t, srv), Settings: sqlstore.MailQueueSettings{MaxAttempts: 3, Backoff: time.Minute}}
	return n, clock, srv, q
}

func testSender(t testing.TB, srv *mailtest.Server) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(mail.Config{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "noreply@kvarter.example", FromName: "Kvarter"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// person opens an account, verified or not, and returns its id.
func person(t testing.TB, n *node.Node, email string, verified bool) string {
	t.Helper()
	u, err := n.Identity.CreateUser(context.Background(), core.Registration{Email: email, Password: "a long enough passphrase " + email, DisplayName: "P " + email, Language: "en"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var at any
	if verified {
		at = n.DB.Clock.Now().UTC()
	}
	db := coretest.SQL(n)
	if _, err := db.Exec(db.Rebind(`UPDATE users SET email_verified_at = ? WHERE id = ?`), at, u.ID); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func accountMail(to, subject string) *core.Mail {
	return &core.Mail{To: to, Subject: subject, Text: "text of " + subject, HTML: "<p>html of " + subject + "</p>"}
}

func mailState(t testing.TB, n *node.Node, key string) (state, lastError string, attempts int) {
	t.Helper()
	db := coretest.SQL(n)
	var row struct {
		State    string `db:"state"`
		Err      string `db:"last_error"`
		Attempts int    `db:"attempts"`
	}
	if err := db.Get(&row, db.Rebind(`SELECT state, last_error, attempts FROM mail_queue WHERE mail_key = ?`), key); err != nil {
		t.Fatal(err)
	}
	return row.State, row.Err, row.Attempts
}

type composerFunc func(ctx context.Context, m core.QueuedMail) (core.Mail, error)

func (f composerFunc) Compose(ctx context.Context, m core.QueuedMail) (core.Mail, error) {
	return f(ctx, m)
}

// eachFreshDB runs fn on a fresh database of every kind: the queue's tests count
// every row, so none may see another's.
func eachFreshDB(t *testing.T, name string, fn func(t *testing.T, db coretest.DB)) {
	t.Run(name, func(t *testing.T) { coretest.ForEachDB(t, fn) })
}

func TestMailQueue_SendDue(t *testing.T) {
	ctx := context.Background()
	eachFreshDB(t, "AccountMailOnce", func(t *testing.T, db coretest.DB) {
		n, _, srv, q := mailNode(t, db)
		id := person(t, n, "aino@example.org", false)
		m := core.QueuedMail{Key: "verify:1", UserID: id, Purpose: core.PurposeVerifyEmail, Mail: accountMail("aino@example.org", "Verify")}
		if err := q.Enqueue(ctx, []core.QueuedMail{m}); err != nil {
			t.Fatal(err)
		}
		if err := q.Enqueue(ctx, []core.QueuedMail{m}); err != nil { // same key: nothing new
			t.Fatal(err)
		}
		if n, err := q.SendDue(ctx); err != nil || n != 1 {
			t.Fatalf("claimed %d, %v", n, err)
		}
		got := srv.WaitFor(t, 1, 10*time.Second)
		if got[0].Subject != "Verify" || got[0].To[0] != "aino@example.org" || !strings.Contains(got[0].HTML, "html of Verify") {
			t.Errorf("sent %+v", got[0])
		}
		if st, _, _ := mailState(t, n, "verify:1"); st != core.MailSent {
			t.Errorf("state %s", st)
		}
		var body *string
		sqlDB := coretest.SQL(n)
		_ = sqlDB.Get(&body, sqlDB.Rebind(`SELECT mail FROM mail_queue WHERE mail_key = ?`), "verify:1")
		if body != nil {
			t.Errorf("the sent mail's body (and its link) is still stored")
		}
		if n, _ := q.SendDue(ctx); n != 0 {
			t.Errorf("claimed %d after sending", n)
		}
		if len(srv.Messages()) != 1 {
			t.Errorf("%d messages", len(srv.Messages()))
		}
	})
	eachFreshDB(t, "ComposedAtSendTime", func(t *testing.T, db coretest.DB) {
		n, _, srv, q := mailNode(t, db)
		id := person(t, n, "elif@example.org", true)
		q.RegisterComposer(core.PurposeNotification, composerFunc(func(_ context.Context, m core.QueuedMail) (core.Mail, error) {
			// A composer that names the wrong address is overruled by the account's.
			return core.Mail{To: "someone-else@example.org", Subject: "About " + m.Ref, Text: "t", HTML: "<p>h</p>"}, nil
		}))
		if err := q.Enqueue(ctx, []core.QueuedMail{{Key: "n:1", UserID: id, Purpose: core.PurposeNotification, Ref: "notif-1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := q.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, 1, 10*time.Second)[0]
		if got.Subject != "About notif-1" || got.To[0] != "elif@example.org" {
			t.Errorf("sent %q to %v", got.Subject, got.To)
		}
	})
	eachFreshDB(t, "UnverifiedGetsOnlyVerification", func(t *testing.T, db coretest.DB) {
		n, _, srv, q := mailNode(t, db)
		id := person(t, n, "new@example.org", false)
		q.RegisterComposer(core.PurposeNotification, composerFunc(func(context.Context, core.QueuedMail) (core.Mail, error) {
			return core.Mail{Subject: "News", Text: "t"}, nil
		}))
		if err := q.Enqueue(ctx, []core.QueuedMail{
			{Key: "n:2", UserID: id, Purpose: core.PurposeNotification, Ref: "x"},
			{Key: "reset:2", UserID: id, Purpose: core.PurposeResetPassword, Mail: accountMail("new@example.org", "Reset")},
			{Key: "verify:2", UserID: id, Purpose: core.PurposeVerifyEmail, Mail: accountMail("new@example.org", "Verify")},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := q.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, 1, 10*time.Second)
		if len(got) != 1 || got[0].Subject != "Verify" {
			t.Fatalf("sent %d, first %q", len(got), got[0].Subject)
		}
		for _, k := range []string{"n:2", "reset:2"} {
			if st, reason, _ := mailState(t, n, k); st != core.MailDropped || reason != core.MailDropUnverified {
				t.Errorf("%s: %s (%s)", k, st, reason)
			}
		}
	})
	eachFreshDB(t, "AddressChangedSinceQueued", func(t *testing.T, db coretest.DB) {
		n, _, srv, q := mailNode(t, db)
		id := person(t, n, "old@example.org", true)
		if err := q.Enqueue(ctx, []core.QueuedMail{{Key: "reset:3", UserID: id, Purpose: core.PurposeResetPassword, Mail: accountMail("old@example.org", "Reset")}}); err != nil {
			t.Fatal(err)
		}
		sqlDB := coretest.SQL(n)
		if _, err := sqlDB.Exec(sqlDB.Rebind(`UPDATE users SET email = ?, email_key = ? WHERE id = ?`), "new@example.org", "new@example.org", id); err != nil {
			t.Fatal(err)
		}
		if _, err := q.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if st, reason, _ := mailState(t, n, "reset:3"); st != core.MailDropped || reason != core.MailDropAddressChange {
			t.Errorf("%s (%s)", st, reason)
		}
		if len(srv.Messages()) != 0 {
			t.Errorf("sent %d", len(srv.Messages()))
		}
	})
	eachFreshDB(t, "RetryWithBackoffThenFail", func(t *testing.T, db coretest.DB) {
		n, clock, srv, q := mailNode(t, db)
		id := person(t, n, "busy@example.org", true)
		if err := q.Enqueue(ctx, []core.QueuedMail{
			{Key: "reset:4", UserID: id, Purpose: core.PurposeResetPassword, Mail: accountMail("busy@example.org", "Retry me")},
		}); err != nil {
			t.Fatal(err)
		}
		srv.RefuseNext(1)
		if c, _ := q.SendDue(ctx); c != 1 {
			t.Fatalf("claimed %d", c)
		}
		st, reason, attempts := mailState(t, n, "reset:4")
		if st != core.MailQueued || attempts != 1 || !strings.Contains(reason, "451") || strings.Contains(reason, "busy@example.org") {
			t.Fatalf("after a refusal: %s, %d tries, %q", st, attempts, reason)
		}
		// Not due before its backoff.
		clock.Advance(59 * time.Second)
		if c, _ := q.SendDue(ctx); c != 0 {
			t.Fatalf("claimed %d before the backoff", c)
		}
		clock.Advance(time.Second)
		if c, _ := q.SendDue(ctx); c != 1 {
			t.Fatalf("claimed %d after the backoff", c)
		}
		if got := srv.WaitFor(t, 1, 10*time.Second); got[0].Subject != "Retry me" {
			t.Errorf("sent %q", got[0].Subject)
		}

		// A mail refused every time fails after MaxAttempts (3): 1, 2 minutes apart.
		if err := q.Enqueue(ctx, []core.QueuedMail{{Key: "reset:5", UserID: id, Purpose: core.PurposeResetPassword, Mail: accountMail("busy@example.org", "Never")}}); err != nil {
			t.Fatal(err)
		}
		srv.RefuseNext(3)
		for _, wait := range []time.Duration{0, time.Minute, 2 * time.Minute} {
			clock.Advance(wait)
			if c, _ := q.SendDue(ctx); c != 1 {
				t.Fatalf("claimed %d after %s", c, wait)
			}
		}
		if st, _, attempts := mailState(t, n, "reset:5"); st != core.MailFailed || attempts != 3 {
			t.Fatalf("%s after %d tries", st, attempts)
		}
		clock.Advance(24 * time.Hour)
		if c, _ := q.SendDue(ctx); c != 0 {
			t.Fatalf("a failed mail was claimed again")
		}

		admin := coretest.Admin(t, n, "admin@example.org")
		p, err := n.Identity.Authenticate(ctx, admin.Token)
		if err != nil {
			t.Fatal(err)
		}
		actx := core.WithPrincipal(ctx, p)
		status, err := q.MailStatus(actx)
		if err != nil || status.Failed != 1 || len(status.Recent) == 0 || status.Recent[0].Purpose != core.PurposeResetPassword {
			t.Fatalf("status %+v, %v", status, err)
		}
		if _, err := q.MailStatus(ctx); core.ErrorCode(err) != core.EFORBIDDEN {
			t.Errorf("anonymous status: %v", err)
		}
		if c, err := q.RetryFailed(actx); err != nil || c != 1 {
			t.Fatalf("retried %d, %v", c, err)
		}
		if c, _ := q.SendDue(ctx); c != 1 {
			t.Fatalf("claimed %d after retry", c)
		}
		if got := srv.WaitFor(t, 2, 10*time.Second); got[1].Subject != "Never" {
			t.Errorf("sent %q", got[1].Subject)
		}
	})
}

// TestMailQueue_TwoNodes: two nodes on one database, each with its worker running,
// send every queued mail exactly once (on SQLite, two workers on one file).
func TestMailQueue_TwoNodes(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		var nodes []*node.Node
		for range 2 {
			opt := coretest.Options()
			opt.Mailer = testSender(t, srv)
			opt.MailQueue = sqlstore.MailQueueSettings{Batch: 10, Poll: 20 * time.Millisecond}
			nodes = append(nodes, coretest.StartNode(t, db.Config, opt))
		}
		const count = 120
		var ids []string
		for i := range 6 {
			ids = append(ids, person(t, nodes[0], fmt.Sprintf("p%d@example.org", i), true))
		}
		var wg sync.WaitGroup
		for i := range count {
			wg.Go(func() {
				id := ids[i%len(ids)]
				m := core.QueuedMail{Key: fmt.Sprintf("k%d", i), UserID: id, Purpose: core.PurposeResetPassword, Mail: accountMail(fmt.Sprintf("p%d@example.org", i%len(ids)), fmt.Sprintf("m%d", i))}
				// Both nodes queue the same mail: the key keeps one.
				for _, n := range nodes {
					if err := n.MailQueue.Enqueue(context.Background(), []core.QueuedMail{m}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		srv.WaitFor(t, count, 30*time.Second)
		// Wait until no row is left queued, then count: a duplicate would show.
		deadline := time.Now().Add(30 * time.Second)
		for {
			var left int
			sqlDB := coretest.SQL(nodes[0])
			if err := sqlDB.Get(&left, `SELECT COUNT(*) FROM mail_queue WHERE state <> 'sent'`); err != nil {
				t.Fatal(err)
			}
			if left == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		seen := map[string]int{}
		for _, m := range srv.Messages() {
			seen[m.Subject]++
		}
		for s, c := range seen {
			if c != 1 {
				t.Errorf("%s sent %d times", s, c)
			}
		}
		if len(seen) != count {
			t.Errorf("%d distinct mails, want %d", len(seen), count)
		}
	})
}
