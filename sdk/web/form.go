package web

import (
	"encoding"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kvarter/kvarter/sdk"
)

// MaxFormBytes is the most a url-encoded form body may hold: far more than any form's
// text, far less than would hurt. Files go through the host's uploads, not here.
const MaxFormBytes = 1 << 20

// Rules a form refuses a value by before any service sees it, beside sdk's.
const (
	// RuleWholeNumber: a number field holds something that is not a whole number.
	RuleWholeNumber = "whole_number"
)

// Problem is what is wrong with a field (or the form as a whole), said in the viewer's
// language when the form is rendered: the first of IDs the catalog has, filled from
// Data (Count, if set, picks the plural form), else Text as it is.
type Problem struct {
	IDs   []string
	Count *int
	Data  map[string]any
	Text  string
}

// Form is a submitted (or prefilled) form: its values as they were typed, kept to be
// shown again, and the problems found with them, in the order of the form's fields.
// The zero Form is not usable; a nil *Form is an empty one wherever templates take it.
type Form struct {
	values   url.Values
	problems map[string]Problem
	order    []string // field names: the struct's, then any others as problems arrive
	general  []Problem
}

// NewForm is a form showing values: empty for a new form (nil), or an edit form's
// current values.
func NewForm(values url.Values) *Form {
	if values == nil {
		values = url.Values{}
	}
	return &Form{values: values, problems: map[string]Problem{}}
}

// Value is the field's value as submitted (the first, for a field sent more than once).
func (f *Form) Value(name string) string {
	if f == nil {
		return ""
	}
	return f.values.Get(name)
}

// Values are all the values of a field sent more than once (checkboxes).
func (f *Form) Values(name string) []string {
	if f == nil {
		return nil
	}
	return f.values[name]
}

// Set replaces the field's value, to prefill it.
func (f *Form) Set(name string, values ...string) { f.values[name] = values }

// Valid reports whether the form has no problem.
func (f *Form) Valid() bool { return f == nil || len(f.problems) == 0 && len(f.general) == 0 }

// Invalid records a problem with the field name, told by the catalog message id filled
// from data: a plugin's own words for a rule ("parks.booking.date.past").
func (f *Form) Invalid(name, id string, data map[string]any) {
	f.add(name, Problem{IDs: []string{id}, Data: data})
}

// Refuse records a problem with the form as a whole (no field to point at), told by
// the message id.
func (f *Form) Refuse(id string, data map[string]any) {
	f.general = append(f.general, Problem{IDs: []string{id}, Data: data})
}

// Problem is the problem recorded for the field name, if any.
func (f *Form) Problem(name string) (Problem, bool) {
	if f == nil {
		return Problem{}, false
	}
	p, ok := f.problems[name]
	return p, ok
}

// FieldProblem is a problem and the field it is about ("" for the form as a whole).
type FieldProblem struct {
	Field string
	Problem
}

// Problems are the form's problems in the order of its fields, then those of the form
// as a whole: the error summary lists them so.
func (f *Form) Problems() []FieldProblem {
	if f == nil {
		return nil
	}
	var out []FieldProblem
	for _, name := range f.order {
		if p, ok := f.problems[name]; ok {
			out = append(out, FieldProblem{name, p})
		}
	}
	for _, p := range f.general {
		out = append(out, FieldProblem{"", p})
	}
	return out
}

func (f *Form) add(name string, p Problem) {
	if _, seen := f.problems[name]; seen {
		return // the first problem of a field is the one to fix first
	}
	f.problems[name] = p
	if !slices.Contains(f.order, name) {
		f.order = append(f.order, name)
	}
}

// Catch records err as the form's problems when it is a refusal a person can fix: an
// *sdk.Error with the code invalid (DESIGN.md §7), whose Fields name the fields at fault
// and Fields["rule"] the rule. Each field's message is the first the catalog has of
// "<prefix>.<field>.<rule>" (the plugin's own words, e.g. "parks.booking.date.past")
// and "web.rule.<rule>" (the kit's words for the common rules), else the error's own
// text. It reports whether it caught err; any other error is the handler's to answer.
func (f *Form) Catch(err error, prefix string) bool {
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != sdk.CodeInvalid || e.Malformed {
		return false
	}
	rule := e.Fields["rule"]
	ids := func(field string) []string {
		var out []string
		if prefix != "" {
			if field != "" {
				out = append(out, prefix+"."+field+"."+rule)
			} else {
				out = append(out, prefix+"."+rule)
			}
		}
		if rule != "" && rule != sdk.RuleInvalidValue {
			out = append(out, "web.rule."+rule) // invalid_value: the error's text says more
		}
		return out
	}
	caught := false
	for field, text := range e.Fields {
		if field == "rule" {
			continue
		}
		f.add(field, Problem{IDs: ids(field), Text: text})
		caught = true
	}
	if !caught {
		f.general = append(f.general, Problem{IDs: ids(""), Text: e.Message})
	}
	return true
}

