package parks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// storage holds the plugin's SQL. The same queries run on both databases;
// what only one dialect can say lives behind dialectSQL, in
// storage_sqlite.go and storage_postgres.go, so the service never asks
// which database it runs on. Exported service methods own transactions;
// these helpers take whatever they run on.
type storage struct {
	db *store.DB
	dialectSQL

	mu    sync.Mutex
	guard string // cached result of overlapGuard
}

// dialectSQL is the SQL only one database can say.
type dialectSQL interface {
	// detectGuard names the guard that keeps approved bookings apart.
	detectGuard(ctx context.Context, q queryer) (string, error)
	// lockPark serialises the approval workflow of one park until the
	// transaction ends.
	lockPark(ctx context.Context, q queryer, parkID string) error
	// sharePark makes a booking request wait for an approval of its park in
	// progress, and an approval for the requests in progress.
	sharePark(ctx context.Context, q queryer, parkID string) error
	// lockActive makes the requests of one organisation (or person, who) for
	// one area take turns, so each counts the others' bookings.
	lockActive(ctx context.Context, q queryer, areaID, who string) error
	// isOverlapViolation reports whether err is the database refusing an
	// overlapping occupancy row.
	isOverlapViolation(err error) bool
}

func newStorage(db *store.DB) *storage {
	if db.IsPostgres() {
		return &storage{db: db, dialectSQL: postgresSQL{}}
	}
	return &storage{db: db, dialectSQL: sqliteSQL{}}
}

// prepared runs the statements of tx (or, when nil, of the pool) as
// prepared statements: the request path runs the same few on every call,
// and PostgreSQL then parses and plans each once per connection.
func (s *storage) prepared(tx *store.Tx) queryer {
	if tx == nil {
		return s.db.Preparer(nil)
	}
	return s.db.Preparer(tx.Tx)
}

// Overlap guards: how the database keeps approved bookings apart.
const (
	// GuardExclusion: a PostgreSQL exclusion constraint (btree_gist) on
	// booking_occupancy.
	GuardExclusion = "exclusion_constraint"
	// GuardParkLock: PostgreSQL without btree_gist; a per-park row lock
	// (SELECT … FOR UPDATE) and an overlap check in the same transaction.
	GuardParkLock = "park_row_lock"
	// GuardSingleWriter: SQLite; every transaction takes the write lock at
	// BEGIN (_txlock=immediate), so the overlap check and the insert can
	// not interleave with another writer.
	GuardSingleWriter = "sqlite_single_writer"
)

// queryer is a *store.DB, a *store.Tx or a prepared-statement runner of either.
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// overlapGuard reports, once per process, which guard protects this store.
// It must run after migrations.
func (s *storage) overlapGuard(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guard != "" {
		return s.guard, nil
	}
	g, err := s.detectGuard(ctx, s.db)
	if err != nil {
		return "", err
	}
	s.guard = g
	return g, nil
}

// --- parks ---

type parkRow struct {
	ID              string          `db:"id"`
	Name            string          `db:"name"`
	NeighbourhoodID string          `db:"neighbourhood_id"`
	TimeZone        string          `db:"time_zone"`
	SupportItems    string          `db:"support_items"`
	CreatedAt       int64           `db:"created_at"`
	UpdatedAt       int64           `db:"updated_at"`
	Description     string          `db:"description"`
	StreetAddress   string          `db:"street_address"`
	PostalCode      string          `db:"postal_code"`
	Locality        string          `db:"locality"`
	Latitude        sql.NullFloat64 `db:"latitude"`
	Longitude       sql.NullFloat64 `db:"longitude"`
	Accessibility   string          `db:"accessibility"`
	RulesText       string          `db:"rules_text"`
	PlanUploadID    string          `db:"plan_upload_id"`
	PlanAlt         string          `db:"plan_alt"`
}

