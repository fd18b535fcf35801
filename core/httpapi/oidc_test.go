package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/oidc/oidctest"
	"github.com/kvarter/kvarter/core/web"
)

// Sign-in with an identity provider (issue 22), through the real server and a real
// provider (zitadel/oidc's example OP) on loopback, with a browser that follows no
// redirect by itself and has no JavaScript.

var aino = oidctest.User{ID: "sub-aino", Username: "aino", Password: "verysecure", FirstName: "Aino", LastName: "Virtanen",
	Email: "aino@example.org", EmailVerified: true}

// recordedClaims records what the node hands the claims service.
type recordedClaims struct {
	mu    sync.Mutex
	calls []claimsCall
}

type claimsCall struct {
	UserID, Provider string
	Claims           map[string]any
}

func (r *recordedClaims) ApplyClaims(_ context.Context, userID, provider string, claims map[string]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, claimsCall{userID, provider, claims})
	return nil
}

func (r *recordedClaims) last() claimsCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		return claimsCall{}
	}
	return r.calls[len(r.calls)-1]
}

// oidcNode is a node whose city signs in with op as provider "city".
type oidcNode struct {
	n      *node.Node
	op     *oidctest.OP
	base   string
	claims *recordedClaims
	clock  *coretest.Clock
}

func startOIDCNode(t testing.TB, db coretest.DB, users ...oidctest.User) *oidcNode {
	t.Helper()
	return startOIDCNodeWith(t, db, nil, users...)
}

// startOIDCNodeWith is startOIDCNode with the config changed by edit; with an edit,
// the node keeps its own claims service instead of a recording one.
func startOIDCNodeWith(t testing.TB, db coretest.DB, edit func(*node.Config), users ...oidctest.User) *oidcNode {
	t.Helper()
	op := oidctest.Start(t, users...)
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte("the-client-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := db.Config
	cfg.City.Languages = []string{"fi", "sv", "da", "tr", "en"}
	cfg.OIDCProviders = []node.OIDCProviderConfig{{ID: "city", Issuer: op.Issuer, ClientID: "kvarter", ClientSecretFile: secretFile,
		Label: map[string]string{"fi": "Kaupungin tunnus", "sv": "Stadens ID", "da": "Byens ID", "tr": "Şehir kimliği", "en": "City ID"}}}
	opt := coretest.Options()
	rec := &recordedClaims{}
	clock := coretest.NewClock(time.Now())
	opt.Claims, opt.Clock = rec, clock
	if edit != nil {
		edit(&cfg)
		opt.Claims = nil
	}
	n := coretest.StartNode(t, cfg, opt)
	base := "http://" + n.Addr().String()
	op.AddClient("kvarter", "the-client-secret", base+"/sign-in/city/callback")
	return &oidcNode{n: n, op: op, base: base, claims: rec, clock: clock}
}

// toProvider starts a flow at path and returns the provider's authorization URL the
// node leads to.
func (o *oidcNode) toProvider(b *browser, method, path string) string {
	b.t.Helper()
	var form url.Values
	if method == "POST" {
		form = url.Values{}
	}
	p := b.do(method, path, form, nil)
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, o.op.Issuer) {
		b.t.Fatalf("%s %s = %d to %q, want 303 to the provider: %s", method, path, p.status, loc, p.body)
	}
	return loc
}

// callback walks the provider's login and returns the node's callback path and query.
func (o *oidcNode) callback(b *browser, authURL string, u oidctest.User) string {
	b.t.Helper()
	back := o.op.Login(b.t, b.c, authURL, u.Username, u.Password)
	if !strings.HasPrefix(back.String(), o.base+"/sign-in/city/callback?") {
		b.t.Fatalf("sent back to %s", back)
	}
	return back.RequestURI()
}

func (o *oidcNode) signIn(b *browser, u oidctest.User) page {
	b.t.Helper()
	return b.do("GET", o.callback(b, o.toProvider(b, "GET", "/sign-in/city?back=/profile"), u), nil, nil)
}

