package volunteers

import (
	"context"
	"embed"
	"fmt"
	"slices"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/store"
)

// Notifications (DESIGN.md §11). A volunteer hears of what concerns their sign-up — an
// invitation, an accepted application, a confirmed place, a place freed up from the
// wait list, a shift moved or cancelled — and is reminded the day before a shift they
// hold a place on (service_reminders.go). People who follow an opportunity hear when it
// is cancelled. Each is written into the outbox in the transaction of
// the change, so a change that rolls back tells nobody; the texts come from
// locales/notify.<tag>.toml in every city language, times in the city's time zone.

// Notification kinds the plugin sends.
const (
	NotifyInvited              = "volunteers.application.invited"
	NotifyAccepted             = "volunteers.application.accepted"
	NotifyConfirmed            = "volunteers.assignment.confirmed"
	NotifyPromoted             = "volunteers.assignment.promoted"
	NotifyShiftChanged         = "volunteers.shift.changed"
	NotifyShiftCancelled       = "volunteers.shift.cancelled"
	NotifyReminder             = "volunteers.shift.reminder"
	NotifyOpportunityCancelled = "volunteers.opportunity.cancelled"
)

//go:embed locales
var locales embed.FS

// notifyCatalog words the notifications in every language the plugin speaks.
var notifyCatalog = sdk.NewNotifyCatalog(i18n.MustBundle(locales))

// notificationKinds are the manifest's Notifications: all of them are about a person's
// own time, so all are sent at once by default.
func notificationKinds() []sdk.NotificationKind {
	kinds := []string{NotifyInvited, NotifyAccepted, NotifyConfirmed, NotifyPromoted,
		NotifyShiftChanged, NotifyShiftCancelled, NotifyReminder, NotifyOpportunityCancelled}
	out := make([]sdk.NotificationKind, len(kinds))
	for i, k := range kinds {
		out[i] = notifyCatalog.Kind(k, sdk.DeliverImmediately)
	}
	return out
}

// opportunitySubject is what an opportunity's notifications are about and what its
// followers follow; opportunityLink is its page.
func opportunitySubject(id string) string { return "volunteers.opportunity:" + id }
func opportunityLink(id string) string    { return "/volunteers/opportunities/" + id }

// signedUp are the statuses of an application whose volunteer still expects to hear
// about the shift.
var signedUp = []string{StatusApplied, StatusInvited, StatusAccepted, StatusConfirmed, StatusWaitlisted}

// tell writes a notification of kind about shift sh of o; n carries who receives it,
// extra the placeholders beyond the opportunity's title and place and the shift's time.
func (s *Service) tell(ctx context.Context, tx *store.Tx, kind string, o Opportunity, sh Shift, n sdk.Notification, extra map[string]any) error {
	data := map[string]any{"Title": o.Title, "Place": o.Place, "When": sdk.Span{Start: sh.Start, End: sh.End}}
	for k, v := range extra {
		data[k] = v
	}
	n.Kind, n.Subject, n.Link = kind, opportunitySubject(o.ID), opportunityLink(o.ID)
	n.Texts = notifyCatalog.Texts(s.cfg.Languages, s.cfg.Location, kind, data)
	return tx.Notify(ctx, n)
}

// tellVolunteer writes a notification of kind to the volunteer of a, about a's shift,
// read in the transaction.
func (s *Service) tellVolunteer(ctx context.Context, tx *store.Tx, kind string, a Application, extra map[string]any) error {
	o, err := s.st.opportunity(ctx, tx, a.OpportunityID)
	if err != nil {
		return err
	}
	sh, err := findShift(o, a.ShiftID)
	if err != nil {
		return err
	}
	return s.tell(ctx, tx, kind, o, sh, sdk.Notification{Recipients: []string{a.VolunteerID}}, extra)
}

// organisationName is the name of the organisation that posts an opportunity; "" for
// the city, which the texts name in each language.
func (s *Service) organisationName(ctx context.Context, orgID string) (string, error) {
	if orgID == "" {
		return "", nil
	}
	orgs, err := s.host.Organisations(ctx, []string{orgID})
	if err != nil {
		return "", fmt.Errorf("look up organisation: %w", err)
	}
	if len(orgs) == 0 {
		return "", nil
	}
	return orgs[0].Name, nil
}

// tellCancelled tells everyone signed up for a shift of o that has not started that it
// is cancelled, and o's followers that o is; the organiser who cancelled is left out.
func (s *Service) tellCancelled(ctx context.Context, tx *store.Tx, o Opportunity, actor string) error {
	apps, err := s.st.selectApplications(ctx, tx, `WHERE opportunity_id = ? ORDER BY shift_id, created_at, id`, o.ID)
	if err != nil {
		return fmt.Errorf("list applications: %w", err)
	}
	now := s.clock()
	var told []string // the actor ("" when the system cancels) knows already
	if actor != "" {
		told = append(told, actor)
	}
	for _, sh := range o.Shifts {
		if !sh.Start.After(now) {
			continue
		}
		var to []string
		for _, a := range apps {
			if a.ShiftID == sh.ID && slices.Contains(signedUp, a.Status) && a.VolunteerID != actor {
				to = append(to, a.VolunteerID)
			}
		}
		if len(to) == 0 {
			continue
		}
		if err := s.tell(ctx, tx, NotifyShiftCancelled, o, sh, sdk.Notification{Recipients: to}, nil); err != nil {
			return err
		}
		told = append(told, to...)
	}
	first := Shift{}
	if len(o.Shifts) > 0 {
		first = o.Shifts[0]
	}
	return s.tell(ctx, tx, NotifyOpportunityCancelled, o, first,
		sdk.Notification{Followers: []string{opportunitySubject(o.ID)}, Except: told}, nil)
}

// Follow makes the caller follow an opportunity they may see (a published one, or one
// they organise), or stop following it: followers hear when it is cancelled. Signing up
// for a shift follows the opportunity too.
func (s *Service) Follow(ctx context.Context, p sdk.Principal, oppID string, follow bool) (sdk.FollowState, error) {
	if _, err := s.Opportunity(ctx, p, oppID); err != nil {
		return sdk.FollowState{}, err
	}
	return s.st.db.Follow(ctx, p.UserID, opportunitySubject(oppID), follow)
}
