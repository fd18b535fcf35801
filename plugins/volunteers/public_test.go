package volunteers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

func publicOf(svc *Service, f PublicFilter) ([]Opportunity, error) {
	return readAll(func(q sdk.ListQuery) (sdk.Page[Opportunity], error) {
		return svc.PublicOpportunities(context.Background(), f, q)
	})
}

func titles(l []Opportunity) string {
	var out []string
	for _, o := range l {
		out = append(out, o.Title)
	}
	return strings.Join(out, ",")
}

// TestPublic_Filters: the public list shows only published opportunities with a shift
// to come, and each filter keeps exactly the ones it names.
func TestPublic_Filters(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		f.host.AddNeighbourhood(sdk.Neighbourhood{ID: "nbh-2", Name: "Satama"})
		f.published(t, func(in *OpportunityInput) { in.Title = "A" })
		f.published(t, func(in *OpportunityInput) {
			in.Title, in.NeighbourhoodID, in.MinAge, in.Newcomers = "B", "nbh-2", 18, true
		})
		f.published(t, func(in *OpportunityInput) {
			in.Title, in.PreferredSkills = "C", []string{"first_aid"}
			in.Shifts = []ShiftInput{{Start: "2025-06-20T09:00:00+03:00", End: "2025-06-20T12:00:00+03:00", Capacity: 2}}
		})
		// A skill whose ID holds LIKE's wildcard "_" must not match "first-aid".
		if _, err := f.svc.PutSkill(ctx, f.staff, Skill{ID: "first-aid", Names: map[string]string{"en": "x"}}); err != nil {
			t.Fatal(err)
		}
		f.published(t, func(in *OpportunityInput) { in.Title, in.RequiredSkills = "D", []string{"first-aid"} })
		if _, err := f.svc.CreateOpportunity(ctx, f.rep, OpportunityInput{OrganisationID: "org-1", Title: "Draft",
			Shifts: []ShiftInput{f.saturday(9, 12, 3)}}); err != nil {
			t.Fatal(err)
		}
		cancelled := f.published(t, func(in *OpportunityInput) { in.Title = "Cancelled" })
		if _, err := f.svc.SetState(ctx, f.rep, cancelled.ID, StateCancelled); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			f    PublicFilter
			want string
		}{
			{"none", PublicFilter{}, "A,B,C,D"},
			{"neighbourhood", PublicFilter{NeighbourhoodID: "nbh-2"}, "B"},
			{"skill", PublicFilter{Skill: "first_aid"}, "C"},
			{"age", PublicFilter{Age: 17}, "A,C,D"},
			{"newcomers", PublicFilter{Newcomers: true}, "B"},
			{"from", PublicFilter{From: match.Date{Year: 2025, Month: 6, Day: 8}}, "C"},
			{"to", PublicFilter{To: match.Date{Year: 2025, Month: 6, Day: 7}}, "A,B,D"},
		} {
			got, err := publicOf(f.svc, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if titles(got) != c.want {
				t.Errorf("%s: %s, want %s", c.name, titles(got), c.want)
			}
		}
		// Once every shift has started, nothing is left to sign up for.
		f.clock.Set(time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC))
		if got, _ := publicOf(f.svc, PublicFilter{}); titles(got) != "C" {
			t.Errorf("after the 7th: %s", titles(got))
		}
	})
}

