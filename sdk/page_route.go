package sdk

import (
	"context"
	"net/http"
)

// Pages sit in the same route table as the API (DESIGN.md §6, §10): one table feeds the
// manifest, the mux and the OpenAPI document, and page routes stay out of the document.
//
//	func (p *Plugin) Routes() []sdk.Route {
//		return []sdk.Route{
//			sdk.Get("/api/v1/notes/{id}", sdk.PermPublic, p.getNote),
//			sdk.GetPage("/notes/{id}", sdk.PermPublic, p.notePage),
//			sdk.PostPage("/notes/{id}", "notes.note.write", p.saveNote).In(sdk.DomainCity),
//		}
//	}
//
// A page handler writes HTML — the content of <main> for RenderPage, or just the
// piece asked for with RenderFragment (an htmx swap, a card) — and returns the page's
// metadata, which travels to the host in protocol fields. The host draws the frame
// (head, navigation, breadcrumbs, live region) around it, so the handler writes no
// <html>, <head> or <body>. Page routes live under /<plugin>/ (API routes under
// /api/v1/<plugin>/); the host checks their permission in their domain exactly as it
// does an API route's, before the plugin sees anything.
//
// Forms follow Post/Redirect/Get: a PostPage handler that succeeds answers 303 with
// http.Redirect(w, r, to, http.StatusSeeOther); one whose input breaks a rule writes
// 422 with the form again, the values kept and an error summary, and returns
// PageMeta.Focus naming the summary. Any other failure is returned as an error: the SDK
// answers it in the error format and the host shows its own panel (404, 403, 500).

// RouteKind says what a route answers.
type RouteKind int

const (
	// RouteAPI answers JSON under /api/v1/<plugin>/ (the default).
	RouteAPI RouteKind = iota
	// RoutePage answers HTML under /<plugin>/: a page or a fragment (GetPage,
	// PostPage).
	RoutePage
)

// String is the kind's name.
func (k RouteKind) String() string {
	if k == RoutePage {
		return "page"
	}
	return "api"
}

// PageFunc renders a page or a fragment of one to w and returns its metadata. A
// handler that renders with sdk/web may return a zero PageMeta: web.Render hands the
// metadata to w itself. An error returned before anything was written is answered in
// the error format (the host shows its panel for the status); after, it can only be
// logged.
type PageFunc func(w http.ResponseWriter, r *http.Request) (PageMeta, error)

// GetPage declares a GET page (also HEAD). The handler reads RenderFrom to tell a
// page from a fragment when it serves both.
func GetPage(path, perm string, fn PageFunc) Route {
	return pageRoute(http.MethodGet, path, perm, fn)
}

// PostPage declares the POST of a form (application/x-www-form-urlencoded, read with
// r.ParseForm or r.FormValue): 303 on success, 422 with the form on a broken rule.
func PostPage(path, perm string, fn PageFunc) Route {
	return pageRoute(http.MethodPost, path, perm, fn)
}

func pageRoute(method, path, perm string, fn PageFunc) Route {
	r := newRoute(method, path, perm, nil, nil, &pageBinder{fn: fn})
	r.Kind, r.ContentType = RoutePage, "text/html; charset=utf-8"
	return r
}

type pageBinder struct{ fn PageFunc }

func (b *pageBinder) bind(Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &pageWriter{trackingWriter: trackingWriter{ResponseWriter: w}}
		meta, err := b.fn(pw, r)
		if err != nil {
			if !pw.wrote {
				WriteError(w, r, LoggerFrom(r.Context()), err)
				return
			}
			LoggerFrom(r.Context()).ErrorContext(r.Context(), "page failed after answering",
				"request_id", RequestIDFrom(r.Context()), "method", r.Method, "path", r.URL.Path, "error", err)
			return
		}
		if pw.metaSet && meta.isZero() {
			meta = pw.meta // rendered with sdk/web, which hands the meta over itself
		}
		if slot, ok := r.Context().Value(pageMetaKey).(*PageMeta); ok {
			*slot = meta
		}
	})
}

func (m PageMeta) isZero() bool {
	return m.Title == "" && len(m.Breadcrumbs) == 0 && m.NavActive == "" && m.Announce == "" && m.Focus == ""
}

// pageWriter answers HTML unless the handler says otherwise, and keeps the metadata a
// renderer hands it (sdk/web's MetaSetter).
type pageWriter struct {
	trackingWriter
	meta    PageMeta
	metaSet bool
}

// SetPageMeta keeps the page's metadata, for a handler that renders with sdk/web
// (web.Render hands it over) and returns a zero PageMeta.
func (p *pageWriter) SetPageMeta(meta PageMeta) { p.meta, p.metaSet = meta, true }

func (p *pageWriter) WriteHeader(code int) {
	if !p.wrote && p.Header().Get("Content-Type") == "" {
		p.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	p.trackingWriter.WriteHeader(code)
}

func (p *pageWriter) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	return p.trackingWriter.Write(b)
}

// Context keys of the page contract.
type pageCtxKey int

const (
	renderKey pageCtxKey = iota
	languageKey
	pageMetaKey
)

// RenderFrom says what the host asked the request to answer: RenderAPI for JSON (and
// whenever the host did not say, as an older host does not), RenderPage for the
// content of <main>, RenderFragment for a piece of a page or a card.
func RenderFrom(ctx context.Context) Render {
	r, _ := ctx.Value(renderKey).(Render)
	return r
}

// LanguageFrom is the viewer's language as the host negotiated it (a BCP 47 tag such
// as "fi" or "sv-FI"): their profile's, the language switcher's, Accept-Language's, or
// the city's default. Empty when the host did not say (an older host); a localizer
// then falls back to the city's default language.
func LanguageFrom(ctx context.Context) string {
	l, _ := ctx.Value(languageKey).(string)
	return l
}

// WithRender returns a context whose requests ask for render. The SDK does this for
// every request; it is exported for plugin tests that call handlers directly.
func WithRender(ctx context.Context, render Render) context.Context {
	return context.WithValue(ctx, renderKey, render)
}

// WithLanguage returns a context carrying the viewer's language, for plugin tests.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, languageKey, lang)
}

// RecordPageMeta returns a context in which a page route's handler leaves its
// PageMeta in *meta once it has answered without an error. The SDK uses it to send
// the metadata to the host; tests use it to read what a page said.
func RecordPageMeta(ctx context.Context) (_ context.Context, meta *PageMeta) {
	meta = new(PageMeta)
	return context.WithValue(ctx, pageMetaKey, meta), meta
}
