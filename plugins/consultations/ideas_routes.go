package consultations

import (
	"net/http"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// The idea board's and the moderation's API routes, and their handlers: parse, call
// one service method, return its answer.

var (
	ideaParam    = sdk.Param{Name: "idea", In: "path", Format: "uuid", Description: "The idea's ID"}
	commentParam = sdk.Param{Name: "comment", In: "path", Format: "uuid", Description: "The comment's ID"}
	caseParam    = sdk.Param{Name: "case", In: "path", Format: "uuid", Description: "The moderation case's ID"}
	sortParam    = sdk.Param{Name: "sort", Enum: []string{SortSupported, SortNewest}, Description: "supported (most supported first; the default) or newest"}
)

const (
	ideasAPI      = api + "/{id}/ideas"
	ideaAPI       = ideasAPI + "/{idea}"
	commentAPI    = ideaAPI + "/comments/{comment}"
	moderationAPI = api + "/moderation"
)

func (p *Plugin) ideaRoutes() []sdk.Route {
	return []sdk.Route{
		sdk.List(ideasAPI, sdk.PermPublic, p.listIdeas).With(idParam, sortParam).
			Doc("Ideas of an idea board", "Most supported or newest first. A hidden idea keeps its place and shows only why it was hidden.").Errors(404, 409),
		sdk.Post(ideasAPI, sdk.PermAuthenticated, p.postIdea).With(idParam).Status(http.StatusCreated).
			Doc("Post an idea", "While the board is open, by someone who may take part in it. At most 5 ideas a day per person (429).").Errors(403, 404, 409, 429),
		sdk.Get(api+"/{id}/ideas.json", sdk.PermPublic, p.ideaBoardData).With(idParam).
			Doc("The idea board as open data", "Every idea with its supports, status and the city's reason, and its comments; a hidden idea or comment shows only why it was hidden. No personal data but the names people chose to show (format kvarter.idea-board/1, see the plugin's README).").Errors(404, 409),
		sdk.Get(ideaAPI, sdk.PermPublic, p.getIdea).With(idParam, ideaParam).
			Doc("An idea", "").Errors(404, 409),
		sdk.List(ideaAPI+"/comments", sdk.PermPublic, p.listComments).With(idParam, ideaParam).
			Doc("Comments on an idea", "Oldest first; a hidden comment shows only why it was hidden.").Errors(404, 409),
		sdk.Post(ideaAPI+"/comments", sdk.PermAuthenticated, p.postComment).With(idParam, ideaParam).Status(http.StatusCreated).
			Doc("Comment on an idea", "While the board is open, by someone who may take part in it. At most 3 comments a minute per person (429).").Errors(403, 404, 409, 429),
		sdk.Put(ideaAPI+"/support", sdk.PermAuthenticated, p.support).With(idParam, ideaParam).OptionalBody().
			Doc("Support an idea", "One support per person; supporting again changes nothing. Not one's own idea.").Errors(403, 404, 409),
		sdk.Delete(ideaAPI+"/support", sdk.PermAuthenticated, p.withdrawSupport).With(idParam, ideaParam).
			Doc("Withdraw your support", "").Errors(403, 404, 409),
		sdk.Put(ideaAPI+"/status", PermManage, p.setIdeaStatus).In(sdk.DomainCity).With(idParam, ideaParam).
			Doc("Decide what becomes of an idea", "Under review, taken forward or not taken forward, always with a reason, shown on the idea; the author and the supporters are told.").Errors(404, 409),

		sdk.Post(ideaAPI+"/reports", sdk.PermAuthenticated, p.reportIdea).With(idParam, ideaParam).Status(http.StatusCreated).
			Doc("Report an idea", "To the moderators: a category and what is wrong. Once per person and idea; at most 10 reports an hour (429).").Errors(404, 409, 429),
		sdk.Post(commentAPI+"/reports", sdk.PermAuthenticated, p.reportComment).With(idParam, ideaParam, commentParam).Status(http.StatusCreated).
			Doc("Report a comment", "As for an idea.").Errors(404, 409, 429),
		sdk.Post(ideaAPI+"/hide", PermModerate, p.hideIdea).In(sdk.DomainCity).With(idParam, ideaParam).Status(http.StatusCreated).
			Doc("Hide an idea", "The category is shown in its place; the note goes to the author, who may appeal once.").Errors(404, 409),
		sdk.Post(commentAPI+"/hide", PermModerate, p.hideComment).In(sdk.DomainCity).With(idParam, ideaParam, commentParam).Status(http.StatusCreated).
			Doc("Hide a comment", "As for an idea.").Errors(404, 409),
		sdk.Post(ideaAPI+"/keep", PermModerate, p.keepIdea).In(sdk.DomainCity).With(idParam, ideaParam).
			Doc("Keep a reported idea", "Closes its open reports without hiding it.").Errors(404),
		sdk.Post(commentAPI+"/keep", PermModerate, p.keepComment).In(sdk.DomainCity).With(idParam, ideaParam, commentParam).
			Doc("Keep a reported comment", "Closes its open reports without hiding it.").Errors(404),
		sdk.List(moderationAPI+"/queue", PermModerate, p.queue).In(sdk.DomainCity).
			Doc("Reported ideas and comments", "Items with open reports, the longest waiting first, with their text and reports (reporters are not named).").Errors(),
		sdk.List(moderationAPI+"/appeals", PermModerate, p.appeals).In(sdk.DomainCity).
			Doc("Appeals to decide", "Hidings whose author appealed, the oldest appeal first; may_decide is false for the moderator who hid it.").Errors(),
		sdk.Get(moderationAPI+"/cases", sdk.PermAuthenticated, p.myCases).
			Doc("Your hidden ideas and comments", "With the moderator's note, your appeal and its decision.").Errors(),
		sdk.Get(moderationAPI+"/cases/{case}", sdk.PermAuthenticated, p.getCase).With(caseParam).
			Doc("A moderation case", "To its author and to moderators.").Errors(404),
		sdk.Post(moderationAPI+"/cases/{case}/appeal", sdk.PermAuthenticated, p.appeal).With(caseParam).
			Doc("Appeal a hiding", "Once, by the author.").Errors(403, 404, 409),
		sdk.Post(moderationAPI+"/cases/{case}/decision", PermModerate, p.decide).In(sdk.DomainCity).With(caseParam).
			Doc("Decide an appeal", "Uphold the hiding or restore the item, with a reason told to the author; not by the moderator who hid it.").Errors(403, 404, 409),
	}
}

// SupportInput confirms the board's minimum age with a support, where it has one.
type SupportInput struct {
	AgeConfirmed bool `json:"age_confirmed,omitempty"`
}

// MyCases are the caller's moderation cases.
type MyCases struct {
	Items []Case `json:"items" nullable:"false"`
}

func (p *Plugin) listIdeas(r *http.Request, q sdk.ListQuery) (sdk.Page[Idea], error) {
	return p.svc.Ideas(r.Context(), caller(r), r.PathValue("id"), r.URL.Query().Get("sort"), q)
}

func (p *Plugin) postIdea(r *http.Request, in IdeaInput) (Idea, error) {
	return p.svc.PostIdea(r.Context(), caller(r), r.PathValue("id"), in)
}

func (p *Plugin) ideaBoardData(r *http.Request) (IdeaBoardData, error) {
	return p.svc.IdeaBoardData(r.Context(), caller(r), r.PathValue("id"))
}

func (p *Plugin) getIdea(r *http.Request) (Idea, error) {
	return p.svc.Idea(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"))
}

func (p *Plugin) listComments(r *http.Request, q sdk.ListQuery) (sdk.Page[Comment], error) {
	return p.svc.Comments(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), q)
}

func (p *Plugin) postComment(r *http.Request, in CommentInput) (Comment, error) {
	return p.svc.AddComment(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), in)
}

