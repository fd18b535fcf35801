package consultations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Storage is the plugin's SQL: one query for both databases, ? placeholders through
// Rebind, times as Unix microseconds. Writes take the transaction the service opened.
// The one dialect difference, the row lock, is in storage_postgres.go and
// storage_sqlite.go.
type Storage struct {
	db *store.DB
	// definitions keeps the definition of published consultations, which never
	// changes once published (only a draft's can), so that answering reads one row
	// instead of five queries. Consultations are few; the map is not bounded.
	definitions sync.Map // consultation ID → definition
}

// definition is what a consultation asks and of whom, fixed at publication.
type definition struct {
	neighbourhoods []string
	attachments    []Attachment
	questions      []Question
}

// queryer is the pool or a transaction.
type queryer interface {
	sqlx.QueryerContext
	sqlx.ExecerContext
	Rebind(string) string
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

type consultationRow struct {
	ID               string         `db:"id"`
	Kind             string         `db:"kind"`
	Title            string         `db:"title"`
	Background       string         `db:"background"`
	WhatNext         string         `db:"what_next"`
	AssemblyID       string         `db:"assembly_id"`
	Participation    string         `db:"participation"`
	MinAge           int            `db:"min_age"`
	AnonymousAllowed bool           `db:"anonymous_allowed"`
	Editable         bool           `db:"editable"`
	PollResults      string         `db:"poll_results"`
	OpensAt          store.Time     `db:"opens_at"`
	ClosesAt         store.Time     `db:"closes_at"`
	CreatedBy        string         `db:"created_by"`
	CreatedAt        store.Time     `db:"created_at"`
	UpdatedAt        store.Time     `db:"updated_at"`
	PublishedAt      store.NullTime `db:"published_at"`
	ClosedAt         store.NullTime `db:"closed_at"`
	FinalisedAt      store.NullTime `db:"finalised_at"`
	ResultsAt        store.NullTime `db:"results_at"`
	Response         string         `db:"response"`
	RespondedAt      store.NullTime `db:"responded_at"`
	RespondedBy      string         `db:"responded_by"`
}

const consultationColumns = `id, kind, title, background, what_next, assembly_id, participation, min_age,
	anonymous_allowed, editable, poll_results, opens_at, closes_at, created_by, created_at, updated_at,
	published_at, closed_at, finalised_at, results_at, response, responded_at, responded_by`

func (r consultationRow) consultation() *Consultation {
	return &Consultation{ID: r.ID, Kind: Kind(r.Kind), Title: r.Title, Background: r.Background, WhatNext: r.WhatNext,
		AssemblyID: r.AssemblyID, Participation: Participation(r.Participation), MinAge: r.MinAge,
		AnonymousAllowed: r.AnonymousAllowed, Editable: r.Editable, PollResults: PollResults(r.PollResults),
		OpensAt: r.OpensAt.Time, ClosesAt: r.ClosesAt.Time, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
		PublishedAt: r.PublishedAt.Ptr(), ClosedAt: r.ClosedAt.Ptr(), ResultsAt: r.ResultsAt.Ptr(),
		Response: r.Response, RespondedAt: r.RespondedAt.Ptr(),
		Neighbourhoods: []string{}, Attachments: []Attachment{}, Questions: []Question{},
		createdBy: r.CreatedBy, finalisedAt: r.FinalisedAt.Ptr()}
}

func (c *Consultation) args() []any {
	return []any{c.Kind, c.Title, c.Background, c.WhatNext, c.AssemblyID, c.Participation, c.MinAge,
		c.AnonymousAllowed, c.Editable, c.PollResults, store.Micros(c.OpensAt), store.Micros(c.ClosesAt),
		c.createdBy, store.Micros(c.CreatedAt), store.Micros(c.UpdatedAt),
		store.NullTimeOf(c.PublishedAt), store.NullTimeOf(c.ClosedAt), store.NullTimeOf(c.finalisedAt),
		store.NullTimeOf(c.ResultsAt), c.Response, store.NullTimeOf(c.RespondedAt)}
}

func (s *Storage) insertConsultation(ctx context.Context, tx *store.Tx, c *Consultation) error {
	q := `INSERT INTO consultations (kind, title, background, what_next, assembly_id, participation, min_age,
		anonymous_allowed, editable, poll_results, opens_at, closes_at, created_by, created_at, updated_at,
		published_at, closed_at, finalised_at, results_at, response, responded_at, id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), append(c.args(), c.ID)...); err != nil {
		return fmt.Errorf("insert consultation: %w", err)
	}
	return nil
}

func (s *Storage) updateConsultation(ctx context.Context, tx *store.Tx, c *Consultation) error {
	q := `UPDATE consultations SET kind = ?, title = ?, background = ?, what_next = ?, assembly_id = ?,
		participation = ?, min_age = ?, anonymous_allowed = ?, editable = ?, poll_results = ?, opens_at = ?,
		closes_at = ?, created_by = ?, created_at = ?, updated_at = ?, published_at = ?, closed_at = ?,
		finalised_at = ?, results_at = ?, response = ?, responded_at = ? WHERE id = ?`
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), append(c.args(), c.ID)...); err != nil {
		return fmt.Errorf("update consultation %s: %w", c.ID, err)
	}
	return nil
}

func (s *Storage) deleteConsultation(ctx context.Context, tx *store.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM consultations WHERE id = ?`), id); err != nil {
		return fmt.Errorf("delete consultation %s: %w", id, err)
	}
	return nil
}

