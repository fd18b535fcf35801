// Command loadgen drives the assemblies ballot benchmark (bench/assemblies/run.sh)
// through a running kvarter's public HTTP API only: it signs in a city admin, creates a
// neighbourhood, registers residents and verifies them with one membership import,
// signs each resident in (argon2id, so concurrently and before the clock starts),
// creates an open assembly that every resident joins, makes the first resident its
// chair, and for each requested secrecy tables a motion and opens its vote. Then it
// casts one ballot per resident over a fixed number of connections and reports
// ballots/s and latency percentiles, checks that a second ballot is refused, closes
// the vote and checks that the counts add up to exactly N.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kvarter/kvarter/bench/internal/loadgen"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:18191", "kvarter base URL")
	adminEmail := flag.String("admin-email", "admin@bench.invalid", "city admin email")
	adminPass := flag.String("admin-password", "bench admin passphrase", "city admin password")
	n := flag.Int("n", 2000, "residents, all members of the assembly and all voting")
	conns := flag.Int("c", 32, "connections casting ballots")
	setupConns := flag.Int("setup-c", 8, "connections for registering, signing in and joining")
	secrecies := flag.String("secrecy", "secret,named", "comma-separated votes to run, one motion each")
	me := flag.Bool("me", true, "after the votes, also time GET /api/v1/me once per member: the host's own cost of a member's request whose principal is not cached")
	state := flag.String("state", "", "file keeping the setup (tokens, assembly) between runs against the same server")
	warmup := flag.Int("warmup", 320, "further residents, members of another assembly, who vote there before the clock starts")
	timeline := flag.Bool("timeline", false, "also print latency per quarter second of each vote")
	procs := flag.String("procs", "", "name=pid,... of processes whose CPU time the ballots cost is reported (with loadgen itself and all postgres processes)")
	barrier := flag.String("barrier", "", "a directory: before each vote's ballots, write <tag>.ready<k> there and wait for go<k>, so that two loadgens cast in step (bench/compare-ballots.sh)")
	tag := flag.String("tag", "loadgen", "this loadgen's name in the barrier directory")
	flag.Parse()
	log.SetFlags(0)

	c := &loadgen.Client{Base: strings.TrimRight(*base, "/"), HTTP: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: max(*conns, *setupConns) + 4, MaxConnsPerHost: max(*conns, *setupConns) + 4},
	}}
	st, err := loadState(*state)
	if err != nil {
		log.Fatal(err)
	}
	if st == nil || len(st.Tokens) < *n || len(st.WarmTokens) < *warmup {
		st = setup(c, *adminEmail, *adminPass, *n, *warmup, *setupConns)
		if *state != "" {
			b, _ := json.Marshal(st)
			if err := os.WriteFile(*state, b, 0o600); err != nil {
				log.Fatal(err)
			}
		}
	}
	tokens, chair, ap := st.Tokens[:*n], st.Tokens[0], st.Assembly
	var t time.Time

	// The warm-up: other residents vote in another assembly first, so that the pools of
	// connections (loadgen to core, core and plugin to PostgreSQL) are open and the
	// server processes have run the path, as on a server that has been in use. The
	// measured members' tokens stay unseen by the core until they vote.
	if *warmup > 0 {
		_, wp, _ := openVote(c, st.WarmTokens[0], st.WarmAssembly, "Warm-up motion", "secret")
		t = time.Now()
		loadgen.Parallel(*warmup, *conns, func(i int) {
			c.Must(st.WarmTokens[i], "POST", wp+"/vote/ballots", map[string]string{"choice": "yes"}, 201, nil)
		})
		log.Printf("warm-up: %d ballots in another assembly in %v", *warmup, time.Since(t).Round(time.Millisecond))
	}

	bad := false
	for k, secrecy := range strings.Split(*secrecies, ",") {
		id, mp, electorate := openVote(c, chair, ap, fmt.Sprintf("Bench motion %d", k), secrecy)
		fmt.Printf("MOTION_ID=%s SECRECY=%s ELECTORATE=%d\n", id, secrecy, electorate)

		choices := []string{"yes", "yes", "no", "abstain"}
		var failed atomic.Int64
		if *barrier != "" {
			awaitGo(*barrier, *tag, k)
		}
		load0 := loadgen.LoadAvg()
		cpu0 := cpuTimes(*procs)
		tm := loadgen.NewTimings(*n)
		loadgen.Parallel(*n, *conns, func(i int) {
			body := []byte(`{"choice":"` + choices[i%len(choices)] + `"}`)
			var st int
			var out []byte
			tm.Time(i, func() { st, out = c.Do(tokens[i], "POST", mp+"/vote/ballots", "application/json", body) })
			if st != 201 && failed.Add(1) <= 5 {
				log.Printf("ballot %d: HTTP %d %s", i, st, out)
			}
		})
		el := tm.Elapsed()
		fmt.Printf("%s vote: %d ballots in %v at %d connections = %.0f ballots/s; latency %s; failed %d; load %s -> %s\n",
			secrecy, *n, el.Round(time.Millisecond), *conns, float64(*n)/el.Seconds(), tm.Summary(), failed.Load(), load0, loadgen.LoadAvg())
		if *timeline {
			tm.Timeline(os.Stdout, 250*time.Millisecond)
		}

		fmt.Printf("%s vote: CPU time during the ballots (s): %s\n", secrecy, cpuDelta(cpu0, cpuTimes(*procs)))

		again, _ := c.Do(tokens[1], "POST", mp+"/vote/ballots", "application/json", []byte(`{"choice":"no"}`))
		var closed struct {
			Outcome string `json:"outcome"`
			Counts  struct {
				Yes     int `json:"yes"`
				No      int `json:"no"`
				Abstain int `json:"abstain"`
			} `json:"counts"`
		}
		t = time.Now()
		c.Must(chair, "POST", mp+"/vote/close", nil, 200, &closed)
		total := closed.Counts.Yes + closed.Counts.No + closed.Counts.Abstain
		wantYes := *n/4*2 + min(*n%4, 2)
		fmt.Printf("%s close: %s in %v, yes %d no %d abstain %d = %d (want %d, yes %d); a second ballot: HTTP %d (want 409)\n",
			secrecy, closed.Outcome, time.Since(t).Round(time.Millisecond), closed.Counts.Yes, closed.Counts.No, closed.Counts.Abstain,
			total, *n, wantYes, again)
		bad = bad || failed.Load() != 0 || total != *n || closed.Counts.Yes != wantYes || again != http.StatusConflict
	}
	if *me {
		// The same crowd of tokens, each used once, on a core-only route: the core
		// resolves each principal again (its cache holds one for a second), which is
		// what every ballot above paid before reaching the plugin.
		cpu0 := cpuTimes(*procs)
		load0 := loadgen.LoadAvg()
		tm := loadgen.NewTimings(*n)
		loadgen.Parallel(*n, *conns, func(i int) {
			tm.Time(i, func() {
				if st, out := c.Do(tokens[i], "GET", "/api/v1/me", "", nil); st != 200 {
					log.Fatalf("GET /api/v1/me: HTTP %d %s", st, out)
				}
			})
		})
		el := tm.Elapsed()
		fmt.Printf("host only, GET /api/v1/me once per member: %d requests in %v at %d connections = %.0f req/s; latency %s; load %s -> %s\n",
			*n, el.Round(time.Millisecond), *conns, float64(*n)/el.Seconds(), tm.Summary(), load0, loadgen.LoadAvg())
		fmt.Printf("host only: CPU time (s): %s\n", cpuDelta(cpu0, cpuTimes(*procs)))
	}
	if bad {
		os.Exit(1)
	}
}

