package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// Base is the lifecycle every plugin that keeps a store shares, so that a plugin's
// glue is its manifest and its service: embed it, set Schema in New, and call Open
// from Configure. It gives the plugin sdk.Migrator (Schema), sdk.Healther (the store
// answers), sdk.Activator (starts the background work registered with Every) and
// sdk.Deactivator (the work stops, the store closes; events not yet delivered wait in
// it for the next start).
//
//	//go:embed migrations
//	var migrations embed.FS
//
//	type Plugin struct{ store.Base; svc *Service }
//
//	func New() sdk.Plugin { return &Plugin{Base: store.Base{Schema: migrations}} }
//
//	func (p *Plugin) Configure(ctx context.Context, env sdk.Env) error {
//		if err := p.Open(ctx, env); err != nil {
//			return err
//		}
//		p.svc = NewService(p.DB, env.Host, p.Zone, env.Languages)
//		return nil
//	}
type Base struct {
	// Schema holds the migrations: postgres/NNNN_name.sql and sqlite/NNNN_name.sql,
	// at its root or under a folder "migrations" (an embed.FS of that folder).
	Schema fs.FS
	// DB is the store, once Open has run.
	DB *DB
	// Zone is the city's time zone (UTC when the host names none), Logger the
	// plugin's logger (one that discards when the host gives none).
	Zone   *time.Location
	Logger *slog.Logger

	jobs []job
	stop context.CancelFunc
	done sync.WaitGroup
}

// job is work Every runs while the plugin is active.
type job struct {
	every time.Duration
	fn    func(ctx context.Context) error
}

// Every runs fn every d while the plugin is active: from Activate, at once and then
// every d, until Deactivate, which waits for a run in progress before it closes the
// store. An error is logged and the next run comes as planned. Call it in Configure.
// Work that several nodes may do at once must be safe to do twice (claim it under a
// row lock, or make it conditional on the state it leaves).
func (b *Base) Every(d time.Duration, fn func(ctx context.Context) error) {
	b.jobs = append(b.jobs, job{every: d, fn: fn})
}

// Activate starts the work Every registered (sdk.Activator). Activated again, it
// first stops the work it started before and waits for it: each job runs once at a
// time, never twice side by side.
func (b *Base) Activate(context.Context) error {
	b.halt()
	if len(b.jobs) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = cancel
	for _, j := range b.jobs {
		b.done.Go(func() {
			t := time.NewTicker(j.every)
			defer t.Stop()
			for {
				if err := j.fn(ctx); err != nil && ctx.Err() == nil {
					b.Logger.ErrorContext(ctx, "background work failed", "error", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	return nil
}

// halt stops the work Activate started, if any, and waits for a run in progress.
func (b *Base) halt() {
	if b.stop != nil {
		b.stop()
		b.done.Wait()
		b.stop = nil
	}
}

// Open opens the store the host provisioned and reads the city's time zone; a time
// zone the system does not know fails Configure rather than shift every time.
func (b *Base) Open(ctx context.Context, env sdk.Env) error {
	zone := time.UTC
	if env.CityTimeZone != "" {
		z, err := sdk.LoadTimeZone(env.CityTimeZone)
		if err != nil {
			return fmt.Errorf("city time zone %q: %w", env.CityTimeZone, err)
		}
		zone = z
	}
	db, err := Open(ctx, env.Store)
	if err != nil {
		return err
	}
	b.DB, b.Zone, b.Logger = db, zone, env.Logger
	// Configure registers its work again after Open: a host that configures the plugin
	// again must not leave it with each job twice, the first over a closed service.
	b.jobs = nil
	if b.Logger == nil {
		b.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Migrations are Schema's dialect folders (sdk.Migrator).
func (b *Base) Migrations() fs.FS {
	if b.Schema == nil {
		return nil
	}
	if st, err := fs.Stat(b.Schema, "migrations"); err == nil && st.IsDir() {
		sub, _ := fs.Sub(b.Schema, "migrations")
		return sub
	}
	return b.Schema
}

// Health reports whether the store answers (sdk.Healther).
func (b *Base) Health(ctx context.Context) error {
	if b.DB == nil {
		return errors.New("store not open")
	}
	return b.DB.PingContext(ctx)
}

// Deactivate stops the work Every registered and closes the store (sdk.Deactivator).
func (b *Base) Deactivate(context.Context) error {
	b.halt()
	if b.DB == nil {
		return nil
	}
	return b.DB.Close()
}

// Compile-time guards: a plugin that embeds Base has these capabilities.
var (
	_ sdk.Migrator    = (*Base)(nil)
	_ sdk.Activator   = (*Base)(nil)
	_ sdk.Healther    = (*Base)(nil)
	_ sdk.Deactivator = (*Base)(nil)
)
