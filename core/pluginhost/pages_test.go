package pluginhost_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/pluginhost"
	"github.com/kvarter/kvarter/sdk"
)

// principal is who the node takes u's bearer token for; nil u is anonymous.
func principal(t *testing.T, n *node.Node, u *coretest.User) *core.Principal {
	t.Helper()
	if u == nil {
		return &core.Principal{}
	}
	p, err := n.Identity.Authenticate(context.Background(), u.Token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func page(n *node.Node, pr *core.Principal, method, path, body string, render sdk.Render, lang string) (*pluginhost.PageResponse, error) {
	r := &pluginhost.PageRequest{Method: method, Path: path, Render: render, Language: lang, Body: []byte(body)}
	if body != "" {
		r.Header = map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}
	}
	if p, q, ok := strings.Cut(path, "?"); ok {
		r.Path, r.RawQuery = p, q
	}
	return n.Plugins.ServePage(context.Background(), pr, r)
}

func mustPage(t *testing.T, n *node.Node, pr *core.Principal, want int, method, path, body string, render sdk.Render, lang string) *pluginhost.PageResponse {
	t.Helper()
	resp, err := page(n, pr, method, path, body, render, lang)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.Status != want {
		t.Fatalf("%s %s = %d, want %d: %s %+v", method, path, resp.Status, want, resp.HTML, resp.Error)
	}
	return resp
}

// TestHost_ServePage: a page reaches the plugin with the render mode and language
// and comes back with its metadata; forms answer 303 and 422; errors come back as
// codes for the frame's panels; redirects and metadata cannot lead off the site.
func TestHost_ServePage(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha")
		anon := principal(t, n, nil)

		r := mustPage(t, n, anon, 200, "GET", "/alpha/page", "", sdk.RenderPage, "fi")
		if h := string(r.HTML); !strings.Contains(h, `<p id="render">page</p><p id="lang">fi</p>`) {
			t.Errorf("the plugin saw %s", h)
		}
		if r.Meta.Title != "Sivu – fi" || r.Meta.NavActive != "main" || r.Meta.Announce != "Tallennettu" {
			t.Errorf("meta %+v", r.Meta)
		}
		// A crumb off the site and focus on a frame element are dropped.
		if len(r.Meta.Breadcrumbs) != 1 || r.Meta.Breadcrumbs[0].Href != "/alpha/page" || r.Meta.Focus != "" {
			t.Errorf("breadcrumbs %+v, focus %q", r.Meta.Breadcrumbs, r.Meta.Focus)
		}
		if got := string(mustPage(t, n, anon, 200, "GET", "/alpha/page", "", sdk.RenderFragment, "tr").HTML); !strings.Contains(got, `<p id="render">fragment</p><p id="lang">tr</p>`) {
			t.Errorf("fragment: %s", got)
		}

		// Post/Redirect/Get, and 422 with the value kept.
		bad := mustPage(t, n, anon, 422, "POST", "/alpha/page", "v=%3Cb%3Enope", sdk.RenderPage, "en")
		if !strings.Contains(string(bad.HTML), `value="&lt;b&gt;nope"`) || bad.Meta.Focus != "error-summary" {
			t.Errorf("422: %s %+v", bad.HTML, bad.Meta)
		}
		ok := mustPage(t, n, anon, 303, "POST", "/alpha/page", "v=ok", sdk.RenderPage, "en")
		if loc := ok.Header.Get("Location"); loc != "/alpha/page?done=1" {
			t.Errorf("303 to %q", loc)
		}

		// The plugin's error answer becomes a code for the frame's panel.
		missing := mustPage(t, n, anon, 404, "GET", "/alpha/missing", "", sdk.RenderPage, "en")
		if missing.Error == nil || missing.Error.Code != core.ENOTFOUND || len(missing.HTML) != 0 {
			t.Errorf("missing: %+v %s", missing.Error, missing.HTML)
		}
		for _, path := range []string{"/alpha/offsite", "/alpha/json"} {
			if _, err := page(n, anon, "GET", path, "", sdk.RenderPage, "en"); core.ErrorCode(err) != core.EINTERNAL {
				t.Errorf("%s answered %v, want an internal error", path, err)
			}
		}

		// Only declared pages, only with their methods; API routes are not pages and
		// pages are not API routes.
		for _, c := range []struct{ method, path string }{
			{"GET", "/alpha/ping"}, {"PUT", "/alpha/page"}, {"GET", "/api/v1/alpha/ping"}, {"GET", "/nobody/page"}, {"GET", "/alpha"},
		} {
			if _, err := page(n, anon, c.method, c.path, "", sdk.RenderPage, "en"); core.ErrorCode(err) != core.ENOTFOUND {
				t.Errorf("%s %s: %v, want not found", c.method, c.path, err)
			}
		}
		if _, err := n.Plugins.Serve(context.Background(), anon, &core.PluginRequest{Method: "GET", Path: "/alpha/page"}); core.ErrorCode(err) != core.ENOTFOUND {
			t.Errorf("a page through the API: %v", err)
		}
		if got := strings.Join(n.Plugins.Allow("/alpha/page"), " "); got != "GET HEAD POST" || !n.Plugins.OwnsPage("/alpha/page") || n.Plugins.OwnsPage("/admin/users") {
			t.Errorf("Allow /alpha/page = %q", got)
		}
		if paths := n.Plugins.OpenAPIPaths(); paths["/alpha/page"] != nil || paths["/api/v1/alpha/ping"] == nil {
			t.Errorf("OpenAPI paths: %v", paths)
		}
	})
}

