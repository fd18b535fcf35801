package sdk

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits every request field obeys unless its struct tag says otherwise. They exist
// because both databases must store what one of them stores: PostgreSQL refuses a NUL
// character in text and an INTEGER beyond 32 bits where SQLite takes both, so without
// them the same request is a 201 on SQLite and a 500 on PostgreSQL. And without a length
// limit a 900 KB title makes every public list that shows it a megabyte.
const (
	// MaxText is the most characters of a text field without a `max` tag.
	MaxText = 10000
	// MaxKey is the most characters of a key of a JSON object decoded into a map.
	MaxKey = 200
)

// The range of times a request may name (a meeting, a booking, a deadline): from
// 1970-01-01 up to, not including, 2200-01-01 UTC. Beyond it lie typos such as year 0000
// or 9999, which calendars and both databases handle differently or not at all.
var (
	MinTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// RuleTimeRange is the rule named when a time lies outside [MinTime, MaxTime).
const RuleTimeRange = "time_range"

// CheckTime refuses a time outside [MinTime, MaxTime) with a 422 naming the field.
// CheckInput applies it to every non-zero time.Time field; a handler that parses times
// from strings calls it itself.
func CheckTime(field string, t time.Time) error {
	if t.Before(MinTime) || !t.Before(MaxTime) {
		return inputError(field, "must lie between 1970-01-01 and 2199-12-31", RuleTimeRange)
	}
	return nil
}

// Rules named in Fields["rule"] when CheckInput refuses a field.
const (
	RuleNUL       = "no_nul"     // text must not contain the NUL character (U+0000)
	RuleUTF8      = "utf8"       // text must be valid UTF-8
	RuleMaxLength = "max_length" // text is longer than its documented maximum
	RuleRange     = "range"      // a number is outside its documented range
)

// CheckInput checks a decoded request value against the limits every stored field
// obeys, so bad input is refused alike on SQLite and PostgreSQL before any storage sees
// it: no string (nor map key) holds a NUL character; a string holds at most `max:"N"`
// characters (MaxText without the tag); an integer lies within `min:"N"` and `max:"N"`,
// which default to the range of a 32-bit column for int, int32 and uint fields (int64
// fields are 64-bit columns: money, counters). json.RawMessage is read as JSON and its
// strings are checked too. The first problem found comes back as a 422 *Error naming
// the field by its JSON path ("contact.name", "agenda[2].title") with the rule in
// Fields["rule"]. DecodeJSON calls it; a handler that reads input another way (a form,
// a query) may call it itself.
func CheckInput(v any) error {
	var w walker
	return w.value(reflect.ValueOf(v), fieldLimits{})
}

// fieldLimits are the bounds a struct tag sets for one field (and its elements).
type fieldLimits struct {
	maxLen         int
	hasMin, hasMax bool
	min, max       int64
}

func tagLimits(f reflect.StructField) (fieldLimits, error) {
	var l fieldLimits
	if s, ok := f.Tag.Lookup("max"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return l, fmt.Errorf("sdk: field %s: max tag %q is not a number", f.Name, s)
		}
		l.maxLen, l.hasMax, l.max = int(n), true, n
	}
	if s, ok := f.Tag.Lookup("min"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return l, fmt.Errorf("sdk: field %s: min tag %q is not a number", f.Name, s)
		}
		l.hasMin, l.min = true, n
	}
	return l, nil
}

// fieldPlan is what CheckInput needs of one struct field, worked out once per type.
type fieldPlan struct {
	index    int
	name     string // JSON name; "" for an embedded struct whose fields are promoted
	lim      fieldLimits
	embedded bool
}

var plans sync.Map // reflect.Type → []fieldPlan, or error for a malformed tag

