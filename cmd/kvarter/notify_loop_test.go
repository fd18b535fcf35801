package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/mail/mailtest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// kindAnswered is the assemblies plugin's kind for the city's answer to a motion; its
// default delivery, declared in the plugin's manifest, is "immediately", so nobody
// here sets a preference for it: the loop runs on the defaults people start with.
const kindAnswered = "assemblies.motion.answered"

// mailWait bounds every wait for mail; the loop's mails come in well under a second.
const mailWait = 30 * time.Second

// loopCity is a `kvarter serve` with the four built-in plugins that sends its mail to
// an in-process SMTP server, in a city of five languages.
type loopCity struct {
	*city
	smtp *mailtest.Server
}

// resident is a person of the loop, signed in by a bearer token.
type resident struct {
	*coretest.Client
	id, email string
}

func startLoopCity(t *testing.T, postgres bool) *loopCity {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	c := startCityWith(t, postgres, map[string]any{
		"city": map[string]any{"name": "Helsingborg", "time_zone": "Europe/Stockholm", "languages": []string{"sv", "en", "fi", "da", "tr"}},
		"mail": map[string]any{"host": srv.Host, "port": srv.Port, "tls": "none", "from": "kvarter@helsingborg.example"},
		// The loop mails each person a handful of times within the hour; the cap's
		// folding into digests has tests of its own and must not hide a mail here.
		"notifications": map[string]any{"hourly_cap": 100},
	})
	return &loopCity{city: c, smtp: srv}
}

var verifyLinkRE = regexp.MustCompile(`https?://\S+?/verify-email\?t=([A-Za-z0-9_%.-]+)`)

