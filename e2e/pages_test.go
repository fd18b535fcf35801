package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

// languages are the city's: every page is checked in each.
var languages = []string{"en", "fi", "sv", "da", "tr"}

// TestCorePages opens the core's pages in a real browser in every language, as an
// anonymous visitor, a signed-in resident, a neighbourhood's coordinator and a city
// admin, and fails on any serious or critical
// axe finding under WCAG 2.0–2.2 A/AA, any CSP violation, broken asset or script error
// (the harness checks those when each page closes) — on load, after a validation error
// and after an htmx swap of <main>.
func TestCorePages(t *testing.T) {
	db := coretest.Databases(t)[0] // the pages are the same on both databases; the API tests cover PostgreSQL
	n := coretest.StartNode(t, db.Config, coretest.Options())
	base := n.URL()
	admin := coretest.Admin(t, n, "admin@city.example")
	nbh := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Karşıyaka"}).JSON()["id"].(string)
	ayse := coretest.Register(t, n, "ayse@example.org", "Ayşe Yılmaz")
	ayse.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", map[string]string{"note": "Cemal Gürsel Cd. 12"})
	coord := coretest.Register(t, n, "ceren@example.org", "Ceren Aydın")
	admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": coord.ID, "role": "coordinator", "domain": "nbh:" + nbh})
	rep := coretest.Register(t, n, "deniz@example.org", "Deniz Kaya")
	org := rep.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": "Karşıyaka Gönüllüleri", "kind": "association", "neighbourhood_ids": []string{nbh}}).JSON()["id"].(string)

	unsubscribe := notifications(t, n, ayse.ID)

	anonymous := []string{"/", "/sign-in", "/register", "/accessibility", "/privacy", "/neighbourhoods/" + nbh, "/no-such-page",
		"/password/forgot", "/password/reset?t=from-a-mail", "/verify-email?t=from-a-mail", unsubscribe}
	resident := []string{"/", "/profile", "/profile/password", "/my-neighbourhood", "/notifications", "/me/notifications", "/me/follows", "/me/tokens", "/me/data"}
	coordinator := []string{"/neighbourhoods/" + nbh + "/requests", "/neighbourhoods/" + nbh + "/requests/" + ayse.ID + "/reject",
		"/neighbourhoods/" + nbh + "/members", "/neighbourhoods/" + nbh + "/organisations"}
	cityAdmin := []string{"/admin", "/admin/users?q=example.org", "/admin/users/" + ayse.ID, "/admin/grants", "/admin/grants?domain=nbh:" + nbh,
		"/admin/audit", "/admin/neighbourhoods", "/admin/neighbourhoods/" + nbh, "/admin/organisations", "/admin/organisations/" + org,
		"/admin/plugins", "/admin/mail"}

	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			p := SharedBrowser(t).NewPage(t)
			p.Open(base + "/")
			switchLanguage(p, lang)

			for _, path := range anonymous {
				p.Open(base + path)
				if got := Eval[string](p, "document.documentElement.lang"); got != lang {
					t.Errorf("%s: <html lang=%q>, want %q", path, got, lang)
				}
				p.AssertAccessible()
			}

			// A broken rule: the form comes back with the error summary, which takes focus.
			p.Open(base + "/sign-in")
			p.WaitLoad(func() { p.Submit("main form") })
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a refused sign-in the focus is on %q, want the error summary", got)
			}
			p.AssertAccessible()

			// A mailed link that no longer works: the refusal, in the error summary.
			for _, page := range []string{"/verify-email?t=used-or-expired", "/password/reset?t=used-or-expired"} {
				p.Open(base + page)
				if page == "/password/reset?t=used-or-expired" {
					Eval[string](p, `document.getElementById("f-new_password").value = "a long enough new passphrase"; ""`)
				}
				p.WaitSwap(func() { p.Submit("main form") }) // htmx swaps the 422's <main>
				if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
					t.Errorf("%s refused: the focus is on %q, want the error summary", page, got)
				}
				p.AssertAccessible()
			}

			// An htmx swap of <main>: a boosted link inside it.
			p.Open(base + "/sign-in")
			p.WaitSwap(func() { p.Click(`main a[href="/register"]`) })
			if !strings.Contains(p.Location(), "/register") {
				t.Errorf("after the swap the address is %s, want /register", p.Location())
			}
			p.AssertAccessible()

			// Signed in: a resident, then a coordinator of the neighbourhood.
			for _, who := range []struct {
				user  *coretest.User
				name  string
				pages []string
			}{{ayse, "Ayşe Yılmaz", resident}, {coord, "Ceren Aydın", coordinator}, {admin, "Admin admin@city.example", cityAdmin}} {
				signIn(p, base, who.user)
				switchLanguage(p, lang) // a signed-in person's choice goes to their profile
				for _, path := range who.pages {
					p.Open(base + path)
					if txt := Eval[string](p, "document.body.innerText"); !strings.Contains(txt, who.name) {
						t.Errorf("%s does not show the signed-in name %s", path, who.name)
					}
					if got := Eval[string](p, "document.documentElement.lang"); got != lang {
						t.Errorf("%s signed in: <html lang=%q>, want %q", path, got, lang)
					}
					p.AssertAccessible()
				}
				if who.user == ayse {
					// Marking a notification read through htmx: the list swapped into
					// <main>, the count in the header swapped out of band.
					notify(t, n, "e2e-"+lang, ayse.ID)
					p.Open(base + "/notifications")
					p.WaitSwap(func() { p.Submit(`form[action="/notifications/read"]`) })
					if txt := Eval[string](p, "document.querySelector('main').innerText"); !strings.Contains(txt, "Kent answered") {
						t.Errorf("after marking read the list is gone: %q", txt)
					}
					p.AssertAccessible()

					// A new API token, shown once in <main> with the focus on it.
					p.Open(base + "/me/tokens")
					p.Fill("#f-name", "Pano "+lang)
					p.WaitSwap(func() { p.Submit(`form[action="/me/tokens"]`) })
					if got := focusSettled(p, "new-token"); !strings.Contains(got, "new-token") {
						t.Errorf("after making a token the focus is on %q, want the new token", got)
					}
					p.AssertAccessible()
				}
				if who.user == admin {
					// A refused form inside <main>, swapped in by htmx: a neighbourhood
					// without a name.
					p.Open(base + "/admin/neighbourhoods")
					p.WaitSwap(func() { p.Submit(`form[action="/admin/neighbourhoods"]`) })
					if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
						t.Errorf("after a refused neighbourhood the focus is on %q, want the error summary", got)
					}
					p.AssertAccessible()
				}
				p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
			}
		})
	}
}

