package mail_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/mail"
	"github.com/kvarter/kvarter/core/mail/mailtest"
)

func sample() mail.Message {
	return mail.Message{
		Lang:       "tr",
		City:       "İzmir <Karşıyaka>",
		Subject:    "E-posta adresinizi doğrulayın",
		Heading:    "Merhaba <b>Ayşe</b> & hoş geldiniz",
		Paragraphs: []string{"Birinci paragraf.", "İkinci <script>alert(1)</script> paragraf."},
		Action:     &mail.Link{URL: "https://kvarter.example/verify-email?t=abc&x=<1>", Label: "Adresimi doğrula"},
		Footer:     []string{"Bu e-postayı Kvarter hesabınız için aldınız."},
	}
}

func TestCompose(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		m, err := mail.Compose("ayse@example.org", "Ayşe", sample())
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != "E-posta adresinizi doğrulayın – İzmir <Karşıyaka>" {
			t.Errorf("subject %q", m.Subject)
		}
		for _, want := range []string{`<html lang="tr">`, "Merhaba &lt;b&gt;Ayşe&lt;/b&gt; &amp; hoş geldiniz", "&lt;script&gt;", `href="https://kvarter.example/verify-email?t=abc&amp;x=%3c1%3e"`, ">Adresimi doğrula</a>", "İzmir &lt;Karşıyaka&gt;"} {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
			}
		}
		for _, bad := range []string{"<script>", "<b>Ayşe", "<table"} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("HTML holds %q", bad)
			}
		}
		for _, want := range []string{"Merhaba <b>Ayşe</b> & hoş geldiniz", "İkinci <script>alert(1)</script> paragraf.", "Adresimi doğrula:\nhttps://kvarter.example/verify-email?t=abc&x=<1>"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, m.Text)
			}
		}
		if len(m.Headers) != 0 {
			t.Errorf("headers without an unsubscribe link: %v", m.Headers)
		}
	})
	t.Run("Unsubscribe", func(t *testing.T) {
		msg := sample()
		msg.Unsubscribe = &mail.Link{URL: "https://kvarter.example/unsubscribe?t=signed", Label: "Stop these mails"}
		m, err := mail.Compose("a@example.org", "", msg)
		if err != nil {
			t.Fatal(err)
		}
		if m.Headers["List-Unsubscribe"] != "<https://kvarter.example/unsubscribe?t=signed>" || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
			t.Errorf("headers %v", m.Headers)
		}
		if !strings.Contains(m.HTML, `<a href="https://kvarter.example/unsubscribe?t=signed"`) || !strings.Contains(m.Text, "Stop these mails: https://kvarter.example/unsubscribe?t=signed") {
			t.Errorf("unsubscribe link missing:\n%s\n%s", m.HTML, m.Text)
		}
	})
	t.Run("ErrLink", func(t *testing.T) {
		for _, u := range []string{"javascript:alert(1)", "/relative", "ftp://x.example/"} {
			msg := sample()
			msg.Action.URL = u
			if _, err := mail.Compose("a@example.org", "", msg); core.ErrorCode(err) != core.EINVALID {
				t.Errorf("%q: %v", u, err)
			}
		}
	})
	t.Run("SubjectOneLine", func(t *testing.T) {
		msg := sample()
		msg.Subject = "a\r\nBcc: x@example.org"
		m, err := mail.Compose("a@example.org", "", msg)
		if err != nil || strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("%q %v", m.Subject, err)
		}
	})
}

