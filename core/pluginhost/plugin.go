package pluginhost

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
)

type command int

const (
	cmdEnable command = iota + 1
	cmdDisable
	cmdRestart
)

// plugin supervises one configured plugin: one goroutine (run) owns its process; the
// request path reads a snapshot under mu.
type plugin struct {
	h    *Host
	spec Spec
	kind string

	cmds    chan command
	settled chan struct{}
	once    sync.Once
	wake    chan struct{} // a local publish happened: look for events

	mu       sync.Mutex
	state    string
	enabled  bool
	proc     *hostside.Process
	manifest *sdk.Manifest
	routes   *routeTable
	openapi  map[string]any
	restarts int
	lastErr  string
	crashes  []time.Time
	pool     *sql.DBStats // the plugin's database pool, as last reported
	inflight sync.WaitGroup
}

func newPlugin(h *Host, s Spec) *plugin {
	p := &plugin{h: h, spec: s, kind: KindBuiltin, cmds: make(chan command, 4), settled: make(chan struct{}),
		wake: make(chan struct{}, 1), state: core.PluginStopped, enabled: !s.Disabled}
	if s.Path != "" {
		p.kind = KindExternal
	}
	if s.Disabled {
		p.settle()
	}
	return p
}

func (p *plugin) settle() { p.once.Do(func() { close(p.settled) }) }

func (p *plugin) command(c command) {
	select {
	case p.cmds <- c:
	default: // commands are idempotent; a full queue already holds enough
	}
}

func (p *plugin) status() core.PluginStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := core.PluginStatus{Name: p.spec.Name, Kind: p.kind, State: p.state, Restarts: p.restarts, LastError: p.lastErr}
	if p.manifest != nil {
		st.Version = p.manifest.Version
	}
	return st
}

func (p *plugin) process() *hostside.Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != core.PluginActive && p.state != core.PluginDegraded {
		return nil
	}
	return p.proc
}

func (p *plugin) openAPIPaths() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.enabled || p.state == core.PluginFailed {
		return nil
	}
	return p.openapi
}

