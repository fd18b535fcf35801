package consultations

import (
	"time"
)

// Kind is how residents answer a consultation.
type Kind string

// The kinds of consultation.
const (
	KindSurvey Kind = "survey" // questions of every type, some depending on earlier answers
	KindPoll   Kind = "poll"   // one choice question
	KindIdeas  Kind = "ideas"  // an idea board (ideas*.go)
)

// Participation says who may take part.
type Participation string

// Who may take part. A minimum age (MinAge) applies on top of any of them.
const (
	// ParticipationAnyone: any visitor, signed in or not. A signed-in person answers
	// once; a visitor's answer is counted but can be neither found nor changed again.
	ParticipationAnyone Participation = "anyone"
	// ParticipationSignedIn: anyone signed in.
	ParticipationSignedIn Participation = "signed_in"
	// ParticipationResidents: verified residents of the consultation's neighbourhoods
	// (of any neighbourhood when it is city-wide).
	ParticipationResidents Participation = "residents"
)

// PollResults says when a poll's results are shown.
type PollResults string

// When a poll's results are shown.
const (
	PollResultsAfterVote  PollResults = "after_vote"  // to each person once they have voted
	PollResultsAfterClose PollResults = "after_close" // to everyone once staff publish them
)

// QuestionKind is the type of a survey question.
type QuestionKind string

// Question types.
const (
	QuestionSingle   QuestionKind = "single"   // one option
	QuestionMultiple QuestionKind = "multiple" // MinChoices..MaxChoices options
	QuestionScale    QuestionKind = "scale"    // a whole number ScaleMin..ScaleMax
	QuestionRanking  QuestionKind = "ranking"  // options in order of preference
	QuestionText     QuestionKind = "text"     // free text up to MaxLength characters
)

// Stage is where a consultation stands, derived from its moments and the clock.
type Stage string

// Stages, in order: draft → upcoming → open → closed → results → responded.
const (
	StageDraft     Stage = "draft"     // being prepared; only staff see it
	StageUpcoming  Stage = "upcoming"  // published, opens at OpensAt
	StageOpen      Stage = "open"      // taking answers
	StageClosed    Stage = "closed"    // closed; staff redact free text and publish results
	StageResults   Stage = "results"   // results published
	StageResponded Stage = "responded" // the city's response published; participants told
)

// StageEnded is no stage of its own but a list filter: closed, results or responded.
const StageEnded Stage = "ended"

// Limits of a consultation's definition and answers, in characters or items.
const (
	MaxTitle         = 200
	MaxBackground    = 20000
	MaxWhatNext      = 2000
	MaxPrompt        = 500
	MaxHelp          = 1000
	MaxOptionLabel   = 200
	MaxQuestions     = 50
	MaxOptions       = 30
	MaxNeighbourhood = 100
	MaxAttachments   = 10
	MaxAttachment    = 20 << 20 // bytes of one attachment
	MaxScaleSteps    = 11       // e.g. 0..10
	DefaultTextMax   = 2000
	MaxTextAnswer    = 5000
	MaxResponse      = 10000
	MaxMinAge        = 120
	// MaxAnonymousText bounds the free text of all questions together where answers
	// may be anonymous: every sealed answer is padded to the longest answer possible,
	// so a survey of many long text questions would make each anonymous answer
	// hundreds of kilobytes.
	MaxAnonymousText = 5000
)

// Consultation is what the city asks, of whom, and until when.
type Consultation struct {
	ID         string `json:"id" format:"uuid"`
	Kind       Kind   `json:"kind" enum:"survey,poll,ideas"`
	Title      string `json:"title"`
	Background string `json:"background" doc:"Plain text, paragraphs separated by blank lines"`
	// WhatNext says what happens with the answers ("the committee decides in March").
	WhatNext string `json:"what_next"`
	// Neighbourhoods are the neighbourhoods it is for; empty means city-wide.
	Neighbourhoods []string     `json:"neighbourhoods" nullable:"false"`
	AssemblyID     string       `json:"assembly_id,omitempty" doc:"The assembly it is held for, if any"`
	Attachments    []Attachment `json:"attachments" nullable:"false"`
	// Participation and MinAge say who may take part.
	Participation    Participation `json:"participation" enum:"anyone,signed_in,residents"`
	MinAge           int           `json:"min_age" doc:"Minimum age in years, confirmed by the participant; 0 for none"`
	AnonymousAllowed bool          `json:"anonymous_allowed" doc:"Whether a participant may choose to answer anonymously (sealed, unlinkable)"`
	Editable         bool          `json:"editable" doc:"Whether a named answer may be changed until the close"`
	PollResults      PollResults   `json:"poll_results,omitempty" enum:"after_vote,after_close"`
	OpensAt          time.Time     `json:"opens_at"`
	ClosesAt         time.Time     `json:"closes_at"`
	Questions        []Question    `json:"questions" nullable:"false"`
	Stage            Stage         `json:"stage" enum:"draft,upcoming,open,closed,results,responded"`
	// Response is the city's response: what was decided and why.
	Response    string     `json:"response,omitempty"`
	RespondedAt *time.Time `json:"responded_at,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty" doc:"When it closed early, by staff; else closes_at"`
	ResultsAt   *time.Time `json:"results_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`

	createdBy   string
	finalisedAt *time.Time
}

