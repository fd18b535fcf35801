package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/kvarter/kvarter/core"
)

// PluginStore is the storage the plugin host needs: the policy a plugin's manifest
// brings, the read-only views of people and places plugins ask for, the outbox and
// delivery cursors, plugin status, and PostgreSQL store provisioning.
type PluginStore struct{ DB *DB }

// Lock classes for PostgreSQL two-key advisory locks. The SDK's migration lock uses
// class 4242, so these never collide with it.
const (
	lockClassPluginMigrate = 7461002
	lockClassPluginEvents  = 7461003
)

// RegisterPluginPolicy stores the role permissions a plugin's manifest declares, marked
// with source = plugin. Rows that exist already (including ones a city admin kept) are
// left alone. The policy version moves only when something was added, so every node
// reloads exactly when needed.
func (s *PluginStore) RegisterPluginPolicy(ctx context.Context, plugin string, perms []core.RolePermission) (added int, err error) {
	err = s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		for _, p := range perms {
			// The host checks the manifest before this; the store refuses too, so
			// that no path stores a plugin's grant of another namespace's power.
			if !strings.HasPrefix(p.Permission, plugin+".") {
				return fmt.Errorf("plugin %s may only bundle its own permissions (%s.*), not %s for %s", plugin, plugin, p.Permission, p.Role)
			}
			n, err := exec(ctx, tx, `INSERT INTO role_permissions (role, permission, source) VALUES (?, ?, ?) ON CONFLICT (role, permission) DO NOTHING`,
				p.Role, p.Permission, plugin)
			if err != nil {
				return fmt.Errorf("register %s permission %s for %s: %w", plugin, p.Permission, p.Role, err)
			}
			added += int(n)
		}
		if added > 0 {
			return bumpPolicyVersion(ctx, tx)
		}
		return nil
	})
	return added, err
}

// PrincipalOf builds the principal of a user, as authentication would.
func (s *PluginStore) PrincipalOf(ctx context.Context, userID string) (*core.Principal, error) {
	p, err := loadPrincipal(ctx, s.DB, userID)
	if err != nil {
		return nil, fmt.Errorf("principal of %s: %w", userID, err)
	}
	return p, nil
}

// UsersByID returns the users that exist and are not deleted, in one query.
func (s *PluginStore) UsersByID(ctx context.Context, ids []string) ([]core.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := in(s.DB.db, `SELECT id, COALESCE(email, '') AS email, display_name, language, created_at FROM users WHERE deleted_at IS NULL AND id IN (?) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID          string    `db:"id"`
		Email       string    `db:"email"`
		DisplayName string    `db:"display_name"`
		Language    string    `db:"language"`
		CreatedAt   time.Time `db:"created_at"`
	}
	if err := sqlx.SelectContext(ctx, s.DB.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("users by id: %w", err)
	}
	out := make([]core.User, len(rows))
	for i, r := range rows {
		out[i] = core.User{ID: r.ID, Email: r.Email, DisplayName: r.DisplayName, Language: r.Language, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

// NeighbourhoodsByID returns the neighbourhoods that exist, in one query.
func (s *PluginStore) NeighbourhoodsByID(ctx context.Context, ids []string) ([]core.Neighbourhood, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := in(s.DB.db, `SELECT id, name, slug, parent_id, created_at, updated_at, archived_at FROM neighbourhoods WHERE id IN (?) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID         string     `db:"id"`
		Name       string     `db:"name"`
		Slug       string     `db:"slug"`
		ParentID   *string    `db:"parent_id"`
		CreatedAt  time.Time  `db:"created_at"`
		UpdatedAt  time.Time  `db:"updated_at"`
		ArchivedAt *time.Time `db:"archived_at"`
	}
	if err := sqlx.SelectContext(ctx, s.DB.db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("neighbourhoods by id: %w", err)
	}
	out := make([]core.Neighbourhood, len(rows))
	for i, r := range rows {
		out[i] = core.Neighbourhood{ID: r.ID, Name: r.Name, Slug: r.Slug, ParentID: r.ParentID,
			CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ArchivedAt: r.ArchivedAt}
	}
	return out, nil
}

