package consultations

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// City staff's pages: the consultations they run (drafts too), preparing one, the
// questions builder, attachments, publishing and closing, redacting free text,
// publishing the results and writing the city's response. Every form works without
// JavaScript: a question is added with one form — its type, words, options (one a
// line) and, as a choice among the earlier questions' options, when it is asked.
// The service owns every rule (a published consultation cannot change; results
// wait for every free text to be decided); the pages show its refusals in the form.

func (p *Plugin) staffPages() []sdk.Route {
	staff := func(r sdk.Route) sdk.Route { return r.In(sdk.DomainCity) }
	return []sdk.Route{
		staff(sdk.GetPage(pageManageAll, PermManage, p.manageList)),
		staff(sdk.GetPage(pageNew, PermManage, p.newForm)),
		staff(sdk.PostPage(pageNew, PermManage, p.createPost)),
		staff(sdk.GetPage(pageOne+"/manage", PermManage, p.managePage)),
		staff(sdk.GetPage(pageOne+"/edit", PermManage, p.editForm)),
		staff(sdk.PostPage(pageOne+"/edit", PermManage, p.editPost)),
		staff(sdk.PostPage(pageOne+"/questions", PermManage, p.addQuestion)),
		staff(sdk.PostPage(pageOne+"/questions/{n}/delete", PermManage, p.deleteQuestion)),
		staff(sdk.PostPage(pageOne+"/attachments", PermManage, p.attach).
			Upload("file", MaxAttachment, sdk.UploadPDF, sdk.UploadImage).ShowUploadErrors()),
		staff(sdk.PostPage(pageOne+"/publish", PermManage, p.stagePost((*Service).Publish, "published"))),
		staff(sdk.PostPage(pageOne+"/close", PermManage, p.stagePost((*Service).Close, "closed"))),
		staff(sdk.GetPage(pageOne+"/texts", PermManage, p.textsPage)),
		staff(sdk.PostPage(pageOne+"/texts/{text}", PermManage, p.decideTextPost)),
		staff(sdk.PostPage(pageOne+"/results", PermManage, p.publishResultsPost)),
		staff(sdk.GetPage(pageOne+"/response", PermManage, p.responseForm)),
		staff(sdk.PostPage(pageOne+"/response", PermManage, p.respondPost)),
	}
}

// pageManageAll is staff's list of every consultation, drafts first.
const pageManageAll = pageBase + "/manage"

// staffMeta is a staff page's metadata, under the staff nav entry.
func (v view) staffMeta(title string, crumbs ...sdk.Crumb) sdk.PageMeta {
	return sdk.PageMeta{Title: title, NavActive: navManage,
		Breadcrumbs: append([]sdk.Crumb{{Label: v.T("consultations.page.nav.manage"), Href: pageManageAll}}, crumbs...)}
}

// manageCrumb leads to a consultation's staff page.
func manageCrumb(c *Consultation) sdk.Crumb { return sdk.Crumb{Label: c.Title, Href: managePath(c.ID)} }

// manageListData is staff's list.
type manageListData struct {
	Cards []consultationCard
	Next  string
}

func (p *Plugin) manageList(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	lq, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	lq.Limit = listPageSize
	page, err := p.svc.List(ctx, v.pr, ListFilter{}, lq)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := manageListData{Next: web.CursorURL(r.URL, page.NextCursor)}
	if d.Cards, err = p.cards(ctx, v, page.Items); err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.staffMeta(v.T("consultations.page.nav.manage"))
	meta.Breadcrumbs = nil
	return v.render(w, r, "manage-list", d, meta)
}

// consultationForm is the form of a consultation's details. A poll's one question is
// asked on it too, as a poll cannot exist without its question.
type consultationForm struct {
	Kind             string    `json:"kind" max:"20"`
	Title            string    `json:"title" max:"200"`
	Background       string    `json:"background" max:"20000"`
	WhatNext         string    `json:"what_next" max:"2000"`
	Neighbourhoods   []string  `json:"neighbourhoods" max:"64"`
	Participation    string    `json:"participation" max:"20"`
	MinAge           *int      `json:"min_age" min:"0" max:"120"`
	AnonymousAllowed bool      `json:"anonymous_allowed"`
	Editable         bool      `json:"editable"`
	PollResults      string    `json:"poll_results" max:"20"`
	OpensDate        web.Date  `json:"opens_date"`
	OpensTime        web.Clock `json:"opens_time"`
	ClosesDate       web.Date  `json:"closes_date"`
	ClosesTime       web.Clock `json:"closes_time"`
	PollPrompt       string    `json:"poll_prompt" max:"500"`
	PollOptions      string    `json:"poll_options" max:"6200"`
	PollMultiple     bool      `json:"poll_multiple"`
}

