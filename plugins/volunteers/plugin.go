package volunteers

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Permissions the plugin declares.
const (
	PermOpportunityManage = "volunteers.opportunity.manage"
	PermSkillManage       = "volunteers.skill.manage"
	PermCheckSet          = "volunteers.background_check.set"
)

// RoleCoordinator is city staff who run volunteering: the skill catalogue, background
// checks and the city's own opportunities.
const RoleCoordinator = "volunteer_coordinator"

//go:embed migrations
var migrations embed.FS

// Plugin is the volunteers plugin.
type Plugin struct {
	db  *store.DB
	svc *Service
	env sdk.Env
	// now is the clock; tests replace it.
	now func() time.Time
	// pages are the parsed page templates (pages.go).
	pages pageSet
}

// Compile-time guards for the capabilities the plugin implements.
var (
	_ sdk.Plugin       = (*Plugin)(nil)
	_ sdk.Migrator     = (*Plugin)(nil)
	_ sdk.Activator    = (*Plugin)(nil)
	_ sdk.Healther     = (*Plugin)(nil)
	_ sdk.Deactivator  = (*Plugin)(nil)
	_ sdk.EventHandler = (*Plugin)(nil)
	_ sdk.Eraser       = (*Plugin)(nil)
)

// New returns an unconfigured plugin.
func New() sdk.Plugin { return &Plugin{now: time.Now} }

// Manifest describes the plugin to the host.
func (p *Plugin) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:           "volunteers",
		Version:        "0.1.0",
		MinHostVersion: "0.1.0",
		Description:    "Volunteer profiles, opportunities with shifts, matching with reasons, rosters and sign-ups.",
		Routes:         p.Routes(),
		Permissions: []sdk.Permission{
			{Name: PermOpportunityManage, Description: "Post and organise volunteer opportunities (in an organisation's domain, or the city's)"},
			{Name: PermSkillManage, Description: "Manage the city's skill catalogue"},
			{Name: PermCheckSet, Description: "Record volunteers' background checks"},
		},
		Roles: []sdk.Role{{
			Name:        RoleCoordinator,
			Description: "City staff who run volunteering: skills catalogue, background checks, the city's opportunities",
			Permissions: []string{PermOpportunityManage, PermSkillManage, PermCheckSet},
			Labels: map[string]string{
				"en": "Volunteer coordinator",
				"fi": "Vapaaehtoistoiminnan koordinaattori",
				"sv": "Volontärsamordnare",
				"da": "Frivilligkoordinator",
				"tr": "Gönüllü koordinatörü",
			},
			Descriptions: map[string]string{
				"en": "City staff who run volunteering: keep the catalogue of skills, record background checks and publish the city's own volunteering opportunities.",
				"fi": "Kaupungin työntekijä, joka vastaa vapaaehtoistoiminnasta: ylläpitää taitoluetteloa, kirjaa taustaselvitykset ja julkaisee kaupungin omat vapaaehtoistehtävät.",
				"sv": "Stadens personal som leder volontärarbetet: sköter listan över färdigheter, registrerar bakgrundskontroller och publicerar stadens egna volontäruppdrag.",
				"da": "Kommunens medarbejder, der står for det frivillige arbejde: vedligeholder listen over færdigheder, registrerer børneattester og straffeattester og offentliggør kommunens egne frivilligopgaver.",
				"tr": "Gönüllülük çalışmalarını yürüten belediye çalışanı: beceri listesini tutar, sabıka kaydı kontrollerini kaydeder ve belediyenin kendi gönüllülük fırsatlarını yayımlar.",
			},
		}},
		Grants: []sdk.Grant{
			{Role: "org_representative", Permission: PermOpportunityManage},
			{Role: "coordinator", Permission: PermOpportunityManage},
			{Role: "coordinator", Permission: PermSkillManage},
			{Role: "coordinator", Permission: PermCheckSet},
			{Role: "city_admin", Permission: PermSkillManage},
			{Role: "city_admin", Permission: PermCheckSet},
			{Role: "city_admin", Permission: PermOpportunityManage},
		},
		Publishes:     slices.Sorted(maps.Keys(Payloads)),
		Subscribes:    []string{EventParksBookingApproved, EventParksBookingCancelled, EventParksBookingRejected},
		Notifications: notificationKinds(),
		DataUses:      dataUses,
		UI:            pageUI(),
		Settings: []sdk.Setting{
			{Name: "history_days", Default: "90", Description: "Days of past hours and no-shows that count for fairness and reliability"},
			{Name: "index_ttl_seconds", Default: "600", Description: "Longest time a cached match index is used when nothing changed"},
			{Name: "index_inline_rebuild_profiles", Default: "2000", Description: "Below this many profiles the match index is rebuilt by the request that finds it out of date; above, in the background while requests use the previous one"},
			{Name: "roster_candidates_per_shift", Default: "200", Description: "Best-ranked volunteers per shift the roster proposal considers"},
			{Name: "roster_max_nodes", Default: "20000", Description: "Search budget of one roster proposal"},
			{Name: "parks_shift_capacity", Default: "5", Description: "Places on the draft shift created for an approved public park event that asks for volunteers"},
		},
	}
}

