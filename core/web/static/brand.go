package static

import (
	"bytes"
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

// MaxLogoBytes bounds a city's logo file: a header image, not a poster.
const MaxLogoBytes = 256 << 10

// Brand is a city's own look from its config: the brand colour as a stylesheet
// (BrandCSS) and the logo, served like the embedded files, under a hash of their own
// (Handler), so they too are cached for a year and change URL when they change.
type Brand struct {
	b          *bundle
	stylesheet string
	logo       string
}

// NewBrand checks the colour (see BrandCSS; "" keeps Kvarter's) and the logo (nil for
// none): a PNG, a JPEG or an SVG image of at most MaxLogoBytes, told apart by their
// content, never by a file name. An SVG is served, like every static file, with a CSP
// that sandboxes it, and a page shows it through <img>, where it cannot run script.
func NewBrand(colour string, logo []byte) (*Brand, error) {
	b := newBundle()
	br := &Brand{b: b}
	if colour != "" {
		css, err := BrandCSS(colour)
		if err != nil {
			return nil, err
		}
		if err := b.add("brand.css", css); err != nil {
			return nil, err
		}
	}
	var logoName string
	if logo != nil {
		name, err := logoFileName(logo)
		if err != nil {
			return nil, err
		}
		if err := b.add(name, logo); err != nil {
			return nil, err
		}
		logoName = name
	}
	if len(b.files) == 0 {
		return &Brand{}, nil
	}
	b.seal()
	if colour != "" {
		br.stylesheet = Prefix + b.hash + "/brand.css"
	}
	if logoName != "" {
		br.logo = Prefix + b.hash + "/" + logoName
	}
	return br, nil
}

// Stylesheet is the URL of the brand stylesheet, to link after Stylesheets; "" when the
// city keeps Kvarter's colour.
func (br *Brand) Stylesheet() string { return br.stylesheet }

// Logo is the URL of the city's logo; "" when it has none.
func (br *Brand) Logo() string { return br.logo }

func logoFileName(logo []byte) (string, error) {
	switch {
	case len(logo) > MaxLogoBytes:
		return "", fmt.Errorf("logo: %d bytes; a logo may have at most %d", len(logo), MaxLogoBytes)
	case bytes.HasPrefix(logo, []byte("\x89PNG\r\n\x1a\n")):
		return "logo.png", nil
	case bytes.HasPrefix(logo, []byte("\xff\xd8\xff")):
		return "logo.jpg", nil
	case isSVG(logo):
		return "logo.svg", nil
	}
	return "", fmt.Errorf("logo: not a PNG, JPEG or SVG image")
}

// isSVG recognises an SVG document: its first element, after an optional XML
// declaration, comments and white space, is <svg.
func isSVG(b []byte) bool {
	s := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
	for {
		switch {
		case strings.HasPrefix(s, "<?xml"), strings.HasPrefix(s, "<!--"), strings.HasPrefix(s, "<!DOCTYPE svg"):
			end := map[bool]string{true: "-->", false: ">"}[strings.HasPrefix(s, "<!--")]
			i := strings.Index(s, end)
			if i < 0 {
				return false
			}
			s = strings.TrimSpace(s[i+len(end):])
		default:
			return strings.HasPrefix(s, "<svg") && len(s) > 4 && (s[4] == ' ' || s[4] == '>' || s[4] == '\n' || s[4] == '\t' || s[4] == '\r')
		}
	}
}
