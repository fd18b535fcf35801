package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/openapi"
	"github.com/kvarter/kvarter/sdk/store"
)

// Harness serves a plugin in-process the way the host would: it matches the request to
// a route of the table, checks the route's permission in its domain against a FakeHost
// (401 anonymous, 403 not allowed), refuses a body over the route's limit (413), puts
// the Principal, a request id, the Host and a logger into the context, and hands the
// request to the plugin's Handler. Every answer is checked against the plugin's OpenAPI
// document (openapi.CheckResponseType): an undocumented status or a body that does not
// match its schema fails the test.
//
//	h := sdktest.NewHarness(t, notes.New(), sdktest.HarnessOptions{Store: cfg})
//	h.Host.AddMember("ann", "n1")
//	var n notes.Note
//	h.Must(201, h.As("ann"), "POST", "/api/v1/notes/nbh/n1", map[string]any{"text": "hi"}).Decode(t, &n)
type Harness struct {
	tb testing.TB
	// Host is the core the plugin sees.
	Host *FakeHost
	// Plugin is the plugin under test; nil for a harness of a bare route table.
	Plugin sdk.Plugin

	routes  map[string]sdk.Route // by pattern
	match   *http.ServeMux
	handler http.Handler
	doc     map[string]any
	logger  *slog.Logger
	seq     atomic.Int64
	// outbox is the plugin's store, from which Do relays the events a request emitted
	// to Host, as the SDK's relay does under a real host.
	outbox *store.DB
}

// HarnessOptions configure NewHarness; every field has a default.
type HarnessOptions struct {
	// Host is the fake core; NewFakeHost(p.Manifest()) when nil.
	Host *FakeHost
	// Store is the plugin's store; a fresh SQLite file when zero.
	Store sdk.StoreConfig
	// Settings override the manifest's defaults.
	Settings map[string]string
	// CityTimeZone is "Europe/Helsinki" when empty, as in Start.
	CityTimeZone string
	// Languages are ["en"] when empty.
	Languages []string
}

// NewHarness configures p with a FakeHost and its store, migrates the store, activates
// p (each when p implements it) and serves p.Handler(). The plugin is deactivated when
// the test ends.
func NewHarness(tb testing.TB, p sdk.Plugin, o HarnessOptions) *Harness {
	tb.Helper()
	ctx := context.Background()
	m := p.Manifest()
	if o.Host == nil {
		o.Host = NewFakeHost(m)
	}
	if o.Store.Dialect == "" {
		o.Store = SQLiteStore(tb)
	}
	if o.CityTimeZone == "" {
		o.CityTimeZone = "Europe/Helsinki"
	}
	if len(o.Languages) == 0 {
		o.Languages = []string{"en"}
	}
	settings := map[string]string{}
	for _, s := range m.Settings {
		settings[s.Name] = s.Default
	}
	maps.Copy(settings, o.Settings)
	logger := slog.New(slog.NewTextHandler(tbWriter{tb}, nil))
	env := sdk.Env{Settings: settings, Store: o.Store, Host: o.Host, Logger: logger,
		CityTimeZone: o.CityTimeZone, Languages: o.Languages, HostVersion: "0.0.0-harness"}
	if err := p.Configure(ctx, env); err != nil {
		tb.Fatalf("configure %s: %v", m.Name, err)
	}
	if d, ok := p.(sdk.Deactivator); ok {
		tb.Cleanup(func() {
			if err := d.Deactivate(context.Background()); err != nil {
				tb.Errorf("deactivate %s: %v", m.Name, err)
			}
		})
	}
	var outbox *store.DB
	if mg, ok := p.(sdk.Migrator); ok {
		db, err := store.Open(ctx, o.Store)
		if err != nil {
			tb.Fatalf("open the store of %s: %v", m.Name, err)
		}
		tb.Cleanup(func() { db.Close() })
		if err := store.Migrate(ctx, db, mg.Migrations()); err != nil {
			tb.Fatalf("migrate %s: %v", m.Name, err)
		}
		outbox = db
	}
	if a, ok := p.(sdk.Activator); ok {
		if err := a.Activate(ctx); err != nil {
			tb.Fatalf("activate %s: %v", m.Name, err)
		}
	}
	h := newHarness(tb, m.Routes, p.Handler(), m.OpenAPIDoc(), o.Host)
	h.Plugin, h.logger, h.outbox = p, logger, outbox
	return h
}

// ServeRoutes is a Harness of a bare route table (sdk.Mux of it), for testing routes
// without a plugin around them. host may be nil.
func ServeRoutes(tb testing.TB, routes []sdk.Route, host *FakeHost) *Harness {
	tb.Helper()
	if host == nil {
		host = NewFakeHost(sdk.Manifest{Routes: routes})
	}
	return newHarness(tb, routes, sdk.Mux(routes), sdk.OpenAPI(routes), host)
}

