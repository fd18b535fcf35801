package consultations

import (
	"context"
	"embed"
	"net/http"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

//go:embed migrations
var migrations embed.FS

// Plugin is the consultations plugin; store.Base gives it its store and lifecycle.
type Plugin struct {
	store.Base
	svc   *Service
	pages pageTemplates // pages.go
}

// New returns an unconfigured plugin.
func New() sdk.Plugin { return &Plugin{Base: store.Base{Schema: migrations}} }

// Manifest describes the plugin to the host.
func (p *Plugin) Manifest() sdk.Manifest {
	return sdk.Manifest{Name: "consultations", Version: "0.1.0", MinHostVersion: "0.1.0",
		Description: "The city asks residents (surveys, polls, idea boards), publishes the results and answers what it decided.",
		Routes:      p.Routes(), UI: pageUI(), Permissions: permissions, Roles: roles(), Grants: grants,
		Notifications: notificationKinds(), DataUses: dataUses()}
}

// Configure opens the store; the tables appear once the host has called Migrate.
func (p *Plugin) Configure(ctx context.Context, env sdk.Env) error {
	if err := p.Open(ctx, env); err != nil {
		return err
	}
	p.svc = NewService(p.DB, env.Host, p.Zone, env.Languages, p.Logger)
	p.Every(finaliseEvery, p.svc.FinaliseClosed)
	return nil
}

// EraseUser unlinks a deleted person's answers (core.user.deleted, through the SDK).
func (p *Plugin) EraseUser(ctx context.Context, e sdk.Erasure) error {
	return p.svc.EraseUser(ctx, e.UserID)
}

// Handler serves the route table.
func (p *Plugin) Handler() http.Handler { return sdk.Mux(p.Routes()) }
