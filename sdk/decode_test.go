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
		wantField  string // "" with wantErr: any error
		wantErr    bool
	}{
		{name: "OK", body: `{"title":"Benches","cost":1200}`},
		{name: "EmptyAllowed", body: "  ", allowEmpty: true},
		{name: "EmptyRefused", body: "", wantErr: true},
		{name: "UnknownField", body: `{"title":"x","admin":true}`, wantErr: true, wantField: "admin"},
		{name: "WrongType", body: `{"cost":"lots"}`, wantErr: true, wantField: "cost"},
		{name: "Syntax", body: `{"title": `, wantErr: true},
		{name: "TwoValues", body: `{} {}`, wantErr: true},
		{name: "InvalidUTF8", body: "{\"title\":\"a\xffb\"}", wantErr: true},
		{name: "TooLarge", body: `{"title":"` + strings.Repeat("a", sdk.MaxBody) + `"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v in
			err := sdk.DecodeJSON(httptest.NewRequest("POST", "/x", strings.NewReader(tt.body)), &v, tt.allowEmpty)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("DecodeJSON = %v", err)
				}
				return
			}
			e, ok := err.(*sdk.Error)
			if !ok || e.Status() != 400 || e.Message == "" {
				t.Fatalf("DecodeJSON = %#v, want a 400 *sdk.Error with a message", err)
			}
			if tt.wantField != "" && e.Fields[tt.wantField] == "" {
				t.Fatalf("error %v does not name field %q", e, tt.wantField)
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