// input is the service's input from the form; times are the city's. A date that
// is missing or not a date was refused by the kit already.
func (f consultationForm) input(zone *time.Location, form *web.Form, questions []QuestionInput) ConsultationInput {
	in := ConsultationInput{Kind: Kind(f.Kind), Title: f.Title, Background: f.Background, WhatNext: f.WhatNext,
		Neighbourhoods: f.Neighbourhoods, Participation: Participation(f.Participation), AnonymousAllowed: f.AnonymousAllowed,
		PollResults: PollResults(f.PollResults), Questions: questions}
	editable := f.Editable
	in.Editable = &editable
	if f.MinAge != nil {
		in.MinAge = *f.MinAge
	}
	at := func(d web.Date, c web.Clock, field string) time.Time {
		if d == "" {
			return time.Time{}
		}
		if c == "" {
			c = "00:00"
		}
		t, err := d.At(c, zone)
		if err != nil {
			form.Invalid(field, "web.rule.format", nil)
		}
		return t
	}
	in.OpensAt = at(f.OpensDate, f.OpensTime, "opens_date")
	in.ClosesAt = at(f.ClosesDate, f.ClosesTime, "closes_date")
	if in.Kind == KindPoll && len(questions) == 0 {
		q := QuestionInput{Kind: QuestionSingle, Prompt: f.PollPrompt, Required: true, Options: lines(f.PollOptions)}
		if f.PollMultiple {
			q.Kind = QuestionMultiple
		}
		in.Questions = []QuestionInput{q}
	}
	return in
}

// lines are the non-empty lines of s, trimmed: options typed one a line.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// consultationFormData is the create and edit form.
type consultationFormData struct {
	C              *Consultation // nil for a new one
	Form           *web.Form
	Action         string
	Kinds          []web.Option
	Participations []web.Option
	PollResults    []web.Option
	Neighbourhoods []web.Option
	Flags          []web.Option
	Editable       []web.Option
	PollMultiple   []web.Option
}

func (p *Plugin) consultationFormData(ctx context.Context, v view, c *Consultation, form *web.Form) (consultationFormData, error) {
	d := consultationFormData{C: c, Form: form, Action: pageNew}
	if c != nil {
		d.Action = consultationPath(c.ID) + "/edit"
	}
	for _, k := range []Kind{KindSurvey, KindPoll, KindIdeas} {
		d.Kinds = append(d.Kinds, web.Option{Value: string(k), Label: v.T("consultations.page.kind." + string(k)), Hint: v.T("consultations.page.kind." + string(k) + ".hint")})
	}
	for _, pt := range []Participation{ParticipationAnyone, ParticipationSignedIn, ParticipationResidents} {
		d.Participations = append(d.Participations, web.Option{Value: string(pt), Label: v.T("consultations.page.form.participation." + string(pt))})
	}
	for _, pr := range []PollResults{PollResultsAfterClose, PollResultsAfterVote} {
		d.PollResults = append(d.PollResults, web.Option{Value: string(pr), Label: v.T("consultations.page.form.poll_results." + string(pr))})
	}
	d.Flags = []web.Option{{Value: "1", Label: v.T("consultations.page.form.anonymous"), Hint: v.T("consultations.page.form.anonymous.hint")}}
	d.Editable = []web.Option{{Value: "1", Label: v.T("consultations.page.form.editable")}}
	d.PollMultiple = []web.Option{{Value: "1", Label: v.T("consultations.page.form.poll_multiple")}}
	ids := slices.Clone(v.pr.Neighbourhoods)
	for domain := range v.pr.Roles {
		if id, ok := strings.CutPrefix(domain, "nbh:"); ok {
			ids = append(ids, id)
		}
	}
	// The host lists neighbourhoods only by ID: offer those the viewer belongs to or
	// works in, and those other consultations are for.
	page, err := p.svc.List(ctx, v.pr, ListFilter{}, sdk.ListQuery{Limit: sdk.MaxLimit})
	if err != nil {
		return d, err
	}
	for _, o := range page.Items {
		ids = append(ids, o.Neighbourhoods...)
	}
	if c != nil {
		ids = append(ids, c.Neighbourhoods...)
	}
	names, err := p.neighbourhoodNames(ctx, ids)
	if err != nil {
		return d, err
	}
	d.Neighbourhoods = sortedOptions(names)
	return d, nil
}

