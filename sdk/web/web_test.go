package web_test

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/web"
	"github.com/kvarter/kvarter/sdk/web/webtest"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The test plugin's messages; each language's text is the English with the language in
// front, enough to tell them apart.
var pluginMessages = map[string]string{
	"test.title":         "Book a park",
	"test.name.label":    "Your name",
	"test.name.hint":     "As it is written on your card",
	"test.name.required": "Enter your name",
	"test.age.label":     "Age",
	"test.when.label":    "Date",
	"test.at.label":      "Start time",
	"test.secret.label":  "Password",
	"test.photo.label":   "Photo",
	"test.note.label":    "Note",
	"test.kind.label":    "Kind of event",
	"test.kind.a":        "Picnic",
	"test.kind.b":        "Concert",
	"test.kind.b.hint":   "Amplified sound needs a permit",
	"test.size.label":    "Size",
	"test.topics.label":  "Topics",
	"test.send":          "Send",
	"test.table.caption": "Bookings",
	"test.col.park":      "Park",
	"test.col.state":     "State",
	"test.col.people":    "People",
	"test.park":          "Kültürpark",
	"test.state.open":    "Open",
	"test.card.heading":  "Upcoming events",
	"test.card.meta":     "This week",
	"test.card.text":     "Three events near you",
	"test.alert.heading": "Booking sent",
	"test.alert.text":    "We will answer within two days",
	"test.sent":          "Your booking was sent",
}

func pluginCatalog() fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, lang := range i18n.Required {
		var b strings.Builder
		for id, text := range pluginMessages {
			if lang != "en" {
				text = lang + " " + text
			}
			fmt.Fprintf(&b, "[%q]\nother = %q\n", id, text)
		}
		fsys["locales/"+lang+".toml"] = &fstest.MapFile{Data: []byte(b.String())}
	}
	return fsys
}

var pageFiles = fstest.MapFS{
	"pages/all.tmpl": {Data: []byte(`{{define "all"}}<h1>{{t "test.title"}}</h1>
<form method="post" action="/book" novalidate>
{{template "kv-error-summary" (summary .Form)}}
{{template "kv-field" (field .Form "name" "label" (t "test.name.label") "hint" (t "test.name.hint") "autocomplete" "name")}}
{{template "kv-field" (field .Form "age" "label" (t "test.age.label") "inputmode" "numeric" "optional" true)}}
{{template "kv-field" (field .Form "when" "label" (t "test.when.label") "type" "date")}}
{{template "kv-field" (field .Form "at" "label" (t "test.at.label") "type" "time")}}
{{template "kv-field" (field .Form "secret" "label" (t "test.secret.label") "type" "password")}}
{{template "kv-field" (field .Form "photo" "label" (t "test.photo.label") "type" "file" "optional" true)}}
{{template "kv-textarea" (field .Form "note" "label" (t "test.note.label") "rows" 3)}}
{{template "kv-select" (field .Form "kind" "label" (t "test.kind.label") "options" .Kinds)}}
{{template "kv-choices" (field .Form "size" "label" (t "test.size.label") "options" .Kinds)}}
{{template "kv-choices" (field .Form "topics" "label" (t "test.topics.label") "options" .Kinds "multiple" true)}}
<button class="ds-button" type="submit">{{t "test.send"}}</button>
</form>
{{template "kv-table" .Table}}
<p>{{template "kv-tag" (tag "text" (t "test.state.open") "tone" "success")}}</p>
{{template "kv-card" (card "heading" (t "test.card.heading") "href" "/events" "meta" (t "test.card.meta") "text" (t "test.card.text"))}}
{{template "kv-alert" (alert "tone" "info" "heading" (t "test.alert.heading") "text" (t "test.alert.text"))}}
{{template "kv-unavailable" (unavailable)}}
{{template "kv-pagination" (pagination "prev" .Prev "next" .Next)}}
{{end}}`)},
	"pages/form.tmpl": {Data: []byte(`{{define "form"}}<h1>{{t "test.title"}}</h1>
<form method="post" action="/book" novalidate>
{{template "kv-error-summary" (summary .Form)}}
{{template "kv-field" (field .Form "name" "label" (t "test.name.label"))}}
{{template "kv-field" (field .Form "age" "label" (t "test.age.label") "optional" true)}}
{{template "kv-textarea" (field .Form "note" "label" (t "test.note.label"))}}
{{template "kv-choices" (field .Form "topics" "label" (t "test.topics.label") "options" .Kinds "multiple" true)}}
<button class="ds-button" type="submit">{{t "test.send"}}</button>
</form>{{end}}`)},
	"pages/card.tmpl":   {Data: []byte(`{{define "card"}}<h2>Cards</h2>{{template "kv-card" (card "heading" .Heading "href" .Href "text" .Text "level" 3)}}{{template "kv-table" .Table}}{{end}}`)},
	"pages/broken.tmpl": {Data: []byte(`{{define "broken"}}<p>before</p>{{template "kv-field" (field .Form "x")}}{{end}}`)},
}

