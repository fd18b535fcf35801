package budgeting

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
	"github.com/kvarter/kvarter/sdk/web"
)

// Permissions the plugin declares.
const (
	PermCycleManage     = "budgeting.cycle.manage"
	PermProposalSubmit  = "budgeting.proposal.submit"
	PermProposalSupport = "budgeting.proposal.support"
	PermProposalReview  = "budgeting.proposal.review"
	PermBallotCast      = "budgeting.ballot.cast"
	PermBallotPaper     = "budgeting.ballot.paper"
	PermResultsPublish  = "budgeting.results.publish"
	PermProjectUpdate   = "budgeting.project.update"
)

// RoleOfficer is the plugin's role, grantable per neighbourhood or city-wide.
const RoleOfficer = "budget_officer"

// Setting names.
const (
	SettingProposalsOpen     = "proposals_open_to_anyone"
	SettingBallotReplaceable = "ballot_replaceable"
	SettingMinAge            = "min_age"
	SettingTickInterval      = "tick_interval"
)

//go:embed migrations
var migrations embed.FS

// Plugin is the budgeting plugin.
type Plugin struct {
	// Now is the clock; nil means time.Now. Tests set it before Configure.
	Now func() time.Time

	svc  *Service
	db   *store.DB
	tick time.Duration
	log  *slog.Logger

	stop context.CancelFunc
	done sync.WaitGroup

	// tmpl are the page templates (pages.go), parsed once the city is known.
	tmplOnce sync.Once
	tmpl     *web.Templates
	// published keeps the drawn results pages (pages_public.go).
	published publishedPages
}

// Compile-time guards for the capabilities the plugin implements.
var (
	_ sdk.Plugin      = (*Plugin)(nil)
	_ sdk.Migrator    = (*Plugin)(nil)
	_ sdk.Activator   = (*Plugin)(nil)
	_ sdk.Deactivator = (*Plugin)(nil)
	_ sdk.Healther    = (*Plugin)(nil)
	_ sdk.Eraser      = (*Plugin)(nil)
)

// New returns an unconfigured plugin.
func New() sdk.Plugin { return &Plugin{} }

// Manifest describes the plugin to the host.
func (p *Plugin) Manifest() sdk.Manifest {
	officer := []string{PermCycleManage, PermProposalReview, PermBallotPaper, PermResultsPublish, PermProjectUpdate}
	grants := []sdk.Grant{
		{Role: "resident", Permission: PermProposalSubmit},
		{Role: "resident", Permission: PermProposalSupport},
		{Role: "resident", Permission: PermBallotCast},
		// Coordinators report progress on projects in their neighbourhood.
		{Role: "coordinator", Permission: PermProjectUpdate},
	}
	for _, perm := range officer {
		grants = append(grants, sdk.Grant{Role: "city_admin", Permission: perm})
	}
	return sdk.Manifest{
		Name:           "budgeting",
		Version:        "0.1.0",
		MinHostVersion: "0.1.0",
		Description:    "Participatory budgeting: ideas, review, ballots, verifiable results and implementation.",
		Routes:         p.routes(),
		UI:             p.ui(),
		Permissions: []sdk.Permission{
			{Name: PermCycleManage, Description: "Open budgeting cycles, move their phases and import simulations"},
			{Name: PermProposalSubmit, Description: "Submit project proposals"},
			{Name: PermProposalSupport, Description: "Support ideas in the support phase"},
			{Name: PermProposalReview, Description: "Assess proposals: feasible, infeasible, duplicate"},
			{Name: PermBallotCast, Description: "Cast a ballot"},
			{Name: PermBallotPaper, Description: "Enter paper ballots"},
			{Name: PermResultsPublish, Description: "Tally and publish results"},
			{Name: PermProjectUpdate, Description: "Report on the implementation of selected projects"},
		},
		Roles: []sdk.Role{{
			Name:        RoleOfficer,
			Description: "Runs participatory budgets in a neighbourhood (or, granted in city, everywhere)",
			Permissions: officer,
			Labels: map[string]string{
				"en": "Budget officer",
				"fi": "Osallistuvan budjetoinnin vastaava",
				"sv": "Ansvarig för medborgarbudget",
				"da": "Ansvarlig for borgerbudget",
				"tr": "Katılımcı bütçe sorumlusu",
			},
			Descriptions: map[string]string{
				"en": "Runs participatory budgeting in a neighbourhood, or everywhere when granted city-wide: sets up the phases, reviews proposals and publishes the results.",
				"fi": "Vastaa kaupunginosan osallistuvasta budjetoinnista, tai koko kaupungin kun rooli on annettu koko kaupunkiin: ajoittaa vaiheet, arvioi ehdotukset ja julkaisee tulokset.",
				"sv": "Leder medborgarbudgeten i en stadsdel, eller i hela staden när rollen gäller hela staden: lägger upp faserna, granskar förslagen och publicerar resultaten.",
				"da": "Står for borgerbudgettet i en bydel, eller i hele byen, når rollen gælder hele byen: planlægger faserne, gennemgår forslagene og offentliggør resultaterne.",
				"tr": "Bir mahallede, şehir genelinde verildiğinde ise her yerde katılımcı bütçeyi yürütür: aşamaları düzenler, önerileri değerlendirir ve sonuçları yayımlar.",
			},
		}},
		Grants:        grants,
		Publishes:     []string{EventPhaseChanged, EventResultsPublished, EventProjectUpdated},
		Notifications: notificationKinds(),
		DataUses:      dataUses,
		Settings: []sdk.Setting{
			{Name: SettingProposalsOpen, Default: "false", Description: "Let anyone signed in submit proposals, not only verified residents"},
			{Name: SettingBallotReplaceable, Default: "false", Description: "Let voters replace their ballot (with their receipt token) until voting ends"},
			{Name: SettingMinAge, Default: "0", Description: "Minimum voting age; voters confirm it on the ballot (0: none)"},
			{Name: SettingTickInterval, Default: "1m", Description: "How often scheduled phase changes are applied"},
		},
	}
}

