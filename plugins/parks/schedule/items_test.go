package schedule_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
)

func TestCheckItems(t *testing.T) {
	h := func(hour int) time.Time { return utc(2024, 6, 1, hour, 0) }
	cat := schedule.Catalogue{"chair": 100, "table": 10, "stage": 1}
	existing := []schedule.ItemBooking{
		{Interval: iv(h(10), h(12)), Items: map[string]int{"chair": 40, "table": 4}},
		{Interval: iv(h(11), h(13)), Items: map[string]int{"chair": 30}},
		{Interval: iv(h(12), h(14)), Items: map[string]int{"chair": 50, "stage": 1}},
		{Interval: iv(h(15), h(17)), Items: map[string]int{"chair": 90}},
	}
	for _, tc := range []struct {
		name string
		req  schedule.ItemBooking
		want []schedule.Shortage
	}{
		// 10–12 peaks at 70 chairs (11–12); 40 and 50 never overlap
		// because 10–12 ends as 12–14 starts.
		{"OKFits", schedule.ItemBooking{Interval: iv(h(10), h(12)), Items: map[string]int{"chair": 30, "table": 6}}, nil},
		{"OKNothingRequested", schedule.ItemBooking{Interval: iv(h(10), h(12)), Items: map[string]int{"chair": 0}}, nil},
		{"OKTouchingHandsOver", schedule.ItemBooking{Interval: iv(h(14), h(15)), Items: map[string]int{"chair": 100, "stage": 1}}, nil},
		{"ErrPeakNotSum", schedule.ItemBooking{Interval: iv(h(9), h(18)), Items: map[string]int{"chair": 11}},
			// 12–13 holds 30+50=80, 15–17 holds 90: the peak is 90, not the sum 210.
			[]schedule.Shortage{{Item: "chair", Quantity: 100, InUse: 90, Requested: 11, Short: 1}}},
		{"ErrSeveral", schedule.ItemBooking{Interval: iv(h(11), h(14)), Items: map[string]int{"chair": 30, "stage": 1, "table": 7}},
			[]schedule.Shortage{
				{Item: "chair", Quantity: 100, InUse: 80, Requested: 30, Short: 10},
				{Item: "stage", Quantity: 1, InUse: 1, Requested: 1, Short: 1},
				{Item: "table", Quantity: 10, InUse: 4, Requested: 7, Short: 1},
			}},
		{"ErrUnknownItem", schedule.ItemBooking{Interval: iv(h(8), h(9)), Items: map[string]int{"piano": 1}},
			[]schedule.Shortage{{Item: "piano", Quantity: 0, InUse: 0, Requested: 1, Short: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := schedule.CheckItems(cat, existing, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("ErrInvalidRequest", func(t *testing.T) {
		for _, req := range []schedule.ItemBooking{
			{Interval: iv(h(12), h(10)), Items: map[string]int{"chair": 1}},
			{Interval: iv(h(10), h(12)), Items: map[string]int{"chair": -1}},
		} {
			if _, err := schedule.CheckItems(cat, existing, req); err == nil {
				t.Errorf("want error for %+v", req)
			}
		}
	})
	t.Run("MatchesBruteForce", func(t *testing.T) {
		r := rand.New(rand.NewPCG(4, 9))
		base := h(0)
		for run := range 200 {
			var ex []schedule.ItemBooking
			for range r.IntN(30) {
				ex = append(ex, schedule.ItemBooking{Interval: randomInterval(r, base, 24), Items: map[string]int{"chair": r.IntN(20), "table": r.IntN(3)}})
			}
			req := schedule.ItemBooking{Interval: randomInterval(r, base, 24), Items: map[string]int{"chair": 1 + r.IntN(20), "table": 1}}
			got, err := schedule.CheckItems(schedule.Catalogue{"chair": 60, "table": 6}, ex, req)
			if err != nil {
				t.Fatal(err)
			}
			// Peak usage only changes at 5-minute steps, so sampling them is exhaustive.
			peak := map[string]int{}
			for at := req.Interval.Start; at.Before(req.Interval.End); at = at.Add(5 * time.Minute) {
				use := map[string]int{}
				for _, b := range ex {
					if !at.Before(b.Interval.Start) && at.Before(b.Interval.End) {
						for k, q := range b.Items {
							use[k] += q
						}
					}
				}
				for k, q := range use {
					peak[k] = max(peak[k], q)
				}
			}
			for _, s := range got {
				if s.InUse != peak[s.Item] {
					t.Fatalf("run %d: %s in use %d, brute force %d", run, s.Item, s.InUse, peak[s.Item])
				}
			}
			wantShort := 0
			for k, q := range req.Items {
				if peak[k]+q > map[string]int{"chair": 60, "table": 6}[k] {
					wantShort++
				}
			}
			if len(got) != wantShort {
				t.Fatalf("run %d: %d shortages, brute force %d: %+v", run, len(got), wantShort, got)
			}
		}
	})
}

func BenchmarkCheckItems_5000(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 5))
	from := utc(2024, 5, 1, 0, 0)
	ex := make([]schedule.ItemBooking, 5000)
	for i := range ex {
		ex[i] = schedule.ItemBooking{Interval: randomInterval(r, from, 90*24), Items: map[string]int{"chair": r.IntN(50), fmt.Sprint("item", r.IntN(20)): 1}}
	}
	req := schedule.ItemBooking{Interval: iv(from.Add(40*24*time.Hour), from.Add(47*24*time.Hour)), Items: map[string]int{"chair": 10, "item3": 1}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schedule.CheckItems(schedule.Catalogue{"chair": 1000}, ex, req); err != nil {
			b.Fatal(err)
		}
	}
}