func newTemplates(t *testing.T) (*i18n.Bundle, *web.Templates) {
	t.Helper()
	b, err := web.NewBundle(pluginCatalog())
	if err != nil {
		t.Fatal(err)
	}
	i18ntest.Strict(t, b)
	istanbul, err := time.LoadLocation("Europe/Istanbul")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := web.NewTemplates(b, web.Options{Zone: istanbul, Default: "tr"}, pageFiles, "pages/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return b, ts
}

// allData is the data of the "all" page in loc's language, with a form sent with
// problems.
func allData(loc *i18n.Localizer) map[string]any {
	form := web.NewForm(url.Values{
		"name": {"Ayşe"}, "age": {"abc"}, "when": {"2027-03-14"}, "at": {"14:30"},
		"secret": {"hunter2"}, "photo": {"0f6c2a4e-8b1d-4c3a-9e7f-000000000001"}, "note": {"\nfirst line kept"}, "kind": {"b"}, "size": {"a"},
		"topics": {"a", "b"},
	})
	form.Invalid("name", "test.name.required", nil)
	form.Catch(sdk.Invalid("age", sdk.RuleRange, "must be from 0 to 150"), "test")
	form.Catch(sdk.Invalid("size", sdk.RuleOneOf, "must be a or b"), "test")
	form.Refuse("test.sent", nil)
	kinds := []web.Option{
		{Value: "a", Label: loc.T("test.kind.a")},
		{Value: "b", Label: loc.T("test.kind.b"), Hint: loc.T("test.kind.b.hint")},
	}
	open := &web.Tag{Text: loc.T("test.state.open"), Tone: "success"}
	table := web.Table{
		Caption:    loc.T("test.table.caption"),
		Columns:    []web.Column{{Label: loc.T("test.col.park")}, {Label: loc.T("test.col.state")}, {Label: loc.T("test.col.people"), Numeric: true}},
		Rows:       [][]web.Cell{{{Text: loc.T("test.park"), Href: "/parks/1"}, {Tag: open}, {Text: loc.Number(1234)}}},
		RowHeaders: true,
	}
	return map[string]any{"Form": form, "Kinds": kinds, "Table": table, "Prev": "/book?cursor=a", "Next": "/book?cursor=b"}
}

func render(t *testing.T, tmpl *template.Template, name string, data any) (string, *httptest.ResponseRecorder, *web.MetaWriter) {
	t.Helper()
	rec := httptest.NewRecorder()
	mw := web.NewMetaWriter(rec)
	r := httptest.NewRequest(http.MethodGet, "/book", nil)
	if err := web.Render(mw, r, tmpl, name, data, sdk.PageMeta{Title: "t"}); err != nil {
		t.Fatal(err)
	}
	return rec.Body.String(), rec, mw
}

func TestComponents(t *testing.T) {
	_, ts := newTemplates(t)
	summaryTitle := map[string]string{
		"en": "There is a problem", "fi": "Lomakkeen tiedoissa on korjattavaa", "sv": "Det finns fel i formuläret",
		"da": "Der er fejl i formularen", "tr": "Formda düzeltilmesi gereken alanlar var", i18n.Pseudo: "[Ţĥéŕé íš á þŕóƀľéɱ",
	}
	for _, lang := range append(append([]string{}, i18n.Required...), i18n.Pseudo) {
		t.Run(lang, func(t *testing.T) {
			loc := ts.Localizer(lang)
			out, _, _ := render(t, ts.For(lang), "all", allData(loc))
			nodes := webtest.ParseFragment(t, out)
			for _, p := range webtest.CheckMarkup(nodes, webtest.Content) {
				t.Error(p)
			}
			if lang == i18n.Pseudo {
				for _, p := range checkPseudo(nodes) {
					t.Error(p)
				}
			}
			if !strings.Contains(out, summaryTitle[lang]) {
				t.Errorf("the error summary's heading %q is not in the page", summaryTitle[lang])
			}

			// The error summary: focusable, named by its heading, one link per field
			// in the form's order, then the form's own problem without a link.
			summary := webtest.ByID(nodes, web.ErrorSummaryID)
			if summary == nil {
				t.Fatal("no error summary")
			}
			if ti, _ := webtest.Attr(summary, "tabindex"); ti != "-1" {
				t.Errorf("error summary tabindex = %q, want -1", ti)
			}
			if _, alert := webtest.Attr(summary, "role"); alert {
				t.Error("the error summary has a role; focus announces it")
			}
			var hrefs []string
			for _, a := range webtest.Find([]*html.Node{summary}, func(n *html.Node) bool { return n.DataAtom == atom.A }) {
				h, _ := webtest.Attr(a, "href")
				hrefs = append(hrefs, h)
			}
			if got := strings.Join(hrefs, " "); got != "#f-name #f-age #f-size" {
				t.Errorf("summary links %q, want the fields at fault in form order", got)
			}
			if items := webtest.Find([]*html.Node{summary}, func(n *html.Node) bool { return n.DataAtom == atom.Li }); len(items) != 4 {
				t.Errorf("summary has %d items, want 4", len(items))
			}
			if lang == "en" {
				text := webtest.Text(summary)
				for _, want := range []string{"Enter your name", "The number is outside the allowed range", "Choose one of the options", "Your booking was sent"} {
					if !strings.Contains(text, want) {
						t.Errorf("summary lacks %q: %q", want, text)
					}
				}
			}

			// A field at fault: aria-invalid, its error tied to it, value kept.
			age := webtest.ByID(nodes, "f-age")
			if v, _ := webtest.Attr(age, "aria-invalid"); v != "true" {
				t.Error("f-age is not aria-invalid")
			}
			if v, _ := webtest.Attr(age, "aria-describedby"); v != "f-age-error" {
				t.Errorf("f-age aria-describedby = %q", v)
			}
			if v, _ := webtest.Attr(age, "value"); v != "abc" {
				t.Errorf("f-age value = %q, want what was typed", v)
			}
			name := webtest.ByID(nodes, "f-name")
			if v, _ := webtest.Attr(name, "aria-describedby"); v != "f-name-hint f-name-error" {
				t.Errorf("f-name aria-describedby = %q, want hint then error", v)
			}
			if v, _ := webtest.Attr(name, "autocomplete"); v != "name" {
				t.Errorf("f-name autocomplete = %q", v)
			}
			if _, ok := webtest.Attr(webtest.ByID(nodes, "f-when"), "aria-invalid"); ok {
				t.Error("a valid field is aria-invalid")
			}
			// Date and time: native inputs with the text fallback's hint.
			for id, typ := range map[string]string{"f-when": "date", "f-at": "time"} {
				n := webtest.ByID(nodes, id)
				if v, _ := webtest.Attr(n, "type"); v != typ {
					t.Errorf("%s type = %q", id, v)
				}
				if v, _ := webtest.Attr(n, "aria-describedby"); v != id+"-hint" || webtest.Text(webtest.ByID(nodes, id+"-hint")) == "" {
					t.Errorf("%s has no format hint", id)
				}
			}
			if v, ok := webtest.Attr(webtest.ByID(nodes, "f-secret"), "value"); ok {
				t.Errorf("a password is shown again: %q", v)
			}
			// A file input: the host's upload id in the form is never written back.
			if n := webtest.ByID(nodes, "f-photo"); n == nil {
				t.Error("no file input")
			} else if v, ok := webtest.Attr(n, "value"); ok {
				t.Errorf("a file input shows a value: %q", v)
			} else if typ, _ := webtest.Attr(n, "type"); typ != "file" {
				t.Errorf("file input type = %q", typ)
			}
			if ta := webtest.ByID(nodes, "f-note"); webtest.Text(ta) != "first line kept" || !strings.HasPrefix(ta.FirstChild.Data, "\n") {
				t.Errorf("textarea lost its leading newline: %q", ta.FirstChild.Data)
			}
			// Options: the submitted ones chosen; radios and checkboxes in a fieldset
			// whose first input has the field's id (the summary links there).
			if _, ok := webtest.Attr(webtest.Find(nodes, func(n *html.Node) bool {
				v, _ := webtest.Attr(n, "value")
				return n.DataAtom == atom.Option && v == "b"
			})[0], "selected"); !ok {
				t.Error("the submitted option is not selected")
			}
			for _, id := range []string{"f-size", "f-topics", "f-topics-2"} {
				if _, ok := webtest.Attr(webtest.ByID(nodes, id), "checked"); !ok {
					t.Errorf("%s is not checked", id)
				}
			}
			if _, ok := webtest.Attr(webtest.ByID(nodes, "f-size-2"), "checked"); ok {
				t.Error("f-size-2 is checked")
			}
			if v, _ := webtest.Attr(webtest.ByID(nodes, "f-size-2"), "aria-describedby"); v != "f-size-2-hint" {
				t.Errorf("an option's hint is not tied to it: %q", v)
			}
			fs := webtest.ByID(nodes, "f-size").Parent.Parent
			if fs.DataAtom != atom.Fieldset {
				t.Fatalf("radios are in a <%s>", fs.Data)
			}
			if v, _ := webtest.Attr(fs, "aria-describedby"); v != "f-size-error" {
				t.Errorf("fieldset aria-describedby = %q", v)
			}
			// Pagination: a named nav with rel links.
			nav := webtest.Find(nodes, func(n *html.Node) bool { return n.DataAtom == atom.Nav })
			if len(nav) != 1 {
				t.Fatal("no pagination nav")
			}
			rels := webtest.Find(nav, func(n *html.Node) bool { _, ok := webtest.Attr(n, "rel"); return ok })
			if len(rels) != 2 {
				t.Errorf("pagination has %d rel links, want prev and next", len(rels))
			}
			// Status tag: text, colour besides.
			for _, tag := range webtest.Find(nodes, func(n *html.Node) bool { c, _ := webtest.Attr(n, "class"); return c == "ds-tag" }) {
				if webtest.Text(tag) == "" {
					t.Error("a tag without text")
				}
			}
			if !strings.Contains(out, `data-color="success"`) {
				t.Error("the tag's tone is not carried")
			}
		})
	}
}

func TestComponents_Escaping(t *testing.T) {
	_, ts := newTemplates(t)
	hostile := []string{
		`<script>alert(1)</script>`,
		`"onmouseover="alert(1)`,
		`'><img src=x onerror=alert(1)>`,
		`</textarea><script>alert(1)</script>`,
	}
	for _, h := range hostile {
		form := web.NewForm(url.Values{"name": {h}, "note": {h}, "age": {h}, "topics": {h}})
		form.Invalid("age", "test.name.required", nil)
		kinds := []web.Option{{Value: h, Label: h}}
		out, _, _ := render(t, ts.For("en"), "form", map[string]any{"Form": form, "Kinds": kinds})
		nodes := webtest.ParseFragment(t, out)
		for _, p := range webtest.CheckMarkup(nodes, webtest.Content) {
			t.Errorf("%q: %s", h, p)
		}
		if v, _ := webtest.Attr(webtest.ByID(nodes, "f-name"), "value"); v != h {
			t.Errorf("value not kept verbatim: %q, want %q", v, h)
		}
		if got := webtest.Text(webtest.ByID(nodes, "f-note")); got != strings.Join(strings.Fields(h), " ") {
			t.Errorf("textarea = %q, want %q", got, h)
		}
		if n := webtest.Find(nodes, func(n *html.Node) bool { return n.DataAtom == atom.Img }); len(n) != 0 {
			t.Errorf("%q made an element", h)
		}

		// Views from a handler's data too: a card, a table cell link.
		table := web.Table{Caption: h, Columns: []web.Column{{Label: h}}, Rows: [][]web.Cell{{{Text: h, Href: "javascript:alert(1)"}}}}
		out, _, _ = render(t, ts.For("en"), "card", map[string]any{"Heading": h, "Href": "javascript:alert(1)", "Text": h, "Table": table})
		nodes = webtest.ParseFragment(t, out)
		for _, p := range webtest.CheckMarkup(nodes, webtest.Content) {
			t.Errorf("%q in a card: %s", h, p)
		}
		if !strings.Contains(out, "#ZgotmplZ") {
			t.Error("a javascript: href was not neutralised")
		}
		if h3 := webtest.Find(nodes, func(n *html.Node) bool { return n.DataAtom == atom.H3 }); len(h3) != 1 || webtest.Text(h3[0]) != strings.Join(strings.Fields(h), " ") {
			t.Errorf("the card heading (level 3) does not show the text as text")
		}
	}
}

func TestCheckMarkup_CatchesBrokenMarkup(t *testing.T) {
	broken := map[string]string{
		"LabelForNothing":    `<label for="x">Name</label>`,
		"UnlabelledInput":    `<input id="a" name="a">`,
		"InputWithoutID":     `<input name="a">`,
		"DescribedByNothing": `<label for="a">A</label><input id="a" aria-describedby="a-hint">`,
		"DuplicateID":        `<p id="a"></p><p id="a"></p>`,
		"SkippedHeading":     `<h3>Deep</h3>`,
		"EventAttribute":     `<p onclick="x()">p</p>`,
		"InlineStyle":        `<p style="color:red">p</p>`,
		"Script":             `<script>x()</script>`,
		"FieldsetNoLegend":   `<fieldset><p>x</p></fieldset>`,
		"TableNoCaption":     `<table><tr><th scope="col">A</th></tr></table>`,
		"ThNoScope":          `<table><caption>C</caption><tr><th>A</th></tr></table>`,
		"NavUnnamed":         `<nav><a href="/">x</a></nav>`,
		"LinkToNothing":      `<a href="#nope">x</a>`,
		"EmptyLink":          `<a href="/x"></a>`,
		"JavascriptURL":      `<a href="javascript:x()">x</a>`,
		"LabelForNonControl": `<label for="p">P</label><p id="p">p</p>`,
	}
	for name, s := range broken {
		if len(webtest.CheckMarkup(webtest.ParseFragment(t, s), webtest.Content)) == 0 {
			t.Errorf("%s: checkMarkup passed %s", name, s)
		}
	}
	if p := checkPseudo(webtest.ParseFragment(t, `<p>[Ñéẋţ~~] plain</p>`)); len(p) == 0 {
		t.Error("checkPseudo passed text outside the brackets")
	}
	if p := checkPseudo(webtest.ParseFragment(t, `<p>[Ñé</p>`)); len(p) == 0 {
		t.Error("checkPseudo passed a cut-off message")
	}
}

// booking is a form's request struct, the same an API route would decode from JSON.
type booking struct {
	Name   string   `json:"name" max:"20"`
	Age    int      `json:"age"`
	Note   string   `json:"note"`
	Topics []string `json:"topics"`
}

// bookingHandler is a page handler as a plugin writes one: decode, call the service,
// re-render with 422 or redirect with 303.
func bookingHandler(ts *web.Templates, service func(booking) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := i18n.Negotiate("", "", r.Header.Get("Accept-Language"), []string{"tr", "en", "fi", "sv", "da"})
		tmpl, loc := ts.For(lang), ts.Localizer(lang)
		kinds := []web.Option{{Value: "a", Label: loc.T("test.kind.a")}, {Value: "b", Label: loc.T("test.kind.b")}}
		meta := sdk.PageMeta{Title: loc.T("test.title")}
		var in booking
		form, err := web.Decode(r, &in)
		if err != nil {
			e, _ := sdk.Public(err)
			http.Error(w, e.Code, e.Status())
			return
		}
		if form.Valid() {
			if err := service(in); !form.Catch(err, "test") && err != nil {
				http.Error(w, "internal", http.StatusInternalServerError)
				return
			}
		}
		if !form.Valid() {
			if err := web.RenderInvalid(w, r, tmpl, "form", map[string]any{"Form": form, "Kinds": kinds}, meta); err != nil {
				t := err.Error()
				http.Error(w, t, http.StatusInternalServerError)
			}
			return
		}
		web.Redirect(w, r, "/book/done")
	}
}