// counts are the rows a sign-in may add: nothing may change when one is refused.
func (o *oidcNode) counts(t *testing.T) [4]int {
	t.Helper()
	var c [4]int
	for i, table := range []string{"users", "sessions", "user_identities", "audit_log"} {
		if err := coretest.SQL(o.n).Get(&c[i], "SELECT COUNT(*) FROM "+table); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// attack signs Aino in with a fresh browser in lang, letting rewrite change the
// authorization request, and checks that the callback is refused with a page that
// says text (400), no row changed, and nobody signed in.
func (o *oidcNode) attack(t *testing.T, lang string, rewrite func(*url.URL), text string) {
	t.Helper()
	b := newBrowser(t, o.base)
	before := o.counts(t)
	authURL, _ := url.Parse(o.toProvider(b, "GET", "/sign-in/city"))
	if rewrite != nil {
		rewrite(authURL)
	}
	p := b.do("GET", o.callback(b, authURL.String(), aino), nil, map[string]string{"Accept-Language": lang})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, text) {
		t.Fatalf("got %d, want 400 with %q: %s", p.status, text, p.body)
	}
	if after := o.counts(t); after != before || sessionCookie(b, o.base) != "" {
		t.Fatalf("a refused sign-in changed rows %v → %v or signed in", before, after)
	}
}

func sessionCookie(b *browser, base string) string {
	u, _ := url.Parse(base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "kvarter_session" {
			return c.Value
		}
	}
	return ""
}

func TestPages_OIDCSignIn(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		o := startOIDCNode(t, db, aino)

		t.Run("Buttons", func(t *testing.T) {
			b := newBrowser(t, o.base)
			for lang, label := range map[string]string{"en": "Continue with City ID", "fi": "Jatka palveluun Kaupungin tunnus", "tr": "Şehir kimliği ile devam edin"} {
				for _, path := range []string{"/sign-in", "/register"} {
					p := b.do("GET", path, nil, map[string]string{"Accept-Language": lang})
					if p.status != 200 || !strings.Contains(p.body, label) || !strings.Contains(p.body, `href="/sign-in/city`) {
						t.Errorf("%s in %s: no button %q", path, lang, label)
					}
				}
			}
		})

		t.Run("OK", func(t *testing.T) {
			b := newBrowser(t, o.base)
			before := o.counts(t)
			p := o.signIn(b, aino)
			if p.status != http.StatusSeeOther || p.header.Get("Location") != "/profile" {
				t.Fatalf("callback = %d to %q: %s", p.status, p.header.Get("Location"), p.body)
			}
			profile := b.do("GET", "/profile", nil, nil)
			if profile.status != 200 || !strings.Contains(profile.body, "Aino Virtanen") || !strings.Contains(profile.body, aino.Email) ||
				!strings.Contains(profile.body, `href="/me/identities"`) {
				t.Fatalf("profile does not show the provider's name and address: %d %s", profile.status, profile.body)
			}
			// Signing out (a form) ends at the provider, so the pages of a session
			// begun there let a form's redirect reach it, and nothing else changes.
			if got, want := profile.header.Get("Content-Security-Policy"), strings.Replace(web.CSP, "form-action 'self'", "form-action 'self' "+o.op.Issuer, 1); got != want {
				t.Fatalf("CSP = %q, want %q", got, want)
			}
			after := o.counts(t)
			if after[0] != before[0]+1 || after[1] != before[1]+1 || after[2] != before[2]+1 {
				t.Fatalf("rows before %v, after %v: want one user, session and identity more", before, after)
			}
			var verified bool
			if err := coretest.SQL(o.n).Get(&verified, "SELECT email_verified_at IS NOT NULL FROM users WHERE email = '"+aino.Email+"'"); err != nil || !verified {
				t.Fatalf("address verified = %v, %v; the provider said email_verified", verified, err)
			}
			var audited int
			_ = coretest.SQL(o.n).Get(&audited, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.login_external' AND detail LIKE '%city%'")
			if audited != 1 {
				t.Fatalf("%d audit rows of a sign-in with the provider, want 1", audited)
			}
			call := o.claims.last()
			if call.Provider != "city" || call.Claims["sub"] != aino.ID || call.UserID == "" {
				t.Fatalf("claims service got %+v", call)
			}

			// The same identity again: the same account, no new one.
			b2 := newBrowser(t, o.base)
			if p := o.signIn(b2, aino); p.status != http.StatusSeeOther {
				t.Fatalf("second sign-in = %d: %s", p.status, p.body)
			}
			if again := o.counts(t); again[0] != after[0] || again[2] != after[2] {
				t.Fatalf("a second sign-in opened another account: %v then %v", after, again)
			}

			// Signing out of a session begun at the provider ends it there too.
			out := b.do("POST", "/sign-out", url.Values{}, nil)
			loc := out.header.Get("Location")
			if out.status != http.StatusSeeOther || !strings.HasPrefix(loc, o.op.Issuer) || !strings.Contains(loc, "id_token_hint=") ||
				!strings.Contains(loc, "post_logout_redirect_uri="+url.QueryEscape(o.base+"/")) {
				t.Fatalf("sign-out = %d to %q, want the provider's end_session_endpoint", out.status, loc)
			}
			if sessionCookie(b, o.base) != "" {
				t.Fatal("the session cookie outlived sign-out")
			}
			// The provider ends its session and sends the person back home.
			resp, err := b.c.Get(loc)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if back := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(back, o.base+"/") {
				t.Fatalf("provider's end session = %d to %q, want back home", resp.StatusCode, back)
			}
		})

		// A back address that a browser would read as another site (a tab it drops
		// before "//evil.example", a backslash it reads as a slash) is not followed
		// after the provider's sign-in: the person lands on the site's own page.
		t.Run("BackStaysOnSite", func(t *testing.T) {
			for _, back := range []string{"/%09/evil.example", "/%5Cevil.example", "//evil.example", "/%0d%0a/evil.example"} {
				b := newBrowser(t, o.base)
				p := b.do("GET", o.callback(b, o.toProvider(b, "GET", "/sign-in/city?back="+back), aino), nil, nil)
				if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/") ||
					strings.Contains(loc, "evil") {
					t.Errorf("back=%s: callback = %d to %q, want a page of the site", back, p.status, loc)
				}
			}
		})

		// Someone signs in locally in a browser where a provider's session was: their
		// sign-out stays on the site, and never carries the earlier person's ID token
		// to the provider (reviewer's S6).
		t.Run("LocalSignInForgetsProviderLogout", func(t *testing.T) {
			b := newBrowser(t, o.base)
			if p := o.signIn(b, aino); p.status != http.StatusSeeOther {
				t.Fatalf("provider sign-in = %d", p.status)
			}
			next := coretest.Register(t, o.n, "next.person@example.net", "Next Person")
			if in := b.do("POST", "/sign-in", url.Values{"email": {next.Email}, "password": {next.Password}}, nil); in.status != http.StatusSeeOther {
				t.Fatalf("local sign-in = %d", in.status)
			}
			out := b.do("POST", "/sign-out", url.Values{}, nil)
			if loc := out.header.Get("Location"); out.status != http.StatusSeeOther || strings.Contains(loc, "id_token_hint") || strings.HasPrefix(loc, o.op.Issuer) {
				t.Fatalf("the next person's sign-out = %d to %q", out.status, loc)
			}
		})

		refused := func(t *testing.T, p page, status int, text string) {
			t.Helper()
			if p.status != status || !strings.Contains(p.body, text) {
				t.Fatalf("got %d, want %d with %q: %s", p.status, status, text, p.body)
			}
		}
		const stateText, tokenText = "The sign-in could not be finished", "answer was not accepted"

		t.Run("ErrTamperedState", func(t *testing.T) {
			b := newBrowser(t, o.base)
			before := o.counts(t)
			cb := o.callback(b, o.toProvider(b, "GET", "/sign-in/city"), aino)
			u, _ := url.Parse(cb)
			q := u.Query()
			q.Set("state", "forged"+q.Get("state"))
			u.RawQuery = q.Encode()
			refused(t, b.do("GET", u.RequestURI(), nil, map[string]string{"Accept-Language": "en"}), 400, stateText)
			if after := o.counts(t); after != before || sessionCookie(b, o.base) != "" {
				t.Fatalf("a refused sign-in changed rows %v → %v or signed in", before, after)
			}
		})

		t.Run("ErrReplayedCode", func(t *testing.T) {
			b := newBrowser(t, o.base)
			authURL := o.toProvider(b, "GET", "/sign-in/city")
			u, _ := url.Parse(o.base)
			var state *http.Cookie
			for _, c := range b.c.Jar.Cookies(u) {
				if c.Name == "kvarter_oidc_state" {
					state = c
				}
			}
			cb := o.callback(b, authURL, aino)
			if p := b.do("GET", cb, nil, nil); p.status != http.StatusSeeOther {
				t.Fatalf("first use = %d: %s", p.status, p.body)
			}
			before := o.counts(t)
			// The same browser: its state cookie went with the first use. (Aino is
			// signed in now, and her account speaks the city's first language.)
			refused(t, b.do("GET", cb, nil, nil), 400, "Kirjautumista ei voitu viedä loppuun")
			// Someone who kept the state cookie too: the provider refuses the code.
			thief := newBrowser(t, o.base)
			thief.c.Jar.SetCookies(u, []*http.Cookie{state})
			refused(t, thief.do("GET", cb, nil, map[string]string{"Accept-Language": "en"}), 400, tokenText)
			if after := o.counts(t); after != before || sessionCookie(thief, o.base) != "" {
				t.Fatalf("a replayed callback changed rows %v → %v or signed in", before, after)
			}
		})

		t.Run("ErrWrongNonce", func(t *testing.T) {
			o.attack(t, "en", func(authURL *url.URL) {
				q := authURL.Query()
				q.Set("nonce", "an-attackers-nonce")
				authURL.RawQuery = q.Encode()
			}, tokenText)
		})

		t.Run("ErrExpiredIDToken", func(t *testing.T) {
			// The node's clock runs two hours ahead from the start of the flow: the
			// state is fresh, the provider's one-hour ID token has expired.
			o.clock.Advance(2 * time.Hour)
			defer o.clock.Advance(-2 * time.Hour)
			o.attack(t, "fi", nil, "Tunnistuspalvelun vastausta ei hyväksytty")
		})

		t.Run("ErrWrongIssuer", func(t *testing.T) {
			// Another provider, which knows the same client, issues a valid ID token for
			// the same subject; the city's provider answers the code with it.
			other := oidctest.Start(t, aino)
			o.op.ReplaceIDToken(other.IssueIDToken(t, "kvarter", "the-client-secret", aino))
			defer o.op.ReplaceIDToken("")
			o.attack(t, "sv", nil, "Svaret från identifieringstjänsten godtogs inte")
		})
	})
}

