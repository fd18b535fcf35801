package hello_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/examples/hello"
	"github.com/kvarter/kvarter/sdk/hostside"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// launched starts cmd/hello as the core does — a child process over the real
// protocol — configured, migrated and activated on store cfg, with a fake core as its
// host.
func launched(t *testing.T, cfg sdk.StoreConfig) (*hostside.Process, *sdktest.FakeHost) {
	t.Helper()
	host := sdktest.NewFakeHost(sdk.ManifestOf(hello.New()))
	p := sdktest.LaunchProcess(t, sdktest.ProcessOptions{Pkg: "./cmd/hello", Name: "hello", Host: host, Store: cfg,
		Languages: hello.Languages})
	return p.Process, host
}

func send(t *testing.T, p *hostside.Process, r *hostside.HTTPRequest) *hostside.HTTPResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := p.Handle(ctx, r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	return resp
}

func form(values url.Values) (http.Header, []byte) {
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(values.Encode())
}

// TestPages drives hello's page and card through the real protocol, on both
// databases: the manifest declares them; the form follows Post/Redirect/Get and keeps
// the value with a 422 on a broken rule, in the viewer's language; the card counts
// the viewer's greetings.
func TestPages(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		p, host := launched(t, cfg)
		m, err := p.Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var pages []string
		for _, r := range m.Routes {
			if r.Kind == sdk.RoutePage {
				pages = append(pages, r.Method+" "+r.Path)
			}
		}
		if strings.Join(pages, ", ") != "GET /hello/greet, POST /hello/greet, GET /hello/cards/home" {
			t.Errorf("page routes %v", pages)
		}
		if len(m.UI.Nav) != 1 || m.UI.Nav[0].Labels["tr"] != "Selamlar" || len(m.UI.Cards) != 1 || m.UI.Cards[0].Slot != "home" {
			t.Errorf("ui %+v", m.UI)
		}
		for _, lang := range hello.Languages {
			if m.UI.Nav[0].Labels[lang] == "" || m.UI.Cards[0].Labels[lang] == "" {
				t.Errorf("no %s label in %+v", lang, m.UI)
			}
		}

		ann := host.Principal("ann")
		get := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathGreet, Principal: ann, Render: sdk.RenderPage, Language: "fi"})
		if get.Status != 200 || get.Page.Title != "Lähetä tervehdys" || get.Page.NavActive != hello.NavGreet || !strings.Contains(string(get.Body), `<label for="message">Viestisi</label>`) {
			t.Fatalf("page: %d %+v %s", get.Status, get.Page, get.Body)
		}
		if !strings.HasPrefix(get.Header.Get("Content-Type"), "text/html") || strings.Contains(string(get.Body), "<html") {
			t.Errorf("a page is the content of <main> in HTML: %v %s", get.Header, get.Body)
		}

		// A broken rule: 422, the form again with the value kept, the summary focused,
		// in the viewer's language.
		long := strings.Repeat("ä", hello.MaxMessage+1)
		h, body := form(url.Values{"message": {long}})
		bad := send(t, p, &hostside.HTTPRequest{Method: "POST", Path: hello.PathGreet, Header: h, Body: body, Principal: ann, Render: sdk.RenderPage, Language: "sv"})
		if bad.Status != 422 || bad.Page.Focus != hello.ErrorSummaryID || !strings.Contains(string(bad.Body), `value="`+long+`"`) ||
			!strings.Contains(string(bad.Body), "Meddelandet får vara högst 80 tecken.") || !strings.Contains(string(bad.Body), `aria-invalid="true"`) {
			t.Errorf("422: %d %+v %s", bad.Status, bad.Page, bad.Body)
		}
		h, body = form(url.Values{"message": {"  "}})
		if r := send(t, p, &hostside.HTTPRequest{Method: "POST", Path: hello.PathGreet, Header: h, Body: body, Principal: ann, Render: sdk.RenderPage, Language: "da"}); r.Status != 422 || !strings.Contains(string(r.Body), "Skriv en besked.") {
			t.Errorf("empty: %d %s", r.Status, r.Body)
		}
		// Script in the message comes back as text.
		h, body = form(url.Values{"message": {strings.Repeat("x", hello.MaxMessage) + `"><script>`}})
		if r := send(t, p, &hostside.HTTPRequest{Method: "POST", Path: hello.PathGreet, Header: h, Body: body, Principal: ann, Render: sdk.RenderPage}); r.Status != 422 || strings.Contains(string(r.Body), "<script>") {
			t.Errorf("escaped: %d %s", r.Status, r.Body)
		}

		// Post/Redirect/Get.
		h, body = form(url.Values{"message": {"Hei naapurit!"}})
		ok := send(t, p, &hostside.HTTPRequest{Method: "POST", Path: hello.PathGreet, Header: h, Body: body, Principal: ann, Render: sdk.RenderPage, Language: "fi"})
		if ok.Status != 303 || ok.Header.Get("Location") != hello.PathGreet+"?sent=1" {
			t.Fatalf("303: %d %v %s", ok.Status, ok.Header, ok.Body)
		}
		after := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathGreet, RawQuery: "sent=1", Principal: ann, Render: sdk.RenderPage, Language: "tr"})
		if after.Page.Announce != "Selamınız gönderildi." || !strings.Contains(string(after.Body), `role="status"`) {
			t.Errorf("after: %+v %s", after.Page, after.Body)
		}
		// The card counts ann's greetings, in her language, as a fragment.
		card := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathHomeCard, Principal: ann, Render: sdk.RenderFragment, Language: "fi"})
		if card.Status != 200 || !strings.Contains(string(card.Body), "Olet lähettänyt 1 tervehdyksen.") || card.Page.Title != "Tervehdyksesi" {
			t.Errorf("card: %d %+v %s", card.Status, card.Page, card.Body)
		}
		bob := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathHomeCard, Principal: host.Principal("bob"), Render: sdk.RenderFragment, Language: "en"})
		if !strings.Contains(string(bob.Body), "You have not sent any greetings yet.") {
			t.Errorf("bob's card: %s", bob.Body)
		}
		// The message is kept with the ping, and the JSON API reads the same service.
		pings := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/pings", Principal: ann})
		if !strings.Contains(string(pings.Body), `"message":"Hei naapurit!"`) || pings.Page.Title != "" {
			t.Errorf("pings: %s %+v", pings.Body, pings.Page)
		}
	})
}

