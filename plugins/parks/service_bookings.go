package parks

import (
	"cmp"
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

// Booking requests and reading them back: the rules a request must keep,
// who may ask, and the approval queue managers read.

// BookingInput is a booking request. RepeatWeeks > 1 asks for a weekly
// series: the same weekday and local times for that many weeks, decided
// as one unit.
type BookingInput struct {
	AreaID             string         `json:"area_id" max:"64"`
	OrganisationID     string         `json:"organisation_id" max:"64"`
	Start              string         `json:"start" max:"64"`
	End                string         `json:"end" max:"64"`
	Title              string         `json:"title" max:"200"`
	Description        string         `json:"description" max:"4000"`
	Category           string         `json:"category" max:"64"`
	ExpectedAttendance int            `json:"expected_attendance" min:"0" max:"1000000"`
	Public             bool           `json:"public"`
	SupportItems       map[string]int `json:"support_items" min:"0" max:"100000"`
	AccessibilityNotes string         `json:"accessibility_notes" max:"4000"`
	VolunteersNeeded   bool           `json:"volunteers_needed"`
	Contact            Contact        `json:"contact"`
	RepeatWeeks        int            `json:"repeat_weeks" min:"0" max:"520"`
}

func parseTime(field, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, invalid(field, RuleQueryTime, "want an RFC 3339 time such as 2025-06-07T10:00:00+03:00")
	}
	if err := sdk.CheckTime(field, t); err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// RequestBooking records a booking request (or a weekly series of them).
// It refuses requests that break the area's rules, ask for more than the
// area holds or the park owns, or clash with an approved booking or a
// closure; requests may overlap other requests.
func (s *Service) RequestBooking(ctx context.Context, pr sdk.Principal, parkID string, in BookingInput) (*Booking, error) {
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	park, err := s.cachedPark(ctx, parkID)
	if err != nil {
		return nil, err
	}
	tree, err := s.cachedAreas(ctx, parkID, in.AreaID)
	if err != nil {
		return nil, err
	}
	a := tree[in.AreaID]
	if a == nil {
		return nil, invalid("area_id", RuleUnknownArea, "no such area in this park")
	}
	start, err := parseTime("start", in.Start)
	if err != nil {
		return nil, err
	}
	end, err := parseTime("end", in.End)
	if err != nil {
		return nil, err
	}
	if err := s.checkFields(&in, a, park); err != nil {
		return nil, err
	}
	orgName, err := s.checkRequester(ctx, pr, in.OrganisationID)
	if err != nil {
		return nil, err
	}
	loc := park.location()
	occ, err := expand(loc, start, end, in.RepeatWeeks)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if a.configErr != nil {
		// Stored before a check that now refuses it (such as a child's hours off
		// its parent's grid, since areas inherit): the managers must fix the area.
		s.log.WarnContext(ctx, "parks: area misconfigured", "area", a.ID, "error", a.configErr)
		return nil, sdk.RuleError(sdk.CodeConflict, RuleAreaConfig,
			"%s cannot be booked until its managers fix its hours and rules, which do not fit those of the areas around it.", a.Name)
	}
	// Rules per date: a series is refused with every broken date listed.
	report := map[string]string{}
	firstRule := ""
	for _, iv := range occ {
		if err := schedule.CheckValidatedRequest(a.hours, a.rules, loc, iv.Start, iv.End, now); err != nil {
			v, ok := err.(schedule.Violation)
			if !ok {
				return nil, fmt.Errorf("check request: %w", err)
			}
			if len(occ) == 1 {
				return nil, fromViolation(v)
			}
			report[schedule.DateOf(iv.Start.In(loc)).String()] = v.Rule + ": " + v.Message
			if firstRule == "" {
				firstRule = v.Rule
			}
		}
	}
	if len(report) > 0 {
		report["rule"] = firstRule
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Fields: report,
			Message: fmt.Sprintf("%d of the %d dates break the area's rules; see fields.", len(report)-1, len(occ))}
	}

	seriesID := ""
	if len(occ) > 1 {
		seriesID = newID()
	}
	unit := make([]*Booking, len(occ))
	for i, iv := range occ {
		unit[i] = &Booking{
			ID: newID(), ParkID: parkID, AreaID: a.ID, SeriesID: seriesID, Kind: KindEvent, Status: StatusRequested,
			OrganisationID: in.OrganisationID, OrganisationName: orgName, RequesterID: pr.UserID,
			Title: in.Title, Description: in.Description, Category: in.Category,
			ExpectedAttendance: in.ExpectedAttendance, Public: in.Public, SupportItems: in.SupportItems,
			AccessibilityNotes: in.AccessibilityNotes, VolunteersNeeded: in.VolunteersNeeded, Contact: in.Contact,
			Start: iv.Start, End: iv.End, CreatedAt: now, UpdatedAt: now,
		}
	}
	// The park's share lock is held from the collision check to the commit, so
	// that no approval commits between.
	if err := s.st.db.InTx(ctx, func(tx *store.Tx) error {
		q := s.st.prepared(tx)
		if err := s.st.sharePark(ctx, q, park.ID); err != nil {
			return err
		}
		if a.rules.MaxActivePerOrg > 0 { // no limit, nothing to count
			// Concurrent requests of one organisation would each count the others'
			// bookings as not yet there; they take turns (SQLite's single writer
			// already makes them).
			if err := s.st.lockActive(ctx, q, a.ID, cmp.Or(in.OrganisationID, "user:"+pr.UserID)); err != nil {
				return err
			}
			active, err := countActive(ctx, q, a.ID, in.OrganisationID, pr.UserID, now)
			if err != nil {
				return err
			}
			if err := schedule.CheckActiveLimit(a.rules, active+len(unit)-1); err != nil {
				return fromViolation(err)
			}
		}
		// A request that could never be approved is refused now rather
		// than left for a manager to reject.
		if err := s.checkUnitFits(ctx, q, park, tree, unit); err != nil {
			return err
		}
		for _, b := range unit {
			if err := insertBooking(ctx, q, b); err != nil {
				return err
			}
		}
		if err := emitEvents(tx, EventRequested, park, tree, unit); err != nil {
			return err
		}
		// Booking follows the park's events by default.
		return tx.Follow(ctx, pr.UserID, parkSubject(park.ID), true)
	}); err != nil {
		return nil, err
	}
	first := unit[0].view(now)
	first.Series = occurrences(unit, now)
	return first, nil
}

