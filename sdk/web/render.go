// Package web is the kit a plugin (and the core's frame) renders pages with: the
// content of <main>, from html/template, in the viewer's language, with components
// whose markup is accessible as it stands (GOV.UK's patterns, Designsystemet's ds-
// classes), and a form helper for Post/Redirect/Get.
//
// A plugin parses its templates once, for every language of its catalog, and renders
// one per request:
//
//	pages := web.MustTemplates(bundle, web.Options{Zone: cityZone, Default: "tr"}, files, "pages/*.tmpl")
//	…
//	web.Render(w, r, pages.For(lang), "booking", data, sdk.PageMeta{Title: …})
//
// Templates call the localizer and the components through functions bound to their
// language — {{t "parks.booking.title"}}, {{n "parks.booking.count" .Count}},
// {{money .Price "TRY"}}, {{template "kv-field" (field .Form "name" "label" (t "…"))}} —
// see Funcs and the kv-* templates in templates/components.tmpl.
package web

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/kvarter/kvarter/sdk"
)

// ErrorSummaryID is the id of the error summary, which PageMeta.Focus names after a
// form was refused (RenderInvalid), so a screen reader starts there.
const ErrorSummaryID = "kv-error-summary"

// MetaSetter is the seam through which a page's metadata reaches the host: the SDK's
// adapter of a page route gives its handler a ResponseWriter with this method (or one
// that Unwraps to it), and Render hands it the meta of the page it writes. The meta
// travels in protocol fields, never in headers (DESIGN.md §10).
type MetaSetter interface {
	SetPageMeta(sdk.PageMeta)
}

// MetaWriter is a ResponseWriter that keeps the meta Render stores, for tests and for
// an adapter that reads it back after the handler returned (MetaOf).
type MetaWriter struct {
	http.ResponseWriter
	meta sdk.PageMeta
	set  bool
}

// NewMetaWriter wraps w.
func NewMetaWriter(w http.ResponseWriter) *MetaWriter { return &MetaWriter{ResponseWriter: w} }

// SetPageMeta keeps meta.
func (m *MetaWriter) SetPageMeta(meta sdk.PageMeta) { m.meta, m.set = meta, true }

// Unwrap is the wrapped ResponseWriter, for http.ResponseController.
func (m *MetaWriter) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// MetaOf is the meta a page stored in w or in a ResponseWriter w wraps; ok is false
// when no page stored any.
func MetaOf(w http.ResponseWriter) (meta sdk.PageMeta, ok bool) {
	for w != nil {
		if m, is := w.(*MetaWriter); is {
			return m.meta, m.set
		}
		u, can := w.(interface{ Unwrap() http.ResponseWriter })
		if !can {
			break
		}
		w = u.Unwrap()
	}
	return sdk.PageMeta{}, false
}

// setMeta hands meta to the first MetaSetter in w's chain of wrappers.
func setMeta(w http.ResponseWriter, meta sdk.PageMeta) {
	for w != nil {
		if s, ok := w.(MetaSetter); ok {
			s.SetPageMeta(meta)
			return
		}
		u, can := w.(interface{ Unwrap() http.ResponseWriter })
		if !can {
			return
		}
		w = u.Unwrap()
	}
}

// Render writes the template name executed with data as the page's content (text/html,
// 200) and hands meta to the host (MetaSetter). The template runs into a buffer first,
// so a failing template answers nothing and its error comes back for the handler to
// answer as an internal error, never half a page.
func Render(w http.ResponseWriter, r *http.Request, t *template.Template, name string, data any, meta sdk.PageMeta) error {
	return RenderStatus(w, r, http.StatusOK, t, name, data, meta)
}

// RenderStatus is Render with another status.
func RenderStatus(w http.ResponseWriter, r *http.Request, status int, t *template.Template, name string, data any, meta sdk.PageMeta) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	return writePage(w, r, status, buf.Bytes(), meta)
}

// writePage answers content as the page's, with meta handed to the host.
func writePage(w http.ResponseWriter, r *http.Request, status int, content []byte, meta sdk.PageMeta) error {
	setMeta(w, meta)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(content)
	return err
}

// RenderInvalid answers a form that broke a rule (DESIGN.md §7 and §10): 422 with the
// form rendered again — its values kept, its error summary at the top — and the error
// summary taking focus (meta.Focus = ErrorSummaryID).
func RenderInvalid(w http.ResponseWriter, r *http.Request, t *template.Template, name string, data any, meta sdk.PageMeta) error {
	meta.Focus = ErrorSummaryID
	return RenderStatus(w, r, http.StatusUnprocessableEntity, t, name, data, meta)
}

// Redirect answers a form that was accepted: 303 See Other to the page to show next,
// which the browser fetches with GET (Post/Redirect/Get), so reloading it does not send
// the form again. to should be a path of the site.
func Redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
