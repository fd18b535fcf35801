package assemblies

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
)

// --- meetings ---

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
	f := fieldErrors{}
	if in.Title == "" {
		f.add("title", "is required")
	}
	if in.StartsAt.IsZero() {
		f.add("starts_at", "is required (RFC 3339)")
	}
	if in.EndsAt.IsZero() {
		f.add("ends_at", "is required (RFC 3339)")
	} else if !in.EndsAt.After(in.StartsAt) {
		f.add("ends_at", "must be after starts_at")
	}
	if in.Place == "" && in.OnlineURL == "" {
		f.add("place", "give a place, an online_url, or both")
	}
	if in.OnlineURL != "" && !validURL(in.OnlineURL) {
		f.add("online_url", "must be an http or https URL")
	}
	for i, it := range in.Agenda {
		if strings.TrimSpace(it.Title) == "" {
			f.add(fmt.Sprintf("agenda[%d].title", i), "is required")
		}
	}
	return f.err()
}

// ScheduleMeeting schedules a meeting; the chair, vice-chair, secretary or a
// coordinator may.
func (s *Service) ScheduleMeeting(ctx context.Context, p sdk.Principal, assemblyID string, in MeetingInput) (Meeting, error) {
	if err := in.validate(); err != nil {
		return Meeting{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Meeting{}, err
	}
	now := s.Now()
	r := meetingRow{ID: s.newID(), AssemblyID: a.ID, Title: in.Title, StartsAt: fmtTime(in.StartsAt),
		EndsAt: fmtTime(in.EndsAt), Place: in.Place, OnlineURL: in.OnlineURL, Status: MeetingScheduled,
		MinutesStatus: MinutesNone, CreatedAt: fmtTime(now), UpdatedAt: fmtTime(now)}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.officer(ctx, tx, a, p, true, PositionChair, PositionViceChair, PositionSecretary); err != nil {
			return err
		}
		for i, it := range in.Agenda {
			if it.MotionID == "" {
				continue
			}
			if _, err := getMotion(ctx, tx, a.ID, it.MotionID, ""); err != nil {
				return sdk.InvalidField(fmt.Sprintf("agenda[%d].motion_id", i), "is not a motion of this assembly")
			}
		}
		if err := insertMeeting(ctx, tx, r); err != nil {
			return err
		}
		if err := replaceAgenda(ctx, tx, r.ID, in.Agenda); err != nil {
			return err
		}
		return s.event(ctx, tx, EventMeetingScheduled, a, map[string]any{"meeting_id": r.ID, "starts_at": r.StartsAt})
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
	ms := []Meeting{r.meeting()}
	if err := fillMeetings(ctx, s.db, ms); err != nil {
		return Meeting{}, err
	}
	return ms[0], nil
}

// Meetings lists an assembly's meetings, earliest first.
func (s *Service) Meetings(ctx context.Context, assemblyID string) ([]Meeting, error) {
	if _, err := s.Assembly(ctx, assemblyID); err != nil {
		return nil, err
	}
	rows, err := listMeetings(ctx, s.db, assemblyID)
	if err != nil {
		return nil, err
	}
	ms := make([]Meeting, len(rows))
	for i, r := range rows {
		ms[i] = r.meeting()
	}
	return ms, fillMeetings(ctx, s.db, ms)
}

// MeetingUpdate is the body of the meeting actions: a cancellation reason, minutes
// text, or the attendance list.
type MeetingUpdate struct {
	Reason  string   `json:"reason" max:"4000"`
	Minutes string   `json:"minutes" max:"100000"`
	UserIDs []string `json:"user_ids" max:"64"`
}

// UpdateMeeting performs one of the meeting actions: cancel, attendance, minutes
// (write the draft), approve_minutes, publish_minutes.
func (s *Service) UpdateMeeting(ctx context.Context, p sdk.Principal, assemblyID, meetingID, action string, in MeetingUpdate) (Meeting, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Meeting{}, err
	}
	var draft string
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
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
		now := fmtTime(s.Now())
		switch action {
		case "cancel":
			if m.Status == MeetingCancelled {
				return sdk.Errorf(sdk.CodeConflict, "the meeting is already cancelled")
			}
			if strings.TrimSpace(in.Reason) == "" {
				return sdk.InvalidField("reason", "is required: a cancellation is always explained")
			}
			m.Status, m.CancelReason = MeetingCancelled, strings.TrimSpace(in.Reason)
			m.Sequence++
			if err := s.event(ctx, tx, EventMeetingCancelled, a, map[string]any{"meeting_id": m.ID, "reason": m.CancelReason}); err != nil {
				return err
			}
		case "attendance":
			if m.Status == MeetingCancelled {
				return sdk.Errorf(sdk.CodeConflict, "a cancelled meeting has no attendance")
			}
			if _, err := exec(ctx, tx, `DELETE FROM attendance WHERE meeting_id = ?`, m.ID); err != nil {
				return fmt.Errorf("clear attendance: %w", err)
			}
			for i, uid := range in.UserIDs {
				mem, err := getMember(ctx, tx, a.ID, uid)
				if err != nil || mem.Status != MemberActive {
					return sdk.InvalidField(fmt.Sprintf("user_ids[%d]", i), "is not an active member of this assembly")
				}
				if _, err := exec(ctx, tx, `INSERT INTO attendance (meeting_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, m.ID, uid); err != nil {
					return fmt.Errorf("record attendance: %w", err)
				}
			}
		case "minutes":
			if m.MinutesStatus == MinutesPublished {
				return sdk.Errorf(sdk.CodeConflict, "published minutes cannot be changed")
			}
			if strings.TrimSpace(in.Minutes) == "" {
				return sdk.InvalidField("minutes", "is required")
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
			if err := s.event(ctx, tx, EventMinutesPublished, a, map[string]any{"meeting_id": m.ID}); err != nil {
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

// --- motions ---

// MotionInput drafts a motion, or raises a consultation when Kind is "consultation".
type MotionInput struct {
	Title       string     `json:"title" max:"300"`
	Text        string     `json:"text" max:"20000"`
	Kind        string     `json:"kind" max:"32"`
	AdviceDueAt *time.Time `json:"advice_due_at"`
}

// CreateMotion drafts a member's motion, or, for city staff, tables a consultation
// request with a deadline for the assembly's advice.
func (s *Service) CreateMotion(ctx context.Context, p sdk.Principal, assemblyID string, in MotionInput) (Motion, error) {
	if err := requireUser(p); err != nil {
		return Motion{}, err
	}
	in.Title, in.Text = strings.TrimSpace(in.Title), strings.TrimSpace(in.Text)
	if in.Kind == "" {
		in.Kind = KindMotion
	}
	now := s.Now()
	f := fieldErrors{}
	if in.Title == "" {
		f.add("title", "is required")
	} else if len(in.Title) > 300 {
		f.add("title", "must be at most 300 characters")
	}
	if in.Text == "" {
		f.add("text", "is required")
	}
	switch in.Kind {
	case KindMotion:
		if in.AdviceDueAt != nil {
			f.add("advice_due_at", "only a consultation has a deadline for advice")
		}
	case KindConsultation:
		if in.AdviceDueAt == nil {
			f.add("advice_due_at", "is required for a consultation")
		} else if !in.AdviceDueAt.After(now) {
			f.add("advice_due_at", "must be in the future")
		}
	default:
		f.add("kind", "must be motion or consultation")
	}
	if err := f.err(); err != nil {
		return Motion{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Motion{}, err
	}
	r := motionRow{ID: s.newID(), AssemblyID: a.ID, Kind: in.Kind, Title: in.Title, Text: in.Text,
		AuthorID: p.UserID, State: StateDraft, AdviceDueAt: fmtOptTime(in.AdviceDueAt),
		CreatedAt: fmtTime(now), UpdatedAt: fmtTime(now)}
	if in.Kind == KindConsultation {
		ok, err := s.can(ctx, p, PermConsultationRequest, sdk.DomainCity)
		if err != nil {
			return Motion{}, err
		}
		if !ok {
			return Motion{}, sdk.Errorf(sdk.CodeForbidden, "only city staff may ask an assembly for advice")
		}
		r.State = StateTabled // the city's question is on the table as soon as it is asked
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.Kind == KindMotion {
			if _, err := activeMember(ctx, tx, a, p); err != nil {
				return err
			}
		}
		if err := insertMotion(ctx, tx, r); err != nil {
			return err
		}
		kind := "drafted"
		if in.Kind == KindConsultation {
			kind = "consultation_requested"
		}
		if err := addTimeline(ctx, tx, r.ID, now, kind, p.UserID, nil); err != nil {
			return err
		}
		if in.Kind == KindConsultation {
			return s.event(ctx, tx, EventConsultationRequested, a, map[string]any{"motion_id": r.ID, "advice_due_at": r.AdviceDueAt})
		}
		return nil
	})
	if err != nil {
		return Motion{}, err
	}
	return s.Motion(ctx, a.ID, r.ID)
}

// Motion returns a motion with its sponsors and public timeline.
func (s *Service) Motion(ctx context.Context, assemblyID, id string) (Motion, error) {
	r, err := getMotion(ctx, s.db, assemblyID, id, "")
	if err != nil {
		return Motion{}, err
	}
	m := r.motion(s.Now())
	if m.Sponsors, err = sponsorsOf(ctx, s.db, id); err != nil {
		return Motion{}, err
	}
	if m.Timeline, err = timelineOf(ctx, s.db, id); err != nil {
		return Motion{}, err
	}
	return m, nil
}

// Motions lists an assembly's motions, optionally in one state or only those whose
// answer from the city is overdue.
func (s *Service) Motions(ctx context.Context, assemblyID, state string, overdueOnly bool) ([]Motion, error) {
	if _, err := s.Assembly(ctx, assemblyID); err != nil {
		return nil, err
	}
	rows, err := listMotions(ctx, s.db, assemblyID, state)
	if err != nil {
		return nil, err
	}
	out := []Motion{}
	now := s.Now()
	for _, r := range rows {
		m := r.motion(now)
		if overdueOnly && (m.Answer == nil || !m.Answer.Overdue || m.Answer.AnsweredAt != nil) {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// MotionAction is one of the simple state changes of a motion.
type MotionAction string

// Motion actions.
const (
	ActionSponsor  MotionAction = "sponsor"
	ActionTable    MotionAction = "table"
	ActionWithdraw MotionAction = "withdraw"
)

// ActOnMotion co-sponsors, tables or withdraws a motion. Members co-sponsor; the
// author or the chair tables and withdraws.
func (s *Service) ActOnMotion(ctx context.Context, p sdk.Principal, assemblyID, motionID string, action MotionAction) (Motion, error) {
	if err := requireUser(p); err != nil {
		return Motion{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Motion{}, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		m, err := getMotion(ctx, tx, a.ID, motionID, s.lock(true))
		if err != nil {
			return err
		}
		now := s.Now()
		authorOrChair := func() error {
			if m.AuthorID == p.UserID {
				return nil
			}
			return s.officer(ctx, tx, a, p, false, PositionChair, PositionViceChair)
		}
		switch action {
		case ActionSponsor:
			if _, err := activeMember(ctx, tx, a, p); err != nil {
				return err
			}
			if m.State != StateDraft && m.State != StateTabled {
				return sdk.Errorf(sdk.CodeConflict, "only a draft or tabled motion can be co-sponsored; this one is %s", m.State)
			}
			if m.AuthorID == p.UserID {
				return sdk.Errorf(sdk.CodeConflict, "the author cannot co-sponsor their own motion")
			}
			n, err := exec(ctx, tx, `INSERT INTO sponsors (motion_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, m.ID, p.UserID)
			if err != nil {
				return fmt.Errorf("add sponsor: %w", err)
			}
			if n == 0 {
				return sdk.Errorf(sdk.CodeConflict, "you already co-sponsor this motion")
			}
			return addTimeline(ctx, tx, m.ID, now, "sponsored", p.UserID, nil)
		case ActionTable:
			if err := authorOrChair(); err != nil {
				return err
			}
			if m.State != StateDraft {
				return sdk.Errorf(sdk.CodeConflict, "only a draft motion can be tabled; this one is %s", m.State)
			}
			m.State = StateTabled
		case ActionWithdraw:
			if err := authorOrChair(); err != nil {
				return err
			}
			if m.State != StateDraft && m.State != StateTabled {
				return sdk.Errorf(sdk.CodeConflict, "only a draft or tabled motion can be withdrawn; this one is %s", m.State)
			}
			m.State = StateWithdrawn
		default:
			return sdk.Errorf(sdk.CodeNotFound, "unknown motion action %q", action)
		}
		m.UpdatedAt = fmtTime(now)
		if err := saveMotion(ctx, tx, m); err != nil {
			return err
		}
		kind := map[MotionAction]string{ActionTable: "tabled", ActionWithdraw: "withdrawn"}[action]
		if err := addTimeline(ctx, tx, m.ID, now, kind, p.UserID, nil); err != nil {
			return err
		}
		typ := map[MotionAction]string{ActionTable: EventMotionTabled, ActionWithdraw: EventMotionWithdrawn}[action]
		return s.event(ctx, tx, typ, a, map[string]any{"motion_id": m.ID})
	})
	if err != nil {
		return Motion{}, err
	}
	return s.Motion(ctx, a.ID, motionID)
}

