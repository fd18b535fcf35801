// Package e2e drives a real browser — Debian's chromium, headless, through chromedp —
// against Kvarter's pages, so the tests see what a resident sees: the CSS applied,
// htmx running under the real Content-Security-Policy, the page at 320 px wide and
// at 400 % zoom, and axe-core's accessibility rules run on the live DOM.
//
// A test package starts one browser for all its tests and opens a tab per test:
//
//	func TestMain(m *testing.M) { e2e.Main(m) }
//
//	func TestHome(t *testing.T) {
//		p := e2e.NewPage(t)
//		p.Open(srv.URL + "/")
//		p.AssertAccessible() // axe-core, WCAG 2.0–2.2 A and AA; serious and critical fail
//		p.WaitSwap(func() { p.Click("#more") })
//		p.AssertAccessible()
//	}
//
// Every page checks itself when its test ends: a CSP violation, a request that
// failed (an answer of 400 or more, or a network error) or an uncaught JavaScript
// error fails the test, unless the test said it expects them (Page.Expect).
//
// Without chromium the tests skip with the command that installs it; with CI=true
// they fail instead, so CI cannot pass by testing nothing. The browser is
// /usr/bin/chromium, or KVARTER_CHROMIUM. It reaches only loopback addresses.
//
// axe-core is vendored under testdata/vendor (scripts/assets.sh) and embedded: the
// tests need no npm, no network and no cache, only chromium.
package e2e