func (s *Service) checkFields(in *BookingInput, a *Area, park *Park) error {
	in.Title = strings.TrimSpace(in.Title)
	in.Contact.Name = strings.TrimSpace(in.Contact.Name)
	switch {
	case in.Title == "" || utf8.RuneCountInString(in.Title) > maxTitle:
		return invalid("title", RuleTitle, fmt.Sprintf("required, at most %d characters", maxTitle))
	case utf8.RuneCountInString(in.Description) > maxText || utf8.RuneCountInString(in.AccessibilityNotes) > maxText:
		return invalid("description", RuleTitle, fmt.Sprintf("at most %d characters", maxText))
	case !slices.Contains(Categories, in.Category):
		return invalid("category", RuleCategory, "one of "+strings.Join(Categories, ", "))
	case in.ExpectedAttendance < 1:
		return invalid("expected_attendance", RuleAttendance, "must be at least 1")
	case in.ExpectedAttendance > a.Capacity:
		return invalid("expected_attendance", RuleCapacity, fmt.Sprintf("%s holds at most %d people", a.Name, a.Capacity))
	case in.RepeatWeeks < 0 || in.RepeatWeeks > maxSeriesRequests:
		return invalid("repeat_weeks", RuleSeriesWeeks, fmt.Sprintf("0 to %d", maxSeriesRequests))
	}
	for _, name := range sortedKeys(in.SupportItems) {
		q := in.SupportItems[name]
		owned, ok := park.SupportItems[name]
		switch {
		case q < 0:
			return invalid("support_items", RuleSupportItems, fmt.Sprintf("%s: quantity must not be negative", name))
		case q == 0:
			delete(in.SupportItems, name)
		case !ok:
			return invalid("support_items", RuleUnknownItem, fmt.Sprintf("%s: %s does not lend %q", name, park.Name, name))
		case q > owned:
			return invalid("support_items", RuleSupportItems, fmt.Sprintf("%s: %s owns %d, %d asked", name, park.Name, owned, q))
		}
	}
	return nil
}

