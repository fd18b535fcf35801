package parks

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// notified flushes the outbox and returns the notifications of kind that reached
// userID.
func (w *world) notified(userID, kind string) []sdktest.SentNotification {
	w.t.Helper()
	if err := w.plugin.db.FlushOutbox(context.Background(), w.host); err != nil {
		w.t.Fatal(err)
	}
	return w.host.NotificationsTo(userID, kind)
}

// wantNotified checks that exactly want of the users got one notification of kind, and
// returns it.
func (w *world) wantNotified(kind string, want []string, others ...string) sdktest.SentNotification {
	w.t.Helper()
	var got sdktest.SentNotification
	for _, u := range want {
		l := w.notified(u, kind)
		if len(l) != 1 {
			w.t.Fatalf("%s got %d notifications %s, want 1", u, len(l), kind)
		}
		got = l[0]
	}
	for _, u := range others {
		if l := w.notified(u, kind); len(l) != 0 {
			w.t.Fatalf("%s got %d notifications %s, want none", u, len(l), kind)
		}
	}
	return got
}

func wantText(t *testing.T, n sdktest.SentNotification, lang string, parts ...string) {
	t.Helper()
	text := n.Texts[lang].Title + "\n" + n.Texts[lang].Body
	if !containsAll(text, parts...) {
		t.Fatalf("%s text in %s = %q, want it to hold %q", n.Kind, lang, text, parts)
	}
}

func TestNotify_Approve(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		w.host.AddOrgMember(orgID, "rep-b", "representative")
		if _, err := w.svc.FollowPark(ctx, w.host.Principal("follower"), w.park.ID, true); err != nil {
			t.Fatal(err)
		}
		b := w.mustRequest(w.rep, orgID, w.stage, 4, 10, 12, func(in *BookingInput) { in.Title = "Çocuk atölyesi" })
		other := w.mustRequest(w.rep2, org2ID, w.meadow, 4, 11, 13, func(in *BookingInput) { in.Title = "Chess club" })
		w.mustApprove(b.ID)

		n := w.wantNotified(NotifyBookingApproved, []string{"rep", "rep-b"}, "rep2", "manager", "follower")
		if n.Link != "/parks/"+w.park.ID+"/bookings/"+b.ID || n.Subject != "parks.booking:"+b.ID {
			t.Fatalf("link %q subject %q", n.Link, n.Subject)
		}
		wantText(t, n, "en", "Booking approved: Çocuk atölyesi", "Stage in Living Park", "4 Jun 2025, 10:00–12:00")
		wantText(t, n, "fi", "Varaus hyväksytty: Çocuk atölyesi", "alue Stage (Living Park)", "4.6.2025 klo 10.00–12.00")
		wantText(t, n, "tr", "Rezervasyon onaylandı", "4.06.2025 10:00–12:00")

		// The request it collides with is rejected, and its group hears why in its words.
		n = w.wantNotified(NotifyBookingRejected, []string{"rep2"}, "rep", "rep-b", "manager")
		if n.Subject != "parks.booking:"+other.ID {
			t.Fatalf("subject %q", n.Subject)
		}
		wantText(t, n, "en", "Chess club", "“Çocuk atölyesi”, was approved for the same place and time")
		wantText(t, n, "sv", "Bokningsförfrågan avslagen: Chess club", "”Çocuk atölyesi”")

		// Followers of the park hear of the public event; the group and the manager do
		// not hear it twice. rep2 follows the park since it asked for a booking there.
		n = w.wantNotified(NotifyEventScheduled, []string{"follower", "rep2"}, "rep", "rep-b", "manager")
		if n.Link != "/parks/"+w.park.ID+"/events/"+b.ID {
			t.Fatalf("link %q", n.Link)
		}
		wantText(t, n, "da", "Nyt arrangement i Living Park: Çocuk atölyesi", "arrangeret af Art Collective")
		wantText(t, n, "en", "“Çocuk atölyesi”, organised by Art Collective, takes place in Stage, Living Park, on 4 Jun 2025, 10:00–12:00.")
		if got := w.host.Followers(parkSubject(w.park.ID)); !slices.Equal(got, []string{"follower", "rep", "rep2"}) {
			t.Fatalf("followers = %v", got)
		}
	})
}

