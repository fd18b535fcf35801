package openapi_test

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk/openapi"
)

// doc is a small document in the shape Kvarter writes: refs, closed objects, enums,
// nullable fields and a non-JSON feed.
var doc = map[string]any{
	"paths": map[string]any{
		"/api/v1/parks/{id}": map[string]any{"get": map[string]any{"responses": map[string]any{
			"200": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Park"}}}},
			"404": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}},
		}}},
		"/api/v1/parks/events.ics": map[string]any{"get": map[string]any{"responses": map[string]any{
			"200": map[string]any{"content": map[string]any{"text/calendar": map[string]any{"schema": map[string]any{"type": "string"}}}},
		}}},
		"/api/v1/parks/{id}/close": map[string]any{"post": map[string]any{"responses": map[string]any{"204": map[string]any{"description": "closed"}}}},
	},
	"components": map[string]any{"schemas": map[string]any{
		"Park": map[string]any{"type": "object", "additionalProperties": false, "required": []any{"id", "state"},
			"properties": map[string]any{
				"id":        map[string]any{"type": "string"},
				"state":     map[string]any{"type": "string", "enum": []any{"open", "closed"}},
				"capacity":  map[string]any{"type": "integer"},
				"parent_id": map[string]any{"type": "string", "nullable": true},
				"tags":      map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			}},
	}},
}

func TestCheckResponse(t *testing.T) {
	tests := []struct {
		name, method, path string
		status             int
		body               string
		wantErr            string // "" means valid
	}{
		{"OK", "GET", "/api/v1/parks/p1", 200, `{"id":"p1","state":"open","capacity":40,"parent_id":null,"tags":["a"]}`, ""},
		{"QueryIgnored", "GET", "/api/v1/parks/p1?x=1", 200, `{"id":"p1","state":"open"}`, ""},
		{"LiteralBeatsParam", "GET", "/api/v1/parks/events.ics", 200, "BEGIN:VCALENDAR\r\n", ""},
		{"NoBody", "POST", "/api/v1/parks/p1/close", 204, "", ""},
		{"UndocumentedPath", "GET", "/api/v1/nowhere", 200, `{}`, "not documented"},
		{"UndocumentedMethod", "DELETE", "/api/v1/parks/p1", 200, `{}`, "not documented"},
		{"UndocumentedStatus", "GET", "/api/v1/parks/p1", 500, `{}`, "answered 500"},
		{"MissingRequired", "GET", "/api/v1/parks/p1", 200, `{"id":"p1"}`, `missing required "state"`},
		{"WrongType", "GET", "/api/v1/parks/p1", 200, `{"id":5,"state":"open"}`, "want a string"},
		{"NotInEnum", "GET", "/api/v1/parks/p1", 200, `{"id":"p1","state":"ajar"}`, "is not one of"},
		{"NotInteger", "GET", "/api/v1/parks/p1", 200, `{"id":"p1","state":"open","capacity":1.5}`, "want an integer"},
		{"ExtraProperty", "GET", "/api/v1/parks/p1", 200, `{"id":"p1","state":"open","secret":1}`, "undocumented property"},
		{"NullNotAllowed", "GET", "/api/v1/parks/p1", 200, `{"id":"p1","state":"open","tags":null}`, "null is not allowed"},
		{"NotJSON", "GET", "/api/v1/parks/p1", 200, `<html>`, "not JSON"},
		{"BodyWhereNone", "POST", "/api/v1/parks/p1/close", 204, `{}`, "documents no body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := openapi.CheckResponse(doc, tt.method, tt.path, tt.status, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckResponseType(t *testing.T) {
	if err := openapi.CheckResponseType(doc, "GET", "/api/v1/parks/p1", 200, "application/json; charset=utf-8", []byte(`{"id":"p1","state":"open"}`)); err != nil {
		t.Fatalf("JSON with charset: %v", err)
	}
	if err := openapi.CheckResponseType(doc, "GET", "/api/v1/parks/events.ics", 200, "text/calendar; charset=utf-8", []byte("BEGIN:VCALENDAR\r\n")); err != nil {
		t.Fatalf("documented calendar: %v", err)
	}
	if err := openapi.CheckResponseType(doc, "GET", "/api/v1/parks/p1", 200, "text/html", []byte("<p>")); err == nil || !strings.Contains(err.Error(), "text/html") {
		t.Fatalf("undocumented media type accepted: %v", err)
	}
	if err := openapi.CheckResponseType(doc, "GET", "/api/v1/parks/p1", 200, "application/json", []byte(`{"id":5}`)); err == nil {
		t.Fatal("a JSON body that breaks the schema was accepted")
	}
}
