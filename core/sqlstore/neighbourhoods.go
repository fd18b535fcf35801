package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// NeighbourhoodService implements core.NeighbourhoodService.
type NeighbourhoodService struct {
	DB    *DB
	Authz core.Authorizer
	// MaxVerifiedPerPerson is how many neighbourhoods one person may be verified in.
	MaxVerifiedPerPerson int
	// OnPrincipalChange is called after a change to who belongs where.
	OnPrincipalChange func()

	changes atomic.Uint64 // see Changes
}

// Changes counts the changes this node made to neighbourhoods (created, renamed,
// archived), so a cache of the list can tell it is stale without asking the database.
// Other nodes' changes it does not count: such a cache also bounds its age.
func (s *NeighbourhoodService) Changes() uint64 { return s.changes.Load() }

var _ core.NeighbourhoodService = (*NeighbourhoodService)(nil)

type neighbourhoodRow struct {
	ID         string     `db:"id"`
	Name       string     `db:"name"`
	Slug       string     `db:"slug"`
	ParentID   *string    `db:"parent_id"`
	Boundary   *string    `db:"boundary"`
	CreatedAt  time.Time  `db:"created_at"`
	UpdatedAt  time.Time  `db:"updated_at"`
	ArchivedAt *time.Time `db:"archived_at"`
}

const neighbourhoodColumns = `id, name, slug, parent_id, boundary, created_at, updated_at, archived_at`

func (r neighbourhoodRow) neighbourhood() core.Neighbourhood {
	n := core.Neighbourhood{ID: r.ID, Name: r.Name, Slug: r.Slug, ParentID: r.ParentID, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.Boundary != nil {
		n.Boundary = json.RawMessage(*r.Boundary)
	}
	if r.ArchivedAt != nil {
		t := r.ArchivedAt.UTC()
		n.ArchivedAt = &t
	}
	return n
}

func (s *NeighbourhoodService) changed() {
	if s.OnPrincipalChange != nil {
		s.OnPrincipalChange()
	}
}

func (s *NeighbourhoodService) requireManage(ctx context.Context) error {
	if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermNeighbourhoodManage, core.DomainCity) {
		return core.Errorf(core.EFORBIDDEN, "Only city administrators may manage neighbourhoods.")
	}
	return nil
}

