package core_test

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core"
)

// LocalPath is what every redirect to a "back" address and every plugin crumb or
// redirect is held to: each way a browser can be led off the site is refused.
func TestLocalPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/parks/calendar?view=week&date=2025-07-07", true},
		{"/assemblies/a1#motions", true},
		{"", false},
		{"parks", false},
		{"//evil.example/", false},
		{"/\\evil.example", false},
		{"/parks\\..\\x", false},
		{"/\t/evil.example", false}, // a browser drops the tab: //evil.example
		{"/\n/evil.example", false},
		{"/\r\nSet-Cookie: x=1", false},
		{"/ /evil.example", false},
		{"/\x00/evil.example", false},
		{"/\x7f/evil.example", false},
		{"https://evil.example/", false},
		{"javascript:alert(1)", false},
	} {
		if got := core.LocalPath(tc.path); got != tc.ok {
			t.Errorf("LocalPath(%q) = %v, want %v", tc.path, got, tc.ok)
		}
	}
}

// LocalPath answers plain paths without url.Parse; it must answer as url.Parse would.
// Strings of the bytes that matter to it, at random, are held to the parse's answer.
func TestLocalPath_AsTheParser(t *testing.T) {
	const alphabet = "/\\:.%?#@-_~aZ09 \t"
	rng := rand.New(rand.NewPCG(18, 7))
	for range 20000 {
		var b strings.Builder
		b.WriteByte('/')
		for range rng.IntN(12) {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		s := b.String()
		want := !strings.HasPrefix(s, "//") && !strings.ContainsAny(s, "\\ \t")
		if want {
			u, err := url.Parse(s)
			want = err == nil && u.Scheme == "" && u.Host == ""
		}
		if got := core.LocalPath(s); got != want {
			t.Fatalf("LocalPath(%q) = %v, the parser says %v", s, got, want)
		}
	}
}
