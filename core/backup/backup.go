// Package backup copies a SQLite deployment of Kvarter — the core store, every plugin
// store and the key file — into a folder with a manifest, and restores such a folder
// into an empty data directory. It works while the node serves: each store is copied
// with SQLite's `VACUUM INTO`, a read transaction that writers do not wait for.
//
// PostgreSQL deployments are backed up with pg_dump instead (docs/operators.md); this
// package is the SQLite adapter, so it holds SQL, like the other storage packages.
//
// Consistency across stores: each copy is a transactionally consistent snapshot, and the
// stores are copied in an order chosen so that a restored city loses no event and no
// reference. Plugin stores are copied first and the core store last, so every person,
// neighbourhood and event a plugin's copy refers to exists in the core's copy (a plugin
// marks an event sent only after the core's outbox holds it). Events flow the other way
// too: the core remembers how far each plugin has received its outbox, and that cursor
// may move on while the plugins are being copied; so the cursors in the core's copy are
// set back to where they stood before the first plugin was copied. After a restore a
// plugin may receive a few events again — delivery is at least once, and handlers
// dedupe by event id — but never misses one.
package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Format is the version of the backup folder's layout; Restore refuses a newer one.
const Format = 1

// File names inside a backup folder and inside a data directory.
const (
	ManifestName = "manifest.json"
	CoreName     = "kvarter.db"
	PluginsDir   = "plugins"
	KeyName      = "kvarter.key"
)

// Manifest describes one backup: what was copied, from which binary and schema, and the
// sha256 of every file, so that a restore can tell a damaged or foreign folder.
type Manifest struct {
	Format         int       `json:"format"`
	CreatedAt      time.Time `json:"created_at"`
	KvarterVersion string    `json:"kvarter_version"`
	Dialect        string    `json:"dialect"`
	Core           Store     `json:"core"`
	Plugins        []Store   `json:"plugins"`
	// KeyFile is the core's master key file, when the deployment had one.
	KeyFile *File `json:"key_file,omitempty"`
}

// File is one file of the backup, by its path relative to the backup folder.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Store is the copy of one database and the migrations its schema had.
type Store struct {
	Name string `json:"name"`
	File
	Migrations []string `json:"migrations"`
}

// testHookAfterCursors lets a test move the core on between reading the cursors and
// copying the stores, as a serving node would.
var testHookAfterCursors func()

// Options locate what Create copies.
type Options struct {
	// DataDir holds kvarter.db and plugins/<name>.db.
	DataDir string
	// KeyFile is the master key file; copied when it exists.
	KeyFile string
	// KvarterVersion is recorded in the manifest.
	KvarterVersion string
	// Now stamps the manifest (time.Now when nil).
	Now func() time.Time
}

