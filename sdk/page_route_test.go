package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// pagePlugin has one API route and pages that report what they were asked.
type pagePlugin struct{}

func (pagePlugin) Manifest() Manifest {
	return Manifest{Name: "pages", Routes: pagePlugin{}.routes(), UI: UI{
		Nav:   []NavEntry{{ID: "main", Path: "/pages/p", Labels: map[string]string{"en": "Pages", "fi": "Sivut"}, Permission: PermPublic, Order: 3}},
		Cards: []Card{{ID: "c", Slot: "home", Path: "/pages/p", Labels: map[string]string{"en": "Card"}, Link: "/pages/p", Permission: PermAuthenticated, Domain: DomainCity}},
	}}
}
func (pagePlugin) Configure(context.Context, Env) error { return nil }
func (pagePlugin) Handler() http.Handler                { return Mux(pagePlugin{}.routes()) }

func (pagePlugin) routes() []Route {
	return []Route{
		Get("/api/v1/pages/x", PermPublic, func(r *http.Request) (NoBody, error) { return NoBody{}, nil }),
		GetPage("/pages/p", PermPublic, func(w http.ResponseWriter, r *http.Request) (PageMeta, error) {
			fmt.Fprintf(w, "<p>%s %s</p>", RenderFrom(r.Context()), LanguageFrom(r.Context()))
			return PageMeta{Title: "Sivu", NavActive: "main", Announce: "Valmis", Focus: "f",
				Breadcrumbs: []Crumb{{Label: "Etusivu ö", Href: "/pages/p"}}}, nil
		}),
		PostPage("/pages/p", PermPublic, func(w http.ResponseWriter, r *http.Request) (PageMeta, error) {
			if r.FormValue("v") == "" {
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprint(w, `<div id="error-summary"></div>`)
				return PageMeta{Focus: "error-summary"}, nil
			}
			http.Redirect(w, r, "/pages/p", http.StatusSeeOther)
			return PageMeta{}, nil
		}),
		// As sdk/web's Render does: the meta handed to the writer, a zero one returned.
		GetPage("/pages/web", PermPublic, func(w http.ResponseWriter, r *http.Request) (PageMeta, error) {
			w.(interface{ SetPageMeta(PageMeta) }).SetPageMeta(PageMeta{Title: "Verkko", Focus: "kv-error-summary"})
			fmt.Fprint(w, "<p>web</p>")
			return PageMeta{}, nil
		}),
		GetPage("/pages/missing", PermPublic, func(w http.ResponseWriter, r *http.Request) (PageMeta, error) {
			return PageMeta{Title: "never sent"}, Errorf(CodeNotFound, "No such page.")
		}),
		GetPage("/pages/late", PermPublic, func(w http.ResponseWriter, r *http.Request) (PageMeta, error) {
			fmt.Fprint(w, "<p>half")
			return PageMeta{Title: "never sent"}, errors.New("broke halfway")
		}),
	}
}

func TestPage_Constructors(t *testing.T) {
	rs := pagePlugin{}.routes()
	for i, want := range []struct {
		method string
		kind   RouteKind
	}{{"GET", RouteAPI}, {"GET", RoutePage}, {"POST", RoutePage}} {
		if rs[i].Method != want.method || rs[i].Kind != want.kind || rs[i].Handler == nil {
			t.Errorf("route %d: %s %s kind %s", i, rs[i].Method, rs[i].Path, rs[i].Kind)
		}
	}
	if rs[1].ContentType != "text/html; charset=utf-8" || RoutePage.String() != "page" || RouteAPI.String() != "api" {
		t.Errorf("page route %+v", rs[1])
	}
}

// TestPage_Serve: a page answers HTML and leaves its metadata for the SDK; an error
// before anything was written is answered in the error format and no metadata is
// left; forms answer 303 and 422.
func TestPage_Serve(t *testing.T) {
	mux := pagePlugin{}.Handler()
	do := func(method, path, body string, render Render) (*httptest.ResponseRecorder, *PageMeta) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		ctx, meta := RecordPageMeta(WithLanguage(WithRender(req.Context(), render), "sv"))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req.WithContext(ctx))
		return w, meta
	}
	w, meta := do("GET", "/pages/p", "", RenderFragment)
	if w.Code != 200 || w.Body.String() != "<p>fragment sv</p>" || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("page: %d %q %v", w.Code, w.Body, w.Header())
	}
	if meta.Title != "Sivu" || meta.NavActive != "main" || len(meta.Breadcrumbs) != 1 {
		t.Errorf("meta %+v", meta)
	}
	if w, meta = do("GET", "/pages/web", "", RenderPage); meta.Title != "Verkko" || meta.Focus != "kv-error-summary" {
		t.Errorf("meta handed to the writer: %+v", meta)
	}
	w, meta = do("GET", "/pages/missing", "", RenderPage)
	var body ErrorBody
	if w.Code != 404 || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error.Code != CodeNotFound || meta.Title != "" {
		t.Errorf("error page: %d %s, meta %+v", w.Code, w.Body, meta)
	}
	w, meta = do("GET", "/pages/late", "", RenderPage)
	if w.Code != 200 || w.Body.String() != "<p>half" || meta.Title != "" {
		t.Errorf("late error: %d %q, meta %+v", w.Code, w.Body, meta)
	}
	w, meta = do("POST", "/pages/p", "v=", RenderPage)
	if w.Code != 422 || meta.Focus != "error-summary" || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("422: %d %v %+v", w.Code, w.Header(), meta)
	}
	if w, _ = do("POST", "/pages/p", "v=1", RenderPage); w.Code != 303 || w.Header().Get("Location") != "/pages/p" {
		t.Errorf("303: %d %v", w.Code, w.Header())
	}
	if w, _ = do("HEAD", "/pages/p", "", RenderPage); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", w.Code, w.Body)
	}
}

