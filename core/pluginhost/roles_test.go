package pluginhost_test

import (
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
)

// A plugin's role is described in the viewer's language from its manifest, falling
// back to the city's default and English, and still while the plugin is stopped: the
// role stays granted and the admin must still know what it is.
func TestHost_RoleText(t *testing.T) {
	db := coretest.Databases(t)[0] // manifests, not the database
	n := startNode(t, db, "alpha")
	waitFor(t, 10*time.Second, "alpha active", func() bool { return state(n, "alpha").State == core.PluginActive })
	for _, tc := range []struct{ lang, label, about, in string }{
		{"fi", "Koettimen ajaja", "Ajaa koetinta koko kaupungissa.", "fi"},
		{"fi-FI", "Koettimen ajaja", "Ajaa koetinta koko kaupungissa.", "fi"},
		{"sv", "Probe runner", "Runs the probe for the whole city.", "en"}, // the city's default
	} {
		got, ok := n.Plugins.RoleText("alpha_runner", tc.lang)
		want := core.RoleText{Plugin: "alpha", Label: tc.label, About: tc.about, Lang: tc.in}
		if !ok || got != want {
			t.Errorf("RoleText(%s) = %+v %v, want %+v", tc.lang, got, ok, want)
		}
	}
	if _, ok := n.Plugins.RoleText("resident", "fi"); ok {
		t.Error("a core role was described as a plugin's")
	}
	admin := coretest.Admin(t, n, "admin@city.example")
	admin.Must(200, "POST", "/api/v1/admin/plugins/alpha/disable", nil)
	if got, ok := n.Plugins.RoleText("alpha_runner", "fi"); !ok || got.Label != "Koettimen ajaja" {
		t.Errorf("a stopped plugin's role: %+v %v", got, ok)
	}
}
