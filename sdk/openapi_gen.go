package sdk

import (
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// OpenAPI is the OpenAPI 3.0.3 "paths" object of a route table, as the host merges it
// into /api/v1/openapi.json: schemas inline (the host keeps no plugin components), a
// unique operationId per operation, security on every route that needs sign-in, the
// parameters, request and answer schemas reflected from the Go types, examples, and the
// error answers in the error format. The SDK fills Manifest.OpenAPI with it when a
// plugin leaves that empty.
//
// Schemas follow encoding/json: json tags name fields and omitempty makes them
// optional; pointers, slices and maps are nullable (nil encodes as null) unless tagged
// nullable:"false"; time.Time is a date-time string. These tags add to a field's
// schema: doc:"…" (description), example:"…", enum:"a,b", format:"uuid|date|…",
// max:"N" and min:"N" (maxLength of text, maximum and minimum of numbers; CheckInput
// enforces the same on requests, so request schemas state its defaults too). A type
// with an OpenAPISchema() map[string]any method describes itself.
func OpenAPI(routes []Route) json.RawMessage {
	b, err := json.Marshal(OpenAPIPaths(routes))
	if err != nil {
		panic(fmt.Sprintf("sdk: OpenAPI document: %v", err)) // examples that are not JSON
	}
	return b
}

// OpenAPIDoc is the plugin's OpenAPI paths object: OpenAPI as the plugin wrote it, or
// generated from its Routes when it left it empty. The SDK sends this to the host.
func (m Manifest) OpenAPIDoc() json.RawMessage {
	if len(m.OpenAPI) > 0 {
		return m.OpenAPI
	}
	return OpenAPI(m.Routes)
}

// OpenAPIPaths is OpenAPI as a map.
func OpenAPIPaths(routes []Route) map[string]any {
	paths := map[string]any{}
	ids := map[string]int{}
	for _, r := range routes {
		if r.Kind == RoutePage {
			continue // HTML for the host's frame, not part of the API
		}
		item, _ := paths[r.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[r.Path] = item
		}
		op := operation(r)
		id := r.OperationID
		if id == "" {
			id = deriveOperationID(r.Method, r.Path)
		}
		if n := ids[id]; n > 0 {
			ids[id]++
			id += strconv.Itoa(n + 1)
		}
		ids[id]++
		op["operationId"] = id
		item[strings.ToLower(r.Method)] = op
	}
	return paths
}

// Schemer is implemented by types that describe their own JSON schema (a type with a
// custom MarshalJSON, say).
type Schemer interface {
	OpenAPISchema() map[string]any
}

// Security is the security requirement of routes that need sign-in: a bearer token
// or the session cookie, as the core's document declares them.
var security = []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}}

func operation(r Route) map[string]any {
	op := map[string]any{}
	if r.Summary != "" {
		op["summary"] = r.Summary
	}
	if r.Description != "" {
		op["description"] = r.Description
	}
	if tag := tagOf(r.Path); tag != "" {
		op["tags"] = []any{tag}
	}
	if r.Permission != PermPublic {
		op["security"] = security
	}
	op["x-kvarter-permission"] = r.Permission
	if r.Domain != "" {
		op["x-kvarter-domain"] = r.Domain
	}
	if params := parameters(r); len(params) > 0 {
		op["parameters"] = params
	}
	hasBody := r.Request != nil && !isNoBody(r.Request)
	if hasBody {
		media := map[string]any{"schema": schemaOf(reflect.TypeOf(r.Request), true)}
		if r.RequestExample != nil {
			media["example"] = r.RequestExample
		}
		op["requestBody"] = map[string]any{"required": !r.BodyOptional, "content": map[string]any{"application/json": media}}
	}
	if len(r.Uploads) > 0 {
		op["requestBody"] = uploadBody(r.Uploads)
		hasBody = true
	}

	responses := map[string]any{}
	ok := map[string]any{"description": http.StatusText(r.status())}
	content := map[string]any{}
	if r.ContentType != "" && r.ContentType != "application/json" {
		s := map[string]any{"type": "string"}
		if !strings.HasPrefix(r.ContentType, "text/") {
			s["format"] = "binary"
		}
		content[r.ContentType] = map[string]any{"schema": s}
	}
	if r.Response != nil && !isNoBody(r.Response) {
		media := map[string]any{"schema": schemaOf(reflect.TypeOf(r.Response), false)}
		if r.ResponseExample != nil {
			media["example"] = r.ResponseExample
		}
		content["application/json"] = media
	} else if r.ContentType == "application/json" {
		content["application/json"] = map[string]any{"schema": map[string]any{}}
	}
	if len(content) > 0 {
		ok["content"] = content
	}
	responses[strconv.Itoa(r.status())] = ok
	for _, status := range errorStatuses(r, hasBody) {
		responses[strconv.Itoa(status)] = map[string]any{"description": http.StatusText(status),
			"content": map[string]any{"application/json": map[string]any{"schema": errorSchema()}}}
	}
	op["responses"] = responses
	return op
}

