package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/web"
	"github.com/kvarter/kvarter/core/web/static"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

var langs = []string{"fi", "sv", "da", "tr", "en"}

func TestCatalog(t *testing.T) { i18ntest.CheckCatalog(t, web.Catalog) }

// identity is a fake of the core's identity service: one account, one session.
type identity struct {
	core.IdentityService
	mu         sync.Mutex
	throttle   bool
	registered []core.Registration
	loggedOut  []string
}

const (
	goodEmail = "aino@example.org"
	goodPass  = "correct horse battery"
	token     = "session-token"
)

func (f *identity) Authenticate(_ context.Context, tok string) (*core.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tok != token || len(f.loggedOut) > 0 {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "no such session")
	}
	return &core.Principal{UserID: "u1", DisplayName: "Aino Ääninen", Locale: ""}, nil
}

func (f *identity) Login(_ context.Context, a core.LoginAttempt) (*core.LoginResult, error) {
	if f.throttle {
		return nil, core.Errorf(core.ERATELIMITED, "too many")
	}
	if a.Email != goodEmail || a.Password != goodPass {
		return nil, core.Errorf(core.EUNAUTHENTICATED, "wrong")
	}
	if a.ClientIP == "" {
		return nil, core.Errorf(core.EINTERNAL, "no client address")
	}
	exp := time.Now().Add(time.Hour)
	return &core.LoginResult{Token: token, Session: core.Session{ExpiresAt: &exp}}, nil
}

func (f *identity) Register(_ context.Context, r core.Registration) (*core.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(r.Password) < 10 {
		return nil, core.InvalidField("password", core.RulePassword, "must be at least 10 characters long")
	}
	f.registered = append(f.registered, r)
	return &core.User{ID: "u2", Email: r.Email, DisplayName: r.DisplayName, Language: r.Language}, nil
}

func (f *identity) Logout(_ context.Context, tok string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loggedOut = append(f.loggedOut, tok)
	return nil
}

type hoods struct{ core.NeighbourhoodService }

var kallio = core.Neighbourhood{ID: "n1", Name: "Kallio", Slug: "kallio"}

func (hoods) ListNeighbourhoods(context.Context, bool, core.Page) ([]core.Neighbourhood, string, error) {
	return []core.Neighbourhood{kallio, {ID: "n2", Name: "Vallila", Slug: "vallila"}}, "", nil
}

func (hoods) FindNeighbourhood(_ context.Context, id string) (*core.Neighbourhood, error) {
	switch id {
	case kallio.ID:
		n := kallio
		return &n, nil
	case "boom":
		return nil, errors.New("connection to db-secret-host refused")
	case "busy":
		return nil, core.Errorf(core.EUNAVAILABLE, "the database does not answer")
	}
	return nil, core.Errorf(core.ENOTFOUND, "no such neighbourhood")
}

type site struct {
	*httptest.Server
	id *identity
}

