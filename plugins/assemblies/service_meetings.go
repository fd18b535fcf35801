package assemblies

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// MeetingInput schedules a meeting.
type MeetingInput struct {
	Title     string       `json:"title" max:"300"`
	StartsAt  time.Time    `json:"starts_at"`
	EndsAt    time.Time    `json:"ends_at"`
	Place     string       `json:"place" max:"300"`
	OnlineURL string       `json:"online_url" max:"2000"`
	Agenda    []AgendaItem `json:"agenda"`
}

func (in *MeetingInput) validate() error {
	in.Title, in.Place, in.OnlineURL = strings.TrimSpace(in.Title), strings.TrimSpace(in.Place), strings.TrimSpace(in.OnlineURL)
	var f fieldErrors
	if in.Title == "" {
		f.add("title", "is required", sdk.RuleRequired)
	}
	if in.StartsAt.IsZero() {
		f.add("starts_at", "is required (RFC 3339)", sdk.RuleRequired)
	}
	if in.EndsAt.IsZero() {
		f.add("ends_at", "is required (RFC 3339)", sdk.RuleRequired)
	} else if !in.EndsAt.After(in.StartsAt) {
		f.add("ends_at", "must be after starts_at", RuleAfter)
	}
	if in.Place == "" && in.OnlineURL == "" {
		f.add("place", "give a place, an online_url, or both", sdk.RuleRequired)
	}
	if in.OnlineURL != "" && !validURL(in.OnlineURL) {
		f.add("online_url", "must be an http or https URL", sdk.RuleFormat)
	}
	for i, it := range in.Agenda {
		if strings.TrimSpace(it.Title) == "" {
			f.add(fmt.Sprintf("agenda[%d].title", i), "is required", sdk.RuleRequired)
		}
	}
	return f.err()
}

