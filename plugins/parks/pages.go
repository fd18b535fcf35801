package parks

import (
	"embed"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/web"
)

// The plugin's pages (DESIGN.md §10): the content of <main>, rendered from
// templates/*.tmpl in the viewer's language (locales/pages.<tag>.toml), for
// every role — the public (parks, areas, the calendar and its events),
// civic groups (an area's free slots, the request form, their bookings) and
// park managers (the queue with collisions side by side, decisions,
// closures). Every page works without JavaScript: plain links and forms,
// 303 after a form was accepted, 422 with the form again and its error
// summary focused after a broken rule. Handlers read the request, call the
// same service the JSON routes call, and render; the host has checked the
// route's permission, the service checks the object (manager of this park,
// representative of this organisation).
//
// pages_public.go holds the public pages, pages_group.go the civic groups',
// pages_manage.go the park managers'.

// Page paths. Everything under /parks; the host routes the most specific
// path first, so /parks/calendar is not a park.
const (
	pagePrefix    = "/parks"
	pathCalendar  = pagePrefix + "/calendar"
	pathMine      = pagePrefix + "/bookings"
	pathNbhCard   = pagePrefix + "/cards/neighbourhood/{nbh}"
	pathHomeCard  = pagePrefix + "/cards/home"
	pathPark      = pagePrefix + "/{id}"
	pathArea      = pagePrefix + "/{id}/areas/{areaID}"
	pathRequest   = pagePrefix + "/{id}/request"
	pathQueue     = pagePrefix + "/{id}/queue"
	pathBooking   = pagePrefix + "/{id}/bookings/{bookingID}"
	pathEventPage = pagePrefix + "/{id}/events/{eventID}"
	pathClosures  = pagePrefix + "/{id}/closures"
)

// Nav entry IDs.
const (
	navParks    = "parks"
	navCalendar = "calendar"
	navMine     = "bookings"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// pageBundle is the pages' catalog with the web kit's.
var pageBundle = sync.OnceValue(func() *i18n.Bundle {
	b, err := web.NewBundle(locales)
	if err != nil {
		panic(err) // embedded catalogs: a bug, caught by every page test
	}
	return b
})

// pageTemplates are the templates for each city zone and default
// language; one plugin process serves one city, so this holds one entry.
var pageTemplates sync.Map // zone name + "|" + default language → *web.Templates

func (p *Plugin) templates() *web.Templates {
	def := "en"
	if len(p.svc.langs) > 0 {
		def = p.svc.langs[0]
	}
	key := p.svc.cityTZ + "|" + def
	if t, ok := pageTemplates.Load(key); ok {
		return t.(*web.Templates)
	}
	zone, err := time.LoadLocation(p.svc.cityTZ)
	if err != nil {
		zone = time.UTC // checked in Configure
	}
	t := web.MustTemplates(pageBundle(), web.Options{Zone: zone, Default: def, Funcs: pageFuncs}, templateFiles, "templates/*.tmpl")
	actual, _ := pageTemplates.LoadOrStore(key, t)
	return actual.(*web.Templates)
}

// pageFuncs are the plugin's own template functions.
var pageFuncs = map[string]any{
	// options are choices from value, label pairs.
	"options": func(kv ...string) []web.Option {
		out := make([]web.Option, 0, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, web.Option{Value: kv[i], Label: kv[i+1]})
		}
		return out
	},
}

// pageCtx is one request's language, localizer, templates and viewer.
type pageCtx struct {
	p   *Plugin
	w   http.ResponseWriter
	r   *http.Request
	loc *i18n.Localizer
	pr  sdk.Principal
}

func (p *Plugin) pageCtx(w http.ResponseWriter, r *http.Request) *pageCtx {
	lang := sdk.LanguageFrom(r.Context())
	return &pageCtx{p: p, w: w, r: r, loc: p.templates().Localizer(lang), pr: sdk.PrincipalFrom(r.Context())}
}

func (c *pageCtx) t(id string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i].(string)] = kv[i+1]
	}
	return c.loc.T(id, data)
}

// render writes the template name as the page, with meta.
func (c *pageCtx) render(name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.Render(c.w, c.r, c.p.templates().For(c.loc.Lang()), name, data, meta)
}

