package consultations

import (
	"context"
	"io"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// Text is one free-text answer for staff to redact, unlinked from who wrote it.
type Text struct {
	ID         string `json:"id"`
	QuestionID string `json:"question_id"`
	Original   string `json:"original"`
	Redacted   string `json:"redacted"`
	State      string `json:"state" enum:"pending,published,withheld"`
}

// TextDecision publishes a free-text answer as Redacted, or withholds it.
type TextDecision struct {
	Publish  bool   `json:"publish"`
	Redacted string `json:"redacted,omitempty" max:"5000"`
}

// ResponseInput is the city's response.
type ResponseInput struct {
	Response string `json:"response" max:"10000"`
}

// Results are a consultation's results.
type Results struct {
	ConsultationID string           `json:"consultation_id"`
	Title          string           `json:"title"`
	Answers        int              `json:"answers" doc:"How many answered"`
	Questions      []QuestionResult `json:"questions"`
	Published      bool             `json:"published"`
	PublishedAt    *time.Time       `json:"published_at,omitempty"`
	Response       string           `json:"response,omitempty"`
	RespondedAt    *time.Time       `json:"responded_at,omitempty"`
}

// QuestionResult is the result of one question.
type QuestionResult struct {
	QuestionID string         `json:"question_id"`
	Kind       QuestionKind   `json:"kind"`
	Prompt     string         `json:"prompt"`
	Answered   int            `json:"answered"`
	Options    []OptionResult `json:"options,omitempty"`
	Scale      *ScaleResult   `json:"scale,omitempty"`
	Texts      []string       `json:"texts,omitempty"`
}

// OptionResult is an option's count (choice) or Borda score and place (ranking).
type OptionResult struct {
	OptionID string `json:"option_id"`
	Label    string `json:"label"`
	Count    int    `json:"count"`
	Borda    int    `json:"borda,omitempty"`
	Place    int    `json:"place,omitempty"`
}

// ScaleResult is a scale's distribution and mean.
type ScaleResult struct {
	Min    int         `json:"min"`
	Max    int         `json:"max"`
	Counts []ScaleStep `json:"counts"`
	Mean   float64     `json:"mean"`
}

// ScaleStep is how many chose one point of a scale.
type ScaleStep struct {
	Value int `json:"value"`
	Count int `json:"count"`
}

// Texts lists the free-text answers to redact.
func (s *Service) Texts(ctx context.Context, caller sdk.Principal, id string, q sdk.ListQuery) (sdk.Page[Text], error) {
	return sdk.Page[Text]{}, errNotYet
}

// DecideText publishes or withholds one free-text answer.
func (s *Service) DecideText(ctx context.Context, caller sdk.Principal, id, textID string, in TextDecision) (Text, error) {
	return Text{}, errNotYet
}

// PreviewResults computes the results for staff before publishing.
func (s *Service) PreviewResults(ctx context.Context, caller sdk.Principal, id string) (*Results, error) {
	return nil, errNotYet
}

// PublishResults publishes the results.
func (s *Service) PublishResults(ctx context.Context, caller sdk.Principal, id string) (*Results, error) {
	return nil, errNotYet
}

// Results are the published results (or a poll's live results to those who voted).
func (s *Service) Results(ctx context.Context, caller sdk.Principal, id string) (*Results, error) {
	return nil, errNotYet
}

// WriteCSV writes the results as CSV.
func (r *Results) WriteCSV(w io.Writer) error { return errNotYet }

// Respond publishes the city's response and notifies every participant.
func (s *Service) Respond(ctx context.Context, caller sdk.Principal, id string, in ResponseInput) (*Consultation, error) {
	return nil, errNotYet
}