func (p *Plugin) support(r *http.Request, in SupportInput) (SupportState, error) {
	return p.svc.Support(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), true, in.AgeConfirmed)
}

func (p *Plugin) withdrawSupport(r *http.Request, _ sdk.NoBody) (SupportState, error) {
	return p.svc.Support(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), false, false)
}

func (p *Plugin) setIdeaStatus(r *http.Request, in StatusInput) (Idea, error) {
	return p.svc.SetStatus(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), in)
}

func (p *Plugin) reportIdea(r *http.Request, in ReportInput) (Report, error) {
	return p.svc.ReportItem(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), "", in)
}

func (p *Plugin) reportComment(r *http.Request, in ReportInput) (Report, error) {
	return p.svc.ReportItem(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), r.PathValue("comment"), in)
}

func (p *Plugin) hideIdea(r *http.Request, in HideInput) (Case, error) {
	return p.svc.Hide(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), "", in)
}

func (p *Plugin) hideComment(r *http.Request, in HideInput) (Case, error) {
	return p.svc.Hide(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), r.PathValue("comment"), in)
}

func (p *Plugin) keepIdea(r *http.Request, in KeepInput) (sdk.NoBody, error) {
	return sdk.NoBody{}, p.svc.Keep(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), "", in)
}

func (p *Plugin) keepComment(r *http.Request, in KeepInput) (sdk.NoBody, error) {
	return sdk.NoBody{}, p.svc.Keep(r.Context(), caller(r), r.PathValue("id"), r.PathValue("idea"), r.PathValue("comment"), in)
}

