package volunteers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// notified relays the outbox and returns the notifications of kind that reached userID.
func (f *fixture) notified(t testing.TB, userID, kind string) []sdktest.SentNotification {
	t.Helper()
	if err := f.db.FlushOutbox(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	return f.host.NotificationsTo(userID, kind)
}

// wantNotified checks that each of want got exactly one notification of kind and none
// of others got any, and returns want's.
func (f *fixture) wantNotified(t testing.TB, kind string, want []string, others ...string) sdktest.SentNotification {
	t.Helper()
	var got sdktest.SentNotification
	for _, u := range want {
		l := f.notified(t, u, kind)
		if len(l) != 1 {
			t.Fatalf("%s got %d notifications %s, want 1", u, len(l), kind)
		}
		got = l[0]
	}
	for _, u := range others {
		if l := f.notified(t, u, kind); len(l) != 0 {
			t.Fatalf("%s got %d notifications %s, want none", u, len(l), kind)
		}
	}
	return got
}

func wantText(t testing.TB, n sdktest.SentNotification, lang string, parts ...string) {
	t.Helper()
	text := n.Texts[lang].Title + "\n" + n.Texts[lang].Body
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Fatalf("%s text in %s = %q, want it to hold %q", n.Kind, lang, text, p)
		}
	}
}

func (f *fixture) decide(t testing.TB, p sdk.Principal, o Opportunity, a Application, action string) Application {
	t.Helper()
	a, err := f.svc.Decide(context.Background(), p, o.ID, o.Shifts[0].ID, a.ID, action)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return a
}

func TestNotify_SignUps(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		v1, v2 := f.volunteer(t, "v1", nil), f.volunteer(t, "v2", nil)
		f.volunteer(t, "v3", nil)
		o := f.published(t, func(in *OpportunityInput) {
			in.Title, in.Place = "Rantojen siivous", "Hietaniemi"
			in.Shifts = []ShiftInput{f.saturday(9, 12, 1)}
		})
		sh := o.Shifts[0]
		link := "/volunteers/opportunities/" + o.ID

		a1, err := f.svc.Apply(ctx, v1, o.ID, sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.decide(t, f.rep, o, a1, ActionAccept)
		n := f.wantNotified(t, NotifyAccepted, []string{"v1"}, "v2", "v3", "rep")
		if n.Link != link || n.Subject != "volunteers.opportunity:"+o.ID {
			t.Fatalf("link %q subject %q", n.Link, n.Subject)
		}
		wantText(t, n, "en", "Application accepted: Rantojen siivous", "on 7 Jun 2025, 09:00–12:00")
		wantText(t, n, "fi", "Hakemuksesi on hyväksytty: Rantojen siivous", "7.6.2025 klo 09.00–12.00")

		f.decide(t, v1, o, a1, ActionConfirm)
		n = f.wantNotified(t, NotifyConfirmed, []string{"v1"}, "v2", "v3", "rep")
		wantText(t, n, "en", "Your place is confirmed", "at Hietaniemi")

		a2, err := f.svc.Invite(ctx, f.rep, o.ID, sh.ID, "v2")
		if err != nil {
			t.Fatal(err)
		}
		n = f.wantNotified(t, NotifyInvited, []string{"v2"}, "v1", "v3", "rep")
		wantText(t, n, "en", "Parish invites you to volunteer for “Rantojen siivous”")
		wantText(t, n, "fi", "Parish kutsuu sinut")

		// The shift is full: v2's confirmation puts them on the wait list, which tells
		// nothing; v1's withdrawal moves them up, which does.
		if a2 = f.decide(t, v2, o, a2, ActionConfirm); a2.Status != StatusWaitlisted {
			t.Fatalf("v2 is %s, want waitlisted", a2.Status)
		}
		f.wantNotified(t, NotifyConfirmed, nil, "v2")
		f.decide(t, v1, o, a1, ActionWithdraw)
		n = f.wantNotified(t, NotifyPromoted, []string{"v2"}, "v1", "v3", "rep")
		wantText(t, n, "fi", "Sinulle vapautui paikka: Rantojen siivous")
		wantText(t, n, "en", "A place became free on the shift of “Rantojen siivous” on 7 Jun 2025, 09:00–12:00")
		// A promotion is one notification, not a promotion and a confirmation.
		f.wantNotified(t, NotifyConfirmed, nil, "v2")

		// Applying and confirming an invitation follow the opportunity.
		if got := f.host.Followers(opportunitySubject(o.ID)); !slices.Equal(got, []string{"v1", "v2"}) {
			t.Fatalf("followers = %v", got)
		}
	})
}

