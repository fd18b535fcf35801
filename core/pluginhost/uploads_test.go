package pluginhost_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/pluginhost"
)

// filePart is one part of a multipart form: a file when name is set (even ""),
// a value otherwise.
type filePart struct {
	field, value string
	file         bool
	// disposition, when set, is the part's whole Content-Disposition.
	disposition string
	name        string
	data        []byte
}

func value(field, v string) filePart { return filePart{field: field, value: v} }

func file(field, name string, data []byte) filePart {
	return filePart{field: field, file: true, name: name, data: data}
}

// multipartBody encodes parts as a browser would.
func multipartBody(t testing.TB, parts ...filePart) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		switch {
		case p.disposition != "":
			h.Set("Content-Disposition", p.disposition)
			h.Set("Content-Type", "application/octet-stream")
		case p.file:
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.name))
			h.Set("Content-Type", "application/octet-stream")
		default:
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.field))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if p.file || p.disposition != "" {
			_, _ = w.Write(p.data)
		} else {
			_, _ = io.WriteString(w, p.value)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// post sends body to the node at path.
func post(t testing.TB, n *node.Node, path, token, contentType string, body []byte) resp {
	t.Helper()
	req, _ := http.NewRequest("POST", n.URL()+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{Status: r.StatusCode, Header: r.Header, Body: b}
}

// forwarded is what the probe's files route saw.
type forwarded struct {
	Form        map[string][]string `json:"form"`
	ContentType string              `json:"content_type"`
	Photo       []string            `json:"photo"`
	Doc         string              `json:"doc"`
}

func postFiles(t *testing.T, n *node.Node, token string, want int, parts ...filePart) (resp, forwarded) {
	t.Helper()
	body, ct := multipartBody(t, parts...)
	r := post(t, n, "/api/v1/alpha/files", token, ct, body)
	if r.Status != want {
		t.Fatalf("POST files = %d, want %d: %s", r.Status, want, r.Body)
	}
	var f forwarded
	if want == 200 {
		if err := json.Unmarshal(r.Body, &f); err != nil {
			t.Fatal(err)
		}
	}
	return r, f
}

func uploadCount(t *testing.T, n *node.Node) int {
	t.Helper()
	var c int
	if err := coretest.SQL(n).Get(&c, `SELECT COUNT(*) FROM uploads`); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHost_Uploads: files sent to a route declaring them are received by the host —
// images re-encoded without their metadata, PDFs kept and served as downloads — and
// the plugin gets the form with upload ids; anything that is not what the field
// accepts is refused with 422 (413 when too large) before the plugin sees it, and
// nothing is stored.
func TestHost_Uploads(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha")

		t.Run("OK", func(t *testing.T) {
			jpg, pngData, pdf := jpegWithGPS(t), pngWithText(t), pdfFile()
			_, f := postFiles(t, n, "", 200, value("caption", "Puisto – ääkköset & more"), file("photo", "IMG_0001.JPG", jpg),
				file("photo", "plan.png", pngData), file("doc", "plan.pdf", pdf), value("photo", "forged-id"))
			if f.ContentType != "application/x-www-form-urlencoded" || f.Form["caption"][0] != "Puisto – ääkköset & more" {
				t.Errorf("forwarded %+v", f)
			}
			if len(f.Photo) != 2 || f.Doc == "" || len(f.Form["photo"]) != 2 {
				t.Fatalf("upload ids %+v: two photos and a document expected, the forged value dropped", f)
			}
			// The JPEG: served without its EXIF segment (and its GPS position), and
			// still a JPEG of the same size.
			r := mustCall(t, n, 200, "GET", "/uploads/"+f.Photo[0], "")
			if bytes.Contains(r.Body, []byte("Exif")) || bytes.Contains(r.Body, []byte{0xFF, 0xE1}) || bytes.Contains(jpg, []byte("Exif")) == false {
				t.Errorf("the served JPEG keeps its EXIF segment (APP1)")
			}
			img, err := jpeg.Decode(bytes.NewReader(r.Body))
			if err != nil || img.Bounds().Dx() != 64 {
				t.Errorf("served JPEG: %v", err)
			}
			checkServed(t, r, "image/jpeg", `inline; filename="IMG_0001.jpg"; filename*=UTF-8''IMG_0001.jpg`)
			// A portrait photo stays upright once its EXIF Orientation is gone: the
			// pixels are turned, red (the stored left) on top.
			_, g := postFiles(t, n, "", 200, file("photo", "portrait.jpg", jpegTurned(t)))
			img, err = jpeg.Decode(bytes.NewReader(mustCall(t, n, 200, "GET", "/uploads/"+g.Photo[0], "").Body))
			if err != nil || img.Bounds().Dx() != 32 || img.Bounds().Dy() != 64 {
				t.Fatalf("turned photo: %v %v", img.Bounds(), err)
			}
			if r, _, b, _ := img.At(16, 8).RGBA(); r < 0xc000 || b > 0x4000 {
				t.Errorf("the top of the turned photo is not red: %v", img.At(16, 8))
			}
			if r, _, b, _ := img.At(16, 56).RGBA(); b < 0xc000 || r > 0x4000 {
				t.Errorf("the bottom of the turned photo is not blue: %v", img.At(16, 56))
			}
			// The PNG: its text chunk is gone.
			r = mustCall(t, n, 200, "GET", "/uploads/"+f.Photo[1], "")
			if bytes.Contains(r.Body, []byte("tEXt")) || bytes.Contains(r.Body, []byte(secretText)) || !bytes.Contains(pngData, []byte(secretText)) {
				t.Errorf("the served PNG keeps its text chunk")
			}
			if _, err := png.Decode(bytes.NewReader(r.Body)); err != nil {
				t.Errorf("served PNG: %v", err)
			}
			checkServed(t, r, "image/png", `inline; filename="plan.png"; filename*=UTF-8''plan.png`)
			// The PDF: kept as sent, offered as a download.
			r = mustCall(t, n, 200, "GET", "/uploads/"+f.Doc, "")
			if !bytes.Equal(r.Body, pdf) {
				t.Errorf("the PDF changed")
			}
			checkServed(t, r, "application/pdf", `attachment; filename="plan.pdf"; filename*=UTF-8''plan.pdf`)

			// An ETag answers 304; HEAD answers the headers without the file.
			hr, body := coretest.RawRequest(t, "GET", n.URL()+"/uploads/"+f.Doc, "", map[string]string{"If-None-Match": r.Header.Get("ETag")})
			if hr.StatusCode != 304 || len(body) != 0 {
				t.Errorf("If-None-Match = %d", hr.StatusCode)
			}
			hr, body = coretest.RawRequest(t, "HEAD", n.URL()+"/uploads/"+f.Doc, "", nil)
			if hr.StatusCode != 200 || len(body) != 0 || hr.Header.Get("Content-Disposition") == "" {
				t.Errorf("HEAD = %d, %d bytes", hr.StatusCode, len(body))
			}
		})

		t.Run("ErrRefused", func(t *testing.T) {
			before, calls0 := uploadCount(t, n), calls(t, n, "alpha")
			jpg := jpegWithGPS(t)
			for _, c := range []struct {
				name  string
				part  filePart
				field string
				rule  string
			}{
				{"HTML named photo.png", file("photo", "photo.png", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")), "photo", pluginhost.RuleUploadKind},
				{"SVG", file("photo", "photo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>`)), "photo", pluginhost.RuleUploadKind},
				{"HTML before a PNG", file("photo", "photo.png", append([]byte("<html><script>alert(1)</script>"), pngWithText(t)...)), "photo", pluginhost.RuleUploadKind},
				{"truncated JPEG", file("photo", "cut.jpg", jpg[:len(jpg)/2]), "photo", pluginhost.RuleUploadDamaged},
				{"20000×20000 PNG", file("photo", "bomb.png", pngBomb(20000, 20000)), "photo", pluginhost.RuleUploadPixels},
				{"a PDF as a photo", file("photo", "x.jpg", pdfFile()), "photo", pluginhost.RuleUploadKind},
				{"a photo as the PDF", file("doc", "x.pdf", jpg), "doc", pluginhost.RuleUploadKind},
				{"truncated PDF", file("doc", "x.pdf", pdfFile()[:20]), "doc", pluginhost.RuleUploadDamaged},
				{"empty file", file("doc", "x.pdf", nil), "doc", pluginhost.RuleUploadEmpty},
				{"undeclared field", file("other", "x.jpg", jpg), "other", pluginhost.RuleUploadUndeclared},
			} {
				// A good photo first: nothing of a refused form is kept.
				r, _ := postFiles(t, n, "", 422, file("photo", "ok.jpg", jpg), c.part)
				var e struct {
					Error struct {
						Code   string            `json:"code"`
						Fields map[string]string `json:"fields"`
					} `json:"error"`
				}
				if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code != "invalid" || e.Error.Fields[c.field] == "" || e.Error.Fields["rule"] != c.rule {
					t.Errorf("%s: %s, want invalid %s on %s", c.name, r.Body, c.rule, c.field)
				}
			}
			// Too large: a file over its field's limit, and a form over the route's.
			r, _ := postFiles(t, n, "", 413, file("photo", "big.jpg", bytes.Repeat([]byte{0xFF}, 1<<20+1)))
			if !strings.Contains(string(r.Body), `"too_large"`) || !strings.Contains(string(r.Body), `"photo"`) {
				t.Errorf("big file: %s", r.Body)
			}
			// A form over the route's limit is refused on its declared length, before
			// it is read (the server may close before a client has sent it all, so
			// the length is declared and the body left short).
			for _, path := range []string{"/api/v1/alpha/files", "/alpha/photo"} {
				if r := postDeclared(t, n, path, 3<<20); r.Status != 413 {
					t.Errorf("a form over the limit of %s = %d %s", path, r.Status, r.Body)
				}
			}
			if got := uploadCount(t, n); got != before {
				t.Errorf("refused forms stored %d files", got-before)
			}
			if got := calls(t, n, "alpha"); got != calls0 {
				t.Errorf("refused forms reached the plugin: calls %v → %v", calls0, got)
			}
		})

		t.Run("FormWithoutFile", func(t *testing.T) {
			// An empty file input (filename="") and a urlencoded form both reach the
			// plugin without an id, and a value forged under the field is dropped.
			_, f := postFiles(t, n, "", 200, value("caption", "x"), file("photo", "", nil))
			if len(f.Photo) != 0 || f.Form["caption"][0] != "x" {
				t.Errorf("empty input: %+v", f)
			}
			r := post(t, n, "/api/v1/alpha/files", "", "application/x-www-form-urlencoded", []byte("caption=y&photo=forged&doc=forged"))
			var g forwarded
			_ = json.Unmarshal(r.Body, &g)
			if r.Status != 200 || len(g.Photo) != 0 || g.Doc != "" || g.Form["caption"][0] != "y" {
				t.Errorf("urlencoded: %d %s", r.Status, r.Body)
			}
		})

		t.Run("SafeFileName", func(t *testing.T) {
			// Quotes, CR LF, a path and ; in the name (RFC 2231 can carry them all).
			_, f := postFiles(t, n, "", 200, filePart{field: "doc", data: pdfFile(),
				disposition: `form-data; name="doc"; filename*=UTF-8''..%2F..%2Fetc%2Fpa%22ss%0D%0AX-Injected%3A%20yes%3B%20%C3%A4.exe`})
			r := mustCall(t, n, 200, "GET", "/uploads/"+f.Doc, "")
			cd := r.Header.Get("Content-Disposition")
			if want := `attachment; filename="pa_ss__X-Injected__yes___.pdf"; filename*=UTF-8''pa_ss__X-Injected_%20yes_%20%C3%A4.pdf`; cd != want {
				t.Errorf("Content-Disposition %q, want %q", cd, want)
			}
			if r.Header.Get("X-Injected") != "" {
				t.Errorf("a header was injected")
			}
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []string{"0190c7a4-0000-4000-8000-000000000000", "not-an-id", "..%2F..%2Fetc"} {
				if r, _ := call(t, n, "GET", "/uploads/"+id, "", nil); r.Status != 404 {
					t.Errorf("GET /uploads/%s = %d", id, r.Status)
				}
			}
		})

		t.Run("Page", func(t *testing.T) {
			// Through the frame: the page's form gets the id, the filter keeps the
			// <img> and the link to the upload; a refused file is the frame's 422.
			body, ct := multipartBody(t, value("caption", "Puisto"), file("photo", "p.jpg", jpegWithGPS(t)))
			r := post(t, n, "/alpha/photo", "", ct, body)
			if r.Status != 200 || !strings.Contains(string(r.Body), `<img src="/uploads/`) || !strings.Contains(string(r.Body), `<a href="/uploads/`) {
				t.Fatalf("page = %d %s", r.Status, r.Body)
			}
			before := uploadCount(t, n)
			body, ct = multipartBody(t, file("photo", "p.png", []byte("<html></html>")))
			if r := post(t, n, "/alpha/photo", "", ct, body); r.Status != 422 || !strings.Contains(string(r.Body), "The file was not accepted") {
				t.Errorf("refused on a page = %d %s", r.Status, r.Body)
			}
			body, ct = multipartBody(t, file("photo", "p.jpg", bytes.Repeat([]byte{0xFF}, 1<<20+1)))
			if r := post(t, n, "/alpha/photo", "", ct, body); r.Status != 413 {
				t.Errorf("too large on a page = %d %s", r.Status, r.Body)
			}
			// A page that shows upload errors gets the rest of the form and the
			// refusal, and answers 422 with its form; nothing is stored, not even the
			// good file beside the refused one.
			for rule, part := range map[string]filePart{
				pluginhost.RuleUploadKind:     file("photo", "p.png", []byte("<html></html>")),
				pluginhost.RuleUploadTooLarge: file("photo", "p.jpg", bytes.Repeat([]byte{0xFF}, 1<<20+1)),
			} {
				body, ct = multipartBody(t, value("caption", "Puisto & lampi"), file("photo", "ok.jpg", jpegWithGPS(t)), part)
				r := post(t, n, "/alpha/photoform", "", ct, body)
				if r.Status != 422 || !strings.Contains(string(r.Body), `<p id="refused" autofocus>`+rule+`</p>`) || !strings.Contains(string(r.Body), `value="Puisto &amp; lampi"`) {
					t.Errorf("%s on a page showing upload errors = %d %s", rule, r.Status, r.Body)
				}
			}
			if got := uploadCount(t, n); got != before {
				t.Errorf("refused page forms stored %d files", got-before)
			}
			// A client cannot claim a refusal: the host drops its X-Kvarter- headers.
			body, ct = multipartBody(t, file("photo", "ok.jpg", jpegWithGPS(t)))
			req, _ := http.NewRequest("POST", n.URL()+"/alpha/photoform", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("X-Kvarter-Upload-Refused", "photo=upload_kind")
			hr, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(hr.Body)
			hr.Body.Close()
			if hr.StatusCode != 200 || !strings.Contains(string(page), `<img src="/uploads/`) {
				t.Errorf("a forged refusal = %d %s", hr.StatusCode, page)
			}
		})

		t.Run("Erasure", func(t *testing.T) {
			u := coretest.Register(t, n, "kuvaaja@example.fi", "Kuvaaja")
			_, f := postFiles(t, n, u.Token, 200, file("photo", "me.jpg", jpegWithGPS(t)))
			export := u.Must(200, "GET", "/api/v1/me/export", nil).JSON()
			list, _ := export["uploads"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["id"] != f.Photo[0] || list[0].(map[string]any)["file_name"] != "me.jpg" {
				t.Errorf("export uploads %v", export["uploads"])
			}
			u.Must(204, "DELETE", "/api/v1/me", nil)
			mustCall(t, n, 404, "GET", "/uploads/"+f.Photo[0], "")
			var left int
			if err := coretest.SQL(n).Get(&left, coretest.SQL(n).Rebind(`SELECT COUNT(*) FROM uploads WHERE uploader_id = ?`), u.ID); err != nil || left != 0 {
				t.Errorf("%d uploads left after erasure (%v)", left, err)
			}
		})
	})
}

// checkServed checks the headers every served upload carries.
func checkServed(t *testing.T, r resp, contentType, disposition string) {
	t.Helper()
	h := r.Header
	for k, want := range map[string]string{
		"Content-Type":            contentType,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
		"Content-Disposition":     disposition,
		"Cache-Control":           "private, max-age=3600",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if et := h.Get("ETag"); len(et) != 66 {
		t.Errorf("ETag %q: want the quoted sha256", et)
	}
}

// Fixtures, made here so that each carries exactly what a test looks for.

// secretText is what the metadata of the fixtures hides.
const secretText = "GPS 60.1699N 24.9384E"

// photo is a 64×64 picture with enough detail that half its JPEG is truly cut short.
func photo() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), uint8((x * y) % 256), 255})
		}
	}
	return img
}

// jpegWithGPS is a JPEG carrying an EXIF segment (APP1) whose GPS directory holds a
// position, as a phone camera writes it.
func jpegWithGPS(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, photo(), nil); err != nil {
		t.Fatal(err)
	}
	// TIFF (little endian): IFD0 with one entry, GPSInfo (0x8825), pointing at a GPS
	// IFD with GPSLatitudeRef "N" and GPSLatitude 60° 10' 11.99".
	le := binary.LittleEndian
	tiff := []byte("II*\x00")
	tiff = le.AppendUint32(tiff, 8)
	tiff = le.AppendUint16(tiff, 1)
	tiff = append(le.AppendUint16(le.AppendUint16(tiff, 0x8825), 4), 1, 0, 0, 0)
	tiff = le.AppendUint32(tiff, 26) // the GPS IFD's offset
	tiff = le.AppendUint32(tiff, 0)  // no next IFD
	tiff = le.AppendUint16(tiff, 2)
	tiff = append(le.AppendUint16(le.AppendUint16(tiff, 0x0001), 2), 2, 0, 0, 0, 'N', 0, 0, 0)
	tiff = append(le.AppendUint16(le.AppendUint16(tiff, 0x0002), 5), 3, 0, 0, 0)
	tiff = le.AppendUint32(tiff, uint32(len(tiff)+8))
	tiff = le.AppendUint32(tiff, 0)
	for _, r := range [][2]uint32{{60, 1}, {10, 1}, {1199, 100}} {
		tiff = le.AppendUint32(le.AppendUint32(tiff, r[0]), r[1])
	}
	tiff = append(tiff, secretText...)
	return withExif(t, b.Bytes(), tiff)
}

// withExif puts tiff into a JPEG as its EXIF segment (APP1), after SOI.
func withExif(t testing.TB, src, tiff []byte) []byte {
	t.Helper()
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(app1)+2))
	seg = append(seg, app1...)
	out := append(append(append([]byte{}, src[:2]...), seg...), src[2:]...)
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return out
}

