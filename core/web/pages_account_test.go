package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// browser is a browser without JavaScript against a real node: a cookie jar, form
// posts with the page's own Origin, every 303 seen.
type browser struct {
	base string
	c    *http.Client
}

func newBrowser(n *node.Node) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: n.URL(), c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(t *testing.T, method, path string, form url.Values, header map[string]string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "en")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(data)}
}

// must sends a request and fails unless the answer has status want (and, for a 303,
// leads to location).
func (b *browser) must(t *testing.T, want int, method, path string, form url.Values, location ...string) answer {
	t.Helper()
	a := b.do(t, method, path, form, nil)
	if a.status != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, a.status, want, a.body)
	}
	// "/sign-in" stands for the sign-in page with or without the way back.
	if got := a.header.Get("Location"); len(location) > 0 && got != location[0] && !(location[0] == "/sign-in" && strings.HasPrefix(got, "/sign-in?")) {
		t.Fatalf("%s %s leads to %q, want %q", method, path, a.header.Get("Location"), location[0])
	}
	return a
}

// person is an account opened through the identity service.
type person struct{ id, email, password, name string }

func newPerson(t *testing.T, n *node.Node, email, name string) person {
	t.Helper()
	p := person{email: email, password: "a long enough passphrase " + email, name: name}
	u, err := n.Identity.Register(context.Background(), core.Registration{Email: email, Password: p.password, DisplayName: name, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	p.id = u.ID
	return p
}

// signIn opens a browser signed in as p through the sign-in page.
func signIn(t *testing.T, n *node.Node, p person) *browser {
	t.Helper()
	b := newBrowser(n)
	b.must(t, http.StatusSeeOther, "POST", "/sign-in", url.Values{"email": {p.email}, "password": {p.password}}, "/")
	return b
}

func value(t *testing.T, body, id string) string {
	t.Helper()
	v, _ := webtest.Attr(webtest.ByID([]*html.Node{webtest.ParseDocument(t, body)}, id), "value")
	return v
}

// checkRefused holds a 422 to the form pattern: the summary takes focus and names
// each problem.
func checkRefused(t *testing.T, a answer, lang string, want ...string) {
	t.Helper()
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", a.status, a.body)
	}
	nodes := []*html.Node{checkPage(t, a, lang)}
	sum := webtest.ByID(nodes, "kv-error-summary")
	if sum == nil {
		t.Fatal("no error summary")
	}
	if _, ok := webtest.Attr(sum, "autofocus"); !ok {
		t.Error("the error summary does not take focus")
	}
	for _, w := range want {
		if !strings.Contains(webtest.Text(sum), w) {
			t.Errorf("summary %q lacks %q", webtest.Text(sum), w)
		}
	}
}

func TestPages_Profile(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		aino := newPerson(t, n, "aino@example.org", "Aino Ääninen")
		newPerson(t, n, "elif@example.org", "Elif Yılmaz")

		t.Run("ErrSignedOut", func(t *testing.T) {
			for _, path := range []string{"/profile", "/profile/password"} {
				newBrowser(n).must(t, http.StatusSeeOther, "GET", path, nil, "/sign-in")
			}
			newBrowser(n).must(t, http.StatusSeeOther, "POST", "/profile", url.Values{"display_name": {"X"}}, "/sign-in")
		})

		b := signIn(t, n, aino)
		t.Run("Form", func(t *testing.T) {
			a := b.must(t, 200, "GET", "/profile", nil)
			checkPage(t, a, "en")
			if v := value(t, a.body, "f-display_name"); v != aino.name {
				t.Errorf("name shown as %q", v)
			}
			if v := value(t, a.body, "f-email"); v != aino.email {
				t.Errorf("email shown as %q", v)
			}
			if !strings.Contains(a.body, `<option value="en" selected>English</option>`) {
				t.Error("the profile's language is not the one selected")
			}
		})
		t.Run("ErrRulesKeepValues", func(t *testing.T) {
			a := b.do(t, "POST", "/profile", url.Values{"display_name": {"Aino"}, "email": {"not-an-email"}, "language": {"en"}}, nil)
			checkRefused(t, a, "en", "Enter an email address")
			if v := value(t, a.body, "f-email"); v != "not-an-email" {
				t.Errorf("email kept as %q", v)
			}
			a = b.do(t, "POST", "/profile", url.Values{"display_name": {"  "}, "email": {aino.email}, "language": {"en"}}, nil)
			checkRefused(t, a, "en", "Fill in this field")
			a = b.do(t, "POST", "/profile", url.Values{"display_name": {"Aino"}, "email": {"ELIF@example.org"}, "language": {"en"}, "current_password": {aino.password}}, nil)
			checkRefused(t, a, "en", "Another account already uses this email address")
			// A new address needs the current password: a borrowed session cannot move it.
			a = b.do(t, "POST", "/profile", url.Values{"display_name": {"Aino"}, "email": {"mallory@example.org"}, "language": {"en"}}, nil)
			checkRefused(t, a, "en", "Enter your current password to change your email address")
			a = b.do(t, "POST", "/profile", url.Values{"display_name": {"Aino"}, "email": {"mallory@example.org"}, "language": {"en"}, "current_password": {"guessing at it"}}, nil)
			checkRefused(t, a, "en", "The current password is incorrect")
			if strings.Contains(a.body, "guessing at it") {
				t.Error("the password was sent back to the browser")
			}
			if v := value(t, a.body, "f-email"); v != "mallory@example.org" {
				t.Errorf("email kept as %q", v)
			}
			a = b.do(t, "POST", "/profile", url.Values{"display_name": {"Aino"}, "email": {aino.email}, "language": {"xx"}}, nil)
			checkRefused(t, a, "en")
			me, _ := n.Identity.Authenticate(context.Background(), sessionOf(t, b))
			if me.DisplayName != aino.name || me.Locale != "en" {
				t.Errorf("a refused form changed the profile: %+v", me)
			}
		})
		t.Run("OK", func(t *testing.T) {
			b.must(t, http.StatusSeeOther, "POST", "/profile", url.Values{"display_name": {"Aino Å."}, "email": {"aino.a@example.org"}, "language": {"fi"}, "current_password": {aino.password}}, "/profile")
			// The next page is in the profile's language, whatever the browser asks for,
			// and the header shows the new name; the flash says it was saved.
			a := b.must(t, 200, "GET", "/profile", nil)
			doc := checkPage(t, a, "fi")
			if !strings.Contains(webtest.Text(doc), "Kirjautuneena: Aino Å.") || !strings.Contains(webtest.Text(doc), "Muutokset on tallennettu.") {
				t.Errorf("page after saving: %s", webtest.Text(doc))
			}
			aino.email = "aino.a@example.org"
			signIn(t, n, aino) // the new address signs in
		})
		t.Run("SwitcherSavesTheProfileLanguage", func(t *testing.T) {
			b.must(t, http.StatusSeeOther, "POST", "/language", url.Values{"lang": {"sv"}, "back": {"/profile"}}, "/profile")
			checkPage(t, b.must(t, 200, "GET", "/profile", nil), "sv")
			// A fresh browser, with no language cookie, follows the profile.
			checkPage(t, signIn(t, n, aino).must(t, 200, "GET", "/", nil), "sv")
		})
		t.Run("ErrCrossSite", func(t *testing.T) {
			a := b.do(t, "POST", "/profile", url.Values{"display_name": {"Mallory"}, "email": {"mallory@example.org"}, "language": {"en"}},
				map[string]string{"Origin": "https://evil.example"})
			if a.status != http.StatusForbidden {
				t.Fatalf("cross-site profile post = %d, want 403", a.status)
			}
			me, _ := n.Identity.Authenticate(context.Background(), sessionOf(t, b))
			if me.DisplayName != "Aino Å." {
				t.Errorf("a cross-site post changed the name to %q", me.DisplayName)
			}
		})
	})
}