// register signs a person up in lang, confirms their address by the link of the
// verification mail the SMTP server received, and signs them in.
func (lc *loopCity) register(t *testing.T, email, name, lang string) *resident {
	t.Helper()
	anon := coretest.NewClient(t, lc.node)
	pw := "a long enough passphrase for " + email
	anon.Must(201, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": pw, "display_name": name, "language": lang})
	var token string
	lc.smtp.WaitUntil(t, func(ms []mailtest.Message) bool {
		for _, m := range ms {
			if len(m.To) == 1 && m.To[0] == email {
				if match := verifyLinkRE.FindStringSubmatch(m.Text); match != nil {
					token = match[1]
					return true
				}
			}
		}
		return false
	}, mailWait)
	anon.Must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": token})
	c := login(t, lc.node, email, pw)
	var me struct {
		User struct {
			ID            string `json:"id"`
			EmailVerified bool   `json:"email_verified"`
		} `json:"user"`
	}
	c.Must(200, "GET", "/api/v1/me", nil).Decode(t, &me)
	if !me.User.EmailVerified {
		t.Fatalf("%s: the address is not verified after the mailed link", email)
	}
	return &resident{Client: c, id: me.User.ID, email: email}
}

// notified counts the person's notifications of kind about subject in the app.
func notified(t *testing.T, r *resident, kind, subject string) (n int, title string) {
	t.Helper()
	var page struct {
		Items []struct {
			Kind    string `json:"kind"`
			Subject string `json:"subject"`
			Title   string `json:"title"`
		} `json:"items"`
	}
	r.Must(200, "GET", "/api/v1/me/notifications?limit=100", nil).Decode(t, &page)
	for _, it := range page.Items {
		if it.Kind == kind && it.Subject == subject {
			n, title = n+1, it.Title
		}
	}
	return n, title
}

// awaitNotice waits until r has the notification of kind about subject in the app
// (the plugin's outbox reaches the core just after the request that wrote it) and its
// mail, whose subject starts with the notification's title, at the server; it returns
// the title.
func (lc *loopCity) awaitNotice(t *testing.T, r *resident, kind, subject string) string {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	n, title := notified(t, r, kind, subject)
	for ; n == 0; n, title = notified(t, r, kind, subject) {
		if time.Now().After(deadline) {
			t.Fatalf("%s has no %s notification of %s after %s", r.email, kind, subject, mailWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	lc.waitMails(t, map[string]string{r.email: title})
	return title
}

// mailsTo are the mails to addr whose subject starts with prefix.
func mailsTo(ms []mailtest.Message, addr, prefix string) []mailtest.Message {
	var out []mailtest.Message
	for _, m := range ms {
		if len(m.To) == 1 && m.To[0] == addr && strings.HasPrefix(m.Subject, prefix) {
			out = append(out, m)
		}
	}
	return out
}

// waitMails waits until every address in want has a mail whose subject starts with
// its prefix.
func (lc *loopCity) waitMails(t *testing.T, want map[string]string) []mailtest.Message {
	t.Helper()
	return lc.smtp.WaitUntil(t, func(ms []mailtest.Message) bool {
		for addr, prefix := range want {
			if len(mailsTo(ms, addr, prefix)) == 0 {
				return false
			}
		}
		return true
	}, mailWait)
}

// settle waits until the nodes' mail queue holds nothing more to send, so that a count
// taken afterwards is final for what was queued so far.
func settle(t *testing.T, n *node.Node) {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		queued, _, err := n.MailQueue.MailDepth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails still queued after %s", queued, mailWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// motionLoop is one motion through the assembly: written by author, sponsored, tabled,
// put to the vote by the chair, voted, closed and answered (accepted) by the city.
type motionLoop struct {
	assembly, id, path, subject string
}

func (lc *loopCity) motion(t *testing.T, assembly, title string, author, sponsor, chair *resident, voters map[*resident]string, followers ...*resident) motionLoop {
	t.Helper()
	base := "/api/v1/assemblies/" + assembly
	var m struct {
		ID string `json:"id"`
	}
	author.Must(201, "POST", base+"/motions", map[string]any{"title": title, "text": "Fler bänkar där folk möts."}).Decode(t, &m)
	ml := motionLoop{assembly: assembly, id: m.ID, path: base + "/motions/" + m.ID, subject: "assemblies.motion:" + m.ID}
	sponsor.Must(200, "POST", ml.path+"/sponsor", nil)
	author.Must(200, "POST", ml.path+"/table", nil)
	for _, f := range followers {
		f.Must(200, "PUT", ml.path+"/follow", nil)
	}
	chair.Must(200, "POST", ml.path+"/vote/open", nil)
	for v, choice := range voters {
		v.Must(201, "POST", ml.path+"/vote/ballots", map[string]any{"choice": choice})
	}
	var closed struct {
		Motion struct {
			Outcome string `json:"outcome"`
		} `json:"motion"`
		Outcome string `json:"outcome"`
	}
	chair.Must(200, "POST", ml.path+"/vote/close", nil).Decode(t, &closed)
	if closed.Outcome != "adopted" && closed.Motion.Outcome != "adopted" {
		t.Fatalf("the vote on %q closed %+v, want adopted", title, closed)
	}
	return ml
}

// answer has the city's responder acknowledge and accept the motion.
func (ml motionLoop) answer(t *testing.T, responder *resident, reasoning string) {
	t.Helper()
	responder.Must(200, "POST", ml.path+"/acknowledge", nil)
	responder.Must(200, "POST", ml.path+"/answer", map[string]any{"decision": "accepted", "reasoning": reasoning})
}

// TestMain_NotifyLoop closes the loop of issue 17 through the real program: `kvarter
// serve` with its plugins as child processes and an SMTP server on loopback. A motion
// is adopted and the city answers it; every voter and the follower finds one
// notification in the app and one mail, each in their own language with the RFC 8058
// headers, and nobody else does; the plugin's restart changes nothing; the mail's
// one-click link stops that kind for that person only; and on PostgreSQL two nodes of
// one city send each mail once.
func TestMain_NotifyLoop(t *testing.T) {
	for _, postgres := range []bool{false, true} {
		name := "sqlite"
		if postgres {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			if postgres && os.Getenv(sdktest.EnvDatabaseURL) == "" && os.Getenv("CI") == "" {
				t.Skipf("set %s to run this on PostgreSQL too", sdktest.EnvDatabaseURL)
			}
			testNotifyLoop(t, startLoopCity(t, postgres), postgres)
		})
	}
}

func testNotifyLoop(t *testing.T, lc *loopCity, postgres bool) {
	admin := lc.admin
	var nbh struct {
		ID string `json:"id"`
	}
	admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Söder"}).Decode(t, &nbh)

	elif := lc.register(t, "elif@example.org", "Elif Demir", "tr")
	sven := lc.register(t, "sven@example.org", "Sven Lind", "sv")
	chair := lc.register(t, "chair@example.org", "Cecilia Holm", "en")
	absent := lc.register(t, "aino@example.org", "Aino Virtanen", "fi")   // a member who does not vote
	follower := lc.register(t, "freja@example.org", "Freja Madsen", "da") // follows the motion, no member
	outsider := lc.register(t, "olle@example.org", "Olle Berg", "sv")     // a resident of Söder, no member
	responder := lc.register(t, "staden@example.org", "Stadens handläggare", "sv")
	admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": responder.id, "role": "city_responder", "domain": "city"})

	// The residents of Söder: a membership asked for and approved.
	for _, r := range []*resident{elif, sven, chair, absent, outsider} {
		r.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh.ID+"/memberships", map[string]string{"note": "Södergatan"})
		admin.Must(200, "POST", "/api/v1/neighbourhoods/"+nbh.ID+"/memberships/"+r.id+"/approve", nil)
	}
	var asm struct {
		ID string `json:"id"`
	}
	admin.Must(201, "POST", "/api/v1/assemblies", map[string]any{"neighbourhood_id": nbh.ID, "name": "Södernämnden", "charter": "Råd till staden.",
		"quorum_percent": 50, "majority": "simple", "secrecy": "named", "membership": "open"}).Decode(t, &asm)
	for _, r := range []*resident{chair, elif, sven, absent} {
		r.Must(201, "POST", "/api/v1/assemblies/"+asm.ID+"/members", nil)
	}
	admin.Must(200, "POST", "/api/v1/assemblies/"+asm.ID+"/members/"+chair.id+"/position", map[string]any{"position": "chair"})

	// 1. The loop: adopted (2 yes, 1 no) and answered.
	voters := map[*resident]string{elif: "yes", sven: "yes", chair: "no"}
	m1 := lc.motion(t, asm.ID, "Bänkar på torget", elif, sven, chair, voters, follower)
	m1.answer(t, responder, "Två bänkar ställs ut i maj.")

	concerned := []*resident{elif, sven, chair, follower}
	titles := map[*resident]string{}
	for _, r := range concerned {
		titles[r] = lc.awaitNotice(t, r, kindAnswered, m1.subject)
	}
	settle(t, lc.node)
	checkAnswered := func(t *testing.T, when string) {
		t.Helper()
		ms := lc.smtp.Messages()
		for _, r := range concerned {
			if n, _ := notified(t, r, kindAnswered, m1.subject); n != 1 {
				t.Errorf("%s: %s has %d notifications of the answer in the app, want 1", when, r.email, n)
			}
			if got := mailsTo(ms, r.email, titles[r]); len(got) != 1 {
				t.Errorf("%s: %s got %d mails of the answer, want 1", when, r.email, len(got))
			}
		}
		for _, r := range []*resident{absent, outsider, responder} {
			if n, _ := notified(t, r, kindAnswered, m1.subject); n != 0 {
				t.Errorf("%s: %s, neither voter nor follower, has %d notifications of the answer", when, r.email, n)
			}
		}
		// The outsider is mailed nothing but the verification.
		if got := mailsTo(ms, outsider.email, ""); len(got) != 1 {
			t.Errorf("%s: the outsider got %d mails, want only the verification", when, len(got))
		}
	}
	checkAnswered(t, "after the answer")

	ms := lc.smtp.Messages()
	elifMail, svenMail := mailsTo(ms, elif.email, titles[elif])[0], mailsTo(ms, sven.email, titles[sven])[0]
	for _, c := range []struct {
		m     mailtest.Message
		words []string
	}{
		// The plugin's catalog (title and body) and the city's name, in Turkish and Swedish.
		{elifMail, []string{"Belediye “Bänkar på torget” önergesini kabul etti – Helsingborg", "önergesini (Södernämnden) kabul etti. Gerekçesi:", "Två bänkar ställs ut i maj."}},
		{svenMail, []string{"Staden bifaller ”Bänkar på torget” – Helsingborg", "Staden har bifallit motionen ”Bänkar på torget” från Södernämnden. Motiveringen:", "Två bänkar ställs ut i maj."}},
	} {
		text := c.m.Subject + "\n" + c.m.Text
		for _, w := range c.words {
			if !strings.Contains(text, w) {
				t.Errorf("mail to %v lacks %q:\n%s", c.m.To, w, text)
			}
		}
		if !strings.Contains(c.m.Text, "/assemblies/"+asm.ID+"/motions/"+m1.id) || !strings.Contains(c.m.HTML, "Bänkar på torget") {
			t.Errorf("mail to %v links not to the motion or has no HTML part", c.m.To)
		}
		if u := c.m.Header.Get("List-Unsubscribe"); !strings.HasPrefix(u, "<"+lc.node.URL()+"/unsubscribe?t=") || !strings.HasSuffix(u, ">") ||
			c.m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("mail to %v: List-Unsubscribe %q, List-Unsubscribe-Post %q", c.m.To, u, c.m.Header.Get("List-Unsubscribe-Post"))
		}
	}

	// 2. Redelivery changes nothing: the plugin restarts (its relay starts over), the
	// follower follows again, the city answers again (refused). The implementation's
	// mails, sent after all of that, mark when the counts are final.
	before := lc.node.Plugins.Pid("assemblies")
	admin.Must(200, "POST", "/api/v1/admin/plugins/assemblies/restart", nil)
	// The restart is applied after the answer: wait for the new process, then for it
	// to be active, so that the next request does not meet the old one stopping.
	for deadline := time.Now().Add(30 * time.Second); lc.node.Plugins.Pid("assemblies") == before && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	waitActive(t, lc.node)
	follower.Must(200, "PUT", m1.path+"/follow", nil)
	responder.Must(409, "POST", m1.path+"/answer", map[string]any{"decision": "accepted", "reasoning": "Igen."})
	responder.Must(200, "POST", m1.path+"/implemented", nil)
	for _, r := range concerned {
		lc.awaitNotice(t, r, "assemblies.motion.implemented", m1.subject)
	}
	settle(t, lc.node)
	checkAnswered(t, "after the restart")

	// 3. The one-click unsubscribe of Sven's mail: no cookie, no sign-in.
	link := strings.Trim(svenMail.Header.Get("List-Unsubscribe"), "<>")
	token := link[strings.Index(link, "?t=")+3:]
	elifLink := strings.Trim(elifMail.Header.Get("List-Unsubscribe"), "<>")
	elifToken := elifLink[strings.Index(elifLink, "?t=")+3:]
	sp, ep := strings.Split(token, "."), strings.Split(elifToken, ".")
	otherKind := base64.RawURLEncoding.EncodeToString([]byte("assemblies.vote.closed"))
	oneClick := func(u string) int {
		resp, _ := coretest.RawRequest(t, "POST", u, "List-Unsubscribe=One-Click", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		return resp.StatusCode
	}
	for name, tampered := range map[string]string{
		"another kind":   sp[0] + "." + otherKind + "." + sp[2],
		"another person": ep[0] + "." + sp[1] + "." + sp[2],
		"Elif's MAC":     sp[0] + "." + sp[1] + "." + ep[2],
	} {
		if st := oneClick(lc.node.URL() + "/unsubscribe?t=" + tampered); st != http.StatusBadRequest {
			t.Errorf("a token with %s: one-click answered %d, want 400", name, st)
		}
	}
	if st := oneClick(link); st < 200 || st > 299 {
		t.Fatalf("one-click unsubscribe = %d, want 2xx", st)
	}
	for _, r := range []*resident{sven, elif} {
		var prefs struct {
			Items []struct {
				Kind     string `json:"kind"`
				Default  string `json:"default"`
				Delivery string `json:"delivery"`
			} `json:"items"`
		}
		r.Must(200, "GET", "/api/v1/me/notification-preferences", nil).Decode(t, &prefs)
		found := false
		for _, p := range prefs.Items {
			if p.Kind == kindAnswered {
				found = true
				if p.Default != "immediately" {
					t.Errorf("the answer's default delivery is %q, want immediately", p.Default)
				}
			}
			if wantDelivery := map[bool]string{true: "in_app", false: "immediately"}[r == sven]; p.Kind == kindAnswered && p.Delivery != wantDelivery {
				t.Errorf("%s: %s delivered %q after Sven's one-click, want %q", r.email, p.Kind, p.Delivery, wantDelivery)
			}
			if r == sven && p.Kind == "assemblies.vote.closed" && p.Delivery != "immediately" {
				t.Errorf("Sven's one-click for the answer changed the result's delivery to %q", p.Delivery)
			}
		}
		if !found {
			t.Errorf("%s: no preference for %s among %+v", r.email, kindAnswered, prefs.Items)
		}
	}

	// The next answer reaches Sven in the app only; Elif's mail marks when it is sent.
	m2 := lc.motion(t, asm.ID, "Lekplats vid skolan", elif, sven, chair, voters)
	m2.answer(t, responder, "Lekplatsen byggs i höst.")
	lc.awaitNotice(t, elif, kindAnswered, m2.subject)
	settle(t, lc.node)
	// One request stored Elif's and Sven's notification together.
	if n, _ := notified(t, sven, kindAnswered, m2.subject); n != 1 {
		t.Errorf("Sven has %d notifications of the second answer in the app, want 1", n)
	}
	if got := mailsTo(lc.smtp.Messages(), sven.email, "Staden bifaller ”Lekplats vid skolan”"); len(got) != 0 {
		t.Errorf("Sven unsubscribed from answers by mail and still got %d", len(got))
	}

	if postgres {
		// 4. Two nodes of the city on one database and the same plugin stores: each
		// sends from the shared queue and each relays its plugins' outboxes.
		m, errOut := lc.newMain()
		second := startServe(t, m, errOut, "--config", lc.cfgPath)
		waitActive(t, second.node)
		on2 := func(r *resident) *resident {
			c := coretest.NewClient(t, second.node)
			c.Token = r.Token
			return &resident{Client: c, id: r.id, email: r.email}
		}
		for i := range 3 {
			title := fmt.Sprintf("Belysning på gång %d", i+1)
			a, s, c := elif, sven, chair
			if i%2 == 0 {
				a, s, c = on2(elif), on2(sven), chair // half the steps through the second node
			}
			ml := lc.motion(t, asm.ID, title, a, s, c, map[*resident]string{on2(elif): "yes", sven: "yes", on2(chair): "no"})
			ml.answer(t, on2(responder), "Ja.")
			for _, r := range []*resident{elif, chair} {
				lc.awaitNotice(t, r, kindAnswered, ml.subject)
			}
		}
		settle(t, lc.node)
		settle(t, second.node)
	}

	// Every mail reached the server once: by recipient and subject (each motion has
	// its own title) and by Message-ID.
	bySubject, byID := map[string]int{}, map[string]int{}
	for _, m := range lc.smtp.Messages() {
		bySubject[strings.Join(m.To, ",")+" "+m.Subject]++
		if id := m.Header.Get("Message-Id"); id != "" {
			byID[id]++
		} else {
			t.Errorf("mail %q to %v has no Message-ID", m.Subject, m.To)
		}
	}
	for k, n := range bySubject {
		if n != 1 {
			t.Errorf("%d mails of %s", n, k)
		}
	}
	for k, n := range byID {
		if n != 1 {
			t.Errorf("%d mails with Message-ID %s", n, k)
		}
	}
}
