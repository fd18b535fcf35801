package parks

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
	"github.com/kvarter/kvarter/sdk/web"
)

// The park managers' pages: the queue of open requests by date, with the
// requests that want the same place at the same time side by side;
// approving, rejecting with a reason and cancelling; closures, which say
// which bookings they hit before anything is cancelled.

// queueGroup is a set of open requests that collide with one another (one
// request alone when it collides with none): approving one rejects the
// others.
type queueGroup struct {
	Date     string
	Caption  string
	Contest  bool
	Bookings []queueItem
}

// queueItem is one open request in the queue.
type queueItem struct {
	bookingLine
	ID, Approve string
	Attendance  int
	Items       string
}

type queueView struct {
	Park    *Park
	Groups  []queueGroup
	Done    string
	More    bool
	Closure string
}

// Open requests the queue shows at once.
const queueLimit = 200

// queuePage is the approval queue of a park.
func (p *Plugin) queuePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if err := p.svc.requireManager(r.Context(), c.pr, park); err != nil {
		return sdk.PageMeta{}, err
	}
	page, err := p.svc.ListBookings(r.Context(), c.pr, park.ID, StatusRequested, sdk.ListQuery{Limit: queueLimit})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	tree, err := parkAreas(r.Context(), p.svc.st.db, park.ID)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v := queueView{Park: park, More: page.NextCursor != "", Closure: closuresHref(park.ID)}
	for _, g := range groupColliding(tree, page.Items) {
		qg := queueGroup{Date: c.loc.Date(g[0].Start.In(park.location())), Contest: len(g) > 1}
		if qg.Contest {
			qg.Caption = c.n("parks.queue.contest", len(g))
		} else {
			qg.Caption = c.t("parks.queue.single", "Title", g[0].Title)
		}
		for _, b := range g {
			qg.Bookings = append(qg.Bookings, queueItem{bookingLine: c.lineOf(b, park, tree), ID: b.ID,
				Approve: bookingLink(park.ID, b.ID) + "/approve", Attendance: b.ExpectedAttendance, Items: c.itemsText(b.SupportItems)})
		}
		v.Groups = append(v.Groups, qg)
	}
	meta := sdk.PageMeta{Title: c.t("parks.queue.title"), NavActive: navParks, Breadcrumbs: c.crumbs(park)}
	if d := r.URL.Query().Get("done"); d == StatusApproved || d == StatusRejected || d == StatusCancelled {
		v.Done = c.t("parks.booking.done." + d)
		meta.Announce = v.Done
	}
	return c.render("parks-queue", v, meta)
}

// itemsText is "Chairs: 20, Tables: 2", or "" when nothing is asked for.
func (c *pageCtx) itemsText(items map[string]int) string {
	var parts []string
	for _, name := range sortedKeys(items) {
		if items[name] > 0 {
			parts = append(parts, c.itemLabel(name)+": "+c.loc.Number(int64(items[name])))
		}
	}
	return strings.Join(parts, ", ")
}

// groupColliding splits requests (in start order) into groups that collide,
// each in start order, the groups in the order of their first request.
func groupColliding(tree areaTree, list []*Booking) [][]*Booking {
	parent := make([]int, len(list))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range list {
		for j := i + 1; j < len(list); j++ {
			if !list[j].Start.Before(list[i].End.Add(24 * time.Hour)) {
				break // in start order: none later can collide with i
			}
			if (list[i].SeriesID == "" || list[i].SeriesID != list[j].SeriesID) && collide(tree, list[i], list[j]) {
				parent[find(j)] = find(i)
			}
		}
	}
	index := map[int]int{}
	var out [][]*Booking
	for i, b := range list {
		root := find(i)
		k, ok := index[root]
		if !ok {
			k = len(out)
			index[root] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], b)
	}
	return out
}

// collidingLines are the other open requests b collides with, for its page.
func (p *Plugin) collidingLines(c *pageCtx, park *Park, tree areaTree, b *Booking) ([]bookingLine, error) {
	const slack = 24 * time.Hour
	others, err := requestedBetween(c.r.Context(), p.svc.st.db, park.ID, store.Micros(b.Start.Add(-slack)), store.Micros(b.End.Add(slack)))
	if err != nil {
		return nil, err
	}
	var out []bookingLine
	now := p.svc.now()
	for _, o := range others {
		if o.ID != b.ID && (o.SeriesID == "" || o.SeriesID != b.SeriesID) && collide(tree, b, o) {
			out = append(out, c.lineOf(o.view(now), park, tree))
		}
	}
	return out, nil
}

// approveSubmit approves a request (and rejects those it collides with).
func (p *Plugin) approveSubmit(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.decide(w, r, StatusApproved, "", func(c *pageCtx, parkID, id, _ string) error {
		_, err := p.svc.Approve(r.Context(), c.pr, parkID, id)
		return err
	})
}

// rejectSubmit rejects a request with the reason the group is told.
func (p *Plugin) rejectSubmit(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.decide(w, r, StatusRejected, "reason", func(c *pageCtx, parkID, id, reason string) error {
		_, err := p.svc.Reject(r.Context(), c.pr, parkID, id, reason)
		return err
	})
}