func post(h http.Handler, body, lang string) (*httptest.ResponseRecorder, *web.MetaWriter) {
	r := httptest.NewRequest(http.MethodPost, "/book", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept-Language", lang)
	rec := httptest.NewRecorder()
	mw := web.NewMetaWriter(rec)
	h.ServeHTTP(mw, r)
	return rec, mw
}

func TestForm_RoundTrip(t *testing.T) {
	_, ts := newTemplates(t)
	var got booking
	service := func(b booking) error {
		if strings.TrimSpace(b.Name) == "" {
			return sdk.Invalid("name", sdk.RuleRequired, "must be given")
		}
		got = b
		return nil
	}
	h := bookingHandler(ts, service)

	t.Run("OK303", func(t *testing.T) {
		rec, mw := post(h, "name=Ay%C5%9Fe&age=34&note=hi&topics=a&topics=b&submit=", "tr")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/book/done" {
			t.Fatalf("answer %d to %q, want 303 to /book/done", rec.Code, rec.Header().Get("Location"))
		}
		if got.Name != "Ayşe" || got.Age != 34 || got.Note != "hi" || strings.Join(got.Topics, ",") != "a,b" {
			t.Errorf("decoded %+v", got)
		}
		if _, ok := web.MetaOf(mw); ok {
			t.Error("a redirect stored page meta")
		}
	})
	t.Run("ServiceRule422", func(t *testing.T) {
		rec, mw := post(h, "name=+&age=34&note=%3Cscript%3Ekept%3C%2Fscript%3E&topics=b", "fi-FI,fi;q=0.9")
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("answer %d, want 422", rec.Code)
		}
		meta, ok := web.MetaOf(mw)
		if !ok || meta.Focus != web.ErrorSummaryID || meta.Title != "fi Book a park" {
			t.Errorf("meta %+v, want the summary focused and the Finnish title", meta)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		nodes := webtest.ParseFragment(t, rec.Body.String())
		for _, p := range webtest.CheckMarkup(nodes, webtest.Content) {
			t.Error(p)
		}
		summary := webtest.ByID(nodes, web.ErrorSummaryID)
		// The plugin's own words for the rule win over the kit's ("Täytä tämä kenttä").
		if summary == nil || !strings.Contains(webtest.Text(summary), "fi Enter your name") {
			t.Errorf("summary missing or not the plugin's Finnish words: %v", summary != nil)
		}
		if v, _ := webtest.Attr(webtest.ByID(nodes, "f-age"), "value"); v != "34" {
			t.Errorf("age not kept: %q", v)
		}
		if v := webtest.Text(webtest.ByID(nodes, "f-note")); v != "<script>kept</script>" {
			t.Errorf("note not kept: %q", v)
		}
		if _, ok := webtest.Attr(webtest.ByID(nodes, "f-topics-2"), "checked"); !ok {
			t.Error("checkbox choice not kept")
		}
	})
	t.Run("DecodeProblems422", func(t *testing.T) {
		long := strings.Repeat("é", 21)
		rec, _ := post(h, "name="+url.QueryEscape(long)+"&age=twelve&note=%00", "en")
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("answer %d, want 422", rec.Code)
		}
		nodes := webtest.ParseFragment(t, rec.Body.String())
		text := webtest.Text(webtest.ByID(nodes, web.ErrorSummaryID))
		for _, want := range []string{"Use no more than 20 characters", "Enter a whole number, for example 12", "The text contains characters that cannot be saved"} {
			if !strings.Contains(text, want) {
				t.Errorf("summary lacks %q: %q", want, text)
			}
		}
		if v, _ := webtest.Attr(webtest.ByID(nodes, "f-name"), "value"); v != long {
			t.Error("the too-long name was not kept to be fixed")
		}
	})
	t.Run("ErrNotAForm400", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/book", strings.NewReader(`{"name":"x"}`))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("answer %d, want 400", rec.Code)
		}
	})
	t.Run("ErrTooLarge413", func(t *testing.T) {
		rec, _ := post(h, "note="+strings.Repeat("a", web.MaxFormBytes+1), "en")
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("answer %d, want 413", rec.Code)
		}
	})
}

