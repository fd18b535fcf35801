package static

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoad_Embedded(t *testing.T) {
	b, err := load(embedded)
	if err != nil {
		t.Fatalf("the embedded files do not load: %v", err)
	}
	for _, name := range []string{HTMX, DesignsystemetCSS, DesignsystemetTheme, KvarterCSS} {
		if _, ok := b.files[name]; !ok {
			t.Errorf("%s is not embedded", name)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(b.hash) {
		t.Errorf("hash %q is not 16 hex digits", b.hash)
	}
	// Go source never ships as a static file.
	for name := range b.files {
		if strings.HasSuffix(name, ".go") {
			t.Errorf("%s is embedded and would be served", name)
		}
	}
}

func TestLoad_Hash(t *testing.T) {
	base := func() fstest.MapFS {
		return fstest.MapFS{
			"a.css":            {Data: []byte("a{}")},
			"vendor/x/b.js":    {Data: []byte("b()")},
			"vendor/x/LICENSE": {Data: []byte("MIT")},
		}
	}
	b1, err := load(base())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := load(base())
	if b1.hash != again.hash {
		t.Errorf("the same files hash to %s and %s", b1.hash, again.hash)
	}
	t.Run("ContentChanges", func(t *testing.T) {
		fsys := base()
		fsys["vendor/x/b.js"] = &fstest.MapFile{Data: []byte("b();")}
		b2, _ := load(fsys)
		if b2.hash == b1.hash {
			t.Error("changing a file's content kept the hash: browsers would keep the old file for a year")
		}
	})
	t.Run("NameChanges", func(t *testing.T) {
		fsys := base()
		fsys["vendor/x/c.js"] = fsys["vendor/x/b.js"]
		delete(fsys, "vendor/x/b.js")
		b2, _ := load(fsys)
		if b2.hash == b1.hash {
			t.Error("renaming a file kept the hash")
		}
	})
}

func TestLoad_Refuses(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"empty":           {},
		"unknown type":    {"a.exe": {Data: []byte("MZ")}},
		"no extension":    {"README": {Data: []byte("x")}},
		"dot file":        {".htaccess": {Data: []byte("x")}},
		"dot folder":      {".git/config": {Data: []byte("x")}},
		"space":           {"a b.css": {Data: []byte("x")}},
		"percent":         {"a%2e.css": {Data: []byte("x")}},
		"non-ascii":       {"ä.css": {Data: []byte("x")}},
		"scoped npm name": {"@digdir/x.css": {Data: []byte("x")}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := load(fsys); err == nil {
				t.Errorf("load accepted %v", fsys)
			}
		})
	}
}

