// Package loadgen holds what Kvarter's load generators share: a JSON client for the
// API that stops the run on an unexpected answer, a bounded parallel runner, and the
// machine's load average to print beside every figure.
package loadgen

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
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