type plate string

func (p *plate) UnmarshalText(b []byte) error {
	if !bytes.HasPrefix(b, []byte("KV-")) {
		return errors.New("not a plate")
	}
	*p = plate(b)
	return nil
}

func TestDecode(t *testing.T) {
	type embedded struct {
		Inner string `json:"inner"`
	}
	type all struct {
		embedded
		S     string  `json:"s"`
		P     *string `json:"p"`
		N     *int64  `json:"n"`
		B     bool    `json:"b"`
		Off   bool    `json:"off"`
		U     uint8   `json:"u"`
		Plate plate   `json:"plate"`
		Small int     `json:"small"`
		Skip  string  `json:"-"`
		GoNm  string
	}
	req := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		return r
	}
	t.Run("OK", func(t *testing.T) {
		var v all
		f, err := web.Decode(req("inner=i&s=x&p=y&n=-5&b=on&off=false&u=255&plate=KV-1&small=7&Skip=no&GoNm=g&unknown=1"), &v)
		if err != nil || !f.Valid() {
			t.Fatalf("err %v, problems %v", err, f.Problems())
		}
		if v.Inner != "i" || v.S != "x" || *v.P != "y" || *v.N != -5 || !v.B || v.Off || v.U != 255 || v.Plate != "KV-1" || v.Small != 7 || v.Skip != "" || v.GoNm != "g" {
			t.Errorf("decoded %+v", v)
		}
	})
	t.Run("EmptyLeavesZero", func(t *testing.T) {
		var v all
		f, err := web.Decode(req("n=&p="), &v)
		if err != nil || !f.Valid() || v.N != nil || v.P != nil {
			t.Errorf("err %v, %+v", err, v)
		}
	})
	problems := map[string]string{
		"u=256":            "u",
		"u=-1":             "u",
		"n=1.5":            "n",
		"plate=XX":         "plate",
		"small=3000000000": "small", // sdk.CheckInput's 32-bit range
		"s=%ff":            "s",
		"inner=" + strings.Repeat("a", sdk.MaxText+1): "inner",
	}
	for body, field := range problems {
		t.Run("Problem_"+field, func(t *testing.T) {
			var v all
			f, err := web.Decode(req(body), &v)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.Problem(field); !ok {
				t.Errorf("%.40s: no problem with %s: %v", body, field, f.Problems())
			}
		})
	}
	t.Run("Query", func(t *testing.T) {
		// A GET form: the same fields and limits, read from the URL; no content type.
		var v all
		f, err := web.DecodeQuery(httptest.NewRequest(http.MethodGet, "/?s=x&n=-5&b=on", nil), &v)
		if err != nil || !f.Valid() || v.S != "x" || *v.N != -5 || !v.B || f.Value("s") != "x" {
			t.Errorf("err %v, %+v", err, v)
		}
		f, err = web.DecodeQuery(httptest.NewRequest(http.MethodGet, "/?s=a%00b&u=256", nil), &v)
		if err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"s", "u"} {
			if _, ok := f.Problem(field); !ok {
				t.Errorf("no problem with %s: %v", field, f.Problems())
			}
		}
		if _, err := web.DecodeQuery(httptest.NewRequest(http.MethodGet, "/", nil), all{}); err == nil {
			t.Error("DecodeQuery took a struct by value")
		}
	})
	t.Run("ErrNotAPointer", func(t *testing.T) {
		if _, err := web.Decode(req("s=x"), all{}); err == nil {
			t.Error("Decode took a struct by value")
		}
	})
	t.Run("ErrUnsupportedField", func(t *testing.T) {
		var v struct {
			F float64 `json:"f"`
		}
		if _, err := web.Decode(req("f=1"), &v); err == nil {
			t.Error("Decode filled a float")
		}
	})
}

