package assemblies

import (
	"context"
	"fmt"
	"slices"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// OpenVoteInput opens a vote. Secrecy defaults to the assembly's rule; MeetingID with
// PresentOnly limits the electorate to the members recorded present.
type OpenVoteInput struct {
	Secrecy     string `json:"secrecy" max:"32" enum:"named,secret" doc:"The assembly's rule by default"`
	MeetingID   string `json:"meeting_id" max:"64" doc:"The meeting the vote is held at"`
	PresentOnly bool   `json:"present_only" doc:"Only the members recorded present at meeting_id may vote"`
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
	var f fieldErrors
	if in.Secrecy != SecrecyNamed && in.Secrecy != SecrecySecret {
		f.add("secrecy", "must be named or secret", sdk.RuleOneOf)
	}
	if in.PresentOnly && in.MeetingID == "" {
		f.add("meeting_id", "is required when present_only is set", sdk.RuleRequired)
	}
	if err := f.err(); err != nil {
		return Motion{}, err
	}
	var electorate int
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.officer(ctx, tx, a, p, false, PositionChair, PositionViceChair); err != nil {
			return err
		}
		m, err := getMotionForUpdate(ctx, tx, s.dialect, a.ID, motionID)
		if err != nil {
			return err
		}
		if m.State != StateTabled {
			return sdk.Errorf(sdk.CodeConflict, "only a tabled motion can be put to the vote; this one is %s", m.State)
		}
		if in.MeetingID != "" {
			mt, err := getMeeting(ctx, tx, a.ID, in.MeetingID)
			if err != nil {
				return invalid("meeting_id", "is not a meeting of this assembly", sdk.RuleExists)
			}
			switch mt.status(s.Now()) {
			case MeetingCancelled:
				return invalid("meeting_id", "the meeting was cancelled", RuleActive)
			case MeetingScheduled:
				// A vote "at" a meeting is held there: not before it begins.
				return invalid("meeting_id", "the meeting has not begun yet", RuleStarted)
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
		m.State, m.Secrecy, m.Majority = StateVoting, in.Secrecy, a.Majority
		m.QuorumPercent, m.QuorumAbsolute = a.QuorumPercent, a.QuorumAbsolute
		// A secret ballot can be changed too: it is sealed, and its row is replaced.
		m.BallotChangeable = a.BallotChangeable
		m.MeetingID, m.Electorate, m.VoteOpenedAt, m.UpdatedAt = in.MeetingID, electorate, setTime(now), store.Time{Time: now}
		if err := saveMotion(ctx, tx, m); err != nil {
			return err
		}
		if err := addTimeline(ctx, tx, m.ID, now, "vote_opened", p.UserID, map[string]any{
			"secrecy": m.Secrecy, "electorate": electorate, "majority": m.Majority,
			"quorum_percent": m.QuorumPercent, "quorum_absolute": m.QuorumAbsolute,
		}); err != nil {
			return err
		}
		if err := s.notifyVoteOpened(ctx, tx, a, m, p.UserID); err != nil {
			return err
		}
		return tx.Emit(EventVoteOpened, VoteOpenedPayload{AssemblyRef: refOf(a), MotionID: m.ID, Electorate: electorate})
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

	// round is the vote the ballot went into, for the booth's confirmation, which is
	// the same for every voter of the round (pages_booth.go).
	round voteRound
}

// voteRound is one vote on a motion: what the booth's confirmation says of it. None of
// it changes while the vote is open.
type voteRound struct {
	OpenedAt   int64 // Unix microseconds: tells a vote from an earlier one on the motion
	Secret     bool
	Changeable bool
}

// CastBallot records p's ballot. The motion's row lock (shared here, exclusive at the
// close) on PostgreSQL, or the write lock on SQLite, orders every ballot before or
// after the close, and the voters primary key decides "already voted", so concurrent
// duplicates record exactly one. Eligibility is one lookup in the electorate frozen at
// the open; the host is not called (but once per motion, for its sealing key). The
// choice of a secret vote is sealed before it leaves the process.
func (s *Service) CastBallot(ctx context.Context, p sdk.Principal, assemblyID, motionID, choice string) (Receipt, error) {
	if err := requireUser(p); err != nil {
		return Receipt{}, err
	}
	if !slices.Contains(Choices, choice) {
		return Receipt{}, invalid("choice", "must be yes, no or abstain", sdk.RuleOneOf)
	}
	b, err := s.ballot(ctx, assemblyID, motionID, choice)
	if err != nil {
		return Receipt{}, err
	}
	r, err := s.dialect.castBallot(ctx, s.db, assemblyID, motionID, p.UserID, b)
	if err != nil {
		return Receipt{}, err
	}
	if err := r.refusal(b); err != nil {
		return Receipt{}, err
	}
	rc := Receipt{MotionID: motionID, Recorded: true, Changed: !r.First, round: voteRound{
		OpenedAt: r.VoteOpenedAt.Time.UnixMicro(), Secret: r.Secrecy == SecrecySecret, Changeable: r.BallotChangeable}}
	if r.Secrecy == SecrecyNamed {
		rc.Choice = choice
	}
	return rc, nil
}

// sealedSize is the padded size of every sealed choice: the longest choice, "abstain",
// fits, so all three seal to the same length.
const sealedSize = 8

// ballot is what a ballot writes: the sealed choice of a secret vote, or the choice of
// a named one — never both.
type ballot struct {
	secrecy string
	sealed  []byte
	choice  string
}

// ballot prepares choice for the motion's secrecy, which it reads once per motion and
// then remembers (it is fixed while the vote is open). A motion not being voted on is
// not remembered: the ballot statement refuses it anyway.
func (s *Service) ballot(ctx context.Context, assemblyID, motionID, choice string) (ballot, error) {
	secrecy, ok := s.secrecy.Load(motionID)
	if !ok {
		m, err := getMotion(ctx, s.db, assemblyID, motionID)
		if err != nil {
			return ballot{}, err
		}
		if m.State != StateVoting {
			return ballot{secrecy: m.Secrecy}, nil
		}
		secrecy, _ = s.secrecy.LoadOrStore(motionID, m.Secrecy)
	}
	if secrecy != SecrecySecret {
		return ballot{secrecy: SecrecyNamed, choice: choice}, nil
	}
	sealed, err := s.box.Seal(ctx, motionID, []byte(choice), sealedSize)
	if err != nil {
		return ballot{}, fmt.Errorf("seal ballot: %w", err)
	}
	return ballot{secrecy: SecrecySecret, sealed: sealed}, nil
}

// refusal is the error for a ballot that was not recorded, checked in the order a
// voter would want to hear it: the vote's state, their eligibility, then a repeat.
func (r castResult) refusal(b ballot) error {
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
	if r.Sealed+r.Named != 0 {
		return nil
	}
	return fmt.Errorf("cast ballot: nothing recorded (secrecy %q, prepared as %q, first %v)", r.Secrecy, b.secrecy, r.First)
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
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.officer(ctx, tx, a, p, false, PositionChair, PositionViceChair); err != nil {
			return err
		}
		m, err := getMotionForUpdate(ctx, tx, s.dialect, a.ID, motionID)
		if err != nil {
			return err
		}
		if m.State != StateVoting {
			return sdk.Errorf(sdk.CodeConflict, "only a motion being voted on can be closed; this one is %s", m.State)
		}
		if m.Secrecy == SecrecySecret {
			if err := s.openSealed(ctx, tx, m.ID); err != nil {
				return err
			}
		}
		if counts, err = tally(ctx, tx, m.ID, m.Secrecy); err != nil {
			return err
		}
		outcome = Decide(m.Majority, m.QuorumPercent, m.QuorumAbsolute, m.Electorate, counts)
		now := s.Now()
		m.State, m.Outcome, m.VoteClosedAt, m.UpdatedAt = outcome, outcome, setTime(now), store.Time{Time: now}
		m.Yes, m.No, m.Abstain = counts.Yes, counts.No, counts.Abstain
		if outcome == StateAdopted {
			m.AnswerStatus, m.AnswerDueAt = AnswerSubmitted, setTime(now.Add(s.AnswerDeadline))
		}
		if err := saveMotion(ctx, tx, m); err != nil {
			return err
		}
		detail := map[string]any{"outcome": outcome, "counts": counts, "electorate": m.Electorate, "turnout": counts.Total()}
		if err := addTimeline(ctx, tx, m.ID, now, "vote_closed", p.UserID, detail); err != nil {
			return err
		}
		typ, payload := closedPayload(a, m.ID, outcome, counts)
		if err := tx.Emit(typ, payload); err != nil {
			return err
		}
		if err := s.notifyVoteClosed(ctx, tx, a, m, p.UserID); err != nil {
			return err
		}
		if outcome == StateAdopted {
			return addTimeline(ctx, tx, m.ID, now, "submitted_to_city", "", map[string]any{"answer_due_at": m.AnswerDueAt.Time})
		}
		return nil
	})
	if err != nil {
		return Motion{}, err
	}
	s.audit(ctx, p, "assemblies.vote.close", a, "motion:"+motionID, map[string]any{"outcome": outcome})
	return s.Motion(ctx, a.ID, motionID)
}

// openSealed has the host open a secret vote's sealed ballots and, in the close's
// transaction, writes the choices in shuffled order and deletes the sealed rows. A
// ballot that does not open, or opens to something not a choice, stops the close:
// the vote stays open and nothing is written.
func (s *Service) openSealed(ctx context.Context, tx *store.Tx, motionID string) error {
	sealed, err := sealedBallots(ctx, tx, motionID)
	if err != nil {
		return err
	}
	opened, err := s.box.Open(ctx, motionID, sealed, func(o []byte) error {
		if !slices.Contains(Choices, string(o)) {
			return fmt.Errorf("%d bytes that are not a choice", len(o))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("close vote %s: %w", motionID, err)
	}
	choices := make([]string, len(opened))
	for i, o := range opened {
		choices[i] = string(o)
	}
	return replaceSealed(ctx, tx, s.dialect, motionID, choices)
}
