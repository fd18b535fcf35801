package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/examples/hello"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// Plugin pages in the frame, end to end (issue #16): a real `kvarter serve` with the
// SDK's hello plugin and the host's probe plugin beside it, each a child process,
// on SQLite and on PostgreSQL. The browser is played by plain HTTP with the session
// cookie, as a browser without JavaScript sends it.

// probeBinary builds the plugin host's probe plugin (pages that hang, fail and
// crash on request) once for the test binary.
func probeBinary(t testing.TB) string {
	t.Helper()
	bin, _ := sdktest.BuildPlugin(t, "../../core/pluginhost/internal/probe")
	return bin
}

// browser asks the site as one person: a session cookie (the token of the API's
// login, which is the same session) or none.
type browser struct {
	t     *testing.T
	base  string
	token string
}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends one request and does not follow redirects, so the test sees each 303.
func (b browser) do(method, path string, form url.Values, header map[string]string) answer {
	b.t.Helper()
	if form == nil {
		return b.send(method, path, "", nil, header)
	}
	return b.send(method, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), header)
}

// send is do with any body, such as a multipart form with files.
func (b browser) send(method, path, contentType string, body io.Reader, header map[string]string) answer {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Sec-Fetch-Site", "same-origin") // what a browser sends with the site's own form
	}
	if b.token != "" {
		req.AddCookie(&http.Cookie{Name: "kvarter_session", Value: b.token})
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(data)}
}

func (b browser) get(path, lang string) answer {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil, map[string]string{"Accept-Language": lang})
}

func (a answer) want(t *testing.T, status int, parts ...string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d:\n%s", a.status, status, a.body)
	}
	for _, p := range parts {
		if !strings.Contains(a.body, p) {
			t.Errorf("the answer lacks %q:\n%s", p, a.body)
		}
	}
}

func (a answer) lacks(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(a.body, p) {
			t.Errorf("the answer holds %q:\n%s", p, a.body)
		}
	}
}

