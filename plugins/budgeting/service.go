package budgeting

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

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
	// MinAge is the minimum voting age; the core holds no birth dates, so a voter
	// confirms it with age_confirmed on the ballot (see the package doc).
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
}

// NewService returns a service over db. now is the clock, injected so tests and the
// schedule never depend on the wall clock.
func NewService(db *store.DB, host sdk.Host, now func() time.Time, s Settings, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, host: host, now: now, settings: s, log: log}
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

func (s *Service) publish(ctx context.Context, typ string, payload any) {
	body, _ := json.Marshal(payload)
	if err := s.host.Publish(ctx, sdk.Event{Type: typ, Payload: body}); err != nil {
		// The change is committed; losing the event is better than failing the request
		// that made it. It is logged so an operator can see it.
		s.log.ErrorContext(ctx, "publish event", "type", typ, "error", err)
	}
}

func (s *Service) audit(ctx context.Context, pr sdk.Principal, action, domain, target string, detail map[string]any) {
	if err := s.host.Audit(ctx, sdk.AuditEntry{ActorID: pr.UserID, Action: action, Domain: domain, Target: target, Detail: detail}); err != nil {
		s.log.ErrorContext(ctx, "audit", "action", action, "error", err)
	}
}

// CreateCycleInput is what an officer gives to open a cycle.
type CreateCycleInput struct {
	ParentID        string      `json:"parent_id" max:"64"`
	NeighbourhoodID string      `json:"neighbourhood_id" max:"64"`
	Name            string      `json:"name" max:"200"`
	Budget          int64       `json:"budget" min:"0"`
	Currency        string      `json:"currency" max:"3"`
	Ballot          BallotRules `json:"ballot"`
	SupportTopN     int         `json:"support_top_n" min:"0" max:"100000"`
	Simulation      bool        `json:"simulation"`
	// MESIntegral is Cycle.MESIntegral; absent means true.
	MESIntegral *bool                `json:"mes_integral"`
	Phases      map[Phase]*time.Time `json:"phases"`
}

// CreateCycle opens a cycle in the ideas phase.
func (s *Service) CreateCycle(ctx context.Context, pr sdk.Principal, in CreateCycleInput) (*Cycle, error) {
	if in.NeighbourhoodID == "" {
		return nil, sdk.InvalidField("neighbourhood_id", "required")
	}
	if err := s.can(ctx, pr, PermCycleManage, "nbh:"+in.NeighbourhoodID); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, sdk.InvalidField("name", "required")
	}
	if in.Budget <= 0 {
		return nil, sdk.InvalidField("budget", "must be a positive number of minor units")
	}
	if !validCurrency(in.Currency) {
		return nil, sdk.InvalidField("currency", "must be an ISO 4217 code such as EUR")
	}
	if err := validateRules(&in.Ballot); err != nil {
		return nil, err
	}
	if in.SupportTopN < 0 {
		return nil, sdk.InvalidField("support_top_n", "must not be negative")
	}
	nbhs, err := s.host.Neighbourhoods(ctx, []string{in.NeighbourhoodID})
	if err != nil {
		return nil, fmt.Errorf("look up neighbourhood: %w", err)
	}
	if len(nbhs) == 0 {
		return nil, sdk.InvalidField("neighbourhood_id", "no such neighbourhood")
	}
	now := s.now()
	c := &Cycle{
		ID: newID(), ParentID: in.ParentID, NeighbourhoodID: in.NeighbourhoodID, Name: in.Name,
		Budget: in.Budget, Currency: in.Currency, Ballot: in.Ballot, SupportTopN: in.SupportTopN,
		Simulation: in.Simulation, MESIntegral: in.MESIntegral == nil || *in.MESIntegral,
		Phase: PhaseIdeas, Schedule: map[Phase]time.Time{},
		CreatedAt: now, UpdatedAt: now,
	}
	var last time.Time
	for _, p := range Phases {
		t, ok := in.Phases[p]
		if !ok || t == nil {
			continue
		}
		if t.Before(last) {
			return nil, sdk.InvalidField("phases."+string(p), "phases must start in order")
		}
		last = *t
		c.Schedule[p] = t.UTC()
	}
	for p := range in.Phases {
		if p.index() < 0 {
			return nil, sdk.InvalidField("phases", fmt.Sprintf("unknown phase %q", p))
		}
	}
	err = inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if c.ParentID != "" {
			if _, err := findCycle(ctx, tx, c.ParentID); err != nil {
				return sdk.InvalidField("parent_id", "no such cycle")
			}
		}
		return insertCycle(ctx, tx, c, c.nextAt())
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.cycle.create", c.nbh(), c.ID, map[string]any{"name": c.Name, "budget": c.Budget, "currency": c.Currency})
	return c, nil
}