// setState records a state change, logs it and saves it for `kvarter plugins list`.
func (p *plugin) setState(state string, cause error) {
	p.mu.Lock()
	p.state = state
	if cause != nil {
		p.lastErr = cause.Error()
	}
	p.mu.Unlock()
	p.h.navVersion.Add(1)
	st := p.status()
	if cause != nil {
		p.h.logger.Warn("plugin "+state, "plugin", p.spec.Name, "err", cause)
	} else {
		p.h.logger.Info("plugin "+state, "plugin", p.spec.Name, "version", st.Version)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.h.store.SavePluginStatus(ctx, st); err != nil {
		p.h.logger.Warn("save plugin status", "plugin", p.spec.Name, "err", err)
	}
}

// run is the supervisor: launch, watch, restart with backoff, fail past the crash
// budget, obey operator commands, stop when ctx ends.
func (p *plugin) run(ctx context.Context) {
	consecutive := 0
	for ctx.Err() == nil {
		p.mu.Lock()
		enabled, failed := p.enabled, p.state == core.PluginFailed
		p.mu.Unlock()
		if !enabled || failed {
			p.settle()
			if !p.waitCommand(ctx) {
				return
			}
			continue
		}
		started := time.Now()
		proc, err := p.launch(ctx)
		if ctx.Err() != nil {
			if proc != nil {
				p.stop(proc, "host stopping")
			}
			return
		}
		if err == nil {
			p.settle()
			err = p.watch(ctx, proc)
			if err == nil { // stopped on purpose
				continue
			}
		}
		// The plugin crashed or could not start. settle only once the state says so.
		if time.Since(started) > StableAfter {
			consecutive = 0
		}
		consecutive++
		if errors.Is(err, errPermanent) {
			p.setState(core.PluginFailed, err)
			p.settle()
			continue
		}
		p.mu.Lock()
		var spent bool
		p.crashes, spent = RecordCrash(p.crashes, time.Now())
		p.proc = nil
		p.mu.Unlock()
		if spent {
			p.setState(core.PluginFailed, fmt.Errorf("%w; crashed %d times within %s, so it stays down until an operator enables it", err, CrashBudget, CrashWindow))
			p.settle()
			continue
		}
		p.setState(core.PluginStarting, err)
		p.settle()
		select {
		case <-time.After(RestartDelay(consecutive)):
		case c := <-p.cmds:
			p.apply(c)
		case <-ctx.Done():
			return
		}
		p.mu.Lock()
		p.restarts++
		p.mu.Unlock()
	}
}

// waitCommand waits, while the plugin is down on purpose, for an operator command.
func (p *plugin) waitCommand(ctx context.Context) bool {
	select {
	case c := <-p.cmds:
		p.apply(c)
		return true
	case <-ctx.Done():
		return false
	}
}

// apply changes what the supervisor aims for; the process itself is handled by run.
func (p *plugin) apply(c command) {
	defer p.h.navVersion.Add(1) // after the unlock: a Nav worked out meanwhile is not kept as new
	p.mu.Lock()
	defer p.mu.Unlock()
	switch c {
	case cmdEnable:
		p.enabled = true
		p.crashes = nil
		if p.state == core.PluginFailed {
			p.state = core.PluginStopped
		}
	case cmdDisable:
		p.enabled = false
	case cmdRestart:
		if p.state == core.PluginFailed {
			p.state = core.PluginStopped
			p.crashes = nil
		}
	}
}

// watch serves a running plugin until it exits (an error) or an operator or the host
// stops it (nil).
func (p *plugin) watch(ctx context.Context, proc *hostside.Process) error {
	tick := time.NewTicker(p.h.cfg.HealthInterval)
	defer tick.Stop()
	for {
		select {
		case <-proc.Exited():
			p.mu.Lock()
			p.proc = nil
			p.mu.Unlock()
			proc.Kill() // release the connection
			return fmt.Errorf("plugin %s exited unexpectedly", p.spec.Name)
		case c := <-p.cmds:
			p.apply(c)
			switch c {
			case cmdDisable:
				p.stop(proc, "disabled by an operator")
				return nil
			case cmdRestart:
				p.stop(proc, "restarted by an operator")
				p.mu.Lock()
				p.restarts++
				p.mu.Unlock()
				return nil
			}
		case <-ctx.Done():
			p.stop(proc, "host stopping")
			return nil
		case <-tick.C:
			hctx, cancel := context.WithTimeout(ctx, HealthTimeout)
			pool, err := proc.HealthReport(hctx)
			cancel()
			if err == nil && pool != nil {
				p.setPool(pool)
			}
			p.mu.Lock()
			state := p.state
			p.mu.Unlock()
			switch {
			case err != nil && state == core.PluginActive && ctx.Err() == nil:
				p.setState(core.PluginDegraded, err)
			case err == nil && state == core.PluginDegraded:
				p.setState(core.PluginActive, nil)
			}
		}
	}
}

// stop takes a plugin out of service: stop routing, drain requests in flight up to the
// drain timeout, Deactivate, then close the process.
func (p *plugin) stop(proc *hostside.Process, why string) {
	p.h.logger.Info("plugin stopping", "plugin", p.spec.Name, "reason", why)
	p.mu.Lock()
	if p.proc != proc {
		p.mu.Unlock()
		proc.Kill()
		return
	}
	p.mu.Unlock()
	p.setState(core.PluginStopping, nil)
	drained := make(chan struct{})
	go func() { p.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(p.h.cfg.DrainTimeout):
		p.h.logger.Warn("plugin stopping with requests in flight", "plugin", p.spec.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.h.cfg.DrainTimeout)
	if err := proc.Deactivate(ctx); err != nil {
		p.h.logger.Warn("plugin deactivate failed", "plugin", p.spec.Name, "err", err)
	}
	cancel()
	proc.Close()
	p.mu.Lock()
	p.proc = nil
	p.mu.Unlock()
	p.setState(core.PluginStopped, nil)
}

// launch starts the process and brings it to active: Describe, check the manifest,
// provision the store, Configure and Migrate under the plugin's lock, register its
// policy, Activate.
func (p *plugin) launch(ctx context.Context) (proc *hostside.Process, err error) {
	p.setState(core.PluginStarting, nil)
	name := p.spec.Name
	var cmd *exec.Cmd
	var checksum []byte
	if p.spec.Path != "" {
		cmd = exec.Command(p.spec.Path)
		checksum, _ = hex.DecodeString(p.spec.SHA256)
	} else {
		if p.h.cfg.Executable == "" {
			return nil, fmt.Errorf("built-in plugin %s: the kvarter executable is unknown: %w", name, errPermanent)
		}
		cmd = exec.Command(p.h.cfg.Executable, "plugin", name)
	}
	cmd.Env = p.env()
	proc, err = hostside.Launch(ctx, hostside.LaunchOptions{Name: name, Cmd: cmd, Checksum: checksum, Logger: p.h.logger,
		DialOptions: p.dialOptions()})
	if err != nil {
		return nil, permanent(err)
	}
	defer func() {
		if err != nil {
			proc.Kill()
			proc = nil
		}
	}()
	lctx, cancel := context.WithTimeout(ctx, LifecycleTimeout)
	man, err := proc.Describe(lctx)
	cancel()
	if err != nil {
		return proc, err
	}
	routes, err := p.checkManifest(man)
	if err != nil {
		return proc, fmt.Errorf("plugin %s: %w: %w", name, err, errPermanent)
	}
	p.mu.Lock()
	p.manifest, p.routes, p.openapi = &man, routes, pluginOpenAPI(name, man.OpenAPI, man.Routes)
	p.mu.Unlock()

	p.setState(core.PluginMigrating, nil)
	settings := map[string]string{}
	for _, s := range man.Settings {
		settings[s.Name] = s.Default
	}
	for k, v := range p.spec.Settings {
		settings[k] = v
	}
	host := &hostAPI{name: name, store: p.h.store, authz: p.h.authz, clock: p.h.clock, notify: p.h.notifyPublish, keys: p.h.cfg.Keyring,
		sink: p.h.cfg.Notifications, kinds: man.Notifications, logger: p.h.logger}
	if sink := p.h.cfg.Notifications; sink != nil {
		// Declared before the plugin runs, so that the notifications its outbox holds
		// from a previous run are of known kinds when the relay sends them.
		sink.DeclareKinds(name, coreKinds(name, man.Notifications))
	}
	err = p.h.store.WithMigrationLock(ctx, name, func() error {
		storeCfg, err := p.h.provision(ctx, name)
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, LifecycleTimeout)
		defer cancel()
		if err := proc.Configure(cctx, hostside.ConfigureRequest{
			Settings: settings, Store: storeCfg, CityTimeZone: p.h.cfg.CityTimeZone,
			Languages: p.h.cfg.Languages, HostVersion: p.h.cfg.HostVersion,
		}, host); err != nil {
			return err
		}
		mctx, cancel := context.WithTimeout(ctx, MigrateTimeout)
		defer cancel()
		return proc.Migrate(mctx)
	})
	if err != nil {
		return proc, err
	}
	if _, err := p.h.store.RegisterPluginPolicy(ctx, name, policyOf(man)); err != nil {
		return proc, err
	}
	if p.h.OnPolicyChange != nil {
		p.h.OnPolicyChange()
	}
	actx, cancel := context.WithTimeout(ctx, LifecycleTimeout)
	err = proc.Activate(actx)
	cancel()
	if err != nil {
		return proc, err
	}
	if len(man.Subscribes) > 0 {
		// Fix the cursor now, so that the plugin receives every event published from
		// the moment it is active.
		if _, err := p.h.store.EventCursor(ctx, name); err != nil {
			return proc, err
		}
	}
	p.mu.Lock()
	p.proc = proc
	p.mu.Unlock()
	p.setState(core.PluginActive, nil)
	return proc, nil
}

// env is the plugin's whole environment: the host's own is never inherited.
func (p *plugin) env() []string {
	env := []string{
		"KVARTER_PLUGIN_NAME=" + p.spec.Name,
		"KVARTER_LOG_LEVEL=" + p.h.cfg.LogLevel,
		"TMPDIR=" + os.TempDir(),
	}
	if path := os.Getenv("PATH"); path != "" {
		env = append(env, "PATH="+path)
	}
	return append(env, p.h.tracingEnv(p.spec.Name, p.kind == KindBuiltin)...)
}

// checkManifest refuses a manifest that does not fit this city and host.
func (p *plugin) checkManifest(m sdk.Manifest) (*routeTable, error) {
	name := p.spec.Name
	if m.Name != name {
		return nil, fmt.Errorf("the manifest names the plugin %q, but the city config calls it %q", m.Name, name)
	}
	if !VersionAtLeast(p.h.cfg.HostVersion, m.MinHostVersion) {
		return nil, fmt.Errorf("needs kvarter %s or newer; this is %s", m.MinHostVersion, p.h.cfg.HostVersion)
	}
	for _, t := range m.Publishes {
		if !strings.HasPrefix(t, name+".") {
			return nil, fmt.Errorf("published event type %q must start with %q", t, name+".")
		}
	}
	for _, perm := range m.Permissions {
		if !strings.HasPrefix(perm.Name, name+".") {
			return nil, fmt.Errorf("permission %q must start with %q", perm.Name, name+".")
		}
	}
	// A plugin hands out only its own powers: a role it bundles or a default grant it
	// makes may name any role, but only permissions in its own namespace. Otherwise a
	// plugin could give residents core.membership.decide, or another plugin's
	// permissions, just by being enabled.
	for _, r := range m.Roles {
		if err := checkRoleTexts(r); err != nil {
			return nil, err
		}
		for _, perm := range r.Permissions {
			if !strings.HasPrefix(perm, name+".") {
				return nil, fmt.Errorf("role %q bundles the permission %q, but a plugin may only bundle its own permissions (starting with %q)", r.Name, perm, name+".")
			}
		}
	}
	for _, g := range m.Grants {
		if !strings.HasPrefix(g.Permission, name+".") {
			return nil, fmt.Errorf("the default grant to %q gives the permission %q, but a plugin may only grant its own permissions (starting with %q)", g.Role, g.Permission, name+".")
		}
	}
	routes, err := compileRoutes(name, m.Routes)
	if err != nil {
		return nil, err
	}
	if err := checkUI(name, m.UI, routes); err != nil {
		return nil, err
	}
	if err := sdk.CheckNotificationKinds(name, m.Notifications); err != nil {
		return nil, err
	}
	return routes, nil
}

// policyOf lists the role permissions a manifest brings: each role's permissions and
// the default grants.
func policyOf(m sdk.Manifest) []core.RolePermission {
	var out []core.RolePermission
	for _, r := range m.Roles {
		for _, perm := range r.Permissions {
			out = append(out, core.RolePermission{Role: r.Name, Permission: perm})
		}
	}
	for _, g := range m.Grants {
		out = append(out, core.RolePermission{Role: g.Role, Permission: g.Permission})
	}
	return out
}

// serve authorises one API request against the manifest and forwards it.
func (p *plugin) serve(ctx context.Context, pr *core.Principal, r *core.PluginRequest) (*core.PluginResponse, error) {
	resp, err := p.forward(ctx, pr, r, sdk.RenderAPI)
	if err != nil {
		if errors.Is(err, errInvalidAnswer) {
			return badGateway(p.spec.Name, core.RequestIDFrom(ctx)), nil
		}
		return nil, err
	}
	return &core.PluginResponse{Status: resp.Status, Header: resp.Header, Body: resp.Body}, nil
}

// errInvalidAnswer marks a plugin answer that cannot be passed on (a status outside
// HTTP's range); it is logged where it is found.
var errInvalidAnswer = errors.New("invalid answer")

// forward authorises one request against the manifest and hands it to the plugin:
// an API request (render RenderAPI) to an API route, a page or fragment to a page
// route. Both are matched and authorised alike, before the plugin sees anything.
func (p *plugin) forward(ctx context.Context, pr *core.Principal, r *core.PluginRequest, render sdk.Render) (*hostside.HTTPResponse, error) {
	name := p.spec.Name
	p.mu.Lock()
	enabled, state, routes, proc := p.enabled, p.state, p.routes, p.proc
	p.mu.Unlock()
	if !enabled && state == core.PluginStopped {
		return nil, core.Errorf(core.ENOTFOUND, "The plugin %s is disabled.", name)
	}
	if routes == nil {
		return nil, unavailable(name, state)
	}
	kind := sdk.RouteAPI
	if render != sdk.RenderAPI {
		kind = sdk.RoutePage
	}
	route, domain, ok := routes.match(r.Method, r.Path)
	if !ok || route.Kind != kind {
		if kind == sdk.RoutePage {
			return nil, core.Errorf(core.ENOTFOUND, "There is no page %s %s.", r.Method, r.Path)
		}
		return nil, core.Errorf(core.ENOTFOUND, "There is no API route %s %s.", r.Method, r.Path)
	}
	r.Plugin, r.Route, r.Permission = name, route.Path, route.Permission
	if err := p.h.authorise(pr, route.Permission, domain); err != nil {
		return nil, err
	}

	// Take a place among the requests in flight only while the plugin serves, so that
	// stop's drain sees every request it must wait for.
	p.mu.Lock()
	if p.proc == nil || p.proc != proc || (p.state != core.PluginActive && p.state != core.PluginDegraded) {
		state := p.state
		p.mu.Unlock()
		return nil, unavailable(name, state)
	}
	p.inflight.Add(1)
	p.mu.Unlock()
	defer p.inflight.Done()

	// The request is the host's own copy: strip what a client may not say about itself
	// in place instead of copying every header again.
	header := r.Header
	if header == nil {
		header = http.Header{}
	}
	for k, vs := range header {
		if ck := http.CanonicalHeaderKey(k); isIdentityHeader(ck) || ck != k {
			delete(header, k)
			if !isIdentityHeader(ck) {
				header[ck] = append(header[ck], vs...)
			}
		}
	}
	body := r.Body
	if len(route.Uploads) > 0 {
		// The host receives the files (uploads.go): what reaches the plugin is a
		// form with upload ids, or nothing when a file is refused.
		var err error
		if body, err = p.receiveUploads(ctx, pr, route, header, body); err != nil {
			return nil, err
		}
	}
	reqID := core.RequestIDFrom(ctx)
	// The HTTP layer gives plugin requests this deadline already; a timer is added
	// only for callers that did not.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > p.h.cfg.RequestTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.h.cfg.RequestTimeout)
		defer cancel()
	}
	principal, err := p.h.principals.get(pr)
	if err != nil {
		return nil, err
	}
	resp, err := proc.Handle(ctx, &hostside.HTTPRequest{
		Method: r.Method, Path: r.Path, RawQuery: r.RawQuery, Header: header, Body: body,
		EncodedPrincipal: principal, RequestID: reqID, Render: render, Language: r.Language,
	})
	if err != nil {
		select {
		case <-proc.Exited():
			return nil, unavailable(name, core.PluginStarting)
		default:
		}
		switch {
		case errors.Is(err, hostside.ErrUnavailable):
			return nil, unavailable(name, core.PluginStarting)
		case errors.Is(err, context.DeadlineExceeded):
			e := core.Errorf(core.EUNAVAILABLE, "The %s module did not answer in time.", name)
			e.RetryAfterSeconds = RetryAfterDown
			return nil, e
		}
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	if !ValidStatus(resp.Status) {
		p.h.logger.ErrorContext(ctx, "plugin answered an invalid status", "plugin", name, "status", resp.Status)
		return nil, fmt.Errorf("plugin %s: status %d: %w", name, resp.Status, errInvalidAnswer)
	}
	// The response's header map is the host's own copy: drop what a plugin may not
	// send in place.
	for k := range resp.Header {
		if !responseHeaderAllowed(k) {
			delete(resp.Header, k)
		}
	}
	return resp, nil
}

// authorise checks a route's (or a nav entry's, or a card's) permission in domain for
// the caller, as the host does before a plugin sees a request.
func (h *Host) authorise(pr *core.Principal, permission, domain string) error {
	switch permission {
	case sdk.PermPublic:
	case sdk.PermAuthenticated:
		if !pr.Authenticated() {
			return core.Errorf(core.EUNAUTHENTICATED, "Sign in to use this.")
		}
	default:
		if !pr.Authenticated() {
			return core.Errorf(core.EUNAUTHENTICATED, "Sign in to use this.")
		}
		if !h.authz.Can(pr, permission, domain) {
			return core.Errorf(core.EFORBIDDEN, "You may not do this here.")
		}
	}
	return nil
}

func unavailable(name, state string) error {
	e := core.Errorf(core.EUNAVAILABLE, "The %s module is restarting; try again shortly.", name)
	e.RetryAfterSeconds = RetryAfterDown
	if state == core.PluginFailed {
		e = core.Errorf(core.EUNAVAILABLE, "The %s module is out of service.", name)
		e.RetryAfterSeconds = RetryAfterFailed
	}
	return e
}

// badGateway is the answer when a plugin's response cannot be passed on.
func badGateway(name, reqID string) *core.PluginResponse {
	body := fmt.Sprintf(`{"error":{"code":"internal","message":"The %s module gave an invalid answer.","request_id":%s}}`, name, strconv.Quote(reqID))
	return &core.PluginResponse{Status: http.StatusBadGateway, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

// provision makes the plugin's store exist and says where it is.
func (h *Host) provision(ctx context.Context, name string) (sdk.StoreConfig, error) {
	if h.store.Dialect() != sdk.DialectPostgres {
		dir := filepath.Join(h.cfg.DataDir, "plugins")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return sdk.StoreConfig{}, fmt.Errorf("plugin store folder: %w", err)
		}
		path, err := filepath.Abs(filepath.Join(dir, name+".db"))
		if err != nil {
			return sdk.StoreConfig{}, err
		}
		return sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: path}, nil
	}
	h.ensureExtensions(ctx, name)
	schema := h.cfg.StorePrefix + name
	rolePrefix := h.cfg.RolePrefix
	if rolePrefix == "" {
		// Login roles are cluster-wide, schemas are per database: the database's name
		// keeps two cities (or staging and production) on one cluster apart.
		dbName, err := h.store.DatabaseName(ctx)
		if err != nil {
			return sdk.StoreConfig{}, fmt.Errorf("plugin store %s: %w", name, err)
		}
		rolePrefix = dbName + "_"
	}
	role := PluginRoleName(rolePrefix, schema)
	password, err := h.store.ProvisionPostgresStore(ctx, schema, role)
	if err != nil {
		return sdk.StoreConfig{}, err
	}
	dsn, err := pluginDSN(h.cfg.DatabaseURL, role, password)
	if err != nil {
		return sdk.StoreConfig{}, err
	}
	return sdk.StoreConfig{Dialect: sdk.DialectPostgres, DSN: dsn, Schema: schema, MaxConnections: h.cfg.PluginMaxConnections}, nil
}

// maxIdentifier is PostgreSQL's longest identifier (NAMEDATALEN - 1), in bytes.
const maxIdentifier = 63

// PluginRoleName is the login role of the plugin store in schema: prefix + schema. A
// name longer than PostgreSQL keeps is cut and ends in a hash of the whole, so that it
// stays unique instead of being truncated silently into another deployment's name.
func PluginRoleName(prefix, schema string) string {
	name := prefix + schema
	if len(name) <= maxIdentifier {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:maxIdentifier-9] + "_" + hex.EncodeToString(sum[:4])
}

// pgExtensions are installed by the host because a plugin's role may not run CREATE
// EXTENSION. btree_gist gives GiST indexes = and <> on scalar types, which exclusion
// constraints such as the parks plugin's "no two approved bookings overlap" need.
var pgExtensions = []string{"btree_gist"} // constant identifiers, inlined in SQL

// ensureExtensions installs pgExtensions as the core's role before a plugin migrates.
// A failure is only a warning:
// plugins check for what they need and fall back (parks takes a per-park lock).
func (h *Host) ensureExtensions(ctx context.Context, plugin string) {
	for _, ext := range pgExtensions {
		installed, err := h.store.EnsureExtension(ctx, ext)
		if err != nil {
			h.logger.WarnContext(ctx, "plugin store: cannot install PostgreSQL extension "+ext+
				"; plugins that need it fall back to slower locking. Have a superuser run `CREATE EXTENSION "+ext+"` in this database",
				"plugin", plugin, "extension", ext, "error", err)
			continue
		}
		if installed {
			h.logger.InfoContext(ctx, "plugin store: PostgreSQL extension installed", "plugin", plugin, "extension", ext)
		}
	}
}

// pluginDSN is the core's database URL with the plugin's own login and without the
// core's search_path.
func pluginDSN(coreURL, role, password string) (string, error) {
	u, err := url.Parse(coreURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("the database URL must be a postgres:// URL to give plugins their own login")
	}
	u.User = url.UserPassword(role, password)
	q := u.Query()
	for _, k := range []string{"search_path", "options", "user", "password"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
