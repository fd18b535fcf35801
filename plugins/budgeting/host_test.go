package budgeting

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_Cycle runs the plugin inside a real `kvarter serve` (sdk/sdktest): real
// routing, casbin permission checks, Principals with implicit residents, the host API
// and events. A full cycle, then 50 concurrent ballots by one resident record exactly
// one. On SQLite always, and on PostgreSQL (sdktest.PostgresURL).
func TestHost_Cycle(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-budgeting", Name: "budgeting"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		nbh := core.Neighbourhood("Vesterbro")
		off := core.NewUser("officer@example.org")
		core.Grant(off, RoleOfficer, "nbh:"+nbh)
		alice := core.NewUser("alice@example.org")
		core.VerifiedMember(alice, nbh)
		stranger := core.NewUser("stranger@example.org")

		var cy Cycle
		core.Anonymous().Must(401, "POST", base+"/cycles", map[string]any{})
		alice.Must(403, "POST", base+"/cycles", map[string]any{})
		off.Must(201, "POST", base+"/cycles", map[string]any{
			"neighbourhood_id": nbh, "name": "Vesterbro 2026", "budget": 500_000_00, "currency": "DKK",
			"ballot": map[string]any{"type": "approval", "max": 2},
		}).Decode(t, &cy)
		c := base + "/cycles/" + cy.ID
		var ids []string
		for i, cost := range []int64{300_000_00, 250_000_00, 200_000_00} {
			var p Proposal
			alice.Must(201, "POST", c+"/proposals", map[string]any{"title": fmt.Sprintf("Idea %d", i), "cost": cost}).Decode(t, &p)
			ids = append(ids, p.ID)
		}
		stranger.Must(403, "POST", c+"/proposals", map[string]any{"title": "Not a resident", "cost": 1})
		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "review"})
		for i, cost := range []int64{300_000_00, 250_000_00, 200_000_00} {
			off.Must(200, "POST", c+"/proposals/"+ids[i]+"/review", map[string]any{"feasible": true, "cost": cost})
		}
		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "voting"})
		stranger.Must(403, "POST", c+"/ballots", map[string]any{"projects": ids[:1]})
		alice.Must(422, "POST", c+"/ballots", map[string]any{"projects": ids})

		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int]int{}
		for range 50 {
			wg.Go(func() {
				st := alice.Do("POST", c+"/ballots", map[string]any{"projects": ids[:2]}).Status
				mu.Lock()
				got[st]++
				mu.Unlock()
			})
		}
		wg.Wait()
		var n Turnout
		core.Anonymous().Must(200, "GET", c+"/turnout", nil).Decode(t, &n)
		if got[201] != 1 || got[409] != 49 || n.Voters != 1 || n.Ballots != 1 {
			t.Fatalf("50 concurrent ballots: statuses %v, turnout %+v", got, n)
		}
		for i, b := range [][]string{{ids[1], ids[2]}, {ids[2]}, {ids[0]}} {
			v := core.NewUser(fmt.Sprintf("voter%d@example.org", i))
			core.VerifiedMember(v, nbh)
			v.Must(201, "POST", c+"/ballots", map[string]any{"projects": b})
		}
		off.Must(200, "POST", c+"/phase", map[string]any{"phase": "results"})
		var res Result
		off.Must(201, "POST", c+"/tally", map[string]any{"rule": "mes", "completion": "add1u"}).Decode(t, &res)
		if len(res.Winners) == 0 || res.Ballots != 4 {
			t.Fatalf("result %+v", res)
		}
		core.Anonymous().Must(200, "GET", c+"/results", nil)
		off.Must(201, "POST", c+"/proposals/"+res.Winners[0]+"/updates", map[string]any{"status": "in_progress", "note": "Tender out"})
		var p Proposal
		core.Anonymous().Must(200, "GET", c+"/proposals/"+res.Winners[0], nil).Decode(t, &p)
		if p.Implementation != ImplInProgress || len(p.Updates) != 1 {
			t.Errorf("proposal %+v", p)
		}
		export := core.Anonymous().Must(200, "GET", c+"/export.pb", nil)
		checkRetally(t, export.Body, &res)
	})
}

// largePabulib is a Pabulib file of at least size bytes: projects, then approval
// votes that each carry a district name long enough to reach size with a few
// thousand votes (a real city's file reaches such sizes with more, shorter rows).
func largePabulib(size int) []byte {
	var b strings.Builder
	b.WriteString("META\nkey;value\ndescription;Generated for the host's body limit\ncountry;Denmark\nunit;Test\ninstance;2026\n" +
		"num_projects;10\nbudget;1000000\nvote_type;approval\nrule;greedy\nPROJECTS\nproject_id;cost;name\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "%d;%d;Project %d\n", i, 100000+i*1000, i)
	}
	b.WriteString("VOTES\nvoter_id;vote;district\n")
	district := strings.Repeat("Vesterbro-Kongens-Enghave ", 6)
	for v := 1; b.Len() < size; v++ {
		fmt.Fprintf(&b, "%d;%d,%d,%d;%s\n", v, v%10+1, (v+3)%10+1, (v+7)%10+1, district)
	}
	return []byte(b.String())
}

// TestHost_LargeImport: the import route declares 16 MiB in the manifest, so the host
// lets a 3.7 MB Pabulib file through to the plugin, while every other route keeps the
// host's 1 MiB and a file over 16 MiB is refused by the host. Before route limits came
// from the manifest, the host refused the import with 413.
func TestHost_LargeImport(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-budgeting", Name: "budgeting"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		nbh := core.Neighbourhood("Vesterbro")
		off := core.NewUser("officer@example.org")
		core.Grant(off, RoleOfficer, "nbh:"+nbh)
		var cy Cycle
		off.Must(201, "POST", base+"/cycles", map[string]any{
			"neighbourhood_id": nbh, "name": "Simulation", "budget": 1, "currency": "DKK", "simulation": true,
			"ballot": map[string]any{"type": "approval", "max": 3},
		}).Decode(t, &cy)

		file := largePabulib(3_700_000)
		var sum ImportSummary
		off.Must(201, "POST", base+"/cycles/"+cy.ID+"/import", file).Decode(t, &sum)
		if sum.Ballots < 10_000 || sum.Projects != 10 {
			t.Fatalf("imported %+v from %d bytes", sum, len(file))
		}

		// Refused on the declared length, before the body is read: the client need
		// not (and here does not) send it.
		for _, c := range []struct {
			path string
			size int
		}{{base + "/cycles/" + cy.ID + "/import", 17 << 20}, {base + "/cycles", 2 << 20}, {base + "/cycles/" + cy.ID + "/ballots", 2 << 20}} {
			if status, body := postDeclared(t, core.URL, c.path, c.size); status != 413 || !strings.Contains(body, `"too_large"`) {
				t.Errorf("%d bytes to %s = %d %s, want 413 from the host", c.size, c.path, status, body)
			}
		}
	})
}

// postDeclared sends only the header of a POST declaring size bytes of body, and
// returns the answer the server gives without waiting for the body.
func postDeclared(t *testing.T, baseURL, path string, size int) (int, string) {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\nMETA\n", path, u.Host, size)
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s declaring %d bytes: %v", path, size, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}
