package budgeting

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/google/uuid"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// BallotInput is a ballot as a voter sends it.
type BallotInput struct {
	Ballot
	// AgeConfirmed is the voter's confirmation of the minimum age, when one is set.
	AgeConfirmed bool `json:"age_confirmed" doc:"The voter confirms the minimum age, when the city set one."`
	// ReplaceToken, when ballots are replaceable, replaces the ballot cast with it.
	ReplaceToken string `json:"replace_token" max:"200" doc:"When ballots are replaceable: the token of the ballot to replace."`
}

// Receipt answers a cast ballot. ReplaceToken is returned only when ballots are
// replaceable; it is the only thing that connects a voter to their ballot, and only the
// voter holds it (the database keeps its hash).
type Receipt struct {
	CycleID      string `json:"cycle_id" format:"uuid"`
	Replaced     bool   `json:"replaced" doc:"This ballot replaced the voter's earlier one."`
	ReplaceToken string `json:"replace_token,omitempty" doc:"When ballots are replaceable: the only link between the voter and the ballot; keep it to replace the ballot."`
}

// onBallot maps the projects on a cycle's ballot to their final costs.
func onBallot(ctx context.Context, db q, cycleID string) (map[string]int64, []*Proposal, error) {
	ps, err := listProposals(ctx, db, cycleID, StatusFeasible)
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

// checkAge applies the minimum voting age. An age the city's identity provider
// vouched for decides when the host passes one, and then the voter need confirm
// nothing; the voter's own confirmation stands in only when there is none.
func checkAge(pr sdk.Principal, confirmed bool, minAge int) error {
	ok, verified := pr.OldEnough(minAge, confirmed)
	switch {
	case ok:
		return nil
	case verified:
		// Not a field to correct: this person may not vote in the cycle.
		return sdk.Errorf(sdk.CodeForbidden, "voters must be at least %d years old; by the birth date the city's identity service verified, you are younger", minAge)
	}
	return ruleError("min_age", "age_confirmed", "voters must be at least %d; confirm with age_confirmed", minAge)
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
	if err := checkAge(pr, in.AgeConfirmed, s.settings.MinAge); err != nil {
		return nil, err
	}
	b, err := validateBallot(c.Ballot, in.Ballot, projects)
	if err != nil {
		return nil, err
	}
	// Sealed here, before anything reaches the database: the voter row is written in
	// the same transaction, so only ciphertext may stand next to it (DESIGN.md §13).
	content, _ := json.Marshal(b)
	sealed, err := s.box.Seal(ctx, cycleID, content, sealedSize(projects))
	if err != nil {
		return nil, fmt.Errorf("seal ballot: %w", err)
	}
	rc := &Receipt{CycleID: cycleID}
	var token, hash string
	if s.settings.BallotReplaceable {
		token = randomToken()
		hash = hashToken(token)
	}
	switch outcome, err := s.dialect.castFirst(ctx, s.db, cycleID, pr.UserID, uuid.NewString(), hash, sealed); {
	case err != nil:
		return nil, err
	case outcome == castClosed:
		return nil, sdk.Errorf(sdk.CodeConflict, "voting closed")
	case outcome == castRecorded:
		rc.ReplaceToken = token
		return rc, nil
	}
	// Not tried, or already voted: refuse or replace in the transaction below.
	st, err := prepareCast(ctx, s.db)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// The voter row, only while voting is open: a first ballot costs two
		// statements.
		first, err := st.insertVoter(ctx, tx.Tx, cycleID, pr.UserID)
		if err != nil {
			return err
		}
		if !first {
			phase, err := cyclePhase(ctx, tx, cycleID)
			if err != nil {
				return err
			}
			if phase != PhaseVoting {
				return sdk.Errorf(sdk.CodeConflict, "voting closed")
			}
			if !s.settings.BallotReplaceable || in.ReplaceToken == "" {
				return sdk.Errorf(sdk.CodeConflict, "you have already voted in this cycle")
			}
			ok, err := replaceBallot(ctx, tx, cycleID, hashToken(in.ReplaceToken), sealed)
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
		return st.insertSealed(ctx, tx.Tx, cycleID, uuid.NewString(), hash, sealed)
	})
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// sealedSize is the padded size of every sealed ballot of a cycle: more than the
// longest ballot its projects allow (each project at most once, with at most 20 digits
// of points), so that a sealed ballot's length says nothing about how many projects,
// or which, it chose. It depends only on the projects on the ballot, which are final
// from the voting phase on, so every node pads a cycle's ballots alike.
func sealedSize(projects map[string]int64) int {
	n := len(`{"projects":[]}{"points":{}}`)
	for id := range projects {
		n += len(id) + len(`"":-12345678901234567890,`)
	}
	return n
}

// openSealed moves a cycle's online ballots out of their seals as voting closes, in
// the transaction that closes it: the host opens them in batches, they are shuffled
// (crypto/rand) and written in the clear with new random IDs, and the sealed rows are
// deleted. A ballot still committing that read the phase before the close changed it
// is waited for first (dialectSQL.lockForClose). A ballot that does not open stops the
// close, which changes nothing.
func (s *Service) openSealed(ctx context.Context, tx *store.Tx, cycleID string) error {
	if err := s.dialect.lockForClose(ctx, tx.Tx); err != nil {
		return err
	}
	sealed, err := sealedBallots(ctx, tx, cycleID)
	if err != nil {
		return err
	}
	opened, err := s.box.Open(ctx, cycleID, sealed, func(o []byte) error {
		var b Ballot
		if err := json.Unmarshal(o, &b); err != nil {
			return fmt.Errorf("not a ballot: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("close voting of %s: %w", cycleID, err)
	}
	return replaceSealed(ctx, tx.Tx, cycleID, opened)
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
	c, err := s.cycleFor(ctx, pr, cycleID, PermBallotPaper)
	if err != nil {
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
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := findResult(ctx, tx, cycleID); err == nil {
			return sdk.Errorf(sdk.CodeConflict, "results are already published")
		}
		// A preview counted the ballots before these; publishing it would leave them out.
		if err := deletePreview(ctx, tx, cycleID); err != nil {
			return err
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
	Voters  int64 `json:"voters" doc:"People who voted online."`
	Ballots int64 `json:"ballots" doc:"Ballots: online, on paper and imported."`
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

// Ballot rule names, used in errors so a client can tell which rule a ballot broke.
const (
	RuleType          = "type"            // the ballot's shape does not match the cycle's type
	RuleKnownProjects = "known_projects"  // a project is unknown or not on the ballot
	RuleNoDuplicates  = "no_duplicates"   // a project appears twice
	RuleMin           = "min"             // fewer projects than the minimum
	RuleMax           = "max"             // more projects than the maximum
	RuleMaxCost       = "max_cost"        // chosen projects cost more than the limit
	RulePoints        = "points"          // more points than the cycle hands out
	RuleMaxPerProject = "max_per_project" // one project got more than its maximum
	RulePositive      = "positive_points" // points must be whole numbers above zero
)

// validateRules checks a cycle's ballot rules and fills in their defaults.
func validateRules(r *BallotRules) error {
	switch r.Type {
	case BallotApproval, BallotOrdinal:
		if r.Points != 0 || r.MaxPerProject != 0 {
			return sdk.InvalidField("ballot.points", "only cumulative ballots have points")
		}
	case BallotCumulative:
		if r.Points <= 0 {
			return sdk.InvalidField("ballot.points", "a cumulative ballot needs points > 0 to distribute")
		}
		if r.MaxPerProject < 0 || r.MaxPerProject > r.Points {
			return sdk.InvalidField("ballot.max_per_project", "must be between 0 (no cap) and points")
		}
		if r.MaxCost != 0 {
			return sdk.InvalidField("ballot.max_cost", "only approval ballots have a cost limit")
		}
	default:
		return sdk.Invalid("ballot.type", sdk.RuleOneOf, "must be approval, cumulative or ordinal")
	}
	if r.Type == BallotOrdinal && r.MaxCost != 0 {
		return sdk.InvalidField("ballot.max_cost", "only approval ballots have a cost limit")
	}
	switch {
	case r.Type == BallotOrdinal && r.Count == "":
		r.Count = CountBorda
	case r.Type == BallotOrdinal && r.Count != CountBorda && r.Count != CountApprovals:
		return sdk.Invalid("ballot.count", sdk.RuleOneOf, "must be borda or approvals")
	case r.Type != BallotOrdinal && r.Count != "":
		return sdk.InvalidField("ballot.count", "only ordinal ballots are counted by rank")
	}
	if r.Min == 0 {
		r.Min = 1
	}
	if r.Min < 0 || r.Max < 0 {
		return sdk.Invalid("ballot.min", sdk.RuleRange, "min and max must not be negative")
	}
	if r.Max != 0 && r.Max < r.Min {
		return sdk.InvalidField("ballot.max", "must be at least min (or 0 for no maximum)")
	}
	if r.MaxCost < 0 {
		return sdk.Invalid("ballot.max_cost", sdk.RuleRange, "must not be negative")
	}
	return nil
}

// validateBallot checks b against the cycle's rules. onBallot maps the IDs of the
// projects on the ballot to their final costs. It returns the ballot in canonical form:
// approval projects sorted (the order carries no meaning and must not hint at anything),
// ordinal ranking as given, cumulative points without zero entries.
func validateBallot(r BallotRules, b Ballot, onBallot map[string]int64) (Ballot, error) {
	switch r.Type {
	case BallotApproval, BallotOrdinal:
		if len(b.Points) > 0 {
			return Ballot{}, ruleError(RuleType, "points", "a %s ballot lists projects, not points", r.Type)
		}
		seen := make(map[string]bool, len(b.Projects))
		var cost int64
		for _, id := range b.Projects {
			c, ok := onBallot[id]
			if !ok {
				return Ballot{}, ruleError(RuleKnownProjects, "projects", "project %q is not on this ballot", id)
			}
			if seen[id] {
				return Ballot{}, ruleError(RuleNoDuplicates, "projects", "project %q is listed twice", id)
			}
			seen[id] = true
			cost += c
		}
		n := len(b.Projects)
		if n < max(r.Min, 1) {
			return Ballot{}, ruleError(RuleMin, "projects", "choose at least %d project(s), got %d", max(r.Min, 1), n)
		}
		if r.Max > 0 && n > r.Max {
			return Ballot{}, ruleError(RuleMax, "projects", "choose at most %d project(s), got %d", r.Max, n)
		}
		if r.MaxCost > 0 && cost > r.MaxCost {
			return Ballot{}, ruleError(RuleMaxCost, "projects", "chosen projects cost %d, more than the limit of %d", cost, r.MaxCost)
		}
		out := Ballot{Projects: append([]string(nil), b.Projects...)}
		if r.Type == BallotApproval {
			sort.Strings(out.Projects)
		}
		return out, nil
	case BallotCumulative:
		if len(b.Projects) > 0 {
			return Ballot{}, ruleError(RuleType, "projects", "a cumulative ballot gives points, not a list of projects")
		}
		perMax := r.MaxPerProject
		if perMax == 0 {
			perMax = r.Points
		}
		var sum int64
		out := Ballot{Points: make(map[string]int64, len(b.Points))}
		for id, pts := range b.Points {
			if _, ok := onBallot[id]; !ok {
				return Ballot{}, ruleError(RuleKnownProjects, "points", "project %q is not on this ballot", id)
			}
			if pts <= 0 {
				return Ballot{}, ruleError(RulePositive, "points", "project %q: points must be above zero, got %d", id, pts)
			}
			if pts > perMax {
				return Ballot{}, ruleError(RuleMaxPerProject, "points", "project %q: at most %d points per project, got %d", id, perMax, pts)
			}
			sum += pts
			out.Points[id] = pts
		}
		if len(out.Points) < max(r.Min, 1) {
			return Ballot{}, ruleError(RuleMin, "points", "give points to at least %d project(s), got %d", max(r.Min, 1), len(out.Points))
		}
		if r.Max > 0 && len(out.Points) > r.Max {
			return Ballot{}, ruleError(RuleMax, "points", "give points to at most %d project(s), got %d", r.Max, len(out.Points))
		}
		if sum > r.Points {
			return Ballot{}, ruleError(RulePoints, "points", "at most %d points in total, got %d", r.Points, sum)
		}
		return out, nil
	}
	return Ballot{}, ruleError(RuleType, "type", "unknown ballot type %q", r.Type)
}
