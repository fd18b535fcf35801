package hostside

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr puts the plugin in its own process group, so Kill reaches anything it
// started, and asks the kernel to SIGKILL it when the host dies.
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}

// fdDir names the process's own open descriptors as files, so that a child can be executed from a descriptor it
// inherited.
const fdDir = "/proc/self/fd/"
