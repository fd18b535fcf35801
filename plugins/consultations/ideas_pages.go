package consultations

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The idea board's pages and the moderation's, on the pages' plumbing (pages.go):
// the board, an idea with its comments and support button, the post form, the report
// form, staff's status form, the moderators' queue and their form for one item, and the
// case page where the author appeals and another moderator decides. Every form is a
// plain <form method=post>: 303 on success, 422 with the error summary focused on a
// broken rule, 429 with the same summary when the person writes too fast.

const (
	pageIdeas      = pageOne + "/ideas"
	pageIdea       = pageIdeas + "/{idea}"
	pageComment    = pageIdea + "/comments/{comment}"
	pageModeration = pageBase + "/moderation"
	pageCase       = pageModeration + "/cases/{case}"
)

func ideasPath(id string) string { return consultationPath(id) + "/ideas" }

// ModeratePath is the moderators' page of what t names.
func (t Target) ModeratePath() string {
	p := IdeaPath(t.ConsultationID, t.IdeaID)
	if t.Kind == TargetComment {
		p += "/comments/" + t.ID
	}
	return p + "/moderate"
}

// navModeration is the moderators' nav entry, for PageMeta.NavActive.
const navModeration = "consultations-moderation"

// moderationNav is the manifest's nav entry of the moderators' queue, shown only to
// those who may moderate.
func moderationNav() sdk.NavEntry {
	return sdk.NavEntry{ID: navModeration, Path: pageModeration, Labels: catalog().Texts("consultations.moderation.nav"),
		Permission: PermModerate, Domain: sdk.DomainCity, Order: 52}
}

func (p *Plugin) ideaPageRoutes() []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pageIdeas, sdk.PermPublic, p.boardPage),
		sdk.GetPage(pageIdeas+"/new", sdk.PermAuthenticated, p.newIdeaPage),
		sdk.PostPage(pageIdeas, sdk.PermAuthenticated, p.postIdeaPage),
		sdk.GetPage(pageIdea, sdk.PermPublic, p.ideaPage),
		sdk.PostPage(pageIdea+"/comments", sdk.PermAuthenticated, p.commentPage),
		sdk.PostPage(pageIdea+"/support", sdk.PermAuthenticated, p.supportPage),
		sdk.GetPage(pageIdea+"/report", sdk.PermAuthenticated, p.reportPage),
		sdk.PostPage(pageIdea+"/report", sdk.PermAuthenticated, p.reportPage),
		sdk.GetPage(pageComment+"/report", sdk.PermAuthenticated, p.reportPage),
		sdk.PostPage(pageComment+"/report", sdk.PermAuthenticated, p.reportPage),
		sdk.GetPage(pageIdea+"/status", PermManage, p.statusPage).In(sdk.DomainCity),
		sdk.PostPage(pageIdea+"/status", PermManage, p.statusPage).In(sdk.DomainCity),
		sdk.GetPage(pageModeration, PermModerate, p.queuePage).In(sdk.DomainCity),
		sdk.GetPage(pageIdea+"/moderate", PermModerate, p.moderatePage).In(sdk.DomainCity),
		sdk.PostPage(pageIdea+"/moderate", PermModerate, p.moderatePage).In(sdk.DomainCity),
		sdk.GetPage(pageComment+"/moderate", PermModerate, p.moderatePage).In(sdk.DomainCity),
		sdk.PostPage(pageComment+"/moderate", PermModerate, p.moderatePage).In(sdk.DomainCity),
		sdk.GetPage(pageCase, sdk.PermAuthenticated, p.casePage),
		sdk.PostPage(pageCase+"/appeal", sdk.PermAuthenticated, p.appealPage),
		sdk.PostPage(pageCase+"/decision", PermModerate, p.decisionPage).In(sdk.DomainCity),
	}
}

// boardData is the board page.
type boardData struct {
	C         *Consultation
	Ideas     []Idea
	Sort      string
	Next      string
	CanPost   bool
	MayDecide bool
	DataURL   string
}

