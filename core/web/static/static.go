// Package static serves the files every page needs — the vendored htmx and
// Designsystemet stylesheets and Kvarter's own kvarter.css — from the binary itself,
// so a city's server never reaches a CDN and the build never needs npm
// (scripts/assets.sh refreshes the vendored copies; `make assets`).
//
// Each URL carries a hash of the whole set of files (/static/<hash>/<path>), so a
// browser may keep an answer for a year without asking again and still never runs a
// stale copy after an upgrade: the new binary links new URLs. One hash for the set,
// not one per file, keeps the relative url() references inside vendored CSS working.
//
// It is plain net/http; the web frame mounts Handler at Prefix and templates call URL.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"hash"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// Prefix is the path under which the frame mounts Handler. Handler expects the full
// request path, prefix included (mount it without stripping).
const Prefix = "/static/"

// The files the frame links, as paths for URL. Stylesheets and Scripts list them in
// the order a page must load them.
const (
	// HTMX is htmx 4 (npm htmx.org). It works under Kvarter's CSP as it is: its
	// indicator styles are a constructed stylesheet, not an inline one. What the CSP
	// blocks is what DESIGN §10 forbids anyway: hx-on:* handlers and javascript:
	// values (compiled with the Function constructor) and inline scripts in swapped
	// HTML. Unlike htmx 2 it swaps 4xx and 5xx answers by default, so a 422 with the
	// re-rendered form replaces the old one.
	HTMX = "vendor/htmx.org/htmx.min.js"
	// DesignsystemetCSS is the components' CSS (npm @digdir/designsystemet-css).
	DesignsystemetCSS = "vendor/designsystemet-css/index.css"
	// DesignsystemetTheme is the design tokens: colours, type, spacing (npm
	// @digdir/designsystemet-theme).
	DesignsystemetTheme = "vendor/designsystemet-theme/designsystemet.css"
	// KvarterCSS is Kvarter's own rules on top of Designsystemet.
	KvarterCSS = "kvarter.css"
)

//go:embed kvarter.css vendor
var embedded embed.FS

// cacheForever is safe only because every URL names the content it serves.
const cacheForever = "public, max-age=31536000, immutable"

// A static answer is never a document a visitor should run: if someone opens a file
// directly, nothing in it may load or execute anything.
const fileCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

// Handler serves the embedded files at /static/<hash>/<path>: GET and HEAD, with
// Cache-Control immutable, an exact Content-Type, X-Content-Type-Options: nosniff,
// ETag and 304, and gzip when the client accepts it. Anything else under the prefix
// — another hash, a directory, an escaped or unclean path — is 404.
//
// A city's Brand, when given, is served beside them under its own hash.
func Handler(brand *Brand) http.Handler {
	if brand == nil || brand.b == nil {
		return embeddedBundle()
	}
	embedded, own := embeddedBundle(), brand.b
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hash, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/"); hash == own.hash {
			own.ServeHTTP(w, r)
			return
		}
		embedded.ServeHTTP(w, r)
	})
}

// URL is the fingerprinted URL of an embedded file, for templates:
// URL(static.HTMX) is "/static/<hash>/vendor/htmx.org/htmx.min.js". It panics on a
// path that is not embedded, so a typo in a template fails its first render (and its
// test) instead of shipping a page with a broken link.
func URL(name string) string {
	b := embeddedBundle()
	if _, ok := b.files[name]; !ok {
		panic(fmt.Sprintf("static: no embedded file %q", name))
	}
	return Prefix + b.hash + "/" + name
}

// Stylesheets are the URLs of the stylesheets a page links, in cascade order:
// Designsystemet's tokens, its components, then Kvarter's own rules.
func Stylesheets() []string {
	return []string{URL(DesignsystemetTheme), URL(DesignsystemetCSS), URL(KvarterCSS)}
}

// Scripts are the URLs of the scripts a page loads (with defer).
func Scripts() []string { return []string{URL(HTMX)} }

var embeddedBundle = sync.OnceValue(func() *bundle {
	b, err := load(embedded)
	if err != nil {
		panic(err) // the binary itself is broken; TestLoad_Embedded catches it first
	}
	return b
})

type file struct {
	body        []byte
	gz          []byte // nil when gzip would not make it smaller
	contentType string
	etag        string
	gzETag      string
}

type bundle struct {
	hash  string
	files map[string]*file
	set   hash.Hash // the running hash of the files added, until seal
}

