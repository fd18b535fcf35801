package parks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Decisions: every change of a booking's status — approve, reject, cancel,
// and entering a closure — is a transition, run by one function.

// allowedFrom lists, for each status a booking can move to, the statuses
// it may move from; "" is a booking not stored yet (a closure, which
// starts approved). An approved booking whose end has passed reads as
// completed and moves no more.
var allowedFrom = map[string][]string{
	StatusApproved:  {StatusRequested, ""},
	StatusRejected:  {StatusRequested},
	StatusCancelled: {StatusRequested, StatusApproved},
}

// eventOf is the event each status publishes when a booking of kind event
// moves to it.
var eventOf = map[string]string{
	StatusApproved:  EventApproved,
	StatusRejected:  EventRejected,
	StatusCancelled: EventCancelled,
}

// A transition moves a unit — one booking, a weekly series decided as one,
// or a new closure — to the status to.
type transition struct {
	to     string
	reason string // why, shown to the group; "" for an approval
	actor  string // who decided
	// bookingID names a stored booking, whose whole series moves; create is
	// a new booking instead (a closure).
	bookingID string
	create    *Booking
	// partial moves the dates that may move and keeps the others (a
	// cancelled series keeps its dates that are over); otherwise every date
	// must be allowed to move, or none does.
	partial bool
	// displace, for a new closure, cancels the approved events it overlaps
	// (only their dates it overlaps) instead of being refused.
	displace bool
	// action and detail are written to the audit log.
	action string
	detail map[string]any
}

// transition runs t in one transaction under the park's lock: it loads the
// unit, checks that each move is allowed, checks that an approval still fits
// (no overlap, enough equipment), writes the statuses and occupancy rows,
// rejects the open requests an approval collides with, and emits the events;
// after commit it audits. It returns the booking named
// (or created) as a reader sees it, with the dates of its series.
func (s *Service) transition(ctx context.Context, pr sdk.Principal, park *Park, t transition) (*Booking, error) {
	now := s.now().UTC()
	var unit, moved, rejected []*Booking
	cancelled := 0 // dates a closure displaced
	err := s.st.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.st.lockPark(ctx, tx, park.ID); err != nil {
			return err
		}
		tree, err := parkAreas(ctx, tx, park.ID)
		if err != nil {
			return err
		}
		if unit, err = s.loadUnit(ctx, tx, park, tree, t); err != nil {
			return err
		}
		if moved, err = t.pick(unit, now); err != nil {
			return err
		}
		var displaced []pushedAside
		if t.displace && t.create != nil {
			if displaced, err = s.cancelDisplaced(ctx, tx, tree, moved[0], t, now); err != nil {
				return err
			}
		}
		if t.to == StatusApproved && t.create == nil {
			if err := stillKeepsRules(park, tree, moved); err != nil {
				return err
			}
		}
		if t.to == StatusApproved {
			if err := s.checkUnitFits(ctx, tx, park, tree, moved); err != nil {
				if e := (*sdk.Error)(nil); t.create != nil && errors.As(err, &e) && e.Code == sdk.CodeConflict {
					return sdk.RuleError(sdk.CodeConflict, RuleClosureOverlap, "An approved booking or closure overlaps; cancel it first.")
				}
				return err
			}
		}
		wasApproved := map[string]bool{}
		for _, u := range moved {
			wasApproved[u.ID] = u.Status == StatusApproved
			if err := s.move(ctx, tx, tree, u, t, now); err != nil {
				return err
			}
		}
		var aside []pushedAside
		if t.to == StatusApproved {
			if aside, err = s.rejectColliding(ctx, tx, park, tree, moved, t.actor, now); err != nil {
				return err
			}
		}
		rejected = nil // InTx may run this again
		for _, a := range aside {
			rejected = append(rejected, a.unit...)
		}
		var events []*Booking
		for _, u := range moved {
			if u.Kind == KindEvent {
				events = append(events, u)
			}
		}
		if err := emitEvents(tx, eventOf[t.to], park, tree, events); err != nil {
			return err
		}
		if err := emitEvents(tx, EventRejected, park, tree, rejected); err != nil {
			return err
		}
		cancelled = 0
		for _, d := range displaced {
			cancelled += len(d.unit)
			if err := emitEvents(tx, EventCancelled, park, tree, d.unit); err != nil {
				return err
			}
		}
		return s.notifyDecided(ctx, tx, park, tree, decided{to: t.to, reason: t.reason, actor: t.actor,
			moved: events, wasApproved: wasApproved, aside: append(displaced, aside...)})
	})
	if err != nil {
		return nil, err
	}
	detail := maps.Clone(t.detail)
	if detail == nil {
		detail = map[string]any{}
	}
	detail["dates"], detail["rejected"] = len(moved), len(rejected)
	if t.displace {
		detail["cancelled"] = cancelled
	}
	if t.reason != "" {
		detail["reason"] = t.reason
	}
	target := cmp.Or(t.bookingID, unit[0].ID)
	s.audit(ctx, pr, t.action, parkDomain(park), target, detail)
	return pickView(unit, target, now), nil
}

