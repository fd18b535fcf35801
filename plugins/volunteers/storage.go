package volunteers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// The plugin's SQL. Queries use "?" and go through Rebind, so one text serves SQLite and
// PostgreSQL; what differs between the two (locking a row) is a dialect value defined in storage_postgres.go and storage_sqlite.go.

// Instants are stored as BIGINT Unix microseconds, UTC, the one time encoding of every
// plugin store (store.Micros, store.Time): integers compare and index alike on both
// databases. The service decides the precision (see Service.clock).

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func fromJSON[T any](s string) T {
	var v T
	_ = json.Unmarshal([]byte(s), &v)
	return v
}

// queryer is a *sqlx.DB or *sqlx.Tx.
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// storage wraps the plugin's store. Exported service methods own transactions and pass
// the tx to these helpers.
type storage struct {
	db *store.DB
	dialect
}

// dialect holds what the plugin's SQL does differently on SQLite and PostgreSQL.
type dialect struct {
	// lockRow is appended to a single-row SELECT to lock the row until commit.
	lockRow string
}

// newStorage wraps db with its dialect.
func newStorage(db *store.DB) storage {
	st := storage{db: db, dialect: sqliteDialect}
	if db.IsPostgres() {
		st.dialect = postgresDialect
	}
	return st
}

func (s *storage) rb(q string) string { return s.db.Rebind(q) }

// bumpVersion marks the match index stale on every node.
func (s *storage) bumpVersion(ctx context.Context, q queryer) error {
	if _, err := q.ExecContext(ctx, `UPDATE index_version SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump index version: %w", err)
	}
	return nil
}

func (s *storage) version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.GetContext(ctx, &v, `SELECT version FROM index_version WHERE id = 1`); err != nil {
		return 0, fmt.Errorf("index version: %w", err)
	}
	return v, nil
}

// Skills.

type skillRow struct {
	ID         string `db:"id"`
	Names      string `db:"names"`
	NeedsCheck int    `db:"needs_check"`
}

func (r skillRow) skill() Skill {
	return Skill{ID: r.ID, Names: fromJSON[map[string]string](r.Names), NeedsBackgroundCheck: r.NeedsCheck != 0}
}

func (s *storage) skills(ctx context.Context) ([]Skill, error) {
	var rows []skillRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, names, needs_check FROM skills ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list skills: %w", err)
	}
	out := make([]Skill, len(rows))
	for i, r := range rows {
		out[i] = r.skill()
	}
	return out, nil
}

// skillsPage is a page of the catalogue in ID order.
func (s *storage) skillsPage(ctx context.Context, q sdk.ListQuery) ([]Skill, error) {
	after, args, err := q.After("id")
	if err != nil {
		return nil, err
	}
	// Every page of every list of the catalogue runs one of two statements (with a
	// cursor or without): prepared once per connection.
	stmt, err := s.db.Prepared(ctx, `SELECT id, names, needs_check FROM skills WHERE `+after+` ORDER BY id LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("list skills: %w", err)
	}
	var rows []skillRow
	if err := stmt.SelectContext(ctx, &rows, append(args, q.Fetch())...); err != nil {
		return nil, fmt.Errorf("list skills: %w", err)
	}
	out := make([]Skill, len(rows))
	for i, r := range rows {
		out[i] = r.skill()
	}
	return out, nil
}

func (s *storage) putSkill(ctx context.Context, sk Skill, now time.Time) error {
	q := s.rb(`INSERT INTO skills (id, names, needs_check, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET names = excluded.names, needs_check = excluded.needs_check,
			updated_at = excluded.updated_at`)
	if _, err := s.db.ExecContext(ctx, q, sk.ID, jsonText(sk.Names), boolInt(sk.NeedsBackgroundCheck), store.Micros(now)); err != nil {
		return fmt.Errorf("put skill %s: %w", sk.ID, err)
	}
	return nil
}

// Profiles.

type profileRow struct {
	UserID         string     `db:"user_id"`
	Skills         string     `db:"skills"`
	Tags           string     `db:"tags"`
	Languages      string     `db:"languages"`
	Availability   string     `db:"availability"`
	Unavailable    string     `db:"unavailable"`
	Neighbourhoods string     `db:"neighbourhoods"`
	MaxWeekly      int        `db:"max_weekly_minutes"`
	BirthDate      string     `db:"birth_date"`
	CheckStatus    string     `db:"check_status"`
	CheckExpires   string     `db:"check_expires"`
	CreatedAt      store.Time `db:"created_at"`
	UpdatedAt      store.Time `db:"updated_at"`
}

const profileCols = `user_id, skills, tags, languages, availability, unavailable, neighbourhoods,
	max_weekly_minutes, birth_date, check_status, check_expires, created_at, updated_at`

func (r profileRow) profile() Profile {
	return Profile{
		UserID:           r.UserID,
		Skills:           fromJSON[[]string](r.Skills),
		Tags:             fromJSON[[]string](r.Tags),
		Languages:        fromJSON[[]string](r.Languages),
		Availability:     fromJSON[[]AvailabilityWindow](r.Availability),
		UnavailableDates: fromJSON[[]string](r.Unavailable),
		Neighbourhoods:   fromJSON[[]string](r.Neighbourhoods),
		MaxHoursPerWeek:  r.MaxWeekly / 60,
		BirthDate:        r.BirthDate,
		BackgroundCheck:  BackgroundCheck{Status: r.CheckStatus, Expires: r.CheckExpires},
		CreatedAt:        r.CreatedAt.Time,
		UpdatedAt:        r.UpdatedAt.Time,
	}
}

