package budgeting

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// CreateCycleInput is what an officer gives to open a cycle.
type CreateCycleInput struct {
	ParentID        string      `json:"parent_id" max:"64" doc:"A grouping cycle this one belongs to (one pot of a city-wide budget), or empty."`
	NeighbourhoodID string      `json:"neighbourhood_id" max:"64" doc:"The neighbourhood whose residents propose and vote."`
	Name            string      `json:"name" max:"200" example:"Vesterbro 2026"`
	Budget          int64       `json:"budget" min:"0" doc:"The money to spend, in minor units of currency." example:"50000000"`
	Currency        string      `json:"currency" max:"3" doc:"ISO 4217 code." example:"DKK"`
	Ballot          BallotRules `json:"ballot"`
	SupportTopN     int         `json:"support_top_n" min:"0" max:"100000" doc:"How many ideas go forward from the support phase; 0 keeps all (and skips nothing)."`
	Simulation      bool        `json:"simulation" doc:"A simulation cycle takes an imported .pb file instead of votes."`
	// MESIntegral is Cycle.MESIntegral; absent means true.
	MESIntegral *bool       `json:"mes_integral" doc:"Start the Method of Equal Shares' add1 completion from a whole currency unit per voter, as equalshares.net does; absent means true."`
	Phases      PhaseStarts `json:"phases"`
	Country     string      `json:"country" max:"100" doc:"The country, in English (Pabulib exports name it); empty is exported as Worldwide." example:"Denmark"`
}

// PhaseStarts schedules phases: the start of each, in phase order. The background tick
// moves the cycle into the latest phase whose start has passed.
type PhaseStarts map[Phase]*time.Time

// OpenAPISchema describes PhaseStarts: the reflected schema of a time has no length,
// and a request's text must state one.
func (PhaseStarts) OpenAPISchema() map[string]any {
	return map[string]any{
		"type":                 "object",
		"description":          "When scheduled phases start (RFC 3339), by phase (" + strings.Join(phaseNames(), ", ") + "); they must start in phase order.",
		"additionalProperties": map[string]any{"type": "string", "format": "date-time", "maxLength": 40, "nullable": true},
		"example":              map[string]any{string(PhaseVoting): "2026-05-01T00:00:00Z", string(PhaseResults): "2026-05-15T00:00:00Z"},
	}
}

// schedule adds to sched the starts ps gives for the phases after the one at index
// from (-1 for all of them), checking that they are phases still ahead, in order.
func (ps PhaseStarts) schedule(sched map[Phase]time.Time, from int) error {
	for p := range ps {
		if p.index() < 0 {
			return sdk.Invalid("phases", sdk.RuleOneOf, fmt.Sprintf("unknown phase %q", p))
		}
		if p.index() <= from {
			return sdk.InvalidField("phases."+string(p), "only the phases still ahead can be scheduled")
		}
	}
	var last time.Time
	for _, p := range Phases[from+1:] {
		t, ok := ps[p]
		if !ok || t == nil {
			continue
		}
		if t.Before(last) {
			return sdk.InvalidField("phases."+string(p), "phases must start in order")
		}
		last = *t
		sched[p] = t.UTC().Truncate(time.Microsecond)
	}
	return nil
}