// uploadBody documents a route's file fields: a multipart/form-data form, whose files
// the host receives and checks (422 for one it refuses, 413 for one too large) and
// whose other fields pass as they are.
func uploadBody(fields []UploadField) map[string]any {
	props, encoding := map[string]any{}, map[string]any{}
	types := map[string][]string{UploadImage: {"image/jpeg", "image/png"}, UploadPDF: {"application/pdf"}}
	for _, f := range fields {
		var ct []string
		for _, k := range f.Kinds {
			ct = append(ct, types[k]...)
		}
		desc := "A file of " + strings.Join(ct, ", ") + ", checked by its content; images are re-encoded without their metadata."
		if f.MaxBytes > 0 {
			desc += " At most " + strconv.FormatInt(f.MaxBytes, 10) + " bytes."
		}
		props[f.Name] = map[string]any{"type": "string", "format": "binary", "description": desc}
		encoding[f.Name] = map[string]any{"contentType": strings.Join(ct, ", ")}
	}
	return map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{
		"schema":   map[string]any{"type": "object", "properties": props, "additionalProperties": map[string]any{"type": "string"}},
		"encoding": encoding,
	}}}
}

// errorStatuses are the error answers of a route: the handler's own, what the SDK's
// decoding gives (400, 422), the host's (401, 403, 413, 503) and 500.
func errorStatuses(r Route, hasBody bool) []int {
	out := slices.Clone(r.ErrorStatuses)
	out = append(out, http.StatusInternalServerError, http.StatusServiceUnavailable)
	if r.Permission != PermPublic {
		// 403 also when a permission-less route is refused for a missing CSRF header.
		out = append(out, http.StatusUnauthorized, http.StatusForbidden)
	}
	if hasBody || r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		out = append(out, http.StatusRequestEntityTooLarge)
	}
	_, list := r.Response.(pager)
	if hasBody || list || len(r.Params) > 0 || isNoBody(r.Request) && r.Method != http.MethodGet {
		out = append(out, http.StatusBadRequest, http.StatusUnprocessableEntity)
	}
	if len(PathParams(r.Path)) > 0 {
		out = append(out, http.StatusNotFound)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// errorSchema is the error format, inline.
func errorSchema() map[string]any {
	str := func() map[string]any { return map[string]any{"type": "string"} }
	return map[string]any{
		"type": "object", "required": []any{"error"}, "additionalProperties": false,
		"properties": map[string]any{"error": map[string]any{
			"type": "object", "required": []any{"code", "message"}, "additionalProperties": false,
			"properties": map[string]any{
				"code":    map[string]any{"type": "string", "enum": Codes()},
				"message": str(),
				"fields": map[string]any{"type": "object", "additionalProperties": str(),
					"description": "The fields at fault, each with the problem; rule names a broken rule."},
				"request_id": str(),
			},
		}},
	}
}

func parameters(r Route) []any {
	var out []any
	declared := map[string]Param{}
	for _, p := range r.Params {
		if p.In == "path" {
			declared[p.Name] = p
		}
	}
	for _, name := range PathParams(r.Path) {
		p, ok := declared[name]
		if !ok {
			p = Param{Name: name}
		}
		p.In, p.Required = "path", true
		out = append(out, paramSchema(p))
	}
	have := map[string]bool{}
	for _, p := range r.Params {
		if p.In == "path" {
			continue
		}
		p.In = "query"
		have[p.Name] = true
		out = append(out, paramSchema(p))
	}
	if _, list := r.Response.(pager); list {
		if !have["limit"] {
			out = append(out, map[string]any{"name": "limit", "in": "query", "description": "How many items, at most",
				"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": MaxLimit, "default": DefaultLimit}})
		}
		if !have["cursor"] {
			out = append(out, map[string]any{"name": "cursor", "in": "query", "description": "next_cursor of the previous page",
				"schema": map[string]any{"type": "string", "maxLength": maxCursor}})
		}
	}
	return out
}

