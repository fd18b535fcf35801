package consultations

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// After the close. The consultation is first finalised, once, in one transaction under
// its row lock: the sealed anonymous answers are opened by the host (sdk.BallotBox),
// shuffled and written in the clear without anyone's ID, the sealed rows deleted, and
// every free-text answer copied, shuffled and unlinked, into texts for staff to
// redact. Finalising happens when staff close a consultation early, within a minute
// of closes_at otherwise (FinaliseClosed, in the background), and at the latest when
// staff look at its texts or results; until then the anonymous answers stay sealed,
// which is the safe state. Staff then publish or withhold
// each free text (only redacted text is ever public), publish the results — computed
// once, stored and kept in memory, since they never change — and write the city's
// response, which notifies every participant.

// Text is one free-text answer for staff to redact, unlinked from who wrote it.
type Text struct {
	ID         string `json:"id" db:"id"`
	QuestionID string `json:"question_id" db:"question_id" format:"uuid"`
	Original   string `json:"original" db:"original" doc:"As written; never public"`
	Redacted   string `json:"redacted" db:"redacted" doc:"As published, personal data removed"`
	State      string `json:"state" db:"state" enum:"pending,published,withheld"`
}

// States of a free-text answer.
const (
	TextPending   = "pending"
	TextPublished = "published"
	TextWithheld  = "withheld"
)

// TextDecision publishes a free-text answer as Redacted, or withholds it.
type TextDecision struct {
	Publish  bool   `json:"publish"`
	Redacted string `json:"redacted,omitempty" max:"5000" doc:"The text to publish, personal data removed; required to publish"`
}

// ResponseInput is the city's response.
type ResponseInput struct {
	Response string `json:"response" max:"10000" doc:"What was decided and why"`
}

