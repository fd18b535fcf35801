package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/mail"
	"github.com/kvarter/kvarter/core/mail/mailtest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/sqlstore"
)

// mailingNode is a node that sends its mail to an in-process SMTP server, on a clock
// the test moves.
func mailingNode(t testing.TB, db coretest.DB) (*node.Node, *mailtest.Server, *coretest.Clock) {
	t.Helper()
	return mailingNodeWith(t, db, coretest.Options())
}

// mailingNodeWith is mailingNode with the node's options, whose Clock, Mailer and
// MailQueue it sets.
func mailingNodeWith(t testing.TB, db coretest.DB, opt node.Options) (*node.Node, *mailtest.Server, *coretest.Clock) {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSender(mail.Config{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "noreply@kvarter.example"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	clock := coretest.NewClock(time.Now())
	opt.Clock, opt.Mailer = clock, sender
	opt.MailQueue = sqlstore.MailQueueSettings{Poll: 20 * time.Millisecond}
	return coretest.StartNode(t, db.Config, opt), srv, clock
}

var linkRE = regexp.MustCompile(`https?://\S+?[?&]t=([A-Za-z0-9_%-]+)`)

// tokenOf is the token of the link in the text of m, whose path must be path.
func tokenOf(t *testing.T, m mailtest.Message, path string) string {
	t.Helper()
	for _, match := range linkRE.FindAllStringSubmatch(m.Text, -1) {
		if strings.Contains(match[0], path+"?t=") {
			return match[1]
		}
	}
	t.Fatalf("no %s link in %q", path, m.Text)
	return ""
}

// mailTo waits for the n-th mail overall and checks it went to addr.
func mailTo(t *testing.T, srv *mailtest.Server, n int, addr string) mailtest.Message {
	t.Helper()
	// The queue sends in parallel, so two mails queued together may arrive in either
	// order: wait for n mails, then take the last of them that went to addr.
	var m *mailtest.Message
	srv.WaitUntil(t, func(ms []mailtest.Message) bool {
		if len(ms) < n {
			return false
		}
		for i := len(ms) - 1; i >= 0; i-- {
			if len(ms[i].To) == 1 && ms[i].To[0] == addr {
				found := ms[i] // a copy: the server's list grows after we return
				m = &found
				return true
			}
		}
		return false
	}, 20*time.Second)
	if m == nil {
		t.Fatalf("no mail to %s among the first %d", addr, n)
	}
	return *m
}

func verified(t *testing.T, u *coretest.User) bool {
	t.Helper()
	me := u.Must(200, "GET", "/api/v1/me", nil).JSON()
	user, _ := me["user"].(map[string]any)
	v, _ := user["email_verified"].(bool)
	return v
}

func TestAccountMail_VerifyEmail(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, srv, clock := mailingNode(t, db)
		aino := coretest.Register(t, n, "aino@example.org", "Aino")
		m := mailTo(t, srv, 1, "aino@example.org")
		if !strings.HasPrefix(m.Subject, "Confirm your email address") || !strings.Contains(m.HTML, `lang="en"`) {
			t.Errorf("mail %q\n%s", m.Subject, m.HTML)
		}
		token := tokenOf(t, m, "/verify-email")
		if verified(t, aino) {
			t.Fatal("verified before the link was followed")
		}

		t.Run("GetDoesNotConsume", func(t *testing.T) {
			// A mail scanner opening the link sees a button, and changes nothing.
			browser := coretest.NewClient(t, n)
			browser.SkipOpenAPICheck = true // a page, not the API
			r := browser.Must(200, "GET", "/verify-email?t="+token, nil)
			if !strings.Contains(string(r.Body), `name="token"`) || verified(t, aino) {
				t.Fatalf("GET consumed the link or shows no form: %s", r.Body)
			}
		})
		t.Run("OtherPersonCannotUse", func(t *testing.T) {
			elif := coretest.Register(t, n, "elif@example.org", "Elif")
			mailTo(t, srv, 2, "elif@example.org")
			r := elif.Do("POST", "/api/v1/auth/verify-email", map[string]string{"token": token})
			if r.Status != 422 || verified(t, elif) || verified(t, aino) {
				t.Fatalf("%d: %s", r.Status, r.Body)
			}
		})
		t.Run("OK", func(t *testing.T) {
			aino.Must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": token})
			if !verified(t, aino) {
				t.Fatal("not verified")
			}
		})
		t.Run("ErrUsedTwice", func(t *testing.T) {
			r := coretest.NewClient(t, n).Do("POST", "/api/v1/auth/verify-email", map[string]string{"token": token})
			if r.Status != 422 || !strings.Contains(string(r.Body), `"rule":"token"`) {
				t.Fatalf("%d: %s", r.Status, r.Body)
			}
		})
		t.Run("ErrExpired", func(t *testing.T) {
			coretest.Register(t, n, "late@example.org", "Late")
			late := tokenOf(t, mailTo(t, srv, 3, "late@example.org"), "/verify-email")
			clock.Advance(sqlstore.VerifyLinkTTL + time.Second)
			if r := coretest.NewClient(t, n).Do("POST", "/api/v1/auth/verify-email", map[string]string{"token": late}); r.Status != 422 {
				t.Fatalf("%d: %s", r.Status, r.Body)
			}
		})
		t.Run("ResendAndNewAddress", func(t *testing.T) {
			// A new address is unverified until its own link is followed.
			p, err := n.Identity.Authenticate(context.Background(), aino.Token)
			if err != nil {
				t.Fatal(err)
			}
			email := "aino.new@example.org"
			if _, err := n.Identity.UpdateProfile(core.WithPrincipal(context.Background(), p), core.ProfileUpdate{Email: &email, CurrentPassword: aino.Password}); err != nil {
				t.Fatal(err)
			}
			if verified(t, aino) {
				t.Fatal("a new address counts as verified")
			}
			m := mailTo(t, srv, 4, "aino.new@example.org")
			aino.Must(204, "POST", "/api/v1/me/verify-email", nil)
			again := mailTo(t, srv, 5, "aino.new@example.org")
			if tokenOf(t, m, "/verify-email") == tokenOf(t, again, "/verify-email") {
				t.Fatal("the same link twice")
			}
			aino.Must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": tokenOf(t, again, "/verify-email")})
			if !verified(t, aino) {
				t.Fatal("not verified")
			}
		})
	})
}

