package assemblies

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// This file holds the plugin's SQL. Every query is written once with ? placeholders and
// rebound for the dialect; what only one database speaks is behind the dialect
// interface, in storage_postgres.go and storage_sqlite.go. Helpers take a
// sqlx.ExtContext so the service decides the transaction.

// dialect is the SQL that differs between the two databases. dialectOf picks the
// implementation once per store, and nothing else in the plugin looks at the dialect.
type dialect interface {
	// forUpdate is the clause that locks a row read for a change: a ballot either
	// commits before the close counts or finds the vote closed.
	forUpdate() string
	// jsonElements is a table of the elements of a JSON array of strings passed as
	// one parameter, in a column named value.
	jsonElements() string
	// castBallot records a ballot in its own transaction (see castResult); a motion
	// that does not exist in the assembly is not_found.
	castBallot(ctx context.Context, db *store.DB, assemblyID, motionID, userID string, b ballot) (castResult, error)
}

func dialectOf(db *store.DB) dialect {
	if db.IsPostgres() {
		return postgres{}
	}
	return sqlite{}
}

// castResult is what a ballot found and did: the vote's state and rules, whether the
// voter is in the electorate, whether this was their first ballot, and which ballot
// row it wrote (Service.CastBallot turns a refusal into its error).
type castResult struct {
	State            string `db:"state"`
	Secrecy          string `db:"secrecy"`
	BallotChangeable bool   `db:"ballot_changeable"`
	// VoteOpenedAt tells this round of voting from an earlier one on the same motion.
	VoteOpenedAt store.NullTime `db:"vote_opened_at"`
	Eligible     bool           `db:"eligible"`
	First        bool           `db:"first"`
	Sealed       int            `db:"sealed"`
	Named        int            `db:"named"`
}

// Times are stored as BIGINT Unix microseconds, UTC, the one encoding of Kvarter's
// plugin stores (migration 0003): rows hold store.Time and store.NullTime (NULL when
// an optional time is unset), queries compare with store.Micros.

// setTime is an optional time that is set.
func setTime(t time.Time) store.NullTime { return store.NullTime{Time: t, Valid: true} }

func get(ctx context.Context, q sqlx.ExtContext, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, q, dest, q.Rebind(query), args...)
}

func sel(ctx context.Context, q sqlx.ExtContext, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, q, dest, q.Rebind(query), args...)
}

func exec(ctx context.Context, q sqlx.ExtContext, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// keyset is the order of a list: its columns, ending in a unique one, and a value of
// each column's Go type, so that a cursor holding other types is refused rather than
// compared (PostgreSQL would fail on a string for a BIGINT).
type keyset struct {
	cols  []string
	kinds []any
}

var (
	byCreated = keyset{[]string{"created_at", "id"}, []any{int64(0), ""}}
	byStart   = keyset{[]string{"starts_at", "id"}, []any{int64(0), ""}}
	byApplied = keyset{[]string{"applied_at", "user_id"}, []any{int64(0), ""}}
)

// The keys of list items, for their cursors: the values of their keyset's columns.
func assemblyKey(a Assembly) []any { return []any{store.Micros(a.CreatedAt), a.ID} }
func memberKey(m Member) []any     { return []any{store.Micros(m.AppliedAt), m.UserID} }
func meetingKey(m Meeting) []any   { return []any{store.Micros(m.StartsAt), m.ID} }
func motionKey(m Motion) []any     { return []any{store.Micros(m.CreatedAt), m.ID} }

// page finishes a list query (its WHERE clause begun) with the keyset condition after
// the cursor, the order and the limit: q.Fetch() rows, one more than a page, or all
// rows for the zero ListQuery (the calendar and the export read whole lists).
func page(query string, args []any, q sdk.ListQuery, k keyset) (string, []any, error) {
	if q.Key != nil {
		if len(q.Key) != len(k.kinds) {
			return "", nil, badCursor()
		}
		for i, v := range q.Key {
			if reflect.TypeOf(v) != reflect.TypeOf(k.kinds[i]) {
				return "", nil, badCursor()
			}
		}
	}
	where, after, err := q.After(k.cols...)
	if err != nil {
		return "", nil, err
	}
	query += ` AND ` + where + ` ORDER BY ` + strings.Join(k.cols, ", ")
	args = append(args, after...)
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Fetch())
	}
	return query, args, nil
}

// selectPage finishes a list query with page and reads the rows; what names the list
// in an error.
func selectPage[T any](ctx context.Context, q sqlx.ExtContext, query string, args []any, lq sdk.ListQuery, k keyset, what string) ([]T, error) {
	query, args, err := page(query, args, lq, k)
	if err != nil {
		return nil, err
	}
	var rows []T
	if err := sel(ctx, q, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return rows, nil
}

func badCursor() error {
	e := sdk.Malformed("cursor: is not a cursor this list gave; start again without it")
	e.Fields = map[string]string{"cursor": "is not a cursor this list gave"}
	return e
}

// notFound turns sql.ErrNoRows into the caller-facing not_found error.
func notFound(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return sdk.Errorf(sdk.CodeNotFound, "%s %q does not exist", what, id)
	}
	return fmt.Errorf("find %s %s: %w", what, id, err)
}

// --- assemblies ---

