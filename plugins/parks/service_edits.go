package parks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Editing parks and areas after creation. An edit never cancels or rejects a
// booking on its own: changed hours or rules answer with the future bookings
// they conflict with, for a manager to settle (cancel with a reason, or talk
// to the group), and a preview shows the same list before anything is saved.

// RuleText is the rule named when a free text is too long or holds a NUL.
const RuleText = "text"

// checkText refuses text the store would not keep as given: too long, or with
// a NUL (PostgreSQL refuses it in TEXT, so it must be refused on both stores).
func checkText(field, v string) error {
	if utf8.RuneCountInString(v) > maxText || strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
		return invalid(field, RuleText, fmt.Sprintf("at most %d characters of valid text", maxText))
	}
	return nil
}

// checkDetails trims a park's details and checks them.
func checkDetails(d ParkDetails) (ParkDetails, error) {
	d.Description = strings.TrimSpace(d.Description)
	d.Accessibility = strings.TrimSpace(d.Accessibility)
	d.Rules = strings.TrimSpace(d.Rules)
	d.Address.StreetAddress = strings.TrimSpace(d.Address.StreetAddress)
	d.Address.PostalCode = strings.TrimSpace(d.Address.PostalCode)
	d.Address.Locality = strings.TrimSpace(d.Address.Locality)
	for field, v := range map[string]string{
		"description": d.Description, "accessibility": d.Accessibility, "rules": d.Rules,
		"address.street_address": d.Address.StreetAddress, "address.postal_code": d.Address.PostalCode,
		"address.locality": d.Address.Locality,
	} {
		if err := checkText(field, v); err != nil {
			return d, err
		}
	}
	if g := d.Geo; g != nil && (g.Latitude < -90 || g.Latitude > 90 || g.Longitude < -180 || g.Longitude > 180) {
		return d, invalid("geo", RuleGeo, "latitude from -90 to 90, longitude from -180 to 180 (WGS 84 degrees)")
	}
	return d, nil
}

// RuleGeo names coordinates out of range.
const RuleGeo = "geo"

// ParkEdit changes a park's name and details. The neighbourhood and time zone
// stay: moving them would move every booking's wall-clock time or manager.
type ParkEdit struct {
	Name string `json:"name" max:"200"`
	ParkDetails
}

// UpdatePark changes a park's name and details; it needs parks.area.manage
// in the park's neighbourhood, like the park's areas and support items.
func (s *Service) UpdatePark(ctx context.Context, pr sdk.Principal, parkID string, in ParkEdit) (*Park, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > maxTitle || strings.ContainsRune(in.Name, 0) {
		return nil, invalid("name", RuleName, fmt.Sprintf("required, at most %d characters", maxTitle))
	}
	details, err := checkDetails(in.ParkDetails)
	if err != nil {
		return nil, err
	}
	park.Name, park.ParkDetails, park.UpdatedAt = in.Name, details, s.now().UTC()
	if err := updatePark(ctx, s.st.db, park); err != nil {
		return nil, err
	}
	s.parks.Delete(parkID)
	s.audit(ctx, pr, "parks.park.update", parkDomain(park), park.ID, map[string]any{"name": park.Name})
	return park, nil
}

// RulePlanAlt names a plan without its text alternative.
const RulePlanAlt = "plan_alt"

// SetParkPlan sets a park's plan to the image uploaded as uploadID (the host
// checked and re-encoded it; a page route with sdk.Route.Upload hands the id
// over), with alt, the text alternative that WCAG wants for it (what the plan
// shows: gates, areas, paths, toilets). An empty uploadID removes the plan.
func (s *Service) SetParkPlan(ctx context.Context, pr sdk.Principal, parkID, uploadID, alt string) (*Park, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	alt = strings.TrimSpace(alt)
	switch {
	case len(uploadID) > 64 || strings.ContainsFunc(uploadID, func(r rune) bool { return r <= ' ' || r == '/' || r > '~' }):
		return nil, invalid("plan", RuleText, "not an upload id")
	case uploadID != "" && alt == "":
		return nil, invalid("plan_alt", RulePlanAlt, "describe the plan for those who cannot see it")
	}
	if err := checkText("plan_alt", alt); err != nil {
		return nil, err
	}
	if uploadID == "" {
		alt = ""
	}
	now := s.now().UTC()
	if err := updateParkPlan(ctx, s.st.db, parkID, uploadID, alt, now); err != nil {
		return nil, err
	}
	s.parks.Delete(parkID)
	s.audit(ctx, pr, "parks.park.plan", parkDomain(park), park.ID, map[string]any{"upload_id": uploadID})
	return getPark(ctx, s.st.db, parkID)
}

