package hostside

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
)

// procRunner starts the plugin for go-plugin (as its RunnerFunc) so that the host
// controls what go-plugin's own runner does not expose: the process group, the
// parent-death signal, and a channel closed as soon as the child has exited.
type procRunner struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr io.ReadCloser
	exited chan struct{}

	mu      sync.Mutex
	started bool
	p       *os.Process
	done    bool
}

var _ runner.Runner = (*procRunner)(nil)

func newProcRunner(cmd *exec.Cmd) *procRunner {
	return &procRunner{cmd: cmd, exited: make(chan struct{})}
}

// prepare is the go-plugin RunnerFunc. spec carries the environment go-plugin wants
// the child to have (handshake cookie, client certificate, socket directory).
func (r *procRunner) prepare(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
	r.cmd.Env = append(slices.Clip(r.cmd.Env), spec.Env...)
	// sdk.Serve's watchdog exits the plugin once this pid is gone.
	r.cmd.Env = append(r.cmd.Env, "KVARTER_HOST_PID="+strconv.Itoa(os.Getpid()))
	r.cmd.Stdin = nil // the plugin reads nothing from the host's terminal
	setProcAttr(r.cmd)
	var err error
	if r.stdout, err = r.cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if r.stderr, err = r.cmd.StderrPipe(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *procRunner) Start(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return errors.New("launch cancelled")
	}
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.started, r.p = true, r.cmd.Process
	return nil
}

// Wait is called once by go-plugin, after both pipes reached EOF — which happens when
// the child exits.
func (r *procRunner) Wait(context.Context) error {
	err := r.cmd.Wait()
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
	close(r.exited)
	return err
}

func (r *procRunner) Kill(context.Context) error {
	r.kill()
	return nil
}

// kill SIGKILLs the process group; safe to call at any time and more than once.
func (r *procRunner) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		r.done = true // a Start still to come must not start anything
		return
	}
	if r.done {
		return
	}
	killGroup(r.p)
}

func (r *procRunner) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return 0
	}
	return r.p.Pid
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *procRunner) Name() string          { return r.cmd.Args[0] } // Path may be a descriptor
func (r *procRunner) ID() string            { return strconv.Itoa(r.pid()) }

func (r *procRunner) Diagnose(context.Context) string {
	return fmt.Sprintf("%s does not look like a Kvarter plugin, or exited during the handshake; "+
		"run it by hand to see its output", r.cmd.Args[0])
}

func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
