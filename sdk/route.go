package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// A plugin declares its routes once, as a table (DESIGN.md §6):
//
//	func (p *Plugin) Routes() []sdk.Route {
//		return []sdk.Route{
//			sdk.Get("/api/v1/notes/{id}", sdk.PermPublic, p.getNote).Doc("One note", "").Errors(404),
//			sdk.Post("/api/v1/notes", "notes.note.write", p.createNote).In(sdk.DomainCity).Status(201),
//		}
//	}
//
// The same table is the manifest's Routes, the plugin's Handler (Mux) and its OpenAPI
// document (OpenAPI). Handlers return a value or an error; the SDK decodes and checks
// the request body (DecodeJSON), encodes the answer and answers errors with WriteError.

// NoBody is the Request of a route that takes no body, or the Response of one that
// answers none (204 unless the route says otherwise).
type NoBody struct{}

// Param documents a query parameter or, with In "path", a path parameter.
type Param struct {
	Name string
	// In is "query" (when empty) or "path".
	In          string
	Description string
	Required    bool
	// Type is "string" (when empty), "integer", "number" or "boolean".
	Type    string
	Format  string // "uuid", "date", "date-time", …
	Enum    []string
	Example string
}

// Get declares a GET route answered by fn's value as JSON (also HEAD).
func Get[Out any](path, perm string, fn func(r *http.Request) (Out, error)) Route {
	return newRoute(http.MethodGet, path, perm, NoBody{}, *new(Out), &jsonBinder[NoBody, Out]{
		fn: func(r *http.Request, _ NoBody) (Out, error) { return fn(r) }, skipBody: true})
}

// List declares a GET list route: limit and cursor are read (ListParams, answering
// a bad one with 400/422) before fn runs, and documented.
func List[T any](path, perm string, fn func(r *http.Request, q ListQuery) (Page[T], error)) Route {
	return Get(path, perm, func(r *http.Request) (Page[T], error) {
		q, err := ListParams(r)
		if err != nil {
			return Page[T]{}, err
		}
		return fn(r, q)
	})
}

// Post declares a POST route: the body is decoded into In and checked (DecodeJSON),
// fn's value is answered as JSON. Use NoBody for In or Out where there is none.
func Post[In, Out any](path, perm string, fn func(r *http.Request, in In) (Out, error)) Route {
	return bodyRoute(http.MethodPost, path, perm, fn)
}

// Put is Post for PUT.
func Put[In, Out any](path, perm string, fn func(r *http.Request, in In) (Out, error)) Route {
	return bodyRoute(http.MethodPut, path, perm, fn)
}

// Patch is Post for PATCH.
func Patch[In, Out any](path, perm string, fn func(r *http.Request, in In) (Out, error)) Route {
	return bodyRoute(http.MethodPatch, path, perm, fn)
}

// Delete is Post for DELETE; most take NoBody and answer NoBody (204).
func Delete[In, Out any](path, perm string, fn func(r *http.Request, in In) (Out, error)) Route {
	return bodyRoute(http.MethodDelete, path, perm, fn)
}

func bodyRoute[In, Out any](method, path, perm string, fn func(*http.Request, In) (Out, error)) Route {
	return newRoute(method, path, perm, *new(In), *new(Out), &jsonBinder[In, Out]{fn: fn})
}

// Raw declares a route whose handler writes its own answer of contentType (an
// iCalendar feed, a CSV export, a file). An error it returns before writing anything is
// answered with WriteError. Declare a JSON alternative with Returns.
func Raw(method, path, perm, contentType string, fn func(w http.ResponseWriter, r *http.Request) error) Route {
	r := newRoute(method, path, perm, nil, nil, &rawBinder{fn: fn})
	r.ContentType = contentType
	return r
}

func newRoute(method, path, perm string, req, resp any, b binder) Route {
	r := Route{Method: method, Path: path, Permission: perm, Request: req, Response: resp, binder: b}
	return r.rebind()
}

// Doc sets the summary (one line) and description of the route.
func (r Route) Doc(summary, description string) Route {
	r.Summary, r.Description = summary, description
	return r
}

// ID sets the OpenAPI operationId instead of the derived one.
func (r Route) ID(operationID string) Route {
	r.OperationID = operationID
	return r
}

// In sets the domain the permission is checked in: "city", "nbh:{param}",
// "org:{param}", or "" (the default) for any domain where the caller holds it.
func (r Route) In(domain string) Route {
	r.Domain = domain
	return r
}

// Status sets the status of a successful answer (201 for a creation).
func (r Route) Status(code int) Route {
	r.SuccessStatus = code
	return r.rebind()
}

// Errors documents the error statuses the handler answers (404, 409, …).
func (r Route) Errors(statuses ...int) Route {
	r.ErrorStatuses = append(slices.Clone(r.ErrorStatuses), statuses...)
	return r
}

// With documents query parameters, or the format of path parameters (In "path").
func (r Route) With(params ...Param) Route {
	r.Params = append(slices.Clone(r.Params), params...)
	return r
}

