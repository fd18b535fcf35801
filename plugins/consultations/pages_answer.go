package consultations

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// Taking part: the survey's form, its review step and the confirmation, the poll's
// vote (its form is on the consultation's page), and a refusal page that says why
// the viewer may not take part and what to do about it.
//
// A question that depends on an earlier answer is shown without JavaScript with the
// dependency said in words ("Answer this only if you chose “Yes” in question 2"); the
// service drops an answer to a question that was not asked (AnswerInput.DropHidden),
// so the form never has to guess. With htmx, a change of an answer that a later
// question depends on asks the server for the questions again (a GET of the same page,
// answered with the fragment), which leaves out those not asked: the same rule
// (Visible), applied on the server.
//
// Answer fields are named as the service names them in its errors, "answers.<question
// ID>" (a ranking's "answers.<question ID>.<option ID>"), so a refused answer is
// shown at its question by the kit's Form.Catch.

func (p *Plugin) answerPages() []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pageOne+"/answer", sdk.PermPublic, p.answerForm),
		sdk.PostPage(pageOne+"/answer/review", sdk.PermPublic, p.reviewAnswer),
		sdk.PostPage(pageOne+"/answer", sdk.PermPublic, p.sendAnswer),
		sdk.GetPage(pageOne+"/answer/done", sdk.PermPublic, p.answerDone),
	}
}

// answerFields are the form's fixed fields; the answers are read by question.
type answerFields struct {
	Anonymous    bool `json:"anonymous"`
	AgeConfirmed bool `json:"age_confirmed"`
}

// fieldName is the form field of question q's answer.
func fieldName(q string) string { return "answers." + q }

// rankName is the form field of option o's place in ranking question q.
func rankName(q, o string) string { return "answers." + q + "." + o }

// answerData is the survey form, the poll's form and the review step.
type answerData struct {
	C         *Consultation
	Form      *web.Form
	Questions []questionView
	// Editing is a change of an answer given before.
	Editing      bool
	Anonymous    []web.Option
	AgeConfirm   []web.Option
	Action       string
	EditableTill *time.Time
	// Review: the answers in words, and the form's values to send again.
	Review []reviewItem
	Hidden url.Values
	// Poll is the poll's form on the consultation's page.
	Poll bool
}

// questionView is one question as the form asks it.
type questionView struct {
	Q       Question
	Number  int
	Name    string
	Options []web.Option
	// Ranks are a ranking's choices: one select of places per option.
	Ranks []rankView
	// Condition says in words when the question is to be answered.
	Condition string
	Hint      string
	// Controls: a later question depends on this one's answer, so a change asks the
	// server for the questions again (htmx). Other questions send nothing as they are
	// typed in.
	Controls bool
}

// rankView is one option of a ranking, with the places to choose from.
type rankView struct {
	Name, Label string
	Places      []web.Option
}

// reviewItem is one answer on the review step.
type reviewItem struct {
	Number         int
	Prompt, Answer string
}

// newAnswerData builds the form of c, asking the questions asked by the answers in
// form (every question when asked is nil).
func (p *Plugin) newAnswerData(v view, c *Consultation, form *web.Form, el Eligibility) *answerData {
	d := &answerData{C: c, Form: form, Action: answerPath(c.ID), Poll: c.Kind == KindPoll, Editing: el.Answered && el.CanEdit}
	if c.AnonymousAllowed && !d.Editing {
		d.Anonymous = []web.Option{{Value: "1", Label: v.T("consultations.page.answer.anonymous.label"), Hint: v.T("consultations.page.answer.anonymous.hint")}}
	}
	if c.MinAge > 0 {
		d.AgeConfirm = []web.Option{{Value: "1", Label: v.loc.N("consultations.page.answer.age.label", c.MinAge)}}
	}
	return d
}