// VerifiedMemberships returns the verified neighbourhood memberships of the users, in
// one query.
func (s *PluginStore) VerifiedMemberships(ctx context.Context, userIDs []string) ([]core.Membership, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	q, args, err := in(s.DB.db, `SELECT id, user_id, neighbourhood_id, state, created_at, updated_at, verified_at FROM memberships WHERE state = 'verified' AND user_id IN (?) ORDER BY user_id, neighbourhood_id`, userIDs)
	if err != nil {
		return nil, err
	}
	var out []core.Membership
	if err := sqlx.SelectContext(ctx, s.DB.db, &out, q, args...); err != nil {
		return nil, fmt.Errorf("memberships of users: %w", err)
	}
	return out, nil
}

// OrganisationsByID returns the organisations that exist with their neighbourhoods and
// representatives: one query for each of the three.
func (s *PluginStore) OrganisationsByID(ctx context.Context, ids []string) ([]core.PluginOrganisation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := in(s.DB.db, `SELECT id, name, kind, state FROM organisations WHERE id IN (?) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	var orgs []struct {
		ID    string `db:"id"`
		Name  string `db:"name"`
		Kind  string `db:"kind"`
		State string `db:"state"`
	}
	if err := sqlx.SelectContext(ctx, s.DB.db, &orgs, q, args...); err != nil {
		return nil, fmt.Errorf("organisations by id: %w", err)
	}
	var links []struct {
		A string `db:"a"`
		B string `db:"b"`
	}
	q, args, _ = in(s.DB.db, `SELECT organisation_id AS a, neighbourhood_id AS b FROM organisation_neighbourhoods WHERE organisation_id IN (?) ORDER BY neighbourhood_id`, ids)
	if err := sqlx.SelectContext(ctx, s.DB.db, &links, q, args...); err != nil {
		return nil, fmt.Errorf("organisation neighbourhoods: %w", err)
	}
	nbhs := map[string][]string{}
	for _, l := range links {
		nbhs[l.A] = append(nbhs[l.A], l.B)
	}
	links = links[:0]
	q, args, _ = in(s.DB.db, `SELECT organisation_id AS a, user_id AS b FROM organisation_members WHERE role = 'representative' AND organisation_id IN (?) ORDER BY user_id`, ids)
	if err := sqlx.SelectContext(ctx, s.DB.db, &links, q, args...); err != nil {
		return nil, fmt.Errorf("organisation representatives: %w", err)
	}
	reps := map[string][]string{}
	for _, l := range links {
		reps[l.A] = append(reps[l.A], l.B)
	}
	out := make([]core.PluginOrganisation, len(orgs))
	for i, o := range orgs {
		out[i] = core.PluginOrganisation{
			Organisation:    core.Organisation{ID: o.ID, Name: o.Name, Kind: o.Kind, State: o.State, NeighbourhoodIDs: nbhs[o.ID]},
			Representatives: reps[o.ID],
		}
	}
	return out, nil
}

// Publish appends an event to the outbox. The caller fills in every field but Seq.
func (s *PluginStore) Publish(ctx context.Context, e core.OutboxEvent) error {
	if _, err := exec(ctx, s.DB.db, `INSERT INTO outbox_events (id, type, source, payload, occurred_at) VALUES (?, ?, ?, ?, ?)`,
		e.ID, e.Type, e.Source, e.Payload, e.OccurredAt.UTC()); err != nil {
		if isUniqueViolation(err) {
			return core.Errorf(core.ECONFLICT, "An event with id %s exists already.", e.ID)
		}
		return fmt.Errorf("publish %s: %w", e.Type, err)
	}
	return nil
}

// PublishAll appends events to the outbox in one transaction, in order, and reports how
// many it added. An event whose ID the outbox holds already, or that an earlier event of
// the list has, is skipped: a relay that delivers at least once may send it again. The
// held IDs are looked up before the insert rather than left to ON CONFLICT alone,
// because on PostgreSQL a row that conflicts still takes a seq, and delivery waits at
// every hole in the sequence; ON CONFLICT covers only a concurrent publish of the same
// ID. The caller fills in every field but Seq.
func (s *PluginStore) PublishAll(ctx context.Context, events []core.OutboxEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	var added int64
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		q, args, err := in(tx, `SELECT id FROM outbox_events WHERE id IN (?)`, ids)
		if err != nil {
			return fmt.Errorf("publish %d events: %w", len(events), err)
		}
		var held []string
		if err := sqlx.SelectContext(ctx, tx, &held, q, args...); err != nil {
			return fmt.Errorf("publish %d events: held ids: %w", len(events), err)
		}
		skip := make(map[string]bool, len(events))
		for _, id := range held {
			skip[id] = true
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO outbox_events (id, type, source, payload, occurred_at) VALUES `)
		vals := make([]any, 0, 5*len(events))
		for _, e := range events {
			if skip[e.ID] {
				continue
			}
			skip[e.ID] = true
			if len(vals) > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			vals = append(vals, e.ID, e.Type, e.Source, e.Payload, e.OccurredAt.UTC())
		}
		if len(vals) == 0 {
			return nil
		}
		b.WriteString(` ON CONFLICT (id) DO NOTHING`)
		if added, err = exec(ctx, tx, b.String(), vals...); err != nil {
			return fmt.Errorf("publish %d events: %w", len(events), err)
		}
		return nil
	})
	return int(added), err
}