func (p *Plugin) newForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	form := web.NewForm(url.Values{"kind": {string(KindSurvey)}, "participation": {string(ParticipationResidents)},
		"editable": {"1"}, "poll_results": {string(PollResultsAfterClose)}})
	d, err := p.consultationFormData(r.Context(), v, nil, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "consultation-form", d, v.staffMeta(v.T("consultations.page.new.title")))
}

func (p *Plugin) createPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	var f consultationForm
	form, err := web.Decode(r, &f)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	in := f.input(p.svc.zone, form, nil)
	if form.Valid() {
		c, err := p.svc.Create(ctx, v.pr, in)
		if err == nil {
			web.Redirect(w, r, managePath(c.ID)+"?done=created")
			return sdk.PageMeta{}, nil
		}
		if !refuse(form, pollFields(err), "consultations.page.form") {
			return sdk.PageMeta{}, err
		}
	}
	d, err := p.consultationFormData(ctx, v, nil, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.invalid(w, r, "consultation-form", d, v.staffMeta(v.T("consultations.page.new.title")))
}

// renameFields is err with its fields renamed by rename, so that the service's
// names ("questions[3].options", "opens_at") point at the form's fields.
func renameFields(err error, rename func(string) string) error {
	var e *sdk.Error
	if !errors.As(err, &e) || e.Fields == nil {
		return err
	}
	out := *e
	out.Fields = map[string]string{}
	for k, val := range e.Fields {
		if k == "rule" {
			out.Fields[k] = val
			continue
		}
		out.Fields[rename(k)] = val
	}
	return &out
}

// pollFields points the service's fields at the details form's.
func pollFields(err error) error {
	return renameFields(err, func(k string) string {
		switch {
		case k == "opens_at":
			return "opens_date"
		case k == "closes_at":
			return "closes_date"
		case strings.HasSuffix(k, ".prompt"):
			return "poll_prompt"
		case strings.HasPrefix(k, "questions"):
			return "poll_options"
		}
		return k
	})
}

// formOf is the details form showing c.
func formOf(c *Consultation, zone *time.Location) *web.Form {
	vals := url.Values{"kind": {string(c.Kind)}, "title": {c.Title}, "background": {c.Background}, "what_next": {c.WhatNext},
		"neighbourhoods": c.Neighbourhoods, "participation": {string(c.Participation)}, "poll_results": {string(c.PollResults)},
		"opens_date": {c.OpensAt.In(zone).Format(time.DateOnly)}, "opens_time": {c.OpensAt.In(zone).Format("15:04")},
		"closes_date": {c.ClosesAt.In(zone).Format(time.DateOnly)}, "closes_time": {c.ClosesAt.In(zone).Format("15:04")}}
	if c.MinAge > 0 {
		vals.Set("min_age", strconv.Itoa(c.MinAge))
	}
	if c.AnonymousAllowed {
		vals.Set("anonymous_allowed", "1")
	}
	if c.Editable {
		vals.Set("editable", "1")
	}
	return web.NewForm(vals)
}

// questionInputs are c's questions as the service takes them, to write them back
// with one more, one fewer or other details.
func questionInputs(c *Consultation) []QuestionInput {
	out := make([]QuestionInput, 0, len(c.Questions))
	for _, q := range c.Questions {
		qi := QuestionInput{Kind: q.Kind, Prompt: q.Prompt, Help: q.Help, Required: q.Required,
			MinChoices: q.MinChoices, MaxChoices: q.MaxChoices, ScaleMin: q.ScaleMin, ScaleMax: q.ScaleMax,
			ScaleMinLabel: q.ScaleMinLabel, ScaleMaxLabel: q.ScaleMaxLabel, MaxLength: q.MaxLength}
		for _, o := range q.Options {
			qi.Options = append(qi.Options, o.Label)
		}
		if s := q.ShowIf; s != nil {
			qn := slices.IndexFunc(c.Questions, func(x Question) bool { return x.ID == s.QuestionID })
			if qn >= 0 {
				on := slices.IndexFunc(c.Questions[qn].Options, func(o Option) bool { return o.ID == s.OptionID })
				qi.ShowIf = &ShowIfInput{Question: qn, Option: on}
			}
		}
		out = append(out, qi)
	}
	return out
}

