package budgeting

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Settings are the city's choices for the plugin (see the manifest's Settings).
type Settings struct {
	// ProposalsOpen lets anyone signed in submit proposals, not only verified residents.
	ProposalsOpen bool
	// BallotReplaceable lets a voter replace their ballot while voting is open, with
	// the token they were given when they first cast it.
	BallotReplaceable bool
	// MinAge is the minimum voting age: a verified age decides, and a voter without
	// one confirms theirs with age_confirmed on the ballot (see the package doc).
	MinAge int
	// TickInterval is how often the background tick moves cycles on schedule.
	TickInterval time.Duration
}

// Service is the budgeting domain: every rule lives here, behind one method per use.
type Service struct {
	db       *store.DB
	host     sdk.Host
	now      func() time.Time
	settings Settings
	log      *slog.Logger
	voting   votingCycles
	dialect  dialectSQL
	// box seals online ballots and has the host open them when voting closes.
	box *sdk.BallotBox
	// languages are the city's, which notifications are written in; zone is the
	// city's time zone.
	languages []string
	zone      *time.Location
	// published holds results already read, by cycle ID (see Results).
	published sync.Map
}

// NewService returns a service over db. now is the clock, injected so tests and the
// schedule never depend on the wall clock.
func NewService(db *store.DB, host sdk.Host, now func() time.Time, s Settings, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Times are stored to the microsecond (storage.go); the clock is read at that
	// precision, in UTC, so what a method answers is what a later read returns.
	clock := func() time.Time { return now().UTC().Truncate(time.Microsecond) }
	return &Service{db: db, dialect: dialectOf(db), host: host, now: clock, settings: s, log: log, box: sdk.NewBallotBox(host)}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// nbh is the permission domain of a cycle.
func (c *Cycle) nbh() string { return "nbh:" + c.NeighbourhoodID }

// can asks the host whether pr holds perm in the cycle's neighbourhood. The host, not
// the Principal, is asked so that grants a city admin changed are honoured.
func (s *Service) can(ctx context.Context, pr sdk.Principal, perm, domain string) error {
	if !pr.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	ok, err := s.host.Can(ctx, pr.UserID, perm, domain)
	if err != nil {
		return fmt.Errorf("can %s %s: %w", perm, domain, err)
	}
	if !ok {
		return sdk.Errorf(sdk.CodeForbidden, "you need %s in %s", perm, domain)
	}
	return nil
}

// cycleFor returns cycle id when pr holds perm in its neighbourhood: the start of
// every officer's action on a cycle.
func (s *Service) cycleFor(ctx context.Context, pr sdk.Principal, id, perm string) (*Cycle, error) {
	c, err := findCycle(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if err := s.can(ctx, pr, perm, c.nbh()); err != nil {
		return nil, err
	}
	return c, nil
}

// resident checks that pr is a verified resident of the cycle's neighbourhood holding
// perm there: a city-wide grant alone does not make someone a resident.
func (s *Service) resident(ctx context.Context, pr sdk.Principal, c *Cycle, perm string) error {
	if !pr.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if !slices.Contains(pr.Neighbourhoods, c.NeighbourhoodID) {
		return sdk.Errorf(sdk.CodeForbidden, "only verified residents of neighbourhood %s may do this", c.NeighbourhoodID)
	}
	return s.can(ctx, pr, perm, c.nbh())
}

func (s *Service) audit(ctx context.Context, pr sdk.Principal, action, domain, target string, detail map[string]any) {
	if err := s.host.Audit(ctx, sdk.AuditEntry{ActorID: pr.UserID, Action: action, Domain: domain, Target: target, Detail: detail}); err != nil {
		s.log.ErrorContext(ctx, "audit", "action", action, "error", err)
	}
}
