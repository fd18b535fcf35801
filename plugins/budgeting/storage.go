package budgeting

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// This file holds every SQL statement of the plugin. The same text runs on SQLite and
// PostgreSQL through Rebind; exported Service methods own transactions and pass them in.

// Times are stored as BIGINT Unix microseconds UTC (store.Time), the one encoding of
// every plugin store; migration 0003 converted the text of earlier releases. The
// service hands storage times already truncated to the microsecond, so what it answers
// is what a later read returns.

// q is what the helpers run on: the pool or a transaction.
type q = sqlx.ExtContext

func get(ctx context.Context, db q, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, db, dest, db.Rebind(query), args...)
}

func sel(ctx context.Context, db q, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, db, dest, db.Rebind(query), args...)
}

func exec(ctx context.Context, db q, query string, args ...any) (int64, error) {
	res, err := db.ExecContext(ctx, db.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// dialectSQL is the SQL each dialect writes its own way, in storage_postgres.go and
// storage_sqlite.go, so that the service never asks which database it runs on.
type dialectSQL interface {
	// castFirst records a first ballot in one statement where the dialect can, or
	// answers castNotTried to leave it to CastBallot's transaction.
	castFirst(ctx context.Context, db *store.DB, cycleID, userID, ballotID, tokenHash string, sealed []byte) (castOutcome, error)
	// lockForClose makes the transaction closing voting wait for ballots still
	// committing, where the dialect lets them overlap it.
	lockForClose(ctx context.Context, tx *sqlx.Tx) error
}

// dialectOf returns the dialect-only SQL of db's dialect.
func dialectOf(db *store.DB) dialectSQL {
	if db.IsPostgres() {
		return postgresSQL{}
	}
	return sqliteSQL{}
}

// castOutcome is what a one-statement cast found.
type castOutcome int

const (
	castNotTried     castOutcome = iota // the dialect has no one-statement cast
	castClosed                          // the cycle is not in the voting phase
	castRecorded                        // the voter's first ballot is recorded
	castAlreadyVoted                    // the voter has voted before; nothing written
)

type cycleRow struct {
	ID              string         `db:"id"`
	ParentID        sql.NullString `db:"parent_id"`
	NeighbourhoodID string         `db:"neighbourhood_id"`
	Name            string         `db:"name"`
	Budget          int64          `db:"budget"`
	Currency        string         `db:"currency"`
	Ballot          string         `db:"ballot"`
	SupportTopN     int            `db:"support_top_n"`
	Simulation      bool           `db:"simulation"`
	MESIntegral     bool           `db:"mes_integral"`
	Phase           string         `db:"phase"`
	Schedule        string         `db:"schedule"`
	NextAt          store.NullTime `db:"next_at"`
	CreatedAt       store.Time     `db:"created_at"`
	UpdatedAt       store.Time     `db:"updated_at"`
	Country         string         `db:"country"`
	VotingBegan     store.NullTime `db:"voting_began"`
	VotingEnded     store.NullTime `db:"voting_ended"`
}

const cycleCols = `id, parent_id, neighbourhood_id, name, budget, currency, ballot, support_top_n,
	simulation, phase, schedule, next_at, created_at, updated_at, mes_integral, country, voting_began, voting_ended`

func (r cycleRow) cycle() (*Cycle, error) {
	c := &Cycle{
		ID: r.ID, ParentID: r.ParentID.String, NeighbourhoodID: r.NeighbourhoodID, Name: r.Name,
		Budget: r.Budget, Currency: r.Currency, SupportTopN: r.SupportTopN, Simulation: r.Simulation,
		MESIntegral: r.MESIntegral, Country: r.Country,
		Phase: Phase(r.Phase), CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
	}
	if r.VotingBegan.Valid {
		t := r.VotingBegan.Time
		c.VotingBegan = &t
	}
	if r.VotingEnded.Valid {
		t := r.VotingEnded.Time
		c.VotingEnded = &t
	}
	if err := json.Unmarshal([]byte(r.Ballot), &c.Ballot); err != nil {
		return nil, fmt.Errorf("cycle %s ballot: %w", r.ID, err)
	}
	var sched map[Phase]int64
	if err := json.Unmarshal([]byte(r.Schedule), &sched); err != nil {
		return nil, fmt.Errorf("cycle %s schedule: %w", r.ID, err)
	}
	c.Schedule = make(map[Phase]time.Time, len(sched))
	for p, us := range sched {
		c.Schedule[p] = store.FromMicros(us)
	}
	return c, nil
}

// scheduleJSON stores a schedule as a JSON object of phase to Unix microseconds.
func scheduleJSON(s map[Phase]time.Time) string {
	m := make(map[Phase]int64, len(s))
	for p, t := range s {
		m[p] = store.Micros(t)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func insertCycle(ctx context.Context, db q, c *Cycle, next *time.Time) error {
	ballot, _ := json.Marshal(c.Ballot)
	_, err := exec(ctx, db, `INSERT INTO cycles (`+cycleCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
		c.ID, nullString(c.ParentID), c.NeighbourhoodID, c.Name, c.Budget, c.Currency, string(ballot),
		c.SupportTopN, c.Simulation, string(c.Phase), scheduleJSON(c.Schedule), store.NullTimeOf(next),
		store.Micros(c.CreatedAt), store.Micros(c.UpdatedAt), c.MESIntegral, c.Country)
	if err != nil {
		return fmt.Errorf("insert cycle: %w", err)
	}
	return nil
}

func findCycle(ctx context.Context, db q, id string) (*Cycle, error) {
	var r cycleRow
	err := get(ctx, db, &r, `SELECT `+cycleCols+` FROM cycles WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sdk.Errorf(sdk.CodeNotFound, "cycle %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find cycle %s: %w", id, err)
	}
	return r.cycle()
}

// CycleFilter narrows a list of cycles.
type CycleFilter struct {
	NeighbourhoodID string
	ParentID        string
	// Simulations lists the simulation cycles (imported files) instead of the real
	// ones: a simulation is staff's tool, not a budget residents take part in.
	Simulations bool
}

// listCycles returns q.Fetch() cycles after q's cursor, in ID order (UUIDv7, so
// roughly by creation; a keyset on the unique ID, so stable under inserts).
func listCycles(ctx context.Context, db q, f CycleFilter, page sdk.ListQuery) ([]*Cycle, error) {
	after, args, err := page.After("id")
	if err != nil {
		return nil, err
	}
	where := []string{after}
	if f.NeighbourhoodID != "" {
		where, args = append(where, "neighbourhood_id = ?"), append(args, f.NeighbourhoodID)
	}
	if f.ParentID != "" {
		where, args = append(where, "parent_id = ?"), append(args, f.ParentID)
	}
	where, args = append(where, "simulation = ?"), append(args, f.Simulations)
	query := `SELECT ` + cycleCols + ` FROM cycles WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id LIMIT ?`
	var rows []cycleRow
	if err := sel(ctx, db, &rows, query, append(args, page.Fetch())...); err != nil {
		return nil, fmt.Errorf("list cycles: %w", err)
	}
	out := make([]*Cycle, 0, len(rows))
	for _, r := range rows {
		c, err := r.cycle()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// cyclePhase reads a cycle's phase as it is in db (a transaction, for CastBallot).
func cyclePhase(ctx context.Context, db q, id string) (Phase, error) {
	var phase string
	if err := get(ctx, db, &phase, `SELECT phase FROM cycles WHERE id = ?`, id); err != nil {
		return "", fmt.Errorf("read phase of cycle %s: %w", id, err)
	}
	return Phase(phase), nil
}

// movePhase moves a cycle from one phase to another only if it is still in from, so
// two nodes (or a tick and an officer) never both move it.
func movePhase(ctx context.Context, db q, id string, from, to Phase, next *time.Time, now time.Time) (bool, error) {
	n, err := exec(ctx, db, `UPDATE cycles SET phase = ?, next_at = ?, updated_at = ? WHERE id = ? AND phase = ?`,
		string(to), store.NullTimeOf(next), store.Micros(now), id, string(from))
	if err != nil {
		return false, fmt.Errorf("move cycle %s to %s: %w", id, to, err)
	}
	return n == 1, nil
}

// markVoting records when voting opened (a move into or past voting from before it)
// and closed (a move out of voting or past it), once each: the dates a Pabulib export
// gives.
func markVoting(ctx context.Context, db q, id string, from, to Phase, now time.Time) error {
	if from.index() < PhaseVoting.index() && to.index() >= PhaseVoting.index() {
		if _, err := exec(ctx, db, `UPDATE cycles SET voting_began = ? WHERE id = ? AND voting_began IS NULL`, store.Micros(now), id); err != nil {
			return fmt.Errorf("mark voting of cycle %s: %w", id, err)
		}
	}
	if from.index() <= PhaseVoting.index() && to.index() > PhaseVoting.index() {
		if _, err := exec(ctx, db, `UPDATE cycles SET voting_ended = ? WHERE id = ? AND voting_ended IS NULL`, store.Micros(now), id); err != nil {
			return fmt.Errorf("mark voting of cycle %s: %w", id, err)
		}
	}
	return nil
}

// updateCycle writes c's set-up, if c is still in the phase it was read in.
func updateCycle(ctx context.Context, db q, c *Cycle, next *time.Time) (bool, error) {
	ballot, _ := json.Marshal(c.Ballot)
	n, err := exec(ctx, db, `UPDATE cycles SET name = ?, country = ?, budget = ?, ballot = ?, support_top_n = ?,
		schedule = ?, next_at = ?, updated_at = ? WHERE id = ? AND phase = ?`,
		c.Name, c.Country, c.Budget, string(ballot), c.SupportTopN, scheduleJSON(c.Schedule), store.NullTimeOf(next),
		store.Micros(c.UpdatedAt), c.ID, string(c.Phase))
	if err != nil {
		return false, fmt.Errorf("update cycle %s: %w", c.ID, err)
	}
	return n == 1, nil
}

func setCycleBudget(ctx context.Context, db q, id string, budget int64, now time.Time) error {
	_, err := exec(ctx, db, `UPDATE cycles SET budget = ?, updated_at = ? WHERE id = ?`, budget, store.Micros(now), id)
	if err != nil {
		return fmt.Errorf("set budget of cycle %s: %w", id, err)
	}
	return nil
}

func dueCycles(ctx context.Context, db q, now time.Time) ([]string, error) {
	var ids []string
	if err := sel(ctx, db, &ids, `SELECT id FROM cycles WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY id`, store.Micros(now)); err != nil {
		return nil, fmt.Errorf("due cycles: %w", err)
	}
	return ids, nil
}

type proposalRow struct {
	ID             string         `db:"id"`
	CycleID        string         `db:"cycle_id"`
	AuthorID       sql.NullString `db:"author_id"`
	Title          string         `db:"title"`
	Description    string         `db:"description"`
	Category       string         `db:"category"`
	Location       string         `db:"location"`
	Cost           int64          `db:"cost"`
	FinalCost      int64          `db:"final_cost"`
	Status         string         `db:"status"`
	Reason         string         `db:"reason"`
	MergedInto     string         `db:"merged_into"`
	Implementation string         `db:"implementation"`
	CreatedAt      store.Time     `db:"created_at"`
	UpdatedAt      store.Time     `db:"updated_at"`
	Supports       int64          `db:"supports"`
	Anonymous      bool           `db:"anonymous"`
}

// proposalCols selects a proposal with its support count.
const proposalCols = `p.id, p.cycle_id, p.author_id, p.title, p.description, p.category, p.location,
	p.cost, p.final_cost, p.status, p.reason, p.merged_into, p.implementation, p.created_at, p.updated_at, p.anonymous,
	(SELECT COUNT(*) FROM supports s WHERE s.proposal_id = p.id) AS supports`

func (r proposalRow) proposal() *Proposal {
	return &Proposal{
		ID: r.ID, CycleID: r.CycleID, AuthorID: r.AuthorID.String, Title: r.Title,
		Description: r.Description, Category: r.Category, Location: r.Location, Cost: r.Cost,
		FinalCost: r.FinalCost, Status: r.Status, Reason: r.Reason, MergedInto: r.MergedInto,
		Supports: r.Supports, Implementation: r.Implementation, Updates: []Update{}, Attachments: []Attachment{},
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time, Anonymous: r.Anonymous,
	}
}

func insertProposal(ctx context.Context, db q, p *Proposal) error {
	_, err := exec(ctx, db, `INSERT INTO proposals (id, cycle_id, author_id, title, description, category,
		location, cost, final_cost, status, reason, merged_into, implementation, created_at, updated_at, anonymous)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.CycleID, nullString(p.AuthorID), p.Title, p.Description, p.Category, p.Location, p.Cost,
		p.FinalCost, p.Status, p.Reason, p.MergedInto, p.Implementation, store.Micros(p.CreatedAt), store.Micros(p.UpdatedAt), p.Anonymous)
	if err != nil {
		return fmt.Errorf("insert proposal: %w", err)
	}
	return nil
}

// updateProposal writes every mutable field of p.
func updateProposal(ctx context.Context, db q, p *Proposal) error {
	_, err := exec(ctx, db, `UPDATE proposals SET title = ?, description = ?, category = ?, location = ?,
		cost = ?, final_cost = ?, status = ?, reason = ?, merged_into = ?, implementation = ?, updated_at = ?,
		anonymous = ?
		WHERE id = ?`,
		p.Title, p.Description, p.Category, p.Location, p.Cost, p.FinalCost, p.Status, p.Reason,
		p.MergedInto, p.Implementation, store.Micros(p.UpdatedAt), p.Anonymous, p.ID)
	if err != nil {
		return fmt.Errorf("update proposal %s: %w", p.ID, err)
	}
	return nil
}

// touchProposal marks a proposal changed now (its files changed), which also locks
// its row until the transaction ends.
func touchProposal(ctx context.Context, db q, id string, now time.Time) error {
	if _, err := exec(ctx, db, `UPDATE proposals SET updated_at = ? WHERE id = ?`, store.Micros(now), id); err != nil {
		return fmt.Errorf("touch proposal %s: %w", id, err)
	}
	return nil
}

func findProposal(ctx context.Context, db q, cycleID, id string) (*Proposal, error) {
	var r proposalRow
	err := get(ctx, db, &r, `SELECT `+proposalCols+` FROM proposals p WHERE p.id = ? AND p.cycle_id = ?`, id, cycleID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sdk.Errorf(sdk.CodeNotFound, "proposal %s not found in cycle %s", id, cycleID)
	}
	if err != nil {
		return nil, fmt.Errorf("find proposal %s: %w", id, err)
	}
	return r.proposal(), nil
}

// listProposals lists all of a cycle's proposals in submission order (IDs are
// UUIDv7); status narrows to one status when set.
func listProposals(ctx context.Context, db q, cycleID, status string) ([]*Proposal, error) {
	return selectProposals(ctx, db, cycleID, status, "1 = 1", nil, -1)
}

// pageProposals is listProposals a page at a time: q.Fetch() proposals after q's
// cursor, a keyset on the unique ID.
func pageProposals(ctx context.Context, db q, cycleID, status string, page sdk.ListQuery) ([]*Proposal, error) {
	after, args, err := page.After("p.id")
	if err != nil {
		return nil, err
	}
	return selectProposals(ctx, db, cycleID, status, after, args, page.Fetch())
}

// selectProposals runs listProposals and pageProposals: after and its args narrow the
// rows, limit -1 means all.
func selectProposals(ctx context.Context, db q, cycleID, status, after string, afterArgs []any, limit int) ([]*Proposal, error) {
	query := `SELECT ` + proposalCols + ` FROM proposals p WHERE p.cycle_id = ? AND ` + after
	args := append([]any{cycleID}, afterArgs...)
	if status != "" {
		query, args = query+` AND p.status = ?`, append(args, status)
	}
	query += ` ORDER BY p.id`
	if limit >= 0 {
		query, args = query+` LIMIT ?`, append(args, limit)
	}
	var rows []proposalRow
	if err := sel(ctx, db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list proposals of %s: %w", cycleID, err)
	}
	out := make([]*Proposal, len(rows))
	for i, r := range rows {
		out[i] = r.proposal()
	}
	return out, nil
}

// ballotCosts maps the projects on a cycle's ballot to their final costs: the one read
// every ballot needs, kept free of the support counts listProposals computes.
func ballotCosts(ctx context.Context, db q, cycleID string) (map[string]int64, error) {
	var rows []struct {
		ID   string `db:"id"`
		Cost int64  `db:"final_cost"`
	}
	if err := sel(ctx, db, &rows, `SELECT id, final_cost FROM proposals WHERE cycle_id = ? AND status = ?`, cycleID, StatusFeasible); err != nil {
		return nil, fmt.Errorf("ballot of %s: %w", cycleID, err)
	}
	m := make(map[string]int64, len(rows))
	for _, r := range rows {
		m[r.ID] = r.Cost
	}
	return m, nil
}

func countProposals(ctx context.Context, db q, cycleID string) (int, error) {
	var n int
	if err := get(ctx, db, &n, `SELECT COUNT(*) FROM proposals WHERE cycle_id = ?`, cycleID); err != nil {
		return 0, fmt.Errorf("count proposals: %w", err)
	}
	return n, nil
}

func setProposalStatus(ctx context.Context, db q, id, status string, now time.Time) error {
	_, err := exec(ctx, db, `UPDATE proposals SET status = ?, updated_at = ? WHERE id = ?`, status, store.Micros(now), id)
	if err != nil {
		return fmt.Errorf("set status of proposal %s: %w", id, err)
	}
	return nil
}

// insertSupport records a support once; supporting twice is not an error.
func insertSupport(ctx context.Context, db q, proposalID, userID string) error {
	if _, err := exec(ctx, db, `INSERT INTO supports (proposal_id, user_id) VALUES (?, ?)
		ON CONFLICT (proposal_id, user_id) DO NOTHING`, proposalID, userID); err != nil {
		return fmt.Errorf("insert support: %w", err)
	}
	return nil
}

// insertVoter records that userID voted in cycleID and reports whether this was the
// first time. The primary key decides, so concurrent casts by one person on any number
// of nodes record exactly one voter row.
func insertVoter(ctx context.Context, db q, cycleID, userID string) (bool, error) {
	n, err := exec(ctx, db, `INSERT INTO voters (cycle_id, user_id) VALUES (?, ?)
		ON CONFLICT (cycle_id, user_id) DO NOTHING`, cycleID, userID)
	if err != nil {
		return false, fmt.Errorf("insert voter: %w", err)
	}
	return n == 1, nil
}

// castStatements are the two statements of a first ballot in CastBallot's
// transaction, prepared once for the pool (store.DB.Prepared) and bound to each
// transaction: they run for every vote, and parsing them each time was a good part of
// a ballot's cost on SQLite.
type castStatements struct {
	voter, ballot *sqlx.Stmt
}

// prepareCast returns the cast statements, preparing them on first use. It is called
// outside the transaction, which must not wait for a second pooled connection.
func prepareCast(ctx context.Context, db *store.DB) (castStatements, error) {
	voter, err := db.Prepared(ctx, `INSERT INTO voters (cycle_id, user_id)
		SELECT ?, ? WHERE EXISTS (SELECT 1 FROM cycles WHERE id = ? AND phase = ?)
		ON CONFLICT (cycle_id, user_id) DO NOTHING`)
	if err != nil {
		return castStatements{}, fmt.Errorf("cast ballot: %w", err)
	}
	ballot, err := db.Prepared(ctx, `INSERT INTO sealed_ballots (id, cycle_id, token_hash, sealed) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return castStatements{}, fmt.Errorf("cast ballot: %w", err)
	}
	return castStatements{voter: voter, ballot: ballot}, nil
}

// insertVoter records that userID voted in cycleID, only while the cycle is in the
// voting phase (one statement, so the check cannot be overtaken). It reports whether
// it wrote the row; when not, the cycle is closed or the person has voted before
// (cyclePhase tells which). The voters primary key decides, under any concurrency.
func (c castStatements) insertVoter(ctx context.Context, tx *sqlx.Tx, cycleID, userID string) (bool, error) {
	res, err := tx.StmtxContext(ctx, c.voter).ExecContext(ctx, cycleID, userID, cycleID, string(PhaseVoting))
	if err != nil {
		return false, fmt.Errorf("insert voter: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// insertSealed is insertSealedBallot, prepared.
func (c castStatements) insertSealed(ctx context.Context, tx *sqlx.Tx, cycleID, id, tokenHash string, sealed []byte) error {
	if _, err := tx.StmtxContext(ctx, c.ballot).ExecContext(ctx, id, cycleID, nullString(tokenHash), sealed); err != nil {
		return fmt.Errorf("insert ballot: %w", err)
	}
	return nil
}

func countVoters(ctx context.Context, db q, cycleID string) (int64, error) {
	var n int64
	if err := get(ctx, db, &n, `SELECT COUNT(*) FROM voters WHERE cycle_id = ?`, cycleID); err != nil {
		return 0, fmt.Errorf("count voters: %w", err)
	}
	return n, nil
}

// storedBallot is a ballot row: content only, never a person.
type storedBallot struct {
	ID       string `db:"id"`
	Paper    bool   `db:"paper"`
	Imported bool   `db:"imported"`
	Content  string `db:"content"`
}

func insertBallot(ctx context.Context, db q, cycleID, id string, paper, imported bool, tokenHash string, b Ballot) error {
	content, _ := json.Marshal(b)
	_, err := exec(ctx, db, `INSERT INTO ballots (id, cycle_id, paper, imported, token_hash, content)
		VALUES (?, ?, ?, ?, ?, ?)`, id, cycleID, paper, imported, nullString(tokenHash), string(content))
	if err != nil {
		return fmt.Errorf("insert ballot: %w", err)
	}
	return nil
}

// insertSealedBallot records an online ballot, sealed (see CastBallot).
func insertSealedBallot(ctx context.Context, db q, cycleID, id, tokenHash string, sealed []byte) error {
	_, err := exec(ctx, db, `INSERT INTO sealed_ballots (id, cycle_id, token_hash, sealed) VALUES (?, ?, ?, ?)`,
		id, cycleID, nullString(tokenHash), sealed)
	if err != nil {
		return fmt.Errorf("insert ballot: %w", err)
	}
	return nil
}

// replaceBallot replaces the sealed ballot cast with the token whose hash is given; it
// reports false when there is none. A ballot cast before ballots were sealed (migration
// 0002) is in ballots in the clear: it is deleted and the replacement sealed.
func replaceBallot(ctx context.Context, db q, cycleID, tokenHash string, sealed []byte) (bool, error) {
	n, err := exec(ctx, db, `UPDATE sealed_ballots SET sealed = ? WHERE cycle_id = ? AND token_hash = ?`,
		sealed, cycleID, tokenHash)
	if err != nil {
		return false, fmt.Errorf("replace ballot: %w", err)
	}
	if n == 1 {
		return true, nil
	}
	if n, err = exec(ctx, db, `DELETE FROM ballots WHERE cycle_id = ? AND token_hash = ? AND NOT paper`, cycleID, tokenHash); err != nil || n != 1 {
		return false, err
	}
	return true, insertSealedBallot(ctx, db, cycleID, uuid.NewString(), tokenHash, sealed)
}

// sealedBallots returns the sealed online ballots of a cycle.
func sealedBallots(ctx context.Context, db q, cycleID string) ([][]byte, error) {
	var out [][]byte
	if err := sel(ctx, db, &out, `SELECT sealed FROM sealed_ballots WHERE cycle_id = ?`, cycleID); err != nil {
		return nil, fmt.Errorf("load sealed ballots: %w", err)
	}
	return out, nil
}

// replaceSealed writes the opened online ballots of a cycle, in the order given
// (shuffled), with fresh random IDs and no token, and deletes the sealed ones, in the
// close's transaction. A close writes them all at once: store.InsertRows streams them
// (COPY on PostgreSQL, multi-row INSERTs on SQLite).
func replaceSealed(ctx context.Context, tx *sqlx.Tx, cycleID string, contents [][]byte) error {
	// Written in the order of their new random IDs, which is as random as the shuffle
	// but lets the ballots' key and index grow from one end, instead of touching a page
	// of each for every row (a close of 100,000 ballots on SQLite took 5 s of CPU so).
	type row struct {
		id      string
		content []byte
	}
	// One buffered crypto/rand reader for all the IDs rather than a system call each.
	random := bufio.NewReaderSize(rand.Reader, 16*1024)
	rows := make([]row, len(contents))
	for i, c := range contents {
		id, err := uuid.NewRandomFromReader(random)
		if err != nil {
			return fmt.Errorf("write opened ballots: %w", err)
		}
		rows[i] = row{id.String(), c}
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.id, b.id) })
	err := store.InsertRows(ctx, tx, "ballots", []string{"id", "cycle_id", "paper", "imported", "token_hash", "content"}, len(rows),
		func(i int, v []any) {
			v[0], v[1], v[2], v[3], v[4], v[5] = rows[i].id, cycleID, false, false, nil, string(rows[i].content)
		})
	if err != nil {
		return fmt.Errorf("write opened ballots: %w", err)
	}
	if _, err := exec(ctx, tx, `DELETE FROM sealed_ballots WHERE cycle_id = ?`, cycleID); err != nil {
		return fmt.Errorf("delete sealed ballots: %w", err)
	}
	return nil
}

// insertImportedBallots writes ballots of a Pabulib import, marked imported, with
// random IDs, in one bulk write (store.InsertRows).
func insertImportedBallots(ctx context.Context, tx *sqlx.Tx, cycleID string, ballots []Ballot) error {
	// Written in the order of their random IDs, so each row lands at the end of the
	// primary key instead of a random page of it: a city's file (Łódź, 90,494
	// ballots) then writes each page once instead of spilling the page cache.
	ids := make([]string, len(ballots))
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	order := make([]int, len(ballots))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ids[a], ids[b]) })
	err := store.InsertRows(ctx, tx, "ballots", []string{"id", "cycle_id", "paper", "imported", "token_hash", "content"}, len(ballots),
		func(i int, v []any) {
			j := order[i]
			content, _ := json.Marshal(ballots[j])
			v[0], v[1], v[2], v[3], v[4], v[5] = ids[j], cycleID, false, true, nil, string(content)
		})
	if err != nil {
		return fmt.Errorf("insert imported ballots: %w", err)
	}
	return nil
}

// listBallots returns a cycle's ballots ordered by their random IDs, i.e. in an order
// that says nothing about when they were cast.
func listBallots(ctx context.Context, db q, cycleID string) ([]storedBallot, error) {
	var rows []storedBallot
	if err := sel(ctx, db, &rows, `SELECT id, paper, imported, content FROM ballots WHERE cycle_id = ? ORDER BY id`, cycleID); err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	return rows, nil
}

func countBallots(ctx context.Context, db q, cycleID string) (int64, error) {
	var n int64
	if err := get(ctx, db, &n, `SELECT (SELECT COUNT(*) FROM ballots WHERE cycle_id = ?)
		+ (SELECT COUNT(*) FROM sealed_ballots WHERE cycle_id = ?)`, cycleID, cycleID); err != nil {
		return 0, fmt.Errorf("count ballots: %w", err)
	}
	return n, nil
}

// insertResult stores a result once; it reports false when the cycle already has one.
func insertResult(ctx context.Context, db q, cycleID string, body []byte, now time.Time) (bool, error) {
	n, err := exec(ctx, db, `INSERT INTO results (cycle_id, body, published_at) VALUES (?, ?, ?)
		ON CONFLICT (cycle_id) DO NOTHING`, cycleID, string(body), store.Micros(now))
	if err != nil {
		return false, fmt.Errorf("insert result: %w", err)
	}
	return n == 1, nil
}

// planWinners marks a result's winners as planned projects.
func planWinners(ctx context.Context, db q, ids []string, now time.Time) error {
	for _, id := range ids {
		if _, err := exec(ctx, db, `UPDATE proposals SET implementation = ?, updated_at = ? WHERE id = ?`,
			ImplPlanned, store.Micros(now), id); err != nil {
			return fmt.Errorf("plan winner %s: %w", id, err)
		}
	}
	return nil
}

func findResult(ctx context.Context, db q, cycleID string) (*Result, error) {
	var body string
	err := get(ctx, db, &body, `SELECT body FROM results WHERE cycle_id = ?`, cycleID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sdk.Errorf(sdk.CodeNotFound, "cycle %s has no published results", cycleID)
	}
	if err != nil {
		return nil, fmt.Errorf("find result: %w", err)
	}
	var r Result
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("result of %s: %w", cycleID, err)
	}
	return &r, nil
}

// savePreview stores a cycle's private preview, replacing the one before.
func savePreview(ctx context.Context, db q, cycleID string, body []byte, now time.Time) error {
	if _, err := exec(ctx, db, `DELETE FROM result_previews WHERE cycle_id = ?`, cycleID); err != nil {
		return fmt.Errorf("replace preview of %s: %w", cycleID, err)
	}
	if _, err := exec(ctx, db, `INSERT INTO result_previews (cycle_id, body, created_at) VALUES (?, ?, ?)`,
		cycleID, string(body), store.Micros(now)); err != nil {
		return fmt.Errorf("save preview of %s: %w", cycleID, err)
	}
	return nil
}

// findPreview reads a cycle's preview into dest; false when there is none.
func findPreview(ctx context.Context, db q, cycleID string, dest any) (bool, error) {
	var body string
	err := get(ctx, db, &body, `SELECT body FROM result_previews WHERE cycle_id = ?`, cycleID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find preview of %s: %w", cycleID, err)
	}
	if err := json.Unmarshal([]byte(body), dest); err != nil {
		return false, fmt.Errorf("preview of %s: %w", cycleID, err)
	}
	return true, nil
}

func deletePreview(ctx context.Context, db q, cycleID string) error {
	if _, err := exec(ctx, db, `DELETE FROM result_previews WHERE cycle_id = ?`, cycleID); err != nil {
		return fmt.Errorf("delete preview of %s: %w", cycleID, err)
	}
	return nil
}

func insertUpdate(ctx context.Context, db q, id, proposalID string, u Update) error {
	if _, err := exec(ctx, db, `INSERT INTO project_updates (id, proposal_id, status, note, at) VALUES (?, ?, ?, ?, ?)`,
		id, proposalID, u.Status, u.Note, store.Micros(u.At)); err != nil {
		return fmt.Errorf("insert update: %w", err)
	}
	return nil
}

// listUpdates returns a proposal's updates, oldest first; withAttachments adds their photos.
func listUpdates(ctx context.Context, db q, proposalID string) ([]Update, error) {
	var rows []struct {
		ID     string     `db:"id"`
		Status string     `db:"status"`
		Note   string     `db:"note"`
		At     store.Time `db:"at"`
	}
	if err := sel(ctx, db, &rows, `SELECT id, status, note, at FROM project_updates WHERE proposal_id = ? ORDER BY at, id`, proposalID); err != nil {
		return nil, fmt.Errorf("list updates: %w", err)
	}
	out := make([]Update, len(rows))
	for i, r := range rows {
		out[i] = Update{Status: r.Status, Note: r.Note, At: r.At.Time, Photos: []Attachment{}, id: r.ID}
	}
	return out, nil
}

// markEvent records an event ID and reports whether it was new, so redelivered events
// are handled once.
func markEvent(ctx context.Context, db q, id string) (bool, error) {
	n, err := exec(ctx, db, `INSERT INTO processed_events (id) VALUES (?) ON CONFLICT (id) DO NOTHING`, id)
	if err != nil {
		return false, fmt.Errorf("mark event %s: %w", id, err)
	}
	return n == 1, nil
}

// eraseUser removes a person from the plugin's data. Proposals stay (they are public
// and may be on a ballot) without their author; supports and voter rows keep counting
// under a pseudonym that cannot be traced back; ballots never named anyone.
func eraseUser(ctx context.Context, db q, userID, pseudonym string) error {
	for _, stmt := range []string{
		`UPDATE proposals SET author_id = NULL WHERE author_id = ?`,
		// The core deletes the person's uploads; their rows here would show nothing.
		`DELETE FROM attachments WHERE added_by = ?`,
	} {
		if _, err := exec(ctx, db, stmt, userID); err != nil {
			return fmt.Errorf("erase user: %w", err)
		}
	}
	for _, stmt := range []string{
		`UPDATE supports SET user_id = ? WHERE user_id = ?`,
		`UPDATE voters SET user_id = ? WHERE user_id = ?`,
	} {
		if _, err := exec(ctx, db, stmt, pseudonym, userID); err != nil {
			return fmt.Errorf("erase user: %w", err)
		}
	}
	return nil
}

// attachmentRow is a stored attachment with where it belongs.
type attachmentRow struct {
	ID       string         `db:"id"`
	UpdateID sql.NullString `db:"update_id"`
	UploadID string         `db:"upload_id"`
	Kind     string         `db:"kind"`
	Text     string         `db:"text"`
	AddedBy  sql.NullString `db:"added_by"`
	AddedAt  store.Time     `db:"added_at"`
}

func (r attachmentRow) attachment() Attachment {
	return Attachment{ID: r.ID, Kind: r.Kind, Text: r.Text, URL: sdk.UploadURL(r.UploadID), AddedAt: r.AddedAt.Time}
}

// insertAttachment adds an upload to a proposal, or to one of its updates when
// updateID is set. An upload belongs to one place only (the column is unique), so
// the same id cannot be shown twice.
func insertAttachment(ctx context.Context, db q, proposalID, updateID, addedBy string, a Attachment, uploadID string) error {
	n, err := exec(ctx, db, `INSERT INTO attachments (id, proposal_id, update_id, upload_id, kind, text, added_by, added_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (upload_id) DO NOTHING`,
		a.ID, proposalID, nullString(updateID), uploadID, a.Kind, a.Text, nullString(addedBy), store.Micros(a.AddedAt))
	if err != nil {
		return fmt.Errorf("insert attachment: %w", err)
	}
	if n == 0 {
		return sdk.Errorf(sdk.CodeConflict, "this file is attached already")
	}
	return nil
}

// listAttachments returns a proposal's attachments in the order they were added: its
// own, and by update ID those of its updates.
func listAttachments(ctx context.Context, db q, proposalID string) (own []Attachment, byUpdate map[string][]Attachment, err error) {
	var rows []attachmentRow
	if err := sel(ctx, db, &rows, `SELECT id, update_id, upload_id, kind, text, added_by, added_at
		FROM attachments WHERE proposal_id = ? ORDER BY added_at, id`, proposalID); err != nil {
		return nil, nil, fmt.Errorf("list attachments: %w", err)
	}
	own, byUpdate = []Attachment{}, map[string][]Attachment{}
	for _, r := range rows {
		if r.UpdateID.Valid {
			byUpdate[r.UpdateID.String] = append(byUpdate[r.UpdateID.String], r.attachment())
		} else {
			own = append(own, r.attachment())
		}
	}
	return own, byUpdate, nil
}

// countAttachments is how many attachments a proposal has of its own.
func countAttachments(ctx context.Context, db q, proposalID string) (int, error) {
	var n int
	if err := get(ctx, db, &n, `SELECT COUNT(*) FROM attachments WHERE proposal_id = ? AND update_id IS NULL`, proposalID); err != nil {
		return 0, fmt.Errorf("count attachments: %w", err)
	}
	return n, nil
}

// deleteAttachment removes one of a proposal's own attachments.
func deleteAttachment(ctx context.Context, db q, proposalID, id string) error {
	n, err := exec(ctx, db, `DELETE FROM attachments WHERE id = ? AND proposal_id = ? AND update_id IS NULL`, id, proposalID)
	if err != nil {
		return fmt.Errorf("delete attachment %s: %w", id, err)
	}
	if n == 0 {
		return sdk.Errorf(sdk.CodeNotFound, "attachment %s not found on proposal %s", id, proposalID)
	}
	return nil
}
