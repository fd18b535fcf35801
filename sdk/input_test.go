package sdk

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

type checkContact struct {
	Name  string `json:"name" max:"5"`
	Phone string `json:"phone"`
}

type checkBody struct {
	Title    string            `json:"title" max:"10"`
	Capacity int               `json:"capacity" min:"1" max:"100"`
	Count    int               `json:"count"`
	Money    int64             `json:"money"`
	Tags     []string          `json:"tags" max:"3"`
	Items    map[string]int    `json:"items"`
	Contact  checkContact      `json:"contact"`
	Contacts []checkContact    `json:"contacts"`
	At       *time.Time        `json:"at"`
	Raw      json.RawMessage   `json:"raw"`
	Labels   map[string]string `json:"labels" max:"4"`
	checkEmbedded
}

type checkEmbedded struct {
	Note string `json:"note" max:"3"`
}

func TestCheckInput(t *testing.T) {
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		in          checkBody
		field, rule string
	}{
		{"OK", checkBody{Title: "ten chars!", Capacity: 100, Count: -5, Money: 1 << 40, Tags: []string{"abc"}}, "", ""},
		{"NUL", checkBody{Title: "a\x00"}, "title", RuleNUL},
		{"NULNested", checkBody{Contact: checkContact{Phone: "1\x00"}}, "contact.phone", RuleNUL},
		{"NULInList", checkBody{Contacts: []checkContact{{}, {Name: "\x00"}}}, "contacts[1].name", RuleNUL},
		{"NULInKey", checkBody{Items: map[string]int{"a\x00": 1}}, "items.a\x00", RuleNUL},
		{"NULInRaw", checkBody{Raw: json.RawMessage(`{"a":["\u0000"]}`)}, "raw.a[0]", RuleNUL},
		{"MaxRunes", checkBody{Title: strings.Repeat("ä", 11)}, "title", RuleMaxLength},
		{"RunesNotBytes", checkBody{Title: strings.Repeat("ä", 10)}, "", ""},
		{"DefaultMax", checkBody{Contact: checkContact{Phone: strings.Repeat("1", MaxText+1)}}, "contact.phone", RuleMaxLength},
		{"ElementMax", checkBody{Tags: []string{"abcd"}}, "tags[0]", RuleMaxLength},
		{"MapValueMax", checkBody{Labels: map[string]string{"en": "12345"}}, "labels.en", RuleMaxLength},
		{"Embedded", checkBody{checkEmbedded: checkEmbedded{Note: "long"}}, "note", RuleMaxLength},
		{"TagRange", checkBody{Capacity: 101}, "capacity", RuleRange},
		{"Int32Default", checkBody{Count: 1 << 31}, "count", RuleRange},
		{"Int32DefaultInMap", checkBody{Items: map[string]int{"x": -(1 << 31) - 1}}, "items.x", RuleRange},
		{"TimeRange", checkBody{At: &far}, "at", RuleTimeRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Capacity == 0 {
				tc.in.Capacity = 1
			}
			err := CheckInput(&tc.in)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status() != 422 || e.Fields[tc.field] == "" || e.Fields["rule"] != tc.rule {
				t.Fatalf("got %#v, want 422 on %q rule %s", err, tc.field, tc.rule)
			}
		})
	}
}

func TestDecodeJSON_Overflow(t *testing.T) {
	for _, body := range []string{`{"capacity": 1e40}`, `{"capacity": 2.5}`, `{"count": 99999999999999999999}`} {
		var v checkBody
		err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(body)), &v, false)
		var e *Error
		if !errors.As(err, &e) || e.Status() != 422 || e.Fields["rule"] != RuleRange {
			t.Errorf("%s: %#v, want 422 with rule range", body, err)
		}
	}
}

func TestWithLimits(t *testing.T) {
	s := map[string]any{"type": "object", "properties": map[string]any{
		"title": map[string]any{"type": "string"}, "capacity": map[string]any{"type": "integer"},
		"money": map[string]any{"type": "integer"}, "tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"contact": map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}},
		"items":   map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "integer"}},
		"note":    map[string]any{"type": "string"},
	}}
	got, _ := json.Marshal(WithLimits(s, checkBody{}))
	for _, want := range []string{`"title":{"maxLength":10`, `"capacity":{"maximum":100,"minimum":1`,
		`"money":{"maximum":9223372036854775807,"minimum":-9223372036854775808`, `"items":{"maxLength":3`,
		`"contact":{"properties":{"name":{"maxLength":5`, `"additionalProperties":{"maximum":2147483647,"minimum":-2147483648`,
		`"x-propertyNames":{"maxLength":200}`, `"note":{"maxLength":3`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("schema lacks %s:\n%s", want, got)
		}
	}
	if _, ok := s["properties"].(map[string]any)["title"].(map[string]any)["maxLength"]; ok {
		t.Error("WithLimits changed the schema it was given")
	}
}

func TestWriteError_Unavailable(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("list: %w", syscall.ECONNREFUSED),
		fmt.Errorf("list: %w", driver.ErrBadConn),
		&pq.Error{Code: "57P01"}, &pq.Error{Code: "53300"}, &pq.Error{Code: "08006"},
		fmt.Errorf("host users: %w", ErrUnavailable),
	} {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest("GET", "/", nil), slog.New(slog.DiscardHandler), err)
		if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"unavailable"`) {
			t.Errorf("%v: %d %q %s, want 503 with Retry-After", err, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
	for _, err := range []error{errors.New("boom"), &pq.Error{Code: "23505"}, io.EOF} {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest("GET", "/", nil), slog.New(slog.DiscardHandler), err)
		if w.Code != 500 {
			t.Errorf("%v: %d, want 500", err, w.Code)
		}
	}
}

// BenchmarkDecodeJSON measures what CheckInput adds to decoding a booking-sized body.
func BenchmarkDecodeJSON(b *testing.B) {
	body := `{"title":"Painting","capacity":40,"count":3,"money":120000,"tags":["art","toy"],
		"items":{"chairs":20,"tables":2},"contact":{"name":"Ayşe","phone":"+90 555"},"note":"ok"}`
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			var v checkBody
			dec := json.NewDecoder(strings.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode+check", func(b *testing.B) {
		for b.Loop() {
			var v checkBody
			if err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(body)), &v, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		var v checkBody
		_ = json.Unmarshal([]byte(body), &v)
		for b.Loop() {
			if err := CheckInput(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
