package httpapi

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// The HTTP conventions of DESIGN.md §7, applied once here for the core's routes and every
// plugin's alike: security headers on every answer, HEAD wherever GET works, 405 with
// Allow, 414 and 431 for oversized URLs and headers, ETag and 304 on public GET answers,
// Cache-Control: no-store on everything personal, gzip for large answers.

const (
	// readBufferSize bounds a request's header as a whole (request line included):
	// beyond it fasthttp refuses the request, answered 431 (or 414, see serverError).
	readBufferSize = 8 << 10
	// maxURL is the longest URL (path and query) any route takes: 414 beyond it.
	maxURL = 4 << 10
	// gzipMinBytes is the smallest answer worth compressing: below one network packet
	// compression saves no round trip and costs CPU on every request.
	gzipMinBytes = 1400
)

// Header names and values as fasthttp stores them, so that setting them on every
// answer copies bytes instead of normalising strings.
var (
	hdrNosniff        = []byte(fiber.HeaderXContentTypeOptions)
	valNosniff        = []byte("nosniff")
	hdrReferrerPolicy = []byte(fiber.HeaderReferrerPolicy)
	valNoReferrer     = []byte("no-referrer")
	hdrHSTS           = []byte(fiber.HeaderStrictTransportSecurity)
	valHSTS           = []byte("max-age=31536000; includeSubDomains")
	hdrCacheControl   = []byte(fiber.HeaderCacheControl)
	valNoStore        = []byte("no-store")
)

// setSecurityHeaders puts the headers every answer carries: no content sniffing, no
// referrer leaving the site, and HSTS when the city serves over HTTPS only.
func (s *Server) setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	h.SetCanonical(hdrNosniff, valNosniff)
	h.SetCanonical(hdrReferrerPolicy, valNoReferrer)
	if s.cfg.SecureCookies {
		h.SetCanonical(hdrHSTS, valHSTS)
	}
}

// edge runs first on every route, in one step because each middleware costs every
// request a turn of Fiber's stack: the security headers, and 414 for a URL longer than
// any route needs (one longer than the whole header may be is refused by fasthttp
// before, see serverError).
func (s *Server) edge(c *fiber.Ctx) error {
	s.setSecurityHeaders(c)
	if len(c.Request().RequestURI()) > maxURL {
		return fiber.ErrRequestURITooLong
	}
	return c.Next()
}

// apiConventions runs around every /api/v1 request, core and plugin alike: it answers
// errors in the error format itself (so that it sees the final answer), then sets
// caching headers, answers 304 to a matching conditional GET of a public route, and
// compresses a large answer.
func (s *Server) apiConventions(c *fiber.Ctx) error {
	if err := c.Next(); err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	resp := &c.Response().Header
	status := c.Response().StatusCode()
	get := c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead
	switch {
	case len(resp.Peek(fiber.HeaderCacheControl)) > 0:
		// The handler (a plugin, say) decided.
	case status == fiber.StatusOK && get && s.publicRoute(c):
		// Anyone may see it: caches may keep it but must ask again (ETag), and an
		// answer to a signed-in person stays in their own browser's cache.
		if principal(c).Authenticated() {
			resp.Set(fiber.HeaderCacheControl, "private, no-cache")
		} else {
			resp.Set(fiber.HeaderCacheControl, "no-cache")
		}
		if s.notModified(c) {
			return nil
		}
	default:
		// Personal answers (sign-in, /me, anything behind a permission) and errors.
		resp.SetCanonical(hdrCacheControl, valNoStore)
	}
	compress(c)
	return nil
}

// publicRoute reports whether the request took a route anyone may use: a plugin route
// declared public in its manifest, or one of the core's public operations.
func (s *Server) publicRoute(c *fiber.Ctx) bool {
	if r, ok := c.Locals(localPluginRequest).(*core.PluginRequest); ok {
		return r.Route != "" && r.Permission == sdk.PermPublic
	}
	return s.publicGets[c.Route().Path]
}

// notModified gives the answer a weak ETag of its body (weak: gzip may change the
// bytes, not the meaning) unless it has one, and turns it into a 304 without a body
// when the request's If-None-Match names it, or, without If-None-Match, when its
// If-Modified-Since is not before the answer's own Last-Modified.
func (s *Server) notModified(c *fiber.Ctx) bool {
	resp := &c.Response().Header
	etag := string(resp.Peek(fiber.HeaderETag))
	if etag == "" {
		etag = weakETag(c.Response().Body())
		resp.Set(fiber.HeaderETag, etag)
	}
	match := false
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" {
		match = etagListMatches(inm, etag)
	} else if ims := c.Get(fiber.HeaderIfModifiedSince); ims != "" {
		lm, err1 := http.ParseTime(string(resp.Peek(fiber.HeaderLastModified)))
		since, err2 := http.ParseTime(ims)
		match = err1 == nil && err2 == nil && !lm.Truncate(time.Second).After(since)
	}
	if !match {
		return false
	}
	c.Status(fiber.StatusNotModified)
	c.Response().ResetBody()
	resp.Del(fiber.HeaderContentType)
	return true
}

