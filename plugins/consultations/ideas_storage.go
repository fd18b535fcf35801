package consultations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// The idea board's SQL (migrations/*/0002_ideas.sql), one query for both databases.

type ideaRow struct {
	ID              string     `db:"id"`
	ConsultationID  string     `db:"consultation_id"`
	AuthorID        string     `db:"author_id"`
	AuthorName      string     `db:"author_name"`
	Title           string     `db:"title"`
	Body            string     `db:"body"`
	NeighbourhoodID string     `db:"neighbourhood_id"`
	Status          string     `db:"status"`
	StatusReason    string     `db:"status_reason"`
	StatusAt        int64      `db:"status_at"`
	Supports        int        `db:"supports"`
	Comments        int        `db:"comments"`
	HiddenCategory  string     `db:"hidden_category"`
	CreatedAt       store.Time `db:"created_at"`
}

const ideaColumns = `id, consultation_id, author_id, author_name, title, body, neighbourhood_id, status,
	status_reason, status_at, supports, comments, hidden_category, created_at`

// authorShown is how an author appears, from what is stored: an erased author's ID
// is blanked.
func authorShown(id, name string) AuthorShown {
	switch {
	case id == "":
		return AuthorErased
	case name == "":
		return AuthorHidden
	}
	return AuthorNamed
}

func (r ideaRow) idea() Idea {
	i := Idea{ID: r.ID, ConsultationID: r.ConsultationID, Title: r.Title, Body: r.Body, NeighbourhoodID: r.NeighbourhoodID,
		AuthorName: r.AuthorName, Author: authorShown(r.AuthorID, r.AuthorName), Status: IdeaStatus(r.Status),
		StatusReason: r.StatusReason, Supports: r.Supports, Comments: r.Comments, CreatedAt: r.CreatedAt.Time, authorID: r.AuthorID}
	if r.StatusAt != 0 {
		t := store.FromMicros(r.StatusAt)
		i.StatusAt = &t
	}
	if r.HiddenCategory != "" {
		// Hidden: the text stays in the store for the author's appeal and the
		// moderators, and leaves it only through them.
		i.Hidden = &Hidden{Category: ReportCategory(r.HiddenCategory)}
		i.hiddenTitle, i.Title, i.Body = r.Title, "", ""
	}
	return i
}

func (s *Storage) insertIdea(ctx context.Context, tx *store.Tx, i Idea) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO ideas (id, consultation_id, author_id, author_name, title, body,
		neighbourhood_id, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		i.ID, i.ConsultationID, i.authorID, i.AuthorName, i.Title, i.Body, i.NeighbourhoodID, string(i.Status), store.Micros(i.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert idea: %w", err)
	}
	return nil
}

