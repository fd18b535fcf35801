package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// BenchmarkPublicList_10k times the public opportunity list (no sign-in) through the
// plugin's Handler on SQLite with 10,000 published opportunities (and 2,000 drafts and
// cancelled ones it must skip), 1-3 shifts each over the next two months, 30
// neighbourhoods and 60 skills: one page of 50, unfiltered and with each filter and all
// of them together. The target: p95 under 50 ms with filters.
func BenchmarkPublicList_10k(b *testing.B) {
	p, db := openPlugin(b)
	b.Cleanup(func() { p.(sdk.Deactivator).Deactivate(context.Background()) })
	seedPublic(b, db, 10_000, 2_000)
	h := p.Handler()
	from := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	to := time.Now().AddDate(0, 0, 17).Format(time.DateOnly)
	queries := []string{"", "neighbourhood_id=n05", "skill=sk03", "skill=sk55", "from=" + from + "&to=" + to, "age=16",
		"newcomers=true", "neighbourhood_id=n05&skill=sk03&age=18&newcomers=true&from=" + from + "&to=" + to}
	for _, q := range queries {
		call := func() {
			req := httptest.NewRequest("GET", "/api/v1/volunteers/public/opportunities?limit=50&"+q, nil)
			req = req.WithContext(sdk.WithRequestID(sdk.WithPrincipal(req.Context(), sdk.Principal{}), "bench"))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("%s = %d: %s", q, w.Code, w.Body.Bytes())
			}
		}
		name := q
		if name == "" {
			name = "all"
		}
		b.Run(name, func(b *testing.B) {
			call()
			var lat []time.Duration
			cpu := cpuTime()
			for b.Loop() {
				t := time.Now()
				call()
				lat = append(lat, time.Since(t))
			}
			reportCPU(b, cpu)
			slices.Sort(lat)
			pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
		})
	}
}

// seedPublic stores published opportunities and others (drafts, cancelled) with their
// shifts straight into the store, as the plugin writes them.
func seedPublic(b *testing.B, db *store.DB, published, others int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(21, 10))
	tx := db.MustBegin()
	insO := tx.Rebind(`INSERT INTO opportunities (id, organisation_id, created_by, title, description, neighbourhood_id,
		place, required_skills, preferred_skills, languages, min_age, needs_background_check, auto_accept, state,
		source_event_id, newcomers, park_booking_id, created_at, updated_at)
		VALUES (?, '', 'staff', ?, 'Help wanted.', ?, 'Town hall', ?, ?, '["fi"]', ?, 0, 0, ?, NULL, ?, '', ?, ?)`)
	insK := tx.Rebind(`INSERT INTO opportunity_skills (opportunity_id, skill_id) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	insS := tx.Rebind(`INSERT INTO shifts (id, opportunity_id, starts_at, ends_at, capacity) VALUES (?, ?, ?, ?, ?)`)
	now := time.Now()
	created := now.UnixMicro()
	for i := range published + others {
		state := "published"
		if i%((published+others)/others) == 0 {
			state = []string{"draft", "cancelled"}[rng.IntN(2)]
		}
		id := fmt.Sprintf("opp-%06d", i)
		var req, pref []string
		for range rng.IntN(2) {
			req = append(req, skill(rng))
		}
		for range 1 + rng.IntN(2) {
			pref = append(pref, skill(rng))
		}
		if _, err := tx.Exec(insO, id, fmt.Sprintf("Event %d", i), fmt.Sprintf("n%02d", rng.IntN(30)), js(nonNil(req)), js(pref),
			[]int{0, 0, 16, 18}[rng.IntN(4)], state, rng.IntN(3) == 0, created, created); err != nil {
			b.Fatal(err)
		}
		for _, k := range append(req, pref...) {
			if _, err := tx.Exec(insK, id, k); err != nil {
				b.Fatal(err)
			}
		}
		for k := range 1 + rng.IntN(3) {
			start := now.Add(time.Duration(1+rng.IntN(60*24)) * time.Hour).Truncate(time.Hour)
			if _, err := tx.Exec(insS, fmt.Sprintf("%s-%d", id, k), id, start.UnixMicro(), start.Add(3*time.Hour).UnixMicro(), 5); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
