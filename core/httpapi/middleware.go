package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/trace"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/web"
)

// Cookie names. The session cookie is the pages' own (core/web): one sign-in serves the
// site and the API. Over HTTPS it carries the __Host- prefix, which a browser keeps
// only from a secure origin, for the whole host and no subdomain.
const (
	SessionCookie       = web.SessionCookie
	SecureSessionCookie = web.SecureSessionCookie
	CSRFCookie          = "kvarter_csrf"
	CSRFHeader          = "X-CSRF-Token"
)

const (
	localPrincipal = "kvarter.principal"
	localViaCookie = "kvarter.via_cookie"
	localToken     = "kvarter.token"
	// localUpstreamID holds the request id a trusted proxy sent, logged beside ours.
	localUpstreamID = "kvarter.upstream_request_id"
)

func requestID(c *fiber.Ctx) string {
	return core.RequestIDFrom(c.UserContext())
}

func principal(c *fiber.Ctx) *core.Principal {
	if p, ok := c.Locals(localPrincipal).(*core.Principal); ok {
		return p
	}
	return &core.Principal{}
}

// requestID gives every request the node's own id, echoed in X-Request-ID and carried
// by the context into every log line, audit entry and plugin request. An id the client
// sent is never used: a client could otherwise make its requests share an id with
// someone else's in the audit log, or feed plugins a value they take as the host's.
// A well-formed id from a trusted proxy is logged beside it, so traces still join up.
//
// With tracing on, the request's id is the trace id, so that an error answer's
// request_id finds the trace and every log line of the request. The trace is the
// caller's (traceparent) only behind a trusted proxy; any other client's request
// starts a new trace, so a client can no more choose the id this way (startSpan).
func (s *Server) requestID(c *fiber.Ctx) error {
	base := context.Background()
	var id string
	if s.cfg.Tracing.Enabled() {
		var span trace.Span
		base, span = s.startSpan(c)
		defer s.endSpan(c, span)
		id = span.SpanContext().TraceID().String()
	} else {
		id = s.newRequestID()
	}
	c.Set(fiber.HeaderXRequestID, id)
	if up := c.Get(fiber.HeaderXRequestID); up != "" && validRequestID(up) && s.fromTrustedProxy(c) {
		c.Locals(localUpstreamID, up)
	}
	// A request for a plugin (its API or its pages) gets the plugin host's shorter
	// deadline here, so that it runs one timer, not two.
	timeout := s.cfg.RequestTimeout
	if s.plugins != nil {
		if t := s.plugins.RequestTimeout(); t < timeout && (s.plugins.Owns(c.Path()) || s.plugins.OwnsPage(c.Path())) {
			timeout = t
		}
	}
	ctx, cancel := context.WithTimeout(core.WithRequestID(base, id), timeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// requestIDs makes request IDs: a random prefix per process and a counter. They need
// to be unique across nodes and restarts, not unguessable, so a request does not pay
// for a call into the kernel's random source.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:])}
}

func (s *Server) newRequestID() string {
	var buf [48]byte
	b := append(buf[:0], s.reqIDs.prefix...)
	return string(strconv.AppendUint(b, s.reqIDs.n.Add(1), 36))
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// logPath is the request's path as logs show it. A plugin's path may carry a secret (a
// volunteer's calendar feed token) or personal ids, so a plugin route is logged by its
// template, never its values; the core's own paths carry neither.
func logPath(c *fiber.Ctx) string {
	if r, ok := c.Locals(localPluginRequest).(*core.PluginRequest); ok && r.Route != "" {
		return r.Route
	}
	return c.Path()
}

func (s *Server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	if s.cfg.Metrics != nil {
		s.observe(c, status, time.Since(start))
	}
	if status >= 500 || c.Path() != "/healthz" && c.Path() != "/readyz" {
		attrs := []slog.Attr{slog.String("method", c.Method()), slog.String("path", logPath(c)), slog.Int("status", status),
			slog.Duration("duration", time.Since(start))}
		if up, ok := c.Locals(localUpstreamID).(string); ok {
			attrs = append(attrs, slog.String("upstream_request_id", up))
		}
		s.logger.LogAttrs(c.UserContext(), levelFor(status), "request", attrs...)
	}
	return nil
}

func (s *Server) recoverer(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.ErrorContext(c.UserContext(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// authenticate resolves a bearer token or the session cookie to a principal. A request
// with neither is anonymous; one with a bad bearer token is refused, so that a script
// never silently acts as nobody.
func (s *Server) authenticate(c *fiber.Ctx) error {
	token, viaCookie := "", false
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, value, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || value == "" {
			return core.Errorf(core.EUNAUTHENTICATED, "The Authorization header must be \"Bearer <token>\".")
		}
		token = strings.TrimSpace(value)
	} else if v := c.Cookies(SecureSessionCookie); v != "" {
		token, viaCookie = v, true
	} else if v := c.Cookies(SessionCookie); v != "" {
		token, viaCookie = v, true
	}
	if token == "" {
		c.Locals(localPrincipal, &core.Principal{})
		return c.Next()
	}
	p, err := s.svc.Identity.Authenticate(c.UserContext(), token)
	if err != nil {
		// A stale cookie is a browser that was signed in once: clear it and carry on as
		// anonymous, so public pages keep working. A bad bearer token is a script's
		// mistake and is refused outright.
		if viaCookie && core.ErrorCode(err) == core.EUNAUTHENTICATED {
			s.clearSessionCookies(c)
			c.Locals(localPrincipal, &core.Principal{})
			return c.Next()
		}
		return err
	}
	if p.ReadOnly && !safeMethod(c.Method()) {
		// Refused here, before any route, core or plugin, sees the request.
		return core.Errorf(core.EFORBIDDEN, "This API token may only read. Create a token with full access to make changes.")
	}
	c.Locals(localPrincipal, p)
	c.Locals(localViaCookie, viaCookie)
	c.Locals(localToken, token)
	c.SetUserContext(core.WithPrincipal(c.UserContext(), p))
	return c.Next()
}

// safeMethod reports whether an HTTP method only reads (RFC 9110 §9.2.1).
func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// csrf guards unsafe requests authenticated by cookie twice: the browser must say the
// request comes from this origin (Fetch Metadata, else Origin against Host — the
// algorithm of Go's http.CrossOriginProtection, as for the pages; DESIGN §10), and it
// must carry the anti-forgery token. Bearer tokens are not sent by browsers on their
// own, so they need neither.
func (s *Server) csrf(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if via, _ := c.Locals(localViaCookie).(bool); !via {
		return c.Next()
	}
	probe := &http.Request{Method: c.Method(), Host: string(c.Request().Host()), Header: http.Header{}}
	for _, h := range []string{"Sec-Fetch-Site", fiber.HeaderOrigin} {
		if v := c.Get(h); v != "" {
			probe.Header.Set(h, v)
		}
	}
	if crossOrigin.Check(probe) != nil {
		return core.Errorf(core.EFORBIDDEN, "This request comes from another site, and a browser's session may not be used from there.")
	}
	token, _ := c.Locals(localToken).(string)
	if !core.CheckCSRF(token, c.Get(CSRFHeader)) {
		return core.Errorf(core.EFORBIDDEN, "This request needs the %s header with the value of the %s cookie.", CSRFHeader, CSRFCookie)
	}
	return c.Next()
}

// crossOrigin is the pages' check (Go's http.CrossOriginProtection) for the API's
// cookie-authenticated requests.
var crossOrigin = http.NewCrossOriginProtection()

func (s *Server) secure(c *fiber.Ctx) bool { return s.cfg.SecureCookies || c.Protocol() == "https" }

// sessionCookie is the session cookie's name for this request: prefixed over HTTPS.
func (s *Server) sessionCookie(c *fiber.Ctx) string {
	if s.secure(c) {
		return SecureSessionCookie
	}
	return SessionCookie
}

func (s *Server) setSessionCookies(c *fiber.Ctx, token, csrf string, expires time.Time) {
	c.Cookie(&fiber.Cookie{Name: s.sessionCookie(c), Value: token, Path: "/", Expires: expires, HTTPOnly: true, Secure: s.secure(c), SameSite: fiber.CookieSameSiteLaxMode})
	// The anti-forgery cookie is readable by the page's script on purpose.
	c.Cookie(&fiber.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Expires: expires, HTTPOnly: false, Secure: s.secure(c), SameSite: fiber.CookieSameSiteLaxMode})
}

func (s *Server) clearSessionCookies(c *fiber.Ctx) {
	past := time.Unix(0, 0)
	c.Cookie(&fiber.Cookie{Name: s.sessionCookie(c), Value: "", Path: "/", Expires: past, HTTPOnly: true, Secure: s.secure(c), SameSite: fiber.CookieSameSiteLaxMode})
	c.Cookie(&fiber.Cookie{Name: CSRFCookie, Value: "", Path: "/", Expires: past, Secure: s.secure(c), SameSite: fiber.CookieSameSiteLaxMode})
}

// levelFor logs failures louder than successes, so a busy node's log shows problems.
func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