func (r parkRow) park() (*Park, error) {
	items, err := decodeItems(r.SupportItems)
	if err != nil {
		return nil, err
	}
	p := &Park{ID: r.ID, Name: r.Name, NeighbourhoodID: r.NeighbourhoodID, TimeZone: r.TimeZone,
		SupportItems: items, CreatedAt: store.FromMicros(r.CreatedAt), UpdatedAt: store.FromMicros(r.UpdatedAt),
		ParkDetails: ParkDetails{Description: r.Description, Accessibility: r.Accessibility, Rules: r.RulesText,
			Address: Address{StreetAddress: r.StreetAddress, PostalCode: r.PostalCode, Locality: r.Locality}}}
	if r.Latitude.Valid && r.Longitude.Valid {
		p.Geo = &Geo{Latitude: r.Latitude.Float64, Longitude: r.Longitude.Float64}
	}
	if r.PlanUploadID != "" {
		p.Plan = &Plan{UploadID: r.PlanUploadID, URL: sdk.UploadURL(r.PlanUploadID), Alt: r.PlanAlt}
	}
	return p, nil
}

// parkDetailArgs are the values of the columns a park's details are kept in, in the
// order of parkDetailCols.
func parkDetailArgs(p *Park) []any {
	var lat, lon sql.NullFloat64
	if p.Geo != nil {
		lat, lon = sql.NullFloat64{Float64: p.Geo.Latitude, Valid: true}, sql.NullFloat64{Float64: p.Geo.Longitude, Valid: true}
	}
	return []any{p.Description, p.Address.StreetAddress, p.Address.PostalCode, p.Address.Locality, lat, lon, p.Accessibility, p.Rules}
}

const parkDetailCols = "description, street_address, postal_code, locality, latitude, longitude, accessibility, rules_text"

func insertPark(ctx context.Context, q queryer, p *Park) error {
	args := append([]any{p.ID, p.Name, p.NeighbourhoodID, p.TimeZone, encodeItems(p.SupportItems),
		store.Micros(p.CreatedAt), store.Micros(p.UpdatedAt)}, parkDetailArgs(p)...)
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO parks
		(id, name, neighbourhood_id, time_zone, support_items, created_at, updated_at, `+parkDetailCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), args...)
	if err != nil {
		return fmt.Errorf("insert park: %w", err)
	}
	return nil
}

func getPark(ctx context.Context, q queryer, id string) (*Park, error) {
	var r parkRow
	err := q.GetContext(ctx, &r, q.Rebind(`SELECT * FROM parks WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("park", id)
	} else if err != nil {
		return nil, fmt.Errorf("get park %s: %w", id, err)
	}
	return r.park()
}

// listParks returns a page of parks in name order (all of them with a
// zero page), optionally of one neighbourhood.
func listParks(ctx context.Context, q queryer, neighbourhoodID string, page sdk.ListQuery) ([]*Park, error) {
	where, args, err := after(page, "ss", "name", "id")
	if err != nil {
		return nil, err
	}
	if neighbourhoodID != "" {
		where += " AND neighbourhood_id = ?"
		args = append(args, neighbourhoodID)
	}
	var rows []parkRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT * FROM parks WHERE `+where+` ORDER BY name, id`+limit(page)), args...); err != nil {
		return nil, fmt.Errorf("list parks: %w", err)
	}
	out := make([]*Park, 0, len(rows))
	for _, r := range rows {
		p, err := r.park()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// after is the keyset condition of a list page (sdk.ListQuery.After) over
// cols. It first checks that the cursor's values are of the columns' kinds,
// one letter each — 's' text, 'i' integer — so that a cursor of another list
// is answered 400 rather than reaching the database as a type error.
func after(page sdk.ListQuery, kinds string, cols ...string) (string, []any, error) {
	if err := checkKey(page, kinds); err != nil {
		return "", nil, err
	}
	return page.After(cols...)
}

func checkKey(page sdk.ListQuery, kinds string) error {
	if page.Key == nil {
		return nil
	}
	ok := len(page.Key) == len(kinds)
	for i := 0; ok && i < len(kinds); i++ {
		switch page.Key[i].(type) {
		case string:
			ok = kinds[i] == 's'
		case int64:
			ok = kinds[i] == 'i'
		default:
			ok = false
		}
	}
	if !ok {
		e := sdk.Malformed("cursor: is not a cursor this list gave; start again without it")
		e.Fields = map[string]string{"cursor": "is not a cursor this list gave"}
		return e
	}
	return nil
}

// limit is the LIMIT clause of a page: one row more than it shows, to know
// whether another follows; none for a zero page (the whole list).
func limit(page sdk.ListQuery) string {
	if page.Limit == 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(page.Fetch())
}

// updatePark writes a park's name and details.
func updatePark(ctx context.Context, q queryer, p *Park) error {
	args := append([]any{p.Name, store.Micros(p.UpdatedAt)}, parkDetailArgs(p)...)
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE parks SET name = ?, updated_at = ?,
		description = ?, street_address = ?, postal_code = ?, locality = ?, latitude = ?, longitude = ?,
		accessibility = ?, rules_text = ? WHERE id = ?`), append(args, p.ID)...)
	if err != nil {
		return fmt.Errorf("update park %s: %w", p.ID, err)
	}
	return nil
}

