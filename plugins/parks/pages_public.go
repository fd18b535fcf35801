package parks

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The public pages: the parks, one park with its areas and support items,
// an area with its rules, hours and free slots, the event calendar by day,
// week and month, and one event. Anyone may read them, signed in or not.

// parkCard is one park in the list.
type parkCard struct {
	Name, Href, Neighbourhood string
	Areas                     int
}

type parksView struct {
	Parks      []parkCard
	Pagination web.Pagination
}

// parksPage lists the parks, a page at a time.
func (p *Plugin) parksPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	q, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	page, err := p.svc.ListParks(r.Context(), r.URL.Query().Get("neighbourhood_id"), q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	names := p.neighbourhoodNames(c, page.Items)
	v := parksView{Pagination: web.Pagination{Next: web.CursorURL(r.URL, page.NextCursor)}}
	for _, park := range page.Items {
		v.Parks = append(v.Parks, parkCard{Name: park.Name, Href: parkHref(park.ID), Neighbourhood: names[park.NeighbourhoodID]})
	}
	return c.render("parks-list", v, sdk.PageMeta{Title: c.t("parks.list.title"), NavActive: navParks})
}

// neighbourhoodNames are the names of the parks' neighbourhoods; a host
// that cannot answer leaves them out rather than failing the page.
func (p *Plugin) neighbourhoodNames(c *pageCtx, parks []*Park) map[string]string {
	var ids []string
	for _, park := range parks {
		if !slices.Contains(ids, park.NeighbourhoodID) {
			ids = append(ids, park.NeighbourhoodID)
		}
	}
	out := map[string]string{}
	if len(ids) == 0 || p.svc.host == nil {
		return out
	}
	list, err := p.svc.host.Neighbourhoods(c.r.Context(), ids)
	if err != nil {
		return out
	}
	for _, n := range list {
		out[n.ID] = n.Name
	}
	return out
}

// areaLine is one area in a park's table.
type areaLine struct {
	Name, Href, Parent string
	Capacity           int
	Depth              int
}

// itemRow is one support item and how many the park lends; on the request
// form, Free is how many are still free at the time asked for (-1: no time
// chosen yet).
type itemRow struct {
	Name, Label string
	Quantity    int
	Free        int
}

type parkView struct {
	Park          *Park
	Neighbourhood string
	Address       string
	MapHref       string
	Areas         []areaLine
	Items         []itemRow
	Events        []eventRow
	CalendarHref  string
	FeedHref      string
	RequestHref   string
	QueueHref     string
	ClosuresHref  string
	EditHref      string
}

// eventRow is one event in a list.
type eventRow struct {
	Title, Href, When, Place, Organiser, Category string
	Status                                        web.Tag
	Cancelled                                     bool
}

// parkPage shows a park: its areas, what it lends, its coming events and,
// for those who may, the way to ask for a slot or to the queue.
func (p *Plugin) parkPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	tree, err := parkAreas(r.Context(), p.svc.st.db, park.ID)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v := parkView{Park: park, Neighbourhood: p.neighbourhoodNames(c, []*Park{park})[park.NeighbourhoodID],
		Areas: areaRows(tree, park.ID), Items: c.itemRows(park.SupportItems),
		CalendarHref: pathCalendar + "?" + url.Values{"park": {park.ID}}.Encode(),
		FeedHref:     prefix + "/" + park.ID + "/events.ics"}
	var addr []string
	for _, part := range []string{park.Address.StreetAddress, strings.TrimSpace(park.Address.PostalCode + " " + park.Address.Locality)} {
		if part != "" {
			addr = append(addr, part)
		}
	}
	v.Address = strings.Join(addr, ", ")
	if g := park.Geo; g != nil {
		// A link, not an embedded map: the page loads nothing from another site.
		v.MapHref = "https://www.openstreetmap.org/?" + url.Values{"mlat": {strconv.FormatFloat(g.Latitude, 'f', 5, 64)},
			"mlon": {strconv.FormatFloat(g.Longitude, 'f', 5, 64)}, "zoom": {"17"}}.Encode()
	}
	now := p.svc.now()
	events, err := p.svc.publicEvents(r.Context(), CalendarFilter{ParkID: park.ID, From: now, To: now.Add(60 * 24 * time.Hour)}, sdk.ListQuery{Limit: 10})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v.Events = c.eventRows(events[:min(len(events), 10)], park.location())
	if p.mayRequest(c.pr) {
		v.RequestHref = requestHref(park.ID)
	}
	if p.isManager(c, park) {
		v.QueueHref, v.ClosuresHref, v.EditHref = queueHref(park.ID), closuresHref(park.ID), parkHref(park.ID)
	}
	return c.render("parks-park", v, sdk.PageMeta{Title: park.Name, NavActive: navParks, Breadcrumbs: c.crumbs(nil)})
}