func TestPages_OIDCLink(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		bo := oidctest.User{ID: "sub-bo", Username: "bo", Password: "verysecure", FirstName: "Bo", LastName: "Ek", Email: "bo@example.org", EmailVerified: true}
		cem := oidctest.User{ID: "sub-cem", Username: "cem", Password: "verysecure", FirstName: "Cem", LastName: "Kaya", Email: "cem@example.org", EmailVerified: true}
		// Dee's provider does not vouch for her address.
		dee := oidctest.User{ID: "sub-dee", Username: "dee", Password: "verysecure", FirstName: "Dee", Email: "dee@example.org"}
		o := startOIDCNode(t, db, bo, cem, dee)
		local := coretest.Register(t, o.n, bo.Email, "Bo Ek")

		t.Run("RequiresLocalSignIn", func(t *testing.T) {
			b := newBrowser(t, o.base)
			before := o.counts(t)
			p := o.signIn(b, bo)
			// Never linked silently: the verified address is an account's, so the
			// person is asked to sign in to it, and is not signed in yet.
			if p.status != http.StatusSeeOther || p.header.Get("Location") != "/sign-in/link" || sessionCookie(b, o.base) != "" {
				t.Fatalf("callback = %d to %q", p.status, p.header.Get("Location"))
			}
			if after := o.counts(t); after[0] != before[0] || after[1] != before[1] || after[2] != before[2] {
				t.Fatalf("rows %v → %v before the person signed in locally", before, after)
			}
			form := b.must(200, "GET", "/sign-in/link", nil)
			if !strings.Contains(form.body, "City ID confirmed the email address bo@example.org") || !strings.Contains(form.body, `autocomplete="current-password"`) {
				t.Fatalf("link page: %s", form.body)
			}
			wrong := b.do("POST", "/sign-in/link", url.Values{"email": {bo.Email}, "password": {"not the password"}}, map[string]string{"Accept-Language": "en"})
			if wrong.status != 422 || !strings.Contains(wrong.body, "ds-error-summary") {
				t.Fatalf("a wrong password = %d: %s", wrong.status, wrong.body)
			}
			if after := o.counts(t); after[2] != before[2] || sessionCookie(b, o.base) != "" {
				t.Fatal("a wrong password linked or signed in")
			}
			ok := b.do("POST", "/sign-in/link", url.Values{"email": {bo.Email}, "password": {local.Password}}, nil)
			if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/profile" || sessionCookie(b, o.base) == "" {
				t.Fatalf("link = %d to %q", ok.status, ok.header.Get("Location"))
			}
			var owner string
			if err := coretest.SQL(o.n).Get(&owner, "SELECT user_id FROM user_identities WHERE subject = 'sub-bo'"); err != nil || owner != local.ID {
				t.Fatalf("identity linked to %q (%v), want %s", owner, err, local.ID)
			}
			if call := o.claims.last(); call.UserID != local.ID || call.Claims["sub"] != bo.ID {
				t.Fatalf("claims after linking: %+v", call)
			}
			// From now on the provider signs Bo in to the same account.
			b2 := newBrowser(t, o.base)
			if p := o.signIn(b2, bo); p.status != http.StatusSeeOther || p.header.Get("Location") != "/profile" {
				t.Fatalf("sign-in after linking = %d to %q", p.status, p.header.Get("Location"))
			}
			// The link page without a pending identity explains itself.
			if p := newBrowser(t, o.base).do("GET", "/sign-in/link", nil, map[string]string{"Accept-Language": "da"}); p.status != 400 ||
				!strings.Contains(p.body, "Login kunne ikke gennemføres") {
				t.Fatalf("link page without a pending link = %d", p.status)
			}
		})

		t.Run("FromAccountPage", func(t *testing.T) {
			// Cem has a local account under another address and links the provider.
			cemLocal := coretest.Register(t, o.n, "cem.kaya@example.net", "Cem Kaya")
			b := newBrowser(t, o.base)
			b.must(303, "POST", "/sign-in", url.Values{"email": {cemLocal.Email}, "password": {cemLocal.Password}})
			page := b.must(200, "GET", "/me/identities", nil)
			if !strings.Contains(page.body, `href="/me/identities/city/link"`) {
				t.Fatalf("no link button: %s", page.body)
			}
			cb := o.callback(b, o.toProvider(b, "GET", "/me/identities/city/link"), cem)
			if p := b.do("GET", cb, nil, nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/me/identities" {
				t.Fatalf("link callback = %d to %q: %s", p.status, p.header.Get("Location"), p.body)
			}
			page = b.must(200, "GET", "/me/identities", nil)
			if !strings.Contains(page.body, "Unlink City ID") || !strings.Contains(page.body, cem.Email) {
				t.Fatalf("linked identity not listed: %s", page.body)
			}
			var audited int
			_ = coretest.SQL(o.n).Get(&audited, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.identity_linked'")
			if audited != 2 {
				t.Fatalf("%d link audit rows, want 2 (Bo's and Cem's)", audited)
			}
			// Linking the same identity to another account is refused.
			other := coretest.Register(t, o.n, "someone@example.net", "Someone")
			ob := newBrowser(t, o.base)
			ob.must(303, "POST", "/sign-in", url.Values{"email": {other.Email}, "password": {other.Password}})
			before := o.counts(t)
			cb = o.callback(ob, o.toProvider(ob, "GET", "/me/identities/city/link"), cem)
			if p := ob.do("GET", cb, nil, map[string]string{"Accept-Language": "en"}); p.status != http.StatusConflict || !strings.Contains(p.body, "linked to another account") {
				t.Fatalf("linking another's identity = %d: %s", p.status, p.body)
			}
			if after := o.counts(t); after != before {
				t.Fatalf("rows %v → %v", before, after)
			}
			// A link flow finished in a browser where someone else is signed in is refused.
			cb = o.callback(b, o.toProvider(b, "GET", "/me/identities/city/link"), cem)
			if p := ob.do("GET", cb, nil, nil); p.status != 400 {
				t.Fatalf("another browser finished the link: %d", p.status)
			}
			// Unlinking.
			if p := b.do("POST", "/me/identities/unlink", url.Values{"provider": {"city"}, "subject": {cem.ID}}, nil); p.status != http.StatusSeeOther {
				t.Fatalf("unlink = %d: %s", p.status, p.body)
			}
			var left int
			_ = coretest.SQL(o.n).Get(&left, "SELECT COUNT(*) FROM user_identities WHERE subject = 'sub-cem'")
			if left != 0 {
				t.Fatal("identity still linked")
			}
			if p := b.do("POST", "/me/identities/unlink", url.Values{"provider": {"city"}, "subject": {cem.ID}}, nil); p.status != http.StatusNotFound {
				t.Fatalf("unlinking again = %d", p.status)
			}
		})

		t.Run("ErrUnlinkLastWay", func(t *testing.T) {
			b := newBrowser(t, o.base)
			if p := o.signIn(b, dee); p.status != http.StatusSeeOther {
				t.Fatalf("sign-in = %d: %s", p.status, p.body)
			}
			var verified bool
			_ = coretest.SQL(o.n).Get(&verified, "SELECT email_verified_at IS NOT NULL FROM users WHERE email = 'dee@example.org'")
			if verified {
				t.Fatal("an address the provider did not verify counts as verified")
			}
			p := b.do("POST", "/me/identities/unlink", url.Values{"provider": {"city"}, "subject": {dee.ID}}, map[string]string{"Accept-Language": "en"})
			if p.status != 422 || !strings.Contains(p.body, "ainoa tapa kirjautua") || !strings.Contains(p.body, "ds-error-summary") { // her account speaks Finnish
				t.Fatalf("unlinking the only way in = %d: %s", p.status, p.body)
			}
		})

		t.Run("ExportAndErase", func(t *testing.T) {
			b := newBrowser(t, o.base)
			o.signIn(b, bo)
			c := coretest.NewClient(t, o.n)
			c.Token = sessionCookie(b, o.base)
			doc := c.Must(200, "GET", "/api/v1/me/export", nil).JSON()
			ids, _ := doc["identities"].([]any)
			if len(ids) != 1 || ids[0].(map[string]any)["subject"] != bo.ID {
				t.Fatalf("export identities = %v", doc["identities"])
			}
			c.Must(204, "DELETE", "/api/v1/me", nil)
			var left int
			_ = coretest.SQL(o.n).Get(&left, "SELECT COUNT(*) FROM user_identities WHERE subject = 'sub-bo'")
			if left != 0 {
				t.Fatal("identity outlived the account")
			}
		})
	})
}

// TestPages_OIDCProviderDown: a provider that does not answer discovery makes its
// button answer "temporarily unavailable" (503, Retry-After), and the rest of the
// site works.
func TestPages_OIDCProviderDown(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.OIDCProviders = []node.OIDCProviderConfig{{ID: "down", Issuer: "http://127.0.0.1:1", ClientID: "kvarter", Label: map[string]string{"en": "Down ID"}}}
		n := coretest.StartNode(t, cfg, coretest.Options())
		b := newBrowser(t, "http://"+n.Addr().String())
		p := b.do("GET", "/sign-in/down", nil, map[string]string{"Accept-Language": "en"})
		if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") == "" {
			t.Fatalf("a provider that is down = %d (Retry-After %q)", p.status, p.header.Get("Retry-After"))
		}
		if p := b.must(200, "GET", "/sign-in", nil); !strings.Contains(p.body, "Continue with Down ID") {
			t.Fatal("the sign-in page lost the provider's button")
		}
		b.must(404, "GET", "/sign-in/nobody", nil)
	})
}