// ideas is a page of a board's ideas in the order of sort, descending.
func (s *Storage) ideas(ctx context.Context, consultationID, sort string, q sdk.ListQuery) ([]Idea, error) {
	cols := []string{"supports", "created_at", "id"}
	if sort == SortNewest {
		cols = cols[1:]
	}
	where, args, err := q.Before(cols...)
	if err != nil {
		return nil, err
	}
	order := strings.Join(cols, " DESC, ") + " DESC"
	var rows []ideaRow
	err = s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT `+ideaColumns+` FROM ideas WHERE consultation_id = ? AND `+where+
		` ORDER BY `+order+` LIMIT ?`), append(append([]any{consultationID}, args...), q.Fetch())...)
	if err != nil {
		return nil, fmt.Errorf("list ideas: %w", err)
	}
	out := make([]Idea, len(rows))
	for i, r := range rows {
		out[i] = r.idea()
	}
	return out, nil
}

// idea reads one idea of a board.
func (s *Storage) idea(ctx context.Context, q queryer, consultationID, ideaID string) (Idea, error) {
	return s.readIdea(ctx, q, consultationID, ideaID, "")
}

// lockIdea reads an idea in tx and locks its row, so supports and decisions about one
// idea queue behind each other.
func (s *Storage) lockIdea(ctx context.Context, tx *store.Tx, consultationID, ideaID string) (Idea, error) {
	return s.readIdea(ctx, tx, consultationID, ideaID, lockRow(s.db))
}

func (s *Storage) readIdea(ctx context.Context, q queryer, consultationID, ideaID, lock string) (Idea, error) {
	if !validID(ideaID) {
		return Idea{}, errIdeaNotFound
	}
	var r ideaRow
	err := q.GetContext(ctx, &r, q.Rebind(`SELECT `+ideaColumns+` FROM ideas WHERE id = ? AND consultation_id = ?`+lock), ideaID, consultationID)
	if errors.Is(err, sql.ErrNoRows) {
		return Idea{}, errIdeaNotFound
	}
	if err != nil {
		return Idea{}, fmt.Errorf("read idea %s: %w", ideaID, err)
	}
	return r.idea(), nil
}

// markViewer sets Supported and Mine on ideas for the person userID ("" for nobody).
func (s *Storage) markViewer(ctx context.Context, ideas []Idea, userID string) error {
	if userID == "" || len(ideas) == 0 {
		return nil
	}
	ids := make([]any, 0, len(ideas)+1)
	ids = append(ids, userID)
	for _, i := range ideas {
		ids = append(ids, i.ID)
	}
	var supported []string
	err := s.db.SelectContext(ctx, &supported, s.db.Rebind(`SELECT idea_id FROM idea_supports WHERE user_id = ? AND idea_id IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(ideas)), ", ")+`)`), ids...)
	if err != nil {
		return fmt.Errorf("read supports: %w", err)
	}
	for i := range ideas {
		ideas[i].Mine = ideas[i].authorID == userID
		for _, id := range supported {
			if id == ideas[i].ID {
				ideas[i].Supported = true
			}
		}
	}
	return nil
}

type commentRow struct {
	ID             string     `db:"id"`
	IdeaID         string     `db:"idea_id"`
	AuthorID       string     `db:"author_id"`
	AuthorName     string     `db:"author_name"`
	Body           string     `db:"body"`
	HiddenCategory string     `db:"hidden_category"`
	CreatedAt      store.Time `db:"created_at"`
}

const commentColumns = `id, idea_id, author_id, author_name, body, hidden_category, created_at`

func (r commentRow) comment() Comment {
	c := Comment{ID: r.ID, IdeaID: r.IdeaID, Body: r.Body, AuthorName: r.AuthorName, Author: authorShown(r.AuthorID, r.AuthorName),
		CreatedAt: r.CreatedAt.Time, authorID: r.AuthorID}
	if r.HiddenCategory != "" {
		c.Hidden = &Hidden{Category: ReportCategory(r.HiddenCategory)}
		c.Body = ""
	}
	return c
}

func (s *Storage) insertComment(ctx context.Context, tx *store.Tx, c Comment) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO idea_comments (id, idea_id, author_id, author_name, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`), c.ID, c.IdeaID, c.authorID, c.AuthorName, c.Body, store.Micros(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert comment: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE ideas SET comments = comments + 1 WHERE id = ?`), c.IdeaID); err != nil {
		return fmt.Errorf("count comment: %w", err)
	}
	return nil
}

// comments is a page of an idea's comments, oldest first.
func (s *Storage) comments(ctx context.Context, ideaID string, q sdk.ListQuery) ([]Comment, error) {
	where, args, err := q.After("created_at", "id")
	if err != nil {
		return nil, err
	}
	var rows []commentRow
	err = s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT `+commentColumns+` FROM idea_comments WHERE idea_id = ? AND `+where+
		` ORDER BY created_at, id LIMIT ?`), append(append([]any{ideaID}, args...), q.Fetch())...)
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	out := make([]Comment, len(rows))
	for i, r := range rows {
		out[i] = r.comment()
	}
	return out, nil
}

// comment reads one comment of an idea.
func (s *Storage) comment(ctx context.Context, q queryer, ideaID, commentID string) (Comment, error) {
	if !validID(commentID) {
		return Comment{}, errCommentNotFound
	}
	var r commentRow
	err := q.GetContext(ctx, &r, q.Rebind(`SELECT `+commentColumns+` FROM idea_comments WHERE id = ? AND idea_id = ?`), commentID, ideaID)
	if errors.Is(err, sql.ErrNoRows) {
		return Comment{}, errCommentNotFound
	}
	if err != nil {
		return Comment{}, fmt.Errorf("read comment %s: %w", commentID, err)
	}
	return r.comment(), nil
}

var errCommentNotFound = sdk.Errorf(sdk.CodeNotFound, "No such comment.")

// setSupport gives or withdraws a support and keeps the idea's count with it; changed
// is false when there was nothing to change. The idea's row is locked by the caller.
func (s *Storage) setSupport(ctx context.Context, tx *store.Tx, ideaID, userID string, on bool, now time.Time) (changed bool, err error) {
	var res sql.Result
	if on {
		res, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO idea_supports (idea_id, user_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT (idea_id, user_id) DO NOTHING`), ideaID, userID, store.Micros(now))
	} else {
		res, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM idea_supports WHERE idea_id = ? AND user_id = ?`), ideaID, userID)
	}
	if err != nil {
		return false, fmt.Errorf("set support: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	delta := 1
	if !on {
		delta = -1
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE ideas SET supports = supports + ? WHERE id = ?`), delta, ideaID); err != nil {
		return false, fmt.Errorf("count support: %w", err)
	}
	return true, nil
}

