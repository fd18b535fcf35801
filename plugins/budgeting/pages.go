package budgeting

import (
	"embed"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/web"
)

// The plugin's pages (DESIGN.md §10): the content of <main>, drawn from
// templates/*.tmpl in the viewer's language with the SDK's web kit. Handlers read the
// request, call the same service the JSON routes call, and render; forms follow
// Post/Redirect/Get (303) and answer a broken rule with 422, the form kept and its
// error summary focused. Nothing needs JavaScript. The handlers are split by who uses
// them: pages_public.go (anyone), pages_resident.go (proposing and voting),
// pages_staff.go (officers).

// pageFiles are the page templates and their words (locales/pages.<tag>.toml).
//
//go:embed templates/*.tmpl locales/pages.*.toml
var pageFiles embed.FS

// Page paths.
const (
	pageBase = "/budgeting"
	// NavBudgeting is the ID of the plugin's nav entry.
	NavBudgeting = "budgeting"
)

// pageRoutes are the page routes, beside the API routes in one table. The host checks
// each route's permission before the plugin sees it; staff handlers then check the
// cycle's own neighbourhood.
func (p *Plugin) pageRoutes() []sdk.Route {
	c := pageBase + "/cycles/{id}"
	pr := c + "/proposals/{proposalID}"
	return []sdk.Route{
		sdk.GetPage(pageBase, sdk.PermPublic, p.cyclesPage),
		sdk.GetPage(c, sdk.PermPublic, p.cyclePage),
		sdk.GetPage(pr, sdk.PermPublic, p.proposalPage),
		sdk.GetPage(c+"/results", sdk.PermPublic, p.resultsPage),
		sdk.GetPage(pageBase+"/cards/neighbourhood/{nbh}", sdk.PermPublic, p.neighbourhoodCard),
		sdk.GetPage(pageBase+"/cards/home", sdk.PermAuthenticated, p.homeCard),

		sdk.GetPage(c+"/propose", sdk.PermAuthenticated, p.proposeForm),
		sdk.PostPage(c+"/propose", sdk.PermAuthenticated, p.propose),
		sdk.GetPage(pr+"/edit", sdk.PermAuthenticated, p.editProposalForm),
		sdk.PostPage(pr+"/edit", sdk.PermAuthenticated, p.editProposal),
		sdk.PostPage(pr+"/support", PermProposalSupport, p.supportProposal),
		sdk.PostPage(pr+"/attachments", sdk.PermAuthenticated, p.attach).
			Upload(AttachPhoto, maxPhotoBytes, sdk.UploadImage).Upload(AttachDocument, maxDocumentBytes, sdk.UploadPDF).ShowUploadErrors(),
		sdk.PostPage(pr+"/attachments/{attachmentID}/remove", sdk.PermAuthenticated, p.detach),
		sdk.GetPage(c+"/ballot", PermBallotCast, p.ballotForm),
		sdk.PostPage(c+"/ballot/review", PermBallotCast, p.reviewBallot),
		sdk.PostPage(c+"/ballot", PermBallotCast, p.castBallot),
		sdk.GetPage(c+"/ballot/cast", PermBallotCast, p.ballotCast),

		sdk.GetPage(pageBase+"/new", PermCycleManage, p.newCycleForm),
		sdk.PostPage(pageBase+"/new", PermCycleManage, p.createCycle),
		sdk.GetPage(c+"/manage", PermCycleManage, p.managePage),
		sdk.GetPage(c+"/edit", PermCycleManage, p.editCycleForm),
		sdk.PostPage(c+"/edit", PermCycleManage, p.editCycle),
		sdk.PostPage(c+"/phase", PermCycleManage, p.setPhase),
		sdk.GetPage(c+"/review", PermProposalReview, p.reviewQueue),
		sdk.PostPage(pr+"/review", PermProposalReview, p.reviewProposal),
		sdk.GetPage(c+"/paper", PermBallotPaper, p.paperForm),
		sdk.PostPage(c+"/paper", PermBallotPaper, p.enterPaper),
		sdk.GetPage(c+"/tally", PermResultsPublish, p.tallyForm),
		sdk.PostPage(c+"/tally", PermResultsPublish, p.tally),
		sdk.PostPage(c+"/tally/preview", PermResultsPublish, p.previewTally),
		sdk.PostPage(pr+"/updates", PermProjectUpdate, p.postUpdate).Upload(AttachPhoto, maxPhotoBytes, sdk.UploadImage).ShowUploadErrors(),
	}
}

// ui is the manifest's UI section: the nav entry and the neighbourhood card.
func (p *Plugin) ui() sdk.UI {
	return sdk.UI{
		Nav: []sdk.NavEntry{{ID: NavBudgeting, Path: pageBase, Labels: labels("budgeting.nav"), Permission: sdk.PermPublic, Order: 40}},
		Cards: []sdk.Card{{ID: "budgeting-now", Slot: "neighbourhood", Path: pageBase + "/cards/neighbourhood/{nbh}",
			Labels: labels("budgeting.card.title"), Link: pageBase, Permission: sdk.PermPublic},
			// The same on a signed-in resident's home page, for their neighbourhoods.
			{ID: "budgeting-mine", Slot: "home", Path: pageBase + "/cards/home",
				Labels: labels("budgeting.card.title"), Link: pageBase, Permission: sdk.PermAuthenticated}},
	}
}

