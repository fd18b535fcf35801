package pluginhost

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/kvarter/kvarter/sdk"
)

// A plugin's part of /api/v1/openapi.json (DESIGN.md §7). The manifest's routes are the
// truth the host enforces, so the host writes what it knows into every operation,
// whatever the plugin's own document says: one operation per declared route, with an
// operationId, a summary, its path parameters, `security` from the route's permission
// and the answers the host gives on the plugin's behalf. A client generated from the
// document therefore knows which calls need sign-in and which errors to expect, for a
// third-party plugin too.

// errorRef is the core's error schema, which the merged document holds.
var errorRef = map[string]any{"$ref": "#/components/schemas/Error"}

// Security requirements: either way of signing in (the merged document's schemes).
var signedIn = []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}}

// pluginOpenAPI returns the plugin's OpenAPI paths for the merged document: the paths of
// raw (an OpenAPI "paths" object) under the plugin's prefix, completed for each of
// routes (see above). A document that cannot be read counts as empty: the routes alone
// still describe the plugin.
func pluginOpenAPI(name string, raw json.RawMessage, all []sdk.Route) map[string]any {
	// Pages answer HTML to browsers: they are not part of the API.
	routes := make([]sdk.Route, 0, len(all))
	for _, r := range all {
		if r.Kind == sdk.RouteAPI {
			routes = append(routes, r)
		}
	}
	paths := map[string]any{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &paths)
	}
	prefix := "/api/v1/" + name
	for p := range paths {
		if p != prefix && !strings.HasPrefix(p, prefix+"/") {
			delete(paths, p)
		}
	}
	// Only declared routes reach the plugin: an operation without one is not served.
	declared := map[string]bool{}
	for _, r := range routes {
		declared[strings.ToLower(r.Method)+" "+r.Path] = true
	}
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		for m := range ops {
			if httpMethod(m) && !declared[m+" "+p] {
				delete(ops, m)
			}
		}
	}
	for _, r := range routes {
		item, _ := paths[r.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[r.Path] = item
		}
		method := strings.ToLower(r.Method)
		op, _ := item[method].(map[string]any)
		if op == nil {
			op = map[string]any{}
		}
		item[method] = completeOperation(name, r, op)
	}
	return paths
}

func httpMethod(m string) bool {
	switch m {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

// completeOperation writes what the host knows of route r into the plugin's operation.
func completeOperation(plugin string, r sdk.Route, op map[string]any) map[string]any {
	if id, _ := op["operationId"].(string); id == "" {
		op["operationId"] = plugin + "_" + operationName(r.Method, strings.TrimPrefix(r.Path, "/api/v1/"+plugin))
	} else if !strings.HasPrefix(strings.ToLower(id), plugin) {
		// Operation ids are unique across the merged document: the plugin's name
		// keeps its ids apart from the core's and other plugins'.
		op["operationId"] = plugin + "_" + id
	}
	if s, _ := op["summary"].(string); s == "" {
		op["summary"] = r.Method + " " + r.Path
	}
	if params := pathParameters(r.Path, op["parameters"]); len(params) > 0 {
		op["parameters"] = params
	}
	op["x-kvarter-permission"] = r.Permission
	if r.Permission == sdk.PermPublic {
		op["security"] = []any{}
	} else {
		op["security"] = signedIn
	}
	responses, _ := op["responses"].(map[string]any)
	if responses == nil {
		responses = map[string]any{}
	}
	if !hasSuccess(responses) {
		responses["200"] = map[string]any{"description": "OK"}
	}
	for _, status := range hostAnswers(r) {
		key := strconv.Itoa(status)
		if _, ok := responses[key]; !ok {
			responses[key] = hostAnswer(status)
		}
	}
	op["responses"] = responses
	return op
}

// hostAnswers lists the statuses the host itself may answer for route r before or
// instead of the plugin: a bad bearer token (401, on any route) or no sign-in where the
// route needs one; a permission or the anti-forgery check refused (403); a body over
// the route's limit (413); a path or query value beyond the input limits (422); the
// plugin restarting or out of service (503); and an internal error (500).
func hostAnswers(r sdk.Route) []int {
	out := []int{http.StatusUnauthorized}
	unsafe := r.Method != http.MethodGet
	if unsafe || r.Permission != sdk.PermPublic && r.Permission != sdk.PermAuthenticated {
		out = append(out, http.StatusForbidden)
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		out = append(out, http.StatusRequestEntityTooLarge)
	}
	return append(out, http.StatusUnprocessableEntity, http.StatusInternalServerError, http.StatusServiceUnavailable)
}

// HostAnswerDescriptions says, per status, why the host answers it for a plugin.
var hostAnswerDescriptions = map[int]string{
	http.StatusUnauthorized:          "Not signed in, or the bearer token is not valid (answered by the host).",
	http.StatusForbidden:             "The permission is missing in this domain, or a cookie-signed request lacks the anti-forgery header (answered by the host).",
	http.StatusRequestEntityTooLarge: "The body is larger than the route accepts (answered by the host).",
	http.StatusUnprocessableEntity:   "A path or query value breaks an input limit (answered by the host), or the body breaks a rule.",
	http.StatusInternalServerError:   "Something went wrong; the request id identifies it in the logs.",
	http.StatusServiceUnavailable:    "The plugin is restarting or out of service; try again after Retry-After seconds (answered by the host).",
}

func hostAnswer(status int) map[string]any {
	a := map[string]any{
		"description": hostAnswerDescriptions[status],
		"content":     map[string]any{"application/json": map[string]any{"schema": errorRef}},
	}
	if status == http.StatusServiceUnavailable {
		a["headers"] = map[string]any{"Retry-After": map[string]any{
			"description": "Seconds to wait before trying again.", "schema": map[string]any{"type": "integer", "minimum": 1}}}
	}
	return a
}

func hasSuccess(responses map[string]any) bool {
	for k := range responses {
		if strings.HasPrefix(k, "2") || strings.HasPrefix(k, "3") || k == "default" {
			return true
		}
	}
	return false
}

// pathParameters returns the operation's parameters with every parameter of path
// declared (a plugin's own declarations kept).
func pathParameters(path string, have any) []any {
	params, _ := have.([]any)
	named := map[string]bool{}
	for _, p := range params {
		if m, ok := p.(map[string]any); ok && m["in"] == "path" {
			name, _ := m["name"].(string)
			named[name] = true
		}
	}
	for _, seg := range strings.Split(path, "/") {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		name := strings.Trim(seg, "{}")
		if !named[name] {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true,
				"schema": map[string]any{"type": "string", "maxLength": 200}})
		}
	}
	return params
}

// operationName makes an id of a method and a path within the plugin:
// ("GET", "/parks/{id}/bookings") → "getParksIdBookings".
func operationName(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