// Results are a consultation's results.
type Results struct {
	ConsultationID string           `json:"consultation_id" format:"uuid"`
	Title          string           `json:"title"`
	Kind           Kind             `json:"kind" enum:"survey,poll,ideas"`
	Answers        int              `json:"answers" doc:"How many answered"`
	Questions      []QuestionResult `json:"questions" nullable:"false"`
	// Published is false for a preview and for a poll's results shown after voting.
	Published   bool       `json:"published"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	Response    string     `json:"response,omitempty" doc:"The city's response: what was decided and why"`
	RespondedAt *time.Time `json:"responded_at,omitempty"`
}

// QuestionResult is the result of one question.
type QuestionResult struct {
	QuestionID string       `json:"question_id" format:"uuid"`
	Kind       QuestionKind `json:"kind" enum:"single,multiple,scale,ranking,text"`
	Prompt     string       `json:"prompt"`
	// Answered is how many answered it (a question asked only on a condition is
	// answered by fewer).
	Answered int `json:"answered"`
	// Options: a choice question's counts, or a ranking's Borda scores best first.
	Options []OptionResult `json:"options,omitempty"`
	Scale   *ScaleResult   `json:"scale,omitempty"`
	// Texts are the published free-text answers, redacted.
	Texts []string `json:"texts,omitempty"`
}

// OptionResult is an option's count (choice) or Borda score and place (ranking).
type OptionResult struct {
	OptionID string `json:"option_id" format:"uuid"`
	Label    string `json:"label"`
	// Count is how many chose it; for a ranking, how many ranked it at all.
	Count int `json:"count"`
	// Borda is a ranking's score: an option ranked k-th of n options gets n-k points.
	Borda int `json:"borda,omitempty"`
	// Place is a ranking's place by Borda score, from 1; equal scores share a place.
	Place int `json:"place,omitempty"`
}

// ScaleResult is a scale's distribution and mean.
type ScaleResult struct {
	Min      int         `json:"min"`
	Max      int         `json:"max"`
	MinLabel string      `json:"min_label,omitempty"`
	MaxLabel string      `json:"max_label,omitempty"`
	Counts   []ScaleStep `json:"counts"`
	// Mean is rounded to two decimals; 0 when nobody answered.
	Mean float64 `json:"mean"`
}

// ScaleStep is how many chose one point of a scale.
type ScaleStep struct {
	Value int `json:"value"`
	Count int `json:"count"`
}

var (
	errNotClosed    = sdk.RuleError(sdk.CodeConflict, "not_closed", "The consultation is not closed yet.")
	errPublished    = sdk.RuleError(sdk.CodeConflict, "results_published", "The results are published and can no longer change.")
	errNotPublished = sdk.RuleError(sdk.CodeNotFound, "not_published", "The results have not been published yet.")
)

// closedOrLater reports whether c no longer takes answers.
func closedOrLater(st Stage) bool {
	return st == StageClosed || st == StageResults || st == StageResponded
}

// finalise opens, shuffles and unlinks the anonymous answers and copies out the free
// text of a closed consultation, once. It answers the consultation as it now is.
func (s *Service) finalise(ctx context.Context, id string) (*Consultation, error) {
	c, err := s.st.consultation(ctx, id)
	if err != nil {
		return nil, err
	}
	if !closedOrLater(c.StageAt(s.now())) {
		return nil, errNotClosed
	}
	if c.finalisedAt != nil {
		return c, nil
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// The lock waits for answers still being written (they hold a shared lock).
		c, err = s.st.lockConsultation(ctx, tx, id)
		if err != nil || c.finalisedAt != nil {
			return err
		}
		sealed, err := s.st.sealedAnswers(ctx, tx, id)
		if err != nil {
			return err
		}
		opened, err := s.box.Open(ctx, id, sealed, func(b []byte) error {
			var a Answers
			if err := json.Unmarshal(b, &a); err != nil {
				return err
			}
			_, err := validateAnswers(c, a, false)
			return err
		})
		if err != nil {
			return err
		}
		if err := s.st.insertOpened(ctx, tx, id, opened); err != nil {
			return err
		}
		if err := s.st.copyTexts(ctx, tx, c); err != nil {
			return err
		}
		now := s.now().UTC()
		c.finalisedAt, c.UpdatedAt = &now, now
		return s.st.updateConsultation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// finaliseEvery is how often closed consultations are looked for to finalise: the
// sealed answers of one that closed by the clock are opened within about a minute.
const finaliseEvery = time.Minute

// FinaliseClosed finalises every consultation that has closed and is not finalised
// yet (at most 100 a run). Several nodes may run it at once: finalise re-reads the
// consultation under its row lock and does nothing the second time.
func (s *Service) FinaliseClosed(ctx context.Context) error {
	ids, err := s.st.toFinalise(ctx, s.now(), 100)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if _, err := s.finalise(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("finalise %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// Texts lists the free-text answers of a closed consultation, for staff to redact.
func (s *Service) Texts(ctx context.Context, caller sdk.Principal, id string, q sdk.ListQuery) (sdk.Page[Text], error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return sdk.Page[Text]{}, err
	}
	if _, err := s.finalise(ctx, id); err != nil {
		return sdk.Page[Text]{}, err
	}
	rows, err := s.st.texts(ctx, id, q)
	if err != nil {
		return sdk.Page[Text]{}, err
	}
	return sdk.NewPage(rows, q, func(t Text) []any { return []any{t.ID} }), nil
}

// DecideText publishes one free-text answer as redacted, or withholds it, until the
// results are published.
func (s *Service) DecideText(ctx context.Context, caller sdk.Principal, id, textID string, in TextDecision) (Text, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return Text{}, err
	}
	in.Redacted = strings.TrimSpace(in.Redacted)
	if err := checkText("redacted", in.Redacted, MaxTextAnswer); err != nil {
		return Text{}, err
	}
	if in.Publish && in.Redacted == "" {
		return Text{}, sdk.Invalid("redacted", sdk.RuleRequired, "Enter the text to publish, with any personal data removed.")
	}
	if _, err := s.finalise(ctx, id); err != nil {
		return Text{}, err
	}
	var t Text
	err := s.beforeResults(ctx, id, func(tx *store.Tx, _ *Consultation) error {
		t = Text{ID: textID, State: TextWithheld}
		if in.Publish {
			t.State, t.Redacted = TextPublished, in.Redacted
		}
		return s.st.decideText(ctx, tx, id, &t, caller.UserID)
	})
	return t, err
}

// beforeResults runs change on consultation id under its row lock, if its results
// are not yet published: they never change once they are.
func (s *Service) beforeResults(ctx context.Context, id string, change func(tx *store.Tx, c *Consultation) error) error {
	return s.changeIf(ctx, id, func(c *Consultation) bool { return c.ResultsAt == nil }, errPublished, change)
}

// PreviewResults computes the results for staff before they are published, with the
// free text published so far.
func (s *Service) PreviewResults(ctx context.Context, caller sdk.Principal, id string) (*Results, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return nil, err
	}
	c, err := s.finalise(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.compute(ctx, c)
}

// PublishResults publishes the results of a closed consultation whose free text is all
// decided. They never change again.
func (s *Service) PublishResults(ctx context.Context, caller sdk.Principal, id string) (*Results, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return nil, err
	}
	if _, err := s.finalise(ctx, id); err != nil {
		return nil, err
	}
	var res *Results
	err := s.beforeResults(ctx, id, func(tx *store.Tx, c *Consultation) error {
		if n, err := s.st.pendingTexts(ctx, tx, id); err != nil {
			return err
		} else if n > 0 {
			return sdk.RuleError(sdk.CodeConflict, "texts_pending", "%d free-text answers are not yet published or withheld.", n)
		}
		var err error
		if res, err = s.computeIn(ctx, tx, c); err != nil {
			return err
		}
		now := s.now().UTC()
		res.Published, res.PublishedAt = true, &now
		c.ResultsAt, c.UpdatedAt = &now, now
		if err := s.st.storeResults(ctx, tx, id, res); err != nil {
			return err
		}
		return s.st.updateConsultation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	s.published.Store(id, res)
	s.audit(ctx, caller, "consultations.results.published", consultationSubject(id), nil)
	return res, nil
}

// Results are the published results of consultation id with the city's response, for
// anyone. Before they are published, a poll that shows its results after voting shows
// them to those who voted (anonymous answers cannot be given to such a poll, so they
// are complete), and staff see the preview.
func (s *Service) Results(ctx context.Context, caller sdk.Principal, id string) (*Results, error) {
	c, err := s.Get(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if c.ResultsAt == nil {
		if c.Kind == KindPoll && c.PollResults == PollResultsAfterVote && c.StageAt(s.now()) != StageUpcoming {
			if voted, _, err := s.st.participation(ctx, s.db, id, caller.UserID); err != nil {
				return nil, err
			} else if voted {
				return s.liveResults(ctx, c)
			}
		}
		return nil, errNotPublished
	}
	published, err := s.publishedResults(ctx, id)
	if err != nil {
		return nil, err
	}
	res := *published
	res.Response, res.RespondedAt = c.Response, c.RespondedAt
	return &res, nil
}

// liveTTL is how long a poll's results shown after voting are reused: every voter
// looks at them at once, and counting 100,000 answers for each would let a popular
// poll's visitors keep the plugin busy. Results a few seconds old are still the
// poll's results.
const liveTTL = 5 * time.Second

type liveEntry struct {
	at  time.Time
	res *Results
}

// liveResults are c's results now, or as counted less than liveTTL ago.
func (s *Service) liveResults(ctx context.Context, c *Consultation) (*Results, error) {
	now := s.now()
	if e, ok := s.live.Load(c.ID); ok && now.Sub(e.(liveEntry).at) < liveTTL {
		return e.(liveEntry).res, nil
	}
	res, err := s.compute(ctx, c)
	if err != nil {
		return nil, err
	}
	s.live.Store(c.ID, liveEntry{at: now, res: res})
	return res, nil
}

// publishedResults reads published results once and keeps them: they never change.
func (s *Service) publishedResults(ctx context.Context, id string) (*Results, error) {
	if r, ok := s.published.Load(id); ok {
		return r.(*Results), nil
	}
	r, err := s.st.results(ctx, id)
	if err != nil {
		return nil, err
	}
	s.published.Store(id, r)
	return r, nil
}

// Respond publishes the city's response to a consultation whose results are published,
// and notifies every participant, anonymous ones too: their participation mark knows
// them, their answer does not.
func (s *Service) Respond(ctx context.Context, caller sdk.Principal, id string, in ResponseInput) (*Consultation, error) {
	if err := s.requireStaff(ctx, caller); err != nil {
		return nil, err
	}
	text := strings.TrimSpace(in.Response)
	if text == "" {
		return nil, sdk.Invalid("response", sdk.RuleRequired, "Write what was decided and why.")
	}
	if err := checkText("response", text, MaxResponse); err != nil {
		return nil, err
	}
	c, err := s.transition(ctx, id, func(tx *store.Tx, c *Consultation, now time.Time) error {
		switch {
		case c.RespondedAt != nil:
			return sdk.RuleError(sdk.CodeConflict, "responded", "The city has responded already.")
		case c.ResultsAt == nil:
			return sdk.RuleError(sdk.CodeConflict, "results_first", "Publish the results before the response.")
		}
		c.Response, c.RespondedAt = text, &now
		if err := s.st.setRespondedBy(ctx, tx, id, caller.UserID); err != nil {
			return err
		}
		participants, err := s.st.participants(ctx, tx, id)
		if err != nil {
			return err
		}
		n, ok := notifyCatalog().Notification(s.languages, s.zone, sdk.Notice{Kind: NotifyResponse,
			Recipients: participants, Subject: consultationSubject(id), Link: consultationLink(id),
			Data: map[string]any{"Title": clip(c.Title, notifyTitleBytes)}})
		if !ok {
			return nil
		}
		return tx.Notify(ctx, n)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, caller, "consultations.responded", consultationSubject(id), nil)
	return c, nil
}

// clip shortens s to at most n bytes, whole characters, for a notification's title,
// which the host bounds in bytes (sdk.MaxNotificationTitle).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

// formulaLike reports whether a spreadsheet would read cell as a formula: it starts
// with = + - @ or a tab or carriage return, and is not a plain number.
func formulaLike(cell string) bool {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return false
	}
	_, err := strconv.ParseFloat(cell, 64)
	return err != nil
}

// compute tallies c's answers now.
func (s *Service) compute(ctx context.Context, c *Consultation) (*Results, error) {
	return s.computeIn(ctx, s.db, c)
}

func (s *Service) computeIn(ctx context.Context, q queryer, c *Consultation) (*Results, error) {
	t := newTally(c)
	if err := s.st.eachContent(ctx, q, c.ID, t.addContent); err != nil {
		return nil, err
	}
	texts, err := s.st.publishedTexts(ctx, q, c.ID)
	if err != nil {
		return nil, err
	}
	return t.results(texts), nil
}

// tally counts answers question by question, one answer at a time, so that 100,000
// answers are counted without holding them.
type tally struct {
	c       *Consultation
	answers int
	qs      []questionTally
	byID    map[string]int // question ID → index in qs
}

type questionTally struct {
	answered int
	option   map[string]int // option ID → index
	counts   []int          // per option (choice, ranking: ranked at all) or per scale point
	borda    []int
	sum      int
}

func newTally(c *Consultation) *tally {
	t := &tally{c: c, qs: make([]questionTally, len(c.Questions)), byID: make(map[string]int, len(c.Questions))}
	for i, q := range c.Questions {
		t.byID[q.ID] = i
		qt := &t.qs[i]
		qt.option = make(map[string]int, len(q.Options))
		for j, o := range q.Options {
			qt.option[o.ID] = j
		}
		switch q.Kind {
		case QuestionScale:
			qt.counts = make([]int, q.ScaleMax-q.ScaleMin+1)
		default:
			qt.counts = make([]int, len(q.Options))
			qt.borda = make([]int, len(q.Options))
		}
	}
	return t
}

// add counts one answer; what does not fit the questions (it cannot: answers are
// checked when given and when opened) is left out.
func (t *tally) add(a Answers) {
	t.answers++
	for qid, v := range a {
		i, ok := t.byID[qid]
		if !ok {
			continue
		}
		q, qt := &t.c.Questions[i], &t.qs[i]
		qt.answered++
		switch q.Kind {
		case QuestionScale:
			if v.Value != nil {
				t.scale(i, *v.Value)
			}
		case QuestionText:
		default:
			n := len(q.Options)
			for k, o := range v.Options {
				if j, ok := qt.option[o]; ok {
					qt.counts[j]++
					if q.Kind == QuestionRanking {
						qt.borda[j] += n - 1 - k
					}
				}
			}
		}
	}
}

// results writes the tally out, with texts (question ID → published texts).
func (t *tally) results(texts map[string][]string) *Results {
	c := t.c
	r := &Results{ConsultationID: c.ID, Title: c.Title, Kind: c.Kind, Answers: t.answers, Questions: make([]QuestionResult, len(c.Questions))}
	for i, q := range c.Questions {
		qt := &t.qs[i]
		qr := QuestionResult{QuestionID: q.ID, Kind: q.Kind, Prompt: q.Prompt, Answered: qt.answered}
		switch q.Kind {
		case QuestionScale:
			sr := &ScaleResult{Min: q.ScaleMin, Max: q.ScaleMax, MinLabel: q.ScaleMinLabel, MaxLabel: q.ScaleMaxLabel}
			n := 0
			for k, count := range qt.counts {
				sr.Counts = append(sr.Counts, ScaleStep{Value: q.ScaleMin + k, Count: count})
				n += count
			}
			if n > 0 {
				sr.Mean = math.Round(float64(qt.sum)/float64(n)*100) / 100
			}
			qr.Scale = sr
		case QuestionText:
			qr.Texts = texts[q.ID]
		default:
			for j, o := range q.Options {
				or := OptionResult{OptionID: o.ID, Label: o.Label, Count: qt.counts[j]}
				if q.Kind == QuestionRanking {
					or.Borda = qt.borda[j]
				}
				qr.Options = append(qr.Options, or)
			}
			if q.Kind == QuestionRanking {
				placeByBorda(qr.Options)
			}
		}
		r.Questions[i] = qr
	}
	return r
}

// placeByBorda orders a ranking's options by Borda score, best first (ties in the
// question's order), and gives each its place; equal scores share a place (1, 1, 3).
func placeByBorda(opts []OptionResult) {
	slices.SortStableFunc(opts, func(a, b OptionResult) int { return b.Borda - a.Borda })
	for i := range opts {
		opts[i].Place = i + 1
		if i > 0 && opts[i].Borda == opts[i-1].Borda {
			opts[i].Place = opts[i-1].Place
		}
	}
}

// WriteCSV writes the results as CSV, one row per option, scale point (and the mean)
// or published text: question_id, question, kind, item_id, item, count, value. value
// is a ranking's Borda score or a scale's mean. A cell that a spreadsheet would read
// as a formula is written with a leading apostrophe (OWASP's advice for CSV export).
func (r *Results) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(cells ...string) {
		for i, cell := range cells {
			if (i == 1 || i == 4) && formulaLike(cell) {
				cells[i] = "'" + cell
			}
		}
		_ = cw.Write(cells) // the error stays in the writer; Error reports it
	}
	row("question_id", "question", "kind", "item_id", "item", "count", "value")
	for _, q := range r.Questions {
		switch {
		case q.Scale != nil:
			for _, st := range q.Scale.Counts {
				row(q.QuestionID, q.Prompt, string(q.Kind), strconv.Itoa(st.Value), strconv.Itoa(st.Value), strconv.Itoa(st.Count), "")
			}
			row(q.QuestionID, q.Prompt, string(q.Kind), "mean", "mean", strconv.Itoa(q.Answered), strconv.FormatFloat(q.Scale.Mean, 'f', 2, 64))
		case q.Kind == QuestionText:
			for i, text := range q.Texts {
				row(q.QuestionID, q.Prompt, string(q.Kind), strconv.Itoa(i+1), text, "1", "")
			}
		default:
			for _, o := range q.Options {
				value := ""
				if q.Kind == QuestionRanking {
					value = strconv.Itoa(o.Borda)
				}
				row(q.QuestionID, q.Prompt, string(q.Kind), o.OptionID, o.Label, strconv.Itoa(o.Count), value)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write results CSV: %w", err)
	}
	return nil
}