// CreateNeighbourhood adds a neighbourhood; city administrators only.
func (s *NeighbourhoodService) CreateNeighbourhood(ctx context.Context, in core.NeighbourhoodInput) (*core.Neighbourhood, error) {
	if err := s.requireManage(ctx); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Slug == "" {
		in.Slug = core.Slugify(in.Name)
	}
	f := core.Fields{}
	f.CheckText("name", in.Name, 1, 100, false)
	f.CheckSlug("slug", in.Slug)
	boundary, problem := checkBoundary(in.Boundary)
	if problem != "" {
		f.Add("boundary", core.RuleFormat, problem)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	now := s.DB.now()
	row := neighbourhoodRow{ID: newID(), Name: in.Name, Slug: in.Slug, ParentID: in.ParentID, Boundary: boundary, CreatedAt: now, UpdatedAt: now}
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if in.ParentID != nil {
			if err := checkParent(ctx, tx, *in.ParentID, row.ID); err != nil {
				return err
			}
		}
		if _, err := exec(ctx, tx, `INSERT INTO neighbourhoods (id, name, slug, parent_id, boundary, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			row.ID, row.Name, row.Slug, row.ParentID, row.Boundary, now, now); err != nil {
			if isUniqueViolation(err) {
				return &core.Error{Code: core.ECONFLICT, Message: "Another neighbourhood already uses this slug.", Fields: map[string]string{"slug": "is already in use"}}
			}
			return fmt.Errorf("insert neighbourhood: %w", err)
		}
		return recordAudit(ctx, tx, now, "neighbourhood.created", core.NeighbourhoodDomain(row.ID), "neighbourhood:"+row.ID, map[string]any{"name": row.Name, "slug": row.Slug})
	})
	s.changes.Add(1) // after the commit (or the rollback, which costs a cache one reload)
	if err != nil {
		return nil, err
	}
	n := row.neighbourhood()
	return &n, nil
}

// checkParent verifies that parentID exists, is not archived, and is not self or a
// descendant of self (which would make a cycle).
func checkParent(ctx context.Context, tx sqlx.ExtContext, parentID, selfID string) error {
	seen := map[string]bool{}
	for id := parentID; id != ""; {
		if id == selfID {
			return core.InvalidField("parent_id", core.RuleNoCycle, "would make a neighbourhood its own ancestor")
		}
		if seen[id] {
			break
		}
		seen[id] = true
		var r neighbourhoodRow
		if err := get(ctx, tx, &r, `SELECT `+neighbourhoodColumns+` FROM neighbourhoods WHERE id = ?`, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return core.InvalidField("parent_id", core.RuleExists, "names no neighbourhood")
			}
			return fmt.Errorf("find parent: %w", err)
		}
		if id == parentID && r.ArchivedAt != nil {
			return core.InvalidField("parent_id", core.RuleNotArchived, "names an archived neighbourhood")
		}
		id = ""
		if r.ParentID != nil {
			id = *r.ParentID
		}
	}
	return nil
}

// UpdateNeighbourhood changes the given fields; archiving is one of them.
func (s *NeighbourhoodService) UpdateNeighbourhood(ctx context.Context, id string, upd core.NeighbourhoodUpdate) (*core.Neighbourhood, error) {
	if err := s.requireManage(ctx); err != nil {
		return nil, err
	}
	f := core.Fields{}
	if upd.Name != nil {
		*upd.Name = strings.TrimSpace(*upd.Name)
		f.CheckText("name", *upd.Name, 1, 100, false)
	}
	if upd.Slug != nil {
		f.CheckSlug("slug", *upd.Slug)
	}
	var boundary *string
	if upd.Boundary != nil {
		var problem string
		boundary, problem = checkBoundary(*upd.Boundary)
		if problem != "" {
			f.Add("boundary", core.RuleFormat, problem)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	now := s.DB.now()
	var out core.Neighbourhood
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var r neighbourhoodRow
		if err := get(ctx, tx, &r, `SELECT `+neighbourhoodColumns+` FROM neighbourhoods WHERE id = ?`, id); err != nil {
			return notFound(err, "The neighbourhood")
		}
		changes := map[string]any{}
		if upd.Name != nil {
			r.Name, changes["name"] = *upd.Name, *upd.Name
		}
		if upd.Slug != nil {
			r.Slug, changes["slug"] = *upd.Slug, *upd.Slug
		}
		if upd.ParentID != nil {
			if *upd.ParentID == "" {
				r.ParentID = nil
			} else {
				if err := checkParent(ctx, tx, *upd.ParentID, id); err != nil {
					return err
				}
				r.ParentID = upd.ParentID
			}
			changes["parent_id"] = *upd.ParentID
		}
		if upd.Boundary != nil {
			r.Boundary, changes["boundary"] = boundary, "changed"
		}
		if upd.Archived != nil {
			switch {
			case *upd.Archived && r.ArchivedAt == nil:
				r.ArchivedAt = &now
			case !*upd.Archived:
				r.ArchivedAt = nil
			}
			changes["archived"] = *upd.Archived
		}
		r.UpdatedAt = now
		if _, err := exec(ctx, tx, `UPDATE neighbourhoods SET name = ?, slug = ?, parent_id = ?, boundary = ?, archived_at = ?, updated_at = ? WHERE id = ?`,
			r.Name, r.Slug, r.ParentID, r.Boundary, r.ArchivedAt, now, id); err != nil {
			if isUniqueViolation(err) {
				return &core.Error{Code: core.ECONFLICT, Message: "Another neighbourhood already uses this slug.", Fields: map[string]string{"slug": "is already in use"}}
			}
			return fmt.Errorf("update neighbourhood: %w", err)
		}
		out = r.neighbourhood()
		return recordAudit(ctx, tx, now, "neighbourhood.updated", core.NeighbourhoodDomain(id), "neighbourhood:"+id, changes)
	})
	s.changes.Add(1)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// FindNeighbourhood returns one neighbourhood; anyone may read it.
func (s *NeighbourhoodService) FindNeighbourhood(ctx context.Context, id string) (*core.Neighbourhood, error) {
	var r neighbourhoodRow
	if err := get(ctx, s.DB.db, &r, `SELECT `+neighbourhoodColumns+` FROM neighbourhoods WHERE id = ?`, id); err != nil {
		return nil, notFound(err, "The neighbourhood")
	}
	n := r.neighbourhood()
	return &n, nil
}

// ListNeighbourhoods lists neighbourhoods in creation order.
func (s *NeighbourhoodService) ListNeighbourhoods(ctx context.Context, includeArchived bool, page core.Page) ([]core.Neighbourhood, string, error) {
	page = page.Normalize()
	after, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + neighbourhoodColumns + ` FROM neighbourhoods WHERE id > ?`
	if !includeArchived {
		q += ` AND archived_at IS NULL`
	}
	var rows []neighbourhoodRow
	if err := selectAll(ctx, s.DB.db, &rows, q+` ORDER BY id LIMIT ?`, after, page.Limit+1); err != nil {
		return nil, "", fmt.Errorf("list neighbourhoods: %w", err)
	}
	rows, next := pageRows(rows, page, func(r neighbourhoodRow) string { return r.ID })
	out := make([]core.Neighbourhood, len(rows))
	for i, r := range rows {
		out[i] = r.neighbourhood()
	}
	return out, next, nil
}

// checkBoundary accepts a GeoJSON Polygon or MultiPolygon, bare or as a Feature's
// geometry, with closed rings of longitude/latitude pairs. It returns the compacted JSON.
func checkBoundary(raw json.RawMessage) (*string, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, ""
	}
	if len(raw) > 512*1024 {
		return nil, "must be at most 512 KiB of GeoJSON"
	}
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
		Geometry    json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, "must be a GeoJSON object"
	}
	if g.Type == "Feature" {
		if err := json.Unmarshal(g.Geometry, &g); err != nil {
			return nil, "must be a GeoJSON Feature with a geometry"
		}
	}
	var polygons [][][][]float64
	switch g.Type {
	case "Polygon":
		var p [][][]float64
		if json.Unmarshal(g.Coordinates, &p) != nil {
			return nil, "Polygon coordinates must be rings of [longitude, latitude] positions"
		}
		polygons = [][][][]float64{p}
	case "MultiPolygon":
		if json.Unmarshal(g.Coordinates, &polygons) != nil {
			return nil, "MultiPolygon coordinates must be polygons of rings of [longitude, latitude] positions"
		}
	default:
		return nil, "must be a GeoJSON Polygon or MultiPolygon (or a Feature holding one)"
	}
	if len(polygons) == 0 {
		return nil, "must contain at least one polygon"
	}
	for _, poly := range polygons {
		if len(poly) == 0 {
			return nil, "every polygon needs an outer ring"
		}
		for _, ring := range poly {
			if len(ring) < 4 {
				return nil, "every ring needs at least 4 positions"
			}
			for _, pos := range ring {
				if len(pos) < 2 || pos[0] < -180 || pos[0] > 180 || pos[1] < -90 || pos[1] > 90 {
					return nil, "positions must be [longitude, latitude] within -180..180 and -90..90"
				}
			}
			first, last := ring[0], ring[len(ring)-1]
			if first[0] != last[0] || first[1] != last[1] {
				return nil, "every ring must be closed (first and last positions equal)"
			}
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, "must be a GeoJSON object"
	}
	s := buf.String()
	return &s, ""
}

const membershipColumns = `m.id, m.user_id, u.display_name, m.neighbourhood_id, m.state, m.note, m.reason, m.created_at, m.updated_at, m.verified_at, COALESCE(m.claim_provider, '') AS claim_provider`

func fixMembershipTimes(ms []core.Membership) {
	for i := range ms {
		ms[i].CreatedAt, ms[i].UpdatedAt = ms[i].CreatedAt.UTC(), ms[i].UpdatedAt.UTC()
		if ms[i].VerifiedAt != nil {
			t := ms[i].VerifiedAt.UTC()
			ms[i].VerifiedAt = &t
		}
	}
}

func (s *NeighbourhoodService) findOpenNeighbourhood(ctx context.Context, q sqlx.ExtContext, id string) (*neighbourhoodRow, error) {
	var r neighbourhoodRow
	if err := get(ctx, q, &r, `SELECT `+neighbourhoodColumns+` FROM neighbourhoods WHERE id = ?`, id); err != nil {
		return nil, notFound(err, "The neighbourhood")
	}
	if r.ArchivedAt != nil {
		return nil, core.Errorf(core.ECONFLICT, "The neighbourhood %q is archived.", r.Name)
	}
	return &r, nil
}

// RequestMembership asks for the acting person to join a neighbourhood.
func (s *NeighbourhoodService) RequestMembership(ctx context.Context, neighbourhoodID, note string) (*core.Membership, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	f := core.Fields{}
	f.CheckText("note", note, 0, 500, true)
	if err := f.Err(); err != nil {
		return nil, err
	}
	now := s.DB.now()
	m := core.Membership{ID: newID(), UserID: p.UserID, DisplayName: p.DisplayName, NeighbourhoodID: neighbourhoodID,
		State: core.MembershipRequested, Note: strings.TrimSpace(note), CreatedAt: now, UpdatedAt: now}
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.findOpenNeighbourhood(ctx, tx, neighbourhoodID); err != nil {
			return err
		}
		if _, err := exec(ctx, tx, `INSERT INTO memberships (id, user_id, neighbourhood_id, state, note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.UserID, m.NeighbourhoodID, m.State, m.Note, now, now); err != nil {
			if isUniqueViolation(err) {
				return core.Errorf(core.ECONFLICT, "You have already asked to join this neighbourhood, or already belong to it.")
			}
			return fmt.Errorf("insert membership: %w", err)
		}
		return recordAudit(ctx, tx, now, "membership.requested", core.NeighbourhoodDomain(neighbourhoodID), "user:"+p.UserID, nil)
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// ListMemberships lists a neighbourhood's memberships for its coordinators.
func (s *NeighbourhoodService) ListMemberships(ctx context.Context, neighbourhoodID, state string, page core.Page) ([]core.Membership, string, error) {
	if _, err := s.FindNeighbourhood(ctx, neighbourhoodID); err != nil {
		return nil, "", err
	}
	if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermMembershipDecide, core.NeighbourhoodDomain(neighbourhoodID)) {
		return nil, "", core.Errorf(core.EFORBIDDEN, "Only this neighbourhood's coordinators may see its memberships.")
	}
	switch state {
	case "", core.MembershipRequested, core.MembershipVerified, core.MembershipRejected, core.MembershipLeft, core.MembershipRevoked:
	default:
		return nil, "", core.InvalidField("state", core.RuleOneOf, "must be one of requested, verified, rejected, left, revoked")
	}
	page = page.Normalize()
	after, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + membershipColumns + ` FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.neighbourhood_id = ? AND m.id > ?`
	args := []any{neighbourhoodID, after}
	if state != "" {
		q += ` AND m.state = ?`
		args = append(args, state)
	}
	var rows []core.Membership
	if err := selectAll(ctx, s.DB.db, &rows, q+` ORDER BY m.id LIMIT ?`, append(args, page.Limit+1)...); err != nil {
		return nil, "", fmt.Errorf("list memberships: %w", err)
	}
	rows, next := pageRows(rows, page, func(m core.Membership) string { return m.ID })
	fixMembershipTimes(rows)
	return rows, next, nil
}

// Membership decisions.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
	DecisionRevoke  = "revoke"
)

// DecideMembership approves or rejects a request, or revokes a verified membership.
func (s *NeighbourhoodService) DecideMembership(ctx context.Context, neighbourhoodID, userID, decision, reason string) (*core.Membership, error) {
	if _, err := s.FindNeighbourhood(ctx, neighbourhoodID); err != nil {
		return nil, err
	}
	if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermMembershipDecide, core.NeighbourhoodDomain(neighbourhoodID)) {
		return nil, core.Errorf(core.EFORBIDDEN, "Only this neighbourhood's coordinators may decide on its memberships.")
	}
	reason = strings.TrimSpace(reason)
	f := core.Fields{}
	f.CheckText("reason", reason, 0, 500, true)
	if decision != DecisionApprove && reason == "" {
		f.Add("reason", core.RuleReasonRequired, "is required when rejecting or revoking, so the resident knows why")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	now := s.DB.now()
	var out core.Membership
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var m core.Membership
		err := get(ctx, tx, &m, `SELECT `+membershipColumns+` FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.neighbourhood_id = ? AND m.user_id = ? ORDER BY m.id DESC LIMIT 1`, neighbourhoodID, userID)
		if err != nil {
			return notFound(err, "The membership")
		}
		from, to, action, event := core.MembershipRequested, "", "", ""
		switch decision {
		case DecisionApprove:
			to, action, event = core.MembershipVerified, "membership.approved", core.EventMembershipVerified
		case DecisionReject:
			to, action = core.MembershipRejected, "membership.rejected"
		case DecisionRevoke:
			from, to, action, event = core.MembershipVerified, core.MembershipRevoked, "membership.revoked", core.EventMembershipEnded
		default:
			return core.InvalidField("decision", core.RuleOneOf, "must be approve, reject or revoke")
		}
		if m.State != from {
			return core.Errorf(core.ECONFLICT, "This membership is %s, so it cannot be %s.", m.State, pastTense(decision))
		}
		if to == core.MembershipVerified {
			if err := s.checkVerifiedLimit(ctx, tx, userID, neighbourhoodID); err != nil {
				return err
			}
		}
		var verifiedAt any = m.VerifiedAt
		if to == core.MembershipVerified {
			verifiedAt = now
		}
		decider := core.PrincipalFrom(ctx).UserID
		if _, err := exec(ctx, tx, `UPDATE memberships SET state = ?, reason = ?, decided_by = ?, updated_at = ?, verified_at = ? WHERE id = ?`,
			to, reason, decider, now, verifiedAt, m.ID); err != nil {
			return fmt.Errorf("decide membership: %w", err)
		}
		if err := get(ctx, tx, &out, `SELECT `+membershipColumns+` FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.id = ?`, m.ID); err != nil {
			return fmt.Errorf("reload membership: %w", err)
		}
		if event != "" {
			if err := publishEvent(ctx, tx, now, event, map[string]string{"user_id": userID, "neighbourhood_id": neighbourhoodID}); err != nil {
				return err
			}
		}
		return recordAudit(ctx, tx, now, action, core.NeighbourhoodDomain(neighbourhoodID), "user:"+userID, map[string]any{"reason": reason})
	})
	if err != nil {
		return nil, err
	}
	fixMembershipTimes([]core.Membership{out})
	s.changed()
	return &out, nil
}

