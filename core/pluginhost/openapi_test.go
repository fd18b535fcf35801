package pluginhost

import (
	"encoding/json"
	"testing"

	"github.com/kvarter/kvarter/sdk"
)

// TestPluginOpenAPI: the host writes what a manifest route says into the plugin's part
// of the document, whatever the plugin's own paths say.
func TestPluginOpenAPI(t *testing.T) {
	raw := json.RawMessage(`{
		"/api/v1/alpha/items": {"get": {"operationId": "listItems", "summary": "Items", "responses": {"200": {"description": "OK"}}},
		                        "delete": {"summary": "not declared"}},
		"/api/v1/beta/stolen": {"get": {"summary": "another plugin's path"}}
	}`)
	routes := []sdk.Route{
		{Method: "GET", Path: "/api/v1/alpha/items", Permission: sdk.PermPublic},
		{Method: "POST", Path: "/api/v1/alpha/items/{id}/notes", Permission: "alpha.note.write", Domain: "city"},
	}
	paths := pluginOpenAPI("alpha", raw, routes)
	if _, ok := paths["/api/v1/beta/stolen"]; ok {
		t.Fatal("a path outside the plugin's prefix was kept")
	}
	items := paths["/api/v1/alpha/items"].(map[string]any)
	if _, ok := items["delete"]; ok {
		t.Fatal("an operation no route declares was kept")
	}
	list := items["get"].(map[string]any)
	if list["operationId"] != "alpha_listItems" || len(list["security"].([]any)) != 0 || list["summary"] != "Items" {
		t.Fatalf("public operation = %v", list)
	}
	if r := list["responses"].(map[string]any); r["503"] == nil || r["401"] == nil || r["413"] != nil {
		t.Fatalf("public GET responses = %v, want the host's 401 and 503, no 413", r)
	}
	note := paths["/api/v1/alpha/items/{id}/notes"].(map[string]any)["post"].(map[string]any)
	if note["operationId"] != "alpha_postItemsIdNotes" || len(note["security"].([]any)) != 2 || note["summary"] == "" {
		t.Fatalf("an undocumented route's operation = %v", note)
	}
	params := note["parameters"].([]any)
	if len(params) != 1 || params[0].(map[string]any)["name"] != "id" || params[0].(map[string]any)["in"] != "path" {
		t.Fatalf("parameters = %v", params)
	}
	r := note["responses"].(map[string]any)
	for _, s := range []string{"200", "401", "403", "413", "422", "500", "503"} {
		if r[s] == nil {
			t.Errorf("POST behind a permission lacks %s: %v", s, r)
		}
	}
	if h := r["503"].(map[string]any)["headers"]; h == nil {
		t.Error("503 does not document Retry-After")
	}
	// A document that is not JSON counts as empty: the routes still describe the plugin.
	if p := pluginOpenAPI("alpha", json.RawMessage(`not json`), routes); len(p) != 2 {
		t.Fatalf("from routes alone: %v", p)
	}
}