// updateParkPlan sets (or, with an empty id, removes) a park's plan.
func updateParkPlan(ctx context.Context, q queryer, id, uploadID, alt string, now time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE parks SET plan_upload_id = ?, plan_alt = ?, updated_at = ? WHERE id = ?`),
		uploadID, alt, store.Micros(now), id)
	if err != nil {
		return fmt.Errorf("update park %s plan: %w", id, err)
	}
	return nil
}

func updateParkItems(ctx context.Context, q queryer, id string, items map[string]int, now time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE parks SET support_items = ?, updated_at = ? WHERE id = ?`),
		encodeItems(items), store.Micros(now), id)
	if err != nil {
		return fmt.Errorf("update park %s items: %w", id, err)
	}
	return nil
}

// --- areas ---

type areaRow struct {
	ID           string         `db:"id"`
	ParkID       string         `db:"park_id"`
	ParentID     sql.NullString `db:"parent_id"`
	Name         string         `db:"name"`
	Capacity     int            `db:"capacity"`
	OpeningHours string         `db:"opening_hours"`
	Rules        string         `db:"rules"`
	CreatedAt    int64          `db:"created_at"`
	Description  string         `db:"description"`
	Access       string         `db:"accessibility"`
	UpdatedAt    int64          `db:"updated_at"`
}

func (r areaRow) area() (*Area, error) {
	a := &Area{ID: r.ID, ParkID: r.ParkID, ParentID: r.ParentID.String, Name: r.Name, Capacity: r.Capacity,
		Description: r.Description, Accessibility: r.Access,
		CreatedAt: store.FromMicros(r.CreatedAt), UpdatedAt: store.FromMicros(r.UpdatedAt)}
	if err := jsonUnmarshal(r.OpeningHours, &a.OpeningHours); err != nil {
		return nil, fmt.Errorf("area %s hours: %w", r.ID, err)
	}
	if err := jsonUnmarshal(r.Rules, &a.Rules); err != nil {
		return nil, fmt.Errorf("area %s rules: %w", r.ID, err)
	}
	var err error
	if a.hours, err = a.OpeningHours.toSchedule(); err != nil {
		return nil, fmt.Errorf("area %s hours: %w", r.ID, err)
	}
	a.rules = a.Rules.toSchedule()
	return a, nil
}