func TestForm_Catch(t *testing.T) {
	f := web.NewForm(nil)
	if f.Catch(errors.New("boom"), "x") || f.Catch(nil, "x") || f.Catch(&sdk.Error{Code: sdk.CodeConflict, Message: "m"}, "x") {
		t.Error("caught an error that is not a broken rule")
	}
	if f.Catch(sdk.Malformed("bad"), "x") {
		t.Error("caught a malformed request")
	}
	if !f.Valid() {
		t.Error("the form has problems after refusing to catch")
	}
	if !f.Catch(sdk.RuleError(sdk.CodeInvalid, "closed", "the park is closed"), "test") {
		t.Fatal("did not catch a rule without a field")
	}
	ps := f.Problems()
	if len(ps) != 1 || ps[0].Field != "" || ps[0].Text != "the park is closed" || ps[0].IDs[0] != "test.closed" {
		t.Errorf("problems %+v", ps)
	}
}

func TestRender(t *testing.T) {
	_, ts := newTemplates(t)
	t.Run("HEAD", func(t *testing.T) {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodHead, "/", nil)
		if err := web.Render(rec, r, ts.For("en"), "card", map[string]any{"Heading": "h", "Text": "x", "Table": web.Table{Caption: "c"}}, sdk.PageMeta{}); err != nil {
			t.Fatal(err)
		}
		if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") == "" {
			t.Errorf("HEAD answered %d with %d bytes", rec.Code, rec.Body.Len())
		}
	})
	t.Run("ErrTemplateWritesNothing", func(t *testing.T) {
		rec := httptest.NewRecorder()
		mw := web.NewMetaWriter(rec)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		err := web.Render(mw, r, ts.For("en"), "broken", map[string]any{"Form": (*web.Form)(nil)}, sdk.PageMeta{Title: "x"})
		if err == nil {
			t.Fatal("a field without a label rendered")
		}
		if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
			t.Errorf("half a page was written: %q", rec.Body.String())
		}
		if _, ok := web.MetaOf(mw); ok {
			t.Error("meta stored for a page that failed")
		}
	})
	t.Run("MetaThroughWrappers", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s := &setter{ResponseWriter: rec}
		w := &wrapper{ResponseWriter: s}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		meta := sdk.PageMeta{Title: "Kültürpark", Announce: "Sent", Breadcrumbs: []sdk.Crumb{{Label: "Parks", Href: "/parks"}}}
		if err := web.Render(w, r, ts.For("tr"), "card", map[string]any{"Heading": "h", "Text": "x", "Table": web.Table{Caption: "c"}}, meta); err != nil {
			t.Fatal(err)
		}
		if s.meta.Title != "Kültürpark" || s.meta.Breadcrumbs[0].Href != "/parks" {
			t.Errorf("the MetaSetter behind a wrapper got %+v", s.meta)
		}
	})
	t.Run("NoSetterStillRenders", func(t *testing.T) {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if err := web.Render(rec, r, ts.For("en"), "card", map[string]any{"Heading": "h", "Text": "x", "Table": web.Table{Caption: "c"}}, sdk.PageMeta{}); err != nil || rec.Body.Len() == 0 {
			t.Errorf("err %v, %d bytes", err, rec.Body.Len())
		}
	})
}