// areaRows are a park's areas, each under its parent.
func areaRows(tree areaTree, parkID string) []areaLine {
	var out []areaLine
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		var kids []*Area
		for _, a := range tree {
			if a.ParentID == parent {
				kids = append(kids, a)
			}
		}
		slices.SortFunc(kids, func(x, y *Area) int {
			return cmp.Or(x.CreatedAt.Compare(y.CreatedAt), strings.Compare(x.ID, y.ID))
		})
		for _, a := range kids {
			row := areaLine{Name: a.Name, Href: areaHref(parkID, a.ID), Capacity: a.Capacity, Depth: depth}
			if pa := tree[a.ParentID]; pa != nil {
				row.Parent = pa.Name
			}
			out = append(out, row)
			walk(a.ID, depth+1)
		}
	}
	walk("", 0)
	return out
}

func (c *pageCtx) itemRows(items map[string]int) []itemRow {
	out := make([]itemRow, 0, len(items))
	for _, name := range sortedKeys(items) {
		out = append(out, itemRow{Name: name, Label: c.itemLabel(name), Quantity: items[name], Free: -1})
	}
	return out
}

func (c *pageCtx) eventRows(events []PublicEvent, loc *time.Location) []eventRow {
	out := make([]eventRow, 0, len(events))
	for _, e := range events {
		out = append(out, eventRow{Title: e.Title, Href: eventLink(e.ParkID, e.ID), When: c.span(e.Start, e.End, loc),
			Place: c.t("parks.event.place", "Area", e.AreaName, "Park", e.ParkName), Organiser: e.OrganisationName,
			Category: c.categoryLabel(e.Category), Status: c.statusTag(e.Status), Cancelled: e.Status == StatusCancelled})
	}
	return out
}

// dayRow is one day of an area's free slots.
type dayRow struct {
	Date  string
	Slots []slotRow
}

// slotRow is one free window and the link that asks for it: its times
// under the day's heading, the date repeated for a screen reader's list of
// links.
type slotRow struct {
	Text, Href, Date string
}

type areaView struct {
	Park      *Park
	Area      *Area
	Parent    string
	Rules     []string
	Hours     []hoursBlock
	Days      []dayRow
	Free      int
	From, To  string
	Prev      string
	Next      string
	CanAsk    bool
	ParkHref  string
	DaysShown int
}

// hoursBlock is the opening hours of one area: the area's own, then those
// of each area it lies in, which it keeps as well.
type hoursBlock struct {
	Area    string
	Periods []hoursPeriod
}

// hoursPeriod is one season of opening hours, a line a weekday.
type hoursPeriod struct {
	Name, Span string
	Closed     bool
	Days       []hoursDay
}

type hoursDay struct{ Day, Hours string }

// Availability windows an area page shows at once: a fortnight by default,
// 90 days at most (the speed target of the issue is for 90).
const (
	availabilityDays    = 14
	maxAvailabilityDays = 90
)

