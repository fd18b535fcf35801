package parks

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// BenchmarkService_Availability measures availability of one area over
// 90 days with 5,000 approved bookings in the park, through the store,
// and reports p50/p95 per call. On PostgreSQL when
// KVARTER_TEST_DATABASE_URL is set:
//
//	go test -run '^$' -bench Availability -benchtime 300x .
func BenchmarkService_Availability(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchAvailability(b, sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + b.TempDir() + "/bench.db"})
	})
	b.Run("postgres", func(b *testing.B) {
		benchAvailability(b, postgresSchema(b))
	})
}

// BenchmarkService_FreeSlots is BenchmarkService_Availability for the list of
// free slots by day that the availability page shows (issue 20: under 50 ms p95).
func BenchmarkService_FreeSlots(b *testing.B) {
	freeSlots := func(w *world, from, to time.Time) (int, error) {
		fs, err := w.svc.FreeSlots(context.Background(), w.park.ID, w.meadow.ID, from, to)
		if err != nil {
			return 0, err
		}
		return len(fs.Days), nil
	}
	b.Run("sqlite", func(b *testing.B) {
		benchArea(b, sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + b.TempDir() + "/bench.db"}, freeSlots)
	})
	b.Run("postgres", func(b *testing.B) {
		benchArea(b, postgresSchema(b), freeSlots)
	})
}

func benchAvailability(b *testing.B, cfg sdk.StoreConfig) {
	benchArea(b, cfg, func(w *world, from, to time.Time) (int, error) {
		av, err := w.svc.Availability(context.Background(), w.park.ID, w.meadow.ID, from, to)
		if err != nil {
			return 0, err
		}
		return len(av.Free), nil
	})
}

// benchArea times call (which answers how many things it found) over 90 days of
// the meadow, with 5,000 approved bookings in the park.
func benchArea(b *testing.B, cfg sdk.StoreConfig, call func(w *world, from, to time.Time) (int, error)) {
	w := newWorld(b, cfg.Dialect, cfg, nil)
	seedBookings(b, w, 5000)
	loc := w.park.location()
	from := time.Date(2025, 6, 3, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 90)
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		n, err := call(w, from, to)
		durs = append(durs, time.Since(t0))
		if err != nil || n == 0 {
			b.Fatalf("availability: %v (%d found)", err, n)
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	pct := func(p float64) float64 { return float64(durs[int(p*float64(len(durs)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}

// seedBookings inserts n approved one-hour bookings spread over the
// park's areas and the next 180 days, without overlaps, straight through
// the storage helpers (the approval path is measured elsewhere).
func seedBookings(b *testing.B, w *world, n int) {
	b.Helper()
	ctx := context.Background()
	tree, err := parkAreas(ctx, w.plugin.db, w.park.ID)
	if err != nil {
		b.Fatal(err)
	}
	// Leaves only, so no booking blocks another's ancestor.
	leaves := []*Area{w.stage, w.playground}
	loc := w.park.location()
	now := w.clock.Now()
	err = w.plugin.db.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			a := leaves[i%2]
			day := 1 + (i/2)/6 // 6 one-hour bookings a day per leaf, 08:00–19:00
			hour := 8 + 2*((i/2)%6)
			start := time.Date(2025, 6, 2+day, hour, 0, 0, 0, loc).UTC()
			bk := &Booking{ID: newID(), ParkID: w.park.ID, AreaID: a.ID, Kind: KindEvent, Status: StatusApproved,
				OrganisationID: orgID, Title: "seed", Category: "other", ExpectedAttendance: 1, SupportItems: map[string]int{},
				Start: start, End: start.Add(time.Hour), CreatedAt: now, UpdatedAt: now, wasApproved: true}
			if err := insertBooking(ctx, tx, bk); err != nil {
				return err
			}
			if err := w.svc.st.insertOccupancy(ctx, tx, occupancyRows(tree, bk)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