type setter struct {
	http.ResponseWriter
	meta sdk.PageMeta
}

func (s *setter) SetPageMeta(m sdk.PageMeta) { s.meta = m }

type wrapper struct{ http.ResponseWriter }

func (w *wrapper) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func TestTemplates(t *testing.T) {
	b, ts := newTemplates(t)
	t.Run("For", func(t *testing.T) {
		cases := map[string]string{"sv-FI": "sv", "de": "tr", "": "tr", "fi": "fi", i18n.Pseudo: i18n.Pseudo}
		for lang, want := range cases {
			var buf bytes.Buffer
			if err := ts.For(lang).ExecuteTemplate(&buf, "kv-unavailable", web.Unavailable{}); err != nil {
				t.Fatal(err)
			}
			if got := ts.Localizer(lang).Lang(); got != want {
				t.Errorf("For(%q) is in %q, want %q", lang, got, want)
			}
		}
	})
	t.Run("ErrFuncNameTaken", func(t *testing.T) {
		_, err := web.NewTemplates(b, web.Options{Funcs: template.FuncMap{"t": func() string { return "" }}}, pageFiles, "pages/*.tmpl")
		if err == nil {
			t.Error("a plugin function replaced the kit's t")
		}
	})
	t.Run("ErrBundleWithoutKit", func(t *testing.T) {
		own := i18n.MustBundle(pluginCatalog())
		if _, err := web.NewTemplates(own, web.Options{}, pageFiles, "pages/*.tmpl"); err == nil {
			t.Error("templates made without the kit's catalog")
		}
	})
	t.Run("ErrBadTemplate", func(t *testing.T) {
		bad := fstest.MapFS{"p.tmpl": {Data: []byte(`{{define "p"}}{{nosuchfunc}}{{end}}`)}}
		if _, err := web.NewTemplates(b, web.Options{}, bad, "p.tmpl"); err == nil {
			t.Error("a template with an unknown function parsed")
		}
	})
	t.Run("Formatting", func(t *testing.T) {
		_, ts := newTemplates(t) // For executed the others: a fresh set can be cloned
		tmpl := template.Must(ts.For("fi").Clone())
		template.Must(tmpl.New("x").Parse(`{{date .At}}|{{time .At}}|{{datetime .At}}|{{number .N}}|{{money .M "EUR"}}|{{n "web.rule.max_length_n" .N}}|{{lang}}`))
		var buf bytes.Buffer
		at := time.Date(2026, 12, 5, 22, 30, 0, 0, time.UTC)
		if err := tmpl.ExecuteTemplate(&buf, "x", map[string]any{"At": at, "N": 1200, "M": int32(86000000)}); err != nil {
			t.Fatal(err)
		}
		want := "6.12.2026|01.30|6.12.2026 klo 01.30|1\u00a0200|860\u00a0000,00\u00a0€|Käytä enintään 1\u00a0200 merkkiä|fi"
		if buf.String() != want {
			t.Errorf("got  %q\nwant %q", buf.String(), want)
		}
	})
	t.Run("ErrArguments", func(t *testing.T) {
		_, ts := newTemplates(t)
		for _, src := range []string{
			`{{t "web.pagination.next" "odd"}}`,
			`{{n "web.rule.max_length_n" "many"}}`,
			`{{template "kv-tag" (tag "text")}}`,
			`{{template "kv-tag" (tag "colour" "red")}}`,
			`{{template "kv-tag" (tag "text" 5)}}`,
			`{{template "kv-field" (field nil "x" "label" "X" "type" "button")}}`,
			`{{money "a lot" "EUR"}}`,
		} {
			tmpl := template.Must(ts.For("en").Clone())
			template.Must(tmpl.New("x").Parse(src))
			if err := tmpl.ExecuteTemplate(&bytes.Buffer{}, "x", nil); err == nil {
				t.Errorf("%s rendered", src)
			}
		}
	})
}

