package consultations

import (
	"embed"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/web"
)

// The plugin's pages (DESIGN.md §10): the content of <main>, drawn from
// templates/*.tmpl in the viewer's language (locales/pages.<tag>.toml) with the SDK's
// web kit, beside the API in one route table. Handlers read the request, call the same
// Service the JSON routes call and render; every form is a plain <form method=post>
// answered 303 on success and 422 with the error summary focused on a broken rule, so
// everything works without JavaScript. The host authorises each route; the Service
// decides who may take part and what each stage allows. Split by who uses them:
// pages_public.go (anyone: lists, a consultation, results, cards, charts),
// pages_answer.go (taking part: the survey, its review, the confirmation, the poll),
// pages_staff.go (city staff: preparing, the questions builder, closing, redacting,
// results and the city's response).

// Page paths.
const (
	pageBase    = "/consultations"
	pageNew     = pageBase + "/new"
	pageOne     = pageBase + "/{id}"
	pageNbhCard = pageBase + "/cards/neighbourhood/{nbh}"
	pageHome    = pageBase + "/cards/home"
	// chartPath is the SVG chart of one question's results (an API route: it answers
	// an image, not a page).
	chartPath = api + "/{id}/results/charts/{question}"
)

// Nav entry IDs, for PageMeta.NavActive.
const (
	navConsultations = "consultations"
	navManage        = "consultations-manage"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// pageTemplates are the parsed templates of one city, made once its zone and
// languages are known (Configure): the Plugin's pages field.
type pageTemplates struct {
	once sync.Once
	ts   *web.Templates
}

// templates are the plugin's templates for the city it serves.
func (p *Plugin) templates() *web.Templates {
	ps := &p.pages
	ps.once.Do(func() {
		opts := web.Options{Zone: time.UTC, Funcs: pageFuncs}
		if p.svc != nil {
			opts.Zone = p.svc.zone
			if len(p.svc.languages) > 0 {
				opts.Default = p.svc.languages[0]
			}
		}
		ps.ts = web.MustTemplates(catalog(), opts, templateFiles, "templates/*.tmpl")
	})
	return ps.ts
}

// pageFuncs are the templates' own functions, beside the kit's.
var pageFuncs = template.FuncMap{
	"inc": func(i int) int { return i + 1 },
	// dict is a map from key/value pairs, to hand a template several values.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	// paragraphs splits plain text at blank lines, for <p> elements.
	"paragraphs": func(s string) []string {
		var out []string
		for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
	"stageTone": func(s Stage) string {
		switch s {
		case StageOpen:
			return "success"
		case StageUpcoming:
			return "info"
		case StageResults, StageResponded:
			return "info"
		case StageDraft:
			return "warning"
		}
		return ""
	},
	// decimal is a mean to one decimal, in the viewer's way of writing it.
	"decimal": func(lang string, f float64) string {
		s := strconv.FormatFloat(f, 'f', 1, 64)
		if lang != "en" {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	},
}

// view is the viewer and their language, which every handler needs.
type view struct {
	ts   *web.Templates
	lang string
	loc  *i18n.Localizer
	pr   sdk.Principal
}

func (p *Plugin) viewOf(r *http.Request) view {
	ts := p.templates()
	lang := sdk.LanguageFrom(r.Context())
	return view{ts: ts, lang: lang, loc: ts.Localizer(lang), pr: sdk.PrincipalFrom(r.Context())}
}

// T is a message in the viewer's language, with data as key/value pairs.
func (v view) T(id string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i].(string)] = kv[i+1]
	}
	return v.loc.T(id, data)
}

// render draws template name as the page.
func (v view) render(w http.ResponseWriter, r *http.Request, name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.Render(w, r, v.ts.For(v.lang), name, data, meta)
}

// renderStatus draws template name with another status (a refusal page: 403).
func (v view) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.RenderStatus(w, r, status, v.ts.For(v.lang), name, data, meta)
}

// invalid answers a refused form: 422, the form again, its error summary focused.
func (v view) invalid(w http.ResponseWriter, r *http.Request, name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.RenderInvalid(w, r, v.ts.For(v.lang), name, data, meta)
}

// meta is a page's metadata under the consultations nav entry, with crumbs after
// the list.
func (v view) meta(title string, crumbs ...sdk.Crumb) sdk.PageMeta {
	return sdk.PageMeta{Title: title, NavActive: navConsultations,
		Breadcrumbs: append([]sdk.Crumb{{Label: v.T("consultations.page.nav"), Href: pageBase}}, crumbs...)}
}

// crumb is the breadcrumb of consultation c.
func crumb(c *Consultation) sdk.Crumb { return sdk.Crumb{Label: c.Title, Href: consultationPath(c.ID)} }

// consultationPath and friends are the pages' addresses.
func consultationPath(id string) string { return pageBase + "/" + id }
func answerPath(id string) string       { return consultationPath(id) + "/answer" }
func resultsPath(id string) string      { return consultationPath(id) + "/results" }
func managePath(id string) string       { return consultationPath(id) + "/manage" }
func chartURL(id, question string) string {
	return api + "/" + id + "/results/charts/" + question
}

// isCode reports whether err is an *sdk.Error with code.
func isCode(err error, code string) bool {
	var e *sdk.Error
	return errors.As(err, &e) && e.Code == code
}

// ruleOf is the rule an *sdk.Error names, "" for none.
func ruleOf(err error) string {
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Fields["rule"]
	}
	return ""
}

// refuse records err on form when a person can fix it or must be told why the form
// was refused: a broken rule (caught by field), or a conflict with the stage.
func refuse(form *web.Form, err error, prefix string) bool {
	if form.Catch(err, prefix) {
		return true
	}
	var e *sdk.Error
	if errors.As(err, &e) && (e.Code == sdk.CodeConflict || e.Code == sdk.CodeForbidden) {
		form.Refuse("consultations.page.refused", map[string]any{"Reason": e.Message})
		return true
	}
	return false
}

// pageRoutes are the plugin's pages and cards, appended to Routes.
func (p *Plugin) pageRoutes() []sdk.Route {
	return slices.Concat(p.publicPages(), p.answerPages(), p.staffPages())
}

// pageUI is the manifest's UI section: the nav entries and the cards for the host's
// neighbourhood and home pages.
func pageUI() sdk.UI {
	labels := func(id string) map[string]string { return catalog().Texts(id) }
	return sdk.UI{
		Nav: []sdk.NavEntry{
			{ID: navConsultations, Path: pageBase, Labels: labels("consultations.page.nav"), Permission: sdk.PermPublic, Order: 50},
			{ID: navManage, Path: pageNew, Labels: labels("consultations.page.nav.manage"), Permission: PermManage, Domain: sdk.DomainCity, Order: 51},
			moderationNav(),
		},
		Cards: []sdk.Card{
			{ID: "consultations-open", Slot: "neighbourhood", Path: pageNbhCard, Labels: labels("consultations.card.title"),
				Link: pageBase, Permission: sdk.PermPublic},
			{ID: "consultations-mine", Slot: "home", Path: pageHome, Labels: labels("consultations.card.home.title"),
				Link: pageBase, Permission: sdk.PermAuthenticated},
		},
	}
}