// benchState is what the setup leaves: a signed-in token per member (the first is the
// chair's) and the assembly's path. -state keeps it in a file, so that a rerun against
// the same server skips the minutes of registering, signing in and joining.
type benchState struct {
	Tokens   []string `json:"tokens"`
	Assembly string   `json:"assembly"`
	// The warm-up's voters and their assembly (the first is its chair).
	WarmTokens   []string `json:"warm_tokens"`
	WarmAssembly string   `json:"warm_assembly"`
}

// openVote tables a new motion in the assembly at path ap and opens its vote, as the
// chair; it returns the motion's ID and path and the vote's electorate.
func openVote(c *loadgen.Client, chair, ap, title, secrecy string) (id, path string, electorate int) {
	var m struct {
		ID string `json:"id"`
	}
	c.Must(chair, "POST", ap+"/motions", map[string]string{"title": title, "text": "Benches on the square."}, 201, &m)
	mp := ap + "/motions/" + m.ID
	c.Must(chair, "POST", mp+"/table", nil, 200, nil)
	var opened struct {
		Vote struct {
			Electorate int `json:"electorate"`
		} `json:"vote"`
	}
	c.Must(chair, "POST", mp+"/vote/open", map[string]string{"secrecy": secrecy}, 200, &opened)
	return m.ID, mp, opened.Vote.Electorate
}

func loadState(path string) (*benchState, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var st benchState
	return &st, json.Unmarshal(b, &st)
}