// checkRequester checks who may ask: a representative of a verified
// organisation for it, or — when the city allows — a verified resident
// for themself. It returns the organisation's name for the calendar.
func (s *Service) checkRequester(ctx context.Context, pr sdk.Principal, orgID string) (string, error) {
	if orgID == "" {
		if !s.settings.AllowIndividualResidents {
			return "", sdk.RuleError(sdk.CodeForbidden, RuleIndividual, "Bookings are made on behalf of an organisation; give organisation_id.")
		}
		if len(pr.Neighbourhoods) == 0 {
			return "", sdk.RuleError(sdk.CodeForbidden, RuleIndividual, "Only verified residents can book without an organisation.")
		}
		return "", nil
	}
	// The common case needs no callback: the principal carries the
	// caller's memberships with the organisation's verification, and the
	// core derives the role org_representative in org:<id> from a
	// representative membership, to which this plugin's manifest grants
	// parks.booking.request. Only the name is needed from the host, once
	// per organisation (the core never renames one).
	if slices.ContainsFunc(pr.Organisations, func(m sdk.OrgMembership) bool {
		return m.OrganisationID == orgID && m.Role == "representative" && m.Verified
	}) {
		if name, ok := s.orgNames.Load(orgID); ok {
			return name.(string), nil
		}
	}
	// Anyone else — not a representative according to the principal, an
	// unverified organisation, or a name not yet known — is answered by
	// the host, which gives the precise reason.
	orgs, err := s.host.Organisations(ctx, []string{orgID})
	if err != nil {
		return "", fmt.Errorf("look up organisation %s: %w", orgID, err)
	}
	if len(orgs) == 0 {
		return "", invalid("organisation_id", RuleRepresentative, "no such organisation")
	}
	org := orgs[0]
	if !org.Verified {
		return "", sdk.RuleError(sdk.CodeForbidden, RuleOrgVerified, "%s is not verified yet; only verified organisations can book.", org.Name)
	}
	if !slices.Contains(org.Representatives, pr.UserID) {
		return "", sdk.RuleError(sdk.CodeForbidden, RuleRepresentative, "Only a representative of %s can request bookings for it.", org.Name)
	}
	if err := s.require(ctx, pr, PermBookingRequest, "org:"+orgID, RuleRepresentative,
		"Representatives of "+org.Name+" may not request bookings."); err != nil {
		return "", err
	}
	s.orgNames.Store(orgID, org.Name)
	return org.Name, nil
}

// expand turns a request into its occurrences.
func expand(loc *time.Location, start, end time.Time, weeks int) ([]schedule.Interval, error) {
	first := schedule.Interval{Start: start, End: end}
	if weeks <= 1 {
		return []schedule.Interval{first}, nil
	}
	ls, le := start.In(loc), end.In(loc)
	if schedule.DateOf(ls) != schedule.DateOf(le) || ls.Second() != 0 || le.Second() != 0 || !start.Before(end) {
		return nil, sdk.RuleError(sdk.CodeInvalid, RuleSeriesWeeks, "A weekly series must start and end on the same local day, on whole minutes.")
	}
	ws := schedule.WeeklySeries{
		From: schedule.DateOf(ls), Day: ls.Weekday(), Weeks: weeks,
		Start: schedule.HM(ls.Hour(), ls.Minute()), End: schedule.HM(le.Hour(), le.Minute()),
	}
	occ, err := ws.Expand(loc)
	if err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: err.Error(), Fields: map[string]string{"rule": RuleSeriesWeeks}}
	}
	return occ, nil
}