// areaPage shows an area: its capacity, rules and opening hours, and its
// free slots day by day — a list a keyboard and a screen reader move
// through as easily as any reader, with no JavaScript — each with the link
// that asks for it.
func (p *Plugin) areaPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	tree, err := p.svc.cachedAreas(r.Context(), park.ID, r.PathValue("areaID"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	a := tree[r.PathValue("areaID")]
	if a == nil {
		return sdk.PageMeta{}, notFound("area", r.PathValue("areaID"))
	}
	loc := park.location()
	q := r.URL.Query()
	from, ok := queryDate(q, "from", loc)
	if !ok {
		return sdk.PageMeta{}, invalid("from", sdk.RuleFormat, "a date such as 2025-06-07")
	}
	now := p.svc.now()
	if from.IsZero() {
		from = dayStart(now, loc)
	}
	days := availabilityDays
	if s := q.Get("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAvailabilityDays {
			return sdk.PageMeta{}, invalid("days", sdk.RuleRange, "a whole number from 1 to 90")
		}
		days = n
	}
	to := from.AddDate(0, 0, days)
	avail, err := p.svc.Availability(r.Context(), park.ID, a.ID, from, to)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v := areaView{Park: park, Area: a, Rules: c.ruleLines(a),
		CanAsk: p.mayRequest(c.pr), ParkHref: parkHref(park.ID), DaysShown: days,
		From: c.loc.Date(from), To: c.loc.Date(to.Add(-time.Minute))}
	if pa := tree[a.ParentID]; pa != nil {
		v.Parent = pa.Name
	}
	for _, id := range append([]string{a.ID}, tree.ancestors(a.ID)...) {
		if x := tree[id]; x != nil {
			v.Hours = append(v.Hours, hoursBlock{Area: x.Name, Periods: c.hoursLines(x.OpeningHours, now, loc)})
		}
	}
	v.Days, v.Free = c.slotDays(avail.Free, from, days, park.ID, a.ID, v.CanAsk, loc)
	link := func(d time.Time) string {
		vals := url.Values{"from": {d.Format(time.DateOnly)}}
		if days != availabilityDays {
			vals.Set("days", strconv.Itoa(days))
		}
		return areaHref(park.ID, a.ID) + "?" + vals.Encode()
	}
	if from.After(dayStart(now, loc)) {
		v.Prev = link(from.AddDate(0, 0, -days))
	}
	v.Next = link(to)
	return c.render("parks-area", v, sdk.PageMeta{Title: c.t("parks.area.title", "Area", a.Name, "Park", park.Name),
		NavActive: navParks, Breadcrumbs: c.crumbs(park)})
}

// slotDays groups free windows by the day they start on, every day of the
// range listed (a day without a window says so), and counts the windows.
func (c *pageCtx) slotDays(free []Window, from time.Time, days int, parkID, areaID string, ask bool, loc *time.Location) ([]dayRow, int) {
	out := make([]dayRow, days)
	for i := range out {
		out[i].Date = c.loc.Date(from.AddDate(0, 0, i))
	}
	for _, fw := range free {
		s := fw.Start.In(loc)
		i := int(dayStart(s, loc).Sub(from).Hours()+12) / 24 // the 12 hours absorb a clock change
		if i < 0 || i >= days {
			continue
		}
		e := fw.End.In(loc)
		row := slotRow{Text: c.loc.Time(s) + "–" + c.loc.Time(e), Date: out[i].Date}
		if dayStart(e, loc) != dayStart(s, loc) && !e.Equal(dayStart(e, loc)) {
			row.Text = c.span(fw.Start, fw.End, loc) // into another day: both dates said
		}
		if ask {
			row.Href = requestHref(parkID) + "?" + url.Values{"area_id": {areaID}, "date": {s.Format(time.DateOnly)},
				"start": {s.Format("15:04")}, "end": {e.Format("15:04")}}.Encode()
		}
		out[i].Slots = append(out[i].Slots, row)
	}
	return out, len(free)
}