// sessionOf is the session token in b's cookie jar.
func sessionOf(t *testing.T, b *browser) string {
	t.Helper()
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "kvarter_session" {
			return c.Value
		}
	}
	t.Fatal("not signed in")
	return ""
}

func TestPages_Password(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		aino := newPerson(t, n, "aino@example.org", "Aino Ääninen")
		here, there := signIn(t, n, aino), signIn(t, n, aino)
		checkPage(t, here.must(t, 200, "GET", "/profile/password", nil), "en")

		t.Run("ErrWrongCurrent", func(t *testing.T) {
			a := here.do(t, "POST", "/profile/password", url.Values{"current_password": {"not my password"}, "new_password": {"a brand new passphrase"}}, nil)
			checkRefused(t, a, "en", "The current password is incorrect")
			if strings.Contains(a.body, "not my password") || strings.Contains(a.body, "a brand new passphrase") {
				t.Error("a password was sent back to the browser")
			}
		})
		t.Run("ErrWeakOrEmpty", func(t *testing.T) {
			a := here.do(t, "POST", "/profile/password", url.Values{"current_password": {aino.password}, "new_password": {"aino"}}, nil)
			checkRefused(t, a, "en", "at least 10 characters")
			a = here.do(t, "POST", "/profile/password", url.Values{}, map[string]string{"Accept-Language": "tr"})
			checkRefused(t, a, "en", "Fill in this field") // the profile's language, not the browser's
		})
		t.Run("OK", func(t *testing.T) {
			here.must(t, http.StatusSeeOther, "POST", "/profile/password", url.Values{"current_password": {aino.password}, "new_password": {"a brand new passphrase"}}, "/profile")
			if a := here.must(t, 200, "GET", "/profile", nil); !strings.Contains(a.body, "signed out on your other devices") {
				t.Error("no flash after the change")
			}
			// The other browser is signed out; the old password no longer signs in.
			there.must(t, http.StatusSeeOther, "GET", "/profile", nil, "/sign-in")
			if a := newBrowser(n).do(t, "POST", "/sign-in", url.Values{"email": {aino.email}, "password": {aino.password}}, nil); a.status != 422 {
				t.Errorf("the old password signs in: %d", a.status)
			}
			aino.password = "a brand new passphrase"
			signIn(t, n, aino)
		})
		t.Run("ErrCrossSite", func(t *testing.T) {
			a := here.do(t, "POST", "/profile/password", url.Values{"current_password": {aino.password}, "new_password": {"mallory's own passphrase"}},
				map[string]string{"Sec-Fetch-Site": "cross-site"})
			if a.status != http.StatusForbidden {
				t.Fatalf("cross-site password post = %d, want 403", a.status)
			}
			signIn(t, n, aino) // still the password set above
		})
		t.Run("ErrThrottled", func(t *testing.T) {
			for i := 0; ; i++ {
				a := here.do(t, "POST", "/profile/password", url.Values{"current_password": {"guess number " + string(rune('a'+i))}, "new_password": {"mallory's own passphrase"}}, nil)
				if a.status == http.StatusTooManyRequests {
					checkPage(t, a, "en")
					if !strings.Contains(a.body, "typed wrong too many times") {
						t.Error("the refusal is not explained")
					}
					break
				}
				if a.status != http.StatusUnprocessableEntity || i >= 5 {
					t.Fatalf("guess %d = %d, want 422 and at most 5 of them, then 429", i, a.status)
				}
			}
		})
	})
}

// UpdateProfile lets the fake identity of web_test.go take the switcher's saving of
// a signed-in person's language; it keeps nothing.
func (f *identity) UpdateProfile(_ context.Context, u core.ProfileUpdate) (*core.User, error) {
	return &core.User{ID: "u1", DisplayName: "Aino Ääninen", Language: *u.Language}, nil
}