// inherit gives every area of the tree its parent's opening hours and rules
// unless it narrows them: it is open only when every ancestor is, and keeps
// the narrowest of each rule (schedule.Rules.Narrow). Then it checks each
// area's configuration — when it is loaded rather than on every request, and
// against the effective rules, so a child whose own hours are off its
// parent's slot grid is refused as misconfigured rather than silently.
func (t areaTree) inherit() {
	own := make(map[string]schedule.OpeningHours, len(t))
	ownRules := make(map[string]schedule.Rules, len(t))
	for id, a := range t {
		// From the documents, so that a tree can inherit again after an edit.
		a.configErr = nil
		h, err := a.OpeningHours.toSchedule()
		if err != nil {
			a.configErr = err
			continue
		}
		own[id], ownRules[id] = h, a.Rules.toSchedule()
	}
	for id, a := range t {
		if a.configErr != nil {
			continue
		}
		a.hours = schedule.OpeningHours{Periods: own[id].Periods}
		for _, anc := range t.ancestors(id) {
			a.hours.Within = append(a.hours.Within, own[anc])
		}
		a.rules = ownRules[id]
		for _, anc := range t.ancestors(id) {
			a.rules = a.rules.Narrow(ownRules[anc])
		}
		a.EffectiveRules = rulesDoc(a.rules)
		a.configErr = schedule.ValidateConfig(a.hours, a.rules)
	}
}

func insertArea(ctx context.Context, q queryer, a *Area) error {
	parent := sql.NullString{String: a.ParentID, Valid: a.ParentID != ""}
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO areas
		(id, park_id, parent_id, name, capacity, opening_hours, rules, created_at, description, accessibility, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		a.ID, a.ParkID, parent, a.Name, a.Capacity, jsonString(a.OpeningHours), jsonString(a.Rules), store.Micros(a.CreatedAt),
		a.Description, a.Accessibility, store.Micros(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert area: %w", err)
	}
	return nil
}

// updateArea writes what an edit may change: everything but the park, the parent
// and the creation time.
func updateArea(ctx context.Context, q queryer, a *Area) error {
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE areas SET name = ?, capacity = ?, opening_hours = ?, rules = ?,
		description = ?, accessibility = ?, updated_at = ? WHERE id = ? AND park_id = ?`),
		a.Name, a.Capacity, jsonString(a.OpeningHours), jsonString(a.Rules), a.Description, a.Accessibility,
		store.Micros(a.UpdatedAt), a.ID, a.ParkID)
	if err != nil {
		return fmt.Errorf("update area %s: %w", a.ID, err)
	}
	return nil
}

// parkAreas loads every area of a park; parks have tens of areas, and the
// tree is needed whole to find ancestors and descendants.
func parkAreas(ctx context.Context, q queryer, parkID string) (areaTree, error) {
	var rows []areaRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT * FROM areas WHERE park_id = ? ORDER BY created_at, id`), parkID); err != nil {
		return nil, fmt.Errorf("list areas of park %s: %w", parkID, err)
	}
	t := areaTree{}
	for _, r := range rows {
		a, err := r.area()
		if err != nil {
			return nil, err
		}
		t[a.ID] = a
	}
	t.inherit()
	return t, nil
}

// areaTree is a park's areas by ID.
type areaTree map[string]*Area

// ancestors returns the IDs of a's ancestors, nearest first.
func (t areaTree) ancestors(id string) []string {
	var out []string
	for a := t[id]; a != nil && a.ParentID != ""; a = t[a.ParentID] {
		out = append(out, a.ParentID)
		if len(out) > len(t) { // a cycle cannot be created, but never loop
			break
		}
	}
	return out
}

// related reports whether bookings of a and b can clash: the same area,
// or one an ancestor of the other.
func (t areaTree) related(a, b string) bool {
	if a == b {
		return true
	}
	for _, x := range t.ancestors(a) {
		if x == b {
			return true
		}
	}
	for _, x := range t.ancestors(b) {
		if x == a {
			return true
		}
	}
	return false
}

// --- bookings ---