// TestHost_PagePermissions: a page's permission is checked in its domain by the host,
// before the plugin sees anything.
func TestHost_PagePermissions(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha")
		admin := coretest.Admin(t, n, "admin@city.example")
		res, nbh := verifiedMember(t, n, admin, "res@city.example")
		outsider := coretest.Register(t, n, "out@city.example", "Outsider")
		path := "/alpha/nbh/" + nbh + "/page"

		before := calls(t, n, "alpha")
		for who, want := range map[string]string{"": core.EUNAUTHENTICATED, "outsider": core.EFORBIDDEN} {
			u := map[string]*coretest.User{"": nil, "outsider": outsider}[who]
			if _, err := page(n, principal(t, n, u), "GET", path, "", sdk.RenderPage, "en"); core.ErrorCode(err) != want {
				t.Errorf("%q: %v, want %s", who, err, want)
			}
		}
		if got := calls(t, n, "alpha"); got != before {
			t.Errorf("refused pages reached the plugin: %v calls, %v before", got, before)
		}
		r := mustPage(t, n, principal(t, n, res), 200, "GET", path, "", sdk.RenderPage, "en")
		if !strings.Contains(string(r.HTML), `<p id="nbh">`+nbh+`</p>`) {
			t.Errorf("member: %s", r.HTML)
		}
	})
}

// TestHost_PageFilter: a third-party plugin's HTML is filtered always, a built-in's
// when the host is told to; the page still arrives without what the filter removes.
func TestHost_PageFilter(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		b, err := os.ReadFile(probeBin)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		n := startNodeWith(t, db, func(cfg *node.Config, opt *node.Options) {
			cfg.Plugins = append(cfg.Plugins, node.PluginConfig{Name: "gamma", Path: probeBin, SHA256: hex.EncodeToString(sum[:])})
			opt.FilterBuiltinHTML = false // as in a city: coretest turns it on for every other test
		}, "alpha")
		anon := principal(t, n, nil)
		for _, c := range []struct {
			plugin   string
			filtered bool
		}{{"alpha", false}, {"gamma", true}} {
			h := string(mustPage(t, n, anon, 200, "GET", "/"+c.plugin+"/evil", "", sdk.RenderPage, "en").HTML)
			if got := strings.Contains(h, "<script>"); got == c.filtered {
				t.Errorf("%s: script in the page %v, want %v: %s", c.plugin, got, !c.filtered, h)
			}
			if !strings.Contains(h, "<p>after</p>") {
				t.Errorf("%s: the page lost its content: %s", c.plugin, h)
			}
		}
		n.Plugins.FilterBuiltinHTML(true)
		h := string(mustPage(t, n, anon, 200, "GET", "/alpha/evil", "", sdk.RenderPage, "en").HTML)
		checkFiltered(t, "", strings.ReplaceAll(h, "alpha", "hello"))
		for _, bad := range []string{"<script", "onclick", "javascript:", "hx-post", "evil.example", "<svg", "</main>", "kv-status"} {
			if strings.Contains(h, bad) {
				t.Errorf("built-in filtered on request: %q left in %s", bad, h)
			}
		}
	})
}