func (p *Plugin) boardPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	q, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	sort := r.URL.Query().Get("sort")
	if sort != SortNewest {
		sort = SortSupported
	}
	c, err := p.svc.board(r.Context(), v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	page, err := p.svc.Ideas(r.Context(), v.pr, c.ID, sort, q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	staff, err := p.svc.isStaff(r.Context(), v.pr)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := boardData{C: c, Ideas: page.Items, Sort: sort, Next: web.CursorURL(r.URL, page.NextCursor), CanPost: c.Stage == StageOpen,
		MayDecide: staff, DataURL: api + "/" + c.ID + "/ideas.json"}
	return v.render(w, r, "ideas-board", d, v.meta(v.T("consultations.ideas.page.board.title", "Title", c.Title), crumb(c)))
}

// postData is the post form.
type postData struct {
	C              *Consultation
	Form           *web.Form
	Neighbourhoods []web.Option
	ShowName       []web.Option
	AgeConfirm     []web.Option
}

func (p *Plugin) postData(v view, r *http.Request, c *Consultation, form *web.Form) (postData, error) {
	d := postData{C: c, Form: form, ShowName: []web.Option{{Value: "1", Label: v.T("consultations.ideas.page.form.show_name", "Name", v.pr.DisplayName)}}}
	if c.MinAge > 0 {
		d.AgeConfirm = []web.Option{{Value: "1", Label: v.loc.N("consultations.ideas.page.form.age", c.MinAge)}}
	}
	names, err := p.neighbourhoodOptions(r, c)
	if err != nil {
		return d, err
	}
	if len(names) > 1 {
		d.Neighbourhoods = append([]web.Option{{Value: "", Label: v.T("consultations.ideas.page.form.neighbourhood.none")}}, names...)
	}
	return d, nil
}

// neighbourhoodOptions are the board's neighbourhoods, by name.
func (p *Plugin) neighbourhoodOptions(r *http.Request, c *Consultation) ([]web.Option, error) {
	if len(c.Neighbourhoods) == 0 {
		return nil, nil
	}
	ns, err := p.svc.host.Neighbourhoods(r.Context(), c.Neighbourhoods)
	if err != nil {
		return nil, err
	}
	var out []web.Option
	for _, n := range ns {
		out = append(out, web.Option{Value: n.ID, Label: n.Name})
	}
	return out, nil
}

func (p *Plugin) newIdeaPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.svc.board(r.Context(), v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d, err := p.postData(v, r, c, web.NewForm(nil))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "ideas-post", d, p.postMeta(v, c))
}

func (p *Plugin) postMeta(v view, c *Consultation) sdk.PageMeta {
	return v.meta(v.T("consultations.ideas.page.post.title"), crumb(c), sdk.Crumb{Label: v.T("consultations.ideas.page.board.crumb"), Href: ideasPath(c.ID)})
}