func TestAccountMail_ResetPassword(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, srv, clock := mailingNode(t, db)
		aino := coretest.Register(t, n, "aino@example.org", "Aino")
		aino.Must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": tokenOf(t, mailTo(t, srv, 1, "aino@example.org"), "/verify-email")})
		anon := coretest.NewClient(t, n)

		known := anon.Must(204, "POST", "/api/v1/auth/password/forgot", map[string]string{"email": "AINO@example.org"})
		unknown := anon.Must(204, "POST", "/api/v1/auth/password/forgot", map[string]string{"email": "nobody@example.org"})
		if string(known.Body) != string(unknown.Body) {
			t.Errorf("answers differ: %q and %q", known.Body, unknown.Body)
		}
		m := mailTo(t, srv, 2, "aino@example.org")
		if !strings.HasPrefix(m.Subject, "Choose a new password") {
			t.Errorf("subject %q", m.Subject)
		}
		token := tokenOf(t, m, "/password/reset")

		t.Run("NotForVerification", func(t *testing.T) {
			if r := anon.Do("POST", "/api/v1/auth/verify-email", map[string]string{"token": token}); r.Status != 422 {
				t.Fatalf("a reset token verified an address: %d", r.Status)
			}
		})
		t.Run("ErrWeakPasswordKeepsLink", func(t *testing.T) {
			r := anon.Do("POST", "/api/v1/auth/password/reset", map[string]string{"token": token, "new_password": "short"})
			if r.Status != 422 || !strings.Contains(string(r.Body), "new_password") {
				t.Fatalf("%d: %s", r.Status, r.Body)
			}
		})
		t.Run("OK", func(t *testing.T) {
			anon.Must(204, "POST", "/api/v1/auth/password/reset", map[string]string{"token": token, "new_password": "a brand new sea breeze"})
			// Every session ended; the new password signs in, the old does not.
			if r := aino.Do("GET", "/api/v1/me", nil); r.Status != 401 {
				t.Errorf("old session still works: %d", r.Status)
			}
			coretest.NewClient(t, n).Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": "aino@example.org", "password": "a brand new sea breeze"})
			if r := coretest.NewClient(t, n).Do("POST", "/api/v1/auth/login", map[string]string{"email": "aino@example.org", "password": aino.Password}); r.Status != 401 {
				t.Errorf("old password: %d", r.Status)
			}
		})
		t.Run("ErrUsedTwice", func(t *testing.T) {
			if r := anon.Do("POST", "/api/v1/auth/password/reset", map[string]string{"token": token, "new_password": "yet another long phrase"}); r.Status != 422 {
				t.Fatalf("%d: %s", r.Status, r.Body)
			}
		})
		t.Run("ErrExpired", func(t *testing.T) {
			anon.Must(204, "POST", "/api/v1/auth/password/forgot", map[string]string{"email": "aino@example.org"})
			late := tokenOf(t, mailTo(t, srv, 3, "aino@example.org"), "/password/reset")
			clock.Advance(sqlstore.ResetLinkTTL + time.Second)
			if r := anon.Do("POST", "/api/v1/auth/password/reset", map[string]string{"token": late, "new_password": "yet another long phrase"}); r.Status != 422 {
				t.Fatalf("%d: %s", r.Status, r.Body)
			}
		})
		t.Run("OnlyItsOwnAccount", func(t *testing.T) {
			elif := coretest.Register(t, n, "elif@example.org", "Elif")
			elif.Must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": tokenOf(t, mailTo(t, srv, 4, "elif@example.org"), "/verify-email")})
			anon.Must(204, "POST", "/api/v1/auth/password/forgot", map[string]string{"email": "elif@example.org"})
			elifs := tokenOf(t, mailTo(t, srv, 5, "elif@example.org"), "/password/reset")
			anon.Must(204, "POST", "/api/v1/auth/password/reset", map[string]string{"token": elifs, "new_password": "elif's own long phrase"})
			// Elif's link changed Elif's password, and Aino's is still hers.
			coretest.NewClient(t, n).Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": "elif@example.org", "password": "elif's own long phrase"})
			coretest.NewClient(t, n).Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": "aino@example.org", "password": "a brand new sea breeze"})
		})
	})
}

