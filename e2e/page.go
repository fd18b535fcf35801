package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each action of a Page: a page that never loads or an htmx
// request that never settles fails the test instead of hanging it.
const DefaultTimeout = 15 * time.Second

// Problem is a kind of trouble a page reports by itself; Page checks for each when
// its test ends.
type Problem string

// The problems every Page fails its test on, unless the test expects them.
const (
	CSPViolations  Problem = "CSP violations"
	FailedRequests Problem = "failed requests"
	ScriptErrors   Problem = "uncaught JavaScript errors"
)

// Page is one browser tab, owned by one test. Its methods fail the test on error,
// so a test reads as the steps a person takes.
type Page struct {
	tb      testing.TB
	ctx     context.Context
	cancel  context.CancelFunc
	Timeout time.Duration

	loads chan struct{} // one value per load event of the main frame
	width int64         // the emulated viewport's width, CSS px

	mu       sync.Mutex
	csp      []CSPViolation
	failed   []string
	errors   []string
	requests map[network.RequestID]string // URL of each request, for failures
	expected map[Problem]bool
}

// NewPage opens a tab in the package's shared browser for tb (see SharedBrowser),
// 1280×1024 CSS px. It closes when tb ends, and fails tb on any Problem it saw.
func NewPage(tb testing.TB) *Page {
	tb.Helper()
	return SharedBrowser(tb).NewPage(tb)
}

// NewPage opens a tab in b for tb. It closes when tb ends, and fails tb on any
// Problem it saw that tb did not Expect.
func (b *Browser) NewPage(tb testing.TB) *Page {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	p := &Page{
		tb: tb, ctx: ctx, cancel: cancel, Timeout: DefaultTimeout,
		loads:    make(chan struct{}, 16),
		width:    1280,
		requests: map[network.RequestID]string{},
		expected: map[Problem]bool{},
	}
	// The first Do opens the tab; the listener attaches before any document loads.
	// chromedp itself enables the Page, Network, Log and Runtime domains.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		tb.Fatalf("open a tab: %v", err)
	}
	if err := chromedp.Listen(ctx, p.onEvent); err != nil {
		cancel()
		tb.Fatalf("listen to the tab: %v", err)
	}
	p.do("set the tab up",
		command(audits.Enable, cdp.Empty{}),
		command(emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1280, Height: 1024, DeviceScaleFactor: 1}),
	)
	tb.Cleanup(p.close)
	return p
}

// Expect tells the page that the test provokes these problems on purpose, so the
// end-of-test check does not fail on them. The test should assert them itself.
func (p *Page) Expect(problems ...Problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range problems {
		p.expected[k] = true
	}
}

func (p *Page) close() {
	p.sync()
	for kind, found := range map[Problem][]string{
		CSPViolations:  p.cspStrings(),
		FailedRequests: p.FailedRequests(),
		ScriptErrors:   p.ScriptErrors(),
	} {
		p.mu.Lock()
		expected := p.expected[kind]
		p.mu.Unlock()
		if len(found) > 0 && !expected {
			p.tb.Errorf("the page reported %s:\n  %s", kind, strings.Join(found, "\n  "))
		}
	}
	p.cancel()
}

func (p *Page) onEvent(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *page.EventLoadEventFired:
		select {
		case p.loads <- struct{}{}:
		default:
		}
	case *audits.EventIssueAdded:
		if v := cspFromIssue(ev.Issue); v != nil {
			p.csp = append(p.csp, *v)
		}
	case *cdplog.EventEntryAdded:
		// What the browser refuses for its own safety — a stylesheet or script
		// served with the wrong type under nosniff, say — it cancels before any
		// answer event, and says so only here. CSP refusals come from Audits.
		if e := ev.Entry; e.Source == cdplog.EntrySourceSecurity && e.Level == cdplog.EntryLevelError &&
			!strings.Contains(e.Text, "Content Security Policy") {
			p.failed = append(p.failed, "refused: "+e.Text)
		}
	case *network.EventRequestWillBeSent:
		p.requests[ev.RequestID] = ev.Request.Method + " " + ev.Request.URL
	case *network.EventResponseReceived:
		if failedResponse(ev.Type, ev.Response.Status, ev.Response.URL) {
			p.failed = append(p.failed, fmt.Sprintf("%s: %d %s", p.requests[ev.RequestID], ev.Response.Status, ev.Response.StatusText))
		}
	case *network.EventLoadingFailed:
		if ev.Canceled || ev.BlockedReason == network.BlockedReasonCsp {
			return // a CSP block is reported as a CSP violation
		}
		if url := p.requests[ev.RequestID]; !strings.HasSuffix(url, "/favicon.ico") {
			p.failed = append(p.failed, fmt.Sprintf("%s: %s %s", url, ev.ErrorText, ev.BlockedReason))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg = d.Exception.Description
		}
		p.errors = append(p.errors, fmt.Sprintf("%s (%s:%d:%d)", msg, d.URL, d.LineNumber+1, d.ColumnNumber+1))
	}
}

