package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/web"
)

// notices is a fake notification service for the pages' markup in every language and
// the cross-origin rule of the unsubscribe link; notifications_test.go tests the pages
// on the real service and both databases.
type notices struct {
	mu           sync.Mutex
	unsubscribed []string
}

var motionAnswered = core.NotificationKind{Name: "assemblies.motion.answered", Source: "assemblies", Default: core.DeliverImmediately,
	Labels: map[string]string{"en": "The city answered a motion", "fi": "Kaupunki vastasi aloitteeseen", "sv": "Staden svarade på en motion",
		"da": "Kommunen svarede på et forslag", "tr": "Belediye bir önergeyi yanıtladı"}}

func (f *notices) Notifications(context.Context, core.Page) ([]core.Notification, string, error) {
	read := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return []core.Notification{
		{ID: "n2", Kind: motionAnswered.Name, Link: "/assemblies/a1/motions/m1", Title: "Kent answered “More benches”",
			Body: "The city will place six benches.\n\nWork starts in May.", Created: time.Date(2026, 3, 3, 15, 4, 0, 0, time.UTC)},
		{ID: "n1", Kind: motionAnswered.Name, Title: "Vote opened", Body: "Vote by Friday.", Created: read, ReadAt: &read},
	}, "next-page", nil
}

func (f *notices) UnreadCount(context.Context) (int, error) { return 3, nil }
func (f *notices) MarkRead(context.Context, []string) error { return nil }
func (f *notices) MarkAllRead(context.Context) error        { return nil }

func (f *notices) Preferences(context.Context) ([]core.NotificationPreference, error) {
	return []core.NotificationPreference{{Kind: motionAnswered, Delivery: core.DeliverImmediately}}, nil
}

func (f *notices) SetPreferences(context.Context, map[string]core.Delivery) error { return nil }

func (f *notices) Follows(context.Context, core.Page) ([]core.Follow, string, error) {
	return []core.Follow{{Subject: "assemblies.motion:m1", Created: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}, "", nil
}

func (f *notices) Unfollow(context.Context, string) error { return nil }

func (f *notices) UnsubscribeToken(userID, kind string) string {
	return "signed:" + userID + ":" + kind
}

func (f *notices) Unsubscribe(_ context.Context, token string) (core.NotificationKind, error) {
	if token != "signed:u1:"+motionAnswered.Name {
		return core.NotificationKind{}, core.Errorf(core.EINVALID, "The link is not valid.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unsubscribed = append(f.unsubscribed, token)
	return motionAnswered, nil
}

func newNoticeSite(t *testing.T) (*site, *notices) {
	t.Helper()
	id, n := &identity{}, &notices{}
	p, err := web.New(web.Services{Identity: id, Neighbourhoods: hoods{}, Notifications: n}, web.Options{CityName: "Helsinki", Languages: langs})
	if err != nil {
		t.Fatal(err)
	}
	s := &site{Server: httptest.NewServer(p), id: id}
	t.Cleanup(s.Close)
	return s, n
}

// TestNotificationPages_EveryLanguage draws the four pages, and the unsubscribe
// page's answers, in all five languages and holds each to the frame's rules and the
// markup checks (labels, fieldsets, headings, no message ids shown).
func TestNotificationPages_EveryLanguage(t *testing.T) {
	s, _ := newNoticeSite(t)
	signedIn := map[string]string{"Cookie": web.SessionCookie + "=" + token}
	pages := []struct {
		method, path string
		form         url.Values
		header       map[string]string
		status       int
		want         []string
	}{
		{"GET", "/notifications", nil, signedIn, 200, []string{"More benches", "Work starts in May.", "cursor=next-page"}},
		{"GET", "/me/notifications", nil, signedIn, 200, nil},
		{"POST", "/me/notifications", url.Values{"kind.assemblies.motion.answered": {"hourly"}}, signedIn, 422, nil},
		{"GET", "/me/follows", nil, signedIn, 200, nil},
		{"GET", "/unsubscribe?t=signed:u1:assemblies.motion.answered", nil, nil, 200, nil},
		{"GET", "/unsubscribe?t=forged", nil, nil, 200, nil}, // the fake cannot check before it acts
		{"POST", "/unsubscribe?t=signed:u1:assemblies.motion.answered", url.Values{"List-Unsubscribe": {"One-Click"}}, nil, 200, nil},
		{"POST", "/unsubscribe?t=forged", url.Values{"List-Unsubscribe": {"One-Click"}}, nil, 400, nil},
	}
	for _, lang := range langs {
		for _, pg := range pages {
			t.Run(lang+" "+pg.method+" "+pg.path, func(t *testing.T) {
				h := map[string]string{"Accept-Language": lang, "Origin": s.URL}
				for k, v := range pg.header {
					h[k] = v
				}
				a := s.do(t, pg.method, pg.path, pg.form, h)
				if a.status != pg.status {
					t.Fatalf("status %d, want %d: %s", a.status, pg.status, a.body)
				}
				checkPage(t, a, lang)
				for _, w := range pg.want {
					if !strings.Contains(a.body, w) {
						t.Errorf("page lacks %q", w)
					}
				}
				if pg.path == "/me/notifications" && !strings.Contains(a.body, motionAnswered.Labels[lang]) {
					t.Errorf("the kind's label in %s is missing", lang)
				}
			})
		}
	}
}

// TestNotificationPages_CrossOrigin: a mail client's one-click POST (another site's
// origin, no cookie, no token in a form) unsubscribes; that exemption is the
// unsubscribe path's alone — every other unsafe route, near names included, still
// refuses a cross-site POST and changes nothing.
func TestNotificationPages_CrossOrigin(t *testing.T) {
	s, n := newNoticeSite(t)
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://mail.example.net"}
	a := s.do(t, "POST", "/unsubscribe?t=signed:u1:assemblies.motion.answered", url.Values{"List-Unsubscribe": {"One-Click"}}, crossSite)
	if a.status != http.StatusOK || len(n.unsubscribed) != 1 {
		t.Fatalf("one-click POST = %d, unsubscribed %v", a.status, n.unsubscribed)
	}
	withCookie := map[string]string{"Cookie": web.SessionCookie + "=" + token}
	for k, v := range crossSite {
		withCookie[k] = v
	}
	for _, path := range []string{"/notifications/read-all", "/notifications/read", "/me/notifications", "/me/follows/unfollow",
		"/unsubscribe/", "/unsubscribe/x", "/unsubscribeX", "//unsubscribe", "/sign-out", "/language"} {
		a := s.do(t, "POST", path+"?t=signed:u1:assemblies.motion.answered", url.Values{"id": {"n1"}}, withCookie)
		if a.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s = %d, want 403", path, a.status)
		}
	}
	for _, method := range []string{"PUT", "DELETE", "PATCH"} {
		if a := s.do(t, method, "/unsubscribe?t=signed:u1:assemblies.motion.answered", nil, crossSite); a.status != http.StatusForbidden {
			t.Errorf("cross-site %s /unsubscribe = %d, want 403", method, a.status)
		}
	}
	if len(n.unsubscribed) != 1 {
		t.Errorf("refused requests unsubscribed: %v", n.unsubscribed)
	}
}