func intSetting(env sdk.Env, name string, def int) int {
	if v, err := strconv.Atoi(env.Settings[name]); err == nil && v > 0 {
		return v
	}
	return def
}

// Configure opens the store and builds the service; tables appear once the host has
// called Migrate.
func (p *Plugin) Configure(ctx context.Context, env sdk.Env) error {
	loc := time.UTC
	if env.CityTimeZone != "" {
		l, err := time.LoadLocation(env.CityTimeZone)
		if err != nil {
			return fmt.Errorf("city time zone: %w", err)
		}
		loc = l
	}
	db, err := store.Open(ctx, env.Store)
	if err != nil {
		return err
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.env, p.db = env, db
	p.svc = NewService(db, env.Host, Config{
		Location:              loc,
		Languages:             env.Languages,
		HistoryWindow:         time.Duration(intSetting(env, "history_days", 90)) * 24 * time.Hour,
		IndexTTL:              time.Duration(intSetting(env, "index_ttl_seconds", 600)) * time.Second,
		RosterCandidates:      intSetting(env, "roster_candidates_per_shift", 200),
		InlineRebuildProfiles: intSetting(env, "index_inline_rebuild_profiles", 2000),
		RosterMaxNodes:        intSetting(env, "roster_max_nodes", 20000),
	}, p.now, env.Logger)
	return nil
}

// Migrations are the plugin's schema, one folder per dialect.
func (p *Plugin) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Health reports whether the store answers.
func (p *Plugin) Health(ctx context.Context) error { return p.db.PingContext(ctx) }

// Activate starts building the match index in the background, once the tables exist,
// and the scheduler of the reminders sent the day before a shift.
func (p *Plugin) Activate(context.Context) error {
	p.svc.Warm()
	p.svc.StartReminders()
	return nil
}

// Deactivate stops the reminder scheduler and a background index build, and closes the
// store.
func (p *Plugin) Deactivate(context.Context) error {
	p.svc.StopReminders()
	p.svc.Close()
	return p.db.Close()
}

// Handler serves the route table.
func (p *Plugin) Handler() http.Handler { return sdk.Mux(p.Routes()) }

// EraseUser erases a deleted user's profile and sign-ups (core.user.deleted, through
// the SDK); erasing twice is harmless.
func (p *Plugin) EraseUser(ctx context.Context, e sdk.Erasure) error {
	return p.svc.erase(ctx, e.UserID)
}

// HandleEvent reacts to park bookings that need volunteers, idempotently, because
// delivery is at least once. A payload that cannot be read is logged and dropped:
// delivering it again would fail the same way forever.
func (p *Plugin) HandleEvent(ctx context.Context, e sdk.Event) error {
	switch e.Type {
	case EventParksBookingApproved:
		var body ParkBookingApproved
		if !p.readEvent(ctx, e, &body) {
			return nil
		}
		return p.svc.draftFromParkEvent(ctx, e.ID, body, intSetting(p.env, "parks_shift_capacity", 5))
	case EventParksBookingCancelled, EventParksBookingRejected:
		var body ParkBookingEnded
		if !p.readEvent(ctx, e, &body) {
			return nil
		}
		return p.svc.cancelForParkBooking(ctx, body.BookingID)
	}
	return nil
}

// readEvent decodes e's payload into v, and logs it when it cannot.
func (p *Plugin) readEvent(ctx context.Context, e sdk.Event, v any) bool {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		p.svc.logger.ErrorContext(ctx, "volunteers: unreadable event", "type", e.Type, "id", e.ID, "error", err)
		return false
	}
	return true
}