// server serves the embedded bundle the way the frame will: over real HTTP.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler(nil))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// A bare transport: http.DefaultTransport would ask for gzip itself and
	// decompress transparently, hiding what the handler sent.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandler_ServeHTTP(t *testing.T) {
	srv := server(t)
	b := embeddedBundle()

	t.Run("OK", func(t *testing.T) {
		for name, f := range b.files {
			resp := get(t, srv.URL+URL(name), nil)
			got := body(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", name, resp.StatusCode)
			}
			if !bytes.Equal(got, f.body) {
				t.Errorf("%s: body differs from the embedded file", name)
			}
			for k, want := range map[string]string{
				"Cache-Control":          "public, max-age=31536000, immutable",
				"Content-Type":           f.contentType,
				"X-Content-Type-Options": "nosniff",
				"Content-Length":         fmt.Sprint(len(f.body)),
				"ETag":                   f.etag,
				"Content-Encoding":       "",
			} {
				if g := resp.Header.Get(k); g != want {
					t.Errorf("%s: %s = %q, want %q", name, k, g, want)
				}
			}
		}
	})

	t.Run("ContentType", func(t *testing.T) {
		for name, want := range map[string]string{
			HTMX:                      "text/javascript; charset=utf-8",
			KvarterCSS:                "text/css; charset=utf-8",
			DesignsystemetCSS:         "text/css; charset=utf-8",
			DesignsystemetTheme:       "text/css; charset=utf-8",
			"vendor/htmx.org/LICENSE": "text/plain; charset=utf-8",
			"vendor/VERSIONS":         "text/plain; charset=utf-8",
		} {
			if got := get(t, srv.URL+URL(name), nil).Header.Get("Content-Type"); got != want {
				t.Errorf("%s: Content-Type %q, want %q", name, got, want)
			}
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodHead, srv.URL+URL(KvarterCSS), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(b.files[KvarterCSS].body)) {
			t.Errorf("HEAD: status %d, length %d", resp.StatusCode, resp.ContentLength)
		}
		if n, _ := io.Copy(io.Discard, resp.Body); n != 0 {
			t.Errorf("HEAD sent %d bytes of body", n)
		}
	})

	t.Run("Gzip", func(t *testing.T) {
		f := b.files[HTMX]
		if f.gz == nil {
			t.Fatal("htmx.min.js is not precompressed")
		}
		resp := get(t, srv.URL+URL(HTMX), map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
		raw := body(t, resp)
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Content-Encoding %q, Vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
		}
		if len(raw) >= len(f.body) || resp.Header.Get("Content-Length") != fmt.Sprint(len(raw)) {
			t.Errorf("gzip body %d bytes (Content-Length %s) for %d plain", len(raw), resp.Header.Get("Content-Length"), len(f.body))
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, f.body) {
			t.Errorf("gzip body does not decompress to the file (err %v)", err)
		}
		if resp.Header.Get("ETag") == f.etag {
			t.Error("the gzip answer reuses the plain answer's strong ETag")
		}
		// Without gzip in Accept-Encoding the same URL answers plain, still with Vary.
		plainResp := get(t, srv.URL+URL(HTMX), nil)
		if plainResp.Header.Get("Content-Encoding") != "" || plainResp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("plain answer: Content-Encoding %q, Vary %q", plainResp.Header.Get("Content-Encoding"), plainResp.Header.Get("Vary"))
		}
	})

	t.Run("NotModified", func(t *testing.T) {
		f := b.files[KvarterCSS]
		for _, inm := range []string{f.etag, "W/" + f.etag, `"nope", ` + f.etag, "*"} {
			resp := get(t, srv.URL+URL(KvarterCSS), map[string]string{"If-None-Match": inm})
			if n := len(body(t, resp)); resp.StatusCode != http.StatusNotModified || n != 0 {
				t.Errorf("If-None-Match %s: status %d with %d bytes, want 304 and none", inm, resp.StatusCode, n)
			}
			if resp.Header.Get("ETag") != f.etag || resp.Header.Get("Cache-Control") != cacheForever || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("If-None-Match %s: 304 without ETag, Cache-Control or nosniff: %v", inm, resp.Header)
			}
		}
		for _, inm := range []string{`"nope"`, strings.Trim(f.etag, `"`), f.etag + "x", b.files[HTMX].etag} {
			if resp := get(t, srv.URL+URL(KvarterCSS), map[string]string{"If-None-Match": inm}); resp.StatusCode != http.StatusOK {
				t.Errorf("If-None-Match %s: status %d, want 200", inm, resp.StatusCode)
			}
		}
		// The gzip variant validates against its own tag.
		gzTag := b.files[HTMX].gzETag
		resp := get(t, srv.URL+URL(HTMX), map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gzTag})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("gzip If-None-Match: status %d, want 304", resp.StatusCode)
		}
	})

	t.Run("ErrMethod", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, "PROPFIND"} {
			req, _ := http.NewRequest(m, srv.URL+URL(KvarterCSS), strings.NewReader("x"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s: status %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
			}
			if resp.Header.Get("Cache-Control") == cacheForever {
				t.Errorf("%s: a 405 is cached for a year", m)
			}
		}
	})
}

// TestHandler_NotFound attacks the handler with every way of naming something that is
// not exactly an embedded file under the current hash. Requests are written raw to
// the socket, so neither the client nor a mux cleans them first.
func TestHandler_NotFound(t *testing.T) {
	srv := server(t)
	h := embeddedBundle().hash
	p := Prefix + h + "/"
	for _, target := range []string{
		"/",
		"/static",
		Prefix,
		Prefix + h,
		p,
		p + "vendor",
		p + "vendor/",
		p + "vendor/htmx.org",
		p + "vendor/htmx.org/",
		Prefix + "0000000000000000/" + KvarterCSS,      // an old or made-up hash
		Prefix + strings.ToUpper(h) + "/" + KvarterCSS, // hash in the wrong case
		"/static//" + KvarterCSS,                       // no hash
		Prefix + h + "x/" + KvarterCSS,                 // hash with a suffix
		"/STATIC/" + h + "/" + KvarterCSS,              // prefix in the wrong case
		"/assets/" + h + "/" + KvarterCSS,              // another prefix
		p + strings.ToUpper(KvarterCSS),                // name in the wrong case
		p + KvarterCSS + "/",
		p + KvarterCSS + "/.",
		p + "./" + KvarterCSS,
		p + "/" + KvarterCSS,
		p + "vendor//htmx.org/htmx.min.js",
		p + "vendor/../" + KvarterCSS,
		p + "vendor/htmx.org/../../" + KvarterCSS,
		p + "../" + h + "/" + KvarterCSS,
		p + "../../etc/passwd",
		p + "..%2f..%2fetc%2fpasswd",
		p + "%2e%2e/%2e%2e/etc/passwd",
		p + "vendor%2fhtmx.org%2fhtmx.min.js", // escaped slash of a real file
		p + "vendor/htmx.org/htmx.min%2ejs",   // escaped dot of a real file
		p + "kv%61rter.css",                   // escaped letter of a real file
		p + KvarterCSS + "%00",
		p + KvarterCSS + "%00.png",
		p + "..\\..\\etc\\passwd",
		p + "vendor\\htmx.org\\htmx.min.js",
		p + "static.go",
		p + "static_test.go",
		p + "embed",
		p + ".",
		p + "..",
		"/static/" + h + "/../static/" + h + "/" + KvarterCSS,
	} {
		t.Run(target, func(t *testing.T) {
			status, header := rawGET(t, srv.Listener.Addr().String(), target)
			switch status {
			case http.StatusNotFound:
				if header.Get("X-Content-Type-Options") != "nosniff" || header.Get("Cache-Control") != "no-store" {
					t.Errorf("GET %s: 404 without nosniff or no-store: %v", target, header)
				}
			case http.StatusBadRequest:
				// net/http refused the request line before any handler ran.
				t.Logf("GET %s: 400 from net/http", target)
			default:
				t.Errorf("GET %s: status %d, want 404", target, status)
			}
		})
	}
	// The query is not part of a file's name: a cache-busting parameter is harmless.
	if status, _ := rawGET(t, srv.Listener.Addr().String(), p+KvarterCSS+"?v=2"); status != http.StatusOK {
		t.Errorf("GET with a query: status %d, want 200", status)
	}
}