// GetArea returns one area of a park, with its effective rules.
func (s *Service) GetArea(ctx context.Context, parkID, areaID string) (*Area, error) {
	tree, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	a := tree[areaID]
	if a == nil {
		if _, err := getPark(ctx, s.st.db, parkID); err != nil {
			return nil, err
		}
		return nil, notFound("area", areaID)
	}
	return a, nil
}

// Conflict is a booking still to come that a change would break. The change
// does not touch it.
type Conflict struct {
	BookingID        string    `json:"booking_id"`
	AreaID           string    `json:"area_id"`
	AreaName         string    `json:"area_name"`
	Title            string    `json:"title"`
	Status           string    `json:"status"`
	OrganisationName string    `json:"organisation_name"`
	Start            time.Time `json:"start"`
	End              time.Time `json:"end"`
	// Rule is the rule the booking would break, as in a refused request:
	// opening_hours, min_duration, max_duration, slot_granularity, capacity,
	// or, for a closure, no_overlap.
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// AreaChange is an edited (or previewed) area and the future bookings of it
// and of the areas inside it that its new hours or rules conflict with.
type AreaChange struct {
	Area      *Area      `json:"area"`
	Saved     bool       `json:"saved"`
	Conflicts []Conflict `json:"conflicts"`
}

// UpdateArea changes an area's name, capacity, opening hours, rules and
// texts (its park and parent stay). Bookings already requested or approved
// are kept; the answer lists those still to come that the change conflicts
// with, in this area and the areas inside it.
func (s *Service) UpdateArea(ctx context.Context, pr sdk.Principal, parkID, areaID string, in AreaInput) (*AreaChange, error) {
	return s.editArea(ctx, pr, parkID, areaID, in, true)
}

// PreviewArea is UpdateArea without saving: what the change would conflict
// with.
func (s *Service) PreviewArea(ctx context.Context, pr sdk.Principal, parkID, areaID string, in AreaInput) (*AreaChange, error) {
	return s.editArea(ctx, pr, parkID, areaID, in, false)
}

func (s *Service) editArea(ctx context.Context, pr sdk.Principal, parkID, areaID string, in AreaInput, save bool) (*AreaChange, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	var out *AreaChange
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		tree, err := parkAreas(ctx, tx, parkID)
		if err != nil {
			return err
		}
		cur := tree[areaID]
		if cur == nil {
			return notFound("area", areaID)
		}
		if in.ParentID != "" && in.ParentID != cur.ParentID {
			return invalid("parent_id", RuleAreaParent, "an area cannot move; leave parent_id empty or as it is")
		}
		a := *cur
		if err := a.set(in); err != nil {
			return err
		}
		a.UpdatedAt = s.now().UTC()
		if err := tree.with(&a); err != nil {
			return err
		}
		conflicts, err := s.areaConflicts(ctx, tx, park, tree, &a)
		if err != nil {
			return err
		}
		out = &AreaChange{Area: &a, Saved: save, Conflicts: conflicts}
		if !save {
			return nil
		}
		return updateArea(ctx, tx, &a)
	})
	if err != nil {
		return nil, err
	}
	if save {
		s.areas.Delete(parkID)
		s.audit(ctx, pr, "parks.area.update", parkDomain(park), areaID,
			map[string]any{"park_id": parkID, "name": out.Area.Name, "conflicts": len(out.Conflicts)})
	}
	return out, nil
}

