package assemblies

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/web"
)

// The plugin's pages (DESIGN.md §10): the content of <main> for the host's frame, in
// the viewer's language, built on the same Service as the JSON routes. Every page works
// without JavaScript: actions are plain forms answered 303 (Post/Redirect/Get) or 422
// with the form again and its error summary focused. The host authorises each route
// by its permission before the plugin sees it; the Service still checks the object
// (chair of this assembly, member of it), and the pages show a control only to whom
// the Service would allow it.

// Page paths.
const (
	pagesBase     = "/assemblies"
	pathAnswers   = pagesBase + "/answers"
	pathInbox     = pagesBase + "/inbox"
	pathAssembly  = pagesBase + "/{id}"
	pathMeetings  = pathAssembly + "/meetings"
	pathMeeting   = pathMeetings + "/{meetingID}"
	pathMotions   = pathAssembly + "/motions"
	pathMotion    = pathMotions + "/{motionID}"
	pathBooth     = pathMotion + "/vote"
	pathNbhCard   = pagesBase + "/cards/neighbourhood/{nbh}"
	navAssemblies = "assemblies"
	navInbox      = "assemblies-inbox"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

//go:embed locales/pages.*.toml
var pageLocales embed.FS

// pageBundle is the pages' catalog with the web kit's; a missing message is a test
// failure (TestPages_Catalog), not a blank on a page.
var pageBundle = func() *i18n.Bundle {
	b, err := web.NewBundle(pageLocales)
	if err != nil {
		panic(err)
	}
	return b
}()

// kits are the parsed templates per city zone and default language: a plugin is
// configured once, but tests configure several with other zones.
var kits sync.Map // string -> *web.Templates

// templates are the page templates for the plugin's city.
func (p *Plugin) templates() *web.Templates {
	zone, def := time.UTC, ""
	if p.svc.Zone != nil {
		zone = p.svc.Zone
	}
	if len(p.svc.Languages) > 0 {
		def = p.svc.Languages[0]
	}
	key := zone.String() + "|" + def
	if t, ok := kits.Load(key); ok {
		return t.(*web.Templates)
	}
	t := web.MustTemplates(pageBundle, web.Options{Zone: zone, Default: def, Funcs: pageFuncs}, templateFiles, "templates/*.tmpl")
	got, _ := kits.LoadOrStore(key, t)
	return got.(*web.Templates)
}

// pageFuncs are the pages' own template functions.
var pageFuncs = template.FuncMap{
	// splitLines is text as its paragraphs: what people type with blank lines.
	"splitLines": func(s string) []string {
		var out []string
		for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
	// columns are numeric columns with these labels.
	"columns": func(labels ...string) []web.Column {
		out := make([]web.Column, len(labels))
		for i, l := range labels {
			out[i] = web.Column{Label: l, Numeric: true}
		}
		return out
	},
	// countRow is a vote's counts as one row of a table.
	"countRow": func(c *Counts, electorate int) [][]web.Cell {
		return [][]web.Cell{{{Text: strconv.Itoa(c.Yes)}, {Text: strconv.Itoa(c.No)}, {Text: strconv.Itoa(c.Abstain)}, {Text: strconv.Itoa(electorate)}}}
	},
	// options are value/label pairs.
	"options": func(kv ...string) []web.Option {
		var out []web.Option
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, web.Option{Value: kv[i], Label: kv[i+1]})
		}
		return out
	},
}