// --- voting ---

// OpenVoteInput opens a vote. Secrecy defaults to the assembly's rule; MeetingID with
// PresentOnly limits the electorate to the members recorded present.
type OpenVoteInput struct {
	Secrecy     string `json:"secrecy" max:"32"`
	MeetingID   string `json:"meeting_id" max:"64"`
	PresentOnly bool   `json:"present_only"`
}

// OpenVote puts a tabled motion to the vote. The electorate is frozen now: members
// who join later cannot vote on it, and members who leave keep their vote.
func (s *Service) OpenVote(ctx context.Context, p sdk.Principal, assemblyID, motionID string, in OpenVoteInput) (Motion, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Motion{}, err
	}
	if in.Secrecy == "" {
		in.Secrecy = a.Secrecy
	}
	f := fieldErrors{}
	if in.Secrecy != SecrecyNamed && in.Secrecy != SecrecySecret {
		f.add("secrecy", "must be named or secret")
	}
	if in.PresentOnly && in.MeetingID == "" {
		f.add("meeting_id", "is required when present_only is set")
	}
	if err := f.err(); err != nil {
		return Motion{}, err
	}
	var electorate int
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.officer(ctx, tx, a, p, false, PositionChair, PositionViceChair); err != nil {
			return err
		}
		m, err := getMotion(ctx, tx, a.ID, motionID, s.lock(true))
		if err != nil {
			return err
		}
		if m.State != StateTabled {
			return sdk.Errorf(sdk.CodeConflict, "only a tabled motion can be put to the vote; this one is %s", m.State)
		}
		if in.MeetingID != "" {
			mt, err := getMeeting(ctx, tx, a.ID, in.MeetingID)
			if err != nil {
				return sdk.InvalidField("meeting_id", "is not a meeting of this assembly")
			}
			if mt.Status == MeetingCancelled {
				return sdk.InvalidField("meeting_id", "the meeting was cancelled")
			}
		}
		now := s.Now()
		present := ""
		if in.PresentOnly {
			present = in.MeetingID
		}
		if electorate, err = freezeElectorate(ctx, tx, a.ID, m.ID, present, now); err != nil {
			return err
		}
		if electorate == 0 {
			return sdk.Errorf(sdk.CodeConflict, "nobody could vote: the assembly has no eligible members")
		}
		if in.Secrecy == SecrecySecret {
			if err := initSecretTally(ctx, tx, m.ID, s.Shards); err != nil {
				return err
			}
		}
		m.State, m.Secrecy, m.Majority = StateVoting, in.Secrecy, a.Majority
		m.QuorumPercent, m.QuorumAbsolute = a.QuorumPercent, a.QuorumAbsolute
		// A secret ballot cannot be changed: finding the old choice would need the very
		// link between person and choice that secrecy forbids.
		m.BallotChangeable = a.BallotChangeable && in.Secrecy == SecrecyNamed
		m.MeetingID, m.Electorate, m.VoteOpenedAt, m.UpdatedAt = in.MeetingID, electorate, fmtTime(now), fmtTime(now)
		if err := saveMotion(ctx, tx, m); err != nil {
			return err
		}
		if err := addTimeline(ctx, tx, m.ID, now, "vote_opened", p.UserID, map[string]any{
			"secrecy": m.Secrecy, "electorate": electorate, "majority": m.Majority,
			"quorum_percent": m.QuorumPercent, "quorum_absolute": m.QuorumAbsolute,
		}); err != nil {
			return err
		}
		return s.event(ctx, tx, EventVoteOpened, a, map[string]any{"motion_id": m.ID, "electorate": electorate})
	})
	if err != nil {
		return Motion{}, err
	}
	s.audit(ctx, p, "assemblies.vote.open", a, "motion:"+motionID, map[string]any{"electorate": electorate})
	return s.Motion(ctx, a.ID, motionID)
}

