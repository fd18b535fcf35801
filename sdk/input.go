package sdk

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
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
	return checkValue(reflect.ValueOf(v), "", fieldLimits{})
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

func checkValue(v reflect.Value, path string, lim fieldLimits) error {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkValue(v.Elem(), path, lim)
	case reflect.String:
		return checkText(path, v.String(), lim.maxLen)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return checkInt(path, v.Int(), v.Kind(), lim)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return rangeError(path, 0, math.MaxInt32)
		}
		return checkInt(path, int64(u), reflect.Int, lim)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if !v.CanInterface() {
				return nil // promoted through an unexported embedded struct: unreadable here
			}
			t := v.Interface().(time.Time)
			if t.IsZero() {
				return nil // absent: whether it is required is the handler's rule
			}
			return CheckTime(path, t)
		}
		return checkStruct(v, path)
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			return checkRaw(v.Bytes(), path)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // []byte arrives base64-encoded: no text to check
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			if err := checkValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i), lim); err != nil {
				return err
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			name := join(path, fmt.Sprint(k.Interface()))
			if k.Kind() == reflect.String {
				if err := checkText(name, k.String(), MaxKey); err != nil {
					return err
				}
			}
			if err := checkValue(v.MapIndex(k), name, lim); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkStruct(v reflect.Value, path string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || !f.IsExported() && !(f.Anonymous && name == "") {
			continue // encoding/json skips these too (but promotes unexported embedded fields)
		}
		lim, err := tagLimits(f)
		if err != nil {
			return err
		}
		if f.Anonymous && name == "" {
			// An embedded struct's fields are the outer object's own (encoding/json).
			if err := checkValue(v.Field(i), path, lim); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if err := checkValue(v.Field(i), join(path, name), lim); err != nil {
			return err
		}
	}
	return nil
}

// checkRaw checks the strings inside a JSON document kept as it came.
func checkRaw(raw []byte, path string) error {
	if len(raw) == 0 {
		return nil
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil // DecodeJSON has already refused invalid JSON
	}
	return checkValue(reflect.ValueOf(doc), path, fieldLimits{})
}

func checkText(path, s string, maxLen int) error {
	if maxLen <= 0 {
		maxLen = MaxText
	}
	if strings.IndexByte(s, 0) >= 0 {
		return inputError(path, "must not contain the NUL character", RuleNUL)
	}
	if len(s) > maxLen && utf8.RuneCountInString(s) > maxLen {
		return inputError(path, fmt.Sprintf("must be at most %d characters long", maxLen), RuleMaxLength)
	}
	return nil
}

func checkInt(path string, n int64, kind reflect.Kind, lim fieldLimits) error {
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
		return rangeError(path, lo, hi)
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

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
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
				out["propertyNames"] = map[string]any{"maxLength": MaxKey}
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
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || !f.IsExported() && !(f.Anonymous && name == "") {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range jsonFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}
