package parks

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
)

// Permissions the plugin declares.
const (
	PermParkManage     = "parks.park.manage"
	PermAreaManage     = "parks.area.manage"
	PermBookingRequest = "parks.booking.request"
	PermBookingApprove = "parks.booking.approve"
)

// RoleParkManager is the plugin's role: granted in nbh:<id> it manages the
// parks of that neighbourhood, granted in city every park.
const RoleParkManager = "park_manager"

// Event types.
const (
	EventRequested   = "parks.booking.requested"
	EventApproved    = "parks.booking.approved"
	EventRejected    = "parks.booking.rejected"
	EventCancelled   = "parks.booking.cancelled"
	EventUserDeleted = "core.user.deleted"
)

// Limits on input, so one request cannot make the service do unbounded
// work.
const (
	maxTitle          = 200
	maxText           = 4000
	maxAvailability   = 366 * 24 * time.Hour
	defaultListLimit  = 50
	maxListLimit      = 500
	maxSeriesRequests = 52
)

// Settings are the city's choices for the plugin.
type Settings struct {
	// AllowIndividualResidents lets verified residents book without an
	// organisation.
	AllowIndividualResidents bool
	// DefaultSupport is the support catalogue of a park created without
	// one.
	DefaultSupport map[string]int
}

// Service is the parks workflow: parks and areas, booking requests and
// decisions, availability and the public calendar. HTTP handlers call one
// method each; every method checks who may do what, because the host only
// checks the route's permission, not whether the caller manages this park
// or represents this organisation.
type Service struct {
	st       *storage
	host     sdk.Host
	now      func() time.Time
	cityTZ   string
	settings Settings
	log      *slog.Logger

	// orgNames caches organisation names by ID for the request path.
	orgNames sync.Map
	// areas caches each park's area tree for the request path; see
	// cachedAreas for why it needs no invalidation there.
	areas sync.Map // park ID → areaTree
	// parks caches parks briefly for the request path; see cachedPark.
	parks sync.Map // park ID → cachedParkEntry
	// kick wakes the outbox flusher after a commit that queued events;
	// flushMu runs one flush at a time.
	kick    chan struct{}
	flushMu sync.Mutex
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// --- authorisation ---

func (s *Service) can(ctx context.Context, p sdk.Principal, perm, domain string) (bool, error) {
	if !p.Authenticated() {
		return false, nil
	}
	ok, err := s.host.Can(ctx, p.UserID, perm, domain)
	if err != nil {
		return false, fmt.Errorf("can %s %s in %s: %w", p.UserID, perm, domain, err)
	}
	return ok, nil
}

func (s *Service) require(ctx context.Context, p sdk.Principal, perm, domain, rule, message string) error {
	if !p.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	ok, err := s.can(ctx, p, perm, domain)
	if err != nil {
		return err
	}
	if !ok {
		return sdk.RuleError(sdk.CodeForbidden, rule, "%s", message)
	}
	return nil
}

func parkDomain(p *Park) string { return "nbh:" + p.NeighbourhoodID }

func (s *Service) requireManager(ctx context.Context, pr sdk.Principal, park *Park) error {
	return s.require(ctx, pr, PermBookingApprove, parkDomain(park), RuleParkManager,
		"Only a manager of "+park.Name+" can do this.")
}

// --- parks and areas ---

// ParkInput creates a park.
type ParkInput struct {
	Name            string         `json:"name" max:"200"`
	NeighbourhoodID string         `json:"neighbourhood_id" max:"64"`
	TimeZone        string         `json:"time_zone" max:"64"`
	SupportItems    map[string]int `json:"support_items" min:"0" max:"100000"`
}

// CreatePark creates a park in a neighbourhood; it needs parks.park.manage
// there (city admins hold it everywhere).
func (s *Service) CreatePark(ctx context.Context, pr sdk.Principal, in ParkInput) (*Park, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || utf8.RuneCountInString(in.Name) > maxTitle:
		return nil, sdk.InvalidField("name", fmt.Sprintf("required, at most %d characters", maxTitle))
	case in.NeighbourhoodID == "":
		return nil, sdk.InvalidField("neighbourhood_id", "required")
	}
	if err := s.require(ctx, pr, PermParkManage, "nbh:"+in.NeighbourhoodID, RuleParkManager,
		"You cannot create parks in this neighbourhood."); err != nil {
		return nil, err
	}
	nbhs, err := s.host.Neighbourhoods(ctx, []string{in.NeighbourhoodID})
	if err != nil {
		return nil, fmt.Errorf("look up neighbourhood: %w", err)
	}
	if len(nbhs) == 0 || nbhs[0].Archived {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: "neighbourhood_id: no such neighbourhood",
			Fields: map[string]string{"neighbourhood_id": "no such neighbourhood", "rule": RuleNeighbourhood}}
	}
	if in.TimeZone == "" {
		in.TimeZone = s.cityTZ
	}
	if _, err := sdk.LoadTimeZone(in.TimeZone); err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: "time_zone: must be an IANA time zone such as Europe/Helsinki (not Local)",
			Fields: map[string]string{"time_zone": "must be an IANA time zone such as Europe/Helsinki (not Local)", "rule": RuleTimeZone}}
	}
	items := in.SupportItems
	if items == nil {
		items = s.settings.DefaultSupport
	}
	if err := checkCatalogue(items); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &Park{ID: newID(), Name: in.Name, NeighbourhoodID: in.NeighbourhoodID, TimeZone: in.TimeZone,
		SupportItems: items, CreatedAt: now, UpdatedAt: now}
	if p.SupportItems == nil {
		p.SupportItems = map[string]int{}
	}
	if err := insertPark(ctx, s.st.db, p); err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "parks.park.create", parkDomain(p), p.ID, map[string]any{"name": p.Name})
	return p, nil
}