type assemblyRow struct {
	ID               string     `db:"id"`
	NeighbourhoodID  string     `db:"neighbourhood_id"`
	Name             string     `db:"name"`
	Charter          string     `db:"charter"`
	QuorumPercent    int        `db:"quorum_percent"`
	QuorumAbsolute   int        `db:"quorum_absolute"`
	Majority         string     `db:"majority"`
	Secrecy          string     `db:"secrecy"`
	Membership       string     `db:"membership"`
	BallotChangeable bool       `db:"ballot_changeable"`
	TermMonths       int        `db:"term_months"`
	OrgSeats         int        `db:"org_seats"`
	CreatedBy        string     `db:"created_by"`
	CreatedAt        store.Time `db:"created_at"`
	Members          int        `db:"members"`
	OverdueAnswers   int        `db:"overdue_answers"`
	// DataVersion counts the changes of the assembly's members, meetings and motions
	// (migration 0006's triggers).
	DataVersion int64 `db:"data_version"`
}

func (r assemblyRow) assembly() Assembly {
	return Assembly{
		ID: r.ID, NeighbourhoodID: r.NeighbourhoodID, Name: r.Name, Charter: r.Charter,
		CreatedAt: r.CreatedAt.Time, Members: r.Members, OverdueAnswers: r.OverdueAnswers,
		Rules: Rules{
			QuorumPercent: r.QuorumPercent, QuorumAbsolute: r.QuorumAbsolute, Majority: r.Majority,
			Secrecy: r.Secrecy, Membership: r.Membership, BallotChangeable: r.BallotChangeable,
			TermMonths: r.TermMonths, OrgSeats: r.OrgSeats,
		},
	}
}