// Attachment is a file of the background, kept by the host.
type Attachment struct {
	UploadID string `json:"upload_id"`
	Name     string `json:"name"`
	URL      string `json:"url"`
}

// Question is one question of a survey or the question of a poll.
type Question struct {
	ID       string       `json:"id" format:"uuid"`
	Kind     QuestionKind `json:"kind" enum:"single,multiple,scale,ranking,text"`
	Prompt   string       `json:"prompt"`
	Help     string       `json:"help,omitempty"`
	Required bool         `json:"required"`
	Options  []Option     `json:"options,omitempty"`
	// MinChoices and MaxChoices bound a multiple-choice answer.
	MinChoices int `json:"min_choices,omitempty"`
	MaxChoices int `json:"max_choices,omitempty"`
	// ScaleMin..ScaleMax is a scale's range, with the words of its two ends.
	ScaleMin      int    `json:"scale_min,omitempty"`
	ScaleMax      int    `json:"scale_max,omitempty"`
	ScaleMinLabel string `json:"scale_min_label,omitempty"`
	ScaleMaxLabel string `json:"scale_max_label,omitempty"`
	// MaxLength bounds a free-text answer.
	MaxLength int `json:"max_length,omitempty"`
	// ShowIf, when set, asks the question only when an earlier question's answer is
	// (single) or includes (multiple) the option.
	ShowIf *Condition `json:"show_if,omitempty"`
}

// Option is one choice of a choice or ranking question.
type Option struct {
	ID    string `json:"id" format:"uuid"`
	Label string `json:"label"`
}

// Condition is "the answer to Question is or includes Option".
type Condition struct {
	QuestionID string `json:"question_id" format:"uuid"`
	OptionID   string `json:"option_id" format:"uuid"`
}

// StageAt is the consultation's stage at now.
func (c *Consultation) StageAt(now time.Time) Stage {
	switch {
	case c.RespondedAt != nil:
		return StageResponded
	case c.ResultsAt != nil:
		return StageResults
	case c.PublishedAt == nil:
		return StageDraft
	case c.ClosedAt != nil || !now.Before(c.ClosesAt):
		return StageClosed
	case now.Before(c.OpensAt):
		return StageUpcoming
	}
	return StageOpen
}

// closedAt is when it closed or closes.
func (c *Consultation) closedAt() time.Time {
	if c.ClosedAt != nil {
		return *c.ClosedAt
	}
	return c.ClosesAt
}

// question finds a question by ID.
func (c *Consultation) question(id string) (*Question, bool) {
	for i := range c.Questions {
		if c.Questions[i].ID == id {
			return &c.Questions[i], true
		}
	}
	return nil, false
}

// hasOption reports whether q has the option id.
func (q *Question) hasOption(id string) bool {
	for _, o := range q.Options {
		if o.ID == id {
			return true
		}
	}
	return false
}

// AnswerValue is the answer to one question: Options for a choice (in order of
// preference for a ranking), Value for a scale, Text for free text.
type AnswerValue struct {
	Options []string `json:"options,omitempty" doc:"Option IDs: the choice(s), or the ranking best first"`
	Value   *int     `json:"value,omitempty" doc:"The point chosen on a scale"`
	Text    string   `json:"text,omitempty" max:"5000"`
}

// Answers are a person's answers, by question ID.
type Answers map[string]AnswerValue

// Answer is a person's answer as they see it.
type Answer struct {
	ConsultationID string  `json:"consultation_id" format:"uuid"`
	Answers        Answers `json:"answers"`
	// Anonymous answers are sealed and cannot be shown or changed, not even to the
	// person who gave them: Answers is then empty.
	Anonymous bool `json:"anonymous"`
	// EditableUntil is when the answer can last be changed; absent when it cannot.
	EditableUntil *time.Time `json:"editable_until,omitempty"`
}