// Receipt confirms a ballot. It repeats the choice only for named votes.
type Receipt struct {
	MotionID string `json:"motion_id"`
	Recorded bool   `json:"recorded"`
	Changed  bool   `json:"changed"`
	Choice   string `json:"choice,omitempty"`
}

// CastBallot records p's ballot. The motion's row lock (shared here, exclusive at the
// close) on PostgreSQL, or the write lock on SQLite, orders every ballot before or
// after the close, and the voters primary key decides "already voted", so concurrent
// duplicates record exactly one. Eligibility is one lookup in the electorate frozen at
// the open; the host is not called.
func (s *Service) CastBallot(ctx context.Context, p sdk.Principal, assemblyID, motionID, choice string) (Receipt, error) {
	if err := requireUser(p); err != nil {
		return Receipt{}, err
	}
	if !slices.Contains(Choices, choice) {
		return Receipt{}, sdk.InvalidField("choice", "must be yes, no or abstain")
	}
	// The shard is drawn whatever the secrecy, so that nothing about it depends on the
	// voter; named votes ignore it.
	shard := s.randInt(s.Shards)
	var (
		r   castResult
		err error
	)
	if s.db.IsPostgres() {
		r, err = s.castPostgres(ctx, assemblyID, motionID, p.UserID, choice, shard)
	} else {
		r, err = s.castGeneric(ctx, assemblyID, motionID, p.UserID, choice, shard)
	}
	if err != nil {
		return Receipt{}, err
	}
	if err := r.refusal(); err != nil {
		return Receipt{}, err
	}
	rc := Receipt{MotionID: motionID, Recorded: true, Changed: !r.First}
	if r.Secrecy == SecrecyNamed {
		rc.Choice = choice
	}
	return rc, nil
}