// checkUnitFits refuses a unit of bookings (one, or a series) when any
// date clashes with an approved booking or closure, or the park's
// equipment would run out; the report names every such date.
func (s *Service) checkUnitFits(ctx context.Context, q queryer, park *Park, tree areaTree, unit []*Booking) error {
	loc := park.location()
	report := map[string]string{}
	rule := ""
	for _, b := range unit {
		date := schedule.DateOf(b.Start.In(loc)).String()
		clash, err := clashes(ctx, q, tree, b)
		if err != nil {
			return err
		}
		if len(clash) > 0 {
			report[date] = fmt.Sprintf("%s is already booked or closed then (buffers included)", tree[b.AreaID].Name)
			if rule == "" {
				rule = RuleOverlap
			}
			continue
		}
		short, err := s.shortages(ctx, q, park, b)
		if err != nil {
			return err
		}
		if len(short) > 0 {
			var parts []string
			for _, sh := range short {
				parts = append(parts, fmt.Sprintf("%s: %d of %d already lent, %d asked", sh.Item, sh.InUse, sh.Quantity, sh.Requested))
			}
			report[date] = "not enough support items: " + strings.Join(parts, "; ")
			if rule == "" {
				rule = RuleItemsOverBooked
			}
		}
	}
	if len(report) == 0 {
		return nil
	}
	msg := "The booking clashes with what is already approved; see fields."
	if len(unit) == 1 {
		for k, v := range report {
			msg = k + ": " + v + "."
		}
	}
	report["rule"] = rule
	return &sdk.Error{Code: sdk.CodeConflict, Message: msg, Fields: report}
}