func (p *Plugin) queue(r *http.Request, q sdk.ListQuery) (sdk.Page[QueueItem], error) {
	return p.svc.Queue(r.Context(), caller(r), q)
}

func (p *Plugin) appeals(r *http.Request, q sdk.ListQuery) (sdk.Page[Case], error) {
	return p.svc.Appeals(r.Context(), caller(r), q)
}

func (p *Plugin) myCases(r *http.Request) (MyCases, error) {
	cases, err := p.svc.MyCases(r.Context(), caller(r))
	return MyCases{Items: cases}, err
}

func (p *Plugin) getCase(r *http.Request) (Case, error) {
	return p.svc.Case(r.Context(), caller(r), r.PathValue("case"))
}

func (p *Plugin) appeal(r *http.Request, in AppealInput) (Case, error) {
	return p.svc.Appeal(r.Context(), caller(r), r.PathValue("case"), in)
}

func (p *Plugin) decide(r *http.Request, in DecisionInput) (Case, error) {
	return p.svc.Decide(r.Context(), caller(r), r.PathValue("case"), in)
}

// IdeaBoardFormat names the open-data format of an idea board and its version.
const IdeaBoardFormat = "kvarter.idea-board/1"

// IdeaBoardData is an idea board as open data (README.md, "Idea boards as open data").
type IdeaBoardData struct {
	Format         string     `json:"format" enum:"kvarter.idea-board/1"`
	ConsultationID string     `json:"consultation_id" format:"uuid"`
	Title          string     `json:"title"`
	Stage          Stage      `json:"stage" enum:"upcoming,open,closed,results,responded"`
	GeneratedAt    time.Time  `json:"generated_at"`
	Ideas          []OpenIdea `json:"ideas" nullable:"false"`
}

// OpenIdea is one idea of the open data, with its comments.
type OpenIdea struct {
	ID              string      `json:"id" format:"uuid"`
	Title           string      `json:"title" doc:"Empty when hidden"`
	Body            string      `json:"body" doc:"Empty when hidden"`
	NeighbourhoodID string      `json:"neighbourhood_id,omitempty"`
	AuthorName      string      `json:"author_name" doc:"Only a name the author chose to show"`
	Author          AuthorShown `json:"author" enum:"named,not_shown,former_member"`
	Status          IdeaStatus  `json:"status" enum:"open,under_review,taken_forward,not_taken_forward"`
	StatusReason    string      `json:"status_reason"`
	StatusAt        *time.Time  `json:"status_at,omitempty"`
	Supports        int         `json:"supports"`
	Hidden          *Hidden     `json:"hidden,omitempty"`
	CreatedAt       time.Time   `json:"created_at"`
	Comments        []Comment   `json:"comments" nullable:"false"`
}
