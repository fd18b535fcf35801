package hello

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// Hello's pages. The host draws the frame (title as the first heading, navigation,
// breadcrumbs, the live region); a page writes only the content of <main>. Handlers
// parse the request, call the same service as the JSON routes, and render.

// Page paths.
const (
	PathGreet    = "/hello/greet"
	PathHomeCard = "/hello/cards/home"
)

// NavGreet is the ID of hello's nav entry.
const NavGreet = "greet"

// ErrorSummaryID is the id of the form's error summary, which takes focus after a
// broken rule.
const ErrorSummaryID = "error-summary"

var templates = template.Must(template.New("").Parse(`
{{define "greet"}}
{{- if .Sent}}
<div class="ds-alert" data-color="success" role="status"><p>{{.T.T "hello.greet.sent"}}</p></div>
{{- if .Photo}}
<figure><img src="{{.Photo}}" alt="{{.T.T "hello.greet.photo.alt"}}" width="320"></figure>
{{- end}}
{{- end}}
{{- if or .Error .PhotoError}}
<div class="ds-error-summary" id="` + ErrorSummaryID + `" tabindex="-1" aria-labelledby="error-summary-heading">
  <h2 id="error-summary-heading">{{.T.T "hello.error.summary"}}</h2>
  <ul>{{if .Error}}<li><a href="#message">{{.Error}}</a></li>{{end}}{{if .PhotoError}}<li><a href="#photo">{{.PhotoError}}</a></li>{{end}}</ul>
</div>
{{- end}}
<p>{{.T.T "hello.greet.intro"}}</p>
<form method="post" action="` + PathGreet + `" enctype="multipart/form-data" novalidate>
  <div class="ds-field">
    <label for="message">{{.T.T "hello.greet.message"}}</label>
    <p id="message-hint">{{.T.T "hello.greet.message.hint" .Max}}</p>
    {{- if .Error}}
    <p id="message-error" class="ds-validation-message"><span class="ds-sr-only">{{.T.T "hello.error.prefix"}}</span> {{.Error}}</p>
    {{- end}}
    <input id="message" name="message" type="text" value="{{.Value}}" autocomplete="off"
      aria-describedby="message-hint{{if .Error}} message-error{{end}}"{{if .Error}} aria-invalid="true"{{end}}>
  </div>
  <div class="ds-field">
    <label for="photo">{{.T.T "hello.greet.photo"}}</label>
    <p id="photo-hint">{{.T.T "hello.greet.photo.hint" .MaxPhotoMB}}</p>
    {{- if .PhotoError}}
    <p id="photo-error" class="ds-validation-message"><span class="ds-sr-only">{{.T.T "hello.error.prefix"}}</span> {{.PhotoError}}</p>
    {{- end}}
    <input id="photo" name="photo" type="file" accept="image/jpeg,image/png"
      aria-describedby="photo-hint{{if .PhotoError}} photo-error{{end}}"{{if .PhotoError}} aria-invalid="true"{{end}}>
  </div>
  <button type="submit" class="ds-button">{{.T.T "hello.greet.send"}}</button>
</form>
{{end}}
{{define "card"}}<p>{{.Count}}</p>
<p><a href="` + PathGreet + `">{{.T.T "hello.card.link"}}</a></p>
{{end}}`))

// MaxPhoto is the largest photo a greeting takes; the host refuses a larger one.
const MaxPhoto = 5 << 20

// greetForm is what the greeting page shows.
type greetForm struct {
	T     catalog
	Max   int
	Value string
	Error string
	Sent  bool
	// Photo is the URL of the photo sent with the greeting, shown after sending;
	// PhotoError says why the host refused the photo sent.
	Photo, PhotoError string
	MaxPhotoMB        int
}