func planOf(t reflect.Type) ([]fieldPlan, error) {
	if p, ok := plans.Load(t); ok {
		if err, bad := p.(error); bad {
			return nil, err
		}
		return p.([]fieldPlan), nil
	}
	var out []fieldPlan
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || !f.IsExported() && !(f.Anonymous && name == "") {
			continue // encoding/json skips these too (but promotes unexported embedded fields)
		}
		lim, err := tagLimits(f)
		if err != nil {
			plans.Store(t, err)
			return nil, err
		}
		embedded := f.Anonymous && name == ""
		if name == "" && !embedded {
			name = f.Name
		}
		out = append(out, fieldPlan{index: i, name: name, lim: lim, embedded: embedded})
	}
	plans.Store(t, out)
	return out, nil
}

// walker walks a decoded value; path holds the JSON path to the value being checked,
// joined into a string only when a problem is found.
type walker struct {
	path []pathStep
}

type pathStep struct {
	name  string
	index int // for a list element; name is "" then
}

func (w *walker) at() string {
	var b strings.Builder
	for _, s := range w.path {
		switch {
		case s.name == "":
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case b.Len() > 0:
			b.WriteString("." + s.name)
		default:
			b.WriteString(s.name)
		}
	}
	return b.String()
}

func (w *walker) push(s pathStep) { w.path = append(w.path, s) }
func (w *walker) pop()            { w.path = w.path[:len(w.path)-1] }

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

func (w *walker) value(v reflect.Value, lim fieldLimits) error {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return w.value(v.Elem(), lim)
	case reflect.String:
		return w.text(v.String(), lim.maxLen)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return w.integer(v.Int(), v.Kind(), lim)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return rangeError(w.at(), 0, math.MaxInt32)
		}
		return w.integer(int64(u), reflect.Int, lim)
	case reflect.Struct:
		if v.Type() == timeType {
			if !v.CanInterface() {
				return nil // promoted through an unexported embedded struct: unreadable here
			}
			t := v.Interface().(time.Time)
			if t.IsZero() {
				return nil // absent: whether it is required is the handler's rule
			}
			return CheckTime(w.at(), t)
		}
		return w.structure(v)
	case reflect.Slice:
		if v.Type() == rawType {
			return w.raw(v.Bytes())
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // []byte arrives base64-encoded: no text to check
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			w.push(pathStep{index: i})
			err := w.value(v.Index(i), lim)
			w.pop()
			if err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		keys := v.MapKeys()
		// Sorted, so that of several problems the same one is always reported.
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(keyName(a), keyName(b)) })
		for _, k := range keys {
			w.push(pathStep{name: keyName(k)})
			err := error(nil)
			if k.Kind() == reflect.String {
				err = w.text(k.String(), MaxKey)
			}
			if err == nil {
				err = w.value(v.MapIndex(k), lim)
			}
			w.pop()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func keyName(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	return fmt.Sprint(k.Interface())
}

func (w *walker) structure(v reflect.Value) error {
	plan, err := planOf(v.Type())
	if err != nil {
		return err
	}
	for _, f := range plan {
		if f.embedded {
			// An embedded struct's fields are the outer object's own (encoding/json).
			if err := w.value(v.Field(f.index), f.lim); err != nil {
				return err
			}
			continue
		}
		w.push(pathStep{name: f.name})
		err := w.value(v.Field(f.index), f.lim)
		w.pop()
		if err != nil {
			return err
		}
	}
	return nil
}

// raw checks the strings inside a JSON document kept as it came.
func (w *walker) raw(raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil // DecodeJSON has already refused invalid JSON
	}
	return w.value(reflect.ValueOf(doc), fieldLimits{})
}

func (w *walker) text(s string, maxLen int) error {
	if maxLen <= 0 {
		maxLen = MaxText
	}
	if strings.IndexByte(s, 0) >= 0 {
		return inputError(w.at(), "must not contain the NUL character", RuleNUL)
	}
	if len(s) > maxLen && utf8.RuneCountInString(s) > maxLen {
		return inputError(w.at(), fmt.Sprintf("must be at most %d characters long", maxLen), RuleMaxLength)
	}
	return nil
}

