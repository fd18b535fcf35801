// Package bench measures the volunteers plugin through its store: ranking one shift among
// 100,000 stored profiles, as the matches endpoint does it.
//
//	go test -run '^$' -bench . -benchtime 3x ./bench
//
// Profiles are written straight into the plugin's tables (the schema of
// migrations/sqlite) because creating 100,000 through the API would take longer than
// the benchmark; everything measured goes through the Service and the store.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/seal"
	"github.com/kvarter/kvarter/sdk/store"
)

// host is the smallest core that lets the benchmark organise for the city.
type host struct{}

func (host) SealingKey(context.Context, string) (seal.PublicKey, error) {
	return seal.PublicKey{}, errors.New("no secret ballots in volunteers")
}
func (host) Unseal(context.Context, string, [][]byte) ([][]byte, error) {
	return nil, errors.New("no secret ballots in volunteers")
}

func (host) Users(context.Context, []string) ([]sdk.User, error) { return nil, nil }
func (host) Neighbourhoods(_ context.Context, ids []string) ([]sdk.Neighbourhood, error) {
	var out []sdk.Neighbourhood
	for _, id := range ids {
		out = append(out, sdk.Neighbourhood{ID: id})
	}
	return out, nil
}
func (host) Memberships(context.Context, []string) ([]sdk.Membership, error)     { return nil, nil }
func (host) Organisations(context.Context, []string) ([]sdk.Organisation, error) { return nil, nil }
func (host) Can(context.Context, string, string, string) (bool, error)           { return true, nil }
func (host) Publish(context.Context, sdk.Event) error                            { return nil }
func (host) PublishAll(context.Context, []sdk.Event) error                       { return nil }
func (host) Audit(context.Context, sdk.AuditEntry) error                         { return nil }

var now = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)

// top50 is the first page of 50, as the matches route asks for it.
var top50 = sdk.ListQuery{Limit: 50}

const nSkills = 60

func skill(rng *rand.Rand) string {
	// Zipf-like popularity, as in real catalogues: a few common skills, many rare ones.
	return fmt.Sprintf("sk%02d", int(float64(nSkills)*rng.Float64()*rng.Float64()))
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// city stores n synthetic profiles and q opportunities with one shift each.
func city(b *testing.B, n, q int) (*volunteers.Service, []volunteers.Opportunity) {
	return cityAt(b, sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + filepath.Join(b.TempDir(), "v.db")}, n, q)
}

