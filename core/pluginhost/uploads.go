package pluginhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// Uploads (DESIGN.md §10). A route declares its file fields (sdk.Route.Upload); for a
// request to it the host — not the plugin — reads the multipart/form-data form within
// the route's limits, checks every file by its content, re-encodes images with the
// standard library so that no metadata survives (EXIF and its GPS position, PNG text
// chunks, anything appended), keeps PDFs as sent, stores the files in the core
// database in one transaction and forwards the rest of the form, urlencoded, with each
// file's upload id as its field's value. A file the host refuses answers 422 (413 when
// too large) and nothing is stored; the plugin never sees the request.

// Limits of the files the host receives.
const (
	// MaxImagePixels bounds an image's width × height, read from its header before
	// it is decoded, so a small file claiming a huge picture (a decompression bomb)
	// is refused without the memory it would take: 24 megapixels, a phone camera's
	// photo.
	MaxImagePixels = 24_000_000
	// maxFormParts bounds the parts of one multipart form, files and values.
	maxFormParts = 200
	// maxFileName bounds a stored file name, in characters.
	maxFileName = 100
	// jpegQuality is that of re-encoded JPEG photos.
	jpegQuality = 88
)

// Rules an upload breaks, in the error's fields.rule.
const (
	RuleUploadUndeclared = "upload_undeclared" // a file in a field the route does not declare
	RuleUploadKind       = "upload_kind"       // not a kind the field accepts (HTML, SVG, …)
	RuleUploadDamaged    = "upload_damaged"    // cannot be read as what it claims: truncated, corrupt
	RuleUploadPixels     = "upload_pixels"     // more pixels than MaxImagePixels
	RuleUploadEmpty      = "upload_empty"      // a chosen file without content
	RuleUploadTooLarge   = "upload_too_large"  // over the field's limit (413)
)

// Content types of stored uploads.
const (
	typeJPEG = "image/jpeg"
	typePNG  = "image/png"
	typePDF  = "application/pdf"
)

// decodeSlots bounds the images decoded at once, and so the memory they take: at the
// pixel limit a 16-bit PNG or a progressive JPEG needs a few hundred MB to decode.
var decodeSlots = make(chan struct{}, 2)

// errNoUploadStore is an upload to a node without somewhere to keep it.
var errNoUploadStore = errors.New("pluginhost: no upload store configured")

// uploadField returns the route's declaration of the file field name, nil when the
// route declares none such.
func (r *compiledRoute) uploadField(name string) *sdk.UploadField {
	for i := range r.Uploads {
		if r.Uploads[i].Name == name {
			return &r.Uploads[i]
		}
	}
	return nil
}

// checkUploads refuses file fields the host could not receive safely.
func checkUploads(r sdk.Route) error {
	if r.ShowsUploadErrors && (r.Kind != sdk.RoutePage || len(r.Uploads) == 0) {
		return fmt.Errorf("route %s %s: only a page with file fields shows upload errors", r.Method, r.Path)
	}
	if len(r.Uploads) == 0 {
		return nil
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return fmt.Errorf("route %s %s: only a POST, PUT or PATCH route takes files", r.Method, r.Path)
	}
	limit := r.MaxBodyBytes
	if limit == 0 {
		limit = sdk.DefaultMaxBodyBytes
	}
	seen := map[string]bool{}
	for _, u := range r.Uploads {
		if u.Name == "" || seen[u.Name] || len(u.Name) > 100 || strings.ContainsAny(u.Name, "\x00\r\n\"") {
			return fmt.Errorf("route %s %s: upload field %q needs a name of its own", r.Method, r.Path, u.Name)
		}
		seen[u.Name] = true
		if len(u.Kinds) == 0 {
			return fmt.Errorf("route %s %s: upload field %q accepts no kind of file (%q, %q)", r.Method, r.Path, u.Name, sdk.UploadImage, sdk.UploadPDF)
		}
		for _, k := range u.Kinds {
			if k != sdk.UploadImage && k != sdk.UploadPDF {
				return fmt.Errorf("route %s %s: upload field %q: unknown kind %q (%q or %q)", r.Method, r.Path, u.Name, k, sdk.UploadImage, sdk.UploadPDF)
			}
		}
		if u.MaxBytes < 0 || u.MaxBytes > limit {
			return fmt.Errorf("route %s %s: upload field %q: file limit %d must be between 0 (the route's) and the route's body limit %d", r.Method, r.Path, u.Name, u.MaxBytes, limit)
		}
	}
	return nil
}

// receivedFile is a checked file waiting to be stored with the rest of the form's.
type receivedFile struct {
	field  string
	upload *core.Upload
}

// refusal is a file the host would not take, and why (EINVALID or ETOOLARGE, with
// fields.rule).
type refusal struct {
	field string
	err   *core.Error
}