// refusal is the error for a ballot that was not recorded, checked in the order a
// voter would want to hear it: the vote's state, their eligibility, then a repeat.
func (r castResult) refusal() error {
	switch r.State {
	case StateVoting:
	case StateDraft, StateTabled:
		return sdk.Errorf(sdk.CodeConflict, "the vote on this motion has not opened")
	default:
		return sdk.Errorf(sdk.CodeConflict, "the vote on this motion is closed")
	}
	if !r.Eligible {
		return sdk.Errorf(sdk.CodeForbidden, "you may not vote on this motion: only those who were members of the assembly when the vote opened may vote")
	}
	if !r.First && !r.BallotChangeable {
		return sdk.Errorf(sdk.CodeConflict, "you have already voted on this motion, and this vote does not allow changing a ballot")
	}
	if r.Counted+r.Named != 0 {
		return nil
	}
	return fmt.Errorf("cast ballot: nothing recorded (secrecy %q, first %v)", r.Secrecy, r.First)
}

// castPostgres records the ballot in one statement (storage_postgres.go).
func (s *Service) castPostgres(ctx context.Context, assemblyID, motionID, userID, choice string, shard int) (castResult, error) {
	stmt, err := s.db.Prepared(ctx, castPostgresSQL)
	if err != nil {
		return castResult{}, fmt.Errorf("prepare ballot statement: %w", err)
	}
	r, found, err := castPostgres(ctx, stmt, assemblyID, motionID, userID, choice, shard)
	if err != nil {
		return castResult{}, err
	}
	if !found {
		return castResult{}, sdk.Errorf(sdk.CodeNotFound, "motion %q does not exist", motionID)
	}
	if r.First && r.Secrecy == SecrecySecret && r.Counted != len(Choices) {
		// The statement writes the voter only when the shard's counters exist, so this
		// cannot happen; the close's recount would refuse to decide if it did.
		return castResult{}, fmt.Errorf("cast ballot: shard %d of motion %s updated %d counters", shard, motionID, r.Counted)
	}
	return r, nil
}

