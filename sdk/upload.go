package sdk

import (
	"net/http"
	"net/url"
	"slices"
)

// Uploads (DESIGN.md §10): a route declares its file fields, the host receives the
// files, and the plugin gets an upload id in each field's place.
//
//	sdk.PostPage("/parks/{id}/photos", "parks.photo.add", p.addPhoto).
//		Upload("photo", 5<<20, sdk.UploadImage)
//
// The host parses the multipart/form-data form within the route's limits, checks each
// file by its content (an image must decode as JPEG or PNG; a PDF must look like one),
// re-encodes images so that their metadata (EXIF, GPS position, text chunks) is gone,
// stores the file in the core database and forwards the rest of the form, as
// application/x-www-form-urlencoded, with the upload's id as the field's value. A file
// the host refuses answers 422 (413 when too large) before the plugin sees anything.
// The plugin keeps the id and links the file with UploadURL; the host serves it at
// /uploads/<id> to anyone holding the id, so a plugin shows an id only on pages whose
// viewers may see the file.

// Kinds of file a field accepts.
const (
	// UploadImage is a JPEG or PNG photo or drawing; the host re-encodes it.
	UploadImage = "image"
	// UploadPDF is a PDF document, kept as sent and served as a download.
	UploadPDF = "pdf"
)

// UploadField is one file field of a route's form.
type UploadField struct {
	// Name is the form field's name.
	Name string
	// Kinds are the kinds of file accepted: UploadImage, UploadPDF.
	Kinds []string
	// MaxBytes is the largest file accepted; 0 means the route's body limit.
	MaxBytes int64
}

// uploadOverhead is room in a route's body limit for the form around its files.
const uploadOverhead = 64 << 10

// Upload declares a file field of the route's form: its name, the largest file
// accepted and the kinds accepted. The route's body limit grows to hold every declared
// file and the form around them, up to MaxRouteBodyBytes.
func (r Route) Upload(name string, maxBytes int64, kinds ...string) Route {
	r.Uploads = append(slices.Clone(r.Uploads), UploadField{Name: name, Kinds: kinds, MaxBytes: maxBytes})
	need := int64(uploadOverhead)
	for _, u := range r.Uploads {
		need += u.MaxBytes
	}
	if r.MaxBodyBytes < need {
		r.MaxBodyBytes = min(need, MaxRouteBodyBytes)
	}
	return r
}

// UploadRefusedHeader is the request header in which the host names the files it
// refused for a page that shows upload errors (Route.ShowUploadErrors): field=rule
// pairs, URL-encoded. A client cannot send it: the host drops every X-Kvarter- header
// a client sends.
const UploadRefusedHeader = "X-Kvarter-Upload-Refused"

// ShowUploadErrors says that the page's handler shows a refused file in its form, the
// GOV.UK way: an error summary and a message by the file input. For such a page the
// host does not answer a refused file with its own 422 panel; it forwards the rest of
// the form, without any of its files (none is stored), and the handler finds the
// refusal with UploadError and answers 422 with the form again. A page without it
// never sees a form whose file was refused.
func (r Route) ShowUploadErrors() Route {
	r.ShowsUploadErrors = true
	return r
}

// UploadError is the host's refusal of the file sent in field, as an invalid-input
// error naming the field and, in Fields["rule"], why: "upload_kind" (not a kind the
// field accepts), "upload_damaged" (cut short or corrupt), "upload_pixels" (too many
// pixels), "upload_empty" or "upload_too_large". Nil when the field's file, if any,
// was received. The sdk/web kit's Form.Catch turns it into the field's message.
func UploadError(r *http.Request, field string) error {
	refused, err := url.ParseQuery(r.Header.Get(UploadRefusedHeader))
	if err != nil || !refused.Has(field) {
		return nil
	}
	return Invalid(field, refused.Get(field), "The file was not accepted.")
}

// UploadID is the id of the file the host received for field of the request's form,
// "" when none was sent. Only the host sets it: whatever a client sends under a
// declared field's name itself is dropped before the plugin sees the form.
func UploadID(r *http.Request, field string) string {
	if ids := UploadIDs(r, field); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// UploadIDs are the ids of the files received for field (an <input type=file
// multiple>), in the order sent.
func UploadIDs(r *http.Request, field string) []string {
	if r.PostForm == nil {
		_ = r.ParseForm()
	}
	var out []string
	for _, id := range r.PostForm[field] {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// UploadURL is where the host serves the upload id: a path for <img src> or
// <a href> on the plugin's pages.
func UploadURL(id string) string {
	return "/uploads/" + url.PathEscape(id)
}