// cityAt is city in the store cfg, so a plugin configured on the same store serves
// what it holds (pages_test.go).
func cityAt(b *testing.B, cfg sdk.StoreConfig, n, q int) (*volunteers.Service, []volunteers.Opportunity) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	mig, _ := fs.Sub(volunteers.New().(sdk.Migrator).Migrations(), ".")
	if err := store.Migrate(ctx, db, mig); err != nil {
		b.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Helsinki")
	svc := volunteers.NewService(db, host{}, volunteers.Config{Location: loc}, func() time.Time { return now }, nil)
	staff := sdk.Principal{UserID: "staff"}
	for k := range nSkills {
		if _, err := svc.PutSkill(ctx, staff, volunteers.Skill{ID: fmt.Sprintf("sk%02d", k), Names: map[string]string{"en": fmt.Sprintf("Skill %d", k)}}); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(2025, 6))
	days := []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
	tx := db.MustBegin()
	ins := tx.Rebind(`INSERT INTO profiles (user_id, skills, tags, languages, availability, unavailable, neighbourhoods,
		max_weekly_minutes, birth_date, check_status, check_expires, created_at, updated_at)
		VALUES (?, ?, '[]', ?, ?, '[]', ?, ?, ?, ?, ?, ?, ?)`)
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() // the store's time encoding
	for i := range n {
		var skills, langs, nbhs []string
		for range 2 + rng.IntN(5) {
			skills = append(skills, skill(rng))
		}
		for range 1 + rng.IntN(3) {
			langs = append(langs, fmt.Sprintf("l%d", rng.IntN(8)))
		}
		for range 1 + rng.IntN(3) {
			nbhs = append(nbhs, fmt.Sprintf("n%02d", rng.IntN(30)))
		}
		var avail []volunteers.AvailabilityWindow
		for range 2 + rng.IntN(5) {
			from := 6 + rng.IntN(12)
			avail = append(avail, volunteers.AvailabilityWindow{Day: days[rng.IntN(7)],
				Start: fmt.Sprintf("%02d:00", from), End: fmt.Sprintf("%02d:00", min(from+3+rng.IntN(8), 24))})
		}
		status, expires := "none", ""
		if rng.IntN(10) < 6 {
			status, expires = "cleared", fmt.Sprintf("%d-06-01", 2024+rng.IntN(4))
		}
		birth := fmt.Sprintf("%d-%02d-%02d", 1950+rng.IntN(62), 1+rng.IntN(12), 1+rng.IntN(28))
		if _, err := tx.Exec(ins, fmt.Sprintf("v%06d", i), js(slices.Compact(slices.Sorted(slices.Values(skills)))),
			js(langs), js(avail), js(nbhs), (4+rng.IntN(17))*60, birth, status, expires, created, created); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := tx.Exec(`UPDATE index_version SET version = version + 1`); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	var opps []volunteers.Opportunity
	week := time.Date(2025, 6, 2, 0, 0, 0, 0, loc)
	for range q {
		start := week.Add(time.Duration(rng.IntN(28))*24*time.Hour + time.Duration(8+rng.IntN(10))*time.Hour)
		in := volunteers.OpportunityInput{Title: "Event", NeighbourhoodID: fmt.Sprintf("n%02d", rng.IntN(30)),
			Languages: []string{fmt.Sprintf("l%d", rng.IntN(8))}, PreferredSkills: []string{skill(rng), skill(rng)},
			NeedsBackgroundCheck: rng.IntN(10) < 3, MinAge: []int{0, 16, 18}[rng.IntN(3)],
			Shifts: []volunteers.ShiftInput{{Start: start.Format(time.RFC3339),
				End: start.Add(time.Duration(2+rng.IntN(3)) * time.Hour).Format(time.RFC3339), Capacity: 5}}}
		// A quarter need no skill at all, so every profile is looked at: the slow case.
		for range rng.IntN(4) {
			in.RequiredSkills = append(in.RequiredSkills, skill(rng))
		}
		o, err := svc.CreateOpportunity(ctx, staff, in)
		if err != nil {
			b.Fatal(err)
		}
		opps = append(opps, o)
	}
	return svc, opps
}

// BenchmarkMatches_100k times the first call (cold-ms: loading 100,000 profiles from
// the store and building the index; after a change to profiles or commitments this is
// paid by a background goroutine, see BenchmarkMatches_100k_AfterWrite),
// then the matches endpoint's service call per shift (top 50 with reasons, cached index,
// version check against the store) and reports percentiles.
func BenchmarkMatches_100k(b *testing.B) {
	svc, opps := city(b, 100_000, 100)
	ctx := context.Background()
	staff := sdk.Principal{UserID: "staff", Locale: "en"}
	t0 := time.Now()
	if _, err := svc.Matches(ctx, staff, opps[0].ID, opps[0].Shifts[0].ID, top50); err != nil {
		b.Fatal(err)
	}
	cold := time.Since(t0)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		for _, o := range opps {
			t := time.Now()
			if _, err := svc.Matches(ctx, staff, o.ID, o.Shifts[0].ID, top50); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
	b.ReportMetric(p(1), "max-ms")
	b.ReportMetric(float64(cold.Milliseconds()), "cold-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkMatches_100k_AfterWrite times the matches request that comes right after a
// write to a profile (which moves the index version), the case where an out-of-date
// index used to be rebuilt by the request itself. Each write is followed by one matches
// request; then the index is let settle so the next write starts from a fresh index.
func BenchmarkMatches_100k_AfterWrite(b *testing.B) {
	svc, opps := city(b, 100_000, 20)
	defer svc.Close()
	ctx := context.Background()
	staff := sdk.Principal{UserID: "staff", Locale: "en"}
	if _, err := svc.Matches(ctx, staff, opps[0].ID, opps[0].Shifts[0].ID, top50); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	in := volunteers.ProfileInput{Skills: []string{"sk00"}, Languages: []string{"l1"}, BirthDate: "1990-01-01",
		Availability: []volunteers.AvailabilityWindow{{Day: "saturday", Start: "08:00", End: "20:00"}}}
	b.ResetTimer()
	for b.Loop() {
		for i, o := range opps {
			if _, err := svc.PutProfile(ctx, sdk.Principal{UserID: fmt.Sprintf("v%06d", i)}, in); err != nil {
				b.Fatal(err)
			}
			t := time.Now()
			if _, err := svc.Matches(ctx, staff, o.ID, o.Shifts[0].ID, top50); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
			b.StopTimer()
			settle(b, svc, staff, o)
			b.StartTimer()
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
	b.ReportMetric(p(1), "max-ms")
	b.ReportMetric(0, "ns/op")
}

// settle waits until the index is fresh again: any background rebuild has finished,
// and one more request has found nothing out of date.
func settle(b *testing.B, svc *volunteers.Service, staff sdk.Principal, o volunteers.Opportunity) {
	b.Helper()
	for range 2 {
		svc.WaitRebuild()
		if _, err := svc.Matches(context.Background(), staff, o.ID, o.Shifts[0].ID, top50); err != nil {
			b.Fatal(err)
		}
	}
	svc.WaitRebuild()
}