// castGeneric records the ballot in a transaction of separate statements, the path for
// SQLite (whose transactions are IMMEDIATE, so ballots and the close are serialised).
func (s *Service) castGeneric(ctx context.Context, assemblyID, motionID, userID, choice string, shard int) (castResult, error) {
	var r castResult
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		m, err := getMotion(ctx, tx, assemblyID, motionID, s.lock(false))
		if err != nil {
			return err
		}
		r.State, r.Secrecy, r.BallotChangeable = m.State, m.Secrecy, m.BallotChangeable
		if m.State != StateVoting {
			return nil
		}
		if r.Eligible, err = inElectorate(ctx, tx, m.ID, userID); err != nil || !r.Eligible {
			return err
		}
		if r.First, err = markVoted(ctx, tx, m.ID, userID); err != nil {
			return err
		}
		if !r.First && !m.BallotChangeable {
			return nil
		}
		if m.Secrecy == SecrecySecret {
			r.Counted = len(Choices)
			return countSecret(ctx, tx, m.ID, shard, choice)
		}
		r.Named = 1
		return putNamedBallot(ctx, tx, m.ID, userID, choice)
	})
	return r, err
}

// CloseVote counts the ballots and decides the motion. An adopted motion goes to the
// city for an answer, with a deadline.
func (s *Service) CloseVote(ctx context.Context, p sdk.Principal, assemblyID, motionID string) (Motion, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Motion{}, err
	}
	var outcome string
	var counts Counts
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.officer(ctx, tx, a, p, false, PositionChair, PositionViceChair); err != nil {
			return err
		}
		m, err := getMotion(ctx, tx, a.ID, motionID, s.lock(true))
		if err != nil {
			return err
		}
		if m.State != StateVoting {
			return sdk.Errorf(sdk.CodeConflict, "only a motion being voted on can be closed; this one is %s", m.State)
		}
		if counts, err = tally(ctx, tx, m.ID, m.Secrecy); err != nil {
			return err
		}
		outcome = Decide(m.Majority, m.QuorumPercent, m.QuorumAbsolute, m.Electorate, counts)
		now := s.Now()
		m.State, m.Outcome, m.VoteClosedAt, m.UpdatedAt = outcome, outcome, fmtTime(now), fmtTime(now)
		m.Yes, m.No, m.Abstain = counts.Yes, counts.No, counts.Abstain
		if outcome == StateAdopted {
			m.AnswerStatus, m.AnswerDueAt = AnswerSubmitted, fmtTime(now.Add(s.AnswerDeadline))
		}
		if err := saveMotion(ctx, tx, m); err != nil {
			return err
		}
		detail := map[string]any{"outcome": outcome, "counts": counts, "electorate": m.Electorate, "turnout": counts.Total()}
		if err := addTimeline(ctx, tx, m.ID, now, "vote_closed", p.UserID, detail); err != nil {
			return err
		}
		typ := map[string]string{StateAdopted: EventMotionAdopted, StateRejected: EventMotionRejected, StateNoQuorum: EventMotionNoQuorum}[outcome]
		if err := s.event(ctx, tx, typ, a, map[string]any{"motion_id": m.ID, "outcome": outcome, "counts": counts}); err != nil {
			return err
		}
		if outcome == StateAdopted {
			return addTimeline(ctx, tx, m.ID, now, "submitted_to_city", "", map[string]any{"answer_due_at": m.AnswerDueAt})
		}
		return nil
	})
	if err != nil {
		return Motion{}, err
	}
	s.audit(ctx, p, "assemblies.vote.close", a, "motion:"+motionID, map[string]any{"outcome": outcome})
	return s.Motion(ctx, a.ID, motionID)
}

