package sdktest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// BenchmarkOutboxDelivery measures events per second from one plugin's outbox to one
// subscriber through a real core on PostgreSQL: the SDK's relay hands the emitter
// plugin's events to the core in batches, and the core delivers them to the recorder.
//
// The backlog is made while the city is down (b.N events committed into the emitter's
// store, 500 to a transaction, as the plugin would have while its host was away), and
// the clock runs from the restarted city being active until the recorder holds the
// last event, counting only events delivered in that time. "memory" is a subscriber
// that keeps events in memory; "durable" one that commits each event to its store, as
// a real plugin's handler does.
//
//	go test -run '^$' -bench OutboxDelivery -benchtime 50000x ./sdktest/
func BenchmarkOutboxDelivery(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchDelivery(b, sdktest.MemoryRecorder(b, "emitter.thing.made"), false) })
	b.Run("durable", func(b *testing.B) { benchDelivery(b, sdktest.Recorder(b, "emitter.thing.made"), true) })
}

func benchDelivery(b *testing.B, rec sdktest.OtherPlugin, durable bool) {
	sdktest.PostgresURL(b)
	c := sdktest.Start(b, sdktest.Options{Package: "./internal/emitter", Postgres: true, Others: []sdktest.OtherPlugin{rec}})
	maker := c.NewUser("maker@example.org")
	// The path works before the city goes down, and its cursor is fixed.
	maker.Must(200, "POST", "/api/v1/emitter/things", map[string]any{"count": 10})
	waitCount(b, c, 10)
	c.Kill()
	backlog(b, c, b.N)
	want := b.N // a memory recorder forgets the first 10 when it restarts
	if durable {
		want += 10
	}

	dialect, dsn := c.PluginStore()
	db, err := store.Open(context.Background(), sdk.StoreConfig{Dialect: dialect, DSN: dsn})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	b.ResetTimer()
	c.Restart()
	start, before := time.Now(), recorded(b, c)
	pendingBefore, _ := db.PendingEvents(context.Background())
	// relayed/s: how fast the plugin's outbox empties into the core. The poll asks
	// only whether a row is left: counting them all a hundred times a second took
	// CPU from what is measured.
	relayed := make(chan time.Duration, 1)
	go func() {
		for left := true; left; time.Sleep(10 * time.Millisecond) {
			_ = db.GetContext(context.Background(), &left, `SELECT EXISTS (SELECT 1 FROM kvarter_outbox)`)
		}
		relayed <- time.Since(start)
	}()
	waitCount(b, c, want)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(recorded(b, c)-before)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(pendingBefore)/(<-relayed).Seconds(), "relayed/s")
	if n := len(c.PendingEvents("emitter")); n != 0 {
		b.Errorf("%d events left in the outbox", n)
	}
}

// backlog commits n events into the emitter's outbox while its city is down.
func backlog(b *testing.B, c *sdktest.Core, n int) {
	dialect, dsn := c.PluginStore()
	ctx := context.Background()
	db, err := store.Open(ctx, sdk.StoreConfig{Dialect: dialect, DSN: dsn})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for made := 0; made < n; made += 500 {
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := made; i < min(made+500, n); i++ {
				if err := tx.Emit("emitter.thing.made", map[string]string{"id": fmt.Sprintf("t%07d", i), "label": "backlog"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func recorded(b *testing.B, c *sdktest.Core) int {
	n, _ := c.RecordedCount()
	return n
}

func waitCount(b *testing.B, c *sdktest.Core, n int) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if got := recorded(b, c); got >= n {
			return
		} else if time.Now().After(deadline) {
			b.Fatalf("the recorder holds %d events, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