// TestNotify_CityInvitesAndAutoAccepts: the city's own opportunity names the city in
// each language; a sign-up accepted at once is confirmed to the volunteer.
func TestNotify_CityInvitesAndAutoAccepts(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		v1 := f.volunteer(t, "v1", nil)
		f.volunteer(t, "v2", nil)
		o, err := f.svc.CreateOpportunity(ctx, f.staff, OpportunityInput{Title: "Library reading hour", AutoAccept: true,
			Shifts: []ShiftInput{f.saturday(10, 12, 2)}})
		if err != nil {
			t.Fatal(err)
		}
		if o, err = f.svc.SetState(ctx, f.staff, o.ID, StatePublished); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Apply(ctx, v1, o.ID, o.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		n := f.wantNotified(t, NotifyConfirmed, []string{"v1"}, "v2", "staff")
		wantText(t, n, "fi", "Paikkasi on vahvistettu: Library reading hour", "7.6.2025 klo 10.00–12.00")
		if _, err := f.svc.Invite(ctx, f.staff, o.ID, o.Shifts[0].ID, "v2"); err != nil {
			t.Fatal(err)
		}
		n = f.wantNotified(t, NotifyInvited, []string{"v2"}, "v1", "staff")
		wantText(t, n, "en", "The city invites you")
		wantText(t, n, "fi", "Kaupunki kutsuu sinut")
	})
}

func TestNotify_ShiftChangedAndCancelled(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		v1, v2 := f.volunteer(t, "v1", nil), f.volunteer(t, "v2", nil)
		f.volunteer(t, "v3", nil)
		o := f.published(t, func(in *OpportunityInput) {
			in.AutoAccept = true
			in.Shifts = []ShiftInput{f.saturday(9, 12, 3), f.saturday(13, 16, 3)}
		})
		a, b := o.Shifts[0], o.Shifts[1]
		if _, err := f.svc.Apply(ctx, v1, o.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Apply(ctx, v2, o.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Follow(ctx, f.host.Principal("fan"), o.ID, true); err != nil {
			t.Fatal(err)
		}

		day := time.Date(2025, 6, 8, 0, 0, 0, 0, f.loc) // Sunday
		_, err := f.svc.ChangeShift(ctx, f.rep, o.ID, a.ID, ShiftChange{
			Start: day.Add(10 * time.Hour).Format(time.RFC3339), End: day.Add(13 * time.Hour).Format(time.RFC3339)})
		if err != nil {
			t.Fatal(err)
		}
		n := f.wantNotified(t, NotifyShiftChanged, []string{"v1"}, "v2", "v3", "rep", "fan")
		wantText(t, n, "en", "that was on 7 Jun 2025, 09:00–12:00 is now on 8 Jun 2025, 10:00–13:00")
		wantText(t, n, "fi", "joka oli 7.6.2025 klo 09.00–12.00, on nyt 8.6.2025 klo 10.00–13.00")

		if _, err := f.svc.SetState(ctx, f.rep, o.ID, StateCancelled); err != nil {
			t.Fatal(err)
		}
		n = f.wantNotified(t, NotifyShiftCancelled, []string{"v1"}, "v3", "rep", "fan")
		wantText(t, n, "en", "8 Jun 2025, 10:00–13:00")
		n = f.wantNotified(t, NotifyShiftCancelled, []string{"v2"})
		wantText(t, n, "fi", "Vuoro peruttu", "7.6.2025 klo 13.00–16.00")
		// Those told of their shift are not told again as followers.
		n = f.wantNotified(t, NotifyOpportunityCancelled, []string{"fan"}, "v1", "v2", "v3", "rep")
		wantText(t, n, "en", "Cancelled: Park clean-up", "“Park clean-up” has been cancelled, with all its shifts.")
		wantText(t, n, "fi", "Vapaaehtoistehtävä ”Park clean-up” on peruttu kaikkine vuoroineen.")

		t.Run("ErrCancelShiftOfCancelled", func(t *testing.T) {
			_, err := f.svc.CancelShift(ctx, f.rep, o.ID, b.ID)
			wantCode(t, err, sdk.CodeConflict)
		})
		t.Run("ErrChangeCancelled", func(t *testing.T) {
			_, err := f.svc.ChangeShift(ctx, f.rep, o.ID, b.ID, ShiftChange{
				Start: day.Add(14 * time.Hour).Format(time.RFC3339), End: day.Add(15 * time.Hour).Format(time.RFC3339)})
			wantCode(t, err, sdk.CodeConflict)
		})
		t.Run("ErrNotOrganiser", func(t *testing.T) {
			_, err := f.svc.ChangeShift(ctx, v1, o.ID, b.ID, ShiftChange{})
			wantCode(t, err, sdk.CodeForbidden)
		})
	})
}