// TestRegister_ExistingAddress: registering with an address that has an account gets
// the answer a new address gets — status, the body's shape, cookies — and its owner a
// mail. (Both paths hash the password and queue a mail, so they take about as long;
// no wall-clock assert.)
func TestRegister_ExistingAddress(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, srv, _ := mailingNode(t, db)
		owner := coretest.Register(t, n, "ayse@example.org", "Ayşe")
		owner.Must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": tokenOf(t, mailTo(t, srv, 1, "ayse@example.org"), "/verify-email")})

		reg := func(email string) *coretest.Response {
			return coretest.NewClient(t, n).Must(201, "POST", "/api/v1/auth/register",
				map[string]string{"email": email, "password": "someone else's long phrase", "display_name": "Mallory", "language": "tr"})
		}
		fresh, again := reg("new@example.org"), reg("AYSE@example.org")
		shape := func(r *coretest.Response) (keys []string) {
			var m map[string]any
			_ = json.Unmarshal(r.Body, &m)
			for k, v := range m {
				if k == "id" || k == "created_at" || k == "email" {
					v = "" // differ by nature
				}
				b, _ := json.Marshal(v)
				keys = append(keys, k+"="+string(b))
			}
			slices.Sort(keys)
			return keys
		}
		if !slices.Equal(shape(fresh), shape(again)) {
			t.Errorf("bodies differ:\n%s\n%s", fresh.Body, again.Body)
		}
		for _, h := range []string{"Set-Cookie", "Content-Type", "Cache-Control"} {
			if fresh.Header.Get(h) != again.Header.Get(h) {
				t.Errorf("%s differs: %q and %q", h, fresh.Header.Get(h), again.Header.Get(h))
			}
		}
		// The new address got its confirmation, the owner a word of the attempt.
		got := srv.WaitFor(t, 3, 20*time.Second)
		var toOwner *mailtest.Message
		for i := range got[1:] {
			if got[1+i].To[0] == "ayse@example.org" {
				toOwner = &got[1+i]
			}
		}
		if toOwner == nil || !strings.HasPrefix(toOwner.Subject, "Someone tried to register") {
			t.Fatalf("owner's mail: %+v", toOwner)
		}
		if !strings.Contains(toOwner.Text, "/password/forgot") {
			t.Errorf("no way to reset in %q", toOwner.Text)
		}
		// The owner's account is unchanged: the attempt's password does not sign in.
		if r := coretest.NewClient(t, n).Do("POST", "/api/v1/auth/login", map[string]string{"email": "ayse@example.org", "password": "someone else's long phrase"}); r.Status != 401 {
			t.Errorf("login with the attempt's password: %d", r.Status)
		}
	})
}