// pageRoutes are the pages, beside the API in Routes.
func (p *Plugin) pageRoutes() []sdk.Route {
	pub, participate := sdk.PermPublic, PermAssemblyParticipate
	return []sdk.Route{
		sdk.GetPage(pagesBase, pub, p.indexPage),
		sdk.GetPage(pathAnswers, pub, p.answersPage),
		sdk.GetPage(pathInbox, PermMotionAnswer, p.inboxPage).In(sdk.DomainCity),
		sdk.GetPage(pathNbhCard, pub, p.neighbourhoodCard),
		sdk.GetPage(pathAssembly, pub, p.assemblyPage),
		sdk.PostPage(pathAssembly+"/join", PermMemberJoin, p.joinPost),
		sdk.PostPage(pathAssembly+"/leave", sdk.PermAuthenticated, p.leavePost),
		sdk.PostPage(pathAssembly+"/members/{userID}/{action}", participate, p.memberPost),
		sdk.GetPage(pathAssembly+"/edit", participate, p.editAssemblyPage),
		sdk.PostPage(pathAssembly+"/edit", participate, p.editAssemblyPost),
		sdk.GetPage(pathAssembly+"/consultations/new", PermConsultationRequest, p.newConsultationPage).In(sdk.DomainCity),
		sdk.PostPage(pathAssembly+"/consultations", PermConsultationRequest, p.newConsultationPost).In(sdk.DomainCity),
		sdk.GetPage(pathMeetings+"/new", participate, p.newMeetingPage),
		sdk.GetPage(pathMeeting+"/edit", participate, p.editMeetingPage),
		sdk.GetPage(pathMotion+"/edit", participate, p.editMotionPage),
		sdk.PostPage(pathMeetings, participate, p.newMeetingPost),
		sdk.GetPage(pathMeeting, pub, p.meetingPage),
		sdk.PostPage(pathMeeting+"/{action}", participate, p.meetingPost),
		sdk.GetPage(pathMotions+"/new", sdk.PermAuthenticated, p.newMotionPage),
		sdk.PostPage(pathMotions, sdk.PermAuthenticated, p.newMotionPost),
		sdk.GetPage(pathMotion, pub, p.motionPage),
		sdk.PostPage(pathMotion+"/{action}", participate, p.motionPost),
		sdk.PostPage(pathMotion+"/city/{step}", PermMotionAnswer, p.answerPost).In(sdk.DomainCity),
		sdk.GetPage(pathBooth, PermMotionVote, p.boothPage),
		sdk.PostPage(pathBooth, PermMotionVote, p.boothPost),
	}
}

// ui is the manifest's section for the browser: the nav entries and the card.
func (p *Plugin) ui() sdk.UI {
	return sdk.UI{
		Nav: []sdk.NavEntry{
			{ID: navAssemblies, Path: pagesBase, Labels: labels("assemblies.nav"), Permission: sdk.PermPublic, Order: 40},
			{ID: navInbox, Path: pathInbox, Labels: labels("assemblies.nav.inbox"), Permission: PermMotionAnswer, Domain: sdk.DomainCity, Order: 41},
		},
		Cards: []sdk.Card{{ID: "assemblies", Slot: "neighbourhood", Path: pagesBase + "/cards/neighbourhood/{nbh}",
			Labels: labels("assemblies.card.title"), Link: pagesBase, Permission: sdk.PermPublic}},
	}
}

// pageLanguages are the languages the pages are written in.
var pageLanguages = []string{"en", "fi", "sv", "da", "tr"}

// labels is one message in every language, for the manifest.
func labels(id string) map[string]string {
	out := make(map[string]string, len(pageLanguages))
	for _, lang := range pageLanguages {
		out[lang] = pageBundle.Localizer(lang).T(id)
	}
	return out
}

// page is what every handler needs to answer: the request's language, templates and
// localizer.
type pageCtx struct {
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context
	who sdk.Principal
	loc *i18n.Localizer
	kit *web.Templates
}

func (p *Plugin) page(w http.ResponseWriter, r *http.Request) *pageCtx {
	kit := p.templates()
	lang := sdk.LanguageFrom(r.Context())
	return &pageCtx{w: w, r: r, ctx: r.Context(), who: sdk.PrincipalFrom(r.Context()), loc: kit.Localizer(lang), kit: kit}
}

// render answers the template name with data.
func (pg *pageCtx) render(name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.Render(pg.w, pg.r, pg.kit.For(pg.loc.Lang()), name, data, meta)
}

