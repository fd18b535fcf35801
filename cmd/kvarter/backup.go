package main

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/kvarter/kvarter/core/backup"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/migrations"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// keyFilePath is where the core's master key file lives: key_file (KVARTER_KEY_FILE),
// or kvarter.key in the data directory, as serve reads it.
func (m *Main) keyFilePath(cfg node.Config) string {
	return cfg.KeyFilePath()
}

// backupArgs parses `kvarter backup|restore [--config FILE] DIR` and refuses a
// PostgreSQL city, whose backups are pg_dump's (the guide's section names the tool).
func (m *Main) backupArgs(command, section string, args []string) (node.Config, string, error) {
	fs, cfgPath := m.flags(command)
	if err := fs.Parse(args); err != nil {
		return node.Config{}, "", usageError{err}
	}
	if fs.NArg() != 1 {
		return node.Config{}, "", usageError{fmt.Errorf("%s needs one argument: the backup folder", command)}
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return cfg, "", err
	}
	if cfg.DatabaseURL != "" {
		return cfg, "", fmt.Errorf("%s: this city runs on PostgreSQL; use the commands in docs/operators.md (%s)", command, section)
	}
	return cfg, fs.Arg(0), nil
}

// backup copies a SQLite deployment into a folder while it serves.
func (m *Main) backup(ctx context.Context, args []string) error {
	cfg, dir, err := m.backupArgs("backup", "Backup", args)
	if err != nil {
		return err
	}
	man, err := backup.Create(ctx, dir, backup.Options{DataDir: cfg.DataDir, KeyFile: m.keyFilePath(cfg), KvarterVersion: Version})
	if err != nil {
		return err
	}
	key := "no key file"
	if man.KeyFile != nil {
		key = "the key file"
	}
	fmt.Fprintf(m.Stdout, "Backed up the core store, %d plugin store(s) and %s into %s.\n", len(man.Plugins), key, dir)
	return nil
}

// restore copies a backup into an empty data directory.
func (m *Main) restore(args []string) error {
	cfg, dir, err := m.backupArgs("restore", "Restore", args)
	if err != nil {
		return err
	}
	known, err := knownSchemas()
	if err != nil {
		return err
	}
	man, err := backup.Restore(dir, backup.RestoreOptions{DataDir: cfg.DataDir, KeyFile: m.keyFilePath(cfg), Known: known})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Restored the backup of %s (kvarter %s, %d plugin store(s)) into %s.\n",
		man.CreatedAt.Format("2006-01-02 15:04:05 MST"), man.KvarterVersion, len(man.Plugins), cfg.DataDir)
	return nil
}

// knownSchemas lists the SQLite migrations this binary carries: the core's and each
// built-in plugin's.
func knownSchemas() (backup.Schemas, error) {
	core, err := migrations.For("sqlite")
	if err != nil {
		return backup.Schemas{}, err
	}
	out := backup.Schemas{Plugins: map[string][]string{}}
	if out.Core, err = fs.Glob(core, "*.sql"); err != nil {
		return backup.Schemas{}, err
	}
	for _, name := range builtinNames() {
		var fsys fs.FS
		if mig, ok := builtins[name]().(sdk.Migrator); ok {
			fsys = mig.Migrations()
		}
		// The SDK's own migrations (its outbox) are recorded in every plugin store.
		if out.Plugins[name], err = store.MigrationNames(sdk.DialectSQLite, fsys); err != nil {
			return backup.Schemas{}, err
		}
	}
	return out, nil
}