// AuditForPlugin appends an audit entry on behalf of a plugin; the plugin's name goes
// into the detail so that a reader knows who wrote it.
func (s *PluginStore) AuditForPlugin(ctx context.Context, plugin, actorID, action, domain, target string, detail map[string]any) error {
	d := map[string]any{}
	for k, v := range detail {
		d[k] = v
	}
	d["plugin"] = plugin
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	var actor *string
	if actorID != "" {
		actor = &actorID
	}
	_, err = exec(ctx, s.DB.db, `INSERT INTO audit_log (id, at, actor_id, action, domain, target, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		newID(), s.DB.now(), actor, action, domain, target, core.RequestIDFrom(ctx), string(b))
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Audit appends an audit entry for an action of the core itself (the actor and request
// id come from ctx).
func (s *PluginStore) Audit(ctx context.Context, action, domain, target string, detail map[string]any) error {
	return recordAudit(ctx, s.DB.db, s.DB.now(), action, domain, target, detail)
}

// EventsAfter returns up to limit outbox events with seq > after, in seq order.
func (s *PluginStore) EventsAfter(ctx context.Context, after int64, limit int) ([]core.OutboxEvent, error) {
	var out []core.OutboxEvent
	if err := selectAll(ctx, s.DB.db, &out, `SELECT seq, id, type, source, payload, occurred_at FROM outbox_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit); err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	return out, nil
}

// EventCursor returns how far subscriber has got. A subscriber seen for the first time
// starts at the end of the outbox: it receives events published from now on.
func (s *PluginStore) EventCursor(ctx context.Context, subscriber string) (int64, error) {
	var seq int64
	err := get(ctx, s.DB.db, &seq, `SELECT last_seq FROM plugin_event_cursors WHERE subscriber = ?`, subscriber)
	if err == nil {
		return seq, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("event cursor of %s: %w", subscriber, err)
	}
	if _, err := exec(ctx, s.DB.db, `INSERT INTO plugin_event_cursors (subscriber, last_seq, updated_at) SELECT ?, COALESCE(MAX(seq), 0), ? FROM outbox_events WHERE 1 = 1 ON CONFLICT (subscriber) DO NOTHING`,
		subscriber, s.DB.now()); err != nil {
		return 0, fmt.Errorf("create event cursor of %s: %w", subscriber, err)
	}
	if err := get(ctx, s.DB.db, &seq, `SELECT last_seq FROM plugin_event_cursors WHERE subscriber = ?`, subscriber); err != nil {
		return 0, fmt.Errorf("event cursor of %s: %w", subscriber, err)
	}
	return seq, nil
}

// AdvanceEventCursor records that subscriber has everything up to seq.
func (s *PluginStore) AdvanceEventCursor(ctx context.Context, subscriber string, seq int64) error {
	if _, err := exec(ctx, s.DB.db, `UPDATE plugin_event_cursors SET last_seq = ?, attempts = 0, last_error = '', updated_at = ? WHERE subscriber = ? AND last_seq < ?`,
		seq, s.DB.now(), subscriber, seq); err != nil {
		return fmt.Errorf("advance event cursor of %s: %w", subscriber, err)
	}
	return nil
}