// failedResponse decides which answers are a broken page rather than the page's
// own business. A document's status is what the test navigated to and checks
// itself (a 403 panel, a 404 page). An htmx request (fetch) may answer 4xx — 422
// with a re-rendered form, 403 — so only 5xx counts. Anything else the page loads
// (stylesheets, scripts, images, fonts) must answer below 400.
func failedResponse(kind network.ResourceType, status int64, url string) bool {
	switch {
	case strings.HasSuffix(url, "/favicon.ico"), kind == network.ResourceTypeDocument:
		return false
	case kind == network.ResourceTypeFetch || kind == network.ResourceTypeXHR:
		return status >= 500
	}
	return status >= 400
}

// FailedRequests are the requests since the tab opened that broke the page — a
// stylesheet, script, image or font answering 400 or more, an htmx request
// answering 500 or more, any request failing on the network — as "METHOD URL: why".
func (p *Page) FailedRequests() []string {
	p.sync()
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.failed...)
}

// ScriptErrors are the uncaught JavaScript exceptions since the tab opened.
func (p *Page) ScriptErrors() []string {
	p.sync()
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// sync makes a round trip to the tab, so events the browser sent before it (on the
// same connection, in order) have been handled.
func (p *Page) sync() {
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`true`))
}

// do runs actions with the page's timeout and fails the test with what it was doing.
func (p *Page) do(doing string, actions ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.tb.Fatalf("%s: %v", doing, err)
	}
}

// run runs an action that returns a value, as do does.
func run[T any](p *Page, doing string, action chromedp.Action[T]) T {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		p.tb.Fatalf("%s: %v", doing, err)
	}
	return v
}

// command is an action that sends one DevTools protocol command.
func command[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
}

// Open loads url in the tab and waits for its load event.
func (p *Page) Open(url string) {
	p.tb.Helper()
	p.do("open "+url, chromedp.Navigate(url))
}

// Click clicks the first element matching the CSS selector, as a mouse would
// (scrolled into view, at its centre).
func (p *Page) Click(sel string) {
	p.tb.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// Fill empties the field matching sel and types value into it, key by key.
func (p *Page) Fill(sel, value string) {
	p.tb.Helper()
	p.do("fill "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
				`(() => { const el = document.querySelector(%s); el.value = ''; el.focus(); })()`, jsString(sel)))(ctx, t)
			return err
		}),
		chromedp.SendKeys(chromedp.CSS(sel), value, chromedp.NodeVisible),
	)
}

