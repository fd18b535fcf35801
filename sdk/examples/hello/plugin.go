package hello

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"sync/atomic"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// PermEcho lets a principal use the echo route of a neighbourhood.
const PermEcho = "hello.echo.use"

// SettingGreeting is the word ping answers with.
const SettingGreeting = "greeting"

//go:embed migrations
var migrations embed.FS

// Plugin is the hello plugin.
type Plugin struct {
	db    *store.DB
	svc   *Service
	calls atomic.Int64
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

// Manifest describes hello to the host. Routes come from the route table, which also
// gives the OpenAPI document (Manifest.OpenAPI left empty: the SDK fills it).
func (p *Plugin) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:           "hello",
		Version:        "0.1.0",
		MinHostVersion: "0.1.0",
		Description:    "Example plugin: ping, whoami and echo, and a page to send a greeting.",
		Routes:         p.Routes(),
		Permissions:    []sdk.Permission{{Name: PermEcho, Description: "Use the echo route in a neighbourhood"}},
		Roles: []sdk.Role{{
			Name: "hello_operator", Description: "Runs the hello plugin", Permissions: []string{PermEcho},
		}},
		Grants:     []sdk.Grant{{Role: "resident", Permission: PermEcho}},
		Publishes:  []string{EventPinged},
		Subscribes: []string{EventUserDeleted},
		Settings:   []sdk.Setting{{Name: SettingGreeting, Default: "hello", Description: "Word ping answers with"}},
		UI: sdk.UI{
			Nav: []sdk.NavEntry{{ID: NavGreet, Path: PathGreet, Labels: labels("hello.nav"), Permission: sdk.PermPublic, Order: 900}},
			Cards: []sdk.Card{{ID: "greetings", Slot: "home", Path: PathHomeCard, Labels: labels("hello.card.title"),
				Link: PathGreet, Permission: sdk.PermAuthenticated}},
		},
	}
}

// Configure opens the plugin's store. Tables appear once the host has called Migrate.
func (p *Plugin) Configure(ctx context.Context, env sdk.Env) error {
	db, err := store.Open(ctx, env.Store)
	if err != nil {
		return err
	}
	p.db = db
	p.svc = NewService(&Storage{db: db}, env.Host, env.Settings[SettingGreeting])
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

// HandleEvent hands an event to the service.
func (p *Plugin) HandleEvent(ctx context.Context, e sdk.Event) error {
	return p.svc.HandleEvent(ctx, e)
}

// Handler serves the route table, counting every request except reading the count.
func (p *Plugin) Handler() http.Handler {
	mux := sdk.Mux(p.Routes())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/hello/calls" {
			p.calls.Add(1)
		}
		mux.ServeHTTP(w, r)
	})
}
