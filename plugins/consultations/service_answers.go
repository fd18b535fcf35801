package consultations

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Answering. One answer per person per consultation: the participants table's primary
// key holds it under any concurrency and across nodes. A named answer is stored in
// the clear with the person's ID and may change until the close where the consultation
// allows it. An anonymous answer is sealed to the consultation's key (sdk.BallotBox,
// DESIGN.md §13) and written with the participation mark in one transaction; it is
// opened, shuffled and stored without the person at the close (service_results.go).
// An anonymous answer is final: nothing in the store can find it again for the person
// (that is the point), and handing out a secret receipt to find it would let anyone
// who obtains the receipt — or coerces the person — read and change it. The answer
// form says so before the person chooses.

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
	// Answered: the caller has answered; CanEdit: they may still change it.
	Answered  bool `json:"answered"`
	Anonymous bool `json:"anonymous" doc:"The caller's answer was anonymous"`
	CanEdit   bool `json:"can_edit"`
	// ConfirmAge is the minimum age the answer must confirm (age_confirmed); 0 for none.
	ConfirmAge int `json:"confirm_age,omitempty"`
	// Rule names why not: sign_in, residents, not_open, closed, answered, draft, ideas.
	Rule    string `json:"rule,omitempty" enum:"sign_in,residents,not_open,closed,answered,draft,ideas"`
	Message string `json:"message,omitempty" doc:"Why not, in the caller's language"`
}

// Refusal rules.
const (
	RuleSignIn    = "sign_in"
	RuleResidents = "residents"
	RuleMinAge    = "min_age"
	RuleNotOpen   = "not_open"
	RuleClosed    = "closed"
	RuleAnswered  = "answered"
	RuleDraft     = "draft"
	RuleIdeas     = "ideas"
	// RuleHidden: an answer to a question the other answers do not ask.
	RuleHidden = "hidden_question"
	// RuleAnonymousFinal: an anonymous answer cannot be changed.
	RuleAnonymousFinal = "anonymous_final"
	RuleNotEditable    = "not_editable"
)

// Eligibility says whether caller may answer consultation id, and why not.
func (s *Service) Eligibility(ctx context.Context, caller sdk.Principal, id string) (Eligibility, error) {
	c, err := s.Get(ctx, caller, id)
	if err != nil {
		return Eligibility{}, err
	}
	now := s.now()
	var e Eligibility
	if caller.Authenticated() {
		if e.Answered, e.Anonymous, err = s.st.participation(ctx, s.db, id, caller.UserID); err != nil {
			return Eligibility{}, err
		}
		e.CanEdit = e.Answered && !e.Anonymous && c.Editable && c.StageAt(now) == StageOpen
	}
	if rule := s.refusal(c, caller, now); rule != "" {
		e.Rule = rule
	} else if e.Answered {
		e.Rule = RuleAnswered
	} else if ok, verified := caller.OldEnough(c.MinAge, true); !ok {
		e.Rule, e.Message = RuleMinAge, s.refusalWords(ctx, c, wordsMinAgeVerified)
	} else {
		e.CanAnswer = true
		if !verified {
			e.ConfirmAge = c.MinAge
		}
	}
	if e.Rule != "" && e.Message == "" {
		e.Message = s.refusalWords(ctx, c, e.Rule)
	}
	return e, nil
}

// wordsMinAgeVerified words the minimum-age refusal of a person whose age the city's
// identity service verified: confirming it would not help.
const wordsMinAgeVerified = "min_age_verified"

// ageRefusal applies c's minimum age to caller (sdk.Principal.OldEnough): an age the
// city's identity service verified decides, and no tick box changes it; without one,
// the person's own confirmation (age_confirmed) stands in.
func (s *Service) ageRefusal(ctx context.Context, c *Consultation, caller sdk.Principal, confirmed bool) error {
	ok, verified := caller.OldEnough(c.MinAge, confirmed)
	switch {
	case ok:
		return nil
	case verified:
		return s.refusalError(ctx, c, RuleMinAge)
	}
	return sdk.Invalid("age_confirmed", RuleMinAge, s.refusalWords(ctx, c, RuleMinAge))
}

