// Command loadgen prepares the consultations benchmark (bench/consultations/run.sh)
// through the public API: N residents registered, verified by one membership import
// and signed in; a city-wide survey for verified residents with a question that
// depends on the first, published and open. It writes the residents' session tokens
// (one a line) and the survey's form bodies (url-encoded, one a line, several answer
// patterns) for wrk's Lua script, and prints the IDs the script needs as shell
// assignments.
//
// With -pace it does not prepare but sends: the survey's page form (-survey) at a
// steady -rate per second for -for, one resident after another from -tokens, each
// post started on time whether or not the ones before have been answered (an open
// loop, as residents arrive), and prints how many were sent and the latency
// percentiles, after five seconds at the rate that are not measured (the client's
// connections open, as on a node in use). wrk measures the most a node takes; this measures the latency at the
// rate the target names.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvarter/kvarter/bench/internal/loadgen"
)

func main() {
	node := loadgen.DeclareNodeFlags("http://127.0.0.1:18195")
	n := flag.Int("n", 400, "residents")
	setupConns := flag.Int("setup-c", 8, "connections for registering and signing in")
	tokensFile := flag.String("tokens", "tokens.txt", "where the residents' session tokens go")
	formsFile := flag.String("forms", "forms.txt", "where the survey's form bodies go")
	pace := flag.Bool("pace", false, "send the survey's form at -rate for -for instead of preparing")
	surveyID := flag.String("survey", "", "with -pace: the survey's ID")
	rate := flag.Float64("rate", 5000.0/60, "with -pace: posts a second")
	dur := flag.Duration("for", time.Minute, "with -pace: how long")
	timeline := flag.Bool("timeline", false, "with -pace: also print latency per 5 s of the run")
	flag.Parse()
	log.SetFlags(0)
	if *pace {
		paced(node, *tokensFile, *formsFile, *surveyID, *rate, *dur, *timeline)
		return
	}

	c, admin := node.Admin(*setupConns)
	var nbh struct {
		ID string `json:"id"`
	}
	c.Must(admin, "POST", "/api/v1/neighbourhoods", map[string]string{"name": fmt.Sprintf("Bench %d", time.Now().UnixNano())}, 201, &nbh)

	start := time.Now()
	emails := make([]string, *n)
	for i := range emails {
		emails[i] = fmt.Sprintf("resident%06d@bench.invalid", i)
	}
	const pass = "a long bench passphrase"
	loadgen.Parallel(*n, *setupConns, func(i int) {
		c.Must("", "POST", "/api/v1/auth/register", map[string]string{"email": emails[i], "password": pass, "display_name": fmt.Sprintf("Sakin %d", i), "language": "tr"}, 201, nil)
	})
	var csv bytes.Buffer
	csv.WriteString("email,neighbourhood\n")
	for _, e := range emails {
		fmt.Fprintf(&csv, "%s,%s\n", e, nbh.ID)
	}
	c.MustRaw(admin, "POST", "/api/v1/admin/memberships/import", "text/csv", csv.Bytes(), 200, nil)
	tokens := make([]string, *n)
	loadgen.Parallel(*n, *setupConns, func(i int) {
		var l struct {
			Token string `json:"token"`
		}
		c.Must("", "POST", "/api/v1/auth/login", map[string]string{"email": emails[i], "password": pass}, 200, &l)
		tokens[i] = l.Token
	})
	log.Printf("registered, verified and signed in %d residents in %v", *n, time.Since(start).Round(time.Millisecond))

	var survey struct {
		ID        string `json:"id"`
		Questions []struct {
			ID      string `json:"id"`
			Options []struct {
				ID string `json:"id"`
			} `json:"options"`
		} `json:"questions"`
	}
	now := time.Now().UTC()
	c.Must(admin, "POST", "/api/v1/consultations", map[string]any{
		"kind": "survey", "title": "Kordon bisiklet yolu anketi", "participation": "residents", "anonymous_allowed": true,
		"opens_at": now.Add(-time.Hour), "closes_at": now.Add(24 * time.Hour),
		"questions": []map[string]any{
			{"kind": "single", "prompt": "Bisiklete biniyor musunuz?", "required": true, "options": []string{"Evet", "Hayır"}},
			{"kind": "scale", "prompt": "Ne sıklıkla?", "required": true, "scale_min": 1, "scale_max": 5, "show_if": map[string]int{"question": 0, "option": 0}},
			{"kind": "multiple", "prompt": "Hangi kesimler?", "options": []string{"Konak", "Alsancak", "Bayraklı", "Karşıyaka"}},
			{"kind": "ranking", "prompt": "Öncelikler", "options": []string{"Geçitler", "Park yeri", "Aydınlatma"}},
			{"kind": "text", "prompt": "Eklemek istedikleriniz", "max_length": 500},
		},
	}, 201, &survey)
	c.Must(admin, "POST", "/api/v1/consultations/"+survey.ID+"/publish", nil, 200, nil)

	// Form bodies as the survey's page posts them: the dependent question's field is
	// sent by a browser without JavaScript even when it is not asked (and dropped).
	q := survey.Questions
	field := func(i int) string { return "answers." + q[i].ID }
	var forms []string
	for k := range 12 {
		v := url.Values{}
		v.Set(field(0), q[0].Options[k%2].ID)
		v.Set(field(1), fmt.Sprint(1+k%5))
		v.Add(field(2), q[2].Options[k%4].ID)
		v.Add(field(2), q[2].Options[(k+1)%4].ID)
		for j := range 3 {
			v.Set(field(3)+"."+q[3].Options[j].ID, fmt.Sprint(1+(j+k)%3))
		}
		if k%3 == 0 {
			v.Set(field(4), fmt.Sprintf("Kavşak %d çok tehlikeli; ayrı bir ışık istiyoruz.", k))
		}
		forms = append(forms, v.Encode())
	}
	write := func(path string, lines []string) {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	write(*tokensFile, tokens)
	write(*formsFile, forms)
	fmt.Printf("ADMIN=%s\nSURVEY=%s\n", admin, survey.ID)
	for i, qu := range q {
		fmt.Printf("Q%d=%s\n", i, qu.ID)
		for j, o := range qu.Options {
			fmt.Printf("Q%dO%d=%s\n", i, j, o.ID)
		}
	}
}

// paced posts the survey's page form at rate per second for dur, as signed-in
// residents (session cookie, from the site's own page), and prints the latencies —
// with timeline, per 5 s, which shows whether slow answers bunch together (the machine
// busy with something else for a while) or spread evenly (the node saturated).
func paced(node *loadgen.NodeFlags, tokensFile, formsFile, survey string, rate float64, dur time.Duration, timeline bool) {
	read := func(path string) []string {
		b, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		return strings.Fields(string(b))
	}
	tokens, forms := read(tokensFile), read(formsFile)
	c, _ := node.Admin(64)
	every := time.Duration(float64(time.Second) / rate)
	var failed atomic.Int64
	var wg sync.WaitGroup
	// send posts n forms at the rate, the i-th timed by tm when it is not nil.
	send := func(n int, tm *loadgen.Timings) {
		begin := time.Now()
		for i := range n {
			time.Sleep(time.Until(begin.Add(time.Duration(i) * every)))
			wg.Go(func() {
				post := func() {
					req, _ := http.NewRequest("POST", c.Base+"/consultations/"+survey+"/answer", strings.NewReader(forms[i%len(forms)]))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Sec-Fetch-Site", "same-origin")
					req.AddCookie(&http.Cookie{Name: "kvarter_session", Value: tokens[i%len(tokens)]})
					resp, err := c.HTTP.Transport.RoundTrip(req) // no redirect followed: the 303 is the answer
					if err != nil {
						failed.Add(1)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusSeeOther {
						failed.Add(1)
					}
				}
				if tm == nil {
					post()
				} else {
					tm.Time(i, post)
				}
			})
		}
		wg.Wait()
	}
	// Five seconds at the rate first, not measured: the client's connections open,
	// as a node in use has them open.
	send(int(rate*5), nil)
	n := int(rate * dur.Seconds())
	tm := loadgen.NewTimings(n)
	begin := time.Now()
	send(n, tm)
	fmt.Printf("  %d submissions at %.1f/s for %v (took %v), %d failed; latency %s (load %s)\n",
		n, rate, dur, time.Since(begin).Round(time.Millisecond), failed.Load(), tm.Summary(), loadgen.LoadAvg())
	if timeline {
		tm.Timeline(os.Stdout, 5*time.Second)
	}
	if failed.Load() > 0 {
		os.Exit(1)
	}
}