// TestMailQueue_UnverifiedGetsNoNotification: through a running node, a notification
// to a person whose address is not verified is dropped at send time, while one to a
// verified person goes.
func TestMailQueue_UnverifiedGetsNoNotification(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, srv, _ := mailingNode(t, db)
		fresh := coretest.Register(t, n, "fresh@example.org", "Fresh")
		sure := coretest.Register(t, n, "sure@example.org", "Sure")
		mailTo(t, srv, 1, "fresh@example.org")
		sure.Must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": tokenOf(t, mailTo(t, srv, 2, "sure@example.org"), "/verify-email")})
		n.MailQueue.RegisterComposer(core.PurposeNotification, notificationComposer{})
		if err := n.MailQueue.Enqueue(context.Background(), []core.QueuedMail{
			{Key: "n:fresh", UserID: fresh.ID, Purpose: core.PurposeNotification, Ref: "1"},
			{Key: "n:sure", UserID: sure.ID, Purpose: core.PurposeNotification, Ref: "2"},
		}); err != nil {
			t.Fatal(err)
		}
		m := mailTo(t, srv, 3, "sure@example.org")
		if m.Subject != "Notification 2" {
			t.Errorf("subject %q", m.Subject)
		}
		// The other row is settled (dropped) by the time no row is queued.
		sqlDB := coretest.SQL(n)
		deadline := time.Now().Add(20 * time.Second)
		var state, reason string
		for time.Now().Before(deadline) {
			row := sqlDB.QueryRow(sqlDB.Rebind(`SELECT state, last_error FROM mail_queue WHERE mail_key = ?`), "n:fresh")
			if err := row.Scan(&state, &reason); err != nil {
				t.Fatal(err)
			}
			if state != core.MailQueued {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if state != core.MailDropped || reason != core.MailDropUnverified {
			t.Fatalf("unverified row: %s (%s)", state, reason)
		}
		if len(srv.Messages()) != 3 {
			t.Errorf("%d mails", len(srv.Messages()))
		}
	})
}

type notificationComposer struct{}

func (notificationComposer) Compose(_ context.Context, m core.QueuedMail) (core.Mail, error) {
	return core.Mail{Subject: "Notification " + m.Ref, Text: "text"}, nil
}

