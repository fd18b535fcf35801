package httpapi_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/web"
	"github.com/kvarter/kvarter/core/web/static"
)

// browser is a plain HTTP client with cookies that does not follow redirects, so
// each 303 is seen: a browser without JavaScript.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base) // as a browser sends with a form post
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(data)}
}

func (b *browser) must(want int, method, path string, form url.Values) page {
	b.t.Helper()
	p := b.do(method, path, form, map[string]string{"Accept-Language": "en"})
	if p.status != want {
		b.t.Fatalf("%s %s = %d, want %d: %s", method, path, p.status, want, p.body)
	}
	if p.header.Get("Content-Security-Policy") != web.CSP || p.header.Get("X-Content-Type-Options") != "nosniff" {
		b.t.Errorf("%s %s: security headers missing: %v", method, path, p.header)
	}
	return p
}

// TestPages_NoJSFlow: register, sign in, see the name on the home page, sign out —
// with plain form posts and cookies, on every database.
func TestPages_NoJSFlow(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		b := newBrowser(t, "http://"+n.Addr().String())

		home := b.must(200, "GET", "/", nil)
		if !strings.Contains(home.header.Get("Content-Type"), "text/html") || !strings.Contains(home.body, `<html lang="en">`) {
			t.Fatalf("GET / is not the home page: %s", home.body)
		}
		// A rule broken: 422, the values kept, the password not.
		bad := b.must(422, "POST", "/register", url.Values{"display_name": {"Sanna Virtanen"}, "email": {"sanna@example.org"}, "password": {"password"}})
		if !strings.Contains(bad.body, `value="sanna@example.org"`) || !strings.Contains(bad.body, `value="Sanna Virtanen"`) || strings.Contains(bad.body, `value="password"`) {
			t.Errorf("422 did not keep the values (or sent the password back): %s", bad.body)
		}
		if !strings.Contains(bad.body, `id="kv-error-summary" autofocus`) {
			t.Error("the error summary does not take focus")
		}
		reg := b.must(303, "POST", "/register", url.Values{"display_name": {"Sanna Virtanen"}, "email": {"sanna@example.org"}, "password": {"a quiet morning by the sea"}})
		if reg.header.Get("Location") != "/sign-in" {
			t.Fatalf("register leads to %q", reg.header.Get("Location"))
		}
		if p := b.must(200, "GET", "/sign-in", nil); !strings.Contains(p.body, "We sent a mail to the address you gave") {
			t.Error("no flash after registering")
		}
		b.must(422, "POST", "/sign-in", url.Values{"email": {"sanna@example.org"}, "password": {"wrong guess at it"}})
		// Sign-in leads back to the page that asked for it, and never off the site.
		if p := b.must(200, "GET", "/sign-in?back=/my-neighbourhood", nil); !strings.Contains(p.body, `action="/sign-in?back=%2fmy-neighbourhood"`) {
			t.Errorf("the sign-in form does not keep ?back=: %s", p.body)
		}
		for back, want := range map[string]string{"/my-neighbourhood": "/my-neighbourhood", "//evil.example/x": "/", "https://evil.example/": "/"} {
			in := b.must(303, "POST", "/sign-in?back="+url.QueryEscape(back), url.Values{"email": {"sanna@example.org"}, "password": {"a quiet morning by the sea"}})
			if got := in.header.Get("Location"); got != want {
				t.Errorf("sign-in with back=%s leads to %q, want %q", back, got, want)
			}
		}
		in := b.must(303, "POST", "/sign-in", url.Values{"email": {"sanna@example.org"}, "password": {"a quiet morning by the sea"}})
		var session *http.Cookie
		for _, c := range (&http.Response{Header: in.header}).Cookies() {
			if c.Name == "kvarter_session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie = %+v", session)
		}
		home = b.must(200, "GET", "/", nil)
		if !strings.Contains(home.body, "Sanna Virtanen") || home.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("home does not show the signed-in name (or may be cached): %s", home.body)
		}
		// The page session is the API's: the same cookie reads /api/v1/me.
		if me := b.do("GET", "/api/v1/me", nil, nil); me.status != 200 || !strings.Contains(me.body, "Sanna Virtanen") {
			t.Errorf("GET /api/v1/me with the page's cookie = %d %s", me.status, me.body)
		}
		// A cross-site form cannot sign the person out.
		if p := b.do("POST", "/sign-out", url.Values{}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); p.status != 403 {
			t.Fatalf("cross-site sign-out = %d, want 403", p.status)
		}
		if !strings.Contains(b.must(200, "GET", "/", nil).body, "Sanna Virtanen") {
			t.Fatal("a cross-site post signed the person out")
		}
		b.must(303, "POST", "/sign-out", url.Values{})
		home = b.must(200, "GET", "/", nil)
		if strings.Contains(home.body, "Sanna Virtanen") || !strings.Contains(home.body, "You have signed out.") {
			t.Fatalf("after signing out: %s", home.body)
		}
		// The old session is over for the API too.
		if me := b.do("GET", "/api/v1/me", nil, map[string]string{"Cookie": "kvarter_session=" + session.Value}); me.status != 401 {
			t.Errorf("GET /api/v1/me with the ended session = %d", me.status)
		}
	})
}