func (p *Plugin) postIdeaPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.svc.board(r.Context(), v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in IdeaInput // the API's request, read from the form
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if form.Valid() {
		idea, err := p.svc.PostIdea(r.Context(), v.pr, c.ID, in)
		if err == nil {
			web.Redirect(w, r, IdeaPath(c.ID, idea.ID)+"?posted=1")
			return sdk.PageMeta{}, nil
		}
		if !p.refuseWrite(form, err, "consultations.ideas.page.post") {
			return sdk.PageMeta{}, err
		}
	}
	d, err := p.postData(v, r, c, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return p.refusedWrite(w, r, v, form, "ideas-post", d, p.postMeta(v, c))
}

// rateMessages prefixes the messages that say a person writes too fast, by rule.
const rateMessages = "consultations.ideas.page.rate."

// refuseWrite records on form a refusal a person can act on: a broken rule at its
// field, being too fast, or a conflict with the board (closed, hidden, own idea).
func (p *Plugin) refuseWrite(form *web.Form, err error, prefix string) bool {
	var e *sdk.Error
	if errors.As(err, &e) && e.Code == sdk.CodeRateLimited {
		form.Refuse(rateMessages+e.Fields["rule"], nil)
		return true
	}
	return refuseIdeas(form, err, prefix)
}

// refuseIdeas is refuse, with the idea board's own conflicts said in the viewer's
// language (consultations.ideas.page.refused.<rule>).
func refuseIdeas(form *web.Form, err error, prefix string) bool {
	var e *sdk.Error
	if errors.As(err, &e) && (e.Code == sdk.CodeConflict || e.Code == sdk.CodeForbidden) && refusedRules[e.Fields["rule"]] {
		form.Refuse("consultations.ideas.page.refused."+e.Fields["rule"], nil)
		return true
	}
	return refuse(form, err, prefix)
}

// refusedRules are the idea board's and the moderation's conflicts a page words.
var refusedRules = map[string]bool{"own_idea": true, "hidden": true, "reported": true, "own_text": true,
	"appealed": true, "decided": true, "not_appealed": true, "same_moderator": true}

// refusedWrite answers a refused form: 429 when the person wrote too fast, else 422, the
// form again with its error summary focused.
func (p *Plugin) refusedWrite(w http.ResponseWriter, r *http.Request, v view, form *web.Form, name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	for _, pr := range form.Problems() {
		for _, id := range pr.IDs {
			if strings.HasPrefix(id, rateMessages) {
				meta.Focus = web.ErrorSummaryID
				return v.renderStatus(w, r, http.StatusTooManyRequests, name, data, meta)
			}
		}
	}
	return v.invalid(w, r, name, data, meta)
}

// ideaData is an idea's page.
type ideaData struct {
	C          *Consultation
	Idea       Idea
	Comments   []Comment
	Next       string
	Form       *web.Form
	ShowName   []web.Option
	AgeConfirm []web.Option
	CanWrite   bool
	Staff      bool
	Moderator  bool
	Posted     bool
	Reported   bool
	SignedIn   bool
}

func (p *Plugin) ideaData(v view, r *http.Request, form *web.Form) (ideaData, sdk.PageMeta, error) {
	ctx := r.Context()
	c, err := p.svc.board(ctx, v.pr, r.PathValue("id"))
	if err != nil {
		return ideaData{}, sdk.PageMeta{}, err
	}
	idea, err := p.svc.Idea(ctx, v.pr, c.ID, r.PathValue("idea"))
	if err != nil {
		return ideaData{}, sdk.PageMeta{}, err
	}
	q, err := sdk.ListParams(r)
	if err != nil {
		return ideaData{}, sdk.PageMeta{}, err
	}
	comments, err := p.svc.Comments(ctx, v.pr, c.ID, idea.ID, q)
	if err != nil {
		return ideaData{}, sdk.PageMeta{}, err
	}
	staff, err := p.svc.isStaff(ctx, v.pr)
	if err != nil {
		return ideaData{}, sdk.PageMeta{}, err
	}
	mod, err := p.svc.isModerator(ctx, v.pr)
	if err != nil {
		return ideaData{}, sdk.PageMeta{}, err
	}
	d := ideaData{C: c, Idea: idea, Comments: comments.Items, Next: web.CursorURL(r.URL, comments.NextCursor), Form: form,
		CanWrite: c.Stage == StageOpen && idea.Hidden == nil, Staff: staff, Moderator: mod, SignedIn: v.pr.Authenticated(),
		Posted: r.URL.Query().Get("posted") == "1", Reported: r.URL.Query().Get("reported") == "1",
		ShowName: []web.Option{{Value: "1", Label: v.T("consultations.ideas.page.form.show_name", "Name", v.pr.DisplayName)}}}
	if c.MinAge > 0 {
		d.AgeConfirm = []web.Option{{Value: "1", Label: v.loc.N("consultations.ideas.page.form.age", c.MinAge)}}
	}
	title := idea.Title
	if idea.Hidden != nil {
		title = v.T("consultations.ideas.page.hidden.idea")
	}
	meta := v.meta(title, crumb(c), sdk.Crumb{Label: v.T("consultations.ideas.page.board.crumb"), Href: ideasPath(c.ID)})
	switch {
	case d.Posted:
		meta.Announce = v.T("consultations.ideas.page.idea.posted")
	case d.Reported:
		meta.Announce = v.T("consultations.ideas.page.report.sent")
	}
	return d, meta, nil
}

func (p *Plugin) ideaPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	d, meta, err := p.ideaData(v, r, web.NewForm(nil))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "ideas-idea", d, meta)
}