func TestMain_PluginPages(t *testing.T) {
	probe := probeBinary(t)
	sdktest.EachCore(t, sdktest.Options{Package: "../../sdk/examples/hello/cmd/hello", Name: "hello",
		Others: []sdktest.OtherPlugin{{Name: "probe", Path: probe}}}, func(t *testing.T, c *sdktest.Core, _ bool) {
		anon := browser{t: t, base: c.URL}
		res := c.NewUser("aino@example.org")
		resident := browser{t: t, base: c.URL, token: res.Token}
		// A signed-in person reads in their profile's language, whatever the browser asks.
		finn := browser{t: t, base: c.URL, token: finnishUser(t, c)}

		t.Run("PageInFrame", func(t *testing.T) {
			// The page in two languages: the frame's <html lang>, the title as the
			// <h1> and in <title>, the crumbs after Home, hello's nav entry current.
			for _, tc := range []struct{ lang, title, nav, home string }{
				{"en", "Send a greeting", "Greetings", "Front page"},
				{"fi", "Lähetä tervehdys", "Tervehdykset", "Etusivu"},
			} {
				viewer := resident
				if tc.lang == "fi" {
					viewer = finn
				}
				a := viewer.get(hello.PathGreet, "")
				a.want(t, http.StatusOK,
					`<html lang="`+tc.lang+`">`,
					`<title>`+tc.title+` – Testville</title>`,
					`<h1 class="ds-heading">`+tc.title+`</h1>`,
					`<a class="ds-link" href="/">`+tc.home+`</a>`,
					`<a class="ds-link" href="`+hello.PathGreet+`" aria-current="page">`+tc.nav+`</a>`,
					`<main id="main"`, `name="message"`, `<footer`)
				if a.header.Get("Content-Security-Policy") == "" || a.header.Get("Cache-Control") != "no-store" {
					t.Errorf("security headers missing: %v", a.header)
				}
			}
		})

		t.Run("HTMXSwapsMain", func(t *testing.T) {
			a := anon.do(http.MethodGet, hello.PathGreet, nil, map[string]string{"HX-Request": "true", "HX-Target": "main#main", "Accept-Language": "fi"})
			a.want(t, http.StatusOK, `<title>Lähetä tervehdys – Testville</title>`, `hx-swap-oob`, `name="message"`)
			a.lacks(t, `<html`, `<footer`)
		})

		t.Run("FormBrokenRule", func(t *testing.T) {
			long := strings.Repeat("ö", hello.MaxMessage+1)
			a := finn.do(http.MethodPost, hello.PathGreet, url.Values{"message": {long}}, nil)
			// 422 inside the frame, the value kept, the error summary focused.
			a.want(t, http.StatusUnprocessableEntity, `<html lang="fi">`, `value="`+long+`"`,
				`id="`+hello.ErrorSummaryID+`" autofocus`, `aria-invalid="true"`)
		})

		t.Run("FormSuccess", func(t *testing.T) {
			a := resident.do(http.MethodPost, hello.PathGreet, url.Values{"message": {"Hei naapurit"}}, nil)
			a.want(t, http.StatusSeeOther)
			if loc := a.header.Get("Location"); loc != hello.PathGreet+"?sent=1" {
				t.Fatalf("Location %q", loc)
			}
			// The page it leads to announces the greeting in the live region.
			resident.get(hello.PathGreet+"?sent=1", "en").want(t, http.StatusOK,
				`<div id="kv-status" class="ds-sr-only" role="status" aria-live="polite">Your greeting was sent.</div>`)
		})

		t.Run("FormWithPhoto", func(t *testing.T) {
			// The host receives the photo (uploads), hello gets its id and shows it
			// from /uploads/ after Post/Redirect/Get.
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			_ = mw.WriteField("message", "Kuva puistosta")
			fw, _ := mw.CreateFormFile("photo", "puisto.png")
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			_ = png.Encode(fw, img)
			_ = mw.Close()
			a := resident.send(http.MethodPost, hello.PathGreet, mw.FormDataContentType(), &b, nil)
			a.want(t, http.StatusSeeOther)
			loc := a.header.Get("Location")
			id := strings.TrimPrefix(loc, hello.PathGreet+"?sent=1&photo=")
			if id == loc || id == "" {
				t.Fatalf("Location %q", loc)
			}
			resident.get(loc, "en").want(t, http.StatusOK, `<img src="/uploads/`+id+`" alt="The photo you sent"`)
			photo := anon.get("/uploads/"+id, "")
			photo.want(t, http.StatusOK)
			if photo.header.Get("Content-Type") != "image/png" || photo.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("served photo: %v", photo.header)
			}
			// An HTML file as the photo: hello shows its form again with the photo's
			// problem (its route shows upload errors), the message kept.
			b.Reset()
			mw = multipart.NewWriter(&b)
			_ = mw.WriteField("message", "Ei kuvaa")
			fw, _ = mw.CreateFormFile("photo", "puisto.png")
			_, _ = io.WriteString(fw, "<html><script>alert(1)</script></html>")
			_ = mw.Close()
			resident.send(http.MethodPost, hello.PathGreet, mw.FormDataContentType(), &b, nil).
				want(t, http.StatusUnprocessableEntity, `<html lang="en">`, `value="Ei kuvaa"`, `<a href="#photo">Choose a JPEG or PNG photo.</a>`)
		})

		t.Run("CrossSitePostRefused", func(t *testing.T) {
			before := resident.get("/", "en")
			for _, h := range []map[string]string{
				{"Sec-Fetch-Site": "cross-site"},
				{"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
			} {
				a := resident.do(http.MethodPost, hello.PathGreet, url.Values{"message": {"from elsewhere"}}, h)
				a.want(t, http.StatusForbidden, `<html`)
			}
			// Nothing was recorded: the home card counts the same greetings.
			after := resident.get("/", "en")
			if card(before.body) != card(after.body) || card(after.body) == "" {
				t.Errorf("the greetings card changed after refused posts: %q → %q", card(before.body), card(after.body))
			}
		})

		t.Run("AnonymousToSignIn", func(t *testing.T) {
			a := anon.get(hello.PathHomeCard, "en")
			a.want(t, http.StatusSeeOther)
			if loc := a.header.Get("Location"); loc != "/sign-in?back=%2Fhello%2Fcards%2Fhome" {
				t.Fatalf("Location %q", loc)
			}
		})

		t.Run("NotFoundAndForbiddenPanels", func(t *testing.T) {
			finn.get("/hello/no-such-page", "").want(t, http.StatusNotFound, `<html lang="fi">`, `<footer`)
			// The probe's neighbourhood page needs membership of that neighbourhood.
			nbh := c.Neighbourhood("Karşıyaka")
			resident.get("/probe/nbh/"+nbh+"/page", "en").want(t, http.StatusForbidden, `<html lang="en">`, `<footer`)
		})

		t.Run("NavPerViewer", func(t *testing.T) {
			anonNav := anon.get("/", "en")
			anonNav.want(t, http.StatusOK, `>Greetings</a>`, `>probe page</a>`)
			anonNav.lacks(t, `probe members`, `probe runners`)
			r := resident.get("/", "en")
			r.want(t, http.StatusOK, `>probe members</a>`)
			r.lacks(t, `probe runners`)
			c.Grant(res, "probe_runner", "city")
			resident.get("/", "en").want(t, http.StatusOK, `>probe runners</a>`)
			// A label the plugin lacks in the viewer's language says which it is in.
			finn.get("/", "").want(t, http.StatusOK, `href="/probe/page" lang="en">probe members</a>`)
		})

		t.Run("CardsWithAHangingOne", func(t *testing.T) {
			// The probe's slow card hangs until the host gives up on it; the page still
			// answers, the late and the failed card as links with their labels.
			a := resident.get("/", "en")
			a.want(t, http.StatusOK, `<h2 class="ds-heading" id="kv-cards-heading">`,
				`<a class="ds-link" href="/probe/page">probe slow</a>`,
				`<a class="ds-link" href="/probe/page">probe fail</a>`,
				`<p class="card">probe fragment</p>`,
				`>Your greetings</a>`)
			a.lacks(t, `alert('card')`)
		})

		t.Run("PluginDown", func(t *testing.T) {
			// Crash the probe past its crash budget: it stays failed until an operator
			// enables it again.
			for i := 0; i < 10; i++ {
				st := status(t, c, "probe")
				if st.State == "failed" {
					break
				}
				if st.State == "active" {
					_ = anon.do(http.MethodPost, "/api/v1/probe/crash", nil, nil)
					waitFor(t, func() bool { n := status(t, c, "probe"); return n.Restarts > st.Restarts || n.State == "failed" })
				}
				waitFor(t, func() bool { s := status(t, c, "probe").State; return s == "active" || s == "failed" })
			}
			if st := status(t, c, "probe"); st.State != "failed" {
				t.Fatalf("probe is %s after crashes", st.State)
			}
			a := finn.get("/probe/page", "")
			a.want(t, http.StatusServiceUnavailable, `<html lang="fi">`, `Palvelu ei ole tilapäisesti käytettävissä`, `<footer`)
			if ra := a.header.Get("Retry-After"); ra == "" || ra == "0" {
				t.Errorf("Retry-After %q", ra)
			}
			// The rest of the site works: core pages, hello's pages, home without the
			// probe's entries.
			resident.get("/", "en").want(t, http.StatusOK, `>Greetings</a>`)
			resident.get(hello.PathGreet, "en").want(t, http.StatusOK, `<h1 class="ds-heading">Send a greeting</h1>`)
			anon.get("/sign-in", "en").want(t, http.StatusOK)
			resident.get("/", "en").lacks(t, `>probe page</a>`)
		})
	})
}

