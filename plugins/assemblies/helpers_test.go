package assemblies

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// lockedRand is a seeded, goroutine-safe randomness source.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func newRand(seed byte) *lockedRand {
	var s [32]byte
	s[0] = seed
	return &lockedRand{r: rand.NewChaCha8(s)}
}

func (l *lockedRand) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// env is a configured, migrated plugin served in-process by the SDK's harness, with a
// fake host, a test clock and seeded randomness.
type env struct {
	*sdktest.Harness
	t      testing.TB
	plugin *Plugin
	svc    *Service
	clock  *sdktest.Clock
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newEnv(tb testing.TB, cfg sdk.StoreConfig, settings map[string]string) *env {
	tb.Helper()
	// cfg only names the dialect: every env gets a fresh SQLite file or throwaway
	// schema, so it starts empty even when one subtest makes several.
	if cfg.Dialect == sdk.DialectPostgres {
		cfg = sdktest.PostgresStore(tb)
	} else {
		cfg = sdktest.SQLiteStore(tb)
	}
	p := New().(*Plugin)
	h := sdktest.NewHarness(tb, p, sdktest.HarnessOptions{Store: cfg, Settings: settings})
	c := sdktest.NewClock(t0)
	p.svc.Now, p.svc.Rand = c.Now, newRand(1)
	return &env{Harness: h, t: tb, plugin: p, svc: p.svc, clock: c}
}

// errCode sends a request expecting an error and returns the status and error code.
func errCode(e *env, p sdk.Principal, method, path string, body any) (int, string) {
	e.t.Helper()
	var out struct {
		Error struct{ Code string } `json:"error"`
	}
	r := e.Do(p, method, path, body)
	_ = json.Unmarshal(r.Body, &out)
	return r.Status, out.Error.Code
}

func (e *env) admin() sdk.Principal {
	e.Host.AddUser(sdk.User{ID: "admin", DisplayName: "City Admin"})
	e.Host.Grant("admin", sdktest.RoleCityAdmin, sdk.DomainCity)
	return e.As("admin")
}

// user is a signed-in person with role in domain ("" for none).
func (e *env) user(id, role, domain string) sdk.Principal {
	e.Host.AddUser(sdk.User{ID: id})
	if role != "" {
		e.Host.Grant(id, role, domain)
	}
	return e.As(id)
}

func (e *env) neighbourhood(id string) {
	e.Host.AddNeighbourhood(sdk.Neighbourhood{ID: id, Name: "Neighbourhood " + id})
}

// resident is a verified member of nbh.
func (e *env) resident(id, nbh string) sdk.Principal {
	e.Host.AddUser(sdk.User{ID: id, DisplayName: "Resident " + id})
	e.Host.AddMember(id, nbh)
	return e.As(id)
}

// assembly creates an assembly in nbh with the given rules changes, and a chair.
func (e *env) assembly(nbh string, body map[string]any) (Assembly, sdk.Principal) {
	e.t.Helper()
	e.neighbourhood(nbh)
	req := map[string]any{"neighbourhood_id": nbh, "name": "Assembly of " + nbh, "charter": "Advise the city.",
		"quorum_percent": 50, "majority": "simple", "secrecy": "named", "membership": "open"}
	for k, v := range body {
		req[k] = v
	}
	var a Assembly
	e.Must(201, e.admin(), "POST", "/api/v1/assemblies", req).Decode(e.t, &a)
	chair := e.resident(nbh+"-chair", nbh)
	var m Member
	e.Must(201, chair, "POST", "/api/v1/assemblies/"+a.ID+"/members", nil).Decode(e.t, &m)
	if m.Status == MemberPending {
		e.Must(200, e.admin(), "POST", "/api/v1/assemblies/"+a.ID+"/members/"+chair.UserID+"/approve", nil)
	}
	e.Must(200, e.admin(), "POST", "/api/v1/assemblies/"+a.ID+"/members/"+chair.UserID+"/position", map[string]any{"position": "chair"})
	return a, chair
}

// members makes n residents of nbh join a.
func (e *env) members(a Assembly, n int) []sdk.Principal {
	e.t.Helper()
	out := make([]sdk.Principal, n)
	for i := range n {
		out[i] = e.resident(fmt.Sprintf("%s-m%03d", a.NeighbourhoodID, i), a.NeighbourhoodID)
		e.Must(201, out[i], "POST", "/api/v1/assemblies/"+a.ID+"/members", nil)
	}
	return out
}

// tabled creates and tables a motion by author.
func (e *env) tabled(a Assembly, author sdk.Principal, title string) Motion {
	e.t.Helper()
	var m Motion
	e.Must(201, author, "POST", "/api/v1/assemblies/"+a.ID+"/motions", map[string]any{"title": title, "text": "Because."}).Decode(e.t, &m)
	e.Must(200, author, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/table", nil).Decode(e.t, &m)
	return m
}