func (p *Plugin) commentPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var in CommentInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	id, ideaID := r.PathValue("id"), r.PathValue("idea")
	if form.Valid() {
		_, err := p.svc.AddComment(r.Context(), v.pr, id, ideaID, in)
		if err == nil {
			web.Redirect(w, r, IdeaPath(id, ideaID)+"#comments")
			return sdk.PageMeta{}, nil
		}
		if !p.refuseWrite(form, err, "consultations.ideas.page.comment") {
			return sdk.PageMeta{}, err
		}
	}
	d, meta, err := p.ideaData(v, r, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return p.refusedWrite(w, r, v, form, "ideas-idea", d, meta)
}

// supportForm gives (support=1) or withdraws (support=0) a support.
type supportForm struct {
	Support      string `json:"support" max:"1"`
	AgeConfirmed bool   `json:"age_confirmed"`
}

func (p *Plugin) supportPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var in supportForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	id, ideaID := r.PathValue("id"), r.PathValue("idea")
	if form.Valid() {
		_, err := p.svc.Support(r.Context(), v.pr, id, ideaID, in.Support == "1", in.AgeConfirmed)
		if err == nil {
			web.Redirect(w, r, IdeaPath(id, ideaID)+"#support")
			return sdk.PageMeta{}, nil
		}
		if !p.refuseWrite(form, err, "consultations.ideas.page.support") {
			return sdk.PageMeta{}, err
		}
	}
	d, meta, err := p.ideaData(v, r, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return p.refusedWrite(w, r, v, form, "ideas-idea", d, meta)
}

// reportData is the report form, and the moderators' form for one item.
type reportData struct {
	C          *Consultation
	Target     Target
	Title      string
	Body       string
	Author     string
	Reports    []Report
	Form       *web.Form
	Categories []web.Option
	Action     string
}

// categoryOptions are the categories as radios.
func categoryOptions(v view) []web.Option {
	out := make([]web.Option, len(Categories))
	for i, c := range Categories {
		out[i] = web.Option{Value: string(c), Label: v.T("consultations.moderation.category." + string(c))}
	}
	return out
}

// reportTarget reads the idea or comment a report or moderation page is about, as the
// viewer may see it.
func (p *Plugin) reportTarget(v view, r *http.Request) (*Consultation, Target, Idea, Comment, error) {
	c, err := p.svc.board(r.Context(), v.pr, r.PathValue("id"))
	if err != nil {
		return nil, Target{}, Idea{}, Comment{}, err
	}
	idea, err := p.svc.Idea(r.Context(), v.pr, c.ID, r.PathValue("idea"))
	if err != nil {
		return nil, Target{}, Idea{}, Comment{}, err
	}
	t := Target{ConsultationID: c.ID, Kind: TargetIdea, ID: idea.ID, IdeaID: idea.ID}
	var cm Comment
	if id := r.PathValue("comment"); id != "" {
		if cm, err = p.svc.st.comment(r.Context(), p.svc.db, idea.ID, id); err != nil {
			return nil, Target{}, Idea{}, Comment{}, err
		}
		t.Kind, t.ID = TargetComment, cm.ID
	}
	return c, t, idea, cm, nil
}

