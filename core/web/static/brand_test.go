package static

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestBrandCSS(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for colour, want := range map[string]string{
			"#000000": "--kv-brand: #000000;\n  --kv-brand-text: #ffffff;",
			"#ffffff": "--kv-brand: #ffffff;\n  --kv-brand-text: #000000;",
			"#FFF":    "--kv-brand: #ffffff;\n  --kv-brand-text: #000000;",
			"#0062BA": "--kv-brand: #0062ba;\n  --kv-brand-text: #ffffff;", // a deep blue
			"#e30a17": "--kv-brand: #e30a17;\n  --kv-brand-text: #ffffff;", // Turkish red
			"#ffcd00": "--kv-brand: #ffcd00;\n  --kv-brand-text: #000000;", // a yellow
			"#777777": "--kv-brand: #777777;\n  --kv-brand-text: #000000;", // mid grey: black reads better
		} {
			css, err := BrandCSS(colour)
			if err != nil {
				t.Fatalf("BrandCSS(%q): %v", colour, err)
			}
			if !strings.Contains(string(css), want) || !strings.HasPrefix(string(css), ":root {") {
				t.Errorf("BrandCSS(%q) = %q, want it to contain %q", colour, css, want)
			}
		}
	})

	// Every colour a city could pick gets header text of at least 4.5:1.
	t.Run("ContrastAlwaysAA", func(t *testing.T) {
		worst := 21.0
		for v := 0; v < 1<<24; v += 4099 { // a prime stride covers the cube evenly
			r, g, b := uint8(v>>16), uint8(v>>8), uint8(v)
			l := luminance(r, g, b)
			c := max(contrast(l, 0), contrast(l, 1))
			worst = min(worst, c)
		}
		if worst < 4.5 {
			t.Errorf("some brand colour gets only %.2f:1 with its text colour", worst)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, colour := range []string{
			"", "#", "red", "0062ba", "#12", "#1234", "#12345", "#1234567", "#0062bz",
			"#fff;}body{display:none", "#ffffff;--x:url(//evil)", "#ff ff ff", "#+12345", "#0x1234",
			"rgb(0,0,0)", "#fffffff", "＃ffffff",
		} {
			if css, err := BrandCSS(colour); err == nil {
				t.Errorf("BrandCSS(%q) accepted it: %q", colour, css)
			}
		}
	})
}

func TestContrast(t *testing.T) {
	// WCAG's own reference points.
	if c := contrast(luminance(0, 0, 0), luminance(255, 255, 255)); c < 20.99 || c > 21.01 {
		t.Errorf("black on white = %.3f, want 21", c)
	}
	if c := contrast(luminance(0x76, 0x76, 0x76), luminance(255, 255, 255)); c < 4.5 || c > 4.6 {
		t.Errorf("#767676 on white = %.3f, want 4.54", c)
	}
}

func TestNewBrand(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	svg := []byte("<?xml version=\"1.0\"?>\n<!-- the city's arms -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"></svg>")
	t.Run("ColourAndLogo", func(t *testing.T) {
		br, err := NewBrand("#e30a17", png)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(Handler(br))
		defer srv.Close()
		for url, want := range map[string]string{br.Stylesheet(): "text/css; charset=utf-8", br.Logo(): "image/png", URL(KvarterCSS): "text/css; charset=utf-8"} {
			resp, err := http.Get(srv.URL + url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want || resp.Header.Get("Cache-Control") != cacheForever ||
				resp.Header.Get("Content-Security-Policy") != fileCSP || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s = %d %v", url, resp.StatusCode, resp.Header)
			}
		}
		if !strings.HasSuffix(br.Logo(), "/logo.png") || !strings.HasSuffix(br.Stylesheet(), "/brand.css") {
			t.Errorf("URLs %q %q", br.Logo(), br.Stylesheet())
		}
		// Another colour is another URL: a browser never keeps the old one.
		other, _ := NewBrand("#0062ba", png)
		if other.Stylesheet() == br.Stylesheet() {
			t.Error("two colours share a URL")
		}
	})
	t.Run("SVG", func(t *testing.T) {
		br, err := NewBrand("", svg)
		if err != nil || !strings.HasSuffix(br.Logo(), "/logo.svg") || br.Stylesheet() != "" {
			t.Fatalf("NewBrand(svg) = %+v, %v", br, err)
		}
	})
	t.Run("Nothing", func(t *testing.T) {
		br, err := NewBrand("", nil)
		if err != nil || br.Logo() != "" || br.Stylesheet() != "" {
			t.Fatalf("NewBrand() = %+v, %v", br, err)
		}
	})
	for name, logo := range map[string][]byte{
		"ErrHTML":     []byte("<html><script>alert(1)</script></html>"),
		"ErrSVGLater": []byte("<html><svg></svg></html>"),
		"ErrGIF":      []byte("GIF89a\x01\x00\x01\x00"),
		"ErrEmpty":    {},
		"ErrTooLarge": append(slices.Clone(png), make([]byte, MaxLogoBytes)...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewBrand("", logo); err == nil {
				t.Error("the logo was taken")
			}
		})
	}
	if _, err := NewBrand("red; } body { display: none", nil); err == nil {
		t.Error("a colour that is CSS was taken")
	}
}