// inputOf is c's definition as the service takes it.
func inputOf(c *Consultation) ConsultationInput {
	editable := c.Editable
	return ConsultationInput{Kind: c.Kind, Title: c.Title, Background: c.Background, WhatNext: c.WhatNext,
		Neighbourhoods: c.Neighbourhoods, AssemblyID: c.AssemblyID, Participation: c.Participation, MinAge: c.MinAge,
		AnonymousAllowed: c.AnonymousAllowed, Editable: &editable, PollResults: c.PollResults,
		OpensAt: c.OpensAt, ClosesAt: c.ClosesAt, Questions: questionInputs(c)}
}

func (p *Plugin) editForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, err := p.consultationFormData(ctx, v, c, formOf(c, p.svc.zone))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "consultation-form", d, v.staffMeta(v.T("consultations.page.edit.title"), manageCrumb(c)))
}

func (p *Plugin) editPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var f consultationForm
	form, err := web.Decode(r, &f)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	f.Kind = string(c.Kind) // the kind is chosen once
	in := f.input(p.svc.zone, form, questionInputs(c))
	in.AssemblyID = c.AssemblyID
	if form.Valid() {
		if _, err := p.svc.Update(ctx, v.pr, c.ID, in); err == nil {
			web.Redirect(w, r, managePath(c.ID)+"?done=saved")
			return sdk.PageMeta{}, nil
		} else if !refuse(form, pollFields(err), "consultations.page.form") {
			return sdk.PageMeta{}, err
		}
	}
	d, err := p.consultationFormData(ctx, v, c, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.invalid(w, r, "consultation-form", d, v.staffMeta(v.T("consultations.page.edit.title"), manageCrumb(c)))
}

// questionForm is the questions builder's form for one new question.
type questionForm struct {
	Kind          string `json:"kind" max:"20"`
	Prompt        string `json:"prompt" max:"500"`
	Help          string `json:"help" max:"1000"`
	Required      bool   `json:"required"`
	Options       string `json:"options" max:"6200"`
	MinChoices    *int   `json:"min_choices" min:"0" max:"30"`
	MaxChoices    *int   `json:"max_choices" min:"0" max:"30"`
	ScaleMin      *int   `json:"scale_min" min:"-100" max:"100"`
	ScaleMax      *int   `json:"scale_max" min:"-100" max:"100"`
	ScaleMinLabel string `json:"scale_min_label" max:"200"`
	ScaleMaxLabel string `json:"scale_max_label" max:"200"`
	MaxLength     *int   `json:"max_length" min:"0" max:"5000"`
	ShowIf        string `json:"show_if" max:"20"`
}

// input is the question as the service takes it; show_if is "<question>:<option>"
// (positions from 0) as the form's choices give it.
func (f questionForm) input(form *web.Form) QuestionInput {
	q := QuestionInput{Kind: QuestionKind(f.Kind), Prompt: f.Prompt, Help: f.Help, Required: f.Required,
		ScaleMinLabel: f.ScaleMinLabel, ScaleMaxLabel: f.ScaleMaxLabel}
	if q.Kind == QuestionSingle || q.Kind == QuestionMultiple || q.Kind == QuestionRanking {
		q.Options = lines(f.Options)
	}
	deref := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	if q.Kind == QuestionMultiple {
		q.MinChoices, q.MaxChoices = deref(f.MinChoices), deref(f.MaxChoices)
	}
	if q.Kind == QuestionScale {
		q.ScaleMin, q.ScaleMax = deref(f.ScaleMin), deref(f.ScaleMax)
		if f.ScaleMin == nil && f.ScaleMax == nil {
			q.ScaleMin, q.ScaleMax = 1, 5
		}
	}
	if q.Kind == QuestionText {
		q.MaxLength = deref(f.MaxLength)
	}
	if f.ShowIf != "" {
		a, b, ok := strings.Cut(f.ShowIf, ":")
		qn, err1 := strconv.Atoi(a)
		on, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			form.Invalid("show_if", "web.rule.invalid_value", nil)
		} else {
			q.ShowIf = &ShowIfInput{Question: qn, Option: on}
		}
	}
	return q
}