// TestPages_Photo: the greeting form declares a photo field the host receives; the
// plugin gets the upload id in its place (as the host forwards it) and the page after
// sending shows the photo from the host's /uploads/ path.
func TestPages_Photo(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		p, host := launched(t, cfg)
		m, err := p.Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(m.Routes, func(r sdk.Route) bool { return r.Method == "POST" && r.Path == hello.PathGreet })
		if i < 0 || len(m.Routes[i].Uploads) != 1 || m.Routes[i].Uploads[0].Name != "photo" || m.Routes[i].Uploads[0].MaxBytes != hello.MaxPhoto ||
			!slices.Equal(m.Routes[i].Uploads[0].Kinds, []string{sdk.UploadImage}) || m.Routes[i].MaxBodyBytes <= hello.MaxPhoto || !m.Routes[i].ShowsUploadErrors {
			t.Fatalf("the greeting form's upload field did not reach the host: %+v", m.Routes)
		}
		ann := host.Principal("ann")
		get := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathGreet, Principal: ann, Render: sdk.RenderPage, Language: "fi"})
		if !strings.Contains(string(get.Body), `enctype="multipart/form-data"`) || !strings.Contains(string(get.Body), `<input id="photo" name="photo" type="file"`) ||
			!strings.Contains(string(get.Body), "Valokuva (vapaaehtoinen)") {
			t.Errorf("form: %s", get.Body)
		}
		checkMarkup(t, get.Body)

		// What the host forwards after receiving the photo: the form with its id.
		const id = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
		h, body := form(url.Values{"message": {"Kuva puistosta"}, "photo": {id}})
		ok := send(t, p, &hostside.HTTPRequest{Method: "POST", Path: hello.PathGreet, Header: h, Body: body, Principal: ann, Render: sdk.RenderPage})
		if ok.Status != 303 || ok.Header.Get("Location") != hello.PathGreet+"?sent=1&photo="+id {
			t.Fatalf("303: %d %v %s", ok.Status, ok.Header, ok.Body)
		}
		after := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathGreet, RawQuery: "sent=1&photo=" + id, Principal: ann, Render: sdk.RenderPage, Language: "sv"})
		if !strings.Contains(string(after.Body), `<img src="/uploads/`+id+`" alt="Fotot du skickade"`) {
			t.Errorf("after: %s", after.Body)
		}
		checkMarkup(t, after.Body)
		// A photo the host refused (it names the field, the form comes without the
		// file): 422 with the form, the message kept, the photo's problem by its
		// input and in the summary; no greeting is recorded.
		h, body = form(url.Values{"message": {"Kuva puistosta"}})
		h.Set(sdk.UploadRefusedHeader, "photo=upload_kind")
		bad := send(t, p, &hostside.HTTPRequest{Method: "POST", Path: hello.PathGreet, Header: h, Body: body, Principal: host.Principal("cem"), Render: sdk.RenderPage, Language: "fi"})
		if bad.Status != 422 || bad.Page.Focus != hello.ErrorSummaryID || !strings.Contains(string(bad.Body), `value="Kuva puistosta"`) ||
			!strings.Contains(string(bad.Body), `<a href="#photo">Valitse JPEG- tai PNG-kuva.</a>`) ||
			!strings.Contains(string(bad.Body), `aria-describedby="photo-hint photo-error" aria-invalid="true"`) {
			t.Errorf("refused photo: %d %+v %s", bad.Status, bad.Page, bad.Body)
		}
		checkMarkup(t, bad.Body)
		card := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathHomeCard, Principal: host.Principal("cem"), Render: sdk.RenderFragment, Language: "en"})
		if !strings.Contains(string(card.Body), "You have not sent any greetings yet.") {
			t.Errorf("a greeting with a refused photo was recorded: %s", card.Body)
		}
		// An id is a path segment of /uploads/, whatever the query says.
		odd := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathGreet, RawQuery: "sent=1&photo=" + url.QueryEscape(`../admin" onerror="x`), Principal: ann, Render: sdk.RenderPage})
		if !strings.Contains(string(odd.Body), `src="/uploads/..%2Fadmin%22%20onerror=%22x"`) {
			t.Errorf("odd id: %s", odd.Body)
		}
	})
}