// TestHost_PageUnavailable: a plugin that is down answers *Unavailable, which is the
// API's 503 too; once it has failed for good its cards are links and its nav entries
// are gone, while another plugin's pages answer as before.
func TestHost_PageUnavailable(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha", "beta")
		anon := principal(t, n, nil)
		mustPage(t, n, anon, 200, "GET", "/alpha/page", "", sdk.RenderPage, "en")
		for i := range pluginhost.CrashBudget {
			waitFor(t, 15*time.Second, "alpha running", func() bool { return n.Plugins.Pid("alpha") != 0 })
			pid := n.Plugins.Pid("alpha")
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				// At once, before the host restarts it.
				_, err := page(n, anon, "GET", "/alpha/page", "", sdk.RenderPage, "en")
				var u *pluginhost.Unavailable
				if !errors.As(err, &u) || u.Plugin != "alpha" || u.RetryAfterSeconds != pluginhost.RetryAfterDown || core.ErrorCode(err) != core.EUNAVAILABLE {
					t.Fatalf("killed plugin answered %v (%+v)", err, u)
				}
			}
			waitFor(t, 15*time.Second, "alpha down", func() bool { return n.Plugins.Pid("alpha") != pid })
		}
		waitFor(t, 15*time.Second, "alpha failed", func() bool { return state(n, "alpha").State == core.PluginFailed })

		_, err := page(n, anon, "GET", "/alpha/page", "", sdk.RenderPage, "en")
		var u *pluginhost.Unavailable
		if !errors.As(err, &u) || u.State != core.PluginFailed || u.RetryAfterSeconds != pluginhost.RetryAfterFailed {
			t.Fatalf("failed plugin answered %v (%+v)", err, u)
		}
		var alphaCards int
		for _, c := range n.Plugins.Cards(context.Background(), pluginhost.CardRequest{Slot: pluginhost.SlotHome, Viewer: anon, Language: "en"}) {
			if c.Plugin != "alpha" {
				continue
			}
			alphaCards++
			if !c.Fallback || c.Link != "/alpha/page" || c.Label == "" {
				t.Errorf("card of a failed plugin: %+v", c)
			}
		}
		if alphaCards != 3 {
			t.Errorf("%d cards of the failed plugin, want its 3 public ones as links", alphaCards)
		}
		for _, item := range n.Plugins.Nav(anon, "en") {
			if item.Plugin == "alpha" {
				t.Errorf("nav entry of a failed plugin: %+v", item)
			}
		}
		mustPage(t, n, anon, 200, "GET", "/beta/page", "", sdk.RenderPage, "en")
	})
}

// TestHost_Nav: entries come from the manifests, filtered per viewer by the same
// authorizer as routes, in the viewer's language, then the city's, then English.
func TestHost_Nav(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha", "beta")
		admin := coretest.Admin(t, n, "admin@city.example")
		res := coretest.Register(t, n, "res@city.example", "Resident")
		ids := func(items []pluginhost.NavItem) string {
			var out []string
			for _, i := range items {
				out = append(out, i.Plugin+"."+i.ID)
			}
			return strings.Join(out, " ")
		}
		anon := n.Plugins.Nav(principal(t, n, nil), "fi")
		if got := ids(anon); got != "alpha.main beta.main" {
			t.Errorf("anonymous sees %q", got)
		}
		if anon[0].Label != "alpha sivu" || anon[0].Lang != "fi" || anon[0].Path != "/alpha/page" {
			t.Errorf("entry %+v", anon[0])
		}
		if got := ids(n.Plugins.Nav(principal(t, n, res), "sv-FI")); got != "alpha.members beta.members alpha.main beta.main" {
			t.Errorf("resident sees %q", got)
		}
		if got := n.Plugins.Nav(principal(t, n, res), "sv-FI")[0]; got.Label != "alpha medlemmar" || got.Lang != "sv" {
			t.Errorf("sv-FI label %+v", got)
		}
		// No Danish label: the city's default language, then English.
		def := n.Config.City.Languages[0]
		want := map[string]string{"fi": "alpha sivu"}[def]
		if want == "" {
			want = "alpha page"
		}
		if got := n.Plugins.Nav(principal(t, n, nil), "da")[0]; got.Label != want {
			t.Errorf("da label %+v, want %q (city default %s)", got, want, def)
		}
		if got := ids(n.Plugins.Nav(principal(t, n, admin), "en")); !strings.Contains(got, "alpha.runners") {
			t.Errorf("city admin sees %q", got)
		}
	})
}