// CreateCycle opens a cycle in the ideas phase.
func (s *Service) CreateCycle(ctx context.Context, pr sdk.Principal, in CreateCycleInput) (*Cycle, error) {
	if in.NeighbourhoodID == "" {
		return nil, sdk.Invalid("neighbourhood_id", sdk.RuleRequired, "is required")
	}
	if err := s.can(ctx, pr, PermCycleManage, "nbh:"+in.NeighbourhoodID); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, sdk.Invalid("name", sdk.RuleRequired, "is required")
	}
	if in.Budget <= 0 {
		return nil, sdk.Invalid("budget", sdk.RuleRange, "must be a positive number of minor units")
	}
	if !validCurrency(in.Currency) {
		return nil, sdk.Invalid("currency", sdk.RuleFormat, "must be an ISO 4217 code such as EUR")
	}
	if err := validateRules(&in.Ballot); err != nil {
		return nil, err
	}
	if in.SupportTopN < 0 {
		return nil, sdk.Invalid("support_top_n", sdk.RuleRange, "must not be negative")
	}
	nbhs, err := s.host.Neighbourhoods(ctx, []string{in.NeighbourhoodID})
	if err != nil {
		return nil, fmt.Errorf("look up neighbourhood: %w", err)
	}
	if len(nbhs) == 0 {
		return nil, sdk.Invalid("neighbourhood_id", sdk.RuleExists, "no such neighbourhood")
	}
	now := s.now()
	c := &Cycle{
		ID: newID(), ParentID: in.ParentID, NeighbourhoodID: in.NeighbourhoodID, Name: in.Name,
		Budget: in.Budget, Currency: in.Currency, Ballot: in.Ballot, SupportTopN: in.SupportTopN,
		Simulation: in.Simulation, MESIntegral: in.MESIntegral == nil || *in.MESIntegral, Country: strings.TrimSpace(in.Country),
		Phase: PhaseIdeas, Schedule: map[Phase]time.Time{},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := in.Phases.schedule(c.Schedule, -1); err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if c.ParentID != "" {
			if _, err := findCycle(ctx, tx, c.ParentID); err != nil {
				return sdk.Invalid("parent_id", sdk.RuleExists, "no such cycle")
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

// Cycles lists cycles a page at a time, in the order they were created.
func (s *Service) Cycles(ctx context.Context, f CycleFilter, q sdk.ListQuery) (sdk.Page[*Cycle], error) {
	cycles, err := listCycles(ctx, s.db, f, q)
	if err != nil {
		return sdk.Page[*Cycle]{}, err
	}
	return sdk.NewPage(cycles, q, func(c *Cycle) []any { return []any{c.ID} }), nil
}

// SetPhase moves a cycle forward by hand (an officer closing voting early, say).
func (s *Service) SetPhase(ctx context.Context, pr sdk.Principal, id string, to Phase) (*Cycle, error) {
	if to.index() < 0 {
		return nil, sdk.Invalid("phase", sdk.RuleOneOf, "must be one of ideas, support, review, voting, results, implementation")
	}
	c, err := s.cycleFor(ctx, pr, id, PermCycleManage)
	if err != nil {
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

// move changes c's phase in a transaction of its own.
func (s *Service) move(ctx context.Context, c *Cycle, to Phase) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error { return s.moveTx(ctx, tx, c, to) })
}

// moveTx changes c's phase in tx, applies what leaving the old phase implies and
// emits the change.
func (s *Service) moveTx(ctx context.Context, tx *store.Tx, c *Cycle, to Phase) error {
	from, now := c.Phase, s.now()
	moved := *c
	moved.Phase = to
	ok, err := movePhase(ctx, tx, c.ID, from, to, moved.nextAt(), now)
	if err != nil {
		return err
	}
	if !ok {
		return sdk.Errorf(sdk.CodeConflict, "cycle %s changed phase meanwhile", c.ID)
	}
	if err := markVoting(ctx, tx, c.ID, from, to, now); err != nil {
		return err
	}
	switch {
	case from == PhaseSupport && c.SupportTopN > 0:
		err = shortlist(ctx, tx, c, now)
	case from == PhaseVoting:
		err = s.openSealed(ctx, tx, c.ID)
	}
	if err != nil {
		return err
	}
	if err := s.notifyPhase(ctx, tx, c, to); err != nil {
		return err
	}
	return tx.Emit(EventPhaseChanged, PhaseChanged{CycleID: c.ID, NeighbourhoodID: c.NeighbourhoodID, From: from, To: to})
}

// shortlist keeps the SupportTopN most supported ideas. Ideas level with the last one
// kept go forward too: cutting between equals would be an arbitrary choice.
func shortlist(ctx context.Context, tx q, c *Cycle, now time.Time) error {
	ps, err := listProposals(ctx, tx, c.ID, StatusSubmitted)
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