func TestNotify_RejectCancelClosure(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		w.host.AddOrgMember(orgID, "rep-b", "representative")

		t.Run("Reject", func(t *testing.T) {
			b := w.mustRequest(w.rep, orgID, w.stage, 5, 10, 12, func(in *BookingInput) { in.Title = "Drum circle" })
			if _, err := w.svc.Reject(ctx, w.manager, w.park.ID, b.ID, "Too loud for a weekday morning."); err != nil {
				t.Fatal(err)
			}
			n := w.wantNotified(NotifyBookingRejected, []string{"rep", "rep-b"}, "rep2", "manager")
			wantText(t, n, "en", "Drum circle", "Reason given by the park manager: Too loud for a weekday morning.")
			wantText(t, n, "tr", "Park sorumlusunun gerekçesi: Too loud")
		})

		t.Run("CancelledByTheGroup", func(t *testing.T) {
			b := w.mustRequest(w.rep, orgID, w.playground, 6, 10, 12, func(in *BookingInput) { in.Title = "Picnic" })
			if _, err := w.svc.Cancel(ctx, w.rep, w.park.ID, b.ID, "We found another place."); err != nil {
				t.Fatal(err)
			}
			// The representative who withdrew knows; the other one hears it. It was only a
			// request, so followers never heard of it and hear nothing now.
			n := w.wantNotified(NotifyBookingCancelled, []string{"rep-b"}, "rep", "manager")
			wantText(t, n, "fi", "Varaus peruttu: Picnic", "Syy: We found another place.")
			if l := w.host.Notifications(NotifyEventCancelled); len(l) != 0 {
				t.Fatalf("followers told of a request: %+v", l)
			}
		})

		t.Run("CancelledByTheManager", func(t *testing.T) {
			w.host.Follow("follower", parkSubject(w.park.ID), true)
			b := w.mustRequest(w.rep2, org2ID, w.meadow, 10, 14, 16, func(in *BookingInput) {
				in.Title = "Kite day"
				in.RepeatWeeks = 2
			})
			w.mustApprove(b.ID)
			if _, err := w.svc.Cancel(ctx, w.manager, w.park.ID, b.ID, "The meadow is being reseeded."); err != nil {
				t.Fatal(err)
			}
			n := w.wantNotified(NotifyBookingCancelled, []string{"rep2"}, "rep", "manager", "follower")
			wantText(t, n, "en", "Kite day", "This covers the 2 remaining dates", "Reason: The meadow is being reseeded.")
			n = w.wantNotified(NotifyEventCancelled, []string{"follower", "rep"}, "rep2", "manager")
			wantText(t, n, "sv", "Inställt: Kite day i Living Park", "2025-06-10 14:00–16:00")
			if strings.Contains(n.Texts["en"].Body, "reseeded") {
				t.Fatalf("followers are told the group's reason: %q", n.Texts["en"].Body)
			}
		})

		t.Run("Closure", func(t *testing.T) {
			b := w.mustRequest(w.rep, orgID, w.stage, 12, 10, 12, func(in *BookingInput) { in.Title = "Poetry slam" })
			_, err := w.svc.CreateClosure(ctx, w.manager, w.park.ID, ClosureInput{AreaID: w.meadow.ID,
				Start: at(12, 8, 0), End: at(12, 20, 0), Title: "Irrigation repair"})
			if err != nil {
				t.Fatal(err)
			}
			n := w.wantNotified(NotifyBookingClosure, []string{"rep", "rep-b"}, "rep2", "manager")
			if n.Subject != "parks.booking:"+b.ID {
				t.Fatalf("subject %q", n.Subject)
			}
			wantText(t, n, "en", "Living Park is closed: “Poetry slam” cannot go ahead",
				"closed on 12 Jun 2025, 08:00–20:00 (Irrigation repair)", "request for 12 Jun 2025, 10:00–12:00")
			wantText(t, n, "fi", "suljettuna 12.6.2025 klo 08.00–20.00 (Irrigation repair)")
		})
	})
}