// consultation reads a consultation with its definition.
func (s *Storage) consultation(ctx context.Context, id string) (*Consultation, error) {
	return s.read(ctx, s.db, id, "")
}

// lockConsultation reads a consultation in tx and locks its row until tx ends, so
// that changes to one consultation queue behind each other.
func (s *Storage) lockConsultation(ctx context.Context, tx *store.Tx, id string) (*Consultation, error) {
	return s.read(ctx, tx, id, lockRow(s.db))
}

func (s *Storage) read(ctx context.Context, q queryer, id, lock string) (*Consultation, error) {
	if !validID(id) {
		return nil, errNotFound
	}
	var row consultationRow
	err := q.GetContext(ctx, &row, q.Rebind(`SELECT `+consultationColumns+` FROM consultations WHERE id = ?`+lock), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read consultation %s: %w", id, err)
	}
	c := row.consultation()
	if d, ok := s.definitions.Load(id); ok && c.PublishedAt != nil {
		d := d.(definition)
		// Copies of the slices: a caller may append to its consultation's.
		c.Neighbourhoods, c.Attachments, c.Questions = slices.Clone(d.neighbourhoods), slices.Clone(d.attachments), slices.Clone(d.questions)
		return c, nil
	}
	if err := s.definition(ctx, q, c); err != nil {
		return nil, err
	}
	if c.PublishedAt != nil {
		s.definitions.Store(id, definition{neighbourhoods: slices.Clone(c.Neighbourhoods),
			attachments: slices.Clone(c.Attachments), questions: slices.Clone(c.Questions)})
	}
	return c, nil
}

// validID reports whether id can be a stored ID: a string too long or with a NUL must
// not reach PostgreSQL, which refuses NUL with an error instead of finding nothing.
func validID(id string) bool {
	return id != "" && len(id) <= 64 && !strings.ContainsRune(id, 0)
}

