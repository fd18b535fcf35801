package pluginhost_test

import (
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
