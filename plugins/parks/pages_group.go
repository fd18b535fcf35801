package parks

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The civic groups' pages: the request form, their bookings, one booking
// and its cancelling. The form explains every rule of every area before it
// is sent (notice, horizon, grid, length, capacity) and, when one is
// broken, answers 422 with the form again, every value kept and the
// problem named by the field at fault.

// requestInput is the request form, as typed.
type requestInput struct {
	AreaID             string    `json:"area_id" max:"64"`
	OrganisationID     string    `json:"organisation_id" max:"64"`
	Date               web.Date  `json:"date"`
	Start              web.Clock `json:"start"`
	End                web.Clock `json:"end"`
	Title              string    `json:"title" max:"200"`
	Description        string    `json:"description" max:"4000"`
	Category           string    `json:"category" max:"64"`
	ExpectedAttendance string    `json:"expected_attendance" max:"12"`
	Public             string    `json:"public" max:"3"`
	AccessibilityNotes string    `json:"accessibility_notes" max:"4000"`
	VolunteersNeeded   bool      `json:"volunteers_needed"`
	ContactName        string    `json:"contact_name" max:"200"`
	ContactEmail       string    `json:"contact_email" max:"254"`
	ContactPhone       string    `json:"contact_phone" max:"40"`
}

// itemField is the form's name of a support item's count.
func itemField(name string) string { return "item_" + name }

type requestView struct {
	Form       *web.Form
	Park       *Park
	Areas      []web.Option
	Orgs       []web.Option
	Categories []web.Option
	Public     []web.Option
	Items      []itemRow
	AreaRules  []areaRules
	ParkHref   string
	Action     string
}

// areaRules are one area's rules, for the table that explains them.
type areaRules struct {
	Name  string
	Lines []string
}

// requestPage shows the request form, prefilled from a slot's link
// (?area_id=…&date=…&start=…&end=…).
func (p *Plugin) requestPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	q := r.URL.Query()
	form := web.NewForm(nil)
	for _, k := range []string{"area_id", "date", "start", "end"} {
		if v := q.Get(k); v != "" {
			form.Set(k, v)
		}
	}
	form.Set("public", "yes")
	form.Set("expected_attendance", "")
	form.Set("contact_name", c.pr.DisplayName)
	v, err := p.requestView(c, park, form)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return c.render("parks-request", v, p.requestMeta(c, park))
}

func (p *Plugin) requestMeta(c *pageCtx, park *Park) sdk.PageMeta {
	return sdk.PageMeta{Title: c.t("parks.request.title", "Park", park.Name), NavActive: navParks, Breadcrumbs: c.crumbs(park)}
}

func (p *Plugin) requestView(c *pageCtx, park *Park, form *web.Form) (requestView, error) {
	tree, err := parkAreas(c.r.Context(), p.svc.st.db, park.ID)
	if err != nil {
		return requestView{}, err
	}
	v := requestView{Form: form, Park: park, Items: c.itemRows(park.SupportItems), ParkHref: parkHref(park.ID),
		Action: requestHref(park.ID)}
	if err := p.freeItems(c, park, form, v.Items); err != nil {
		return requestView{}, err
	}
	for _, row := range areaRows(tree, park.ID) {
		label := row.Name
		if row.Parent != "" {
			label = c.t("parks.request.area_in", "Area", row.Name, "Parent", row.Parent)
		}
		id := row.Href[strings.LastIndex(row.Href, "/")+1:]
		v.Areas = append(v.Areas, web.Option{Value: id, Label: label})
		v.AreaRules = append(v.AreaRules, areaRules{Name: label, Lines: c.ruleLines(tree[id])})
	}
	orgs, err := p.orgOptions(c)
	if err != nil {
		return requestView{}, err
	}
	v.Orgs = orgs
	for _, cat := range Categories {
		v.Categories = append(v.Categories, web.Option{Value: cat, Label: c.categoryLabel(cat)})
	}
	v.Public = []web.Option{{Value: "yes", Label: c.t("parks.request.public.yes"), Hint: c.t("parks.request.public.yes_hint")},
		{Value: "no", Label: c.t("parks.request.public.no"), Hint: c.t("parks.request.public.no_hint")}}
	return v, nil
}

