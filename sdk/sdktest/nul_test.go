package sdktest

import "testing"

func TestEncodesNUL(t *testing.T) {
	for _, c := range []struct {
		v    any
		want bool
	}{
		{"a\x00", true},
		{"\\\x00", true}, // a backslash, then a NUL
		{map[string]int{"k\x00": 1}, true},
		{[]string{"ok", "x\x00y"}, true},
		{`\u0000`, false},  // the text, not the escape
		{`\\u0000`, false}, // two backslashes and the text
		{"u0000", false},
		{map[string]string{"k": "v"}, false},
	} {
		if got := EncodesNUL(c.v); got != c.want {
			t.Errorf("EncodesNUL(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}
