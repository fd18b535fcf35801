package parks

import (
	"context"
	"embed"
	"fmt"
	"slices"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/store"
)

// Notifications (DESIGN.md §11). A group hears what became of its requests: the
// organisation's representatives (or the resident who asked alone) are told of an
// approval, a rejection with its reason, a cancellation, and a closure that stops a
// request. People who follow a park hear of its new public events and of the ones
// cancelled. Each is written into the outbox in the transaction of the decision, so a
// decision that rolls back tells nobody; the texts come from locales/notify.<tag>.toml
// in every city language.

// Notification kinds the plugin sends.
const (
	NotifyBookingApproved  = "parks.booking.approved"
	NotifyBookingRejected  = "parks.booking.rejected"
	NotifyBookingCancelled = "parks.booking.cancelled"
	// NotifyBookingClosure: a closure rejected an open request it collides with,
	// or cancelled an approved event (ClosureInput.CancelBookings).
	NotifyBookingClosure = "parks.booking.closure"
	// NotifyEventScheduled and NotifyEventCancelled go to the park's followers, for
	// public events only.
	NotifyEventScheduled = "parks.event.scheduled"
	NotifyEventCancelled = "parks.event.cancelled"
)

//go:embed locales
var locales embed.FS

// notifyCatalog words the notifications in every language the plugin speaks.
var notifyCatalog = sdk.NewNotifyCatalog(i18n.MustBundle(locales))

// notificationKinds are the manifest's Notifications. What a group asked for is
// answered at once; a follower's news of a new event waits for the weekly digest.
func notificationKinds() []sdk.NotificationKind {
	return []sdk.NotificationKind{
		notifyCatalog.Kind(NotifyBookingApproved, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyBookingRejected, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyBookingCancelled, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyBookingClosure, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyEventScheduled, sdk.DeliverWeekly),
		notifyCatalog.Kind(NotifyEventCancelled, sdk.DeliverImmediately),
	}
}

// Subjects and the pages they point at.
func parkSubject(id string) string    { return "parks.park:" + id }
func bookingSubject(id string) string { return "parks.booking:" + id }
func eventSubject(id string) string   { return "parks.event:" + id }

func bookingLink(parkID, id string) string { return "/parks/" + parkID + "/bookings/" + id }
func eventLink(parkID, id string) string   { return "/parks/" + parkID + "/events/" + id }

// pushedAside is a unit of open requests an approval or a closure rejected, and the
// booking or closure it collided with.
type pushedAside struct {
	unit []*Booking
	hit  *Booking
}

// decided is what one transition did, for its notifications: the unit of events that
// moved (closures tell nobody of themselves), which of them were approved before, and
// the requests pushed aside.
type decided struct {
	to          string
	reason      string
	actor       string
	moved       []*Booking
	wasApproved map[string]bool
	aside       []pushedAside
}

// notifyDecided writes the notifications of one transition in its transaction.
func (s *Service) notifyDecided(ctx context.Context, tx *store.Tx, park *Park, tree areaTree, d decided) error {
	units := [][]*Booking{}
	if len(d.moved) > 0 {
		units = append(units, d.moved)
	}
	for _, a := range d.aside {
		units = append(units, a.unit)
	}
	if len(units) == 0 {
		return nil
	}
	reps, err := s.representatives(ctx, units)
	if err != nil {
		return err
	}
	if len(d.moved) > 0 {
		if err := s.notifyMoved(ctx, tx, park, tree, d, reps); err != nil {
			return err
		}
	}
	for _, a := range d.aside {
		// Requests are rejected; approved events a closure displaced are cancelled.
		cancelled := a.unit[0].Status == StatusCancelled
		kind, extra := NotifyBookingRejected, map[string]any{"Collided": a.hit.Title, "Reason": ""}
		if a.hit.Kind == KindClosure {
			kind, extra = NotifyBookingClosure, map[string]any{"Closure": a.hit.Title,
				"Closed": sdk.Span{Start: a.hit.Start, End: a.hit.End}, "Approved": cancelled, "Reason": d.reason}
		}
		if err := s.tellGroup(ctx, tx, park, tree, kind, a.unit, reps, d.actor, extra); err != nil {
			return err
		}
		if cancelled {
			if err := s.tellFollowers(ctx, tx, park, tree, NotifyEventCancelled, a.unit, recipientsOf(a.unit[0], reps), d.actor); err != nil {
				return err
			}
		}
	}
	return nil
}

