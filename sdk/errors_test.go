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
		{sdk.Malformed("not JSON"), 400},
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

func TestWriteError(t *testing.T) {
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
