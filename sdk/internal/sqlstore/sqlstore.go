// Package sqlstore opens a plugin's store and applies its migrations. It is shared by
// the public sdk/store package and by sdk.Serve, which migrates on the host's request
// (the two cannot import each other).
package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

func init() {
	// modernc registers itself as "sqlite", which sqlx does not know; without this
	// Rebind would leave "?" placeholders unchanged only by accident.
	sqlx.BindDriver(SQLite, sqlx.QUESTION)
}

// Open connects to the store and checks the connection. On PostgreSQL every pooled
// connection gets search_path set to schema (through the DSN, so reconnects keep it);
// on SQLite the DSN gains WAL, a busy timeout and foreign keys unless it sets them.
// maxConns bounds a PostgreSQL pool (0 means MaxPostgresConns): the host hands each
// plugin its share of the city's connection budget.
func Open(ctx context.Context, dialect, dsn, schema string, maxConns int) (*sqlx.DB, error) {
	var driver string
	switch dialect {
	case SQLite:
		driver, dsn = "sqlite", sqliteDSN(dsn)
	case Postgres:
		driver = "postgres"
		if schema != "" {
			var err error
			if dsn, err = postgresDSN(dsn, schema); err != nil {
				return nil, err
			}
		}
		dsn = withBinaryParameters(dsn)
	default:
		return nil, fmt.Errorf("open store: unknown dialect %q", dialect)
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", dialect, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s store: %w", dialect, err)
	}
	if dialect == Postgres {
		// Every plugin process on every node has a pool of its own; together with the
		// core's they must fit the server's max_connections.
		if maxConns <= 0 {
			maxConns = MaxPostgresConns
		}
		db.SetMaxOpenConns(maxConns)
		db.SetMaxIdleConns(maxConns)
	}
	return db, nil
}

// sqliteDSN adds the pragmas every Kvarter SQLite store runs with. modernc takes them
// as repeated _pragma query parameters and applies them on each new connection.
func sqliteDSN(dsn string) string {
	base, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		q = url.Values{}
	}
	have := strings.ToLower(strings.Join(q["_pragma"], ","))
	for _, p := range []struct{ name, value string }{
		{"journal_mode", "journal_mode(WAL)"},
		{"busy_timeout", "busy_timeout(5000)"},
		{"foreign_keys", "foreign_keys(1)"},
		{"synchronous", "synchronous(NORMAL)"},
	} {
		if !strings.Contains(have, p.name) {
			q.Add("_pragma", p.value)
		}
	}
	if _, ok := q["_txlock"]; !ok {
		// Take the write lock at BEGIN so two writers wait on busy_timeout instead of
		// failing with SQLITE_BUSY when one upgrades a read transaction.
		q.Set("_txlock", "immediate")
	}
	return base + "?" + q.Encode()
}

// postgresDSN sets search_path through the "options" connection parameter, which
// lib/pq sends at startup, for URL and key=value DSNs alike.
// MaxPostgresConns bounds a plugin's PostgreSQL pool when the host gives no share of
// the budget (an older host, or a plugin's own tests).
const MaxPostgresConns = 16

// withBinaryParameters asks lib/pq to send parameters with the query in one round trip
// (binary_parameters=yes), unless a URL DSN already says; a key=value DSN is left as
// given.
func withBinaryParameters(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn
	}
	q := u.Query()
	if q.Get("binary_parameters") == "" {
		q.Set("binary_parameters", "yes")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func postgresDSN(dsn, schema string) (string, error) {
	opt := "-c search_path=" + pq.QuoteIdentifier(schema)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse postgres DSN: %w", err)
		}
		q := u.Query()
		if old := q.Get("options"); old != "" {
			opt = old + " " + opt
		}
		q.Set("options", opt)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	// key=value form: values with spaces are single-quoted, quotes and backslashes
	// escaped.
	esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(opt)
	return strings.TrimSpace(dsn) + " options='" + esc + "'", nil
}

var migrationName = regexp.MustCompile(`^[0-9]+_[A-Za-z0-9_\-]+\.sql$`)

