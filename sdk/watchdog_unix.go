//go:build unix

package sdk

import (
	"log/slog"
	"os"
	"time"
)

// watchdogInterval is how often a plugin checks that its host is still alive.
const watchdogInterval = 250 * time.Millisecond

// watchParent exits the process once its parent is gone. The host also kills its
// process group and sets a parent-death signal; this covers the rest (a host killed
// with SIGKILL on a system without Pdeathsig, or a thread-exit race), so that no
// plugin ever outlives its host. A dead parent shows as a changed parent pid, since the
// orphan is adopted by init or a subreaper.
func watchParent(logger *slog.Logger) {
	parent := os.Getppid()
	if parent <= 1 {
		return // already adopted: nothing to watch
	}
	go func() {
		t := time.NewTicker(watchdogInterval)
		defer t.Stop()
		for range t.C {
			if os.Getppid() != parent {
				logger.Error("host process is gone; exiting", "host_pid", parent)
				os.Exit(3)
			}
		}
	}()
}
