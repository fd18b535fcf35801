package web

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/kvarter/kvarter/sdk/i18n"
)

// The views the components (templates/components.tmpl) render. Templates make them with
// the functions of Funcs from key/value pairs, keys being the field names in lower case
// ({{template "kv-tag" (tag "text" (t "…") "tone" "success")}}); handlers may build
// them in Go and pass them in their data. Every text is already in the viewer's
// language: the components add only the kit's own words.

// Field is a form field: kv-field (an <input>: type text, email, tel, url, password,
// search, date or time), kv-textarea, kv-select, or kv-choices (radios, or checkboxes
// with Multiple), each with its label (a legend for kv-choices), hint and error tied to
// the control by aria-describedby. The value shown is the one submitted (never a
// password's).
type Field struct {
	Name  string
	ID    string // the control's id (the first option's for kv-choices): FieldID(Name)
	Label string
	Hint  string
	// FormatHint says how to write a date or time where the browser shows a plain text
	// box instead of a picker.
	FormatHint string
	Error      string
	Value      string
	Values     []string
	Type       string
	// Autocomplete and InputMode are the attributes of the same names (WCAG 1.3.5).
	Autocomplete string
	InputMode    string
	Optional     bool
	Rows         int
	Options      []Option
	Multiple     bool
}

// Option is one choice of a kv-select or kv-choices field.
type Option struct {
	Value    string
	Label    string
	Hint     string
	ID       string // set by field: FieldID(name) for the first, then "-2", "-3"…
	Selected bool   // set by field from the submitted value(s)
}

// HintID, ErrorID and DescribedBy tie the hint and the error to the control.
func (f Field) HintID() string  { return f.ID + "-hint" }
func (f Field) ErrorID() string { return f.ID + "-error" }

// DescribedBy is the aria-describedby of the control: its hint and its error.
func (f Field) DescribedBy() string {
	var ids []string
	if f.Hint != "" || f.FormatHint != "" {
		ids = append(ids, f.HintID())
	}
	if f.Error != "" {
		ids = append(ids, f.ErrorID())
	}
	return strings.Join(ids, " ")
}

// ShowValue reports whether the control shows the submitted value: not a password's,
// nor a file input's (its value is the host's upload id, and a browser asks for the
// file again anyway).
func (f Field) ShowValue() bool { return f.Type != "password" && f.Type != "file" }

// fieldArgs are the keys of the field function.
type fieldArgs struct {
	Label, Hint, Type, Autocomplete, InputMode string
	Optional, Multiple                         bool
	Rows                                       int
	Options                                    []Option
}

var inputTypes = []string{"text", "email", "tel", "url", "password", "search", "date", "time", "file"}

func newField(loc *i18n.Localizer, form *Form, name string, kv []any) (Field, error) {
	a, err := build[fieldArgs](kv)
	if err != nil {
		return Field{}, fmt.Errorf("field %s: %w", name, err)
	}
	if a.Label == "" {
		return Field{}, fmt.Errorf("field %s: a field needs a label", name)
	}
	if a.Type == "" {
		a.Type = "text"
	}
	if !slices.Contains(inputTypes, a.Type) {
		return Field{}, fmt.Errorf("field %s: type %q is not one of %v", name, a.Type, inputTypes)
	}
	f := Field{
		Name: name, ID: FieldID(name), Label: a.Label, Hint: a.Hint, Type: a.Type,
		Autocomplete: a.Autocomplete, InputMode: a.InputMode, Optional: a.Optional,
		Rows: a.Rows, Multiple: a.Multiple,
		Value: form.Value(name), Values: form.Values(name),
	}
	if f.Rows <= 0 {
		f.Rows = 5
	}
	switch f.Type {
	case "date":
		f.FormatHint = loc.T("web.date.hint")
	case "time":
		f.FormatHint = loc.T("web.time.hint")
	}
	if p, ok := form.Problem(name); ok {
		f.Error = problemText(loc, p)
	}
	for i, o := range a.Options {
		o.ID = f.ID
		if i > 0 {
			o.ID += "-" + strconv.Itoa(i+1)
		}
		if f.Multiple {
			o.Selected = slices.Contains(f.Values, o.Value)
		} else {
			o.Selected = len(f.Values) > 0 && o.Value == f.Value
		}
		f.Options = append(f.Options, o)
	}
	return f, nil
}

// problemText is a problem in loc's language: the first catalog message of its IDs,
// else its own text, else the kit's general words.
func problemText(loc *i18n.Localizer, p Problem) string {
	for _, id := range p.IDs {
		if loc.Has(id) {
			if p.Count != nil {
				return loc.N(id, *p.Count, p.Data)
			}
			return loc.T(id, p.Data)
		}
	}
	if p.Text != "" {
		return p.Text
	}
	return loc.T("web.rule.invalid_value")
}

// Summary is the error summary (kv-error-summary): a heading and a link to each field
// at fault, at the top of the form, focused after a refused submission (its id is
// ErrorSummaryID). It renders nothing when the form has no problem.
type Summary struct {
	ID    string
	Items []SummaryItem
}