// RecordDeliveryFailure notes a failed delivery, for operators.
func (s *PluginStore) RecordDeliveryFailure(ctx context.Context, subscriber string, reason string) error {
	if _, err := exec(ctx, s.DB.db, `UPDATE plugin_event_cursors SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE subscriber = ?`,
		reason, s.DB.now(), subscriber); err != nil {
		return fmt.Errorf("record delivery failure of %s: %w", subscriber, err)
	}
	return nil
}

// WithMigrationLock runs fn while holding the lock that keeps two nodes from
// provisioning or migrating the same plugin at once. SQLite serves one node, so there
// it just runs fn.
func (s *PluginStore) WithMigrationLock(ctx context.Context, plugin string, fn func() error) error {
	_, err := s.withLock(ctx, lockClassPluginMigrate, plugin, false, fn)
	return err
}

// TryEventLock runs fn only if no other node is delivering subscriber's events, and
// reports whether it ran.
func (s *PluginStore) TryEventLock(ctx context.Context, subscriber string, fn func() error) (bool, error) {
	return s.withLock(ctx, lockClassPluginEvents, subscriber, true, fn)
}

// withLock holds a PostgreSQL session advisory lock on a dedicated connection around fn.
func (s *PluginStore) withLock(ctx context.Context, class int, key string, try bool, fn func() error) (bool, error) {
	if s.DB.Dialect != Postgres {
		return true, fn()
	}
	conn, err := s.DB.db.Connx(ctx)
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", key, err)
	}
	defer conn.Close()
	// Dialect-only: advisory locks.
	if try {
		var ok bool
		if err := conn.GetContext(ctx, &ok, `SELECT pg_try_advisory_lock($1, hashtext($2))`, class, key); err != nil {
			return false, fmt.Errorf("lock %s: %w", key, err)
		}
		if !ok {
			return false, nil
		}
	} else if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, class, key); err != nil {
		return false, fmt.Errorf("lock %s: %w", key, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext($2))`, class, key)
	return true, fn()
}

// ProvisionPostgresStore makes sure schema and a login role exist, that the role may
// use and create in that schema and nothing more, and returns the role's password
// (created once and kept, so every node hands the plugin the same login). Run it under
// WithMigrationLock.
//
// The core's database user needs CREATEROLE, not superuser, so every statement here
// must be one such a user may run, on every start: PostgreSQL lets only a superuser
// name SUPERUSER/NOSUPERUSER (or REPLICATION, BYPASSRLS) in ALTER ROLE, even to say
// what is true already. So a role is created with its attributes once; later starts
// only check them, and change the password only when this database holds none for the
// role (a role left behind by a dropped database, or a restored dump).
func (s *PluginStore) ProvisionPostgresStore(ctx context.Context, schema, role string) (string, error) {
	if s.DB.Dialect != Postgres {
		return "", errors.New("provision postgres store: the core database is not PostgreSQL")
	}
	var password string
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		password, err = provisionPostgresStore(ctx, tx, s.DB.now(), schema, role)
		return err
	})
	return password, err
}

// Dialect is the core database's SQL dialect, SQLite or Postgres.
func (s *PluginStore) Dialect() string { return s.DB.Dialect }

// DatabaseName is the name of the PostgreSQL database the core uses.
func (s *PluginStore) DatabaseName(ctx context.Context) (string, error) {
	var name string
	if err := get(ctx, s.DB.db, &name, `SELECT current_database()`); err != nil {
		return "", fmt.Errorf("name of the database: %w", err)
	}
	return name, nil
}

// EnsureExtension installs a PostgreSQL extension as the core's role, in the schema
// public when it exists so that dropping some other schema cannot take the extension
// (and every constraint using it) along. It reports whether this call installed it; an
// extension another node created meanwhile counts as there already. ext must be a
// constant identifier: it is inlined in SQL.
func (s *PluginStore) EnsureExtension(ctx context.Context, ext string) (installed bool, err error) {
	conn := s.DB.db
	var have bool
	if err := conn.GetContext(ctx, &have, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)`, ext); err == nil && have {
		return false, nil
	}
	stmt := `CREATE EXTENSION IF NOT EXISTS "` + ext + `"`
	var public bool
	if err := conn.GetContext(ctx, &public, `SELECT to_regnamespace('public') IS NOT NULL`); err == nil && public {
		stmt += ` WITH SCHEMA public`
	}
	if _, err := conn.ExecContext(ctx, stmt); err != nil {
		// Another node may have created it concurrently.
		if e := conn.GetContext(ctx, &have, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)`, ext); e == nil && have {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// provisionPostgresStore is ProvisionPostgresStore inside tx: the stored password and
// the role that carries it are made together or not at all.
func provisionPostgresStore(ctx context.Context, db *sqlx.Tx, now time.Time, schema, role string) (string, error) {
	var password string
	fresh := false
	err := get(ctx, db, &password, `SELECT password FROM plugin_store_logins WHERE role_name = ?`, role)
	if errors.Is(err, sql.ErrNoRows) {
		var b [24]byte
		_, _ = rand.Read(b[:])
		password, fresh = hex.EncodeToString(b[:]), true
		_, err = exec(ctx, db, `INSERT INTO plugin_store_logins (role_name, password, created_at) VALUES (?, ?, ?)`, role, password, now)
	}
	if err != nil {
		return "", fmt.Errorf("plugin store login %s: %w", role, err)
	}
	r, sc := pq.QuoteIdentifier(role), pq.QuoteIdentifier(schema)
	var attrs []struct {
		Super      bool `db:"rolsuper"`
		CreateDB   bool `db:"rolcreatedb"`
		CreateRole bool `db:"rolcreaterole"`
		Login      bool `db:"rolcanlogin"`
		Inherit    bool `db:"rolinherit"`
	}
	// Dialect-only: the system catalogue.
	if err := db.SelectContext(ctx, &attrs, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolinherit FROM pg_roles WHERE rolname = $1`, role); err != nil {
		return "", fmt.Errorf("look up role %s: %w", role, err)
	}
	// Dialect-only DDL. Identifiers are quoted; the password is hex, so it is safe to
	// inline where PostgreSQL accepts no parameter.
	var stmts []string
	if len(attrs) == 0 {
		stmts = append(stmts,
			`CREATE ROLE `+r+` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '`+password+`'`,
			`ALTER ROLE `+r+` SET search_path = `+sc)
	} else {
		a := attrs[0]
		if a.Super || a.CreateRole || a.CreateDB {
			// Handing such a role to a plugin would give it the whole cluster, and only
			// a superuser could take the rights away.
			return "", fmt.Errorf("provision plugin store %s: the role %s exists with SUPERUSER, CREATEROLE or CREATEDB; "+
				"have a superuser run ALTER ROLE %s NOSUPERUSER NOCREATEROLE NOCREATEDB", schema, role, r)
		}
		if !a.Login || a.Inherit {
			stmts = append(stmts, `ALTER ROLE `+r+` LOGIN NOINHERIT`)
		}
		if fresh {
			stmts = append(stmts, `ALTER ROLE `+r+` PASSWORD '`+password+`'`)
		}
	}
	stmts = append(stmts,
		`CREATE SCHEMA IF NOT EXISTS `+sc,
		`GRANT USAGE, CREATE ON SCHEMA `+sc+` TO `+r,
	)
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return "", fmt.Errorf("provision plugin store %s: %w", schema, err)
		}
	}
	// The schema's tables may belong to an earlier login of the plugin: one named
	// like the schema (before roles were named per deployment), or one this
	// database's logins table lists under another name (a dump restored into a
	// database of another name). Ownership in this database only moves to the
	// plugin's role; the old role may still serve another database.
	var owners []string
	// Dialect-only: the system catalogue.
	if err := db.SelectContext(ctx, &owners, db.Rebind(`SELECT DISTINCT o.rolname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_roles o ON o.oid = c.relowner
		WHERE n.nspname = ? AND o.rolname <> ? AND (o.rolname = ? OR o.rolname IN (SELECT role_name FROM plugin_store_logins))
		ORDER BY o.rolname`), schema, role, schema); err != nil {
		return "", fmt.Errorf("provision plugin store %s: look for tables of an earlier login: %w", schema, err)
	}
	for _, old := range owners {
		o := pq.QuoteIdentifier(old)
		if _, err := db.ExecContext(ctx, `REASSIGN OWNED BY `+o+` TO `+r); err != nil {
			return "", fmt.Errorf("provision plugin store %s: its tables belong to the role %s, an earlier login of the plugin; "+
				"have a superuser run REASSIGN OWNED BY %s TO %s in this database: %w", schema, old, o, r, err)
		}
	}
	return password, nil
}

