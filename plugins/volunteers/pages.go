package volunteers

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/web"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// The plugin's pages (DESIGN.md §10): the content of <main> in the viewer's language,
// beside the API in one route table. Handlers parse the request, call the same Service
// as the JSON routes and render; every form is a plain <form method=post> answered 303
// on success and 422 with the error summary focused on a broken rule, so everything
// works without JavaScript. The host authorises each page route before the plugin sees
// it; the Service still checks the object (organiser of THIS opportunity, owner of THIS
// application). Pages by role: pages_public.go (anyone), pages_volunteer.go (a signed-in
// resident), pages_organiser.go (organisers), pages_staff.go (city staff).

// Page paths.
const (
	pageBase        = "/volunteers"
	pageOpportunity = pageBase + "/opportunities/{id}"
	pageProfile     = pageBase + "/profile"
	pageMine        = pageBase + "/mine"
	pageOrganise    = pageBase + "/organise"
	pageSkills      = pageBase + "/skills"
	pageChecks      = pageBase + "/checks"
	pageNbhCard     = pageBase + "/cards/neighbourhood/{nbh}"
)

// Nav entry IDs, for PageMeta.NavActive.
const (
	navFind     = "find"
	navMine     = "mine"
	navOrganise = "organise"
	navSkills   = "skills"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// pageBundle is the kit's words with the plugin's (locales/pages.<tag>.toml; the
// notify catalog rides along, unused by pages).
var pageBundle = func() *i18n.Bundle {
	b, err := web.NewBundle(locales)
	if err != nil {
		panic(err)
	}
	return b
}()

// pageSet is the parsed templates of one city (zone and default language); parsed
// once, on first use, as Configure knows the city only at run time.
type pageSet struct {
	once sync.Once
	ts   *web.Templates

	// mu guards the neighbourhoods with open opportunities, kept for a minute
	// (openNeighbourhoods).
	mu     sync.Mutex
	nbhs   map[string]string
	nbhsAt time.Time
}

func (p *Plugin) templates() *web.Templates {
	p.pages.once.Do(func() {
		zone := time.UTC
		if p.svc != nil {
			zone = p.svc.cfg.Location
		}
		def := ""
		if len(p.env.Languages) > 0 {
			def = p.env.Languages[0]
		}
		p.pages.ts = web.MustTemplates(pageBundle, web.Options{Zone: zone, Default: def, Funcs: pageFuncs}, templateFiles, "templates/*.tmpl")
	})
	return p.pages.ts
}

// pageFuncs are the plugin's own template functions.
var pageFuncs = map[string]any{
	"join": strings.Join,
	// options are choices from value/label pairs.
	"options": func(pairs ...string) []web.Option {
		var out []web.Option
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, web.Option{Value: pairs[i], Label: pairs[i+1]})
		}
		return out
	},
	// dict is a map from key/value pairs, to hand a template several values.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	// inc is i+1, to number rows from 1.
	"inc": func(i int) int { return i + 1 },
	// dayField is the name of a weekday's availability field.
	"dayField": func(day string) string { return "avail_" + day },
	// shiftField is the name of a field of the new opportunity form's shift row i.
	"shiftField": func(i int, name string) string { return fmt.Sprintf("shift%d_%s", i, name) },
}

// view is what every page hands its template beside its own data: the viewer's
// localizer for words a handler picks.
type view struct {
	loc *i18n.Localizer
	t   *web.Templates
	lng string
}

func (p *Plugin) view(r *http.Request) view {
	lang := sdk.LanguageFrom(r.Context())
	ts := p.templates()
	return view{loc: ts.Localizer(lang), t: ts, lng: lang}
}

// T is a message in the viewer's language.
func (v view) T(id string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i].(string)] = kv[i+1]
	}
	return v.loc.T(id, data)
}

// render draws the page name with data.
func (v view) render(w http.ResponseWriter, r *http.Request, name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.Render(w, r, v.t.For(v.lng), name, data, meta)
}