// definition reads c's neighbourhoods, attachments, questions and options.
func (s *Storage) definition(ctx context.Context, q queryer, c *Consultation) error {
	if err := q.SelectContext(ctx, &c.Neighbourhoods, q.Rebind(`SELECT neighbourhood_id FROM consultation_neighbourhoods WHERE consultation_id = ? ORDER BY neighbourhood_id`), c.ID); err != nil {
		return fmt.Errorf("read neighbourhoods of %s: %w", c.ID, err)
	}
	var atts []struct {
		UploadID string `db:"upload_id"`
		Name     string `db:"name"`
	}
	if err := q.SelectContext(ctx, &atts, q.Rebind(`SELECT upload_id, name FROM attachments WHERE consultation_id = ? ORDER BY position`), c.ID); err != nil {
		return fmt.Errorf("read attachments of %s: %w", c.ID, err)
	}
	for _, a := range atts {
		c.Attachments = append(c.Attachments, Attachment{UploadID: a.UploadID, Name: a.Name, URL: sdk.UploadURL(a.UploadID)})
	}
	var qs []struct {
		ID            string `db:"id"`
		Kind          string `db:"kind"`
		Prompt        string `db:"prompt"`
		Help          string `db:"help"`
		Required      bool   `db:"required"`
		MinChoices    int    `db:"min_choices"`
		MaxChoices    int    `db:"max_choices"`
		ScaleMin      int    `db:"scale_min"`
		ScaleMax      int    `db:"scale_max"`
		ScaleMinLabel string `db:"scale_min_label"`
		ScaleMaxLabel string `db:"scale_max_label"`
		MaxLength     int    `db:"max_length"`
		ShowIfQ       string `db:"show_if_question"`
		ShowIfO       string `db:"show_if_option"`
	}
	if err := q.SelectContext(ctx, &qs, q.Rebind(`SELECT id, kind, prompt, help, required, min_choices, max_choices,
		scale_min, scale_max, scale_min_label, scale_max_label, max_length, show_if_question, show_if_option
		FROM questions WHERE consultation_id = ? ORDER BY position`), c.ID); err != nil {
		return fmt.Errorf("read questions of %s: %w", c.ID, err)
	}
	var opts []struct {
		ID         string `db:"id"`
		QuestionID string `db:"question_id"`
		Label      string `db:"label"`
	}
	if err := q.SelectContext(ctx, &opts, q.Rebind(`SELECT o.id, o.question_id, o.label FROM options o
		JOIN questions q ON q.id = o.question_id WHERE q.consultation_id = ? ORDER BY q.position, o.position`), c.ID); err != nil {
		return fmt.Errorf("read options of %s: %w", c.ID, err)
	}
	for _, r := range qs {
		qn := Question{ID: r.ID, Kind: QuestionKind(r.Kind), Prompt: r.Prompt, Help: r.Help, Required: r.Required,
			MinChoices: r.MinChoices, MaxChoices: r.MaxChoices, ScaleMin: r.ScaleMin, ScaleMax: r.ScaleMax,
			ScaleMinLabel: r.ScaleMinLabel, ScaleMaxLabel: r.ScaleMaxLabel, MaxLength: r.MaxLength}
		if r.ShowIfQ != "" {
			qn.ShowIf = &Condition{QuestionID: r.ShowIfQ, OptionID: r.ShowIfO}
		}
		for _, o := range opts {
			if o.QuestionID == r.ID {
				qn.Options = append(qn.Options, Option{ID: o.ID, Label: o.Label})
			}
		}
		c.Questions = append(c.Questions, qn)
	}
	return nil
}

// replaceDefinition writes c's neighbourhoods and questions in place of the old ones.
func (s *Storage) replaceDefinition(ctx context.Context, tx *store.Tx, c *Consultation) error {
	for _, q := range []string{
		`DELETE FROM consultation_neighbourhoods WHERE consultation_id = ?`,
		`DELETE FROM options WHERE question_id IN (SELECT id FROM questions WHERE consultation_id = ?)`,
		`DELETE FROM questions WHERE consultation_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), c.ID); err != nil {
			return fmt.Errorf("clear definition of %s: %w", c.ID, err)
		}
	}
	for _, n := range c.Neighbourhoods {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO consultation_neighbourhoods (consultation_id, neighbourhood_id) VALUES (?, ?)`), c.ID, n); err != nil {
			return fmt.Errorf("insert neighbourhood of %s: %w", c.ID, err)
		}
	}
	for i, q := range c.Questions {
		var showQ, showO string
		if q.ShowIf != nil {
			showQ, showO = q.ShowIf.QuestionID, q.ShowIf.OptionID
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO questions (id, consultation_id, position, kind, prompt, help,
			required, min_choices, max_choices, scale_min, scale_max, scale_min_label, scale_max_label, max_length,
			show_if_question, show_if_option) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			q.ID, c.ID, i, q.Kind, q.Prompt, q.Help, q.Required, q.MinChoices, q.MaxChoices, q.ScaleMin, q.ScaleMax,
			q.ScaleMinLabel, q.ScaleMaxLabel, q.MaxLength, showQ, showO); err != nil {
			return fmt.Errorf("insert question of %s: %w", c.ID, err)
		}
		for j, o := range q.Options {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO options (id, question_id, position, label) VALUES (?, ?, ?, ?)`),
				o.ID, q.ID, j, o.Label); err != nil {
				return fmt.Errorf("insert option of %s: %w", c.ID, err)
			}
		}
	}
	return nil
}

func (s *Storage) insertAttachment(ctx context.Context, tx *store.Tx, id string, a Attachment, position int) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO attachments (consultation_id, upload_id, name, position) VALUES (?, ?, ?, ?)
		ON CONFLICT (consultation_id, upload_id) DO UPDATE SET name = excluded.name`), id, a.UploadID, a.Name, position)
	if err != nil {
		return fmt.Errorf("insert attachment of %s: %w", id, err)
	}
	return nil
}

