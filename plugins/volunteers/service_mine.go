package volunteers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/store"
)

// Commitment is one of the caller's sign-ups with what a list of them shows: the
// opportunity's title and place and the shift's time.
type Commitment struct {
	ApplicationID    string    `json:"application_id" format:"uuid"`
	OpportunityID    string    `json:"opportunity_id" format:"uuid"`
	ShiftID          string    `json:"shift_id" format:"uuid"`
	Title            string    `json:"title"`
	Place            string    `json:"place"`
	NeighbourhoodID  string    `json:"neighbourhood_id"`
	OrganisationID   string    `json:"organisation_id" doc:"Empty when the city posted it"`
	OpportunityState string    `json:"opportunity_state" enum:"draft,published,closed,cancelled"`
	Start            time.Time `json:"start"`
	End              time.Time `json:"end"`
	Status           string    `json:"status" enum:"applied,invited,accepted,confirmed,waitlisted,declined,withdrawn,attended,no_show"`
	Origin           string    `json:"origin" enum:"applied,invited"`
	WaitlistPosition int       `json:"waitlist_position" doc:"1 is next to move up; 0 when not on the wait list"`
	Minutes          int       `json:"minutes" doc:"Minutes worked, once attendance is recorded"`
}

// MyVolunteering is everything the caller signed up for, sorted for the "my
// volunteering" page: each list in shift start order.
type MyVolunteering struct {
	// Invitations wait for the volunteer's answer (confirm or withdraw).
	Invitations []Commitment `json:"invitations" nullable:"false" doc:"Organisers' invitations on shifts still to come: confirm or withdraw"`
	// Applications wait for the organiser (applied) or the volunteer's confirmation (accepted).
	Applications []Commitment `json:"applications" nullable:"false" doc:"Applied (waiting for the organiser) or accepted (waiting for your confirmation), shifts still to come"`
	Confirmed    []Commitment `json:"confirmed" nullable:"false" doc:"Places you hold on shifts still to come"`
	Waitlisted   []Commitment `json:"waitlisted" nullable:"false" doc:"Wait-list places on shifts still to come, with your position"`
	// Past are held places whose shift has started, attended or not.
	Past  []Commitment `json:"past" nullable:"false" doc:"Shifts that have started: confirmed, attended or missed"`
	Hours Hours        `json:"hours"`
}

// MyVolunteering lists the caller's sign-ups by what they wait for, and their hours.
// Declined and withdrawn sign-ups, and those of cancelled opportunities, are left out of
// every list but Past's attended ones.
func (s *Service) MyVolunteering(ctx context.Context, p sdk.Principal) (MyVolunteering, error) {
	if err := requireUser(p); err != nil {
		return MyVolunteering{}, err
	}
	all, err := s.st.commitments(ctx, p.UserID)
	if err != nil {
		return MyVolunteering{}, err
	}
	hours, err := s.Hours(ctx, p)
	if err != nil {
		return MyVolunteering{}, err
	}
	now := s.clock()
	out := MyVolunteering{Invitations: []Commitment{}, Applications: []Commitment{}, Confirmed: []Commitment{},
		Waitlisted: []Commitment{}, Past: []Commitment{}, Hours: hours}
	for _, c := range all {
		upcoming := c.Start.After(now) && c.OpportunityState != StateCancelled
		switch {
		case c.Status == StatusAttended || c.Status == StatusNoShow ||
			(c.Status == StatusConfirmed && !c.Start.After(now) && c.OpportunityState != StateCancelled):
			out.Past = append(out.Past, c)
		case !upcoming:
		case c.Status == StatusInvited:
			out.Invitations = append(out.Invitations, c)
		case c.Status == StatusApplied || c.Status == StatusAccepted:
			out.Applications = append(out.Applications, c)
		case c.Status == StatusConfirmed:
			out.Confirmed = append(out.Confirmed, c)
		case c.Status == StatusWaitlisted:
			out.Waitlisted = append(out.Waitlisted, c)
		}
	}
	return out, nil
}

// CalendarLink is the address of a volunteer's calendar feed. The token in it is the
// only key: calendar apps cannot sign in. Resetting it makes the old address useless.
type CalendarLink struct {
	Path string `json:"path" doc:"The feed's path on this server; subscribe to it in a calendar app" example:"/api/v1/volunteers/calendar/3f9c….ics"`
}

func calendarPath(token string) string { return base + "/calendar/" + token + ".ics" }

// CalendarLink returns the caller's feed address, making its token the first time.
func (s *Service) CalendarLink(ctx context.Context, p sdk.Principal) (CalendarLink, error) {
	return s.calendarToken(ctx, p, false)
}

// ResetCalendarLink gives the caller a new feed address; the old one answers 404.
func (s *Service) ResetCalendarLink(ctx context.Context, p sdk.Principal) (CalendarLink, error) {
	return s.calendarToken(ctx, p, true)
}

func (s *Service) calendarToken(ctx context.Context, p sdk.Principal, reset bool) (CalendarLink, error) {
	if err := requireUser(p); err != nil {
		return CalendarLink{}, err
	}
	var token string
	err := s.st.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := s.st.lockCalendarToken(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		if cur != "" && !reset {
			token = cur
			return nil
		}
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		token = hex.EncodeToString(b)
		return s.st.setCalendarToken(ctx, tx, p.UserID, token)
	})
	if err != nil {
		return CalendarLink{}, err
	}
	return CalendarLink{Path: calendarPath(token)}, nil
}

// Calendar is the feed behind a calendar token: the volunteer's held places, past and
// to come; a place on a cancelled opportunity is CANCELLED, so a subscribed app drops it.
// An unknown token is "not found".
func (s *Service) Calendar(ctx context.Context, token string) (*ical.Calendar, error) {
	if len(token) != 48 {
		return nil, sdk.Errorf(sdk.CodeNotFound, "no such calendar")
	}
	userID, err := s.st.userByCalendarToken(ctx, token)
	if err != nil {
		return nil, err
	}
	all, err := s.st.commitments(ctx, userID)
	if err != nil {
		return nil, err
	}
	cal := &ical.Calendar{ProdID: "-//Kvarter//volunteers//EN", Name: "Volunteering"}
	now := s.clock()
	for _, c := range all {
		switch c.Status {
		case StatusConfirmed, StatusAttended, StatusNoShow:
		default:
			continue
		}
		ev := ical.Event{UID: c.ApplicationID + "@volunteers.kvarter", Stamp: now, Start: c.Start, End: c.End,
			Summary: c.Title, Location: c.Place, URL: opportunityLink(c.OpportunityID), Status: ical.StatusConfirmed}
		if c.OpportunityState == StateCancelled {
			ev.Status, ev.Sequence = ical.StatusCancelled, 1
		}
		cal.Events = append(cal.Events, ev)
	}
	return cal, nil
}
