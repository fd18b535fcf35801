package assemblies

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// fakeHost is the core as far as the plugin can tell, for in-process tests only. Can
// follows the manifest's roles and grants the way the core's casbin model does.
type fakeHost struct {
	sdktest.Sealing // SealingKey and Unseal with a real keyring
	mu              sync.Mutex
	people          map[string]sdk.Principal
	nbhs            map[string]sdk.Neighbourhood
	orgs            map[string]sdk.Organisation
	perms           map[string][]string // role → permissions
	events          []sdk.Event
	audits          []sdk.AuditEntry
}

func newFakeHost(m sdk.Manifest) *fakeHost {
	h := &fakeHost{people: map[string]sdk.Principal{}, nbhs: map[string]sdk.Neighbourhood{},
		orgs: map[string]sdk.Organisation{}, perms: map[string][]string{}}
	for _, g := range m.Grants {
		h.perms[g.Role] = append(h.perms[g.Role], g.Permission)
	}
	for _, r := range m.Roles {
		h.perms[r.Name] = append(h.perms[r.Name], r.Permissions...)
	}
	return h
}

func (h *fakeHost) add(p sdk.Principal) sdk.Principal {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.people[p.UserID] = p
	return p
}

func (h *fakeHost) Users(_ context.Context, ids []string) ([]sdk.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.User
	for _, id := range ids {
		if p, ok := h.people[id]; ok {
			out = append(out, sdk.User{ID: id, DisplayName: p.DisplayName})
		}
	}
	return out, nil
}

func (h *fakeHost) Neighbourhoods(_ context.Context, ids []string) ([]sdk.Neighbourhood, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.Neighbourhood
	for _, id := range ids {
		if n, ok := h.nbhs[id]; ok {
			out = append(out, n)
		}
	}
	return out, nil
}

func (h *fakeHost) Memberships(context.Context, []string) ([]sdk.Membership, error) { return nil, nil }

func (h *fakeHost) Organisations(_ context.Context, ids []string) ([]sdk.Organisation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.Organisation
	for _, id := range ids {
		if o, ok := h.orgs[id]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}

func (h *fakeHost) Can(_ context.Context, userID, perm, domain string) (bool, error) {
	h.mu.Lock()
	p := h.people[userID]
	h.mu.Unlock()
	return h.can(p, perm, domain), nil
}

func (h *fakeHost) can(p sdk.Principal, perm, domain string) bool {
	if !p.Authenticated() {
		return false
	}
	if domain == "" {
		for d := range p.Roles {
			if h.can(p, perm, d) {
				return true
			}
		}
		return false
	}
	for _, role := range append(slices.Clone(p.Roles[domain]), p.Roles[sdk.DomainCity]...) {
		if role == "city_admin" || slices.Contains(h.perms[role], perm) {
			return true
		}
	}
	return false
}

func (h *fakeHost) Publish(_ context.Context, e sdk.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	return nil
}

func (h *fakeHost) PublishAll(_ context.Context, events []sdk.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, events...)
	return nil
}

func (h *fakeHost) Audit(_ context.Context, e sdk.AuditEntry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.audits = append(h.audits, e)
	return nil
}

func (h *fakeHost) eventTypes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, e.Type)
	}
	return out
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

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

// env is a configured, migrated plugin with a fake host, a test clock and seeded
// randomness, served in-process the way the host would route to it.
type env struct {
	t      testing.TB
	plugin *Plugin
	svc    *Service
	host   *fakeHost
	clock  *clock
	mux    *http.ServeMux
	routes map[string]sdk.Route
	doc    map[string]any
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newEnv(tb testing.TB, cfg sdk.StoreConfig, settings map[string]string) *env {
	tb.Helper()
	ctx := context.Background()
	// cfg only names the dialect: every env gets a fresh SQLite file or throwaway
	// schema, so it starts empty even when one subtest makes several.
	if cfg.Dialect == sdk.DialectPostgres {
		cfg = sdktest.PostgresStore(tb)
	} else {
		cfg = sdktest.SQLiteStore(tb)
	}
	p := New().(*Plugin)
	m := p.Manifest()
	host := newFakeHost(m)
	if err := p.Configure(ctx, sdk.Env{Settings: settings, Store: cfg, Host: host, Logger: slog.New(slog.NewTextHandler(tbWriter{tb}, nil))}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Deactivate(ctx) })
	if err := store.Migrate(ctx, p.db, p.Migrations()); err != nil {
		tb.Fatal(err)
	}
	c := &clock{t: t0}
	p.svc.Now, p.svc.Rand = c.Now, newRand(1)
	e := &env{t: tb, plugin: p, svc: p.svc, host: host, clock: c, mux: http.NewServeMux(), routes: map[string]sdk.Route{}}
	for _, r := range m.Routes {
		pattern := r.Method + " " + r.Path
		e.routes[pattern] = r
		e.mux.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
	}
	if err := json.Unmarshal(m.OpenAPI, &e.doc); err != nil {
		tb.Fatal(err)
	}
	return e
}

