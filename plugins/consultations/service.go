package consultations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Service holds the consultations' rules. It knows nothing of HTTP: handlers and pages
// call it with the caller and plain values. A method that changes data owns the
// transaction. service_answers.go holds answering, service_results.go the close,
// redaction, results and the city's response.
type Service struct {
	db        *store.DB
	st        *Storage
	host      sdk.Host
	box       *sdk.BallotBox
	zone      *time.Location
	languages []string
	log       *slog.Logger
	// now is the clock; tests replace it.
	now func() time.Time

	// published keeps published results, which never change (service_results.go).
	published sync.Map // consultation ID → *Results
	// live keeps a poll's results shown after voting for a moment (liveResults).
	live sync.Map // consultation ID → liveEntry
}

// NewService returns the service over a migrated store and the host.
func NewService(db *store.DB, host sdk.Host, zone *time.Location, languages []string, log *slog.Logger) *Service {
	if zone == nil {
		zone = time.UTC
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, st: &Storage{db: db}, host: host, box: sdk.NewBallotBox(host),
		zone: zone, languages: languages, log: log, now: time.Now}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// randomID is an ID that says nothing of when it was made (UUIDv4), for rows whose
// order must not be read from their keys: opened anonymous answers, free texts.
func randomID() string { return uuid.NewString() }

// Errors the service answers with, beyond input errors.
var (
	errNotFound = sdk.Errorf(sdk.CodeNotFound, "No such consultation.")
	errNotDraft = sdk.RuleError(sdk.CodeConflict, "not_draft", "A published consultation cannot be changed or deleted.")
)

// ConsultationInput is a consultation's definition as staff write it.
type ConsultationInput struct {
	Kind           Kind     `json:"kind" enum:"survey,poll,ideas"`
	Title          string   `json:"title" max:"200"`
	Background     string   `json:"background" max:"20000"`
	WhatNext       string   `json:"what_next" max:"2000"`
	Neighbourhoods []string `json:"neighbourhoods,omitempty" max:"100" doc:"Neighbourhood IDs; none for city-wide"`
	AssemblyID     string   `json:"assembly_id,omitempty" max:"100"`
	// Participation is who may take part.
	Participation    Participation `json:"participation" enum:"anyone,signed_in,residents"`
	MinAge           int           `json:"min_age,omitempty" min:"0" max:"120"`
	AnonymousAllowed bool          `json:"anonymous_allowed,omitempty"`
	// Editable lets named answers change until the close; true when absent.
	Editable    *bool           `json:"editable,omitempty"`
	PollResults PollResults     `json:"poll_results,omitempty" enum:"after_vote,after_close" doc:"A poll's: when its results are shown (after_close when absent)"`
	OpensAt     time.Time       `json:"opens_at"`
	ClosesAt    time.Time       `json:"closes_at"`
	Questions   []QuestionInput `json:"questions,omitempty" doc:"A survey's questions; a poll's one question; none for an idea board"`
}

// QuestionInput is one question as staff write it. A condition names an earlier
// question and one of its options by their positions in the input, from 0.
type QuestionInput struct {
	Kind          QuestionKind `json:"kind" enum:"single,multiple,scale,ranking,text"`
	Prompt        string       `json:"prompt" max:"500"`
	Help          string       `json:"help,omitempty" max:"1000"`
	Required      bool         `json:"required,omitempty"`
	Options       []string     `json:"options,omitempty" max:"200" doc:"The options' labels, for choice and ranking questions"`
	MinChoices    int          `json:"min_choices,omitempty" min:"0" max:"30"`
	MaxChoices    int          `json:"max_choices,omitempty" min:"0" max:"30"`
	ScaleMin      int          `json:"scale_min,omitempty" min:"-100" max:"100"`
	ScaleMax      int          `json:"scale_max,omitempty" min:"-100" max:"100"`
	ScaleMinLabel string       `json:"scale_min_label,omitempty" max:"200"`
	ScaleMaxLabel string       `json:"scale_max_label,omitempty" max:"200"`
	MaxLength     int          `json:"max_length,omitempty" min:"0" max:"5000" doc:"A free-text answer's most characters (2000 when absent)"`
	ShowIf        *ShowIfInput `json:"show_if,omitempty"`
}

// ShowIfInput asks a question only when question Question's answer is or includes
// its option Option (positions from 0).
type ShowIfInput struct {
	Question int `json:"question" min:"0" max:"49"`
	Option   int `json:"option" min:"0" max:"29"`
}

// Create prepares a draft consultation.
func (s *Service) Create(ctx context.Context, caller sdk.Principal, in ConsultationInput) (*Consultation, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := &Consultation{ID: newID(), CreatedAt: now, UpdatedAt: now, createdBy: caller.UserID, Attachments: []Attachment{}}
	if err := s.define(ctx, c, in); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.st.insertConsultation(ctx, tx, c); err != nil {
			return err
		}
		return s.st.replaceDefinition(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	c.Stage = c.StageAt(now)
	return c, nil
}

// Update replaces a draft's definition.
func (s *Service) Update(ctx context.Context, caller sdk.Principal, id string, in ConsultationInput) (*Consultation, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return nil, err
	}
	var out *Consultation
	err := s.inDraft(ctx, id, func(tx *store.Tx, c *Consultation) error {
		if err := s.define(ctx, c, in); err != nil {
			return err
		}
		c.UpdatedAt, out = s.now().UTC(), c
		if err := s.st.updateConsultation(ctx, tx, c); err != nil {
			return err
		}
		return s.st.replaceDefinition(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	out.Stage = out.StageAt(s.now())
	return out, nil
}

// inDraft runs change on consultation id under its row lock, if it is a draft.
func (s *Service) inDraft(ctx context.Context, id string, change func(tx *store.Tx, c *Consultation) error) error {
	return s.changeIf(ctx, id, func(c *Consultation) bool { return c.PublishedAt == nil }, errNotDraft, change)
}

// changeIf runs change on consultation id in one transaction under its row lock, or
// answers refusal when ok says no.
func (s *Service) changeIf(ctx context.Context, id string, ok func(c *Consultation) bool, refusal error, change func(tx *store.Tx, c *Consultation) error) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.st.lockConsultation(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok(c) {
			return refusal
		}
		return change(tx, c)
	})
}

// Delete deletes a draft.
func (s *Service) Delete(ctx context.Context, caller sdk.Principal, id string) error {
	if err := s.requireStaff(ctx, caller); err != nil {
		return err
	}
	err := s.inDraft(ctx, id, func(tx *store.Tx, _ *Consultation) error {
		return s.st.deleteConsultation(ctx, tx, id)
	})
	if err != nil {
		return err
	}
	s.audit(ctx, caller, "consultations.deleted", consultationSubject(id), nil)
	return nil
}

// Publish shows a draft to the public; it opens at OpensAt. Its times are checked
// again: a draft written last month may open in the past, but must not close there.
func (s *Service) Publish(ctx context.Context, caller sdk.Principal, id string) (*Consultation, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return nil, err
	}
	c, err := s.transition(ctx, id, func(_ *store.Tx, c *Consultation, now time.Time) error {
		if c.PublishedAt != nil {
			return sdk.RuleError(sdk.CodeConflict, "published", "The consultation is published already.")
		}
		if !c.ClosesAt.After(now) {
			return sdk.Invalid("closes_at", "in_future", "The consultation would close before it is published: set a later closing time.")
		}
		if c.Kind != KindIdeas && len(c.Questions) == 0 {
			return sdk.Invalid("questions", sdk.RuleRequired, "Add at least one question before publishing.")
		}
		c.PublishedAt = &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, caller, "consultations.published", consultationSubject(id), nil)
	return c, nil
}

// Close closes an open or upcoming consultation now, before its closing time, and
// finalises it (service_results.go). A finalisation the host cannot serve now (it
// opens the sealed answers) is done again when staff next look at the results.
func (s *Service) Close(ctx context.Context, caller sdk.Principal, id string) (*Consultation, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return nil, err
	}
	c, err := s.close(ctx, id)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, caller, "consultations.closed", consultationSubject(id), nil)
	if _, err := s.finalise(ctx, id); err != nil {
		s.log.WarnContext(ctx, "consultations: finalise after close", "consultation", id, "error", err)
	}
	return c, nil
}