// manageData is a consultation's staff page.
type manageData struct {
	C          *Consultation
	Who        []string
	Where      string
	Questions  []questionView
	Done       string
	Draft      bool
	CanClose   bool
	Closed     bool
	HasResults bool
	// QuestionForm adds a question (a draft survey's).
	QuestionForm *web.Form
	QuestionKind []web.Option
	Required     []web.Option
	ShowIf       []web.Option
	// AttachForm adds an attachment (a draft's).
	AttachForm *web.Form
	// ActionForm shows a refused publish, close or results.
	ActionForm *web.Form
}

func (p *Plugin) manageData(ctx context.Context, v view, c *Consultation) (manageData, error) {
	names, err := p.neighbourhoodNames(ctx, c.Neighbourhoods)
	if err != nil {
		return manageData{}, err
	}
	d := manageData{C: c, Who: whoMayTakePart(v, c, names), Where: whereText(v, c.Neighbourhoods, names),
		Draft: c.Stage == StageDraft, CanClose: c.Stage == StageOpen || c.Stage == StageUpcoming, Closed: c.Stage == StageClosed,
		HasResults:   c.Stage == StageResults || c.Stage == StageResponded,
		QuestionForm: web.NewForm(url.Values{"kind": {string(QuestionSingle)}}), AttachForm: web.NewForm(nil), ActionForm: web.NewForm(nil)}
	ad := answerData{C: c}
	ad.withQuestions(v, nil)
	d.Questions = ad.Questions
	for _, k := range []QuestionKind{QuestionSingle, QuestionMultiple, QuestionScale, QuestionRanking, QuestionText} {
		d.QuestionKind = append(d.QuestionKind, web.Option{Value: string(k), Label: v.T("consultations.page.question.kind." + string(k)),
			Hint: v.T("consultations.page.question.kind." + string(k) + ".hint")})
	}
	d.Required = []web.Option{{Value: "1", Label: v.T("consultations.page.question.required")}}
	d.ShowIf = []web.Option{{Value: "", Label: v.T("consultations.page.question.show_if.always")}}
	for i, q := range c.Questions {
		if q.Kind != QuestionSingle && q.Kind != QuestionMultiple {
			continue
		}
		for j, o := range q.Options {
			d.ShowIf = append(d.ShowIf, web.Option{Value: fmt.Sprintf("%d:%d", i, j),
				Label: v.T("consultations.page.question.show_if.option", "Number", i+1, "Option", o.Label)})
		}
	}
	return d, nil
}

// managePage is a consultation's staff page: its details and questions, and what can
// be done at its stage.
func (p *Plugin) managePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, err := p.manageData(ctx, v, c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.staffMeta(c.Title)
	if done := r.URL.Query().Get("done"); slices.Contains(manageDone, done) {
		d.Done = v.T("consultations.page.manage.done." + done)
		meta.Announce = d.Done
	}
	return v.render(w, r, "manage", d, meta)
}

// manageDone are the outcomes the staff page confirms (?done=…).
var manageDone = []string{"created", "saved", "question", "deleted", "attached", "published", "closed", "decided"}