// bundle holds the page catalogs with the web kit's; a broken catalog is a bug the
// tests catch, so it panics.
var bundle = sync.OnceValue(func() *i18n.Bundle {
	b, err := web.NewBundle(pageFiles)
	if err != nil {
		panic(err)
	}
	return b
})

// labels is one message in every language of the catalog, for the manifest.
func labels(id string) map[string]string {
	out := map[string]string{}
	for _, lang := range bundle().Languages() {
		out[lang] = bundle().Localizer(lang).T(id)
	}
	return out
}

// pages are the parsed templates, made once the city's zone and languages are known
// (Configure).
func (p *Plugin) pages() *web.Templates {
	p.tmplOnce.Do(func() {
		opts := web.Options{Zone: p.svc.zone, Funcs: pageFuncs}
		if len(p.svc.languages) > 0 {
			opts.Default = p.svc.languages[0]
		}
		p.tmpl = web.MustTemplates(bundle(), opts, pageFiles, "templates/*.tmpl")
	})
	return p.tmpl
}

// view is what every page's data carries: the viewer and their language.
type view struct {
	lang string
	loc  *i18n.Localizer
	pr   sdk.Principal
}

func (p *Plugin) viewOf(r *http.Request) view {
	lang := sdk.LanguageFrom(r.Context())
	return view{lang: lang, loc: p.pages().Localizer(lang), pr: sdk.PrincipalFrom(r.Context())}
}

func (v view) T(id string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i].(string)] = kv[i+1]
	}
	return v.loc.T(id, data)
}

// render draws template name as the page, with meta.
func (p *Plugin) render(w http.ResponseWriter, r *http.Request, v view, name string, data any, meta sdk.PageMeta) error {
	return web.Render(w, r, p.pages().For(v.lang), name, data, meta)
}

// invalid answers a refused form: 422, the form again, the error summary focused.
func (p *Plugin) invalid(w http.ResponseWriter, r *http.Request, v view, name string, data any, meta sdk.PageMeta) error {
	return web.RenderInvalid(w, r, p.pages().For(v.lang), name, data, meta)
}

// meta is a page's metadata under the budgeting nav entry, with crumbs after the
// cycles list.
func (v view) meta(title string, crumbs ...sdk.Crumb) sdk.PageMeta {
	return sdk.PageMeta{Title: title, NavActive: NavBudgeting,
		Breadcrumbs: append([]sdk.Crumb{{Label: v.T("budgeting.nav"), Href: pageBase}}, crumbs...)}
}

// cyclePath and friends are the pages' addresses.
func cyclePath(id string) string           { return pageBase + "/cycles/" + id }
func proposalPath(cycle, id string) string { return cyclePath(cycle) + "/proposals/" + id }

// isCode reports whether err is an *sdk.Error with code.
func isCode(err error, code string) bool {
	var e *sdk.Error
	return errors.As(err, &e) && e.Code == code
}

// pageFuncs are the templates' own functions, beside the kit's.
var pageFuncs = template.FuncMap{
	// phaseTone and statusTone colour a tag; its text says the same.
	"phaseTone": func(ph Phase) string {
		switch ph {
		case PhaseVoting, PhaseIdeas, PhaseSupport:
			return "success"
		case PhaseResults, PhaseImplementation:
			return "info"
		}
		return ""
	},
	"statusTone": func(status string) string {
		switch status {
		case StatusFeasible:
			return "success"
		case StatusInfeasible, StatusNotShortlisted:
			return "danger"
		case StatusMerged:
			return "info"
		}
		return ""
	},
	// cost is a proposal's reviewed cost once it has one, else the estimate.
	"cost": func(pr *Proposal) int64 {
		if pr.FinalCost > 0 {
			return pr.FinalCost
		}
		return pr.Cost
	},
	"inc": func(i int) int { return i + 1 },
	"removal": func(cycleID, proposalID string, a Attachment) removal {
		return removal{CycleID: cycleID, ProposalID: proposalID, Attachment: a}
	},
	"ruleFamily": ruleFamily,
	// concat is the winners, then the others.
	"concat": func(a, b []resultRow) []resultRow { return append(slices.Clip(a), b...) },
	// mean is a mean of the preview's satisfaction, to one decimal.
	"mean": func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	// resultTable is a table of results rows, captioned by the message captionID.
	"resultTable": func(d resultsData, rows []resultRow, captionID string) resultTable {
		return resultTable{CycleID: d.Cycle.ID, Currency: d.Result.Currency, Rows: rows, CaptionID: captionID}
	},
}

// removal is the button that takes an attachment off its proposal.
type removal struct {
	CycleID, ProposalID string
	Attachment          Attachment
}

type resultTable struct {
	CycleID, Currency, CaptionID string
	Rows                         []resultRow
}