// jpegTurned is a portrait photo as a phone stores it: 64×32 landscape pixels, red on
// the left and blue on the right, and EXIF Orientation 6 ("turn a quarter clockwise
// to show"), in big-endian TIFF.
func jpegTurned(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for y := range 32 {
		for x := range 64 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 32 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	tiff := be.AppendUint32([]byte("MM\x00*"), 8)
	tiff = be.AppendUint16(tiff, 1)
	tiff = be.AppendUint16(be.AppendUint16(tiff, 0x0112), 3)
	tiff = be.AppendUint32(tiff, 1)
	tiff = append(be.AppendUint16(tiff, 6), 0, 0)
	tiff = be.AppendUint32(tiff, 0)
	return withExif(t, b.Bytes(), tiff)
}

// pngChunk is one PNG chunk with its CRC.
func pngChunk(kind string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(append(c, kind...), data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(append([]byte(kind), data...)))
}

// pngWithText is a PNG with a tEXt chunk after its header.
func pngWithText(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, photo()); err != nil {
		t.Fatal(err)
	}
	src := b.Bytes()
	ihdrEnd := 8 + 4 + 4 + 13 + 4
	text := pngChunk("tEXt", append([]byte("Comment\x00"), secretText...))
	out := append(append(append([]byte{}, src[:ihdrEnd]...), text...), src[ihdrEnd:]...)
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return out
}

// pngBomb is a PNG header claiming w×h pixels, with hardly any data after it.
func pngBomb(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	out := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, pngChunk("IEND", nil)...)
}

// pdfFile is a small, complete PDF.
func pdfFile() []byte {
	return []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
}