func (s *Service) close(ctx context.Context, id string) (*Consultation, error) {
	return s.transition(ctx, id, func(_ *store.Tx, c *Consultation, now time.Time) error {
		switch c.StageAt(now) {
		case StageOpen, StageUpcoming:
			c.ClosedAt = &now
			return nil
		case StageDraft:
			return sdk.RuleError(sdk.CodeConflict, "draft", "A draft cannot be closed: it was never open.")
		}
		return sdk.RuleError(sdk.CodeConflict, "closed", "The consultation is closed already.")
	})
}

// transition changes a consultation's moments under its row lock.
func (s *Service) transition(ctx context.Context, id string, change func(tx *store.Tx, c *Consultation, now time.Time) error) (*Consultation, error) {
	var c *Consultation
	now := s.now().UTC()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = s.st.lockConsultation(ctx, tx, id); err != nil {
			return err
		}
		if err := change(tx, c, now); err != nil {
			return err
		}
		c.UpdatedAt = now
		return s.st.updateConsultation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	c.Stage = c.StageAt(now)
	return c, nil
}

// Get returns a consultation; a draft only to staff.
func (s *Service) Get(ctx context.Context, caller sdk.Principal, id string) (*Consultation, error) {
	c, err := s.st.consultation(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.PublishedAt == nil {
		if staff, err := s.isStaff(ctx, caller); err != nil || !staff {
			return nil, cmpErr(err, errNotFound)
		}
	}
	c.Stage = c.StageAt(s.now())
	return c, nil
}

// cmpErr is err when there is one, else fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// requireStaff refuses a caller who may not manage consultations. Every staff act
// checks it itself rather than trust the route alone: the service is also called from
// pages and by other code, and a forgotten route permission must not open it.
func (s *Service) requireStaff(ctx context.Context, caller sdk.Principal) error {
	if staff, err := s.isStaff(ctx, caller); err != nil || !staff {
		return cmpErr(err, sdk.Errorf(sdk.CodeForbidden, "Only consultation staff may do this."))
	}
	return nil
}

// isStaff reports whether caller may manage consultations (asked of the host: a
// public route's caller carries no permissions).
func (s *Service) isStaff(ctx context.Context, caller sdk.Principal) (bool, error) {
	if !caller.Authenticated() {
		return false, nil
	}
	return s.host.Can(ctx, caller.UserID, PermManage, sdk.DomainCity)
}

// ListFilter narrows a list of consultations.
type ListFilter struct {
	// Stage, when set, keeps consultations at that stage only; StageEnded keeps those
	// that no longer take answers (closed, results, responded).
	Stage Stage
	// Neighbourhood, when set, keeps consultations for it and city-wide ones.
	Neighbourhood string
	// Kind, when set, keeps consultations of that kind only.
	Kind Kind
}

// List lists consultations, latest closing first: published ones, and drafts to staff.
func (s *Service) List(ctx context.Context, caller sdk.Principal, f ListFilter, q sdk.ListQuery) (sdk.Page[Consultation], error) {
	staff := false
	if f.Stage == "" || f.Stage == StageDraft {
		var err error
		if staff, err = s.isStaff(ctx, caller); err != nil {
			return sdk.Page[Consultation]{}, err
		}
	}
	if f.Stage == StageDraft && !staff {
		return sdk.NewPage([]Consultation{}, q, consultationKey), nil
	}
	now := s.now()
	rows, err := s.st.listConsultations(ctx, f, staff, now, q)
	if err != nil {
		return sdk.Page[Consultation]{}, err
	}
	for i := range rows {
		rows[i].Stage = rows[i].StageAt(now)
	}
	return sdk.NewPage(rows, q, consultationKey), nil
}

func consultationKey(c Consultation) []any { return []any{store.Micros(c.ClosesAt), c.ID} }

// AddAttachment attaches a file the host received (sdk uploads) to a draft.
func (s *Service) AddAttachment(ctx context.Context, caller sdk.Principal, id, uploadID, name string) (Attachment, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return Attachment{}, err
	}
	name = strings.TrimSpace(name)
	switch {
	case uploadID == "":
		return Attachment{}, sdk.Invalid("file", sdk.RuleRequired, "Choose a file to attach.")
	case name == "":
		return Attachment{}, sdk.Invalid("name", sdk.RuleRequired, "Give the file a name.")
	}
	if err := checkText("name", name, MaxTitle); err != nil {
		return Attachment{}, err
	}
	a := Attachment{UploadID: uploadID, Name: name, URL: sdk.UploadURL(uploadID)}
	err := s.inDraft(ctx, id, func(tx *store.Tx, c *Consultation) error {
		if len(c.Attachments) >= MaxAttachments {
			return sdk.Invalid("file", "max_items", fmt.Sprintf("A consultation has at most %d attachments.", MaxAttachments))
		}
		return s.st.insertAttachment(ctx, tx, id, a, len(c.Attachments))
	})
	return a, err
}