// TestNotify_RollbackTellsNobody: a decision that fails, or a transaction that rolls
// back after writing its notifications, tells nobody.
func TestNotify_RollbackTellsNobody(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		a := w.mustRequest(w.rep, orgID, w.stage, 4, 10, 12)
		b := w.mustRequest(w.rep2, org2ID, w.stage, 4, 10, 12)
		w.mustApprove(a.ID)
		// b was rejected by a's approval: approving it now fails, and says nothing more.
		before := len(w.notified("rep2", NotifyBookingRejected))
		if _, err := w.approve(b.ID); err == nil {
			t.Fatal("approved a rejected request")
		}
		if got := w.notified("rep2", NotifyBookingApproved); len(got) != 0 {
			t.Fatalf("a failed approval told rep2: %+v", got)
		}
		if got := len(w.notified("rep2", NotifyBookingRejected)); got != before {
			t.Fatalf("rejections %d → %d", before, got)
		}

		c := w.mustRequest(w.rep, orgID, w.playground, 5, 10, 12)
		w.notified("", "")
		boom := errors.New("boom")
		err := w.plugin.db.InTx(ctx, func(tx *store.Tx) error {
			tree, err := parkAreas(ctx, tx, w.park.ID)
			if err != nil {
				return err
			}
			cb, err := getBooking(ctx, tx, w.park.ID, c.ID)
			if err != nil {
				return err
			}
			if err := w.svc.notifyDecided(ctx, tx, w.park, tree, decided{to: StatusApproved, actor: "manager",
				moved: []*Booking{cb}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n, err := w.plugin.db.PendingEvents(ctx); err != nil || n != 0 {
			t.Fatalf("pending = %d, %v", n, err)
		}
		if got := w.notified("rep", NotifyBookingApproved); len(got) != 1 { // a's only
			t.Fatalf("rep got %d approvals, want 1", len(got))
		}
	})
}

// replayHost records the batches the outbox relays, so a test can deliver them again.
type replayHost struct {
	*sdktest.FakeHost
	mu      sync.Mutex
	batches [][]sdk.Event
}

func (h *replayHost) PublishAll(ctx context.Context, events []sdk.Event) error {
	h.mu.Lock()
	h.batches = append(h.batches, slices.Clone(events))
	h.mu.Unlock()
	return h.FakeHost.PublishAll(ctx, events)
}

// TestNotify_Redelivered: the outbox delivers at least once; a batch relayed again
// adds no notification and no follow.
func TestNotify_Redelivered(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		b := w.mustRequest(w.rep, orgID, w.stage, 4, 10, 12)
		w.mustApprove(b.ID)
		h := &replayHost{FakeHost: w.host}
		if err := w.plugin.db.FlushOutbox(ctx, h); err != nil {
			t.Fatal(err)
		}
		notes, follows := len(w.host.Notifications()), len(w.host.FollowChanges())
		if notes == 0 || follows == 0 {
			t.Fatalf("%d notifications, %d follows before the replay", notes, follows)
		}
		for _, batch := range h.batches {
			if err := w.host.PublishAll(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		if got := w.host.NotificationsTo("rep", NotifyBookingApproved); len(got) != 1 {
			t.Fatalf("rep got %d approvals after the replay", len(got))
		}
		if n, f := len(w.host.Notifications()), len(w.host.FollowChanges()); n != notes || f != follows {
			t.Fatalf("replay: notifications %d → %d, follows %d → %d", notes, n, follows, f)
		}
	})
}

func TestService_FollowPark(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		t.Run("OK", func(t *testing.T) {
			f, err := w.svc.FollowPark(ctx, w.resident, w.park.ID, true)
			if err != nil || !f.Following || f.Subject != "parks.park:"+w.park.ID {
				t.Fatalf("follow = %+v, %v", f, err)
			}
			w.notified("", "")
			if got := w.host.Followers(parkSubject(w.park.ID)); !slices.Equal(got, []string{"resident"}) {
				t.Fatalf("followers = %v", got)
			}
			if _, err := w.svc.FollowPark(ctx, w.resident, w.park.ID, false); err != nil {
				t.Fatal(err)
			}
			w.notified("", "")
			if got := w.host.Followers(parkSubject(w.park.ID)); len(got) != 0 {
				t.Fatalf("followers after unfollowing = %v", got)
			}
		})
		t.Run("ErrAnonymous", func(t *testing.T) {
			_, err := w.svc.FollowPark(ctx, sdk.Principal{}, w.park.ID, true)
			wantErr(t, err, sdk.CodeUnauthenticated, "")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := w.svc.FollowPark(ctx, w.resident, "0190a6f3-8f5e-7c3a-9b1e-3c2d1a0f9e8d", true)
			wantErr(t, err, sdk.CodeNotFound, "")
		})
	})
}

