package assemblies

import (
	"context"
	"fmt"
	"slices"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// This file holds the edits of what was created: an assembly's name, charter and
// rules, a meeting that has not begun, a motion still in draft. Each is audited; an
// edit of a motion is also on its public timeline.

// EditAssemblyInput replaces an assembly's name, charter and rules. A vote already
// open keeps the rules it copied when it opened.
type EditAssemblyInput struct {
	Name    string `json:"name" max:"200"`
	Charter string `json:"charter" max:"20000"`
	Rules
}

// EditAssembly changes an assembly's name, charter and rules; its chair or a
// coordinator of its neighbourhood may.
func (s *Service) EditAssembly(ctx context.Context, p sdk.Principal, id string, in EditAssemblyInput) (Assembly, error) {
	if err := requireUser(p); err != nil {
		return Assembly{}, err
	}
	a, err := s.Assembly(ctx, id)
	if err != nil {
		return Assembly{}, err
	}
	check := CreateAssemblyInput{NeighbourhoodID: a.NeighbourhoodID, Name: in.Name, Charter: in.Charter, Rules: in.Rules}
	if err := check.normalise(); err != nil {
		return Assembly{}, err
	}
	changed := changedAssemblyFields(a, check)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.officer(ctx, tx, a, p, true, PositionChair); err != nil {
			return err
		}
		return updateAssembly(ctx, tx, a.ID, check)
	})
	if err != nil {
		return Assembly{}, err
	}
	s.audit(ctx, p, "assemblies.assembly.edit", a, "assembly:"+a.ID, map[string]any{"fields": changed})
	return s.Assembly(ctx, a.ID)
}

// changedAssemblyFields names the fields an edit changes, for the audit log.
func changedAssemblyFields(a Assembly, in CreateAssemblyInput) []string {
	out := []string{}
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("name", a.Name != in.Name)
	add("charter", a.Charter != in.Charter)
	add("rules", a.Rules != in.Rules)
	return out
}

// EditMeeting changes a meeting that has not begun: its title, time, place, online
// link and agenda. A new time must still be in the future; the calendar feed's
// SEQUENCE goes up so that calendars take the change.
func (s *Service) EditMeeting(ctx context.Context, p sdk.Principal, assemblyID, meetingID string, in MeetingInput) (Meeting, error) {
	if err := requireUser(p); err != nil {
		return Meeting{}, err
	}
	a, now, err := s.meetingFor(ctx, assemblyID, &in)
	if err != nil {
		return Meeting{}, err
	}
	var rescheduled bool
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.officer(ctx, tx, a, p, true, PositionChair, PositionViceChair, PositionSecretary); err != nil {
			return err
		}
		m, err := getMeeting(ctx, tx, a.ID, meetingID)
		if err != nil {
			return err
		}
		switch m.status(now) {
		case MeetingCancelled:
			return sdk.Errorf(sdk.CodeConflict, "a cancelled meeting cannot be changed")
		case MeetingHeld:
			return sdk.Errorf(sdk.CodeConflict, "the meeting has begun: what happened there is recorded in its attendance and minutes")
		}
		if err := checkAgenda(ctx, tx, a.ID, in.Agenda); err != nil {
			return err
		}
		var was []string
		if err := sel(ctx, tx, &was, `SELECT DISTINCT motion_id FROM agenda_items WHERE meeting_id = ? AND motion_id <> ''`, m.ID); err != nil {
			return fmt.Errorf("read agenda: %w", err)
		}
		rescheduled = !m.StartsAt.Equal(in.StartsAt) || !m.EndsAt.Equal(in.EndsAt)
		m.Title, m.StartsAt, m.EndsAt = in.Title, store.Time{Time: in.StartsAt}, store.Time{Time: in.EndsAt}
		m.Place, m.OnlineURL = in.Place, in.OnlineURL
		m.Sequence++
		m.UpdatedAt = store.Time{Time: now}
		if err := updateMeetingDetails(ctx, tx, m); err != nil {
			return err
		}
		if err := replaceAgenda(ctx, tx, m.ID, in.Agenda); err != nil {
			return err
		}
		if err := agendaTimeline(ctx, tx, m, was, rescheduled, now, p.UserID); err != nil {
			return err
		}
		if rescheduled {
			// Members and followers hear of the new time as they heard of the first,
			// in words that say it moved.
			return s.notifyMeetingAs(ctx, tx, a, m, NotifyMeetingScheduled, VariantMeetingMoved, p.UserID)
		}
		return nil
	})
	if err != nil {
		return Meeting{}, err
	}
	s.audit(ctx, p, "assemblies.meeting.edit", a, "meeting:"+meetingID, map[string]any{"rescheduled": rescheduled})
	return s.Meeting(ctx, a.ID, meetingID)
}