// withQuestions adds the questions, all of them or those asked by asked.
func (d *answerData) withQuestions(v view, asked map[string]bool) {
	number, controls := map[string]int{}, map[string]bool{}
	for i, q := range d.C.Questions {
		number[q.ID] = i + 1
		if q.ShowIf != nil {
			controls[q.ShowIf.QuestionID] = true
		}
	}
	for i, q := range d.C.Questions {
		if asked != nil && !asked[q.ID] {
			continue
		}
		qv := questionView{Q: q, Number: i + 1, Name: fieldName(q.ID), Hint: q.Help, Controls: controls[q.ID]}
		switch q.Kind {
		case QuestionSingle, QuestionMultiple:
			for _, o := range q.Options {
				qv.Options = append(qv.Options, web.Option{Value: o.ID, Label: o.Label})
			}
			if q.Kind == QuestionMultiple {
				qv.Hint = joinHint(qv.Hint, choicesHint(v, q))
			}
		case QuestionScale:
			for n := q.ScaleMin; n <= q.ScaleMax; n++ {
				o := web.Option{Value: strconv.Itoa(n), Label: v.loc.Number(int64(n))}
				switch n {
				case q.ScaleMin:
					o.Hint = q.ScaleMinLabel
				case q.ScaleMax:
					o.Hint = q.ScaleMaxLabel
				}
				qv.Options = append(qv.Options, o)
			}
		case QuestionRanking:
			qv.Hint = joinHint(qv.Hint, v.T("consultations.page.answer.ranking.hint"))
			places := []web.Option{{Value: "", Label: v.T("consultations.page.answer.ranking.none")}}
			for n := 1; n <= len(q.Options); n++ {
				places = append(places, web.Option{Value: strconv.Itoa(n), Label: v.loc.Number(int64(n))})
			}
			for _, o := range q.Options {
				qv.Ranks = append(qv.Ranks, rankView{Name: rankName(q.ID, o.ID), Label: o.Label, Places: places})
			}
		case QuestionText:
			qv.Hint = joinHint(qv.Hint, v.loc.N("consultations.page.answer.text.hint", q.MaxLength))
		}
		if c := q.ShowIf; c != nil {
			if dep, ok := d.C.question(c.QuestionID); ok {
				label := ""
				for _, o := range dep.Options {
					if o.ID == c.OptionID {
						label = o.Label
					}
				}
				qv.Condition = v.T("consultations.page.answer.condition", "Number", number[dep.ID], "Option", label)
			}
		}
		d.Questions = append(d.Questions, qv)
	}
}

func joinHint(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// choicesHint says how many options a multiple-choice answer takes.
func choicesHint(v view, q Question) string {
	switch {
	case q.MinChoices > 0 && q.MaxChoices < len(q.Options):
		return v.T("consultations.page.answer.choices.between", "Min", q.MinChoices, "Max", q.MaxChoices)
	case q.MaxChoices < len(q.Options):
		return v.loc.N("consultations.page.answer.choices.max", q.MaxChoices)
	case q.MinChoices > 1:
		return v.loc.N("consultations.page.answer.choices.min", q.MinChoices)
	}
	return v.T("consultations.page.answer.choices.any")
}

// formAnswers reads the answers of c from a form's values. A ranking's places that are
// not whole numbers or that repeat are recorded on form; the service checks the rest.
func formAnswers(c *Consultation, values url.Values, form *web.Form) Answers {
	out := Answers{}
	for _, q := range c.Questions {
		name := fieldName(q.ID)
		switch q.Kind {
		case QuestionSingle, QuestionMultiple:
			if vs := slices.DeleteFunc(slices.Clone(values[name]), func(s string) bool { return s == "" }); len(vs) > 0 {
				out[q.ID] = AnswerValue{Options: vs}
			}
		case QuestionScale:
			if s := strings.TrimSpace(values.Get(name)); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil {
					form.Invalid(name, "web.rule."+web.RuleWholeNumber, nil)
					continue
				}
				out[q.ID] = AnswerValue{Value: &n}
			}
		case QuestionRanking:
			type placed struct {
				option string
				place  int
			}
			var ps []placed
			for _, o := range q.Options {
				s := values.Get(rankName(q.ID, o.ID))
				if s == "" {
					continue
				}
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 || n > len(q.Options) {
					form.Invalid(name, "consultations.page.answer.ranking.place", nil)
					continue
				}
				if slices.ContainsFunc(ps, func(p placed) bool { return p.place == n }) {
					form.Invalid(name, "consultations.page.answer.ranking.repeat", nil)
					continue
				}
				ps = append(ps, placed{o.ID, n})
			}
			slices.SortFunc(ps, func(a, b placed) int { return a.place - b.place })
			if len(ps) > 0 {
				av := AnswerValue{}
				for _, p := range ps {
					av.Options = append(av.Options, p.option)
				}
				out[q.ID] = av
			}
		case QuestionText:
			if s := values.Get(name); strings.TrimSpace(s) != "" {
				out[q.ID] = AnswerValue{Text: s}
			}
		}
	}
	return out
}

// valuesOf are the form's values for answers a, to show a given answer again.
func valuesOf(c *Consultation, a Answers) url.Values {
	out := url.Values{}
	for _, q := range c.Questions {
		av, ok := a[q.ID]
		if !ok {
			continue
		}
		switch q.Kind {
		case QuestionSingle, QuestionMultiple:
			out[fieldName(q.ID)] = av.Options
		case QuestionScale:
			if av.Value != nil {
				out.Set(fieldName(q.ID), strconv.Itoa(*av.Value))
			}
		case QuestionRanking:
			for i, o := range av.Options {
				out.Set(rankName(q.ID, o), strconv.Itoa(i+1))
			}
		case QuestionText:
			out.Set(fieldName(q.ID), av.Text)
		}
	}
	return out
}

