package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

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
	w := &pageWriter{header: http.Header{}, body: pageBufs.Get().(*bytes.Buffer)}
	defer func() {
		if w.body.Cap() <= maxPageBuffer { // a huge page's buffer is not worth keeping
			w.body.Reset()
			pageBufs.Put(w.body)
		}
	}()
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
	c.Response().SetBody(w.body.Bytes()) // a copy into Fiber's own pooled buffer
	return nil
}

// pageRequest is the net/http request for c, its strings its own. fasthttp keeps the
// method, URL, host and headers in buffers it reuses for the connection's next
// request, and its own adaptor hands them over as strings on those buffers: a page
// that keeps any of them (a cache keyed on a path or a cookie's value) would find it
// changed into another request's later. The body is fasthttp's: the handler reads it
// before it returns. Otherwise the request is what fasthttp's adaptor makes
// (fasthttpadaptor.ConvertRequest), in one pass rather than a conversion and a copy.
func pageRequest(c *fiber.Ctx) (*http.Request, error) {
	ctx := c.Context()
	uri := string(ctx.RequestURI())
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	body := ctx.PostBody()
	r := &http.Request{
		Method: string(ctx.Method()), URL: u, RequestURI: uri,
		Proto: string(ctx.Request.Header.Protocol()), ProtoMajor: 1, ProtoMinor: 1,
		Header:        make(http.Header, 12), // a browser's usual dozen; counting them costs a pass
		ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body)),
		Host: string(ctx.Host()), RemoteAddr: ctx.RemoteAddr().String(), TLS: ctx.TLSConnectionState(),
	}
	if r.Proto == "HTTP/2" {
		r.ProtoMajor = 2
	}
	ctx.Request.Header.VisitAll(func(k, v []byte) {
		if string(k) == "Transfer-Encoding" {
			r.TransferEncoding = append(r.TransferEncoding, string(v))
			return
		}
		r.Header.Set(string(k), string(v)) // the last of a repeated header, as the adaptor
	})
	return r, nil
}

// pageBufs are the buffers pages are answered from: a page is a few kilobytes,
// answered thousands of times a second.
var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// pageWriter keeps a page's answer to copy into Fiber's response; pages are small
// and rendered into a buffer anyway.
type pageWriter struct {
	header http.Header
	status int
	body   *bytes.Buffer
}

func (w *pageWriter) Header() http.Header { return w.header }

func (w *pageWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// maxPageBuffer bounds the buffers pageBufs keeps.
const maxPageBuffer = 1 << 20

func (w *pageWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
