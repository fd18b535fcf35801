// Package node assembles one running Kvarter core: the database, the services, the
// authorizer and the HTTP server, with their background loops. The `kvarter` binary
// and end-to-end tests build nodes the same way.
package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/authz"
	"github.com/kvarter/kvarter/core/httpapi"
	"github.com/kvarter/kvarter/core/mail"
	"github.com/kvarter/kvarter/core/metrics"
	"github.com/kvarter/kvarter/core/oidc"
	"github.com/kvarter/kvarter/core/password"
	"github.com/kvarter/kvarter/core/pluginhost"
	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/core/web"
	"github.com/kvarter/kvarter/core/web/static"
	"github.com/kvarter/kvarter/sdk/telemetry"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// Options are the knobs tests turn; production leaves them zero.
type Options struct {
	Clock          core.Clock
	PasswordParams *password.Params
	// RegisterFloor is the least time registration takes to answer (httpapi.Config);
	// 0 means httpapi.DefaultRegisterFloor, negative answers at once (tests).
	RegisterFloor time.Duration
	Throttle      *sqlstore.ThrottleSettings
	// PrincipalCacheTTL overrides how long a resolved token is reused (tests set it
	// tiny so that moving the clock takes effect at once).
	PrincipalCacheTTL time.Duration
	// HostVersion is reported to plugins and in `kvarter version`.
	HostVersion string
	// Executable is the kvarter binary, re-executed as `kvarter plugin <name>` for
	// built-in plugins; Builtins names the plugins compiled into it.
	Executable string
	Builtins   []string
	// PluginHealthInterval overrides how often plugins' health is checked, and
	// PluginRequestTimeout how long a plugin may take over one request.
	PluginHealthInterval time.Duration
	PluginRequestTimeout time.Duration
	// Commit is the source revision reported in kvarter_build_info, as the binary
	// resolved it; "unknown" when empty.
	Commit string
	// FilterBuiltinHTML passes the built-in plugins' pages through the host's HTML
	// filter, as a third-party plugin's always are (DESIGN §10): tests set it, so that
	// a built-in's markup the filter would change fails there rather than in a city.
	FilterBuiltinHTML bool
	// DigestCheckInterval overrides how often the node checks whether a notification
	// digest is due (a minute); tests that run digests themselves set it long.
	DigestCheckInterval time.Duration
	// Mailer replaces the mailer the mail section configures (tests send to their own
	// server); MailQueue tunes the queue's worker.
	Mailer    core.Mailer
	MailQueue sqlstore.MailQueueSettings
	// Notifications replaces the node's notification service as the receiver of what
	// plugins send through their outbox (Tx.Notify, Tx.Follow); tests set a recording one.
	Notifications core.NotificationSink
	// Claims receives the claims of every sign-in with an identity provider (tests
	// set a recording one); nil: the node's own, if any.
	Claims core.ClaimsService
	// OIDCHTTPClient speaks to the identity providers; nil: a client with a timeout.
	OIDCHTTPClient *http.Client
}

// Node is one core process's worth of parts.
type Node struct {
	Config Config
	Logger *slog.Logger
	DB     *sqlstore.DB
	Authz  *authz.Enforcer

	Identity       *sqlstore.IdentityService
	Neighbourhoods *sqlstore.NeighbourhoodService
	Organisations  *sqlstore.OrganisationService
	Roles          *sqlstore.RoleService
	Audit          *sqlstore.AuditService
	Uploads        *sqlstore.UploadStore
	// MailQueue holds every mail until the server took it; its worker runs from Start.
	MailQueue *sqlstore.MailQueue
	sender    *mail.Sender
	// Notifications stores and delivers notifications: the plugin host's sink, and
	// the service of the notification pages and API.
	Notifications *sqlstore.NotificationService
	// NotificationMail composes the queued notification and digest mails when they
	// are sent.
	NotificationMail *sqlstore.NotificationMail
	listenURL        atomic.Value // string, once listening
	Server           *httpapi.Server
	Plugins          *pluginhost.Host
	// Metrics is the node's Prometheus registry; Tracing its tracer provider (off
	// unless an OTLP endpoint is configured).
	Metrics *metrics.Metrics
	Tracing *telemetry.Tracing
	// OIDC signs people in with the city's identity providers; nil without any.
	OIDC *oidc.RelyingParty
	// Claims acts on identity providers' claims after each sign-in; nil: nothing.
	Claims core.ClaimsService

	digestCheckInterval time.Duration

	metricsSrv  *http.Server
	metricsAddr net.Addr
	addr        net.Addr
	cancel      context.CancelFunc
	done        chan struct{}
}