// load reads every file of fsys, hashes the set and precompresses what compresses.
func load(fsys fs.FS) (*bundle, error) {
	b := newBundle()
	// WalkDir visits names in lexical order, so the set's hash does not depend on
	// the order an fs.FS happens to list them in.
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		return b.add(name, body)
	})
	if err != nil {
		return nil, err
	}
	if len(b.files) == 0 {
		return nil, fmt.Errorf("static: no files embedded")
	}
	b.seal()
	return b, nil
}

func newBundle() *bundle { return &bundle{files: map[string]*file{}, set: sha256.New()} }

// add takes one file into the bundle; callers add in lexical order of name.
func (b *bundle) add(name string, body []byte) error {
	if !validName(name) {
		return fmt.Errorf("static: %q: a served file's name has only letters, digits, '.', '-' and '_' in each segment", name)
	}
	ct, ok := contentType(name)
	if !ok {
		return fmt.Errorf("static: %q: no content type is known for this kind of file; add one to contentType", name)
	}
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	f := &file{body: body, contentType: ct, etag: `"` + tag + `"`}
	if compressible(ct) {
		if gz := gzipped(body); len(gz) < len(body) {
			f.gz, f.gzETag = gz, `"`+tag+`-gzip"`
		}
	}
	fmt.Fprintf(b.set, "%s\x00%x\n", name, sum)
	b.files[name] = f
	return nil
}

// seal names the bundle by the hash of its set of files.
func (b *bundle) seal() { b.hash = hex.EncodeToString(b.set.Sum(nil))[:16] }

func (b *bundle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	f := b.lookup(r)
	if f == nil {
		h.Set("Cache-Control", "no-store")
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		h.Set("Cache-Control", "no-store")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, etag, gz := f.body, f.etag, false
	if f.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			body, etag, gz = f.gz, f.gzETag, true
		}
	}
	h.Set("Cache-Control", cacheForever)
	h.Set("ETag", etag)
	h.Set("Content-Security-Policy", fileCSP)
	if noneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", f.contentType)
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body) //nolint:errcheck // the client went away; nothing to do
	}
}

// lookup finds the file a request names, exactly: the current hash and a name that
// was embedded, in the canonical spelling. A map lookup cannot be walked out of, so
// "..", "//" and the like never reach a file system; an escaped path (RawPath set:
// %2F, %2e, even %61 for "a") is refused so one file has one URL.
func (b *bundle) lookup(r *http.Request) *file {
	if r.URL == nil || r.URL.RawPath != "" {
		return nil
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		return nil
	}
	hash, name, ok := strings.Cut(rest, "/")
	if !ok || hash != b.hash {
		return nil
	}
	return b.files[name]
}

// validName admits slash-separated segments of [A-Za-z0-9._-] that do not start with
// a dot, so every served URL is its own canonical, unescaped spelling.
func validName(name string) bool {
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// contentType is a fixed table, not mime.TypeByExtension: that one reads the
// machine's mime.types, and a server's answers should not depend on its host.
func contentType(name string) (string, bool) {
	switch base := path.Base(name); base {
	case "LICENSE", "VERSIONS", "NOTICE":
		return "text/plain; charset=utf-8", true
	}
	types := map[string]string{
		".css":   "text/css; charset=utf-8",
		".js":    "text/javascript; charset=utf-8",
		".txt":   "text/plain; charset=utf-8",
		".md":    "text/plain; charset=utf-8",
		".svg":   "image/svg+xml",
		".png":   "image/png",
		".jpg":   "image/jpeg",
		".ico":   "image/x-icon",
		".woff2": "font/woff2",
		".woff":  "font/woff",
	}
	ct, ok := types[path.Ext(name)]
	return ct, ok
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || ct == "image/svg+xml"
}

func gzipped(body []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level never errs
	zw.Write(body)                                           //nolint:errcheck // bytes.Buffer does not fail
	zw.Close()                                               //nolint:errcheck
	return buf.Bytes()
}

// acceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip is acceptable when it
// is listed with a non-zero q, or when it is not listed and "*" is, with a non-zero q.
func acceptsGzip(headers []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, header := range headers {
		for _, part := range strings.Split(header, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, v, ok := strings.Cut(p, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0 // a malformed weight accepts nothing
					}
					q = f
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "*":
				starQ = max(starQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// noneMatch is If-None-Match's weak comparison (RFC 9110 §13.1.2) against our tag.
func noneMatch(headers []string, etag string) bool {
	for _, header := range headers {
		for _, t := range strings.Split(header, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}