// meetingFor checks a meeting to schedule or reschedule and finds its assembly: the
// input must be valid and start in the future, because one cannot schedule (or move a
// meeting to) what cannot happen any more. It returns the assembly and now.
func (s *Service) meetingFor(ctx context.Context, assemblyID string, in *MeetingInput) (Assembly, time.Time, error) {
	if err := in.validate(); err != nil {
		return Assembly{}, time.Time{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Assembly{}, time.Time{}, err
	}
	now := s.Now()
	if !in.StartsAt.After(now) {
		return Assembly{}, time.Time{}, invalid("starts_at", "must be in the future", RuleFuture)
	}
	return a, now, nil
}

// checkAgenda checks that every motion an agenda links to is the assembly's.
func checkAgenda(ctx context.Context, q sqlx.ExtContext, assemblyID string, items []AgendaItem) error {
	for i, it := range items {
		if it.MotionID == "" {
			continue
		}
		if _, err := getMotion(ctx, q, assemblyID, it.MotionID); err != nil {
			return invalid(fmt.Sprintf("agenda[%d].motion_id", i), "is not a motion of this assembly", sdk.RuleExists)
		}
	}
	return nil
}

// agendaTimeline puts on the public timeline of each motion the meeting's agenda
// links to what concerns it: on_agenda when it is newly on the agenda (was lists the
// motions linked before), meeting_moved when it already was and the meeting was
// rescheduled. Each entry names the meeting and when it starts.
func agendaTimeline(ctx context.Context, q sqlx.ExtContext, m meetingRow, was []string, rescheduled bool, now time.Time, actor string) error {
	var linked []string
	if err := sel(ctx, q, &linked, `SELECT DISTINCT motion_id FROM agenda_items WHERE meeting_id = ? AND motion_id <> '' ORDER BY motion_id`, m.ID); err != nil {
		return fmt.Errorf("read agenda: %w", err)
	}
	for _, id := range linked {
		kind := "on_agenda"
		if slices.Contains(was, id) {
			if !rescheduled {
				continue
			}
			kind = "meeting_moved"
		}
		detail := map[string]any{"meeting_id": m.ID, "meeting": m.Title, "starts_at": m.StartsAt.Time.UTC()}
		if err := addTimeline(ctx, q, id, now, kind, actor, detail); err != nil {
			return err
		}
	}
	return nil
}

// meetingMode says how a meeting is attended, from where it is.
func meetingMode(place, onlineURL string) string {
	switch {
	case place != "" && onlineURL != "":
		return ModeHybrid
	case onlineURL != "":
		return ModeOnline
	}
	return ModeInPerson
}

// ScheduleMeeting schedules a meeting; the chair, vice-chair, secretary or a
// coordinator may.
func (s *Service) ScheduleMeeting(ctx context.Context, p sdk.Principal, assemblyID string, in MeetingInput) (Meeting, error) {
	a, now, err := s.meetingFor(ctx, assemblyID, &in)
	if err != nil {
		return Meeting{}, err
	}
	r := meetingRow{ID: s.newID(), AssemblyID: a.ID, Title: in.Title, StartsAt: store.Time{Time: in.StartsAt},
		EndsAt: store.Time{Time: in.EndsAt}, Place: in.Place, OnlineURL: in.OnlineURL, Status: MeetingScheduled,
		MinutesStatus: MinutesNone, CreatedAt: store.Time{Time: now}, UpdatedAt: store.Time{Time: now}}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.officer(ctx, tx, a, p, true, PositionChair, PositionViceChair, PositionSecretary); err != nil {
			return err
		}
		if err := checkAgenda(ctx, tx, a.ID, in.Agenda); err != nil {
			return err
		}
		if err := insertMeeting(ctx, tx, r); err != nil {
			return err
		}
		if err := replaceAgenda(ctx, tx, r.ID, in.Agenda); err != nil {
			return err
		}
		if err := agendaTimeline(ctx, tx, r, nil, false, now, p.UserID); err != nil {
			return err
		}
		if err := s.notifyMeeting(ctx, tx, a, r, NotifyMeetingScheduled, p.UserID); err != nil {
			return err
		}
		return tx.Emit(EventMeetingScheduled, MeetingScheduledPayload{AssemblyRef: refOf(a), MeetingID: r.ID, StartsAt: r.StartsAt.Time})
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.Meeting(ctx, a.ID, r.ID)
}

// Meeting returns one meeting with its agenda and attendance.
func (s *Service) Meeting(ctx context.Context, assemblyID, id string) (Meeting, error) {
	r, err := getMeeting(ctx, s.db, assemblyID, id)
	if err != nil {
		return Meeting{}, err
	}
	ms := []Meeting{r.meeting(s.Now())}
	if err := fillMeetings(ctx, s.db, ms); err != nil {
		return Meeting{}, err
	}
	return ms[0], nil
}

// Meetings lists a page of an assembly's meetings, earliest first.
func (s *Service) Meetings(ctx context.Context, assemblyID string, q sdk.ListQuery) (sdk.Page[Meeting], error) {
	return s.MeetingsWhen(ctx, assemblyID, "", q)
}

// MeetingUpdate is what the meeting actions take: a cancellation reason, minutes
// text, or the attendance list.
type MeetingUpdate struct {
	Reason  string
	Minutes string
	// UserIDs attended in the room, RemoteUserIDs online.
	UserIDs, RemoteUserIDs []string
}

// CancelInput is the body of a cancellation.
type CancelInput struct {
	Reason string `json:"reason" max:"4000" doc:"Why the meeting is cancelled; always given"`
}

// AttendanceInput is the body of the attendance list: it replaces the one recorded.
type AttendanceInput struct {
	UserIDs       []string `json:"user_ids" max:"64" doc:"User IDs of the active members present in the room"`
	RemoteUserIDs []string `json:"remote_user_ids" max:"64" doc:"User IDs of the active members who took part online, through the meeting's link"`
}

// MinutesInput is the body of draft minutes.
type MinutesInput struct {
	Minutes string `json:"minutes" max:"100000"`
}

// UpdateMeeting performs one of the meeting actions: cancel, attendance, minutes
// (write the draft), approve_minutes, publish_minutes. They follow the meeting's life
// cycle: a meeting is cancelled only before it begins, and attendance and minutes are
// recorded only once it has begun (held), because they cannot be known before.
func (s *Service) UpdateMeeting(ctx context.Context, p sdk.Principal, assemblyID, meetingID, action string, in MeetingUpdate) (Meeting, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Meeting{}, err
	}
	var draft string
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := getMeeting(ctx, tx, a.ID, meetingID)
		if err != nil {
			return err
		}
		positions := []string{PositionChair, PositionViceChair, PositionSecretary}
		if action == "approve_minutes" {
			positions = []string{PositionChair, PositionViceChair}
		}
		if err := s.officer(ctx, tx, a, p, action == "cancel", positions...); err != nil {
			return err
		}
		now := store.Time{Time: s.Now()}
		status := m.status(now.Time)
		if action != "cancel" && status == MeetingScheduled {
			return sdk.Errorf(sdk.CodeConflict, "the meeting has not begun yet: attendance and minutes are recorded once it has")
		}
		switch action {
		case "cancel":
			if status == MeetingCancelled {
				return sdk.Errorf(sdk.CodeConflict, "the meeting is already cancelled")
			}
			if status == MeetingHeld {
				return sdk.Errorf(sdk.CodeConflict, "the meeting has already begun and cannot be cancelled")
			}
			if strings.TrimSpace(in.Reason) == "" {
				return invalid("reason", "is required: a cancellation is always explained", sdk.RuleRequired)
			}
			m.Status, m.CancelReason = MeetingCancelled, strings.TrimSpace(in.Reason)
			m.Sequence++
			if err := s.notifyMeeting(ctx, tx, a, m, NotifyMeetingCancelled, p.UserID); err != nil {
				return err
			}
			if err := tx.Emit(EventMeetingCancelled, MeetingCancelledPayload{AssemblyRef: refOf(a), MeetingID: m.ID, Reason: m.CancelReason}); err != nil {
				return err
			}
		case "attendance":
			if m.Status == MeetingCancelled {
				return sdk.Errorf(sdk.CodeConflict, "a cancelled meeting has no attendance")
			}
			if len(in.RemoteUserIDs) > 0 && m.OnlineURL == "" {
				return invalid("remote_user_ids", "the meeting has no online link, so nobody took part online", RuleOnlineOnly)
			}
			if _, err := exec(ctx, tx, `DELETE FROM attendance WHERE meeting_id = ?`, m.ID); err != nil {
				return fmt.Errorf("clear attendance: %w", err)
			}
			for _, list := range []struct {
				field  string
				ids    []string
				remote bool
			}{{"user_ids", in.UserIDs, false}, {"remote_user_ids", in.RemoteUserIDs, true}} {
				for i, uid := range list.ids {
					mem, err := getMember(ctx, tx, a.ID, uid)
					if err != nil || mem.Status != MemberActive {
						return invalid(fmt.Sprintf("%s[%d]", list.field, i), "is not an active member of this assembly", RuleActive)
					}
					n, err := exec(ctx, tx, `INSERT INTO attendance (meeting_id, user_id, remote) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, m.ID, uid, list.remote)
					if err != nil {
						return fmt.Errorf("record attendance: %w", err)
					}
					if n == 0 && list.remote {
						return invalid(fmt.Sprintf("%s[%d]", list.field, i), "is already recorded in the room", RuleOnce)
					}
				}
			}
		case "minutes":
			if m.MinutesStatus == MinutesPublished {
				return sdk.Errorf(sdk.CodeConflict, "published minutes cannot be changed")
			}
			if strings.TrimSpace(in.Minutes) == "" {
				return invalid("minutes", "is required", sdk.RuleRequired)
			}
			m.Minutes, m.MinutesStatus = in.Minutes, MinutesDraft
		case "approve_minutes":
			if m.MinutesStatus != MinutesDraft {
				return sdk.Errorf(sdk.CodeConflict, "only draft minutes can be approved; these are %s", m.MinutesStatus)
			}
			m.MinutesStatus = MinutesApproved
		case "publish_minutes":
			if m.MinutesStatus != MinutesApproved {
				return sdk.Errorf(sdk.CodeConflict, "minutes must be approved before they are published; these are %s", m.MinutesStatus)
			}
			m.MinutesStatus = MinutesPublished
			if err := s.notifyMeeting(ctx, tx, a, m, NotifyMinutesPublished, p.UserID); err != nil {
				return err
			}
			if err := tx.Emit(EventMinutesPublished, MinutesPublishedPayload{AssemblyRef: refOf(a), MeetingID: m.ID}); err != nil {
				return err
			}
		default:
			return sdk.Errorf(sdk.CodeNotFound, "unknown meeting action %q", action)
		}
		m.UpdatedAt = now
		draft = m.Minutes
		return updateMeeting(ctx, tx, m)
	})
	if err != nil {
		return Meeting{}, err
	}
	out, err := s.Meeting(ctx, a.ID, meetingID)
	// The officer who just wrote the draft sees it; everyone else waits for publication.
	out.Minutes = draft
	return out, err
}
