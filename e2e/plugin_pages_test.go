package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestPluginPages opens a plugin's page — the SDK's example, run as a third-party
// plugin, so its HTML passes the host's filter — inside the frame in every language,
// signed in, and fails on any serious or critical axe finding, CSP violation or script
// error: on load, after a broken rule (htmx swaps <main> with the 422 and the error
// summary takes focus) and after the form succeeded.
func TestPluginPages(t *testing.T) {
	db := coretest.Databases(t)[0]
	cfg := db.Config
	bin, sum := sdktest.BuildPlugin(t, "../sdk/examples/hello/cmd/hello")
	cfg.Plugins = []node.PluginConfig{{Name: "hello", Path: bin, SHA256: sum}}
	n := coretest.StartNode(t, cfg, coretest.Options())
	waitPlugin(t, n, "hello")
	base := n.URL()
	aino := coretest.Register(t, n, "aino@example.org", "Aino Virtanen")

	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			p := SharedBrowser(t).NewPage(t)
			signIn(p, base, aino)
			switchLanguage(p, lang)

			p.Open(base + "/hello/greet")
			if got := Eval[string](p, "document.documentElement.lang"); got != lang {
				t.Errorf("<html lang=%q>, want %q", got, lang)
			}
			if cur := p.Text(`a[aria-current="page"]`); cur == "" {
				t.Error("the plugin's nav entry is not marked current")
			}
			p.AssertAccessible()

			// A broken rule: htmx swaps <main> with the 422, the summary takes focus.
			p.Fill(`input[name="message"]`, strings.Repeat("ö", 300))
			p.WaitSwap(func() { p.Submit("main form") })
			if got := focusSettled(p, "error-summary"); !strings.Contains(got, "error-summary") {
				t.Errorf("after a broken rule the focus is on %q, want the error summary", got)
			}
			p.AssertAccessible()

			// Success: Post/Redirect/Get inside <main>, the greeting announced.
			p.Fill(`input[name="message"]`, "Hei naapurit")
			p.WaitSwap(func() { p.Submit("main form") })
			if !strings.Contains(p.Location(), "sent=1") {
				t.Errorf("after sending, the address is %s", p.Location())
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
		})
	}
}

// waitPlugin waits until the node reports the plugin active.
func waitPlugin(t *testing.T, n *node.Node, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st, ok := n.Plugins.Status(name); ok && st.State == core.PluginActive {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("plugin %s did not become active", name)
}
