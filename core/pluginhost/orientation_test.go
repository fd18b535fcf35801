package pluginhost_test

import (
	"image"
	"image/color"
	"testing"

	"github.com/kvarter/kvarter/core/pluginhost"
)

// TestOrient: each EXIF orientation puts the stored corners where the EXIF
// specification shows them: which stored corner becomes the shown top-left and
// top-right, and whether width and height swap.
func TestOrient(t *testing.T) {
	tl, tr, bl, br := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{255, 255, 0, 255}
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	src.Set(0, 0, tl)
	src.Set(2, 0, tr)
	src.Set(0, 1, bl)
	src.Set(2, 1, br)
	for _, c := range []struct {
		o                 int
		topLeft, topRight color.RGBA
		width, height     int
	}{
		{1, tl, tr, 3, 2}, {2, tr, tl, 3, 2}, {3, br, bl, 3, 2}, {4, bl, br, 3, 2},
		{5, tl, bl, 2, 3}, {6, bl, tl, 2, 3}, {7, br, tr, 2, 3}, {8, tr, br, 2, 3},
	} {
		got := pluginhost.Orient(src, c.o)
		b := got.Bounds()
		if b.Dx() != c.width || b.Dy() != c.height {
			t.Errorf("orientation %d: %d×%d, want %d×%d", c.o, b.Dx(), b.Dy(), c.width, c.height)
			continue
		}
		if got.At(b.Min.X, b.Min.Y) != color.Color(c.topLeft) || got.At(b.Max.X-1, b.Min.Y) != color.Color(c.topRight) {
			t.Errorf("orientation %d: corners %v %v, want %v %v", c.o, got.At(b.Min.X, b.Min.Y), got.At(b.Max.X-1, b.Min.Y), c.topLeft, c.topRight)
		}
	}
}

// TestJPEGOrientation: the tag is read from either byte order; anything damaged or
// absent is "as stored".
func TestJPEGOrientation(t *testing.T) {
	turned := jpegTurned(t)
	for name, c := range map[string]struct {
		data []byte
		want int
	}{
		"big endian, 6":  {turned, 6},
		"no EXIF":        {turned[:2:2], 1},
		"GPS only":       {jpegWithGPS(t), 1},
		"cut in EXIF":    {turned[:30], 1},
		"not a JPEG":     {[]byte("<html>"), 1},
		"bad segment":    {[]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01}, 1},
		"huge IFD count": {append(turned[:2:2], 0xFF, 0xE1, 0x00, 0x16, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', '*', 0, 8, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0), 1},
	} {
		if got := pluginhost.JPEGOrientation(c.data); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
}