// FieldID is the id of the input of the field name (the first option's, for radios
// and checkboxes): the error summary links to it.
func FieldID(name string) string {
	var b strings.Builder
	b.WriteString("f-")
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// Decode reads a url-encoded form body into dst, a pointer to a struct whose fields are
// named as in JSON (the json tag, else the Go name), so one request struct serves a
// route of the API and a form alike. Strings, []string (checkboxes), bool (a checkbox:
// present means true), integers, Date and Clock, pointers to those and
// encoding.TextUnmarshaler fields are filled; an empty field leaves its zero value. Values are held to the limits of
// sdk.CheckInput (no NUL, valid UTF-8, `max` characters, MaxText by default; integer
// ranges), with problems recorded in the returned Form, which keeps every value as it
// was typed. The error is for a request that is no form at all: another content type
// (400), or a body over MaxFormBytes (413).
func Decode(r *http.Request, dst any) (*Form, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("web: Decode needs a pointer to a struct, not %T", dst)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, sdk.Malformed("The request is not a form (application/x-www-form-urlencoded).")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &sdk.Error{Code: sdk.CodeTooLarge, Message: fmt.Sprintf("The form is larger than %d bytes.", MaxFormBytes)}
		}
		return nil, sdk.Malformed("The form cannot be read.")
	}
	return decodeValues(r.PostForm, rv, dst)
}

// DecodeQuery is Decode for a GET form — a search, the filters of a list — whose
// values are the URL's query: the same fields, limits and problems, so a filter that
// breaks a rule is answered 422 with the form again, as a POST form is.
func DecodeQuery(r *http.Request, dst any) (*Form, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("web: DecodeQuery needs a pointer to a struct, not %T", dst)
	}
	return decodeValues(r.URL.Query(), rv, dst)
}

func decodeValues(values url.Values, rv reflect.Value, dst any) (*Form, error) {
	f := NewForm(values)
	if err := f.fill(rv.Elem()); err != nil {
		return nil, err
	}
	if f.Valid() {
		if err := sdk.CheckInput(dst); err != nil && !f.Catch(err, "") {
			return nil, err
		}
	}
	return f, nil
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// fill sets the fields of the struct v from f's values, in field order.
func (f *Form) fill(v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			// Promoted fields, as encoding/json has them (of an unexported type too).
			if err := f.fill(v.Field(i)); err != nil {
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f.order = append(f.order, name)
		maxLen := sdk.MaxText
		if s, ok := sf.Tag.Lookup("max"); ok {
			if n, err := strconv.Atoi(s); err == nil {
				maxLen = n
			}
		}
		if err := f.set(v.Field(i), name, maxLen); err != nil {
			return err
		}
	}
	return nil
}

func (f *Form) set(fv reflect.Value, name string, maxLen int) error {
	raw, present := f.values[name]
	for _, s := range raw {
		if p, bad := checkText(s, maxLen); bad {
			f.add(name, p)
			return nil
		}
	}
	if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String {
		if present {
			out := reflect.MakeSlice(fv.Type(), len(raw), len(raw))
			for i, s := range raw {
				out.Index(i).SetString(s)
			}
			fv.Set(out)
		}
		return nil
	}
	s := f.values.Get(name)
	if fv.Kind() == reflect.Bool {
		fv.SetBool(present && s != "" && s != "false" && s != "0" && s != "off")
		return nil
	}
	if s == "" {
		return nil
	}
	if fv.Kind() == reflect.Pointer {
		nv := reflect.New(fv.Type().Elem())
		if err := f.setOne(nv.Elem(), name, s); err != nil {
			return err
		}
		if _, failed := f.problems[name]; !failed {
			fv.Set(nv)
		}
		return nil
	}
	return f.setOne(fv, name, s)
}

func (f *Form) setOne(fv reflect.Value, name, s string) error {
	if fv.CanAddr() && fv.Addr().Type().Implements(textUnmarshaler) {
		if err := fv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			rule := sdk.RuleFormat
			var re ruleError
			if errors.As(err, &re) {
				rule = re.rule
			}
			ids := []string{"web.rule." + rule}
			switch fv.Type() {
			case reflect.TypeFor[Date]():
				ids = append([]string{"web.rule.date." + rule}, ids...)
			case reflect.TypeFor[Clock]():
				ids = append([]string{"web.rule.clock." + rule}, ids...)
			}
			f.add(name, Problem{IDs: ids})
		}
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, fv.Type().Bits())
		if err != nil {
			f.add(name, numberProblem(err))
			return nil
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, fv.Type().Bits())
		if err != nil {
			f.add(name, numberProblem(err))
			return nil
		}
		fv.SetUint(n)
	default:
		return fmt.Errorf("web: form field %s: a %s cannot come from a form", name, fv.Type())
	}
	return nil
}

// checkText holds a submitted value to sdk.CheckInput's limits for text.
func checkText(s string, maxLen int) (Problem, bool) {
	switch {
	case !utf8.ValidString(s):
		return Problem{IDs: []string{"web.rule." + sdk.RuleUTF8}}, true
	case strings.ContainsRune(s, 0):
		return Problem{IDs: []string{"web.rule." + sdk.RuleNUL}}, true
	case utf8.RuneCountInString(s) > maxLen:
		n := maxLen
		return Problem{IDs: []string{"web.rule.max_length_n"}, Count: &n}, true
	}
	return Problem{}, false
}

// numberProblem is what a whole number that did not parse tells the person: out of
// range, or not a whole number at all.
func numberProblem(err error) Problem {
	if errors.Is(err, strconv.ErrRange) {
		return Problem{IDs: []string{"web.rule." + sdk.RuleRange}}
	}
	return Problem{IDs: []string{"web.rule." + RuleWholeNumber}}
}
