// Package httpapi serves Kvarter's JSON API over Fiber (DESIGN.md §4, §7). Handlers parse
// the request, call one service and render the result; policy and SQL live elsewhere.
// This is the only package of the core that imports Fiber.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/metrics"
	"github.com/kvarter/kvarter/core/oidc"
	"github.com/kvarter/kvarter/sdk/telemetry"
)

// Services are what the API calls.
type Services struct {
	Identity       core.IdentityService
	Neighbourhoods core.NeighbourhoodService
	Organisations  core.OrganisationService
	Roles          core.RoleService
	Audit          core.AuditService
	Authz          core.Authorizer
	// Plugins manages and routes to plugins; nil when the node runs none.
	Plugins core.PluginService
	// Uploads serves the files plugins' forms received (GET /uploads/{id}); nil
	// when the node keeps none.
	Uploads core.UploadService
	// Notifications serves the person's notifications, preferences and follows and
	// the one-click unsubscribe; nil when the node keeps none.
	Notifications core.NotificationService
	// Mail is the mail queue the admins' page shows; nil without one.
	Mail core.MailQueueService
	// Exports gathers the plugins' sections of a person's export; nil when the node
	// runs no plugins.
	Exports core.PersonalDataExporter
	// OIDC signs people in with the city's identity providers on the pages, and
	// ExternalIdentities keeps their identities; nil OIDC: no provider.
	OIDC               *oidc.RelyingParty
	ExternalIdentities core.ExternalIdentityService
	// Claims acts on a provider's claims after each sign-in; nil: nothing does.
	Claims core.ClaimsService
}

// HealthChecker answers readiness: the plugins that are not active, and an error
// when the node should take no traffic (the database does not answer, its schema is
// not current, or a required plugin is down).
type HealthChecker interface {
	Ready(ctx context.Context) ([]core.PluginReadiness, error)
}

// Config tunes the HTTP server.
type Config struct {
	// BodyLimit is the largest request body accepted, in bytes, unless a plugin's
	// manifest declares another limit for its route (default 1 MiB).
	BodyLimit int
	// SecureCookies forces the Secure attribute on cookies; otherwise it follows TLS.
	SecureCookies bool
	// ProxyHeader names the header carrying the client address behind a trusted proxy
	// (X-Forwarded-For or X-Real-IP). It is read only on requests whose peer is in
	// TrustedProxies (addresses or CIDR ranges, see ParseTrustedProxies); without
	// trusted proxies it is ignored.
	ProxyHeader    string
	TrustedProxies []string
	// RequestTimeout bounds the handling of one request.
	RequestTimeout time.Duration
	// Metrics, when set, records every request by route, status and plugin.
	Metrics *metrics.Metrics
	// MetricsHandler, when set, is served at GET /metrics on this listener (the node
	// sets it only when a token guards it; see node.Config.MetricsToken).
	MetricsHandler http.Handler
	// Tracing, when on, gives every request a span and its trace id as request id.
	Tracing *telemetry.Tracing
	// Pages describes the city to the web pages served outside /api/.
	Pages PagesConfig
	// RegisterFloor is the least time registration takes to answer, through the API
	// and the register page alike, whether the address was new or taken: the work
	// differs by a few milliseconds, which would tell a prober who is registered.
	// Zero answers at once (tests).
	RegisterFloor time.Duration
}

// Server is the HTTP face of the core.
type Server struct {
	app     *fiber.App
	svc     Services
	health  HealthChecker
	logger  *slog.Logger
	cfg     Config
	ln      net.Listener
	plugins PluginRouter
	openapi *openAPIDoc
	conns   connTracker
	reqIDs  *requestIDs
	trust   proxyTrust
	// coreRoutes are the core's handler routes, for metric labels.
	coreRoutes map[routeID]bool
	// templates are the core's paths with their methods, for 405's Allow; publicGets
	// the Fiber paths of the GET routes anyone may use, for ETags (indexMethods).
	templates  []routeTemplate
	publicGets map[string]bool
}

// PluginRouter serves /api/v1/<plugin>/... for the plugin host. Serve reports false when
// no enabled plugin claims the path, so the core can answer 404 itself.
type PluginRouter interface {
	Serve(c *fiber.Ctx, p *core.Principal) (handled bool, err error)
	// OpenAPIPaths returns the paths of every active plugin, merged into the document.
	OpenAPIPaths() map[string]any
	// Owns and OwnsPage report whether a path belongs to a plugin's API or pages,
	// and RequestTimeout bounds one request to a plugin: such requests get that
	// deadline from the start.
	Owns(path string) bool
	OwnsPage(path string) bool
	RequestTimeout() time.Duration
	// Allow lists the methods the plugin routes matching path take (for 405's Allow
	// header), nil when none does.
	Allow(path string) []string
}

