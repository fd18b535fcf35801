package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
)

// languageNames are the switcher's labels, each in its own language, as a speaker
// looks for it.
var languageNames = map[string]string{
	"fi": "Suomi", "sv": "Svenska", "da": "Dansk", "tr": "Türkçe", "en": "English",
	"de": "Deutsch", "nb": "Norsk", "et": "Eesti",
}

// flashes are the messages a flash cookie may name: it carries an id, never text, so
// a forged cookie can show nothing but these.
var flashes = []string{"core.flash.registered", "core.flash.signed_in", "core.flash.signed_out"}

// frameView is what the frame template draws around a page's content.
type frameView struct {
	Lang      string
	Title     string
	FullTitle string
	City      string
	Logo      string
	Styles    []string
	Scripts   []string
	Nav       []navLink
	Crumbs    []crumb
	SignedIn  bool
	Name      string
	Languages []langChoice
	Back      string
	Flash     string
	Announce  string
	Content   template.HTML
	// Frame is "page" or "fragment" (htmx swapping <main>).
	Frame string
}

type navLink struct {
	Label, Path string
	Current     bool
}

type crumb struct {
	Label, Href string
	Current     bool
}

type langChoice struct {
	Code, Name string
	Current    bool
}

// handle turns a page handler's error into the error panel for it.
func (p *Pages) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			p.fail(w, r, err)
		}
	})
}

// fail answers err with its panel: 404, 403, sign-in for a page that needs it, 503
// (with Retry-After) and 500 for anything else, which is logged with the request id
// and shown only as that id.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := core.ErrorCode(err)
	var se *sdk.Error
	if errors.As(err, &se) {
		code = se.Code // the kit's form decoder: not a form, or too large
	}
	switch code {
	case core.EMALFORMED, core.ETOOLARGE:
		status := http.StatusBadRequest
		if code == core.ETOOLARGE {
			status = http.StatusRequestEntityTooLarge
		}
		p.panel(w, r, status, "core.error.bad_request")
	case core.ENOTFOUND:
		p.panel(w, r, http.StatusNotFound, "core.error.not_found")
	case core.EFORBIDDEN:
		p.panel(w, r, http.StatusForbidden, "core.error.forbidden")
	case core.EUNAUTHENTICATED:
		http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
	case core.EUNAVAILABLE:
		w.Header().Set("Retry-After", "30")
		p.panel(w, r, http.StatusServiceUnavailable, "")
	default:
		p.opts.Logger.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err,
			"request_id", core.RequestIDFrom(r.Context()))
		p.panel(w, r, http.StatusInternalServerError, "core.error.internal")
	}
}

// panelView is an error panel's content.
type panelView struct {
	Key       string
	RequestID string
	Status    int
}

func (p *Pages) panel(w http.ResponseWriter, r *http.Request, status int, key string) {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	data := panelView{Key: key, RequestID: core.RequestIDFrom(r.Context()), Status: status}
	title := key + ".title"
	if status == http.StatusServiceUnavailable {
		title = "web.unavailable.title" // the kit's panel, which plugins show too
	}
	if err := p.render(w, r, status, "panel", data, sdk.PageMeta{Title: loc.T(title)}); err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "page: render panel", "err", err)
		http.Error(w, http.StatusText(status), status)
	}
}