// renderSummed is render for a page whose data the page memo cannot key on (it holds
// slices and times), keyed instead by id and a digest of the data's JSON: a page drawn
// for equal data is written again without executing the template, which was a third
// of what the motion page cost (issue 18). It holds because the page's data is plain
// exported fields whose JSON is everything the template reads of them — no field is
// left out of the JSON, and a method reads only what the JSON holds (the motion page's
// Timeline) — and the template's functions depend on their arguments and the language
// only. The assembly page keys on its data's version instead (assemblyPageKey).
func (pg *pageCtx) renderSummed(name, id string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	j, err := json.Marshal(data)
	if err != nil {
		return sdk.PageMeta{}, fmt.Errorf("digest of page %s: %w", name, err)
	}
	key := summedKey{Name: name, ID: id, Sum: sha256.Sum256(j)}
	body, err := pageMemo.BytesFor(key, pg.kit.For(pg.loc.Lang()), name, data)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return sdk.PageMeta{}, web.WriteContent(pg.w, pg.r, http.StatusOK, body, meta)
}

// summedKey is a renderSummed page's memo key.
type summedKey struct {
	Name, ID string
	Sum      [sha256.Size]byte
}

// refuse answers 422 with the template name showing the form and its problems.
func (pg *pageCtx) refuse(name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.RenderInvalid(pg.w, pg.r, pg.kit.For(pg.loc.Lang()), name, data, meta)
}

// redirect ends an accepted form: 303 to the page to show next, with a flash key the
// page announces ("done=cast").
func (pg *pageCtx) redirect(to, done string) (sdk.PageMeta, error) {
	if done != "" {
		to += "?" + url.Values{"done": {done}}.Encode()
	}
	web.Redirect(pg.w, pg.r, to)
	return sdk.PageMeta{}, nil
}

// t is a message in the viewer's language.
func (pg *pageCtx) t(id string, kv ...any) string {
	if len(kv) == 0 {
		return pg.loc.T(id)
	}
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i].(string)] = kv[i+1]
	}
	return pg.loc.T(id, data)
}

// done is the announcement of the action that led here, from the redirect's flash.
func (pg *pageCtx) done() string {
	d := pg.r.URL.Query().Get("done")
	if d == "" || !slices.Contains(flashes, d) {
		return ""
	}
	return pg.t("assemblies.done." + d)
}

// flashes are the actions a page may announce after its redirect.
var flashes = []string{"joined", "applied", "left", "approved", "rejected", "position", "scheduled", "cancelled",
	"attendance", "minutes", "approve_minutes", "publish_minutes", "drafted", "sponsor", "table", "withdraw",
	"open", "close", "cast", "acknowledged", "answered", "implemented", "edited", "asked", "invite"}

// meta is a page's metadata: its title, the crumbs that lead to it and the
// announcement of the action that led to it.
func (pg *pageCtx) meta(title string, crumbs ...sdk.Crumb) sdk.PageMeta {
	all := append([]sdk.Crumb{{Label: pg.t("assemblies.nav"), Href: pagesBase}}, crumbs...)
	return sdk.PageMeta{Title: title, Breadcrumbs: all, NavActive: navAssemblies, Announce: pg.done()}
}

// role is what the viewer is to an assembly, for which controls a page shows. The
// Service decides again when the form is sent.
type role struct {
	Signed  bool
	Status  string // the viewer's membership status, "" for none
	Member  bool   // an active member
	Officer bool   // chair, vice-chair or secretary, or a coordinator
	Chair   bool   // chair or vice-chair
}

// roleIn is what who is to assembly a, reading who's membership.
func (s *Service) roleIn(ctx context.Context, a Assembly, who sdk.Principal) (role, error) {
	var r role
	if !who.Authenticated() {
		return r, nil
	}
	m, err := getMember(ctx, s.db, a.ID, who.UserID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return roleOf(a, who, nil), nil
	case err != nil:
		return r, err
	}
	return roleOf(a, who, &m), nil
}

