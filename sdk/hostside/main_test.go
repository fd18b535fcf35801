package hostside_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/hostside"
)

// helloBin is the example plugin, built once by TestMain.
var helloBin string

func TestMain(m *testing.M) {
	// The test binary doubles as an intermediate host process for the tests that
	// kill a plugin's parent.
	if mode := os.Getenv("KVARTER_TEST_PARENT"); mode != "" {
		runParent(mode, os.Getenv("KVARTER_TEST_PLUGIN"))
		return
	}
	dir, err := os.MkdirTemp("", "kvarter-hostside-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helloBin = filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-o", helloBin, "../examples/hello/cmd/hello")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build example plugin:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runParent starts the plugin, prints its pid and waits to be killed. Mode "launch"
// starts it the way the core does; mode "plain" starts it with a bare exec, so only the
// SDK's watchdog can stop it once this process dies.
func runParent(mode, bin string) {
	switch mode {
	case "launch":
		p, err := hostside.Launch(context.Background(), hostside.LaunchOptions{
			Name: "hello", Cmd: exec.Command(bin),
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(p.Pid())
	case "plain":
		cmd := exec.Command(bin)
		cmd.Env = []string{
			hostside.Handshake.MagicCookieKey + "=" + hostside.Handshake.MagicCookieValue,
			"KVARTER_HOST_PID=" + strconv.Itoa(os.Getpid()),
		}
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err == nil {
			// Wait for the handshake line: the plugin is serving.
			_, err = bufio.NewReader(out).ReadString('\n')
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
	}
	time.Sleep(time.Hour)
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
		}
	}
	return true
}