// TestPublic_OpportunityHidesDrafts: a draft's page is "not found" to the public, a
// published one shows its free places.
func TestPublic_OpportunityHidesDrafts(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		draft, err := f.svc.CreateOpportunity(ctx, f.rep, OpportunityInput{OrganisationID: "org-1", Title: "Draft",
			Shifts: []ShiftInput{f.saturday(9, 12, 3)}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.PublicOpportunity(ctx, draft.ID)
		wantCode(t, err, sdk.CodeNotFound)
		o := f.published(t, func(in *OpportunityInput) { in.AutoAccept = true })
		vol := f.volunteer(t, "vol", nil)
		if _, err := f.svc.Apply(ctx, vol, o.ID, o.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.PublicOpportunity(ctx, o.ID)
		if err != nil || got.Shifts[0].Free != 2 || got.Shifts[0].Taken != 1 {
			t.Fatalf("%+v, %v", got.Shifts, err)
		}
	})
}

// TestMine_Lists: an invitation, an application, a confirmed place, a wait-list place
// with its position and past hours each land in their list.
func TestMine_Lists(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		vol := f.volunteer(t, "vol", nil)
		others := []sdk.Principal{f.volunteer(t, "o1", nil), f.volunteer(t, "o2", nil)}
		full := f.published(t, func(in *OpportunityInput) {
			in.Title, in.AutoAccept, in.Shifts = "Full", true, []ShiftInput{f.saturday(9, 10, 1)}
		})
		for _, o := range others {
			if _, err := f.svc.Apply(ctx, o, full.ID, full.Shifts[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.Apply(ctx, vol, full.ID, full.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		confirmed := f.published(t, func(in *OpportunityInput) {
			in.Title, in.AutoAccept, in.Shifts = "Confirmed", true, []ShiftInput{f.saturday(11, 12, 2)}
		})
		if _, err := f.svc.Apply(ctx, vol, confirmed.ID, confirmed.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		applied := f.published(t, func(in *OpportunityInput) { in.Title, in.Shifts = "Applied", []ShiftInput{f.saturday(13, 14, 2)} })
		if _, err := f.svc.Apply(ctx, vol, applied.ID, applied.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		invited := f.published(t, func(in *OpportunityInput) { in.Title, in.Shifts = "Invited", []ShiftInput{f.saturday(15, 16, 2)} })
		if _, err := f.svc.Invite(ctx, f.rep, invited.ID, invited.Shifts[0].ID, "vol"); err != nil {
			t.Fatal(err)
		}
		m, err := f.svc.MyVolunteering(ctx, vol)
		if err != nil {
			t.Fatal(err)
		}
		one := func(name string, l []Commitment, title string) Commitment {
			t.Helper()
			if len(l) != 1 || l[0].Title != title {
				t.Fatalf("%s: %+v, want %s", name, l, title)
			}
			return l[0]
		}
		one("invitations", m.Invitations, "Invited")
		one("applications", m.Applications, "Applied")
		one("confirmed", m.Confirmed, "Confirmed")
		if w := one("waitlisted", m.Waitlisted, "Full"); w.WaitlistPosition != 2 {
			t.Errorf("wait-list position %d, want 2 (behind o2)", w.WaitlistPosition)
		}
		if len(m.Past) != 0 || m.Hours.TotalMinutes != 0 {
			t.Errorf("past %+v hours %+v", m.Past, m.Hours)
		}
		// Someone else's view holds none of vol's sign-ups.
		o1, err := f.svc.MyVolunteering(ctx, others[0])
		if err != nil || len(o1.Confirmed) != 1 || o1.Confirmed[0].Title != "Full" || len(o1.Invitations) != 0 {
			t.Fatalf("o1: %+v, %v", o1, err)
		}
		f.clock.Set(time.Date(2025, 6, 8, 0, 0, 0, 0, time.UTC))
		apps, _ := applicationsOf(f.svc, f.rep, confirmed.ID)
		if _, err := f.svc.RecordAttendance(ctx, f.rep, confirmed.ID, confirmed.Shifts[0].ID, apps[0].ID, AttendanceInput{Attended: true}); err != nil {
			t.Fatal(err)
		}
		m, err = f.svc.MyVolunteering(ctx, vol)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Confirmed)+len(m.Invitations)+len(m.Applications)+len(m.Waitlisted) != 0 || len(m.Past) != 1 || m.Hours.TotalMinutes != 60 {
			t.Errorf("after the day: %+v", m)
		}
		_, err = f.svc.MyVolunteering(ctx, sdk.Principal{})
		wantCode(t, err, sdk.CodeUnauthenticated)
	})
}

// TestMine_Calendar: the feed holds the volunteer's places and only theirs, is valid
// RFC 5545, marks a cancelled opportunity CANCELLED, and a reset token kills the old
// address.
func TestMine_Calendar(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		vol := f.volunteer(t, "vol", nil)
		other := f.volunteer(t, "other", nil)
		o := f.published(t, func(in *OpportunityInput) {
			in.AutoAccept, in.Shifts = true, []ShiftInput{f.saturday(9, 10, 5), f.saturday(11, 12, 5)}
		})
		if _, err := f.svc.Apply(ctx, vol, o.ID, o.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Apply(ctx, other, o.ID, o.Shifts[1].ID); err != nil {
			t.Fatal(err)
		}
		link, err := f.svc.CalendarLink(ctx, vol)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := f.svc.CalendarLink(ctx, vol)
		if again != link {
			t.Fatalf("the address changed without a reset: %v, %v", link, again)
		}
		token := strings.TrimSuffix(strings.TrimPrefix(link.Path, base+"/calendar/"), ".ics")
		feed := func(token string) []byte {
			t.Helper()
			cal, err := f.svc.Calendar(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			b, err := cal.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if err := ical.Validate(b); err != nil {
				t.Fatalf("invalid feed: %v\n%s", err, b)
			}
			return b
		}
		b := string(feed(token))
		if strings.Count(b, "BEGIN:VEVENT") != 1 || !strings.Contains(b, "DTSTART:20250607T060000Z") || !strings.Contains(b, "STATUS:CONFIRMED") {
			t.Fatalf("feed:\n%s", b)
		}
		if _, err := f.svc.SetState(ctx, f.rep, o.ID, StateCancelled); err != nil {
			t.Fatal(err)
		}
		if b := string(feed(token)); !strings.Contains(b, "STATUS:CANCELLED") {
			t.Fatalf("after cancelling:\n%s", b)
		}
		if _, err := f.svc.ResetCalendarLink(ctx, vol); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Calendar(ctx, token)
		wantCode(t, err, sdk.CodeNotFound)
		_, err = f.svc.Calendar(ctx, "")
		wantCode(t, err, sdk.CodeNotFound)
		_, err = f.svc.CalendarLink(ctx, f.rep) // no profile
		wantCode(t, err, sdk.CodeNotFound)
	})
}
