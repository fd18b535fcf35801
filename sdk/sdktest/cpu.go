package sdktest

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user and system) the test process has used so far. A
// benchmark on a shared machine reports the difference per operation beside the wall
// time, which a busy machine inflates while the CPU time stays what the code costs.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