func paramSchema(p Param) map[string]any {
	typ := p.Type
	if typ == "" {
		typ = "string"
	}
	s := map[string]any{"type": typ}
	if p.Format != "" {
		s["format"] = p.Format
	}
	if len(p.Enum) > 0 {
		s["enum"] = toAny(p.Enum)
	}
	if typ == "string" && len(p.Enum) == 0 && p.Format == "" {
		s["maxLength"] = MaxText
	}
	out := map[string]any{"name": p.Name, "in": p.In, "schema": s}
	if p.Required {
		out["required"] = true
	}
	if p.Description != "" {
		out["description"] = p.Description
	}
	if p.Example != "" {
		out["example"] = exampleValue(typ, p.Example)
	}
	return out
}

// deriveOperationID names an operation by its method and path below /api/v1:
// GET /api/v1/parks/{id}/areas → getParksIdAreas.
func deriveOperationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/v1"), "/") {
		seg = strings.Trim(seg, "{}.")
		for _, word := range strings.FieldsFunc(seg, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String()
}

// tagOf groups operations by the first path segment below /api/v1 (the plugin).
func tagOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		return ""
	}
	tag, _, _ := strings.Cut(rest, "/")
	return tag
}

var (
	schemerType    = reflect.TypeFor[Schemer]()
	marshalerType  = reflect.TypeFor[json.Marshaler]()
	textMarshaller = reflect.TypeFor[encoding.TextMarshaler]()
)

// schemaOf reflects a JSON schema from t; request says whether CheckInput's defaults
// apply (a text without max is at most MaxText long, an int within 32 bits).
func schemaOf(t reflect.Type, request bool) map[string]any {
	g := schemaGen{request: request, seen: map[reflect.Type]bool{}}
	return g.schema(t, "")
}

type schemaGen struct {
	request bool
	seen    map[reflect.Type]bool // types being expanded: a recursive type stops there
}

func (g *schemaGen) schema(t reflect.Type, tag reflect.StructTag) map[string]any {
	if t == nil {
		return map[string]any{}
	}
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	s := g.bare(t, tag)
	switch t.Kind() {
	case reflect.Slice, reflect.Map:
		nullable = nullable || t != rawType && !(t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8)
	case reflect.Interface:
		nullable = true
	}
	// OpenAPI 3.0 gives nullable a meaning only beside a type; a schema without
	// one (any JSON value) admits null already, and validators reject the pair.
	if _, typed := s["type"]; nullable && typed && tag.Get("nullable") != "false" {
		s["nullable"] = true
	}
	if d := tag.Get("doc"); d != "" {
		s["description"] = d
	}
	if ex, ok := tag.Lookup("example"); ok {
		typ, _ := s["type"].(string)
		s["example"] = exampleValue(typ, ex)
	}
	return s
}