type bookingRow struct {
	ID                 string `db:"id"`
	ParkID             string `db:"park_id"`
	AreaID             string `db:"area_id"`
	SeriesID           string `db:"series_id"`
	Kind               string `db:"kind"`
	Status             string `db:"status"`
	OrganisationID     string `db:"organisation_id"`
	OrganisationName   string `db:"organisation_name"`
	RequesterID        string `db:"requester_id"`
	Title              string `db:"title"`
	Description        string `db:"description"`
	Category           string `db:"category"`
	ExpectedAttendance int    `db:"expected_attendance"`
	Public             bool   `db:"public"`
	SupportItems       string `db:"support_items"`
	AccessibilityNotes string `db:"accessibility_notes"`
	VolunteersNeeded   bool   `db:"volunteers_needed"`
	ContactName        string `db:"contact_name"`
	ContactEmail       string `db:"contact_email"`
	ContactPhone       string `db:"contact_phone"`
	StartUS            int64  `db:"start_us"`
	EndUS              int64  `db:"end_us"`
	Reason             string `db:"reason"`
	DecidedBy          string `db:"decided_by"`
	WasApproved        bool   `db:"was_approved"`
	Sequence           int    `db:"sequence"`
	CreatedAt          int64  `db:"created_at"`
	UpdatedAt          int64  `db:"updated_at"`
}

const bookingCols = `id, park_id, area_id, series_id, kind, status, organisation_id, organisation_name,
	requester_id, title, description, category, expected_attendance, public, support_items,
	accessibility_notes, volunteers_needed, contact_name, contact_email, contact_phone,
	start_us, end_us, reason, decided_by, was_approved, sequence, created_at, updated_at`

func (r bookingRow) booking() (*Booking, error) {
	items, err := decodeItems(r.SupportItems)
	if err != nil {
		return nil, err
	}
	return &Booking{
		ID: r.ID, ParkID: r.ParkID, AreaID: r.AreaID, SeriesID: r.SeriesID, Kind: r.Kind, Status: r.Status,
		OrganisationID: r.OrganisationID, OrganisationName: r.OrganisationName, RequesterID: r.RequesterID,
		Title: r.Title, Description: r.Description, Category: r.Category,
		ExpectedAttendance: r.ExpectedAttendance, Public: r.Public, SupportItems: items,
		AccessibilityNotes: r.AccessibilityNotes, VolunteersNeeded: r.VolunteersNeeded,
		Contact: Contact{Name: r.ContactName, Email: r.ContactEmail, Phone: r.ContactPhone},
		Start:   store.FromMicros(r.StartUS), End: store.FromMicros(r.EndUS), Reason: r.Reason, Sequence: r.Sequence,
		CreatedAt: store.FromMicros(r.CreatedAt), UpdatedAt: store.FromMicros(r.UpdatedAt),
		decidedBy: r.DecidedBy, wasApproved: r.WasApproved,
	}, nil
}