// ruleLines say an area's rules in words, before anyone fills the form.
func (c *pageCtx) ruleLines(a *Area) []string {
	r := a.EffectiveRules // the area's own, narrowed by those of the areas it lies in
	out := []string{c.n("parks.rule.capacity", a.Capacity)}
	if r.MinDurationMinutes > 0 {
		out = append(out, c.t("parks.rule.min_duration", "Duration", c.duration(r.MinDurationMinutes)))
	}
	if r.MaxDurationMinutes > 0 {
		out = append(out, c.t("parks.rule.max_duration", "Duration", c.duration(r.MaxDurationMinutes)))
	}
	if r.SlotGranularityMinutes > 0 {
		out = append(out, c.t("parks.rule.grid", "Duration", c.duration(r.SlotGranularityMinutes)))
	}
	if r.MinNoticeMinutes > 0 {
		out = append(out, c.t("parks.rule.notice", "Duration", c.duration(r.MinNoticeMinutes)))
	}
	if r.BookingHorizonDays > 0 {
		out = append(out, c.n("parks.rule.horizon", r.BookingHorizonDays))
	}
	if b := max(r.BufferBeforeMinutes, r.BufferAfterMinutes); b > 0 {
		out = append(out, c.t("parks.rule.buffer", "Duration", c.duration(b)))
	}
	if r.MaxActiveBookings > 0 {
		out = append(out, c.n("parks.rule.max_active", r.MaxActiveBookings))
	}
	return out
}

func (c *pageCtx) n(id string, count int) string {
	return c.loc.N(id, count, map[string]any{"Count": c.loc.Number(int64(count))})
}

// duration is a number of minutes in words: "1 day 2 hours", "30 minutes".
func (c *pageCtx) duration(minutes int) string {
	var parts []string
	if d := minutes / (24 * 60); d > 0 {
		parts = append(parts, c.n("parks.duration.days", d))
	}
	if h := minutes % (24 * 60) / 60; h > 0 {
		parts = append(parts, c.n("parks.duration.hours", h))
	}
	if m := minutes % 60; m > 0 || len(parts) == 0 {
		parts = append(parts, c.n("parks.duration.minutes", m))
	}
	return strings.Join(parts, " ")
}

var weekdayNames = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// hoursLines say opening hours season by season, weekday by weekday; the
// season's dates are this year's.
func (c *pageCtx) hoursLines(h HoursDoc, now time.Time, loc *time.Location) []hoursPeriod {
	year := now.In(loc).Year()
	monthDay := func(s string) string {
		t, err := time.ParseInLocation("2006-01-02", strconv.Itoa(year)+"-"+s, loc)
		if err != nil {
			return s
		}
		return c.loc.Date(t)
	}
	var out []hoursPeriod
	for _, pd := range h.Periods {
		hp := hoursPeriod{Name: pd.Name, Closed: pd.Closed,
			Span: c.t("parks.hours.season", "From", monthDay(pd.From), "To", monthDay(pd.To))}
		for _, d := range weekdayNames {
			var ranges []string
			for _, rg := range pd.Week[d] {
				ranges = append(ranges, rg.Start+"–"+rg.End)
			}
			text := c.t("parks.hours.closed")
			if len(ranges) > 0 {
				text = strings.Join(ranges, ", ")
			}
			hp.Days = append(hp.Days, hoursDay{Day: c.t("parks.weekday." + d), Hours: text})
		}
		out = append(out, hp)
	}
	return out
}

// calendarView is the public calendar: its filter form and its days.
type calendarView struct {
	Form       *web.Form
	Views      []web.Option
	Parks      []web.Option
	Categories []web.Option
	Nbhs       []web.Option
	Heading    string
	Days       []calendarDay
	Empty      bool
	More       bool
	Prev, Next string
	FeedHref   string
}

type calendarDay struct {
	Date   string
	Events []eventRow
}

// calendarQuery is the calendar's filter, a GET form.
type calendarQuery struct {
	View          string   `json:"view" max:"10"`
	Date          web.Date `json:"date"`
	Park          string   `json:"park" max:"64"`
	Category      string   `json:"category" max:"64"`
	Neighbourhood string   `json:"neighbourhood" max:"64"`
}

