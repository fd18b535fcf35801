package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/valyala/fasthttp"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/web"
	"github.com/kvarter/kvarter/core/web/static"
)

// PagesConfig describes the city to the pages (config city.*); the zero value is
// "Kvarter" in English.
type PagesConfig struct {
	CityName  string
	Languages []string
	// Zone is the city's time zone, for dates on pages; nil is UTC.
	Zone *time.Location
	// Brand is the city's colour and logo (config city.brand_colour, city.logo); nil
	// keeps Kvarter's look.
	Brand *static.Brand
	// PublicURL is the site's address, where identity providers send people back;
	// "" is the request's own.
	PublicURL string
}

// pageRoutes mounts the embedded assets at /static/ and the core's pages (core/web)
// on every path the API and the node's own routes do not take. /api/... keeps answering JSON: an unknown API path
// is the API's 404, never a page.
func (s *Server) pageRoutes() {
	pc := s.cfg.Pages
	opts := web.Options{
		CityName: pc.CityName, Languages: pc.Languages, Zone: pc.Zone,
		SecureCookies: s.cfg.SecureCookies, Logger: s.logger, PublicURL: pc.PublicURL,
	}
	if pc.Brand != nil {
		if css := pc.Brand.Stylesheet(); css != "" {
			opts.Stylesheets = append(static.Stylesheets(), css)
		}
		if logo := pc.Brand.Logo(); logo != "" {
			opts.LogoURL = logo
		}
	}
	pages, err := web.New(web.Services{Identity: s.svc.Identity, Neighbourhoods: s.svc.Neighbourhoods, Organisations: s.svc.Organisations,
		Roles: s.svc.Roles, Audit: s.svc.Audit, Authz: s.svc.Authz, Plugins: s.svc.Plugins, Uploads: s.svc.Uploads,
		Notifications: s.svc.Notifications, Mail: s.svc.Mail,
		OIDC: s.svc.OIDC, ExternalIdentities: s.svc.ExternalIdentities, Claims: s.svc.Claims}, opts)
	if err != nil {
		// The templates and catalogs are embedded: this is a bug caught by the tests.
		panic(err)
	}
	s.app.All(static.Prefix+"*", adaptor.HTTPHandler(static.Handler(pc.Brand)))
	s.app.All("/*", func(c *fiber.Ctx) error {
		path := c.Path()
		if path == "/api" || strings.HasPrefix(path, "/api/") {
			return c.Next()
		}
		if allow := s.coreAllow(path); allow != nil {
			return s.methodNotAllowed(c, allow...) // POST /healthz: the node's route, not a page
		}
		return s.servePage(c, pages)
	})
}

// servePage runs the net/http page handler for the request, with the request's
// context (its id, deadline) and the client's address as the API resolves it.
func (s *Server) servePage(c *fiber.Ctx, h http.Handler) error {
	r, err := pageRequest(c)
	if err != nil {
		return core.Malformed("The request cannot be read as HTTP.")
	}
	// The client's address and scheme as the API knows them: behind a trusted proxy,
	// from its headers (X-Forwarded-For, X-Forwarded-Proto).
	r = r.WithContext(web.WithClient(c.UserContext(), s.clientIP(c), c.Protocol() == "https"))
	w := &pageWriter{header: http.Header{}, resp: c.Response()}
	h.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	for k, vs := range w.header {
		if strings.EqualFold(k, fiber.HeaderContentLength) {
			continue
		}
		for i, v := range vs {
			if i == 0 {
				c.Set(k, v)
			} else {
				c.Response().Header.Add(k, v)
			}
		}
	}
	c.Status(w.status)
	return nil
}

// pageRequest is the net/http request for c, its strings its own. fasthttp keeps the
// method, URL, host and headers in buffers it reuses for the connection's next
// request, and its own adaptor hands them over as strings on those buffers: a page
// that keeps any of them (a cache keyed on a path or a cookie's value) would find it
// changed into another request's later. The body is fasthttp's: the handler reads it
// before it returns. Otherwise the request is what fasthttp's adaptor makes
// (fasthttpadaptor.ConvertRequest), in one pass rather than a conversion and a copy,
// and with the headers' names and values copied into one string and their values
// into one slice: two allocations where a string and a slice a header were a tenth of
// a page's in the node (issue 18).
func pageRequest(c *fiber.Ctx) (*http.Request, error) {
	ctx := c.Context()
	size := len(ctx.Method()) + len(ctx.RequestURI()) + len(ctx.Request.Header.Protocol()) + len(ctx.Request.Header.Host())
	ctx.Request.Header.VisitAll(func(k, v []byte) { size += len(k) + len(v) })
	text := textArena{b: make([]byte, 0, size)}
	method, uri := text.add(ctx.Method()), text.add(ctx.RequestURI())
	proto, host := text.add(ctx.Request.Header.Protocol()), text.add(ctx.Request.Header.Host())
	// Each header's name and value: the last of a repeated header counts, as in the
	// adaptor; Transfer-Encoding keeps them all, apart.
	var spans [24][2]textSpan
	headers, transferEncoding := spans[:0], []textSpan(nil)
	ctx.Request.Header.VisitAll(func(k, v []byte) {
		if string(k) == "Transfer-Encoding" {
			transferEncoding = append(transferEncoding, text.add(v))
			return
		}
		headers = append(headers, [2]textSpan{text.add(k), text.add(v)})
	})
	s := string(text.b)
	u, err := url.ParseRequestURI(uri.of(s))
	if err != nil {
		return nil, err
	}
	body := ctx.PostBody()
	r := &http.Request{
		Method: method.of(s), URL: u, RequestURI: uri.of(s),
		Proto: proto.of(s), ProtoMajor: 1, ProtoMinor: 1,
		Header:        make(http.Header, len(headers)),
		ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body)),
		Host: host.of(s), RemoteAddr: ctx.RemoteAddr().String(), TLS: ctx.TLSConnectionState(),
	}
	if r.Proto == "HTTP/2" {
		r.ProtoMajor = 2
	}
	values := make([]string, len(headers))
	for i, h := range headers {
		// fasthttp writes the names canonical already, and then this copies nothing.
		name := textproto.CanonicalMIMEHeaderKey(h[0].of(s))
		values[i] = h[1].of(s)
		r.Header[name] = values[i : i+1 : i+1]
	}
	for _, te := range transferEncoding {
		r.TransferEncoding = append(r.TransferEncoding, te.of(s))
	}
	return r, nil
}

// textArena gathers a request's bytes to copy into one string; a textSpan is where
// one of them is in it.
type textArena struct{ b []byte }

type textSpan struct{ from, to int }

func (a *textArena) add(b []byte) textSpan {
	from := len(a.b)
	a.b = append(a.b, b...)
	return textSpan{from, len(a.b)}
}

func (sp textSpan) of(s string) string { return s[sp.from:sp.to] }

// pageWriter takes a page's answer: its header to copy into Fiber's response once the
// page is done, its body straight into Fiber's own buffer (the page is drawn into a
// buffer of its own anyway).
type pageWriter struct {
	header http.Header
	status int
	resp   *fasthttp.Response
}

func (w *pageWriter) Header() http.Header { return w.header }

func (w *pageWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *pageWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.resp.AppendBody(b)
	return len(b), nil
}
