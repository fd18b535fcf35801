package parks

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Permissions the plugin declares.
const (
	PermParkManage     = "parks.park.manage"
	PermAreaManage     = "parks.area.manage"
	PermBookingRequest = "parks.booking.request"
	PermBookingApprove = "parks.booking.approve"
)

// RoleParkManager is the plugin's role: granted in nbh:<id> it manages the
// parks of that neighbourhood, granted in city every park.
const RoleParkManager = "park_manager"

// Setting names.
const (
	SettingAllowIndividuals = "allow_individual_residents"
	SettingDefaultSupport   = "default_support"
	// SettingPublicURL is the site's address ("https://kvarter.izmir.example"):
	// the start of the event links in feeds and Schema.org data.
	SettingPublicURL = "public_url"
	// SettingOrganizerEmail is the parks office's address, the ORGANIZER of
	// the feeds' events (RFC 5546 wants one in a published calendar).
	SettingOrganizerEmail = "organizer_email"
)

//go:embed migrations
var migrations embed.FS

// Plugin is the parks plugin.
type Plugin struct {
	// now is the clock; tests replace it.
	now func() time.Time

	db  *store.DB
	svc *Service
}

// Compile-time guards for the capabilities the plugin implements.
var (
	_ sdk.Plugin      = (*Plugin)(nil)
	_ sdk.Migrator    = (*Plugin)(nil)
	_ sdk.Activator   = (*Plugin)(nil)
	_ sdk.Healther    = (*Plugin)(nil)
	_ sdk.Deactivator = (*Plugin)(nil)
	_ sdk.Eraser      = (*Plugin)(nil)
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
	p.svc = newService(newStorage(db), env.Host, p.now, tz, env.Languages, settings, logger)
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
	if v := strings.TrimSuffix(strings.TrimSpace(m[SettingPublicURL]), "/"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s, fmt.Errorf("parks: setting %s: %q is not a site address such as https://kvarter.example", SettingPublicURL, v)
		}
		s.PublicURL = v
	}
	if v := strings.TrimSpace(m[SettingOrganizerEmail]); v != "" {
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			return s, fmt.Errorf("parks: setting %s: %q is not an email address", SettingOrganizerEmail, v)
		}
		s.OrganizerEmail = v
	}
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
	return nil
}

// Health reports whether the store answers.
func (p *Plugin) Health(ctx context.Context) error { return p.db.PingContext(ctx) }

// Deactivate closes the store; events not yet delivered wait in it for
// the next start.
func (p *Plugin) Deactivate(context.Context) error { return p.db.Close() }

// EraseUser erases a deleted user's personal data from bookings
// (core.user.deleted, through the SDK), once per event ID.
func (p *Plugin) EraseUser(ctx context.Context, e sdk.Erasure) error {
	return p.svc.EraseUser(ctx, e.EventID, e.UserID)
}

// Handler serves the route table.
func (p *Plugin) Handler() http.Handler { return sdk.Mux(p.Routes()) }

// Version is the plugin's version.
const Version = "0.1.0"

// defaultSupport is the catalogue of a new park unless the city says
// otherwise: what a Living Park typically lends.
const defaultSupport = "chairs=0,tables=0,sound_system=0,power=0,waste_bins=0"

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Manifest describes the plugin to the host: its routes (routes.go, which
// also give the OpenAPI document, filled in by the SDK), permissions, role,
// default grants, events and settings.
func (p *Plugin) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:           "parks",
		Version:        Version,
		MinHostVersion: "0.1.0",
		Description:    "Civic groups book areas of public parks for open events; park managers approve; the public calendar shows what is on.",
		Routes:         p.Routes(),
		Permissions: []sdk.Permission{
			{Name: PermParkManage, Description: "Create parks in a neighbourhood"},
			{Name: PermAreaManage, Description: "Manage a park's areas, support items and closures"},
			{Name: PermBookingRequest, Description: "Request bookings of park areas (for an organisation in org:<id>)"},
			{Name: PermBookingApprove, Description: "Approve, reject and see all bookings of the parks of a neighbourhood"},
		},
		Roles: []sdk.Role{{
			Name:        RoleParkManager,
			Description: "Manages the parks of a neighbourhood (granted in nbh:<id>) or of the city (granted in city)",
			Permissions: []string{PermAreaManage, PermBookingApprove},
			Labels: map[string]string{
				"en": "Park manager",
				"fi": "Puistovastaava",
				"sv": "Parkansvarig",
				"da": "Parkansvarlig",
				"tr": "Park sorumlusu",
			},
			Descriptions: map[string]string{
				"en": "Looks after the parks of a neighbourhood, or of the whole city when granted city-wide: sets opening hours and closures, and approves or rejects requests to book a park.",
				"fi": "Hoitaa kaupunginosan puistoja, tai koko kaupungin puistoja kun rooli on annettu koko kaupunkiin: asettaa aukioloajat ja sulkemiset sekä hyväksyy tai hylkää puistojen varauspyynnöt.",
				"sv": "Sköter stadsdelens parker, eller hela stadens när rollen gäller hela staden: bestämmer öppettider och avstängningar och godkänner eller avslår ansökningar om att boka en park.",
				"da": "Står for bydelens parker, eller hele byens, når rollen gælder hele byen: fastsætter åbningstider og lukninger og godkender eller afviser anmodninger om at booke en park.",
				"tr": "Mahallenin parklarından, şehir genelinde verildiğinde ise tüm şehrin parklarından sorumludur: açılış saatlerini ve kapanışları belirler, park rezervasyon taleplerini onaylar ya da reddeder.",
			},
		}},
		Grants: []sdk.Grant{
			{Role: "org_representative", Permission: PermBookingRequest},
			{Role: "coordinator", Permission: PermParkManage},
			// Residents hold the permission so that the setting
			// allow_individual_residents alone decides whether they may
			// book without an organisation; with it off the plugin
			// refuses them (rule individual_bookings).
			{Role: "resident", Permission: PermBookingRequest},
		},
		Publishes:     []string{EventRequested, EventApproved, EventRejected, EventCancelled},
		Notifications: notificationKinds(),
		DataUses:      dataUses,
		UI:            pageUI(),
		Settings: []sdk.Setting{
			{Name: SettingAllowIndividuals, Default: "false", Description: "Let verified residents book without an organisation"},
			{Name: SettingDefaultSupport, Default: defaultSupport, Description: "Support catalogue of a new park, name=quantity,…"},
			{Name: SettingPublicURL, Default: "", Description: "The site's address, e.g. https://kvarter.izmir.example: event links in feeds and search-engine data start with it (relative without it)"},
			{Name: SettingOrganizerEmail, Default: "", Description: "The parks office's email, the organizer of the calendar feeds' events (else the park's page or ID)"},
		},
	}
}
