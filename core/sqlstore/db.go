// Package sqlstore implements Kvarter's core services on SQL: SQLite (pure Go, the
// embedded default) and PostgreSQL (lib/pq). Every query is written once with `?`
// placeholders and rebound for the dialect; the rare dialect-only statement says so.
//
// Exported service methods own their transaction; unexported helpers take the tx.
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/migrations"
	"github.com/kvarter/kvarter/sdk/store"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

func init() {
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
	// SQLite's own lower() folds ASCII only; the cities write Ş, İ, Ä and Ø. This one
	// lower-cases as Go (and PostgreSQL under a UTF-8 locale) does, so a query using
	// lower() finds the same rows on both databases.
	sqlite.MustRegisterDeterministicScalarFunction("lower", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		}
		return args[0], nil
	})
}

// DB is a connection pool to the core database.
type DB struct {
	db      *sqlx.DB
	stmts   *store.Statements // for the statements on every request's path
	Dialect string
	Clock   core.Clock
	Logger  *slog.Logger
}

// Open connects to PostgreSQL when databaseURL is set, or else to the SQLite file
// dataDir/kvarter.db (creating the folder). maxConns bounds the PostgreSQL pool (0 means
// 40); several nodes and their plugins share the server's connection limit. It does not
// migrate.
func Open(ctx context.Context, databaseURL, dataDir string, maxConns int) (*DB, error) {
	if maxConns <= 0 {
		maxConns = 40
	}
	d := &DB{Clock: core.SystemClock{}, Logger: slog.Default()}
	var err error
	if databaseURL != "" {
		d.Dialect = Postgres
		d.db, err = sqlx.Open("postgres", withBinaryParameters(databaseURL))
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		d.db.SetMaxOpenConns(maxConns)
		d.db.SetMaxIdleConns(maxConns)
		d.db.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		d.Dialect = SQLite
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		d.db, err = sqlx.Open("sqlite", SQLiteDSN(filepath.Join(dataDir, "kvarter.db")))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		// One writer at a time is SQLite's rule; immediate transactions queue on the busy
		// timeout instead of failing on a read-to-write upgrade.
		d.db.SetMaxOpenConns(8)
		d.db.SetMaxIdleConns(8)
	}
	d.stmts = store.NewStatements(d.db)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.db.PingContext(pingCtx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d.Dialect, err)
	}
	return d, nil
}

// SQLiteDSN is the connection string for a SQLite file: WAL, foreign keys, a busy
// timeout, time stored as sortable UTC text, and immediate write transactions.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(NORMAL)&_time_format=sqlite&_txlock=immediate"
}

// Close closes the pool.
func (d *DB) Close() error { return d.db.Close() }

// SQL exposes the pool for the few callers outside this package that need it (tests,
// the plugin host's outbox). Prefer the services.
func (d *DB) SQL() *sqlx.DB { return d.db }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }

func (d *DB) now() time.Time { return d.Clock.Now().UTC().Truncate(time.Microsecond) }

// tx runs fn in one transaction, committing when fn returns nil.
func (d *DB) tx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func get(ctx context.Context, q sqlx.ExtContext, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, q, dest, q.Rebind(query), args...)
}

func selectAll(ctx context.Context, q sqlx.ExtContext, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, q, dest, q.Rebind(query), args...)
}

func exec(ctx context.Context, q sqlx.ExtContext, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// in expands a query with an IN (?) over a slice and rebinds it.
func in(q sqlx.ExtContext, query string, args ...any) (string, []any, error) {
	query, args, err := sqlx.In(query, args...)
	if err != nil {
		return "", nil, err
	}
	return q.Rebind(query), args, nil
}

// newID returns a UUIDv7: opaque to clients, but time-ordered so lists can page by id.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// randomToken returns prefix plus 32 random bytes, base64url.
func randomToken(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// isUniqueViolation reports whether err is a unique-constraint failure on either dialect.
func isUniqueViolation(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error with a plain message.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return core.Errorf(core.ENOTFOUND, "%s was not found.", what)
	}
	return err
}

// Lists are keyset pages (DESIGN.md §7): each query asks for page.Limit+1 rows after the
// sort key of the previous page's last row, which the cursor holds, so rows inserted
// meanwhile neither repeat nor hide one. A composite key joins its parts with keySep.

// keySep separates the parts of a composite sort key in a cursor; no part holds it
// (times in RFC 3339, UUIDs, role names).
const keySep = "|"

// pageRows cuts rows fetched with page.Limit+1 to the page and returns the cursor of the
// next page ("" on the last): the key of the last row shown.
func pageRows[T any](rows []T, page core.Page, key func(T) string) ([]T, string) {
	if len(rows) <= page.Limit {
		return rows, ""
	}
	rows = rows[:page.Limit]
	return rows, encodeCursor(key(rows[len(rows)-1]))
}

// cursorParts decodes a cursor holding a composite key of n parts; none for "".
func cursorParts(c string, n int) ([]string, error) {
	key, err := decodeCursor(c)
	if err != nil || key == "" {
		return nil, err
	}
	parts := strings.Split(key, keySep)
	if len(parts) != n {
		return nil, badCursor()
	}
	return parts, nil
}

// cursorTime reads a time part of a cursor's key.
func cursorTime(part string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, part)
	if err != nil {
		return time.Time{}, badCursor()
	}
	return t.UTC(), nil
}

func keyTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func badCursor() error {
	return core.MalformedField("cursor", "is not a cursor this list gave; start again without it")
}

// encodeCursor and decodeCursor keep list cursors opaque to clients.
func encodeCursor(key string) string {
	if key == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", badCursor()
	}
	return string(b), nil
}

// Migrate applies the core migrations not yet applied, each in its own transaction,
// under a lock so that two nodes never migrate at once. It refuses a database that has
// migrations this binary does not know: that schema is newer than the code.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	files, err := d.migrationNames()
	if err != nil {
		return nil, err
	}
	fsys, _ := migrations.For(d.Dialect)
	conn, err := d.db.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if d.Dialect == Postgres {
		// Dialect-only: a session advisory lock serialises migrations across nodes.
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7461001)"); err != nil {
			return nil, fmt.Errorf("migrate: take lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7461001)")
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied, err := d.appliedMigrations(ctx, conn)
	if err != nil {
		return nil, err
	}
	if unknown := unknownMigrations(applied, files); len(unknown) > 0 {
		return nil, fmt.Errorf("the database schema is newer than this kvarter (unknown migrations %s); run a newer kvarter", strings.Join(unknown, ", "))
	}
	var done []string
	for _, name := range files {
		if slices.Contains(applied, name) {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return done, fmt.Errorf("migrate: read %s: %w", name, err)
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			return done, fmt.Errorf("migrate: begin %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return done, fmt.Errorf("migrate: apply %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`), name, d.now().Format(time.RFC3339Nano)); err != nil {
			tx.Rollback()
			return done, fmt.Errorf("migrate: record %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return done, fmt.Errorf("migrate: commit %s: %w", name, err)
		}
		done = append(done, name)
	}
	return done, nil
}

// SchemaStatus compares the database's migrations with this binary's: pending are known
// but not applied, unknown are applied but not known (a newer schema).
func (d *DB) SchemaStatus(ctx context.Context) (pending, unknown []string, err error) {
	files, err := d.migrationNames()
	if err != nil {
		return nil, nil, err
	}
	var applied []string
	if err := d.db.SelectContext(ctx, &applied, `SELECT name FROM schema_migrations ORDER BY name`); err != nil {
		// No table yet: everything is pending.
		return files, nil, nil
	}
	for _, f := range files {
		if !slices.Contains(applied, f) {
			pending = append(pending, f)
		}
	}
	return pending, unknownMigrations(applied, files), nil
}

func (d *DB) migrationNames() ([]string, error) {
	fsys, err := migrations.For(d.Dialect)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

func (d *DB) appliedMigrations(ctx context.Context, conn *sqlx.Conn) ([]string, error) {
	var applied []string
	if err := conn.SelectContext(ctx, &applied, `SELECT name FROM schema_migrations ORDER BY name`); err != nil {
		return nil, fmt.Errorf("migrate: read applied: %w", err)
	}
	return applied, nil
}

func unknownMigrations(applied, known []string) []string {
	var unknown []string
	for _, a := range applied {
		if !slices.Contains(known, a) {
			unknown = append(unknown, a)
		}
	}
	return unknown
}

// withBinaryParameters asks lib/pq to send parameters in one round trip with the query
// (binary_parameters=yes) unless the URL says otherwise: without it every parameterised
// query costs two round trips, which a cold request's authentication feels.
func withBinaryParameters(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return databaseURL // a key=value DSN is used as given
	}
	q := u.Query()
	if q.Get("binary_parameters") == "" {
		q.Set("binary_parameters", "yes")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