// Create writes a backup of the deployment at opt.DataDir into dir, which must be empty
// or not exist. The manifest is written last, so a folder without one is an unfinished
// backup. On error the partial folder is left for the operator to inspect and remove.
func Create(ctx context.Context, dir string, opt Options) (*Manifest, error) {
	corePath := filepath.Join(opt.DataDir, CoreName)
	if _, err := os.Stat(corePath); err != nil {
		return nil, fmt.Errorf("backup: no core store at %s: %w", corePath, err)
	}
	if err := ensureEmptyDir(dir); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, PluginsDir), 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	m := &Manifest{Format: Format, CreatedAt: now().UTC(), KvarterVersion: opt.KvarterVersion, Dialect: "sqlite"}

	core, err := openSQLite(corePath)
	if err != nil {
		return nil, err
	}
	defer core.Close()
	// Where each plugin stood in the core's outbox before any plugin is copied.
	cursors, err := eventCursors(ctx, core)
	if err != nil {
		return nil, err
	}
	if testHookAfterCursors != nil {
		testHookAfterCursors()
	}

	stores, err := filepath.Glob(filepath.Join(opt.DataDir, PluginsDir, "*.db"))
	if err != nil {
		return nil, err
	}
	slices.Sort(stores)
	for _, src := range stores {
		name := strings.TrimSuffix(filepath.Base(src), ".db")
		rel := filepath.Join(PluginsDir, name+".db")
		st, err := copyStore(ctx, src, filepath.Join(dir, rel), nil)
		if err != nil {
			return nil, fmt.Errorf("backup plugin %s: %w", name, err)
		}
		st.Name, st.Path = name, filepath.ToSlash(rel)
		m.Plugins = append(m.Plugins, st)
	}

	st, err := copyStore(ctx, corePath, filepath.Join(dir, CoreName), func(copy *sql.DB) error {
		return rewindCursors(ctx, copy, cursors)
	})
	if err != nil {
		return nil, fmt.Errorf("backup core: %w", err)
	}
	st.Name, st.Path = "core", CoreName
	m.Core = st

	if opt.KeyFile != "" {
		f, err := copyFile(opt.KeyFile, filepath.Join(dir, KeyName), 0o600)
		switch {
		case errors.Is(err, os.ErrNotExist):
			// No key file yet: nothing sealed depends on one.
		case err != nil:
			return nil, fmt.Errorf("backup key file: %w", err)
		default:
			f.Path = KeyName
			m.KeyFile = &f
		}
	}
	if err := writeManifest(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// openSQLite opens a store file for reading alongside a serving node: the busy timeout
// waits out a checkpoint instead of failing.
func openSQLite(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// copyStore snapshots the database at src into dst with VACUUM INTO, lets adjust change
// the copy (nil for none), and returns the copy's checksum, size and migrations.
func copyStore(ctx context.Context, src, dst string, adjust func(*sql.DB) error) (Store, error) {
	db, err := openSQLite(src)
	if err != nil {
		return Store{}, err
	}
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, dst)
	db.Close()
	if err != nil {
		return Store{}, fmt.Errorf("vacuum into %s: %w", dst, err)
	}
	copy, err := openSQLite(dst)
	if err != nil {
		return Store{}, err
	}
	defer copy.Close()
	// A copy is a plain file: no WAL beside it, so its checksum covers all of it.
	if _, err := copy.ExecContext(ctx, `PRAGMA journal_mode = DELETE`); err != nil {
		return Store{}, fmt.Errorf("copy %s: %w", dst, err)
	}
	if adjust != nil {
		if err := adjust(copy); err != nil {
			return Store{}, err
		}
	}
	migrations, err := appliedMigrations(ctx, copy)
	if err != nil {
		return Store{}, err
	}
	if err := copy.Close(); err != nil {
		return Store{}, err
	}
	sum, size, err := fileSHA256(dst)
	if err != nil {
		return Store{}, err
	}
	return Store{File: File{SHA256: sum, Size: size}, Migrations: migrations}, nil
}

// appliedMigrations lists schema_migrations; a store without the table has none.
func appliedMigrations(ctx context.Context, db *sql.DB) ([]string, error) {
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	names := []string{}
	if exists == 0 {
		return names, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// eventCursors reads how far each subscribing plugin has received the core's outbox.
// A core not yet migrated that far has no cursors.
func eventCursors(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	out := map[string]int64{}
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'plugin_event_cursors'`).Scan(&exists); err != nil || exists == 0 {
		return out, err
	}
	rows, err := db.QueryContext(ctx, `SELECT subscriber, last_seq FROM plugin_event_cursors`)
	if err != nil {
		return nil, fmt.Errorf("read event cursors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			return nil, err
		}
		out[name] = seq
	}
	return out, rows.Err()
}

// rewindCursors sets each cursor in the core's copy back to where it stood before the
// plugins were copied (see the package doc); a subscriber that appeared meanwhile keeps
// its cursor, which was set at the end of the outbox when it first subscribed.
func rewindCursors(ctx context.Context, copy *sql.DB, before map[string]int64) error {
	for name, seq := range before {
		if _, err := copy.ExecContext(ctx, `UPDATE plugin_event_cursors SET last_seq = ? WHERE subscriber = ? AND last_seq > ?`, seq, name, seq); err != nil {
			return fmt.Errorf("rewind event cursor of %s: %w", name, err)
		}
	}
	return nil
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ManifestName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("backup: write manifest: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, ManifestName))
}

// ensureEmptyDir creates dir, or accepts it when it exists and holds nothing.
func ensureEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// copyFile copies src to dst (which must not exist) with mode and fsyncs it.
func copyFile(src, dst string, mode os.FileMode) (File, error) {
	in, err := os.Open(src)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, err
	}
	return File{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