// TestPages_CrossSiteRegister: a form posted from another site is refused and opens
// no account.
func TestPages_CrossSiteRegister(t *testing.T) {
	n := coretest.StartNode(t, coretest.Databases(t)[0].Config, coretest.Options())
	b := newBrowser(t, "http://"+n.Addr().String())
	form := url.Values{"display_name": {"Mallory"}, "email": {"mallory@example.org"}, "password": {"a quiet morning by the sea"}}
	if p := b.do("POST", "/register", form, map[string]string{"Origin": "https://evil.example"}); p.status != 403 || !strings.Contains(p.body, "<html") {
		t.Fatalf("cross-site register = %d", p.status)
	}
	// Nothing changed: the account does not exist, so it cannot sign in.
	if p := b.do("POST", "/sign-in", url.Values{"email": {"mallory@example.org"}, "password": {"a quiet morning by the sea"}}, nil); p.status != 422 {
		t.Fatalf("sign-in after a refused register = %d, want 422", p.status)
	}
}

// TestPages_APIStaysJSON: the pages take every path but /api/..., whose unknown
// paths still answer the API's JSON 404.
func TestPages_APIStaysJSON(t *testing.T) {
	n := coretest.StartNode(t, coretest.Databases(t)[0].Config, coretest.Options())
	b := newBrowser(t, "http://"+n.Addr().String())
	for _, path := range []string{"/api/v1/no-such-route", "/api/v2/x", "/api"} {
		p := b.do("GET", path, nil, nil)
		if p.status != 404 || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") || !strings.Contains(p.body, `"not_found"`) {
			t.Errorf("GET %s = %d %s %s, want the API's JSON 404", path, p.status, p.header.Get("Content-Type"), p.body)
		}
	}
	// The node passes the city's languages (en, fi, sv, da, tr by default) to the
	// pages: a Turkish visitor's 404 is in Turkish. core/web's tests cover negotiation.
	p := b.do("GET", "/no-such-page", nil, map[string]string{"Accept-Language": "tr"})
	if p.status != 404 || !strings.Contains(p.body, `<html lang="tr">`) || strings.Contains(p.body, "Page not found") {
		t.Errorf("GET /no-such-page = %d %s", p.status, p.body)
	}
	if p := b.do("GET", "/healthz", nil, nil); p.status != 200 || !strings.Contains(p.body, "alive") {
		t.Errorf("healthz = %d %s", p.status, p.body)
	}
	// Every asset the frame links is served, and the home page links them.
	home := b.do("GET", "/", nil, nil)
	for _, u := range append(static.Stylesheets(), static.Scripts()...) {
		if !strings.Contains(home.body, `"`+u+`"`) {
			t.Errorf("home does not link %s", u)
		}
		if p := b.do("GET", u, nil, nil); p.status != 200 || len(p.body) == 0 {
			t.Errorf("GET %s = %d", u, p.status)
		}
	}
	if p := b.do("GET", static.Prefix+"nope/kvarter.css", nil, nil); p.status != 404 || strings.Contains(p.body, "<html") {
		t.Errorf("an unknown asset = %d, a page: %v", p.status, strings.Contains(p.body, "<html"))
	}
}
