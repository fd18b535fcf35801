package consultations

import (
	"context"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// The moderation's SQL (migrations/*/0002_ideas.sql), one query for both databases.

// targetTable is the table of what t names; the kinds are the service's constants,
// never input.
func targetTable(k TargetKind) string {
	if k == TargetComment {
		return "idea_comments"
	}
	return "ideas"
}

func (s *Storage) isHidden(ctx context.Context, q queryer, t Target) (bool, error) {
	var cat string
	if err := q.GetContext(ctx, &cat, q.Rebind(`SELECT hidden_category FROM `+targetTable(t.Kind)+` WHERE id = ?`), t.ID); err != nil {
		return false, fmt.Errorf("read %s: %w", t.Kind, err)
	}
	return cat != "", nil
}

// insertReport records a report; a second report of the same item by the same person
// is a conflict, decided by the table's unique key so two at once cannot both land.
func (s *Storage) insertReport(ctx context.Context, tx *store.Tx, t Target, reporterID string, r Report) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO moderation_reports (id, consultation_id, target_kind, target_id,
		reporter_id, category, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (target_kind, target_id, reporter_id) DO NOTHING`),
		r.ID, t.ConsultationID, string(t.Kind), t.ID, reporterID, string(r.Category), r.Body, store.Micros(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert report: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cmpErr(err, sdk.RuleError(sdk.CodeConflict, "reported", "You have reported this already; a moderator will look at it."))
	}
	return nil
}

type reportRow struct {
	ID        string     `db:"id"`
	Category  string     `db:"category"`
	Body      string     `db:"body"`
	CreatedAt store.Time `db:"created_at"`
}

type queueRow struct {
	Kind           string     `db:"target_kind"`
	ID             string     `db:"target_id"`
	ConsultationID string     `db:"consultation_id"`
	FirstAt        store.Time `db:"first_at"`
}

// queue is a page of the items with open reports, the longest waiting first, each
// with its text and its open reports.
func (s *Storage) queue(ctx context.Context, q sdk.ListQuery) ([]QueueItem, error) {
	where, args, err := q.After("MIN(created_at)", "target_kind", "target_id")
	if err != nil {
		return nil, err
	}
	var rows []queueRow
	err = s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT target_kind, target_id, consultation_id, MIN(created_at) AS first_at
		FROM moderation_reports WHERE state = 'open' GROUP BY target_kind, target_id, consultation_id
		HAVING `+where+` ORDER BY MIN(created_at), target_kind, target_id LIMIT ?`), append(args, q.Fetch())...)
	if err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	out := make([]QueueItem, 0, len(rows))
	for _, r := range rows {
		item := QueueItem{Target: Target{ConsultationID: r.ConsultationID, Kind: TargetKind(r.Kind), ID: r.ID, IdeaID: r.ID}, FirstAt: r.FirstAt.Time}
		if err := s.itemText(ctx, s.db, &item.Target, &item.Title, &item.Body, &item.AuthorName); err != nil {
			return nil, err
		}
		if item.Reports, err = s.openReports(ctx, item.Target); err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, nil
}

// openReports are the open reports of what t names, oldest first.
func (s *Storage) openReports(ctx context.Context, t Target) ([]Report, error) {
	var rows []reportRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT id, category, body, created_at FROM moderation_reports
		WHERE target_kind = ? AND target_id = ? AND state = 'open' ORDER BY created_at, id`), string(t.Kind), t.ID); err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	out := make([]Report, len(rows))
	for i, r := range rows {
		out[i] = Report{ID: r.ID, Category: ReportCategory(r.Category), Body: r.Body, CreatedAt: r.CreatedAt.Time}
	}
	return out, nil
}

// itemText reads the text of what t names, hidden or not, for moderators and the
// author, and fills in t's idea.
func (s *Storage) itemText(ctx context.Context, q queryer, t *Target, title, body, author *string) error {
	var err error
	if t.Kind == TargetComment {
		var r commentRow
		err = q.GetContext(ctx, &r, q.Rebind(`SELECT `+commentColumns+` FROM idea_comments WHERE id = ?`), t.ID)
		t.IdeaID, *body, *author = r.IdeaID, r.Body, r.AuthorName
	} else {
		var r ideaRow
		err = q.GetContext(ctx, &r, q.Rebind(`SELECT `+ideaColumns+` FROM ideas WHERE id = ?`), t.ID)
		t.IdeaID, *title, *body, *author = r.ID, r.Title, r.Body, r.AuthorName
	}
	if err != nil {
		return fmt.Errorf("read %s %s: %w", t.Kind, t.ID, err)
	}
	return nil
}

// hide hides what t names under category; ok is false when it was hidden already.
func (s *Storage) hide(ctx context.Context, tx *store.Tx, t Target, category ReportCategory) (ok bool, err error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE `+targetTable(t.Kind)+` SET hidden_category = ? WHERE id = ? AND hidden_category = ''`),
		string(category), t.ID)
	if err != nil {
		return false, fmt.Errorf("hide %s: %w", t.Kind, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *Storage) unhide(ctx context.Context, tx *store.Tx, t Target) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE `+targetTable(t.Kind)+` SET hidden_category = '' WHERE id = ?`), t.ID); err != nil {
		return fmt.Errorf("restore %s: %w", t.Kind, err)
	}
	return nil
}

// resolveReports closes the open reports of t as state (hidden or kept), with the
// moderator's note on keeping it (a hiding's note is in its case).
func (s *Storage) resolveReports(ctx context.Context, tx *store.Tx, t Target, state, note, by string, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE moderation_reports SET state = ?, note = ?, handled_by = ?, handled_at = ?
		WHERE target_kind = ? AND target_id = ? AND state = 'open'`), state, note, by, store.Micros(at), string(t.Kind), t.ID)
	if err != nil {
		return fmt.Errorf("resolve reports: %w", err)
	}
	return nil
}