// NewLogger returns the JSON (or text) logger writing to w at the configured level.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(core.LogHandler{Handler: h})
}

// OpenDB connects to the configured database, for a command that runs no plugins
// (migrate, admin): it may use the whole connection budget, and opens only what it
// uses.
func OpenDB(ctx context.Context, cfg Config) (*sqlstore.DB, error) {
	return sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir, cfg.DatabaseMaxConnections)
}

// New opens the database, brings the schema up to date (or refuses to run against a
// schema it does not understand), and builds every service. The core's pool gets its
// share of the connection budget; every plugin process gets one too.
func New(ctx context.Context, cfg Config, logger *slog.Logger, opt Options) (*Node, error) {
	// The budget is PostgreSQL's: SQLite has pools of its own size and no server limit.
	coreConns, pluginConns := cfg.DatabaseMaxConnections, 0
	if cfg.DatabaseURL != "" {
		var err error
		if coreConns, pluginConns, err = ConnectionShares(cfg.DatabaseMaxConnections, len(cfg.pluginSpecs(opt.Builtins))); err != nil {
			return nil, err
		}
	}
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir, coreConns)
	if err != nil {
		return nil, err
	}
	n, err := build(ctx, cfg, logger, opt, db, pluginConns)
	if err != nil {
		db.Close()
		return nil, err
	}
	return n, nil
}