// greetPage shows the form; after a greeting was sent (?sent=1) it confirms it.
func (p *Plugin) greetPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	t := catalogFor(sdk.LanguageFrom(r.Context()))
	f := greetForm{T: t, Max: MaxMessage, MaxPhotoMB: MaxPhoto >> 20, Sent: r.URL.Query().Get("sent") == "1"}
	if id := r.URL.Query().Get("photo"); f.Sent && id != "" {
		// The id the host gave the photo on sending, carried by the redirect: the
		// viewer sees only a photo whose id they hold already.
		f.Photo = sdk.UploadURL(id)
	}
	meta := p.greetMeta(t)
	if f.Sent {
		meta.Announce = t.T("hello.greet.sent")
	}
	return meta, render(w, http.StatusOK, "greet", f)
}

// greet sends a greeting: 303 back to the page on success (Post/Redirect/Get), 422
// with the form, the message kept and the error summary focused on a broken rule.
func (p *Plugin) greet(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	if err := r.ParseForm(); err != nil {
		return sdk.PageMeta{}, sdk.Malformed("The form could not be read.")
	}
	message := r.PostForm.Get("message")
	var e *sdk.Error
	if errors.As(sdk.UploadError(r, "photo"), &e) {
		// The host refused the photo and kept nothing (the route shows upload
		// errors): the form again, the message kept, the photo's problem by it.
		t := catalogFor(sdk.LanguageFrom(r.Context()))
		f := greetForm{T: t, Max: MaxMessage, MaxPhotoMB: MaxPhoto >> 20, Value: message, PhotoError: t.T("hello.error." + e.Fields["rule"])}
		return p.invalid(w, t, f)
	}
	err := p.svc.Greet(r.Context(), sdk.PrincipalFrom(r.Context()), message)
	if errors.As(err, &e) && e.Code == sdk.CodeInvalid {
		t := catalogFor(sdk.LanguageFrom(r.Context()))
		f := greetForm{T: t, Max: MaxMessage, MaxPhotoMB: MaxPhoto >> 20, Value: message, Error: t.T("hello.error."+e.Fields["rule"], MaxMessage)}
		return p.invalid(w, t, f)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	to := PathGreet + "?sent=1"
	if id := sdk.UploadID(r, "photo"); id != "" {
		// The host received the photo (checked, re-encoded, stored) and put its id
		// in the form; a plugin that keeps photos stores the id with its record.
		to += "&" + url.Values{"photo": {id}}.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return sdk.PageMeta{}, nil
}

// invalid answers 422 with the form f and its error summary focused.
func (p *Plugin) invalid(w http.ResponseWriter, t catalog, f greetForm) (sdk.PageMeta, error) {
	meta := p.greetMeta(t)
	meta.Focus = ErrorSummaryID
	return meta, render(w, http.StatusUnprocessableEntity, "greet", f)
}

func (p *Plugin) greetMeta(t catalog) sdk.PageMeta {
	return sdk.PageMeta{Title: t.T("hello.greet.title"), NavActive: NavGreet,
		Breadcrumbs: []sdk.Crumb{{Label: t.T("hello.nav"), Href: PathGreet}}}
}

// homeCard is hello's card on the home page: how many greetings the viewer sent.
func (p *Plugin) homeCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	t := catalogFor(sdk.LanguageFrom(r.Context()))
	n, err := p.svc.PingCount(r.Context(), sdk.PrincipalFrom(r.Context()))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return sdk.PageMeta{Title: t.T("hello.card.title")},
		render(w, http.StatusOK, "card", struct {
			T     catalog
			Count string
		}{t, t.Count(n)})
}

// pageMemo keeps what the templates wrote for equal data: the greeting form is the
// same for everyone who opens it in one language, so it is drawn once per language
// (greetForm and the card's data are values, which the memo requires).
var pageMemo = web.NewMemo(0)

// render draws a template through the memo, which executes it into a buffer first, so
// that a failing template is answered as an error rather than as half a page.
func render(w http.ResponseWriter, status int, name string, data any) error {
	b, err := pageMemo.Bytes(templates, name, data)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}
