package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Schemas are the migrations this binary knows: the core's, and each built-in plugin's
// by name. A plugin missing from Plugins (an external one) is not checked here; its own
// process refuses a store newer than itself when it starts.
type Schemas struct {
	Core    []string
	Plugins map[string][]string
}

// RestoreOptions say where a backup goes and what the binary understands.
type RestoreOptions struct {
	// DataDir receives kvarter.db and plugins/; it must be empty or not exist.
	DataDir string
	// KeyFile receives the backup's key file, if it has one; it must not exist.
	KeyFile string
	// Known are the binary's migrations; a backup with others is from a newer kvarter.
	Known Schemas
}

// Verify reads the manifest in dir and checks every file it lists against its sha256.
func Verify(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("restore: %s has no manifest (is it a finished kvarter backup?): %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("restore: manifest: %w", err)
	}
	if m.Format > Format || m.Format < 1 {
		return nil, fmt.Errorf("restore: the backup has format %d; this kvarter reads format %d", m.Format, Format)
	}
	if m.Dialect != "sqlite" {
		return nil, fmt.Errorf("restore: the backup is of a %q deployment; restore PostgreSQL with pg_restore (docs/operators.md)", m.Dialect)
	}
	for _, f := range m.files() {
		if !safeRelative(f.Path) {
			return nil, fmt.Errorf("restore: manifest names %q, which is not a path inside the backup", f.Path)
		}
		sum, size, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, fmt.Errorf("restore: %s: %w", f.Path, err)
		}
		if sum != f.SHA256 || size != f.Size {
			return nil, fmt.Errorf("restore: %s is damaged: sha256 %s (%d bytes), the manifest says %s (%d bytes)", f.Path, sum, size, f.SHA256, f.Size)
		}
	}
	for _, p := range m.Plugins {
		if p.Path != path.Join(PluginsDir, p.Name+".db") {
			return nil, fmt.Errorf("restore: plugin %q is stored at %q; expected %s/%s.db", p.Name, p.Path, PluginsDir, p.Name)
		}
	}
	return &m, nil
}

// CheckSchemas refuses a backup whose core or built-in plugin schema has migrations the
// binary does not know: it was taken by a newer kvarter, and this one would run on a
// schema it does not understand.
func (m *Manifest) CheckSchemas(known Schemas) error {
	if unknown := notIn(m.Core.Migrations, known.Core); len(unknown) > 0 {
		return fmt.Errorf("restore: the backup's core schema is newer than this kvarter (unknown migrations %s); restore it with kvarter %s or newer",
			strings.Join(unknown, ", "), m.KvarterVersion)
	}
	for _, p := range m.Plugins {
		names, ok := known.Plugins[p.Name]
		if !ok {
			continue
		}
		if unknown := notIn(p.Migrations, names); len(unknown) > 0 {
			return fmt.Errorf("restore: the backup's %s plugin schema is newer than this kvarter (unknown migrations %s); restore it with kvarter %s or newer",
				p.Name, strings.Join(unknown, ", "), m.KvarterVersion)
		}
	}
	return nil
}

// Restore verifies the backup in dir, checks its schemas against opt.Known, and copies
// it into opt.DataDir (and the key file to opt.KeyFile). Nothing is written unless every
// check passes; if copying fails half-way, what was copied is removed again.
func Restore(dir string, opt RestoreOptions) (m *Manifest, err error) {
	m, err = Verify(dir)
	if err != nil {
		return nil, err
	}
	if err := m.CheckSchemas(opt.Known); err != nil {
		return nil, err
	}
	if err := checkEmptyDataDir(opt.DataDir); err != nil {
		return nil, err
	}
	if m.KeyFile != nil {
		if opt.KeyFile == "" {
			return nil, errors.New("restore: the backup has a key file but no key file path is configured")
		}
		if _, err := os.Stat(opt.KeyFile); err == nil {
			return nil, fmt.Errorf("restore: the key file %s exists already; move it away so the backup's key is not mixed with another", opt.KeyFile)
		}
	}
	var written []string
	defer func() {
		if err != nil {
			for _, p := range written {
				os.Remove(p)
			}
		}
	}()
	put := func(f File, dst string, mode os.FileMode) error {
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		got, err := copyFile(filepath.Join(dir, filepath.FromSlash(f.Path)), dst, mode)
		if err != nil {
			return fmt.Errorf("restore %s: %w", f.Path, err)
		}
		written = append(written, dst)
		if got.SHA256 != f.SHA256 {
			return fmt.Errorf("restore %s: the copy's sha256 differs from the manifest's", f.Path)
		}
		return nil
	}
	for _, p := range m.Plugins {
		if err := put(p.File, filepath.Join(opt.DataDir, PluginsDir, p.Name+".db"), 0o600); err != nil {
			return nil, err
		}
	}
	if err := put(m.Core.File, filepath.Join(opt.DataDir, CoreName), 0o600); err != nil {
		return nil, err
	}
	if m.KeyFile != nil {
		if err := put(*m.KeyFile, opt.KeyFile, 0o600); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// files lists every file the manifest accounts for.
func (m *Manifest) files() []File {
	out := []File{m.Core.File}
	for _, p := range m.Plugins {
		out = append(out, p.File)
	}
	if m.KeyFile != nil {
		out = append(out, *m.KeyFile)
	}
	return out
}

// checkEmptyDataDir refuses a data directory that holds anything: restoring over a
// live or half-filled deployment would mix two cities' data.
func checkEmptyDataDir(dir string) error {
	if dir == "" {
		return errors.New("restore: no data directory configured")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("restore: the data directory %s is not empty; restore only into an empty one", dir)
	}
	return nil
}

func safeRelative(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && !strings.HasPrefix(p, "../") && p != ".."
}

func notIn(have, known []string) []string {
	var out []string
	for _, h := range have {
		if !slices.Contains(known, h) {
			out = append(out, h)
		}
	}
	return out
}
