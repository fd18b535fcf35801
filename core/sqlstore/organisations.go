package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// OrganisationService implements core.OrganisationService.
type OrganisationService struct {
	DB    *DB
	Authz core.Authorizer
	// OnPrincipalChange is called after a change to who belongs to which organisation.
	OnPrincipalChange func()
}

var _ core.OrganisationService = (*OrganisationService)(nil)

type organisationRow struct {
	ID          string    `db:"id"`
	Name        string    `db:"name"`
	Kind        string    `db:"kind"`
	Description string    `db:"description"`
	State       string    `db:"state"`
	Reason      string    `db:"reason"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

const organisationColumns = `id, name, kind, description, state, reason, created_at, updated_at`

func (s *OrganisationService) changed() {
	if s.OnPrincipalChange != nil {
		s.OnPrincipalChange()
	}
}

func (s *OrganisationService) load(ctx context.Context, q sqlx.ExtContext, rows []organisationRow) ([]core.Organisation, error) {
	out := make([]core.Organisation, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	query, args, err := in(q, `SELECT organisation_id, neighbourhood_id FROM organisation_neighbourhoods WHERE organisation_id IN (?) ORDER BY neighbourhood_id`, ids)
	if err != nil {
		return nil, err
	}
	var links []struct {
		OrganisationID  string `db:"organisation_id"`
		NeighbourhoodID string `db:"neighbourhood_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &links, query, args...); err != nil {
		return nil, fmt.Errorf("organisation neighbourhoods: %w", err)
	}
	byOrg := map[string][]string{}
	for _, l := range links {
		byOrg[l.OrganisationID] = append(byOrg[l.OrganisationID], l.NeighbourhoodID)
	}
	for i, r := range rows {
		nbhs := byOrg[r.ID]
		if nbhs == nil {
			nbhs = []string{}
		}
		out[i] = core.Organisation{ID: r.ID, Name: r.Name, Kind: r.Kind, Description: r.Description, State: r.State, Reason: r.Reason,
			NeighbourhoodIDs: nbhs, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	}
	return out, nil
}

