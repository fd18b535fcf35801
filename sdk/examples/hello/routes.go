package hello

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/kvarter/kvarter/sdk"
)

// Routes is hello's route table: the manifest's routes, the mux and the OpenAPI
// document in one. Handlers parse the request, call the service and return.
func (p *Plugin) Routes() []sdk.Route {
	return []sdk.Route{
		sdk.Get("/api/v1/hello/ping", sdk.PermPublic, p.ping).
			Doc("Ping", "Records a ping and publishes hello.pinged."),
		sdk.Get("/api/v1/hello/pings", sdk.PermAuthenticated, p.pings).
			Doc("Your pings", "The caller's own pings, oldest first."),
		sdk.Get("/api/v1/hello/calls", sdk.PermPublic, p.callsHandler).
			Doc("Requests and events that reached the plugin", "For host tests."),
		sdk.Get("/api/v1/hello/whoami", sdk.PermAuthenticated, p.whoami).
			Doc("The caller as the plugin sees them", ""),
		sdk.Raw("POST", "/api/v1/hello/nbh/{nbh}/echo", PermEcho, "application/json", p.echo).
			In("nbh:{nbh}").Status(http.StatusCreated).Returns(Echo{}).
			Doc("Echo the request", "Any body; answers the request as the plugin received it."),
		// Pages (pages.go): HTML for the host's frame, beside the API in one table and
		// kept out of the OpenAPI document.
		sdk.GetPage(PathGreet, sdk.PermPublic, p.greetPage),
		sdk.PostPage(PathGreet, sdk.PermPublic, p.greet).Upload("photo", MaxPhoto, sdk.UploadImage).ShowUploadErrors(),
		sdk.GetPage(PathHomeCard, sdk.PermAuthenticated, p.homeCard),
	}
}

func (p *Plugin) ping(r *http.Request) (Greeting, error) {
	return p.svc.Ping(r.Context(), sdk.PrincipalFrom(r.Context()))
}

func (p *Plugin) pings(r *http.Request) (sdk.Page[Ping], error) {
	q, err := sdk.ListParams(r)
	if err != nil {
		return sdk.Page[Ping]{}, err
	}
	return p.svc.Pings(r.Context(), sdk.PrincipalFrom(r.Context()), q)
}

func (p *Plugin) callsHandler(*http.Request) (Calls, error) {
	return Calls{Calls: p.calls.Load(), Events: p.svc.Events()}, nil
}

func (p *Plugin) whoami(r *http.Request) (WhoAmI, error) {
	return p.svc.WhoAmI(r.Context(), sdk.PrincipalFrom(r.Context()))
}

// Echo is the request as the plugin received it.
type Echo struct {
	Method    string              `json:"method"`
	Path      string              `json:"path"`
	Query     string              `json:"query"`
	Header    map[string][]string `json:"header"`
	Body      string              `json:"body"`
	Nbh       string              `json:"nbh"`
	Principal sdk.Principal       `json:"principal"`
}

// echo answers raw: it takes any body, not only JSON.
func (p *Plugin) echo(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return sdk.Malformed("The request body could not be read.")
	}
	w.Header().Set("X-Hello-Nbh", r.PathValue("nbh"))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(Echo{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header,
		Body: string(body), Nbh: r.PathValue("nbh"), Principal: sdk.PrincipalFrom(r.Context())})
}
