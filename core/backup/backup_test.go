package backup

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/sqlstore"
)

// deployment builds a small real SQLite deployment: the core migrated by the core's own
// code, one plugin store with a table and a migration record, and a key file.
func deployment(t *testing.T) (dataDir, keyFile string, known Schemas) {
	t.Helper()
	ctx := context.Background()
	dataDir = t.TempDir()
	db, err := sqlstore.Open(ctx, "", dataDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`INSERT INTO plugin_event_cursors (subscriber, last_seq, updated_at) VALUES ('notes', 3, '2026-12-06T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dataDir, PluginsDir), 0o750)
	p := mustOpen(t, filepath.Join(dataDir, PluginsDir, "notes.db"))
	for _, q := range []string{
		`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
		`INSERT INTO schema_migrations (name) VALUES ('0001_notes.sql')`,
		`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`,
		`INSERT INTO notes (body) VALUES ('first'), ('second')`,
	} {
		if _, err := p.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	keyFile = filepath.Join(dataDir, KeyName)
	if err := os.WriteFile(keyFile, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dataDir, keyFile, Schemas{Core: applied, Plugins: map[string][]string{"notes": {"0001_notes.sql"}}}
}

func mustOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestCreate_RoundTrip(t *testing.T) {
	ctx := context.Background()
	dataDir, keyFile, known := deployment(t)
	dir := filepath.Join(t.TempDir(), "b")
	m, err := Create(ctx, dir, Options{DataDir: dataDir, KeyFile: keyFile, KvarterVersion: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Plugins) != 1 || m.Plugins[0].Name != "notes" || m.KeyFile == nil || len(m.Core.Migrations) != len(known.Core) {
		t.Fatalf("manifest = %+v", m)
	}
	t.Run("OK", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "data")
		if _, err := Restore(dir, RestoreOptions{DataDir: dst, KeyFile: filepath.Join(dst, KeyName), Known: known}); err != nil {
			t.Fatal(err)
		}
		p := mustOpen(t, filepath.Join(dst, PluginsDir, "notes.db"))
		defer p.Close()
		var bodies string
		if err := p.QueryRow(`SELECT group_concat(body, ',') FROM (SELECT body FROM notes ORDER BY id)`).Scan(&bodies); err != nil || bodies != "first,second" {
			t.Errorf("restored notes = %q %v", bodies, err)
		}
		key, _ := os.ReadFile(filepath.Join(dst, KeyName))
		if string(key) != "0123456789abcdef0123456789abcdef" {
			t.Errorf("restored key = %q", key)
		}
	})
	t.Run("ErrNotEmpty", func(t *testing.T) {
		dst := t.TempDir()
		os.WriteFile(filepath.Join(dst, "other.db"), []byte("x"), 0o600)
		if _, err := Restore(dir, RestoreOptions{DataDir: dst, KeyFile: filepath.Join(dst, KeyName), Known: known}); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNewerCoreSchema", func(t *testing.T) {
		older := Schemas{Core: known.Core[:len(known.Core)-1], Plugins: known.Plugins}
		dst := filepath.Join(t.TempDir(), "data")
		_, err := Restore(dir, RestoreOptions{DataDir: dst, KeyFile: filepath.Join(dst, KeyName), Known: older})
		if err == nil || !strings.Contains(err.Error(), "core schema is newer") || !strings.Contains(err.Error(), known.Core[len(known.Core)-1]) {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Error("a refused restore created the data directory")
		}
	})
	t.Run("ErrNewerPluginSchema", func(t *testing.T) {
		older := Schemas{Core: known.Core, Plugins: map[string][]string{"notes": {}}}
		dst := filepath.Join(t.TempDir(), "data")
		if _, err := Restore(dir, RestoreOptions{DataDir: dst, KeyFile: filepath.Join(dst, KeyName), Known: older}); err == nil || !strings.Contains(err.Error(), "notes plugin schema is newer") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrKeyFileExists", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "data")
		key := filepath.Join(t.TempDir(), "other.key")
		os.WriteFile(key, []byte("another city's key"), 0o600)
		if _, err := Restore(dir, RestoreOptions{DataDir: dst, KeyFile: key, Known: known}); err == nil || !strings.Contains(err.Error(), "exists already") {
			t.Fatalf("err = %v", err)
		}
		if b, _ := os.ReadFile(key); string(b) != "another city's key" {
			t.Error("restore overwrote an existing key file")
		}
	})
}

func TestRestore_ErrDamaged(t *testing.T) {
	dataDir, keyFile, known := deployment(t)
	for name, damage := range map[string]func(dir string){
		"store": func(dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, PluginsDir, "notes.db"), os.O_WRONLY, 0)
			f.WriteAt([]byte{0xff}, 200)
			f.Close()
		},
		"key file": func(dir string) { os.WriteFile(filepath.Join(dir, KeyName), []byte("forged key"), 0o600) },
		"newer format": func(dir string) {
			rewriteManifest(t, dir, func(m map[string]any) { m["format"] = Format + 1 })
		},
		"path outside": func(dir string) {
			rewriteManifest(t, dir, func(m map[string]any) { m["key_file"].(map[string]any)["path"] = "../../etc/passwd" })
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "b")
			if _, err := Create(context.Background(), dir, Options{DataDir: dataDir, KeyFile: keyFile}); err != nil {
				t.Fatal(err)
			}
			damage(dir)
			dst := filepath.Join(t.TempDir(), "data")
			if _, err := Restore(dir, RestoreOptions{DataDir: dst, KeyFile: filepath.Join(dst, KeyName), Known: known}); err == nil {
				t.Fatal("a damaged backup was restored")
			}
			if _, err := os.Stat(dst); err == nil {
				t.Error("a refused restore created the data directory")
			}
		})
	}
}

func rewriteManifest(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	os.WriteFile(filepath.Join(dir, ManifestName), b, 0o600)
}

// TestCreate_RewindsEventCursors: a plugin that receives more events while the stores
// are being copied gets them again after a restore, rather than never (see the package
// doc). The hook plays the serving node advancing the cursor mid-backup.
func TestCreate_RewindsEventCursors(t *testing.T) {
	dataDir, keyFile, _ := deployment(t)
	testHookAfterCursors = func() {
		db := mustOpen(t, filepath.Join(dataDir, CoreName))
		defer db.Close()
		if _, err := db.Exec(`UPDATE plugin_event_cursors SET last_seq = 9 WHERE subscriber = 'notes'`); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { testHookAfterCursors = nil }()
	dir := filepath.Join(t.TempDir(), "b")
	if _, err := Create(context.Background(), dir, Options{DataDir: dataDir, KeyFile: keyFile}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int64{filepath.Join(dataDir, CoreName): 9, filepath.Join(dir, CoreName): 3} {
		db := mustOpen(t, path)
		var seq int64
		if err := db.QueryRow(`SELECT last_seq FROM plugin_event_cursors WHERE subscriber = 'notes'`).Scan(&seq); err != nil || seq != want {
			t.Errorf("%s: cursor = %d %v, want %d", path, seq, err, want)
		}
		db.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, CoreName+"-wal")); err == nil {
		t.Error("the backup's core store has a WAL beside it; its checksum would not cover it")
	}
}

func TestCreate_ErrNotEmpty(t *testing.T) {
	dataDir, keyFile, _ := deployment(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "old"), nil, 0o600)
	if _, err := Create(context.Background(), dir, Options{DataDir: dataDir, KeyFile: keyFile}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v", err)
	}
}