// Calendar views and the most events one page shows.
const (
	viewDay        = "day"
	viewWeek       = "week"
	viewMonth      = "month"
	calendarEvents = 500
)

// calendarPage is the public calendar by day, week or month, filtered by
// park, category and neighbourhood, with the feed to subscribe to.
func (p *Plugin) calendarPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	var in calendarQuery
	form, err := web.DecodeQuery(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	zone := c.loc.Zone()
	meta := sdk.PageMeta{Title: c.t("parks.calendar.title"), NavActive: navCalendar}
	if !slices.Contains([]string{"", viewDay, viewWeek, viewMonth}, in.View) {
		form.Invalid("view", "parks.calendar.view.invalid", nil)
	}
	if !slices.Contains(append([]string{""}, Categories...), in.Category) {
		form.Invalid("category", "parks.calendar.category.invalid", nil)
	}
	v := calendarView{Form: form}
	parks, err := listParks(r.Context(), p.svc.st.db, "", sdk.ListQuery{Limit: 500})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v.Views = []web.Option{{Value: viewDay, Label: c.t("parks.calendar.view.day")},
		{Value: viewWeek, Label: c.t("parks.calendar.view.week")}, {Value: viewMonth, Label: c.t("parks.calendar.view.month")}}
	v.Parks = []web.Option{{Value: "", Label: c.t("parks.calendar.all_parks")}}
	for _, park := range parks {
		v.Parks = append(v.Parks, web.Option{Value: park.ID, Label: park.Name})
	}
	v.Categories = []web.Option{{Value: "", Label: c.t("parks.calendar.all_categories")}}
	for _, cat := range Categories {
		v.Categories = append(v.Categories, web.Option{Value: cat, Label: c.categoryLabel(cat)})
	}
	v.Nbhs = []web.Option{{Value: "", Label: c.t("parks.calendar.all_neighbourhoods")}}
	names := p.neighbourhoodNames(c, parks)
	for _, id := range sortedByName(names) {
		v.Nbhs = append(v.Nbhs, web.Option{Value: id, Label: names[id]})
	}
	if in.Park != "" && !slices.ContainsFunc(parks, func(x *Park) bool { return x.ID == in.Park }) {
		form.Invalid("park", "parks.calendar.park.invalid", nil)
	}
	if !form.Valid() {
		return c.invalid("parks-calendar", v, meta)
	}
	if in.View == "" {
		in.View = viewWeek
		form.Set("view", viewWeek)
	}
	day := dayStart(p.svc.now(), zone)
	if in.Date != "" {
		if day, err = in.Date.In(zone); err != nil {
			return sdk.PageMeta{}, err
		}
	}
	from, to := day, day.AddDate(0, 0, 1)
	switch in.View {
	case viewWeek:
		from = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // Monday
		to = from.AddDate(0, 0, 7)
		v.Heading = c.t("parks.calendar.heading.week", "From", c.loc.Date(from), "To", c.loc.Date(to.AddDate(0, 0, -1)))
	case viewMonth:
		from = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, zone)
		to = from.AddDate(0, 1, 0)
		v.Heading = c.t("parks.calendar.heading.month", "From", c.loc.Date(from), "To", c.loc.Date(to.AddDate(0, 0, -1)))
	default:
		v.Heading = c.loc.Date(day)
	}
	step := func(sign int) string {
		d := from
		switch in.View {
		case viewWeek:
			d = from.AddDate(0, 0, 7*sign)
		case viewMonth:
			d = from.AddDate(0, sign, 0)
		default:
			d = from.AddDate(0, 0, sign)
		}
		q := url.Values{"view": {in.View}, "date": {d.Format(time.DateOnly)}}
		for k, val := range map[string]string{"park": in.Park, "category": in.Category, "neighbourhood": in.Neighbourhood} {
			if val != "" {
				q.Set(k, val)
			}
		}
		return pathCalendar + "?" + q.Encode()
	}
	v.Prev, v.Next = step(-1), step(1)
	events, err := p.svc.publicEvents(r.Context(), CalendarFilter{ParkID: in.Park, NeighbourhoodID: in.Neighbourhood, Category: in.Category,
		From: from, To: to}, sdk.ListQuery{Limit: calendarEvents})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if len(events) > calendarEvents {
		events, v.More = events[:calendarEvents], true
	}
	feed := url.Values{}
	if in.Park != "" {
		feed.Set("park_id", in.Park)
	}
	if in.Category != "" {
		feed.Set("category", in.Category)
	}
	if in.Neighbourhood != "" {
		feed.Set("neighbourhood_id", in.Neighbourhood)
	}
	v.FeedHref = prefix + "/events.ics"
	if len(feed) > 0 {
		v.FeedHref += "?" + feed.Encode()
	}
	byDay := map[string]int{}
	for _, e := range events {
		d := c.loc.Date(e.Start)
		i, ok := byDay[d]
		if !ok {
			i = len(v.Days)
			byDay[d] = i
			v.Days = append(v.Days, calendarDay{Date: d})
		}
		v.Days[i].Events = append(v.Days[i].Events, c.eventRows([]PublicEvent{e}, zone)...)
	}
	v.Empty = len(v.Days) == 0
	return c.render("parks-calendar", v, meta)
}