// card is the text of hello's greetings card on a home page.
func card(page string) string {
	i := strings.Index(page, "Your greetings</a>")
	if i < 0 {
		return ""
	}
	rest := page[i:]
	if j := strings.Index(rest, "</li>"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// pluginStatus is what the operators' list says of a plugin.
type pluginStatus struct {
	Name, State string
	Restarts    int
}

func status(t *testing.T, c *sdktest.Core, name string) pluginStatus {
	t.Helper()
	var list struct {
		Items []pluginStatus `json:"items"`
	}
	c.Admin().Must(http.StatusOK, "GET", "/api/v1/admin/plugins", nil).Decode(t, &list)
	for _, p := range list.Items {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no plugin %s", name)
	return pluginStatus{}
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the condition never held")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// finnishUser registers a resident whose profile language is Finnish and returns
// their session token.
func finnishUser(t *testing.T, c *sdktest.Core) string {
	t.Helper()
	anon := c.Anonymous()
	anon.Must(http.StatusCreated, "POST", "/api/v1/auth/register", map[string]string{"email": "eeva@example.org",
		"password": "pitkä ja hyvä salasana", "display_name": "Eeva", "language": "fi"})
	var out struct {
		Token string `json:"token"`
	}
	anon.Must(http.StatusOK, "POST", "/api/v1/auth/login", map[string]string{"email": "eeva@example.org",
		"password": "pitkä ja hyvä salasana"}).Decode(t, &out)
	return out.Token
}
