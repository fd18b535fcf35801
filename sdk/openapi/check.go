// Package openapi checks HTTP responses against an OpenAPI 3 document: the route must
// be documented for its method and status, and a JSON body must match its schema (the
// subset of JSON Schema Kvarter's documents use). The core's tests and plugins' tests
// call it on every response they see, so a document cannot drift from its code.
package openapi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// CheckResponse validates one response against doc, a whole OpenAPI document or just
// {"paths": ...}. A documented non-JSON body (an iCalendar feed, a .pb export) is
// accepted on its media type alone.
func CheckResponse(doc map[string]any, method, path string, status int, body []byte) error {
	return CheckResponseType(doc, method, path, status, "", body)
}

// CheckResponseType is CheckResponse that also requires the response's Content-Type
// (parameters such as charset ignored) to be among the documented media types; a JSON
// body is then checked against its schema. An empty contentType means JSON when the
// operation documents JSON.
func CheckResponseType(doc map[string]any, method, path string, status int, contentType string, body []byte) error {
	path, _, _ = strings.Cut(path, "?")
	tmpl, item := matchPath(doc, path)
	if item == nil {
		return fmt.Errorf("openapi: %s %s is not documented", method, path)
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		return fmt.Errorf("openapi: %s %s (%s) is not documented", method, path, tmpl)
	}
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok {
		return fmt.Errorf("openapi: %s %s answered %d, which is not documented", method, tmpl, status)
	}
	content, _ := resp["content"].(map[string]any)
	if content == nil {
		if len(strings.TrimSpace(string(body))) > 0 {
			return fmt.Errorf("openapi: %s %s %d documents no body but got %q", method, tmpl, status, body)
		}
		return nil
	}
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.TrimSpace(mediaType)
	if mediaType != "" {
		if _, ok := content[mediaType]; !ok {
			return fmt.Errorf("openapi: %s %s %d answered %s, which is not documented", method, tmpl, status, mediaType)
		}
	}
	media, isJSON := content["application/json"].(map[string]any)
	if !isJSON || (mediaType != "" && mediaType != "application/json") {
		// A documented non-JSON body (an iCalendar feed, a .pb export): its schema is a
		// string, and the media type is all there is to check.
		return nil
	}
	sch, _ := media["schema"].(map[string]any)
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("openapi: %s %s %d: body is not JSON: %v", method, tmpl, status, err)
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if err := validate(v, sch, schemas, "$"); err != nil {
		return fmt.Errorf("openapi: %s %s %d: %w", method, tmpl, status, err)
	}
	return nil
}

// matchPath finds the documented path template that path matches, preferring literal
// segments over parameters.
func matchPath(doc map[string]any, path string) (string, map[string]any) {
	paths, _ := doc["paths"].(map[string]any)
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	best, bestScore := "", -1
	for tmpl := range paths {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		score := 0
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") {
				continue
			}
			if ts != segs[i] {
				score = -1
				break
			}
			score++
		}
		if score > bestScore {
			best, bestScore = tmpl, score
		}
	}
	if bestScore < 0 {
		return "", nil
	}
	item, _ := paths[best].(map[string]any)
	return best, item
}

// validate checks v against the subset of JSON Schema the document uses.
func validate(v any, sch map[string]any, schemas map[string]any, at string) error {
	if r, ok := sch["$ref"].(string); ok {
		target, _ := schemas[strings.TrimPrefix(r, "#/components/schemas/")].(map[string]any)
		if target == nil {
			return fmt.Errorf("%s: unknown schema %s", at, r)
		}
		return validate(v, target, schemas, at)
	}
	if v == nil {
		if _, typed := sch["type"]; !typed || sch["nullable"] == true {
			return nil
		}
		return fmt.Errorf("%s: null is not allowed", at)
	}
	switch sch["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, v)
		}
		props, _ := sch["properties"].(map[string]any)
		if req := toStrings(sch["required"]); req != nil {
			for _, k := range req {
				if _, ok := m[k]; !ok {
					return fmt.Errorf("%s: missing required %q", at, k)
				}
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				if err := validate(m[k], ps, schemas, at+"."+k); err != nil {
					return err
				}
				continue
			}
			switch ap := sch["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s: undocumented property %q", at, k)
				}
			case map[string]any:
				if err := validate(m[k], ap, schemas, at+"."+k); err != nil {
					return err
				}
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, got %T", at, v)
		}
		items, _ := sch["items"].(map[string]any)
		for i, e := range a {
			if err := validate(e, items, schemas, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, got %T", at, v)
		}
		if enum := toStrings(sch["enum"]); enum != nil && !contains(enum, s) {
			return fmt.Errorf("%s: %q is not one of %v", at, s, enum)
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: want an integer, got %v", at, v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: want a number, got %T", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want a boolean, got %T", at, v)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// toStrings reads a list of strings from a document built in Go ([]string) or decoded
// from JSON ([]any), as plugin documents are.
func toStrings(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