// SavePluginStatus records the state this node sees for a plugin.
func (s *PluginStore) SavePluginStatus(ctx context.Context, st core.PluginStatus) error {
	_, err := exec(ctx, s.DB.db, `INSERT INTO plugin_status (name, version, state, restarts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET version = excluded.version, state = excluded.state, restarts = excluded.restarts, last_error = excluded.last_error, updated_at = excluded.updated_at`,
		st.Name, st.Version, st.State, st.Restarts, st.LastError, s.DB.now())
	if err != nil {
		return fmt.Errorf("save status of plugin %s: %w", st.Name, err)
	}
	return nil
}

// PluginStatusRow is a stored plugin status with the time it was reported.
type PluginStatusRow struct {
	core.PluginStatus
	UpdatedAt time.Time
}

// ListPluginStatus returns the last state reported for every plugin, by name.
func (s *PluginStore) ListPluginStatus(ctx context.Context) ([]PluginStatusRow, error) {
	var rows []struct {
		Name      string    `db:"name"`
		Version   string    `db:"version"`
		State     string    `db:"state"`
		Restarts  int       `db:"restarts"`
		LastError string    `db:"last_error"`
		UpdatedAt time.Time `db:"updated_at"`
	}
	if err := selectAll(ctx, s.DB.db, &rows, `SELECT name, version, state, restarts, last_error, updated_at FROM plugin_status ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list plugin status: %w", err)
	}
	out := make([]PluginStatusRow, len(rows))
	for i, r := range rows {
		out[i] = PluginStatusRow{PluginStatus: core.PluginStatus{Name: r.Name, Version: r.Version, State: r.State, Restarts: r.Restarts, LastError: r.LastError}, UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}

// RecordPluginCommand stores an operator's action on a plugin together with its audit
// entry (the actor comes from ctx) and returns its sequence number.
func (s *PluginStore) RecordPluginCommand(ctx context.Context, name, action string) (int64, error) {
	var seq int64
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		now := s.DB.now()
		if err := get(ctx, tx, &seq, `INSERT INTO plugin_commands (name, action, created_at) VALUES (?, ?, ?) RETURNING seq`, name, action, now); err != nil {
			return err
		}
		return recordAudit(ctx, tx, now, "plugin."+action, core.DomainCity, "plugin:"+name, nil)
	})
	if err != nil {
		return 0, fmt.Errorf("record plugin %s %s: %w", action, name, err)
	}
	return seq, nil
}

// PluginCommandsAfter returns the commands with seq > after, in order.
func (s *PluginStore) PluginCommandsAfter(ctx context.Context, after int64) ([]core.PluginCommand, error) {
	var out []core.PluginCommand
	if err := selectAll(ctx, s.DB.db, &out, `SELECT seq, name, action FROM plugin_commands WHERE seq > ? ORDER BY seq`, after); err != nil {
		return nil, fmt.Errorf("plugin commands after %d: %w", after, err)
	}
	return out, nil
}

// PluginWishes returns, per plugin, the latest enable or disable an operator gave
// (restarts are no lasting wish), and the last command's seq.
func (s *PluginStore) PluginWishes(ctx context.Context) (map[string]string, int64, error) {
	var rows []core.PluginCommand
	if err := selectAll(ctx, s.DB.db, &rows, `SELECT c.seq, c.name, c.action FROM plugin_commands c
		WHERE c.seq = (SELECT MAX(seq) FROM plugin_commands d WHERE d.name = c.name AND d.action <> 'restart')`); err != nil {
		return nil, 0, fmt.Errorf("plugin wishes: %w", err)
	}
	var last int64
	if err := get(ctx, s.DB.db, &last, `SELECT COALESCE(MAX(seq), 0) FROM plugin_commands`); err != nil {
		return nil, 0, fmt.Errorf("plugin wishes: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Name] = r.Action
	}
	return out, last, nil
}
