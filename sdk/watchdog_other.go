//go:build !unix

package sdk

import "log/slog"

// watchParent is a no-op where parent pids are not meaningful; the host's process
// supervision is all there is.
func watchParent(*slog.Logger) {}
