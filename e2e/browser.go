package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// InstallHint is what a machine without chromium needs.
const InstallHint = "chromium is not installed; as root run: apt-get update && apt-get install -y chromium"

// ErrNoChromium is returned by Launch when no chromium binary is found.
var ErrNoChromium = errors.New(InstallHint)

// Browser is one running headless chromium. Tabs (Pages) share it; each has its own
// document, events and viewport, and all tabs share cookies (open a fresh Browser
// for a fresh cookie jar).
type Browser struct {
	ctx         context.Context // the browser's chromedp context
	cancelAlloc context.CancelFunc
	cancelCtx   context.CancelFunc
}

// debianChromium is where `apt-get install chromium` puts the browser.
var debianChromium = "/usr/bin/chromium"

// ChromiumPath is the browser Launch starts: KVARTER_CHROMIUM if set, else Debian's
// /usr/bin/chromium, else chromium on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("KVARTER_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("KVARTER_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat(debianChromium); err == nil {
		return debianChromium, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", ErrNoChromium
}

// Launch starts a headless chromium that reaches only loopback addresses. Close it.
func Launch() (*Browser, error) {
	exe, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		// chromedp speaks to the browser over a pipe: no DevTools port is opened.
		// Every host name but localhost (and 127.0.0.1) fails to resolve, and anything not on
		// loopback (which Chromium always sends direct) goes to a proxy that is not
		// there: a page that would load a font or script from elsewhere fails
		// loudly here instead of quietly reaching the internet.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(1280, 1024),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root; CI and these machines are root.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: ctx, cancelAlloc: cancelAlloc, cancelCtx: cancelCtx}
	// The first Do starts the process and binds its life to the context it gets,
	// so it gets the browser's own context, not one with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	return b, nil
}

// Close stops the browser and removes its profile directory.
func (b *Browser) Close() {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	_ = chromedp.Cancel(ctx) // closes the browser gracefully; the allocator then cleans up
	b.cancelCtx()
	b.cancelAlloc()
}

var shared struct {
	sync.Mutex
	browser *Browser
	err     error
	started bool
}

// Main runs a test package's tests, then stops the browser they shared.
// Use it as the package's TestMain: func TestMain(m *testing.M) { e2e.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	shared.Lock()
	if shared.browser != nil {
		shared.browser.Close()
	}
	shared.Unlock()
	os.Exit(code)
}

// SharedBrowser is the package's one browser, launched on first use. Without
// chromium it skips the test with InstallHint, or fails it when CI=true.
func SharedBrowser(tb testing.TB) *Browser {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.started {
		shared.started = true
		shared.browser, shared.err = Launch()
	}
	if shared.err != nil {
		unavailable(tb, shared.err)
	}
	return shared.browser
}

// unavailable ends a test that has no browser: a skip with the install command
// when chromium is missing, a failure under CI=true (CI must not pass by testing
// nothing) and for any other reason the browser did not start.
func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrNoChromium) && os.Getenv("CI") != "true" {
		tb.Skip(err)
	}
	tb.Fatal(err)
}