// manageInvalid answers a refused form of the staff page: 422, the page again with
// the form's problems.
func (p *Plugin) manageInvalid(w http.ResponseWriter, r *http.Request, v view, c *Consultation, set func(*manageData)) (sdk.PageMeta, error) {
	d, err := p.manageData(r.Context(), v, c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	set(&d)
	return v.invalid(w, r, "manage", d, v.staffMeta(c.Title))
}

// addQuestion appends a question to a draft survey.
func (p *Plugin) addQuestion(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var f questionForm
	form, err := web.Decode(r, &f)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	q := f.input(form)
	if form.Valid() {
		in := inputOf(c)
		in.Questions = append(in.Questions, q)
		_, err := p.svc.Update(ctx, v.pr, c.ID, in)
		if err == nil {
			web.Redirect(w, r, managePath(c.ID)+"?done=question")
			return sdk.PageMeta{}, nil
		}
		prefix := fmt.Sprintf("questions[%d].", len(c.Questions))
		err = renameFields(err, func(k string) string {
			k = strings.TrimPrefix(k, prefix)
			if strings.HasPrefix(k, "options") {
				return "options"
			}
			if strings.HasPrefix(k, "show_if") {
				return "show_if"
			}
			return k
		})
		if !refuse(form, err, "consultations.page.question") {
			return sdk.PageMeta{}, err
		}
	}
	return p.manageInvalid(w, r, v, c, func(d *manageData) { d.QuestionForm = form })
}

// deleteQuestion removes question n (from 1) of a draft, with the questions that
// depend on it losing their condition only if the service allows; it refuses one
// that others depend on.
func (p *Plugin) deleteQuestion(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(c.Questions) {
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeNotFound, "No such question.")
	}
	in := inputOf(c)
	form := web.NewForm(nil)
	for _, q := range in.Questions[n:] {
		if q.ShowIf != nil && q.ShowIf.Question == n-1 {
			form.Refuse("consultations.page.question.delete.depended", map[string]any{"Number": n})
			return p.manageInvalid(w, r, v, c, func(d *manageData) { d.ActionForm = form })
		}
	}
	in.Questions = slices.Delete(in.Questions, n-1, n)
	for i := range in.Questions {
		if s := in.Questions[i].ShowIf; s != nil && s.Question > n-1 {
			s.Question--
		}
	}
	if _, err := p.svc.Update(ctx, v.pr, c.ID, in); err != nil {
		if !refuse(form, err, "consultations.page.question") {
			return sdk.PageMeta{}, err
		}
		return p.manageInvalid(w, r, v, c, func(d *manageData) { d.ActionForm = form })
	}
	web.Redirect(w, r, managePath(c.ID)+"?done=deleted")
	return sdk.PageMeta{}, nil
}

// attach adds a file the host received to a draft's background.
func (p *Plugin) attach(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var f struct {
		Name string `json:"name" max:"200"`
		File string `json:"file" max:"64"`
	}
	form, err := web.Decode(r, &f)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if err := sdk.UploadError(r, "file"); err != nil {
		form.Catch(err, "consultations.page.attach")
	}
	if form.Valid() {
		_, err := p.svc.AddAttachment(ctx, v.pr, c.ID, sdk.UploadID(r, "file"), f.Name)
		if err == nil {
			web.Redirect(w, r, managePath(c.ID)+"?done=attached")
			return sdk.PageMeta{}, nil
		}
		if !refuse(form, err, "consultations.page.attach") {
			return sdk.PageMeta{}, err
		}
	}
	return p.manageInvalid(w, r, v, c, func(d *manageData) { d.AttachForm = form })
}

// stagePost moves a consultation on (publish, close) and confirms it on the staff page.
func (p *Plugin) stagePost(move func(*Service, context.Context, sdk.Principal, string) (*Consultation, error), done string) sdk.PageFunc {
	return func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
		ctx, v := r.Context(), p.viewOf(r)
		c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
		if err != nil {
			return sdk.PageMeta{}, err
		}
		if _, err := move(p.svc, ctx, v.pr, c.ID); err != nil {
			form := web.NewForm(nil)
			if !refuse(form, err, "consultations.page.manage") {
				return sdk.PageMeta{}, err
			}
			return p.manageInvalid(w, r, v, c, func(d *manageData) { d.ActionForm = form })
		}
		web.Redirect(w, r, managePath(c.ID)+"?done="+done)
		return sdk.PageMeta{}, nil
	}
}

// textsData is the redaction page.
type textsData struct {
	C       *Consultation
	Texts   []textView
	Next    string
	Form    *web.Form
	Decided bool
}

// textView is one free-text answer with its form.
type textView struct {
	Text
	Number int
	Prompt string
	// Redacted and Decision are the form's fields, named for the text: the page holds
	// a form for each, and ids must not repeat.
	Redacted, Decision string
	Form               *web.Form
	Choice             []web.Option
}

// textsPage lists the free-text answers for staff to redact (the personal data taken
// out) and publish, or withhold.
func (p *Plugin) textsPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, err := p.textsData(r, v, c, "", nil)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.staffMeta(v.T("consultations.page.texts.title"), manageCrumb(c))
	if d.Decided {
		meta.Announce = v.T("consultations.page.texts.decided")
	}
	return v.render(w, r, "texts", d, meta)
}

