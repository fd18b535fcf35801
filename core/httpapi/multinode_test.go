package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// twoNodes starts two nodes on one fresh PostgreSQL schema.
func twoNodes(t *testing.T) (*node.Node, *node.Node) {
	t.Helper()
	return twoNodesWith(t, coretest.Options(), coretest.Options())
}

// twoNodesWith starts two nodes on one fresh PostgreSQL schema, with options of
// their own.
func twoNodesWith(t *testing.T, o1, o2 node.Options) (*node.Node, *node.Node) {
	t.Helper()
	url := coretest.PostgresSchema(t, sdktest.PostgresURL(t))
	cfg := coretest.Databases(t)[0].Config
	cfg.DataDir, cfg.DatabaseURL = "", url
	return coretest.StartNode(t, cfg, o1), coretest.StartNode(t, cfg, o2)
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

// TestTwoNodes_NavigationFollowsGrants: a grant made through one node shows in the
// navigation of the other within a second, though that node keeps the person's
// principal, and so their kept navigation, for an hour: the links are worked out
// again when the policy moves (web's navLinks). It needs PostgreSQL, which CI sets up.
func TestTwoNodes_NavigationFollowsGrants(t *testing.T) {
	keeping := coretest.Options()
	keeping.PrincipalCacheTTL = time.Hour
	n1, n2 := twoNodesWith(t, coretest.Options(), keeping)

	admin := coretest.Admin(t, n1, "admin@city.example")
	u := coretest.Register(t, n1, "two@example.org", "Two Nodes")
	showsAdmin := func() bool {
		t.Helper()
		req, err := http.NewRequest("GET", n2.URL()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", "kvarter_session="+u.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Two Nodes") {
			t.Fatalf("node 2's home page = %d, not signed in as the person:\n%s", resp.StatusCode, body)
		}
		return strings.Contains(string(body), `href="/admin"`)
	}
	if showsAdmin() {
		t.Fatal("a resident's navigation shows Administration")
	}
	grant := map[string]string{"user_id": u.ID, "role": core.RoleCityAdmin, "domain": core.DomainCity}
	admin.Must(201, "POST", "/api/v1/roles/grants", grant)
	granted := time.Now()
	for !showsAdmin() {
		if time.Since(granted) > time.Second {
			t.Fatal("node 2's navigation lacks Administration a second after the grant")
		}
		time.Sleep(20 * time.Millisecond)
	}
	admin.Must(204, "DELETE", "/api/v1/roles/grants", grant)
	revoked := time.Now()
	for showsAdmin() {
		if time.Since(revoked) > time.Second {
			t.Fatal("node 2's navigation shows Administration a second after the revocation")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