// notifyMoved tells the group what became of its unit, and the park's followers of a
// public event that was scheduled or called off.
func (s *Service) notifyMoved(ctx context.Context, tx *store.Tx, park *Park, tree areaTree, d decided, reps map[string][]string) error {
	extra := map[string]any{"Reason": d.reason, "Collided": ""}
	var kind, followersKind string
	called := d.moved // the dates followers hear about
	switch d.to {
	case StatusApproved:
		kind, followersKind = NotifyBookingApproved, NotifyEventScheduled
	case StatusRejected:
		kind = NotifyBookingRejected
	case StatusCancelled:
		kind, followersKind = NotifyBookingCancelled, NotifyEventCancelled
		// Followers heard only of dates that were approved.
		called = slices.DeleteFunc(slices.Clone(d.moved), func(b *Booking) bool { return !d.wasApproved[b.ID] })
	default:
		return fmt.Errorf("notify: no notification for a booking %s", d.to)
	}
	if err := s.tellGroup(ctx, tx, park, tree, kind, d.moved, reps, d.actor, extra); err != nil {
		return err
	}
	if followersKind == "" || len(called) == 0 {
		return nil
	}
	return s.tellFollowers(ctx, tx, park, tree, followersKind, called, recipientsOf(d.moved[0], reps), d.actor)
}

// tellFollowers writes kind about the dates of a public event to the park's
// followers, less the group, which heard of it already, and the one who acted.
func (s *Service) tellFollowers(ctx context.Context, tx *store.Tx, park *Park, tree areaTree, kind string, unit []*Booking, group []string, actor string) error {
	first := unit[0]
	if !first.Public {
		return nil
	}
	return tx.Notify(ctx, sdk.Notification{
		Kind:      kind,
		Followers: []string{parkSubject(park.ID)},
		Except:    append(group, actor),
		Subject:   eventSubject(first.ID),
		Link:      eventLink(park.ID, first.ID),
		Texts:     notifyCatalog.Texts(s.langs, park.location(), kind, bookingData(park, tree, unit, nil)),
	})
}

// tellGroup writes kind about unit to the people who asked for it, less the one who
// acted (a representative who withdraws their own request knows).
func (s *Service) tellGroup(ctx context.Context, tx *store.Tx, park *Park, tree areaTree, kind string, unit []*Booking, reps map[string][]string, actor string, extra map[string]any) error {
	to := slices.DeleteFunc(recipientsOf(unit[0], reps), func(id string) bool { return id == actor })
	if len(to) == 0 {
		return nil // a resident's booking after their account was erased
	}
	first := unit[0]
	return tx.Notify(ctx, sdk.Notification{
		Kind:       kind,
		Recipients: to,
		Subject:    bookingSubject(first.ID),
		Link:       bookingLink(park.ID, first.ID),
		Texts:      notifyCatalog.Texts(s.langs, park.location(), kind, bookingData(park, tree, unit, extra)),
	})
}

// bookingData fills the messages' placeholders for unit, a booking or the dates of a
// series in start order.
func bookingData(park *Park, tree areaTree, unit []*Booking, extra map[string]any) map[string]any {
	first := unit[0]
	area := ""
	if a := tree[first.AreaID]; a != nil {
		area = a.Name
	}
	data := map[string]any{
		"Title": first.Title, "Park": park.Name, "Area": area, "Org": first.OrganisationName,
		"When": sdk.Span{Start: first.Start, End: first.End}, "Dates": len(unit), "Series": len(unit) > 1,
	}
	for k, v := range extra {
		data[k] = v
	}
	return data
}

// representatives looks up the representatives of the organisations that asked for
// units, by organisation ID.
func (s *Service) representatives(ctx context.Context, units [][]*Booking) (map[string][]string, error) {
	var ids []string
	for _, u := range units {
		if id := u[0].OrganisationID; id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	orgs, err := s.host.Organisations(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("notify: organisations %v: %w", ids, err)
	}
	reps := make(map[string][]string, len(orgs))
	for _, o := range orgs {
		reps[o.ID] = o.Representatives
	}
	return reps, nil
}

// recipientsOf are the people who hear about b: its organisation's representatives, or
// the person who asked when a resident booked alone (or the organisation has no
// representative left).
func recipientsOf(b *Booking, reps map[string][]string) []string {
	if r := reps[b.OrganisationID]; b.OrganisationID != "" && len(r) > 0 {
		return slices.Clone(r)
	}
	if b.RequesterID == "" {
		return nil
	}
	return []string{b.RequesterID}
}

// FollowPark makes the caller follow the park's events, or stop following them: the
// core then tells them of its new public events and of those cancelled. A park and
// its public calendar are open to everyone, so anyone signed in may follow it.
func (s *Service) FollowPark(ctx context.Context, pr sdk.Principal, parkID string, follow bool) (sdk.FollowState, error) {
	if !pr.Authenticated() {
		return sdk.FollowState{}, sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	if _, err := getPark(ctx, s.st.db, parkID); err != nil {
		return sdk.FollowState{}, err
	}
	return s.st.db.Follow(ctx, pr.UserID, parkSubject(parkID), follow)
}