// rawGET writes one request line as given and reads the status and header.
func rawGET(t *testing.T, addr, target string) (int, http.Header) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: kvarter.test\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestHandler_UnderServeMux mounts the handler as the frame will and checks that a
// mux's own path cleaning (a redirect) never turns into serving a file elsewhere.
func TestHandler_UnderServeMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(Prefix, Handler(nil))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	if status, _ := rawGET(t, srv.Listener.Addr().String(), URL(HTMX)); status != http.StatusOK {
		t.Errorf("mounted: status %d, want 200", status)
	}
	for _, target := range []string{URL(KvarterCSS) + "/../../../../etc/passwd", URL(KvarterCSS) + "/../" + KvarterCSS} {
		// The mux cleans the path and redirects to the clean one, or the handler
		// refuses (404); nothing is served from the unclean path.
		status, header := rawGET(t, srv.Listener.Addr().String(), target)
		switch {
		case status == http.StatusNotFound:
		case status >= 300 && status < 400 && !strings.Contains(header.Get("Location"), ".."):
		default:
			t.Errorf("mounted: GET %s answered %d (Location %q)", target, status, header.Get("Location"))
		}
	}
}

func TestURL(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		u := URL(HTMX)
		if !regexp.MustCompile(`^/static/[0-9a-f]{16}/vendor/htmx\.org/htmx\.min\.js$`).MatchString(u) {
			t.Errorf("URL(HTMX) = %q", u)
		}
		if URL(HTMX) != u {
			t.Error("URL is not stable")
		}
		if got := Stylesheets(); len(got) != 3 || got[0] != URL(DesignsystemetTheme) || got[2] != URL(KvarterCSS) {
			t.Errorf("Stylesheets() = %q: tokens first, Kvarter's rules last", got)
		}
		if got := Scripts(); len(got) != 1 || got[0] != u {
			t.Errorf("Scripts() = %q", got)
		}
	})
	for _, name := range []string{"", "missing.css", "/" + KvarterCSS, "./" + KvarterCSS, "vendor", "vendor/", "static.go"} {
		t.Run("ErrUnknown/"+name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("URL(%q) did not panic", name)
				}
			}()
			URL(name)
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                            false,
		"gzip":                        true,
		"GZIP":                        true,
		"x-gzip":                      true,
		"gzip, deflate, br, zstd":     true,
		"br;q=1, gzip;q=0.5":          true,
		"gzip;q=0":                    false,
		"gzip; q=0.000":               false,
		"gzip;q=0, *":                 false,
		"*":                           true,
		"*;q=0":                       false,
		"identity":                    false,
		"br, zstd":                    false,
		"gzip;q=bogus":                false,
		"gzip;q=-1":                   false,
		"gzip;q=2":                    false,
		"gzipper":                     false,
		"deflate;q=0.5, gzip;level=9": true,
	} {
		if got := acceptsGzip([]string{header}); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
	if !acceptsGzip([]string{"br", "gzip"}) {
		t.Error("a second Accept-Encoding header is ignored")
	}
}

// FuzzHandler_Path: whatever the path, the handler answers 404 or serves exactly the
// embedded file the path names canonically — never another file, never an error.
func FuzzHandler_Path(f *testing.F) {
	b := embeddedBundle()
	for _, s := range []string{URL(KvarterCSS), URL(HTMX) + "/..", Prefix + b.hash + "/../../x", "/static/%2e%2e/", "//static/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
		if err != nil {
			return // not a request a server would hand to a handler
		}
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNotFound:
		case http.StatusOK:
			name := strings.TrimPrefix(req.URL.Path, Prefix+b.hash+"/")
			file, ok := b.files[name]
			if !ok || req.URL.Path != URL(name) || !bytes.Equal(rec.Body.Bytes(), file.body) {
				t.Fatalf("GET %q served %d bytes that are not exactly the file %q", target, rec.Body.Len(), name)
			}
		default:
			t.Fatalf("GET %q: status %d", target, rec.Code)
		}
	})
}