// roleOf is what who is to assembly a, whose membership row is m (nil for none).
func roleOf(a Assembly, who sdk.Principal, m *memberRow) role {
	var r role
	if !who.Authenticated() {
		return r
	}
	r.Signed = true
	if m != nil {
		r.Status = m.Status
		r.Member = m.Status == MemberActive
		r.Chair = r.Member && (m.Position == PositionChair || m.Position == PositionViceChair)
		r.Officer = r.Chair || r.Member && m.Position == PositionSecretary
	}
	r.Officer = r.Officer || holds(who, PermAssemblyManage, "nbh:"+a.NeighbourhoodID)
	return r
}

// holds reports whether the viewer's roles in domain (or the city's) carry perm by the
// plugin's grants, or make them a city admin. Pages decide from the Principal which
// controls to show, without a call to the host per page; the Service asks the host
// when the form is sent, so a city that changed its grants sees at worst a control it
// then may not use, or has to open the API for one it may.
func holds(who sdk.Principal, perm, domain string) bool {
	if !who.Authenticated() {
		return false
	}
	if who.HasRole(sdk.DomainCity, roleCityAdmin) {
		return true
	}
	for _, g := range grants {
		if g.Permission == perm && who.HasRole(domain, g.Role) {
			return true
		}
	}
	return false
}

// roleCityAdmin is the core's city administrator, who holds every permission.
const roleCityAdmin = "city_admin"

// grants are the plugin's default grants, as its manifest declares them.
var grants = New().Manifest().Grants

// isResponder reports whether the viewer answers motions for the city.
func (p *Plugin) isResponder(_ context.Context, who sdk.Principal) (bool, error) {
	return holds(who, PermMotionAnswer, sdk.DomainCity), nil
}

// assemblyPath and the others are the pages' addresses.
func assemblyPath(id string) string     { return pagesBase + "/" + url.PathEscape(id) }
func meetingPath(asm, id string) string { return assemblyPath(asm) + "/meetings/" + url.PathEscape(id) }
func motionPath(asm, id string) string  { return assemblyPath(asm) + "/motions/" + url.PathEscape(id) }
func boothPath(asm, id string) string   { return motionPath(asm, id) + "/vote" }
func calendarPath(asm string) string    { return base + "/" + url.PathEscape(asm) + "/calendar.ics" }

// asError is errors.As for the SDK's error.
func asError(err error, e **sdk.Error) bool { return errors.As(err, e) }

// codeOf is the error code of an *sdk.Error ("conflict"), or "".
func codeOf(err error) string {
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// assemblyFor is the assembly a motion page or the booth belongs to, for its name in
// the breadcrumbs and its neighbourhood: from a cache of assemblyTTL, since reading it
// counts its members and overdue answers, which those pages do not show. The assembly
// page itself always reads it.
func (p *Plugin) assemblyFor(pg *pageCtx, id string) (Assembly, error) {
	now := time.Now()
	key := nameKey{p.svc, id}
	if c, ok := assemblies.get(key); ok && now.Before(c.until) {
		return c.a, nil
	}
	a, err := p.svc.Assembly(pg.ctx, id)
	if err != nil {
		return a, err
	}
	assemblies.put(key, cachedAssembly{a, now.Add(assemblyTTL)})
	return a, nil
}

var assemblies = newPageCache[cachedAssembly]()

type cachedAssembly struct {
	a     Assembly
	until time.Time
}

// pageCache keeps what pages read often and may show a little late (each use says how
// late), per Service and key. It holds at most maxCachedNames entries: a crude bound —
// when full it starts again empty and is refilled as pages ask.
type pageCache[V any] struct {
	mu sync.Mutex
	m  map[nameKey]V
}

func newPageCache[V any]() *pageCache[V] { return &pageCache[V]{m: map[nameKey]V{}} }

func (c *pageCache[V]) get(k nameKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *pageCache[V]) put(k nameKey, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedNames {
		clear(c.m)
	}
	c.m[k] = v
}

const assemblyTTL = 5 * time.Second