// RemoveAttachment removes an attachment of a draft.
func (s *Service) RemoveAttachment(ctx context.Context, caller sdk.Principal, id, uploadID string) error {
	if err := s.requireStaff(ctx, caller); err != nil {
		return err
	}
	return s.inDraft(ctx, id, func(tx *store.Tx, _ *Consultation) error {
		return s.st.deleteAttachment(ctx, tx, id, uploadID)
	})
}

// define checks in and writes it into c, with new IDs for its questions and options.
func (s *Service) define(ctx context.Context, c *Consultation, in ConsultationInput) error {
	in.Title, in.Background, in.WhatNext = strings.TrimSpace(in.Title), strings.TrimSpace(in.Background), strings.TrimSpace(in.WhatNext)
	if err := sdk.CheckInput(in); err != nil {
		return err
	}
	switch {
	case !slices.Contains([]Kind{KindSurvey, KindPoll, KindIdeas}, in.Kind):
		return sdk.Invalid("kind", sdk.RuleOneOf, "Choose survey, poll or ideas.")
	case in.Title == "":
		return sdk.Invalid("title", sdk.RuleRequired, "Enter a title.")
	case !slices.Contains([]Participation{ParticipationAnyone, ParticipationSignedIn, ParticipationResidents}, in.Participation):
		return sdk.Invalid("participation", sdk.RuleOneOf, "Choose who may take part: anyone, signed_in or residents.")
	case in.OpensAt.IsZero():
		return sdk.Invalid("opens_at", sdk.RuleRequired, "Enter when the consultation opens.")
	case in.ClosesAt.IsZero():
		return sdk.Invalid("closes_at", sdk.RuleRequired, "Enter when the consultation closes.")
	case !in.ClosesAt.After(in.OpensAt):
		return sdk.Invalid("closes_at", "after_opens", "The consultation must close after it opens.")
	}
	if in.PollResults == "" {
		in.PollResults = PollResultsAfterClose
	}
	switch {
	case !slices.Contains([]PollResults{PollResultsAfterVote, PollResultsAfterClose}, in.PollResults):
		return sdk.Invalid("poll_results", sdk.RuleOneOf, "Choose after_vote or after_close.")
	case in.Kind == KindPoll && len(in.Questions) != 1:
		return sdk.Invalid("questions", "poll_one_question", "A poll asks exactly one question.")
	case in.Kind == KindPoll && in.Questions[0].Kind != QuestionSingle && in.Questions[0].Kind != QuestionMultiple:
		return sdk.Invalid("questions[0].kind", "poll_choice", "A poll's question is a single or multiple choice.")
	case in.Kind == KindIdeas && len(in.Questions) > 0:
		return sdk.Invalid("questions", "ideas_no_questions", "An idea board asks no questions: residents post ideas.")
	case len(in.Questions) > MaxQuestions:
		return sdk.Invalid("questions", "max_items", fmt.Sprintf("A survey has at most %d questions.", MaxQuestions))
	case in.Kind == KindPoll && in.AnonymousAllowed && in.PollResults == PollResultsAfterVote:
		// Anonymous answers stay sealed until the close, so results shown after
		// voting would leave them out: the city chooses one or the other.
		return sdk.Invalid("anonymous_allowed", "anonymous_live_results", "A poll that shows results after voting cannot take anonymous answers: they are sealed until the close.")
	}
	nbhs, err := s.neighbourhoods(ctx, in.Neighbourhoods)
	if err != nil {
		return err
	}
	questions, err := defineQuestions(in.Questions)
	if err != nil {
		return err
	}
	if in.AnonymousAllowed {
		text := 0
		for _, q := range questions {
			text += q.MaxLength
		}
		if text > MaxAnonymousText {
			return sdk.Invalid("anonymous_allowed", "anonymous_text", fmt.Sprintf("Where answers may be anonymous, the free-text questions together take at most %d characters (max_length).", MaxAnonymousText))
		}
	}
	c.Kind, c.Title, c.Background, c.WhatNext = in.Kind, in.Title, in.Background, in.WhatNext
	c.Neighbourhoods, c.AssemblyID = nbhs, strings.TrimSpace(in.AssemblyID)
	c.Participation, c.MinAge, c.AnonymousAllowed = in.Participation, in.MinAge, in.AnonymousAllowed
	c.Editable = in.Editable == nil || *in.Editable
	c.PollResults = in.PollResults
	if c.Kind != KindPoll {
		c.PollResults = PollResultsAfterClose
	}
	c.OpensAt, c.ClosesAt = in.OpensAt.UTC().Truncate(time.Microsecond), in.ClosesAt.UTC().Truncate(time.Microsecond)
	c.Questions = questions
	return nil
}

