package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/password"
	"github.com/kvarter/kvarter/migrations"
)

// newTestMain returns a Main whose environment points at a temp data dir and a free
// port, with cheap password hashing.
func newTestMain(t testing.TB, dataDir string) (*Main, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := map[string]string{"KVARTER_DATA_DIR": dataDir, "KVARTER_ADDR": "127.0.0.1:0", "KVARTER_LOG_LEVEL": "warn"}
	p := password.TestParams
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }, Options: node.Options{PasswordParams: &p, RegisterFloor: -1}}
	return m, &stdout, &stderr
}

func TestMain_Version(t *testing.T) {
	m, out, _ := newTestMain(t, t.TempDir())
	if code := m.Run(context.Background(), []string{"version"}); code != 0 || !strings.HasPrefix(out.String(), "kvarter "+Version+"\n") ||
		!strings.Contains(out.String(), "\ncommit ") || !strings.Contains(out.String(), "\ngo go1.") {
		t.Fatalf("version = %d %q, want the version, commit and Go version", code, out)
	}
}

// TestMain_BuildCommit: the commit a build stamped with -ldflags reaches the node's
// kvarter_build_info, the same one `kvarter version` prints.
func TestMain_BuildCommit(t *testing.T) {
	defer func(c string) { Commit = c }(Commit)
	Commit = "0123abcd"
	m, out, _ := newTestMain(t, t.TempDir())
	if got := m.nodeOptions().Commit; got != Commit {
		t.Errorf("the node is told commit %q, want %q", got, Commit)
	}
	m.Run(context.Background(), []string{"version"})
	if !strings.Contains(out.String(), "\ncommit "+Commit) {
		t.Errorf("version = %q, want commit %s", out, Commit)
	}
}

func TestMain_Usage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"admin"}, {"admin", "create-user"}, {"serve", "--no-such-flag"}} {
		m, _, errOut := newTestMain(t, t.TempDir())
		if code := m.Run(context.Background(), args); code != 2 || errOut.Len() == 0 {
			t.Errorf("kvarter %v = %d (stderr %q), want 2 with a message", args, code, errOut)
		}
	}
}

// TestMain_PB runs `kvarter pb compare` on a Pabulib file from the budgeting
// plugin's test data: the binary's wiring of the pb command.
func TestMain_PB(t *testing.T) {
	file := "../../plugins/budgeting/testdata/pabulib/Netherlands_Assen_2024.pb"
	m, out, errOut := newTestMain(t, t.TempDir())
	if code := m.Run(context.Background(), []string{"pb", "compare", file}); code != 0 ||
		!strings.Contains(out.String(), "mes/add1u") || !strings.Contains(out.String(), "funded by greedy only") {
		t.Fatalf("pb compare = %d\n%s%s", code, out, errOut)
	}
	m, out, _ = newTestMain(t, t.TempDir())
	if code := m.Run(context.Background(), []string{"pb", "tally", file, "--rule", "mes", "--completion", "add1u"}); code != 0 ||
		!strings.Contains(out.String(), "endowment per voter: 2033") {
		t.Fatalf("pb tally = %d\n%s", code, out)
	}
}