// freeItems fills in how many of each item are free at the time the form
// names (a slot's link fills it in), so a group knows before sending.
func (p *Plugin) freeItems(c *pageCtx, park *Park, form *web.Form, items []itemRow) error {
	var d web.Date
	var from, to web.Clock
	if d.UnmarshalText([]byte(form.Value("date"))) != nil || from.UnmarshalText([]byte(form.Value("start"))) != nil ||
		to.UnmarshalText([]byte(form.Value("end"))) != nil {
		return nil
	}
	loc := park.location()
	start, err1 := d.At(from, loc)
	end, err2 := d.At(to, loc)
	if err1 != nil || err2 != nil {
		return nil
	}
	if !end.After(start) {
		end = end.AddDate(0, 0, 1)
	}
	avail, err := p.svc.SupportAvailable(c.r.Context(), park.ID, start, end)
	if err != nil {
		return err
	}
	for i := range items {
		items[i].Free = avail.Free[items[i].Name]
	}
	return nil
}

// orgOptions are the organisations the viewer may ask for, and themself
// when the city lets residents book alone.
func (p *Plugin) orgOptions(c *pageCtx) ([]web.Option, error) {
	var out []web.Option
	if ids := representing(c.pr); len(ids) > 0 {
		orgs, err := p.svc.host.Organisations(c.r.Context(), ids)
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			out = append(out, web.Option{Value: o.ID, Label: o.Name})
		}
	}
	if p.svc.settings.AllowIndividualResidents && len(c.pr.Neighbourhoods) > 0 {
		out = append(out, web.Option{Value: "", Label: c.t("parks.request.myself")})
	}
	return out, nil
}

// requestSubmit sends the request: 303 to the booking's page, or 422 with
// the form again.
func (p *Plugin) requestSubmit(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in requestInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	b := BookingInput{AreaID: in.AreaID, OrganisationID: in.OrganisationID, Title: in.Title, Description: in.Description,
		Category: in.Category, Public: in.Public != "no", AccessibilityNotes: in.AccessibilityNotes,
		VolunteersNeeded: in.VolunteersNeeded, SupportItems: map[string]int{},
		Contact: Contact{Name: strings.TrimSpace(in.ContactName), Email: strings.TrimSpace(in.ContactEmail), Phone: strings.TrimSpace(in.ContactPhone)}}
	if s := strings.TrimSpace(in.ExpectedAttendance); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1000000 {
			form.Invalid("expected_attendance", "parks.form.expected_attendance.number", nil)
		}
		b.ExpectedAttendance = n
	} else if form.Valid() {
		form.Invalid("expected_attendance", "parks.form.expected_attendance.expected_attendance", nil)
	}
	for _, name := range sortedKeys(park.SupportItems) {
		s := strings.TrimSpace(r.PostForm.Get(itemField(name)))
		if s == "" || s == "0" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100000 {
			form.Invalid(itemField(name), "parks.form.item.number", nil)
			continue
		}
		if n > park.SupportItems[name] {
			form.Invalid(itemField(name), "parks.form.item.too_many", map[string]any{"Count": park.SupportItems[name]})
			continue
		}
		b.SupportItems[name] = n
	}
	if b.Contact.Name == "" {
		form.Invalid("contact_name", "parks.form.contact_name.required", nil)
	}
	if b.Contact.Email == "" {
		form.Invalid("contact_email", "parks.form.contact_email.required", nil)
	} else if !strings.Contains(b.Contact.Email, "@") {
		form.Invalid("contact_email", "parks.form.contact_email.format", nil)
	}
	if in.Date == "" {
		form.Invalid("date", "parks.form.date.required", nil)
	}
	if in.Start == "" {
		form.Invalid("start", "parks.form.start.required", nil)
	}
	if in.End == "" {
		form.Invalid("end", "parks.form.end.required", nil)
	}
	if form.Valid() {
		loc := park.location()
		start, err1 := in.Date.At(in.Start, loc)
		end, err2 := in.Date.At(in.End, loc)
		if err1 != nil || err2 != nil {
			form.Invalid("date", "web.rule.format", nil)
		} else {
			if !end.After(start) {
				// An end before the start is the next morning: 23:00–02:00.
				end = end.AddDate(0, 0, 1)
			}
			b.Start, b.End = start.Format(time.RFC3339), end.Format(time.RFC3339)
		}
	}
	var booked *Booking
	if form.Valid() {
		booked, err = p.svc.RequestBooking(r.Context(), c.pr, park.ID, b)
		if err != nil && !catchForm(form, err, "area_id", "organisation_id", "title", "description", "category", "expected_attendance") {
			return sdk.PageMeta{}, err
		}
	}
	if !form.Valid() {
		v, err := p.requestView(c, park, form)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		return c.invalid("parks-request", v, p.requestMeta(c, park))
	}
	web.Redirect(w, r, bookingLink(park.ID, booked.ID)+"?sent=1")
	return sdk.PageMeta{}, nil
}