func build(ctx context.Context, cfg Config, logger *slog.Logger, opt Options, db *sqlstore.DB, pluginConns int) (*Node, error) {
	db.Logger = logger
	if opt.Clock != nil {
		db.Clock = opt.Clock
	}
	if cfg.AutoMigrate == nil || *cfg.AutoMigrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return nil, err
		}
		if len(applied) > 0 {
			logger.Info("applied core migrations", "migrations", strings.Join(applied, ","))
		}
	}
	pending, unknown, err := db.SchemaStatus(ctx)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("the database schema is newer than this kvarter (unknown migrations %s)", strings.Join(unknown, ", "))
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("the database schema is behind (pending %s); run `kvarter migrate` first", strings.Join(pending, ", "))
	}

	enf, err := authz.New(ctx, &sqlstore.PolicyStore{DB: db}, logger)
	if err != nil {
		return nil, err
	}
	n := &Node{Config: cfg, Logger: logger, DB: db, Authz: enf, digestCheckInterval: cmp.Or(opt.DigestCheckInterval, digestCheckInterval)}
	settings := sqlstore.DefaultIdentitySettings()
	settings.Languages = cfg.City.Languages
	settings.Zone = cityZone(cfg.City.TimeZone)
	if opt.PasswordParams != nil {
		settings.Hasher = password.Hasher{Params: *opt.PasswordParams}
	}
	if opt.PrincipalCacheTTL > 0 {
		settings.PrincipalCacheTTL = opt.PrincipalCacheTTL
	}
	if opt.Throttle != nil {
		settings.Throttle = *opt.Throttle
	}
	n.Identity = &sqlstore.IdentityService{DB: db, Authz: enf, Settings: settings}
	// Local changes take effect at once on this node; other nodes catch up within the
	// policy poll interval and the principal cache TTL.
	reload := func() {
		if err := enf.Reload(context.Background()); err != nil {
			logger.Error("policy reload failed", "err", err)
		}
		n.Identity.DropCachedPrincipals()
	}
	n.Identity.OnPolicyChange = reload
	n.Neighbourhoods = &sqlstore.NeighbourhoodService{DB: db, Authz: enf, MaxVerifiedPerPerson: cfg.MaxNeighbourhoodsPerPerson, OnPrincipalChange: n.Identity.DropCachedPrincipals}
	claims := &sqlstore.ClaimsService{DB: db, Neighbourhoods: n.Neighbourhoods, Rules: cfg.ResidencyClaims, BirthDateClaim: cfg.BirthDateClaim, Logger: logger}
	if err := claims.WarnUnknownNeighbourhoods(ctx); err != nil {
		return nil, err
	}
	n.Claims = claims
	n.Organisations = &sqlstore.OrganisationService{DB: db, Authz: enf, OnPrincipalChange: n.Identity.DropCachedPrincipals}
	n.Roles = &sqlstore.RoleService{DB: db, Authz: enf, OnPolicyChange: reload}
	n.Audit = &sqlstore.AuditService{DB: db, Authz: enf}
	n.Uploads = &sqlstore.UploadStore{DB: db}

	specs := cfg.pluginSpecs(opt.Builtins)
	for i, s := range specs {
		if s.Path == "" && !slices.Contains(opt.Builtins, s.Name) {
			return nil, &ConfigError{Key: fmt.Sprintf("plugins[%d].name", i), Problem: fmt.Sprintf("is %q, not a built-in plugin of this kvarter", s.Name),
				Expected: "one of " + strings.Join(opt.Builtins, ", ") + ", or an external plugin's path and sha256"}
		}
	}
	for i, name := range cfg.RequiredPlugins {
		if !slices.ContainsFunc(specs, func(s pluginhost.Spec) bool { return s.Name == name }) {
			return nil, &ConfigError{Key: fmt.Sprintf("required_plugins[%d]", i), Problem: fmt.Sprintf("is %q, a plugin this city does not run", name),
				Expected: "the name of a configured plugin"}
		}
	}
	keys, err := LoadKeyFile(cfg.KeyFilePath(), logger)
	if err != nil {
		return nil, err
	}
	unsubscribeKey, err := keys.Derive("notification unsubscribe")
	if err != nil {
		return nil, err
	}
	if n.OIDC, err = cfg.relyingParty(keys, os.Getenv, oidc.Options{HTTPClient: opt.OIDCHTTPClient, Now: db.Clock.Now, Logger: logger}); err != nil {
		return nil, err
	}
	if opt.Claims != nil {
		n.Claims = opt.Claims
	}
	digestHour, digestWeekday := cfg.Notifications.digestSchedule()
	n.Notifications = &sqlstore.NotificationService{DB: db, Settings: sqlstore.NotificationSettings{
		HourlyCap: cfg.Notifications.HourlyCap, Languages: cfg.City.Languages, UnsubscribeKey: unsubscribeKey,
		Zone: cityZone(cfg.City.TimeZone), DigestHour: digestHour, DigestWeekday: digestWeekday,
		CityName: cfg.City.Name, BaseURL: n.PublicURL,
	}}
	messages, err := sdkweb.NewBundle(web.Catalog)
	if err != nil {
		return nil, fmt.Errorf("notification mail: catalog: %w", err)
	}
	n.NotificationMail = &sqlstore.NotificationMail{Service: n.Notifications, Messages: messages}
	if err := n.observe(ctx, opt); err != nil {
		return nil, err
	}
	if err := n.buildMail(opt, enf); err != nil {
		return nil, err
	}
	n.MailQueue.RegisterComposer(core.PurposeNotification, n.NotificationMail)
	n.MailQueue.RegisterComposer(core.PurposeDigest, n.NotificationMail)
	n.Notifications.OnMailQueued = n.MailQueue.Wake
	var sink core.NotificationSink = n.Notifications
	if opt.Notifications != nil {
		sink = opt.Notifications
	}
	host, err := pluginhost.New(pluginhost.Config{
		Plugins: specs, Executable: opt.Executable, DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL,
		StorePrefix: cfg.PluginStorePrefix, RolePrefix: cfg.PluginRolePrefix, PluginMaxConnections: pluginConns, HostVersion: opt.HostVersion, CityTimeZone: cfg.City.TimeZone,
		Languages: cfg.City.Languages, LogLevel: cfg.LogLevel, HealthInterval: opt.PluginHealthInterval,
		RequestTimeout: opt.PluginRequestTimeout, CommandPoll: cfg.PolicyPollInterval.Duration,
		Clock: db.Clock, Keyring: keys, Metrics: n.Metrics, Tracing: n.Tracing, FilterBuiltinHTML: opt.FilterBuiltinHTML,
		Uploads: n.Uploads, Notifications: sink,
	}, &sqlstore.PluginStore{DB: db}, enf, logger)
	if err != nil {
		return nil, err
	}
	n.watch(host)
	host.OnPolicyChange = reload
	n.Plugins = host
	registerFloor := opt.RegisterFloor
	if registerFloor == 0 {
		registerFloor = httpapi.DefaultRegisterFloor
	}
	httpCfg := httpapi.Config{RegisterFloor: max(registerFloor, 0), SecureCookies: cfg.SecureCookies, ProxyHeader: cfg.ProxyHeader, TrustedProxies: cfg.TrustedProxies,
		Metrics: n.Metrics, MetricsHandler: n.publicMetrics(), Tracing: n.Tracing,
		Pages: httpapi.PagesConfig{CityName: cfg.City.Name, Languages: cfg.City.Languages, Zone: cityZone(cfg.City.TimeZone), PublicURL: cfg.PublicURL}}
	if httpCfg.Pages.Brand, err = cityBrand(cfg.City); err != nil {
		return nil, err
	}
	if err := httpapi.CheckConfig(httpCfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	n.Server = httpapi.New(httpapi.Services{
		Identity: n.Identity, Neighbourhoods: n.Neighbourhoods, Organisations: n.Organisations,
		Roles: n.Roles, Audit: n.Audit, Authz: enf, Plugins: host, Uploads: n.Uploads, Mail: n.MailQueue,
		Notifications: n.Notifications, Exports: host,
		OIDC: n.OIDC, ExternalIdentities: n.Identity, Claims: n.Claims,
	}, n, logger, httpCfg)
	return n, nil
}