// --- the city's answer ---

// AnswerInput is the city's answer to an adopted motion.
type AnswerInput struct {
	Decision  string `json:"decision" max:"32"`
	Reasoning string `json:"reasoning" max:"20000"`
}

// Answer steps an adopted motion through the city: acknowledge, answer (with
// reasoning, always) and implemented. Only holders of assemblies.motion.answer in the
// city domain may.
func (s *Service) Answer(ctx context.Context, p sdk.Principal, assemblyID, motionID, step string, in AnswerInput) (Motion, error) {
	if err := requireUser(p); err != nil {
		return Motion{}, err
	}
	in.Reasoning = strings.TrimSpace(in.Reasoning)
	if step == AnswerAnswered {
		f := fieldErrors{}
		if !slices.Contains([]string{DecisionAccepted, DecisionPartlyAccepted, DecisionDeclined}, in.Decision) {
			f.add("decision", "must be accepted, partly_accepted or declined")
		}
		if in.Reasoning == "" {
			f.add("reasoning", "is required: the city always explains its answer")
		}
		if err := f.err(); err != nil {
			return Motion{}, err
		}
	}
	ok, err := s.can(ctx, p, PermMotionAnswer, sdk.DomainCity)
	if err != nil {
		return Motion{}, err
	}
	if !ok {
		return Motion{}, sdk.Errorf(sdk.CodeForbidden, "only the city's responders may answer an assembly")
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Motion{}, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		m, err := getMotion(ctx, tx, a.ID, motionID, s.lock(true))
		if err != nil {
			return err
		}
		if m.State != StateAdopted {
			return sdk.Errorf(sdk.CodeConflict, "only an adopted motion is answered by the city; this one is %s", m.State)
		}
		now := s.Now()
		detail := map[string]any{}
		var typ string
		switch step {
		case AnswerAcknowledged:
			if m.AnswerStatus != AnswerSubmitted {
				return sdk.Errorf(sdk.CodeConflict, "only a newly submitted motion can be acknowledged; its answer is %s", m.AnswerStatus)
			}
			typ = EventMotionAcknowledged
		case AnswerAnswered:
			if m.AnswerStatus != AnswerSubmitted && m.AnswerStatus != AnswerAcknowledged {
				return sdk.Errorf(sdk.CodeConflict, "this motion has already been answered")
			}
			m.AnswerDecision, m.AnswerReasoning, m.AnsweredBy, m.AnsweredAt = in.Decision, in.Reasoning, p.UserID, fmtTime(now)
			detail["decision"], detail["reasoning"] = in.Decision, in.Reasoning
			if now.After(parseTime(m.AnswerDueAt)) {
				detail["late"] = true
			}
			typ = EventMotionAnswered
		case AnswerImplemented:
			if m.AnswerStatus != AnswerAnswered || m.AnswerDecision == DecisionDeclined {
				return sdk.Errorf(sdk.CodeConflict, "only an answered, accepted or partly accepted motion can be marked implemented")
			}
			typ = EventMotionImplemented
		default:
			return sdk.Errorf(sdk.CodeNotFound, "unknown answer step %q", step)
		}
		m.AnswerStatus, m.UpdatedAt = step, fmtTime(now)
		if err := saveMotion(ctx, tx, m); err != nil {
			return err
		}
		if len(detail) == 0 {
			detail = nil
		}
		if err := addTimeline(ctx, tx, m.ID, now, step, p.UserID, detail); err != nil {
			return err
		}
		payload := map[string]any{"motion_id": m.ID}
		for k, v := range detail {
			payload[k] = v
		}
		return s.event(ctx, tx, typ, a, payload)
	})
	if err != nil {
		return Motion{}, err
	}
	s.audit(ctx, p, "assemblies.motion."+step, a, "motion:"+motionID, nil)
	return s.Motion(ctx, a.ID, motionID)
}

// EraseUser forgets a person after core.user.deleted. Counted ballots stay counted
// under a fresh pseudonym, so no result changes.
func (s *Service) EraseUser(ctx context.Context, userID string) error {
	if userID == "" {
		return nil
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		return eraseUser(ctx, tx, userID, s.pseudonym())
	})
}