// CreateOrganisation registers an organisation; its founder becomes its representative.
// It stays pending until a city administrator verifies it.
func (s *OrganisationService) CreateOrganisation(ctx context.Context, in core.OrganisationInput) (*core.Organisation, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	f := core.Fields{}
	f.CheckText("name", in.Name, 1, 200, false)
	f.CheckText("description", in.Description, 0, 5000, true)
	if !slices.Contains(core.OrganisationKinds, in.Kind) {
		f.Add("kind", core.RuleOneOf, "must be one of "+strings.Join(core.OrganisationKinds, ", "))
	}
	if len(in.NeighbourhoodIDs) > 100 {
		f.Add("neighbourhood_ids", core.RuleMaxItems, "may list at most 100 neighbourhoods")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	slices.Sort(in.NeighbourhoodIDs)
	in.NeighbourhoodIDs = slices.Compact(in.NeighbourhoodIDs)
	now := s.DB.now()
	row := organisationRow{ID: newID(), Name: in.Name, Kind: in.Kind, Description: in.Description, State: core.OrganisationPending, CreatedAt: now, UpdatedAt: now}
	var out []core.Organisation
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		for _, id := range in.NeighbourhoodIDs {
			var n int
			if err := get(ctx, tx, &n, `SELECT COUNT(*) FROM neighbourhoods WHERE id = ? AND archived_at IS NULL`, id); err != nil {
				return fmt.Errorf("check neighbourhood: %w", err)
			}
			if n == 0 {
				return core.InvalidField("neighbourhood_ids", core.RuleExists, "names a neighbourhood that does not exist: "+id)
			}
		}
		if _, err := exec(ctx, tx, `INSERT INTO organisations (id, name, kind, description, state, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			row.ID, row.Name, row.Kind, row.Description, row.State, p.UserID, now, now); err != nil {
			return fmt.Errorf("insert organisation: %w", err)
		}
		for _, id := range in.NeighbourhoodIDs {
			if _, err := exec(ctx, tx, `INSERT INTO organisation_neighbourhoods (organisation_id, neighbourhood_id) VALUES (?, ?)`, row.ID, id); err != nil {
				return fmt.Errorf("link neighbourhood: %w", err)
			}
		}
		if _, err := exec(ctx, tx, `INSERT INTO organisation_members (organisation_id, user_id, role, created_at) VALUES (?, ?, 'representative', ?)`, row.ID, p.UserID, now); err != nil {
			return fmt.Errorf("add founder: %w", err)
		}
		if err := recordAudit(ctx, tx, now, "organisation.created", core.OrganisationDomain(row.ID), "organisation:"+row.ID, map[string]any{"name": row.Name}); err != nil {
			return err
		}
		out, err = s.load(ctx, tx, []organisationRow{row})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.changed()
	return &out[0], nil
}

// canSeeUnverified reports whether the acting person may see an organisation that is
// not (yet) verified: its own members and city administrators.
func (s *OrganisationService) canSeeUnverified(p *core.Principal, id string) bool {
	return s.Authz.Can(p, core.PermOrganisationVerify, core.DomainCity) || len(p.RolesIn(core.OrganisationDomain(id))) > 0
}

// FindOrganisation returns a verified organisation to anyone, and a pending or rejected
// one only to its members and city administrators.
func (s *OrganisationService) FindOrganisation(ctx context.Context, id string) (*core.Organisation, error) {
	var r organisationRow
	if err := get(ctx, s.DB.db, &r, `SELECT `+organisationColumns+` FROM organisations WHERE id = ?`, id); err != nil {
		return nil, notFound(err, "The organisation")
	}
	if r.State != core.OrganisationVerified && !s.canSeeUnverified(core.PrincipalFrom(ctx), id) {
		return nil, core.Errorf(core.ENOTFOUND, "The organisation was not found.")
	}
	out, err := s.load(ctx, s.DB.db, []organisationRow{r})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// ListOrganisations lists verified organisations; city administrators may list by state.
func (s *OrganisationService) ListOrganisations(ctx context.Context, state string, page core.Page) ([]core.Organisation, string, error) {
	switch state {
	case "":
		state = core.OrganisationVerified
	case core.OrganisationVerified:
	case core.OrganisationPending, core.OrganisationRejected:
		if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermOrganisationVerify, core.DomainCity) {
			return nil, "", core.Errorf(core.EFORBIDDEN, "Only city administrators may list organisations that are not verified.")
		}
	default:
		return nil, "", core.InvalidField("state", core.RuleOneOf, "must be verified, pending or rejected")
	}
	page = page.Normalize()
	after, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	var rows []organisationRow
	if err := selectAll(ctx, s.DB.db, &rows, `SELECT `+organisationColumns+` FROM organisations WHERE state = ? AND id > ? ORDER BY id LIMIT ?`, state, after, page.Limit+1); err != nil {
		return nil, "", fmt.Errorf("list organisations: %w", err)
	}
	rows, next := pageRows(rows, page, func(r organisationRow) string { return r.ID })
	out, err := s.load(ctx, s.DB.db, rows)
	return out, next, err
}

// DecideOrganisation verifies or rejects a pending organisation.
func (s *OrganisationService) DecideOrganisation(ctx context.Context, id, decision, reason string) (*core.Organisation, error) {
	if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermOrganisationVerify, core.DomainCity) {
		return nil, core.Errorf(core.EFORBIDDEN, "Only city administrators may verify organisations.")
	}
	reason = strings.TrimSpace(reason)
	f := core.Fields{}
	f.CheckText("reason", reason, 0, 500, true)
	var to string
	switch decision {
	case "verify":
		to = core.OrganisationVerified
	case "reject":
		to = core.OrganisationRejected
		if reason == "" {
			f.Add("reason", core.RuleReasonRequired, "is required when rejecting, so the organisation knows why")
		}
	default:
		f.Add("decision", core.RuleOneOf, "must be verify or reject")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	now := s.DB.now()
	var out []core.Organisation
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var r organisationRow
		if err := get(ctx, tx, &r, `SELECT `+organisationColumns+` FROM organisations WHERE id = ?`, id); err != nil {
			return notFound(err, "The organisation")
		}
		if r.State != core.OrganisationPending {
			return core.Errorf(core.ECONFLICT, "This organisation is already %s.", r.State)
		}
		if _, err := exec(ctx, tx, `UPDATE organisations SET state = ?, reason = ?, updated_at = ? WHERE id = ?`, to, reason, now, id); err != nil {
			return fmt.Errorf("decide organisation: %w", err)
		}
		r.State, r.Reason, r.UpdatedAt = to, reason, now
		if err := recordAudit(ctx, tx, now, "organisation."+to, core.OrganisationDomain(id), "organisation:"+id, map[string]any{"reason": reason}); err != nil {
			return err
		}
		var err error
		out, err = s.load(ctx, tx, []organisationRow{r})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.changed()
	return &out[0], nil
}

// ListOrganisationMembers lists a page of members, in the order they joined, for the
// organisation's members and city admins.
func (s *OrganisationService) ListOrganisationMembers(ctx context.Context, id string, page core.Page) ([]core.OrganisationMember, string, error) {
	if _, err := s.FindOrganisation(ctx, id); err != nil {
		return nil, "", err
	}
	p := core.PrincipalFrom(ctx)
	if !s.canSeeUnverified(p, id) {
		return nil, "", core.Errorf(core.EFORBIDDEN, "Only the organisation's members may see who belongs to it.")
	}
	page = page.Normalize()
	key, err := cursorParts(page.Cursor, 2)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT m.user_id, u.display_name, m.role, m.created_at FROM organisation_members m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = ?`
	args := []any{id}
	if key != nil {
		at, err := cursorTime(key[0])
		if err != nil {
			return nil, "", err
		}
		q += ` AND (m.created_at, m.user_id) > (?, ?)`
		args = append(args, at, key[1])
	}
	var out []core.OrganisationMember
	if err := selectAll(ctx, s.DB.db, &out, q+` ORDER BY m.created_at, m.user_id LIMIT ?`, append(args, page.Limit+1)...); err != nil {
		return nil, "", fmt.Errorf("list organisation members: %w", err)
	}
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
	}
	out, next := pageRows(out, page, func(m core.OrganisationMember) string { return keyTime(m.CreatedAt) + keySep + m.UserID })
	return out, next, nil
}

func (s *OrganisationService) requireRepresentative(ctx context.Context, id string) error {
	if _, err := s.FindOrganisation(ctx, id); err != nil {
		return err
	}
	if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermOrganisationMembers, core.OrganisationDomain(id)) {
		return core.Errorf(core.EFORBIDDEN, "Only the organisation's representatives may change its members.")
	}
	return nil
}

