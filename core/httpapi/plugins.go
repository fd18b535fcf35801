package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/kvarter/kvarter/core"
)

// pluginProxy adapts the plugin host (which knows nothing of Fiber) to PluginRouter:
// it copies the request out of fasthttp's reused buffers before the host forwards it.
type pluginProxy struct {
	svc core.PluginService
	// languages are the city's, its default first: the plugin answers an API error in
	// the requester's language among them (requestLanguage).
	languages []string
}

func (pp pluginProxy) Serve(c *fiber.Ctx, p *core.Principal) (bool, error) {
	path := c.Path()
	if !pp.svc.Owns(path) {
		return false, nil
	}
	method := c.Method()
	if method == fiber.MethodHead {
		// HEAD wherever GET works: the plugin answers the GET, fasthttp sends no body.
		method = fiber.MethodGet
	}
	req := &core.PluginRequest{
		Method:   method,
		Path:     string([]byte(path)),
		RawQuery: string(c.Request().URI().QueryString()),
		Header:   make(http.Header, c.Request().Header.Len()),
		Body:     append([]byte(nil), c.Body()...),
		Language: requestLanguage(c, p, pp.languages),
	}
	// fasthttp hands over canonical names (the host canonicalises again in case). The
	// credentials the core has consumed are not even copied; the host strips every
	// other identity header.
	c.Request().Header.VisitAll(func(k, v []byte) {
		name, ok := commonHeaders[string(k)]
		if !ok {
			name = string(k)
		}
		if name == fiber.HeaderAuthorization || name == fiber.HeaderCookie {
			return
		}
		req.Header[name] = append(req.Header[name], string(v))
	})
	c.Locals(localPluginRequest, req) // the host names the route it matched, for metrics
	resp, err := pp.svc.Serve(c.UserContext(), p, req)
	if err != nil {
		return true, err
	}
	for k, vs := range resp.Header {
		for i, v := range vs {
			if i == 0 {
				c.Set(k, v)
			} else {
				c.Append(k, v)
			}
		}
	}
	c.Status(resp.Status)
	return true, c.Send(resp.Body)
}

// commonHeaders interns the names most requests carry, so copying a request does not
// allocate them again each time.
var commonHeaders = func() map[string]string {
	m := map[string]string{}
	for _, h := range []string{
		fiber.HeaderHost, fiber.HeaderAccept, fiber.HeaderAcceptLanguage, fiber.HeaderAcceptEncoding,
		fiber.HeaderUserAgent, fiber.HeaderContentType, fiber.HeaderContentLength, fiber.HeaderOrigin,
		fiber.HeaderReferer, fiber.HeaderIfNoneMatch, fiber.HeaderIfModifiedSince, fiber.HeaderXForwardedFor,
		fiber.HeaderXForwardedProto, fiber.HeaderXRequestID, fiber.HeaderAuthorization, fiber.HeaderCookie,
	} {
		m[h] = h
	}
	return m
}()

// routeBodyLimit gives a plugin route (API or page) the body limit its manifest
// declares. fasthttp asks once the request's header is read and before it reads the
// body, so a body over the route's limit is refused with 413 without being buffered,
// and one that a route declares room for (an upload) is not cut at the core's limit.
func (s *Server) routeBodyLimit(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	uri := h.RequestURI()
	var path []byte
	switch {
	case bytes.HasPrefix(uri, []byte("/")):
		// The usual request line: the path as Fiber routes it (PathOriginal) ends at
		// the query or fragment.
		path = uri
		if i := bytes.IndexAny(uri, "?#"); i >= 0 {
			path = uri[:i]
		}
	default:
		// An absolute URI ("http://host/api/v1/..."): let fasthttp take it apart.
		u := fasthttp.AcquireURI()
		defer fasthttp.ReleaseURI(u)
		if err := u.Parse(nil, uri); err != nil {
			return fasthttp.RequestConfig{}
		}
		path = u.PathOriginal()
	}
	return fasthttp.RequestConfig{MaxRequestBodySize: s.svc.Plugins.BodyLimit(methodName(h.Method()), string(path))}
}

// methodName returns the method without allocating for the ones plugin routes use.
func methodName(m []byte) string {
	for _, known := range []string{fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete} {
		if string(m) == known {
			return known
		}
	}
	return string(m)
}

func (pp pluginProxy) OpenAPIPaths() map[string]any { return pp.svc.OpenAPIPaths() }

func (pp pluginProxy) Owns(path string) bool { return pp.svc.Owns(path) }

func (pp pluginProxy) OwnsPage(path string) bool { return pp.svc.OwnsPage(path) }

func (pp pluginProxy) Allow(path string) []string { return pp.svc.Allow(path) }

func (pp pluginProxy) RequestTimeout() time.Duration { return pp.svc.RequestTimeout() }

func (s *Server) pluginService() (core.PluginService, error) {
	if s.svc.Plugins == nil {
		return nil, core.Errorf(core.ENOTFOUND, "This node runs no plugins.")
	}
	return s.svc.Plugins, nil
}

func (s *Server) listPlugins(c *fiber.Ctx) error {
	svc, err := s.pluginService()
	if err != nil {
		return err
	}
	pg, err := page(c)
	if err != nil {
		return err
	}
	all, err := svc.ListPlugins(c.UserContext())
	if err != nil {
		return err
	}
	items, next, err := pluginPage(all, pg)
	if err != nil {
		return err
	}
	return list(c, items, next)
}

// pluginAction runs one operator action, given as a method expression of
// core.PluginService, on the plugin named in the path.
func (s *Server) pluginAction(c *fiber.Ctx, act func(core.PluginService, context.Context, string) (*core.PluginStatus, error)) error {
	svc, err := s.pluginService()
	if err != nil {
		return err
	}
	st, err := act(svc, c.UserContext(), c.Params("name"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) enablePlugin(c *fiber.Ctx) error {
	return s.pluginAction(c, core.PluginService.EnablePlugin)
}

func (s *Server) disablePlugin(c *fiber.Ctx) error {
	return s.pluginAction(c, core.PluginService.DisablePlugin)
}

func (s *Server) restartPlugin(c *fiber.Ctx) error {
	return s.pluginAction(c, core.PluginService.RestartPlugin)
}

// pluginPage is one page of the configured plugins by name: the cursor holds the last
// name shown, so a plugin configured meanwhile neither repeats nor hides another.
func pluginPage(all []core.PluginStatus, pg core.Page) ([]core.PluginStatus, string, error) {
	after := ""
	if pg.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(pg.Cursor)
		if err != nil {
			return nil, "", core.MalformedField("cursor", "is not a cursor this list gave; start again without it")
		}
		after = string(b)
	}
	sorted := slices.SortedFunc(slices.Values(all), func(a, b core.PluginStatus) int { return strings.Compare(a.Name, b.Name) })
	i, _ := slices.BinarySearchFunc(sorted, after, func(p core.PluginStatus, name string) int {
		if p.Name <= name {
			return -1
		}
		return 1
	})
	rest := sorted[i:]
	if len(rest) <= pg.Limit {
		return rest, "", nil
	}
	rest = rest[:pg.Limit]
	return rest, base64.RawURLEncoding.EncodeToString([]byte(rest[len(rest)-1].Name)), nil
}
