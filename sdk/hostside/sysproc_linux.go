package hostside

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
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

// privateCopy copies r into an anonymous memory file and seals it against any further
// change, so the bytes that were hashed are the bytes that run: nobody, not even this
// process, can write, grow or shrink it, nor lift the seals.
func privateCopy(r io.Reader) (*os.File, error) {
	fd, err := unix.MemfdCreate("kvarter-plugin", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:kvarter-plugin")
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_GROW|unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return f, nil
}