// loadUnit reads the unit t moves, inside the transaction.
func (s *Service) loadUnit(ctx context.Context, tx *store.Tx, park *Park, tree areaTree, t transition) ([]*Booking, error) {
	if t.create != nil {
		if tree[t.create.AreaID] == nil {
			return nil, invalid("area_id", RuleUnknownArea, "no such area in this park")
		}
		b := *t.create // a copy: InTx may run the transaction again
		return []*Booking{&b}, nil
	}
	b, err := getBooking(ctx, tx, park.ID, t.bookingID)
	if err != nil {
		return nil, err
	}
	return unitOf(ctx, tx, b)
}

// pick returns the members of unit that move.
func (t transition) pick(unit []*Booking, now time.Time) ([]*Booking, error) {
	from := allowedFrom[t.to]
	refuse := func(b *Booking) error {
		if slices.Contains(from, b.Status) && !now.Before(b.End) {
			return sdk.RuleError(sdk.CodeConflict, RuleEnded, "The booking is over and cannot be %s.", t.to)
		}
		return sdk.RuleError(sdk.CodeConflict, RuleStatus, "Booking %s is %s; only %s bookings can be %s.",
			b.ID, b.view(now).Status, strings.Join(slices.DeleteFunc(slices.Clone(from), func(s string) bool { return s == "" }), " or "), t.to)
	}
	var moved []*Booking
	for _, u := range unit {
		ok := slices.Contains(from, u.Status)
		if t.partial {
			ok = ok && now.Before(u.End) // dates that are over stay as they were
		}
		switch {
		case ok:
			moved = append(moved, u)
		case !t.partial:
			return nil, refuse(u)
		}
	}
	if len(moved) == 0 {
		target := unit[0]
		for _, u := range unit {
			if u.ID == t.bookingID {
				target = u
			}
		}
		return nil, refuse(target)
	}
	return moved, nil
}

// move writes one booking's transition: its status (or the new booking),
// and the occupancy rows it takes when approved or frees when it leaves
// approved.
func (s *Service) move(ctx context.Context, tx *store.Tx, tree areaTree, u *Booking, t transition, now time.Time) error {
	from := u.Status
	if from == "" {
		u.Status, u.Reason, u.decidedBy, u.wasApproved = t.to, t.reason, t.actor, t.to == StatusApproved
		if err := insertBooking(ctx, tx, u); err != nil {
			return err
		}
	} else if err := setStatus(ctx, tx, u, from, t.to, t.reason, t.actor, now); err != nil {
		return err
	}
	switch {
	case t.to == StatusApproved:
		return s.st.insertOccupancy(ctx, tx, occupancyRows(tree, u))
	case from == StatusApproved:
		return deleteOccupancy(ctx, tx, u.ID)
	}
	return nil
}

// Approve approves a requested booking — with its whole series — and, in
// the same transaction, rejects every open request it collides with. The
// database refuses an overlap even if two nodes approve at once, so of
// many concurrent approvals of colliding requests exactly one succeeds;
// the others find their request rejected or the place taken.
func (s *Service) Approve(ctx context.Context, pr sdk.Principal, parkID, id string) (*Booking, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.requireManager(ctx, pr, park); err != nil {
		return nil, err
	}
	return s.transition(ctx, pr, park, transition{to: StatusApproved, actor: pr.UserID, bookingID: id,
		action: "parks.booking.approve"})
}

// Reject rejects a requested booking (with its whole series); a reason is
// required so the group learns why.
func (s *Service) Reject(ctx context.Context, pr sdk.Principal, parkID, id, reason string) (*Booking, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.requireManager(ctx, pr, park); err != nil {
		return nil, err
	}
	if reason, err = checkReason(reason); err != nil {
		return nil, err
	}
	return s.transition(ctx, pr, park, transition{to: StatusRejected, reason: reason, actor: pr.UserID, bookingID: id,
		action: "parks.booking.reject"})
}

// Cancel cancels an approved booking or withdraws a request, with its
// whole series (dates already over stay as they were). The group that
// asked or a manager may cancel; a reason is required. The place becomes
// free at once and the public calendar shows the event as cancelled.
func (s *Service) Cancel(ctx context.Context, pr sdk.Principal, parkID, id, reason string) (*Booking, error) {
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if reason, err = checkReason(reason); err != nil {
		return nil, err
	}
	b, err := getBooking(ctx, s.st.db, parkID, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayCancel(ctx, pr, park, b); err != nil {
		return nil, err
	}
	return s.transition(ctx, pr, park, transition{to: StatusCancelled, reason: reason, actor: pr.UserID, bookingID: id,
		partial: true, action: "parks.booking.cancel"})
}

func (s *Service) mayCancel(ctx context.Context, pr sdk.Principal, park *Park, b *Booking) error {
	if b.Kind == KindEvent {
		if b.RequesterID != "" && b.RequesterID == pr.UserID {
			return nil
		}
		if b.OrganisationID != "" && slices.ContainsFunc(pr.Organisations, func(m sdk.OrgMembership) bool {
			return m.OrganisationID == b.OrganisationID && m.Role == "representative"
		}) {
			return nil
		}
	}
	return s.requireManager(ctx, pr, park)
}

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > maxText {
		return "", invalid("reason", RuleReasonRequired, "required")
	}
	return reason, nil
}