// MaxBody lets the route take bodies up to n bytes (at most MaxRouteBodyBytes).
func (r Route) MaxBody(n int64) Route {
	r.MaxBodyBytes = n
	return r
}

// Example sets an example request body and answer for the document; either may be nil.
func (r Route) Example(req, resp any) Route {
	r.RequestExample, r.ResponseExample = req, resp
	return r
}

// Returns documents a JSON answer of v's type, for a Raw route that also answers JSON.
func (r Route) Returns(v any) Route {
	r.Response = v
	return r
}

// OptionalBody accepts an empty request body as the zero value of the route's Request.
func (r Route) OptionalBody() Route {
	r.BodyOptional = true
	return r.rebind()
}

// status is the status of a successful answer.
func (r Route) status() int {
	switch {
	case r.SuccessStatus != 0:
		return r.SuccessStatus
	case isNoBody(r.Response):
		return http.StatusNoContent
	}
	return http.StatusOK
}

func (r Route) rebind() Route {
	if r.binder != nil {
		r.Handler = r.binder.bind(r)
	}
	return r
}

func isNoBody(v any) bool {
	_, ok := v.(NoBody)
	return ok
}

// binder builds a route's handler from the route as finally declared.
type binder interface {
	bind(r Route) http.Handler
}

type jsonBinder[In, Out any] struct {
	fn       func(*http.Request, In) (Out, error)
	skipBody bool // GET: a body, if any, is ignored as HTTP says
}

func (b *jsonBinder[In, Out]) bind(rt Route) http.Handler {
	status, optional := rt.status(), rt.BodyOptional || isNoBody(*new(In))
	noOut := isNoBody(*new(Out))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in In
		if !b.skipBody {
			if err := DecodeJSON(r, &in, optional); err != nil {
				WriteError(w, r, LoggerFrom(r.Context()), err)
				return
			}
		}
		out, err := b.fn(r, in)
		if err != nil {
			WriteError(w, r, LoggerFrom(r.Context()), err)
			return
		}
		if noOut {
			w.WriteHeader(status)
			return
		}
		WriteJSON(w, status, out)
	})
}

type rawBinder struct {
	fn func(http.ResponseWriter, *http.Request) error
}

func (b *rawBinder) bind(Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		err := b.fn(tw, r)
		if err == nil {
			return
		}
		if !tw.wrote {
			WriteError(w, r, LoggerFrom(r.Context()), err)
			return
		}
		// Too late for an error answer: the client sees a cut-off body; log the cause.
		LoggerFrom(r.Context()).ErrorContext(r.Context(), "request failed after answering",
			"request_id", RequestIDFrom(r.Context()), "method", r.Method, "path", r.URL.Path, "error", err)
	})
}

// trackingWriter notes whether an answer has begun.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) { t.wrote = true; t.ResponseWriter.WriteHeader(code) }
func (t *trackingWriter) Write(p []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(p)
}
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

type loggerKey struct{}

// WithLogger returns a context whose requests log errors to l (LoggerFrom).
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// LoggerFrom returns the logger route handlers report internal errors to: the one set
// with WithLogger, else slog.Default (stderr, which the host tags with the plugin name).
func LoggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

// Mux serves a route table: each route's Handler under its method and path (net/http
// patterns), HEAD wherever GET works (without a body), 405 with Allow for a known path
// and a wrong method, 404 otherwise — both in the error format. It panics on a route
// without a Handler or on two routes that conflict, as http.ServeMux does: a table is
// fixed at start-up.
func Mux(routes []Route) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		if rt.Handler == nil {
			panic(fmt.Sprintf("sdk: route %s %s has no Handler", rt.Method, rt.Path))
		}
		mux.Handle(rt.Method+" "+rt.Path, rt.Handler)
	}
	return routeMux{mux}
}

type routeMux struct{ mux *http.ServeMux }

func (m routeMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := m.mux.Handler(r)
	if pattern == "" {
		// http.ServeMux decides between 404, 405 (with Allow) and a redirect to the
		// clean path; keep its decision and its headers, answer in the error format.
		rec := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusMethodNotAllowed:
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			WriteError(w, r, LoggerFrom(r.Context()),
				Errorf(CodeMethodNotAllowed, "This route does not accept %s; it accepts %s.", r.Method, allow))
		case http.StatusNotFound:
			WriteError(w, r, LoggerFrom(r.Context()), Errorf(CodeNotFound, "There is no route %s %s.", r.Method, r.URL.Path))
		default:
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
		}
		return
	}
	if r.Method == http.MethodHead {
		w = headWriter{w}
	}
	m.mux.ServeHTTP(w, r)
}

// headerRecorder keeps the status and headers of http.ServeMux's own answers.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *headerRecorder) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(p), nil
}

// headWriter drops the body of a GET handler answering HEAD; the plugin adapter would
// otherwise carry it to the host.
type headWriter struct{ http.ResponseWriter }

func (headWriter) Write(p []byte) (int, error) { return len(p), nil }

// PathParams are the names of the {param} segments of a route path, in order.
func PathParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}")
			out = append(out, strings.TrimSuffix(name, "..."))
		}
	}
	return out
}
