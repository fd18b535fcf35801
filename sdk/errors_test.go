package sdk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
)

func TestError_Status(t *testing.T) {
	tests := []struct {
		err  *sdk.Error
		want int
	}{
		{sdk.InvalidField("title", "is required"), 422},
		{sdk.Invalid("title", sdk.RuleRequired, "is required"), 422},
		{sdk.Malformed("not JSON"), 400},
		{sdk.MalformedField("cost", "must be a whole number"), 400},
		{&sdk.Error{Code: sdk.CodeInvalid, Message: "old style", Malformed: true}, 400},
		{sdk.Errorf(sdk.CodeTooLarge, "big"), 413},
		{sdk.Errorf(sdk.CodeRateLimited, "slow down"), 429},
		{sdk.Errorf(sdk.CodeInternal, "oops"), 500},
		{sdk.Errorf(sdk.CodeUnauthenticated, "sign in"), 401},
		{sdk.Errorf(sdk.CodeForbidden, "no"), 403},
		{sdk.Errorf(sdk.CodeNotFound, "no such park"), 404},
		{sdk.RuleError(sdk.CodeConflict, "no_overlap", "taken"), 409},
		{sdk.Errorf(sdk.CodeUnavailable, "later"), 503},
		{sdk.Errorf("bogus", "?"), 500},
	}
	for _, tt := range tests {
		if got := tt.err.Status(); got != tt.want {
			t.Errorf("%v: Status = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestStatusOf: the table DESIGN.md §7 fixes, one status per code and back.
func TestStatusOf(t *testing.T) {
	want := map[string]int{"malformed": 400, "invalid": 422, "unauthenticated": 401, "forbidden": 403, "not_found": 404,
		"method_not_allowed": 405, "conflict": 409, "too_large": 413, "uri_too_long": 414, "header_too_large": 431,
		"rate_limited": 429, "unavailable": 503, "internal": 500}
	if got := sdk.Codes(); len(got) != len(want) {
		t.Fatalf("Codes() = %v, want the %d of DESIGN.md §7", got, len(want))
	}
	for code, status := range want {
		if got := sdk.StatusOf(code); got != status {
			t.Errorf("StatusOf(%q) = %d, want %d", code, got, status)
		}
		if got := sdk.CodeOf(status); got != code {
			t.Errorf("CodeOf(%d) = %q, want %q", status, got, code)
		}
	}
	if got := sdk.StatusOf("bogus"); got != 500 {
		t.Errorf("StatusOf(bogus) = %d, want 500", got)
	}
}

func TestWriteError(t *testing.T) {
	t.Run("RequestIDAndShape", func(t *testing.T) {
		for _, err := range []error{sdk.Invalid("title", sdk.RuleRequired, "is required"), sdk.Malformed("not JSON"),
			&sdk.Error{Code: sdk.CodeInvalid, Message: "old style", Malformed: true}, errors.New("boom")} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/api/v1/parks", nil)
			req = req.WithContext(sdk.WithRequestID(req.Context(), "req-7"))
			sdk.WriteError(rec, req, nil, err)
			var body sdk.ErrorBody
			if json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.RequestID != "req-7" || body.Error.Code != sdk.CodeOf(rec.Code) || body.Error.Message == "" {
				t.Errorf("%v: got %d %s, want the code of the status, a message and request_id", err, rec.Code, rec.Body)
			}
		}
	})
	t.Run("Unavailable", func(t *testing.T) {
		rec := httptest.NewRecorder()
		sdk.WriteError(rec, httptest.NewRequest("GET", "/api/v1/parks", nil), nil, fmt.Errorf("list: %w", sdk.ErrUnavailable))
		if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
			t.Fatalf("got %d %v %s, want 503 with Retry-After", rec.Code, rec.Header(), rec.Body)
		}
	})
	t.Run("OK", func(t *testing.T) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/v1/parks/x/bookings", nil)
		err := fmt.Errorf("approve: %w", sdk.RuleError(sdk.CodeConflict, "no_overlap", "The area is already booked then."))
		sdk.WriteError(rec, req, nil, err)
		var body struct {
			Error struct {
				Code, Message string
				Fields        map[string]string
			}
		}
		if rec.Code != 409 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Code != "conflict" || body.Error.Fields["rule"] != "no_overlap" {
			t.Fatalf("got %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("InternalHidesDetails", func(t *testing.T) {
		var logs bytes.Buffer
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/api/v1/parks", nil)
		req = req.WithContext(sdk.WithRequestID(req.Context(), "req-42"))
		sdk.WriteError(rec, req, slog.New(slog.NewTextHandler(&logs, nil)), errors.New("pq: password authentication failed"))
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "pq:") || !strings.Contains(rec.Body.String(), "req-42") {
			t.Fatalf("got %d %s", rec.Code, rec.Body)
		}
		if !strings.Contains(logs.String(), "pq: password") || !strings.Contains(logs.String(), "req-42") {
			t.Fatalf("internal error not logged with its request id: %s", logs.String())
		}
	})
}