// pickView returns booking id of its unit as a reader sees it at now, with
// the dates of its series.
func pickView(unit []*Booking, id string, now time.Time) *Booking {
	out := unit[0]
	for _, u := range unit {
		if u.ID == id {
			out = u
		}
	}
	v := out.view(now)
	v.Series = occurrences(unit, now)
	return v
}

// rejectColliding rejects the open requests that collide with the newly
// approved (or closed) unit, whole series at a time, giving the reason, and
// returns each series with what it collided with.
func (s *Service) rejectColliding(ctx context.Context, tx *store.Tx, park *Park, tree areaTree, unit []*Booking, actor string, now time.Time) ([]pushedAside, error) {
	lo, hi := unit[0].Start, unit[0].End
	for _, u := range unit {
		lo, hi = minTime(lo, u.Start), maxTime(hi, u.End)
	}
	const slack = 24 * time.Hour
	cands, err := requestedBetween(ctx, tx, park.ID, store.Micros(lo.Add(-slack)), store.Micros(hi.Add(slack)))
	if err != nil {
		return nil, err
	}
	loc := park.location()
	var rejected []pushedAside
	done := map[string]bool{}
	for _, c := range cands {
		if done[c.ID] {
			continue
		}
		var hit *Booking
		for _, u := range unit {
			if c.ID != u.ID && collide(tree, c, u) {
				hit = u
				break
			}
		}
		if hit == nil {
			continue
		}
		what := "the approved booking “" + hit.Title + "”"
		if hit.Kind == KindClosure {
			what = "a closure (“" + hit.Title + "”)"
		}
		reason := fmt.Sprintf("Collides with %s in %s on %s.", what, tree[hit.AreaID].Name,
			hit.Start.In(loc).Format("2 January 2006 15:04"))
		cu, err := unitOf(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		var pushed []*Booking
		for _, x := range cu {
			if done[x.ID] || x.Status != StatusRequested {
				continue
			}
			done[x.ID] = true
			if err := setStatus(ctx, tx, x, StatusRequested, StatusRejected, reason, actor, now); err != nil {
				return nil, err
			}
			pushed = append(pushed, x)
		}
		if len(pushed) > 0 {
			rejected = append(rejected, pushedAside{unit: pushed, hit: hit})
		}
	}
	return rejected, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// cancelDisplaced cancels, for a new closure, the dates of approved events it
// overlaps, freeing their places, and returns them by series with the
// closure. Another closure in the way is left for the fit check to refuse.
func (s *Service) cancelDisplaced(ctx context.Context, tx *store.Tx, tree areaTree, closure *Booking, t transition, now time.Time) ([]pushedAside, error) {
	clash, err := clashes(ctx, tx, tree, closure)
	if err != nil {
		return nil, err
	}
	var out []pushedAside
	series := map[string]int{} // series (or booking) ID → index in out
	done := map[string]bool{}
	for _, c := range clash {
		if done[c.BookingID] {
			continue
		}
		done[c.BookingID] = true
		b, err := getBooking(ctx, tx, closure.ParkID, c.BookingID)
		if err != nil {
			return nil, err
		}
		if b.Kind != KindEvent || b.Status != StatusApproved {
			continue
		}
		if err := setStatus(ctx, tx, b, StatusApproved, StatusCancelled, t.reason, t.actor, now); err != nil {
			return nil, err
		}
		if err := deleteOccupancy(ctx, tx, b.ID); err != nil {
			return nil, err
		}
		key := cmp.Or(b.SeriesID, b.ID)
		if i, ok := series[key]; ok {
			out[i].unit = append(out[i].unit, b)
			continue
		}
		series[key] = len(out)
		out = append(out, pushedAside{unit: []*Booking{b}, hit: closure})
	}
	for _, p := range out {
		slices.SortFunc(p.unit, func(a, b *Booking) int { return a.Start.Compare(b.Start) })
	}
	return out, nil
}

// stillKeepsRules refuses to approve a request that no longer fits its area's
// hours and rules as they are now: they may have changed since it was made
// (an edit lists such requests and keeps them, for a manager to settle), and a
// request made before areas inherited their parent's hours may never have fit.
func stillKeepsRules(park *Park, tree areaTree, unit []*Booking) error {
	loc := park.location()
	for _, b := range unit {
		a := tree[b.AreaID]
		if a == nil || b.Kind != KindEvent {
			continue
		}
		var v schedule.Violation
		if err := schedule.CheckFit(a.hours, a.rules, loc, b.Start, b.End); errors.As(err, &v) {
			return sdk.RuleError(sdk.CodeConflict, v.Rule, "%s no longer allows this booking on %s: %s Change the area or reject the request.",
				a.Name, schedule.DateOf(b.Start.In(loc)), v.Message)
		}
	}
	return nil
}
