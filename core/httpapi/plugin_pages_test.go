package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/httpapi"
	"github.com/kvarter/kvarter/sdk"
)

// pagePlugins is a plugin service that serves pages only, as the host would answer
// them, and records what the frame asked. cmd/kvarter's TestMain_PluginPages drives
// the real host and plugins; this one attacks the frame's side alone.
type pagePlugins struct {
	core.PluginService
	answer func(r *core.PageRequest) (*core.PageResponse, error)
	nav    []core.NavItem

	mu   sync.Mutex
	seen []core.PageRequest
}

func (f *pagePlugins) Owns(string) bool              { return false }
func (f *pagePlugins) BodyLimit(string, string) int  { return 0 }
func (f *pagePlugins) RequestTimeout() time.Duration { return 10 * time.Second }
func (f *pagePlugins) Allow(string) []string         { return nil }
func (f *pagePlugins) OwnsPage(path string) bool     { return strings.HasPrefix(path, "/kiosk/") }
func (f *pagePlugins) Nav(*core.Principal, string) []core.NavItem {
	return f.nav
}
func (f *pagePlugins) NavVersion() uint64 { return 0 } // the entries are set once

func (f *pagePlugins) Cards(context.Context, core.CardRequest) []core.CardResult { return nil }
func (f *pagePlugins) DataUses(string) []core.PluginDataUse                      { return nil }

func (f *pagePlugins) ServePage(_ context.Context, _ *core.Principal, r *core.PageRequest) (*core.PageResponse, error) {
	f.mu.Lock()
	f.seen = append(f.seen, *r)
	f.mu.Unlock()
	return f.answer(r)
}

func (f *pagePlugins) last(t *testing.T) core.PageRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		t.Fatal("the plugin was not asked")
	}
	return f.seen[len(f.seen)-1]
}

func (f *pagePlugins) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

// noSessions knows no session: every cookie is stale.
type noSessions struct{ core.IdentityService }

func (noSessions) Authenticate(context.Context, string) (*core.Principal, error) {
	return nil, core.Errorf(core.EUNAUTHENTICATED, "no such session")
}

func startPages(t *testing.T, f *pagePlugins) *browser {
	t.Helper()
	s := httpapi.New(httpapi.Services{Plugins: f, Identity: noSessions{}}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)),
		httpapi.Config{Pages: httpapi.PagesConfig{CityName: "Hamina", Languages: []string{"fi", "sv", "en"}}})
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return newBrowser(t, "http://"+addr.String())
}

func htmlAnswer(status int, body string, meta sdk.PageMeta) *core.PageResponse {
	return &core.PageResponse{Status: status, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, HTML: []byte(body), Meta: meta}
}

