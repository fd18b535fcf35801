package web_test

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/web"
)

// TestContentDisposition: images inline, anything else a download; the name in
// filename* (RFC 5987, UTF-8) with every character RFC 5987 does not allow escaped, and an
// ASCII fallback that cannot end the quoted string or the header.
func TestContentDisposition(t *testing.T) {
	for _, c := range []struct{ contentType, name, want string }{
		{"image/jpeg", "IMG_0001.jpg", `inline; filename="IMG_0001.jpg"; filename*=UTF-8''IMG_0001.jpg`},
		{"application/pdf", "Kaavaluonnos ääni.pdf", `attachment; filename="Kaavaluonnos___ni.pdf"; filename*=UTF-8''Kaavaluonnos%20%C3%A4%C3%A4ni.pdf`},
		{"application/pdf", "a\"b\r\nX: y;c=d'e.pdf", `attachment; filename="a_b__X__y_c_d_e.pdf"; filename*=UTF-8''a%22b%0D%0AX%3A%20y%3Bc%3Dd%27e.pdf`},
		{"application/pdf", "", `attachment; filename="download"; filename*=UTF-8''`},
		{"image/png", "../x/../y.png", `inline; filename=".._x_.._y.png"; filename*=UTF-8''..%2Fx%2F..%2Fy.png`},
	} {
		got := web.ContentDisposition(c.contentType, c.name)
		if got != c.want {
			t.Errorf("%q: %s, want %s", c.name, got, c.want)
		}
		if strings.ContainsAny(got, "\r\n") || strings.Count(got, `"`) != 2 {
			t.Errorf("%q: unsafe %q", c.name, got)
		}
	}
}
