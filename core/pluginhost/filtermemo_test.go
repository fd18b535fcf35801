package pluginhost

import (
	"bytes"
	"testing"
)

// TestFilterMemo: the memo answers what FilterHTML answers, for the plugin and base
// path asked, and forgets everything when full rather than growing.
func TestFilterMemo(t *testing.T) {
	var fm filterMemo
	src := []byte(`<a href="/hello/x" hx-get="/hello/x">own</a><a hx-get="/other/x">other</a><script>x</script>`)
	for range 2 {
		for _, c := range []struct{ plugin, base string }{{"hello", "/hello/greet"}, {"other", "/other/page"}, {"hello", "/"}} {
			if got, want := fm.filter(src, c.plugin, c.base), FilterHTML(src, c.plugin, c.base); !bytes.Equal(got, want) {
				t.Fatalf("%s at %s: memo %q, filter %q", c.plugin, c.base, got, want)
			}
		}
	}
	if len(fm.m) != 3 {
		t.Fatalf("%d entries, want 3", len(fm.m))
	}
	fm.bytes = maxFilterMemo
	fm.filter([]byte("<p>new</p>"), "hello", "/")
	if len(fm.m) != 1 || fm.bytes != len("<p>new</p>") {
		t.Fatalf("a full memo kept %d entries, %d bytes", len(fm.m), fm.bytes)
	}
	big := bytes.Repeat([]byte("<p>x</p>"), maxFilterMemoEntry/8+1)
	if got := fm.filter(big, "hello", "/"); !bytes.Equal(got, FilterHTML(big, "hello", "/")) || len(fm.m) != 1 {
		t.Fatal("a large answer was not filtered past the memo")
	}
}
