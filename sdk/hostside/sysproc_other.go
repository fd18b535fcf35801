//go:build !linux

package hostside

import (
	"os"
	"os/exec"
)

// setProcAttr does nothing where there is no parent-death signal; sdk.Serve's parent
// watchdog still stops orphaned plugins.
func setProcAttr(*exec.Cmd) {}

func killGroup(p *os.Process) { _ = p.Kill() }

// fdDir names the process's own open descriptors (BSDs, macOS) as files, so that a child can be executed from a descriptor it
// inherited.
const fdDir = "/dev/fd/"
