package httpapi_test

import (
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// twoNodes starts two nodes on one fresh PostgreSQL schema.
func twoNodes(t *testing.T) (*node.Node, *node.Node) {
	t.Helper()
	url := coretest.PostgresSchema(t, sdktest.PostgresURL(t))
	cfg := coretest.Databases(t)[0].Config
	cfg.DataDir, cfg.DatabaseURL = "", url
	return coretest.StartNode(t, cfg, coretest.Options()), coretest.StartNode(t, cfg, coretest.Options())
}

// TestTwoNodes: two nodes on one PostgreSQL share sessions, and a grant made through
// one is enforced by the other within a second. It needs PostgreSQL, which CI sets up.
func TestTwoNodes(t *testing.T) {
	n1, n2 := twoNodes(t)

	admin := coretest.Admin(t, n1, "admin@city.example")
	nbh := createNeighbourhood(t, admin, "Lerum Centrum")
	u := coretest.Register(t, n1, "two@example.org", "Two Nodes")

	// The session made on node 1 works on node 2.
	on2 := coretest.NewClient(t, n2)
	on2.Token = u.Token
	on2.Must(200, "GET", "/api/v1/me", nil)

	// Node 2 forbids, node 1 grants, node 2 allows within a second.
	path := "/api/v1/neighbourhoods/" + nbh + "/memberships"
	on2.Must(403, "GET", path, nil)
	admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": u.ID, "role": "coordinator", "domain": "nbh:" + nbh})
	granted := time.Now()
	for {
		r := on2.Do("GET", path, nil)
		if r.Status == 200 {
			break
		}
		if time.Since(granted) > time.Second {
			t.Fatalf("node 2 still answers %d a second after the grant", r.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("grant enforced on the other node after %v", time.Since(granted).Round(time.Millisecond))

	// A revocation on node 2 is enforced on node 1 within a second too.
	admin2 := coretest.NewClient(t, n2)
	admin2.Token = admin.Token
	admin2.Must(204, "DELETE", "/api/v1/roles/grants", map[string]string{"user_id": u.ID, "role": "coordinator", "domain": "nbh:" + nbh})
	revoked := time.Now()
	for u.Do("GET", path, nil).Status != 403 {
		if time.Since(revoked) > time.Second {
			t.Fatal("node 1 still allows a second after the revocation")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