// refusal is the rule that keeps caller from answering c at now, "" when none does.
// The minimum age is not among them: the person confirms it with the answer.
func (s *Service) refusal(c *Consultation, caller sdk.Principal, now time.Time) string {
	switch c.StageAt(now) {
	case StageDraft:
		return RuleDraft
	case StageUpcoming:
		return RuleNotOpen
	case StageOpen:
	default:
		return RuleClosed
	}
	if c.Kind == KindIdeas {
		return RuleIdeas
	}
	if c.Participation != ParticipationAnyone && !caller.Authenticated() {
		return RuleSignIn
	}
	if c.Participation == ParticipationResidents && !residentOf(caller, c.Neighbourhoods) {
		return RuleResidents
	}
	return ""
}

// residentOf reports whether caller is a verified resident of one of nbhs, or of any
// neighbourhood when nbhs is empty (city-wide).
func residentOf(caller sdk.Principal, nbhs []string) bool {
	if len(nbhs) == 0 {
		return len(caller.Neighbourhoods) > 0
	}
	return slices.ContainsFunc(caller.Neighbourhoods, func(n string) bool { return slices.Contains(nbhs, n) })
}

// refusalWords says why in the request's language, from the catalog.
func (s *Service) refusalWords(ctx context.Context, c *Consultation, rule string) string {
	loc := catalog().Localizer(sdk.LanguageFrom(ctx), s.languages...).In(s.zone)
	return loc.T("consultations.eligibility."+rule, map[string]any{
		"Age": c.MinAge, "Opens": loc.DateTime(c.OpensAt), "Closes": loc.DateTime(c.closedAt())})
}

// refusalError is the error answering a refused answer.
func (s *Service) refusalError(ctx context.Context, c *Consultation, rule string) error {
	msg := s.refusalWords(ctx, c, rule)
	switch rule {
	case RuleSignIn:
		return sdk.RuleError(sdk.CodeUnauthenticated, rule, "%s", msg)
	case RuleResidents:
		return sdk.RuleError(sdk.CodeForbidden, rule, "%s", msg)
	case RuleDraft:
		return errNotFound
	case RuleMinAge:
		// Only a verified age refuses outright; a missing confirmation is a field to
		// correct (ageRefusal).
		return sdk.RuleError(sdk.CodeForbidden, rule, "%s", s.refusalWords(ctx, c, wordsMinAgeVerified))
	}
	return sdk.RuleError(sdk.CodeConflict, rule, "%s", msg)
}

// Submit records caller's answer to consultation id: named, or sealed when the person
// asks for anonymity and the consultation allows it. A visitor's answer (where anyone
// may take part) is stored without anyone's ID.
func (s *Service) Submit(ctx context.Context, caller sdk.Principal, id string, in AnswerInput) (Answer, error) {
	c, answers, content, err := s.prepare(ctx, caller, id, in)
	if err != nil {
		return Answer{}, err
	}
	if in.Anonymous && !c.AnonymousAllowed {
		return Answer{}, sdk.Invalid("anonymous", "anonymous_not_allowed", "This consultation does not take anonymous answers.")
	}
	anonymous := in.Anonymous && caller.Authenticated()
	var sealed []byte
	if anonymous {
		// Sealed here, before the transaction: the key is asked of the host once per
		// consultation, and sealing holds no lock.
		if sealed, err = s.box.Seal(ctx, c.ID, content, sealSize(c)); err != nil {
			return Answer{}, err
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.stillOpen(ctx, tx, c); err != nil {
			return err
		}
		if !caller.Authenticated() {
			return s.st.insertAnswer(ctx, tx, c.ID, nil, content)
		}
		if added, err := s.st.addParticipant(ctx, tx, c.ID, caller.UserID, anonymous); err != nil {
			return err
		} else if !added {
			return s.refusalError(ctx, c, RuleAnswered)
		}
		if anonymous {
			return s.st.insertSealed(ctx, tx, c.ID, sealed)
		}
		return s.st.insertAnswer(ctx, tx, c.ID, &caller.UserID, content)
	})
	if err != nil {
		return Answer{}, err
	}
	return s.answerOf(c, answers, anonymous, caller.Authenticated()), nil
}