// Submit submits the form matching sel (or the form of the control matching sel)
// as pressing its submit button would: validation and submit events run, so htmx
// sees it too. Wrap it in WaitLoad or WaitSwap to wait for the answer.
func (p *Page) Submit(sel string) {
	p.tb.Helper()
	ok := run(p, "submit "+sel, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		const form = el && (el.form || el.closest('form'));
		if (!form) return false;
		form.requestSubmit();
		return true;
	})()`, jsString(sel))))
	if !ok {
		p.tb.Fatalf("submit %s: no form there", sel)
	}
}

// WaitVisible waits until an element matching sel is visible.
func (p *Page) WaitVisible(sel string) {
	p.tb.Helper()
	p.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Text is the visible text of the first element matching sel.
func (p *Page) Text(sel string) string {
	p.tb.Helper()
	return run(p, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Title is the document's title.
func (p *Page) Title() string {
	p.tb.Helper()
	return run(p, "read the title", chromedp.Title())
}

// Location is the document's URL.
func (p *Page) Location() string {
	p.tb.Helper()
	return run(p, "read the location", chromedp.Location())
}

// Focused describes the element that has focus: "#id" when it has an id, else its
// tag name ("body" when nothing has focus).
func (p *Page) Focused() string {
	p.tb.Helper()
	return Eval[string](p, `(() => { const e = document.activeElement; return e ? (e.id ? '#' + e.id : e.tagName.toLowerCase()) : ''; })()`)
}

// Eval evaluates a JavaScript expression in the page and decodes its value (JSON)
// into a T; a promise is awaited. Use chromedp.Void to ignore the value.
func Eval[T any](p *Page, expr string) T {
	p.tb.Helper()
	return run(p, "evaluate "+firstLine(expr), chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// WaitLoad runs action — a click on a link, a form's submission — and waits for
// the new document's load event.
func (p *Page) WaitLoad(action func()) {
	p.tb.Helper()
	for len(p.loads) > 0 { // forget loads that happened before
		<-p.loads
	}
	action()
	select {
	case <-p.loads:
	case <-time.After(p.Timeout):
		p.tb.Fatalf("no page loaded within %s", p.Timeout)
	}
}

// Swap is what htmx did with an answer.
type Swap struct {
	Target string // the id of the element htmx swapped into (its tag name if none)
	Status int    // the answer's HTTP status: htmx 4 swaps 4xx and 5xx answers too
}

// WaitSwap runs action — a click or a submission that htmx handles — and waits until
// htmx has swapped the answer in and settled. A request that fails on the network
// or an htmx error fails the test; a 422 with a re-rendered form is a swap like any
// other (check Status).
func (p *Page) WaitSwap(action func()) Swap {
	p.tb.Helper()
	Eval[chromedp.Void](p, `(() => {
		if (typeof htmx === 'undefined') throw new Error('htmx is not loaded on this page');
		let status = 0;
		window.__kvSwap = new Promise((resolve, reject) => {
			const events = ['htmx:after:request', 'htmx:after:settle', 'htmx:error'];
			const on = (e) => {
				const ctx = e.detail && e.detail.ctx;
				if (e.type === 'htmx:after:request') {
					status = ctx && ctx.response ? ctx.response.status : 0;
					return;
				}
				events.forEach((name) => document.removeEventListener(name, on, true));
				if (e.type === 'htmx:after:settle') {
					const t = e.detail && e.detail.task && e.detail.task.target || e.target;
					resolve({target: t && t.id ? t.id : (t && t.tagName ? t.tagName.toLowerCase() : ''), status});
				} else {
					const err = e.detail && e.detail.error;
					reject(new Error('htmx:error: ' + (err && err.message || err)));
				}
			};
			events.forEach((name) => document.addEventListener(name, on, true));
		});
		return true;
	})()`)
	action()
	raw := run(p, "wait for an htmx swap", chromedp.Evaluate[string](
		`window.__kvSwap.then((s) => JSON.stringify(s), (e) => JSON.stringify({error: String(e && e.message || e)}))`,
		chromedp.EvalAwaitPromise))
	var out struct {
		Target string `json:"target"`
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		p.tb.Fatalf("wait for an htmx swap: %v", err)
	}
	if out.Error != "" {
		p.tb.Fatalf("wait for an htmx swap: %s", out.Error)
	}
	return Swap{Target: out.Target, Status: out.Status}
}

// Screenshot writes a PNG of the whole page to path, for a person to look at.
func (p *Page) Screenshot(path string) {
	p.tb.Helper()
	png := run(p, "take a screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.tb.Fatal(err)
	}
}

// Viewport sets the layout viewport to width×height CSS px at the given device
// pixel ratio; mobile honours <meta name=viewport> as a phone does.
func (p *Page) Viewport(width, height int64, scale float64, mobile bool) {
	p.tb.Helper()
	p.width = width
	p.do(fmt.Sprintf("set the viewport to %dx%d@%gx", width, height, scale),
		command(emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: height, DeviceScaleFactor: scale, Mobile: mobile,
		}))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}

// evalRaw evaluates a script for its effect only, ignoring its value.
func evalRaw(script string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		r, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: script})
		if err != nil {
			return err
		}
		if r.ExceptionDetails != nil {
			return &chromedp.ExceptionError{ExceptionDetails: r.ExceptionDetails}
		}
		return nil
	})
}
