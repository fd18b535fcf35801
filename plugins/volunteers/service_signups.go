package volunteers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/plugins/volunteers/roster"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Application statuses. A volunteer applies (or is invited), the organiser accepts, the
// volunteer confirms and is then either confirmed or, when the shift is full, wait-listed.
const (
	StatusApplied    = "applied"
	StatusInvited    = "invited"
	StatusAccepted   = "accepted"
	StatusConfirmed  = "confirmed"
	StatusWaitlisted = "waitlisted"
	StatusDeclined   = "declined"
	StatusWithdrawn  = "withdrawn"
	StatusAttended   = "attended"
	StatusNoShow     = "no_show"
)

// heldStatuses take a place on a shift: attendance is recorded on confirmed places, so
// recording it must not free the place for the wait list.
var heldStatuses = []string{StatusConfirmed, StatusAttended, StatusNoShow}

// Application is one volunteer's sign-up for one shift.
type Application struct {
	ID            string    `json:"id" format:"uuid"`
	OpportunityID string    `json:"opportunity_id" format:"uuid"`
	ShiftID       string    `json:"shift_id" format:"uuid"`
	VolunteerID   string    `json:"volunteer_id"`
	Status        string    `json:"status" enum:"applied,invited,accepted,confirmed,waitlisted,declined,withdrawn,attended,no_show"`
	Origin        string    `json:"origin" enum:"applied,invited" doc:"Whether the volunteer applied or was invited"`
	Minutes       int       `json:"minutes" doc:"Minutes worked, once attendance is recorded"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	// waitlistedAt is when the application joined the wait list; zero when it never did.
	waitlistedAt time.Time
}

// signupRules are the hard rules checked when a volunteer applies or is invited. The
// person's own availability is left to them when they apply themselves: applying says
// they are free. Their weekly hours limit is not: it is checked whenever a place is
// taken or promised (placeRules). An organiser may invite only someone the matcher
// finds fully eligible.
var signupRules = []match.Rule{match.RuleAge, match.RuleBackgroundCheck, match.RuleRequiredSkills, match.RuleOverlap}

// placeRules are checked, with the volunteer's profile row locked, in the transaction
// that confirms a place (auto-accepted sign-up, confirm) or accepts an application, so
// two bookings of one person cannot both pass on a view that misses the other.
var placeRules = []match.Rule{match.RuleOverlap, match.RuleWeeklyHours}

// eligible checks a volunteer against the shift's hard rules with a fresh one-person
// index, so the answer reflects this transaction's view, not the cache. It locks the
// volunteer's profile row until commit, which serialises one person's bookings on
// PostgreSQL; callers lock the shift first, so locks are always taken shift, then person.
func (s *Service) eligible(ctx context.Context, q queryer, volunteerID string, o Opportunity, shiftID string, rules []match.Rule) error {
	prof, err := s.st.lockProfile(ctx, q, volunteerID)
	if err != nil {
		if errorCode(err) == sdk.CodeNotFound {
			return sdk.Errorf(sdk.CodeConflict, "volunteer %s has no volunteer profile; create one first", volunteerID)
		}
		return err
	}
	mp := matchProfile(prof)
	mine, err := s.st.applicationsBy(ctx, q, volunteerID)
	if err != nil {
		return err
	}
	var held []string
	for _, a := range mine {
		if slices.Contains(heldStatuses, a.Status) {
			held = append(held, a.OpportunityID)
		}
	}
	if len(held) > 0 {
		shifts, err := s.st.shiftsOf(ctx, q, dedupe(held))
		if err != nil {
			return err
		}
		heldShift := map[string]bool{}
		for _, a := range mine {
			if slices.Contains(heldStatuses, a.Status) {
				heldShift[a.ShiftID] = true
			}
		}
		for _, l := range shifts {
			for _, sh := range l {
				if heldShift[sh.ID] {
					mp.Commitments = append(mp.Commitments, match.Interval{Start: sh.Start, End: sh.End})
				}
			}
		}
	}
	ix, err := match.NewIndex(s.cfg.Location, []match.Profile{mp})
	if err != nil {
		return fmt.Errorf("build index: %w", err)
	}
	mo := matchOpportunity(o)
	v, err := ix.Explain(volunteerID, &mo, shiftID, match.Options{})
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	f := map[string]string{}
	for _, r := range v.Failed {
		if slices.Contains(rules, r) {
			f[string(r)] = ruleMessages[r]
		}
	}
	if _, ok := f[string(match.RuleWeeklyHours)]; ok {
		f[string(match.RuleWeeklyHours)] = s.weeklyMessage(mp, shiftID, o)
	}
	if len(f) > 0 {
		names := make([]string, 0, len(f))
		for k := range f {
			names = append(names, k)
		}
		slices.Sort(names)
		return &sdk.Error{Code: sdk.CodeConflict, Message: "not eligible for this shift: " + strings.Join(names, ", "), Fields: f}
	}
	return nil
}

// weeklyMessage says by how much a shift would break the volunteer's weekly limit.
func (s *Service) weeklyMessage(mp match.Profile, shiftID string, o Opportunity) string {
	sh, _ := findShift(o, shiftID)
	wk := roster.WeekOf(sh.Start, s.cfg.Location)
	var committed time.Duration
	for _, c := range mp.Commitments {
		if roster.WeekOf(c.Start, s.cfg.Location) == wk {
			committed += c.End.Sub(c.Start)
		}
	}
	return fmt.Sprintf("%s (%s): %s already committed in week %d of %d, this shift %s",
		ruleMessages[match.RuleWeeklyHours], hoursText(mp.MaxWeekly), hoursText(committed), wk.Week, wk.Year,
		hoursText(sh.End.Sub(sh.Start)))
}

func hoursText(d time.Duration) string {
	return strconv.FormatFloat(d.Hours(), 'f', -1, 64) + " h"
}

// openShift checks that the opportunity takes sign-ups for the shift now.
func (s *Service) openShift(o Opportunity, shiftID string) (Shift, error) {
	sh, err := findShift(o, shiftID)
	if err != nil {
		return Shift{}, err
	}
	switch o.State {
	case StatePublished:
	case StateCancelled:
		return Shift{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is cancelled", o.ID)
	default:
		return Shift{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is %s, not open for sign-ups", o.ID, o.State)
	}
	if !sh.Start.After(s.clock()) {
		return Shift{}, sdk.Errorf(sdk.CodeConflict, "shift %s has already started", shiftID)
	}
	return sh, nil
}

// Apply signs the caller up for a shift. On an auto-accept opportunity the application is
// accepted and confirmed at once, or wait-listed when the shift is full.
func (s *Service) Apply(ctx context.Context, p sdk.Principal, oppID, shiftID string) (Application, error) {
	if err := requireUser(p); err != nil {
		return Application{}, err
	}
	o, err := s.st.opportunity(ctx, s.st.db, oppID)
	if err != nil {
		return Application{}, err
	}
	if _, err := s.openShift(o, shiftID); err != nil {
		return Application{}, err
	}
	now := s.clock()
	a := Application{ID: newID(), OpportunityID: oppID, ShiftID: shiftID, VolunteerID: p.UserID,
		Status: StatusApplied, Origin: StatusApplied, CreatedAt: now, UpdatedAt: now}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		// Lock the shift before inserting: on PostgreSQL the insert's foreign key takes a
		// share lock on the shift row, and two sign-ups upgrading their share locks to the
		// update lock in take would deadlock.
		if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
			return err
		}
		rules := signupRules
		if o.AutoAccept {
			// The sign-up takes a place (or a wait-list spot promoted without asking).
			rules = append(slices.Clone(signupRules), placeRules...)
		}
		if err := s.eligible(ctx, tx, p.UserID, o, shiftID, rules); err != nil {
			return err
		}
		if err := s.st.insertApplication(ctx, tx, a); err != nil {
			return err
		}
		// Signing up follows the opportunity.
		if err := tx.Follow(ctx, p.UserID, opportunitySubject(oppID), true); err != nil {
			return err
		}
		if !o.AutoAccept {
			return nil
		}
		return s.take(ctx, tx, a, []string{StatusApplied}, now)
	})
	if err != nil {
		return Application{}, err
	}
	return s.st.application(ctx, s.st.db, a.ID)
}

// Invite asks a matched volunteer to take a shift; the volunteer confirms or withdraws.
func (s *Service) Invite(ctx context.Context, p sdk.Principal, oppID, shiftID, volunteerID string) (Application, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Application{}, err
	}
	sh, err := s.openShift(o, shiftID)
	if err != nil {
		return Application{}, err
	}
	if volunteerID == "" {
		return Application{}, invalid("volunteer_id", "required", RuleRequired)
	}
	org, err := s.organisationName(ctx, o.OrganisationID)
	if err != nil {
		return Application{}, err
	}
	var a Application
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		a, err = s.invite(ctx, tx, o, sh, volunteerID, org)
		return err
	})
	if err != nil {
		return Application{}, err
	}
	return s.st.application(ctx, s.st.db, a.ID)
}

// inviteRules are checked before an organiser invites: an invitation asks someone the
// matcher finds fully eligible, their own availability included.
var inviteRules = append(slices.Clone(signupRules), match.RuleAvailability, match.RuleDateUnavailable, match.RuleWeeklyHours)

// invite writes an invitation in tx: the shift locked, the volunteer checked against
// inviteRules, the event and the notification with it.
func (s *Service) invite(ctx context.Context, tx *store.Tx, o Opportunity, sh Shift, volunteerID, org string) (Application, error) {
	now := s.clock()
	a := Application{ID: newID(), OpportunityID: o.ID, ShiftID: sh.ID, VolunteerID: volunteerID,
		Status: StatusInvited, Origin: StatusInvited, CreatedAt: now, UpdatedAt: now}
	if _, err := s.st.lockShift(ctx, tx, sh.ID); err != nil {
		return Application{}, err
	}
	if err := s.eligible(ctx, tx, volunteerID, o, sh.ID, inviteRules); err != nil {
		return Application{}, err
	}
	if err := s.st.insertApplication(ctx, tx, a); err != nil {
		return Application{}, err
	}
	if err := tx.Emit(EventApplicationInvited, appEvent(a)); err != nil {
		return Application{}, err
	}
	return a, s.tell(ctx, tx, NotifyInvited, o, sh, sdk.Notification{Recipients: []string{volunteerID}},
		map[string]any{"Org": org})
}

func appEvent(a Application) ApplicationChanged {
	return ApplicationChanged{ApplicationID: a.ID, OpportunityID: a.OpportunityID, ShiftID: a.ShiftID, VolunteerID: a.VolunteerID}
}

// take gives a the shift's next place or puts it on the wait list, and emits what
// happened in the same transaction. The shift row is locked first, so concurrent takers
// of one shift queue and each counts the others' committed places.
func (s *Service) take(ctx context.Context, tx *store.Tx, a Application, from []string, now time.Time) error {
	capacity, err := s.st.lockShift(ctx, tx, a.ShiftID)
	if err != nil {
		return err
	}
	ok, err := s.st.confirmIfRoom(ctx, tx, a.ID, a.ShiftID, from, now)
	if err != nil {
		return err
	}
	if !ok {
		moved, err := s.st.waitlist(ctx, tx, a.ID, from, now)
		if err != nil {
			return err
		}
		if !moved {
			return sdk.Errorf(sdk.CodeConflict, "application %s changed meanwhile; reload and retry", a.ID)
		}
		return tx.Emit(EventAssignmentWaitlisted, appEvent(a))
	}
	if err := s.st.bumpVersion(ctx, tx); err != nil {
		return err
	}
	if err := tx.Emit(EventAssignmentConfirmed, appEvent(a)); err != nil {
		return err
	}
	// A confirmed place is told even to the volunteer who just confirmed it: it is
	// their receipt, with the shift's time.
	if err := s.tellVolunteer(ctx, tx, NotifyConfirmed, a, nil); err != nil {
		return err
	}
	held, err := s.st.held(ctx, tx, a.ShiftID)
	if err != nil {
		return err
	}
	if held >= capacity {
		return tx.Emit(EventShiftFilled, ShiftFilled{OpportunityID: a.OpportunityID, ShiftID: a.ShiftID, Capacity: capacity})
	}
	return nil
}

// promote fills free places of a shift from its wait list, longest waiting first, and
// emits each promotion. Each volunteer's place rules (overlap, weekly hours limit) are
// checked again, with their profile row locked: they may have taken other shifts while
// waiting. One who no longer fits stays on the wait list and the next one moves up.
func (s *Service) promote(ctx context.Context, tx *store.Tx, shiftID string, now time.Time) error {
	waiting, err := s.st.selectApplications(ctx, tx, `WHERE shift_id = ? AND status = 'waitlisted' ORDER BY waitlisted_at, id`, shiftID)
	if err != nil || len(waiting) == 0 {
		return err
	}
	o, err := s.st.opportunity(ctx, tx, waiting[0].OpportunityID)
	if err != nil {
		return err
	}
	for _, next := range waiting {
		sh, err := findShift(o, shiftID)
		if err != nil {
			return err
		}
		if sh.Taken >= sh.Capacity {
			return nil
		}
		if err := s.eligible(ctx, tx, next.VolunteerID, o, shiftID, placeRules); err != nil {
			if errorCode(err) == sdk.CodeConflict {
				continue // no longer fits this week: keeps waiting
			}
			return err
		}
		done, err := s.st.confirmIfRoom(ctx, tx, next.ID, shiftID, []string{StatusWaitlisted}, now)
		if err != nil || !done {
			return err
		}
		if err := s.st.bumpVersion(ctx, tx); err != nil {
			return err
		}
		if err := tx.Emit(EventAssignmentPromoted, appEvent(next)); err != nil {
			return err
		}
		if err := tx.Emit(EventAssignmentConfirmed, appEvent(next)); err != nil {
			return err
		}
		if err := s.tellVolunteer(ctx, tx, NotifyPromoted, next, nil); err != nil {
			return err
		}
		// The counts moved: read them again for the next place.
		if o, err = s.st.opportunity(ctx, tx, o.ID); err != nil {
			return err
		}
	}
	return nil
}

// Actions on an application.
const (
	ActionAccept   = "accept"
	ActionDecline  = "decline"
	ActionConfirm  = "confirm"
	ActionWithdraw = "withdraw"
)

// decisionEvents announce the status a decision sets; a confirmation is announced by
// take (confirmed or wait-listed).
var decisionEvents = map[string]string{
	StatusAccepted:  EventApplicationAccepted,
	StatusDeclined:  EventApplicationDeclined,
	StatusWithdrawn: EventApplicationWithdrawn,
}

// Decide applies an organiser's (accept, decline) or volunteer's (confirm, withdraw)
// decision to an application.
func (s *Service) Decide(ctx context.Context, p sdk.Principal, oppID, shiftID, appID, action string) (Application, error) {
	if err := requireUser(p); err != nil {
		return Application{}, err
	}
	a, err := s.st.application(ctx, s.st.db, appID)
	if err != nil {
		return Application{}, err
	}
	if a.OpportunityID != oppID || a.ShiftID != shiftID {
		return Application{}, sdk.Errorf(sdk.CodeNotFound, "application %s not found on shift %s", appID, shiftID)
	}
	o, err := s.st.opportunity(ctx, s.st.db, oppID)
	if err != nil {
		return Application{}, err
	}
	now := s.clock()
	var (
		from []string
		to   string
	)
	switch action {
	case ActionAccept, ActionDecline:
		if err := s.canOrganise(ctx, p, o.OrganisationID); err != nil {
			return Application{}, err
		}
		from, to = []string{StatusApplied}, StatusAccepted
		if action == ActionDecline {
			from, to = []string{StatusApplied, StatusAccepted, StatusWaitlisted}, StatusDeclined
		}
	case ActionConfirm, ActionWithdraw:
		if a.VolunteerID != p.UserID {
			return Application{}, sdk.Errorf(sdk.CodeForbidden, "only the volunteer may %s their own sign-up", action)
		}
		from = []string{StatusAccepted, StatusInvited}
		if action == ActionWithdraw {
			from, to = []string{StatusApplied, StatusInvited, StatusAccepted, StatusConfirmed, StatusWaitlisted}, StatusWithdrawn
		}
	default:
		return Application{}, sdk.Errorf(sdk.CodeNotFound, "unknown action %q", action)
	}
	if !slices.Contains(from, a.Status) {
		return Application{}, sdk.Errorf(sdk.CodeConflict, "cannot %s an application that is %s", action, a.Status)
	}
	if action != ActionWithdraw && action != ActionDecline {
		if _, err := s.openShift(o, shiftID); err != nil {
			return Application{}, err
		}
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		if action == ActionConfirm {
			if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
				return err
			}
			if err := s.eligible(ctx, tx, a.VolunteerID, o, shiftID, placeRules); err != nil {
				return err
			}
			// Confirming an invitation signs up, which follows the opportunity.
			if err := tx.Follow(ctx, a.VolunteerID, opportunitySubject(oppID), true); err != nil {
				return err
			}
			return s.take(ctx, tx, a, from, now)
		}
		// Lock the shift, then re-read: a promotion or another decision may have moved
		// the application since it was read outside the transaction.
		if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
			return err
		}
		cur, err := s.st.application(ctx, tx, appID)
		if err != nil {
			return err
		}
		if !slices.Contains(from, cur.Status) {
			return sdk.Errorf(sdk.CodeConflict, "cannot %s an application that is %s", action, cur.Status)
		}
		if action == ActionAccept {
			if err := s.eligible(ctx, tx, a.VolunteerID, o, shiftID, []match.Rule{match.RuleWeeklyHours}); err != nil {
				return err
			}
		}
		wasHeld := cur.Status == StatusConfirmed
		ok, err := s.st.setStatus(ctx, tx, appID, []string{cur.Status}, to, 0, now)
		if err != nil {
			return err
		}
		if !ok {
			return sdk.Errorf(sdk.CodeConflict, "application %s changed meanwhile; reload and retry", appID)
		}
		if err := tx.Emit(decisionEvents[to], appEvent(a)); err != nil {
			return err
		}
		if to == StatusAccepted {
			if err := s.tellVolunteer(ctx, tx, NotifyAccepted, a, nil); err != nil {
				return err
			}
		}
		if wasHeld {
			if err := s.st.bumpVersion(ctx, tx); err != nil {
				return err
			}
			return s.promote(ctx, tx, shiftID, now)
		}
		return nil
	})
	if err != nil {
		return Application{}, err
	}
	return s.st.application(ctx, s.st.db, appID)
}

// ruleMessages say in plain words why a volunteer may not take a shift.
var ruleMessages = map[match.Rule]string{
	match.RuleAge:             "below the opportunity's minimum age on the shift's date",
	match.RuleBackgroundCheck: "no background check valid on the shift's date",
	match.RuleRequiredSkills:  "missing a required skill",
	match.RuleAvailability:    "availability does not cover the whole shift",
	match.RuleDateUnavailable: "marked the shift's date as unavailable",
	match.RuleOverlap:         "overlaps another confirmed shift",
	match.RuleWeeklyHours:     "would exceed the weekly hours limit",
}