// setup makes the city: neighbourhood, n verified residents signed in, an open
// assembly they all joined, the first one its chair; and warm more residents in a
// second assembly, for the warm-up.
func setup(c *loadgen.Client, adminEmail, adminPass string, n, warm, setupConns int) *benchState {
	var login struct {
		Token string `json:"token"`
	}
	c.Must("", "POST", "/api/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPass}, 200, &login)
	admin := login.Token
	var nbh struct {
		ID string `json:"id"`
	}
	c.Must(admin, "POST", "/api/v1/neighbourhoods", map[string]string{"name": fmt.Sprintf("Bench %d", time.Now().UnixNano())}, 201, &nbh)

	start := time.Now()
	all := n + warm
	emails := make([]string, all)
	for i := range emails {
		emails[i] = fmt.Sprintf("member%06d@bench.invalid", i)
	}
	const pass = "a long bench passphrase"
	loadgen.Parallel(all, setupConns, func(i int) {
		c.Must("", "POST", "/api/v1/auth/register", map[string]string{"email": emails[i], "password": pass, "display_name": fmt.Sprintf("Member %d", i), "language": "en"}, 201, nil)
	})
	log.Printf("registered %d residents in %v", all, time.Since(start).Round(time.Millisecond))
	var csv bytes.Buffer
	csv.WriteString("email,neighbourhood\n")
	for _, e := range emails {
		fmt.Fprintf(&csv, "%s,%s\n", e, nbh.ID)
	}
	t := time.Now()
	c.MustRaw(admin, "POST", "/api/v1/admin/memberships/import", "text/csv", csv.Bytes(), 200, nil)
	log.Printf("imported %d verified memberships in %v", all, time.Since(t).Round(time.Millisecond))
	tokens, ids := make([]string, all), make([]string, all)
	t = time.Now()
	loadgen.Parallel(all, setupConns, func(i int) {
		var l struct {
			Token string `json:"token"`
			User  struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		c.Must("", "POST", "/api/v1/auth/login", map[string]string{"email": emails[i], "password": pass}, 200, &l)
		tokens[i], ids[i] = l.Token, l.User.ID
	})
	log.Printf("signed in %d residents in %v", all, time.Since(t).Round(time.Millisecond))

	// An open assembly that members join, its first member made chair.
	assembly := func(name string, tokens, ids []string) string {
		var asm struct {
			ID string `json:"id"`
		}
		c.Must(admin, "POST", "/api/v1/assemblies", map[string]any{
			"neighbourhood_id": nbh.ID, "name": name, "charter": "Guide the municipality's projects.",
			"quorum_percent": 50, "majority": "simple", "secrecy": "secret", "membership": "open",
		}, 201, &asm)
		ap := "/api/v1/assemblies/" + asm.ID
		t := time.Now()
		loadgen.Parallel(len(tokens), setupConns, func(i int) { c.Must(tokens[i], "POST", ap+"/members", nil, 201, nil) })
		log.Printf("%d residents joined %s in %v", len(tokens), name, time.Since(t).Round(time.Millisecond))
		c.Must(admin, "POST", ap+"/members/"+ids[0]+"/position", map[string]string{"position": "chair"}, 200, nil)
		return ap
	}
	st := &benchState{Tokens: tokens[:n], Assembly: assembly("Bench assembly", tokens[:n], ids[:n])}
	if warm > 0 {
		st.WarmTokens, st.WarmAssembly = tokens[n:], assembly("Warm-up assembly", tokens[n:], ids[n:])
	}
	log.Printf("setup done in %v", time.Since(start).Round(time.Millisecond))
	return st

}

// cpuTimes returns the user+system CPU seconds used so far by the named processes,
// loadgen itself, and every process called postgres (all its backends, including other
// users' of the same server).
func cpuTimes(procs string) map[string]float64 {
	out := map[string]float64{"loadgen": procCPU("self")}
	for _, kv := range strings.Split(procs, ",") {
		if name, pid, ok := strings.Cut(kv, "="); ok {
			out[name] = procCPU(pid)
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if comm, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			out["postgres"] += procCPU(e.Name())
		}
	}
	return out
}

// procCPU is utime+stime of /proc/<pid>/stat in seconds (100 ticks a second on Linux).
func procCPU(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	var u, k float64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &k)
	return (u + k) / 100
}

func cpuDelta(a, b map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(b)) {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, b[k]-a[k]))
	}
	return strings.Join(parts, ", ")
}

// awaitGo says this loadgen is ready to cast vote k's ballots and waits for the word,
// so that two loadgens measure at the same moment.
func awaitGo(dir, tag string, k int) {
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s.ready%d", tag, k)), nil, 0o600); err != nil {
		log.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("go%d", k))); err == nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
