//go:build !linux

package hostside

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// setProcAttr does nothing where there is no parent-death signal; sdk.Serve's parent
// watchdog still stops orphaned plugins.
func setProcAttr(*exec.Cmd) {}

func killGroup(p *os.Process) { _ = p.Kill() }

// fdDir names the process's own open descriptors (BSDs, macOS) as files, so that a child can be executed from a descriptor it
// inherited.
const fdDir = "/dev/fd/"

// privateCopy copies r into a file in a fresh directory only this user can enter,
// which is unlinked once open: without memfd seals this is the nearest private copy.
func privateCopy(r io.Reader) (*os.File, error) {
	dir, err := os.MkdirTemp("", "kvarter-plugin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	f, err := os.OpenFile(filepath.Join(dir, "plugin"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o500)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