// areaConflicts checks every booking still to come of a and the areas inside
// it (tree already holds a's change) against the effective hours and rules,
// and a's own bookings against its capacity.
func (s *Service) areaConflicts(ctx context.Context, q queryer, park *Park, tree areaTree, a *Area) ([]Conflict, error) {
	list, err := futureBookings(ctx, q, park.ID, store.Micros(s.now()))
	if err != nil {
		return nil, err
	}
	loc := park.location()
	out := []Conflict{}
	for _, b := range list {
		x := tree[b.AreaID]
		if x == nil || (x.ID != a.ID && !slices.Contains(tree.ancestors(x.ID), a.ID)) {
			continue
		}
		rule, msg := "", ""
		if err := schedule.CheckFit(x.hours, x.rules, loc, b.Start, b.End); err != nil {
			if v, ok := err.(schedule.Violation); ok {
				rule, msg = v.Rule, v.Message
			}
		} else if x.ID == a.ID && b.ExpectedAttendance > a.Capacity {
			rule, msg = RuleCapacity, fmt.Sprintf("%d people are expected; the area now holds %d.", b.ExpectedAttendance, a.Capacity)
		}
		if rule != "" {
			out = append(out, conflictOf(b, x, rule, msg))
		}
	}
	return out, nil
}

func conflictOf(b *Booking, a *Area, rule, msg string) Conflict {
	return Conflict{BookingID: b.ID, AreaID: b.AreaID, AreaName: a.Name, Title: b.Title, Status: b.Status,
		OrganisationName: b.OrganisationName, Start: b.Start, End: b.End, Rule: rule, Message: msg}
}

// ClosureImpact is what a closure would hit: the approved events it overlaps
// (refused, or cancelled with cancel_bookings) and the open requests it would
// reject.
type ClosureImpact struct {
	Approved  []Conflict `json:"approved"`
	Requested []Conflict `json:"requested"`
	// Closures are other closures in the way; they refuse it whatever
	// cancel_bookings says.
	Closures []Conflict `json:"closures"`
}

// PreviewClosure tells a manager what a closure would hit before entering it.
func (s *Service) PreviewClosure(ctx context.Context, pr sdk.Principal, parkID string, in ClosureInput) (*ClosureImpact, error) {
	_, start, end, err := s.closureFor(ctx, pr, parkID, in)
	if err != nil {
		return nil, err
	}
	tree, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	a := tree[in.AreaID]
	if a == nil {
		return nil, invalid("area_id", RuleUnknownArea, "no such area in this park")
	}
	closure := &Booking{ID: "", ParkID: parkID, AreaID: a.ID, Kind: KindClosure, Start: start, End: end}
	out := &ClosureImpact{Approved: []Conflict{}, Requested: []Conflict{}, Closures: []Conflict{}}
	hits, err := s.collisions(ctx, s.st.db, tree, closure)
	if err != nil {
		return nil, err
	}
	for _, b := range hits {
		x := tree[b.AreaID]
		if x == nil {
			continue
		}
		switch {
		case b.Kind == KindClosure:
			out.Closures = append(out.Closures, conflictOf(b, x, RuleClosureOverlap, "Another closure already covers this time."))
		case b.Status == StatusApproved:
			out.Approved = append(out.Approved, conflictOf(b, x, RuleClosureOverlap, "An approved event; the closure is refused unless it cancels it."))
		default:
			out.Requested = append(out.Requested, conflictOf(b, x, RuleOverlap, "An open request; the closure rejects it."))
		}
	}
	return out, nil
}

// collisions returns the bookings that clash with b if both were approved:
// approved bookings and closures (their occupancy rows) and open requests
// (by the same rule), except b itself and the other dates of its series.
func (s *Service) collisions(ctx context.Context, q queryer, tree areaTree, b *Booking) ([]*Booking, error) {
	rows, err := clashes(ctx, q, tree, b)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{b.ID: true}
	var out []*Booking
	for _, r := range rows {
		if seen[r.BookingID] {
			continue
		}
		seen[r.BookingID] = true
		o, err := getBooking(ctx, q, b.ParkID, r.BookingID)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	const slack = 24 * time.Hour // more than any sensible buffer
	reqs, err := requestedBetween(ctx, q, b.ParkID, store.Micros(b.Start.Add(-slack)), store.Micros(b.End.Add(slack)))
	if err != nil {
		return nil, err
	}
	for _, o := range reqs {
		if !seen[o.ID] && (o.SeriesID == "" || o.SeriesID != b.SeriesID) && collide(tree, b, o) {
			seen[o.ID] = true
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(x, y *Booking) int { return x.Start.Compare(y.Start) })
	return out, nil
}

// Collisions returns, to a manager of the park, the bookings that collide
// with one: the open requests that compete with it and the approved events
// and closures in its way, so the queue can show them side by side.
func (s *Service) Collisions(ctx context.Context, pr sdk.Principal, parkID, bookingID string) ([]*Booking, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.requireManager(ctx, pr, park); err != nil {
		return nil, err
	}
	b, err := getBooking(ctx, s.st.db, parkID, bookingID)
	if err != nil {
		return nil, err
	}
	tree, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if tree[b.AreaID] == nil {
		return []*Booking{}, nil
	}
	list, err := s.collisions(ctx, s.st.db, tree, b)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]*Booking, len(list))
	for i, o := range list {
		out[i] = o.view(now)
	}
	return out, nil
}

