package assemblies

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// BenchmarkPages sets the assembly page and the motion page against their JSON routes
// in process, on SQLite (bench/assemblies/pages.sh measures them through a real node
// on PostgreSQL, which is what docs/benchmarks.md reports); it shows where a page's
// time goes: go test -run '^$' -bench Pages -cpuprofile cpu.out.
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, sdk.StoreConfig{Dialect: sdk.DialectSQLite}, nil)
	a, chair := e.assembly("bench", map[string]any{"secrecy": "secret"})
	members := e.members(a, 20)
	asm := "/assemblies/" + a.ID
	for _, day := range []string{"2026-03-05", "2026-03-12"} {
		e.mustVisit(303, chair, "POST", asm+"/meetings", "en", url.Values{"title": {"Meeting"}, "date": {day},
			"starts_at": {"18:00"}, "ends_at": {"20:00"}, "place": {"Hall"}})
	}
	m := e.tabled(a, members[0], "Benches")
	e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/open", nil)
	for _, v := range members {
		e.Must(201, v, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/ballots", map[string]string{"choice": "yes"})
	}
	e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/close", nil)
	motion := asm + "/motions/" + m.ID
	viewer := members[1]
	for _, c := range []struct{ name, path string }{
		{"motion/page", motion}, {"motion/route", "/api/v1" + motion},
		{"assembly/page", asm}, {"assembly/route", "/api/v1" + asm},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				var r pageResp
				if strings.HasPrefix(c.path, "/api/") {
					res := e.Do(viewer, "GET", c.path, nil)
					r.Status = res.Status
				} else {
					r = e.visitQuiet(viewer, c.path)
				}
				if r.Status != http.StatusOK {
					b.Fatalf("%s: %d", c.path, r.Status)
				}
			}
		})
	}
	_ = sdktest.RoleCityAdmin
}
