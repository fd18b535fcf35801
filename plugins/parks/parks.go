// Package parks is the Kvarter plugin through which civic groups book areas
// of public parks for open events, park managers approve them, and the
// public sees what is on.
//
// Parks belong to a neighbourhood and contain a tree of bookable areas
// (the whole park ⊃ the meadow ⊃ the stage). Representatives of verified
// organisations — and, where the city allows, verified residents — request
// an area for a time; managers approve or reject in start-time order.
// Approved bookings and closures never overlap: each occupies rows in
// booking_occupancy for its area and the area's ancestors, and the
// database refuses overlapping rows (an exclusion constraint on
// PostgreSQL with btree_gist; otherwise a per-park row lock, or SQLite's
// single writer, around an explicit check). The booking arithmetic —
// opening hours, rules, availability, series, equipment — lives in the
// pure package schedule.
//
// The plugin publishes parks.booking.requested|approved|rejected|cancelled
// and erases personal data from bookings on core.user.deleted.
package parks

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Setting names.
const (
	SettingAllowIndividuals = "allow_individual_residents"
	SettingDefaultSupport   = "default_support"
)

//go:embed migrations
var migrations embed.FS

// Plugin is the parks plugin.
type Plugin struct {
	// now is the clock; tests replace it.
	now func() time.Time

	db  *store.DB
	svc *Service

	// stop ends the outbox flusher; done closes when it has.
	stop context.CancelFunc
	done chan struct{}
}

// Compile-time guards for the capabilities the plugin implements.
var (
	_ sdk.Plugin       = (*Plugin)(nil)
	_ sdk.Migrator     = (*Plugin)(nil)
	_ sdk.Activator    = (*Plugin)(nil)
	_ sdk.Healther     = (*Plugin)(nil)
	_ sdk.Deactivator  = (*Plugin)(nil)
	_ sdk.EventHandler = (*Plugin)(nil)
)

// New returns an unconfigured plugin.
func New() sdk.Plugin { return newPlugin(time.Now) }

func newPlugin(now func() time.Time) *Plugin { return &Plugin{now: now} }

// Configure opens the store and reads the settings. Tables appear once the
// host has called Migrate.
func (p *Plugin) Configure(ctx context.Context, env sdk.Env) error {
	settings, err := parseSettings(env.Settings)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, env.Store)
	if err != nil {
		return err
	}
	tz := env.CityTimeZone
	if tz == "" {
		tz = "UTC"
	}
	if _, err := time.LoadLocation(tz); err != nil {
		db.Close()
		return fmt.Errorf("parks: city time zone %q: %w", tz, err)
	}
	logger := env.Logger
	if logger == nil {
		logger = discardLogger()
	}
	p.db = db
	p.svc = &Service{st: &storage{db: db}, host: env.Host, now: p.now, cityTZ: tz, settings: settings, log: logger,
		kick: make(chan struct{}, 1)}
	return nil
}

func parseSettings(m map[string]string) (Settings, error) {
	var s Settings
	if v := m[SettingAllowIndividuals]; v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("parks: setting %s: %q is not true or false", SettingAllowIndividuals, v)
		}
		s.AllowIndividualResidents = b
	}
	v, ok := m[SettingDefaultSupport]
	if !ok {
		v = defaultSupport
	}
	items, err := parseItems(v)
	if err != nil {
		return s, fmt.Errorf("parks: setting %s: %w", SettingDefaultSupport, err)
	}
	s.DefaultSupport = items
	return s, nil
}

// Migrations are the plugin's schema, one folder per dialect.
func (p *Plugin) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Activate reports which guard keeps approved bookings apart, so an
// operator can see whether btree_gist was available.
func (p *Plugin) Activate(ctx context.Context) error {
	g, err := p.svc.st.overlapGuard(ctx)
	if err != nil {
		return err
	}
	p.svc.log.InfoContext(ctx, "parks: overlap guard", "guard", g, "dialect", p.db.Dialect)
	if p.stop == nil {
		fctx, stop := context.WithCancel(context.Background())
		p.stop, p.done = stop, make(chan struct{})
		go func() {
			defer close(p.done)
			p.svc.runOutbox(fctx)
		}()
		p.svc.kickOutbox() // events a previous run left behind
	}
	return nil
}

// Health reports whether the store answers.
func (p *Plugin) Health(ctx context.Context) error { return p.db.PingContext(ctx) }

// Deactivate stops the outbox flusher, hands the host what is still
// queued (what it cannot is sent by the next start), and closes the store.
func (p *Plugin) Deactivate(ctx context.Context) error {
	if p.stop != nil {
		p.stop()
		<-p.done
		p.stop = nil
		if _, err := p.svc.flushOutbox(ctx); err != nil {
			p.svc.log.WarnContext(ctx, "parks: events left queued for the next start", "error", err)
		}
	}
	return p.db.Close()
}

// HandleEvent erases a deleted user's personal data from bookings.
func (p *Plugin) HandleEvent(ctx context.Context, e sdk.Event) error {
	if e.Type != EventUserDeleted {
		return nil
	}
	var body struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(e.Payload, &body); err != nil {
		// Redelivering a payload that cannot be read would fail forever.
		p.svc.log.ErrorContext(ctx, "parks: unreadable event", "id", e.ID, "error", err)
		return nil
	}
	if err := p.svc.EraseUser(ctx, e.ID, body.UserID); err != nil {
		return fmt.Errorf("erase user %s: %w", body.UserID, err)
	}
	return nil
}

// Handler serves the routes of the manifest.
func (p *Plugin) Handler() http.Handler { return newHandler(p.svc) }