// SummaryItem is one problem of the summary; Href is "" for the form as a whole.
type SummaryItem struct {
	Href string
	Text string
}

func newSummary(loc *i18n.Localizer, form *Form) Summary {
	s := Summary{ID: ErrorSummaryID}
	for _, p := range form.Problems() {
		item := SummaryItem{Text: problemText(loc, p.Problem)}
		if p.Field != "" {
			item.Href = "#" + FieldID(p.Field)
		}
		s.Items = append(s.Items, item)
	}
	return s
}

// Pagination is a list's page links (kv-pagination): a <nav> named by Label (the kit's
// words without it) with links rel=prev and rel=next. Prev and Next are hrefs (see
// CursorURL); "" leaves the link out. No JavaScript.
type Pagination struct {
	Label string
	Prev  string
	Next  string
}

// CursorURL is u with its cursor parameter set to cursor (the Page's next_cursor) and
// every other parameter kept: the href of a page link. "" when cursor is "".
func CursorURL(u *url.URL, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := u.Query()
	q.Set("cursor", cursor)
	return (&url.URL{Path: u.Path, RawQuery: q.Encode()}).String()
}

// Table is a data table (kv-table) with a caption, column headers (th scope=col) and,
// with RowHeaders, the first cell of each row as the row's header (th scope=row).
type Table struct {
	Caption    string
	Columns    []Column
	Rows       [][]Cell
	RowHeaders bool
}

// Column is a column's header; a Numeric column is aligned for figures.
type Column struct {
	Label   string
	Numeric bool
}

// Cell is a table cell: text, a link when Href is set, or a status tag.
type Cell struct {
	Text string
	Href string
	Tag  *Tag
}

// Tag is a status tag (kv-tag): its text says the status; Tone colours it as well —
// "info", "success", "warning", "danger" or "" (neutral) — never instead.
type Tag struct {
	Text string
	Tone string
}

// Color is the Designsystemet data-color of the tone.
func (t Tag) Color() string { return toneColor(t.Tone) }

func toneColor(tone string) string {
	switch tone {
	case "info", "success", "warning", "danger":
		return tone
	}
	return "neutral"
}

// Card is a card (kv-card): a heading that links to Href, a line of Meta (a date, a
// place) and Text. Level is the heading's level, 2 (the default) to 4.
type Card struct {
	Heading string
	Href    string
	Meta    string
	Text    string
	Level   int
}

// H is the card's heading.
func (c Card) H() Heading { return Heading{Level: c.Level, Text: c.Heading, Href: c.Href} }

// Alert is a notice (kv-alert) with a Tone as Tag's, a heading and a text. It is not a
// live region: the frame announces what changed through PageMeta.Announce.
type Alert struct {
	Tone    string
	Heading string
	Text    string
	Level   int
}

// Color is the Designsystemet data-color of the tone.
func (a Alert) Color() string { return toneColor(a.Tone) }

// H is the alert's heading.
func (a Alert) H() Heading { return Heading{Level: a.Level, Text: a.Heading} }

// Unavailable is the "temporarily unavailable" panel (kv-unavailable) shown in place of
// a part of the site that cannot answer now, in the kit's words. Level is its
// heading's level (2 by default; 1 where it is the whole of <main>).
type Unavailable struct {
	Level int
}

// Heading is a heading of level 1 to 4 (2 when Level is out of range), its text a link
// when Href is set (kv-heading).
type Heading struct {
	Level int
	Text  string
	Href  string
	ID    string
}

// L is the heading's level, 1 to 4.
func (h Heading) L() int {
	if h.Level < 1 || h.Level > 4 {
		return 2
	}
	return h.Level
}

// H is the panel's heading.
func (u Unavailable) H(text string) Heading { return Heading{Level: u.Level, Text: text} }

// build makes a T from key/value pairs: each key names a field of T in any case.
func build[T any](kv []any) (T, error) {
	var out T
	if len(kv)%2 != 0 {
		return out, fmt.Errorf("arguments must be key/value pairs, got %d values", len(kv))
	}
	v := reflect.ValueOf(&out).Elem()
	t := v.Type()
	for i := 0; i < len(kv); i += 2 {
		key, ok := kv[i].(string)
		if !ok {
			return out, fmt.Errorf("key %v is not a string", kv[i])
		}
		sf, found := t.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, key) })
		if !found {
			return out, fmt.Errorf("%s has no %q", t.Name(), key)
		}
		fv := v.FieldByIndex(sf.Index)
		val := reflect.ValueOf(kv[i+1])
		switch {
		case !val.IsValid():
			// nil leaves the zero value
		case val.Type().AssignableTo(fv.Type()):
			fv.Set(val)
		case val.Kind() >= reflect.Int && val.Kind() <= reflect.Int64 && fv.Kind() == reflect.Int:
			fv.SetInt(val.Int())
		default:
			return out, fmt.Errorf("%s.%s takes a %s, not a %s", t.Name(), sf.Name, fv.Type(), val.Type())
		}
	}
	return out, nil
}
