package sdk_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// fuzzBody has a field of every kind a plugin's request decodes into.
type fuzzBody struct {
	Title   string            `json:"title" max:"20"`
	Count   int               `json:"count" min:"0" max:"1000"`
	Big     int64             `json:"big"`
	Tags    []string          `json:"tags" max:"8"`
	Names   map[string]string `json:"names"`
	Nested  *fuzzNested       `json:"nested"`
	At      time.Time         `json:"at"`
	Raw     json.RawMessage   `json:"raw"`
	Anytime any               `json:"any"`
}

type fuzzNested struct {
	Note  string `json:"note" max:"5"`
	Items []int  `json:"items"`
}

// FuzzDecodeJSON feeds DecodeJSON arbitrary bodies: it never panics, refuses only with
// a malformed or invalid *Error (never an internal error), and whatever it accepts obeys every limit —
// no NUL anywhere, text within its max, integers within their range, times in range.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"title":"ok","count":3,"tags":["a"],"names":{"en":"x"},"nested":{"note":"n","items":[1,2]}}`,
		`{"title":"a\u0000b"}`, `{"count":3000000000}`, `{"count":1e40}`, `{"big":-9223372036854775808}`,
		`{"raw":{"k":["\u0000"]}}`, `{"at":"9999-01-01T00:00:00Z"}`, `{"any":{"x":[{"y":"\u0000"}]}}`,
		`{"names":{"\u0000":"x"}}`, `{"tags":["123456789"]}`, `{} {}`, `[1]`, "\xff", ``,
		`{"title":"\\u0000"}`, // a backslash and "u0000": no NUL
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v fuzzBody
		err := sdk.DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(string(body))), &v, false)
		if err != nil {
			var e *sdk.Error
			if !errors.As(err, &e) || e.Code != sdk.CodeInvalid && e.Code != sdk.CodeMalformed {
				t.Fatalf("refused with %T %v, want a malformed or invalid *Error", err, err)
			}
			return
		}
		if sdk.CheckInput(&v) != nil {
			t.Fatalf("accepted %q, which CheckInput refuses: %v", body, sdk.CheckInput(&v))
		}
		if sdktest.EncodesNUL(v) {
			t.Fatalf("accepted a NUL: %q", body)
		}
		if utf8.RuneCountInString(v.Title) > 20 || v.Count < 0 || v.Count > 1000 {
			t.Fatalf("accepted out-of-limit values: %+v", v)
		}
		if !v.At.IsZero() && (v.At.Before(sdk.MinTime) || !v.At.Before(sdk.MaxTime)) {
			t.Fatalf("accepted time %v", v.At)
		}
	})
}