// AddOrganisationMember adds a person as member or representative, or changes their role.
func (s *OrganisationService) AddOrganisationMember(ctx context.Context, id, userID, role string) (*core.OrganisationMember, error) {
	if err := s.requireRepresentative(ctx, id); err != nil {
		return nil, err
	}
	if role == "" {
		role = core.OrgRoleMember
	}
	if role != core.OrgRoleMember && role != core.OrgRoleRepresentative {
		return nil, core.InvalidField("role", core.RuleOneOf, "must be member or representative")
	}
	now := s.DB.now()
	var out core.OrganisationMember
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var name string
		if err := get(ctx, tx, &name, `SELECT display_name FROM users WHERE id = ? AND deleted_at IS NULL`, userID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return core.InvalidField("user_id", core.RuleExists, "names no user")
			}
			return fmt.Errorf("find user: %w", err)
		}
		if _, err := exec(ctx, tx, `INSERT INTO organisation_members (organisation_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (organisation_id, user_id) DO UPDATE SET role = excluded.role`, id, userID, role, now); err != nil {
			return fmt.Errorf("add organisation member: %w", err)
		}
		if err := get(ctx, tx, &out, `SELECT m.user_id, u.display_name, m.role, m.created_at FROM organisation_members m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = ? AND m.user_id = ?`, id, userID); err != nil {
			return fmt.Errorf("reload organisation member: %w", err)
		}
		return recordAudit(ctx, tx, now, "organisation.member_added", core.OrganisationDomain(id), "user:"+userID, map[string]any{"role": role})
	})
	if err != nil {
		return nil, err
	}
	out.CreatedAt = out.CreatedAt.UTC()
	s.changed()
	return &out, nil
}

// RemoveOrganisationMember removes a person; the last representative cannot be removed.
func (s *OrganisationService) RemoveOrganisationMember(ctx context.Context, id, userID string) error {
	if err := s.requireRepresentative(ctx, id); err != nil {
		return err
	}
	now := s.DB.now()
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var role string
		if err := get(ctx, tx, &role, `SELECT role FROM organisation_members WHERE organisation_id = ? AND user_id = ?`, id, userID); err != nil {
			return notFound(err, "The member")
		}
		if role == core.OrgRoleRepresentative {
			var reps int
			if err := get(ctx, tx, &reps, `SELECT COUNT(*) FROM organisation_members WHERE organisation_id = ? AND role = 'representative'`, id); err != nil {
				return fmt.Errorf("count representatives: %w", err)
			}
			if reps <= 1 {
				return core.Errorf(core.ECONFLICT, "An organisation needs at least one representative; name another before removing this one.")
			}
		}
		if _, err := exec(ctx, tx, `DELETE FROM organisation_members WHERE organisation_id = ? AND user_id = ?`, id, userID); err != nil {
			return fmt.Errorf("remove organisation member: %w", err)
		}
		return recordAudit(ctx, tx, now, "organisation.member_removed", core.OrganisationDomain(id), "user:"+userID, nil)
	})
	if err != nil {
		return err
	}
	s.changed()
	return nil
}
