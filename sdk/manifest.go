package sdk

import (
	"encoding/json"
	"net/http"
)

// Manifest describes a plugin: what it is, the routes it serves and under which
// permission, the roles, permissions and grants it brings, the events it publishes and
// consumes, and its settings.
type Manifest struct {
	Name           string
	Version        string
	MinHostVersion string
	Description    string
	Routes         []Route
	// Permissions are namespaced "<plugin>.<thing>.<verb>".
	Permissions []Permission
	// Roles are plugin-defined roles.
	Roles []Role
	// Grants are default grants of permissions to roles, including core roles such as
	// "resident"; city admins may change them.
	Grants []Grant
	// Publishes and Subscribes list namespaced event types.
	Publishes  []string
	Subscribes []string
	// Notifications are the kinds of notification the plugin sends (Tx.Notify).
	Notifications []NotificationKind
	// DataUses are the kinds of personal data the plugin keeps; the city's privacy
	// page lists them. A plugin that keeps personal data declares every kind (and
	// implements Exporter and Eraser).
	DataUses []DataUse
	Settings []Setting
	// OpenAPI is an OpenAPI 3 "paths" object for this plugin's API routes.
	OpenAPI json.RawMessage
	// UI is what the host draws for the plugin without calling it: nav entries and
	// cards for the host's pages. Its page routes are in Routes, beside the API.
	UI UI
}

// Route is one HTTP route of a plugin. The host matches requests against routes and
// checks Permission in Domain before the plugin sees the request.
type Route struct {
	// Method is GET, POST, PUT, PATCH or DELETE; a page is GET or POST.
	Method string
	// Path is the full path with {param} segments, e.g. "/api/v1/assemblies/{id}/motions"
	// for an API route, "/assemblies/{id}" for a page.
	Path string
	// Kind is RouteAPI (JSON, the default) or RoutePage (HTML: GetPage, PostPage). The
	// host serves page routes to browsers inside its frame and leaves them out of the
	// OpenAPI document.
	Kind RouteKind
	// Permission is PermPublic, PermAuthenticated or a permission name.
	Permission string
	// Domain says where Permission is checked: "city", "nbh:{param}", "org:{param}", or
	// "" for any domain in which the principal holds it.
	Domain string
	// MaxBodyBytes is the largest request body the host accepts for this route; 0
	// means DefaultMaxBodyBytes. A route that takes files (an import, an upload)
	// declares more, up to MaxRouteBodyBytes. The host answers 413 before the plugin
	// sees a larger body.
	MaxBodyBytes int64
	// Uploads are the file fields of the route's multipart/form-data form (a POST,
	// PUT or PATCH). The host receives the files: it checks each by its content,
	// re-encodes images without their metadata, stores it, and forwards the form with
	// the upload's id as the field's value (read it with UploadID). A file in a field
	// not listed here is refused. Declare them with Route.Upload.
	Uploads []UploadField
	// ShowsUploadErrors says that the page's handler shows a refused file in its form
	// (UploadError): the host then forwards the form without its files instead of
	// answering 422 itself. Set it with Route.ShowUploadErrors.
	ShowsUploadErrors bool

	// The fields below document the route and serve it inside the plugin; they never
	// travel to the host. The constructors (Get, Post, Raw, …) fill them.

	// OperationID names the operation in the OpenAPI document; derived from the
	// method and path when empty.
	OperationID string
	// Summary is one line; Description may be paragraphs.
	Summary, Description string
	// Params documents query parameters and, with In "path", the format of path
	// parameters. List routes get limit and cursor without declaring them.
	Params []Param
	// Request and Response are zero values of the Go types the body decodes into and
	// the answer encodes from; their JSON schemas are reflected from them. NoBody
	// means none.
	Request, Response any
	// RequestExample and ResponseExample are shown in the document.
	RequestExample, ResponseExample any
	// SuccessStatus is the status of a successful answer: 200, or 204 when the
	// Response is NoBody, unless set.
	SuccessStatus int
	// ContentType is the media type of a non-JSON answer ("text/calendar").
	ContentType string
	// ErrorStatuses are the statuses the handler answers with an error besides those
	// every route may give (the host's 401/403/413/503, 400/422 for bad input, 500).
	ErrorStatuses []int
	// BodyOptional accepts an empty request body as the zero value of Request.
	BodyOptional bool
	// Handler serves the route; Mux routes requests to it.
	Handler http.Handler

	binder binder // rebuilds Handler when a modifier changes how it answers
}

// Request body limits the host enforces per route.
const (
	// DefaultMaxBodyBytes is the limit of a route that declares none, and of the
	// core's own routes.
	DefaultMaxBodyBytes = 1 << 20
	// MaxRouteBodyBytes is the most a route may declare: a body travels to the
	// plugin in one gRPC message, which must stay under the protocol's bound.
	MaxRouteBodyBytes = 24 << 20
)

// Route permissions that are not permission names.
const (
	PermPublic        = "public"
	PermAuthenticated = "authenticated"
)

// Permission is a namespaced permission a plugin declares.
type Permission struct {
	Name        string
	Description string
}

// Role is a plugin-defined role bundling permissions.
type Role struct {
	Name string
	// Description says in English what a holder may do, for the plugin's docs.
	Description string
	Permissions []string
	// Labels name the role in plain words and Descriptions say what a holder may do,
	// each in every language the plugin speaks (BCP 47 tag → text, "en" at least), so
	// the city admins' pages describe it in the admin's language as the core's roles
	// are ("Park manager": "Approves and rejects bookings of the parks…").
	Labels       map[string]string
	Descriptions map[string]string
}

// Grant gives Permission to Role by default, e.g. {"resident", "assemblies.member.join"}.
type Grant struct {
	Role       string
	Permission string
}

// Setting is a plugin setting with its default; the city config may override it.
type Setting struct {
	Name        string
	Default     string
	Description string
}
