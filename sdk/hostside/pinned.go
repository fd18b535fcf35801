package hostside

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
)

// pinExecutable makes cmd run exactly the bytes whose sha256 is want. Checking a file
// by its path and then starting it by its path leaves a window in which the file can
// be replaced, and the replacement runs unchecked. So the file is opened once, the
// hash is taken from that descriptor, and the child is started from the descriptor
// itself (passed as its fd 3 and executed through fdDir): whatever is renamed or
// written over the path afterwards is not what runs. The returned file must stay open
// until the process has started; the caller closes it.
func pinExecutable(cmd *exec.Cmd, want []byte) (*os.File, error) {
	f, err := os.Open(cmd.Path)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", cmd.Path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		f.Close()
		return nil, fmt.Errorf("%s has sha256 %x, not its configured %x: %w", cmd.Path, got, want, ErrChecksum)
	}
	// The child's descriptors 0-2 are its standard streams; ExtraFiles follow from 3.
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	if len(cmd.Args) == 0 {
		cmd.Args = []string{cmd.Path} // the plugin still sees its own name as argv[0]
	}
	cmd.Path = fdDir + strconv.Itoa(fd)
	return f, nil
}
