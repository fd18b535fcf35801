package assemblies

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Permissions the plugin declares. Route-level checks are the host's; the object-level
// checks (chair of this assembly, coordinator of its neighbourhood) are the Service's.
const (
	PermAssemblyManage      = "assemblies.assembly.manage"
	PermAssemblyParticipate = "assemblies.assembly.participate"
	PermMemberJoin          = "assemblies.member.join"
	PermDelegateName        = "assemblies.delegate.name"
	PermMotionVote          = "assemblies.motion.vote"
	PermMotionAnswer        = "assemblies.motion.answer"
	PermConsultationRequest = "assemblies.consultation.request"
)

// RoleCityResponder is the plugin's role for city staff who answer assemblies; it is
// meant to be granted in the city domain.
const RoleCityResponder = "city_responder"

// Settings and their defaults.
const (
	SettingMemberListPublic   = "member_list_public"
	SettingAnswerDeadlineDays = "answer_deadline_days"
)

//go:embed migrations
var migrations embed.FS

// Plugin is the assemblies plugin.
type Plugin struct {
	db  *store.DB
	svc *Service
	// stopSweep ends the sweep for overdue answers that Activate started.
	stopSweep context.CancelFunc
	swept     chan struct{}
}

// Compile-time guards, one per capability.
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
	return sdk.Manifest{
		Name:           "assemblies",
		Version:        "0.1.0",
		MinHostVersion: "0.1.0",
		Description:    "Neighbourhood assemblies: members, meetings, motions, votes and the city's answer.",
		Routes:         p.Routes(), // and the OpenAPI document, which the SDK generates from them
		UI:             p.ui(),
		Permissions: []sdk.Permission{
			{Name: PermAssemblyManage, Description: "Create assemblies in a neighbourhood, appoint officers, approve and remove members"},
			{Name: PermAssemblyParticipate, Description: "Take part in an assembly: motions, sponsorship, and officers' duties"},
			{Name: PermMemberJoin, Description: "Join or apply to an assembly of one's neighbourhood"},
			{Name: PermDelegateName, Description: "Name an organisation's delegate to an assembly"},
			{Name: PermMotionVote, Description: "Cast a ballot in an assembly vote"},
			{Name: PermMotionAnswer, Description: "Answer adopted motions on behalf of the city"},
			{Name: PermConsultationRequest, Description: "Ask an assembly for advice on a municipal project"},
		},
		Roles: []sdk.Role{{
			Name:        RoleCityResponder,
			Description: "City staff who ask assemblies for advice and answer their motions (grant in the city domain)",
			Permissions: []string{PermMotionAnswer, PermConsultationRequest},
			Labels: map[string]string{
				"en": "City responder",
				"fi": "Kaupungin vastaaja",
				"sv": "Stadens svarande",
				"da": "Kommunens svarperson",
				"tr": "Belediye yanıt sorumlusu",
			},
			Descriptions: map[string]string{
				"en": "City staff who ask neighbourhood assemblies for their advice and answer the motions they adopt, saying what the city will do and when.",
				"fi": "Kaupungin työntekijä, joka pyytää asukasfoorumeilta lausuntoja ja vastaa niiden hyväksymiin aloitteisiin: mitä kaupunki tekee ja milloin.",
				"sv": "Stadens personal som ber invånarråden om råd och svarar på de motioner de antar: vad staden tänker göra och när.",
				"da": "Kommunens medarbejder, der beder borgermøderne om råd og svarer på de forslag, de vedtager: hvad kommunen vil gøre, og hvornår.",
				"tr": "Mahalle meclislerinden görüş isteyen ve meclislerin kabul ettiği önergelere belediyenin ne yapacağını ve ne zaman yapacağını bildirerek yanıt veren belediye çalışanı.",
			},
		}},
		Grants: []sdk.Grant{
			{Role: "resident", Permission: PermMemberJoin},
			{Role: "resident", Permission: PermAssemblyParticipate},
			{Role: "resident", Permission: PermMotionVote},
			{Role: "org_member", Permission: PermAssemblyParticipate},
			{Role: "org_member", Permission: PermMotionVote},
			{Role: "org_representative", Permission: PermDelegateName},
			{Role: "org_representative", Permission: PermAssemblyParticipate},
			{Role: "org_representative", Permission: PermMotionVote},
			{Role: "coordinator", Permission: PermAssemblyManage},
			{Role: "coordinator", Permission: PermAssemblyParticipate},
			{Role: RoleCityResponder, Permission: PermMotionAnswer},
			{Role: RoleCityResponder, Permission: PermConsultationRequest},
		},
		Publishes:     publishedEvents,
		Notifications: notificationKinds(),
		DataUses:      dataUses,
		Settings: []sdk.Setting{
			{Name: SettingMemberListPublic, Default: "true", Description: "Show assembly member lists to everyone (false: only to members)"},
			{Name: SettingAnswerDeadlineDays, Default: "30", Description: "Days the city has to answer an adopted motion before it shows as overdue"},
		},
	}
}

