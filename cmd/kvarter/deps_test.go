package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestCode: nothing of ours that the kvarter binary links imports the
// testing package. Test helpers (sdktest, coretest, testing.Testing switches) belong in
// test builds; in the binary they are dead weight and a sign that production behaviour
// depends on whether it is under test. Third-party modules are not ours to change:
// hashicorp/go-plugin and fiber's utils import testing for their own helpers.
func TestBinaryLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderrOf(err))
	}
	checked := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "github.com/kvarter/kvarter/") {
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if imp == "testing" || strings.HasSuffix(imp, "/sdktest") || strings.HasSuffix(imp, "/coretest") {
				t.Errorf("%s imports %s, so the kvarter binary links test code", fields[0], imp)
			}
		}
	}
	// The binary links the core, the SDK and four plugins: a handful would mean the
	// listing went wrong, not that the rule holds.
	if checked < 20 {
		t.Fatalf("go list found only %d kvarter packages behind the binary:\n%s", checked, out)
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
