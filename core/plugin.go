package core

import (
	"context"
	"net/http"
	"regexp"
	"time"
)

// Plugin states (DESIGN.md §2): starting → migrating → active ⇄ degraded → stopping →
// stopped | failed.
const (
	PluginStarting  = "starting"
	PluginMigrating = "migrating"
	PluginActive    = "active"
	PluginDegraded  = "degraded"
	PluginStopping  = "stopping"
	PluginStopped   = "stopped"
	PluginFailed    = "failed"
)

// PluginStatus is what an operator sees of one configured plugin.
type PluginStatus struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Kind is "builtin" or "external".
	Kind     string `json:"kind"`
	State    string `json:"state"`
	Restarts int    `json:"restarts"`
	// LastError is the most recent reason the plugin stopped or failed to start.
	LastError string `json:"last_error"`
}

// PluginCommand is an operator's action on a plugin, applied by every node.
type PluginCommand struct {
	Seq    int64  `db:"seq"`
	Name   string `db:"name"`
	Action string `db:"action"` // enable, disable or restart
}

// PluginOrganisation is an organisation with its representatives, as plugins see it.
type PluginOrganisation struct {
	Organisation
	Representatives []string
}

// OutboxEvent is one event in the core's outbox, in publish order (Seq).
type OutboxEvent struct {
	Seq        int64     `db:"seq"`
	ID         string    `db:"id"`
	Type       string    `db:"type"`
	Source     string    `db:"source"`
	Payload    string    `db:"payload"`
	OccurredAt time.Time `db:"occurred_at"`
}

// PluginReadiness is a configured plugin that is not active, as readiness reports it
// to a load balancer: no error text, which may hold details for operators only.
type PluginReadiness struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Required is set when the city config lists the plugin in required_plugins: the
	// node is not ready while such a plugin is neither active nor degraded.
	Required bool `json:"required"`
}

// PluginRequest is an HTTP request for a plugin route, copied out of the HTTP
// framework so that it outlives the framework's buffers. The plugin service takes
// ownership of it: Serve may change its Header.
type PluginRequest struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Plugin and Route are set by Serve once the request matches a route a plugin
	// declared: the plugin's name and the route's path template from its manifest,
	// for metrics and traces (never the raw path, which would make a series per id).
	Plugin, Route string
	// Permission is the matched route's permission from the manifest; the HTTP layer
	// caches the answers of public routes only.
	Permission string
}

// PluginResponse is a plugin's complete answer.
type PluginResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// PluginService routes requests to plugins and lets operators manage them.
type PluginService interface {
	// Owns reports whether path lies under a configured plugin's prefix
	// (/api/v1/<plugin>/...), so the HTTP layer copies the request only when needed.
	Owns(path string) bool
	// BodyLimit is the largest request body, in bytes, the plugin route that method
	// and path match accepts, from the plugin's manifest; 0 when the request is for
	// no such route, so the core's own limit applies.
	BodyLimit(method, path string) int
	// RequestTimeout bounds one forwarded request. A caller may set that deadline
	// itself; Serve adds a timer only when the context has no deadline that soon.
	RequestTimeout() time.Duration
	// Serve authorises and forwards one request. Errors are *Error values (not found,
	// unauthenticated, forbidden, unavailable) or internal.
	Serve(ctx context.Context, p *Principal, r *PluginRequest) (*PluginResponse, error)
	// Allow lists the methods (HEAD with GET) that the routes of an enabled plugin
	// matching path take, sorted, for a 405's Allow header; nil when none matches.
	Allow(path string) []string
	// OpenAPIPaths merges the OpenAPI paths of every running plugin, each operation
	// completed with the answers the host gives on the plugin's behalf.
	OpenAPIPaths() map[string]any
	// ListPlugins reports every configured plugin; it needs core.plugins.manage.
	ListPlugins(ctx context.Context) ([]PluginStatus, error)
	// EnablePlugin, DisablePlugin and RestartPlugin act on one plugin and are audited;
	// they need core.plugins.manage in the city.
	EnablePlugin(ctx context.Context, name string) (*PluginStatus, error)
	DisablePlugin(ctx context.Context, name string) (*PluginStatus, error)
	RestartPlugin(ctx context.Context, name string) (*PluginStatus, error)
}

// pluginNameRE is what a plugin name may be: it becomes a URL segment, a file name,
// and part of a PostgreSQL identifier.
var pluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ValidPluginName reports whether name is a well-formed plugin name (lower-case
// letters, digits and _, starting with a letter, at most 40): the one rule the plugin
// host and a backup's restore both apply.
func ValidPluginName(name string) bool { return pluginNameRE.MatchString(name) }
