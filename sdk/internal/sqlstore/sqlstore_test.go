package sqlstore

import (
	"strings"
	"testing"
)

func TestPostgresDSN(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?options=-c+search_path%3D%22plugin_x%22&sslmode=disable"},
		{"postgres://u@h/db?options=-c%20statement_timeout%3D5s", "postgres://u@h/db?options=-c+statement_timeout%3D5s+-c+search_path%3D%22plugin_x%22"},
		{"host=h user=u dbname=db", `host=h user=u dbname=db options='-c search_path="plugin_x"'`},
	} {
		got, err := postgresDSN(tt.in, "plugin_x")
		if err != nil || got != tt.want {
			t.Errorf("postgresDSN(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSQLiteDSN(t *testing.T) {
	got := sqliteDSN("file:/tmp/x.db")
	for _, want := range []string{"journal_mode%28WAL%29", "busy_timeout%285000%29", "foreign_keys%281%29", "_txlock=immediate"} {
		if !strings.Contains(got, want) {
			t.Errorf("sqliteDSN = %q, lacks %q", got, want)
		}
	}
	// An explicit pragma wins over the default.
	got = sqliteDSN("file:/tmp/x.db?_pragma=busy_timeout(100)")
	if strings.Count(got, "busy_timeout") != 1 || !strings.Contains(got, "busy_timeout%28100%29") {
		t.Errorf("sqliteDSN = %q", got)
	}
}
