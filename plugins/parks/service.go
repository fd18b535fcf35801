package parks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
)

// Limits on input, so one request cannot make the service do unbounded
// work.
const (
	maxTitle          = 200
	maxText           = 4000
	maxAvailability   = 366 * 24 * time.Hour
	defaultListLimit  = 50
	maxListLimit      = 500
	maxSeriesRequests = 52
)

// Settings are the city's choices for the plugin.
type Settings struct {
	// AllowIndividualResidents lets verified residents book without an
	// organisation.
	AllowIndividualResidents bool
	// DefaultSupport is the support catalogue of a park created without
	// one.
	DefaultSupport map[string]int
	// PublicURL is the site's address without a trailing slash; "" when
	// not configured (links are then relative).
	PublicURL string
	// OrganizerEmail is the feeds' ORGANIZER; "" when not configured.
	OrganizerEmail string
}

// Service is the parks workflow: parks and areas (service_parks.go),
// availability (service_availability.go), booking requests and the
// approval queue (service_bookings.go), decisions (service_decisions.go),
// closures (service_closures.go), the public calendar
// (service_calendar.go) and erasure (service_erasure.go). HTTP handlers
// call one method each; every method checks who may do what, because the
// host only checks the route's permission, not whether the caller manages
// this park or represents this organisation.
type Service struct {
	st       *storage
	host     sdk.Host
	now      func() time.Time
	cityTZ   string
	settings Settings
	log      *slog.Logger
	// langs are the city's languages, which notifications are written in.
	langs []string

	// orgNames caches organisation names by ID for the request path.
	orgNames sync.Map
	// areas caches each park's area tree for the request path; see
	// cachedAreas for why it needs no invalidation there.
	areas sync.Map // park ID → areaTree
	// parks caches parks briefly for the request path; see cachedPark.
	parks sync.Map // park ID → cachedParkEntry
}

// newService returns the service over an opened store.
func newService(st *storage, host sdk.Host, now func() time.Time, cityTZ string, langs []string, settings Settings, log *slog.Logger) *Service {
	return &Service{st: st, host: host, now: now, cityTZ: cityTZ, langs: langs, settings: settings, log: log}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// --- authorisation ---

func (s *Service) can(ctx context.Context, p sdk.Principal, perm, domain string) (bool, error) {
	if !p.Authenticated() {
		return false, nil
	}
	ok, err := s.host.Can(ctx, p.UserID, perm, domain)
	if err != nil {
		return false, fmt.Errorf("can %s %s in %s: %w", p.UserID, perm, domain, err)
	}
	return ok, nil
}

func (s *Service) require(ctx context.Context, p sdk.Principal, perm, domain, rule, message string) error {
	if !p.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	ok, err := s.can(ctx, p, perm, domain)
	if err != nil {
		return err
	}
	if !ok {
		return sdk.RuleError(sdk.CodeForbidden, rule, "%s", message)
	}
	return nil
}

func parkDomain(p *Park) string { return "nbh:" + p.NeighbourhoodID }

func (s *Service) requireManager(ctx context.Context, pr sdk.Principal, park *Park) error {
	return s.require(ctx, pr, PermBookingApprove, parkDomain(park), RuleParkManager,
		"Only a manager of "+park.Name+" can do this.")
}

// --- errors ---

// notFound reports a missing resource by kind and id.
func notFound(what, id string) *sdk.Error {
	return sdk.Errorf(sdk.CodeNotFound, "%s %s not found", what, id)
}

// invalid reports a field that breaks a named rule: 422 with the field's
// problem in fields and the rule in fields.rule.
func invalid(field, rule, problem string) *sdk.Error {
	return &sdk.Error{Code: sdk.CodeInvalid, Message: field + ": " + problem, Fields: map[string]string{field: problem, "rule": rule}}
}

// fromViolation turns a schedule rule violation into an invalid-input
// error naming the rule; other errors pass through.
func fromViolation(err error) error {
	var v schedule.Violation
	if errors.As(err, &v) {
		return sdk.RuleError(sdk.CodeInvalid, v.Rule, "%s", v.Message)
	}
	return err
}

// --- audit ---

func (s *Service) audit(ctx context.Context, pr sdk.Principal, action, domain, target string, detail map[string]any) {
	if err := s.host.Audit(ctx, sdk.AuditEntry{ActorID: pr.UserID, Action: action, Domain: domain, Target: target, Detail: detail}); err != nil {
		s.log.ErrorContext(ctx, "audit failed", "action", action, "target", target, "error", err)
	}
}
