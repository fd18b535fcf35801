package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/oidc/oidctest"
)

// TestOIDCPages signs people in with the city's identity provider — a real one,
// zitadel/oidc's example OP on loopback — in a real browser, in every language: the
// sign-in and registration pages with the provider's button, the provider's login,
// the callback, the sign-in services page, RP-initiated sign-out through the
// provider, the page that asks for a local sign-in before linking an address that has
// an account, and a refused callback's page. Each page passes axe (WCAG 2.2 A/AA); the
// link page's password field takes a password manager's or a paste's value (WCAG
// 3.3.8: no cognitive test).
func TestOIDCPages(t *testing.T) {
	var users []oidctest.User
	for _, lang := range languages {
		users = append(users,
			oidctest.User{ID: "new-" + lang, Username: "new-" + lang, Password: "verysecure", FirstName: "Elif", LastName: "Şahin " + lang,
				Email: "elif." + lang + "@example.org", EmailVerified: true},
			oidctest.User{ID: "link-" + lang, Username: "link-" + lang, Password: "verysecure", FirstName: "Jonas", LastName: "Åberg",
				Email: "jonas." + lang + "@example.org", EmailVerified: true})
	}
	op := oidctest.Start(t, users...)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("e2e-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := coretest.Databases(t)[0].Config
	cfg.City.Languages = languages
	cfg.OIDCProviders = []node.OIDCProviderConfig{{ID: "city", Issuer: op.Issuer, ClientID: "kvarter", ClientSecretFile: secret,
		Label: map[string]string{"en": "Karşıyaka ID", "fi": "Karşıyaka ID", "sv": "Karşıyaka ID", "da": "Karşıyaka ID", "tr": "Karşıyaka Kimlik"}}}
	n := coretest.StartNode(t, cfg, coretest.Options())
	base := n.URL()
	op.AddClient("kvarter", "e2e-secret", base+"/sign-in/city/callback")

	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			local := coretest.Register(t, n, "jonas."+lang+"@example.org", "Jonas Åberg")
			p := SharedBrowser(t).NewPage(t)
			p.Open(base + "/")
			switchLanguage(p, lang)
			checkLang := func(where string) {
				t.Helper()
				if got := Eval[string](p, "document.documentElement.lang"); got != lang {
					t.Errorf("%s: <html lang=%q>, want %q", where, got, lang)
				}
			}

			for _, path := range []string{"/sign-in", "/register"} {
				p.Open(base + path)
				checkLang(path)
				if n := Eval[int](p, `document.querySelectorAll('main a[href="/sign-in/city"]').length`); n != 1 {
					t.Errorf("%s: %d provider buttons, want 1", path, n)
				}
				p.AssertAccessible()
			}

			// The browser flow: the button, the provider's login form, back signed in.
			p.Open(base + "/sign-in")
			p.WaitLoad(func() { p.Click(`main a[href="/sign-in/city"]`) })
			if loc := p.Location(); !strings.HasPrefix(loc, op.Issuer) {
				t.Fatalf("the button led to %s, want the provider", loc)
			}
			p.Fill("#username", "new-"+lang)
			p.Fill("#password", "verysecure")
			p.WaitLoad(func() { p.Submit("form") })
			if loc := p.Location(); loc != base+"/" {
				t.Fatalf("after the provider the browser is at %s, want home", loc)
			}
			if txt := Eval[string](p, "document.body.innerText"); !strings.Contains(txt, "Elif Şahin "+lang) {
				t.Fatalf("home does not show the provider's name: %q", txt)
			}
			checkLang("home after the provider")
			p.AssertAccessible()
			p.Open(base + "/me/identities")
			checkLang("/me/identities")
			if n := Eval[int](p, `document.querySelectorAll('main form[action="/me/identities/unlink"]').length`); n != 1 {
				t.Errorf("/me/identities lists %d identities, want 1", n)
			}
			p.AssertAccessible()

			// Signing out goes through the provider's end_session_endpoint and back.
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
			if loc := p.Location(); !strings.HasPrefix(loc, base+"/") {
				t.Fatalf("after signing out the browser is at %s, want home", loc)
			}
			if txt := Eval[string](p, "document.body.innerText"); strings.Contains(txt, "Elif Şahin") {
				t.Fatal("still signed in after signing out")
			}

			// An address that has an account: a local sign-in first, never a silent link.
			p.Open(base + "/sign-in")
			p.WaitLoad(func() { p.Click(`main a[href="/sign-in/city"]`) })
			p.Fill("#username", "link-"+lang)
			p.Fill("#password", "verysecure")
			p.WaitLoad(func() { p.Submit("form") })
			if loc := p.Location(); loc != base+"/sign-in/link" {
				t.Fatalf("an address with an account led to %s, want the link page", loc)
			}
			checkLang("/sign-in/link")
			p.AssertAccessible()
			// Accessible authentication: the password field is one a password manager
			// fills and a paste reaches.
			if ac := Eval[string](p, `document.querySelector('main input[type=password]').autocomplete`); ac != "current-password" {
				t.Errorf("the link page's password field has autocomplete %q", ac)
			}
			pasted := Eval[bool](p, `(() => {
				const f = document.querySelector('main input[type=password]');
				f.focus();
				const dt = new DataTransfer(); dt.setData('text/plain', 'pasted');
				const allowed = f.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
				f.value = '';
				return allowed && !f.readOnly && !f.hasAttribute('onpaste');
			})()`)
			if !pasted {
				t.Error("the link page's password field refuses a paste")
			}
			p.WaitLoad(func() { p.Submit("main form") }) // no password: refused, summary focused
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a refused link the focus is on %q, want the error summary", got)
			}
			p.AssertAccessible()
			p.Fill(`main input[name="password"]`, local.Password)
			p.WaitLoad(func() { p.Submit("main form") })
			if txt := Eval[string](p, "document.body.innerText"); !strings.Contains(txt, "Jonas Åberg") {
				t.Fatalf("not signed in after linking: %q", txt)
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// A forged callback: the page that says so.
			p.Open(base + "/sign-in/city/callback?state=forged&code=stolen")
			checkLang("a refused callback")
			if h := p.Text("main h1"); h == "" {
				t.Error("the refused callback's page has no heading")
			}
			p.AssertAccessible()
		})
	}
}
