package sdk_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
)

func TestDecodeJSON(t *testing.T) {
	type in struct {
		Title string `json:"title"`
		Cost  int64  `json:"cost"`
	}
	tests := []struct {
		name       string
		body       string
		allowEmpty bool
		wantStatus int    // 0: no error
		wantField  string // "": any fields
		wantRule   string
	}{
		{name: "OK", body: `{"title":"Benches","cost":1200}`},
		{name: "EmptyAllowed", body: "  ", allowEmpty: true},
		{name: "EmptyRefused", body: "", wantStatus: 400},
		{name: "UnknownField", body: `{"title":"x","admin":true}`, wantStatus: 400, wantField: "admin"},
		{name: "WrongType", body: `{"cost":"lots"}`, wantStatus: 400, wantField: "cost"},
		{name: "NotAnObject", body: `[1, 2]`, wantStatus: 400},
		{name: "Syntax", body: `{"title": `, wantStatus: 400},
		{name: "TwoValues", body: `{} {}`, wantStatus: 400},
		{name: "InvalidUTF8", body: "{\"title\":\"a\xffb\"}", wantStatus: 400},
		{name: "NUL", body: `{"title":"a\u0000b"}`, wantStatus: 422, wantField: "title", wantRule: sdk.RuleNUL},
		{name: "Overflow", body: `{"cost":1e30}`, wantStatus: 422, wantField: "cost", wantRule: sdk.RuleRange},
		{name: "TooLarge", body: `{"title":"` + strings.Repeat("a", sdk.MaxBody) + `"}`, wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v in
			err := sdk.DecodeJSON(httptest.NewRequest("POST", "/x", strings.NewReader(tt.body)), &v, tt.allowEmpty)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("DecodeJSON = %v", err)
				}
				return
			}
			e, ok := err.(*sdk.Error)
			if !ok || e.Status() != tt.wantStatus || e.Message == "" {
				t.Fatalf("DecodeJSON = %#v, want a %d *sdk.Error with a message", err, tt.wantStatus)
			}
			if want := sdk.CodeOf(tt.wantStatus); e.Code != want {
				t.Fatalf("code = %q, want %q", e.Code, want)
			}
			if tt.wantField != "" && e.Fields[tt.wantField] == "" {
				t.Fatalf("error %v does not name field %q", e, tt.wantField)
			}
			if e.Fields["rule"] != tt.wantRule {
				t.Fatalf("rule = %q, want %q", e.Fields["rule"], tt.wantRule)
			}
			// Plain words: never the decoder's Go vocabulary, never "a JSON a number".
			for _, bad := range []string{"json:", "Go value", "int64", "struct", "a JSON a", "unmarshal"} {
				if strings.Contains(e.Message, bad) {
					t.Fatalf("message %q speaks of %q", e.Message, bad)
				}
			}
		})
	}
	t.Run("Decoded", func(t *testing.T) {
		var v in
		if err := sdk.DecodeJSON(httptest.NewRequest("POST", "/x", strings.NewReader(`{"title":"Benches","cost":1200}`)), &v, false); err != nil || v.Title != "Benches" || v.Cost != 1200 {
			t.Fatalf("got %+v, %v", v, err)
		}
	})
}
