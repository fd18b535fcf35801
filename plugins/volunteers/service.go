package volunteers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Config tunes the service; zero fields take the defaults of the manifest's settings.
type Config struct {
	// Location is the city's time zone: ages, availability and ISO weeks are local.
	Location *time.Location
	// Languages are the city's languages, preferred first, for skill names.
	Languages []string
	// HistoryWindow is how far back hours (fairness) and no-shows (reliability) count.
	HistoryWindow time.Duration
	// IndexTTL bounds how long a cached match index is used even when nothing changed,
	// because "recent hours" move with the clock.
	IndexTTL time.Duration
	// InlineRebuildProfiles: an out-of-date match index of fewer profiles than this is
	// rebuilt by the request that finds it (cheap: about 50 µs a profile); a larger one
	// is rebuilt by one background goroutine while requests keep using the previous
	// index. Default 2,000. A count rather than a measured build time, so the choice
	// does not depend on how loaded the machine happens to be.
	InlineRebuildProfiles int
	// RosterCandidates is how many of the best-ranked volunteers per shift the roster
	// considers; the roster is optimal among them.
	RosterCandidates int
	// RosterMaxNodes bounds the roster search.
	RosterMaxNodes int
}

// Service is the volunteers domain: every handler calls one of its methods. It owns the
// policy (who may do what) and transactions; SQL stays in storage.
type Service struct {
	st     storage
	host   sdk.Host
	cfg    Config
	now    func() time.Time
	logger *slog.Logger
	// index is the match index over every profile; rankings read it, bookings never do.
	index *match.Cache
	// reminders stops the reminder scheduler; nil while it does not run.
	reminders func()
}

// NewService returns a service over db. now is the clock; host answers questions about
// people, organisations and permissions.
func NewService(db *store.DB, host sdk.Host, cfg Config, now func() time.Time, logger *slog.Logger) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.HistoryWindow <= 0 {
		cfg.HistoryWindow = 90 * 24 * time.Hour
	}
	if cfg.RosterCandidates <= 0 {
		cfg.RosterCandidates = 200
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{st: newStorage(db), host: host, cfg: cfg, now: now, logger: logger}
	s.index = match.NewCache(indexSource{s}, match.CacheConfig{Location: cfg.Location, TTL: cfg.IndexTTL,
		InlineRebuild: cfg.InlineRebuildProfiles, Now: s.clock, Logger: logger})
	return s
}

// Warm starts building the match index in the background, so that the first matches
// request of a large city does not pay the whole build.
func (s *Service) Warm() { s.index.Warm() }

// WaitRebuild waits for a background index rebuild, if one runs.
func (s *Service) WaitRebuild() { s.index.Wait() }

// Close stops a background index rebuild and waits for it.
func (s *Service) Close() { s.index.Close() }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// now truncated to the second, the precision times are stored with.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

func requireUser(p sdk.Principal) error {
	if !p.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "sign in to use volunteering")
	}
	return nil
}

func (s *Service) audit(ctx context.Context, actor, action, domain, target string, detail map[string]any) {
	if s.host == nil {
		return
	}
	if err := s.host.Audit(ctx, sdk.AuditEntry{ActorID: actor, Action: action, Domain: domain, Target: target, Detail: detail}); err != nil {
		s.logger.ErrorContext(ctx, "audit", "action", action, "error", err)
	}
}

