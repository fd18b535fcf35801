package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// BenchmarkEmit: a transaction emitting one event, the request path's cost.
func BenchmarkEmit(b *testing.B) {
	eachStoreB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Emit("test.n", map[string]string{"id": "x"}) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFlushOutbox: the SDK's side of delivery, reading and deleting batches, to a
// host that takes every batch at once.
func BenchmarkFlushOutbox(b *testing.B) {
	eachStoreB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		host := &nullHost{}
		b.ResetTimer()
		for b.Loop() {
			b.StopTimer()
			emitN(b, db, 0, sdk.MaxPublishBatch)
			b.StartTimer()
			if err := db.FlushOutbox(ctx, host); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*sdk.MaxPublishBatch)/b.Elapsed().Seconds(), "events/s")
	})
}

type nullHost struct{ sdk.Host }

func (nullHost) PublishAll(context.Context, []sdk.Event) error { return nil }

func eachStoreB(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	for _, dialect := range []string{sdk.DialectSQLite, sdk.DialectPostgres} {
		b.Run(dialect, func(b *testing.B) {
			cfg := sdktest.SQLiteStore(b)
			if dialect == sdk.DialectPostgres {
				cfg = sdktest.PostgresStore(b)
			}
			db, err := store.Open(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := store.Migrate(context.Background(), db, nil); err != nil {
				b.Fatal(err)
			}
			fn(b, db)
		})
	}
}

// BenchmarkNotify10k: a transaction notifying ten thousand people (an assembly's whole
// neighbourhood) and the relay handing it to the host, in rows of NotifyChunk.
func BenchmarkNotify10k(b *testing.B) {
	recipients := make([]string, 10_000)
	for i := range recipients {
		recipients[i] = fmt.Sprintf("0198f0a2-7c3e-7000-8000-%012d", i)
	}
	note := sdk.Notification{Kind: "test.thing.done", Recipients: recipients, Subject: "test.thing:1", Link: "/test/things/1",
		Texts: map[string]sdk.NotificationText{}}
	for _, tag := range []string{"en", "fi", "sv", "da", "tr"} {
		note.Texts[tag] = sdk.NotificationText{Title: "The city answered “Benches on the square”", Body: strings.Repeat("A reasoned answer. ", 40)}
	}
	eachStoreB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		host := &nullHost{}
		b.ResetTimer()
		for b.Loop() {
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Notify(ctx, note) }); err != nil {
				b.Fatal(err)
			}
			if err := db.FlushOutbox(ctx, host); err != nil {
				b.Fatal(err)
			}
		}
	})
}