func (s *storage) profile(ctx context.Context, q queryer, userID string) (Profile, error) {
	var r profileRow
	err := q.GetContext(ctx, &r, s.rb(`SELECT `+profileCols+` FROM profiles WHERE user_id = ?`), userID)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, sdk.Errorf(sdk.CodeNotFound, "no volunteer profile for user %s", userID)
	} else if err != nil {
		return Profile{}, fmt.Errorf("get profile %s: %w", userID, err)
	}
	return r.profile(), nil
}

func (s *storage) profiles(ctx context.Context, userIDs []string) (map[string]Profile, error) {
	out := map[string]Profile{}
	if len(userIDs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT `+profileCols+` FROM profiles WHERE user_id IN (?)`, userIDs)
	if err != nil {
		return nil, err
	}
	var rows []profileRow
	if err := s.db.SelectContext(ctx, &rows, s.rb(q), args...); err != nil {
		return nil, fmt.Errorf("get profiles: %w", err)
	}
	for _, r := range rows {
		out[r.UserID] = r.profile()
	}
	return out, nil
}

// lockProfile reads a profile and locks its row until commit (see dialect.lockRow), so
// one person's bookings queue behind each other.
func (s *storage) lockProfile(ctx context.Context, q queryer, userID string) (Profile, error) {
	query := `SELECT ` + profileCols + ` FROM profiles WHERE user_id = ?` + s.lockRow
	var r profileRow
	err := q.GetContext(ctx, &r, s.rb(query), userID)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, sdk.Errorf(sdk.CodeNotFound, "no volunteer profile for user %s", userID)
	} else if err != nil {
		return Profile{}, fmt.Errorf("lock profile %s: %w", userID, err)
	}
	return r.profile(), nil
}

// upsertProfile writes everything the volunteer owns and leaves the background check,
// which only staff set, as it is.
func (s *storage) upsertProfile(ctx context.Context, q queryer, p Profile) error {
	_, err := q.ExecContext(ctx, s.rb(`INSERT INTO profiles (`+profileCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'none', '', ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET skills = excluded.skills, tags = excluded.tags,
			languages = excluded.languages, availability = excluded.availability,
			unavailable = excluded.unavailable, neighbourhoods = excluded.neighbourhoods,
			max_weekly_minutes = excluded.max_weekly_minutes, birth_date = excluded.birth_date,
			updated_at = excluded.updated_at`),
		p.UserID, jsonText(p.Skills), jsonText(p.Tags), jsonText(p.Languages), jsonText(p.Availability),
		jsonText(p.UnavailableDates), jsonText(p.Neighbourhoods), p.MaxHoursPerWeek*60, p.BirthDate,
		store.Micros(p.CreatedAt), store.Micros(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put profile %s: %w", p.UserID, err)
	}
	return nil
}

func (s *storage) setCheck(ctx context.Context, q queryer, userID string, c BackgroundCheck, now time.Time) error {
	res, err := q.ExecContext(ctx, s.rb(`UPDATE profiles SET check_status = ?, check_expires = ?, updated_at = ?
		WHERE user_id = ?`), c.Status, c.Expires, store.Micros(now), userID)
	if err != nil {
		return fmt.Errorf("set background check %s: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sdk.Errorf(sdk.CodeNotFound, "no volunteer profile for user %s", userID)
	}
	return nil
}

// profilesByCheck is a page of profiles by user ID, with the check status given or all.
func (s *storage) profilesByCheck(ctx context.Context, status string, q sdk.ListQuery) ([]Profile, error) {
	after, args, err := q.After("user_id")
	if err != nil {
		return nil, err
	}
	where := after
	if status != "" {
		where += ` AND check_status = ?`
		args = append(args, status)
	}
	var rows []profileRow
	err = s.db.SelectContext(ctx, &rows, s.rb(`SELECT `+profileCols+` FROM profiles WHERE `+where+` ORDER BY user_id LIMIT ?`),
		append(args, q.Fetch())...)
	if err != nil {
		return nil, fmt.Errorf("profiles by check: %w", err)
	}
	out := make([]Profile, len(rows))
	for i, r := range rows {
		out[i] = r.profile()
	}
	return out, nil
}

// Match input: every profile with its commitments and recent history, in bulk.

type commitmentRow struct {
	VolunteerID string     `db:"volunteer_id"`
	Status      string     `db:"status"`
	Minutes     int        `db:"minutes"`
	StartsAt    store.Time `db:"starts_at"`
	EndsAt      store.Time `db:"ends_at"`
}

func (s *storage) allProfiles(ctx context.Context) ([]profileRow, error) {
	var rows []profileRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+profileCols+` FROM profiles`); err != nil {
		return nil, fmt.Errorf("load profiles: %w", err)
	}
	return rows, nil
}

// heldPlaces returns every held place (confirmed, attended, no-show) with its shift's
// times: commitments for overlap and weekly hours, history for fairness and reliability.
func (s *storage) heldPlaces(ctx context.Context) ([]commitmentRow, error) {
	var rows []commitmentRow
	err := s.db.SelectContext(ctx, &rows, `SELECT a.volunteer_id, a.status, a.minutes, sh.starts_at, sh.ends_at
		FROM applications a JOIN shifts sh ON sh.id = a.shift_id
		WHERE a.status IN ('confirmed', 'attended', 'no_show')`)
	if err != nil {
		return nil, fmt.Errorf("load commitments: %w", err)
	}
	return rows, nil
}

// Opportunities.

type opportunityRow struct {
	ID              string         `db:"id"`
	OrganisationID  string         `db:"organisation_id"`
	CreatedBy       string         `db:"created_by"`
	Title           string         `db:"title"`
	Description     string         `db:"description"`
	NeighbourhoodID string         `db:"neighbourhood_id"`
	Place           string         `db:"place"`
	Required        string         `db:"required_skills"`
	Preferred       string         `db:"preferred_skills"`
	Languages       string         `db:"languages"`
	MinAge          int            `db:"min_age"`
	NeedsCheck      int            `db:"needs_background_check"`
	AutoAccept      int            `db:"auto_accept"`
	State           string         `db:"state"`
	SourceEventID   sql.NullString `db:"source_event_id"`
	Newcomers       int            `db:"newcomers"`
	ParkBookingID   string         `db:"park_booking_id"`
	CreatedAt       store.Time     `db:"created_at"`
	UpdatedAt       store.Time     `db:"updated_at"`
}

const opportunityCols = `id, organisation_id, created_by, title, description, neighbourhood_id, place,
	required_skills, preferred_skills, languages, min_age, needs_background_check, auto_accept, state,
	source_event_id, newcomers, park_booking_id, created_at, updated_at`

func (r opportunityRow) opportunity() Opportunity {
	return Opportunity{
		ID: r.ID, OrganisationID: r.OrganisationID, Title: r.Title, Description: r.Description,
		NeighbourhoodID: r.NeighbourhoodID, Place: r.Place,
		RequiredSkills: fromJSON[[]string](r.Required), PreferredSkills: fromJSON[[]string](r.Preferred),
		Languages: fromJSON[[]string](r.Languages), MinAge: r.MinAge,
		NeedsBackgroundCheck: r.NeedsCheck != 0, AutoAccept: r.AutoAccept != 0, Newcomers: r.Newcomers != 0, State: r.State,
		Shifts: []Shift{}, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
		createdBy: r.CreatedBy, sourceEventID: r.SourceEventID.String, parkBookingID: r.ParkBookingID,
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// insertOpportunity inserts o and its shifts. With a source event id it inserts nothing
// when that event was already handled and reports false.
func (s *storage) insertOpportunity(ctx context.Context, q queryer, o Opportunity) (bool, error) {
	var src any
	if o.sourceEventID != "" {
		src = o.sourceEventID
	}
	res, err := q.ExecContext(ctx, s.rb(`INSERT INTO opportunities (`+opportunityCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source_event_id) DO NOTHING`),
		o.ID, o.OrganisationID, o.createdBy, o.Title, o.Description, o.NeighbourhoodID, o.Place,
		jsonText(o.RequiredSkills), jsonText(o.PreferredSkills), jsonText(o.Languages), o.MinAge,
		boolInt(o.NeedsBackgroundCheck), boolInt(o.AutoAccept), o.State, src, boolInt(o.Newcomers), o.parkBookingID,
		store.Micros(o.CreatedAt), store.Micros(o.UpdatedAt))
	if err != nil {
		return false, fmt.Errorf("insert opportunity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	for _, sh := range o.Shifts {
		if err := s.insertShift(ctx, q, o.ID, sh); err != nil {
			return false, err
		}
	}
	return true, s.writeOpportunitySkills(ctx, q, o)
}

// writeOpportunitySkills mirrors o's required and preferred skills into
// opportunity_skills, which the public list's skill filter reads.
func (s *storage) writeOpportunitySkills(ctx context.Context, q queryer, o Opportunity) error {
	if _, err := q.ExecContext(ctx, s.rb(`DELETE FROM opportunity_skills WHERE opportunity_id = ?`), o.ID); err != nil {
		return fmt.Errorf("clear opportunity skills: %w", err)
	}
	for _, id := range dedupe(append(slices.Clone(o.RequiredSkills), o.PreferredSkills...)) {
		if _, err := q.ExecContext(ctx, s.rb(`INSERT INTO opportunity_skills (opportunity_id, skill_id) VALUES (?, ?)`), o.ID, id); err != nil {
			return fmt.Errorf("write opportunity skill: %w", err)
		}
	}
	return nil
}

// insertShift adds one shift to an opportunity.
func (s *storage) insertShift(ctx context.Context, q queryer, oppID string, sh Shift) error {
	_, err := q.ExecContext(ctx, s.rb(`INSERT INTO shifts (id, opportunity_id, starts_at, ends_at, capacity)
		VALUES (?, ?, ?, ?, ?)`), sh.ID, oppID, store.Micros(sh.Start), store.Micros(sh.End), sh.Capacity)
	if err != nil {
		return fmt.Errorf("insert shift: %w", err)
	}
	return nil
}

func (s *storage) opportunityIDForEvent(ctx context.Context, eventID string) (string, error) {
	var id string
	err := s.db.GetContext(ctx, &id, s.rb(`SELECT id FROM opportunities WHERE source_event_id = ?`), eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", sdk.Errorf(sdk.CodeNotFound, "no opportunity from event %s", eventID)
	} else if err != nil {
		return "", fmt.Errorf("opportunity for event %s: %w", eventID, err)
	}
	return id, nil
}

// endParkBooking records that a park booking was cancelled or rejected.
func (s *storage) endParkBooking(ctx context.Context, bookingID string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rb(`INSERT INTO ended_park_bookings (booking_id, ended_at) VALUES (?, ?)
		ON CONFLICT (booking_id) DO NOTHING`), bookingID, store.Micros(now))
	if err != nil {
		return fmt.Errorf("end park booking %s: %w", bookingID, err)
	}
	return nil
}

// parkBookingEnded reports whether a park booking was cancelled or rejected.
func (s *storage) parkBookingEnded(ctx context.Context, q queryer, bookingID string) (bool, error) {
	var n int
	err := q.GetContext(ctx, &n, s.rb(`SELECT COUNT(*) FROM ended_park_bookings WHERE booking_id = ?`), bookingID)
	if err != nil {
		return false, fmt.Errorf("park booking %s ended: %w", bookingID, err)
	}
	return n > 0, nil
}

// opportunitiesOfBooking are the IDs of the opportunities drafted from a park booking.
func (s *storage) opportunitiesOfBooking(ctx context.Context, bookingID string) ([]string, error) {
	var ids []string
	err := s.db.SelectContext(ctx, &ids, s.rb(`SELECT id FROM opportunities WHERE park_booking_id = ? ORDER BY id`), bookingID)
	if err != nil {
		return nil, fmt.Errorf("opportunities of park booking %s: %w", bookingID, err)
	}
	return ids, nil
}

type shiftRow struct {
	ID            string     `db:"id"`
	OpportunityID string     `db:"opportunity_id"`
	StartsAt      store.Time `db:"starts_at"`
	EndsAt        store.Time `db:"ends_at"`
	Capacity      int        `db:"capacity"`
	Taken         int        `db:"taken"`
	Waitlisted    int        `db:"waitlisted"`
}

// shiftsOf loads the shifts of the given opportunities with their counts.
func (s *storage) shiftsOf(ctx context.Context, q queryer, oppIDs []string) (map[string][]Shift, error) {
	out := map[string][]Shift{}
	if len(oppIDs) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT sh.id, sh.opportunity_id, sh.starts_at, sh.ends_at, sh.capacity,
			COALESCE(SUM(CASE WHEN a.status IN ('confirmed', 'attended', 'no_show') THEN 1 ELSE 0 END), 0) AS taken,
			COALESCE(SUM(CASE WHEN a.status = 'waitlisted' THEN 1 ELSE 0 END), 0) AS waitlisted
		FROM shifts sh LEFT JOIN applications a ON a.shift_id = sh.id
		WHERE sh.opportunity_id IN (?)
		GROUP BY sh.id, sh.opportunity_id, sh.starts_at, sh.ends_at, sh.capacity
		ORDER BY sh.starts_at, sh.id`, oppIDs)
	if err != nil {
		return nil, err
	}
	var rows []shiftRow
	if err := q.SelectContext(ctx, &rows, s.rb(query), args...); err != nil {
		return nil, fmt.Errorf("load shifts: %w", err)
	}
	for _, r := range rows {
		out[r.OpportunityID] = append(out[r.OpportunityID], Shift{ID: r.ID, Start: r.StartsAt.Time,
			End: r.EndsAt.Time, Capacity: r.Capacity, Taken: r.Taken, Waitlisted: r.Waitlisted,
			Free: max(r.Capacity-r.Taken, 0)})
	}
	return out, nil
}

func (s *storage) opportunity(ctx context.Context, q queryer, id string) (Opportunity, error) {
	var r opportunityRow
	err := q.GetContext(ctx, &r, s.rb(`SELECT `+opportunityCols+` FROM opportunities WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return Opportunity{}, sdk.Errorf(sdk.CodeNotFound, "opportunity %s not found", id)
	} else if err != nil {
		return Opportunity{}, fmt.Errorf("get opportunity %s: %w", id, err)
	}
	o := r.opportunity()
	shifts, err := s.shiftsOf(ctx, q, []string{id})
	if err != nil {
		return Opportunity{}, err
	}
	if sh := shifts[id]; sh != nil {
		o.Shifts = sh
	}
	return o, nil
}

// listOpportunities returns a page of opportunities in ID order (UUIDv7: creation
// order) that are published, or in any state when the organisation (or, for "", the
// city) is in orgs.
func (s *storage) listOpportunities(ctx context.Context, states []string, orgs []string, q sdk.ListQuery) ([]Opportunity, error) {
	after, afterArgs, err := q.After("id")
	if err != nil {
		return nil, err
	}
	where := `state IN (?)`
	args := []any{states}
	if len(orgs) > 0 {
		where = `(state IN (?) OR organisation_id IN (?))`
		args = append(args, orgs)
	}
	args = append(append(args, afterArgs...), q.Fetch())
	query, qargs, err := sqlx.In(`SELECT `+opportunityCols+` FROM opportunities WHERE `+where+` AND `+after+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	var rows []opportunityRow
	if err := s.db.SelectContext(ctx, &rows, s.rb(query), qargs...); err != nil {
		return nil, fmt.Errorf("list opportunities: %w", err)
	}
	return s.withShifts(ctx, rows)
}

func (s *storage) withShifts(ctx context.Context, rows []opportunityRow) ([]Opportunity, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	shifts, err := s.shiftsOf(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Opportunity, len(rows))
	for i, r := range rows {
		out[i] = r.opportunity()
		if sh := shifts[r.ID]; sh != nil {
			out[i].Shifts = sh
		}
	}
	return out, nil
}

// publicOpportunities is a page, in ID order, of the published opportunities with a
// shift starting in [from, to) (to zero: no end) that pass f.
func (s *storage) publicOpportunities(ctx context.Context, f PublicFilter, from, to time.Time, q sdk.ListQuery) ([]Opportunity, error) {
	after, afterArgs, err := q.After("id")
	if err != nil {
		return nil, err
	}
	where := []string{`state = 'published'`}
	var args []any
	if f.NeighbourhoodID != "" {
		where = append(where, `neighbourhood_id = ?`)
		args = append(args, f.NeighbourhoodID)
	}
	if f.Age > 0 {
		where = append(where, `min_age <= ?`)
		args = append(args, f.Age)
	}
	if f.Newcomers {
		where = append(where, `newcomers = 1`)
	}
	if f.Skill != "" {
		where = append(where, `id IN (SELECT opportunity_id FROM opportunity_skills WHERE skill_id = ?)`)
		args = append(args, f.Skill)
	}
	shiftCond := `sh.starts_at > ?`
	args = append(args, store.Micros(from))
	if !to.IsZero() {
		shiftCond += ` AND sh.starts_at < ?`
		args = append(args, store.Micros(to))
	}
	where = append(where, `EXISTS (SELECT 1 FROM shifts sh WHERE sh.opportunity_id = o.id AND `+shiftCond+`)`, after)
	args = append(append(args, afterArgs...), q.Fetch())
	var rows []opportunityRow
	query := `SELECT ` + opportunityCols + ` FROM opportunities o WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY id LIMIT ?`
	if err := s.db.SelectContext(ctx, &rows, s.rb(query), args...); err != nil {
		return nil, fmt.Errorf("public opportunities: %w", err)
	}
	return s.withShifts(ctx, rows)
}

// openOpportunities are the published opportunities with a shift starting after now.
func (s *storage) openOpportunities(ctx context.Context, now time.Time) ([]Opportunity, error) {
	var rows []opportunityRow
	err := s.db.SelectContext(ctx, &rows, s.rb(`SELECT `+opportunityCols+` FROM opportunities o
		WHERE state = 'published' AND EXISTS (SELECT 1 FROM shifts sh WHERE sh.opportunity_id = o.id AND sh.starts_at > ?)
		ORDER BY id`), store.Micros(now))
	if err != nil {
		return nil, fmt.Errorf("open opportunities: %w", err)
	}
	return s.withShifts(ctx, rows)
}

// opportunitiesStarting are the published opportunities with a shift starting in
// [from, to), of the given organisations ("" is the city) or, with all, of anyone.
func (s *storage) opportunitiesStarting(ctx context.Context, from, to time.Time, orgs []string, all bool) ([]Opportunity, error) {
	query := `SELECT ` + opportunityCols + ` FROM opportunities o WHERE state = 'published'
		AND EXISTS (SELECT 1 FROM shifts sh WHERE sh.opportunity_id = o.id AND sh.starts_at >= ? AND sh.starts_at < ?)`
	args := []any{store.Micros(from), store.Micros(to)}
	if !all {
		if len(orgs) == 0 {
			return nil, nil
		}
		query += ` AND organisation_id IN (?)`
		args = append(args, orgs)
	}
	query, args, err := sqlx.In(query+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	var rows []opportunityRow
	if err := s.db.SelectContext(ctx, &rows, s.rb(query), args...); err != nil {
		return nil, fmt.Errorf("opportunities starting %s: %w", from, err)
	}
	return s.withShifts(ctx, rows)
}

func (s *storage) setState(ctx context.Context, q queryer, id, from, to string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, s.rb(`UPDATE opportunities SET state = ?, updated_at = ? WHERE id = ? AND state = ?`),
		to, store.Micros(now), id, from)
	if err != nil {
		return false, fmt.Errorf("set opportunity state: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// updateOpportunity writes the details an organiser edits.
func (s *storage) updateOpportunity(ctx context.Context, q queryer, o Opportunity) error {
	_, err := q.ExecContext(ctx, s.rb(`UPDATE opportunities SET title = ?, description = ?, neighbourhood_id = ?,
		place = ?, required_skills = ?, preferred_skills = ?, languages = ?, min_age = ?,
		needs_background_check = ?, auto_accept = ?, newcomers = ?, updated_at = ? WHERE id = ?`),
		o.Title, o.Description, o.NeighbourhoodID, o.Place, jsonText(o.RequiredSkills), jsonText(o.PreferredSkills),
		jsonText(o.Languages), o.MinAge, boolInt(o.NeedsBackgroundCheck), boolInt(o.AutoAccept), boolInt(o.Newcomers),
		store.Micros(o.UpdatedAt), o.ID)
	if err != nil {
		return fmt.Errorf("update opportunity %s: %w", o.ID, err)
	}
	return s.writeOpportunitySkills(ctx, q, o)
}

// setCapacity sets a shift's places; the caller holds the shift lock and checked that
// no fewer are held.
func (s *storage) setCapacity(ctx context.Context, q queryer, shiftID string, capacity int) error {
	if _, err := q.ExecContext(ctx, s.rb(`UPDATE shifts SET capacity = ? WHERE id = ?`), capacity, shiftID); err != nil {
		return fmt.Errorf("set capacity of shift %s: %w", shiftID, err)
	}
	return nil
}

// moveShift sets a shift's time.
func (s *storage) moveShift(ctx context.Context, q queryer, shiftID string, start, end time.Time) error {
	_, err := q.ExecContext(ctx, s.rb(`UPDATE shifts SET starts_at = ?, ends_at = ? WHERE id = ?`),
		store.Micros(start), store.Micros(end), shiftID)
	if err != nil {
		return fmt.Errorf("move shift %s: %w", shiftID, err)
	}
	return nil
}

// Reminders.

// pendingReminder is a confirmed place on a shift starting soon whose reminder no
// process has sent.
type pendingReminder struct {
	ShiftID       string     `db:"shift_id"`
	VolunteerID   string     `db:"volunteer_id"`
	OpportunityID string     `db:"opportunity_id"`
	StartsAt      store.Time `db:"starts_at"`
	Start         time.Time  `db:"-"`
}

// remindersPending lists, in start order, up to limit confirmed places on shifts of
// open opportunities starting in (from, to] that have no reminder for the shift's
// current time.
func (s *storage) remindersPending(ctx context.Context, from, to time.Time, limit int) ([]pendingReminder, error) {
	var out []pendingReminder
	err := s.db.SelectContext(ctx, &out, s.rb(`SELECT a.shift_id, a.volunteer_id, a.opportunity_id, sh.starts_at
		FROM applications a JOIN shifts sh ON sh.id = a.shift_id JOIN opportunities o ON o.id = a.opportunity_id
		WHERE a.status = 'confirmed' AND o.state IN ('published', 'closed')
		  AND sh.starts_at > ? AND sh.starts_at <= ?
		  AND NOT EXISTS (SELECT 1 FROM shift_reminders r
			WHERE r.shift_id = a.shift_id AND r.volunteer_id = a.volunteer_id AND r.starts_at = sh.starts_at)
		ORDER BY sh.starts_at, a.shift_id, a.volunteer_id LIMIT ?`), store.Micros(from), store.Micros(to), limit)
	if err != nil {
		return nil, fmt.Errorf("pending reminders: %w", err)
	}
	for i := range out {
		out[i].Start = out[i].StartsAt.Time
	}
	return out, nil
}

// claimReminder records r's reminder as sent, if the volunteer still holds the place
// and the shift still starts when r says; false when it does not, or when another
// transaction recorded it first (on PostgreSQL the insert waits for that transaction
// and then finds the key taken).
func (s *storage) claimReminder(ctx context.Context, q queryer, r pendingReminder, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, s.rb(`INSERT INTO shift_reminders (shift_id, volunteer_id, starts_at, sent_at)
		SELECT a.shift_id, a.volunteer_id, sh.starts_at, ?
		FROM applications a JOIN shifts sh ON sh.id = a.shift_id
		WHERE a.shift_id = ? AND a.volunteer_id = ? AND a.status = 'confirmed' AND sh.starts_at = ?
		ON CONFLICT DO NOTHING`), store.Micros(now), r.ShiftID, r.VolunteerID, store.Micros(r.Start))
	if err != nil {
		return false, fmt.Errorf("claim reminder of %s on shift %s: %w", r.VolunteerID, r.ShiftID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim reminder of %s on shift %s: %w", r.VolunteerID, r.ShiftID, err)
	}
	return n == 1, nil
}

// deleteShift removes a shift; its applications and reminders go with it (ON DELETE
// CASCADE).
func (s *storage) deleteShift(ctx context.Context, q queryer, shiftID string) error {
	if _, err := q.ExecContext(ctx, s.rb(`DELETE FROM shifts WHERE id = ?`), shiftID); err != nil {
		return fmt.Errorf("delete shift %s: %w", shiftID, err)
	}
	return nil
}

// Applications.

type applicationRow struct {
	ID            string         `db:"id"`
	ShiftID       string         `db:"shift_id"`
	OpportunityID string         `db:"opportunity_id"`
	VolunteerID   string         `db:"volunteer_id"`
	Status        string         `db:"status"`
	Origin        string         `db:"origin"`
	Minutes       int            `db:"minutes"`
	WaitlistedAt  store.NullTime `db:"waitlisted_at"`
	CreatedAt     store.Time     `db:"created_at"`
	UpdatedAt     store.Time     `db:"updated_at"`
}

const applicationCols = `id, shift_id, opportunity_id, volunteer_id, status, origin, minutes, waitlisted_at, created_at, updated_at`

func (r applicationRow) application() Application {
	return Application{ID: r.ID, ShiftID: r.ShiftID, OpportunityID: r.OpportunityID, VolunteerID: r.VolunteerID,
		Status: r.Status, Origin: r.Origin, Minutes: r.Minutes, CreatedAt: r.CreatedAt.Time,
		UpdatedAt: r.UpdatedAt.Time, waitlistedAt: r.WaitlistedAt.Time}
}

// insertApplication inserts a; a second sign-up of one volunteer for one shift hits the
// unique constraint and is reported as a conflict.
func (s *storage) insertApplication(ctx context.Context, q queryer, a Application) error {
	res, err := q.ExecContext(ctx, s.rb(`INSERT INTO applications (`+applicationCols+`)
		VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?, ?) ON CONFLICT (shift_id, volunteer_id) DO NOTHING`),
		a.ID, a.ShiftID, a.OpportunityID, a.VolunteerID, a.Status, a.Origin, store.Micros(a.CreatedAt), store.Micros(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert application: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sdk.Errorf(sdk.CodeConflict, "already signed up: volunteer %s already has an application for shift %s", a.VolunteerID, a.ShiftID)
	}
	return nil
}

func (s *storage) application(ctx context.Context, q queryer, id string) (Application, error) {
	var r applicationRow
	err := q.GetContext(ctx, &r, s.rb(`SELECT `+applicationCols+` FROM applications WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, sdk.Errorf(sdk.CodeNotFound, "application %s not found", id)
	} else if err != nil {
		return Application{}, fmt.Errorf("get application %s: %w", id, err)
	}
	return r.application(), nil
}

// selectApplications runs SELECT applicationCols FROM applications followed by rest.
func (s *storage) selectApplications(ctx context.Context, q queryer, rest string, args ...any) ([]Application, error) {
	var rows []applicationRow
	if err := q.SelectContext(ctx, &rows, s.rb(`SELECT `+applicationCols+` FROM applications `+rest), args...); err != nil {
		return nil, err
	}
	out := make([]Application, len(rows))
	for i, r := range rows {
		out[i] = r.application()
	}
	return out, nil
}

// applicationsOf are all of an opportunity's applications by shift, then creation.
func (s *storage) applicationsOf(ctx context.Context, oppID string) ([]Application, error) {
	out, err := s.selectApplications(ctx, s.db, `WHERE opportunity_id = ? ORDER BY shift_id, created_at, id`, oppID)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return out, nil
}

// applicationsPage is a page of applicationsOf.
func (s *storage) applicationsPage(ctx context.Context, oppID string, q sdk.ListQuery) ([]Application, error) {
	after, args, err := q.After("shift_id", "created_at", "id")
	if err != nil {
		return nil, err
	}
	out, err := s.selectApplications(ctx, s.db, `WHERE opportunity_id = ? AND `+after+` ORDER BY shift_id, created_at, id LIMIT ?`,
		append(append([]any{oppID}, args...), q.Fetch())...)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return out, nil
}

// applicationsBy are a volunteer's applications in creation order.
func (s *storage) applicationsBy(ctx context.Context, q queryer, volunteerID string) ([]Application, error) {
	out, err := s.selectApplications(ctx, q, `WHERE volunteer_id = ? ORDER BY created_at, id`, volunteerID)
	if err != nil {
		return nil, fmt.Errorf("list applications of %s: %w", volunteerID, err)
	}
	return out, nil
}

// setStatus moves an application from one of the from statuses to status; it reports
// false when the application was no longer in any of them.
func (s *storage) setStatus(ctx context.Context, q queryer, id string, from []string, status string, minutes int, now time.Time) (bool, error) {
	query, args, err := sqlx.In(`UPDATE applications SET status = ?, minutes = ?, updated_at = ?
		WHERE id = ? AND status IN (?)`, status, minutes, store.Micros(now), id, from)
	if err != nil {
		return false, err
	}
	res, err := q.ExecContext(ctx, s.rb(query), args...)
	if err != nil {
		return false, fmt.Errorf("set application status: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// lockShift serialises every change to one shift's places by locking its row until
// commit (see dialect.lockRow).
func (s *storage) lockShift(ctx context.Context, q queryer, shiftID string) (capacity int, err error) {
	query := `SELECT capacity FROM shifts WHERE id = ?` + s.lockRow
	err = q.GetContext(ctx, &capacity, s.rb(query), shiftID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, sdk.Errorf(sdk.CodeNotFound, "shift %s not found", shiftID)
	} else if err != nil {
		return 0, fmt.Errorf("lock shift %s: %w", shiftID, err)
	}
	return capacity, nil
}

// confirmIfRoom confirms the application only while the shift's held places are below
// its capacity, counted in the same statement. The caller holds the shift lock, so the
// count cannot change between the check and the write; the condition is the last line of
// defence even so.
func (s *storage) confirmIfRoom(ctx context.Context, q queryer, appID, shiftID string, from []string, now time.Time) (bool, error) {
	query, args, err := sqlx.In(`UPDATE applications SET status = 'confirmed', updated_at = ?
		WHERE id = ? AND status IN (?)
		AND (SELECT COUNT(*) FROM applications h WHERE h.shift_id = ? AND h.status IN ('confirmed', 'attended', 'no_show'))
			< (SELECT capacity FROM shifts WHERE id = ?)`, store.Micros(now), appID, from, shiftID, shiftID)
	if err != nil {
		return false, err
	}
	res, err := q.ExecContext(ctx, s.rb(query), args...)
	if err != nil {
		return false, fmt.Errorf("confirm application %s: %w", appID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s *storage) waitlist(ctx context.Context, q queryer, appID string, from []string, now time.Time) (bool, error) {
	query, args, err := sqlx.In(`UPDATE applications SET status = 'waitlisted', waitlisted_at = ?, updated_at = ?
		WHERE id = ? AND status IN (?)`, store.Micros(now), store.Micros(now), appID, from)
	if err != nil {
		return false, err
	}
	res, err := q.ExecContext(ctx, s.rb(query), args...)
	if err != nil {
		return false, fmt.Errorf("wait-list application %s: %w", appID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// nextWaiting returns the longest-waiting application on the shift's wait list, by the
// time it was wait-listed and then ID.
func (s *storage) nextWaiting(ctx context.Context, q queryer, shiftID string) (Application, bool, error) {
	var r applicationRow
	err := q.GetContext(ctx, &r, s.rb(`SELECT `+applicationCols+` FROM applications
		WHERE shift_id = ? AND status = 'waitlisted' ORDER BY waitlisted_at, id LIMIT 1`), shiftID)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, false, nil
	} else if err != nil {
		return Application{}, false, fmt.Errorf("next on wait list: %w", err)
	}
	return r.application(), true, nil
}

func (s *storage) held(ctx context.Context, q queryer, shiftID string) (int, error) {
	var n int
	err := q.GetContext(ctx, &n, s.rb(`SELECT COUNT(*) FROM applications
		WHERE shift_id = ? AND status IN ('confirmed', 'attended', 'no_show')`), shiftID)
	if err != nil {
		return 0, fmt.Errorf("count held places: %w", err)
	}
	return n, nil
}

type hoursRow struct {
	applicationRow
	Title    string     `db:"title"`
	StartsAt store.Time `db:"starts_at"`
	EndsAt   store.Time `db:"ends_at"`
}

func (s *storage) hours(ctx context.Context, volunteerID string) ([]HoursEntry, error) {
	var rows []hoursRow
	err := s.db.SelectContext(ctx, &rows, s.rb(`SELECT a.id, a.shift_id, a.opportunity_id, a.volunteer_id, a.status,
			a.origin, a.minutes, a.waitlisted_at, a.created_at, a.updated_at, o.title, sh.starts_at, sh.ends_at
		FROM applications a JOIN shifts sh ON sh.id = a.shift_id JOIN opportunities o ON o.id = a.opportunity_id
		WHERE a.volunteer_id = ? AND a.status IN ('attended', 'no_show')
		ORDER BY sh.starts_at, a.id`), volunteerID)
	if err != nil {
		return nil, fmt.Errorf("hours of %s: %w", volunteerID, err)
	}
	out := make([]HoursEntry, len(rows))
	for i, r := range rows {
		out[i] = HoursEntry{ApplicationID: r.ID, OpportunityID: r.OpportunityID, Title: r.Title, ShiftID: r.ShiftID,
			Start: r.StartsAt.Time, End: r.EndsAt.Time, Status: r.Status, Minutes: r.Minutes}
	}
	return out, nil
}

// erase removes a person's profile and applications; opportunities they created stay
// with their organisation but forget who typed them in.
func (s *storage) erase(ctx context.Context, q queryer, userID string) error {
	for _, stmt := range []string{
		`DELETE FROM shift_reminders WHERE volunteer_id = ?`,
		`DELETE FROM applications WHERE volunteer_id = ?`,
		`DELETE FROM profiles WHERE user_id = ?`,
		`UPDATE opportunities SET created_by = '' WHERE created_by = ?`,
	} {
		if _, err := q.ExecContext(ctx, s.rb(stmt), userID); err != nil {
			return fmt.Errorf("erase %s: %s: %w", userID, strings.Fields(stmt)[0], err)
		}
	}
	return nil
}

// My volunteering.

type commitmentListRow struct {
	ApplicationID   string         `db:"id"`
	OpportunityID   string         `db:"opportunity_id"`
	ShiftID         string         `db:"shift_id"`
	Status          string         `db:"status"`
	Origin          string         `db:"origin"`
	Minutes         int            `db:"minutes"`
	WaitlistedAt    store.NullTime `db:"waitlisted_at"`
	Title           string         `db:"title"`
	Place           string         `db:"place"`
	NeighbourhoodID string         `db:"neighbourhood_id"`
	OrganisationID  string         `db:"organisation_id"`
	State           string         `db:"state"`
	StartsAt        store.Time     `db:"starts_at"`
	EndsAt          store.Time     `db:"ends_at"`
	Position        int            `db:"position"`
}

// commitments are a volunteer's applications with their opportunity and shift, in
// shift start order; a wait-listed one carries its place in the queue (1 is next).
func (s *storage) commitments(ctx context.Context, volunteerID string) ([]Commitment, error) {
	var rows []commitmentListRow
	err := s.db.SelectContext(ctx, &rows, s.rb(`SELECT a.id, a.opportunity_id, a.shift_id, a.status, a.origin,
			a.minutes, a.waitlisted_at, o.title, o.place, o.neighbourhood_id, o.organisation_id, o.state,
			sh.starts_at, sh.ends_at,
			CASE WHEN a.status = 'waitlisted' THEN (SELECT COUNT(*) FROM applications w
				WHERE w.shift_id = a.shift_id AND w.status = 'waitlisted'
				  AND (w.waitlisted_at < a.waitlisted_at OR (w.waitlisted_at = a.waitlisted_at AND w.id <= a.id)))
			ELSE 0 END AS position
		FROM applications a JOIN shifts sh ON sh.id = a.shift_id JOIN opportunities o ON o.id = a.opportunity_id
		WHERE a.volunteer_id = ? ORDER BY sh.starts_at, a.id`), volunteerID)
	if err != nil {
		return nil, fmt.Errorf("commitments of %s: %w", volunteerID, err)
	}
	out := make([]Commitment, len(rows))
	for i, r := range rows {
		out[i] = Commitment{ApplicationID: r.ApplicationID, OpportunityID: r.OpportunityID, ShiftID: r.ShiftID,
			Title: r.Title, Place: r.Place, NeighbourhoodID: r.NeighbourhoodID, OrganisationID: r.OrganisationID,
			OpportunityState: r.State, Start: r.StartsAt.Time, End: r.EndsAt.Time, Status: r.Status, Origin: r.Origin,
			WaitlistPosition: r.Position, Minutes: r.Minutes}
	}
	return out, nil
}

// lockCalendarToken reads a volunteer's calendar token ("" when none yet) and locks
// the profile row until commit.
func (s *storage) lockCalendarToken(ctx context.Context, q queryer, userID string) (string, error) {
	var token string
	err := q.GetContext(ctx, &token, s.rb(`SELECT calendar_token FROM profiles WHERE user_id = ?`+s.lockRow), userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", sdk.Errorf(sdk.CodeNotFound, "no volunteer profile for user %s; create one first", userID)
	} else if err != nil {
		return "", fmt.Errorf("calendar token of %s: %w", userID, err)
	}
	return token, nil
}

func (s *storage) setCalendarToken(ctx context.Context, q queryer, userID, token string) error {
	if _, err := q.ExecContext(ctx, s.rb(`UPDATE profiles SET calendar_token = ? WHERE user_id = ?`), token, userID); err != nil {
		return fmt.Errorf("set calendar token of %s: %w", userID, err)
	}
	return nil
}

func (s *storage) userByCalendarToken(ctx context.Context, token string) (string, error) {
	var userID string
	err := s.db.GetContext(ctx, &userID, s.rb(`SELECT user_id FROM profiles WHERE calendar_token = ?`), token)
	if errors.Is(err, sql.ErrNoRows) || token == "" {
		return "", sdk.Errorf(sdk.CodeNotFound, "no such calendar")
	} else if err != nil {
		return "", fmt.Errorf("calendar by token: %w", err)
	}
	return userID, nil
}