func (s *Service) checkNeighbourhoods(ctx context.Context, f *fields, field string, ids []string) error {
	ids = dedupe(ids)
	if len(ids) == 0 || s.host == nil {
		return nil
	}
	found, err := s.host.Neighbourhoods(ctx, ids)
	if err != nil {
		return fmt.Errorf("look up neighbourhoods: %w", err)
	}
	ok := map[string]bool{}
	for _, n := range found {
		ok[n.ID] = !n.Archived
	}
	var bad []string
	for _, id := range ids {
		if !ok[id] {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		f.add(field, "unknown neighbourhoods: "+strings.Join(bad, ", "), RuleKnownNeighbourhood)
	}
	return nil
}

func dedupe(l []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range l {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// canOrganise reports whether p may manage opportunities of organisation orgID ("" is the
// city): the permission in that organisation's domain, which city staff hold everywhere,
// and the organisation must be verified.
func (s *Service) canOrganise(ctx context.Context, p sdk.Principal, orgID string) error {
	if err := requireUser(p); err != nil {
		return err
	}
	domain := sdk.DomainCity
	if orgID != "" {
		domain = "org:" + orgID
	}
	ok, err := s.host.Can(ctx, p.UserID, PermOpportunityManage, domain)
	if err != nil {
		return fmt.Errorf("check permission: %w", err)
	}
	if !ok {
		if orgID == "" {
			return sdk.Errorf(sdk.CodeForbidden, "only city staff may post opportunities for the city")
		}
		return sdk.Errorf(sdk.CodeForbidden, "only representatives of organisation %s may organise its opportunities", orgID)
	}
	if orgID == "" {
		return nil
	}
	orgs, err := s.host.Organisations(ctx, []string{orgID})
	if err != nil {
		return fmt.Errorf("look up organisation: %w", err)
	}
	if len(orgs) == 0 {
		return sdk.Errorf(sdk.CodeNotFound, "organisation %s not found", orgID)
	}
	if !orgs[0].Verified {
		return sdk.Errorf(sdk.CodeForbidden, "organisation %s is not verified; only verified organisations post opportunities", orgID)
	}
	return nil
}

// organiser loads an opportunity and checks that p organises it.
func (s *Service) organiser(ctx context.Context, p sdk.Principal, oppID string) (Opportunity, error) {
	o, err := s.st.opportunity(ctx, s.st.db, oppID)
	if err != nil {
		return Opportunity{}, err
	}
	if err := s.canOrganise(ctx, p, o.OrganisationID); err != nil {
		return Opportunity{}, err
	}
	return o, nil
}

// Rules named in fields.rule when input is well-formed but breaks a rule (422 invalid),
// so a client can react without parsing prose. Ranges and the time range use the
// SDK's names (sdk.RuleRange, sdk.RuleTimeRange).
const (
	RuleRequired           = "required"            // the field must be given
	RuleFormat             = "format"              // not in the field's format (a date, an RFC 3339 time, HH:MM, a skill ID)
	RuleEnum               = "enum"                // not one of the field's values
	RuleFuture             = "future"              // must lie in the future
	RuleNotFuture          = "not_future"          // must not lie in the future
	RuleEndAfterStart      = "end_after_start"     // an end at or before its start
	RuleKnownSkill         = "known_skill"         // a skill not in the catalogue
	RuleKnownNeighbourhood = "known_neighbourhood" // a neighbourhood that does not exist or is archived
)

// fields collects per-field problems while validating input; the first rule broken is
// the error's fields.rule.
type fields struct {
	problems map[string]string
	rule     string
}

func (f *fields) add(field, problem, rule string) {
	if f.problems == nil {
		f.problems = map[string]string{}
	}
	if _, ok := f.problems[field]; !ok {
		f.problems[field] = problem
	}
	if f.rule == "" {
		f.rule = rule
	}
}

// err is a 422 invalid error naming every field at fault, or nil when none is.
func (f *fields) err(message string) error {
	if len(f.problems) == 0 {
		return nil
	}
	out := make(map[string]string, len(f.problems)+1)
	for k, v := range f.problems {
		out[k] = v
	}
	out["rule"] = f.rule
	return &sdk.Error{Code: sdk.CodeInvalid, Message: message, Fields: out}
}

// invalid reports one input field that breaks rule (422).
func invalid(field, problem, rule string) *sdk.Error {
	return &sdk.Error{Code: sdk.CodeInvalid, Message: field + ": " + problem, Fields: map[string]string{field: problem, "rule": rule}}
}

// errorCode returns the code of err, sdk.CodeInternal when err is not an *sdk.Error.
func errorCode(err error) string {
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return sdk.CodeInternal
}
