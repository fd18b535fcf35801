package assemblies

import (
	"context"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// AnswerInput is the city's answer to an adopted motion.
type AnswerInput struct {
	Decision  string `json:"decision" max:"32" enum:"accepted,partly_accepted,declined"`
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
		var f fieldErrors
		if !slices.Contains([]string{DecisionAccepted, DecisionPartlyAccepted, DecisionDeclined}, in.Decision) {
			f.add("decision", "must be accepted, partly_accepted or declined", sdk.RuleOneOf)
		}
		if in.Reasoning == "" {
			f.add("reasoning", "is required: the city always explains its answer", sdk.RuleRequired)
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
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		m, err := getMotionForUpdate(ctx, tx, s.dialect, a.ID, motionID)
		if err != nil {
			return err
		}
		if m.State != StateAdopted {
			return sdk.Errorf(sdk.CodeConflict, "only an adopted motion is answered by the city; this one is %s", m.State)
		}
		now := s.Now()
		detail := map[string]any{}
		var typ string
		var payload any
		switch step {
		case AnswerAcknowledged:
			if m.AnswerStatus != AnswerSubmitted {
				return sdk.Errorf(sdk.CodeConflict, "only a newly submitted motion can be acknowledged; its answer is %s", m.AnswerStatus)
			}
			typ, payload = EventMotionAcknowledged, MotionAcknowledgedPayload{AssemblyRef: refOf(a), MotionID: m.ID}
		case AnswerAnswered:
			if m.AnswerStatus != AnswerSubmitted && m.AnswerStatus != AnswerAcknowledged {
				return sdk.Errorf(sdk.CodeConflict, "this motion has already been answered")
			}
			m.AnswerDecision, m.AnswerReasoning, m.AnsweredBy, m.AnsweredAt = in.Decision, in.Reasoning, p.UserID, setTime(now)
			detail["decision"], detail["reasoning"] = in.Decision, in.Reasoning
			late := now.After(m.AnswerDueAt.Time)
			if late {
				detail["late"] = true
			}
			typ, payload = EventMotionAnswered, MotionAnsweredPayload{AssemblyRef: refOf(a), MotionID: m.ID,
				Decision: in.Decision, Reasoning: in.Reasoning, Late: late}
		case AnswerImplemented:
			if m.AnswerStatus != AnswerAnswered || m.AnswerDecision == DecisionDeclined {
				return sdk.Errorf(sdk.CodeConflict, "only an answered, accepted or partly accepted motion can be marked implemented")
			}
			typ, payload = EventMotionImplemented, MotionImplementedPayload{AssemblyRef: refOf(a), MotionID: m.ID}
		default:
			return sdk.Errorf(sdk.CodeNotFound, "unknown answer step %q", step)
		}
		m.AnswerStatus, m.UpdatedAt = step, store.Time{Time: now}
		if err := saveMotion(ctx, tx, m); err != nil {
			return err
		}
		if len(detail) == 0 {
			detail = nil
		}
		if err := addTimeline(ctx, tx, m.ID, now, step, p.UserID, detail); err != nil {
			return err
		}
		if err := s.notifyAnswerStep(ctx, tx, a, m, step, p.UserID); err != nil {
			return err
		}
		return tx.Emit(typ, payload)
	})
	if err != nil {
		return Motion{}, err
	}
	s.audit(ctx, p, "assemblies.motion."+step, a, "motion:"+motionID, nil)
	return s.Motion(ctx, a.ID, motionID)
}
