package pluginhost_test

import (
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
)

// TestHost_ExportSkipsPluginsWithoutData: a plugin that is no sdk.Exporter (the SDK's
// hello, as a plugin built before the call existed answers) adds no section to a
// person's export and does not fail it; the export still carries its readme.
func TestHost_ExportSkipsPluginsWithoutData(t *testing.T) {
	db := coretest.Databases(t)[0]
	n := startNode(t, db, "alpha")
	u := coretest.Register(t, n, "aino@example.org", "Aino")
	doc := u.Must(200, "GET", "/api/v1/me/export", nil).JSON()
	plugins, ok := doc["plugins"].(map[string]any)
	if !ok || len(plugins) != 0 {
		t.Errorf("plugins = %#v, want an empty object", doc["plugins"])
	}
	if s, _ := doc["readme"].(string); s == "" {
		t.Error("the export has no readme")
	}
}
