package sdk

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
)

// Plugin is what every plugin implements. The optional capabilities below are found by
// type assertion, so a plugin implements only what it needs.
type Plugin interface {
	// Manifest describes the plugin to the host. It must not depend on Configure having
	// run: the host may ask before configuring.
	Manifest() Manifest
	// Configure is called once per process start, before Migrate/Activate.
	Configure(ctx context.Context, env Env) error
	// Handler serves the plugin's routes; the SDK adapts gRPC Handle calls to it.
	// It is called once, after Configure.
	Handler() http.Handler
}

// Env is everything the host hands a plugin at Configure.
type Env struct {
	// Settings are the manifest defaults merged with the city configuration.
	Settings map[string]string
	// Store is the plugin's own database; open it with the sdk/store package.
	Store StoreConfig
	// Host makes callbacks into the core.
	Host Host
	// Logger writes to stderr; the host tags each line with the plugin name.
	Logger *slog.Logger
	// CityTimeZone is the city's IANA time zone, e.g. "Europe/Stockholm".
	CityTimeZone string
	// Languages are the city's languages, preferred first (BCP 47 tags).
	Languages []string
	// HostVersion is the version of the running core.
	HostVersion string
}

// StoreConfig locates the store the host provisioned for the plugin.
type StoreConfig struct {
	// Dialect is "sqlite" or "postgres".
	Dialect string
	// DSN is the driver connection string.
	DSN string
	// Schema is the PostgreSQL schema the plugin owns; empty on SQLite.
	Schema string
	// MaxConnections bounds the plugin's PostgreSQL pool: its share of the city's
	// connection budget (database_max_connections). 0 means the SDK's default.
	MaxConnections int
}

// Store dialects.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Migrator is implemented by plugins that keep data. The file system holds
// postgres/NNNN_name.sql and sqlite/NNNN_name.sql; the SDK applies the files of the
// store's dialect in order, each in a transaction, when the host asks it to migrate.
type Migrator interface {
	Migrations() fs.FS
}

// Activator is implemented by plugins that start background work once migrated.
type Activator interface {
	Activate(ctx context.Context) error
}

// Deactivator is implemented by plugins that must stop work or flush before the
// host stops their process.
type Deactivator interface {
	Deactivate(ctx context.Context) error
}

// Healther is implemented by plugins that can report their own health; a plugin that
// answers the call at all is otherwise considered healthy.
type Healther interface {
	Health(ctx context.Context) error
}

// EventHandler is implemented by plugins that subscribe to events. Delivery is at least
// once: use Event.ID to make handling idempotent. Returning an error asks the host to
// deliver the event again later.
type EventHandler interface {
	HandleEvent(ctx context.Context, e Event) error
}
