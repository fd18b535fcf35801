package budgeting

import (
	"bytes"
	"io"
	"net/http"

	"github.com/kvarter/kvarter/sdk"
)

const base = "/api/v1/budgeting"

// maxImportBody bounds a Pabulib import, which may be a city's whole vote and run to
// several megabytes. The route declares it, so the host lets such a body through and
// refuses a larger one before it reaches the plugin; JSON bodies keep the host's
// default.
const maxImportBody = 16 << 20

// Path parameters, documented once.
var (
	cycleParam    = sdk.Param{Name: "id", In: "path", Format: "uuid", Description: "The cycle's ID."}
	proposalParam = sdk.Param{Name: "proposalID", In: "path", Format: "uuid", Description: "The proposal's ID."}
)

// routes is the plugin's route table: the manifest's routes, its Handler and its
// OpenAPI document. Each handler reads the request, calls one service method and
// returns its answer. Route permissions are checked by the host in any domain (no
// Domain) because a route names a cycle, not a neighbourhood; the service then checks
// the permission in the cycle's own neighbourhood.
func (p *Plugin) routes() []sdk.Route {
	c := base + "/cycles/{id}"
	pr := c + "/proposals/{proposalID}"
	caller := func(r *http.Request) sdk.Principal { return sdk.PrincipalFrom(r.Context()) }
	return append([]sdk.Route{
		sdk.List(base+"/cycles", sdk.PermPublic, func(r *http.Request, q sdk.ListQuery) (sdk.Page[*Cycle], error) {
			qs := r.URL.Query()
			f := CycleFilter{NeighbourhoodID: qs.Get("neighbourhood_id"), ParentID: qs.Get("parent_id")}
			switch qs.Get("simulation") {
			case "", "false":
			case "true":
				f.Simulations = true
			default:
				return sdk.Page[*Cycle]{}, sdk.Invalid("simulation", sdk.RuleOneOf, "must be true or false")
			}
			return p.svc.Cycles(r.Context(), f, q)
		}).Doc("List budgeting cycles", "In the order they were opened: the real budgets, or with simulation=true the simulation cycles staff import files into. A city-wide budget with a pot per district is one cycle per district sharing a parent_id.").
			With(sdk.Param{Name: "neighbourhood_id", Description: "Only the cycles of this neighbourhood."},
				sdk.Param{Name: "parent_id", Format: "uuid", Description: "Only the cycles grouped under this cycle."},
				sdk.Param{Name: "simulation", Description: "true: the simulation cycles instead of the real ones.", Enum: []string{"true", "false"}}),

		sdk.Post(base+"/cycles", PermCycleManage, func(r *http.Request, in CreateCycleInput) (*Cycle, error) {
			return p.svc.CreateCycle(r.Context(), caller(r), in)
		}).Status(http.StatusCreated).
			Doc("Open a cycle", "Opens a cycle in the ideas phase in a neighbourhood where the caller holds budgeting.cycle.manage. The budget is in minor units of the currency.").
			Example(CreateCycleInput{NeighbourhoodID: "0190f5c6-7c1e-7a51-9d1e-1f2a3b4c5d6e", Name: "Vesterbro 2026", Budget: 500_000_00, Currency: "DKK",
				Ballot: BallotRules{Type: BallotApproval, Max: 3}}, nil),

		sdk.Get(c, sdk.PermPublic, func(r *http.Request) (*Cycle, error) {
			return p.svc.Cycle(r.Context(), r.PathValue("id"))
		}).Doc("One cycle", "").With(cycleParam),

		sdk.Patch(c, PermCycleManage, func(r *http.Request, in CyclePatch) (*Cycle, error) {
			return p.svc.EditCycle(r.Context(), caller(r), r.PathValue("id"), in)
		}).Doc("Change a cycle's set-up", "Only the fields the body names change: name and country at any time; budget and ballot before voting opens; support_top_n until the support phase ends; phases replaces the schedule of the phases still ahead.").
			With(cycleParam).Errors(http.StatusConflict),

		sdk.Post(c+"/phase", PermCycleManage, func(r *http.Request, in PhaseInput) (*Cycle, error) {
			return p.svc.SetPhase(r.Context(), caller(r), r.PathValue("id"), in.Phase)
		}).Doc("Move a cycle forward", "Phases only move forward: ideas, support, review, voting, results, implementation. Leaving voting opens the sealed ballots.").
			With(cycleParam).Errors(http.StatusConflict),

		sdk.List(c+"/proposals", sdk.PermPublic, func(r *http.Request, q sdk.ListQuery) (sdk.Page[*Proposal], error) {
			page, err := p.svc.Proposals(r.Context(), r.PathValue("id"), r.URL.Query().Get("status"), q)
			for i, it := range page.Items {
				page.Items[i] = it.Public()
			}
			return page, err
		}).Doc("List a cycle's proposals", "In the order they were submitted.").
			With(cycleParam, sdk.Param{Name: "status", Description: "Only the proposals with this status.", Enum: proposalStatuses}),

		sdk.Post(c+"/proposals", sdk.PermAuthenticated, func(r *http.Request, in ProposalInput) (*Proposal, error) {
			return p.svc.SubmitProposal(r.Context(), caller(r), r.PathValue("id"), in)
		}).Status(http.StatusCreated).
			Doc("Submit a proposal", "In the ideas phase, by a verified resident of the cycle's neighbourhood (or anyone signed in, when the city lets them). Cost is the author's estimate in minor units.").
			With(cycleParam).Errors(http.StatusConflict).
			Example(ProposalInput{Title: "Benches along the canal", Cost: 40_000_00}, nil),

		sdk.Get(pr, sdk.PermPublic, func(r *http.Request) (*Proposal, error) {
			pp, err := p.svc.Proposal(r.Context(), r.PathValue("id"), r.PathValue("proposalID"))
			if err != nil {
				return nil, err
			}
			if caller(r).UserID != pp.AuthorID {
				pp = pp.Public()
			}
			return pp, nil
		}).Doc("One proposal", "With its dated implementation updates; an anonymous one without its author, except to its author.").With(cycleParam, proposalParam),

		sdk.Patch(pr, sdk.PermAuthenticated, func(r *http.Request, in ProposalPatch) (*Proposal, error) {
			return p.svc.EditProposal(r.Context(), caller(r), r.PathValue("id"), r.PathValue("proposalID"), in)
		}).Doc("Edit one's own proposal", `By its author, until review starts. Only the fields the body names change: {"cost": 6000000} changes the cost alone.`).
			With(cycleParam, proposalParam).Errors(http.StatusConflict),

		sdk.Put(c+"/follow", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
			return p.svc.FollowCycle(r.Context(), caller(r), r.PathValue("id"), true)
		}).OptionalBody().Doc("Follow a cycle", "Hear when a phase opens and when the results are out. Proposing and voting follow it already.").
			With(cycleParam),
		sdk.Delete(c+"/follow", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
			return p.svc.FollowCycle(r.Context(), caller(r), r.PathValue("id"), false)
		}).OptionalBody().Doc("Stop following a cycle", "").With(cycleParam),
		sdk.Put(pr+"/follow", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
			return p.svc.FollowProposal(r.Context(), caller(r), r.PathValue("id"), r.PathValue("proposalID"), true)
		}).OptionalBody().Doc("Follow a proposal", "Hear how it was reviewed and, once funded, how the project goes. Proposing and supporting follow it already.").
			With(cycleParam, proposalParam),
		sdk.Delete(pr+"/follow", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
			return p.svc.FollowProposal(r.Context(), caller(r), r.PathValue("id"), r.PathValue("proposalID"), false)
		}).OptionalBody().Doc("Stop following a proposal", "").With(cycleParam, proposalParam),

		sdk.Raw(http.MethodPost, pr+"/attachments", sdk.PermAuthenticated, "application/json", func(w http.ResponseWriter, r *http.Request) error {
			// A multipart/form-data form: the host receives the file and hands over
			// its id in the file field's place, with the other fields as they were.
			in := AttachmentInput{Kind: AttachPhoto, UploadID: sdk.UploadID(r, AttachPhoto), Text: r.PostForm.Get("alt")}
			if id := sdk.UploadID(r, AttachDocument); id != "" || in.UploadID == "" && r.PostForm.Has("title") {
				in = AttachmentInput{Kind: AttachDocument, UploadID: id, Text: r.PostForm.Get("title")}
			}
			pp, err := p.svc.AddAttachment(r.Context(), caller(r), r.PathValue("id"), r.PathValue("proposalID"), in)
			if err != nil {
				return err
			}
			if caller(r).UserID != pp.AuthorID {
				pp = pp.Public()
			}
			sdk.WriteJSON(w, http.StatusCreated, pp)
			return nil
		}).Upload(AttachPhoto, maxPhotoBytes, sdk.UploadImage).Upload(AttachDocument, maxDocumentBytes, sdk.UploadPDF).
			Returns(Proposal{}).Status(http.StatusCreated).
			Doc("Add a photo or a document to a proposal", "A multipart/form-data form with either photo (a JPEG or PNG image) and alt (what it shows, required), or document (a PDF) and title (required). By the author until review starts, or by a reviewer of the cycle at any time; at most 10 per proposal. The host checks the file by its content and strips a photo's metadata.").
			With(cycleParam, proposalParam).Errors(http.StatusConflict, http.StatusUnprocessableEntity),

		sdk.Delete(pr+"/attachments/{attachmentID}", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (*Proposal, error) {
			pp, err := p.svc.RemoveAttachment(r.Context(), caller(r), r.PathValue("id"), r.PathValue("proposalID"), r.PathValue("attachmentID"))
			if err != nil {
				return nil, err
			}
			if caller(r).UserID != pp.AuthorID {
				pp = pp.Public()
			}
			return pp, nil
		}).OptionalBody().Doc("Remove a photo or a document from a proposal", "By whoever may add one.").
			With(cycleParam, proposalParam, sdk.Param{Name: "attachmentID", In: "path", Format: "uuid", Description: "The attachment's ID."}),

		sdk.Post(pr+"/support", PermProposalSupport, func(r *http.Request, _ sdk.NoBody) (*Proposal, error) {
			pp, err := p.svc.Support(r.Context(), caller(r), r.PathValue("id"), r.PathValue("proposalID"))
			if err != nil {
				return nil, err
			}
			return pp.Public(), nil
		}).OptionalBody().Doc("Support an idea", "In the support phase, by a verified resident; supporting twice counts once.").
			With(cycleParam, proposalParam).Errors(http.StatusConflict),

		sdk.Post(pr+"/review", PermProposalReview, func(r *http.Request, in ReviewInput) (*Proposal, error) {
			pp, err := p.svc.Review(r.Context(), caller(r), r.PathValue("id"), r.PathValue("proposalID"), in)
			if err != nil {
				return nil, err
			}
			return pp.Public(), nil
		}).Doc("Review a proposal", `In the review phase: {"feasible": true, "cost": N} puts it on the ballot at its final cost, {"feasible": false, "reason": "..."} rejects it with a public reason, {"duplicate_of": "id"} merges it into another.`).
			With(cycleParam, proposalParam).Errors(http.StatusConflict),

		sdk.Post(pr+"/updates", PermProjectUpdate, func(r *http.Request, in UpdateInput) (*Proposal, error) {
			pp, err := p.svc.UpdateImplementation(r.Context(), caller(r), r.PathValue("id"), r.PathValue("proposalID"), in)
			if err != nil {
				return nil, err
			}
			return pp.Public(), nil
		}).Status(http.StatusCreated).
			Doc("Report on a funded project", "A dated public update; the status moves planned → in_progress → done and never back.").
			With(cycleParam, proposalParam).Errors(http.StatusConflict),

		sdk.Post(c+"/ballots", PermBallotCast, func(r *http.Request, in BallotInput) (*Receipt, error) {
			// The host checked the route's permission before the request got here.
			ctx := withRouteChecked(r.Context(), PermBallotCast)
			return p.svc.CastBallot(ctx, sdk.PrincipalFrom(ctx), r.PathValue("id"), in)
		}).Status(http.StatusCreated).
			Doc("Cast a ballot", "In the voting phase, by a verified resident: projects (approval, ordinal: best first) or points (cumulative). A ballot that breaks a rule is refused with 422 naming it in fields.rule; a second ballot with 409 unless ballots are replaceable and replace_token is given.").
			With(cycleParam).Errors(http.StatusConflict),

		sdk.Post(c+"/paper-ballots", PermBallotPaper, func(r *http.Request, in PaperBallotsInput) (PaperBallotsRecorded, error) {
			n, err := p.svc.EnterPaperBallots(r.Context(), caller(r), r.PathValue("id"), in.Ballots)
			return PaperBallotsRecorded{Recorded: n}, err
		}).Status(http.StatusCreated).
			Doc("Enter paper ballots", "Transcribed by an officer during voting or before results; all or none are recorded, and a bad one is named by its index.").
			With(cycleParam).Errors(http.StatusConflict),

		sdk.Get(c+"/me", sdk.PermAuthenticated, func(r *http.Request) (*Participation, error) {
			return p.svc.Participation(r.Context(), caller(r), r.PathValue("id"))
		}).Doc("What I can do in a cycle", "For the signed-in person: whether they are a resident here, have voted, and may propose, support, vote or replace their ballot now.").With(cycleParam),

		sdk.Get(c+"/turnout", sdk.PermPublic, func(r *http.Request) (*Turnout, error) {
			return p.svc.Turnout(r.Context(), r.PathValue("id"))
		}).Doc("Turnout", "How many people voted online and how many ballots there are.").With(cycleParam),

		sdk.Post(c+"/tally", PermResultsPublish, func(r *http.Request, in TallyInput) (*Result, error) {
			return p.svc.Tally(r.Context(), caller(r), r.PathValue("id"), in)
		}).Status(http.StatusCreated).
			Doc("Tally and publish the results at once", "In the results phase, once, with no preview (POST /preview then POST /publish to look first): the rule and its options as in `kvarter pb tally`. Winners become planned projects.").
			With(cycleParam).Errors(http.StatusConflict).
			Example(TallyInput{Rule: "mes", Completion: "add1u"}, nil),

		sdk.Post(c+"/preview", PermResultsPublish, func(r *http.Request, in PreviewInput) (*Preview, error) {
			return p.svc.PreviewResults(r.Context(), caller(r), r.PathValue("id"), in)
		}).Status(http.StatusCreated).
			Doc("Preview the tally in private", "In the results phase, before publishing: each rule's outcome side by side (greedy and mes by default for approval ballots), the projects they disagree on and how satisfied voters would be. Nothing is published; a new preview replaces the last, and entering paper ballots discards it.").
			With(cycleParam).Errors(http.StatusConflict).
			Example(PreviewInput{Rules: []TallyInput{{Rule: "greedy"}, {Rule: "mes", Completion: "add1"}}}, nil),

		sdk.Get(c+"/preview", PermResultsPublish, func(r *http.Request) (*Preview, error) {
			return p.svc.ResultsPreview(r.Context(), caller(r), r.PathValue("id"))
		}).Doc("The private preview", "The cycle's current preview, to officers who may publish results.").With(cycleParam),

		sdk.Post(c+"/publish", PermResultsPublish, func(r *http.Request, in PublishInput) (*Result, error) {
			return p.svc.Publish(r.Context(), caller(r), r.PathValue("id"), in)
		}).Status(http.StatusCreated).
			Doc("Publish a previewed result", "Publishes the named candidate of the current preview exactly as previewed, with its explanations. Winners become planned projects.").
			With(cycleParam).Errors(http.StatusConflict).
			Example(PublishInput{Rule: "mes"}, nil),

		sdk.Get(c+"/results", sdk.PermPublic, func(r *http.Request) (*Result, error) {
			return p.svc.Results(r.Context(), r.PathValue("id"))
		}).Doc("Published results", "With the rule, the ballot hash, every project's count, ties, a plain-language explanation of the rule and, per project, why it was or was not funded (explanations, computed when the tally ran).").With(cycleParam),

		sdk.Raw(http.MethodGet, c+"/export.pb", sdk.PermPublic, "text/plain", func(w http.ResponseWriter, r *http.Request) error {
			// Rendered into a buffer so an error half way never leaves a truncated file
			// with a 200 status.
			var buf bytes.Buffer
			if err := p.svc.Export(r.Context(), r.PathValue("id"), &buf); err != nil {
				return err
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("id")+`.pb"`)
			_, err := w.Write(buf.Bytes())
			return err
		}).Doc("Anonymised ballots as a Pabulib file", "Once results are published: `kvarter pb tally` of the file reproduces the result and its ballot hash.").
			With(cycleParam).Errors(http.StatusConflict),

		sdk.Raw(http.MethodPost, c+"/import", PermCycleManage, "application/json", func(w http.ResponseWriter, r *http.Request) error {
			data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBody))
			if err != nil {
				return sdk.Malformed("could not read the file: %v", err)
			}
			sum, err := p.svc.Import(r.Context(), caller(r), r.PathValue("id"), data)
			if err != nil {
				return err
			}
			sdk.WriteJSON(w, http.StatusCreated, sum)
			return nil
		}).Returns(ImportSummary{}).Status(http.StatusCreated).MaxBody(maxImportBody).
			Doc("Import a Pabulib file", "The request body is a .pb file (text/plain), imported into an empty simulation cycle in the ideas phase, which then moves to results. Budget and costs at most 10^12 whole units; a malformed file is refused with 422 naming the line.").
			With(cycleParam).Errors(http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity),
	}, p.pageRoutes()...) // the pages (pages.go)
}

// PhaseInput is the body of POST /cycles/{id}/phase.
type PhaseInput struct {
	Phase Phase `json:"phase" max:"32" enum:"ideas,support,review,voting,results,implementation" doc:"The phase to move to, later than the current one."`
}

// PaperBallotsInput is the body of POST /cycles/{id}/paper-ballots.
type PaperBallotsInput struct {
	Ballots []Ballot `json:"ballots" doc:"The transcribed ballots, as a voter would cast them."`
}

// PaperBallotsRecorded answers POST /cycles/{id}/paper-ballots.
type PaperBallotsRecorded struct {
	Recorded int `json:"recorded" doc:"How many ballots were recorded."`
}