// Configure reads the settings and opens the store. Tables appear once the host has
// called Migrate.
func (p *Plugin) Configure(ctx context.Context, env sdk.Env) error {
	s, err := parseSettings(env.Settings)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, env.Store)
	if err != nil {
		return err
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	p.log = env.Logger
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.db, p.tick = db, s.TickInterval
	p.svc = NewService(db, env.Host, now, s, p.log)
	if p.svc.zone, err = zoneOf(env.CityTimeZone); err != nil {
		db.Close()
		return fmt.Errorf("city time zone: %w", err)
	}
	p.svc.languages = env.Languages
	return nil
}

func parseSettings(m map[string]string) (Settings, error) {
	s := Settings{TickInterval: time.Minute}
	var err error
	if v := m[SettingProposalsOpen]; v != "" {
		if s.ProposalsOpen, err = strconv.ParseBool(v); err != nil {
			return s, fmt.Errorf("setting %s: %w", SettingProposalsOpen, err)
		}
	}
	if v := m[SettingBallotReplaceable]; v != "" {
		if s.BallotReplaceable, err = strconv.ParseBool(v); err != nil {
			return s, fmt.Errorf("setting %s: %w", SettingBallotReplaceable, err)
		}
	}
	if v := m[SettingMinAge]; v != "" {
		if s.MinAge, err = strconv.Atoi(v); err != nil || s.MinAge < 0 {
			return s, fmt.Errorf("setting %s: want a whole number of years, got %q", SettingMinAge, v)
		}
	}
	if v := m[SettingTickInterval]; v != "" {
		if s.TickInterval, err = time.ParseDuration(v); err != nil || s.TickInterval <= 0 {
			return s, fmt.Errorf("setting %s: want a positive duration, got %q", SettingTickInterval, v)
		}
	}
	return s, nil
}

// Migrations are the plugin's schema, one folder per dialect.
func (p *Plugin) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Service returns the configured service, for the kvarter binary and tests.
func (p *Plugin) Service() *Service { return p.svc }

// Activate starts the schedule tick. Ticks on several nodes are harmless: each phase
// move is conditional on the phase it leaves.
func (p *Plugin) Activate(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(p.tick)
		defer t.Stop()
		for {
			if _, err := p.svc.Tick(ctx); err != nil && ctx.Err() == nil {
				p.log.Error("budgeting tick", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Deactivate stops the tick and closes the store.
func (p *Plugin) Deactivate(context.Context) error {
	if p.stop != nil {
		p.stop()
		p.done.Wait()
	}
	if p.db != nil {
		return p.db.Close()
	}
	return nil
}

// Health reports whether the store answers.
func (p *Plugin) Health(ctx context.Context) error { return p.db.PingContext(ctx) }

// EraseUser erases a deleted user's personal data (core.user.deleted, through the
// SDK), once per event ID.
func (p *Plugin) EraseUser(ctx context.Context, e sdk.Erasure) error {
	return p.svc.EraseUser(ctx, e.EventID, e.UserID)
}

// Handler serves the routes of the manifest.
func (p *Plugin) Handler() http.Handler { return sdk.Mux(p.routes()) }