// do sends a request as p through a host look-alike: route match, the route's
// permission in its domain, then the plugin. It checks that the answer's status is
// documented in the manifest's OpenAPI for the route.
func (e *env) do(p sdk.Principal, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	_, pattern := e.mux.Handler(req)
	route, ok := e.routes[pattern]
	if !ok {
		return http.StatusNotFound, nil
	}
	switch route.Permission {
	case sdk.PermPublic:
	case sdk.PermAuthenticated:
		if !p.Authenticated() {
			return http.StatusUnauthorized, nil
		}
	default:
		if !p.Authenticated() {
			return http.StatusUnauthorized, nil
		}
		if !e.host.can(p, route.Permission, route.Domain) {
			return http.StatusForbidden, nil
		}
	}
	ctx := sdk.WithHost(sdk.WithRequestID(sdk.WithPrincipal(req.Context(), p), "req-test"), e.host)
	rec := httptest.NewRecorder()
	e.plugin.Handler().ServeHTTP(rec, req.WithContext(ctx))
	item, _ := e.doc[route.Path].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	responses, _ := op["responses"].(map[string]any)
	if _, ok := responses[strconv.Itoa(rec.Code)]; !ok {
		e.t.Errorf("%s %s answered %d, not documented in OpenAPI (body %s)", method, path, rec.Code, rec.Body)
	}
	return rec.Code, rec.Body.Bytes()
}

// must sends a request and fails the test unless the status is want; it decodes the
// body into out when out is not nil.
func (e *env) must(want int, p sdk.Principal, method, path string, body, out any) {
	e.t.Helper()
	code, b := e.do(p, method, path, body)
	if code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// errCode sends a request expecting an error and returns the status and error code.
func (e *env) errCode(p sdk.Principal, method, path string, body any) (int, string) {
	e.t.Helper()
	code, b := e.do(p, method, path, body)
	var out struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(b, &out)
	return code, out.Error.Code
}

func (e *env) admin() sdk.Principal {
	return e.host.add(sdk.Principal{UserID: "admin", DisplayName: "City Admin", Roles: map[string][]string{sdk.DomainCity: {"city_admin"}}})
}

func (e *env) neighbourhood(id string) {
	e.host.mu.Lock()
	defer e.host.mu.Unlock()
	e.host.nbhs[id] = sdk.Neighbourhood{ID: id, Name: "Neighbourhood " + id}
}

func (e *env) resident(id, nbh string) sdk.Principal {
	return e.host.add(sdk.Principal{UserID: id, DisplayName: "Resident " + id,
		Roles: map[string][]string{"nbh:" + nbh: {"resident"}}, Neighbourhoods: []string{nbh}})
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
	e.must(201, e.admin(), "POST", "/api/v1/assemblies", req, &a)
	chair := e.resident(nbh+"-chair", nbh)
	var m Member
	e.must(201, chair, "POST", "/api/v1/assemblies/"+a.ID+"/members", nil, &m)
	if m.Status == MemberPending {
		e.must(200, e.admin(), "POST", "/api/v1/assemblies/"+a.ID+"/members/"+chair.UserID+"/approve", nil, nil)
	}
	e.must(200, e.admin(), "POST", "/api/v1/assemblies/"+a.ID+"/members/"+chair.UserID+"/position", map[string]any{"position": "chair"}, nil)
	return a, chair
}

// members makes n residents of nbh join a.
func (e *env) members(a Assembly, n int) []sdk.Principal {
	e.t.Helper()
	out := make([]sdk.Principal, n)
	for i := range n {
		out[i] = e.resident(fmt.Sprintf("%s-m%03d", a.NeighbourhoodID, i), a.NeighbourhoodID)
		e.must(201, out[i], "POST", "/api/v1/assemblies/"+a.ID+"/members", nil, nil)
	}
	return out
}

// tabled creates and tables a motion by author.
func (e *env) tabled(a Assembly, author sdk.Principal, title string) Motion {
	e.t.Helper()
	var m Motion
	e.must(201, author, "POST", "/api/v1/assemblies/"+a.ID+"/motions", map[string]any{"title": title, "text": "Because."}, &m)
	e.must(200, author, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/table", nil, &m)
	return m
}

// tbWriter sends the plugin's logs to the test's log, so an internal error shows its cause.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
