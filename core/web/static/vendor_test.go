package static

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestVendor_Versions: every vendored file is listed in vendor/VERSIONS with its
// sha256, under a package with an exact version, an npm integrity hash and a licence,
// and every listed file is there. A hand edit of a vendored file, a file copied in
// without scripts/assets.sh, or a package without its licence fails here.
func TestVendor_Versions(t *testing.T) {
	data, err := fs.ReadFile(embedded, "vendor/VERSIONS")
	if err != nil {
		t.Fatalf("vendor/VERSIONS: %v (run make assets)", err)
	}
	folders := map[string]string{} // folder → npm name
	listed := map[string]string{}  // path under vendor/ → sha256
	exact := regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 6 && f[0] == "package":
			name, version, integrity, licence, folder := f[1], f[2], f[3], f[4], f[5]
			if !exact.MatchString(version) {
				t.Errorf("line %d: %s %s is not an exact release version", i+1, name, version)
			}
			if !strings.HasPrefix(integrity, "sha512-") {
				t.Errorf("line %d: %s: integrity %q is not npm's sha512", i+1, name, integrity)
			}
			if licence == "" || licence == "UNLICENSED" {
				t.Errorf("line %d: %s: licence %q", i+1, name, licence)
			}
			if _, dup := folders[folder]; dup {
				t.Errorf("line %d: folder %s twice", i+1, folder)
			}
			folders[folder] = name
		case len(f) == 3 && f[0] == "file":
			if _, dup := listed[f[1]]; dup {
				t.Errorf("line %d: %s listed twice", i+1, f[1])
			}
			if _, ok := folders[strings.Split(f[1], "/")[0]]; !ok {
				t.Errorf("line %d: %s is not under a package's folder listed above it", i+1, f[1])
			}
			listed[f[1]] = f[2]
		default:
			t.Errorf("line %d: %q is neither a package nor a file line", i+1, line)
		}
	}
	for _, want := range []string{"htmx.org", "@digdir/designsystemet-css", "@digdir/designsystemet-theme"} {
		found := false
		for _, name := range folders {
			found = found || name == want
		}
		if !found {
			t.Errorf("%s is not vendored", want)
		}
	}
	for folder := range folders {
		if _, ok := listed[folder+"/LICENSE"]; !ok {
			t.Errorf("%s is vendored without its LICENSE", folder)
		}
	}

	vendor, err := fs.Sub(embedded, "vendor")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	fs.WalkDir(vendor, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == "VERSIONS" {
			return err
		}
		seen[name] = true
		want, ok := listed[name]
		if !ok {
			t.Errorf("vendor/%s is not listed in VERSIONS (vendor files come from scripts/assets.sh)", name)
			return nil
		}
		body, _ := fs.ReadFile(vendor, name)
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != want {
			t.Errorf("vendor/%s differs from what scripts/assets.sh vendored (sha256 %x, VERSIONS says %s)", name, sum, want)
		}
		return nil
	})
	for name := range listed {
		if !seen[name] {
			t.Errorf("VERSIONS lists %s, which is not in vendor/", name)
		}
	}
}

// TestVendor_HTMXVersion: the file is the version VERSIONS names, not only a file
// whose hash someone re-recorded.
func TestVendor_HTMXVersion(t *testing.T) {
	data, _ := fs.ReadFile(embedded, "vendor/VERSIONS")
	m := regexp.MustCompile(`(?m)^package htmx\.org (\S+) `).FindSubmatch(data)
	if m == nil {
		t.Fatal("VERSIONS names no htmx.org version")
	}
	js, _ := fs.ReadFile(embedded, HTMX)
	if !regexp.MustCompile(`version\s*[:=]\s*["']` + regexp.QuoteMeta(string(m[1])) + `["']`).Match(js) {
		t.Errorf("htmx.min.js does not declare version %s", m[1])
	}
}

// TestCSS_SameOrigin: no stylesheet loads anything from another host (the CSP would
// block it, and it would tell a third party who reads a city's pages), and every
// url() it uses names an embedded file, so fonts and images really load.
func TestCSS_SameOrigin(t *testing.T) {
	b := embeddedBundle()
	urlRef := regexp.MustCompile(`url\(\s*["']?([^"')]+)["']?\s*\)`)
	for name, f := range b.files {
		if path.Ext(name) != ".css" {
			continue
		}
		css := string(f.body)
		if strings.Contains(css, "@import") {
			t.Errorf("%s uses @import: each stylesheet is linked by the frame instead", name)
		}
		for _, m := range urlRef.FindAllStringSubmatch(css, -1) {
			ref := m[1]
			switch {
			case strings.HasPrefix(ref, "data:"), strings.HasPrefix(ref, "#"):
				continue
			case strings.Contains(ref, "//") || strings.Contains(ref, ":"):
				t.Errorf("%s loads %s from another host", name, ref)
			default:
				target := path.Join(path.Dir(name), strings.SplitN(strings.SplitN(ref, "?", 2)[0], "#", 2)[0])
				if _, ok := b.files[target]; !ok {
					t.Errorf("%s refers to %s (%s), which is not embedded", name, ref, target)
				}
			}
		}
	}
}