func newSite(t *testing.T) *site {
	t.Helper()
	id := &identity{}
	p, err := web.New(web.Services{Identity: id, Neighbourhoods: hoods{}}, web.Options{
		CityName: "Helsinki", Languages: langs,
		Nav: []sdk.NavEntry{{ID: "parks", Path: "/parks", Labels: map[string]string{"en": "Parks", "fi": "Puistot"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &site{Server: httptest.NewServer(p), id: id}
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (s *site) do(t *testing.T, method, path string, form url.Values, header map[string]string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func cookieOf(a answer, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// checkPage holds a full page to the frame's promises.
func checkPage(t *testing.T, a answer, lang string) *html.Node {
	t.Helper()
	if got := a.header.Get("Content-Security-Policy"); got != web.CSP {
		t.Errorf("CSP = %q", got)
	}
	if a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("Cache-Control") != "no-store" ||
		a.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("security headers missing: %v", a.header)
	}
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("Content-Type = %q", a.header.Get("Content-Type"))
	}
	doc := webtest.ParseDocument(t, a.body)
	nodes := []*html.Node{doc}
	for _, p := range webtest.CheckMarkup(nodes, webtest.Document) {
		t.Error(p)
	}
	htmlEl := webtest.Find(nodes, tag(atom.Html))[0]
	if got, _ := webtest.Attr(htmlEl, "lang"); got != lang {
		t.Errorf("<html lang=%q>, want %q", got, lang)
	}
	if h1 := webtest.Find(nodes, tag(atom.H1)); len(h1) != 1 {
		t.Errorf("%d h1, want 1", len(h1))
	}
	main := webtest.ByID(nodes, "main")
	if main == nil || main.DataAtom != atom.Main {
		t.Error("no <main id=main>")
	}
	skip := webtest.Find(nodes, tag(atom.A))[0]
	if href, _ := webtest.Attr(skip, "href"); href != "#main" {
		t.Errorf("first link is %q, want the skip link to #main", href)
	}
	st := webtest.ByID(nodes, "kv-status")
	if st == nil {
		t.Fatal("no live region")
	}
	if r, _ := webtest.Attr(st, "role"); r != "status" {
		t.Error("live region without role=status")
	}
	if l, _ := webtest.Attr(st, "aria-live"); l != "polite" {
		t.Error("live region not polite")
	}
	if n := len(webtest.Find(nodes, func(n *html.Node) bool { _, ok := webtest.Attr(n, "aria-live"); return ok })); n != 1 {
		t.Errorf("%d live regions, want 1", n)
	}
	for _, id := range []string{"core.", "web.", "[missing", "<no value>"} {
		if strings.Contains(webtest.Text(doc), id) {
			t.Errorf("page shows a message id or placeholder %q: %s", id, webtest.Text(doc))
		}
	}
	footer := webtest.Find(nodes, tag(atom.Footer))
	if len(footer) != 1 {
		t.Fatal("no footer")
	}
	links := webtest.Find(footer, func(n *html.Node) bool {
		h, _ := webtest.Attr(n, "href")
		return h == "/accessibility" || h == "/privacy"
	})
	if len(links) != 2 {
		t.Errorf("footer links = %d, want accessibility and privacy", len(links))
	}
	var assets []string
	for _, l := range webtest.Find(nodes, func(n *html.Node) bool { return n.DataAtom == atom.Link || n.DataAtom == atom.Script }) {
		h, _ := webtest.Attr(l, "href")
		if l.DataAtom == atom.Script {
			h, _ = webtest.Attr(l, "src")
		}
		assets = append(assets, h)
	}
	if want := append(static.Stylesheets(), static.Scripts()...); !slices.Equal(assets, want) {
		t.Errorf("assets = %v, want %v", assets, want)
	}
	return doc
}

// TestPages_EveryPageEveryLanguage renders each page, anonymous and signed in, in
// all five languages and holds it to the frame's rules and the markup checks.
func TestPages_EveryPageEveryLanguage(t *testing.T) {
	s := newSite(t)
	pages := []struct {
		method, path string
		form         url.Values
		status       int
	}{
		{"GET", "/", nil, 200},
		{"GET", "/sign-in", nil, 200},
		{"GET", "/register", nil, 200},
		{"GET", "/accessibility", nil, 200},
		{"GET", "/privacy", nil, 200},
		{"GET", "/neighbourhoods/n1", nil, 200},
		{"GET", "/neighbourhoods/none", nil, 404},
		{"GET", "/no/such/page", nil, 404},
		{"POST", "/register", url.Values{"email": {"not-an-email"}}, 422},
		{"POST", "/sign-in", url.Values{"email": {goodEmail}, "password": {"wrong password"}}, 422},
	}
	texts := map[string]string{}
	for _, lang := range langs {
		for _, signedIn := range []bool{false, true} {
			for _, pg := range pages {
				h := map[string]string{"Accept-Language": lang}
				if signedIn {
					h["Cookie"] = web.SessionCookie + "=" + token
				}
				a := s.do(t, pg.method, pg.path, pg.form, h)
				t.Run(lang+" "+pg.method+" "+pg.path, func(t *testing.T) {
					if a.status != pg.status {
						t.Fatalf("status %d, want %d: %s", a.status, pg.status, a.body)
					}
					doc := checkPage(t, a, lang)
					hasName := strings.Contains(webtest.Text(doc), "Aino Ääninen")
					if hasName != signedIn {
						t.Errorf("signed in %v, shows the name %v", signedIn, hasName)
					}
					if pg.path == "/" && !signedIn {
						texts[lang] = webtest.Text(doc)
					}
				})
			}
		}
	}
	// Each language's home page is its own text, not another's.
	for _, a := range langs {
		for _, b := range langs {
			if a < b && texts[a] == texts[b] {
				t.Errorf("home page in %s and %s is the same text", a, b)
			}
		}
	}
}

func TestPages_Home(t *testing.T) {
	s := newSite(t)
	a := s.do(t, "GET", "/", nil, map[string]string{"Accept-Language": "fi"})
	doc := checkPage(t, a, "fi")
	nodes := []*html.Node{doc}
	if h1 := webtest.Text(webtest.Find(nodes, tag(atom.H1))[0]); h1 != "Helsinki" {
		t.Errorf("h1 = %q, want the city's name", h1)
	}
	var hrefs []string
	for _, l := range webtest.Find(nodes, tag(atom.A)) {
		h, _ := webtest.Attr(l, "href")
		hrefs = append(hrefs, h)
	}
	for _, want := range []string{"/neighbourhoods/n1", "/neighbourhoods/n2", "/register", "/sign-in", "/parks"} {
		if !strings.Contains(strings.Join(hrefs, " "), want) {
			t.Errorf("home has no link to %s: %v", want, hrefs)
		}
	}
	cur := webtest.Find(nodes, func(n *html.Node) bool {
		v, _ := webtest.Attr(n, "aria-current")
		return v == "page" && n.DataAtom == atom.A
	})
	if len(cur) != 1 || webtest.Text(cur[0]) != "Etusivu" {
		t.Errorf("current nav entry = %v, want Etusivu alone", cur)
	}
	if !strings.Contains(a.body, "Puistot") {
		t.Error("the nav entry passed in is not shown in the viewer's language")
	}
	if len(webtest.Find(nodes, func(n *html.Node) bool {
		v, _ := webtest.Attr(n, "class")
		return strings.Contains(v, "kv-breadcrumbs")
	})) != 0 {
		t.Error("the home page has breadcrumbs")
	}
	// Another page: breadcrumbs from home to it, the last current.
	b := s.do(t, "GET", "/privacy", nil, map[string]string{"Accept-Language": "sv"})
	bc := webtest.Find([]*html.Node{webtest.ParseDocument(t, b.body)}, func(n *html.Node) bool { v, _ := webtest.Attr(n, "class"); return v == "kv-breadcrumbs" })
	if len(bc) != 1 || webtest.Text(bc[0]) != "Startsida Dataskydd" {
		t.Fatalf("breadcrumbs = %v", bc)
	}
	if l, _ := webtest.Attr(bc[0], "aria-label"); l != "Du är här" {
		t.Errorf("breadcrumbs named %q", l)
	}
}

func TestPages_Language(t *testing.T) {
	s := newSite(t)
	t.Run("AcceptLanguage", func(t *testing.T) {
		for h, want := range map[string]string{"tr-TR,tr;q=0.9": "tr", "sv-FI": "sv", "de, da;q=0.5": "da", "de": "fi", "": "fi"} {
			a := s.do(t, "GET", "/", nil, map[string]string{"Accept-Language": h})
			checkPage(t, a, want)
		}
	})
	t.Run("Switch", func(t *testing.T) {
		a := s.do(t, "POST", "/language", url.Values{"lang": {"da"}, "back": {"/privacy"}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/privacy" {
			t.Fatalf("switch = %d to %q, want 303 to /privacy", a.status, a.header.Get("Location"))
		}
		c := cookieOf(a, web.LanguageCookie)
		if c == nil || c.Value != "da" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("language cookie = %+v", c)
		}
		// The cookie beats Accept-Language: the page and its text change.
		b := s.do(t, "GET", "/privacy", nil, map[string]string{"Accept-Language": "en", "Cookie": "kvarter_lang=da"})
		doc := checkPage(t, b, "da")
		if !strings.Contains(webtest.Text(doc), "Databeskyttelse") {
			t.Error("the page is not in Danish")
		}
	})
	t.Run("ErrUnknownLanguageOrForeignBack", func(t *testing.T) {
		for _, back := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", ""} {
			a := s.do(t, "POST", "/language", url.Values{"lang": {"xx"}, "back": {back}}, nil)
			if a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
				t.Errorf("back %q: %d to %q, want 303 to /", back, a.status, a.header.Get("Location"))
			}
			if cookieOf(a, web.LanguageCookie) != nil {
				t.Error("a language the city does not offer was remembered")
			}
		}
	})
}

func TestPages_SignIn(t *testing.T) {
	s := newSite(t)
	t.Run("OK", func(t *testing.T) {
		a := s.do(t, "POST", "/sign-in", url.Values{"email": {goodEmail}, "password": {goodPass}}, nil)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
			t.Fatalf("sign in = %d to %q", a.status, a.header.Get("Location"))
		}
		c := cookieOf(a, web.SessionCookie)
		if c == nil || c.Value != token || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
			t.Fatalf("session cookie = %+v", c)
		}
		f := cookieOf(a, web.FlashCookie)
		if f == nil {
			t.Fatal("no flash")
		}
		// The flash shows once, in the viewer's language, and is cleared.
		b := s.do(t, "GET", "/", nil, map[string]string{"Cookie": web.SessionCookie + "=" + token + "; " + web.FlashCookie + "=" + f.Value, "Accept-Language": "fi"})
		if !strings.Contains(b.body, "Olet kirjautunut sisään.") {
			t.Error("flash not shown")
		}
		if cl := cookieOf(b, web.FlashCookie); cl == nil || cl.MaxAge >= 0 {
			t.Errorf("flash not cleared: %+v", cl)
		}
	})
	t.Run("ErrForgedFlash", func(t *testing.T) {
		b := s.do(t, "GET", "/", nil, map[string]string{"Cookie": web.FlashCookie + "=core.home.welcome_name"})
		if strings.Contains(b.body, "ds-alert") {
			t.Error("a flash cookie naming any message is shown")
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		a := s.do(t, "POST", "/sign-in", url.Values{"email": {goodEmail}, "password": {"not it at all"}}, map[string]string{"Accept-Language": "en"})
		if a.status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", a.status)
		}
		checkPage(t, a, "en")
		nodes := []*html.Node{webtest.ParseDocument(t, a.body)}
		sum := webtest.ByID(nodes, "kv-error-summary")
		if sum == nil {
			t.Fatal("no error summary")
		}
		if _, ok := webtest.Attr(sum, "autofocus"); !ok {
			t.Error("the error summary does not take focus")
		}
		if !strings.Contains(webtest.Text(sum), "The email address or password is incorrect") {
			t.Errorf("summary = %q", webtest.Text(sum))
		}
		if v, _ := webtest.Attr(webtest.ByID(nodes, "f-email"), "value"); v != goodEmail {
			t.Errorf("email kept as %q", v)
		}
		if strings.Contains(a.body, "not it at all") {
			t.Error("the password was sent back to the browser")
		}
		if cookieOf(a, web.SessionCookie) != nil {
			t.Error("a failed sign-in set a session")
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		a := s.do(t, "POST", "/sign-in", url.Values{}, map[string]string{"Accept-Language": "tr"})
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Bu alanı doldurun") {
			t.Fatalf("status %d, body lacks the required message", a.status)
		}
	})
	t.Run("ErrThrottled", func(t *testing.T) {
		s.id.throttle = true
		defer func() { s.id.throttle = false }()
		a := s.do(t, "POST", "/sign-in", url.Values{"email": {goodEmail}, "password": {goodPass}}, map[string]string{"Accept-Language": "sv"})
		if a.status != http.StatusTooManyRequests || !strings.Contains(a.body, "för många inloggningsförsök") {
			t.Fatalf("status %d", a.status)
		}
	})
	t.Run("ErrNotAForm", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL+"/sign-in", strings.NewReader(`{"email":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
}

func TestPages_Register(t *testing.T) {
	s := newSite(t)
	t.Run("OK", func(t *testing.T) {
		a := s.do(t, "POST", "/register", url.Values{"display_name": {"Elif Yılmaz"}, "email": {"elif@example.org"}, "password": {"a long enough passphrase"}},
			map[string]string{"Accept-Language": "tr"})
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/sign-in" {
			t.Fatalf("register = %d to %q: %s", a.status, a.header.Get("Location"), a.body)
		}
		if got := s.id.registered[len(s.id.registered)-1]; got.Language != "tr" || got.DisplayName != "Elif Yılmaz" {
			t.Errorf("registered %+v, want the page's language", got)
		}
	})
	t.Run("ErrRuleKeepsValues", func(t *testing.T) {
		a := s.do(t, "POST", "/register", url.Values{"display_name": {"Elif"}, "email": {"elif2@example.org"}, "password": {"short"}},
			map[string]string{"Accept-Language": "fi"})
		if a.status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", a.status)
		}
		nodes := []*html.Node{checkPage(t, a, "fi")}
		if v, _ := webtest.Attr(webtest.ByID(nodes, "f-email"), "value"); v != "elif2@example.org" {
			t.Errorf("email kept as %q", v)
		}
		if v, _ := webtest.Attr(webtest.ByID(nodes, "f-display_name"), "value"); v != "Elif" {
			t.Errorf("name kept as %q", v)
		}
		pw := webtest.ByID(nodes, "f-password")
		if v, _ := webtest.Attr(pw, "value"); v != "" {
			t.Errorf("password sent back: %q", v)
		}
		if d, _ := webtest.Attr(pw, "aria-invalid"); d != "true" {
			t.Error("the password field is not marked invalid")
		}
		if !strings.Contains(a.body, "Valitse vähintään 10 merkin salasana") {
			t.Error("the rule is not in the core's Finnish words")
		}
	})
	t.Run("TakenAnswersTheSame", func(t *testing.T) {
		// The service answers an address that has an account as a new one (and mails
		// its owner); the page says the same either way.
		a := s.do(t, "POST", "/register", url.Values{"display_name": {"Aino"}, "email": {goodEmail}, "password": {"a long enough passphrase"}},
			map[string]string{"Accept-Language": "da"})
		b := s.do(t, "POST", "/register", url.Values{"display_name": {"Aino"}, "email": {"someone.new@example.org"}, "password": {"a long enough passphrase"}},
			map[string]string{"Accept-Language": "da"})
		if a.status != http.StatusSeeOther || a.status != b.status || a.header.Get("Location") != b.header.Get("Location") ||
			a.header.Get("Set-Cookie") != b.header.Get("Set-Cookie") {
			t.Fatalf("answers differ: %d %v and %d %v", a.status, a.header, b.status, b.header)
		}
	})
}

// TestPages_CrossOrigin attacks the CSRF check: a form posted from another site is
// refused with 403 before any handler runs, and nothing changes.
func TestPages_CrossOrigin(t *testing.T) {
	s := newSite(t)
	host := strings.TrimPrefix(s.URL, "http://")
	signedIn := web.SessionCookie + "=" + token
	refused := []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Cookie": signedIn},
		{"Sec-Fetch-Site": "same-site", "Cookie": signedIn},
		{"Origin": "https://evil.example", "Cookie": signedIn},
		{"Origin": "http://" + host + ".evil.example", "Cookie": signedIn},
	}
	for _, h := range refused {
		for _, path := range []string{"/sign-out", "/register", "/language", "/sign-in"} {
			h["Accept-Language"] = "fi"
			a := s.do(t, "POST", path, url.Values{"email": {"x@example.org"}, "password": {"a long enough passphrase"}, "display_name": {"X"}, "lang": {"sv"}}, h)
			if a.status != http.StatusForbidden {
				t.Fatalf("%v POST %s = %d, want 403", h, path, a.status)
			}
			checkPage(t, a, "fi")
			if !strings.Contains(a.body, "Lomaketta ei hyväksytty") {
				t.Error("the refusal is not explained")
			}
			if len(a.header.Values("Set-Cookie")) != 0 {
				t.Errorf("a refused request set cookies: %v", a.header.Values("Set-Cookie"))
			}
		}
	}
	if len(s.id.loggedOut) != 0 || len(s.id.registered) != 0 {
		t.Fatalf("a cross-site post changed something: logged out %v, registered %v", s.id.loggedOut, s.id.registered)
	}
	// Same origin by either header, or neither header (not a browser), passes.
	for _, h := range []map[string]string{{"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {"Origin": "http://" + host}, {}} {
		h["Cookie"] = signedIn
		if a := s.do(t, "POST", "/language", url.Values{"lang": {"sv"}}, h); a.status != http.StatusSeeOther {
			t.Errorf("%v: %d, want 303", h, a.status)
		}
	}
	a := s.do(t, "POST", "/sign-out", nil, map[string]string{"Sec-Fetch-Site": "same-origin", "Cookie": signedIn})
	if a.status != http.StatusSeeOther || len(s.id.loggedOut) != 1 {
		t.Fatalf("sign out = %d, logged out %v", a.status, s.id.loggedOut)
	}
	if c := cookieOf(a, web.SessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("session cookie not cleared: %+v", c)
	}
}

// TestPages_HTMX: a request from htmx for <main> gets the content only, with the
// title, the header out of band, the announcement for #kv-status and the focus.
func TestPages_HTMX(t *testing.T) {
	s := newSite(t)
	h := map[string]string{"HX-Request": "true", "HX-Target": "main#main", "Accept-Language": "en", "Sec-Fetch-Site": "same-origin"}
	a := s.do(t, "POST", "/register", url.Values{"email": {"x"}}, h)
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", a.status)
	}
	if strings.Contains(a.body, "<html") || strings.Contains(a.body, "<main") || strings.Contains(a.body, "<footer") {
		t.Fatalf("fragment carries the frame: %s", a.body)
	}
	if a.header.Get("Content-Security-Policy") != web.CSP {
		t.Error("fragment without CSP")
	}
	nodes := webtest.ParseFragment(t, a.body)
	titles := webtest.Find(nodes, tag(atom.Title))
	if len(titles) != 1 || webtest.Text(titles[0]) != "Create an account – Helsinki" {
		t.Errorf("title = %v", titles)
	}
	hdr := webtest.ByID(nodes, "kv-header")
	if oob, _ := webtest.Attr(hdr, "hx-swap-oob"); hdr == nil || oob != "true" {
		t.Error("the header is not swapped out of band")
	}
	st := webtest.Find(nodes, func(n *html.Node) bool { v, _ := webtest.Attr(n, "hx-swap-oob"); return v == "innerHTML:#kv-status" })
	if len(st) != 1 {
		t.Error("no announcement for #kv-status")
	}
	if sum := webtest.ByID(nodes, "kv-error-summary"); sum == nil {
		t.Error("no error summary")
	} else if _, ok := webtest.Attr(sum, "autofocus"); !ok {
		t.Error("the error summary does not take focus")
	}
	// The full page is the frame, whatever HX-Target another element names.
	b := s.do(t, "GET", "/", nil, map[string]string{"HX-Request": "true", "HX-Target": "div#kv-other"})
	if !strings.Contains(b.body, "<html") {
		t.Error("a request for another target got a fragment")
	}
}

// TestPages_HEAD: HEAD answers as GET does, without a body.
func TestPages_HEAD(t *testing.T) {
	s := newSite(t)
	a := s.do(t, "HEAD", "/privacy", nil, nil)
	if a.status != 200 || a.body != "" || a.header.Get("Content-Security-Policy") != web.CSP {
		t.Fatalf("HEAD = %d, %d bytes", a.status, len(a.body))
	}
}

// TestPages_Errors: an internal error shows its request id, never its text; a
// service that is down shows the "temporarily unavailable" panel with Retry-After.
func TestPages_Errors(t *testing.T) {
	s := newSite(t)
	a := s.do(t, "GET", "/neighbourhoods/boom", nil, map[string]string{"Accept-Language": "da"})
	if a.status != 500 || strings.Contains(a.body, "db-secret-host") || !strings.Contains(a.body, "Noget gik galt") {
		t.Fatalf("500 = %d: %s", a.status, a.body)
	}
	checkPage(t, a, "da")
	b := s.do(t, "GET", "/neighbourhoods/busy", nil, map[string]string{"Accept-Language": "fi"})
	if b.status != 503 || b.header.Get("Retry-After") == "" || !strings.Contains(b.body, "Palvelu ei ole tilapäisesti käytettävissä") {
		t.Fatalf("503 = %d %v: %s", b.status, b.header, b.body)
	}
	checkPage(t, b, "fi")
}

// TestPages_SecureCookies: with Secure cookies the session cookie is __Host-
// (Secure, path /, no domain), and only that name signs anyone in.
func TestPages_SecureCookies(t *testing.T) {
	id := &identity{}
	p, err := web.New(web.Services{Identity: id, Neighbourhoods: hoods{}}, web.Options{CityName: "Aarhus", Languages: []string{"da", "en"}, SecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	s := &site{Server: httptest.NewServer(p), id: id}
	defer s.Close()
	a := s.do(t, "POST", "/sign-in", url.Values{"email": {goodEmail}, "password": {goodPass}}, nil)
	c := cookieOf(a, web.SecureSessionCookie)
	if a.status != 303 || c == nil || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
		t.Fatalf("sign in = %d, cookie %+v", a.status, c)
	}
	for _, f := range []string{web.FlashCookie} {
		if fc := cookieOf(a, f); fc == nil || !fc.Secure {
			t.Errorf("%s not Secure: %+v", f, fc)
		}
	}
	if b := s.do(t, "GET", "/", nil, map[string]string{"Cookie": web.SecureSessionCookie + "=" + token}); !strings.Contains(b.body, "Aino Ääninen") {
		t.Error("the __Host- cookie does not sign in")
	}
	if b := s.do(t, "GET", "/", nil, map[string]string{"Cookie": web.SessionCookie + "=" + token}); strings.Contains(b.body, "Aino Ääninen") {
		t.Error("the plain cookie signs in where cookies are Secure")
	}
}