// prepare reads consultation id and checks in as caller's answer to it: who may take
// part, the stage, the minimum age and the answers themselves, which it returns as
// stored and encoded.
func (s *Service) prepare(ctx context.Context, caller sdk.Principal, id string, in AnswerInput) (*Consultation, Answers, []byte, error) {
	c, err := s.Get(ctx, caller, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if rule := s.refusal(c, caller, s.now()); rule != "" {
		return nil, nil, nil, s.refusalError(ctx, c, rule)
	}
	if err := s.ageRefusal(ctx, c, caller, in.AgeConfirmed); err != nil {
		return nil, nil, nil, err
	}
	answers, err := validateAnswers(c, in.Answers, in.DropHidden)
	if err != nil {
		return nil, nil, nil, err
	}
	content, err := json.Marshal(answers)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode answer: %w", err)
	}
	return c, answers, content, nil
}

// stillOpen checks, in the answer's transaction and under a shared lock on the
// consultation's row, that it is still open: the close (and the opening of sealed
// answers) waits for this transaction, so no answer lands after the sealed ones were
// opened.
func (s *Service) stillOpen(ctx context.Context, tx *store.Tx, c *Consultation) error {
	now, err := s.st.shareOpen(ctx, tx, c.ID)
	if err != nil {
		return err
	}
	c.ClosedAt = now
	if c.StageAt(s.now()) != StageOpen {
		return s.refusalError(ctx, c, RuleClosed)
	}
	return nil
}

// answerOf is the answer as its author sees it.
func (s *Service) answerOf(c *Consultation, answers Answers, anonymous, named bool) Answer {
	a := Answer{ConsultationID: c.ID, Answers: answers, Anonymous: anonymous}
	if anonymous {
		a.Answers = Answers{}
	}
	if named && !anonymous && c.Editable {
		until := c.closedAt()
		a.EditableUntil = &until
	}
	return a
}

// Edit changes caller's named answer until the close, where the consultation allows it.
func (s *Service) Edit(ctx context.Context, caller sdk.Principal, id string, in AnswerInput) (Answer, error) {
	c, answers, content, err := s.prepare(ctx, caller, id, in)
	if err != nil {
		return Answer{}, err
	}
	if !c.Editable {
		return Answer{}, sdk.RuleError(sdk.CodeConflict, RuleNotEditable, "Answers to this consultation cannot be changed.")
	}
	if in.Anonymous {
		return Answer{}, sdk.Invalid("anonymous", RuleAnonymousFinal, "An answer given in your name stays in your name.")
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.stillOpen(ctx, tx, c); err != nil {
			return err
		}
		answered, anonymous, err := s.st.participation(ctx, tx, c.ID, caller.UserID)
		switch {
		case err != nil:
			return err
		case !answered:
			return sdk.Errorf(sdk.CodeNotFound, "You have not answered this consultation.")
		case anonymous:
			return sdk.RuleError(sdk.CodeConflict, RuleAnonymousFinal, "Your answer was anonymous: nobody, not even you, can find it again to change it.")
		}
		return s.st.updateAnswer(ctx, tx, c.ID, caller.UserID, content)
	})
	if err != nil {
		return Answer{}, err
	}
	return s.answerOf(c, answers, false, true), nil
}

// MyAnswer is caller's answer; of an anonymous one only that it was given.
func (s *Service) MyAnswer(ctx context.Context, caller sdk.Principal, id string) (Answer, error) {
	c, err := s.Get(ctx, caller, id)
	if err != nil {
		return Answer{}, err
	}
	answered, anonymous, err := s.st.participation(ctx, s.db, id, caller.UserID)
	if err != nil {
		return Answer{}, err
	}
	if !answered {
		return Answer{}, sdk.Errorf(sdk.CodeNotFound, "You have not answered this consultation.")
	}
	var answers Answers
	if !anonymous {
		if answers, err = s.st.answerOf(ctx, id, caller.UserID); err != nil {
			return Answer{}, err
		}
	}
	a := s.answerOf(c, answers, anonymous, true)
	if c.StageAt(s.now()) != StageOpen {
		a.EditableUntil = nil
	}
	return a, nil
}

// Visible says which of c's questions the answers ask: a question with a condition is
// asked when the question it depends on is asked and its answer is or includes the
// option.
func Visible(c *Consultation, answers Answers) map[string]bool {
	shown := make(map[string]bool, len(c.Questions))
	for _, q := range c.Questions {
		shown[q.ID] = q.ShowIf == nil ||
			shown[q.ShowIf.QuestionID] && slices.Contains(answers[q.ShowIf.QuestionID].Options, q.ShowIf.OptionID)
	}
	return shown
}

