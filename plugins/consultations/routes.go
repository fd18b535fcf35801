package consultations

import (
	"net/http"
	"slices"

	"github.com/kvarter/kvarter/sdk"
)

// Permissions the plugin declares. Staff permissions are checked in the city domain:
// a consultation may be for some neighbourhoods, but the city runs it.
const (
	// PermManage: prepare, publish and close consultations, redact free text, publish
	// results and the city's response.
	PermManage = "consultations.consultation.manage"
	// PermModerate: hide reported ideas and comments and decide appeals (ideas*.go).
	PermModerate = "consultations.content.moderate"
)

// Roles the plugin declares, granted in the city domain.
const (
	RoleStaff     = "consultation_staff"
	RoleModerator = "moderator"
)

var permissions = []sdk.Permission{
	{Name: PermManage, Description: "Prepare, publish and close consultations; redact answers; publish results and the city's response"},
	{Name: PermModerate, Description: "Hide reported ideas and comments with a reason, and decide appeals"},
}

var grants = []sdk.Grant{
	{Role: "city_admin", Permission: PermManage},
	{Role: "city_admin", Permission: PermModerate},
}

// roles are the plugin's roles, named and described from the catalog in every language.
func roles() []sdk.Role {
	role := func(name, key, description string, perms ...string) sdk.Role {
		return sdk.Role{Name: name, Description: description, Permissions: perms,
			Labels:       catalog().Texts("consultations.role." + key + ".label"),
			Descriptions: catalog().Texts("consultations.role." + key + ".description")}
	}
	return []sdk.Role{
		role(RoleStaff, "staff", "Runs consultations (granted in city)", PermManage),
		role(RoleModerator, "moderator", "Moderates ideas and comments (granted in city)", PermModerate),
	}
}

const api = "/api/v1/consultations"

// idParam documents the consultation ID of every route under /{id}.
var idParam = sdk.Param{Name: "id", In: "path", Format: "uuid", Description: "The consultation's ID"}

// Routes is the route table: the manifest's routes, the mux and the OpenAPI document.
// Handlers parse, call the service and return; the host has checked the route's
// permission, the service checks the rest (who may take part, the stage).
func (p *Plugin) Routes() []sdk.Route {
	return slices.Concat(p.apiRoutes(), p.ideaRoutes(), p.pageRoutes(), p.ideaPageRoutes())
}

func (p *Plugin) apiRoutes() []sdk.Route {
	return []sdk.Route{
		sdk.List(api, sdk.PermPublic, p.list).
			Doc("Consultations", "Published consultations, latest closing first; staff see drafts too.").
			With(sdk.Param{Name: "stage", Enum: []string{"upcoming", "open", "closed", "results", "responded", "ended", "draft"}, Description: "Only consultations at this stage; ended: closed, results or responded"},
				sdk.Param{Name: "neighbourhood", Format: "uuid", Description: "Only consultations for this neighbourhood, and city-wide ones"}),
		sdk.Post(api, PermManage, p.create).In(sdk.DomainCity).Status(http.StatusCreated).
			Doc("Prepare a consultation", "Creates a draft; nobody but staff sees it until it is published.").Errors(404),
		sdk.Get(api+"/{id}", sdk.PermPublic, p.get).With(idParam).
			Doc("A consultation", "With its questions; a draft only to staff.").Errors(404),
		sdk.Put(api+"/{id}", PermManage, p.update).In(sdk.DomainCity).With(idParam).
			Doc("Change a draft", "Replaces the draft's definition; a published consultation cannot change.").Errors(404, 409),
		sdk.Delete(api+"/{id}", PermManage, p.delete).In(sdk.DomainCity).With(idParam).
			Doc("Delete a draft", "").Errors(404, 409),
		sdk.Post(api+"/{id}/publish", PermManage, p.publish).In(sdk.DomainCity).With(idParam).
			Doc("Publish a consultation", "It is shown at once and opens at opens_at.").Errors(404, 409),
		sdk.Post(api+"/{id}/close", PermManage, p.close).In(sdk.DomainCity).With(idParam).
			Doc("Close a consultation now", "Before closes_at; answers are no longer taken.").Errors(404, 409),
		sdk.Raw(http.MethodPost, api+"/{id}/attachments", PermManage, "application/json", p.addAttachment).
			In(sdk.DomainCity).With(idParam).Upload("file", MaxAttachment, sdk.UploadImage, sdk.UploadPDF).
			Status(http.StatusCreated).Returns(Attachment{}).
			Doc("Attach a file to the background", "multipart/form-data: the file (PDF or image) in field file, its name as shown in field name; a draft only.").Errors(404, 409),
		sdk.Delete(api+"/{id}/attachments/{upload}", PermManage, p.removeAttachment).In(sdk.DomainCity).With(idParam).
			Doc("Remove an attachment", "").Errors(404, 409),

		sdk.Get(api+"/{id}/eligibility", sdk.PermPublic, p.eligibility).With(idParam).
			Doc("Whether the caller may take part", "And if not, why, in the caller's language.").Errors(404),
		sdk.Get(api+"/{id}/answer", sdk.PermAuthenticated, p.myAnswer).With(idParam).
			Doc("Your answer", "An anonymous answer is sealed: only that you took part is shown.").Errors(404),
		sdk.Post(api+"/{id}/answer", sdk.PermPublic, p.submit).With(idParam).Status(http.StatusCreated).
			Doc("Answer", "One answer per person; who may take part is the consultation's participation and min_age.").Errors(401, 403, 404, 409),
		sdk.Put(api+"/{id}/answer", sdk.PermAuthenticated, p.edit).With(idParam).
			Doc("Change your answer", "Until the close, where the consultation allows it; an anonymous answer cannot change.").Errors(404, 409),

		sdk.List(api+"/{id}/texts", PermManage, p.texts).In(sdk.DomainCity).With(idParam).
			Doc("Free-text answers to redact", "After the close: every free-text answer, unlinked from who wrote it, in random order.").Errors(404, 409),
		sdk.Put(api+"/{id}/texts/{text}", PermManage, p.decideText).In(sdk.DomainCity).With(idParam).
			Doc("Redact a free-text answer", "Publish it as redacted, or withhold it; only redacted text is ever public.").Errors(404, 409),
		sdk.Get(api+"/{id}/results/preview", PermManage, p.previewResults).In(sdk.DomainCity).With(idParam).
			Doc("Preview the results", "Before publishing, with the free text decided so far.").Errors(404, 409),
		sdk.Post(api+"/{id}/results", PermManage, p.publishResults).In(sdk.DomainCity).With(idParam).
			Doc("Publish the results", "After the close, once every free-text answer is decided. They never change again.").Errors(404, 409),
		sdk.Get(api+"/{id}/results", sdk.PermPublic, p.results).With(idParam).
			Doc("Results (open data)", "Counts per option, scale distributions and means, rankings by Borda count, redacted free text. Public once published; a poll's results also to those who voted when the poll shows them after voting.").Errors(404),
		sdk.Raw(http.MethodGet, api+"/{id}/results.csv", sdk.PermPublic, "text/csv", p.resultsCSV).With(idParam).
			Doc("Results as CSV (open data)", "One row per question and option, scale point or published text: question_id, question, kind, item_id, item, count, value. Public once published.").Errors(404),
		sdk.Post(api+"/{id}/response", PermManage, p.respond).In(sdk.DomainCity).With(idParam).
			Doc("Publish the city's response", "What was decided and why; every participant is notified, anonymous ones too.").Errors(404, 409),
	}
}
