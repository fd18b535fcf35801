package pluginhost_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"mime"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/pluginhost"
	"github.com/kvarter/kvarter/sdk"
)

// FuzzReadMultipart: whatever the body, the multipart → form rewrite never panics,
// refuses only with the host's error codes, never hands the plugin a value under a
// file field's name (only the ids the host adds go there), and keeps only files of the
// three stored types.
func FuzzReadMultipart(f *testing.F) {
	route := sdk.Route{Method: "POST", Path: "/api/v1/x/files", MaxBodyBytes: 1 << 20}.
		Upload("photo", 256<<10, sdk.UploadImage).Upload("doc", 256<<10, sdk.UploadPDF)
	for _, parts := range [][]filePart{
		{value("caption", "x"), file("photo", "a.jpg", jpegWithGPS(f)), file("doc", "a.pdf", pdfFile())},
		{file("photo", "a.png", pngWithText(f)), value("photo", "forged")},
		{file("photo", "a.png", []byte("<html></html>"))},
		{file("photo", "", nil), file("other", "a.pdf", pdfFile())},
		{file("photo", "b.png", pngBomb(20000, 20000))},
	} {
		body, ct := multipartBody(f, parts...)
		_, params, _ := mime.ParseMediaType(ct)
		f.Add(body, params["boundary"])
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		form, types, err := pluginhost.ReadMultipart(body, boundary, route)
		if err != nil {
			if code := core.ErrorCode(err); code != core.EMALFORMED && code != core.EINVALID && code != core.ETOOLARGE {
				t.Fatalf("refused with %q: %v", code, err)
			}
			return
		}
		if form.Has("photo") || form.Has("doc") {
			t.Fatalf("a value under a file field reached the form: %v", form)
		}
		for _, ct := range types {
			if !slices.Contains([]string{"image/jpeg", "image/png", "application/pdf"}, ct) {
				t.Fatalf("stored type %q", ct)
			}
		}
	})
}

// BenchmarkReadMultipart_Photo is the host's work for one 12-megapixel phone photo
// (4000×3000 JPEG): sniff, read the header, decode, turn, encode again.
func BenchmarkReadMultipart_Photo(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	route := sdk.Route{Method: "POST", Path: "/api/v1/x/files", MaxBodyBytes: 24 << 20}.Upload("photo", 20<<20, sdk.UploadImage)
	body, ct := multipartBody(b, file("photo", "big.jpg", buf.Bytes()))
	_, params, _ := mime.ParseMediaType(ct)
	b.ReportAllocs()
	for b.Loop() {
		if _, types, err := pluginhost.ReadMultipart(body, params["boundary"], route); err != nil || len(types) != 1 {
			b.Fatal(err)
		}
	}
}