// Ready reports the configured plugins that are not active, and an error when the
// node should take no traffic: the database does not answer, its schema does not
// match, or a plugin the city requires is neither active nor degraded (degraded
// plugins still serve; their health checks fail).
func (n *Node) Ready(ctx context.Context) ([]core.PluginReadiness, error) {
	var notActive []core.PluginReadiness
	var requiredDown []string
	for _, st := range n.Plugins.Statuses() {
		if st.State == core.PluginActive {
			continue
		}
		req := slices.Contains(n.Config.RequiredPlugins, st.Name)
		notActive = append(notActive, core.PluginReadiness{Name: st.Name, State: st.State, Required: req})
		if req && st.State != core.PluginDegraded {
			requiredDown = append(requiredDown, st.Name)
		}
	}
	if err := n.DB.Ping(ctx); err != nil {
		return notActive, core.Errorf(core.EUNAVAILABLE, "The database does not answer.")
	}
	pending, unknown, err := n.DB.SchemaStatus(ctx)
	if err != nil {
		return notActive, err
	}
	if len(pending) > 0 || len(unknown) > 0 {
		return notActive, core.Errorf(core.EUNAVAILABLE, "The database schema does not match this kvarter.")
	}
	if len(requiredDown) > 0 {
		return notActive, core.Errorf(core.EUNAVAILABLE, "Required plugins are not active: %s.", strings.Join(requiredDown, ", "))
	}
	return notActive, nil
}

