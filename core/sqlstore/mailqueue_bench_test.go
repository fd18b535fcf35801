package sqlstore_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/mail/mailtest"
	"github.com/kvarter/kvarter/core/sqlstore"
)

// BenchmarkMailQueue_Drain measures mails per second from the queue to the in-process
// SMTP server: b.N account mails are queued, then a node's worker (started with the
// node, in its own goroutines) sends them. Meanwhile a client keeps asking the same
// node for a page that reads the database (GET /api/v1/neighbourhoods), and the
// benchmark reports that request's median and 99th percentile while the queue drains,
// next to the same figures with an idle queue: sending must not hold requests up.
//
//	KVARTER_TEST_DATABASE_URL=... go test -run '^$' -bench MailQueue_Drain -benchtime 2000x ./sqlstore/
func BenchmarkMailQueue_Drain(b *testing.B) {
	for _, db := range coretest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			srv := mailtest.Start(b, mailtest.Options{})
			opt := coretest.Options()
			opt.Mailer = testSender(b, srv)
			opt.MailQueue = sqlstore.MailQueueSettings{Poll: 10 * time.Millisecond}
			n := coretest.StartNode(b, db.Config, opt)
			// The benchmark runs again on the same database with a larger b.N.
			run := time.Now().UnixNano()
			addr := fmt.Sprintf("bench%d@example.org", run)
			id := person(b, n, addr, true)
			ctx := context.Background()

			idle := requestLatencies(n.URL(), 200)
			mails := make([]core.QueuedMail, b.N)
			for i := range mails {
				mails[i] = core.QueuedMail{Key: fmt.Sprintf("bench:%d:%d", run, i), UserID: id, Purpose: core.PurposeResetPassword, Mail: accountMail(addr, fmt.Sprintf("m%d", i))}
			}
			// Queued in batches, as a fan-out would; the worker starts on the first.
			b.ResetTimer()
			start := time.Now()
			var busy []time.Duration
			var wg sync.WaitGroup
			done := make(chan struct{})
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
						busy = append(busy, requestLatencies(n.URL(), 20)...)
					}
				}
			})
			for i := 0; i < len(mails); i += 500 {
				if err := n.MailQueue.Enqueue(ctx, mails[i:min(i+500, len(mails))]); err != nil {
					b.Fatal(err)
				}
			}
			srv.WaitFor(b, b.N, 10*time.Minute)
			elapsed := time.Since(start)
			close(done)
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "mails/s")
			b.ReportMetric(percentile(idle, 50), "idle_p50_ms")
			b.ReportMetric(percentile(idle, 99), "idle_p99_ms")
			b.ReportMetric(percentile(busy, 50), "sending_p50_ms")
			b.ReportMetric(percentile(busy, 99), "sending_p99_ms")
		})
	}
}

// requestLatencies times n requests for a database-backed public list.
func requestLatencies(base string, n int) []time.Duration {
	out := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		resp, err := http.Get(base + "/api/v1/neighbourhoods")
		if err == nil {
			resp.Body.Close()
		}
		out = append(out, time.Since(t))
	}
	return out
}

func percentile(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, len(s)*p/100)].Microseconds()) / 1000
}