// bookingLine is one booking in a list.
type bookingLine struct {
	Title, Href, When, Area, Park, Organisation string
	Status                                      web.Tag
	Reason                                      string
	Contested                                   bool
}

type mineView struct {
	Rows []bookingLine
}

// Bookings the page of one's own lists at most per park.
const mineLimit = 200

// myBookingsPage lists the bookings of the viewer and of their
// organisations in every park, with their states and reasons, each linking
// to its page where it can be cancelled.
func (p *Plugin) myBookingsPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	parks, err := listParks(r.Context(), p.svc.st.db, "", sdk.ListQuery{Limit: 1000})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var v mineView
	for _, park := range parks {
		lf := bookingFilter{ParkID: park.ID, RequesterID: c.pr.UserID, Page: sdk.ListQuery{Limit: mineLimit}}
		for _, m := range c.pr.Organisations {
			lf.OrgIDs = append(lf.OrgIDs, m.OrganisationID)
		}
		list, err := listBookings(r.Context(), p.svc.st.db, lf)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		tree, err := p.svc.cachedAreas(r.Context(), park.ID, "")
		if err != nil {
			return sdk.PageMeta{}, err
		}
		now := p.svc.now()
		for _, b := range list[:min(len(list), mineLimit)] {
			if b.Kind != KindEvent {
				continue
			}
			v.Rows = append(v.Rows, c.lineOf(b.view(now), park, tree))
		}
	}
	return c.render("parks-mine", v, sdk.PageMeta{Title: c.t("parks.mine.title"), NavActive: navMine})
}

func (c *pageCtx) lineOf(b *Booking, park *Park, tree areaTree) bookingLine {
	row := bookingLine{Title: b.Title, Href: bookingLink(park.ID, b.ID), When: c.span(b.Start, b.End, park.location()),
		Park: park.Name, Organisation: b.OrganisationName, Status: c.statusTag(b.Status), Reason: b.Reason, Contested: b.Contested}
	if a := tree[b.AreaID]; a != nil {
		row.Area = a.Name
	}
	return row
}

type bookingView struct {
	Booking    *Booking
	Row        bookingLine
	Category   string
	Items      []itemRow
	Sent       bool
	Decided    string
	Form       *web.Form
	CanDecide  bool
	CanCancel  bool
	Action     string
	Collisions []bookingLine
	QueueHref  string
	EventHref  string
}

