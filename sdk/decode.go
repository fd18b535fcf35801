package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBody is the most DecodeJSON reads; the host enforces its own limit before the
// request reaches a plugin.
const MaxBody = 1 << 20

// DecodeJSON reads a request body strictly into v: valid UTF-8, exactly one JSON value,
// no fields v does not have, at most MaxBody bytes. A body that cannot be read that way
// is a CodeMalformed *Error (400) naming the field where it can, so WriteError explains
// it. Then the decoded value must pass CheckInput (no NUL, text within its `max`,
// integers within their range: CodeInvalid, 422, naming the field and the rule), so
// both databases see only what both store. The host forwards bodies as clients sent
// them, so this is a plugin's only check. An empty body leaves v untouched when
// allowEmpty, and is an error otherwise.
func DecodeJSON(r *http.Request, v any, allowEmpty bool) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return Malformed("The request body could not be read.")
	}
	if len(body) > MaxBody {
		return &Error{Code: CodeTooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes.", MaxBody)}
	}
	return DecodeBody(body, v, allowEmpty)
}

// DecodeBody is DecodeJSON for a body already read; the core decodes its own routes'
// bodies with it, so core and plugins refuse the same input with the same answer.
func DecodeBody(body []byte, v any, allowEmpty bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return Malformed("The request needs a JSON body.")
	}
	// encoding/json silently replaces invalid UTF-8; refuse it instead.
	if !utf8.Valid(body) {
		return Malformed("The request body is not valid UTF-8 text.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Malformed("The request body must hold exactly one JSON value.")
	}
	return CheckInput(v)
}

// jsonError explains a decoding error in plain words, naming the field. The decoder's
// own text is never shown: it speaks of Go types.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return Malformed("The request body is not valid JSON (at byte %d).", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "" && strings.HasPrefix(typ.Value, "number") && isInteger(typ.Type):
		// A number that does not fit the field (1e30, 2.5 for a count) breaks its range.
		lo, hi := IntRange(typ.Type, "")
		return rangeError(typ.Field, lo, hi)
	case errors.As(err, &typ) && typ.Field != "":
		return MalformedField(typ.Field, "must be "+kindName(typ.Type.String()))
	case errors.As(err, &typ):
		return Malformed("The request body must be %s.", kindName(typ.Type.String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return MalformedField(name, "is not a field this route accepts")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Malformed("The request body ends in the middle of the JSON.")
	}
	return Malformed("The request body cannot be read as JSON.")
}

// kindName names a Go type the way a client thinks of JSON: "a JSON object".
func kindName(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case t == "string":
		return "a JSON string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "a JSON list"
	case strings.Contains(t, "time.Time"):
		return "an RFC 3339 time such as 2026-05-01T18:00:00Z"
	case strings.HasPrefix(t, "map[") || strings.Contains(t, "."):
		return "a JSON object"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	}
	return "a JSON value of another type"
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}