// CheckConfig reports a configuration the server cannot use.
func CheckConfig(cfg Config) error {
	_, err := ParseTrustedProxies(cfg.TrustedProxies)
	return err
}

// New builds the server and its routes.
func New(svc Services, health HealthChecker, logger *slog.Logger, cfg Config) *Server {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.RegisterFloor > 0 {
		svc.Identity = flooredRegistration{IdentityService: svc.Identity, floor: cfg.RegisterFloor}
	}
	s := &Server{svc: svc, health: health, logger: logger, cfg: cfg, reqIDs: newRequestIDs()}
	// The node checks trusted_proxies before it builds the server (CheckConfig); an
	// entry that does not parse here trusts nobody rather than everybody.
	if trusted, err := ParseTrustedProxies(cfg.TrustedProxies); err == nil {
		s.trust = proxyTrust{Header: cfg.ProxyHeader, Trusted: trusted}
	}
	if cfg.ProxyHeader != "" && len(s.trust.Trusted) == 0 {
		logger.Warn("proxy_header is set but trusted_proxies is empty: the header is ignored and every client is known by its own address",
			"proxy_header", cfg.ProxyHeader)
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "kvarter",
		BodyLimit:             cfg.BodyLimit,
		DisableStartupMessage: true,
		ErrorHandler:          s.fiberError,
		// The whole request header, request line included, must fit; beyond it the
		// answer is 431 (or 414 for a URL alone that long: serverError).
		ReadBufferSize: readBufferSize,
		// A page goes out in one write with its header: with the default 4 KiB
		// buffer a page of 4 KiB and more (the home page) took two system calls, a
		// third of its cost (issue 16), and with 8 KiB an assembly's page (11 KiB
		// for 24 members) took two, a tenth of its cost in the node (issue 18).
		// Each open connection keeps its buffer: 16 MiB for a thousand.
		WriteBufferSize: 16 << 10,
		ReadTimeout:     30 * time.Second,
		WriteTimeout:    60 * time.Second,
		IdleTimeout:     120 * time.Second,
		// Fiber reads X-Forwarded-Proto and -Host (c.Protocol(), the cookies' Secure
		// flag) only from trusted proxies. ProxyHeader stays empty: Fiber would believe
		// the whole header as the client address; clientIP reads it instead.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.TrustedProxies,
		StrictRouting:           false,
	})
	if svc.Plugins != nil {
		s.plugins = pluginProxy{svc: svc.Plugins, languages: cfg.Pages.Languages}
		s.app.Server().HeaderReceived = s.routeBodyLimit
	}
	s.app.Server().ErrorHandler = s.serverError
	s.routes()
	s.indexRoutes()
	s.indexMethods()
	s.openapi = buildOpenAPI()
	s.app.Server().ConnState = s.conns.track
	return s
}

// connTracker knows which connections are inside a handler. fasthttp's shutdown waits
// for every connection that is not idle, including one blocked reading a request that
// never comes; clients make those routinely (Go's transport keeps a dial that lost a
// race to a freed connection), and one could hold a graceful stop for the whole read
// timeout. Shutdown closes the connections that are not serving a request: there is
// no work on them to finish.
type connTracker struct {
	mu   sync.Mutex
	busy map[net.Conn]int // open connections -> requests being handled on them
}

func (t *connTracker) track(c net.Conn, state fasthttp.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.busy == nil {
		t.busy = make(map[net.Conn]int)
	}
	switch state {
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		delete(t.busy, c)
	default:
		if _, ok := t.busy[c]; !ok {
			t.busy[c] = 0
		}
	}
}

func (t *connTracker) handling(c net.Conn, delta int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.busy[c]; ok {
		t.busy[c] += delta
	}
}

// closeWaiting closes the open connections that are not handling a request.
func (t *connTracker) closeWaiting() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, n := range t.busy {
		if n == 0 {
			_ = c.Close()
			delete(t.busy, c)
		}
	}
}

// markHandling counts the request as in flight on its connection.
func (s *Server) markHandling(c *fiber.Ctx) error {
	conn := c.Context().Conn()
	s.conns.handling(conn, 1)
	defer s.conns.handling(conn, -1)
	return c.Next()
}

// Listen starts serving on addr (host:port; port 0 picks a free one) and returns once
// the socket is open.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	go func() {
		if err := s.app.Listener(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			s.logger.Error("http server stopped", "err", err)
		}
	}()
	return ln.Addr(), nil
}

// Shutdown stops accepting connections and waits for requests in flight, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		// Connections finish their requests and new ones may arrive until the
		// listener is closed: keep closing the waiting ones while fasthttp waits for
		// the busy ones.
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			s.conns.closeWaiting()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return s.app.ShutdownWithContext(ctx)
}