func checkCatalogue(items map[string]int) error {
	for name, q := range items {
		if strings.TrimSpace(name) == "" || q < 0 {
			return sdk.InvalidField("support_items", fmt.Sprintf("%q: want a name and a quantity of at least 0", name))
		}
	}
	return nil
}

// ListParks lists parks, optionally of one neighbourhood.
func (s *Service) ListParks(ctx context.Context, neighbourhoodID string) ([]*Park, error) {
	return listParks(ctx, s.st.db, neighbourhoodID)
}

// GetPark returns one park.
func (s *Service) GetPark(ctx context.Context, id string) (*Park, error) {
	return getPark(ctx, s.st.db, id)
}

// SetSupportItems replaces a park's support catalogue. Lowering a quantity
// does not touch bookings already approved.
func (s *Service) SetSupportItems(ctx context.Context, pr sdk.Principal, parkID string, items map[string]int) (*Park, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	if items == nil {
		items = map[string]int{}
	}
	if err := checkCatalogue(items); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if err := updateParkItems(ctx, s.st.db, parkID, items, now); err != nil {
		return nil, err
	}
	s.parks.Delete(parkID)
	park.SupportItems, park.UpdatedAt = items, now
	s.audit(ctx, pr, "parks.park.support_items", parkDomain(park), park.ID, map[string]any{"items": items})
	return park, nil
}

// AreaInput creates an area.
type AreaInput struct {
	Name         string    `json:"name" max:"200"`
	ParentID     string    `json:"parent_id" max:"64"`
	Capacity     int       `json:"capacity" min:"1" max:"1000000"`
	OpeningHours *HoursDoc `json:"opening_hours"`
	Rules        RulesDoc  `json:"rules"`
}

// CreateArea adds an area to a park, under parent when given.
func (s *Service) CreateArea(ctx context.Context, pr sdk.Principal, parkID string, in AreaInput) (*Area, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > maxTitle {
		return nil, sdk.InvalidField("name", fmt.Sprintf("required, at most %d characters", maxTitle))
	}
	if in.Capacity < 1 {
		return nil, sdk.InvalidField("capacity", "must be at least 1")
	}
	hours := alwaysOpen()
	if in.OpeningHours != nil {
		hours = *in.OpeningHours
	}
	a := &Area{ID: newID(), ParkID: parkID, ParentID: in.ParentID, Name: in.Name, Capacity: in.Capacity,
		OpeningHours: hours, Rules: in.Rules, CreatedAt: s.now().UTC()}
	if a.hours, err = hours.toSchedule(); err != nil {
		return nil, err
	}
	a.rules = in.Rules.toSchedule()
	if err := schedule.ValidateConfig(a.hours, a.rules); err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: err.Error(), Fields: map[string]string{"rule": RuleAreaConfig}}
	}
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.ParentID != "" {
			tree, err := parkAreas(ctx, tx, parkID)
			if err != nil {
				return err
			}
			if tree[in.ParentID] == nil {
				return &sdk.Error{Code: sdk.CodeInvalid, Message: "parent_id: no such area in this park",
					Fields: map[string]string{"parent_id": "no such area in this park", "rule": RuleAreaParent}}
			}
		}
		return insertArea(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "parks.area.create", parkDomain(park), a.ID, map[string]any{"park_id": parkID, "name": a.Name})
	return a, nil
}