// invalid answers 422 with the form page name again, the error summary focused.
func (c *pageCtx) invalid(name string, data any, meta sdk.PageMeta) (sdk.PageMeta, error) {
	return sdk.PageMeta{}, web.RenderInvalid(c.w, c.r, c.p.templates().For(c.loc.Lang()), name, data, meta)
}

// crumbs are the breadcrumbs to a park's page and, with more, beyond.
func (c *pageCtx) crumbs(park *Park, more ...sdk.Crumb) []sdk.Crumb {
	out := []sdk.Crumb{{Label: c.t("parks.nav.parks"), Href: pagePrefix}}
	if park != nil {
		out = append(out, sdk.Crumb{Label: park.Name, Href: parkHref(park.ID)})
	}
	return append(out, more...)
}

// Links between the pages.
func parkHref(id string) string         { return pagePrefix + "/" + id }
func areaHref(parkID, id string) string { return pagePrefix + "/" + parkID + "/areas/" + id }
func requestHref(parkID string) string  { return pagePrefix + "/" + parkID + "/request" }
func queueHref(parkID string) string    { return pagePrefix + "/" + parkID + "/queue" }
func closuresHref(parkID string) string { return pagePrefix + "/" + parkID + "/closures" }

// catchForm records err on form when a person can fix it: invalid input,
// and also a clash with another booking or a refusal naming a rule (409,
// 403 with a rule), which the form explains in the viewer's words instead
// of the host's error panel. A problem the service names by something that
// is no field of the form (a date of a series) is the form's as a whole.
func catchForm(form *web.Form, err error, fields ...string) bool {
	var e *sdk.Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Code != sdk.CodeInvalid && !(e.Code == sdk.CodeConflict || e.Code == sdk.CodeForbidden) || e.Fields["rule"] == "" && e.Code != sdk.CodeInvalid {
		return false
	}
	c := *e
	c.Code = sdk.CodeInvalid
	for k := range e.Fields {
		if k != "rule" && !slices.Contains(fields, k) {
			c.Fields = map[string]string{"rule": e.Fields["rule"]}
			break
		}
	}
	return form.Catch(&c, "parks.form")
}

// isManager reports whether pr manages park (approves its bookings).
func (p *Plugin) isManager(c *pageCtx, park *Park) bool {
	if !c.pr.Authenticated() {
		return false
	}
	ok, err := p.svc.can(c.r.Context(), c.pr, PermBookingApprove, parkDomain(park))
	return err == nil && ok
}

// representing are the verified organisations pr represents.
func representing(pr sdk.Principal) []string {
	var out []string
	for _, m := range pr.Organisations {
		if m.Role == "representative" && m.Verified {
			out = append(out, m.OrganisationID)
		}
	}
	return out
}

// mayRequest reports whether pr can ask for a slot: a representative of a
// verified organisation, or a verified resident where the city allows
// individual bookings.
func (p *Plugin) mayRequest(pr sdk.Principal) bool {
	return len(representing(pr)) > 0 || (p.svc.settings.AllowIndividualResidents && len(pr.Neighbourhoods) > 0)
}

// itemLabel is a support item's name in the viewer's language when the
// catalog knows it ("sound_system"), else as the park wrote it.
func (c *pageCtx) itemLabel(name string) string {
	if id := "parks.item." + name; c.loc.Has(id) {
		return c.loc.T(id)
	}
	return name
}

// categoryLabel is a category in the viewer's language.
func (c *pageCtx) categoryLabel(cat string) string {
	if id := "parks.category." + cat; c.loc.Has(id) {
		return c.loc.T(id)
	}
	return cat
}

// statusTag is a booking status as a tag: the text says it, the tone
// colours it.
func (c *pageCtx) statusTag(status string) web.Tag {
	tone := map[string]string{StatusRequested: "info", StatusApproved: "success", StatusRejected: "danger",
		StatusCancelled: "warning", StatusCompleted: ""}[status]
	return web.Tag{Text: c.t("parks.status." + status), Tone: tone}
}