// invalid answers 422 with the form page name again, its error summary focused.
func (v view) invalid(w http.ResponseWriter, r *http.Request, name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.RenderInvalid(w, r, v.t.For(v.lng), name, data, meta)
}

// crumbs are the breadcrumbs from the volunteering front page down.
func (v view) crumbs(more ...sdk.Crumb) []sdk.Crumb {
	return append([]sdk.Crumb{{Label: v.T("volunteers.nav.find"), Href: pageBase}}, more...)
}

// skillNames are the catalogue's names in the viewer's language, then the city's,
// then any, by skill ID, with the IDs sorted by name.
func (p *Plugin) skillNames(ctx context.Context, lang string) (map[string]string, []string, error) {
	lb, err := p.svc.labels(ctx, lang)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(lb.Skills))
	for id := range lb.Skills {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		return strings.Compare(strings.ToLower(lb.Skills[a]), strings.ToLower(lb.Skills[b]))
	})
	return lb.Skills, ids, nil
}

// languageName is a language's name in the viewer's language ("turkki" for tr in
// Finnish), from CLDR, so no catalog has to list every language a volunteer may speak.
func languageName(viewer, code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	vt, err := language.Parse(viewer)
	if err != nil {
		vt = language.English
	}
	if n := display.Tags(vt).Name(tag); n != "" {
		return n
	}
	return code
}

// spokenLanguages are the languages the profile and opportunity forms offer: the five
// the city speaks and those most often spoken by newcomers in Finland, Sweden, Denmark
// and Turkey.
var spokenLanguages = []string{"fi", "sv", "da", "tr", "en", "ar", "de", "es", "et", "fa", "fr", "ku", "ru", "so", "uk"}

// neighbourhoodNames are the names of the neighbourhoods ids, by ID.
func (p *Plugin) neighbourhoodNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	ids = dedupe(ids)
	if len(ids) == 0 || p.svc.host == nil {
		return out, nil
	}
	ns, err := p.svc.host.Neighbourhoods(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		if !n.Archived {
			out[n.ID] = n.Name
		}
	}
	return out, nil
}

// organisationNames are the names of the organisations ids, by ID.
func (p *Plugin) organisationNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	ids = slices.DeleteFunc(dedupe(ids), func(s string) bool { return s == "" })
	if len(ids) == 0 || p.svc.host == nil {
		return out, nil
	}
	os, err := p.svc.host.Organisations(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, o := range os {
		out[o.ID] = o.Name
	}
	return out, nil
}

// pageRoutes are the plugin's pages and cards, appended to Routes.
func (p *Plugin) pageRoutes() []sdk.Route {
	return slices.Concat(p.publicRoutes(), p.volunteerRoutes(), p.shiftRoutes(), p.organiserRoutes(), p.staffRoutes())
}

// navLabels is one message in every language the plugin speaks, for the manifest.
func navLabels(id string) map[string]string {
	out := map[string]string{}
	for _, lang := range pageBundle.Languages() {
		out[lang] = pageBundle.Localizer(lang).T(id)
	}
	return out
}

// pageUI is the manifest's UI: nav entries for each role and the neighbourhood card.
func pageUI() sdk.UI {
	return sdk.UI{
		Nav: []sdk.NavEntry{
			{ID: navFind, Path: pageBase, Labels: navLabels("volunteers.nav.find"), Permission: sdk.PermPublic, Order: 400},
			{ID: navMine, Path: pageMine, Labels: navLabels("volunteers.nav.mine"), Permission: sdk.PermAuthenticated, Order: 401},
			{ID: navOrganise, Path: pageOrganise, Labels: navLabels("volunteers.nav.organise"), Permission: PermOpportunityManage, Order: 402},
			{ID: navSkills, Path: pageSkills, Labels: navLabels("volunteers.nav.skills"), Permission: PermSkillManage, Domain: sdk.DomainCity, Order: 403},
		},
		Cards: []sdk.Card{{ID: "free-places", Slot: "neighbourhood", Path: pageNbhCard, Labels: navLabels("volunteers.card.title"),
			Link: pageBase, Permission: sdk.PermPublic}},
	}
}
