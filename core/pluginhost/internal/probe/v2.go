//go:build probe_v2

package main

import "embed"

// Built with -tags probe_v2, the probe is the next version of itself: one more
// migration, so tests can upgrade a plugin in place.
//
//go:embed migrations_v2
var migrationsV2 embed.FS

func init() {
	version = "1.3.0"
	migrationFiles, migrationRoot = migrationsV2, "migrations_v2"
}