// span is "Tuesday 3 June 2025, 10:00–12:00" in the viewer's language, the
// end's date written out only when it is another day.
func (c *pageCtx) span(start, end time.Time, loc *time.Location) string {
	s, e := start.In(loc), end.In(loc)
	if s.Year() == e.Year() && s.YearDay() == e.YearDay() {
		return c.t("parks.span.same_day", "Date", c.loc.Date(s), "Start", c.loc.Time(s), "End", c.loc.Time(e))
	}
	return c.t("parks.span.days", "Start", c.loc.DateTime(s), "End", c.loc.DateTime(e))
}

// queryDate reads a date from the query ("" when absent); ok is false for
// one that is not a date.
func queryDate(q url.Values, name string, zone *time.Location) (t time.Time, ok bool) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return time.Time{}, true
	}
	var d web.Date
	if d.UnmarshalText([]byte(v)) != nil {
		return time.Time{}, false
	}
	t, err := d.In(zone)
	return t, err == nil
}

// dayStart is midnight of t's day in zone.
func dayStart(t time.Time, zone *time.Location) time.Time {
	y, m, d := t.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, zone)
}

// pageRoutes are the plugin's pages, cards and forms, beside its API routes.
func (p *Plugin) pageRoutes() []sdk.Route {
	routes := []sdk.Route{
		sdk.GetPage(pagePrefix, sdk.PermPublic, p.parksPage),
		sdk.GetPage(pathCalendar, sdk.PermPublic, p.calendarPage),
		sdk.GetPage(pathMine, sdk.PermAuthenticated, p.myBookingsPage),
		sdk.GetPage(pathNbhCard, sdk.PermPublic, p.neighbourhoodCard),
		sdk.GetPage(pathHomeCard, sdk.PermPublic, p.homeCard),
		sdk.GetPage(pathPark, sdk.PermPublic, p.parkPage),
		sdk.GetPage(pathArea, sdk.PermPublic, p.areaPage),
		sdk.GetPage(pathEventPage, sdk.PermPublic, p.eventPage),
		sdk.GetPage(pathRequest, PermBookingRequest, p.requestPage),
		sdk.PostPage(pathRequest, PermBookingRequest, p.requestSubmit),
		sdk.GetPage(pathBooking, sdk.PermAuthenticated, p.bookingPage),
		sdk.PostPage(pathBooking+"/approve", PermBookingApprove, p.approveSubmit),
		sdk.PostPage(pathBooking+"/reject", PermBookingApprove, p.rejectSubmit),
		sdk.PostPage(pathBooking+"/cancel", sdk.PermAuthenticated, p.cancelSubmit),
		sdk.GetPage(pathQueue, PermBookingApprove, p.queuePage),
		sdk.GetPage(pathClosures, PermAreaManage, p.closuresPage),
		sdk.PostPage(pathClosures, PermAreaManage, p.closureSubmit),
	}
	return append(routes, editRoutes(p)...)
}

// labels are a message in every language the plugin speaks, for the
// manifest's nav entries and cards, which the host draws without calling
// the plugin.
func labels(id string) map[string]string {
	out := map[string]string{}
	for _, lang := range i18n.Required {
		out[lang] = pageBundle().Localizer(lang).T(id)
	}
	return out
}

// pageUI is the manifest's UI section: the nav entries and the cards.
func pageUI() sdk.UI {
	return sdk.UI{
		Nav: []sdk.NavEntry{
			{ID: navParks, Path: pagePrefix, Labels: labels("parks.nav.parks"), Permission: sdk.PermPublic, Order: 40},
			{ID: navCalendar, Path: pathCalendar, Labels: labels("parks.nav.calendar"), Permission: sdk.PermPublic, Order: 41},
			{ID: navMine, Path: pathMine, Labels: labels("parks.nav.mine"), Permission: PermBookingRequest, Order: 42},
		},
		Cards: []sdk.Card{
			{ID: "week", Slot: "neighbourhood", Path: pathNbhCard, Labels: labels("parks.card.title"), Link: pathCalendar,
				Permission: sdk.PermPublic},
			{ID: "week_city", Slot: "home", Path: pathHomeCard, Labels: labels("parks.card.title_city"), Link: pathCalendar,
				Permission: sdk.PermPublic},
		},
	}
}