func checkMarkup(t *testing.T, body []byte) {
	t.Helper()
	for _, problem := range webtest.CheckMarkup(webtest.ParseFragment(t, string(body)), webtest.Content) {
		t.Error(problem)
	}
}

// TestPages_OldHost: requests without a render mode or language — all a host built
// before pages sends — are answered as before, with no page metadata. (Such a host
// also asks for no pages in Describe and gets the API alone: sdk's
// TestServer_DescribePages.)
func TestPages_OldHost(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		p, _ := launched(t, cfg)
		resp := send(t, p, &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/ping"})
		if resp.Status != 200 || hasMeta(resp.Page) || !strings.Contains(string(resp.Body), "greeting") {
			t.Errorf("API answer %d %+v %s", resp.Status, resp.Page, resp.Body)
		}
		// Without a render mode (an older host) a page route is still served, and
		// sends no metadata the host could not read.
		resp = send(t, p, &hostside.HTTPRequest{Method: "GET", Path: hello.PathGreet})
		if resp.Status != 200 || hasMeta(resp.Page) || !strings.Contains(string(resp.Body), "Your message") {
			t.Errorf("page without render: %d %+v %s", resp.Status, resp.Page, resp.Body)
		}
	})
}

// hasMeta reports page metadata that is not empty.
func hasMeta(m sdk.PageMeta) bool {
	return m.Title != "" || len(m.Breadcrumbs) > 0 || m.NavActive != "" || m.Announce != "" || m.Focus != ""
}
