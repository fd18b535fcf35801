package core_test

import (
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