// neighbourhoods checks that every ID names a neighbourhood the host knows, and
// returns them sorted without repeats.
func (s *Service) neighbourhoods(ctx context.Context, ids []string) ([]string, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return []string{}, nil
	}
	known, err := s.host.Neighbourhoods(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("neighbourhoods: %w", err)
	}
	for _, id := range ids {
		if !slices.ContainsFunc(known, func(n sdk.Neighbourhood) bool { return n.ID == id }) {
			return nil, sdk.Invalid("neighbourhoods", sdk.RuleExists, fmt.Sprintf("No neighbourhood has the ID %q.", id))
		}
	}
	return ids, nil
}

// defineQuestions checks the questions and gives them and their options IDs.
func defineQuestions(in []QuestionInput) ([]Question, error) {
	out := make([]Question, 0, len(in))
	for i, qi := range in {
		at := fmt.Sprintf("questions[%d]", i)
		q := Question{ID: newID(), Kind: qi.Kind, Prompt: strings.TrimSpace(qi.Prompt), Help: strings.TrimSpace(qi.Help), Required: qi.Required}
		if q.Prompt == "" {
			return nil, sdk.Invalid(at+".prompt", sdk.RuleRequired, "Enter the question.")
		}
		choice := qi.Kind == QuestionSingle || qi.Kind == QuestionMultiple || qi.Kind == QuestionRanking
		switch {
		case !slices.Contains([]QuestionKind{QuestionSingle, QuestionMultiple, QuestionScale, QuestionRanking, QuestionText}, qi.Kind):
			return nil, sdk.Invalid(at+".kind", sdk.RuleOneOf, "Choose single, multiple, scale, ranking or text.")
		case choice && len(qi.Options) < 2:
			return nil, sdk.Invalid(at+".options", "min_items", "Give at least two options.")
		case choice && len(qi.Options) > MaxOptions:
			return nil, sdk.Invalid(at+".options", "max_items", fmt.Sprintf("Give at most %d options.", MaxOptions))
		case !choice && len(qi.Options) > 0:
			return nil, sdk.Invalid(at+".options", "no_options", "Only choice and ranking questions have options.")
		}
		for j, label := range qi.Options {
			label = strings.TrimSpace(label)
			if label == "" {
				return nil, sdk.Invalid(fmt.Sprintf("%s.options[%d]", at, j), sdk.RuleRequired, "Enter the option.")
			}
			if slices.ContainsFunc(q.Options, func(o Option) bool { return o.Label == label }) {
				return nil, sdk.Invalid(fmt.Sprintf("%s.options[%d]", at, j), "unique", "Two options have the same words.")
			}
			q.Options = append(q.Options, Option{ID: newID(), Label: label})
		}
		switch qi.Kind {
		case QuestionMultiple:
			q.MinChoices, q.MaxChoices = qi.MinChoices, qi.MaxChoices
			if q.MaxChoices == 0 {
				q.MaxChoices = len(q.Options)
			}
			if q.MinChoices > q.MaxChoices || q.MaxChoices > len(q.Options) {
				return nil, sdk.Invalid(at+".max_choices", "choices_range", "Choose a minimum no larger than the maximum, and a maximum no larger than the number of options.")
			}
		case QuestionScale:
			q.ScaleMin, q.ScaleMax = qi.ScaleMin, qi.ScaleMax
			q.ScaleMinLabel, q.ScaleMaxLabel = strings.TrimSpace(qi.ScaleMinLabel), strings.TrimSpace(qi.ScaleMaxLabel)
			if q.ScaleMax <= q.ScaleMin || q.ScaleMax-q.ScaleMin+1 > MaxScaleSteps {
				return nil, sdk.Invalid(at+".scale_max", "scale_range", fmt.Sprintf("A scale runs from a smaller to a larger number, with at most %d points.", MaxScaleSteps))
			}
		case QuestionText:
			q.MaxLength = qi.MaxLength
			if q.MaxLength == 0 {
				q.MaxLength = DefaultTextMax
			}
		}
		if c := qi.ShowIf; c != nil {
			if c.Question >= i {
				return nil, sdk.Invalid(at+".show_if.question", "earlier_question", "A question can depend only on an earlier question.")
			}
			dep := out[c.Question]
			if dep.Kind != QuestionSingle && dep.Kind != QuestionMultiple {
				return nil, sdk.Invalid(at+".show_if.question", "choice_question", "A question can depend only on a single or multiple choice question.")
			}
			if c.Option >= len(dep.Options) {
				return nil, sdk.Invalid(at+".show_if.option", sdk.RuleExists, "The question it depends on has no such option.")
			}
			q.ShowIf = &Condition{QuestionID: dep.ID, OptionID: dep.Options[c.Option].ID}
		}
		out = append(out, q)
	}
	return out, nil
}