func (p *Plugin) reportPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, t, idea, cm, err := p.reportTarget(v, r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := reportData{C: c, Target: t, Title: idea.Title, Body: idea.Body, Author: authorName(v, idea.Author, idea.AuthorName),
		Categories: categoryOptions(v), Action: r.URL.Path, Form: web.NewForm(nil)}
	if t.Kind == TargetComment {
		d.Title, d.Body, d.Author = "", cm.Body, authorName(v, cm.Author, cm.AuthorName)
	}
	meta := v.meta(v.T("consultations.ideas.page.report.title."+string(t.Kind)), crumb(c),
		sdk.Crumb{Label: v.T("consultations.ideas.page.board.crumb"), Href: ideasPath(c.ID)})
	if r.Method == http.MethodGet {
		return v.render(w, r, "ideas-report", d, meta)
	}
	var in ReportInput
	if d.Form, err = web.Decode(r, &in); err != nil {
		return sdk.PageMeta{}, err
	}
	if d.Form.Valid() {
		commentID := ""
		if t.Kind == TargetComment {
			commentID = t.ID
		}
		_, err := p.svc.ReportItem(r.Context(), v.pr, c.ID, idea.ID, commentID, in)
		if err == nil {
			web.Redirect(w, r, IdeaPath(c.ID, idea.ID)+"?reported=1")
			return sdk.PageMeta{}, nil
		}
		if !p.refuseWrite(d.Form, err, "consultations.ideas.page.report") {
			return sdk.PageMeta{}, err
		}
	}
	return p.refusedWrite(w, r, v, d.Form, "ideas-report", d, meta)
}

// authorName is how an author is named on a page.
func authorName(v view, shown AuthorShown, name string) string {
	switch shown {
	case AuthorNamed:
		return name
	case AuthorErased:
		return v.T("consultations.ideas.page.author.former")
	}
	return v.T("consultations.ideas.page.author.resident")
}

type statusData struct {
	C        *Consultation
	Idea     Idea
	Form     *web.Form
	Statuses []web.Option
}