// render executes the page's content template, then the frame around it (or, for
// htmx swapping <main>, the fragment), into a buffer: a failing template answers
// nothing but its error.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data any, meta sdk.PageMeta) error {
	v := viewerOf(r)
	tmpl, loc := p.tmpl.For(v.lang), p.tmpl.Localizer(v.lang)
	var content bytes.Buffer
	if err := tmpl.ExecuteTemplate(&content, name, data); err != nil {
		return err
	}
	body := content.Bytes()
	if meta.Focus != "" {
		body = autofocus(body, meta.Focus)
	}
	fv := frameView{
		Lang:      loc.Lang(),
		Title:     meta.Title,
		FullTitle: pageTitle(meta.Title, p.opts.CityName),
		City:      p.opts.CityName,
		Logo:      p.opts.LogoURL,
		Styles:    p.opts.Stylesheets,
		Scripts:   p.opts.Scripts,
		Nav:       p.nav(loc.Lang(), r.URL.Path, meta.NavActive),
		Crumbs:    crumbs(loc, r.URL.Path, meta),
		SignedIn:  v.principal.Authenticated(),
		Name:      v.principal.DisplayName,
		Back:      r.URL.Path,
		Flash:     p.takeFlash(w, r),
		Announce:  meta.Announce,
		Content:   template.HTML(body), // executed by html/template above
	}
	for _, l := range p.opts.Languages {
		name := languageNames[l]
		if name == "" {
			name = l
		}
		fv.Languages = append(fv.Languages, langChoice{Code: l, Name: name, Current: l == fv.Lang})
	}
	frame := "core-frame"
	fv.Frame = "page"
	if target := r.Header.Get("HX-Target"); r.Header.Get("HX-Request") == "true" && (target == "main#main" || target == "main") {
		frame, fv.Frame = "core-fragment", "fragment"
	}
	var out bytes.Buffer
	if err := tmpl.ExecuteTemplate(&out, frame, fv); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, err := w.Write(out.Bytes())
		return err
	}
	return nil
}

// autofocus marks the element whose id is id with autofocus, so the browser focuses
// it on load (no script needed) and htmx after a swap: the error summary after a form
// was refused. Ids the kit makes are plain ([A-Za-z0-9_-]); any other is left alone.
func autofocus(body []byte, id string) []byte {
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return body
		}
	}
	attr := []byte(` id="` + id + `"`)
	i := bytes.Index(body, attr)
	if i < 0 {
		return body
	}
	i += len(attr)
	return slices.Concat(body[:i], []byte(" autofocus"), body[i:])
}

// nav is the core's entries, then those passed in, in the viewer's language, the
// current one marked.
func (p *Pages) nav(lang, path, active string) []navLink {
	out := []navLink{{Label: p.tmpl.Localizer(lang).T("core.nav.home"), Path: "/", Current: path == "/" && active == ""}}
	for _, e := range p.opts.Nav {
		label := e.Labels[lang]
		if label == "" {
			label = e.Labels[p.opts.Languages[0]]
		}
		if label == "" {
			label = e.Labels[i18n.Fallback]
		}
		if label == "" {
			continue
		}
		out = append(out, navLink{Label: label, Path: e.Path, Current: e.ID == active || active == "" && e.Path == path})
	}
	return out
}

// crumbs lead from the home page to this one; the home page has none.
func crumbs(loc *i18n.Localizer, path string, meta sdk.PageMeta) []crumb {
	if path == "/" {
		return nil
	}
	out := []crumb{{Label: loc.T("core.nav.home"), Href: "/"}}
	for _, c := range meta.Breadcrumbs {
		out = append(out, crumb{Label: c.Label, Href: c.Href})
	}
	if len(meta.Breadcrumbs) == 0 || meta.Breadcrumbs[len(meta.Breadcrumbs)-1].Href != path {
		out = append(out, crumb{Label: meta.Title, Href: path})
	}
	out[len(out)-1].Current = true
	return out
}

// flash leaves a message for the next page the browser shows (after a 303): a
// short-lived cookie holding the message's id.
func (p *Pages) flash(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: FlashCookie, Value: id, Path: "/", MaxAge: 60,
		HttpOnly: true, Secure: viewerOf(r).secure, SameSite: http.SameSiteLaxMode})
}

// takeFlash is the flash message the request carries, in the viewer's language, and
// clears it so it shows once.
func (p *Pages) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(FlashCookie)
	if err != nil {
		return ""
	}
	v := viewerOf(r)
	http.SetCookie(w, &http.Cookie{Name: FlashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: v.secure, SameSite: http.SameSiteLaxMode})
	if !slices.Contains(flashes, c.Value) {
		return ""
	}
	return p.tmpl.Localizer(v.lang).T(c.Value)
}

// pageTitle is the <title>: the page's, then the city's.
func pageTitle(title, city string) string {
	if title == "" || strings.EqualFold(title, city) {
		return city
	}
	return title + " – " + city
}