// sortedByName are the keys of names in the order of their names.
func sortedByName(names map[string]string) []string {
	ids := make([]string, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(strings.Compare(names[a], names[b]), strings.Compare(a, b)) })
	return ids
}

type eventView struct {
	Event     PublicEvent
	Row       eventRow
	ParkHref  string
	FeedHref  string
	CityFeed  string
	DataHref  string
	Cancelled bool
}

// eventPage is one public event, with the links that add it to a calendar:
// the park's feed (RFC 5545) to subscribe to, and its Schema.org data.
func (p *Plugin) eventPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	e, err := p.svc.PublicEvent(r.Context(), park.ID, r.PathValue("eventID"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v := eventView{Event: *e, Row: c.eventRows([]PublicEvent{*e}, park.location())[0], ParkHref: parkHref(park.ID),
		FeedHref: prefix + "/" + park.ID + "/events.ics", CityFeed: prefix + "/events.ics",
		DataHref: prefix + "/" + park.ID + "/events/" + e.ID, Cancelled: e.Status == StatusCancelled}
	return c.render("parks-event", v, sdk.PageMeta{Title: e.Title, NavActive: navCalendar,
		Breadcrumbs: c.crumbs(park)})
}

// cardView is a card: this week's events.
type cardView struct {
	Events []eventRow
	Href   string
}

// neighbourhoodCard is the card on a neighbourhood's page: this week's
// events in its parks.
func (p *Plugin) neighbourhoodCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.weekCard(w, r, r.PathValue("nbh"), "parks.card.title")
}

// homeCard is the card on the home page: this week's events in the city's
// parks.
func (p *Plugin) homeCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.weekCard(w, r, "", "parks.card.title_city")
}

// Events a card lists at most.
const cardEvents = 5

func (p *Plugin) weekCard(w http.ResponseWriter, r *http.Request, nbh, title string) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	zone := c.loc.Zone()
	now := p.svc.now()
	events, err := p.svc.publicEvents(r.Context(), CalendarFilter{NeighbourhoodID: nbh, From: now, To: dayStart(now, zone).AddDate(0, 0, 7)},
		sdk.ListQuery{Limit: cardEvents})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v := cardView{Events: c.eventRows(events[:min(len(events), cardEvents)], zone), Href: pathCalendar}
	if nbh != "" {
		v.Href += "?" + url.Values{"neighbourhood": {nbh}}.Encode()
	}
	return c.render("parks-card", v, sdk.PageMeta{Title: c.t(title)})
}
