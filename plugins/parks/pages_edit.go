package parks

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The park managers' forms for the park itself: its details and what it
// lends, and its areas — name, capacity, opening hours and rules. A change
// of hours or rules is checked against the bookings still to come first:
// those it would break are listed and kept, and the change is saved only
// when the manager confirms it knowing them (never a silent cancellation).

// Page paths of the forms.
const (
	pathParkEdit = pagePrefix + "/{id}/edit"
	pathAreaEdit = pagePrefix + "/{id}/areas/{areaID}/edit"
	pathAreaNew  = pagePrefix + "/{id}/areas/new"
	pathParkPlan = pagePrefix + "/{id}/plan"
)

// maxPlan is the largest plan image a park takes; the host refuses a larger one.
const maxPlan = 5 << 20

func editRoutes(p *Plugin) []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pathParkEdit, PermAreaManage, p.parkEditPage),
		sdk.PostPage(pathParkEdit, PermAreaManage, p.parkEditSubmit),
		sdk.PostPage(pathParkPlan, PermAreaManage, p.planSubmit).Upload("plan", maxPlan, sdk.UploadImage).ShowUploadErrors(),
		sdk.GetPage(pathAreaNew, PermAreaManage, p.areaNewPage),
		sdk.PostPage(pathAreaNew, PermAreaManage, p.areaEditSubmit),
		sdk.GetPage(pathAreaEdit, PermAreaManage, p.areaEditPage),
		sdk.PostPage(pathAreaEdit, PermAreaManage, p.areaEditSubmit),
	}
}

// parkEditInput is the park's form.
type parkEditInput struct {
	Name          string `json:"name" max:"200"`
	Description   string `json:"description" max:"4000"`
	StreetAddress string `json:"street_address" max:"200"`
	PostalCode    string `json:"postal_code" max:"20"`
	Locality      string `json:"locality" max:"100"`
	Latitude      string `json:"latitude" max:"20"`
	Longitude     string `json:"longitude" max:"20"`
	Accessibility string `json:"accessibility" max:"4000"`
	Rules         string `json:"rules" max:"4000"`
	NewItem       string `json:"new_item" max:"64"`
	NewQuantity   string `json:"new_quantity" max:"12"`
}

type parkEditView struct {
	Park     *Park
	Form     *web.Form
	PlanForm *web.Form
	Items    []itemRow
	Action   string
	Saved    bool
	MaxPlan  int
}

func (p *Plugin) parkEditMeta(c *pageCtx, park *Park) sdk.PageMeta {
	return sdk.PageMeta{Title: c.t("parks.edit.park_title", "Park", park.Name), NavActive: navParks, Breadcrumbs: c.crumbs(park)}
}

// parkEditPage shows the park's form, filled with what it says now.
func (p *Plugin) parkEditPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.managedPark(c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	f := web.NewForm(url.Values{"name": {park.Name}, "description": {park.Description}, "street_address": {park.Address.StreetAddress},
		"postal_code": {park.Address.PostalCode}, "locality": {park.Address.Locality}, "accessibility": {park.Accessibility}, "rules": {park.Rules}})
	if g := park.Geo; g != nil {
		f.Set("latitude", strconv.FormatFloat(g.Latitude, 'f', -1, 64))
		f.Set("longitude", strconv.FormatFloat(g.Longitude, 'f', -1, 64))
	}
	for name, n := range park.SupportItems {
		f.Set(itemField(name), strconv.Itoa(n))
	}
	meta := p.parkEditMeta(c, park)
	v := parkEditView{Park: park, Form: f, Items: c.itemRows(park.SupportItems), Action: parkHref(park.ID) + "/edit",
		PlanForm: web.NewForm(nil), MaxPlan: maxPlan >> 20}
	if park.Plan != nil {
		v.PlanForm.Set("plan_alt", park.Plan.Alt)
	}
	if r.URL.Query().Get("saved") == "1" {
		v.Saved = true
		meta.Announce = c.t("parks.edit.saved")
	}
	return c.render("parks-park-edit", v, meta)
}