// EditMotionInput replaces a draft motion's title and text.
type EditMotionInput struct {
	Title string `json:"title" max:"300"`
	Text  string `json:"text" max:"20000"`
}

// EditMotion changes a motion still in draft; only its author may. Once tabled, the
// assembly deliberates on the text as it stands.
func (s *Service) EditMotion(ctx context.Context, p sdk.Principal, assemblyID, motionID string, in EditMotionInput) (Motion, error) {
	if err := requireUser(p); err != nil {
		return Motion{}, err
	}
	var f fieldErrors
	in.Title, in.Text = checkMotionText(&f, in.Title, in.Text)
	if err := f.err(); err != nil {
		return Motion{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Motion{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := getMotionForUpdate(ctx, tx, s.dialect, a.ID, motionID)
		if err != nil {
			return err
		}
		if m.AuthorID != p.UserID {
			return sdk.Errorf(sdk.CodeForbidden, "only the author may edit a draft motion")
		}
		if m.State != StateDraft {
			return sdk.Errorf(sdk.CodeConflict, "only a draft motion can be edited; this one is %s", m.State)
		}
		now := s.Now()
		if _, err := exec(ctx, tx, `UPDATE motions SET title = ?, text = ?, updated_at = ? WHERE id = ?`,
			in.Title, in.Text, store.Micros(now), m.ID); err != nil {
			return fmt.Errorf("edit motion: %w", err)
		}
		return addTimeline(ctx, tx, m.ID, now, "edited", p.UserID, nil)
	})
	if err != nil {
		return Motion{}, err
	}
	s.audit(ctx, p, "assemblies.motion.edit", a, "motion:"+motionID, nil)
	return s.Motion(ctx, a.ID, motionID)
}

// InviteInput names the members an author asks to co-sponsor their motion.
type InviteInput struct {
	UserIDs []string `json:"user_ids" max:"20" doc:"Active members of the assembly, other than the author"`
}

// InviteSponsors has a motion's author ask members of the assembly to co-sponsor it,
// while it is a draft or tabled: each is told at once and co-sponsors (or not) on the
// motion. It returns those newly asked (a sponsor already on the motion is skipped).
func (s *Service) InviteSponsors(ctx context.Context, p sdk.Principal, assemblyID, motionID string, in InviteInput) ([]string, error) {
	if err := requireUser(p); err != nil {
		return nil, err
	}
	if len(in.UserIDs) == 0 {
		return nil, invalid("user_ids", "name at least one member", sdk.RuleRequired)
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return nil, err
	}
	invited := []string{}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := getMotion(ctx, tx, a.ID, motionID)
		if err != nil {
			return err
		}
		if m.AuthorID != p.UserID {
			return sdk.Errorf(sdk.CodeForbidden, "only the author may ask for co-sponsors")
		}
		if m.State != StateDraft && m.State != StateTabled {
			return sdk.Errorf(sdk.CodeConflict, "only a draft or tabled motion can be co-sponsored; this one is %s", m.State)
		}
		sponsors, err := sponsorsOf(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		for i, uid := range in.UserIDs {
			field := fmt.Sprintf("user_ids[%d]", i)
			if uid == p.UserID {
				return invalid(field, "is the author, who cannot co-sponsor their own motion", RuleOnce)
			}
			mem, err := getMember(ctx, tx, a.ID, uid)
			if err != nil || mem.Status != MemberActive {
				return invalid(field, "is not an active member of this assembly", RuleActive)
			}
			if !slices.Contains(sponsors, uid) && !slices.Contains(invited, uid) {
				invited = append(invited, uid)
			}
		}
		if len(invited) == 0 {
			return nil
		}
		author := ""
		if users, err := s.host.Users(ctx, []string{p.UserID}); err == nil && len(users) == 1 {
			author = users[0].DisplayName
		}
		return s.notify(ctx, tx, sdk.Notice{Kind: NotifySponsorInvited, Recipients: invited, Except: p.UserID,
			Subject: motionSubject(m.ID), Link: motionLink(a.ID, m.ID),
			Data: map[string]any{"Assembly": a.Name, "Motion": m.Title, "Author": author}})
	})
	if err != nil {
		return nil, err
	}
	return invited, nil
}
