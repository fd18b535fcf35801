package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVendor_AxeCore: testdata/vendor holds exactly what scripts/assets.sh put there —
// each file with the sha256 VERSIONS records, axe-core with its licence — and the
// embedded axe-core is the version VERSIONS names.
func TestVendor_AxeCore(t *testing.T) {
	const dir = "testdata/vendor"
	data, err := os.ReadFile(filepath.Join(dir, "VERSIONS"))
	if err != nil {
		t.Fatalf("%v (run make assets)", err)
	}
	listed := map[string]string{}
	var version string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "#"):
		case len(f) == 6 && f[0] == "package" && f[1] == "axe-core" && f[5] == "axe-core":
			version = f[2]
			if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) || !strings.HasPrefix(f[3], "sha512-") || f[4] != "MPL-2.0" {
				t.Errorf("package line %q: want an exact version, npm's sha512 integrity and MPL-2.0", line)
			}
		case len(f) == 3 && f[0] == "file":
			listed[f[1]] = f[2]
		default:
			t.Errorf("unexpected line %q", line)
		}
	}
	if version == "" {
		t.Fatal("VERSIONS does not name axe-core")
	}
	if _, ok := listed["axe-core/LICENSE"]; !ok {
		t.Error("axe-core is vendored without its LICENSE")
	}
	seen := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == filepath.Join(dir, "VERSIONS") {
			return err
		}
		seen++
		name, _ := filepath.Rel(dir, p)
		body, _ := os.ReadFile(p)
		sum := sha256.Sum256(body)
		if want, ok := listed[filepath.ToSlash(name)]; !ok || hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s is not the file scripts/assets.sh vendored (listed: %v)", p, ok)
		}
		return nil
	})
	if seen != len(listed) {
		t.Errorf("VERSIONS lists %d files, %s holds %d", len(listed), dir, seen)
	}
	if !strings.Contains(axeSource, `"`+version+`"`) {
		t.Errorf("the embedded axe-core does not declare version %s", version)
	}
}
