package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAdaptersDoNotReachStorage: authz, httpapi and pluginhost speak to storage only
// through the domain's types and interfaces (DESIGN.md §1: cmd → core/* → core), so
// none of them may depend on core/sqlstore, directly or through another package. The
// node wires sqlstore in.
func TestAdaptersDoNotReachStorage(t *testing.T) {
	const storage = "github.com/kvarter/kvarter/core/sqlstore"
	for _, pkg := range []string{"./authz", "./httpapi", "./pluginhost"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr)
		}
		deps := strings.Fields(string(out))
		// The package itself comes last; an empty or foreign listing proves nothing.
		if len(deps) == 0 || !strings.HasSuffix(deps[len(deps)-1], "/core/"+strings.TrimPrefix(pkg, "./")) {
			t.Fatalf("go list -deps %s listed %q, not the package and its dependencies", pkg, deps)
		}
		for _, d := range deps {
			if d == storage {
				t.Errorf("%s depends on %s; give it a domain type or an interface instead", pkg, storage)
			}
		}
	}
}