func newHarness(tb testing.TB, routes []sdk.Route, handler http.Handler, paths json.RawMessage, host *FakeHost) *Harness {
	tb.Helper()
	h := &Harness{tb: tb, Host: host, routes: map[string]sdk.Route{}, match: http.NewServeMux(), handler: handler,
		logger: slog.New(slog.NewTextHandler(tbWriter{tb}, nil))}
	for _, r := range routes {
		pattern := r.Method + " " + r.Path
		h.routes[pattern] = r
		h.match.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
	}
	var p map[string]any
	if err := json.Unmarshal(paths, &p); err != nil {
		tb.Fatalf("the plugin's OpenAPI paths are not JSON: %v", err)
	}
	h.doc = map[string]any{"paths": p}
	return h
}

// As is the Principal of userID as the core would make it (FakeHost.Principal);
// "" is anonymous.
func (h *Harness) As(userID string) sdk.Principal { return h.Host.Principal(userID) }

// Do sends a request as p; body may be nil, a string or []byte (sent as is) or a value
// (sent as JSON).
func (h *Harness) Do(p sdk.Principal, method, path string, body any) *Response {
	h.tb.Helper()
	raw := requestBody(h.tb, body)
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	id := "req-" + strconv.FormatInt(h.seq.Add(1), 10)
	ctx := sdk.WithLogger(sdk.WithHost(sdk.WithRequestID(sdk.WithPrincipal(req.Context(), p), id), h.Host), h.logger)
	req = req.WithContext(ctx)
	routed := h.serve(rec, req, p, int64(len(raw)))
	h.Flush()
	res := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if routed && method != http.MethodHead { // a path or method outside the table, or a page, is not in the document either
		if err := openapi.CheckResponseType(h.doc, method, path, res.Status, res.Header.Get("Content-Type"), res.Body); err != nil {
			h.tb.Errorf("%v\nbody: %s", err, res.Body)
		}
	}
	return res
}

// serve is the host's side of a request: route, permission, body limit, then the plugin.
// It reports whether the request matched an API route, whose answer the OpenAPI
// document describes (a page's HTML is not in it).
func (h *Harness) serve(w http.ResponseWriter, r *http.Request, p sdk.Principal, size int64) bool {
	_, pattern := h.match.Handler(r)
	route, ok := h.routes[pattern]
	if !ok {
		h.handler.ServeHTTP(w, r) // the plugin answers 404 or 405
		return false
	}
	api := route.Kind == sdk.RouteAPI
	if route.Permission != sdk.PermPublic && !p.Authenticated() {
		sdk.WriteError(w, r, nil, sdk.Errorf(sdk.CodeUnauthenticated, "Sign in to use this."))
		return api
	}
	if route.Permission != sdk.PermPublic && route.Permission != sdk.PermAuthenticated {
		domain := route.Domain
		if param, ok := strings.CutSuffix(domain, "}"); ok {
			if prefix, name, ok := strings.Cut(param, "{"); ok {
				domain = prefix + pathValue(route.Path, r.URL.Path, name)
			}
		}
		if !h.Host.Allowed(p.UserID, route.Permission, domain) {
			sdk.WriteError(w, r, nil, sdk.Errorf(sdk.CodeForbidden, "You may not do this here."))
			return api
		}
	}
	limit := route.MaxBodyBytes
	if limit == 0 {
		limit = sdk.DefaultMaxBodyBytes
	}
	if size > limit {
		tooLarge(w, r, limit)
		return api
	}
	h.handler.ServeHTTP(w, r)
	return api
}

// Flush relays the events waiting in the plugin's outbox to Host, as the SDK's relay
// would; Do calls it after every request. While Host is unavailable the events stay,
// as they would under a real host that is away.
func (h *Harness) Flush() {
	if h.outbox == nil {
		return
	}
	if err := h.outbox.FlushOutbox(context.Background(), h.Host); err != nil && !sdk.IsUnavailable(err) {
		h.tb.Errorf("relay the outbox to the fake host: %v", err)
	}
}

// Must sends a request and fails the test unless the status is want.
func (h *Harness) Must(want int, p sdk.Principal, method, path string, body any) *Response {
	h.tb.Helper()
	r := h.Do(p, method, path, body)
	if r.Status != want {
		h.tb.Fatalf("%s %s as %q = %d, want %d: %s", method, path, p.UserID, r.Status, want, r.Body)
	}
	return r
}

func requestBody(tb testing.TB, body any) []byte {
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	}
	enc, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// tbWriter sends the plugin's logs to the test's log, so an internal error shows its
// cause next to the failure.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

var _ io.Writer = tbWriter{}

// pathValue is the segment of path at the place of {name} in the route's template.
func pathValue(tmpl, path, name string) string {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	for i, seg := range ts {
		if seg == "{"+name+"}" && i < len(ps) {
			return ps[i]
		}
	}
	return ""
}

// tooLarge answers 413 as the host does.
func tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	sdk.WriteError(w, r, nil, sdk.Errorf(sdk.CodeTooLarge, "The request body is larger than the %d bytes this route accepts.", limit))
}