// TestNotify_RollbackTellsNobody: a decision refused inside its transaction, or a
// transaction that rolls back after writing a notification, tells nobody.
func TestNotify_RollbackTellsNobody(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		v1 := f.volunteer(t, "v1", func(in *ProfileInput) { in.MaxHoursPerWeek = 2 })
		o := f.published(t, nil) // a three-hour shift
		a, err := f.svc.Apply(ctx, v1, o.ID, o.Shifts[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		// Accepting re-checks the weekly hours inside the transaction and fails.
		if _, err := f.svc.Decide(ctx, f.rep, o.ID, o.Shifts[0].ID, a.ID, ActionAccept); err == nil {
			t.Fatal("accepted beyond the weekly hours")
		}
		f.wantNotified(t, NotifyAccepted, nil, "v1")

		boom := errors.New("boom")
		err = f.db.InTx(ctx, func(tx *store.Tx) error {
			if err := f.svc.tellVolunteer(ctx, tx, NotifyConfirmed, a, nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		f.wantNotified(t, NotifyConfirmed, nil, "v1")
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

// TestNotify_Redelivered: a relayed batch delivered again adds no notification.
func TestNotify_Redelivered(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		v1 := f.volunteer(t, "v1", nil)
		o := f.published(t, func(in *OpportunityInput) { in.AutoAccept = true })
		if _, err := f.svc.Apply(ctx, v1, o.ID, o.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		h := &replayHost{FakeHost: f.host}
		if err := f.db.FlushOutbox(ctx, h); err != nil {
			t.Fatal(err)
		}
		notes, follows := len(f.host.Notifications()), len(f.host.FollowChanges())
		for _, batch := range h.batches {
			if err := f.host.PublishAll(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		f.wantNotified(t, NotifyConfirmed, []string{"v1"})
		if n, fl := len(f.host.Notifications()), len(f.host.FollowChanges()); n != notes || fl != follows || n == 0 {
			t.Fatalf("replay: notifications %d → %d, follows %d → %d", notes, n, follows, fl)
		}
	})
}

// process is a second plugin process on the fixture's store: its own connection pool
// and service, the fixture's host and clock.
func (f *fixture) process(t *testing.T, cfg sdk.StoreConfig) (*Service, *store.DB) {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return NewService(db, f.host, Config{Location: f.loc, Languages: []string{"fi", "en"}}, f.clock.Now, nil), db
}

func TestReminders_OnceTheDayBefore(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		v1, v2 := f.volunteer(t, "v1", nil), f.volunteer(t, "v2", nil)
		o := f.published(t, func(in *OpportunityInput) {
			in.AutoAccept, in.Place = true, "Kirjasto"
			in.Shifts = []ShiftInput{f.saturday(9, 12, 1)} // Saturday 7 June, 09:00
		})
		sh := o.Shifts[0]
		for _, v := range []sdk.Principal{v1, v2} { // v2 waits
			if _, err := f.svc.Apply(ctx, v, o.ID, sh.ID); err != nil {
				t.Fatal(err)
			}
		}
		send := func(svc *Service) {
			t.Helper()
			if _, err := svc.SendReminders(ctx); err != nil {
				t.Fatal(err)
			}
		}
		friday := func(h, m int) time.Time { return time.Date(2025, 6, 6, h, m, 0, 0, f.loc) }

		send(f.svc) // Monday
		f.clock.Set(friday(8, 59))
		send(f.svc)
		f.wantNotified(t, NotifyReminder, nil, "v1", "v2")

		f.clock.Set(friday(9, 0))
		send(f.svc)
		send(f.svc)
		n := f.wantNotified(t, NotifyReminder, []string{"v1"}, "v2", "rep")
		wantText(t, n, "en", "Reminder: Park clean-up, 7 Jun 2025, 09:00–12:00", "at Kirjasto")
		wantText(t, n, "fi", "Muistutus: Park clean-up, 7.6.2025 klo 09.00–12.00", "paikka: Kirjasto")

		// The clock moves on and the plugin restarts: nothing is sent again.
		f.clock.Set(friday(18, 0))
		restarted, db := f.process(t, cfg)
		send(restarted)
		if err := db.FlushOutbox(ctx, f.host); err != nil {
			t.Fatal(err)
		}
		f.wantNotified(t, NotifyReminder, []string{"v1"})

		// Moved to Sunday, the shift is a new date to remind of, on Saturday morning.
		sunday := time.Date(2025, 6, 8, 0, 0, 0, 0, f.loc)
		if _, err := f.svc.ChangeShift(ctx, f.rep, o.ID, sh.ID, ShiftChange{
			Start: sunday.Add(9 * time.Hour).Format(time.RFC3339), End: sunday.Add(12 * time.Hour).Format(time.RFC3339)}); err != nil {
			t.Fatal(err)
		}
		send(f.svc)
		f.clock.Set(time.Date(2025, 6, 7, 9, 0, 0, 0, f.loc))
		send(restarted)
		send(f.svc)
		if err := db.FlushOutbox(ctx, f.host); err != nil {
			t.Fatal(err)
		}
		if l := f.notified(t, "v1", NotifyReminder); len(l) != 2 || !strings.Contains(l[1].Texts["en"].Title, "8 Jun 2025, 09:00–12:00") {
			t.Fatalf("reminders after the move: %+v", l)
		}
	})
}

// TestReminders_DueAcrossDST: the reminder is due at 09:00 local time on the day before,
// also when the clocks change in between (Europe/Helsinki, 30 March 2025).
func TestReminders_DueAcrossDST(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ start, due time.Time }{
		{time.Date(2025, 3, 30, 10, 0, 0, 0, loc), time.Date(2025, 3, 29, 7, 0, 0, 0, time.UTC)},  // due in winter time
		{time.Date(2025, 3, 31, 0, 30, 0, 0, loc), time.Date(2025, 3, 30, 6, 0, 0, 0, time.UTC)},  // due in summer time
		{time.Date(2025, 6, 1, 0, 0, 0, 0, loc), time.Date(2025, 5, 31, 6, 0, 0, 0, time.UTC)},    // at midnight
		{time.Date(2025, 10, 27, 8, 0, 0, 0, loc), time.Date(2025, 10, 26, 7, 0, 0, 0, time.UTC)}, // back to winter
	} {
		if got := reminderDue(tc.start, loc); !got.Equal(tc.due) {
			t.Errorf("reminderDue(%s) = %s, want %s", tc.start, got.UTC(), tc.due)
		}
		if tc.start.Sub(tc.due) > reminderHorizon {
			t.Errorf("%s: due %s before the start, beyond the horizon", tc.start, tc.start.Sub(tc.due))
		}
	}
}

// TestReminders_TwoProcesses: two plugin processes on one store look at once, again
// and again; every volunteer is reminded exactly once.
func TestReminders_TwoProcesses(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		const people = 12
		o := f.published(t, func(in *OpportunityInput) {
			in.AutoAccept = true
			in.Shifts = []ShiftInput{f.saturday(9, 12, people/2), f.saturday(13, 16, people/2)}
		})
		var ids []string
		for i := range people {
			id := fmt.Sprintf("v%02d", i)
			ids = append(ids, id)
			if _, err := f.svc.Apply(ctx, f.volunteer(t, id, nil), o.ID, o.Shifts[i%2].ID); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Set(time.Date(2025, 6, 6, 12, 0, 0, 0, f.loc))
		second, db2 := f.process(t, cfg)
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for _, svc := range []*Service{f.svc, second, f.svc, second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := svc.SendReminders(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if err := db2.FlushOutbox(ctx, f.host); err != nil {
			t.Fatal(err)
		}
		if total != people {
			t.Fatalf("sent %d reminders, want %d", total, people)
		}
		f.wantNotified(t, NotifyReminder, ids)
		if got := len(f.host.Notifications(NotifyReminder)); got != people {
			t.Fatalf("%d reminders relayed, want %d", got, people)
		}
	})
}

func TestService_Follow(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		o := f.published(t, nil)
		fan := f.host.Principal("fan")
		t.Run("OK", func(t *testing.T) {
			if _, err := f.svc.Follow(ctx, fan, o.ID, true); err != nil {
				t.Fatal(err)
			}
			f.notified(t, "", "")
			if got := f.host.Followers(opportunitySubject(o.ID)); !slices.Equal(got, []string{"fan"}) {
				t.Fatalf("followers = %v", got)
			}
			if _, err := f.svc.Follow(ctx, fan, o.ID, false); err != nil {
				t.Fatal(err)
			}
			f.notified(t, "", "")
			if got := f.host.Followers(opportunitySubject(o.ID)); len(got) != 0 {
				t.Fatalf("followers = %v", got)
			}
		})
		t.Run("ErrDraftOfOthers", func(t *testing.T) {
			d, err := f.svc.CreateOpportunity(ctx, f.rep, OpportunityInput{OrganisationID: "org-1", Title: "Draft",
				Shifts: []ShiftInput{f.saturday(9, 12, 1)}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.Follow(ctx, fan, d.ID, true)
			wantCode(t, err, sdk.CodeNotFound)
		})
		t.Run("ErrAnonymous", func(t *testing.T) {
			_, err := f.svc.Follow(ctx, sdk.Principal{}, o.ID, true)
			wantCode(t, err, sdk.CodeUnauthenticated)
		})
	})
}

func TestHandler_FollowAndChangeShift(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newHarness(t, f, cfg)
		o := f.published(t, nil)
		fan := f.host.Principal("fan")
		path := "/api/v1/volunteers/opportunities/" + o.ID
		if status, body, _ := c.do(fan, "PUT", path+"/follow", nil); status != 200 || body["following"] != true {
			t.Fatalf("PUT follow = %d %v", status, body)
		}
		if status, body, _ := c.do(fan, "DELETE", path+"/follow", nil); status != 200 || body["following"] != false {
			t.Fatalf("DELETE follow = %d %v", status, body)
		}
		day := time.Date(2025, 6, 7, 0, 0, 0, 0, f.loc)
		move := ShiftChange{Start: day.Add(10 * time.Hour).Format(time.RFC3339), End: day.Add(13 * time.Hour).Format(time.RFC3339)}
		if status, _, _ := c.do(fan, "PUT", path+"/shifts/"+o.Shifts[0].ID, move); status != 403 {
			t.Fatalf("a stranger moved a shift: %d", status)
		}
		status, body, _ := c.do(f.rep, "PUT", path+"/shifts/"+o.Shifts[0].ID, move)
		if status != 200 {
			t.Fatalf("PUT shift = %d %v", status, body)
		}
		if status, _, _ := c.do(f.rep, "PUT", path+"/shifts/"+o.Shifts[0].ID, ShiftChange{Start: move.End, End: move.Start}); status != 422 {
			t.Fatalf("a shift ending before it starts = %d, want 422", status)
		}
	})
}

// TestNotifyCatalog: every notification is worded in the five languages with the same
// placeholders, and every kind the manifest declares has a label in each.
func TestNotifyCatalog(t *testing.T) {
	i18ntest.CheckCatalog(t, locales)
	kinds := New().Manifest().Notifications
	for _, k := range kinds {
		for _, lang := range i18n.Required {
			if k.Labels[lang] == "" {
				t.Errorf("%s: no label in %s", k.Name, lang)
			}
		}
	}
	if err := sdk.CheckNotificationKinds("volunteers", kinds); err != nil {
		t.Fatal(err)
	}
}

// TestProcess_RemindersOnce runs the plugin as two processes on one store, each with its
// scheduler on the real clock, then restarts one: every volunteer of a shift starting
// in a few hours (its reminder due since the morning before) is reminded exactly once.
func TestProcess_RemindersOnce(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		start := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
		o := f.published(t, func(in *OpportunityInput) {
			in.AutoAccept = true
			in.Shifts = []ShiftInput{{Start: start.Format(time.RFC3339), End: start.Add(2 * time.Hour).Format(time.RFC3339), Capacity: 10}}
		})
		const people = 6
		for i := range people {
			if _, err := f.svc.Apply(ctx, f.volunteer(t, fmt.Sprintf("p%d", i), nil), o.ID, o.Shifts[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		launch := func() *sdktest.Process {
			return sdktest.LaunchProcess(t, sdktest.ProcessOptions{Pkg: "./cmd/kvarter-volunteers", Name: "volunteers",
				Host: f.host, Store: cfg, Languages: []string{"fi", "en"}})
		}
		// Each process looks once as it starts, and relays what it wrote at once.
		reminded := func() int { return len(f.host.Notifications(NotifyReminder)) }
		waitFor := func(want int) {
			t.Helper()
			for deadline := time.Now().Add(time.Minute); reminded() < want && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
		}
		p1, p2 := launch(), launch()
		waitFor(people)
		p1.Close()
		p3 := launch()
		if err := p3.Health(ctx); err != nil {
			t.Fatal(err)
		}
		p2.Close()
		p3.Close()
		for i := range people {
			if l := f.host.NotificationsTo(fmt.Sprintf("p%d", i), NotifyReminder); len(l) != 1 {
				t.Errorf("p%d got %d reminders, want 1", i, len(l))
			}
		}
		if got := reminded(); got != people {
			t.Errorf("%d reminders, want %d", got, people)
		}
	})
}

// TestNotify_CancelShift: one shift called off tells those signed up for it, not those
// of the other shifts nor the followers; the last shift cannot be, and one that started
// cannot be either.
func TestNotify_CancelShift(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		ctx := context.Background()
		v1, v2 := f.volunteer(t, "v1", nil), f.volunteer(t, "v2", nil)
		o := f.published(t, func(in *OpportunityInput) {
			in.AutoAccept = true
			in.Shifts = []ShiftInput{f.saturday(9, 12, 1), f.saturday(13, 16, 3)}
		})
		a, b := o.Shifts[0], o.Shifts[1]
		for _, v := range []sdk.Principal{v1, v2} { // v1 holds a's place, v2 waits for it
			if _, err := f.svc.Apply(ctx, v, o.ID, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		f.volunteer(t, "v3", nil)
		if _, err := f.svc.Apply(ctx, f.host.Principal("v3"), o.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.CancelShift(ctx, f.rep, o.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Shifts) != 1 || got.Shifts[0].ID != b.ID {
			t.Fatalf("shifts after cancelling one: %+v", got.Shifts)
		}
		n := f.wantNotified(t, NotifyShiftCancelled, []string{"v1", "v2"}, "v3", "rep")
		wantText(t, n, "en", "Shift cancelled: Park clean-up", "on 7 Jun 2025, 09:00–12:00")
		wantText(t, n, "fi", "Tehtävän ”Park clean-up” vuoro 7.6.2025 klo 09.00–12.00 on peruttu")
		f.wantNotified(t, NotifyOpportunityCancelled, nil, "v1", "v2", "v3")
		// Their time is free again: v1 may take the same hours elsewhere.
		other := f.published(t, func(in *OpportunityInput) { in.AutoAccept = true })
		if ap, err := f.svc.Apply(ctx, v1, other.ID, other.Shifts[0].ID); err != nil || ap.Status != StatusConfirmed {
			t.Fatalf("v1 on the same hours elsewhere: %+v, %v", ap, err)
		}

		_, err = f.svc.CancelShift(ctx, f.rep, o.ID, b.ID)
		wantCode(t, err, sdk.CodeConflict) // the last one
		f.clock.Set(time.Date(2025, 6, 7, 9, 30, 0, 0, f.loc))
		_, err = f.svc.CancelShift(ctx, f.rep, other.ID, other.Shifts[0].ID)
		wantCode(t, err, sdk.CodeConflict) // started
	})
}