// ListAreas lists a park's areas, parents before children.
func (s *Service) ListAreas(ctx context.Context, parkID string) ([]*Area, error) {
	if _, err := getPark(ctx, s.st.db, parkID); err != nil {
		return nil, err
	}
	tree, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	out := make([]*Area, 0, len(tree))
	for _, a := range tree {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Area) int {
		return cmpInts(len(tree.ancestors(a.ID)), len(tree.ancestors(b.ID)), a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

func cmpInts(a, b int, then ...int) int {
	if a != b {
		if a < b {
			return -1
		}
		return 1
	}
	for _, t := range then {
		if t != 0 {
			return t
		}
	}
	return 0
}

// cachedAreas returns a park's area tree from the cache when it holds
// areaID, else loads it afresh. Areas are never changed or deleted once
// created and their parents are fixed, so a cached area, its rules and its
// ancestors are always right — on every node; what a cached tree may lack
// is areas created since (elsewhere), which a miss loads. Callers use the
// area and its ancestors only (blocking rows of descendants sit on the
// area itself); decisions load the whole tree inside their transaction.
func (s *Service) cachedAreas(ctx context.Context, parkID, areaID string) (areaTree, error) {
	if v, ok := s.areas.Load(parkID); ok {
		if t := v.(areaTree); t[areaID] != nil {
			return t, nil
		}
	}
	t, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	s.areas.Store(parkID, t)
	return t, nil
}

// parkCacheTTL bounds how stale a park may be on the request path. Only its support
// catalogue ever changes; this node forgets a park it changes at once, and another
// node's change is seen within the TTL. Requests check the catalogue only to refuse
// what could never be approved: approval checks it again, read fresh.
const parkCacheTTL = time.Second

type cachedParkEntry struct {
	park    *Park
	expires time.Time
}

// cachedPark returns a park for the request path, read at most parkCacheTTL ago.
// The park is shared: callers must not change it.
func (s *Service) cachedPark(ctx context.Context, parkID string) (*Park, error) {
	now := time.Now()
	if v, ok := s.parks.Load(parkID); ok {
		if e := v.(cachedParkEntry); now.Before(e.expires) {
			return e.park, nil
		}
	}
	park, err := getPark(ctx, s.st.db.Preparer(nil), parkID)
	if err != nil {
		return nil, err
	}
	s.parks.Store(parkID, cachedParkEntry{park: park, expires: now.Add(parkCacheTTL)})
	return park, nil
}

// --- availability ---

// Availability returns the free windows of an area in [from, to): opening
// hours minus closures and approved bookings of the area, its ancestors
// and its descendants, with buffers, on the slot grid, and only where a
// booking could still be requested now (after the notice period, before
// the horizon).
func (s *Service) Availability(ctx context.Context, parkID, areaID string, from, to time.Time) (*Availability, error) {
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
	tree, err := s.cachedAreas(ctx, parkID, areaID)
	if err != nil {
		return nil, err
	}
	a := tree[areaID]
	if a == nil {
		return nil, notFound("area", areaID)
	}
	now := s.now()
	if earliest := now.Add(a.rules.MinNotice); from.Before(earliest) {
		from = earliest
	}
	if a.rules.Horizon > 0 {
		if latest := now.Add(a.rules.Horizon); to.After(latest) {
			to = latest
		}
	}
	loc := park.location()
	res := &Availability{AreaID: areaID, TimeZone: park.TimeZone, From: from.In(loc), To: to.In(loc), Free: []Window{}}
	if !from.Before(to) {
		return res, nil
	}
	hp := a.halfPad()
	rows, err := blockingFor(ctx, s.st.db, tree, areaID, us(from.Add(-hp)), us(to.Add(hp)))
	if err != nil {
		return nil, err
	}
	blocks := make([]schedule.Interval, len(rows))
	for i, r := range rows {
		blocks[i] = schedule.Interval{Start: fromUS(r.Lo), End: fromUS(r.Hi)}
	}
	// Rows are already widened by their own half pad; widening by ours
	// as well gives exactly the database's overlap rule.
	rules := a.rules
	rules.BufferBefore, rules.BufferAfter = hp, hp
	for _, iv := range schedule.Available(a.hours, rules, loc, blocks, from, to) {
		res.Free = append(res.Free, Window{Start: iv.Start.In(loc), End: iv.End.In(loc)})
	}
	return res, nil
}

// Availability is the answer to "when is this area free?". Times are in
// the park's zone, so a reader sees the wall-clock times of the park.
type Availability struct {
	AreaID   string    `json:"area_id"`
	TimeZone string    `json:"time_zone"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Free     []Window  `json:"free"`
}

// Window is a free half-open interval [Start, End).
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// --- booking requests ---

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
		return time.Time{}, sdk.InvalidField(field, "want an RFC 3339 time such as 2025-06-07T10:00:00+03:00")
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
		return nil, sdk.InvalidField("area_id", "no such area in this park")
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
		return nil, fmt.Errorf("area %s: invalid configuration: %w", a.ID, a.configErr)
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
	// Every request runs the same few statements: prepared, PostgreSQL parses and
	// plans each once per connection instead of on every request.
	if len(unit) == 1 && a.rules.MaxActivePerOrg == 0 && s.st.db.IsPostgres() {
		// One request with no per-organisation limit: one statement writes the
		// booking and its event together, two round trips fewer than the general
		// case. It still needs its transaction for the park's share lock, held from
		// the collision check to the commit, so that no approval commits between.
		if err := s.st.inTx(ctx, func(tx *sqlx.Tx) error {
			q := s.st.db.Preparer(tx)
			if err := sharePark(ctx, q, s.st.db.Dialect, park.ID); err != nil {
				return err
			}
			if err := s.checkUnitFits(ctx, q, park, tree, unit); err != nil {
				return err
			}
			ev, err := s.event(EventRequested, park, tree, unit[0], now)
			if err != nil {
				return err
			}
			return insertBookingWithEvent(ctx, q, unit[0], ev)
		}); err != nil {
			return nil, err
		}
	} else if err := s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		q := s.st.db.Preparer(tx)
		if err := sharePark(ctx, q, s.st.db.Dialect, park.ID); err != nil {
			return err
		}
		if a.rules.MaxActivePerOrg > 0 { // no limit, nothing to count
			// Concurrent requests of one organisation would each count the others'
			// bookings as not yet there. SQLite runs one writing transaction at a
			// time; on PostgreSQL they take turns on a lock for the area and
			// the organisation (or the person), held until commit.
			if s.st.db.IsPostgres() {
				if err := pgLockActive(ctx, tx, a.ID, cmp.Or(in.OrganisationID, "user:"+pr.UserID)); err != nil {
					return err
				}
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
			if err := s.queue(ctx, q, EventRequested, park, tree, b, now); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	s.kickOutbox()
	first := unit[0].view(now)
	first.Series = occurrences(unit, now)
	return first, nil
}

func (s *Service) checkFields(in *BookingInput, a *Area, park *Park) error {
	in.Title = strings.TrimSpace(in.Title)
	in.Contact.Name = strings.TrimSpace(in.Contact.Name)
	fieldErr := func(field, rule, msg string) error {
		return &sdk.Error{Code: sdk.CodeInvalid, Message: field + ": " + msg, Fields: map[string]string{field: msg, "rule": rule}}
	}
	switch {
	case in.Title == "" || utf8.RuneCountInString(in.Title) > maxTitle:
		return fieldErr("title", RuleTitle, fmt.Sprintf("required, at most %d characters", maxTitle))
	case utf8.RuneCountInString(in.Description) > maxText || utf8.RuneCountInString(in.AccessibilityNotes) > maxText:
		return fieldErr("description", RuleTitle, fmt.Sprintf("at most %d characters", maxText))
	case !slices.Contains(Categories, in.Category):
		return fieldErr("category", RuleCategory, "one of "+strings.Join(Categories, ", "))
	case in.ExpectedAttendance < 1:
		return fieldErr("expected_attendance", RuleAttendance, "must be at least 1")
	case in.ExpectedAttendance > a.Capacity:
		return fieldErr("expected_attendance", RuleCapacity, fmt.Sprintf("%s holds at most %d people", a.Name, a.Capacity))
	case in.RepeatWeeks < 0 || in.RepeatWeeks > maxSeriesRequests:
		return fieldErr("repeat_weeks", RuleSeriesWeeks, fmt.Sprintf("0 to %d", maxSeriesRequests))
	}
	for _, name := range sortedKeys(in.SupportItems) {
		q := in.SupportItems[name]
		owned, ok := park.SupportItems[name]
		switch {
		case q < 0:
			return fieldErr("support_items", RuleSupportItems, fmt.Sprintf("%s: quantity must not be negative", name))
		case q == 0:
			delete(in.SupportItems, name)
		case !ok:
			return fieldErr("support_items", RuleUnknownItem, fmt.Sprintf("%s: %s does not lend %q", name, park.Name, name))
		case q > owned:
			return fieldErr("support_items", RuleSupportItems, fmt.Sprintf("%s: %s owns %d, %d asked", name, park.Name, owned, q))
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
		return "", &sdk.Error{Code: sdk.CodeInvalid, Message: "organisation_id: no such organisation",
			Fields: map[string]string{"organisation_id": "no such organisation", "rule": RuleRepresentative}}
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
	rows, err := blockingFor(ctx, q, tree, b.AreaID, us(b.Start.Add(-hp)), us(b.End.Add(hp)))
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
	uses, err := approvedItemUse(ctx, q, park.ID, us(b.Start), us(b.End))
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
			Interval: schedule.Interval{Start: fromUS(u.StartUS), End: fromUS(u.EndUS)}, Items: items})
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

// ListFilter narrows a bookings list.
type ListFilter struct {
	Status string
	Limit  int
	Offset int
}

// ListBookings lists a park's bookings in start order: all of them for a
// manager (status=requested is the approval queue), otherwise those of
// the caller and the caller's organisations. Open requests that compete
// for the same place and time are marked contested.
func (s *Service) ListBookings(ctx context.Context, pr sdk.Principal, parkID string, f ListFilter) ([]*Booking, error) {
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if f.Status != "" && !slices.Contains([]string{StatusRequested, StatusApproved, StatusRejected, StatusCancelled}, f.Status) {
		return nil, sdk.InvalidField("status", "one of requested, approved, rejected, cancelled")
	}
	manager, err := s.can(ctx, pr, PermBookingApprove, parkDomain(park))
	if err != nil {
		return nil, err
	}
	lf := bookingFilter{ParkID: parkID, Status: f.Status, All: manager, RequesterID: pr.UserID, Limit: f.Limit, Offset: f.Offset}
	for _, m := range pr.Organisations {
		lf.OrgIDs = append(lf.OrgIDs, m.OrganisationID)
	}
	list, err := listBookings(ctx, s.st.db, lf)
	if err != nil {
		return nil, err
	}
	if err := s.markContested(ctx, parkID, list); err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]*Booking, len(list))
	for i, b := range list {
		out[i] = b.view(now)
	}
	return out, nil
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
	others, err := requestedBetween(ctx, s.st.db, parkID, us(lo.Add(-slack)), us(hi.Add(slack)))
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
				break
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

// --- decisions ---

// Approve approves a requested booking — with its whole series — and, in
// the same transaction, rejects every open request it collides with. The
// database refuses an overlap even if two nodes approve at once, so of
// many concurrent approvals of colliding requests exactly one succeeds;
// the others find their request rejected or the place taken.
func (s *Service) Approve(ctx context.Context, pr sdk.Principal, parkID, id string) (*Booking, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.requireManager(ctx, pr, park); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var unit, rejected []*Booking
	var tree areaTree
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockPark(ctx, tx, s.st.db.Dialect, parkID); err != nil {
			return err
		}
		b, err := getBooking(ctx, tx, parkID, id)
		if err != nil {
			return err
		}
		if unit, err = unitOf(ctx, tx, b); err != nil {
			return err
		}
		for _, u := range unit {
			if u.Status != StatusRequested {
				return sdk.RuleError(sdk.CodeConflict, RuleStatus, "Booking %s is %s; only requested bookings can be approved.", u.ID, u.view(now).Status)
			}
		}
		if tree, err = parkAreas(ctx, tx, parkID); err != nil {
			return err
		}
		if err := s.checkUnitFits(ctx, tx, park, tree, unit); err != nil {
			return err
		}
		for _, u := range unit {
			if err := setStatus(ctx, tx, u, StatusRequested, StatusApproved, "", pr.UserID, now); err != nil {
				return err
			}
			if err := insertOccupancy(ctx, tx, occupancyRows(tree, u)); err != nil {
				return err
			}
		}
		if rejected, err = s.rejectColliding(ctx, tx, park, tree, unit, pr.UserID, now); err != nil {
			return err
		}
		if err := s.queueAll(ctx, tx, EventApproved, park, tree, unit, now); err != nil {
			return err
		}
		return s.queueAll(ctx, tx, EventRejected, park, tree, rejected, now)
	})
	if err != nil {
		return nil, err
	}
	s.kickOutbox()
	s.audit(ctx, pr, "parks.booking.approve", parkDomain(park), id, map[string]any{"rejected": len(rejected)})
	out := unit[0].view(now)
	for _, u := range unit {
		if u.ID == id {
			out = u.view(now)
		}
	}
	out.Series = occurrences(unit, now)
	return out, nil
}

// rejectColliding rejects the open requests that collide with the newly
// approved (or closed) unit, whole series at a time, giving the reason.
func (s *Service) rejectColliding(ctx context.Context, tx *sqlx.Tx, park *Park, tree areaTree, unit []*Booking, actor string, now time.Time) ([]*Booking, error) {
	lo, hi := unit[0].Start, unit[0].End
	for _, u := range unit {
		lo, hi = minTime(lo, u.Start), maxTime(hi, u.End)
	}
	const slack = 24 * time.Hour
	cands, err := requestedBetween(ctx, tx, park.ID, us(lo.Add(-slack)), us(hi.Add(slack)))
	if err != nil {
		return nil, err
	}
	loc := park.location()
	var rejected []*Booking
	done := map[string]bool{}
	for _, c := range cands {
		if done[c.ID] {
			continue
		}
		var hit *Booking
		for _, u := range unit {
			if c.ID != u.ID && collide(tree, c, u) {
				hit = u
				break
			}
		}
		if hit == nil {
			continue
		}
		what := "the approved booking “" + hit.Title + "”"
		if hit.Kind == KindClosure {
			what = "a closure (“" + hit.Title + "”)"
		}
		reason := fmt.Sprintf("Collides with %s in %s on %s.", what, tree[hit.AreaID].Name,
			hit.Start.In(loc).Format("2 January 2006 15:04"))
		cu, err := unitOf(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		for _, x := range cu {
			if done[x.ID] || x.Status != StatusRequested {
				continue
			}
			done[x.ID] = true
			if err := setStatus(ctx, tx, x, StatusRequested, StatusRejected, reason, actor, now); err != nil {
				return nil, err
			}
			rejected = append(rejected, x)
		}
	}
	return rejected, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > maxText {
		return "", &sdk.Error{Code: sdk.CodeInvalid, Message: "reason: required",
			Fields: map[string]string{"reason": "required", "rule": RuleReasonRequired}}
	}
	return reason, nil
}

// Reject rejects a requested booking (with its whole series); a reason is
// required so the group learns why.
func (s *Service) Reject(ctx context.Context, pr sdk.Principal, parkID, id, reason string) (*Booking, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.requireManager(ctx, pr, park); err != nil {
		return nil, err
	}
	if reason, err = checkReason(reason); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var unit []*Booking
	var tree areaTree
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockPark(ctx, tx, s.st.db.Dialect, parkID); err != nil {
			return err
		}
		b, err := getBooking(ctx, tx, parkID, id)
		if err != nil {
			return err
		}
		if unit, err = unitOf(ctx, tx, b); err != nil {
			return err
		}
		for _, u := range unit {
			if u.Status != StatusRequested {
				return sdk.RuleError(sdk.CodeConflict, RuleStatus, "Booking %s is %s; only requested bookings can be rejected.", u.ID, u.view(now).Status)
			}
		}
		for _, u := range unit {
			if err := setStatus(ctx, tx, u, StatusRequested, StatusRejected, reason, pr.UserID, now); err != nil {
				return err
			}
		}
		if tree, err = parkAreas(ctx, tx, parkID); err != nil {
			return err
		}
		return s.queueAll(ctx, tx, EventRejected, park, tree, unit, now)
	})
	if err != nil {
		return nil, err
	}
	s.kickOutbox()
	s.audit(ctx, pr, "parks.booking.reject", parkDomain(park), id, map[string]any{"reason": reason})
	return pickView(unit, id, now), nil
}

func pickView(unit []*Booking, id string, now time.Time) *Booking {
	out := unit[0]
	for _, u := range unit {
		if u.ID == id {
			out = u
		}
	}
	v := out.view(now)
	v.Series = occurrences(unit, now)
	return v
}

// Cancel cancels an approved booking or withdraws a request, with its
// whole series (dates already over stay as they were). The group that
// asked or a manager may cancel; a reason is required. The place becomes
// free at once and the public calendar shows the event as cancelled.
func (s *Service) Cancel(ctx context.Context, pr sdk.Principal, parkID, id, reason string) (*Booking, error) {
	if !pr.Authenticated() {
		return nil, sdk.Errorf(sdk.CodeUnauthenticated, "Sign in first.")
	}
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if reason, err = checkReason(reason); err != nil {
		return nil, err
	}
	b, err := getBooking(ctx, s.st.db, parkID, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayCancel(ctx, pr, park, b); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var unit, cancelled []*Booking
	var tree areaTree
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockPark(ctx, tx, s.st.db.Dialect, parkID); err != nil {
			return err
		}
		b, err := getBooking(ctx, tx, parkID, id)
		if err != nil {
			return err
		}
		if unit, err = unitOf(ctx, tx, b); err != nil {
			return err
		}
		for _, u := range unit {
			if u.Status != StatusRequested && u.Status != StatusApproved {
				continue
			}
			if !now.Before(u.End) {
				continue // over: completed, not cancellable
			}
			if err := setStatus(ctx, tx, u, u.Status, StatusCancelled, reason, pr.UserID, now); err != nil {
				return err
			}
			if err := deleteOccupancy(ctx, tx, u.ID); err != nil {
				return err
			}
			cancelled = append(cancelled, u)
		}
		if len(cancelled) == 0 {
			if !now.Before(b.End) && b.Status == StatusApproved {
				return sdk.RuleError(sdk.CodeConflict, RuleEnded, "The booking is over and cannot be cancelled.")
			}
			return sdk.RuleError(sdk.CodeConflict, RuleStatus, "Booking %s is %s; only requested or approved bookings can be cancelled.", b.ID, b.view(now).Status)
		}
		if tree, err = parkAreas(ctx, tx, parkID); err != nil {
			return err
		}
		for _, u := range cancelled {
			if u.Kind == KindEvent {
				if err := s.queue(ctx, tx, EventCancelled, park, tree, u, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.kickOutbox()
	s.audit(ctx, pr, "parks.booking.cancel", parkDomain(park), id, map[string]any{"reason": reason, "dates": len(cancelled)})
	return pickView(unit, id, now), nil
}

func (s *Service) mayCancel(ctx context.Context, pr sdk.Principal, park *Park, b *Booking) error {
	if b.Kind == KindEvent {
		if b.RequesterID != "" && b.RequesterID == pr.UserID {
			return nil
		}
		if b.OrganisationID != "" && slices.ContainsFunc(pr.Organisations, func(m sdk.OrgMembership) bool {
			return m.OrganisationID == b.OrganisationID && m.Role == "representative"
		}) {
			return nil
		}
	}
	return s.requireManager(ctx, pr, park)
}

// ClosureInput closes an area for maintenance or a city event.
type ClosureInput struct {
	AreaID string `json:"area_id" max:"64"`
	Start  string `json:"start" max:"64"`
	End    string `json:"end" max:"64"`
	Title  string `json:"title" max:"200"`
}

// CreateClosure enters a closure: a blocking booking that starts approved
// and needs none of the booking rules. It is refused where it would
// overlap an approved booking (cancel that first, with a reason the group
// will see); open requests it collides with are rejected.
func (s *Service) CreateClosure(ctx context.Context, pr sdk.Principal, parkID string, in ClosureInput) (*Booking, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can close areas."); err != nil {
		return nil, err
	}
	start, err := parseTime("start", in.Start)
	if err != nil {
		return nil, err
	}
	end, err := parseTime("end", in.End)
	if err != nil {
		return nil, err
	}
	if !start.Before(end) {
		return nil, sdk.RuleError(sdk.CodeInvalid, schedule.RuleEndBeforeStart, "The closure must end after it starts.")
	}
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" || utf8.RuneCountInString(in.Title) > maxTitle {
		return nil, sdk.InvalidField("title", fmt.Sprintf("required, at most %d characters", maxTitle))
	}
	now := s.now().UTC()
	b := &Booking{ID: newID(), ParkID: parkID, AreaID: in.AreaID, Kind: KindClosure, Status: StatusApproved,
		RequesterID: pr.UserID, Title: in.Title, Category: "other", Start: start, End: end,
		SupportItems: map[string]int{}, CreatedAt: now, UpdatedAt: now, decidedBy: pr.UserID, wasApproved: true}
	var tree areaTree
	var rejected []*Booking
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockPark(ctx, tx, s.st.db.Dialect, parkID); err != nil {
			return err
		}
		if tree, err = parkAreas(ctx, tx, parkID); err != nil {
			return err
		}
		if tree[in.AreaID] == nil {
			return sdk.InvalidField("area_id", "no such area in this park")
		}
		clash, err := clashes(ctx, tx, tree, b)
		if err != nil {
			return err
		}
		if len(clash) > 0 {
			return sdk.RuleError(sdk.CodeConflict, RuleClosureOverlap, "An approved booking or closure overlaps; cancel it first.")
		}
		if err := insertBooking(ctx, tx, b); err != nil {
			return err
		}
		if err := insertOccupancy(ctx, tx, occupancyRows(tree, b)); err != nil {
			return err
		}
		if rejected, err = s.rejectColliding(ctx, tx, park, tree, []*Booking{b}, pr.UserID, now); err != nil {
			return err
		}
		return s.queueAll(ctx, tx, EventRejected, park, tree, rejected, now)
	})
	if err != nil {
		return nil, err
	}
	s.kickOutbox()
	s.audit(ctx, pr, "parks.closure.create", parkDomain(park), b.ID, map[string]any{"area_id": in.AreaID, "title": in.Title})
	return b.view(now), nil
}

// --- personal data ---

// EraseUser removes a deleted person's personal data from bookings while
// the bookings themselves, and so the public calendar, stay.
func (s *Service) EraseUser(ctx context.Context, eventID, userID string) error {
	if userID == "" {
		return nil
	}
	return s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		fresh, err := markProcessed(ctx, tx, eventID, s.now())
		if err != nil || !fresh {
			return err
		}
		_, err = eraseUser(ctx, tx, userID, s.now())
		return err
	})
}

// --- events and audit ---

// BookingEvent is the payload of every parks.booking.* event. Other
// plugins (volunteers) read it; fields are only ever added.
type BookingEvent struct {
	BookingID          string    `json:"booking_id"`
	SeriesID           string    `json:"series_id"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason"`
	ParkID             string    `json:"park_id"`
	ParkName           string    `json:"park_name"`
	NeighbourhoodID    string    `json:"neighbourhood_id"`
	AreaID             string    `json:"area_id"`
	AreaName           string    `json:"area_name"`
	OrganisationID     string    `json:"organisation_id"`
	OrganisationName   string    `json:"organisation_name"`
	RequesterID        string    `json:"requester_id"`
	Title              string    `json:"title"`
	Category           string    `json:"category"`
	Start              time.Time `json:"start"`
	End                time.Time `json:"end"`
	TimeZone           string    `json:"time_zone"`
	Public             bool      `json:"public"`
	ExpectedAttendance int       `json:"expected_attendance"`
	VolunteersNeeded   bool      `json:"volunteers_needed"`
}

// queue writes an event to the plugin's outbox in the transaction that
// makes it true, so it is published exactly when the change commits —
// never lost to a failed Publish, never sent for a rolled-back change. The
// flusher hands it to the host after commit (outbox.go).
func (s *Service) queue(ctx context.Context, q queryer, typ string, park *Park, tree areaTree, b *Booking, now time.Time) error {
	ev, err := s.event(typ, park, tree, b, now)
	if err != nil {
		return err
	}
	return enqueue(ctx, q, ev)
}

// event is the outbox row announcing b's new state.
func (s *Service) event(typ string, park *Park, tree areaTree, b *Booking, now time.Time) (outboxRow, error) {
	areaName := ""
	if a := tree[b.AreaID]; a != nil {
		areaName = a.Name
	}
	payload, err := json.Marshal(BookingEvent{
		BookingID: b.ID, SeriesID: b.SeriesID, Status: b.Status, Reason: b.Reason,
		ParkID: park.ID, ParkName: park.Name, NeighbourhoodID: park.NeighbourhoodID,
		AreaID: b.AreaID, AreaName: areaName, OrganisationID: b.OrganisationID, OrganisationName: b.OrganisationName,
		RequesterID: b.RequesterID, Title: b.Title, Category: b.Category, Start: b.Start, End: b.End,
		TimeZone: park.TimeZone, Public: b.Public, ExpectedAttendance: b.ExpectedAttendance, VolunteersNeeded: b.VolunteersNeeded,
	})
	if err != nil {
		return outboxRow{}, fmt.Errorf("event %s: %w", typ, err)
	}
	return outboxRow{ID: newID(), Type: typ, Payload: string(payload), OccurredAt: us(now)}, nil
}

func (s *Service) queueAll(ctx context.Context, tx *sqlx.Tx, typ string, park *Park, tree areaTree, list []*Booking, now time.Time) error {
	for _, b := range list {
		if err := s.queue(ctx, tx, typ, park, tree, b, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) audit(ctx context.Context, pr sdk.Principal, action, domain, target string, detail map[string]any) {
	if err := s.host.Audit(ctx, sdk.AuditEntry{ActorID: pr.UserID, Action: action, Domain: domain, Target: target, Detail: detail}); err != nil {
		s.log.ErrorContext(ctx, "audit failed", "action", action, "target", target, "error", err)
	}
}