// textsData is the redaction page, with the form of text failed showing form.
func (p *Plugin) textsData(r *http.Request, v view, c *Consultation, failed string, form *web.Form) (textsData, error) {
	lq, err := sdk.ListParams(r)
	if err != nil {
		return textsData{}, err
	}
	page, err := p.svc.Texts(r.Context(), v.pr, c.ID, lq)
	if err != nil {
		return textsData{}, err
	}
	d := textsData{C: c, Next: web.CursorURL(r.URL, page.NextCursor), Form: web.NewForm(nil), Decided: r.URL.Query().Get("done") == "decided"}
	for _, t := range page.Items {
		tv := textView{Text: t, Redacted: "redacted-" + t.ID, Decision: "decision-" + t.ID, Choice: []web.Option{
			{Value: "publish", Label: v.T("consultations.page.texts.publish")},
			{Value: "withhold", Label: v.T("consultations.page.texts.withhold")}}}
		if i := slices.IndexFunc(c.Questions, func(q Question) bool { return q.ID == t.QuestionID }); i >= 0 {
			tv.Number, tv.Prompt = i+1, c.Questions[i].Prompt
		}
		text := t.Redacted
		if t.State == "pending" || text == "" {
			text = t.Original
		}
		decision := "publish"
		if t.State == "withheld" {
			decision = "withhold"
		}
		tv.Form = web.NewForm(url.Values{tv.Redacted: {text}, tv.Decision: {decision}})
		if t.ID == failed {
			tv.Form = form
			d.Form = form
		}
		d.Texts = append(d.Texts, tv)
	}
	return d, nil
}

// decideTextPost publishes a free-text answer as redacted, or withholds it.
func (p *Plugin) decideTextPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var none struct{}
	form, err := web.Decode(r, &none)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	text := r.PathValue("text")
	redacted, decision := "redacted-"+text, "decision-"+text
	if d := form.Value(decision); d != "publish" && d != "withhold" {
		form.Invalid(decision, "consultations.page.texts.decision.required", nil)
	}
	if form.Valid() {
		in := TextDecision{Publish: form.Value(decision) == "publish", Redacted: form.Value(redacted)}
		_, err := p.svc.DecideText(ctx, v.pr, c.ID, text, in)
		err = renameFields(err, func(k string) string { return strings.Replace(k, "redacted", redacted, 1) })
		if err == nil {
			web.Redirect(w, r, consultationPath(c.ID)+"/texts?done=decided#text-"+text)
			return sdk.PageMeta{}, nil
		}
		if !refuse(form, err, "consultations.page.texts") {
			return sdk.PageMeta{}, err
		}
	}
	d, err := p.textsData(r, v, c, text, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.invalid(w, r, "texts", d, v.staffMeta(v.T("consultations.page.texts.title"), manageCrumb(c)))
}

// publishResultsPost publishes the results and shows them.
func (p *Plugin) publishResultsPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if _, err := p.svc.PublishResults(ctx, v.pr, c.ID); err != nil {
		form := web.NewForm(nil)
		if !refuse(form, err, "consultations.page.manage") {
			return sdk.PageMeta{}, err
		}
		return p.manageInvalid(w, r, v, c, func(d *manageData) { d.ActionForm = form })
	}
	web.Redirect(w, r, resultsPath(c.ID)+"?done=published")
	return sdk.PageMeta{}, nil
}

// responseData is the city's response form.
type responseData struct {
	C    *Consultation
	Form *web.Form
}

func (p *Plugin) responseForm(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := responseData{C: c, Form: web.NewForm(url.Values{"response": {c.Response}})}
	return v.render(w, r, "response", d, v.staffMeta(v.T("consultations.page.response.title"), manageCrumb(c)))
}

// respondPost publishes the city's response, which tells every participant.
func (p *Plugin) respondPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v := r.Context(), p.viewOf(r)
	c, err := p.svc.Get(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in ResponseInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if form.Valid() {
		if strings.TrimSpace(in.Response) == "" {
			form.Invalid("response", "consultations.page.response.required", nil)
		} else if _, err := p.svc.Respond(ctx, v.pr, c.ID, in); err == nil {
			web.Redirect(w, r, resultsPath(c.ID)+"?done=responded")
			return sdk.PageMeta{}, nil
		} else if !refuse(form, err, "consultations.page.response") {
			return sdk.PageMeta{}, err
		}
	}
	d := responseData{C: c, Form: form}
	return v.invalid(w, r, "response", d, v.staffMeta(v.T("consultations.page.response.title"), manageCrumb(c)))
}
