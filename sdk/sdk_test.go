package sdk

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/internal/protocol"
)

func TestPrincipal_HasRole(t *testing.T) {
	p := Principal{UserID: "u", Roles: map[string][]string{
		"city":    {"coordinator"},
		"nbh:n-1": {"resident"},
	}}
	for _, tt := range []struct {
		domain, role string
		want         bool
	}{
		{"nbh:n-1", "resident", true},
		{"nbh:n-2", "resident", false},
		{"nbh:n-2", "coordinator", true}, // city roles hold everywhere
		{"org:o-1", "coordinator", true},
		{"city", "resident", false},
	} {
		if got := p.HasRole(tt.domain, tt.role); got != tt.want {
			t.Errorf("HasRole(%q, %q) = %v", tt.domain, tt.role, got)
		}
	}
	if (Principal{}).Authenticated() || !p.Authenticated() {
		t.Error("Authenticated")
	}
}

func TestRecorder(t *testing.T) {
	t.Run("HeadersAfterWriteHeaderIgnored", func(t *testing.T) {
		w := newRecorder()
		w.Header().Set("X-A", "1")
		w.WriteHeader(http.StatusTeapot)
		w.Header().Set("X-B", "2")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html></html>"))
		r := w.response()
		h := headerFromProto(r.Headers)
		if r.Status != http.StatusTeapot || h.Get("X-A") != "1" || h.Get("X-B") != "" {
			t.Errorf("status %d header %v", r.Status, h)
		}
		if h.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("sniffed %q", h.Get("Content-Type"))
		}
	})
	t.Run("Defaults200", func(t *testing.T) {
		r := newRecorder().response()
		if r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Errorf("%+v", r)
		}
	})
}

// TestNewLogger checks the plugin's log lines have the shape go-plugin's host side
// parses; otherwise every line would arrive at debug level as plain text.
func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	newLogger(&buf, "").Warn("disk almost full", "free", 3)
	newLogger(&buf, "").Debug("hidden")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	if m["@level"] != "warn" || m["@message"] != "disk almost full" || m["free"] != float64(3) {
		t.Errorf("line %v", m)
	}
	if _, err := time.Parse(protocol.LogTimeFormat, m["@timestamp"].(string)); err != nil {
		t.Error(err)
	}
}