// checkText refuses text that is not storable alike on both databases (NUL, invalid
// UTF-8) or longer than maxLen characters, naming field.
func checkText(field, s string, maxLen int) error {
	switch {
	case !utf8.ValidString(s):
		return sdk.Invalid(field, sdk.RuleUTF8, "The text holds bytes that are not UTF-8.")
	case strings.ContainsRune(s, 0):
		return sdk.Invalid(field, sdk.RuleNUL, "The text holds a NUL character.")
	case utf8.RuneCountInString(s) > maxLen:
		return sdk.Invalid(field, sdk.RuleMaxLength, fmt.Sprintf("The text must be %d characters or fewer.", maxLen))
	}
	return nil
}

// isNotFound reports whether err is a not-found answer.
func isNotFound(err error) bool {
	var e *sdk.Error
	return errors.As(err, &e) && e.Code == sdk.CodeNotFound
}

// check refuses a filter value no consultation can have.
func (f ListFilter) check() error {
	if f.Stage != "" && !slices.Contains([]Stage{StageDraft, StageUpcoming, StageOpen, StageClosed, StageResults, StageResponded, StageEnded}, f.Stage) {
		return sdk.Invalid("stage", sdk.RuleOneOf, "Choose upcoming, open, closed, results, responded, ended or draft.")
	}
	if f.Kind != "" && !slices.Contains([]Kind{KindSurvey, KindPoll, KindIdeas}, f.Kind) {
		return sdk.Invalid("kind", sdk.RuleOneOf, "Choose survey, poll or ideas.")
	}
	if f.Neighbourhood != "" && !validID(f.Neighbourhood) {
		return sdk.Invalid("neighbourhood", sdk.RuleFormat, "Not a neighbourhood ID.")
	}
	return nil
}
