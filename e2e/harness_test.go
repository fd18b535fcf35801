package e2e

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kvarter/kvarter/core/web/static"
)

func TestMain(m *testing.M) { Main(m) }

// csp is the policy of DESIGN.md §10, as the frame sends it on every page.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// brand is the fixture city's colour: Karşıyaka red.
const brand = "#e30a17"

//go:embed testdata/pages
var pages embed.FS

// fixtures serves the fixture pages under the real CSP, with the embedded static
// handler for htmx and the stylesheets, as the frame will.
func fixtures(t *testing.T) *httptest.Server {
	t.Helper()
	tmpl := template.Must(template.New("").Funcs(template.FuncMap{
		"stylesheets": static.Stylesheets,
		"scripts":     static.Scripts,
	}).ParseFS(pages, "testdata/pages/*"))

	mux := http.NewServeMux()
	mux.Handle(static.Prefix, static.Handler(nil))
	mux.HandleFunc("GET /fixture.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		fmt.Fprint(w, ".kv-test-wide { width: 900px; }\n")
	})
	mux.HandleFunc("GET /brand.css", func(w http.ResponseWriter, r *http.Request) {
		css, err := static.BrandCSS(brand) // as the frame serves a city's colour
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(css)
	})
	mux.HandleFunc("GET /fixture-throws.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprint(w, "throw new Error('fixture: this script throws');\n")
	})
	mux.HandleFunc("GET /fragment", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("HX-Request") != "true" {
			http.Error(w, "htmx only", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `<ul id="meetings" class="ds-list"><li>Alsancak neighbourhood assembly, Tuesday 12 January, 18:30</li></ul>`)
	})
	mux.HandleFunc("GET /fragment-with-script", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<p id="meetings">No meetings.</p><script>document.title = 'changed by a swapped script';</script>`)
	})
	mux.HandleFunc("GET /check", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `<p id="name-error" class="ds-validation-message" data-color="danger">Enter your name</p>`)
	})
	mux.HandleFunc("GET /hang-up", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // no answer at all: a network error in the browser
		}
	})
	mux.HandleFunc("POST /join", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("name") == "" {
			http.Error(w, "name missing", http.StatusUnprocessableEntity)
			return
		}
		http.Redirect(w, r, "/good?sent=1", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{page}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("page") + ".html"
		if tmpl.Lookup(name) == nil || path.Base(name) != name {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := tmpl.ExecuteTemplate(w, name, struct{ Sent bool }{r.URL.Query().Get("sent") == "1"}); err != nil {
			t.Errorf("render %s: %v", name, err)
		}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPage_GoodPage(t *testing.T) {
	srv := fixtures(t)
	p := NewPage(t)
	p.Open(srv.URL + "/good")
	if got := p.Title(); got != "Join your neighbourhood – Kvarter" {
		t.Errorf("title %q", got)
	}
	p.AssertAccessible()
	p.AssertNoCSPViolations()
	if f := p.FailedRequests(); len(f) > 0 {
		t.Errorf("failed requests: %v", f)
	}
	// The embedded stylesheets and htmx loaded from /static under the CSP.
	var applied struct {
		Skip   string `json:"skip"`
		Button string `json:"button"`
		Header string `json:"header"`
		Font   string `json:"font"`
		HTMX   bool   `json:"htmx"`
	}
	raw := Eval[string](p, `JSON.stringify({
		skip: getComputedStyle(document.querySelector('.kv-skip-link')).position,
		button: getComputedStyle(document.querySelector('.ds-button')).minHeight,
		header: getComputedStyle(document.querySelector('.kv-header')).backgroundColor,
		font: getComputedStyle(document.body).fontFamily,
		htmx: typeof htmx === 'object',
	})`)
	decode(t, raw, &applied)
	if applied.Skip != "absolute" {
		t.Errorf("kvarter.css is not applied: the skip link is positioned %q", applied.Skip)
	}
	if applied.Button == "" || applied.Button == "auto" || applied.Button == "0px" {
		t.Errorf("Designsystemet's CSS is not applied: .ds-button min-height %q", applied.Button)
	}
	if applied.Header != "rgb(227, 10, 23)" {
		t.Errorf("the city's brand colour is not applied: header background %q", applied.Header)
	}
	if !strings.HasPrefix(applied.Font, "Inter,") || !strings.HasSuffix(applied.Font, "sans-serif") {
		t.Errorf("body font %q: want Designsystemet's Inter, then system fallbacks", applied.Font)
	}
	if !applied.HTMX {
		t.Error("htmx did not load")
	}
	// For a person to look at: KVARTER_E2E_SCREENSHOTS=/tmp/shots go test -run GoodPage
	if dir := os.Getenv("KVARTER_E2E_SCREENSHOTS"); dir != "" {
		p.Screenshot(filepath.Join(dir, "good-1280.png"))
		p.Phone320()
		p.Screenshot(filepath.Join(dir, "good-320.png"))
	}
}

func TestPage_Axe(t *testing.T) {
	srv := fixtures(t)
	p := NewPage(t)
	p.Open(srv.URL + "/unlabelled")
	report := p.Axe()
	var label *Violation
	for _, v := range report.Blocking() {
		if v.Rule == "label" {
			label = &v
		}
	}
	if label == nil {
		t.Fatalf("axe-core did not report the unlabelled field as serious or critical: %+v", report.Violations)
	}
	if len(label.Nodes) != 1 || fmt.Sprint(label.Nodes[0].Target) != "[#q]" {
		t.Errorf("label violation targets %+v, want #q", label.Nodes)
	}
	err := report.Err()
	if err == nil {
		t.Fatal("a page with a critical violation passes")
	}
	for _, want := range []string{"label (critical)", "#q", "https://dequeuniversity.com/rules/axe/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the failure does not say %q:\n%v", want, err)
		}
	}
	// The same page with the label rule's finding removed would pass: only
	// serious and critical findings fail a page.
	if (AxeReport{Violations: []Violation{{Rule: "x", Impact: "moderate"}, {Rule: "y", Impact: "minor"}}}).Err() != nil {
		t.Error("moderate and minor findings fail a page")
	}
	if (AxeReport{Violations: []Violation{{Rule: "x", Impact: "serious"}}}).Err() == nil {
		t.Error("a serious finding does not fail a page")
	}
}

func TestPage_CSP(t *testing.T) {
	srv := fixtures(t)

	t.Run("InlineScript", func(t *testing.T) {
		p := NewPage(t)
		p.Expect(CSPViolations)
		p.Open(srv.URL + "/inline-script")
		v := p.CSPViolations()
		if len(v) == 0 {
			t.Fatal("the inline script's CSP violation was not reported")
		}
		if len(v) != 1 || v[0].Directive != "script-src-elem" || v[0].Blocked != "inline" || !strings.HasSuffix(v[0].Source, "/inline-script:"+fmt.Sprint(inlineScriptLine(t))) {
			t.Errorf("violations %v, want one: script-src-elem blocked inline at the script's line", v)
		}
		if got := p.Title(); got != "Inline script – Kvarter" {
			t.Errorf("the inline script ran: title %q", got)
		}
	})

	// Without Expect, the end-of-test check fails the test on the violation.
	t.Run("FailsTheTest", func(t *testing.T) {
		rec := &recordingTB{TB: t}
		p := SharedBrowser(t).NewPage(rec)
		p.Open(srv.URL + "/inline-script")
		rec.cleanup()
		if !strings.Contains(rec.errors(), "CSP violations") {
			t.Errorf("the page's end-of-test check did not fail on a CSP violation; it said %q", rec.errors())
		}
	})

	// hx-on:* compiles its code with the Function constructor, which the CSP
	// blocks as eval: the browser itself enforces DESIGN §10's "no hx-on".
	t.Run("HxOn", func(t *testing.T) {
		p := NewPage(t)
		p.Expect(CSPViolations, ScriptErrors)
		p.Open(srv.URL + "/hx-on")
		p.Click("#hx-on")
		deadline := time.Now().Add(5 * time.Second)
		for len(p.CSPViolations()) == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		v := p.CSPViolations()
		if len(v) == 0 || v[0].Blocked != "eval" || v[0].Directive != "script-src" {
			t.Errorf("the hx-on handler's eval was not reported: %v", v)
		}
		if got := p.Title(); strings.Contains(got, "changed") {
			t.Errorf("the hx-on handler ran: title %q", got)
		}
	})

	t.Run("ScriptInSwappedFragment", func(t *testing.T) {
		p := NewPage(t)
		p.Expect(CSPViolations)
		p.Open(srv.URL + "/good")
		p.AssertNoCSPViolations()
		Eval[chromedp.Void](p, `document.querySelector('#more').setAttribute('hx-get', '/fragment-with-script'); htmx.process(document.querySelector('#more'), true)`)
		p.WaitSwap(func() { p.Click("#more") })
		v := p.CSPViolations()
		if len(v) == 0 {
			t.Fatal("the swapped inline script's violation was not reported")
		}
		if got := p.Title(); strings.Contains(got, "changed") {
			t.Errorf("the swapped inline script ran: title %q", got)
		}
	})
}

func TestPage_HTMX(t *testing.T) {
	srv := fixtures(t)
	p := NewPage(t)
	p.Open(srv.URL + "/good")
	swap := p.WaitSwap(func() { p.Click("#more") })
	if swap.Target != "result" || swap.Status != http.StatusOK {
		t.Errorf("htmx swapped a %d into %q, want 200 into #result", swap.Status, swap.Target)
	}
	if got := p.Text("#meetings"); !strings.Contains(got, "Alsancak neighbourhood assembly") {
		t.Errorf("swapped fragment reads %q", got)
	}
	p.AssertNoCSPViolations()
	p.AssertAccessible() // after the interaction too

	t.Run("ValidationError", func(t *testing.T) {
		// htmx 4 swaps a 422 (the form re-rendered with its errors): a swap, not a failure.
		p := NewPage(t)
		p.Open(srv.URL + "/good")
		swap := p.WaitSwap(func() { p.Click("#check") })
		if swap.Status != http.StatusUnprocessableEntity || swap.Target != "result" {
			t.Errorf("swap %+v, want a 422 into #result", swap)
		}
		if got := p.Text("#result"); !strings.Contains(got, "Enter your name") {
			t.Errorf("the 422 answer was not swapped in: %q", got)
		}
		if f := p.FailedRequests(); len(f) > 0 {
			t.Errorf("a 422 to htmx counted as a failed request: %v", f)
		}
	})

	t.Run("ErrNetwork", func(t *testing.T) {
		// A request that never gets an answer fails WaitSwap instead of hanging it.
		p := NewPage(t)
		p.Expect(FailedRequests)
		p.Open(srv.URL + "/good")
		Eval[chromedp.Void](p, `document.querySelector('#more').setAttribute('hx-get', '/hang-up'); htmx.process(document.querySelector('#more'), true)`)
		rec := &recordingTB{TB: t}
		p.tb = rec
		done := make(chan struct{})
		go func() { // the recorder's Fatal ends only this goroutine
			defer close(done)
			p.WaitSwap(func() { p.Click("#more") })
		}()
		<-done
		p.tb = t
		if !strings.Contains(rec.errors(), "htmx:error") {
			t.Errorf("WaitSwap on a dropped connection said %q", rec.errors())
		}
	})
}

func TestPage_Forms(t *testing.T) {
	srv := fixtures(t)
	p := NewPage(t)
	p.Open(srv.URL + "/good")
	p.Click("#name")
	if got := p.Focused(); got != "#name" {
		t.Errorf("focus on %q after clicking the field", got)
	}
	p.Fill("#name", "Ayşe Yılmaz")
	p.Fill("#note", "I live on Kıbrıs Şehitleri Caddesi.")
	if value := Eval[string](p, `document.querySelector('#name').value`); value != "Ayşe Yılmaz" {
		t.Errorf("typed %q", value)
	}
	p.WaitLoad(func() { p.Submit("#join") })
	if loc := p.Location(); !strings.HasSuffix(loc, "/good?sent=1") {
		t.Errorf("after Post/Redirect/Get the page is %s", loc)
	}
	if got := p.Text(".ds-alert"); !strings.Contains(got, "Your request has been sent") {
		t.Errorf("confirmation reads %q", got)
	}
	p.AssertAccessible()
}

func TestPage_Reflow(t *testing.T) {
	srv := fixtures(t)
	for _, view := range []struct {
		name string
		set  func(p *Page)
	}{
		{"320px", (*Page).Phone320},
		{"zoom400", (*Page).Zoom400},
	} {
		t.Run(view.name, func(t *testing.T) {
			p := NewPage(t)
			p.Open(srv.URL + "/good")
			view.set(p)
			r := p.Reflow()
			if r.ViewportWidth != 320 || r.LayoutWidth > 320 {
				t.Errorf("viewport %d CSS px wide, layout %d, want 320", r.ViewportWidth, r.LayoutWidth)
			}
			if err := r.Err(); err != nil {
				t.Errorf("the good page does not reflow: %v", err)
			}
			p.AssertAccessible()

			p.Open(srv.URL + "/wide")
			view.set(p)
			err := p.Reflow().Err()
			if err == nil || !strings.Contains(err.Error(), "div.kv-test-wide") {
				t.Errorf("a 900 px box at 320 px: %v", err)
			}
		})
	}
	t.Run("NoViewportMeta", func(t *testing.T) {
		p := NewPage(t)
		p.Open(srv.URL + "/no-viewport")
		p.Phone320()
		if err := p.Reflow().Err(); err == nil || !strings.Contains(err.Error(), "viewport") {
			t.Errorf("a page without a viewport meta element on a phone: %v", err)
		}
	})
}

func TestPage_Problems(t *testing.T) {
	srv := fixtures(t)
	p := NewPage(t)
	p.Expect(FailedRequests, ScriptErrors)
	p.Open(srv.URL + "/broken")
	f := strings.Join(p.FailedRequests(), "\n")
	// The stylesheet's 404 comes as text/plain under nosniff, which the browser
	// refuses outright; the image's 404 is an answer like any other.
	for _, want := range []string{"refused: Refused to apply style from '" + srv.URL + "/static/0000000000000000/missing.css'", "GET " + srv.URL + "/missing.png: 404"} {
		if !strings.Contains(f, want) {
			t.Errorf("failed requests %q, want %q", f, want)
		}
	}
	if e := p.ScriptErrors(); len(e) != 1 || !strings.Contains(e[0], "fixture: this script throws") {
		t.Errorf("script errors %q", e)
	}

	rec := &recordingTB{TB: t}
	q := SharedBrowser(t).NewPage(rec)
	q.Open(srv.URL + "/broken")
	rec.cleanup()
	for _, want := range []string{"failed requests", "uncaught JavaScript errors"} {
		if !strings.Contains(rec.errors(), want) {
			t.Errorf("the end-of-test check did not fail on %s: %q", want, rec.errors())
		}
	}
}

// TestBrowser_LoopbackOnly: the browser cannot reach a host that is not loopback.
// The name is under .invalid (RFC 2606), so even a broken setup sends nothing out;
// the error shows the request went to the dead proxy, not to a resolver.
func TestBrowser_LoopbackOnly(t *testing.T) {
	b := SharedBrowser(t)
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancelNav := context.WithTimeout(tab, 20*time.Second)
	defer cancelNav()
	err := chromedp.Do(ctx, chromedp.Navigate("http://kvarter.invalid/"))
	if err == nil || !strings.Contains(err.Error(), "ERR_PROXY_CONNECTION_FAILED") {
		t.Errorf("navigating off loopback: %v, want the dead proxy's ERR_PROXY_CONNECTION_FAILED", err)
	}
}

// TestSharedBrowser_Missing: without chromium the tests skip with the install
// command, and fail with it under CI=true.
func TestSharedBrowser_Missing(t *testing.T) {
	t.Setenv("KVARTER_CHROMIUM", "/nonexistent/chromium")
	if _, err := ChromiumPath(); err == nil {
		t.Fatal("a missing KVARTER_CHROMIUM was accepted")
	}
	if _, err := Launch(); err == nil {
		t.Fatal("Launch started a browser that is not there")
	}
	// No override, no Debian package, nothing on PATH: ErrNoChromium, with the hint.
	t.Setenv("KVARTER_CHROMIUM", "")
	t.Setenv("PATH", t.TempDir())
	defer func(p string) { debianChromium = p }(debianChromium)
	debianChromium = "/nonexistent/usr/bin/chromium"
	if _, err := Launch(); !errors.Is(err, ErrNoChromium) {
		t.Errorf("without chromium Launch says %v, want ErrNoChromium", err)
	}
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			rec := &recordingTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				unavailable(rec, fmt.Errorf("launch: %w", ErrNoChromium))
			}()
			<-done
			want := "skip: "
			if ci == "true" {
				want = "error: "
			}
			if got := rec.errors(); !strings.HasPrefix(got, want) || !strings.Contains(got, "apt-get update && apt-get install -y chromium") {
				t.Errorf("without chromium, CI=%q: %q, want %q and the apt command", ci, got, want)
			}
		})
	}
	// Any other failure to start fails, CI or not: a broken browser is not a skip.
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); unavailable(rec, errors.New("start chromium: crashed")) }()
	<-done
	if got := rec.errors(); !strings.HasPrefix(got, "error: ") {
		t.Errorf("a browser that does not start: %q", got)
	}
}

// recordingTB stands in for a test whose failure is the thing under test.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	msgs     []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.record("error: " + fmt.Sprintf(format, args...))
}
func (r *recordingTB) record(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
}
func (r *recordingTB) Skip(args ...any) {
	r.record("skip: " + fmt.Sprint(args...))
	runtime.Goexit()
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recordingTB) Fatal(args ...any) {
	r.Errorf("%s", fmt.Sprint(args...))
	runtime.Goexit()
}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}
func (r *recordingTB) errors() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

func decode(t *testing.T, raw string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

// inlineScriptLine is the line of the rendered inline-script page that holds the
// script, so the test does not break when the layout grows.
func inlineScriptLine(t *testing.T) int {
	t.Helper()
	srv := fixtures(t)
	resp, err := http.Get(srv.URL + "/inline-script")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for i, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, "<script>") {
			return i + 1
		}
	}
	t.Fatal("the inline-script page has no inline script")
	return 0
}