// The SDK's own tables (the outbox), in every plugin store. They are applied before
// the plugin's files, so a plugin migration may use them (to move rows from an older
// outbox of its own, say), and recorded as "sdk:NNNN_name.sql": a plugin's file names
// start with a digit, so the two never clash.
//
//go:embed sdkmigrations
var sdkMigrations embed.FS

// SDKMigrationPrefix starts the names the SDK's migrations are recorded under.
const SDKMigrationPrefix = "sdk:"

// MigrationNames are the names Migrate records for fsys on dialect once it is up to
// date: the SDK's own ("sdk:NNNN_name.sql") and the plugin's, sorted.
func MigrationNames(dialect string, fsys fs.FS) ([]string, error) {
	sdkFS, err := fs.Sub(sdkMigrations, "sdkmigrations")
	if err != nil {
		return nil, err
	}
	sdkNames, err := migrationFiles(sdkFS, dialect)
	if err != nil {
		return nil, fmt.Errorf("sdk %w", err)
	}
	var out []string
	for _, n := range sdkNames {
		out = append(out, SDKMigrationPrefix+n)
	}
	if fsys != nil {
		names, err := migrationFiles(fsys, dialect)
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
	}
	slices.Sort(out)
	return out, nil
}

// Migrate applies the SDK's migrations and then the files <dialect>/NNNN_name.sql of
// fsys (nil: none) that are not yet recorded in schema_migrations, in name order,
// each in its own transaction together with its record. Files that do not look like
// migrations are an error rather than silently skipped, so a typo cannot drop a
// migration.
func Migrate(ctx context.Context, db *sqlx.DB, dialect string, fsys fs.FS) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY,
		applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	sdkFS, err := fs.Sub(sdkMigrations, "sdkmigrations")
	if err != nil {
		return err
	}
	sdkNames, err := migrationFiles(sdkFS, dialect)
	if err != nil {
		return fmt.Errorf("sdk %w", err)
	}
	var names []string
	if fsys != nil {
		if names, err = migrationFiles(fsys, dialect); err != nil {
			return err
		}
	}
	// A store that has migrations this plugin does not know was migrated by a newer
	// release (a rollback, or an old node during a rolling upgrade): refuse it rather
	// than run code against a schema it was not written for.
	var applied []string
	if err := db.SelectContext(ctx, &applied, `SELECT name FROM schema_migrations ORDER BY name`); err != nil {
		return fmt.Errorf("read applied migrations: %w", err)
	}
	var unknown []string
	for _, a := range applied {
		if !slices.Contains(names, a) && !slices.Contains(sdkNames, strings.TrimPrefix(a, SDKMigrationPrefix)) {
			unknown = append(unknown, a)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("the store's schema is newer than this plugin (unknown migrations %s); run a newer kvarter", strings.Join(unknown, ", "))
	}
	for _, name := range sdkNames {
		if err := migrateOne(ctx, db, dialect, sdkFS, path.Join(dialect, name), SDKMigrationPrefix+name); err != nil {
			return err
		}
	}
	for _, name := range names {
		if err := migrateOne(ctx, db, dialect, fsys, path.Join(dialect, name), name); err != nil {
			return err
		}
	}
	return nil
}

// migrationFiles lists the migrations of fsys for dialect in the order they apply.
func migrationFiles(fsys fs.FS, dialect string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dialect)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("migrations: no %s/ directory", dialect)
	} else if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if !migrationName.MatchString(e.Name()) {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_name.sql", dialect, e.Name())
		}
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names, nil
}

func migrateOne(ctx context.Context, db *sqlx.DB, dialect string, fsys fs.FS, file, name string) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer tx.Rollback()

	if dialect == Postgres {
		// Two nodes starting together must not both apply a file; the host also locks,
		// this makes the helper safe on its own. Released at commit.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(4242, hashtext(current_schema()))`); err != nil {
			return fmt.Errorf("migration %s: lock: %w", name, err)
		}
	}
	var n int
	err = tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE name = ?`), name)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(fsys, file)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (name) VALUES (?)`), name); err != nil {
		return fmt.Errorf("migration %s: record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", name, err)
	}
	return nil
}