func pastTense(decision string) string {
	switch decision {
	case DecisionApprove:
		return "approved"
	case DecisionReject:
		return "rejected"
	}
	return "revoked"
}

func (s *NeighbourhoodService) checkVerifiedLimit(ctx context.Context, tx sqlx.ExtContext, userID, neighbourhoodID string) error {
	limit := s.MaxVerifiedPerPerson
	if limit <= 0 {
		limit = 1
	}
	var n int
	if err := get(ctx, tx, &n, `SELECT COUNT(*) FROM memberships WHERE user_id = ? AND state = 'verified' AND neighbourhood_id <> ?`, userID, neighbourhoodID); err != nil {
		return fmt.Errorf("count memberships: %w", err)
	}
	if n >= limit {
		return core.Errorf(core.ECONFLICT, "This person is already verified in %d neighbourhood(s), the most the city allows.", limit)
	}
	return nil
}

// LeaveNeighbourhood ends the acting person's membership or withdraws their request.
func (s *NeighbourhoodService) LeaveNeighbourhood(ctx context.Context, neighbourhoodID string) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	now := s.DB.now()
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var m struct {
			ID    string `db:"id"`
			State string `db:"state"`
		}
		if err := get(ctx, tx, &m, `SELECT id, state FROM memberships WHERE user_id = ? AND neighbourhood_id = ? AND state IN ('requested', 'verified')`, p.UserID, neighbourhoodID); err != nil {
			return notFound(err, "Your membership of this neighbourhood")
		}
		if _, err := exec(ctx, tx, `UPDATE memberships SET state = 'left', updated_at = ? WHERE id = ?`, now, m.ID); err != nil {
			return fmt.Errorf("leave: %w", err)
		}
		if m.State == core.MembershipVerified {
			if err := publishEvent(ctx, tx, now, core.EventMembershipEnded, map[string]string{"user_id": p.UserID, "neighbourhood_id": neighbourhoodID}); err != nil {
				return err
			}
		}
		return recordAudit(ctx, tx, now, "membership.left", core.NeighbourhoodDomain(neighbourhoodID), "user:"+p.UserID, nil)
	})
	if err != nil {
		return err
	}
	s.changed()
	return nil
}