// TestPluginPages_Frame: the frame around a plugin's content takes its metadata, and
// what the plugin is asked carries the render mode and language but no credentials.
func TestPluginPages_Frame(t *testing.T) {
	f := &pagePlugins{
		nav: []core.NavItem{
			{Plugin: "other", ID: "list", Path: "/other/list", Label: "Muu", Lang: "fi"},
			{Plugin: "kiosk", ID: "list", Path: "/kiosk/list", Label: "Kioski", Lang: "fi"},
			{Plugin: "kiosk", ID: "map", Path: "/kiosk/map", Label: "Karta", Lang: "sv"},
		},
		answer: func(r *core.PageRequest) (*core.PageResponse, error) {
			return htmlAnswer(http.StatusOK, `<p id="intro">Tervetuloa</p><input id="q">`, sdk.PageMeta{
				Title: "Kioskit", NavActive: "list", Announce: "Haku päivitetty", Focus: "q",
				Breadcrumbs: []sdk.Crumb{{Label: "Palvelut", Href: "/kiosk/"}},
			}), nil
		},
	}
	b := startPages(t, f)

	t.Run("Page", func(t *testing.T) {
		p := b.do("GET", "/kiosk/list?sivu=2", nil, map[string]string{"Accept-Language": "fi", "Cookie": "kvarter_session=secret",
			"Authorization": "Bearer secret"})
		if p.status != 200 {
			t.Fatalf("status %d: %s", p.status, p.body)
		}
		for _, want := range []string{
			`<html lang="fi">`, `<title>Kioskit – Hamina</title>`, `<h1 class="ds-heading">Kioskit</h1>`,
			`<a class="ds-link" href="/">Etusivu</a>`, `<a class="ds-link" href="/kiosk/">Palvelut</a>`,
			`<a class="ds-link" href="/kiosk/list" aria-current="page">Kioskit</a>`, // the last crumb
			`<li><a class="ds-link" href="/kiosk/list" aria-current="page">Kioski</a></li>`,
			`<li><a class="ds-link" href="/other/list">Muu</a></li>`, // the same id in another plugin is not current
			`<li><a class="ds-link" href="/kiosk/map" lang="sv">Karta</a></li>`,
			`role="status" aria-live="polite">Haku päivitetty</div>`,
			`<input id="q" autofocus>`,
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the page lacks %s:\n%s", want, p.body)
			}
		}
		r := f.last(t)
		if r.Render != sdk.RenderPage || r.Language != "fi" || r.Method != "GET" || r.RawQuery != "sivu=2" {
			t.Errorf("asked %+v", r)
		}
		if r.Header.Get("Cookie") != "" || r.Header.Get("Authorization") != "" {
			t.Errorf("credentials reached the plugin: %v", r.Header)
		}
	})

	t.Run("HTMXMain", func(t *testing.T) {
		p := b.do("GET", "/kiosk/list", nil, map[string]string{"Accept-Language": "sv", "HX-Request": "true", "HX-Target": "main#main"})
		if p.status != 200 || strings.Contains(p.body, "<html") || !strings.Contains(p.body, `<title>Kioskit – Hamina</title>`) ||
			!strings.Contains(p.body, `<h1 class="ds-heading">Kioskit</h1>`) {
			t.Errorf("status %d, want <main>'s content with the title:\n%s", p.status, p.body)
		}
		if r := f.last(t); r.Render != sdk.RenderPage || r.Language != "sv" {
			t.Errorf("asked %+v", r)
		}
	})

	t.Run("HTMXInsideMain", func(t *testing.T) {
		p := b.do("GET", "/kiosk/list", nil, map[string]string{"Accept-Language": "en", "HX-Request": "true", "HX-Target": "#results"})
		want := `<p id="intro">Tervetuloa</p><input id="q" autofocus><div hx-swap-oob="innerHTML:#kv-status">Haku päivitetty</div>`
		if p.status != 200 || p.body != want {
			t.Errorf("status %d, body\n%s\nwant the fragment alone:\n%s", p.status, p.body, want)
		}
		if r := f.last(t); r.Render != sdk.RenderFragment {
			t.Errorf("asked %+v", r)
		}
	})

	t.Run("Head", func(t *testing.T) {
		p := b.do("HEAD", "/kiosk/list", nil, nil)
		if p.status != 200 || p.body != "" {
			t.Errorf("HEAD: %d %q", p.status, p.body)
		}
		if r := f.last(t); r.Method != "GET" {
			t.Errorf("HEAD asked the plugin %s", r.Method)
		}
	})
}

