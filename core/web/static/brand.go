package static

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// BrandCSS is the stylesheet that gives a city its colour: it sets kvarter.css's
// --kv-brand to the configured colour and --kv-brand-text to black or white, whichever
// contrasts more with it (always at least 4.5:1, WCAG 1.4.3), so no colour a city
// picks can make its header unreadable. The CSP (style-src 'self') forbids inline
// styles, so the frame serves this as a same-origin stylesheet linked after
// Stylesheets. The colour is "#rgb" or "#rrggbb"; anything else is refused, which
// also keeps a config value from injecting CSS.
func BrandCSS(colour string) ([]byte, error) {
	r, g, b, err := parseHexColour(colour)
	if err != nil {
		return nil, err
	}
	text := "#ffffff"
	if l := luminance(r, g, b); contrast(l, 0) > contrast(l, 1) {
		text = "#000000"
	}
	return fmt.Appendf(nil, ":root {\n  --kv-brand: #%02x%02x%02x;\n  --kv-brand-text: %s;\n}\n", r, g, b, text), nil
}

func parseHexColour(s string) (r, g, b uint8, err error) {
	hex, ok := strings.CutPrefix(s, "#")
	if ok && len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	if !ok || len(hex) != 6 {
		return 0, 0, 0, fmt.Errorf("brand colour %q: want #rgb or #rrggbb", s)
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("brand colour %q: want #rgb or #rrggbb", s)
	}
	return uint8(v >> 16), uint8(v >> 8), uint8(v), nil
}

// luminance is WCAG 2's relative luminance of an sRGB colour.
func luminance(r, g, b uint8) float64 {
	lin := func(c uint8) float64 {
		v := float64(c) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG 2's contrast ratio between two relative luminances.
func contrast(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return (a + 0.05) / (b + 0.05)
}