// ImportMemberships verifies email,neighbourhood pairs from a CSV (neighbourhood by id
// or slug). Either every row is imported or none is: the report says, per row, what
// happened or what is wrong.
func (s *NeighbourhoodService) ImportMemberships(ctx context.Context, data []byte) (*core.ImportReport, error) {
	if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermMembershipImport, core.DomainCity) {
		return nil, core.Errorf(core.EFORBIDDEN, "Only city administrators may import memberships.")
	}
	lines, err := core.ParseMembershipCSV(data)
	if err != nil {
		return nil, err
	}
	report := &core.ImportReport{Rows: []core.ImportRow{}}
	type pending struct {
		row              int
		userID, nbhID    string
		existingID       string
		existingVerified bool
	}
	var todo []pending
	now := s.DB.now()
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		failed := false
		perUser := map[string]int{}
		for _, row := range lines {
			if row.Result == "invalid" {
				report.Rows = append(report.Rows, row)
				failed = true
				continue
			}
			var userID string
			if uerr := get(ctx, tx, &userID, `SELECT id FROM users WHERE email_key = ? AND deleted_at IS NULL`, core.NormalizeEmail(row.Email)); uerr != nil {
				row.Result = "unknown_email"
			}
			var nbh neighbourhoodRow
			if nerr := get(ctx, tx, &nbh, `SELECT `+neighbourhoodColumns+` FROM neighbourhoods WHERE (id = ? OR slug = ?) AND archived_at IS NULL`, row.Neighbourhood, row.Neighbourhood); nerr != nil {
				if row.Result == "" {
					row.Result = "unknown_neighbourhood"
				}
			}
			if row.Result != "" {
				report.Rows = append(report.Rows, row)
				failed = true
				continue
			}
			p := pending{row: len(report.Rows), userID: userID, nbhID: nbh.ID}
			var existing struct {
				ID    string `db:"id"`
				State string `db:"state"`
			}
			if err := get(ctx, tx, &existing, `SELECT id, state FROM memberships WHERE user_id = ? AND neighbourhood_id = ? AND state IN ('requested', 'verified')`, userID, nbh.ID); err == nil {
				p.existingID, p.existingVerified = existing.ID, existing.State == core.MembershipVerified
			}
			if p.existingVerified {
				row.Result = "already_verified"
			} else {
				row.Result = "imported"
				perUser[userID]++
				var others int
				if err := get(ctx, tx, &others, `SELECT COUNT(*) FROM memberships WHERE user_id = ? AND state = 'verified'`, userID); err != nil {
					return fmt.Errorf("count memberships: %w", err)
				}
				limit := max(s.MaxVerifiedPerPerson, 1)
				if others+perUser[userID] > limit {
					row.Result = "over_limit"
					failed = true
				}
			}
			report.Rows = append(report.Rows, row)
			todo = append(todo, p)
		}
		if len(report.Rows) == 0 {
			return core.InvalidField("file", core.RuleRequired, "holds no rows; expected lines of email,neighbourhood")
		}
		if failed {
			for i := range report.Rows {
				if report.Rows[i].Result == "imported" {
					report.Rows[i].Result = "not_imported"
				}
			}
			return errImportFailed
		}
		decider := core.PrincipalFrom(ctx).UserID
		for _, p := range todo {
			if p.existingVerified {
				continue
			}
			if p.existingID != "" {
				if _, err := exec(ctx, tx, `UPDATE memberships SET state = 'verified', decided_by = ?, updated_at = ?, verified_at = ?, reason = 'imported' WHERE id = ?`, decider, now, now, p.existingID); err != nil {
					return fmt.Errorf("import: %w", err)
				}
			} else if _, err := exec(ctx, tx, `INSERT INTO memberships (id, user_id, neighbourhood_id, state, reason, decided_by, created_at, updated_at, verified_at) VALUES (?, ?, ?, 'verified', 'imported', ?, ?, ?, ?)`,
				newID(), p.userID, p.nbhID, decider, now, now, now); err != nil {
				return fmt.Errorf("import: %w", err)
			}
			if err := publishEvent(ctx, tx, now, core.EventMembershipVerified, map[string]string{"user_id": p.userID, "neighbourhood_id": p.nbhID}); err != nil {
				return err
			}
		}
		return recordAudit(ctx, tx, now, "membership.imported", core.DomainCity, "memberships", map[string]any{"rows": len(report.Rows)})
	})
	if errors.Is(err, errImportFailed) {
		return report, nil
	}
	if err != nil {
		return nil, err
	}
	report.Imported = true
	s.changed()
	return report, nil
}

// errImportFailed rolls back an import that has a bad row; the report explains it.
var errImportFailed = errors.New("import has rows that cannot be imported")

// MyMemberships lists the acting person's requests and memberships in every state,
// newest first: a rejected request stays visible, with its reason, until they ask again.
func (s *NeighbourhoodService) MyMemberships(ctx context.Context) ([]core.Membership, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	out := []core.Membership{}
	if err := selectAll(ctx, s.DB.db, &out, `SELECT `+membershipColumns+` FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.user_id = ? ORDER BY m.id DESC`, p.UserID); err != nil {
		return nil, fmt.Errorf("my memberships: %w", err)
	}
	fixMembershipTimes(out)
	return out, nil
}
