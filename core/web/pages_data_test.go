package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/web"
)

// TestPages_Data downloads the export through the page's link and deletes the account
// through its form, attacking the deletion: without the confirmation, or from another
// site, nothing is deleted.
func TestPages_Data(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		aino := newPerson(t, n, "aino@example.org", "Aino Ääninen")
		newBrowser(n).must(t, http.StatusSeeOther, "GET", "/me/data", nil, "/sign-in")

		b := signIn(t, n, aino)
		a := b.must(t, 200, "GET", "/me/data", nil)
		checkPage(t, a, "en")
		for _, want := range []string{`href="/api/v1/me/export"`, "Kept without your name", "a former member", "Kept by law"} {
			if !strings.Contains(a.body, want) {
				t.Errorf("the data page lacks %q", want)
			}
		}
		// The link: the browser's cookie downloads the whole export as a file.
		dl := b.must(t, 200, "GET", "/api/v1/me/export", nil)
		var doc map[string]any
		if err := json.Unmarshal([]byte(dl.body), &doc); err != nil || doc["user"] == nil || doc["plugins"] == nil || doc["readme"] == nil {
			t.Errorf("export via the page's link: %v %.200s", err, dl.body)
		}
		if cd := dl.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("the export is not a download: Content-Disposition %q", cd)
		}

		stillThere := func(t *testing.T) {
			t.Helper()
			if _, err := n.Identity.Login(context.Background(), core.LoginAttempt{Email: aino.email, Password: aino.password, ClientIP: "127.0.0.1"}); err != nil {
				t.Fatalf("the account is gone: %v", err)
			}
		}
		t.Run("ErrNotConfirmed", func(t *testing.T) {
			checkRefused(t, b.do(t, "POST", "/me/data/delete", url.Values{}, nil), "en", "Tick the box")
			checkRefused(t, b.do(t, "POST", "/me/data/delete", url.Values{"confirm": {"maybe"}}, nil), "en")
			stillThere(t)
		})
		t.Run("ErrCrossSite", func(t *testing.T) {
			a := b.do(t, "POST", "/me/data/delete", url.Values{"confirm": {"yes"}}, map[string]string{"Origin": "https://evil.example"})
			if a.status != http.StatusForbidden {
				t.Errorf("a deletion posted from another site answered %d", a.status)
			}
			stillThere(t)
		})
		t.Run("Delete", func(t *testing.T) {
			a := b.must(t, http.StatusSeeOther, "POST", "/me/data/delete", url.Values{"confirm": {"yes"}}, "/")
			if c := cookieOf(a, web.SessionCookie); c == nil || c.Value != "" && c.MaxAge >= 0 {
				t.Errorf("the session cookie was not cleared: %+v", c)
			}
			home := b.must(t, 200, "GET", "/", nil)
			if !strings.Contains(home.body, "Your account has been deleted.") || strings.Contains(home.body, aino.name) {
				t.Errorf("after deletion the home page says: %s", home.body)
			}
			if _, err := n.Identity.Login(context.Background(), core.LoginAttempt{Email: aino.email, Password: aino.password, ClientIP: "127.0.0.1"}); err == nil {
				t.Error("the deleted account still signs in")
			}
		})
	})
}
