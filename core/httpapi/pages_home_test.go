package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/web"
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

// TestPages_HomeNeighbourhoodsTwoNodes: a neighbourhood created through one node shows
// on the other node's home page within web.HoodListMaxAge, though that node keeps the
// list. It needs PostgreSQL, which CI sets up.
func TestPages_HomeNeighbourhoodsTwoNodes(t *testing.T) {
	n1, n2 := twoNodes(t)
	admin := coretest.Admin(t, n1, "admin@example.org")
	on2 := newBrowser(t, "http://"+n2.Addr().String())
	on2.must(200, "GET", "/", nil) // node 2 now keeps the empty list

	admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]string{"name": "Lerum Centrum"})
	created := time.Now()
	for !strings.Contains(on2.must(200, "GET", "/", nil).body, ">Lerum Centrum</a>") {
		// The bound, plus what a request may take on a busy machine.
		if time.Since(created) > web.HoodListMaxAge+500*time.Millisecond {
			t.Fatalf("node 2's home page lacks the neighbourhood %v after it was made", time.Since(created))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("on the other node's home page after %v", time.Since(created).Round(time.Millisecond))
}
