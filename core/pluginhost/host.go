// Package pluginhost runs a city's plugins: it launches each as a child process over
// hashicorp/go-plugin (through sdk/hostside), provisions its own store, migrates and
// activates it, routes /api/v1/<plugin>/... to it after checking the route's
// permission, supervises it (restart with backoff, crash budget, health checks),
// serves it the host API, and delivers outbox events to the plugins that subscribe.
//
// It is the core's adapter for plugins, as sqlstore is for SQL and httpapi for HTTP: it
// implements core.PluginService and imports neither the HTTP framework nor the SQL
// storage. What it keeps in the core database goes through Store, which the node wires
// to sqlstore.PluginStore.
package pluginhost

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/metrics"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
	"github.com/kvarter/kvarter/sdk/seal"
	"github.com/kvarter/kvarter/sdk/telemetry"
)

// Plugin kinds.
const (
	KindBuiltin  = "builtin"
	KindExternal = "external"
)

// Spec is one plugin the city enables.
type Spec struct {
	// Name is the plugin's name: its URL prefix, store name and event namespace. The
	// plugin's manifest must carry the same name.
	Name string
	// Path is the executable of an external plugin; empty for a built-in, which runs
	// as `<Executable> plugin <Name>`.
	Path string
	// SHA256 is the hex checksum of an external plugin's executable, verified on every
	// launch.
	SHA256 string
	// Settings override the manifest's defaults.
	Settings map[string]string
	// Disabled plugins are configured but not started until an operator enables them.
	Disabled bool
}

// Config says how to run the plugins.
type Config struct {
	Plugins []Spec
	// Executable is the kvarter binary, re-executed for built-in plugins.
	Executable string
	// DataDir holds plugins/<name>.db on SQLite.
	DataDir string
	// DatabaseURL is the core's PostgreSQL URL; plugins get their own login to it.
	DatabaseURL string
	// StorePrefix starts the PostgreSQL schema of each plugin ("plugin_").
	StorePrefix string
	// RolePrefix starts each plugin's PostgreSQL login role, before the schema name.
	// Empty means the database's name and "_": login roles are cluster-wide, so two
	// deployments on one cluster must not share them.
	RolePrefix string
	// PluginMaxConnections is each plugin's PostgreSQL pool, its share of the
	// connection budget; 0 leaves the SDK's default.
	PluginMaxConnections int
	// HostVersion is compared with each manifest's MinHostVersion.
	HostVersion  string
	CityTimeZone string
	Languages    []string
	// LogLevel is passed to plugins as KVARTER_LOG_LEVEL.
	LogLevel string
	// HealthInterval, RequestTimeout and DrainTimeout override the defaults.
	HealthInterval time.Duration
	RequestTimeout time.Duration
	DrainTimeout   time.Duration
	// StartWait bounds how long Start waits for the plugins' first launch.
	StartWait time.Duration
	// CommandPoll is how often a node on PostgreSQL looks for operators' commands
	// given through another node (DefaultCommandPoll).
	CommandPoll time.Duration
	// Clock stamps the events plugins publish; nil means the system clock. The node
	// passes the database's, so that tests move both together.
	Clock core.Clock
	// Keyring holds the master key that sealed ballots are derived from (DESIGN.md
	// §13); without it plugins cannot seal ballots.
	Keyring *seal.Keyring
	// Metrics, when set, records every call to a plugin and the events delivered.
	Metrics *metrics.Metrics
	// Tracing, when on, continues each request's trace into the plugin process and
	// hands the plugins the collector's endpoint.
	Tracing *telemetry.Tracing
	// Uploads keeps the files the host receives for plugins' routes that declare
	// file fields; without it such a request fails.
	Uploads core.UploadStore
	// FilterBuiltinHTML passes the built-in plugins' pages through the HTML filter as
	// well as third-party plugins' (which always pass it): tests hold the built-ins
	// to the same rules. Host.FilterBuiltinHTML changes it later.
	FilterBuiltinHTML bool
	// Notifications receives the notifications and follows plugins send through their
	// outbox, and the kinds each manifest declares. Without it they are dropped (with
	// a debug log) and the rest of each batch is recorded as usual.
	Notifications core.NotificationSink
}