func (s *Storage) setStatus(ctx context.Context, tx *store.Tx, ideaID string, st IdeaStatus, reason, by string, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE ideas SET status = ?, status_reason = ?, status_by = ?, status_at = ? WHERE id = ?`),
		string(st), reason, by, store.Micros(at), ideaID)
	if err != nil {
		return fmt.Errorf("set idea status: %w", err)
	}
	return nil
}

// supporters are the people who support an idea.
func (s *Storage) supporters(ctx context.Context, q queryer, ideaID string) ([]string, error) {
	var ids []string
	if err := q.SelectContext(ctx, &ids, q.Rebind(`SELECT user_id FROM idea_supports WHERE idea_id = ? ORDER BY user_id`), ideaID); err != nil {
		return nil, fmt.Errorf("read supporters: %w", err)
	}
	return ids, nil
}

// hit counts one write of action by userID in the window starting at window and
// returns the window's count so far. The upsert takes the window's row lock, so two
// writes of one person at once are counted one after the other on PostgreSQL too.
func (s *Storage) hit(ctx context.Context, tx *store.Tx, userID, action string, window int64) (int, error) {
	var hits int
	err := tx.GetContext(ctx, &hits, tx.Rebind(`INSERT INTO idea_rate_windows (user_id, action, window_start, hits) VALUES (?, ?, ?, 1)
		ON CONFLICT (user_id, action, window_start) DO UPDATE SET hits = idea_rate_windows.hits + 1
		RETURNING hits`), userID, action, window)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", action, err)
	}
	// Windows of a day ago and older count for nothing any more.
	if hits == 1 {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM idea_rate_windows WHERE user_id = ? AND window_start < ?`),
			userID, window-(48*time.Hour).Microseconds()); err != nil {
			return 0, fmt.Errorf("forget old windows: %w", err)
		}
	}
	return hits, nil
}

// allIdeas are every idea of a board, oldest first, for the open data.
func (s *Storage) allIdeas(ctx context.Context, consultationID string) ([]Idea, error) {
	var rows []ideaRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT `+ideaColumns+` FROM ideas WHERE consultation_id = ? ORDER BY created_at, id`), consultationID); err != nil {
		return nil, fmt.Errorf("read ideas: %w", err)
	}
	out := make([]Idea, len(rows))
	for i, r := range rows {
		out[i] = r.idea()
	}
	return out, nil
}

// allComments are every comment on a board's ideas, by idea, oldest first.
func (s *Storage) allComments(ctx context.Context, consultationID string) (map[string][]Comment, error) {
	var rows []commentRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT c.id, c.idea_id, c.author_id, c.author_name, c.body, c.hidden_category, c.created_at
		FROM idea_comments c JOIN ideas i ON i.id = c.idea_id WHERE i.consultation_id = ? ORDER BY c.created_at, c.id`), consultationID); err != nil {
		return nil, fmt.Errorf("read comments: %w", err)
	}
	out := map[string][]Comment{}
	for _, r := range rows {
		out[r.IdeaID] = append(out[r.IdeaID], r.comment())
	}
	return out, nil
}
