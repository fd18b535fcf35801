package httpapi

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/web"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
)

// Errors are answered through the SDK's one table (sdk.StatusOf) and in its one shape
// (sdk.ErrorBody), so a client reads the core's errors and every plugin's alike
// (DESIGN.md §7). The core's domain errors (*core.Error) carry the same codes.

// publicError turns err into what the caller may see (sdk.Public), a *core.Error
// taken over as it is.
func publicError(err error) (e *sdk.Error, internal bool) {
	var ce *core.Error
	if errors.As(err, &ce) {
		return &sdk.Error{Code: ce.Code, Message: ce.Message, Fields: ce.Fields, RetryAfterSeconds: ce.RetryAfterSeconds}, false
	}
	return sdk.Public(err)
}

// renderError writes err in the error format. Internal errors are logged with the
// request id and shown without details; a database out of reach is a 503.
func (s *Server) renderError(c *fiber.Ctx, err error) error {
	e, internal := publicError(err)
	switch {
	case internal:
		s.logger.ErrorContext(c.UserContext(), "internal error", "err", err, "method", c.Method(), "path", logPath(c))
	case e.Code == sdk.CodeUnavailable && e.RetryAfterSeconds == 0:
		// The database is down or refusing connections: a passing state, not a bug.
		s.logger.WarnContext(c.UserContext(), "unavailable", "err", err, "method", c.Method(), "path", logPath(c))
	}
	if secs := e.RetryAfter(); secs > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	}
	// An error is about this request only: no cache keeps it.
	c.Set(fiber.HeaderCacheControl, "no-store")
	e = e.InLanguage(requestLanguage(c, principal(c), s.cfg.Pages.Languages))
	return c.Status(e.Status()).JSON(e.Detail(s.errorRequestID(c)))
}

// requestLanguage is the language an answer to the request is worded in, as for the
// pages (i18n.Negotiate): the signed-in person's profile, the language switcher's
// cookie, Accept-Language, then the city's default (English when the city names none).
func requestLanguage(c *fiber.Ctx, p *core.Principal, city []string) string {
	return i18n.Negotiate(p.Locale, c.Cookies(web.LanguageCookie), c.Get(fiber.HeaderAcceptLanguage), city)
}

// errorRequestID is the request's id; a request refused before the middleware gave it
// one (an unreadable header) gets one here, so every error answer has one.
func (s *Server) errorRequestID(c *fiber.Ctx) string {
	if id := requestID(c); id != "" {
		return id
	}
	id := s.newRequestID()
	c.Set(fiber.HeaderXRequestID, id)
	return id
}

// fiberError renders errors raised by Fiber itself (unknown route, wrong method, body
// too large) and by handlers, all in one format. Fiber's own messages are replaced:
// they may quote the parser's internals.
func (s *Server) fiberError(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusNotFound:
			err = core.Errorf(core.ENOTFOUND, "There is no route %s %s.", c.Method(), c.Path())
		case fiber.StatusMethodNotAllowed:
			err = s.methodNotAllowed(c)
		case fiber.StatusRequestEntityTooLarge:
			err = core.Errorf(core.ETOOLARGE, "The request body is larger than this route accepts.")
		case fiber.StatusRequestURITooLong:
			err = core.Errorf(sdk.CodeURITooLong, "The URL is longer than %d characters; no route needs one that long.", maxURL)
		case fiber.StatusRequestHeaderFieldsTooLarge:
			err = core.Errorf(sdk.CodeHeaderTooLarge, "The request's header is larger than %d bytes.", readBufferSize)
		default:
			if fe.Code >= 400 && fe.Code < 500 {
				err = core.Malformed("The request cannot be read as HTTP.")
			}
		}
	}
	return s.renderError(c, err)
}

// serverError answers a request fasthttp could not read (a header beyond the read
// buffer, a body beyond its limit, a broken request line) in the error format, with
// the security headers every answer has. It replaces Fiber's handler, which cannot tell
// a URL too long (414) from a header too large (431).
func (s *Server) serverError(fctx *fasthttp.RequestCtx, err error) {
	c := s.app.AcquireCtx(fctx)
	defer s.app.ReleaseCtx(c)
	var small *fasthttp.ErrSmallBuffer
	var fe error
	switch {
	case errors.As(err, &small) && requestLineOverflows(err):
		fe = fiber.ErrRequestURITooLong
	case errors.As(err, &small):
		fe = fiber.ErrRequestHeaderFieldsTooLarge
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		fe = fiber.ErrRequestEntityTooLarge
	default:
		fe = fiber.ErrBadRequest
	}
	s.setSecurityHeaders(c)
	if herr := s.fiberError(c, fe); herr != nil {
		fctx.Error("bad request", fiber.StatusBadRequest)
	}
}

// requestLineOverflows reports whether a header that did not fit the read buffer
// overflowed in its first line, the request line: then the URL is what is too long.
// fasthttp's error quotes the first 200 bytes it read; without a line break among them
// the request line alone is longer.
func requestLineOverflows(err error) bool {
	_, contents, ok := strings.Cut(err.Error(), "contents: ")
	if !ok {
		return false
	}
	first, _, _ := strings.Cut(contents, `"..."`)
	return !strings.Contains(first, `\n`)
}
