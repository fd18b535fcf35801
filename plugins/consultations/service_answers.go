package consultations

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
)

// AnswerInput is a person's answer as they send it.
type AnswerInput struct {
	Answers Answers `json:"answers" doc:"By question ID"`
	// Anonymous seals the answer so nobody can link it to the person, where the
	// consultation allows it. An anonymous answer cannot be changed or shown again.
	Anonymous bool `json:"anonymous,omitempty"`
	// AgeConfirmed confirms the consultation's minimum age.
	AgeConfirmed bool `json:"age_confirmed,omitempty"`
	// DropHidden drops the answers to questions the other answers do not ask instead of
	// refusing them: a form without JavaScript sends every question's field.
	DropHidden bool `json:"drop_hidden,omitempty"`
}

// Eligibility says whether the caller may take part and, if not, why.
type Eligibility struct {
	CanAnswer bool `json:"can_answer"`
	// Answered: the caller has answered (CanEdit says whether they may change it).
	Answered bool `json:"answered"`
	CanEdit  bool `json:"can_edit"`
	// Rule names why not: sign_in, residents, min_age, not_open, closed, answered,
	// draft. min_age alone can be met by confirming the age with the answer.
	Rule    string `json:"rule,omitempty" enum:"sign_in,residents,min_age,not_open,closed,answered,draft"`
	Message string `json:"message,omitempty" doc:"Why not, in the caller's language"`
}

// Eligibility says whether caller may answer consultation id.
func (s *Service) Eligibility(ctx context.Context, caller sdk.Principal, id string) (Eligibility, error) {
	return Eligibility{}, errNotYet
}

// Submit records caller's answer.
func (s *Service) Submit(ctx context.Context, caller sdk.Principal, id string, in AnswerInput) (Answer, error) {
	return Answer{}, errNotYet
}

// Edit changes caller's named answer until the close.
func (s *Service) Edit(ctx context.Context, caller sdk.Principal, id string, in AnswerInput) (Answer, error) {
	return Answer{}, errNotYet
}

// MyAnswer is caller's answer.
func (s *Service) MyAnswer(ctx context.Context, caller sdk.Principal, id string) (Answer, error) {
	return Answer{}, errNotYet
}

var errNotYet = sdk.Errorf(sdk.CodeUnavailable, "Not yet.")