// notifications gives the person notifications (one with a link to its item, one
// read), a kind to choose deliveries for and a followed motion, as the assemblies would
// through the node's sink, and returns the path of their one-click unsubscribe link.
func notifications(t *testing.T, n *node.Node, userID string) string {
	t.Helper()
	kind := core.NotificationKind{Name: "assemblies.motion.answered", Default: core.DeliverImmediately, Labels: map[string]string{
		"en": "The city answered a motion", "fi": "Kaupunki vastasi aloitteeseen", "sv": "Staden svarade på en motion",
		"da": "Kommunen svarede på et forslag", "tr": "Belediye bir önergeyi yanıtladı"}}
	n.Notifications.DeclareKinds("assemblies", []core.NotificationKind{kind})
	notify(t, n, "e2e-first", userID)
	if err := n.Notifications.ChangeFollows(context.Background(), []core.FollowChange{{UserID: userID, Subject: "assemblies.motion:m1", Follow: true}}); err != nil {
		t.Fatal(err)
	}
	return "/unsubscribe?t=" + url.QueryEscape(n.Notifications.UnsubscribeToken(userID, kind.Name))
}

// notify sends the person the city's answer to a motion, once per id.
func notify(t *testing.T, n *node.Node, id, userID string) {
	t.Helper()
	err := n.Notifications.Notify(context.Background(), []core.NotificationRequest{{ID: id, Kind: "assemblies.motion.answered", Source: "assemblies",
		Recipients: []string{userID}, Subject: "assemblies.motion:m1", Link: "/assemblies/a1/motions/m1", OccurredAt: time.Now(),
		Texts: map[string]core.NotificationText{"en": {Title: "Kent answered “More benches”", Body: "The city will place six benches.\n\nWork starts in May."}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// focusSettled is the focused element once it names want, or after the browser had
// two seconds to apply autofocus (it does so after the load event, in its own time).
func focusSettled(p *Page, want string) string {
	got := p.Focused()
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(got, want) && time.Now().Before(deadline); got = p.Focused() {
		time.Sleep(20 * time.Millisecond)
	}
	return got
}

// signIn signs u in through the sign-in page's form.
func signIn(p *Page, base string, u *coretest.User) {
	p.Open(base + "/sign-in")
	p.Fill(`input[name="email"]`, u.Email)
	p.Fill(`input[name="password"]`, u.Password)
	p.WaitLoad(func() { p.Submit("main form") })
}

// switchLanguage uses the frame's language switcher, a plain form.
func switchLanguage(p *Page, lang string) {
	p.WaitLoad(func() { p.Click(fmt.Sprintf(`form.kv-languages button[value=%q]`, lang)) })
}

// TestCorePages_Reflow lays the core's pages out on a 320 CSS px phone and at 400 %
// zoom (WCAG 1.4.10), in Finnish, whose long compound words are the first to stick
// out, as a visitor and as a city admin (the widest pages: tables and forms).
func TestCorePages_Reflow(t *testing.T) {
	db := coretest.Databases(t)[0]
	n := coretest.StartNode(t, db.Config, coretest.Options())
	base := n.URL()
	admin := coretest.Admin(t, n, "admin@city.example")
	nbh := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Karşıyaka"}).JSON()["id"].(string)
	ayse := coretest.Register(t, n, "ayse.yilmaz.karsiyaka@example.org", "Ayşe Yılmaz")
	ayse.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", map[string]string{"note": "Cemal Gürsel Cd. 12"})

	p := SharedBrowser(t).NewPage(t)
	p.Open(base + "/")
	switchLanguage(p, "fi")
	visitor := []string{"/", "/sign-in", "/register", "/accessibility", "/privacy", "/neighbourhoods/" + nbh, "/password/forgot", "/password/reset?t=x", "/verify-email?t=x"}
	admins := []string{"/admin", "/admin/users?q=example.org", "/admin/users/" + ayse.ID, "/admin/grants", "/admin/audit",
		"/admin/neighbourhoods", "/admin/neighbourhoods/" + nbh, "/admin/organisations", "/admin/plugins", "/admin/mail",
		"/neighbourhoods/" + nbh + "/requests", "/profile", "/notifications", "/me/notifications", "/me/follows"}
	visitor = append(visitor, notifications(t, n, admin.ID))
	check := func(paths []string) {
		for _, path := range paths {
			for _, view := range []struct {
				name string
				set  func(p *Page)
			}{{"320px", (*Page).Phone320}, {"zoom400", (*Page).Zoom400}} {
				p.Open(base + path)
				view.set(p)
				if err := p.Reflow().Err(); err != nil {
					t.Errorf("%s at %s: %v", path, view.name, err)
				}
			}
			p.Viewport(1280, 1024, 1, false)
		}
	}
	check(visitor)
	signIn(p, base, admin)
	check(admins)
}