func (w *walker) integer(n int64, kind reflect.Kind, lim fieldLimits) error {
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	if kind == reflect.Int64 {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	if lim.hasMin {
		lo = lim.min
	}
	if lim.hasMax {
		hi = lim.max
	}
	if n < lo || n > hi {
		return rangeError(w.at(), lo, hi)
	}
	return nil
}

func rangeError(path string, lo, hi int64) error {
	return inputError(path, fmt.Sprintf("must be a whole number from %d to %d", lo, hi), RuleRange)
}

// IntRange is the range CheckInput accepts for an integer field of Go type t with the
// given struct tag: the tag's min/max, else a 32-bit column's range for int, int32 and
// uint, the full range for int64. Used by OpenAPI documents to state the same bounds.
func IntRange(t reflect.Type, tag reflect.StructTag) (lo, hi int64) {
	lo, hi = math.MinInt32, math.MaxInt32
	if t.Kind() == reflect.Int64 {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	if s, ok := tag.Lookup("min"); ok {
		lo, _ = strconv.ParseInt(s, 10, 64)
	}
	if s, ok := tag.Lookup("max"); ok {
		hi, _ = strconv.ParseInt(s, 10, 64)
	}
	return lo, hi
}

func inputError(path, problem, rule string) *Error {
	if path == "" {
		path = "body"
	}
	return &Error{Code: CodeInvalid, Message: path + ": " + problem, Fields: map[string]string{path: problem, "rule": rule}}
}

// WithLimits returns a copy of an OpenAPI request schema with the limits CheckInput
// enforces for v's type written in: maxLength on every string, minimum and maximum on
// every integer, matched to v's fields by their JSON names (nested objects, lists and
// maps included). Plugins wrap each request body schema in it, so the document states
// exactly what the decoder refuses and the struct tags stay the one source.
func WithLimits(schema map[string]any, v any) map[string]any {
	return limitSchema(schema, reflect.TypeOf(v), "")
}

func limitSchema(s map[string]any, t reflect.Type, tag reflect.StructTag) map[string]any {
	if s == nil {
		return nil
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := make(map[string]any, len(s)+2)
	for k, v := range s {
		out[k] = v
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "string":
		n := MaxText
		if m, ok := tag.Lookup("max"); ok {
			n, _ = strconv.Atoi(m)
		}
		if t != nil && t.Kind() == reflect.Map {
			n = MaxKey
		}
		out["maxLength"] = n
	case "integer":
		if t == nil {
			t = reflect.TypeFor[int]()
		}
		lo, hi := IntRange(t, tag)
		out["minimum"], out["maximum"] = lo, hi
	case "array":
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		if items, ok := s["items"].(map[string]any); ok {
			out["items"] = limitSchema(items, elem, tag)
		}
	case "object", "":
		if props, ok := s["properties"].(map[string]any); ok {
			fields := jsonFields(t)
			np := make(map[string]any, len(props))
			for name, p := range props {
				ps, ok := p.(map[string]any)
				if !ok {
					np[name] = p
					continue
				}
				f, found := fields[name]
				if !found {
					np[name] = limitSchema(ps, nil, "")
					continue
				}
				np[name] = limitSchema(ps, f.Type, f.Tag)
			}
			out["properties"] = np
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			var elem reflect.Type
			if t != nil && t.Kind() == reflect.Map {
				elem = t.Elem()
			}
			out["additionalProperties"] = limitSchema(ap, elem, tag)
			if t == nil || t.Kind() == reflect.Map {
				// OpenAPI 3.0 has no propertyNames: the key limit is an extension.
				out["x-propertyNames"] = map[string]any{"maxLength": MaxKey}
			}
		}
	}
	return out
}

// jsonFields maps the JSON names of a struct type's fields (embedded ones flattened).
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	if t == nil || t.Kind() != reflect.Struct {
		return out
	}
	eachJSONField(t, func(name, _ string, f reflect.StructField) { out[name] = f })
	return out
}

// eachJSONField calls fn with the JSON name and tag options of every field of struct
// type t that encoding/json encodes, the fields of embedded structs in their place.
func eachJSONField(t reflect.Type, fn func(name, opts string, f reflect.StructField)) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" || !f.IsExported() && !(f.Anonymous && name == "") {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				eachJSONField(ft, fn)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		fn(name, opts, f)
	}
}