// reservedNames are the first path segments of core routes under /api/v1, and of the
// core's own pages and files: a plugin's API lives under /api/v1/<name>/ and its pages
// under /<name>/.
var reservedNames = []string{"auth", "me", "users", "neighbourhoods", "organisations", "roles", "admin", "openapi.json", "core", "plugins",
	"api", "healthz", "readyz", "metrics", "login", "logout", "register", "password", "profile", "account", "language",
	"n", "notifications", "assets", "static", "uploads", "home"}

// ValidateSpecs explains the first problem with a list of plugins.
func ValidateSpecs(specs []Spec) error {
	seen := map[string]bool{}
	for _, s := range specs {
		if !core.ValidPluginName(s.Name) || slices.Contains(reservedNames, s.Name) {
			return fmt.Errorf("plugin name %q must be lower-case letters, digits and _ (starting with a letter), and not a core route", s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("plugin %q is listed twice", s.Name)
		}
		seen[s.Name] = true
		if s.Path != "" {
			if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != 32 {
				return fmt.Errorf("plugin %q: an external executable needs its sha256 (64 hex digits)", s.Name)
			}
		} else if s.SHA256 != "" {
			return fmt.Errorf("plugin %q: sha256 is only for external executables (path)", s.Name)
		}
	}
	return nil
}

// Host runs every configured plugin of one node.
type Host struct {
	cfg    Config
	store  Store
	authz  core.Authorizer
	logger *slog.Logger
	clock  core.Clock

	plugins    map[string]*plugin
	order      []string
	principals encodedPrincipals
	// navVersion counts the changes of a plugin's state or enablement (NavVersion).
	navVersion atomic.Uint64
	// filterBuiltins passes built-ins' HTML through the filter too.
	filterBuiltins atomic.Bool
	filtered       filterMemo // FilterHTML's answers (filtermemo.go)

	// Operators' commands: the last one this node has applied, and the ones it
	// gave itself (applied at once, skipped when the poll finds them).
	cmdMu   sync.Mutex
	cmdSeen int64
	ownCmds map[int64]bool

	// OnPolicyChange is called after a plugin's manifest added role permissions, so
	// this node enforces them at once (other nodes follow the policy version).
	OnPolicyChange func()

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ core.PluginService = (*Host)(nil)

// New prepares the plugins of cfg; nothing runs until Start.
func New(cfg Config, store Store, authz core.Authorizer, logger *slog.Logger) (*Host, error) {
	if err := ValidateSpecs(cfg.Plugins); err != nil {
		return nil, err
	}
	if cfg.StorePrefix == "" {
		cfg.StorePrefix = "plugin_"
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = DefaultHealthInterval
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.StartWait <= 0 {
		cfg.StartWait = 30 * time.Second
	}
	if cfg.CommandPoll <= 0 {
		cfg.CommandPoll = DefaultCommandPoll
	}
	h := &Host{cfg: cfg, store: store, authz: authz, logger: logger, ownCmds: map[int64]bool{},
		clock: cfg.Clock, plugins: map[string]*plugin{}}
	if h.clock == nil {
		h.clock = core.SystemClock{}
	}
	h.filterBuiltins.Store(cfg.FilterBuiltinHTML)
	for _, s := range cfg.Plugins {
		h.plugins[s.Name] = newPlugin(h, s)
		h.order = append(h.order, s.Name)
	}
	return h, nil
}

// Start launches every enabled plugin and the event delivery, and waits (up to
// Config.StartWait) until each has finished its first launch attempt, so that a node
// reporting itself up serves its plugins. A plugin that fails to start does not stop
// the node: it is reported and retried.
func (h *Host) Start(ctx context.Context) {
	ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	h.applyWishes(ctx)
	if h.store.Dialect() == sdk.DialectPostgres {
		h.wg.Add(1)
		go func() { defer h.wg.Done(); h.followCommands(ctx) }()
	}
	for _, name := range h.order {
		p := h.plugins[name]
		h.wg.Add(2)
		go func() { defer h.wg.Done(); p.run(ctx) }()
		go func() { defer h.wg.Done(); p.deliverEvents(ctx) }()
	}
	deadline := time.After(h.cfg.StartWait)
	for _, name := range h.order {
		select {
		case <-h.plugins[name].settled:
		case <-deadline:
			h.logger.Warn("plugins still starting", "waited", h.cfg.StartWait)
			return
		}
	}
}

// Close stops every plugin gracefully (stop routing, drain, deactivate, kill), each
// within ctx, and waits for the supervisors to end.
func (h *Host) Close(ctx context.Context) {
	if h.cancel == nil {
		return
	}
	// Each supervisor stops its plugin gracefully when its context ends.
	h.cancel()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, p := range h.plugins {
			p.mu.Lock()
			proc := p.proc
			p.mu.Unlock()
			if proc != nil {
				proc.Kill()
			}
		}
		<-done
	}
}

// pluginOf returns the plugin whose prefix path lies under.
func (h *Host) pluginOf(path string) *plugin {
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		return nil
	}
	name, _, _ := strings.Cut(rest, "/")
	return h.plugins[name]
}

// Owns reports whether path lies under a configured plugin's prefix.
func (h *Host) Owns(path string) bool { return h.pluginOf(path) != nil }

// routedPluginOf returns the plugin whose API or page prefix path lies under.
func (h *Host) routedPluginOf(path string) *plugin {
	if p := h.pluginOf(path); p != nil {
		return p
	}
	return h.pagePluginOf(path)
}

// BodyLimit is the body limit the manifest declares for the plugin route (API or
// page) method and path match; 0 (the core's default) for anything else, including a
// plugin that is not running: its requests are refused without reading the body
// anyway.
func (h *Host) BodyLimit(method, path string) int {
	p := h.routedPluginOf(path)
	if p == nil {
		return 0
	}
	p.mu.Lock()
	routes := p.routes
	p.mu.Unlock()
	if routes == nil {
		return 0
	}
	return routes.bodyLimit(method, path)
}

// Allow lists the methods the routes (API or page) of path's plugin matching path
// take, nil when the plugin is disabled or no route matches.
func (h *Host) Allow(path string) []string {
	p := h.routedPluginOf(path)
	if p == nil {
		return nil
	}
	p.mu.Lock()
	enabled, state, routes := p.enabled, p.state, p.routes
	p.mu.Unlock()
	if routes == nil || !enabled && state == core.PluginStopped {
		return nil
	}
	return routes.allow(path)
}

// RequestTimeout bounds one forwarded request.
func (h *Host) RequestTimeout() time.Duration { return h.cfg.RequestTimeout }

// Serve authorises a request and forwards it to its plugin.
func (h *Host) Serve(ctx context.Context, pr *core.Principal, r *core.PluginRequest) (*core.PluginResponse, error) {
	p := h.pluginOf(r.Path)
	if p == nil {
		return nil, core.Errorf(core.ENOTFOUND, "There is no API route %s %s.", r.Method, r.Path)
	}
	return p.serve(ctx, pr, r)
}

// OpenAPIPaths merges the OpenAPI paths of every plugin that is running or restarting.
func (h *Host) OpenAPIPaths() map[string]any {
	out := map[string]any{}
	for _, name := range h.order {
		maps.Copy(out, h.plugins[name].openAPIPaths())
	}
	return out
}

// requireManager checks core.plugins.manage in the city for the caller in ctx.
func (h *Host) requireManager(ctx context.Context) error {
	p := core.PrincipalFrom(ctx)
	if !p.Authenticated() {
		return core.Errorf(core.EUNAUTHENTICATED, "Sign in to manage plugins.")
	}
	if !h.authz.Can(p, core.PermPluginsManage, core.DomainCity) {
		return core.Errorf(core.EFORBIDDEN, "You may not manage plugins.")
	}
	return nil
}

// ListPlugins reports every configured plugin as this node sees it.
func (h *Host) ListPlugins(ctx context.Context) ([]core.PluginStatus, error) {
	if err := h.requireManager(ctx); err != nil {
		return nil, err
	}
	return h.Statuses(), nil
}

// Statuses reports every configured plugin, without an authorisation check (for the
// node itself and tests).
func (h *Host) Statuses() []core.PluginStatus {
	out := make([]core.PluginStatus, 0, len(h.order))
	for _, name := range h.order {
		out = append(out, h.plugins[name].status())
	}
	return out
}

// Status reports one plugin.
func (h *Host) Status(name string) (core.PluginStatus, bool) {
	p := h.plugins[name]
	if p == nil {
		return core.PluginStatus{}, false
	}
	return p.status(), true
}

func (h *Host) act(ctx context.Context, name, action string) (*core.PluginStatus, error) {
	if err := h.requireManager(ctx); err != nil {
		return nil, err
	}
	p := h.plugins[name]
	if p == nil {
		return nil, core.Errorf(core.ENOTFOUND, "There is no plugin %q in this city's configuration.", name)
	}
	// Recorded (with its audit entry) so that every node applies it, and so that an
	// enable or disable outlives restarts; this node applies it at once.
	seq, err := h.store.RecordPluginCommand(ctx, name, action)
	if err != nil {
		return nil, err
	}
	h.cmdMu.Lock()
	h.ownCmds[seq] = true
	h.cmdMu.Unlock()
	h.logger.InfoContext(ctx, "plugin "+action, "plugin", name, "by", core.PrincipalFrom(ctx).UserID)
	p.command(commandOf[action])
	st := p.status()
	return &st, nil
}

// applyWishes starts each plugin as operators last left it: the latest enable or
// disable given through the admin API of any node wins over the city config.
func (h *Host) applyWishes(ctx context.Context) {
	wishes, last, err := h.store.PluginWishes(ctx)
	if err != nil {
		h.logger.Warn("operators' plugin commands not read; starting plugins as configured", "err", err)
		return
	}
	h.cmdMu.Lock()
	h.cmdSeen = last
	h.cmdMu.Unlock()
	for name, action := range wishes {
		if p := h.plugins[name]; p != nil {
			p.mu.Lock()
			p.enabled = action == "enable"
			p.mu.Unlock()
			h.navVersion.Add(1)
			if action == "disable" {
				p.settle()
			}
		}
	}
}

// commandOf maps a stored command's action to what the supervisor is told.
var commandOf = map[string]command{"enable": cmdEnable, "disable": cmdDisable, "restart": cmdRestart}

// followCommands applies, until ctx ends, the commands operators give through other
// nodes sharing the database.
func (h *Host) followCommands(ctx context.Context) {
	t := time.NewTicker(h.cfg.CommandPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.cmdMu.Lock()
		after := h.cmdSeen
		h.cmdMu.Unlock()
		cmds, err := h.store.PluginCommandsAfter(ctx, after)
		if err != nil {
			if ctx.Err() == nil {
				h.logger.Warn("reading operators' plugin commands failed", "err", err)
			}
			continue
		}
		for _, c := range cmds {
			h.cmdMu.Lock()
			own := h.ownCmds[c.Seq]
			delete(h.ownCmds, c.Seq)
			h.cmdSeen = c.Seq
			h.cmdMu.Unlock()
			p := h.plugins[c.Name]
			if own || p == nil {
				continue
			}
			if cmd, ok := commandOf[c.Action]; ok {
				h.logger.Info("plugin "+c.Action+" given through another node", "plugin", c.Name)
				p.command(cmd)
			}
		}
	}
}

// EnablePlugin starts a stopped or failed plugin, forgetting its crashes.
func (h *Host) EnablePlugin(ctx context.Context, name string) (*core.PluginStatus, error) {
	return h.act(ctx, name, "enable")
}

// DisablePlugin stops a plugin until it is enabled again.
func (h *Host) DisablePlugin(ctx context.Context, name string) (*core.PluginStatus, error) {
	return h.act(ctx, name, "disable")
}

// RestartPlugin stops a plugin gracefully and starts it again.
func (h *Host) RestartPlugin(ctx context.Context, name string) (*core.PluginStatus, error) {
	return h.act(ctx, name, "restart")
}

// Pid returns the process id of a running plugin, 0 when none; for tests and tools
// (the admin API does not show it).
func (h *Host) Pid(name string) int {
	if p := h.plugins[name]; p != nil {
		if proc := p.process(); proc != nil {
			return proc.Pid()
		}
	}
	return 0
}

// errPermanent marks launch failures that retrying cannot fix (wrong checksum, a
// manifest that does not fit): the plugin is failed at once.
var errPermanent = errors.New("permanent")

func permanent(err error) error {
	if errors.Is(err, hostside.ErrChecksum) {
		return fmt.Errorf("%w (%w)", err, errPermanent)
	}
	return err
}