// TestMain_ServeAndCreateUser runs the real program: migrate, create the first admin from
// standard input, serve on a free port, sign in over HTTP, then stop on cancel.
func TestMain_ServeAndCreateUser(t *testing.T) {
	dir := t.TempDir()
	sqliteFiles, err := migrations.For("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := fs.Glob(sqliteFiles, "*.sql")
	m, out, errOut := newTestMain(t, dir)
	if code := m.Run(context.Background(), []string{"migrate"}); code != 0 || !strings.Contains(out.String(), fmt.Sprintf("Applied %d migration", len(all))) {
		t.Fatalf("migrate = %d %q %q", code, out, errOut)
	}
	m, out, errOut = newTestMain(t, dir)
	if code := m.Run(context.Background(), []string{"migrate"}); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("second migrate = %d %q %q", code, out, errOut)
	}

	m, out, errOut = newTestMain(t, dir)
	m.Stdin = strings.NewReader("first admin passphrase\n")
	if code := m.Run(context.Background(), []string{"admin", "create-user", "--email", "admin@city.example", "--password-stdin", "--role", "city_admin"}); code != 0 {
		t.Fatalf("create-user = %d %q", code, errOut)
	}
	if !strings.Contains(out.String(), "with role city_admin") || strings.Contains(out.String()+errOut.String(), "passphrase") {
		t.Fatalf("create-user output %q must confirm the role and never echo the password", out)
	}
	m, _, errOut = newTestMain(t, dir)
	m.Stdin = strings.NewReader("password123\n")
	if code := m.Run(context.Background(), []string{"admin", "create-user", "--email", "weak@city.example", "--password-stdin"}); code != 1 || !strings.Contains(errOut.String(), "password") {
		t.Fatalf("a common password = %d %q, want 1 naming the password", code, errOut)
	}

	m, _, errOut = newTestMain(t, dir)
	ready := make(chan *node.Node, 1)
	m.Ready = func(n *node.Node) { ready <- n }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var code int
	go func() { defer wg.Done(); code = m.Run(ctx, []string{"serve"}) }()
	var n *node.Node
	select {
	case n = <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start: %s", errOut)
	}
	resp, err := http.Post(n.URL()+"/api/v1/auth/login", "application/json", strings.NewReader(`{"email":"admin@city.example","password":"first admin passphrase"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != 200 || login.Token == "" {
		t.Fatalf("login = %d", resp.StatusCode)
	}
	resp, err = http.Get(n.URL() + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz = %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	cancel()
	wg.Wait()
	if code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}
}

// TestMain_ConfigFile: a bad config file is refused with a message naming the problem.
func TestMain_ConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/city.json"
	for body, want := range map[string]string{
		`{"city": {"time_zone": "Mars/Olympus"}}`: "time_zone",
		`{"citty": {}}`:                   "citty",
		`{"city": {"languages": ["FI"]}}`: "languages",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		m, _, errOut := newTestMain(t, dir)
		if code := m.Run(context.Background(), []string{"serve", "--config", path}); code != 1 || !strings.Contains(errOut.String(), want) {
			t.Errorf("config %s = %d %q, want 1 mentioning %q", body, code, errOut, want)
		}
	}
}

func TestServeGCPercent(t *testing.T) {
	if pct, ok := serveGCPercent(func(string) string { return "" }); !ok || pct != 200 {
		t.Errorf("without GOGC: %d %v, want 200", pct, ok)
	}
	// An operator's GOGC, already applied by the runtime, is left alone.
	if _, ok := serveGCPercent(func(k string) string { return map[string]string{"GOGC": "50"}[k] }); ok {
		t.Error("GOGC=50 overridden")
	}
}

// TestMain_BackupUsage: backup and restore name their one argument, and send a
// PostgreSQL city to the guide's pg_dump commands instead of copying nothing.
func TestMain_BackupUsage(t *testing.T) {
	for _, cmd := range []string{"backup", "restore"} {
		m, _, errOut := newTestMain(t, t.TempDir())
		if code := m.Run(context.Background(), []string{cmd}); code != 2 || !strings.Contains(errOut.String(), "the backup folder") {
			t.Errorf("kvarter %s = %d %q, want 2 naming the folder", cmd, code, errOut)
		}
		m, _, errOut = newTestMain(t, t.TempDir())
		env := m.Getenv
		m.Getenv = func(k string) string {
			if k == "KVARTER_DATABASE_URL" {
				return "postgres://kvarter@127.0.0.1:5432/kvarter"
			}
			return env(k)
		}
		if code := m.Run(context.Background(), []string{cmd, t.TempDir()}); code != 1 || !strings.Contains(errOut.String(), "PostgreSQL") {
			t.Errorf("kvarter %s on PostgreSQL = %d %q, want 1 pointing at the guide", cmd, code, errOut)
		}
	}
}
