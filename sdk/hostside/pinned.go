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
// be replaced; checking an open descriptor and executing that descriptor is not enough
// either, for the same inode can be written over in place between the hash and the
// exec. So the file is read once, into a private copy as it is hashed (a sealed memfd
// on Linux, see privateCopy), and the child is started from that copy (passed as its
// fd 3 and executed through fdDir): nothing done to the path or the file afterwards
// changes what runs. The returned file must stay open until the process has started;
// the caller closes it.
func pinExecutable(cmd *exec.Cmd, want []byte) (*os.File, error) {
	f, err := os.Open(cmd.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	cp, err := privateCopy(io.TeeReader(f, h))
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", cmd.Path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		cp.Close()
		return nil, fmt.Errorf("%s has sha256 %x, not its configured %x: %w", cmd.Path, got, want, ErrChecksum)
	}
	// The child's descriptors 0-2 are its standard streams; ExtraFiles follow from 3.
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, cp)
	if len(cmd.Args) == 0 {
		cmd.Args = []string{cmd.Path} // the plugin still sees its own name as argv[0]
	}
	cmd.Path = fdDir + strconv.Itoa(fd)
	return cp, nil
}