// TestHost_Cards: cards are fetched in parallel; the page gets them when all have
// answered or the deadline passed: a hanging card and a failing one are links with
// their labels, and the hanging request is cancelled.
func TestHost_Cards(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha")
		n.Plugins.FilterBuiltinHTML(true)
		admin := coretest.Admin(t, n, "admin@city.example")
		res, nbh := verifiedMember(t, n, admin, "res@city.example")
		anon := principal(t, n, nil)
		before := mustCall(t, n, 200, "GET", "/api/v1/alpha/cancelled", "").json(t)["cancelled"].(float64)

		deadline := 300 * time.Millisecond
		start := time.Now()
		cards := n.Plugins.Cards(context.Background(), pluginhost.CardRequest{Slot: pluginhost.SlotHome, Viewer: anon, Language: "fi", Deadline: deadline})
		took := time.Since(start)
		// The slow card sleeps 30 s unless cancelled: returning at all shows the page
		// did not wait for it.
		if took < deadline || took > 10*time.Second {
			t.Errorf("cards took %s with a deadline of %s", took, deadline)
		}
		got := map[string]pluginhost.CardResult{}
		for _, c := range cards {
			got[c.ID] = c
		}
		if len(cards) != 3 || got["members"].ID != "" {
			t.Fatalf("anonymous cards %+v", cards)
		}
		if q := got["quick"]; q.Fallback || !strings.Contains(string(q.HTML), `<p class="card">alpha fragment</p>`) || strings.Contains(string(q.HTML), "script") {
			t.Errorf("quick card %+v %s", q, q.HTML)
		}
		if s := got["slow"]; !s.Fallback || s.Label != "alpha hidas" || s.Lang != "fi" || s.Link != "/alpha/page" || len(s.HTML) != 0 {
			t.Errorf("slow card %+v", s)
		}
		if f := got["fail"]; !f.Fallback || f.Label != "alpha fail" || f.Lang != "en" {
			t.Errorf("failing card %+v", f)
		}
		waitFor(t, 5*time.Second, "the late card's request cancelled", func() bool {
			return mustCall(t, n, 200, "GET", "/api/v1/alpha/cancelled", "").json(t)["cancelled"].(float64) > before
		})

		// Neighbourhood cards take the neighbourhood from the page, and its permission.
		q := pluginhost.CardRequest{Slot: pluginhost.SlotNeighbourhood, Viewer: principal(t, n, res), Params: map[string]string{"nbh": nbh}, Base: "/n/x"}
		if c := n.Plugins.Cards(context.Background(), q); len(c) != 1 || c[0].Fallback || !strings.Contains(string(c[0].HTML), nbh) {
			t.Errorf("member's neighbourhood card %+v", c)
		}
		outsider := coretest.Register(t, n, "out@city.example", "Outsider")
		q.Viewer = principal(t, n, outsider)
		if c := n.Plugins.Cards(context.Background(), q); len(c) != 0 {
			t.Errorf("outsider's neighbourhood cards %+v", c)
		}
		q.Viewer, q.Params = principal(t, n, res), map[string]string{"nbh": "../../api"}
		if c := n.Plugins.Cards(context.Background(), q); len(c) != 0 {
			t.Errorf("a parameter that changes the path: %+v", c)
		}
	})
}

// TestHost_RefusesBadUI: a manifest whose pages or UI would reach outside the plugin
// is refused activation with a message naming the problem.
func TestHost_RefusesBadUI(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "offpage", "badnav", "badcard")
		for name, want := range map[string]string{
			"offpage": "path must start with /offpage/",
			"badnav":  `nav entry "api": path "/api/v1/badnav/ping" must be one of the plugin's GET pages`,
			"badcard": `card "away": link "https://evil.example/" must be a path on this site`,
		} {
			if st := state(n, name); st.State != core.PluginFailed || !strings.Contains(st.LastError, want) {
				t.Errorf("%s: state %s, error %q; want failed with %q", name, st.State, st.LastError, want)
			}
		}
	})
}