// TestPages_AccountMailFlow: the pages of the mailed links work with plain forms, no
// JavaScript: confirming an address, asking for a reset (the same answer for an
// unknown address) and choosing the new password.
func TestPages_AccountMailFlow(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, srv, _ := mailingNode(t, db)
		b := newBrowser(t, "http://"+n.Addr().String())
		b.must(303, "POST", "/register", url.Values{"display_name": {"Sanna Virtanen"}, "email": {"sanna@example.org"}, "password": {"a quiet morning by the sea"}})
		token := tokenOf(t, mailTo(t, srv, 1, "sanna@example.org"), "/verify-email")

		form := b.must(200, "GET", "/verify-email?t="+url.QueryEscape(token), nil)
		if !strings.Contains(form.body, `value="`+token+`"`) {
			t.Fatalf("the page does not carry the token: %s", form.body)
		}
		if r := b.must(303, "POST", "/verify-email", url.Values{"token": {token}}); r.header.Get("Location") != "/sign-in" {
			t.Errorf("confirmed, leads to %q", r.header.Get("Location"))
		}
		if p := b.must(200, "GET", "/sign-in", nil); !strings.Contains(p.body, "Your email address is confirmed") {
			t.Error("no flash after confirming")
		}
		again := b.must(422, "POST", "/verify-email", url.Values{"token": {token}})
		if !strings.Contains(again.body, "This link does not work") || !strings.Contains(again.body, `id="kv-error-summary" autofocus`) {
			t.Errorf("a used link: %s", again.body)
		}

		known := b.must(303, "POST", "/password/forgot", url.Values{"email": {"sanna@example.org"}})
		unknown := b.must(303, "POST", "/password/forgot", url.Values{"email": {"nobody@example.org"}})
		if known.header.Get("Location") != unknown.header.Get("Location") {
			t.Errorf("answers differ: %q and %q", known.header.Get("Location"), unknown.header.Get("Location"))
		}
		reset := tokenOf(t, mailTo(t, srv, 2, "sanna@example.org"), "/password/reset")
		weak := b.must(422, "POST", "/password/reset", url.Values{"token": {reset}, "new_password": {"password"}})
		if strings.Contains(weak.body, `value="password"`) || !strings.Contains(weak.body, `value="`+reset+`"`) {
			t.Errorf("a weak password: the token is lost or the password sent back: %s", weak.body)
		}
		b.must(303, "POST", "/password/reset", url.Values{"token": {reset}, "new_password": {"a new morning by the sea"}})
		if r := b.must(303, "POST", "/sign-in", url.Values{"email": {"sanna@example.org"}, "password": {"a new morning by the sea"}}); r.header.Get("Location") != "/" {
			t.Errorf("signed in with the new password, leads to %q", r.header.Get("Location"))
		}
	})
}

// TestPages_AdminMail: a mail the server refused every time shows on /admin/mail —
// kind, state and the server's answer, never the address — and the retry button
// sends it; people who are not city administrators get 403.
func TestPages_AdminMail(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		sender, err := mail.NewSender(mail.Config{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "noreply@kvarter.example"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sender.Close() })
		opt := coretest.Options()
		opt.Mailer = sender
		opt.MailQueue = sqlstore.MailQueueSettings{Poll: 20 * time.Millisecond, MaxAttempts: 1}
		n := coretest.StartNode(t, db.Config, opt)
		admin := coretest.Admin(t, n, "admin@city.example")
		srv.RefuseNext(1)
		if err := n.MailQueue.Enqueue(context.Background(), []core.QueuedMail{{Key: "k1", UserID: admin.ID, Purpose: core.PurposeResetPassword,
			Mail: &core.Mail{To: "admin@city.example", Subject: "Refused once", Text: "t"}}}); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, "http://"+n.Addr().String())
		b.must(303, "POST", "/sign-in", url.Values{"email": {"admin@city.example"}, "password": {admin.Password}})
		var page page
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			// The queue counts the mail before its one attempt fails: wait for the failure.
			if page = b.must(200, "GET", "/admin/mail", nil); strings.Contains(page.body, `action="/admin/mail/retry"`) {
				break
			}
		}
		for _, want := range []string{"Password reset", "451", "Send the failed mail again", `action="/admin/mail/retry"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if strings.Contains(page.body, "admin@city.example</td>") || strings.Contains(page.body, "Refused once") {
			t.Error("the page shows an address or a subject")
		}
		b.must(303, "POST", "/admin/mail/retry", nil)
		if m := srv.WaitFor(t, 1, 20*time.Second)[0]; m.Subject != "Refused once" {
			t.Errorf("sent %q", m.Subject)
		}

		resident := newBrowser(t, "http://"+n.Addr().String())
		coretest.Register(t, n, "resident@example.org", "Resident")
		resident.must(303, "POST", "/sign-in", url.Values{"email": {"resident@example.org"}, "password": {"a long enough passphrase resident@example.org"}})
		resident.must(403, "GET", "/admin/mail", nil)
		resident.must(403, "POST", "/admin/mail/retry", nil)
	})
}