func (s *Server) routes() {
	app := s.app
	app.Use(s.markHandling, s.recoverer, s.requestID, s.logRequests, s.edge)
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	s.metricsRoute()

	api := app.Group("/api/v1", s.apiConventions, s.checkURL, s.authenticate, s.csrf)
	api.Get("/openapi.json", s.getOpenAPI)

	api.Post("/auth/register", s.register)
	api.Post("/auth/login", s.login)
	api.Post("/auth/logout", s.logout)
	api.Post("/auth/verify-email", s.verifyEmail)
	api.Post("/auth/password/forgot", s.forgotPassword)
	api.Post("/auth/password/reset", s.resetPassword)

	api.Get("/me", s.me)
	api.Delete("/me", s.deleteMe)
	api.Post("/me/verify-email", s.resendVerification)
	api.Get("/me/export", s.exportMe)
	api.Get("/me/sessions", s.listSessions)
	api.Delete("/me/sessions/:id", s.revokeSession)
	api.Get("/me/tokens", s.listTokens)
	api.Post("/me/tokens", s.createToken)
	api.Delete("/me/tokens/:id", s.revokeToken)

	api.Get("/me/notifications", s.listNotifications)
	api.Get("/me/notifications/unread-count", s.countUnreadNotifications)
	api.Post("/me/notifications/read", s.markNotificationsRead)
	api.Post("/me/notifications/read-all", s.markAllNotificationsRead)
	api.Get("/me/notification-preferences", s.listNotificationPreferences)
	api.Put("/me/notification-preferences", s.setNotificationPreferences)
	api.Get("/me/follows", s.listFollows)
	api.Delete("/me/follows/:subject", s.unfollow)
	api.Post("/notifications/unsubscribe", s.unsubscribe)

	api.Get("/neighbourhoods", s.listNeighbourhoods)
	api.Post("/neighbourhoods", s.createNeighbourhood)
	api.Get("/neighbourhoods/:id", s.getNeighbourhood)
	api.Patch("/neighbourhoods/:id", s.updateNeighbourhood)
	api.Post("/neighbourhoods/:id/memberships", s.requestMembership)
	api.Get("/neighbourhoods/:id/memberships", s.listMemberships)
	api.Delete("/neighbourhoods/:id/memberships/me", s.leaveNeighbourhood)
	api.Post("/neighbourhoods/:id/memberships/:userID/approve", s.approveMembership)
	api.Post("/neighbourhoods/:id/memberships/:userID/reject", s.rejectMembership)
	api.Post("/neighbourhoods/:id/memberships/:userID/revoke", s.revokeMembership)
	api.Post("/admin/memberships/import", s.importMemberships)

	api.Get("/organisations", s.listOrganisations)
	api.Post("/organisations", s.createOrganisation)
	api.Get("/organisations/:id", s.getOrganisation)
	api.Post("/organisations/:id/verify", s.verifyOrganisation)
	api.Post("/organisations/:id/reject", s.rejectOrganisation)
	api.Get("/organisations/:id/members", s.listOrganisationMembers)
	api.Post("/organisations/:id/members", s.addOrganisationMember)
	api.Delete("/organisations/:id/members/:userID", s.removeOrganisationMember)

	api.Get("/users", s.searchUsers)
	api.Get("/users/:id", s.getUser)

	api.Get("/roles/grants", s.listGrants)
	api.Post("/roles/grants", s.grantRole)
	api.Delete("/roles/grants", s.revokeRole)

	api.Get("/admin/audit", s.listAudit)

	api.Get("/admin/plugins", s.listPlugins)
	api.Post("/admin/plugins/:name/enable", s.enablePlugin)
	api.Post("/admin/plugins/:name/disable", s.disablePlugin)
	api.Post("/admin/plugins/:name/restart", s.restartPlugin)

	// Everything else under /api/v1 may belong to a plugin.
	api.All("/*", s.pluginRoute)

	s.pageRoutes()
}

// pluginRoute serves what no core route took: a plugin's route, or a 405 for a core
// path asked with a method it does not take, or a 404.
func (s *Server) pluginRoute(c *fiber.Ctx) error {
	if s.plugins != nil {
		handled, err := s.plugins.Serve(c, principal(c))
		if core.ErrorCode(err) == core.ENOTFOUND {
			if allow := s.plugins.Allow(c.Path()); allow != nil {
				return s.methodNotAllowed(c, allow...)
			}
		}
		if handled || err != nil {
			return err
		}
	}
	if allow := s.coreAllow(c.Path()); allow != nil {
		return s.methodNotAllowed(c, allow...)
	}
	return core.Errorf(core.ENOTFOUND, "There is no API route %s %s.", c.Method(), c.Path())
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "alive"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	notActive, err := s.health.Ready(ctx)
	if notActive == nil {
		notActive = []core.PluginReadiness{}
	}
	if err != nil {
		s.logger.WarnContext(ctx, "not ready", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "not_ready", "reason": core.ErrorMessage(err), "plugins_not_active": notActive})
	}
	return c.JSON(fiber.Map{"status": "ready", "plugins_not_active": notActive})
}