func TestCursorURL(t *testing.T) {
	u, _ := url.Parse("/parks/bookings?limit=20&cursor=old&q=k%C3%BC")
	got := web.CursorURL(u, "next+/=")
	want := "/parks/bookings?cursor=next%2B%2F%3D&limit=20&q=k%C3%BC"
	if got != want {
		t.Errorf("CursorURL = %q, want %q", got, want)
	}
	if web.CursorURL(u, "") != "" {
		t.Error("a last page has a next link")
	}
}

func TestFieldID(t *testing.T) {
	cases := map[string]string{"name": "f-name", "contact.name": "f-contact-name", `a"b<c`: "f-a-b-c", "ä": "f--"}
	for in, want := range cases {
		if got := web.FieldID(in); got != want {
			t.Errorf("FieldID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	i18ntest.CheckCatalog(t, web.Catalog)
}

// BenchmarkRender is one form page with every field at fault, rendered into a
// response: what a 422 costs beyond the service call.
func BenchmarkRender(b *testing.B) {
	bundle, err := web.NewBundle(pluginCatalog())
	if err != nil {
		b.Fatal(err)
	}
	ts, err := web.NewTemplates(bundle, web.Options{Default: "tr"}, pageFiles, "pages/*.tmpl")
	if err != nil {
		b.Fatal(err)
	}
	data := allData(ts.Localizer("fi"))
	r := httptest.NewRequest(http.MethodGet, "/book", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		if err := web.Render(w, r, ts.For("fi"), "all", data, sdk.PageMeta{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDate(t *testing.T) {
	ok := map[string]string{
		"2027-03-14": "2027-03-14", "2027-3-4": "2027-03-04", " 14.3.2027 ": "2027-03-14",
		"14.03.2027.": "2027-03-14", "4/3/2027": "2027-03-04", "29.2.2028": "2028-02-29",
	}
	for in, want := range ok {
		var d web.Date
		if err := d.UnmarshalText([]byte(in)); err != nil || string(d) != want {
			t.Errorf("Date(%q) = %q, %v; want %q", in, d, err, want)
		}
	}
	for _, in := range []string{"", "tomorrow", "31.2.2027", "29.2.2027", "2027-13-01", "0000-01-01", "1.1.1969", "1.1.2200",
		"14.3.27x", "2027-03-14T10:00", "-1.3.2027", "1.1.99999", "١٤.٣.٢٠٢٧", "2027--14"} {
		var d web.Date
		if err := d.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("Date(%q) = %q, want refused", in, d)
		}
	}
	for in, want := range map[string]string{"14:30": "14:30", "9.05": "09:05", "23:59:59": "23:59", "0:00": "00:00"} {
		var c web.Clock
		if err := c.UnmarshalText([]byte(in)); err != nil || string(c) != want {
			t.Errorf("Clock(%q) = %q, %v; want %q", in, c, err, want)
		}
	}
	for _, in := range []string{"", "24:00", "14:60", "14", "14:3", "2 pm", "-1:30", "14:30:00:00", "１４:３０"} {
		var c web.Clock
		if err := c.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("Clock(%q) = %q, want refused", in, c)
		}
	}
	// Helsinki moves its clocks on 2027-03-28 at 03:00 to 04:00.
	hel, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	at, err := web.Date("2027-03-14").At("14:30", hel)
	if err != nil || !at.Equal(time.Date(2027, 3, 14, 12, 30, 0, 0, time.UTC)) {
		t.Errorf("At = %v, %v", at, err)
	}
	day, err := web.Date("2027-03-28").In(hel)
	if err != nil || day.Hour() != 0 || day.Day() != 28 {
		t.Errorf("In = %v, %v", day, err)
	}
	if _, err := web.Date("junk").In(hel); err == nil {
		t.Error("a Date not made by UnmarshalText converted")
	}

	// Through a form: problems in the person's language, the typed text kept.
	var in struct {
		When web.Date  `json:"when"`
		At   web.Clock `json:"at"`
		Then web.Date  `json:"then"`
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("when=31.2.2027&at=25.00&then=1.1.1900"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form, err := web.Decode(r, &in)
	if err != nil {
		t.Fatal(err)
	}
	_, ts := newTemplates(t)
	for field, want := range map[string]string{"when": "Anna oikea päivämäärä", "at": "Anna kellonaika", "then": "Anna päivämäärä vuosien 1970 ja 2199 väliltä"} {
		f := template.Must(template.Must(ts.For("fi").Clone()).New("x").Parse(`{{with field .Form .Name "label" "L"}}{{.Error}}|{{.Value}}{{end}}`))
		var buf bytes.Buffer
		if err := f.ExecuteTemplate(&buf, "x", map[string]any{"Form": form, "Name": field}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), want) || !strings.HasSuffix(buf.String(), "|"+form.Value(field)) {
			t.Errorf("%s: %q, want %q… and the typed value", field, buf.String(), want)
		}
	}
}
