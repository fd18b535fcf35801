package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// The notification pages on the real service, through a real node, on SQLite and
// PostgreSQL: notifications arrive as a plugin's would (the node's sink), and people
// read them in a browser without JavaScript.

var (
	kindAnswered = core.NotificationKind{Name: "assemblies.motion.answered", Default: core.DeliverImmediately,
		Labels: map[string]string{"en": "The city answered a motion", "fi": "Kaupunki vastasi aloitteeseen"}}
	kindTabled = core.NotificationKind{Name: "assemblies.motion.tabled", Default: core.DeliverWeekly,
		Labels: map[string]string{"en": "A motion was tabled"}}
)

// noticeCity is a node whose assemblies declare two kinds, with two residents.
func noticeCity(t *testing.T, db coretest.DB) (*node.Node, person, person) {
	t.Helper()
	n := coretest.StartNode(t, db.Config, coretest.Options())
	n.Notifications.DeclareKinds("assemblies", []core.NotificationKind{kindAnswered, kindTabled})
	return n, newPerson(t, n, "aino@example.org", "Aino Ääninen"), newPerson(t, n, "mehmet@example.org", "Mehmet Öztürk")
}

// notify sends one notification of kind to the recipients, as a plugin's outbox does.
func notify(t *testing.T, n *node.Node, id, kind, title, link string, to ...string) {
	t.Helper()
	err := n.Notifications.Notify(context.Background(), []core.NotificationRequest{{ID: id, Kind: kind, Source: "assemblies",
		Recipients: to, Subject: "assemblies.motion:m1", Link: link, OccurredAt: time.Now(),
		Texts: map[string]core.NotificationText{"en": {Title: title, Body: "First paragraph.\n\nSecond paragraph."}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// items are the titles of the list page's notifications, in order, each with
// " (unread)" when it is marked so in words.
func items(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, li := range webtest.Find([]*html.Node{webtest.ParseDocument(t, body)}, func(n *html.Node) bool {
		c, _ := webtest.Attr(n, "class")
		return n.DataAtom == atom.Li && strings.Contains(c, "ds-card")
	}) {
		title := webtest.Text(webtest.Find([]*html.Node{li}, tag(atom.H2))[0])
		if strings.Contains(webtest.Text(li), "Unread") {
			title += " (unread)"
		}
		out = append(out, title)
	}
	return out
}

// navLink is the text of the navigation's link to the notifications, as a screen
// reader hears it (the badge is hidden from it).
func navLink(t *testing.T, body string) string {
	t.Helper()
	nodes := []*html.Node{webtest.ParseDocument(t, body)}
	links := webtest.Find(nodes, func(n *html.Node) bool {
		c, _ := webtest.Attr(n, "class")
		return n.DataAtom == atom.A && strings.Contains(c, "kv-notify")
	})
	if len(links) != 1 {
		t.Fatalf("%d links to the notifications in the navigation, want 1", len(links))
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if h, _ := webtest.Attr(n, "aria-hidden"); h == "true" {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(links[0])
	return strings.TrimSpace(b.String())
}

// hiddenIDs are the ids the list's "mark as read" forms carry.
func hiddenIDs(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, in := range webtest.Find([]*html.Node{webtest.ParseDocument(t, body)}, func(n *html.Node) bool {
		name, _ := webtest.Attr(n, "name")
		return n.DataAtom == atom.Input && name == "id"
	}) {
		v, _ := webtest.Attr(in, "value")
		out = append(out, v)
	}
	return out
}

func TestNotificationPages_List(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, aino, mehmet := noticeCity(t, db)
		ab, mb := signIn(t, n, aino), signIn(t, n, mehmet)

		t.Run("Empty", func(t *testing.T) {
			a := ab.must(t, 200, "GET", "/notifications", nil)
			checkPage(t, a, "en")
			if !strings.Contains(a.body, "You have no notifications.") || len(items(t, a.body)) != 0 {
				t.Errorf("empty list: %v", items(t, a.body))
			}
			if got := navLink(t, a.body); got != "Notifications" {
				t.Errorf("nav link = %q, want no count", got)
			}
		})

		notify(t, n, "r1", kindAnswered.Name, "The city answered “More benches”", "/assemblies/a1/motions/m1", aino.id)
		notify(t, n, "r2", kindTabled.Name, "A motion was tabled: “Longer library hours”", "", aino.id)
		notify(t, n, "r3", kindTabled.Name, "Mehmet’s own news", "", mehmet.id)
		notify(t, n, "r4", kindTabled.Name, "Both hear this", "", aino.id, mehmet.id)

		t.Run("OnlyOwn", func(t *testing.T) {
			a := ab.must(t, 200, "GET", "/notifications", nil)
			checkPage(t, a, "en")
			want := []string{"Both hear this (unread)", "A motion was tabled: “Longer library hours” (unread)", "The city answered “More benches” (unread)"}
			if got := items(t, a.body); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("Aino's list = %q, want %q", got, want)
			}
			if strings.Contains(a.body, "Mehmet’s own news") {
				t.Error("Aino sees Mehmet's notification")
			}
			if !strings.Contains(a.body, "First paragraph.</p>") || !strings.Contains(a.body, "Second paragraph.</p>") {
				t.Error("the body's paragraphs are not shown as paragraphs")
			}
			if got := navLink(t, a.body); got != "Notifications, 3 unread" {
				t.Errorf("Aino's nav link = %q", got)
			}
			m := mb.must(t, 200, "GET", "/notifications", nil)
			if got := items(t, m.body); strings.Join(got, "|") != "Both hear this (unread)|Mehmet’s own news (unread)" {
				t.Errorf("Mehmet's list = %q", got)
			}
			if got := navLink(t, m.body); got != "Notifications, 2 unread" {
				t.Errorf("Mehmet's nav link = %q", got)
			}
			// The count on another page, for each person: never the other's.
			if got := navLink(t, ab.must(t, 200, "GET", "/profile", nil).body); got != "Notifications, 3 unread" {
				t.Errorf("Aino's nav link on /profile = %q", got)
			}
			if got := navLink(t, mb.must(t, 200, "GET", "/profile", nil).body); got != "Notifications, 2 unread" {
				t.Errorf("Mehmet's nav link on /profile = %q", got)
			}
		})

		t.Run("OpenMarksRead", func(t *testing.T) {
			a := ab.must(t, 200, "GET", "/notifications", nil)
			var open string
			for _, l := range webtest.Find([]*html.Node{webtest.ParseDocument(t, a.body)}, tag(atom.A)) {
				if webtest.Text(l) == "The city answered “More benches”" {
					open, _ = webtest.Attr(l, "href")
				}
			}
			if open == "" {
				t.Fatal("the notification with a link has no link")
			}
			ab.must(t, http.StatusSeeOther, "GET", open, nil, "/assemblies/a1/motions/m1")
			a = ab.must(t, 200, "GET", "/notifications", nil)
			if got := items(t, a.body); got[2] != "The city answered “More benches”" {
				t.Errorf("after opening it: %q", got)
			}
			if got := navLink(t, a.body); got != "Notifications, 2 unread" {
				t.Errorf("nav link = %q", got)
			}
			// The way through the list leads only to this site.
			ab.must(t, http.StatusSeeOther, "GET", strings.Replace(open, "%2Fassemblies", "%2F%2Fevil.example", 1), nil, "/notifications")
		})

		t.Run("MarkRead", func(t *testing.T) {
			theirs := hiddenIDs(t, mb.must(t, 200, "GET", "/notifications", nil).body)
			// Mehmet's ids posted by Aino change nothing of his.
			ab.must(t, http.StatusSeeOther, "POST", "/notifications/read", url.Values{"id": theirs}, "/notifications")
			if got := navLink(t, mb.must(t, 200, "GET", "/notifications", nil).body); got != "Notifications, 2 unread" {
				t.Errorf("Mehmet's count after Aino posted his ids: %q", got)
			}
			mine := hiddenIDs(t, ab.must(t, 200, "GET", "/notifications", nil).body)
			ab.must(t, http.StatusSeeOther, "POST", "/notifications/read", url.Values{"id": mine[:1], "back": {"/notifications?cursor=x"}}, "/notifications?cursor=x")
			a := ab.must(t, 200, "GET", "/notifications", nil)
			if !strings.Contains(a.body, "The notification is marked as read.") {
				t.Error("no message after marking read")
			}
			if got := items(t, a.body); got[0] != "Both hear this" || got[1] != "A motion was tabled: “Longer library hours” (unread)" {
				t.Errorf("after marking the newest read: %q", got)
			}
			// A back field off the list leads to the list.
			ab.must(t, http.StatusSeeOther, "POST", "/notifications/read", url.Values{"id": mine[:1], "back": {"//evil.example/"}}, "/notifications")
			ab.must(t, http.StatusBadRequest, "POST", "/notifications/read", url.Values{}, "")
			ab.must(t, http.StatusBadRequest, "POST", "/notifications/read", url.Values{"id": {strings.Repeat("x", 100)}}, "")
			ab.must(t, http.StatusBadRequest, "GET", "/notifications/"+strings.Repeat("x", 100), nil, "")
			ab.must(t, http.StatusBadRequest, "POST", "/me/follows/unfollow", url.Values{"subject": {"a\x01b"}}, "")
		})

		t.Run("MarkAllRead", func(t *testing.T) {
			// A cross-site post is refused and changes nothing.
			a := mb.do(t, "POST", "/notifications/read-all", url.Values{}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
			if a.status != http.StatusForbidden {
				t.Errorf("cross-site mark all read = %d, want 403", a.status)
			}
			if got := navLink(t, mb.must(t, 200, "GET", "/notifications", nil).body); got != "Notifications, 2 unread" {
				t.Errorf("Mehmet's count after a refused post: %q", got)
			}
			ab.must(t, http.StatusSeeOther, "POST", "/notifications/read-all", url.Values{}, "/notifications")
			a = ab.must(t, 200, "GET", "/notifications", nil)
			for _, it := range items(t, a.body) {
				if strings.HasSuffix(it, "(unread)") {
					t.Errorf("still unread after mark all read: %q", it)
				}
			}
			if got := navLink(t, a.body); got != "Notifications" {
				t.Errorf("nav link = %q", got)
			}
			if strings.Contains(a.body, `action="/notifications/read-all"`) {
				t.Error("mark all read offered with nothing unread")
			}
			if got := navLink(t, mb.must(t, 200, "GET", "/notifications", nil).body); got != "Notifications, 2 unread" {
				t.Errorf("Mehmet's count after Aino read all: %q", got)
			}
		})

		t.Run("Pages", func(t *testing.T) {
			for i := range core.DefaultPageLimit + 5 {
				notify(t, n, fmt.Sprintf("bulk-%02d", i), kindTabled.Name, fmt.Sprintf("Bulk %02d", i), "", mehmet.id)
			}
			a := mb.must(t, 200, "GET", "/notifications", nil)
			first := items(t, a.body)
			if len(first) != core.DefaultPageLimit || first[0] != "Bulk 54 (unread)" {
				t.Fatalf("first page: %d items, starting %q", len(first), first[0])
			}
			var next string
			for _, l := range webtest.Find([]*html.Node{webtest.ParseDocument(t, a.body)}, tag(atom.A)) {
				if rel, _ := webtest.Attr(l, "rel"); rel == "next" {
					next, _ = webtest.Attr(l, "href")
				}
			}
			if next == "" {
				t.Fatal("no link to the next page")
			}
			second := items(t, mb.must(t, 200, "GET", next, nil).body)
			if len(second) != 7 || second[len(second)-1] != "Mehmet’s own news (unread)" {
				t.Errorf("second page: %q", second)
			}
		})

		t.Run("Anonymous", func(t *testing.T) {
			anon := newBrowser(n)
			for _, path := range []string{"/notifications", "/me/notifications", "/me/follows"} {
				a := anon.must(t, http.StatusSeeOther, "GET", path, nil, "/sign-in")
				if want := "/sign-in?back=" + url.QueryEscape(path); a.header.Get("Location") != want {
					t.Errorf("%s leads to %q, want %q", path, a.header.Get("Location"), want)
				}
			}
			for _, path := range []string{"/notifications/read-all", "/notifications/read", "/me/notifications", "/me/follows/unfollow"} {
				anon.must(t, http.StatusSeeOther, "POST", path, url.Values{"id": {"x"}, "subject": {"x"}}, "/sign-in")
			}
			if a := anon.must(t, 200, "GET", "/", nil); strings.Contains(a.body, "kv-notify") {
				t.Error("a visitor's navigation links to notifications")
			}
		})
	})
}

// checked is the delivery checked for kind on the preferences page ("" for none).
func checked(t *testing.T, body, kind string) string {
	t.Helper()
	for _, in := range webtest.Find([]*html.Node{webtest.ParseDocument(t, body)}, func(n *html.Node) bool {
		name, _ := webtest.Attr(n, "name")
		return n.DataAtom == atom.Input && name == "kind."+kind
	}) {
		if _, ok := webtest.Attr(in, "checked"); ok {
			v, _ := webtest.Attr(in, "value")
			return v
		}
	}
	return ""
}

func TestNotificationPages_Preferences(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, aino, mehmet := noticeCity(t, db)
		ab, mb := signIn(t, n, aino), signIn(t, n, mehmet)

		a := ab.must(t, 200, "GET", "/me/notifications", nil)
		doc := checkPage(t, a, "en")
		if got := checked(t, a.body, kindAnswered.Name) + " " + checked(t, a.body, kindTabled.Name); got != "immediately weekly" {
			t.Errorf("defaults checked: %q", got)
		}
		legends := webtest.Find([]*html.Node{doc}, tag(atom.Legend))
		if len(legends) != 2 || !strings.Contains(a.body, "The city answered a motion") || !strings.Contains(a.body, "If you choose nothing: Once a week, in one email") {
			t.Errorf("kinds not shown as fieldsets with their labels and defaults: %d legends", len(legends))
		}

		t.Run("RoundTrip", func(t *testing.T) {
			ab.must(t, http.StatusSeeOther, "POST", "/me/notifications", url.Values{"kind." + kindAnswered.Name: {"immediately"}, "kind." + kindTabled.Name: {"daily"}}, "/me/notifications")
			a := ab.must(t, 200, "GET", "/me/notifications", nil)
			if !strings.Contains(a.body, "Your notification settings are saved.") {
				t.Error("no message after saving")
			}
			if got := checked(t, a.body, kindTabled.Name); got != "daily" {
				t.Errorf("tabled = %q after saving daily", got)
			}
			if got := checked(t, mb.must(t, 200, "GET", "/me/notifications", nil).body, kindTabled.Name); got != "weekly" {
				t.Errorf("Mehmet's tabled = %q: Aino's choice reached him", got)
			}
		})

		t.Run("Refused", func(t *testing.T) {
			for _, form := range []url.Values{
				{"kind." + kindAnswered.Name: {"hourly"}, "kind." + kindTabled.Name: {"in_app"}},
				{"kind." + kindAnswered.Name: {"in_app", "daily"}, "kind." + kindTabled.Name: {"in_app"}},
				{"kind." + kindAnswered.Name: {"immediately\x00"}, "kind." + kindTabled.Name: {"in_app"}},
				{"kind.assemblies.nope": {"in_app"}, "kind." + kindTabled.Name: {"in_app"}},
			} {
				a := ab.do(t, "POST", "/me/notifications", form, nil)
				checkRefused(t, a, "en")
				if got := checked(t, ab.must(t, 200, "GET", "/me/notifications", nil).body, kindTabled.Name); got != "daily" {
					t.Errorf("%v: tabled = %q after a refused form, want daily unchanged", form, got)
				}
			}
			a := ab.do(t, "POST", "/me/notifications", url.Values{"kind." + kindAnswered.Name: {"hourly"}}, nil)
			checkRefused(t, a, "en", "Choose one of the four ways to hear about this")
			a = ab.do(t, "POST", "/me/notifications", url.Values{"kind.assemblies.nope": {"daily"}}, nil)
			checkRefused(t, a, "en", "no longer offered")
		})
	})
}

func TestNotificationPages_Follows(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, aino, mehmet := noticeCity(t, db)
		ab := signIn(t, n, aino)
		if err := n.Notifications.ChangeFollows(context.Background(), []core.FollowChange{
			{UserID: aino.id, Subject: "assemblies.motion:m1", Follow: true},
			{UserID: aino.id, Subject: "budgeting.cycle:c1", Follow: true},
			{UserID: mehmet.id, Subject: "parks.park:p1", Follow: true},
		}); err != nil {
			t.Fatal(err)
		}
		a := ab.must(t, 200, "GET", "/me/follows", nil)
		checkPage(t, a, "en")
		if !strings.Contains(a.body, "A motion") || !strings.Contains(a.body, "A participatory budgeting round") {
			t.Errorf("follows not named in words: %s", a.body)
		}
		if strings.Contains(a.body, "Events in a park") || strings.Contains(a.body, "parks.park:p1") {
			t.Error("Aino sees what Mehmet follows")
		}
		// Unfollowing Mehmet's subject changes nothing of his.
		ab.must(t, http.StatusSeeOther, "POST", "/me/follows/unfollow", url.Values{"subject": {"parks.park:p1"}}, "/me/follows")
		if !strings.Contains(signIn(t, n, mehmet).must(t, 200, "GET", "/me/follows", nil).body, "Events in a park") {
			t.Error("Aino's unfollow reached Mehmet's follow")
		}
		ab.must(t, http.StatusSeeOther, "POST", "/me/follows/unfollow", url.Values{"subject": {"assemblies.motion:m1"}}, "/me/follows")
		a = ab.must(t, 200, "GET", "/me/follows", nil)
		if strings.Contains(a.body, "A motion<") || !strings.Contains(a.body, "A participatory budgeting round") || !strings.Contains(a.body, "You no longer follow it.") {
			t.Errorf("after unfollowing the motion: %s", a.body)
		}
		ab.must(t, http.StatusSeeOther, "POST", "/me/follows/unfollow", url.Values{"subject": {"budgeting.cycle:c1"}}, "/me/follows")
		if a := ab.must(t, 200, "GET", "/me/follows", nil); !strings.Contains(a.body, "You do not follow anything yet.") {
			t.Error("no empty state after unfollowing everything")
		}
	})
}

func TestNotificationPages_Unsubscribe(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n, aino, mehmet := noticeCity(t, db)
		ab, mb := signIn(t, n, aino), signIn(t, n, mehmet)
		good := n.Notifications.UnsubscribeToken(aino.id, kindAnswered.Name)
		anon := newBrowser(n)
		deliveries := func() string {
			return checked(t, ab.must(t, 200, "GET", "/me/notifications", nil).body, kindAnswered.Name) + " " +
				checked(t, ab.must(t, 200, "GET", "/me/notifications", nil).body, kindTabled.Name) + " " +
				checked(t, mb.must(t, 200, "GET", "/me/notifications", nil).body, kindAnswered.Name)
		}
		const before = "immediately weekly immediately"

		// GET asks and changes nothing (mail scanners open links).
		a := anon.must(t, 200, "GET", "/unsubscribe?t="+url.QueryEscape(good), nil)
		checkPage(t, a, "en")
		if !strings.Contains(a.body, "You will no longer get email about: The city answered a motion.") {
			t.Errorf("the page does not say what stops: %s", a.body)
		}
		if got := deliveries(); got != before {
			t.Fatalf("GET changed deliveries: %q", got)
		}

		// Tampered, truncated or another's: a clear page, nothing changed, on GET and
		// on the one-click POST.
		parts := strings.Split(good, ".")
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		forged := []string{
			"", good[:len(good)-3], good + "x",
			enc(mehmet.id) + "." + parts[1] + "." + parts[2],       // another person
			parts[0] + "." + enc(kindTabled.Name) + "." + parts[2], // another kind
			n.Notifications.UnsubscribeToken(aino.id, kindAnswered.Name+"x")[:len(good)],
		}
		for _, tok := range forged {
			a := anon.do(t, "GET", "/unsubscribe?t="+url.QueryEscape(tok), nil, nil)
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, "This unsubscribe link does not work") {
				t.Errorf("GET forged %q = %d", tok, a.status)
			}
			a = anon.do(t, "POST", "/unsubscribe?t="+url.QueryEscape(tok), url.Values{"List-Unsubscribe": {"One-Click"}},
				map[string]string{"Origin": "https://mail.example.net", "Sec-Fetch-Site": "cross-site"})
			if a.status != http.StatusBadRequest {
				t.Errorf("POST forged %q = %d", tok, a.status)
			}
		}
		if got := deliveries(); got != before {
			t.Fatalf("forged links changed deliveries: %q", got)
		}

		// The one-click POST of a mail client: no cookie, another origin.
		a = anon.do(t, "POST", "/unsubscribe?t="+url.QueryEscape(good), url.Values{"List-Unsubscribe": {"One-Click"}},
			map[string]string{"Origin": "https://mail.example.net", "Sec-Fetch-Site": "cross-site"})
		if a.status != http.StatusOK || !strings.Contains(a.body, "You have unsubscribed") {
			t.Fatalf("one-click POST = %d: %s", a.status, a.body)
		}
		if got := deliveries(); got != "in_app weekly immediately" {
			t.Errorf("after the one-click POST: %q, want only Aino's answered in-app", got)
		}
		// Again: the same answer, nothing more changes.
		if a := anon.do(t, "POST", "/unsubscribe?t="+url.QueryEscape(good), nil, nil); a.status != http.StatusOK {
			t.Errorf("second POST = %d", a.status)
		}
		// Signed in as someone else changes nothing about whose link it is.
		mtok := n.Notifications.UnsubscribeToken(mehmet.id, kindAnswered.Name)
		ab.must(t, 200, "POST", "/unsubscribe?t="+url.QueryEscape(mtok), url.Values{})
		if got := deliveries(); got != "in_app weekly in_app" {
			t.Errorf("after Mehmet's link posted from Aino's browser: %q", got)
		}
		// A digest's link names the digest, in words.
		dtok := n.Notifications.UnsubscribeToken(aino.id, "digest.weekly")
		if a := anon.must(t, 200, "GET", "/unsubscribe?t="+url.QueryEscape(dtok), nil); !strings.Contains(a.body, "about: the weekly email with your notifications.") {
			t.Errorf("a weekly digest's link does not name it: %s", a.body)
		}
		anon.must(t, 200, "POST", "/unsubscribe?t="+url.QueryEscape(dtok), nil)
		if got := deliveries(); got != "in_app in_app in_app" {
			t.Errorf("after the weekly digest's link: %q, want Aino's weekly kind in-app", got)
		}

		t.Run("FromMail", func(t *testing.T) {
			// The link of a real notification mail, as its composer writes it, works on
			// this page: GET asks, the mail client's one-click POST acts.
			notify(t, n, "mail-1", kindTabled.Name, "A motion was tabled", "/assemblies/a1/motions/m2", mehmet.id)
			ids := hiddenIDs(t, mb.must(t, 200, "GET", "/notifications", nil).body)
			m, err := n.NotificationMail.Compose(context.Background(), core.QueuedMail{UserID: mehmet.id, Purpose: core.PurposeNotification, Ref: ids[0]})
			if err != nil {
				t.Fatal(err)
			}
			link, err := url.Parse(strings.Trim(m.Headers["List-Unsubscribe"], "<>"))
			if err != nil || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
				t.Fatalf("mail headers %v: %v", m.Headers, err)
			}
			if a := anon.must(t, 200, "GET", link.RequestURI(), nil); !strings.Contains(a.body, "about: A motion was tabled.") {
				t.Errorf("the mail's link does not name the kind: %s", a.body)
			}
			a := anon.do(t, "POST", link.RequestURI(), url.Values{"List-Unsubscribe": {"One-Click"}},
				map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"})
			if a.status != http.StatusOK {
				t.Fatalf("one-click POST of the mail's link = %d", a.status)
			}
			if got := checked(t, mb.must(t, 200, "GET", "/me/notifications", nil).body, kindTabled.Name); got != "in_app" {
				t.Errorf("Mehmet's tabled = %q after the mail's one-click link", got)
			}
		})
	})
}
