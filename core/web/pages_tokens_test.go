package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// TestPages_Tokens makes, uses and revokes personal API tokens through the page, and
// attacks what it promises: the secret is shown once and never stored by the browser,
// a read-only token cannot change anything (a plugin's route included), a refused form
// makes no token, and nobody revokes another person's token.
func TestPages_Tokens(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		aino := newPerson(t, n, "aino@example.org", "Aino Ääninen")
		elif := newPerson(t, n, "elif@example.org", "Elif Yılmaz")

		t.Run("ErrSignedOut", func(t *testing.T) {
			newBrowser(n).must(t, http.StatusSeeOther, "GET", "/me/tokens", nil, "/sign-in")
			newBrowser(n).must(t, http.StatusSeeOther, "POST", "/me/tokens", url.Values{"name": {"x"}, "scope": {"full"}}, "/sign-in")
		})

		b := signIn(t, n, aino)
		a := b.must(t, 200, "GET", "/me/tokens", nil)
		checkPage(t, a, "en")
		if !strings.Contains(a.body, "You have no API tokens.") {
			t.Errorf("a person without tokens is not told so: %s", a.body)
		}
		if v := checkedScope(a.body); v != core.ScopeRead {
			t.Errorf("the form offers scope %q first, want read", v)
		}

		t.Run("ErrRefusedMakesNothing", func(t *testing.T) {
			for _, form := range []url.Values{
				{"name": {""}, "scope": {"read"}},
				{"name": {"Pano"}, "scope": {"root"}},
				{"name": {"Pano"}},
				{"name": {"Pa\x00no"}, "scope": {"read"}},
				{"name": {strings.Repeat("ä", 101)}, "scope": {"read"}},
			} {
				checkRefused(t, b.do(t, "POST", "/me/tokens", form, nil), "en")
			}
			if toks := tokensOf(t, n, b); len(toks) != 0 {
				t.Errorf("refused forms made tokens: %+v", toks)
			}
		})

		var readTok, fullTok string
		t.Run("Create", func(t *testing.T) {
			a := b.must(t, 200, "POST", "/me/tokens", url.Values{"name": {"Uutispano"}, "scope": {"read"}})
			checkPage(t, a, "en")
			readTok = value(t, a.body, "new-token")
			if len(readTok) < 20 {
				t.Fatalf("the new token is not shown: %q", readTok)
			}
			if cc := a.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("the answer with the secret may be stored: Cache-Control %q", cc)
			}
			fullTok = value(t, b.must(t, 200, "POST", "/me/tokens", url.Values{"name": {"Kotiautomaatio"}, "scope": {"full"}}).body, "new-token")
			// Shown once: the list names the tokens, never their secrets.
			list := b.must(t, 200, "GET", "/me/tokens", nil).body
			for _, want := range []string{"Uutispano", "Kotiautomaatio", "Read only", "Full access", "Revoke “Uutispano”"} {
				if !strings.Contains(list, want) {
					t.Errorf("the list lacks %q", want)
				}
			}
			if strings.Contains(list, readTok) || strings.Contains(list, fullTok) {
				t.Error("the list shows a token's secret again")
			}
		})

		t.Run("ReadOnlyReadsButCannotAct", func(t *testing.T) {
			if st, _ := bearer(t, n, readTok, "GET", "/api/v1/me", ""); st != 200 {
				t.Errorf("GET /me with a read-only token = %d", st)
			}
			for _, req := range []struct{ method, path, body string }{
				{"POST", "/api/v1/me/tokens", `{"name":"escalate","scope":"full"}`},
				{"PATCH", "/api/v1/me", `{"display_name":"Mallory"}`},
				{"DELETE", "/api/v1/me", ""},
				{"POST", "/api/v1/someplugin/things", `{}`}, // refused before any plugin is asked
			} {
				st, body := bearer(t, n, readTok, req.method, req.path, req.body)
				if st != http.StatusForbidden || !strings.Contains(body, "may only read") {
					t.Errorf("%s %s with a read-only token = %d %s, want 403", req.method, req.path, st, body)
				}
			}
			me, err := n.Identity.Authenticate(context.Background(), readTok)
			if err != nil || me.DisplayName != aino.name {
				t.Errorf("the read-only token changed the account or stopped working: %+v %v", me, err)
			}
			if toks := tokensOf(t, n, b); len(toks) != 2 {
				t.Errorf("a read-only token made a token: %+v", toks)
			}
			if st, _ := bearer(t, n, fullTok, "POST", "/api/v1/me/tokens", `{"name":"script"}`); st != http.StatusCreated {
				t.Errorf("a full token cannot make a token: %d", st)
			}
		})

		t.Run("ErrRevokeAnothersToken", func(t *testing.T) {
			eb := signIn(t, n, elif)
			id := tokenID(t, n, b, "Uutispano")
			eb.must(t, http.StatusNotFound, "POST", "/me/tokens/"+id+"/revoke", url.Values{})
			if _, err := n.Identity.Authenticate(context.Background(), readTok); err != nil {
				t.Errorf("another person revoked Aino's token: %v", err)
			}
		})

		t.Run("Revoke", func(t *testing.T) {
			id := tokenID(t, n, b, "Uutispano")
			b.must(t, http.StatusSeeOther, "POST", "/me/tokens/"+id+"/revoke", url.Values{}, "/me/tokens")
			a := b.must(t, 200, "GET", "/me/tokens", nil)
			if !strings.Contains(a.body, "The token has been revoked.") || strings.Contains(a.body, "Uutispano") {
				t.Errorf("after revoking: %s", webtest.Text(checkPage(t, a, "en")))
			}
			if st, _ := bearer(t, n, readTok, "GET", "/api/v1/me", ""); st != http.StatusUnauthorized {
				t.Errorf("a revoked token still answers %d", st)
			}
		})
	})
}

// checkedScope is the value of the scope radio checked on the page.
func checkedScope(body string) string {
	m := regexp.MustCompile(`name="scope" value="(\w+)" checked`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// bearer sends one API request with an Authorization header, as a script does.
func bearer(t *testing.T, n *node.Node, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, n.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// tokensOf lists the tokens of the person signed in to b through the API.
func tokensOf(t *testing.T, n *node.Node, b *browser) []core.Session {
	t.Helper()
	st, body := bearer(t, n, sessionOf(t, b), "GET", "/api/v1/me/tokens", "")
	if st != 200 {
		t.Fatalf("list tokens: %d %s", st, body)
	}
	var page struct {
		Items []core.Session `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func tokenID(t *testing.T, n *node.Node, b *browser, name string) string {
	t.Helper()
	for _, s := range tokensOf(t, n, b) {
		if s.Name == name {
			return s.ID
		}
	}
	t.Fatalf("no token named %q", name)
	return ""
}
