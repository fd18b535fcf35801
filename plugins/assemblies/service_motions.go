package assemblies

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// MotionInput drafts a motion, or raises a consultation when Kind is "consultation".
type MotionInput struct {
	Title       string     `json:"title" max:"300"`
	Text        string     `json:"text" max:"20000"`
	Kind        string     `json:"kind" max:"32" enum:"motion,consultation" doc:"motion (by default), or consultation: the city asks for advice"`
	AdviceDueAt *time.Time `json:"advice_due_at" doc:"A consultation's deadline for advice"`
}

// checkMotionText trims a motion's title and text and adds to f what is wrong with
// them: both are required, the title at most 300 characters.
func checkMotionText(f *fieldErrors, title, text string) (string, string) {
	title, text = strings.TrimSpace(title), strings.TrimSpace(text)
	if title == "" {
		f.add("title", "is required", sdk.RuleRequired)
	} else if len(title) > 300 {
		f.add("title", "must be at most 300 characters", sdk.RuleMaxLength)
	}
	if text == "" {
		f.add("text", "is required", sdk.RuleRequired)
	}
	return title, text
}

// CreateMotion drafts a member's motion, or, for city staff, tables a consultation
// request with a deadline for the assembly's advice.
func (s *Service) CreateMotion(ctx context.Context, p sdk.Principal, assemblyID string, in MotionInput) (Motion, error) {
	if err := requireUser(p); err != nil {
		return Motion{}, err
	}
	if in.Kind == "" {
		in.Kind = KindMotion
	}
	now := s.Now()
	var f fieldErrors
	in.Title, in.Text = checkMotionText(&f, in.Title, in.Text)
	switch in.Kind {
	case KindMotion:
		if in.AdviceDueAt != nil {
			f.add("advice_due_at", "only a consultation has a deadline for advice", RuleConsultationOnly)
		}
	case KindConsultation:
		if in.AdviceDueAt == nil {
			f.add("advice_due_at", "is required for a consultation", sdk.RuleRequired)
		} else if !in.AdviceDueAt.After(now) {
			f.add("advice_due_at", "must be in the future", RuleFuture)
		}
	default:
		f.add("kind", "must be motion or consultation", sdk.RuleOneOf)
	}
	if err := f.err(); err != nil {
		return Motion{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Motion{}, err
	}
	r := motionRow{ID: s.newID(), AssemblyID: a.ID, Kind: in.Kind, Title: in.Title, Text: in.Text,
		AuthorID: p.UserID, State: StateDraft, AdviceDueAt: store.NullTimeOf(in.AdviceDueAt),
		CreatedAt: store.Time{Time: now}, UpdatedAt: store.Time{Time: now}}
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
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if in.Kind == KindMotion {
			if _, err := activeMember(ctx, tx, a, p); err != nil {
				return err
			}
		}
		if err := insertMotion(ctx, tx, r); err != nil {
			return err
		}
		if err := follow(ctx, tx, p.UserID, motionSubject(r.ID)); err != nil {
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
			return tx.Emit(EventConsultationRequested, ConsultationRequestedPayload{AssemblyRef: refOf(a), MotionID: r.ID, AdviceDueAt: r.AdviceDueAt.Time})
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
	r, err := getMotion(ctx, s.db, assemblyID, id)
	if err != nil {
		return Motion{}, err
	}
	return s.motionWithHistory(ctx, r)
}

// MotionFor is Motion as who may see it: a draft is its author's, the assembly's
// members' and its officers' until it is tabled (as on the motion page); to anyone
// else it does not exist. Only a draft costs the reads that decide it.
func (s *Service) MotionFor(ctx context.Context, who sdk.Principal, assemblyID, id string) (Motion, error) {
	m, err := s.Motion(ctx, assemblyID, id)
	if err != nil || m.State != StateDraft || who.Authenticated() && m.AuthorID == who.UserID {
		return m, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Motion{}, err
	}
	hidden, err := s.hidesDrafts(ctx, a, who)
	if err != nil {
		return Motion{}, err
	}
	if hidden {
		return Motion{}, sdk.Errorf(sdk.CodeNotFound, "no motion %q", id)
	}
	return m, nil
}

// motionWithHistory is the motion of row r with its sponsors and timeline.
func (s *Service) motionWithHistory(ctx context.Context, r motionRow) (Motion, error) {
	m := r.motion(s.Now())
	var err error
	if m.Sponsors, err = sponsorsOf(ctx, s.db, m.ID); err != nil {
		return Motion{}, err
	}
	if m.Timeline, err = timelineOf(ctx, s.db, m.ID); err != nil {
		return Motion{}, err
	}
	return m, nil
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
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := getMotionForUpdate(ctx, tx, s.dialect, a.ID, motionID)
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
			if err := follow(ctx, tx, p.UserID, motionSubject(m.ID)); err != nil {
				return err
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
		m.UpdatedAt = store.Time{Time: now}
		if err := saveMotion(ctx, tx, m); err != nil {
			return err
		}
		kind := map[MotionAction]string{ActionTable: "tabled", ActionWithdraw: "withdrawn"}[action]
		if err := addTimeline(ctx, tx, m.ID, now, kind, p.UserID, nil); err != nil {
			return err
		}
		if action == ActionTable {
			if err := s.notifyTabled(ctx, tx, a, m, p.UserID); err != nil {
				return err
			}
			return tx.Emit(EventMotionTabled, MotionTabledPayload{AssemblyRef: refOf(a), MotionID: m.ID})
		}
		return tx.Emit(EventMotionWithdrawn, MotionWithdrawnPayload{AssemblyRef: refOf(a), MotionID: m.ID})
	})
	if err != nil {
		return Motion{}, err
	}
	return s.Motion(ctx, a.ID, motionID)
}
