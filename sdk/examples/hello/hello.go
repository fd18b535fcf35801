// Package hello is the reference plugin for plugin authors: a manifest with routes of
// each permission kind, a migration, an event published and one consumed, and plain
// net/http handlers that read the Principal from the request context.
//
// Its GET /api/v1/hello/calls route counts handled requests and lists received events,
// so host tests can prove whether a request or an event reached the plugin.
package hello

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Event types.
const (
	EventPinged      = "hello.pinged"
	EventUserDeleted = "core.user.deleted"
)

// PermEcho lets a principal use the echo route of a neighbourhood.
const PermEcho = "hello.echo.use"

//go:embed migrations
var migrations embed.FS

// Plugin is the hello plugin.
type Plugin struct {
	env   sdk.Env
	db    *store.DB
	calls atomic.Int64

	mu     sync.Mutex
	events []string // IDs of events received, in order
}

// Compile-time guards for the optional capabilities.
var (
	_ sdk.Plugin       = (*Plugin)(nil)
	_ sdk.Migrator     = (*Plugin)(nil)
	_ sdk.Healther     = (*Plugin)(nil)
	_ sdk.Deactivator  = (*Plugin)(nil)
	_ sdk.EventHandler = (*Plugin)(nil)
)

// New returns an unconfigured plugin.
func New() *Plugin { return &Plugin{} }

// Manifest describes hello to the host.
func (p *Plugin) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:           "hello",
		Version:        "0.1.0",
		MinHostVersion: "0.1.0",
		Description:    "Example plugin: ping, whoami and echo.",
		Routes: []sdk.Route{
			{Method: "GET", Path: "/api/v1/hello/ping", Permission: sdk.PermPublic},
			{Method: "GET", Path: "/api/v1/hello/calls", Permission: sdk.PermPublic},
			{Method: "GET", Path: "/api/v1/hello/whoami", Permission: sdk.PermAuthenticated},
			{Method: "POST", Path: "/api/v1/hello/nbh/{nbh}/echo", Permission: PermEcho, Domain: "nbh:{nbh}"},
		},
		Permissions: []sdk.Permission{{Name: PermEcho, Description: "Use the echo route in a neighbourhood"}},
		Roles: []sdk.Role{{
			Name: "hello_operator", Description: "Runs the hello plugin", Permissions: []string{PermEcho},
		}},
		Grants:     []sdk.Grant{{Role: "resident", Permission: PermEcho}},
		Publishes:  []string{EventPinged},
		Subscribes: []string{EventUserDeleted},
		Settings:   []sdk.Setting{{Name: "greeting", Default: "hello", Description: "Word ping answers with"}},
		OpenAPI: json.RawMessage(`{
			"/api/v1/hello/ping": {"get": {"summary": "Ping", "responses": {"200": {"description": "pong"}}}}
		}`),
	}
}

// Configure opens the plugin's store. Tables appear once the host has called Migrate.
func (p *Plugin) Configure(ctx context.Context, env sdk.Env) error {
	db, err := store.Open(ctx, env.Store)
	if err != nil {
		return err
	}
	p.env, p.db = env, db
	return nil
}

// Migrations are the plugin's schema, one folder per dialect.
func (p *Plugin) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Health reports whether the store answers.
func (p *Plugin) Health(ctx context.Context) error { return p.db.PingContext(ctx) }

// Deactivate closes the store.
func (p *Plugin) Deactivate(context.Context) error { return p.db.Close() }

// HandleEvent records the event. A payload {"fail": true} fails, to exercise
// redelivery.
func (p *Plugin) HandleEvent(ctx context.Context, e sdk.Event) error {
	var body struct {
		Fail   bool   `json:"fail"`
		UserID string `json:"user_id"`
	}
	if len(e.Payload) > 0 {
		if err := json.Unmarshal(e.Payload, &body); err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
	}
	if body.Fail {
		return errors.New("asked to fail")
	}
	if e.Type == EventUserDeleted && body.UserID != "" {
		// Forget what we kept about the person.
		q := p.db.Rebind(`DELETE FROM pings WHERE user_id = ?`)
		if _, err := p.db.ExecContext(ctx, q, body.UserID); err != nil {
			return fmt.Errorf("forget user %s: %w", body.UserID, err)
		}
	}
	p.mu.Lock()
	p.events = append(p.events, e.ID)
	p.mu.Unlock()
	return nil
}

// Handler serves the routes of the manifest.
func (p *Plugin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/hello/ping", p.ping)
	mux.HandleFunc("GET /api/v1/hello/calls", p.callsHandler)
	mux.HandleFunc("GET /api/v1/hello/whoami", p.whoami)
	mux.HandleFunc("POST /api/v1/hello/nbh/{nbh}/echo", p.echo)
	return p.count(mux)
}

// count counts every request that reaches the plugin, except reading the count.
func (p *Plugin) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/hello/calls" {
			p.calls.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Plugin) ping(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	user := sdk.PrincipalFrom(ctx).UserID
	q := p.db.Rebind(`INSERT INTO pings (user_id, at) VALUES (?, ?)`)
	if _, err := p.db.ExecContext(ctx, q, user, time.Now().UTC().Format(time.RFC3339)); err != nil {
		p.fail(w, r, err)
		return
	}
	payload, _ := json.Marshal(map[string]string{"user_id": user})
	if err := sdk.HostFrom(ctx).Publish(ctx, sdk.Event{Type: EventPinged, Payload: payload}); err != nil {
		p.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"greeting": p.env.Settings["greeting"]})
}

func (p *Plugin) callsHandler(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	events := append([]string{}, p.events...)
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"calls": p.calls.Load(), "events": events})
}

// whoami returns the Principal as the plugin sees it, plus what the host says about
// the user — the one call most plugins make.
func (p *Plugin) whoami(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pr := sdk.PrincipalFrom(ctx)
	host := sdk.HostFrom(ctx)
	users, err := host.Users(ctx, []string{pr.UserID})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	canEchoCity, err := host.Can(ctx, pr.UserID, PermEcho, sdk.DomainCity)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"principal":     pr,
		"users":         users,
		"can_echo_city": canEchoCity,
		"request_id":    sdk.RequestIDFrom(ctx),
	})
}

// echo returns the request as the plugin received it.
func (p *Plugin) echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	w.Header().Set("X-Hello-Nbh", r.PathValue("nbh"))
	writeJSON(w, http.StatusCreated, map[string]any{
		"method":    r.Method,
		"path":      r.URL.Path,
		"query":     r.URL.RawQuery,
		"header":    r.Header,
		"body":      string(body),
		"nbh":       r.PathValue("nbh"),
		"principal": sdk.PrincipalFrom(r.Context()),
	})
}

// fail logs an internal error with the request id and answers without details.
func (p *Plugin) fail(w http.ResponseWriter, r *http.Request, err error) {
	id := sdk.RequestIDFrom(r.Context())
	p.env.Logger.ErrorContext(r.Context(), "request failed", "request_id", id, "error", err)
	writeJSON(w, http.StatusInternalServerError, map[string]any{
		"error": map[string]string{"code": "internal", "message": "internal error (request " + id + ")"},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
