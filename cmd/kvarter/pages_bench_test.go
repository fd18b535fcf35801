package main

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/pluginhost"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// BenchmarkHangingCard measures the home page with three plugin cards of which one
// hangs (issue 16: the page answers within the card deadline plus 10 ms): a real
// `kvarter serve` with the host's probe plugin, whose quick card answers, whose slow
// card waits until the host gives up on it and whose failing card fails, asked by an
// anonymous visitor one request at a time. It reports the mean and the slowest
// answer's time over the deadline (overhead-ms, max-overhead-ms).
//
//	go test -run '^$' -bench HangingCard -benchtime 20x ./cmd/kvarter
func BenchmarkHangingCard(b *testing.B) {
	probe := probeBinary(b)
	c := sdktest.Start(b, sdktest.Options{Package: "../../sdk/examples/hello/cmd/hello", Name: "hello",
		Others: []sdktest.OtherPlugin{{Name: "probe", Path: probe}}})
	get := func() (time.Duration, string) {
		req, _ := http.NewRequest(http.MethodGet, c.URL+"/", nil)
		req.Header.Set("Accept-Language", "en")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET / = %d", resp.StatusCode)
		}
		return took, string(body)
	}
	// The page is the one meant: three cards, the slow one a link.
	_, body := get()
	for _, want := range []string{`<p class="card">probe fragment</p>`, `<a class="ds-link" href="/probe/page">probe slow</a>`,
		`<a class="ds-link" href="/probe/page">probe fail</a>`} {
		if !strings.Contains(body, want) {
			b.Fatalf("the home page lacks %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, `<div class="ds-card">`); n < 3 {
		b.Fatalf("%d cards on the home page", n)
	}
	var took []time.Duration
	for b.Loop() {
		d, _ := get()
		took = append(took, d)
	}
	var sum time.Duration
	for _, d := range took {
		sum += d
	}
	over := func(d time.Duration) float64 {
		return float64(d-pluginhost.DefaultCardDeadline) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(pluginhost.DefaultCardDeadline)/float64(time.Millisecond), "deadline-ms")
	b.ReportMetric(over(sum/time.Duration(len(took))), "overhead-ms")
	b.ReportMetric(over(slices.Max(took)), "max-overhead-ms")
}