// closureInput is the closure form, as typed.
type closureInput struct {
	AreaID         string    `json:"area_id" max:"64"`
	StartDate      web.Date  `json:"start_date"`
	StartTime      web.Clock `json:"start_time"`
	EndDate        web.Date  `json:"end_date"`
	EndTime        web.Clock `json:"end_time"`
	Title          string    `json:"title" max:"200"`
	CancelBookings bool      `json:"cancel_bookings"`
	Reason         string    `json:"reason" max:"4000"`
}

type closuresView struct {
	Park     *Park
	Form     *web.Form
	Areas    []web.Option
	Closures []bookingLine
	Hits     []bookingLine
	Done     bool
	Action   string
}

// closuresPage lists a park's coming closures and the form that adds one.
func (p *Plugin) closuresPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if err := p.svc.require(r.Context(), c.pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can close areas."); err != nil {
		return sdk.PageMeta{}, err
	}
	v, err := p.closuresView(c, park, web.NewForm(nil))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := p.closuresMeta(c, park)
	if r.URL.Query().Get("done") == "1" {
		v.Done = true
		meta.Announce = c.t("parks.closures.done")
	}
	return c.render("parks-closures", v, meta)
}

func (p *Plugin) closuresMeta(c *pageCtx, park *Park) sdk.PageMeta {
	return sdk.PageMeta{Title: c.t("parks.closures.title"), NavActive: navParks, Breadcrumbs: c.crumbs(park)}
}

func (p *Plugin) closuresView(c *pageCtx, park *Park, form *web.Form) (closuresView, error) {
	tree, err := parkAreas(c.r.Context(), p.svc.st.db, park.ID)
	if err != nil {
		return closuresView{}, err
	}
	v := closuresView{Park: park, Form: form, Action: closuresHref(park.ID)}
	for _, row := range areaRows(tree, park.ID) {
		id := row.Href[strings.LastIndex(row.Href, "/")+1:]
		v.Areas = append(v.Areas, web.Option{Value: id, Label: row.Name})
	}
	list, err := listBookings(c.r.Context(), p.svc.st.db, bookingFilter{ParkID: park.ID, Status: StatusApproved, All: true,
		Page: sdk.ListQuery{Limit: 1000, Key: []any{store.Micros(p.svc.now().Add(-maxAvailability)), ""}}})
	if err != nil {
		return closuresView{}, err
	}
	now := p.svc.now()
	for _, b := range list {
		if b.Kind == KindClosure && b.End.After(now) {
			v.Closures = append(v.Closures, c.lineOf(b, park, tree))
		}
	}
	return v, nil
}

// closureSubmit closes an area: 303 back to the closures on success; 422
// with the form again otherwise — and, when the closure would hit approved
// events, those events listed, so the manager decides knowingly whether to
// cancel them (with the reason their groups are told).
func (p *Plugin) closureSubmit(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.svc.GetPark(r.Context(), r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in closureInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	for field, empty := range map[string]bool{"start_date": in.StartDate == "", "start_time": in.StartTime == "",
		"end_date": in.EndDate == "", "end_time": in.EndTime == ""} {
		if empty {
			form.Invalid(field, "parks.form.when.required", nil)
		}
	}
	var start, end time.Time
	if form.Valid() {
		loc := park.location()
		var err1, err2 error
		start, err1 = in.StartDate.At(in.StartTime, loc)
		end, err2 = in.EndDate.At(in.EndTime, loc)
		if err1 != nil || err2 != nil {
			form.Invalid("start_date", "web.rule.format", nil)
		}
	}
	if form.Valid() {
		_, err := p.svc.CreateClosure(r.Context(), c.pr, park.ID, ClosureInput{AreaID: in.AreaID, Start: start.Format(time.RFC3339),
			End: end.Format(time.RFC3339), Title: in.Title, CancelBookings: in.CancelBookings, Reason: in.Reason})
		if err != nil && !catchForm(form, err, "area_id", "title", "reason") {
			return sdk.PageMeta{}, err
		}
	}
	if !form.Valid() {
		v, err := p.closuresView(c, park, form)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		if !start.IsZero() && end.After(start) {
			if v.Hits, err = p.closureHits(r.Context(), c, park, in.AreaID, start, end); err != nil {
				return sdk.PageMeta{}, err
			}
		}
		return c.invalid("parks-closures", v, p.closuresMeta(c, park))
	}
	web.Redirect(w, r, closuresHref(park.ID)+"?done=1")
	return sdk.PageMeta{}, nil
}

// closureHits are the approved events and the open requests a closure of
// area from start to end would hit.
func (p *Plugin) closureHits(ctx context.Context, c *pageCtx, park *Park, areaID string, start, end time.Time) ([]bookingLine, error) {
	tree, err := parkAreas(ctx, p.svc.st.db, park.ID)
	if err != nil || tree[areaID] == nil {
		return nil, err
	}
	closure := &Booking{AreaID: areaID, Start: start, End: end}
	list, err := listBookings(ctx, p.svc.st.db, bookingFilter{ParkID: park.ID, All: true,
		Page: sdk.ListQuery{Limit: 1000, Key: []any{store.Micros(start.Add(-24 * time.Hour)), ""}}})
	if err != nil {
		return nil, err
	}
	now := p.svc.now()
	var out []bookingLine
	for _, b := range list {
		if b.Kind == KindEvent && slices.Contains([]string{StatusApproved, StatusRequested}, b.Status) && collide(tree, closure, b) {
			out = append(out, c.lineOf(b.view(now), park, tree))
		}
	}
	return out, nil
}
