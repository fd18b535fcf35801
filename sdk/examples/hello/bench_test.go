package hello_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/examples/hello"
	"github.com/kvarter/kvarter/sdk/hostside"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// BenchmarkHandle_PageAndRoute measures, through the plugin protocol alone (no core),
// hello's greeting page against its calls route: what a page costs the plugin and
// the wire beyond a JSON answer (issue 16).
func BenchmarkHandle_PageAndRoute(b *testing.B) {
	host := sdktest.NewFakeHost(sdk.ManifestOf(hello.New()))
	p := sdktest.LaunchProcess(b, sdktest.ProcessOptions{Pkg: "./cmd/hello", Name: "hello", Host: host,
		Store: sdktest.SQLiteStore(b), Languages: hello.Languages}).Process
	who := sdk.Principal{UserID: "u-1", DisplayName: "Aino", Locale: "fi"}
	for _, bc := range []struct {
		name string
		req  *hostside.HTTPRequest
	}{
		{"Route", &hostside.HTTPRequest{Method: "GET", Path: "/api/v1/hello/calls", Principal: who}},
		{"Page", &hostside.HTTPRequest{Method: "GET", Path: hello.PathGreet, Principal: who, Render: sdk.RenderPage, Language: "fi"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := p.Handle(context.Background(), bc.req)
					if err != nil || resp.Status != http.StatusOK {
						b.Fatal(resp, err)
					}
				}
			})
		})
	}
}

// BenchmarkGreetPage is the plugin's own work for its greeting page, in process: the
// route table's handler drawing the form in Finnish, without the wire or the host
// (issue 16: the page's template was most of what it cost beyond a JSON answer).
func BenchmarkGreetPage(b *testing.B) {
	mux := sdk.Mux(hello.New().Routes())
	ctx := sdk.WithLanguage(sdk.WithRender(context.Background(), sdk.RenderPage), "fi")
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, hello.PathGreet, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
