package sdktest_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHello runs the example plugin through a real kvarter: the documented path for
// every plugin author.
func TestHello(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "../examples/hello/cmd/hello", Name: "hello",
		Settings: map[string]string{"greeting": "hei"}}, func(t *testing.T, c *sdktest.Core, pg bool) {
		if got := c.Anonymous().Must(200, "GET", "/api/v1/hello/ping", nil).JSON()["greeting"]; got != "hei" {
			t.Fatalf("greeting = %v, want the configured setting", got)
		}
		res := c.NewUser("res@example.org")
		nbh := c.Neighbourhood("Kallio")
		res.Must(403, "POST", "/api/v1/hello/nbh/"+nbh+"/echo", "hi")
		c.VerifiedMember(res, nbh)
		echo := res.Must(201, "POST", "/api/v1/hello/nbh/"+nbh+"/echo", "hi").JSON()
		if echo["body"] != "hi" || echo["nbh"] != nbh {
			t.Fatalf("echo = %v", echo)
		}
		who := res.Must(200, "GET", "/api/v1/hello/whoami", nil).JSON()
		if users, _ := who["users"].([]any); len(users) != 1 {
			t.Fatalf("whoami = %v", who)
		}
		if !pg {
			return
		}
		// A second node on the same database knows the same people.
		n2 := c.StartNode()
		if n2.URL == c.URL || n2.Pid == c.Pid {
			t.Fatalf("second node is the first")
		}
		res.On(n2).Must(201, "POST", "/api/v1/hello/nbh/"+nbh+"/echo", "hei")
		n2.Admin().Must(200, "GET", "/api/v1/admin/plugins", nil)
	})
}

// TestHostKilled: after the host is killed with SIGKILL, no plugin process is alive
// 5 s later.
func TestHostKilled(t *testing.T) {
	c := sdktest.Start(t, sdktest.Options{Package: "../examples/hello/cmd/hello", Name: "hello"})
	children := childrenOf(c.Pid)
	if len(children) == 0 {
		t.Fatal("kvarter has no plugin process")
	}
	if err := syscall.Kill(c.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range children {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("plugin process %d outlived its host by 5 s", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// The command name may hold spaces; fields after the last ')' are plain.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			out = append(out, child)
		}
	}
	return out
}

// alive reports whether pid runs (a zombie awaiting its reaper counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}