// receiveUploads turns the body of a request to a route with file fields into the
// form the plugin gets, storing the files; header's Content-Type and Content-Length
// are set to the new body's. A body that is no form passes unchanged. Whatever a
// client sends under a declared field's name as a plain value is dropped, so the
// plugin only ever finds ids the host gave there.
//
// A refused file is answered with its error (422, or 413 when too large) and nothing
// is stored — unless the route is a page that shows upload errors itself
// (sdk.Route.ShowUploadErrors): that page gets the rest of the form, without any of
// its files (still nothing is stored), and the refused fields with their rules in
// sdk.UploadRefusedHeader, so it answers 422 with its form and a message by the field.
func (p *plugin) receiveUploads(ctx context.Context, pr *core.Principal, route *compiledRoute, header http.Header, body []byte) ([]byte, error) {
	mediaType, params, _ := mime.ParseMediaType(header.Get("Content-Type"))
	var form url.Values
	var files []receivedFile
	switch mediaType {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, core.Malformed("The form cannot be read.")
		}
		if !slices.ContainsFunc(route.Uploads, func(u sdk.UploadField) bool { return vals.Has(u.Name) }) {
			return body, nil
		}
		form = vals
		for _, u := range route.Uploads {
			form.Del(u.Name)
		}
	case "multipart/form-data":
		var refused []refusal
		var err error
		form, files, refused, err = readMultipart(ctx, body, params["boundary"], route)
		if err != nil {
			return nil, err
		}
		if len(refused) > 0 {
			if route.Kind != sdk.RoutePage || !route.ShowsUploadErrors {
				return nil, refused[0].err
			}
			files = nil // nothing of a form with a refused file is kept
			rules := url.Values{}
			for _, r := range refused {
				rules.Set(r.field, r.err.Fields["rule"])
			}
			header.Set(sdk.UploadRefusedHeader, rules.Encode())
		}
	default:
		return body, nil // JSON or nothing: no form to hold files
	}
	if len(files) > 0 {
		if p.h.cfg.Uploads == nil {
			return nil, errNoUploadStore
		}
		uploader := ""
		if pr.Authenticated() {
			uploader = pr.UserID
		}
		uploads := make([]*core.Upload, len(files))
		for i, f := range files {
			f.upload.Plugin, f.upload.UploaderID = p.spec.Name, uploader
			uploads[i] = f.upload
		}
		if err := p.h.cfg.Uploads.SaveUploads(ctx, uploads); err != nil {
			return nil, err
		}
		for _, f := range files {
			form.Add(f.field, f.upload.ID)
		}
	}
	out := []byte(form.Encode())
	header.Set("Content-Type", "application/x-www-form-urlencoded")
	header.Set("Content-Length", strconv.Itoa(len(out)))
	return out, nil
}

// readMultipart reads a multipart form: its values, its files checked (and images
// re-encoded) but not stored, and the files refused, the first of each field. A file
// in a field the route does not declare, or a form that cannot be read, is an error.
func readMultipart(ctx context.Context, body []byte, boundary string, route *compiledRoute) (url.Values, []receivedFile, []refusal, error) {
	if boundary == "" {
		return nil, nil, nil, core.Malformed("The form has no multipart boundary.")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	form := url.Values{}
	var files []receivedFile
	var refused []refusal
	refuse := func(field string, err *core.Error) {
		if !slices.ContainsFunc(refused, func(r refusal) bool { return r.field == field }) {
			refused = append(refused, refusal{field, err})
		}
	}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, files, refused, nil
		}
		if err != nil {
			return nil, nil, nil, core.Malformed("The form cannot be read as multipart/form-data.")
		}
		if n >= maxFormParts {
			return nil, nil, nil, core.Malformed("The form has more than %d parts.", maxFormParts)
		}
		name := part.FormName()
		if name == "" {
			return nil, nil, nil, core.Malformed("A part of the form has no field name.")
		}
		decl := route.uploadField(name)
		if !hasFileParam(part) {
			// A plain value. One under a file field's name is dropped: the plugin
			// finds there only the ids of files the host received.
			v, err := io.ReadAll(part)
			if err != nil {
				return nil, nil, nil, core.Malformed("The form cannot be read as multipart/form-data.")
			}
			if decl == nil {
				form.Add(name, string(v))
			}
			continue
		}
		if decl == nil {
			return nil, nil, nil, core.InvalidField(name, RuleUploadUndeclared, "This form takes no file here.")
		}
		limit := decl.MaxBytes
		if limit == 0 {
			limit = route.MaxBodyBytes
		}
		if limit == 0 {
			limit = sdk.DefaultMaxBodyBytes
		}
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, nil, nil, core.Malformed("The form cannot be read as multipart/form-data.")
		}
		if part.FileName() == "" && len(data) == 0 {
			continue // the file input left empty: browsers send filename=""
		}
		if int64(len(data)) > limit {
			refuse(name, &core.Error{Code: core.ETOOLARGE, Message: fmt.Sprintf("%s: the file is larger than %d bytes.", name, limit),
				Fields: map[string]string{name: fmt.Sprintf("is larger than %d bytes", limit), "rule": RuleUploadTooLarge}})
			continue
		}
		u, err := checkFile(ctx, name, data, decl.Kinds)
		var refusedFile *core.Error
		if errors.As(err, &refusedFile) {
			refuse(name, refusedFile)
			continue
		}
		if err != nil {
			return nil, nil, nil, err
		}
		u.FileName = safeFileName(part.FileName(), u.ContentType)
		files = append(files, receivedFile{field: name, upload: u})
	}
}

