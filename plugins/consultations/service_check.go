package consultations

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
)

// Check applies Submit's checks (Edit's, when caller has answered already) to in and
// writes nothing: the survey's review step shows the answers only once they would be
// accepted. The stage is checked again when the answer is sent.
func (s *Service) Check(ctx context.Context, caller sdk.Principal, id string, in AnswerInput) error {
	el, err := s.Eligibility(ctx, caller, id)
	if err != nil {
		return err
	}
	c, err := s.Get(ctx, caller, id)
	if err != nil {
		return err
	}
	switch {
	case el.Answered && !el.CanEdit, !el.Answered && !el.CanAnswer:
		return s.refusalError(ctx, c, el.Rule)
	case el.Answered && in.Anonymous:
		return sdk.Invalid("anonymous", RuleAnonymousFinal, "An answer given in your name stays in your name.")
	case in.Anonymous && !c.AnonymousAllowed:
		return sdk.Invalid("anonymous", "anonymous_not_allowed", "This consultation does not take anonymous answers.")
	}
	if err := s.ageRefusal(ctx, c, caller, in.AgeConfirmed); err != nil {
		return err
	}
	_, err = validateAnswers(c, in.Answers, in.DropHidden)
	return err
}