// Start opens the listener and the background loops. It returns once serving.
func (n *Node) Start(ctx context.Context) error {
	ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	// Plugins first, so that a node that listens serves its plugins' routes.
	n.Plugins.Start(ctx)
	addr, err := n.Server.Listen(n.Config.Listen)
	if err != nil {
		err = fmt.Errorf("listen on %s: %w", n.Config.Listen, err)
	} else if err = n.listenMetrics(); err != nil {
		_ = n.Server.Shutdown(context.Background())
	}
	if err != nil {
		n.Plugins.Close(context.Background())
		n.cancel()
		return err
	}
	n.addr = addr
	n.listenURL.Store("http://" + addr.String()) // for mail's links; read by request goroutines
	n.done = make(chan struct{})
	every := n.Config.PolicyPollInterval.Duration
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	var loops sync.WaitGroup
	loops.Add(4)
	go func() { defer loops.Done(); n.Authz.Watch(ctx, every) }()
	go func() { defer loops.Done(); n.Identity.RunTouches(ctx) }()
	go func() { defer loops.Done(); n.Notifications.RunDigests(ctx, n.digestCheckInterval) }()
	go func() { defer loops.Done(); n.MailQueue.Run(ctx) }()
	go func() { loops.Wait(); close(n.done) }()
	n.Logger.Info("kvarter is serving", "addr", addr.String(), "database", n.DB.Dialect, "city", n.Config.City.Name)
	return nil
}

// digestCheckInterval is how often a node checks whether a notification digest is due.
const digestCheckInterval = time.Minute

// Addr is the address the node listens on, once started.
func (n *Node) Addr() net.Addr { return n.addr }

// URL is the base URL of a started node.
func (n *Node) URL() string { return "http://" + n.addr.String() }

// Close stops serving, waiting for requests in flight until ctx ends, then closes the
// database.
func (n *Node) Close(ctx context.Context) error {
	var errs []error
	if n.cancel != nil {
		if err := n.Server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown http: %w", err))
		}
		n.Plugins.Close(ctx)
		n.cancel()
		<-n.done
		if n.metricsSrv != nil {
			if err := n.metricsSrv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shutdown metrics: %w", err))
			}
		}
	}
	if n.sender != nil {
		_ = n.sender.Close()
	}
	if err := n.Tracing.Shutdown(ctx); err != nil {
		n.Logger.Warn("tracing: spans not exported at shutdown", "err", err)
	}
	if err := n.DB.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// cityZone is the city's time zone for its pages; the configuration was checked at
// load, so an unknown name cannot reach here, and UTC is only the zero config's.
func cityZone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc
	}
	return time.UTC
}

// cityBrand reads the city's colour and logo for the pages.
func cityBrand(c CityConfig) (*static.Brand, error) {
	var logo []byte
	if c.Logo != "" {
		f, err := os.Open(c.Logo)
		if err != nil {
			return nil, &ConfigError{Key: "city.logo", Problem: "cannot be read: " + err.Error(), Expected: "the path of a PNG, JPEG or SVG file"}
		}
		defer f.Close()
		// One byte beyond the limit tells a file that is too large.
		if logo, err = io.ReadAll(io.LimitReader(f, static.MaxLogoBytes+1)); err != nil {
			return nil, &ConfigError{Key: "city.logo", Problem: "cannot be read: " + err.Error(), Expected: "the path of a PNG, JPEG or SVG file"}
		}
	}
	brand, err := static.NewBrand(c.BrandColour, logo)
	if err != nil {
		return nil, &ConfigError{Key: "city.logo", Problem: strings.TrimPrefix(err.Error(), "logo: "), Expected: "a PNG, JPEG or SVG file of at most 256 KiB"}
	}
	return brand, nil
}