// clashes returns the approved bookings and closures b would overlap.
func clashes(ctx context.Context, q queryer, tree areaTree, b *Booking) ([]occupancy, error) {
	hp := tree[b.AreaID].halfPad()
	rows, err := blockingFor(ctx, q, tree, b.AreaID, store.Micros(b.Start.Add(-hp)), store.Micros(b.End.Add(hp)))
	if err != nil {
		return nil, err
	}
	out := rows[:0]
	for _, r := range rows {
		if r.BookingID != b.ID {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Service) shortages(ctx context.Context, q queryer, park *Park, b *Booking) ([]schedule.Shortage, error) {
	if len(b.SupportItems) == 0 {
		return nil, nil
	}
	uses, err := approvedItemUse(ctx, q, park.ID, store.Micros(b.Start), store.Micros(b.End))
	if err != nil {
		return nil, err
	}
	existing := make([]schedule.ItemBooking, 0, len(uses))
	for _, u := range uses {
		if u.ID == b.ID {
			continue
		}
		items, err := decodeItems(u.SupportItems)
		if err != nil {
			return nil, err
		}
		existing = append(existing, schedule.ItemBooking{
			Interval: schedule.Interval{Start: store.FromMicros(u.StartUS), End: store.FromMicros(u.EndUS)}, Items: items})
	}
	return schedule.CheckItems(park.SupportItems, existing, schedule.ItemBooking{Interval: b.interval(), Items: b.SupportItems})
}

func occurrences(unit []*Booking, now time.Time) []Occurrence {
	if len(unit) < 2 {
		return []Occurrence{}
	}
	out := make([]Occurrence, len(unit))
	for i, b := range unit {
		out[i] = Occurrence{ID: b.ID, Start: b.Start, End: b.End, Status: b.view(now).Status}
	}
	return out
}

// --- reading bookings ---

// GetBooking returns a booking to a manager of the park or to the people
// who asked for it; to anyone else it does not exist.
func (s *Service) GetBooking(ctx context.Context, pr sdk.Principal, parkID, id string) (*Booking, error) {
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	b, err := getBooking(ctx, s.st.db, parkID, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.mayRead(ctx, pr, park, b)
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, notFound("booking", id)
	}
	unit, err := unitOf(ctx, s.st.db, b)
	if err != nil {
		return nil, err
	}
	now := s.now()
	v := b.view(now)
	v.Series = occurrences(unit, now)
	return v, nil
}

func (s *Service) mayRead(ctx context.Context, pr sdk.Principal, park *Park, b *Booking) (bool, error) {
	if b.RequesterID != "" && b.RequesterID == pr.UserID {
		return true, nil
	}
	if b.OrganisationID != "" && slices.ContainsFunc(pr.Organisations, func(m sdk.OrgMembership) bool {
		return m.OrganisationID == b.OrganisationID
	}) {
		return true, nil
	}
	return s.can(ctx, pr, PermBookingApprove, parkDomain(park))
}

// ListBookings returns a page of a park's bookings in start order: all of
// them for a manager (status requested is the approval queue), otherwise
// those of the caller and the caller's organisations; status, when given,
// narrows it. Open requests that compete for the same place and time are
// marked contested.
func (s *Service) ListBookings(ctx context.Context, pr sdk.Principal, parkID, status string, q sdk.ListQuery) (sdk.Page[*Booking], error) {
	if !pr.Authenticated() {
		return sdk.Page[*Booking]{}, sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return sdk.Page[*Booking]{}, err
	}
	if status != "" && !slices.Contains([]string{StatusRequested, StatusApproved, StatusRejected, StatusCancelled}, status) {
		return sdk.Page[*Booking]{}, invalid("status", RuleStatus, "one of requested, approved, rejected, cancelled")
	}
	manager, err := s.can(ctx, pr, PermBookingApprove, parkDomain(park))
	if err != nil {
		return sdk.Page[*Booking]{}, err
	}
	lf := bookingFilter{ParkID: parkID, Status: status, All: manager, RequesterID: pr.UserID, Page: q}
	for _, m := range pr.Organisations {
		lf.OrgIDs = append(lf.OrgIDs, m.OrganisationID)
	}
	list, err := listBookings(ctx, s.st.db, lf)
	if err != nil {
		return sdk.Page[*Booking]{}, err
	}
	if err := s.markContested(ctx, parkID, list); err != nil {
		return sdk.Page[*Booking]{}, err
	}
	now := s.now()
	out := make([]*Booking, len(list))
	for i, b := range list {
		out[i] = b.view(now)
	}
	return sdk.NewPage(out, q, func(b *Booking) []any { return []any{store.Micros(b.Start), b.ID} }), nil
}

func (s *Service) markContested(ctx context.Context, parkID string, list []*Booking) error {
	var lo, hi time.Time
	for _, b := range list {
		if b.Status != StatusRequested {
			continue
		}
		if lo.IsZero() || b.Start.Before(lo) {
			lo = b.Start
		}
		if b.End.After(hi) {
			hi = b.End
		}
	}
	if lo.IsZero() {
		return nil
	}
	tree, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return err
	}
	const slack = 24 * time.Hour // more than any sensible buffer
	others, err := requestedBetween(ctx, s.st.db, parkID, store.Micros(lo.Add(-slack)), store.Micros(hi.Add(slack)))
	if err != nil {
		return err
	}
	for _, b := range list {
		if b.Status != StatusRequested {
			continue
		}
		for _, o := range others {
			if o.ID != b.ID && (o.SeriesID == "" || o.SeriesID != b.SeriesID) && collide(tree, b, o) {
				b.Contested = true
				b.CollidesWith = append(b.CollidesWith, o.ID)
			}
		}
	}
	return nil
}

// collide reports whether two bookings would clash if both were approved,
// by the same rule the occupancy rows enforce.
func collide(tree areaTree, a, b *Booking) bool {
	if tree[a.AreaID] == nil || tree[b.AreaID] == nil || !tree.related(a.AreaID, b.AreaID) {
		return false
	}
	pa, pb := tree[a.AreaID].halfPad(), tree[b.AreaID].halfPad()
	return a.Start.Add(-pa).Before(b.End.Add(pb)) && b.Start.Add(-pb).Before(a.End.Add(pa))
}
