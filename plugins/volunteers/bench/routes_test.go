package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// routeCity is the plugin behind its own Handler, as the host calls it, with n
// volunteers and q published opportunities of one shift each, next year.
type routeCity struct {
	h     http.Handler
	staff sdk.Principal
	vols  []sdk.Principal
	opps  []string // opportunity IDs
	shift []string // their shifts
}

func (c *routeCity) call(b *testing.B, who sdk.Principal, method, path string, body any, want int) []byte {
	b.Helper()
	var rd *bytes.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	req = req.WithContext(sdk.WithRequestID(sdk.WithPrincipal(req.Context(), who), "bench"))
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("%s %s = %d, want %d: %s", method, path, w.Code, want, w.Body.Bytes())
	}
	return w.Body.Bytes()
}

// openPlugin configures the plugin on a fresh SQLite store and makes its tables, as
// the host does; db is the store, open until the benchmark ends, for seeding rows.
func openPlugin(b *testing.B) (p sdk.Plugin, db *store.DB) {
	b.Helper()
	ctx := context.Background()
	cfg := sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + filepath.Join(b.TempDir(), "v.db")}
	p = volunteers.New()
	if err := p.Configure(ctx, sdk.Env{Store: cfg, Host: host{}, CityTimeZone: "Europe/Helsinki",
		Languages: []string{"en"}, Settings: map[string]string{}}); err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := store.Migrate(ctx, db, p.(sdk.Migrator).Migrations()); err != nil {
		b.Fatal(err)
	}
	return p, db
}

func newRouteCity(b *testing.B, n, q int) *routeCity {
	b.Helper()
	ctx := context.Background()
	p, _ := openPlugin(b)
	if err := p.(sdk.Activator).Activate(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.(sdk.Deactivator).Deactivate(context.Background()) })
	c := &routeCity{h: p.Handler(), staff: sdk.Principal{UserID: "staff", Locale: "en"}}
	const base = "/api/v1/volunteers"
	for _, sk := range []string{"first_aid", "cooking", "driving"} {
		c.call(b, c.staff, "PUT", base+"/skills/"+sk, map[string]any{"names": map[string]string{"en": sk}}, 200)
	}
	days := []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
	for i := range n {
		v := sdk.Principal{UserID: fmt.Sprintf("v%05d", i), Locale: "en"}
		var avail []map[string]string
		for _, d := range days {
			avail = append(avail, map[string]string{"day": d, "start": "08:00", "end": "20:00"})
		}
		c.call(b, v, "PUT", base+"/profile", map[string]any{"skills": []string{"first_aid"}, "languages": []string{"fi"},
			"birth_date": "1990-01-01", "availability": avail, "neighbourhoods": []string{"n1"}}, 200)
		c.vols = append(c.vols, v)
	}
	loc, _ := time.LoadLocation("Europe/Helsinki")
	day := time.Date(time.Now().Year()+1, 6, 1, 0, 0, 0, 0, loc)
	for i := range q {
		start := day.AddDate(0, 0, i%28).Add(time.Duration(9+i%8) * time.Hour)
		var o struct {
			ID     string
			Shifts []struct{ ID string }
		}
		body := c.call(b, c.staff, "POST", base+"/opportunities", map[string]any{"title": fmt.Sprintf("Event %d", i),
			"neighbourhood_id": "n1", "required_skills": []string{"first_aid"},
			"shifts": []map[string]any{{"start": start.Format(time.RFC3339), "end": start.Add(3 * time.Hour).Format(time.RFC3339), "capacity": 5}}}, 201)
		if err := json.Unmarshal(body, &o); err != nil {
			b.Fatal(err)
		}
		c.call(b, c.staff, "POST", base+"/opportunities/"+o.ID+"/publish", nil, 200)
		c.opps, c.shift = append(c.opps, o.ID), append(c.shift, o.Shifts[0].ID)
	}
	return c
}

// BenchmarkRoutes times one request per route through the plugin's Handler (decode,
// service, store, encode) on SQLite with 1,000 volunteers and 200 opportunities: the
// plugin's share of a request, without the host's, as wall-clock ns/op and as the
// process's CPU time per request (cpu-µs/op, background work included). Compare
// revisions with compare.sh.
func BenchmarkRoutes(b *testing.B) {
	c := newRouteCity(b, 1000, 200)
	const base = "/api/v1/volunteers"
	vol := c.vols[0]
	profile := map[string]any{"skills": []string{"first_aid", "cooking"}, "languages": []string{"fi"},
		"birth_date": "1990-01-01", "availability": []map[string]string{{"day": "saturday", "start": "08:00", "end": "20:00"}},
		"neighbourhoods": []string{"n1"}}
	for _, r := range []struct {
		name, method string
		path         func(i int) string
		who          sdk.Principal
		body         any
		want         int
	}{
		{"GetProfile", "GET", func(int) string { return base + "/profile" }, vol, nil, 200},
		{"PutProfile", "PUT", func(int) string { return base + "/profile" }, vol, profile, 200},
		{"ListSkills", "GET", func(int) string { return base + "/skills" }, vol, nil, 200},
		{"GetOpportunity", "GET", func(i int) string { return base + "/opportunities/" + c.opps[i%len(c.opps)] }, vol, nil, 200},
		{"ListOpportunities", "GET", func(int) string { return base + "/opportunities?limit=50" }, vol, nil, 200},
		{"Matches", "GET", func(i int) string {
			return base + "/opportunities/" + c.opps[i%len(c.opps)] + "/shifts/" + c.shift[i%len(c.shift)] + "/matches?limit=20"
		}, c.staff, nil, 200},
		{"Recommendations", "GET", func(int) string { return base + "/recommendations?limit=20" }, vol, nil, 200},
		{"Hours", "GET", func(int) string { return base + "/hours" }, vol, nil, 200},
	} {
		b.Run(r.name, func(b *testing.B) {
			// One request first, outside the figures: the match index a write made
			// stale is rebuilt here, not amortised over however many rounds follow.
			c.call(b, r.who, r.method, r.path(0), r.body, r.want)
			cpu := cpuTime()
			i := 0
			for b.Loop() {
				c.call(b, r.who, r.method, r.path(i), r.body, r.want)
				i++
			}
			reportCPU(b, cpu)
		})
	}
	// Sign-up and withdrawal: the booking transaction with its locks and re-checks.
	b.Run("ApplyWithdraw", func(b *testing.B) {
		cpu := cpuTime()
		i := 0
		for b.Loop() {
			v := c.vols[1+i%(len(c.vols)-1)]
			o, sh := c.opps[i%len(c.opps)], c.shift[i%len(c.shift)]
			var a struct{ ID string }
			if err := json.Unmarshal(c.call(b, v, "POST", base+"/opportunities/"+o+"/shifts/"+sh+"/applications", nil, 201), &a); err != nil {
				b.Fatal(err)
			}
			c.call(b, v, "POST", base+"/opportunities/"+o+"/shifts/"+sh+"/applications/"+a.ID+"/withdraw", nil, 200)
			// Withdrawn applications stay; the next round of this volunteer takes
			// another shift.
			i += 7
		}
		reportCPU(b, cpu)
	})
}

// cpuTime is the CPU time the process used so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per request since start, which other processes on a
// shared machine disturb far less than the wall-clock ns/op: the figure to compare
// revisions by when the machine is busy.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e3, "cpu-µs/op")
}