func (p *Plugin) statusPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	c, err := p.svc.board(r.Context(), v.pr, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	idea, err := p.svc.Idea(r.Context(), v.pr, c.ID, r.PathValue("idea"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := statusData{C: c, Idea: idea, Form: web.NewForm(url.Values{"status": {string(idea.Status)}, "reason": {idea.StatusReason}})}
	for _, s := range staffStatuses {
		d.Statuses = append(d.Statuses, web.Option{Value: string(s), Label: v.T("consultations.ideas.page.status." + string(s))})
	}
	meta := v.meta(v.T("consultations.ideas.page.decide.title"), crumb(c), sdk.Crumb{Label: v.T("consultations.ideas.page.board.crumb"), Href: ideasPath(c.ID)})
	if r.Method == http.MethodGet {
		return v.render(w, r, "ideas-status", d, meta)
	}
	var in StatusInput
	if d.Form, err = web.Decode(r, &in); err != nil {
		return sdk.PageMeta{}, err
	}
	if d.Form.Valid() {
		_, err := p.svc.SetStatus(r.Context(), v.pr, c.ID, idea.ID, in)
		if err == nil {
			web.Redirect(w, r, IdeaPath(c.ID, idea.ID))
			return sdk.PageMeta{}, nil
		}
		if !refuseIdeas(d.Form, err, "consultations.ideas.page.decide") {
			return sdk.PageMeta{}, err
		}
	}
	return v.invalid(w, r, "ideas-status", d, meta)
}

// queueData is the moderators' page: reported items and appeals.
type queueData struct {
	Items      []QueueItem
	Next       string
	Appeals    []Case
	NextAppeal string
}

func (p *Plugin) queuePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	q, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	items, err := p.svc.Queue(r.Context(), v.pr, q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	appeals, err := p.svc.Appeals(r.Context(), v.pr, sdk.ListQuery{Limit: sdk.MaxLimit})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := queueData{Items: items.Items, Next: web.CursorURL(r.URL, items.NextCursor), Appeals: appeals.Items}
	meta := v.meta(v.T("consultations.moderation.page.queue.title"))
	meta.NavActive = navModeration
	return v.render(w, r, "moderation-queue", d, meta)
}

// moderateForm is the moderators' decision on one item: hide it (HideInput: a
// category and a note to the author) or keep it (action=keep).
type moderateForm struct {
	Action string `json:"action" max:"10"`
	HideInput
}

func (p *Plugin) moderatePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	if err := p.svc.requireModerator(r.Context(), v.pr); err != nil {
		return sdk.PageMeta{}, err
	}
	c, t, _, _, err := p.reportTarget(v, r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	d := reportData{C: c, Target: t, Categories: categoryOptions(v), Action: r.URL.Path, Form: web.NewForm(nil)}
	if err := p.svc.st.itemText(r.Context(), p.svc.db, &d.Target, &d.Title, &d.Body, &d.Author); err != nil {
		return sdk.PageMeta{}, err
	}
	if d.Author == "" {
		d.Author = v.T("consultations.ideas.page.author.resident")
	}
	if d.Reports, err = p.svc.st.openReports(r.Context(), t); err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.meta(v.T("consultations.moderation.page.item.title."+string(t.Kind)),
		sdk.Crumb{Label: v.T("consultations.moderation.page.queue.title"), Href: pageModeration})
	if r.Method == http.MethodGet {
		return v.render(w, r, "moderation-item", d, meta)
	}
	var in moderateForm
	if d.Form, err = web.Decode(r, &in); err != nil {
		return sdk.PageMeta{}, err
	}
	commentID := ""
	if t.Kind == TargetComment {
		commentID = t.ID
	}
	if d.Form.Valid() {
		switch in.Action {
		case "keep":
			err = p.svc.Keep(r.Context(), v.pr, c.ID, t.IdeaID, commentID, KeepInput{Note: in.Note})
		default:
			_, err = p.svc.Hide(r.Context(), v.pr, c.ID, t.IdeaID, commentID, in.HideInput)
		}
		if err == nil {
			web.Redirect(w, r, pageModeration+"?done="+in.Action)
			return sdk.PageMeta{}, nil
		}
		if !refuseIdeas(d.Form, err, "consultations.moderation.page.hide") {
			return sdk.PageMeta{}, err
		}
	}
	return v.invalid(w, r, "moderation-item", d, meta)
}

// caseData is a case's page: the author's appeal form, or a moderator's decision form.
type caseData struct {
	Case      Case
	Form      *web.Form
	Decisions []web.Option
	Link      string
	Done      string
}

func (p *Plugin) caseData(v view, r *http.Request, form *web.Form) (caseData, sdk.PageMeta, error) {
	c, err := p.svc.Case(r.Context(), v.pr, r.PathValue("case"))
	if err != nil {
		return caseData{}, sdk.PageMeta{}, err
	}
	d := caseData{Case: c, Form: form, Link: IdeaPath(c.Target.ConsultationID, c.Target.IdeaID), Done: r.URL.Query().Get("done"),
		Decisions: []web.Option{
			{Value: DecisionUpheld, Label: v.T("consultations.moderation.page.decision.upheld")},
			{Value: DecisionRestored, Label: v.T("consultations.moderation.page.decision.restored")},
		}}
	meta := v.meta(v.T("consultations.moderation.page.case.title." + string(c.Target.Kind)))
	if d.Done != "" {
		meta.Announce = v.T("consultations.moderation.page.case.done." + map[bool]string{true: "appeal", false: "decision"}[d.Done == "appeal"])
	}
	return d, meta, nil
}

func (p *Plugin) casePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	d, meta, err := p.caseData(v, r, web.NewForm(nil))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.render(w, r, "moderation-case", d, meta)
}

func (p *Plugin) appealPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var in AppealInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if form.Valid() {
		c, err := p.svc.Appeal(r.Context(), v.pr, r.PathValue("case"), in)
		if err == nil {
			web.Redirect(w, r, CasePath(c.ID)+"?done=appeal")
			return sdk.PageMeta{}, nil
		}
		if !refuseIdeas(form, err, "consultations.moderation.page.appeal") {
			return sdk.PageMeta{}, err
		}
	}
	d, meta, err := p.caseData(v, r, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.invalid(w, r, "moderation-case", d, meta)
}

func (p *Plugin) decisionPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.viewOf(r)
	var in DecisionInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if form.Valid() {
		c, err := p.svc.Decide(r.Context(), v.pr, r.PathValue("case"), in)
		if err == nil {
			web.Redirect(w, r, CasePath(c.ID)+"?done=decision")
			return sdk.PageMeta{}, nil
		}
		if !refuseIdeas(form, err, "consultations.moderation.page.decision") {
			return sdk.PageMeta{}, err
		}
	}
	d, meta, err := p.caseData(v, r, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return v.invalid(w, r, "moderation-case", d, meta)
}