// nextAt is the start of the first scheduled phase after the current one.
func (c *Cycle) nextAt() *time.Time {
	for _, p := range Phases[c.Phase.index()+1:] {
		if t, ok := c.Schedule[p]; ok {
			return &t
		}
	}
	return nil
}

// Cycle returns one cycle.
func (s *Service) Cycle(ctx context.Context, id string) (*Cycle, error) {
	return findCycle(ctx, s.db, id)
}

// Cycles lists cycles, a page at a time; next is the cursor of the following page or
// empty at the end.
func (s *Service) Cycles(ctx context.Context, f CycleFilter) (cycles []*Cycle, next string, err error) {
	f.Limit = pageLimit(f.Limit)
	f.Limit++
	cycles, err = listCycles(ctx, s.db, f)
	if err != nil {
		return nil, "", err
	}
	if len(cycles) == f.Limit {
		cycles = cycles[:f.Limit-1]
		next = cycles[len(cycles)-1].ID
	}
	return cycles, next, nil
}

func pageLimit(n int) int {
	if n <= 0 || n > 200 {
		return 50
	}
	return n
}

// SetPhase moves a cycle forward by hand (an officer closing voting early, say).
func (s *Service) SetPhase(ctx context.Context, pr sdk.Principal, id string, to Phase) (*Cycle, error) {
	if to.index() < 0 {
		return nil, sdk.InvalidField("phase", "must be one of ideas, support, review, voting, results, implementation")
	}
	c, err := findCycle(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if err := s.can(ctx, pr, PermCycleManage, c.nbh()); err != nil {
		return nil, err
	}
	if to.index() <= c.Phase.index() {
		return nil, sdk.Errorf(sdk.CodeConflict, "cycle is in %s; phases only move forward", c.Phase)
	}
	if err := s.move(ctx, c, to); err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.cycle.phase", c.nbh(), c.ID, map[string]any{"phase": string(to)})
	return findCycle(ctx, s.db, id)
}

// move changes c's phase and applies what leaving the old phase implies.
func (s *Service) move(ctx context.Context, c *Cycle, to Phase) error {
	from, now := c.Phase, s.now()
	moved := *c
	moved.Phase = to
	err := inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		ok, err := movePhase(ctx, tx, c.ID, from, to, moved.nextAt(), now)
		if err != nil {
			return err
		}
		if !ok {
			return sdk.Errorf(sdk.CodeConflict, "cycle %s changed phase meanwhile", c.ID)
		}
		if from == PhaseSupport && c.SupportTopN > 0 {
			return shortlist(ctx, tx, c, now)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.publish(ctx, EventPhaseChanged, map[string]string{
		"cycle_id": c.ID, "neighbourhood_id": c.NeighbourhoodID, "from": string(from), "to": string(to),
	})
	return nil
}

// shortlist keeps the SupportTopN most supported ideas. Ideas level with the last one
// kept go forward too: cutting between equals would be an arbitrary choice.
func shortlist(ctx context.Context, tx q, c *Cycle, now time.Time) error {
	ps, err := listProposals(ctx, tx, c.ID, StatusSubmitted, "", 0)
	if err != nil {
		return err
	}
	if len(ps) <= c.SupportTopN {
		return nil
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Supports > ps[j].Supports })
	cut := ps[c.SupportTopN-1].Supports
	for _, p := range ps[c.SupportTopN:] {
		if p.Supports < cut {
			if err := setProposalStatus(ctx, tx, p.ID, StatusNotShortlisted, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// Tick moves every cycle whose next scheduled phase has started into the latest phase
// that has started. The background loop calls it; it is safe on several nodes at once
// because each move is conditional on the phase it starts from.
func (s *Service) Tick(ctx context.Context) (moved int, err error) {
	now := s.now()
	ids, err := dueCycles(ctx, s.db, now)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		c, err := findCycle(ctx, s.db, id)
		if err != nil {
			return moved, err
		}
		to := c.Phase
		for _, p := range Phases[c.Phase.index()+1:] {
			if t, ok := c.Schedule[p]; ok && !t.After(now) {
				to = p
			}
		}
		if to == c.Phase {
			continue
		}
		if err := s.move(ctx, c, to); err != nil {
			if ErrorCode(err) == sdk.CodeConflict {
				continue // another node moved it
			}
			return moved, err
		}
		moved++
	}
	return moved, nil
}

// ProposalInput is what an author writes.
type ProposalInput struct {
	Title       string `json:"title" max:"200"`
	Description string `json:"description" max:"10000"`
	Category    string `json:"category" max:"100"`
	Location    string `json:"location" max:"300"`
	Cost        int64  `json:"cost" min:"0"`
}

func (in *ProposalInput) validate() error {
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" {
		return sdk.InvalidField("title", "required")
	}
	if len(in.Title) > 200 {
		return sdk.InvalidField("title", "at most 200 characters")
	}
	if in.Cost < 0 {
		return sdk.InvalidField("cost", "must not be negative")
	}
	return nil
}

// SubmitProposal adds an idea during the ideas phase.
func (s *Service) SubmitProposal(ctx context.Context, pr sdk.Principal, cycleID string, in ProposalInput) (*Proposal, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if !s.settings.ProposalsOpen {
		if err := s.resident(ctx, pr, c, PermProposalSubmit); err != nil {
			return nil, err
		}
	}
	if c.Phase != PhaseIdeas {
		return nil, sdk.Errorf(sdk.CodeConflict, "proposals are accepted in the ideas phase; the cycle is in %s", c.Phase)
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.now()
	p := &Proposal{
		ID: newID(), CycleID: c.ID, AuthorID: pr.UserID, Title: in.Title, Description: in.Description,
		Category: in.Category, Location: in.Location, Cost: in.Cost, Status: StatusSubmitted,
		Updates: []Update{}, CreatedAt: now, UpdatedAt: now,
	}
	if err := insertProposal(ctx, s.db, p); err != nil {
		return nil, err
	}
	return p, nil
}

// EditProposal lets the author change an idea until review starts.
func (s *Service) EditProposal(ctx context.Context, pr sdk.Principal, cycleID, id string, in ProposalInput) (*Proposal, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	p, err := findProposal(ctx, s.db, cycleID, id)
	if err != nil {
		return nil, err
	}
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if p.AuthorID != pr.UserID {
		return nil, sdk.Errorf(sdk.CodeForbidden, "only the author may edit a proposal")
	}
	if c.Phase != PhaseIdeas && c.Phase != PhaseSupport {
		return nil, sdk.Errorf(sdk.CodeConflict, "proposals can be edited until review; the cycle is in %s", c.Phase)
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	p.Title, p.Description, p.Category, p.Location, p.Cost = in.Title, in.Description, in.Category, in.Location, in.Cost
	p.UpdatedAt = s.now()
	if err := updateProposal(ctx, s.db, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Proposal returns one proposal with its implementation updates.
func (s *Service) Proposal(ctx context.Context, cycleID, id string) (*Proposal, error) {
	p, err := findProposal(ctx, s.db, cycleID, id)
	if err != nil {
		return nil, err
	}
	if p.Updates, err = listUpdates(ctx, s.db, id); err != nil {
		return nil, err
	}
	return p, nil
}

// Proposals lists a cycle's proposals a page at a time.
func (s *Service) Proposals(ctx context.Context, cycleID, status, cursor string, limit int) ([]*Proposal, string, error) {
	if _, err := findCycle(ctx, s.db, cycleID); err != nil {
		return nil, "", err
	}
	limit = pageLimit(limit)
	ps, err := listProposals(ctx, s.db, cycleID, status, cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ps) > limit {
		ps = ps[:limit]
		next = ps[limit-1].ID
	}
	return ps, next, nil
}

// Support records a resident's support for an idea during the support phase.
func (s *Service) Support(ctx context.Context, pr sdk.Principal, cycleID, id string) (*Proposal, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	if err := s.resident(ctx, pr, c, PermProposalSupport); err != nil {
		return nil, err
	}
	if c.Phase != PhaseSupport {
		return nil, sdk.Errorf(sdk.CodeConflict, "ideas are supported in the support phase; the cycle is in %s", c.Phase)
	}
	p, err := findProposal(ctx, s.db, cycleID, id)
	if err != nil {
		return nil, err
	}
	if p.Status != StatusSubmitted {
		return nil, sdk.Errorf(sdk.CodeConflict, "proposal is %s", p.Status)
	}
	if err := insertSupport(ctx, s.db, id, pr.UserID); err != nil {
		return nil, err
	}
	return findProposal(ctx, s.db, cycleID, id)
}

// ReviewInput is an officer's assessment: feasible with a final cost, infeasible with
// a public reason, or a duplicate of another proposal.
type ReviewInput struct {
	Feasible    *bool  `json:"feasible"`
	Cost        *int64 `json:"cost" min:"0"`
	Reason      string `json:"reason" max:"4000"`
	DuplicateOf string `json:"duplicate_of" max:"64"`
}

// Review records an assessment during the review phase; it may be revised until
// voting starts.
func (s *Service) Review(ctx context.Context, pr sdk.Principal, cycleID, id string, in ReviewInput) (*Proposal, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	if err := s.can(ctx, pr, PermProposalReview, c.nbh()); err != nil {
		return nil, err
	}
	if c.Phase != PhaseReview {
		return nil, sdk.Errorf(sdk.CodeConflict, "proposals are reviewed in the review phase; the cycle is in %s", c.Phase)
	}
	var out *Proposal
	err = inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		p, err := findProposal(ctx, tx, cycleID, id)
		if err != nil {
			return err
		}
		if p.Status == StatusNotShortlisted || p.Status == StatusMerged {
			return sdk.Errorf(sdk.CodeConflict, "proposal is %s", p.Status)
		}
		p.Reason, p.MergedInto, p.FinalCost = "", "", 0
		switch {
		case in.DuplicateOf != "":
			if in.DuplicateOf == id {
				return sdk.InvalidField("duplicate_of", "a proposal cannot duplicate itself")
			}
			target, err := findProposal(ctx, tx, cycleID, in.DuplicateOf)
			if err != nil {
				return sdk.InvalidField("duplicate_of", "no such proposal in this cycle")
			}
			if target.Status == StatusMerged || target.Status == StatusNotShortlisted {
				return sdk.InvalidField("duplicate_of", fmt.Sprintf("cannot merge into a proposal that is %s", target.Status))
			}
			p.Status, p.MergedInto = StatusMerged, target.ID
		case in.Feasible == nil:
			return sdk.InvalidField("feasible", "required (or duplicate_of)")
		case *in.Feasible:
			if in.Cost == nil || *in.Cost < 0 {
				return sdk.InvalidField("cost", "a feasible proposal needs a final cost of 0 or more")
			}
			p.Status, p.FinalCost = StatusFeasible, *in.Cost
		default:
			if strings.TrimSpace(in.Reason) == "" {
				return sdk.InvalidField("reason", "an infeasible proposal needs a public reason")
			}
			p.Status, p.Reason = StatusInfeasible, strings.TrimSpace(in.Reason)
		}
		p.UpdatedAt = s.now()
		out = p
		return updateProposal(ctx, tx, p)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.proposal.review", c.nbh(), id, map[string]any{"status": out.Status, "final_cost": out.FinalCost})
	return out, nil
}

// BallotInput is a ballot as a voter sends it.
type BallotInput struct {
	Ballot
	// AgeConfirmed is the voter's confirmation of the minimum age, when one is set.
	AgeConfirmed bool `json:"age_confirmed"`
	// ReplaceToken, when ballots are replaceable, replaces the ballot cast with it.
	ReplaceToken string `json:"replace_token" max:"200"`
}

// Receipt answers a cast ballot. ReplaceToken is returned only when ballots are
// replaceable; it is the only thing that connects a voter to their ballot, and only the
// voter holds it (the database keeps its hash).
type Receipt struct {
	CycleID      string `json:"cycle_id"`
	Replaced     bool   `json:"replaced"`
	ReplaceToken string `json:"replace_token,omitempty"`
}

// onBallot maps the projects on a cycle's ballot to their final costs.
func onBallot(ctx context.Context, db q, cycleID string) (map[string]int64, []*Proposal, error) {
	ps, err := listProposals(ctx, db, cycleID, StatusFeasible, "", 0)
	if err != nil {
		return nil, nil, err
	}
	m := make(map[string]int64, len(ps))
	for _, p := range ps {
		m[p.ID] = p.FinalCost
	}
	return m, ps, nil
}

// votingCycle is what every ballot of a cycle needs and what no longer changes once
// the cycle is in the voting phase: the ballot rules, the neighbourhood, and the
// projects on the ballot with their final costs (proposals are reviewed, merged and
// shortlisted only before voting, and phases only move forward). The phase itself is
// not cached: every cast re-reads it in the statement that records the ballot.
type votingCycle struct {
	cycle    *Cycle
	projects map[string]int64
}

// votingCycles caches votingCycle per cycle ID, so that a ballot costs no reads
// besides the one that records it. When voting opens, the first ballots arrive
// together; one of them reads the cycle and the others wait for it.
type votingCycles struct {
	mu      sync.RWMutex
	m       map[string]*votingCycle
	loading map[string]*ballotLoad
}

// ballotLoad is one read of a cycle and its ballot in progress.
type ballotLoad struct {
	done     chan struct{}
	waiters  int // joined this load instead of starting one (guarded by votingCycles.mu)
	cycle    *Cycle
	projects map[string]int64
	err      error
}

// load runs fn for id unless a call for id is already running, whose result it then
// shares.
func (vc *votingCycles) load(ctx context.Context, id string, fn func() (*Cycle, map[string]int64, error)) (*Cycle, map[string]int64, error) {
	vc.mu.Lock()
	if l, ok := vc.loading[id]; ok {
		l.waiters++
		vc.mu.Unlock()
		select {
		case <-l.done:
			return l.cycle, l.projects, l.err
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	l := &ballotLoad{done: make(chan struct{})}
	if vc.loading == nil {
		vc.loading = make(map[string]*ballotLoad)
	}
	vc.loading[id] = l
	vc.mu.Unlock()

	l.cycle, l.projects, l.err = fn()
	vc.mu.Lock()
	delete(vc.loading, id)
	vc.mu.Unlock()
	close(l.done)
	return l.cycle, l.projects, l.err
}

// maxVotingCycles bounds the cache; a city rarely has more than a few dozen cycles
// open for voting at once, and a full cache is simply emptied.
const maxVotingCycles = 1024

func (vc *votingCycles) get(id string) *votingCycle {
	vc.mu.RLock()
	defer vc.mu.RUnlock()
	return vc.m[id]
}

func (vc *votingCycles) put(v *votingCycle) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.m == nil || len(vc.m) >= maxVotingCycles {
		vc.m = make(map[string]*votingCycle)
	}
	vc.m[v.cycle.ID] = v
}

// ballotOf returns the cycle and the projects on its ballot, from the cache when the
// cycle was already seen in the voting phase. A cached cycle says PhaseVoting even
// after voting closed; the cast itself finds out.
func (s *Service) ballotOf(ctx context.Context, cycleID string) (*Cycle, map[string]int64, error) {
	if v := s.voting.get(cycleID); v != nil {
		return v.cycle, v.projects, nil
	}
	// The read is shared by every ballot waiting for it: one voter going away must not
	// fail the others.
	return s.voting.load(ctx, cycleID, func() (*Cycle, map[string]int64, error) {
		return s.readBallot(context.WithoutCancel(ctx), cycleID)
	})
}

// readBallot reads the cycle and, from the voting phase on, the projects on its
// ballot, caching both while the cycle is in the voting phase.
func (s *Service) readBallot(ctx context.Context, cycleID string) (*Cycle, map[string]int64, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, nil, err
	}
	if c.Phase.index() < PhaseVoting.index() {
		return c, nil, nil // the ballot is not final yet; CastBallot refuses anyway
	}
	projects, err := ballotCosts(ctx, s.db, cycleID)
	if err != nil {
		return nil, nil, err
	}
	if c.Phase == PhaseVoting && !c.Simulation {
		s.voting.put(&votingCycle{cycle: c, projects: projects})
	}
	return c, projects, nil
}

// routeChecked marks a request whose route permission the host has already checked
// (see castBallot in http.go).
type routeCheckedKey struct{}

// withRouteChecked records that the host checked perm for the request's principal in
// the union of the domains where it holds roles (a route with an empty Domain).
func withRouteChecked(ctx context.Context, perm string) context.Context {
	return context.WithValue(ctx, routeCheckedKey{}, perm)
}

// voter checks that pr may cast a ballot in c: a verified resident of the cycle's
// neighbourhood holding PermBallotCast there. The host checked PermBallotCast before
// forwarding the request, in every domain where the principal holds a role; when that
// is the cycle's neighbourhood alone — every ordinary resident — the host's check was
// exactly the neighbourhood check and a second one over the host API would only repeat
// it (at the price of a gRPC call and the core loading the principal again). Anyone
// holding roles elsewhere too (an officer, a city admin, a member of another
// neighbourhood) is asked about through the host as before.
func (s *Service) voter(ctx context.Context, pr sdk.Principal, c *Cycle) error {
	if !pr.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if !slices.Contains(pr.Neighbourhoods, c.NeighbourhoodID) {
		return sdk.Errorf(sdk.CodeForbidden, "only verified residents of neighbourhood %s may do this", c.NeighbourhoodID)
	}
	if perm, _ := ctx.Value(routeCheckedKey{}).(string); perm == PermBallotCast && len(pr.Roles) == 1 && len(pr.Roles[c.nbh()]) > 0 {
		return nil
	}
	return s.can(ctx, pr, PermBallotCast, c.nbh())
}

// CastBallot records a verified resident's ballot. Who voted and what was voted are
// written to separate tables with nothing in common but the cycle; the voters primary
// key makes a second ballot by the same person fail however many arrive at once.
func (s *Service) CastBallot(ctx context.Context, pr sdk.Principal, cycleID string, in BallotInput) (*Receipt, error) {
	c, projects, err := s.ballotOf(ctx, cycleID)
	if err != nil {
		return nil, err
	}
	if err := s.voter(ctx, pr, c); err != nil {
		return nil, err
	}
	if c.Simulation {
		return nil, sdk.Errorf(sdk.CodeConflict, "this is a simulation cycle; it takes imported ballots only")
	}
	if c.Phase != PhaseVoting {
		return nil, sdk.Errorf(sdk.CodeConflict, "ballots are cast in the voting phase; the cycle is in %s", c.Phase)
	}
	if s.settings.MinAge > 0 && !in.AgeConfirmed {
		return nil, ruleError("min_age", "age_confirmed", "voters must be at least %d; confirm with age_confirmed", s.settings.MinAge)
	}
	b, err := validateBallot(c.Ballot, in.Ballot, projects)
	if err != nil {
		return nil, err
	}
	rc := &Receipt{CycleID: cycleID}
	var token, hash string
	if s.settings.BallotReplaceable {
		token = randomToken()
		hash = hashToken(token)
	}
	if s.db.IsPostgres() {
		open, inserted, err := castFirstPostgres(ctx, s.db, cycleID, pr.UserID, uuid.NewString(), hash, b)
		switch {
		case err != nil:
			return nil, err
		case !open:
			return nil, sdk.Errorf(sdk.CodeConflict, "voting closed")
		case inserted:
			rc.ReplaceToken = token
			return rc, nil
		}
		// Already voted: refuse, or replace below.
	}
	err = inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Write first: on SQLite the transaction then holds the write lock, so the
		// phase read below cannot be overtaken by a phase change.
		first, err := insertVoter(ctx, tx, cycleID, pr.UserID)
		if err != nil {
			return err
		}
		var phase string
		if err := get(ctx, tx, &phase, `SELECT phase FROM cycles WHERE id = ?`, cycleID); err != nil {
			return fmt.Errorf("re-read phase: %w", err)
		}
		if Phase(phase) != PhaseVoting {
			return sdk.Errorf(sdk.CodeConflict, "voting closed")
		}
		if !first {
			if !s.settings.BallotReplaceable || in.ReplaceToken == "" {
				return sdk.Errorf(sdk.CodeConflict, "you have already voted in this cycle")
			}
			ok, err := replaceBallot(ctx, tx, cycleID, hashToken(in.ReplaceToken), b)
			if err != nil {
				return err
			}
			if !ok {
				return sdk.Errorf(sdk.CodeForbidden, "replace_token does not match a ballot of this cycle")
			}
			rc.Replaced = true
			return nil
		}
		rc.ReplaceToken = token
		return insertBallot(ctx, tx, cycleID, uuid.NewString(), false, false, hash, b)
	})
	if err != nil {
		return nil, err
	}
	return rc, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// EnterPaperBallots records ballots an officer transcribed from paper, marked as such.
// The paper voters were checked at the polling station, so no voter rows are written.
// All or none are recorded: one bad ballot rejects the batch, naming its index.
func (s *Service) EnterPaperBallots(ctx context.Context, pr sdk.Principal, cycleID string, ballots []Ballot) (int, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return 0, err
	}
	if err := s.can(ctx, pr, PermBallotPaper, c.nbh()); err != nil {
		return 0, err
	}
	if c.Simulation {
		return 0, sdk.Errorf(sdk.CodeConflict, "this is a simulation cycle; it takes imported ballots only")
	}
	if c.Phase != PhaseVoting && c.Phase != PhaseResults {
		return 0, sdk.Errorf(sdk.CodeConflict, "paper ballots are entered during voting or before results; the cycle is in %s", c.Phase)
	}
	if len(ballots) == 0 {
		return 0, sdk.InvalidField("ballots", "at least one ballot")
	}
	projects, err := ballotCosts(ctx, s.db, cycleID)
	if err != nil {
		return 0, err
	}
	clean := make([]Ballot, len(ballots))
	for i, b := range ballots {
		if clean[i], err = validateBallot(c.Ballot, b, projects); err != nil {
			e := err.(*sdk.Error)
			e.Message = fmt.Sprintf("ballot %d: %s", i, e.Message)
			e.Fields["index"] = fmt.Sprint(i)
			return 0, e
		}
	}
	err = inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := findResult(ctx, tx, cycleID); err == nil {
			return sdk.Errorf(sdk.CodeConflict, "results are already published")
		}
		for _, b := range clean {
			if err := insertBallot(ctx, tx, cycleID, uuid.NewString(), true, false, "", b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.audit(ctx, pr, "budgeting.ballot.paper", c.nbh(), c.ID, map[string]any{"count": len(clean)})
	return len(clean), nil
}

// Turnout counts a cycle's voters and ballots.
type Turnout struct {
	Voters  int64 `json:"voters"`
	Ballots int64 `json:"ballots"`
}

// Turnout returns how many people voted online and how many ballots there are.
func (s *Service) Turnout(ctx context.Context, cycleID string) (*Turnout, error) {
	if _, err := findCycle(ctx, s.db, cycleID); err != nil {
		return nil, err
	}
	v, err := countVoters(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	b, err := countBallots(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	return &Turnout{Voters: v, Ballots: b}, nil
}

// UpdateInput is an implementation update on a selected project.
type UpdateInput struct {
	Status string `json:"status" max:"32"`
	Note   string `json:"note" max:"4000"`
}

// UpdateImplementation records a dated public update on a selected project. Status
// moves planned → in_progress → done and never back; repeating a status adds a note.
func (s *Service) UpdateImplementation(ctx context.Context, pr sdk.Principal, cycleID, id string, in UpdateInput) (*Proposal, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	if err := s.can(ctx, pr, PermProjectUpdate, c.nbh()); err != nil {
		return nil, err
	}
	next, ok := implOrder[in.Status]
	if !ok {
		return nil, sdk.InvalidField("status", "must be planned, in_progress or done")
	}
	if c.Phase != PhaseResults && c.Phase != PhaseImplementation {
		return nil, sdk.Errorf(sdk.CodeConflict, "implementation is reported after results; the cycle is in %s", c.Phase)
	}
	now := s.now()
	err = inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		p, err := findProposal(ctx, tx, cycleID, id)
		if err != nil {
			return err
		}
		if p.Implementation == "" {
			return sdk.Errorf(sdk.CodeConflict, "proposal %s was not selected", id)
		}
		if next < implOrder[p.Implementation] {
			return sdk.InvalidField("status", fmt.Sprintf("cannot go back from %s to %s", p.Implementation, in.Status))
		}
		p.Implementation, p.UpdatedAt = in.Status, now
		if err := updateProposal(ctx, tx, p); err != nil {
			return err
		}
		return insertUpdate(ctx, tx, newID(), id, Update{Status: in.Status, Note: strings.TrimSpace(in.Note), At: now})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, EventProjectUpdated, map[string]string{"cycle_id": cycleID, "proposal_id": id, "status": in.Status})
	s.audit(ctx, pr, "budgeting.project.update", c.nbh(), id, map[string]any{"status": in.Status})
	return s.Proposal(ctx, cycleID, id)
}

// EraseUser forgets a deleted user (core.user.deleted) once per event: their name goes
// from proposals, their supports and voter rows keep counting under a pseudonym, and
// the ballots — which never named anyone — stay counted.
func (s *Service) EraseUser(ctx context.Context, eventID, userID string) error {
	return inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if eventID != "" {
			isNew, err := markEvent(ctx, tx, eventID)
			if err != nil || !isNew {
				return err
			}
		}
		return eraseUser(ctx, tx, userID, "erased:"+uuid.NewString())
	})
}