func insertAssembly(ctx context.Context, q sqlx.ExtContext, a Assembly, by string) error {
	_, err := exec(ctx, q, `INSERT INTO assemblies (id, neighbourhood_id, name, charter, quorum_percent,
		quorum_absolute, majority, secrecy, membership, ballot_changeable, term_months, org_seats,
		created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.NeighbourhoodID, a.Name, a.Charter, a.QuorumPercent, a.QuorumAbsolute, a.Majority,
		a.Secrecy, a.Membership, a.BallotChangeable, a.TermMonths, a.OrgSeats, by, store.Micros(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert assembly: %w", err)
	}
	return nil
}

// updateAssembly writes an assembly's name, charter and rules.
func updateAssembly(ctx context.Context, q sqlx.ExtContext, id string, in CreateAssemblyInput) error {
	_, err := exec(ctx, q, `UPDATE assemblies SET name = ?, charter = ?, quorum_percent = ?, quorum_absolute = ?,
		majority = ?, secrecy = ?, membership = ?, ballot_changeable = ?, term_months = ?, org_seats = ? WHERE id = ?`,
		in.Name, in.Charter, in.QuorumPercent, in.QuorumAbsolute, in.Majority, in.Secrecy, in.Membership,
		in.BallotChangeable, in.TermMonths, in.OrgSeats, id)
	if err != nil {
		return fmt.Errorf("update assembly %s: %w", id, err)
	}
	return nil
}

// assemblySelect counts active members and overdue answers alongside each assembly;
// the first placeholder is "now" for the overdue comparison.
const assemblySelect = `SELECT a.id, a.neighbourhood_id, a.name, a.charter, a.quorum_percent,
	a.quorum_absolute, a.majority, a.secrecy, a.membership, a.ballot_changeable, a.term_months,
	a.org_seats, a.created_by, a.created_at, a.data_version,
	(SELECT COUNT(*) FROM members m WHERE m.assembly_id = a.id AND m.status = 'active') AS members,
	(SELECT COUNT(*) FROM motions o WHERE o.assembly_id = a.id AND ` + overdue + `) AS overdue_answers
	FROM assemblies a`

// overdue selects the adopted motions whose answer from the city is past its
// deadline (the placeholder is "now"); an answer that came late is no longer owed.
const overdue = `answer_status IN ('submitted', 'acknowledged') AND answer_due_at < ?`

func getAssembly(ctx context.Context, q sqlx.ExtContext, id string, now time.Time) (Assembly, error) {
	r, err := getAssemblyRow(ctx, q, id, now)
	return r.assembly(), err
}

func getAssemblyRow(ctx context.Context, q sqlx.ExtContext, id string, now time.Time) (assemblyRow, error) {
	var r assemblyRow
	if err := get(ctx, q, &r, assemblySelect+` WHERE a.id = ?`, store.Micros(now), id); err != nil {
		return r, notFound(err, "assembly", id)
	}
	return r, nil
}

// listAssemblies reads a page of assemblies, of one neighbourhood unless nbh is "",
// oldest first.
func listAssemblies(ctx context.Context, q sqlx.ExtContext, nbh string, now time.Time, lq sdk.ListQuery) ([]Assembly, error) {
	var rows []assemblyRow
	query, args := assemblySelect+` WHERE 1 = 1`, []any{store.Micros(now)}
	if nbh != "" {
		query += ` AND a.neighbourhood_id = ?`
		args = append(args, nbh)
	}
	query, args, err := page(query, args, lq, byCreated)
	if err != nil {
		return nil, err
	}
	if err := sel(ctx, q, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list assemblies: %w", err)
	}
	out := make([]Assembly, len(rows))
	for i, r := range rows {
		out[i] = r.assembly()
	}
	return out, nil
}

// --- members ---

type memberRow struct {
	AssemblyID     string         `db:"assembly_id"`
	UserID         string         `db:"user_id"`
	Kind           string         `db:"kind"`
	OrganisationID string         `db:"organisation_id"`
	Status         string         `db:"status"`
	Position       string         `db:"position"`
	TermStart      store.NullTime `db:"term_start"`
	TermEnd        store.NullTime `db:"term_end"`
	AppliedAt      store.Time     `db:"applied_at"`
	JoinedAt       store.NullTime `db:"joined_at"`
	EndedAt        store.NullTime `db:"ended_at"`
	EndReason      string         `db:"end_reason"`
}

func (r memberRow) member() Member {
	return Member{
		UserID: r.UserID, Kind: r.Kind, OrganisationID: r.OrganisationID, Status: r.Status,
		Position: r.Position, TermStart: r.TermStart.Ptr(), TermEnd: r.TermEnd.Ptr(),
		AppliedAt: r.AppliedAt.Time, JoinedAt: r.JoinedAt.Ptr(), EndReason: r.EndReason,
	}
}

const memberCols = `assembly_id, user_id, kind, organisation_id, status, position, term_start,
	term_end, applied_at, joined_at, ended_at, end_reason`

// getMember returns sql.ErrNoRows (wrapped) when the person never joined.
func getMember(ctx context.Context, q sqlx.ExtContext, assemblyID, userID string) (memberRow, error) {
	var r memberRow
	err := get(ctx, q, &r, `SELECT `+memberCols+` FROM members WHERE assembly_id = ? AND user_id = ?`, assemblyID, userID)
	return r, err
}

// putMember inserts or replaces a membership row: a person who left and comes back
// keeps one row per assembly.
func putMember(ctx context.Context, q sqlx.ExtContext, r memberRow) error {
	_, err := exec(ctx, q, `INSERT INTO members (`+memberCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (assembly_id, user_id) DO UPDATE SET kind = excluded.kind,
		organisation_id = excluded.organisation_id, status = excluded.status, position = excluded.position,
		term_start = excluded.term_start, term_end = excluded.term_end, applied_at = excluded.applied_at,
		joined_at = excluded.joined_at, ended_at = excluded.ended_at, end_reason = excluded.end_reason`,
		r.AssemblyID, r.UserID, r.Kind, r.OrganisationID, r.Status, r.Position, r.TermStart, r.TermEnd,
		r.AppliedAt, r.JoinedAt, r.EndedAt, r.EndReason)
	if err != nil {
		return fmt.Errorf("save member %s: %w", r.UserID, err)
	}
	return nil
}

// listMembers reads a page of an assembly's members in the given statuses, in the
// order they applied.
func listMembers(ctx context.Context, q sqlx.ExtContext, assemblyID string, statuses []string, lq sdk.ListQuery) ([]memberRow, error) {
	query, args, err := sqlx.In(`SELECT `+memberCols+` FROM members WHERE assembly_id = ? AND status IN (?)`, assemblyID, statuses)
	if err == nil {
		query, args, err = page(query, args, lq, byApplied)
	}
	if err != nil {
		return nil, err
	}
	var rows []memberRow
	if err := sel(ctx, q, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return rows, nil
}

func countDelegates(ctx context.Context, q sqlx.ExtContext, assemblyID, orgID string) (all, ofOrg int, err error) {
	err = get(ctx, q, &all, `SELECT COUNT(*) FROM members WHERE assembly_id = ? AND kind = 'delegate' AND status = 'active'`, assemblyID)
	if err == nil {
		err = get(ctx, q, &ofOrg, `SELECT COUNT(*) FROM members WHERE assembly_id = ? AND kind = 'delegate'
			AND status = 'active' AND organisation_id = ?`, assemblyID, orgID)
	}
	if err != nil {
		err = fmt.Errorf("count delegates: %w", err)
	}
	return all, ofOrg, err
}

// --- meetings ---

type meetingRow struct {
	ID            string     `db:"id"`
	AssemblyID    string     `db:"assembly_id"`
	Title         string     `db:"title"`
	StartsAt      store.Time `db:"starts_at"`
	EndsAt        store.Time `db:"ends_at"`
	Place         string     `db:"place"`
	OnlineURL     string     `db:"online_url"`
	Status        string     `db:"status"`
	CancelReason  string     `db:"cancel_reason"`
	Minutes       string     `db:"minutes"`
	MinutesStatus string     `db:"minutes_status"`
	Sequence      int        `db:"sequence"`
	CreatedAt     store.Time `db:"created_at"`
	UpdatedAt     store.Time `db:"updated_at"`
}

const meetingCols = `id, assembly_id, title, starts_at, ends_at, place, online_url, status,
	cancel_reason, minutes, minutes_status, sequence, created_at, updated_at`

// status is the meeting's place in its life cycle at now: cancelled, or scheduled
// until it begins and held from then on.
func (r meetingRow) status(now time.Time) string {
	if r.Status == MeetingCancelled {
		return MeetingCancelled
	}
	if now.Before(r.StartsAt.Time) {
		return MeetingScheduled
	}
	return MeetingHeld
}

func (r meetingRow) meeting(now time.Time) Meeting {
	m := Meeting{
		ID: r.ID, AssemblyID: r.AssemblyID, Title: r.Title, StartsAt: r.StartsAt.Time,
		EndsAt: r.EndsAt.Time, Place: r.Place, OnlineURL: r.OnlineURL, Status: r.status(now),
		Mode: meetingMode(r.Place, r.OnlineURL), CancelReason: r.CancelReason, MinutesStatus: r.MinutesStatus,
		Sequence: r.Sequence, UpdatedAt: r.UpdatedAt.Time, Agenda: []AgendaItem{}, Attendance: []string{}, Remote: []string{},
	}
	if r.MinutesStatus == MinutesPublished {
		m.Minutes = r.Minutes
	}
	return m
}

func insertMeeting(ctx context.Context, q sqlx.ExtContext, r meetingRow) error {
	_, err := exec(ctx, q, `INSERT INTO meetings (`+meetingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.AssemblyID, r.Title, r.StartsAt, r.EndsAt, r.Place, r.OnlineURL, r.Status, r.CancelReason,
		r.Minutes, r.MinutesStatus, r.Sequence, r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert meeting: %w", err)
	}
	return nil
}

func updateMeeting(ctx context.Context, q sqlx.ExtContext, r meetingRow) error {
	_, err := exec(ctx, q, `UPDATE meetings SET status = ?, cancel_reason = ?, minutes = ?, minutes_status = ?,
		sequence = ?, updated_at = ? WHERE id = ?`,
		r.Status, r.CancelReason, r.Minutes, r.MinutesStatus, r.Sequence, r.UpdatedAt, r.ID)
	if err != nil {
		return fmt.Errorf("update meeting %s: %w", r.ID, err)
	}
	return nil
}

// updateMeetingDetails writes what an edit changes: title, time, place, link.
func updateMeetingDetails(ctx context.Context, q sqlx.ExtContext, r meetingRow) error {
	_, err := exec(ctx, q, `UPDATE meetings SET title = ?, starts_at = ?, ends_at = ?, place = ?, online_url = ?,
		sequence = ?, updated_at = ? WHERE id = ?`,
		r.Title, r.StartsAt, r.EndsAt, r.Place, r.OnlineURL, r.Sequence, r.UpdatedAt, r.ID)
	if err != nil {
		return fmt.Errorf("edit meeting %s: %w", r.ID, err)
	}
	return nil
}

func getMeeting(ctx context.Context, q sqlx.ExtContext, assemblyID, id string) (meetingRow, error) {
	var r meetingRow
	if err := get(ctx, q, &r, `SELECT `+meetingCols+` FROM meetings WHERE id = ? AND assembly_id = ?`, id, assemblyID); err != nil {
		return r, notFound(err, "meeting", id)
	}
	return r, nil
}

// listMeetings reads a page of an assembly's meetings, earliest first.
func listMeetings(ctx context.Context, q sqlx.ExtContext, assemblyID string, lq sdk.ListQuery) ([]meetingRow, error) {
	return listMeetingsWhen(ctx, q, assemblyID, "", time.Time{}, lq)
}

// listMeetingsWhen reads a page of an assembly's meetings, earliest first: upcoming
// (not begun at now), past (begun), or all for when "".
func listMeetingsWhen(ctx context.Context, q sqlx.ExtContext, assemblyID, when string, now time.Time, lq sdk.ListQuery) ([]meetingRow, error) {
	query, args := `SELECT `+meetingCols+` FROM meetings WHERE assembly_id = ?`, []any{assemblyID}
	switch when {
	case MeetingsUpcoming:
		query += ` AND starts_at > ?`
		args = append(args, store.Micros(now))
	case MeetingsPast:
		query += ` AND starts_at <= ?`
		args = append(args, store.Micros(now))
	}
	return selectPage[meetingRow](ctx, q, query, args, lq, byStart, "meetings")
}

func replaceAgenda(ctx context.Context, q sqlx.ExtContext, meetingID string, items []AgendaItem) error {
	if _, err := exec(ctx, q, `DELETE FROM agenda_items WHERE meeting_id = ?`, meetingID); err != nil {
		return fmt.Errorf("clear agenda: %w", err)
	}
	for i, it := range items {
		if _, err := exec(ctx, q, `INSERT INTO agenda_items (meeting_id, position, title, motion_id) VALUES (?, ?, ?, ?)`,
			meetingID, i+1, it.Title, it.MotionID); err != nil {
			return fmt.Errorf("insert agenda item: %w", err)
		}
	}
	return nil
}

// fillMeetings loads agendas and attendance for the given meetings.
func fillMeetings(ctx context.Context, q sqlx.ExtContext, ms []Meeting) error {
	if len(ms) == 0 {
		return nil
	}
	idx := map[string]int{}
	ids := make([]string, len(ms))
	for i, m := range ms {
		idx[m.ID], ids[i] = i, m.ID
	}
	var items []struct {
		MeetingID string `db:"meeting_id"`
		Title     string `db:"title"`
		MotionID  string `db:"motion_id"`
	}
	query, args, _ := sqlx.In(`SELECT meeting_id, title, motion_id FROM agenda_items WHERE meeting_id IN (?) ORDER BY meeting_id, position`, ids)
	if err := sel(ctx, q, &items, query, args...); err != nil {
		return fmt.Errorf("load agendas: %w", err)
	}
	for _, it := range items {
		m := &ms[idx[it.MeetingID]]
		m.Agenda = append(m.Agenda, AgendaItem{Title: it.Title, MotionID: it.MotionID})
	}
	var att []struct {
		MeetingID string `db:"meeting_id"`
		UserID    string `db:"user_id"`
		Remote    bool   `db:"remote"`
	}
	query, args, _ = sqlx.In(`SELECT meeting_id, user_id, remote FROM attendance WHERE meeting_id IN (?) ORDER BY meeting_id, user_id`, ids)
	if err := sel(ctx, q, &att, query, args...); err != nil {
		return fmt.Errorf("load attendance: %w", err)
	}
	for _, a := range att {
		m := &ms[idx[a.MeetingID]]
		m.Attendance = append(m.Attendance, a.UserID)
		if a.Remote {
			m.Remote = append(m.Remote, a.UserID)
		}
	}
	return nil
}

// --- motions ---

type motionRow struct {
	ID               string         `db:"id"`
	AssemblyID       string         `db:"assembly_id"`
	Kind             string         `db:"kind"`
	Title            string         `db:"title"`
	Text             string         `db:"text"`
	AuthorID         string         `db:"author_id"`
	State            string         `db:"state"`
	AdviceDueAt      store.NullTime `db:"advice_due_at"`
	Secrecy          string         `db:"secrecy"`
	Majority         string         `db:"majority"`
	QuorumPercent    int            `db:"quorum_percent"`
	QuorumAbsolute   int            `db:"quorum_absolute"`
	BallotChangeable bool           `db:"ballot_changeable"`
	MeetingID        string         `db:"meeting_id"`
	Electorate       int            `db:"electorate"`
	VoteOpenedAt     store.NullTime `db:"vote_opened_at"`
	VoteClosedAt     store.NullTime `db:"vote_closed_at"`
	Outcome          string         `db:"outcome"`
	Yes              int            `db:"yes_count"`
	No               int            `db:"no_count"`
	Abstain          int            `db:"abstain_count"`
	AnswerStatus     string         `db:"answer_status"`
	AnswerDueAt      store.NullTime `db:"answer_due_at"`
	AnswerDecision   string         `db:"answer_decision"`
	AnswerReasoning  string         `db:"answer_reasoning"`
	AnsweredBy       string         `db:"answered_by"`
	AnsweredAt       store.NullTime `db:"answered_at"`
	CreatedAt        store.Time     `db:"created_at"`
	UpdatedAt        store.Time     `db:"updated_at"`
}

const motionCols = `id, assembly_id, kind, title, text, author_id, state, advice_due_at, secrecy,
	majority, quorum_percent, quorum_absolute, ballot_changeable, meeting_id, electorate,
	vote_opened_at, vote_closed_at, outcome, yes_count, no_count, abstain_count, answer_status,
	answer_due_at, answer_decision, answer_reasoning, answered_by, answered_at, created_at, updated_at`

func (r motionRow) motion(now time.Time) Motion {
	m := Motion{
		ID: r.ID, AssemblyID: r.AssemblyID, Kind: r.Kind, Title: r.Title, Text: r.Text,
		AuthorID: r.AuthorID, State: r.State, AdviceDueAt: r.AdviceDueAt.Ptr(),
		Sponsors: []string{}, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
	}
	if r.VoteOpenedAt.Valid {
		v := &Vote{
			Secrecy: r.Secrecy, Majority: r.Majority, QuorumPercent: r.QuorumPercent,
			QuorumAbsolute: r.QuorumAbsolute, BallotChangeable: r.BallotChangeable,
			MeetingID: r.MeetingID, Electorate: r.Electorate, OpenedAt: r.VoteOpenedAt.Time,
			ClosedAt: r.VoteClosedAt.Ptr(), Outcome: r.Outcome,
		}
		if r.VoteClosedAt.Valid {
			v.Counts = &Counts{Yes: r.Yes, No: r.No, Abstain: r.Abstain}
		}
		m.Vote = v
	}
	if r.AnswerStatus != "" {
		due := r.AnswerDueAt.Time
		a := &Answer{
			Status: r.AnswerStatus, DueAt: due, Decision: r.AnswerDecision, Reasoning: r.AnswerReasoning,
			AnsweredBy: r.AnsweredBy, AnsweredAt: r.AnsweredAt.Ptr(),
		}
		switch r.AnswerStatus {
		case AnswerSubmitted, AnswerAcknowledged:
			a.Overdue = now.After(due)
		default:
			// An answer that came late stays marked, so the record shows it.
			a.Overdue = a.AnsweredAt != nil && a.AnsweredAt.After(due)
		}
		m.Answer = a
	}
	return m
}

func insertMotion(ctx context.Context, q sqlx.ExtContext, r motionRow) error {
	_, err := exec(ctx, q, `INSERT INTO motions (id, assembly_id, kind, title, text, author_id, state,
		advice_due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.AssemblyID, r.Kind, r.Title, r.Text, r.AuthorID, r.State, r.AdviceDueAt, r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert motion: %w", err)
	}
	return nil
}

// getMotion reads a motion of an assembly.
func getMotion(ctx context.Context, q sqlx.ExtContext, assemblyID, id string) (motionRow, error) {
	return readMotion(ctx, q, assemblyID, id, "")
}

// getMotionForUpdate reads a motion of an assembly and locks its row until the
// transaction ends, so that ballots and other changes of the motion wait for it.
func getMotionForUpdate(ctx context.Context, tx *store.Tx, d dialect, assemblyID, id string) (motionRow, error) {
	return readMotion(ctx, tx, assemblyID, id, d.forUpdate())
}

func readMotion(ctx context.Context, q sqlx.ExtContext, assemblyID, id, lock string) (motionRow, error) {
	var r motionRow
	if err := get(ctx, q, &r, `SELECT `+motionCols+` FROM motions WHERE id = ? AND assembly_id = ?`+lock, id, assemblyID); err != nil {
		return r, notFound(err, "motion", id)
	}
	return r, nil
}

// motionFilter narrows a list of motions: to one state, and to those whose answer
// is overdue at OverdueAt (when not zero).
type motionFilter struct {
	State, Kind string
	OverdueAt   time.Time
	// Awaiting: adopted and not yet answered by the city.
	Awaiting bool
	// HideDrafts leaves out the drafts, but those by DraftsOf (a user id, or "").
	HideDrafts bool
	DraftsOf   string
}

// listMotions reads a page of an assembly's motions, oldest first.
func listMotions(ctx context.Context, q sqlx.ExtContext, assemblyID string, f motionFilter, lq sdk.ListQuery) ([]motionRow, error) {
	query, args := `SELECT `+motionCols+` FROM motions WHERE assembly_id = ?`, []any{assemblyID}
	if f.State != "" {
		query += ` AND state = ?`
		args = append(args, f.State)
	}
	if f.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Awaiting {
		query += ` AND answer_status IN ('submitted', 'acknowledged')`
	}
	if f.HideDrafts && f.DraftsOf == "" {
		query += ` AND state <> 'draft'`
	} else if f.HideDrafts {
		query += ` AND (state <> 'draft' OR author_id = ?)`
		args = append(args, f.DraftsOf)
	}
	if !f.OverdueAt.IsZero() {
		query += ` AND ` + overdue
		args = append(args, store.Micros(f.OverdueAt))
	}
	return selectPage[motionRow](ctx, q, query, args, lq, byCreated, "motions")
}

// prefixed qualifies every column of a list with a table alias.
func prefixed(alias, cols string) string {
	out := strings.Split(cols, ",")
	for i, c := range out {
		out[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(out, ", ")
}

// dueRow is an unanswered adopted motion with its assembly.
type dueRow struct {
	motionRow
	AssemblyName    string `db:"assembly_name"`
	NeighbourhoodID string `db:"neighbourhood_id"`
}

var byDue = keyset{[]string{"o.answer_due_at", "o.id"}, []any{int64(0), ""}}

// listAnswersDue reads a page of the city's unanswered adopted motions, nearest
// deadline first; overdueOnly keeps those past it at now. The WHERE clause is the
// partial index motions_answer_due's (migration 0005), so the read stops at the page.
func listAnswersDue(ctx context.Context, q sqlx.ExtContext, now time.Time, overdueOnly bool, lq sdk.ListQuery) ([]dueRow, error) {
	query := `SELECT ` + prefixed("o", motionCols) + `, a.name AS assembly_name, a.neighbourhood_id
		FROM motions o JOIN assemblies a ON a.id = o.assembly_id
		WHERE o.answer_status IN ('submitted', 'acknowledged')`
	var args []any
	if overdueOnly {
		query += ` AND o.answer_due_at < ?`
		args = append(args, store.Micros(now))
	}
	return selectPage[dueRow](ctx, q, query, args, lq, byDue, "answers due")
}

// saveMotion writes every mutable column of a motion.
func saveMotion(ctx context.Context, q sqlx.ExtContext, r motionRow) error {
	_, err := exec(ctx, q, `UPDATE motions SET state = ?, secrecy = ?, majority = ?, quorum_percent = ?,
		quorum_absolute = ?, ballot_changeable = ?, meeting_id = ?, electorate = ?, vote_opened_at = ?,
		vote_closed_at = ?, outcome = ?, yes_count = ?, no_count = ?, abstain_count = ?, answer_status = ?,
		answer_due_at = ?, answer_decision = ?, answer_reasoning = ?, answered_by = ?, answered_at = ?,
		updated_at = ? WHERE id = ?`,
		r.State, r.Secrecy, r.Majority, r.QuorumPercent, r.QuorumAbsolute, r.BallotChangeable, r.MeetingID,
		r.Electorate, r.VoteOpenedAt, r.VoteClosedAt, r.Outcome, r.Yes, r.No, r.Abstain, r.AnswerStatus,
		r.AnswerDueAt, r.AnswerDecision, r.AnswerReasoning, r.AnsweredBy, r.AnsweredAt, r.UpdatedAt, r.ID)
	if err != nil {
		return fmt.Errorf("save motion %s: %w", r.ID, err)
	}
	return nil
}

func sponsorsOf(ctx context.Context, q sqlx.ExtContext, motionID string) ([]string, error) {
	ids := []string{}
	if err := sel(ctx, q, &ids, `SELECT user_id FROM sponsors WHERE motion_id = ? ORDER BY user_id`, motionID); err != nil {
		return nil, fmt.Errorf("load sponsors: %w", err)
	}
	return ids, nil
}

// fillSponsors loads the co-sponsors of a page of motions in one query, so that a
// list shows what each motion shows.
func fillSponsors(ctx context.Context, q sqlx.ExtContext, ms []Motion) error {
	if len(ms) == 0 {
		return nil
	}
	idx := make(map[string]int, len(ms))
	ids := make([]string, len(ms))
	for i, m := range ms {
		idx[m.ID], ids[i] = i, m.ID
	}
	var rows []struct {
		MotionID string `db:"motion_id"`
		UserID   string `db:"user_id"`
	}
	query, args, _ := sqlx.In(`SELECT motion_id, user_id FROM sponsors WHERE motion_id IN (?) ORDER BY motion_id, user_id`, ids)
	if err := sel(ctx, q, &rows, query, args...); err != nil {
		return fmt.Errorf("load sponsors: %w", err)
	}
	for _, r := range rows {
		m := &ms[idx[r.MotionID]]
		m.Sponsors = append(m.Sponsors, r.UserID)
	}
	return nil
}

func addTimeline(ctx context.Context, q sqlx.ExtContext, motionID string, at time.Time, kind, actor string, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	if detail == nil {
		b = []byte("{}")
	}
	if _, err := exec(ctx, q, `INSERT INTO timeline (motion_id, at, kind, actor_id, detail) VALUES (?, ?, ?, ?, ?)`,
		motionID, store.Micros(at), kind, actor, string(b)); err != nil {
		return fmt.Errorf("add timeline entry: %w", err)
	}
	return nil
}

func timelineOf(ctx context.Context, q sqlx.ExtContext, motionID string) ([]TimelineEntry, error) {
	var rows []struct {
		At      store.Time `db:"at"`
		Kind    string     `db:"kind"`
		ActorID string     `db:"actor_id"`
		Detail  string     `db:"detail"`
	}
	if err := sel(ctx, q, &rows, `SELECT at, kind, actor_id, detail FROM timeline WHERE motion_id = ? ORDER BY id`, motionID); err != nil {
		return nil, fmt.Errorf("load timeline: %w", err)
	}
	out := make([]TimelineEntry, len(rows))
	for i, r := range rows {
		out[i] = TimelineEntry{At: r.At.Time, Kind: r.Kind, ActorID: r.ActorID}
		if r.Detail != "{}" {
			_ = json.Unmarshal([]byte(r.Detail), &out[i].Detail)
		}
	}
	return out, nil
}

// --- voting ---

// freezeElectorate copies the members eligible now into the vote's electorate, and
// returns its size. presentAt limits it to the attendance of a meeting.
func freezeElectorate(ctx context.Context, q sqlx.ExtContext, assemblyID, motionID, presentAt string, now time.Time) (int, error) {
	query := `INSERT INTO electorate (motion_id, user_id) SELECT ?, user_id FROM members
		WHERE assembly_id = ? AND status = 'active' AND (term_end IS NULL OR term_end > ?)`
	args := []any{motionID, assemblyID, store.Micros(now)}
	if presentAt != "" {
		query += ` AND user_id IN (SELECT user_id FROM attendance WHERE meeting_id = ?)`
		args = append(args, presentAt)
	}
	n, err := exec(ctx, q, query, args...)
	if err != nil {
		return 0, fmt.Errorf("freeze electorate: %w", err)
	}
	return int(n), nil
}

func inElectorate(ctx context.Context, q sqlx.ExtContext, motionID, userID string) (bool, error) {
	var n int
	if err := get(ctx, q, &n, `SELECT COUNT(*) FROM electorate WHERE motion_id = ? AND user_id = ?`, motionID, userID); err != nil {
		return false, fmt.Errorf("check electorate: %w", err)
	}
	return n > 0, nil
}

// markVoted records that userID has voted; false when they already had. The primary
// key makes this exact under any concurrency, on one node or many.
func markVoted(ctx context.Context, q sqlx.ExtContext, motionID, userID string) (bool, error) {
	n, err := exec(ctx, q, `INSERT INTO voters (motion_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, motionID, userID)
	if err != nil {
		return false, fmt.Errorf("record voter: %w", err)
	}
	return n == 1, nil
}

// putSealedBallot records (or, where changing is allowed, replaces) a sealed secret
// ballot.
func putSealedBallot(ctx context.Context, q sqlx.ExtContext, motionID, userID string, sealed []byte) error {
	_, err := exec(ctx, q, `INSERT INTO sealed_ballots (motion_id, user_id, sealed) VALUES (?, ?, ?)
		ON CONFLICT (motion_id, user_id) DO UPDATE SET sealed = excluded.sealed`, motionID, userID, sealed)
	if err != nil {
		return fmt.Errorf("record sealed ballot: %w", err)
	}
	return nil
}

// sealedBallots returns the sealed ballots of a vote, without their voters.
func sealedBallots(ctx context.Context, q sqlx.ExtContext, motionID string) ([][]byte, error) {
	var out [][]byte
	if err := sel(ctx, q, &out, `SELECT sealed FROM sealed_ballots WHERE motion_id = ?`, motionID); err != nil {
		return nil, fmt.Errorf("load sealed ballots: %w", err)
	}
	return out, nil
}

// replaceSealed writes a vote's opened choices, in the order given (shuffled), and
// deletes its sealed ballots. The choices travel as one JSON array, expanded by the
// database (jsonElements): one statement however many ballots a close writes.
func replaceSealed(ctx context.Context, q sqlx.ExtContext, d dialect, motionID string, choices []string) error {
	list, err := json.Marshal(choices)
	if err != nil {
		return fmt.Errorf("write opened ballots: %w", err)
	}
	if _, err := exec(ctx, q, `INSERT INTO secret_ballots (motion_id, choice) SELECT ?, value FROM `+d.jsonElements(),
		motionID, string(list)); err != nil {
		return fmt.Errorf("write opened ballots: %w", err)
	}
	if _, err := exec(ctx, q, `DELETE FROM sealed_ballots WHERE motion_id = ?`, motionID); err != nil {
		return fmt.Errorf("delete sealed ballots: %w", err)
	}
	return nil
}

func putNamedBallot(ctx context.Context, q sqlx.ExtContext, motionID, userID, choice string) error {
	_, err := exec(ctx, q, `INSERT INTO named_ballots (motion_id, user_id, choice) VALUES (?, ?, ?)
		ON CONFLICT (motion_id, user_id) DO UPDATE SET choice = excluded.choice`, motionID, userID, choice)
	if err != nil {
		return fmt.Errorf("record ballot: %w", err)
	}
	return nil
}

// tally recounts a vote from its stored ballots and checks that the choices add up to
// the voters, so a lost or doubled ballot is an error rather than a wrong result.
func tally(ctx context.Context, q sqlx.ExtContext, motionID, secrecy string) (Counts, error) {
	var rows []struct {
		Choice string `db:"choice"`
		N      int    `db:"n"`
	}
	query, args := `SELECT choice, COUNT(*) AS n FROM named_ballots WHERE motion_id = ? GROUP BY choice`, []any{motionID}
	if secrecy == SecrecySecret {
		// The opened ballots, plus the counters of a vote opened before ballots were
		// sealed (migration 0002).
		query = `SELECT choice, SUM(n) AS n FROM (
			SELECT choice, 1 AS n FROM secret_ballots WHERE motion_id = ?
			UNION ALL SELECT choice, n FROM secret_tally WHERE motion_id = ?) b GROUP BY choice`
		args = append(args, motionID)
	}
	if err := sel(ctx, q, &rows, query, args...); err != nil {
		return Counts{}, fmt.Errorf("tally: %w", err)
	}
	var c Counts
	for _, r := range rows {
		switch r.Choice {
		case ChoiceYes:
			c.Yes = r.N
		case ChoiceNo:
			c.No = r.N
		case ChoiceAbstain:
			c.Abstain = r.N
		default:
			return Counts{}, fmt.Errorf("tally: unknown choice %q stored", r.Choice)
		}
	}
	var voters int
	if err := get(ctx, q, &voters, `SELECT COUNT(*) FROM voters WHERE motion_id = ?`, motionID); err != nil {
		return Counts{}, fmt.Errorf("count voters: %w", err)
	}
	if voters != c.Total() {
		return Counts{}, fmt.Errorf("tally: %d voters but %d ballots for motion %s", voters, c.Total(), motionID)
	}
	return c, nil
}

// namedVote is one person's recorded choice in a named vote.
type namedVote struct {
	MotionID string `db:"motion_id"`
	UserID   string `db:"user_id"`
	Choice   string `db:"choice"`
}

func namedBallots(ctx context.Context, q sqlx.ExtContext, motionID string) ([]namedVote, error) {
	var out []namedVote
	if err := sel(ctx, q, &out, `SELECT motion_id, user_id, choice FROM named_ballots WHERE motion_id = ? ORDER BY user_id`, motionID); err != nil {
		return nil, fmt.Errorf("load named ballots: %w", err)
	}
	return out, nil
}

// --- erasure ---

// eraseUser removes a person from the plugin: memberships, attendance and sponsorships
// go; their name on motions, timelines and answers is blanked; in votes their rows are
// re-keyed to a pseudonym nobody can trace back, so counted ballots keep counting.
func eraseUser(ctx context.Context, q sqlx.ExtContext, userID, pseudonym string) error {
	steps := []struct {
		query string
		args  []any
	}{
		{`DELETE FROM members WHERE user_id = ?`, []any{userID}},
		{`DELETE FROM attendance WHERE user_id = ?`, []any{userID}},
		{`DELETE FROM sponsors WHERE user_id = ?`, []any{userID}},
		{`UPDATE motions SET author_id = '' WHERE author_id = ?`, []any{userID}},
		{`UPDATE motions SET answered_by = '' WHERE answered_by = ?`, []any{userID}},
		{`UPDATE timeline SET actor_id = '' WHERE actor_id = ?`, []any{userID}},
		{`UPDATE electorate SET user_id = ? WHERE user_id = ?`, []any{pseudonym, userID}},
		{`UPDATE voters SET user_id = ? WHERE user_id = ?`, []any{pseudonym, userID}},
		{`UPDATE named_ballots SET user_id = ? WHERE user_id = ?`, []any{pseudonym, userID}},
		{`UPDATE sealed_ballots SET user_id = ? WHERE user_id = ?`, []any{pseudonym, userID}},
	}
	for _, s := range steps {
		if _, err := exec(ctx, q, s.query, s.args...); err != nil {
			return fmt.Errorf("erase user (%s): %w", strings.Fields(s.query)[0], err)
		}
	}
	return nil
}
