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