func newSender(t *testing.T, srv *mailtest.Server, mod func(*mail.Config)) *mail.Sender {
	t.Helper()
	cfg := mail.Config{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "noreply@kvarter.example", FromName: "Kvarter Test", Timeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func composed(t testing.TB, to string) core.Mail {
	msg := sample()
	msg.Unsubscribe = &mail.Link{URL: "https://kvarter.example/unsubscribe?t=signed", Label: "Stop"}
	m, err := mail.Compose(to, "Ayşe Yılmaz", msg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSender_Send(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		s := newSender(t, srv, nil)
		want := composed(t, "ayse@example.org")
		if err := s.Send(ctx, want); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(t, 1, 10*time.Second)[0]
		if got.From != "noreply@kvarter.example" || len(got.To) != 1 || got.To[0] != "ayse@example.org" {
			t.Errorf("envelope %q → %v", got.From, got.To)
		}
		if got.Subject != want.Subject || got.Text != want.Text || got.HTML != want.HTML {
			t.Errorf("got %q\n%s\n%s", got.Subject, got.Text, got.HTML)
		}
		if got.Header.Get("List-Unsubscribe") != "<https://kvarter.example/unsubscribe?t=signed>" || got.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("headers %v", got.Header)
		}
		if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
			t.Errorf("content type %q", ct)
		}
	})
	t.Run("StartTLSAndAuth", func(t *testing.T) {
		for _, auth := range []mail.AuthMode{mail.AuthPlain, mail.AuthLogin} {
			srv := mailtest.Start(t, mailtest.Options{StartTLS: true, Username: "kvarter", Password: "s3cret"})
			s := newSender(t, srv, func(c *mail.Config) {
				c.TLS, c.Auth, c.Username, c.Password = mail.TLSStartTLS, auth, "kvarter", "s3cret"
				c.TLSConfig = &tls.Config{RootCAs: srv.RootCAs, ServerName: "127.0.0.1"}
			})
			if err := s.Send(ctx, composed(t, "a@example.org")); err != nil {
				t.Fatalf("%s: %v", auth, err)
			}
			got := srv.WaitFor(t, 1, 10*time.Second)[0]
			if !got.TLS || got.User != "kvarter" {
				t.Errorf("%s: tls %v user %q", auth, got.TLS, got.User)
			}
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{StartTLS: true, Username: "kvarter", Password: "s3cret"})
		s := newSender(t, srv, func(c *mail.Config) {
			c.TLS, c.Auth, c.Username, c.Password = mail.TLSStartTLS, mail.AuthPlain, "kvarter", "wrong"
			c.TLSConfig = &tls.Config{RootCAs: srv.RootCAs, ServerName: "127.0.0.1"}
		})
		err := s.Send(ctx, composed(t, "a@example.org"))
		if err == nil || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrUntrustedCertificate", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{StartTLS: true})
		s := newSender(t, srv, func(c *mail.Config) { c.TLS = mail.TLSStartTLS })
		if err := s.Send(ctx, composed(t, "a@example.org")); err == nil {
			t.Fatal("sent to a server whose certificate nobody trusts")
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("%d messages", n)
		}
	})
	t.Run("RefusedThenSent", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		s := newSender(t, srv, nil)
		srv.RefuseNext(2)
		for i := range 2 {
			if err := s.Send(ctx, composed(t, "a@example.org")); err == nil {
				t.Fatalf("try %d: refused mail reported sent", i)
			}
		}
		if err := s.Send(ctx, composed(t, "a@example.org")); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.WaitFor(t, 1, 10*time.Second)); n != 1 {
			t.Fatalf("%d messages", n)
		}
	})
	t.Run("ReconnectsAfterDrop", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		s := newSender(t, srv, nil)
		if err := s.Send(ctx, composed(t, "a@example.org")); err != nil {
			t.Fatal(err)
		}
		srv.DropConnections() // the idle connection in the pool is dead now
		if err := s.Send(ctx, composed(t, "b@example.org")); err != nil {
			t.Fatalf("after the server dropped the connection: %v", err)
		}
		if got := srv.WaitFor(t, 2, 10*time.Second); got[1].To[0] != "b@example.org" {
			t.Errorf("second mail to %v", got[1].To)
		}
	})
	t.Run("ErrHeaderInjection", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		s := newSender(t, srv, nil)
		m := composed(t, "a@example.org")
		m.Headers = map[string]string{"X-Test": "a\r\nBcc: evil@example.org"}
		if err := s.Send(ctx, m); core.ErrorCode(err) != core.EINVALID {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		s := newSender(t, srv, nil)
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() { errs <- s.Send(ctx, composed(t, fmt.Sprintf("p%d@example.org", i))) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := srv.WaitFor(t, n, 10*time.Second)
		seen := map[string]bool{}
		for _, m := range got {
			seen[m.To[0]] = true
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("%d messages to %d addresses, want %d", len(got), len(seen), n)
		}
	})
}

func TestConfig_Validate(t *testing.T) {
	ok := mail.Config{Host: "smtp.example.org", Port: 587, TLS: mail.TLSStartTLS, From: "noreply@example.org"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*mail.Config){
		"NoHost":     func(c *mail.Config) { c.Host = "" },
		"BadPort":    func(c *mail.Config) { c.Port = 70000 },
		"BadFrom":    func(c *mail.Config) { c.From = "noreply" },
		"BadTLS":     func(c *mail.Config) { c.TLS = "ssl" },
		"BadAuth":    func(c *mail.Config) { c.Auth = "cram-md5"; c.Username = "u" },
		"AuthNoUser": func(c *mail.Config) { c.Auth = mail.AuthPlain },
	} {
		c := ok
		mod(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkSender_Send measures mails per second from composed mail to the in-process
// server over loopback, with as many senders as the pool has connections.
func BenchmarkSender_Send(b *testing.B) {
	srv := mailtest.Start(b, mailtest.Options{})
	s, err := mail.NewSender(mail.Config{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "noreply@kvarter.example"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := composed(b, "a@example.org")
	b.SetParallelism(1)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Send(context.Background(), m); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "mails/s")
}
