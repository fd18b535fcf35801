package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// decode reads a JSON body strictly into v: valid UTF-8, one object, no unknown fields.
// An empty body decodes as {} when allowEmpty.
func decode(c *fiber.Ctx, v any, allowEmpty bool) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return core.Errorf(core.EINVALID, "The request needs a JSON body.")
	}
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !strings.HasPrefix(strings.ToLower(ct), fiber.MIMEApplicationJSON) {
		return core.Errorf(core.EINVALID, "The body must be JSON (Content-Type: application/json).")
	}
	// encoding/json silently replaces invalid UTF-8; refuse it instead.
	if !utf8.Valid(body) {
		return core.Errorf(core.EINVALID, "The body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return core.Errorf(core.EINVALID, "The body must hold exactly one JSON object.")
	}
	return checkInput(v)
}

// checkInput applies the SDK's input limits (no NUL, text within its `max` tag, integers
// within their column's range) that every plugin's decoder applies too, so a request
// PostgreSQL could not store is refused on SQLite alike, with the rule named (422).
func checkInput(v any) error {
	var e *sdk.Error
	if err := sdk.CheckInput(v); errors.As(err, &e) {
		return core.Invalid(e.Message, e.Fields)
	} else if err != nil {
		return err
	}
	return nil
}

// jsonError explains a JSON decoding error in plain words, naming the field.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return core.Errorf(core.EINVALID, "The body is not valid JSON (at byte %d).", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "" && strings.HasPrefix(typ.Value, "number") && typ.Type.Kind() >= reflect.Int && typ.Type.Kind() <= reflect.Uint64:
		// A number that does not fit the field breaks its range, as in the SDK.
		lo, hi := sdk.IntRange(typ.Type, "")
		problem := fmt.Sprintf("must be a whole number from %d to %d", lo, hi)
		return core.Invalid(typ.Field+": "+problem, map[string]string{typ.Field: problem, "rule": sdk.RuleRange})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return core.Errorf(core.EINVALID, "The body must be a JSON object.")
		}
		return core.InvalidField(field, "must be "+jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return core.InvalidField(name, "is not a field this route accepts")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return core.Errorf(core.EINVALID, "The body ends in the middle of the JSON.")
	}
	return core.Errorf(core.EINVALID, "The body cannot be read as JSON: %v", err)
}

func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "ptr":
		return "a value of the right type"
	}
	return fmt.Sprintf("a %s", kind)
}

// page reads limit and cursor from the query string.
func page(c *fiber.Ctx) (core.Page, error) {
	p := core.Page{Cursor: c.Query("cursor")}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > core.MaxPageLimit {
			return p, core.InvalidField("limit", fmt.Sprintf("must be a whole number from 1 to %d", core.MaxPageLimit))
		}
		p.Limit = n
	}
	return p, nil
}

// list renders one page of a list with the cursor of the next.
func list[T any](c *fiber.Ctx, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	out := fiber.Map{"items": items}
	if next != "" {
		out["next_cursor"] = next
	}
	return c.JSON(out)
}
