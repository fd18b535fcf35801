package httpapi_test

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
)

// TestPages_HomeNeighbourhoods: the home page keeps its list of neighbourhoods, yet a
// neighbourhood created, renamed or archived through the node shows at the next visit.
func TestPages_HomeNeighbourhoods(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		b := newBrowser(t, "http://"+n.Addr().String())
		if home := b.must(200, "GET", "/", nil); strings.Contains(home.body, "Kallio") {
			t.Fatal("a neighbourhood before any was made")
		}
		r := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]string{"name": "Kallio"})
		id, _ := r.JSON()["id"].(string)
		if home := b.must(200, "GET", "/", nil); !strings.Contains(home.body, `href="/neighbourhoods/`+id+`">Kallio</a>`) {
			t.Fatalf("the new neighbourhood is not on the home page:\n%s", home.body)
		}
		admin.Must(200, "PATCH", "/api/v1/neighbourhoods/"+id, map[string]any{"name": "Kallio & Sörnäinen"})
		if home := b.must(200, "GET", "/", nil); !strings.Contains(home.body, ">Kallio &amp; Sörnäinen</a>") {
			t.Fatalf("the new name is not on the home page:\n%s", home.body)
		}
		admin.Must(200, "PATCH", "/api/v1/neighbourhoods/"+id, map[string]any{"archived": true})
		if home := b.must(200, "GET", "/", nil); strings.Contains(home.body, "Kallio") {
			t.Fatalf("the archived neighbourhood is still on the home page:\n%s", home.body)
		}
	})
}