// castagnoli is the CRC-32C table; the CPU computes it (SSE 4.2, ARMv8 CRC).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// weakETag names a body by its length and two CRC-32s (Castagnoli and IEEE, both
// computed by the CPU's own instructions): any accidental change of the body changes the
// tag, at a fifth of SHA-256's cost on a 32 KiB calendar. An ETag only saves a
// transfer and a public answer is the same for everyone, so a contrived collision gains
// nobody anything; every node computes the same tag.
func weakETag(body []byte) string {
	var sums [8]byte
	binary.BigEndian.PutUint32(sums[0:4], crc32.Checksum(body, castagnoli))
	binary.BigEndian.PutUint32(sums[4:8], crc32.ChecksumIEEE(body))
	return `W/"` + strconv.FormatInt(int64(len(body)), 16) + "-" + hex.EncodeToString(sums[:]) + `"`
}

// etagListMatches is If-None-Match's weak comparison: "*" or any listed tag equal to
// etag once the W/ prefixes are set aside.
func etagListMatches(list, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// compress gzips an answer of at least gzipMinBytes of text or JSON when the client
// accepts gzip; every such answer says it varies with Accept-Encoding, so caches keep
// the two forms apart.
func compress(c *fiber.Ctx) {
	resp := c.Response()
	if len(resp.Body()) < gzipMinBytes || len(resp.Header.ContentEncoding()) > 0 || !compressible(resp.Header.ContentType()) {
		return
	}
	resp.Header.Add(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if c.Method() == fiber.MethodHead || !acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		return
	}
	fasthttp.CompressHandlerLevel(func(*fasthttp.RequestCtx) {}, fasthttp.CompressBestSpeed)(c.Context())
}

func compressible(contentType []byte) bool {
	return bytes.HasPrefix(contentType, []byte("application/json")) || bytes.HasPrefix(contentType, []byte("text/"))
}

// acceptsGzip reads Accept-Encoding: gzip listed without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// routeTemplate is one of the core's paths with the methods it takes.
type routeTemplate struct {
	segs    []string // literal segments, or "" for a parameter
	methods []string
}

// indexMethods records which methods each of the core's paths takes, for 405's Allow,
// and which GET routes are public, from the OpenAPI operations.
func (s *Server) indexMethods() {
	byPath := map[string]*routeTemplate{}
	var order []string
	for _, r := range s.app.GetRoutes(true) {
		if strings.HasSuffix(r.Path, "/*") {
			continue
		}
		t := byPath[r.Path]
		if t == nil {
			t = &routeTemplate{}
			for _, seg := range strings.Split(strings.Trim(r.Path, "/"), "/") {
				if strings.HasPrefix(seg, ":") {
					seg = ""
				}
				t.segs = append(t.segs, seg)
			}
			byPath[r.Path] = t
			order = append(order, r.Path)
		}
		if !slices.Contains(t.methods, r.Method) {
			t.methods = append(t.methods, r.Method)
		}
	}
	for _, p := range order {
		s.templates = append(s.templates, *byPath[p])
	}
	s.publicGets = map[string]bool{}
	for _, op := range operations {
		if op.method == fiber.MethodGet && op.auth == "public" {
			s.publicGets[fiberPath(op.path)] = true
		}
	}
}

// fiberPath writes an OpenAPI path template ("/a/{id}") as Fiber does ("/a/:id").
func fiberPath(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") {
			segs[i] = ":" + strings.Trim(seg, "{}")
		}
	}
	return strings.Join(segs, "/")
}

// coreAllow lists the methods the core takes on path, sorted; nil when no core route
// has that path.
func (s *Server) coreAllow(path string) []string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for _, t := range s.templates {
		if len(t.segs) != len(segs) {
			continue
		}
		ok := true
		for i, seg := range t.segs {
			if seg != "" && seg != segs[i] || seg == "" && segs[i] == "" {
				ok = false
				break
			}
		}
		if ok {
			for _, m := range t.methods {
				if !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// methodNotAllowed answers a known path asked with a method it does not take: 405 with
// Allow listing the ones it does (DESIGN.md §7).
func (s *Server) methodNotAllowed(c *fiber.Ctx, allow ...string) error {
	if allow == nil {
		allow = s.coreAllow(c.Path())
	}
	c.Set(fiber.HeaderAllow, strings.Join(allow, ", "))
	return core.Errorf(sdk.CodeMethodNotAllowed, "%s does not take %s; it takes %s.", c.Path(), c.Method(), strings.Join(allow, ", "))
}