// hasFileParam reports a part whose Content-Disposition names a file, even an empty
// one (filename=""), which Part.FileName does not tell from none.
func hasFileParam(p *multipart.Part) bool {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return false
	}
	_, ok := params["filename"]
	return ok
}

// checkFile checks a file's content against the kinds its field accepts and returns
// what is to be stored: an image decoded and encoded again (nothing of the sent bytes
// but the pixels survives), a PDF as sent. The file's name and extension say nothing:
// only the content counts.
func checkFile(ctx context.Context, field string, data []byte, kinds []string) (*core.Upload, error) {
	if len(data) == 0 {
		return nil, core.InvalidField(field, RuleUploadEmpty, "The file is empty.")
	}
	wrongKind := func() error {
		return core.InvalidField(field, RuleUploadKind, "The file is not of a kind this field accepts ("+strings.Join(kinds, ", ")+").")
	}
	damaged := func() error {
		return core.InvalidField(field, RuleUploadDamaged, "The file is damaged or incomplete.")
	}
	switch sniffed := http.DetectContentType(data); sniffed {
	case typeJPEG, typePNG:
		if !slices.Contains(kinds, sdk.UploadImage) {
			return nil, wrongKind()
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || "image/"+format != sniffed {
			return nil, damaged()
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
			return nil, core.InvalidField(field, RuleUploadPixels,
				fmt.Sprintf("The image is %d × %d pixels; at most %d megapixels are accepted.", cfg.Width, cfg.Height, MaxImagePixels/1_000_000))
		}
		// Decoding takes memory in proportion to the pixels: two at a time, however
		// many forms arrive at once.
		select {
		case decodeSlots <- struct{}{}:
			defer func() { <-decodeSlots }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var out bytes.Buffer
		if sniffed == typeJPEG {
			img, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				return nil, damaged()
			}
			img = orient(img, jpegOrientation(data)) // orientation.go: EXIF goes, the turn stays
			if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
				return nil, fmt.Errorf("re-encode jpeg: %w", err)
			}
		} else {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				return nil, damaged()
			}
			if err := png.Encode(&out, img); err != nil {
				return nil, fmt.Errorf("re-encode png: %w", err)
			}
		}
		return &core.Upload{ContentType: sniffed, Data: out.Bytes()}, nil
	case typePDF:
		if !slices.Contains(kinds, sdk.UploadPDF) {
			return nil, wrongKind()
		}
		// A PDF ends with %%EOF (perhaps followed by a line end); one cut short does
		// not. The host does not parse PDFs: it serves them as downloads only.
		tail := data[max(0, len(data)-1024):]
		if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(tail, []byte("%%EOF")) {
			return nil, damaged()
		}
		return &core.Upload{ContentType: typePDF, Data: data}, nil
	default:
		return nil, wrongKind() // HTML, SVG, scripts, archives, GIF, …
	}
}

// extensions are the file name extensions of the stored content types.
var extensions = map[string]string{typeJPEG: ".jpg", typePNG: ".png", typePDF: ".pdf"}

// safeFileName makes a sent file name safe to store and to offer for download: the
// last path element only (either slash), letters, digits, spaces and ._- kept and
// anything else (quotes, controls, CR, LF, ;) made "_", no leading dots, at most
// maxFileName characters, and the extension of the content actually stored.
func safeFileName(name, contentType string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "_")
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '.', r == '-', r == '_':
			return r
		case r == ' ':
			return ' '
		}
		return '_'
	}, name)
	ext := extensions[contentType]
	stem := strings.TrimSuffix(name, path.Ext(name))
	stem = strings.TrimLeft(strings.TrimSpace(stem), ".")
	if r := []rune(stem); len(r) > maxFileName-len(ext) {
		stem = strings.TrimSpace(string(r[:maxFileName-len(ext)]))
	}
	if strings.Trim(stem, "_. ") == "" {
		stem = "upload"
	}
	return stem + ext
}