// answerMeta is the answer form's metadata.
func answerMeta(v view, c *Consultation) sdk.PageMeta {
	return v.meta(v.T("consultations.page.answer.title", "Title", c.Title), crumb(c))
}

// answerForm is the survey's form: empty, prefilled with the viewer's answer to
// change it, or with the values of the review step's "change" button. Asked for as a
// fragment (htmx, when an answer changes), it is only the questions the answers ask.
// Someone who may not take part gets the refusal page.
func (p *Plugin) answerForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, el, err := p.consultationFor(r, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !el.CanAnswer && !el.CanEdit {
		return p.refused(w, r, v, c, el)
	}
	var asked map[string]bool
	form := web.NewForm(r.URL.Query())
	switch {
	case sdk.RenderFrom(ctx) == sdk.RenderFragment:
		asked = Visible(c, formAnswers(c, r.URL.Query(), web.NewForm(nil)))
	case len(r.URL.Query()) == 0 && el.Answered:
		a, err := p.svc.MyAnswer(ctx, v.pr, c.ID)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		form = web.NewForm(valuesOf(c, a.Answers))
	}
	d := p.newAnswerData(v, c, form, el)
	d.withQuestions(v, asked)
	if sdk.RenderFrom(ctx) == sdk.RenderFragment {
		return v.render(w, r, "questions", d, sdk.PageMeta{})
	}
	return v.render(w, r, "answer", d, answerMeta(v, c))
}

// consultationFor is the consultation of the request and whether the viewer may
// answer it.
func (p *Plugin) consultationFor(r *http.Request, v view) (*Consultation, Eligibility, error) {
	c, err := p.svc.Get(r.Context(), v.pr, r.PathValue("id"))
	if err != nil {
		return nil, Eligibility{}, err
	}
	if c.Kind == KindIdeas {
		return nil, Eligibility{}, sdk.Errorf(sdk.CodeNotFound, "An idea board takes ideas, not answers.")
	}
	el, err := p.svc.Eligibility(r.Context(), v.pr, c.ID)
	return c, el, err
}

// refusedData is the refusal page.
type refusedData struct {
	C      *Consultation
	E      Eligibility
	SignIn string
}

// refused answers 403 with the reason the viewer may not take part, and what they
// can do: sign in, join their neighbourhood, see their answer.
func (p *Plugin) refused(w http.ResponseWriter, r *http.Request, v view, c *Consultation, el Eligibility) (sdk.PageMeta, error) {
	d := refusedData{C: c, E: el, SignIn: signInPath(answerPath(c.ID))}
	return v.renderStatus(w, r, http.StatusForbidden, "refused", d, v.meta(v.T("consultations.page.refused.title"), crumb(c)))
}

// answerPost is a posted answer form, read.
type answerPost struct {
	c    *Consultation
	el   Eligibility
	in   AnswerInput
	form *web.Form
}

// postedAnswer reads the answer form posted for the consultation of r. A viewer who
// may not take part gets the refusal page instead, and done is true.
func (p *Plugin) postedAnswer(w http.ResponseWriter, r *http.Request, v view) (a answerPost, done bool, err error) {
	if a.c, a.el, err = p.consultationFor(r, v); err != nil {
		return a, false, err
	}
	if !a.el.CanAnswer && !a.el.CanEdit {
		_, err = p.refused(w, r, v, a.c, a.el)
		return a, true, err
	}
	a.in, a.form, err = readAnswer(r, a.c)
	return a, false, err
}

// readAnswer reads a posted answer form: the input for the service and the form to
// show again.
func readAnswer(r *http.Request, c *Consultation) (AnswerInput, *web.Form, error) {
	var f answerFields
	form, err := web.Decode(r, &f)
	if err != nil {
		return AnswerInput{}, nil, err
	}
	in := AnswerInput{Answers: formAnswers(c, r.PostForm, form), Anonymous: f.Anonymous, AgeConfirmed: f.AgeConfirmed, DropHidden: true}
	return in, form, nil
}

// reviewAnswer is the review step: the answers in words, sent again with a button,
// or the form again when the service refuses them.
func (p *Plugin) reviewAnswer(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	a, done, err := p.postedAnswer(w, r, v)
	if done || err != nil {
		return sdk.PageMeta{}, err
	}
	c, el, in, form := a.c, a.el, a.in, a.form
	d := p.newAnswerData(v, c, form, el)
	if form.Valid() {
		err := p.svc.Check(ctx, v.pr, c.ID, in)
		if err == nil {
			d.Hidden = r.PostForm
			d.Review = reviewItems(v, c, Visible(c, in.Answers), in.Answers)
			return v.render(w, r, "review", d, v.meta(v.T("consultations.page.review.title"), crumb(c)))
		}
		if !refuse(form, err, "consultations.page.answer") {
			return sdk.PageMeta{}, err
		}
	}
	d.withQuestions(v, nil)
	return v.invalid(w, r, "answer", d, answerMeta(v, c))
}