func (s *Storage) deleteAttachment(ctx context.Context, tx *store.Tx, id, uploadID string) error {
	if !validID(uploadID) {
		return sdk.Errorf(sdk.CodeNotFound, "The consultation has no such attachment.")
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM attachments WHERE consultation_id = ? AND upload_id = ?`), id, uploadID)
	if err != nil {
		return fmt.Errorf("delete attachment of %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sdk.Errorf(sdk.CodeNotFound, "The consultation has no such attachment.")
	}
	return nil
}

// listConsultations reads a page of consultations by (closes_at, id), latest first,
// each with its definition.
func (s *Storage) listConsultations(ctx context.Context, f ListFilter, staff bool, now time.Time, q sdk.ListQuery) ([]Consultation, error) {
	before, args, err := q.Before("closes_at", "id")
	if err != nil {
		return nil, err
	}
	where := []string{before}
	if !staff {
		where = append(where, "published_at IS NOT NULL")
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Neighbourhood != "" {
		where = append(where, `(NOT EXISTS (SELECT 1 FROM consultation_neighbourhoods n WHERE n.consultation_id = consultations.id)
			OR EXISTS (SELECT 1 FROM consultation_neighbourhoods n WHERE n.consultation_id = consultations.id AND n.neighbourhood_id = ?))`)
		args = append(args, f.Neighbourhood)
	}
	us := store.Micros(now)
	switch f.Stage {
	case StageDraft:
		where = append(where, "published_at IS NULL")
	case StageUpcoming:
		where, args = append(where, "published_at IS NOT NULL AND closed_at IS NULL AND results_at IS NULL AND opens_at > ?"), append(args, us)
	case StageOpen:
		where, args = append(where, "published_at IS NOT NULL AND closed_at IS NULL AND results_at IS NULL AND opens_at <= ? AND closes_at > ?"), append(args, us, us)
	case StageClosed:
		where, args = append(where, "published_at IS NOT NULL AND results_at IS NULL AND (closed_at IS NOT NULL OR closes_at <= ?)"), append(args, us)
	case StageResults:
		where = append(where, "results_at IS NOT NULL AND responded_at IS NULL")
	case StageResponded:
		where = append(where, "responded_at IS NOT NULL")
	case StageEnded:
		where, args = append(where, "published_at IS NOT NULL AND (closed_at IS NOT NULL OR closes_at <= ? OR results_at IS NOT NULL)"), append(args, us)
	}
	var rows []consultationRow
	query := `SELECT ` + consultationColumns + ` FROM consultations WHERE ` + strings.Join(where, " AND ") + ` ORDER BY closes_at DESC, id DESC LIMIT ?`
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(query), append(args, q.Fetch())...); err != nil {
		return nil, fmt.Errorf("list consultations: %w", err)
	}
	out := make([]Consultation, 0, len(rows))
	for _, r := range rows {
		c := r.consultation()
		if err := s.definition(ctx, s.db, c); err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}
