package hostside

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger gives go-plugin an hclog.Logger that ends up in logger. go-plugin logs
// its own events and re-logs every stderr line of the plugin (parsed from JSON, with
// the plugin's level) through it; JSON lines are parsed back into slog records here.
func newHCLogger(logger *slog.Logger) hclog.Logger {
	level := hclog.Error
	for _, l := range []struct {
		s slog.Level
		h hclog.Level
	}{{slog.LevelWarn, hclog.Warn}, {slog.LevelInfo, hclog.Info}, {slog.LevelDebug, hclog.Debug}} {
		if logger.Enabled(context.Background(), l.s) {
			level = l.h
		}
	}
	return hclog.New(&hclog.LoggerOptions{
		Output:     &slogWriter{logger: logger},
		JSONFormat: true,
		Level:      level,
	})
}

// slogWriter turns hclog JSON lines into slog records.
type slogWriter struct {
	logger *slog.Logger
	mu     sync.Mutex
	buf    []byte
}

func (w *slogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// dropped are keys that slog supplies itself or that only repeat what the plugin tag
// says.
var dropped = map[string]bool{"@timestamp": true, "@module": true, "@caller": true, "timestamp": true}

func (w *slogWriter) emit(line []byte) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		w.logger.Info(string(line))
		return
	}
	msg, _ := m["@message"].(string)
	lvl, _ := m["@level"].(string)
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "@message" && k != "@level" && !dropped[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		name := k
		if k == "plugin" { // go-plugin's own key for the executable path
			name = "path"
		}
		attrs = append(attrs, slog.Any(name, m[k]))
	}
	w.logger.LogAttrs(context.Background(), slogLevel(lvl), msg, attrs...)
}

func slogLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "trace", "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