// FreeDay is the free windows of one local day, split at midnight.
type FreeDay struct {
	Date string   `json:"date"`
	Free []Window `json:"free"`
}

// FreeSlots is an area's availability as a list of days, every day of the
// range listed (with no windows when nothing is free), and the rules a
// request must keep: what a calendar that works without JavaScript and
// with a screen reader shows.
type FreeSlots struct {
	AreaID   string    `json:"area_id"`
	TimeZone string    `json:"time_zone"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Rules    RulesDoc  `json:"rules"`
	Days     []FreeDay `json:"days"`
}

// FreeSlots returns the free windows of an area in [from, to) by local day.
func (s *Service) FreeSlots(ctx context.Context, parkID, areaID string, from, to time.Time) (*FreeSlots, error) {
	av, err := s.Availability(ctx, parkID, areaID, from, to)
	if err != nil {
		return nil, err
	}
	tree, err := s.cachedAreas(ctx, parkID, areaID)
	if err != nil {
		return nil, err
	}
	loc := av.From.Location()
	out := &FreeSlots{AreaID: areaID, TimeZone: av.TimeZone, From: from.In(loc), To: to.In(loc),
		Rules: tree[areaID].EffectiveRules, Days: []FreeDay{}}
	byDate := map[string]int{}
	last := schedule.DateOf(to.Add(-time.Nanosecond).In(loc))
	for d := schedule.DateOf(from.In(loc)); !last.Before(d); d = d.AddDays(1) {
		byDate[d.String()] = len(out.Days)
		out.Days = append(out.Days, FreeDay{Date: d.String(), Free: []Window{}})
	}
	for _, w := range av.Free {
		for start := w.Start; start.Before(w.End); {
			d := schedule.DateOf(start)
			end := schedule.ResolveLocal(loc, d.AddDays(1), 0)
			if end.After(w.End) {
				end = w.End
			}
			if i, ok := byDate[d.String()]; ok {
				out.Days[i].Free = append(out.Days[i].Free, Window{Start: start.In(loc), End: end.In(loc)})
			}
			start = end.In(loc)
		}
	}
	return out, nil
}

// SupportAvailability is what a park can still lend over an interval: per
// item, how many it owns and how many are free at every instant of it.
type SupportAvailability struct {
	From  time.Time      `json:"from"`
	To    time.Time      `json:"to"`
	Owned map[string]int `json:"owned"`
	Free  map[string]int `json:"free"`
}

// SupportAvailable answers, for the request form, how many of each support
// item are free throughout [from, to): the catalogue less the most that
// approved bookings hold at any one instant (requests are not counted: they
// may never be approved, and approval checks again).
func (s *Service) SupportAvailable(ctx context.Context, parkID string, from, to time.Time) (*SupportAvailability, error) {
	if !from.Before(to) {
		return nil, sdk.RuleError(sdk.CodeInvalid, schedule.RuleEndBeforeStart, "to must be after from.")
	}
	if to.Sub(from) > maxAvailability {
		return nil, sdk.RuleError(sdk.CodeInvalid, RuleRangeTooLong, "Ask for at most 366 days at once.")
	}
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	// Ask for the whole catalogue: every item in use at some instant comes
	// back as a shortage that says how many are in use.
	probe := &Booking{ParkID: parkID, Start: from, End: to, SupportItems: park.SupportItems}
	short, err := s.shortages(ctx, s.st.db, park, probe)
	if err != nil {
		return nil, err
	}
	out := &SupportAvailability{From: from, To: to, Owned: park.SupportItems, Free: map[string]int{}}
	for name, q := range park.SupportItems {
		out.Free[name] = q
	}
	for _, sh := range short {
		out.Free[sh.Item] = max(sh.Quantity-sh.InUse, 0)
	}
	return out, nil
}