func scanBookings(rows []bookingRow) ([]*Booking, error) {
	out := make([]*Booking, 0, len(rows))
	for _, r := range rows {
		b, err := r.booking()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func insertBooking(ctx context.Context, q queryer, b *Booking) error {
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO bookings (`+bookingCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		bookingArgs(b)...)
	if err != nil {
		return fmt.Errorf("insert booking: %w", err)
	}
	return nil
}

// bookingArgs are b's values in the order of bookingCols.
func bookingArgs(b *Booking) []any {
	return []any{b.ID, b.ParkID, b.AreaID, b.SeriesID, b.Kind, b.Status, b.OrganisationID, b.OrganisationName,
		b.RequesterID, b.Title, b.Description, b.Category, b.ExpectedAttendance, b.Public, encodeItems(b.SupportItems),
		b.AccessibilityNotes, b.VolunteersNeeded, b.Contact.Name, b.Contact.Email, b.Contact.Phone,
		store.Micros(b.Start), store.Micros(b.End), b.Reason, b.decidedBy, b.wasApproved, b.Sequence, store.Micros(b.CreatedAt), store.Micros(b.UpdatedAt)}
}

func getBooking(ctx context.Context, q queryer, parkID, id string) (*Booking, error) {
	var r bookingRow
	err := q.GetContext(ctx, &r, q.Rebind(`SELECT `+bookingCols+` FROM bookings WHERE id = ? AND park_id = ?`), id, parkID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("booking", id)
	} else if err != nil {
		return nil, fmt.Errorf("get booking %s: %w", id, err)
	}
	return r.booking()
}

// unitOf returns the bookings decided together with b: its whole series,
// in start order, or b alone.
func unitOf(ctx context.Context, q queryer, b *Booking) ([]*Booking, error) {
	if b.SeriesID == "" {
		return []*Booking{b}, nil
	}
	var rows []bookingRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+bookingCols+` FROM bookings
		WHERE series_id = ? ORDER BY start_us, id`), b.SeriesID); err != nil {
		return nil, fmt.Errorf("series %s: %w", b.SeriesID, err)
	}
	return scanBookings(rows)
}

// bookingFilter selects bookings of a park for a list.
type bookingFilter struct {
	ParkID string
	Status string
	// Visible restricts the list to bookings of these organisations or
	// requested by RequesterID; All lifts the restriction (managers).
	All         bool
	OrgIDs      []string
	RequesterID string
	Page        sdk.ListQuery
}

func listBookings(ctx context.Context, q queryer, f bookingFilter) ([]*Booking, error) {
	keyset, args, err := after(f.Page, "is", "start_us", "id")
	if err != nil {
		return nil, err
	}
	where := []string{keyset, "park_id = ?"}
	args = append(args, f.ParkID)
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if !f.All {
		cond := "requester_id = ?"
		args = append(args, f.RequesterID)
		if len(f.OrgIDs) > 0 {
			cond += " OR organisation_id IN (?" + strings.Repeat(", ?", len(f.OrgIDs)-1) + ")"
			for _, id := range f.OrgIDs {
				args = append(args, id)
			}
		}
		where = append(where, "("+cond+")")
	}
	var rows []bookingRow
	// Start order is the approval queue's order: what happens first is
	// decided first.
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+bookingCols+` FROM bookings
		WHERE `+strings.Join(where, " AND ")+` ORDER BY start_us, id`+limit(f.Page)), args...); err != nil {
		return nil, fmt.Errorf("list bookings: %w", err)
	}
	return scanBookings(rows)
}

// requestedBetween returns the open requests of a park that overlap
// [lo, hi).
func requestedBetween(ctx context.Context, q queryer, parkID string, lo, hi int64) ([]*Booking, error) {
	var rows []bookingRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+bookingCols+` FROM bookings
		WHERE park_id = ? AND status = ? AND start_us < ? AND end_us > ? ORDER BY start_us, id`),
		parkID, StatusRequested, hi, lo); err != nil {
		return nil, fmt.Errorf("requested bookings: %w", err)
	}
	return scanBookings(rows)
}

// setStatus moves a booking from one status to another; it fails with a
// conflict when the booking is no longer in from, which is what makes two
// managers deciding at once safe.
func setStatus(ctx context.Context, q queryer, b *Booking, from, to, reason, actor string, now time.Time) error {
	approved := to == StatusApproved
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE bookings
		SET status = ?, reason = ?, decided_by = ?, was_approved = (was_approved OR ?),
		    sequence = sequence + 1, updated_at = ?
		WHERE id = ? AND status = ?`),
		to, reason, actor, approved, store.Micros(now), b.ID, from)
	if err != nil {
		return fmt.Errorf("set booking %s %s: %w", b.ID, to, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set booking %s %s: %w", b.ID, to, err)
	} else if n != 1 {
		return sdk.RuleError(sdk.CodeConflict, RuleStatus, "Booking %s is no longer %s.", b.ID, from)
	}
	b.Status, b.Reason, b.Sequence, b.UpdatedAt = to, reason, b.Sequence+1, now
	b.wasApproved = b.wasApproved || approved
	return nil
}

// countActive counts an organisation's (or, for individuals, a person's)
// bookings of an area that are requested or approved and not yet over.
func countActive(ctx context.Context, q queryer, areaID, orgID, requesterID string, now time.Time) (int, error) {
	col, who := "organisation_id", orgID
	if orgID == "" {
		col, who = "requester_id", requesterID
	}
	var n int
	err := q.GetContext(ctx, &n, q.Rebind(`SELECT COUNT(*) FROM bookings
		WHERE area_id = ? AND `+col+` = ? AND status IN (?, ?) AND end_us > ?`),
		areaID, who, StatusRequested, StatusApproved, store.Micros(now))
	if err != nil {
		return 0, fmt.Errorf("count active bookings: %w", err)
	}
	return n, nil
}

// --- occupancy ---

// occupancy is one row of booking_occupancy.
type occupancy struct {
	BookingID string `db:"booking_id"`
	AreaID    string `db:"area_id"`
	Self      int    `db:"self"`
	Lo        int64  `db:"lo"`
	Hi        int64  `db:"hi"`
}

// occupancyRows are the rows an approved booking of area holds.
func occupancyRows(t areaTree, b *Booking) []occupancy {
	a := t[b.AreaID]
	pad := a.halfPad()
	lo, hi := store.Micros(b.Start.Add(-pad)), store.Micros(b.End.Add(pad))
	rows := []occupancy{{b.ID, a.ID, 1, lo, hi}, {b.ID, a.ID, 0, lo, hi}}
	for _, anc := range t.ancestors(a.ID) {
		rows = append(rows, occupancy{b.ID, anc, 0, lo, hi})
	}
	return rows
}

func (s *storage) insertOccupancy(ctx context.Context, q queryer, rows []occupancy) error {
	for _, r := range rows {
		if _, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO booking_occupancy (booking_id, area_id, self, lo, hi)
			VALUES (?, ?, ?, ?, ?)`), r.BookingID, r.AreaID, r.Self, r.Lo, r.Hi); err != nil {
			if s.isOverlapViolation(err) {
				return sdk.RuleError(sdk.CodeConflict, RuleOverlap, "The area is already booked at that time.")
			}
			return fmt.Errorf("insert occupancy: %w", err)
		}
	}
	return nil
}

func deleteOccupancy(ctx context.Context, q queryer, bookingID string) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM booking_occupancy WHERE booking_id = ?`), bookingID); err != nil {
		return fmt.Errorf("delete occupancy of %s: %w", bookingID, err)
	}
	return nil
}

// blockingFor returns the occupancy rows that block area at [lo, hi): the
// rows on the area itself (its own bookings and its descendants' holds)
// and the own rows of its ancestors. Each row's [Lo, Hi) is already
// widened by its booking's half pad. The same query serves availability
// and the overlap check, so what is shown free is what can be approved.
func blockingFor(ctx context.Context, q queryer, t areaTree, areaID string, lo, hi int64) ([]occupancy, error) {
	query := `SELECT booking_id, area_id, self, lo, hi FROM booking_occupancy
		WHERE lo < ? AND hi > ? AND (area_id = ?`
	args := []any{hi, lo, areaID}
	if anc := t.ancestors(areaID); len(anc) > 0 {
		query += ` OR (self = 1 AND area_id IN (?` + strings.Repeat(", ?", len(anc)-1) + `))`
		for _, a := range anc {
			args = append(args, a)
		}
	}
	query += `) ORDER BY lo`
	var rows []occupancy
	if err := q.SelectContext(ctx, &rows, q.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("blocking bookings of area %s: %w", areaID, err)
	}
	return rows, nil
}

// itemUse is an approved booking's claim on the park's equipment.
type itemUse struct {
	ID           string `db:"id"`
	StartUS      int64  `db:"start_us"`
	EndUS        int64  `db:"end_us"`
	SupportItems string `db:"support_items"`
}

// approvedItemUse returns approved bookings of the park overlapping
// [lo, hi) that borrow equipment.
func approvedItemUse(ctx context.Context, q queryer, parkID string, lo, hi int64) ([]itemUse, error) {
	var rows []itemUse
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT id, start_us, end_us, support_items FROM bookings
		WHERE park_id = ? AND status = ? AND start_us < ? AND end_us > ? AND support_items <> '{}'`),
		parkID, StatusApproved, hi, lo); err != nil {
		return nil, fmt.Errorf("equipment in use: %w", err)
	}
	return rows, nil
}

// --- public calendar ---

// eventFilter selects public events.
type eventFilter struct {
	ParkIDs  []string // empty: every park
	Category string   // empty: every category
	From     time.Time
	To       time.Time
	Page     sdk.ListQuery
}

// publicEvents returns public events that are or were approved (a
// cancelled one stays in the feed as cancelled, so calendars drop it).
func publicEvents(ctx context.Context, q queryer, f eventFilter) ([]*Booking, error) {
	keyset, args, err := after(f.Page, "is", "start_us", "id")
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + bookingCols + ` FROM bookings
		WHERE ` + keyset + ` AND kind = ? AND public = ? AND was_approved = ? AND status IN (?, ?) AND end_us > ? AND start_us < ?`
	args = append(args, KindEvent, true, true, StatusApproved, StatusCancelled, store.Micros(f.From), store.Micros(f.To))
	if len(f.ParkIDs) > 0 {
		query += ` AND park_id IN (?` + strings.Repeat(", ?", len(f.ParkIDs)-1) + `)`
		for _, id := range f.ParkIDs {
			args = append(args, id)
		}
	}
	if f.Category != "" {
		query += ` AND category = ?`
		args = append(args, f.Category)
	}
	query += ` ORDER BY start_us, id` + limit(f.Page)
	var rows []bookingRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("public events: %w", err)
	}
	return scanBookings(rows)
}

// --- personal data ---

// eraseUser removes what identifies a person from bookings they requested
// or decided, keeping titles and times so the public calendar stays whole.
func eraseUser(ctx context.Context, q queryer, userID string, now time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE bookings
		SET requester_id = '', contact_name = '', contact_email = '', contact_phone = '',
		    accessibility_notes = '', updated_at = ?
		WHERE requester_id = ?`), store.Micros(now), userID)
	if err != nil {
		return 0, fmt.Errorf("erase requester %s: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	if _, err := q.ExecContext(ctx, q.Rebind(`UPDATE bookings SET decided_by = '' WHERE decided_by = ?`), userID); err != nil {
		return 0, fmt.Errorf("erase decider %s: %w", userID, err)
	}
	return n, nil
}

// markProcessed records an event id; it reports false when the event was
// handled before (delivery is at least once).
func markProcessed(ctx context.Context, q queryer, eventID string, now time.Time) (bool, error) {
	var n int
	if err := q.GetContext(ctx, &n, q.Rebind(`SELECT COUNT(*) FROM processed_events WHERE id = ?`), eventID); err != nil {
		return false, fmt.Errorf("processed event %s: %w", eventID, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO processed_events (id, handled_at) VALUES (?, ?)`), eventID, store.Micros(now)); err != nil {
		return false, fmt.Errorf("record event %s: %w", eventID, err)
	}
	return true, nil
}

// futureBookings returns a park's requested and approved events that have not
// ended by now, in start order: what an edit of hours or rules is checked
// against.
func futureBookings(ctx context.Context, q queryer, parkID string, now int64) ([]*Booking, error) {
	var rows []bookingRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+bookingCols+` FROM bookings
		WHERE park_id = ? AND kind = ? AND status IN (?, ?) AND end_us > ? ORDER BY start_us, id`),
		parkID, KindEvent, StatusRequested, StatusApproved, now); err != nil {
		return nil, fmt.Errorf("future bookings: %w", err)
	}
	return scanBookings(rows)
}