// TestServer_HandlePage: render and language travel in, the metadata out in protocol
// fields; a request without them — from a host built before pages — is an API request
// and its answer carries no page.
func TestServer_HandlePage(t *testing.T) {
	s := configuredServer(pagePlugin{})
	s.handler = pagePlugin{}.Handler()
	resp, err := s.Handle(context.Background(), &pb.HTTPRequest{Method: "GET", Path: "/pages/p", Render: pb.Render_RENDER_PAGE, Language: "fi"})
	if err != nil {
		t.Fatal(err)
	}
	want := &pb.PageMeta{Title: "Sivu", NavActive: "main", Announce: "Valmis", Focus: "f", Breadcrumbs: []*pb.Crumb{{Label: "Etusivu ö", Href: "/pages/p"}}}
	if string(resp.Body) != "<p>page fi</p>" || !proto.Equal(resp.Page, want) {
		t.Errorf("page: %q %v", resp.Body, resp.Page)
	}
	// An older host: no render, no language.
	resp, err = s.Handle(context.Background(), &pb.HTTPRequest{Method: "GET", Path: "/pages/p"})
	if err != nil || string(resp.Body) != "<p>api </p>" || resp.Page != nil {
		t.Errorf("old host: %q %v %v", resp.Body, resp.Page, err)
	}
	resp, err = s.Handle(context.Background(), &pb.HTTPRequest{Method: "GET", Path: "/api/v1/pages/x"})
	if err != nil || resp.Status != 204 || resp.Page != nil {
		t.Errorf("API: %v %v", resp, err)
	}
	// A render mode from a newer protocol is answered as an API request.
	if resp, _ = s.Handle(context.Background(), &pb.HTTPRequest{Method: "GET", Path: "/pages/p", Render: pb.Render(7)}); string(resp.Body) != "<p>api </p>" {
		t.Errorf("unknown render: %q", resp.Body)
	}
}

// TestServer_DescribePages: a host that routes pages gets the page routes and the UI
// section; an older host, which would refuse a route outside /api/v1/, gets the API
// alone. Pages stay out of the OpenAPI document either way.
func TestServer_DescribePages(t *testing.T) {
	s := configuredServer(pagePlugin{})
	m, err := s.Describe(context.Background(), &pb.DescribeRequest{Pages: true})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range m.Routes {
		kinds = append(kinds, r.Method+" "+r.Path+" "+r.Kind.String())
	}
	if got := strings.Join(kinds, ", "); got != "GET /api/v1/pages/x ROUTE_KIND_API, GET /pages/p ROUTE_KIND_PAGE, POST /pages/p ROUTE_KIND_PAGE, GET /pages/web ROUTE_KIND_PAGE, GET /pages/missing ROUTE_KIND_PAGE, GET /pages/late ROUTE_KIND_PAGE" {
		t.Errorf("routes %s", got)
	}
	if ui := m.GetUi(); len(ui.GetNav()) != 1 || ui.Nav[0].Labels["fi"] != "Sivut" || ui.Nav[0].Order != 3 || len(ui.Cards) != 1 || ui.Cards[0].Domain != DomainCity {
		t.Errorf("ui %v", ui)
	}
	var doc map[string]any
	if err := json.Unmarshal(m.Openapi, &doc); err != nil || doc["/pages/p"] != nil || doc["/api/v1/pages/x"] == nil {
		t.Errorf("openapi %s", m.Openapi)
	}

	old, err := s.Describe(context.Background(), &pb.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Routes) != 1 || old.Routes[0].Path != "/api/v1/pages/x" || old.Ui != nil {
		t.Errorf("an older host got %v", old)
	}
	// What an older host's bytes decode to: the new fields are simply absent.
	b, _ := proto.Marshal(&pb.DescribeRequest{})
	var req pb.DescribeRequest
	if err := proto.Unmarshal(b, &req); err != nil || req.Pages {
		t.Errorf("empty describe request decoded as %v, %v", &req, err)
	}
}