// Configure opens the store and reads the settings.
func (p *Plugin) Configure(ctx context.Context, env sdk.Env) error {
	db, err := store.Open(ctx, env.Store)
	if err != nil {
		return err
	}
	svc := NewService(db, env.Host, env.Logger)
	svc.Languages = env.Languages
	if env.CityTimeZone != "" {
		if svc.Zone, err = time.LoadLocation(env.CityTimeZone); err != nil {
			db.Close()
			return fmt.Errorf("city time zone: %w", err)
		}
	}
	if err := applySettings(svc, env.Settings); err != nil {
		db.Close()
		return err
	}
	p.db, p.svc = db, svc
	return nil
}

func applySettings(svc *Service, settings map[string]string) error {
	if v, ok := settings[SettingMemberListPublic]; ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("setting %s: want true or false, got %q", SettingMemberListPublic, v)
		}
		svc.MemberListPublic = b
	}
	if v, ok := settings[SettingAnswerDeadlineDays]; ok && v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 3650 {
			return fmt.Errorf("setting %s: want a number of days between 1 and 3650, got %q", SettingAnswerDeadlineDays, v)
		}
		svc.AnswerDeadline = time.Duration(n) * 24 * time.Hour
	}
	return nil
}

// Migrations are the plugin's schema, one folder per dialect.
func (p *Plugin) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Activate starts the sweep that tells the city's responders of answers gone overdue:
// a minute after the start, once the plugin has settled, then every OverdueSweep.
func (p *Plugin) Activate(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.stopSweep, p.swept = cancel, make(chan struct{})
	go func() {
		defer close(p.swept)
		t := time.NewTimer(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := p.svc.NotifyOverdue(ctx); err != nil && ctx.Err() == nil {
				p.svc.log.Warn("sweep for overdue answers", "error", err)
			}
			t.Reset(OverdueSweep)
		}
	}()
	return nil
}

// Deactivate stops the sweep and closes the store. Events not yet delivered stay in it
// for the next start (the SDK relays the store's outbox while the plugin is active).
func (p *Plugin) Deactivate(context.Context) error {
	if p.stopSweep != nil {
		p.stopSweep()
		<-p.swept
	}
	if p.db != nil {
		return p.db.Close()
	}
	return nil
}

// Health reports whether the store answers.
func (p *Plugin) Health(ctx context.Context) error { return p.db.PingContext(ctx) }

// EraseUser erases a deleted user's personal data (core.user.deleted, through the
// SDK). Erasing twice is harmless, which makes at-least-once delivery safe.
func (p *Plugin) EraseUser(ctx context.Context, e sdk.Erasure) error {
	return p.svc.EraseUser(ctx, e.UserID)
}

// Handler serves the route table.
func (p *Plugin) Handler() http.Handler { return sdk.Mux(p.Routes()) }
