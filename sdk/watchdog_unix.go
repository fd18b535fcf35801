//go:build unix

package sdk

import (
	"errors"
	"log/slog"
	"os"
	"strconv"
	"syscall"
	"time"
)

// watchdogInterval is how often a plugin checks that its host is still alive.
const watchdogInterval = 250 * time.Millisecond

// hostPIDEnv names the variable in which the host passes its pid. It closes the race
// in which the host dies before the plugin has read its parent pid, and covers
// plugins started through a wrapper that is not the host itself.
const hostPIDEnv = "KVARTER_HOST_PID"

// watchParent exits the process once its host is gone. The host also kills its
// process group and sets a parent-death signal; this covers the rest (a host killed
// with SIGKILL on a system without Pdeathsig, or a thread-exit race), so that no
// plugin ever outlives its host. A dead parent shows as a changed parent pid, since the
// orphan is adopted by init or a subreaper.
func watchParent(logger *slog.Logger) {
	parent := os.Getppid()
	host, _ := strconv.Atoi(os.Getenv(hostPIDEnv))
	gone := func() bool {
		if host > 0 && errors.Is(syscall.Kill(host, 0), syscall.ESRCH) {
			return true
		}
		return parent > 1 && os.Getppid() != parent
	}
	if host <= 0 && parent <= 1 {
		return // adopted already and no host pid: nothing to watch
	}
	exit := func() {
		logger.Error("host process is gone; exiting", "host_pid", max(host, parent))
		os.Exit(3)
	}
	if gone() {
		exit()
	}
	go func() {
		t := time.NewTicker(watchdogInterval)
		defer t.Stop()
		for range t.C {
			if gone() {
				exit()
			}
		}
	}()
}
