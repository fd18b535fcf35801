// Command loadgen drives the budgeting ballot benchmark (bench/budgeting/run.sh) through
// a running kvarter's public HTTP API only: it signs in a city admin, creates a
// neighbourhood, registers residents and verifies them with one membership import,
// signs each resident in (argon2id, so concurrently and before the clock starts), opens
// a cycle with feasible proposals in the voting phase, then casts one ballot per
// resident over a fixed number of connections and reports ballots/s and latency
// percentiles. A warm-up by other residents in another cycle comes first. Afterwards it checks through the turnout route that exactly N voters and
// N ballots were recorded and that a second ballot is refused.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kvarter/kvarter/bench/internal/loadgen"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:18190", "kvarter base URL")
	adminEmail := flag.String("admin-email", "admin@bench.invalid", "city admin email")
	adminPass := flag.String("admin-password", "bench admin passphrase", "city admin password")
	n := flag.Int("n", 1000, "residents")
	cycles := flag.Int("cycles", 3, "cycles in the voting phase; each resident casts one ballot in each")
	conns := flag.Int("c", 32, "connections casting ballots")
	setupConns := flag.Int("setup-c", 8, "connections for registering and signing in")
	timeline := flag.Bool("timeline", false, "also print latency per quarter second of the run")
	warmup := flag.Int("warmup", 320, "further residents who vote in a warm-up cycle before the clock starts")
	prefix := flag.String("prefix", "voter", "the residents' e-mail addresses begin so: another prefix for another run on the same node")
	via := flag.String("via", "api", "how the measured ballots are cast: api (JSON, bearer token) or page (the ballot page's form, session cookie; issue 19)")
	flag.Parse()
	log.SetFlags(0)

	c := &loadgen.Client{Base: strings.TrimRight(*base, "/"), HTTP: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: max(*conns, *setupConns) + 4, MaxConnsPerHost: max(*conns, *setupConns) + 4},
	}}
	var login struct {
		Token string `json:"token"`
	}
	c.Must("", "POST", "/api/v1/auth/login", map[string]string{"email": *adminEmail, "password": *adminPass}, 200, &login)
	admin := login.Token
	var nbh struct {
		ID string `json:"id"`
	}
	c.Must(admin, "POST", "/api/v1/neighbourhoods", map[string]string{"name": fmt.Sprintf("Bench %d", time.Now().UnixNano())}, 201, &nbh)

	start := time.Now()
	residents := *n + *warmup
	emails := make([]string, residents)
	for i := range emails {
		emails[i] = fmt.Sprintf("%s%06d@bench.invalid", *prefix, i)
	}
	const pass = "a long bench passphrase"
	loadgen.Parallel(residents, *setupConns, func(i int) {
		c.Must("", "POST", "/api/v1/auth/register", map[string]string{"email": emails[i], "password": pass, "display_name": fmt.Sprintf("Voter %d", i), "language": "en"}, 201, nil)
	})
	log.Printf("registered %d residents in %v", residents, time.Since(start).Round(time.Millisecond))
	var csv bytes.Buffer
	csv.WriteString("email,neighbourhood\n")
	for _, e := range emails {
		fmt.Fprintf(&csv, "%s,%s\n", e, nbh.ID)
	}
	t := time.Now()
	c.MustRaw(admin, "POST", "/api/v1/admin/memberships/import", "text/csv", csv.Bytes(), 200, nil)
	log.Printf("imported %d verified memberships in %v", residents, time.Since(t).Round(time.Millisecond))
	tokens := make([]string, residents)
	t = time.Now()
	loadgen.Parallel(residents, *setupConns, func(i int) {
		var l struct {
			Token string `json:"token"`
		}
		c.Must("", "POST", "/api/v1/auth/login", map[string]string{"email": emails[i], "password": pass}, 200, &l)
		tokens[i] = l.Token
	})
	log.Printf("signed in %d residents in %v", residents, time.Since(t).Round(time.Millisecond))

	// The admin is city_admin, so holds every officer permission; the first resident
	// submits the ideas. Several cycles let each signed-in resident vote more than once
	// (once per cycle), since signing in is the slow part of the setup.
	const bg = "/api/v1/budgeting"
	type cycle struct {
		path string
		ids  []string
	}
	// cys[0] is the warm-up cycle.
	cys := make([]cycle, 1+*cycles)
	for k := range cys {
		var cy struct {
			ID string `json:"id"`
		}
		c.Must(admin, "POST", bg+"/cycles", map[string]any{
			"neighbourhood_id": nbh.ID, "name": fmt.Sprintf("Bench budget %d", k), "budget": 1_000_000_00, "currency": "EUR",
			"ballot": map[string]any{"type": "approval", "max": 3},
		}, 201, &cy)
		cys[k].path = bg + "/cycles/" + cy.ID
		for i := range 8 {
			var p struct {
				ID string `json:"id"`
			}
			c.Must(tokens[0], "POST", cys[k].path+"/proposals", map[string]any{"title": fmt.Sprintf("Idea %d", i), "cost": int64(100_000_00 + i*10_000_00)}, 201, &p)
			cys[k].ids = append(cys[k].ids, p.ID)
		}
		c.Must(admin, "POST", cys[k].path+"/phase", map[string]string{"phase": "review"}, 200, nil)
		for i, id := range cys[k].ids {
			c.Must(admin, "POST", cys[k].path+"/proposals/"+id+"/review", map[string]any{"feasible": true, "cost": int64(100_000_00 + i*10_000_00)}, 200, nil)
		}
		c.Must(admin, "POST", cys[k].path+"/phase", map[string]string{"phase": "voting"}, 200, nil)
		if k == 0 {
			fmt.Printf("WARMUP_CYCLE_ID=%s\n", cy.ID)
		} else {
			fmt.Printf("CYCLE_ID=%s\n", cy.ID)
		}
	}
	log.Printf("setup done in %v; %d cycles with 8 feasible proposals each", time.Since(start).Round(time.Millisecond), len(cys))
	warm, cys := cys[0], cys[1:]
	voters := tokens[*warmup:]
	ballot := func(cy cycle, i int) []byte {
		k := i % (len(cy.ids) - 2)
		body, _ := json.Marshal(map[string]any{"projects": cy.ids[k : k+1+i%3]})
		return body
	}

	// The warm-up: other residents vote in another cycle first, so that the pools of
	// connections (loadgen to core, core and plugin to PostgreSQL) are open and the
	// server processes have run the path, as on a server that has been in use. The
	// measured residents' tokens stay unseen by the core until they vote.
	t = time.Now()
	loadgen.Parallel(*warmup, *conns, func(i int) {
		c.MustRaw(tokens[i], "POST", warm.path+"/ballots", "application/json", ballot(warm, i), 201, nil)
	})
	log.Printf("warm-up: %d ballots in another cycle in %v", *warmup, time.Since(t).Round(time.Millisecond))

	// Ballot j is resident j / cycles in cycle j % cycles, so the cycles interleave.
	total := *n * len(cys)
	var failed atomic.Int64
	load0 := loadgen.LoadAvg()
	tm := loadgen.NewTimings(total)
	loadgen.Parallel(total, *conns, func(j int) {
		i, cy := j/len(cys), cys[j%len(cys)]
		body := ballot(cy, i)
		var st int
		var out []byte
		want := 201
		if *via == "page" {
			body, want = ballotForm(body), http.StatusSeeOther
			page := strings.TrimPrefix(cy.path, "/api/v1") + "/ballot"
			tm.Time(j, func() { st, out = castPage(c, voters[i], page, body) })
		} else {
			tm.Time(j, func() { st, out = c.Do(voters[i], "POST", cy.path+"/ballots", "application/json", body) })
		}
		if st != want && failed.Add(1) <= 5 {
			log.Printf("ballot %d: HTTP %d %s", j, st, out)
		}
	})
	el := tm.Elapsed()
	fmt.Printf("ballots via %s: %d (%d residents x %d cycles) in %v at %d connections = %.0f ballots/s; latency %s; failed %d; load %s -> %s\n",
		*via, total, *n, len(cys), el.Round(time.Millisecond), *conns, float64(total)/el.Seconds(), tm.Summary(), failed.Load(), load0, loadgen.LoadAvg())
	if *timeline {
		tm.Timeline(os.Stdout, 250*time.Millisecond)
	}

	bad := failed.Load() != 0
	for _, cy := range cys {
		var turnout struct {
			Voters  int64 `json:"voters"`
			Ballots int64 `json:"ballots"`
		}
		c.Must("", "GET", cy.path+"/turnout", nil, 200, &turnout)
		st, _ := c.Do(voters[0], "POST", cy.path+"/ballots", "application/json", []byte(`{"projects":["`+cy.ids[0]+`"]}`))
		fmt.Printf("turnout %s: %d voters, %d ballots (want %d each); a second ballot by one resident: HTTP %d (want 409)\n", cy.path, turnout.Voters, turnout.Ballots, *n, st)
		bad = bad || turnout.Voters != int64(*n) || turnout.Ballots != int64(*n) || st != http.StatusConflict
	}
	if bad {
		os.Exit(1)
	}
}

// ballotForm is a JSON ballot ({"projects": [...]}) as the ballot page's form posts it.
func ballotForm(jsonBody []byte) []byte {
	var b struct {
		Projects []string `json:"projects"`
	}
	if err := json.Unmarshal(jsonBody, &b); err != nil {
		log.Fatal(err)
	}
	return []byte(url.Values{"projects": b.Projects}.Encode())
}

// castPage posts a ballot through the ballot page as a browser does: the session in
// its cookie (a signed-in token is a session), the form url-encoded, from the site's
// own page; the answer is the 303 to the confirmation, not followed.
func castPage(c *loadgen.Client, token, path string, body []byte) (int, []byte) {
	req, err := http.NewRequest("POST", c.Base+path, bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: "kvarter_session", Value: token})
	resp, err := c.HTTP.Transport.RoundTrip(req) // a 303 is the answer, not a hop
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