func (s *Storage) insertCase(ctx context.Context, tx *store.Tx, c Case) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO moderation_cases (id, consultation_id, target_kind, target_id, author_id,
		category, note, hidden_by, hidden_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		c.ID, c.Target.ConsultationID, string(c.Target.Kind), c.Target.ID, c.authorID, string(c.Category), c.Note, c.hiddenBy, store.Micros(c.HiddenAt))
	if err != nil {
		return fmt.Errorf("insert case: %w", err)
	}
	return nil
}

type caseRow struct {
	ID             string     `db:"id"`
	ConsultationID string     `db:"consultation_id"`
	Kind           string     `db:"target_kind"`
	TargetID       string     `db:"target_id"`
	AuthorID       string     `db:"author_id"`
	Category       string     `db:"category"`
	Note           string     `db:"note"`
	HiddenBy       string     `db:"hidden_by"`
	HiddenAt       store.Time `db:"hidden_at"`
	Appeal         string     `db:"appeal"`
	AppealedAt     int64      `db:"appealed_at"`
	Decision       string     `db:"decision"`
	DecisionNote   string     `db:"decision_note"`
	DecidedAt      int64      `db:"decided_at"`
}

const caseColumns = `id, consultation_id, target_kind, target_id, author_id, category, note, hidden_by, hidden_at,
	appeal, appealed_at, decision, decision_note, decided_at`

func (r caseRow) moderationCase() Case {
	c := Case{ID: r.ID, Target: Target{ConsultationID: r.ConsultationID, Kind: TargetKind(r.Kind), ID: r.TargetID},
		Category: ReportCategory(r.Category), Note: r.Note, HiddenAt: r.HiddenAt.Time, Appeal: r.Appeal,
		Decision: r.Decision, Reason: r.DecisionNote, authorID: r.AuthorID, hiddenBy: r.HiddenBy}
	if r.AppealedAt != 0 {
		t := store.FromMicros(r.AppealedAt)
		c.AppealedAt = &t
	}
	if r.DecidedAt != 0 {
		t := store.FromMicros(r.DecidedAt)
		c.DecidedAt = &t
	}
	return c
}

// readCases reads cases and the text of what each hid.
func (s *Storage) readCases(ctx context.Context, q queryer, query string, args ...any) ([]Case, error) {
	var rows []caseRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+caseColumns+` FROM moderation_cases `+query), args...); err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	out := make([]Case, len(rows))
	for i, r := range rows {
		out[i] = r.moderationCase()
		var author string
		if err := s.itemText(ctx, q, &out[i].Target, &out[i].Title, &out[i].Body, &author); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Storage) moderationCase(ctx context.Context, q queryer, id string) (Case, error) {
	return s.readCase(ctx, q, id, "")
}

func (s *Storage) lockCase(ctx context.Context, tx *store.Tx, id string) (Case, error) {
	return s.readCase(ctx, tx, id, lockRow(s.db))
}

func (s *Storage) readCase(ctx context.Context, q queryer, id, lock string) (Case, error) {
	if !validID(id) {
		return Case{}, errCaseNotFound
	}
	cases, err := s.readCases(ctx, q, `WHERE id = ?`+lock, id)
	if err != nil {
		return Case{}, err
	}
	if len(cases) == 0 {
		return Case{}, errCaseNotFound
	}
	return cases[0], nil
}

// appeals is a page of the cases whose appeal awaits a decision, oldest appeal first.
func (s *Storage) appeals(ctx context.Context, q sdk.ListQuery) ([]Case, error) {
	where, args, err := q.After("appealed_at", "id")
	if err != nil {
		return nil, err
	}
	return s.readCases(ctx, s.db, `WHERE appealed_at > 0 AND decision = '' AND `+where+` ORDER BY appealed_at, id LIMIT ?`,
		append(args, q.Fetch())...)
}

// casesOf are the cases of what userID wrote, newest first.
func (s *Storage) casesOf(ctx context.Context, userID string) ([]Case, error) {
	return s.readCases(ctx, s.db, `WHERE author_id = ? ORDER BY hidden_at DESC, id DESC`, userID)
}

// appeal records the one appeal of a case; ok is false when it was appealed already.
func (s *Storage) appeal(ctx context.Context, tx *store.Tx, id, body string, at time.Time) (ok bool, err error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE moderation_cases SET appeal = ?, appealed_at = ? WHERE id = ? AND appealed_at = 0`),
		body, store.Micros(at), id)
	if err != nil {
		return false, fmt.Errorf("appeal: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *Storage) decide(ctx context.Context, tx *store.Tx, id, decision, note, by string, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE moderation_cases SET decision = ?, decision_note = ?, decided_by = ?, decided_at = ?
		WHERE id = ?`), decision, note, by, store.Micros(at), id)
	if err != nil {
		return fmt.Errorf("decide appeal: %w", err)
	}
	return nil
}
