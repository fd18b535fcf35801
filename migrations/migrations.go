// Package migrations embeds the core schema of Kvarter, one folder per SQL dialect.
//
// Files are named NNNN_description.sql and are applied in name order, each in its own
// transaction, and recorded by name. A released file is never edited: change the schema
// by adding the next number.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// For returns the migration files of one dialect ("sqlite" or "postgres").
func For(dialect string) (fs.FS, error) {
	return fs.Sub(files, dialect)
}