// empty reports whether v answers nothing.
func (v AnswerValue) empty() bool {
	return len(v.Options) == 0 && v.Value == nil && strings.TrimSpace(v.Text) == ""
}

// validateAnswers checks answers against c's questions and returns them as stored:
// only the questions answered, text trimmed. An answer to a question the other
// answers do not ask is refused, or dropped when drop is set; a required question
// must be answered only when it is asked.
func validateAnswers(c *Consultation, in Answers, drop bool) (Answers, error) {
	for qid := range in {
		if _, ok := c.question(qid); !ok {
			return nil, sdk.Invalid(answerField(qid), sdk.RuleExists, "The consultation has no such question.")
		}
	}
	out := make(Answers, len(in))
	for _, q := range c.Questions {
		v := in[q.ID]
		// Visibility follows the answers kept so far, so that a dropped answer hides
		// the questions that depend on it too.
		shown := q.ShowIf == nil || slices.Contains(out[q.ShowIf.QuestionID].Options, q.ShowIf.OptionID)
		switch {
		case v.empty() && shown && q.Required:
			return nil, sdk.Invalid(answerField(q.ID), sdk.RuleRequired, "Answer this question.")
		case v.empty():
			continue
		case !shown && drop:
			continue
		case !shown:
			return nil, sdk.Invalid(answerField(q.ID), RuleHidden, "This question is not asked with the answer you gave to the question it depends on.")
		}
		kept, err := checkAnswer(&q, v)
		if err != nil {
			return nil, err
		}
		out[q.ID] = kept
	}
	return out, nil
}

func answerField(qid string) string { return "answers." + qid }

// checkAnswer checks one answer against its question.
func checkAnswer(q *Question, v AnswerValue) (AnswerValue, error) {
	field := answerField(q.ID)
	wrongKind := sdk.Invalid(field, "answer_kind", fmt.Sprintf("A %s question takes %s.", q.Kind, map[QuestionKind]string{
		QuestionSingle: "one option", QuestionMultiple: "options", QuestionRanking: "options in order",
		QuestionScale: "a value", QuestionText: "text"}[q.Kind]))
	switch q.Kind {
	case QuestionSingle, QuestionMultiple, QuestionRanking:
		if v.Value != nil || v.Text != "" {
			return v, wrongKind
		}
		seen := map[string]bool{}
		for _, o := range v.Options {
			if !q.hasOption(o) {
				return v, sdk.Invalid(field, sdk.RuleExists, "The question has no such option.")
			}
			if seen[o] {
				return v, sdk.Invalid(field, "unique", "An option is chosen twice.")
			}
			seen[o] = true
		}
		n := len(v.Options)
		switch {
		case q.Kind == QuestionSingle && n != 1:
			return v, sdk.Invalid(field, "one_option", "Choose one option.")
		case q.Kind == QuestionMultiple && (n < q.MinChoices || n > q.MaxChoices):
			return v, sdk.Invalid(field, "choices_range", fmt.Sprintf("Choose from %d to %d options.", max(q.MinChoices, 1), q.MaxChoices))
		}
		return AnswerValue{Options: v.Options}, nil
	case QuestionScale:
		if v.Value == nil || len(v.Options) > 0 || v.Text != "" {
			return v, wrongKind
		}
		if *v.Value < q.ScaleMin || *v.Value > q.ScaleMax {
			return v, sdk.Invalid(field, sdk.RuleRange, fmt.Sprintf("Choose a value from %d to %d.", q.ScaleMin, q.ScaleMax))
		}
		return AnswerValue{Value: v.Value}, nil
	default: // text
		if v.Value != nil || len(v.Options) > 0 {
			return v, wrongKind
		}
		text := strings.TrimSpace(v.Text)
		if err := checkText(field, text, q.MaxLength); err != nil {
			return v, err
		}
		return AnswerValue{Text: text}, nil
	}
}

// sealSize is the size every sealed answer of c is padded to: more than the longest
// answer c's questions allow, so that the length of a sealed answer says nothing of
// what it holds.
func sealSize(c *Consultation) int {
	n := 64
	for _, q := range c.Questions {
		n += len(q.ID) + 32
		switch q.Kind {
		case QuestionText:
			n += 6 * q.MaxLength // JSON may write a character as \uXXXX
		case QuestionScale:
			n += 16
		default:
			n += len(q.Options) * 40
		}
	}
	return n
}
