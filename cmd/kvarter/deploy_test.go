package main

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the repository root, two folders above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// dockerStage is one FROM ... section of a Dockerfile.
type dockerStage struct {
	from         string
	instructions []string // "RUN ...", "USER ...", continuation lines joined
}

func parseDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []dockerStage
	var cont string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, cont = cont+line, ""
		word, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(word) {
		case "FROM":
			stages = append(stages, dockerStage{from: strings.Fields(rest)[0]})
		default:
			if len(stages) > 0 {
				stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, strings.ToUpper(word)+" "+rest)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

// TestDeploy_Dockerfile lints deploy/Dockerfile where no Docker engine runs (CI builds
// the image itself when one does): several stages, a final stage on distroless/static
// or scratch that runs no shell command, a non-root USER, exec-form ENTRYPOINT; then it
// runs the Dockerfile's own `go build` line and checks that the binary it would copy is
// static and reports the version and commit it was stamped with.
func TestDeploy_Dockerfile(t *testing.T) {
	root := repoRoot(t)
	stages := parseDockerfile(t, filepath.Join(root, "deploy", "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("the Dockerfile has %d stage(s); want a build stage and a run stage", len(stages))
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("final stage FROM %s; want distroless/static or scratch (no shell at run time)", final.from)
	}
	var user, entrypoint string
	for _, in := range final.instructions {
		word, rest, _ := strings.Cut(in, " ")
		switch word {
		case "RUN":
			t.Errorf("final stage runs %q: it must need no shell", in)
		case "USER":
			user = strings.TrimSpace(rest)
		case "ENTRYPOINT", "CMD":
			if !strings.HasPrefix(strings.TrimSpace(rest), "[") {
				t.Errorf("%s in shell form %q needs /bin/sh; use the exec form [\"...\"]", word, rest)
			}
			if word == "ENTRYPOINT" {
				entrypoint = rest
			}
		}
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("final stage USER %q; want a non-root user", user)
	}
	if !strings.Contains(entrypoint, "kvarter") {
		t.Errorf("ENTRYPOINT %q does not run kvarter", entrypoint)
	}

	// The build stage's `go build` line, run as the Dockerfile runs it.
	var build string
	for _, st := range stages[:len(stages)-1] {
		for _, in := range st.instructions {
			if strings.HasPrefix(in, "RUN ") && strings.Contains(in, "go build") {
				build = strings.TrimPrefix(in, "RUN ")
			}
		}
	}
	if build == "" {
		t.Fatal("no RUN ... go build in the build stage")
	}
	if !strings.Contains(build, "CGO_ENABLED=0") {
		t.Errorf("the build %q must set CGO_ENABLED=0 for a static binary", build)
	}
	out := t.TempDir()
	cmdline := strings.NewReplacer("${VERSION}", "9.8.7-docker", "${COMMIT}", "c0ffee123456", "/out/", out+"/").Replace(build)
	if regexp.MustCompile(`\$\{?[A-Z_]+`).MatchString(cmdline) {
		t.Fatalf("the build line uses a build argument this test does not know: %s", cmdline)
	}
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(runtime.GOROOT(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, b)
	}
	bin := filepath.Join(out, "kvarter")
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a dynamic loader (PT_INTERP): it is not static")
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v: it is not static", libs)
	}
	v, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v), "kvarter 9.8.7-docker\n") || !strings.Contains(string(v), "commit c0ffee123456\n") || !strings.Contains(string(v), "go go1.") {
		t.Errorf("kvarter version printed %q", v)
	}
}

// TestDeploy_SystemdUnit checks that deploy/kvarter.service keeps its hardening: a
// non-root user, a read-only system with only the data directory writable, and no way
// to regain privileges.
func TestDeploy_SystemdUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "kvarter.service"))
	if err != nil {
		t.Fatal(err)
	}
	set := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			set[k] = append(set[k], v)
		}
	}
	has := func(k, v string) bool {
		for _, got := range set[k] {
			if got == v {
				return true
			}
		}
		return false
	}
	if !has("DynamicUser", "yes") && (len(set["User"]) == 0 || has("User", "root")) {
		t.Error("the unit must run as DynamicUser=yes or a dedicated User")
	}
	for k, v := range map[string]string{
		"ProtectSystem": "strict", "ReadWritePaths": "/var/lib/kvarter", "NoNewPrivileges": "yes",
		"ProtectHome": "yes", "PrivateTmp": "yes", "CapabilityBoundingSet": "", "KillMode": "mixed",
		"Environment": "KVARTER_DATA_DIR=/var/lib/kvarter", "ExecStart": "/usr/local/bin/kvarter serve",
	} {
		if !has(k, v) {
			t.Errorf("the unit lacks %s=%s (has %q)", k, v, set[k])
		}
	}
}