// reviewItems are the answers asked, in words, in the order of the questions.
func reviewItems(v view, c *Consultation, asked map[string]bool, a Answers) []reviewItem {
	var out []reviewItem
	for i, q := range c.Questions {
		if !asked[q.ID] {
			continue
		}
		out = append(out, reviewItem{Number: i + 1, Prompt: q.Prompt, Answer: answerText(v, q, a[q.ID])})
	}
	return out
}

// answerText is an answer in words: the options chosen (a ranking's in order), the
// point of a scale, the text; "not answered" for none.
func answerText(v view, q Question, av AnswerValue) string {
	var labels []string
	for _, id := range av.Options {
		for _, o := range q.Options {
			if o.ID == id {
				labels = append(labels, o.Label)
			}
		}
	}
	switch {
	case q.Kind == QuestionRanking && len(labels) > 0:
		for i := range labels {
			labels[i] = v.T("consultations.page.review.place", "Place", i+1, "Option", labels[i])
		}
		return strings.Join(labels, "; ")
	case len(labels) > 0:
		return strings.Join(labels, "; ")
	case av.Value != nil:
		return v.loc.Number(int64(*av.Value))
	case av.Text != "":
		return av.Text
	}
	return v.T("consultations.page.review.none")
}

// sendAnswer stores the answer (a survey's from its review step, a poll's from the
// consultation's page) and leads to the confirmation; a refused answer comes back as
// the form with the reasons.
func (p *Plugin) sendAnswer(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	a, done, err := p.postedAnswer(w, r, v)
	if done || err != nil {
		return sdk.PageMeta{}, err
	}
	c, el, in, form := a.c, a.el, a.in, a.form
	if form.Valid() {
		if el.Answered {
			_, err = p.svc.Edit(ctx, v.pr, c.ID, in)
		} else {
			_, err = p.svc.Submit(ctx, v.pr, c.ID, in)
		}
		if err == nil {
			web.Redirect(w, r, answerPath(c.ID)+"/done")
			return sdk.PageMeta{}, nil
		}
		if !refuse(form, err, "consultations.page.answer") {
			return sdk.PageMeta{}, err
		}
	}
	d := p.newAnswerData(v, c, form, el)
	d.withQuestions(v, nil)
	if c.Kind == KindPoll {
		cd, err := p.consultationData(ctx, v, c)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		cd.Poll, cd.SignIn = d, signInPath(consultationPath(c.ID))
		return v.invalid(w, r, "consultation", cd, v.meta(c.Title))
	}
	return v.invalid(w, r, "answer", d, answerMeta(v, c))
}

// doneData is the confirmation.
type doneData struct {
	C *Consultation
	// Answer is what was stored, for a signed-in participant.
	Answer    *Answer
	Items     []reviewItem
	SignedIn  bool
	CanChange bool
	// Results are a poll's results, when it shows them after voting.
	Results *resultsData
}

// answerDone confirms what was stored: the answers (or that they were sealed), and
// until when they can be changed. A poll that shows its results after voting shows
// them here; else it says when they come.
func (p *Plugin) answerDone(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, el, err := p.consultationFor(r, v)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := doneData{C: c, SignedIn: v.pr.Authenticated(), CanChange: el.CanEdit}
	if d.SignedIn {
		a, err := p.svc.MyAnswer(ctx, v.pr, c.ID)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		d.Answer = &a
		if !a.Anonymous {
			d.Items = reviewItems(v, c, Visible(c, a.Answers), a.Answers)
		}
	}
	if c.Kind == KindPoll && c.PollResults == PollResultsAfterVote {
		res, err := p.svc.Results(ctx, v.pr, c.ID)
		switch {
		case err == nil:
			rd := &resultsData{C: c, R: res}
			for i, q := range res.Questions {
				rd.Questions = append(rd.Questions, questionResults(v, c.ID, i+1, q, res.Answers))
			}
			d.Results = rd
		case !isCode(err, sdk.CodeNotFound) && !isCode(err, sdk.CodeForbidden):
			return sdk.PageMeta{}, err
		}
	}
	meta := v.meta(v.T("consultations.page.done.title"), crumb(c))
	meta.Announce = v.T("consultations.page.done.title")
	return v.render(w, r, "done", d, meta)
}
