// Package loadgen holds what Kvarter's load generators share: a JSON client for the
// API that stops the run on an unexpected answer, a bounded parallel runner, and the
// machine's load average to print beside every figure.
package loadgen

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client speaks to one Kvarter base URL.
type Client struct {
	Base string
	HTTP *http.Client
}

// Do sends a request with an optional bearer token and returns status and body; a
// transport error ends the run.
func (c *Client) Do(token, method, path, ctype string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		log.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// MustRaw sends a raw body and ends the run unless the status is want; a JSON answer is
// decoded into into when it is not nil.
func (c *Client) MustRaw(token, method, path, ctype string, body []byte, want int, into any) {
	st, out := c.Do(token, method, path, ctype, body)
	if st != want {
		log.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, st, want, out)
	}
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			log.Fatalf("%s %s: %v: %s", method, path, err, out)
		}
	}
}

// Must sends in as JSON (nil for no body), like MustRaw.
func (c *Client) Must(token, method, path string, in any, want int, into any) {
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	c.MustRaw(token, method, path, "application/json", body, want, into)
}

// Parallel runs fn(0..n-1) on k goroutines.
func Parallel(n, k int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// LoadAvg is the one-minute load average, or "?" where /proc is missing.
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// Timings records the latency of each request of a measured run and when it started,
// for percentiles and, when asked, a timeline that shows whether the slow requests
// bunch together (a start-up effect, a checkpoint) or spread evenly (saturation).
type Timings struct {
	start time.Time
	at    []time.Duration // start of request i, since the run began
	lat   []time.Duration
}

// NewTimings prepares for n requests; the clock starts now.
func NewTimings(n int) *Timings {
	return &Timings{start: time.Now(), at: make([]time.Duration, n), lat: make([]time.Duration, n)}
}

// Time runs request i and records how long it took.
func (t *Timings) Time(i int, do func()) {
	s := time.Now()
	do()
	t.lat[i], t.at[i] = time.Since(s), s.Sub(t.start)
}

// Elapsed is the time since the run began.
func (t *Timings) Elapsed() time.Duration { return time.Since(t.start) }

// Summary is "p50 .. p90 .. p99 .. max ..".
func (t *Timings) Summary() string {
	l := slices.Sorted(slices.Values(t.lat))
	pct := func(p float64) time.Duration {
		return l[min(len(l)-1, int(p*float64(len(l))))].Round(10 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %v p90 %v p99 %v max %v", pct(.50), pct(.90), pct(.99), l[len(l)-1].Round(10*time.Microsecond))
}

// Timeline writes p50, p99 and max per window of requests that started in it.
func (t *Timings) Timeline(w io.Writer, window time.Duration) {
	var buckets [][]time.Duration
	for i, at := range t.at {
		b := int(at / window)
		for len(buckets) <= b {
			buckets = append(buckets, nil)
		}
		buckets[b] = append(buckets[b], t.lat[i])
	}
	for b, l := range buckets {
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		fmt.Fprintf(w, "  from %5v: %4d requests, p50 %v p99 %v max %v\n", time.Duration(b)*window, len(l),
			l[len(l)/2].Round(100*time.Microsecond), l[len(l)*99/100].Round(100*time.Microsecond), l[len(l)-1].Round(100*time.Microsecond))
	}
}

// NodeFlags are the flags every load generator takes: the node's address and the city
// admin that bench/lib.sh creates. Parse the flags, then call Admin.
type NodeFlags struct {
	base, email, password *string
}

// DeclareNodeFlags declares -base (defaultBase unless given), -admin-email and
// -admin-password.
func DeclareNodeFlags(defaultBase string) *NodeFlags {
	return &NodeFlags{
		base:     flag.String("base", defaultBase, "kvarter base URL"),
		email:    flag.String("admin-email", "admin@bench.invalid", "city admin email"),
		password: flag.String("admin-password", "bench admin passphrase", "city admin password"),
	}
}

// Admin is a client for the node, keeping up to conns connections open, and the city
// admin's token.
func (f *NodeFlags) Admin(conns int) (*Client, string) {
	c := &Client{Base: strings.TrimRight(*f.base, "/"), HTTP: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns + 4, MaxConnsPerHost: conns + 4}}}
	var login struct {
		Token string `json:"token"`
	}
	c.Must("", "POST", "/api/v1/auth/login", map[string]string{"email": *f.email, "password": *f.password}, 200, &login)
	return c, login.Token
}