func TestHandler_Follow(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		c := newClient(t, w)
		path := "/api/v1/parks/" + w.park.ID + "/follow"
		var f sdk.FollowState
		c.json(w.resident, "PUT", path, nil, 200, &f)
		if !f.Following {
			t.Fatalf("PUT follow = %+v", f)
		}
		w.notified("", "")
		if got := w.host.Followers(parkSubject(w.park.ID)); !slices.Equal(got, []string{"resident"}) {
			t.Fatalf("followers = %v", got)
		}
		c.json(w.resident, "DELETE", path, nil, 200, &f)
		w.notified("", "")
		if f.Following || len(w.host.Followers(parkSubject(w.park.ID))) != 0 {
			t.Fatalf("DELETE follow = %+v, followers %v", f, w.host.Followers(parkSubject(w.park.ID)))
		}
		if status, _ := c.do(sdk.Principal{}, "PUT", path, nil); status != 401 {
			t.Fatalf("anonymous PUT = %d, want 401", status)
		}
		if status, _ := c.do(w.resident, "PUT", "/api/v1/parks/0190a6f3-8f5e-7c3a-9b1e-3c2d1a0f9e8d/follow", nil); status != 404 {
			t.Fatalf("unknown park = %d, want 404", status)
		}
	})
}

// TestNotifyCatalog: every notification is worded in the five languages with the same
// placeholders, and every kind the manifest declares has a label in each.
func TestNotifyCatalog(t *testing.T) {
	i18ntest.CheckCatalog(t, locales)
	for _, k := range New().Manifest().Notifications {
		for _, lang := range i18n.Required {
			if k.Labels[lang] == "" {
				t.Errorf("%s: no label in %s", k.Name, lang)
			}
		}
	}
	if err := sdk.CheckNotificationKinds("parks", New().Manifest().Notifications); err != nil {
		t.Fatal(err)
	}
}

// TestNotify_ClosureCancelsBookings: a closure told to cancel the approved events it
// overlaps cancels only their dates it overlaps, in its own transaction, and their group
// and the park's followers hear it; without being told it is refused as before.
func TestNotify_ClosureCancelsBookings(t *testing.T) {
	eachStore(t, true, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		ctx := context.Background()
		w.host.Follow("follower", parkSubject(w.park.ID), true)
		b := w.mustRequest(w.rep2, org2ID, w.meadow, 10, 14, 16, func(in *BookingInput) {
			in.Title = "Kite day"
			in.RepeatWeeks = 2
		})
		w.mustApprove(b.ID)
		closure := ClosureInput{AreaID: w.whole.ID, Start: at(10, 8, 0), End: at(10, 20, 0), Title: "Storm damage"}

		_, err := w.svc.CreateClosure(ctx, w.manager, w.park.ID, closure)
		wantErr(t, err, sdk.CodeConflict, RuleClosureOverlap)
		closure.CancelBookings = true
		_, err = w.svc.CreateClosure(ctx, w.manager, w.park.ID, closure)
		wantErr(t, err, sdk.CodeInvalid, RuleReasonRequired)
		w.wantNotified(NotifyBookingClosure, nil, "rep2")

		closure.Reason = "Fallen trees; the park is unsafe."
		if _, err := w.svc.CreateClosure(ctx, w.manager, w.park.ID, closure); err != nil {
			t.Fatal(err)
		}
		if got := w.booking(b.ID); got.Status != StatusCancelled || got.Series[1].Status != StatusApproved {
			t.Fatalf("after the closure: %s, series %+v", got.Status, got.Series)
		}
		if n := overlappingApproved(t, w.plugin.db); n != 0 {
			t.Fatalf("%d overlapping approved pairs", n)
		}
		n := w.wantNotified(NotifyBookingClosure, []string{"rep2"}, "rep", "manager", "follower")
		wantText(t, n, "en", "Living Park is closed: “Kite day” cannot go ahead", "(Storm damage)",
			"Your booking for 10 Jun 2025, 14:00–16:00 has been cancelled.", "Reason: Fallen trees")
		wantText(t, n, "da", "Jeres booking for 10.06.2025 14.00–16.00 er blevet aflyst.", "Årsag: Fallen trees")
		if strings.Contains(n.Texts["en"].Body, "request") {
			t.Fatalf("an approved booking called a request: %q", n.Texts["en"].Body)
		}
		n = w.wantNotified(NotifyEventCancelled, []string{"follower"}, "rep2", "manager")
		wantText(t, n, "en", "“Kite day” in Meadow, Living Park, on 10 Jun 2025, 14:00–16:00 has been cancelled.")
		if got := w.published(EventCancelled); len(got) != 1 || got[0].BookingID != b.ID || got[0].Reason != closure.Reason {
			t.Fatalf("cancelled events %+v", got)
		}
		// A closure in the way is never cancelled by another.
		closure.Start, closure.End = at(10, 12, 0), at(10, 13, 0)
		_, err = w.svc.CreateClosure(ctx, w.manager, w.park.ID, closure)
		wantErr(t, err, sdk.CodeConflict, RuleClosureOverlap)
	})
}
