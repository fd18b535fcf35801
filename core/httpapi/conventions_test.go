package httpapi_test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/httpapi"
	"github.com/kvarter/kvarter/sdk"
)

// rawRequest sends one request with the given headers and reads the answer as it came.
func rawRequest(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	return coretest.RawRequest(t, method, url, "", header)
}

// wantError fails unless body is the error format with code and a request_id equal to
// the answer's X-Request-ID.
func wantError(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	r := &coretest.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	e, _ := r.JSON()["error"].(map[string]any)
	if resp.StatusCode != status || e == nil || e["code"] != sdk.CodeOf(status) || e["message"] == "" ||
		e["request_id"] == "" || e["request_id"] != resp.Header.Get("X-Request-ID") {
		t.Fatalf("got %d %s, want %d in the error format with code %s and the request id", resp.StatusCode, body, status, sdk.CodeOf(status))
	}
}

// TestHTTPConventions checks DESIGN.md §7's HTTP conventions on the core's routes over
// real HTTP; the same code serves plugin routes (cmd/kvarter's TestMain_APIConventions
// checks them there).
func TestHTTPConventions(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.SecureCookies = true
		n := coretest.StartNode(t, cfg, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		for i := 0; i < 12; i++ {
			admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": fmt.Sprintf("Neighbourhood with a long enough name %02d", i)})
		}
		base := n.URL()
		bearer := map[string]string{"Authorization": "Bearer " + admin.Token}

		t.Run("SecurityHeaders", func(t *testing.T) {
			for _, c := range []struct{ method, path string }{
				{"GET", "/healthz"}, {"GET", "/api/v1/neighbourhoods"}, {"GET", "/api/v1/nowhere"}, {"POST", "/api/v1/auth/login"}, {"GET", "/nowhere"},
			} {
				resp, _ := rawRequest(t, c.method, base+c.path, nil)
				if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" ||
					!strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
					t.Errorf("%s %s = %d with headers %v, want nosniff, a referrer policy and HSTS (secure_cookies)", c.method, c.path, resp.StatusCode, resp.Header)
				}
			}
		})

		// Over HTTPS (secure_cookies) the API's session cookie is the pages' __Host-
		// one: a browser keeps it only from a secure origin, for this host alone, and one
		// sign-in serves both the site and the API.
		t.Run("SecureSessionCookie", func(t *testing.T) {
			resp, body := coretest.RawRequest(t, "POST", base+"/api/v1/auth/login",
				`{"email":"admin@city.example","password":"`+admin.Password+`"}`, map[string]string{"Content-Type": "application/json"})
			var session *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == "kvarter_session" {
					t.Errorf("login set the unprefixed cookie %v", c)
				}
				if c.Name == httpapi.SecureSessionCookie {
					session = c
				}
			}
			if resp.StatusCode != 200 || session == nil || !session.Secure || !session.HttpOnly || session.Path != "/" || session.Domain != "" {
				t.Fatalf("login = %d %s with cookies %v, want a Secure, HttpOnly __Host- session cookie for the host", resp.StatusCode, body, resp.Cookies())
			}
			me, body := rawRequest(t, "GET", base+"/api/v1/me", map[string]string{"Cookie": session.Name + "=" + session.Value})
			if me.StatusCode != 200 || !strings.Contains(string(body), "admin@city.example") {
				t.Errorf("GET /me with the __Host- cookie = %d %s", me.StatusCode, body)
			}
		})

		t.Run("HEAD", func(t *testing.T) {
			get, getBody := rawRequest(t, "GET", base+"/api/v1/neighbourhoods?limit=3", nil)
			head, headBody := rawRequest(t, "HEAD", base+"/api/v1/neighbourhoods?limit=3", nil)
			if head.StatusCode != 200 || len(headBody) != 0 || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") ||
				head.Header.Get("ETag") != get.Header.Get("ETag") || len(getBody) == 0 {
				t.Fatalf("HEAD = %d %q %v, want GET's status and headers without its body (GET: %v)", head.StatusCode, headBody, head.Header, get.Header)
			}
		})

		t.Run("MethodNotAllowed", func(t *testing.T) {
			for _, c := range []struct{ method, path, allow string }{
				{"PUT", "/api/v1/me", "DELETE, GET, HEAD"},
				{"POST", "/api/v1/neighbourhoods/01900000-0000-7000-8000-000000000000", "GET, HEAD, PATCH"},
				{"DELETE", "/api/v1/auth/login", "POST"},
				{"POST", "/healthz", "GET, HEAD"},
			} {
				resp, body := rawRequest(t, c.method, base+c.path, bearer)
				wantError(t, resp, body, 405)
				if got := resp.Header.Get("Allow"); got != c.allow {
					t.Errorf("%s %s: Allow = %q, want %q", c.method, c.path, got, c.allow)
				}
			}
			resp, body := rawRequest(t, "GET", base+"/api/v1/no-such-thing", nil)
			wantError(t, resp, body, 404)
		})

		t.Run("URITooLong", func(t *testing.T) {
			resp, body := rawRequest(t, "GET", base+"/api/v1/neighbourhoods?cursor="+strings.Repeat("a", 5000), nil)
			wantError(t, resp, body, 414)
			// Longer than the whole header may be: fasthttp refuses it before routing.
			resp, body = rawRequest(t, "GET", base+"/api/v1/neighbourhoods?cursor="+strings.Repeat("a", 20000), nil)
			wantError(t, resp, body, 414)
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("a refused header has no security headers: %v", resp.Header)
			}
		})

		t.Run("HeaderTooLarge", func(t *testing.T) {
			resp, body := rawRequest(t, "GET", base+"/api/v1/neighbourhoods", map[string]string{"X-Padding": strings.Repeat("p", 20000)})
			wantError(t, resp, body, 431)
			// And with a raw connection: the answer is complete HTTP even though the
			// header was never read to its end.
			conn, err := net.Dial("tcp", n.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /api/v1/me HTTP/1.1\r\nHost: kvarter\r\nCookie: %s\r\n\r\n", strings.Repeat("c", 10000))
			raw, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Body.Close()
			b, _ := io.ReadAll(raw.Body)
			wantError(t, raw, b, 431)
		})

		t.Run("ETagAnd304", func(t *testing.T) {
			first, body := rawRequest(t, "GET", base+"/api/v1/neighbourhoods", nil)
			etag := first.Header.Get("ETag")
			if first.StatusCode != 200 || !strings.HasPrefix(etag, `W/"`) || first.Header.Get("Cache-Control") != "no-cache" || len(body) == 0 {
				t.Fatalf("public list = %d ETag %q Cache-Control %q", first.StatusCode, etag, first.Header.Get("Cache-Control"))
			}
			again, body := rawRequest(t, "GET", base+"/api/v1/neighbourhoods", map[string]string{"If-None-Match": etag})
			if again.StatusCode != 304 || len(body) != 0 || again.Header.Get("ETag") != etag {
				t.Fatalf("conditional GET = %d %q ETag %q, want 304 without a body", again.StatusCode, body, again.Header.Get("ETag"))
			}
			// A change makes a new representation, which a stale tag no longer matches.
			admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Brand New"})
			changed, body := rawRequest(t, "GET", base+"/api/v1/neighbourhoods", map[string]string{"If-None-Match": etag})
			if changed.StatusCode != 200 || changed.Header.Get("ETag") == etag || !strings.Contains(string(body), "Brand New") {
				t.Fatalf("after a change = %d ETag %q, want 200 with a new tag", changed.StatusCode, changed.Header.Get("ETag"))
			}
			// A signed-in person's answer stays in their own cache.
			mine, _ := rawRequest(t, "GET", base+"/api/v1/neighbourhoods", bearer)
			if mine.Header.Get("Cache-Control") != "private, no-cache" {
				t.Fatalf("signed-in public list: Cache-Control %q", mine.Header.Get("Cache-Control"))
			}
			// Personal answers are never tagged nor kept.
			me, _ := rawRequest(t, "GET", base+"/api/v1/me", bearer)
			if me.Header.Get("ETag") != "" || me.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("/me: ETag %q Cache-Control %q, want none and no-store", me.Header.Get("ETag"), me.Header.Get("Cache-Control"))
			}
		})

		t.Run("NoStore", func(t *testing.T) {
			login := admin.Do("POST", "/api/v1/auth/login", map[string]string{"email": admin.Email, "password": admin.Password})
			if login.Status != 200 || login.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("sign-in = %d Cache-Control %q", login.Status, login.Header.Get("Cache-Control"))
			}
			for _, p := range []string{"/api/v1/me", "/api/v1/me/export", "/api/v1/me/sessions", "/api/v1/admin/audit"} {
				r := admin.Must(200, "GET", p, nil)
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: Cache-Control %q, want no-store", p, r.Header.Get("Cache-Control"))
				}
			}
			bad := admin.Do("POST", "/api/v1/neighbourhoods", map[string]any{"name": ""})
			if bad.Status != 422 || bad.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("an error = %d Cache-Control %q, want no-store", bad.Status, bad.Header.Get("Cache-Control"))
			}
		})

		t.Run("Gzip", func(t *testing.T) {
			plain, plainBody := rawRequest(t, "GET", base+"/api/v1/neighbourhoods", nil)
			zipped, zippedBody := rawRequest(t, "GET", base+"/api/v1/neighbourhoods", map[string]string{"Accept-Encoding": "gzip"})
			if zipped.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(zipped.Header.Get("Vary"), "Accept-Encoding") ||
				len(zippedBody) >= len(plainBody) {
				t.Fatalf("large list with gzip accepted: %v, %d bytes (plain %d)", zipped.Header, len(zippedBody), len(plainBody))
			}
			zr, err := gzip.NewReader(strings.NewReader(string(zippedBody)))
			if err != nil {
				t.Fatal(err)
			}
			unzipped, _ := io.ReadAll(zr)
			if string(unzipped) != string(plainBody) || plain.Header.Get("Content-Encoding") != "" {
				t.Fatalf("gzip changed the answer, or plain was compressed (%v)", plain.Header)
			}
			small, _ := rawRequest(t, "GET", base+"/healthz", map[string]string{"Accept-Encoding": "gzip"})
			if small.Header.Get("Content-Encoding") != "" {
				t.Fatalf("a small answer was compressed")
			}
		})
	})
}