// TestPluginPages_Answers: redirects, refusals and a plugin that is down.
func TestPluginPages_Answers(t *testing.T) {
	var mu sync.Mutex
	var next func(*core.PageRequest) (*core.PageResponse, error)
	f := &pagePlugins{answer: func(r *core.PageRequest) (*core.PageResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		return next(r)
	}}
	answer := func(fn func(*core.PageRequest) (*core.PageResponse, error)) {
		mu.Lock()
		next = fn
		mu.Unlock()
	}
	b := startPages(t, f)
	fi := map[string]string{"Accept-Language": "fi"}

	t.Run("RedirectPassesThrough", func(t *testing.T) {
		answer(func(*core.PageRequest) (*core.PageResponse, error) {
			return &core.PageResponse{Status: http.StatusSeeOther, Header: http.Header{"Location": {"/kiosk/list?ok=1"}}}, nil
		})
		p := b.do("POST", "/kiosk/list", map[string][]string{"name": {"Kioski 1"}}, fi)
		if p.status != 303 || p.header.Get("Location") != "/kiosk/list?ok=1" {
			t.Fatalf("%d %v", p.status, p.header)
		}
		if r := f.last(t); string(r.Body) != "name=Kioski+1" || r.Method != "POST" {
			t.Errorf("the plugin got %s %q", r.Method, r.Body)
		}
	})

	// A NUL or broken UTF-8 in a page's path or query never reaches the plugin (its
	// database would answer a 500 on PostgreSQL): the frame answers 400.
	t.Run("BadURLNeverReachesThePlugin", func(t *testing.T) {
		answer(func(*core.PageRequest) (*core.PageResponse, error) {
			return htmlAnswer(200, "<p>ok</p>", sdk.PageMeta{}), nil
		})
		for _, path := range []string{"/kiosk/%00/remove", "/kiosk/%FF", "/kiosk/list?q=a%00b", "/kiosk/list?q=%C3%28"} {
			before := f.count()
			p := b.do("GET", path, nil, fi)
			if p.status != http.StatusBadRequest || f.count() != before {
				t.Errorf("GET %s = %d, plugin asked %d times", path, p.status, f.count()-before)
			}
		}
		if p := b.do("GET", "/kiosk/list?q=%C3%A4", nil, fi); p.status != 200 {
			t.Errorf("a clean query with ä = %d", p.status)
		}
	})

	t.Run("RedirectOffSiteRefused", func(t *testing.T) {
		answer(func(*core.PageRequest) (*core.PageResponse, error) {
			return &core.PageResponse{Status: http.StatusFound, Header: http.Header{"Location": {"//evil.example/"}}}, nil
		})
		if p := b.do("GET", "/kiosk/list", nil, fi); p.status != 500 || p.header.Get("Location") != "" {
			t.Fatalf("%d %v", p.status, p.header)
		}
	})

	t.Run("CrossSiteRefused", func(t *testing.T) {
		before := f.count()
		for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}} {
			req, _ := http.NewRequest("POST", b.base+"/kiosk/list", strings.NewReader("name=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range h {
				req.Header.Set(k, v)
			}
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 {
				t.Errorf("%v: %d", h, resp.StatusCode)
			}
		}
		if f.count() != before {
			t.Errorf("a cross-site post reached the plugin")
		}
	})

	t.Run("Unauthenticated", func(t *testing.T) {
		answer(func(*core.PageRequest) (*core.PageResponse, error) {
			return nil, core.Errorf(core.EUNAUTHENTICATED, "Sign in.")
		})
		p := b.do("GET", "/kiosk/mine?x=1", nil, fi)
		if p.status != 303 || p.header.Get("Location") != "/sign-in?back=%2Fkiosk%2Fmine%3Fx%3D1" {
			t.Fatalf("%d %v", p.status, p.header)
		}
	})

	t.Run("Panels", func(t *testing.T) {
		for _, tc := range []struct {
			err    error
			resp   *core.PageResponse
			status int
		}{
			{err: core.Errorf(core.EFORBIDDEN, "no"), status: 403},
			{err: core.Errorf(core.ENOTFOUND, "no"), status: 404},
			{resp: &core.PageResponse{Status: 404, Error: &core.Error{Code: core.ENOTFOUND, Message: "No such kiosk."}}, status: 404},
			{resp: &core.PageResponse{Status: 409, Error: &core.Error{Code: core.ECONFLICT, Message: "Taken."}}, status: 409},
			{resp: &core.PageResponse{Status: 403, Header: http.Header{}}, status: 403},
		} {
			answer(func(*core.PageRequest) (*core.PageResponse, error) { return tc.resp, tc.err })
			p := b.do("GET", "/kiosk/list", nil, fi)
			if p.status != tc.status || !strings.Contains(p.body, `<html lang="fi">`) || !strings.Contains(p.body, `<footer`) {
				t.Errorf("%v %+v: %d, want %d in the frame:\n%s", tc.err, tc.resp, p.status, tc.status, p.body)
			}
			if strings.Contains(p.body, "No such kiosk") || strings.Contains(p.body, "Taken.") {
				t.Errorf("the plugin's English message reached the Finnish panel:\n%s", p.body)
			}
		}
	})

	t.Run("Unavailable", func(t *testing.T) {
		answer(func(*core.PageRequest) (*core.PageResponse, error) {
			e := core.Errorf(core.EUNAVAILABLE, "The kiosk module is out of service.")
			e.RetryAfterSeconds = 60
			return nil, &core.Unavailable{Plugin: "kiosk", State: core.PluginFailed, RetryAfterSeconds: 60, Err: e}
		})
		p := b.do("GET", "/kiosk/list", nil, fi)
		if p.status != 503 || p.header.Get("Retry-After") != "60" {
			t.Fatalf("%d Retry-After %q", p.status, p.header.Get("Retry-After"))
		}
		if !strings.Contains(p.body, "Palvelu ei ole tilapäisesti käytettävissä") || !strings.Contains(p.body, `<html lang="fi">`) {
			t.Errorf("not the Finnish panel in the frame:\n%s", p.body)
		}
		// The core's pages answer meanwhile.
		if p := b.do("GET", "/sign-in", nil, fi); p.status != 200 {
			t.Errorf("sign-in: %d", p.status)
		}
	})

	t.Run("NoPluginOwnsIt", func(t *testing.T) {
		before := f.count()
		if p := b.do("GET", "/nobody/list", nil, fi); p.status != 404 {
			t.Errorf("%d", p.status)
		}
		if f.count() != before {
			t.Error("the plugin was asked for a path it does not own")
		}
	})
}