// bookingPage is one booking, for the group that asked and the park's
// managers: its details, its state and reason, and the forms that decide
// or cancel it.
func (p *Plugin) bookingPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	b, err := p.svc.GetBooking(r.Context(), c.pr, park.ID, r.PathValue("bookingID"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v, err := p.bookingView(c, park, b, web.NewForm(nil))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := p.bookingMeta(c, park, b)
	q := r.URL.Query()
	if q.Get("sent") == "1" {
		v.Sent = true
		meta.Announce = c.t("parks.booking.sent")
	}
	if d := q.Get("done"); d == StatusApproved || d == StatusRejected || d == StatusCancelled {
		v.Decided = c.t("parks.booking.done." + d)
		meta.Announce = v.Decided
	}
	return c.render("parks-booking", v, meta)
}

func (p *Plugin) bookingMeta(c *pageCtx, park *Park, b *Booking) sdk.PageMeta {
	nav := navMine
	var more []sdk.Crumb
	if p.isManager(c, park) {
		nav = navParks
		more = append(more, sdk.Crumb{Label: c.t("parks.queue.title"), Href: queueHref(park.ID)})
	}
	return sdk.PageMeta{Title: b.Title, NavActive: nav, Breadcrumbs: c.crumbs(park, more...)}
}

func (p *Plugin) bookingView(c *pageCtx, park *Park, b *Booking, form *web.Form) (bookingView, error) {
	tree, err := parkAreas(c.r.Context(), p.svc.st.db, park.ID)
	if err != nil {
		return bookingView{}, err
	}
	v := bookingView{Booking: b, Row: c.lineOf(b, park, tree), Category: c.categoryLabel(b.Category),
		Items: c.itemRows(b.SupportItems), Form: form, Action: bookingLink(park.ID, b.ID)}
	manager := p.isManager(c, park)
	v.CanDecide = manager && b.Status == StatusRequested
	v.CanCancel = (b.Status == StatusRequested || b.Status == StatusApproved) && p.svc.mayCancel(c.r.Context(), c.pr, park, b) == nil
	if b.Public && (b.Status == StatusApproved || b.Status == StatusCompleted) {
		v.EventHref = eventLink(park.ID, b.ID)
	}
	if manager {
		v.QueueHref = queueHref(park.ID)
		if b.Status == StatusRequested {
			if v.Collisions, err = p.collidingLines(c, park, tree, b); err != nil {
				return bookingView{}, err
			}
		}
	}
	return v, nil
}

// cancelSubmit cancels a booking or withdraws a request, with a reason.
func (p *Plugin) cancelSubmit(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.decide(w, r, StatusCancelled, "cancel_reason", func(c *pageCtx, parkID, id, reason string) error {
		_, err := p.svc.Cancel(r.Context(), c.pr, parkID, id, reason)
		return err
	})
}

// decide runs one decision form whose reason is the field named field ("" for
// approval, which needs none): 303 back to the booking (or the queue, where the
// manager came from) on success, 422 with the booking's page and the problem by
// the reason otherwise. A reason is required before the service is asked.
func (p *Plugin) decide(w http.ResponseWriter, r *http.Request, to, field string, fn func(c *pageCtx, parkID, id, reason string) error) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	id := r.PathValue("bookingID")
	var in struct {
		Reason       string `json:"reason" max:"4000"`
		CancelReason string `json:"cancel_reason" max:"4000"`
		Back         string `json:"back" max:"10"`
	}
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	reason := in.Reason
	if field == "cancel_reason" {
		reason = in.CancelReason
	}
	if field != "" && form.Valid() && strings.TrimSpace(reason) == "" {
		form.Invalid(field, "parks.form.reason.reason_required", nil)
	}
	if form.Valid() {
		if err := fn(c, park.ID, id, reason); err != nil && !catchForm(form, err, field) {
			return sdk.PageMeta{}, err
		}
	}
	if !form.Valid() {
		b, err := p.svc.GetBooking(r.Context(), c.pr, park.ID, id)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		v, err := p.bookingView(c, park, b, form)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		return c.invalid("parks-booking", v, p.bookingMeta(c, park, b))
	}
	next := bookingLink(park.ID, id) + "?" + url.Values{"done": {to}}.Encode()
	if in.Back == "queue" {
		next = queueHref(park.ID) + "?" + url.Values{"done": {to}, "booking": {id}}.Encode()
	}
	web.Redirect(w, r, next)
	return sdk.PageMeta{}, nil
}