func (g *schemaGen) bare(t reflect.Type, tag reflect.StructTag) map[string]any {
	switch {
	case reflect.PointerTo(t).Implements(schemerType) || t.Implements(schemerType):
		return maps.Clone(reflect.New(t).Interface().(Schemer).OpenAPISchema())
	case t == timeType:
		// RFC 3339 with nanoseconds and an offset is 35 characters; CheckInput bounds
		// the time itself (MinTime, MaxTime).
		return map[string]any{"type": "string", "format": "date-time", "maxLength": 35}
	case t == rawType:
		return map[string]any{}
	case t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType):
		return map[string]any{} // encodes itself: any JSON value
	case t.Implements(textMarshaller) || reflect.PointerTo(t).Implements(textMarshaller):
		return g.text(tag)
	}
	switch t.Kind() {
	case reflect.String:
		return g.text(tag)
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s := map[string]any{"type": "integer", "format": "int32"}
		if t.Kind() == reflect.Int64 || t.Kind() == reflect.Uint64 {
			s["format"] = "int64"
		}
		_, hasMin := tag.Lookup("min")
		_, hasMax := tag.Lookup("max")
		lo, hi := IntRange(t, tag)
		if g.request || hasMin {
			s["minimum"] = lo
		}
		if g.request || hasMax {
			s["maximum"] = hi
		}
		return s
	case reflect.Float32, reflect.Float64:
		s := map[string]any{"type": "number"}
		if v, ok := tag.Lookup("min"); ok {
			s["minimum"], _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := tag.Lookup("max"); ok {
			s["maximum"], _ = strconv.ParseFloat(v, 64)
		}
		return s
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		// Tags on a list apply to its elements, as CheckInput reads them.
		return map[string]any{"type": "array", "items": g.schema(t.Elem(), elemTag(tag))}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), elemTag(tag))}
	case reflect.Struct:
		return g.object(t)
	}
	return map[string]any{} // interface: any JSON value
}

// elemTag keeps the tags that describe list and map elements.
func elemTag(tag reflect.StructTag) reflect.StructTag {
	var parts []string
	for _, k := range []string{"max", "min", "enum", "format"} {
		if v, ok := tag.Lookup(k); ok {
			parts = append(parts, k+":"+strconv.Quote(v))
		}
	}
	return reflect.StructTag(strings.Join(parts, " "))
}

func (g *schemaGen) text(tag reflect.StructTag) map[string]any {
	s := map[string]any{"type": "string"}
	if f := tag.Get("format"); f != "" {
		s["format"] = f
	}
	if e := tag.Get("enum"); e != "" {
		s["enum"] = toAny(strings.Split(e, ","))
	}
	if m, ok := tag.Lookup("max"); ok {
		s["maxLength"], _ = strconv.Atoi(m)
	} else if g.request {
		s["maxLength"] = MaxText
	}
	return s
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	if g.seen[t] {
		return map[string]any{"type": "object", "description": "A " + t.Name() + ", as above."}
	}
	g.seen[t] = true
	defer delete(g.seen, t)
	props := map[string]any{}
	var required []any
	g.fields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 && !g.request {
		// An answer always holds the fields without omitempty; a request need not.
		slices.SortFunc(required, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		s["required"] = required
	}
	return s
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]any) {
	eachJSONField(t, func(name, opts string, f reflect.StructField) {
		s := g.schema(f.Type, f.Tag)
		options := strings.Split(opts, ",")
		if slices.Contains(options, "string") {
			s = map[string]any{"type": "string"} // ,string encodes numbers and bools as text
		}
		props[name] = s
		if !slices.Contains(options, "omitempty") && !slices.Contains(options, "omitzero") {
			*required = append(*required, name)
		}
	})
}

// exampleValue reads an example written in a tag as the schema's type.
func exampleValue(typ, s string) any {
	switch typ {
	case "integer":
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case "number":
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case "boolean":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	case "array", "object", "":
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			return v
		}
	}
	return s
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
