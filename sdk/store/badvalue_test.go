package store_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// A value PostgreSQL cannot take as its column's type — a forged list cursor with text
// where a time in microseconds belongs, a NUL byte — is the request's fault: 400
// malformed, on both databases, never 500. SQLite stores such values as they come.
func TestBadValueIsMalformed(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		db := open(t, cfg)
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE notes (at BIGINT NOT NULL, id TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		forged := sdk.ListQuery{Limit: 10, Key: []any{"not-a-time", "n1"}}
		where, args, err := forged.After("at", "id")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM notes WHERE `+where), args...)
		if !db.IsPostgres() {
			if err != nil {
				t.Fatalf("SQLite refused the forged key: %v", err)
			}
			return
		}
		if !sdk.IsBadValue(err) {
			t.Fatalf("PostgreSQL error %v is not a bad value", err)
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/api/v1/notes?cursor=x", nil).WithContext(sdk.WithRequestID(ctx, "req-1"))
		sdk.WriteError(w, r, nil, err)
		var body sdk.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != http.StatusBadRequest || body.Error.Code != sdk.CodeMalformed || body.Error.RequestID != "req-1" {
			t.Fatalf("answer %d %+v, want 400 malformed with the request id", w.Code, body.Error)
		}
	})
}