// managedPark is the park of the request, when the viewer manages it.
func (p *Plugin) managedPark(c *pageCtx) (*Park, error) {
	park, err := p.svc.GetPark(c.r.Context(), c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := p.svc.require(c.r.Context(), c.pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	return park, nil
}

// managedTree is the park of the request, when the viewer manages it, and
// its areas.
func (p *Plugin) managedTree(c *pageCtx) (*Park, areaTree, error) {
	park, err := p.managedPark(c)
	if err != nil {
		return nil, nil, err
	}
	tree, err := parkAreas(c.r.Context(), p.svc.st.db, park.ID)
	return park, tree, err
}

// parkEditSubmit saves the park's details and its support stock: 303 back
// to the form, or 422 with it again.
func (p *Plugin) parkEditSubmit(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.managedPark(c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in parkEditInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	edit := ParkEdit{Name: in.Name, ParkDetails: ParkDetails{Description: in.Description, Accessibility: in.Accessibility, Rules: in.Rules,
		Address: Address{StreetAddress: in.StreetAddress, PostalCode: in.PostalCode, Locality: in.Locality}}}
	lat, lon := strings.TrimSpace(in.Latitude), strings.TrimSpace(in.Longitude)
	if lat != "" || lon != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		switch {
		case err1 != nil || la < -90 || la > 90:
			form.Invalid("latitude", "parks.form.latitude.range", nil)
		case err2 != nil || lo < -180 || lo > 180:
			form.Invalid("longitude", "parks.form.longitude.range", nil)
		default:
			edit.Geo = &Geo{Latitude: la, Longitude: lo}
		}
	}
	items := map[string]int{}
	for _, name := range sortedKeys(park.SupportItems) {
		n, ok := wholeNumber(r.PostForm.Get(itemField(name)))
		if !ok {
			form.Invalid(itemField(name), "parks.form.item.number", nil)
			continue
		}
		items[name] = n
	}
	if name := strings.TrimSpace(in.NewItem); name != "" {
		n, ok := wholeNumber(in.NewQuantity)
		if !ok || n == 0 {
			form.Invalid("new_quantity", "parks.form.item.number", nil)
		}
		items[strings.ToLower(strings.ReplaceAll(name, " ", "_"))] = n
	}
	if form.Valid() {
		if _, err := p.svc.UpdatePark(r.Context(), c.pr, park.ID, edit); err != nil && !catchForm(form, err, "name", "description", "accessibility", "rules") {
			return sdk.PageMeta{}, err
		}
	}
	if form.Valid() {
		if _, err := p.svc.SetSupportItems(r.Context(), c.pr, park.ID, items); err != nil && !catchForm(form, err) {
			return sdk.PageMeta{}, err
		}
	}
	if !form.Valid() {
		v := parkEditView{Park: park, Form: form, Items: c.itemRows(park.SupportItems), Action: parkHref(park.ID) + "/edit",
			PlanForm: web.NewForm(nil), MaxPlan: maxPlan >> 20}
		return c.invalid("parks-park-edit", v, p.parkEditMeta(c, park))
	}
	web.Redirect(w, r, parkHref(park.ID)+"/edit?saved=1")
	return sdk.PageMeta{}, nil
}

// planSubmit sets the park's plan: an image the host received, checked and
// stored (its id comes in the form), with the text that describes it.
func (p *Plugin) planSubmit(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, err := p.managedPark(c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in struct {
		Plan    string `json:"plan" max:"64"`
		PlanAlt string `json:"plan_alt" max:"1000"`
	}
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if err := sdk.UploadError(r, "plan"); err != nil {
		form.Catch(err, "parks.form")
	} else if id := sdk.UploadID(r, "plan"); id != "" {
		in.Plan = id
	} else if park.Plan != nil {
		in.Plan = park.Plan.UploadID // a new description of the same plan
	} else {
		form.Invalid("plan", "parks.form.plan.required", nil)
	}
	if form.Valid() {
		if _, err := p.svc.SetParkPlan(r.Context(), c.pr, park.ID, in.Plan, in.PlanAlt); err != nil && !catchForm(form, err, "plan_alt") {
			return sdk.PageMeta{}, err
		}
	}
	if !form.Valid() {
		f := web.NewForm(nil)
		for _, k := range []string{"name", "description", "accessibility", "rules"} {
			f.Set(k, map[string]string{"name": park.Name, "description": park.Description, "accessibility": park.Accessibility, "rules": park.Rules}[k])
		}
		v := parkEditView{Park: park, Form: f, PlanForm: form, Items: c.itemRows(park.SupportItems),
			Action: parkHref(park.ID) + "/edit", MaxPlan: maxPlan >> 20}
		return c.invalid("parks-park-edit", v, p.parkEditMeta(c, park))
	}
	web.Redirect(w, r, parkHref(park.ID)+"/edit?saved=1")
	return sdk.PageMeta{}, nil
}

// wholeNumber reads a count from a form: empty is 0.
func wholeNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n <= 100000
}

// areaEditInput is the area's form: texts, capacity, rules in minutes (and
// days), and the opening hours of the first season, a day at a time.
type areaEditInput struct {
	Name          string `json:"name" max:"200"`
	ParentID      string `json:"parent_id" max:"64"`
	Capacity      string `json:"capacity" max:"12"`
	Description   string `json:"description" max:"4000"`
	Accessibility string `json:"accessibility" max:"4000"`
	Confirm       bool   `json:"confirm"`
}

// ruleFields are the rules' fields of the area form, in RulesDoc's order.
var ruleFields = []string{"min_duration_minutes", "max_duration_minutes", "slot_granularity_minutes", "min_notice_minutes",
	"booking_horizon_days", "buffer_before_minutes", "buffer_after_minutes", "max_active_bookings"}

type areaEditView struct {
	Park      *Park
	Area      *Area
	Form      *web.Form
	Parents   []web.Option
	Rules     []string
	Days      []dayFields
	Conflicts []conflictLine
	Action    string
	New       bool
	Saved     bool
	AreaHref  string
}

// dayFields are a weekday's opening fields.
type dayFields struct{ Day, Opens, Closes string }

// conflictLine is a coming booking a change would break.
type conflictLine struct {
	Title, Href, When, Area, Organisation, Rule string
}

func (p *Plugin) areaEditView(c *pageCtx, park *Park, tree areaTree, a *Area, form *web.Form) areaEditView {
	v := areaEditView{Park: park, Area: a, Form: form, Rules: ruleFields, New: a == nil}
	for _, d := range weekdayNames {
		v.Days = append(v.Days, dayFields{Day: c.t("parks.weekday." + d), Opens: "opens_" + d, Closes: "closes_" + d})
	}
	if a == nil {
		v.Action = parkHref(park.ID) + "/areas/new"
		v.Parents = []web.Option{{Value: "", Label: c.t("parks.edit.no_parent")}}
		for _, row := range areaRows(tree, park.ID) {
			v.Parents = append(v.Parents, web.Option{Value: row.Href[strings.LastIndex(row.Href, "/")+1:], Label: row.Name})
		}
	} else {
		v.Action = areaHref(park.ID, a.ID) + "/edit"
		v.AreaHref = areaHref(park.ID, a.ID)
	}
	return v
}

func (p *Plugin) areaEditMeta(c *pageCtx, park *Park, a *Area) sdk.PageMeta {
	title := c.t("parks.edit.area_new")
	if a != nil {
		title = c.t("parks.edit.area_title", "Area", a.Name)
	}
	return sdk.PageMeta{Title: title, NavActive: navParks, Breadcrumbs: c.crumbs(park)}
}

// areaNewPage is the form for a new area.
func (p *Plugin) areaNewPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, tree, err := p.managedTree(c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return c.render("parks-area-edit", p.areaEditView(c, park, tree, nil, web.NewForm(nil)), p.areaEditMeta(c, park, nil))
}

// areaEditPage is an area's form, filled with what it says now.
func (p *Plugin) areaEditPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, tree, err := p.managedTree(c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	a := tree[r.PathValue("areaID")]
	if a == nil {
		return sdk.PageMeta{}, notFound("area", r.PathValue("areaID"))
	}
	f := web.NewForm(url.Values{"name": {a.Name}, "capacity": {strconv.Itoa(a.Capacity)}, "description": {a.Description},
		"accessibility": {a.Accessibility}})
	for i, n := range []int{a.Rules.MinDurationMinutes, a.Rules.MaxDurationMinutes, a.Rules.SlotGranularityMinutes, a.Rules.MinNoticeMinutes,
		a.Rules.BookingHorizonDays, a.Rules.BufferBeforeMinutes, a.Rules.BufferAfterMinutes, a.Rules.MaxActiveBookings} {
		if n > 0 {
			f.Set(ruleFields[i], strconv.Itoa(n))
		}
	}
	if len(a.OpeningHours.Periods) > 0 {
		for _, d := range weekdayNames {
			if rg := a.OpeningHours.Periods[0].Week[d]; len(rg) > 0 {
				f.Set("opens_"+d, rg[0].Start)
				f.Set("closes_"+d, rg[len(rg)-1].End)
			}
		}
	}
	meta := p.areaEditMeta(c, park, a)
	v := p.areaEditView(c, park, tree, a, f)
	if r.URL.Query().Get("saved") == "1" {
		v.Saved = true
		meta.Announce = c.t("parks.edit.saved")
	}
	return c.render("parks-area-edit", v, meta)
}

// areaEditSubmit creates or changes an area. A change that would break
// coming bookings is not saved until confirmed: the form comes back (422)
// listing them, each kept as it is.
func (p *Plugin) areaEditSubmit(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	c := p.pageCtx(w, r)
	park, tree, err := p.managedTree(c)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var a *Area
	if id := r.PathValue("areaID"); id != "" {
		if a = tree[id]; a == nil {
			return sdk.PageMeta{}, notFound("area", id)
		}
	}
	var in areaEditInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	ai := AreaInput{Name: in.Name, ParentID: in.ParentID, Description: in.Description, Accessibility: in.Accessibility}
	if a != nil {
		ai.ParentID = a.ParentID
	}
	if n, err := strconv.Atoi(strings.TrimSpace(in.Capacity)); err != nil || n < 1 || n > 1000000 {
		form.Invalid("capacity", "parks.form.capacity.number", nil)
	} else {
		ai.Capacity = n
	}
	rules := make([]int, len(ruleFields))
	for i, name := range ruleFields {
		n, ok := wholeNumber(r.PostForm.Get(name))
		if !ok {
			form.Invalid(name, "parks.form.rule.number", nil)
		}
		rules[i] = n
	}
	ai.Rules = RulesDoc{MinDurationMinutes: rules[0], MaxDurationMinutes: rules[1], SlotGranularityMinutes: rules[2], MinNoticeMinutes: rules[3],
		BookingHorizonDays: rules[4], BufferBeforeMinutes: rules[5], BufferAfterMinutes: rules[6], MaxActiveBookings: rules[7]}
	hours := HoursDoc{}
	if a != nil {
		hours = a.OpeningHours // later seasons are kept as they are
	}
	if len(hours.Periods) == 0 {
		hours.Periods = []PeriodDoc{{From: "01-01", To: "12-31"}}
	}
	first := hours.Periods[0]
	first.Week = map[string][]RangeDoc{}
	for _, d := range weekdayNames {
		opens, closes := strings.TrimSpace(r.PostForm.Get("opens_"+d)), strings.TrimSpace(r.PostForm.Get("closes_"+d))
		var o, cl web.Clock
		switch {
		case opens == "" && closes == "":
			// closed that day
		case o.UnmarshalText([]byte(opens)) != nil:
			form.Invalid("opens_"+d, "web.rule.clock.format", nil)
		case closes == "24:00":
			first.Week[d] = []RangeDoc{{string(o), "24:00"}}
		case cl.UnmarshalText([]byte(closes)) != nil:
			form.Invalid("closes_"+d, "web.rule.clock.format", nil)
		default:
			first.Week[d] = []RangeDoc{{string(o), string(cl)}}
		}
	}
	hours.Periods = append([]PeriodDoc{first}, hours.Periods[1:]...)
	ai.OpeningHours = &hours
	fields := []string{"name", "parent_id", "capacity", "description", "accessibility"}
	var conflicts []Conflict
	if form.Valid() && a != nil && !in.Confirm {
		change, err := p.svc.PreviewArea(r.Context(), c.pr, park.ID, a.ID, ai)
		if err != nil && !catchForm(form, err, fields...) {
			return sdk.PageMeta{}, err
		}
		if err == nil && len(change.Conflicts) > 0 {
			conflicts = change.Conflicts
			form.Refuse("parks.edit.conflicts", map[string]any{"Count": len(conflicts)})
		}
	}
	to := ""
	if form.Valid() {
		if a != nil {
			if _, err := p.svc.UpdateArea(r.Context(), c.pr, park.ID, a.ID, ai); err != nil && !catchForm(form, err, fields...) {
				return sdk.PageMeta{}, err
			}
			to = areaHref(park.ID, a.ID) + "/edit?saved=1"
		} else {
			created, err := p.svc.CreateArea(r.Context(), c.pr, park.ID, ai)
			if err != nil && !catchForm(form, err, fields...) {
				return sdk.PageMeta{}, err
			}
			if err == nil {
				to = areaHref(park.ID, created.ID) + "/edit?saved=1"
			}
		}
	}
	if !form.Valid() {
		v := p.areaEditView(c, park, tree, a, form)
		for _, cf := range conflicts {
			v.Conflicts = append(v.Conflicts, conflictLine{Title: cf.Title, Href: bookingLink(park.ID, cf.BookingID),
				When: c.span(cf.Start, cf.End, park.location()), Area: cf.AreaName, Organisation: cf.OrganisationName,
				Rule: c.ruleName(cf.Rule)})
		}
		return c.invalid("parks-area-edit", v, p.areaEditMeta(c, park, a))
	}
	web.Redirect(w, r, to)
	return sdk.PageMeta{}, nil
}

// ruleName says which rule a coming booking would break, in the viewer's
// words.
func (c *pageCtx) ruleName(rule string) string {
	if id := "parks.form." + rule; c.loc.Has(id) {
		return c.loc.T(id)
	}
	return rule
}
