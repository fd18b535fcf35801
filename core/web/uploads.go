package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kvarter/kvarter/core"
)

// Uploads (DESIGN.md §10): files people sent through plugins' forms, received and
// checked by the plugin host, served here at /uploads/{id}.
//
// Read access: anyone holding an upload's id may read it, as anyone may see a photo on
// a proposal's public page. The id is random (122 bits) and appears only where the
// plugin puts it, so a plugin shows an upload's id only on pages whose viewers may see
// the file.

// uploadCSP is the Content-Security-Policy of a served file: nothing loads, nothing
// runs, even if a browser took the file for a document.
const uploadCSP = "default-src 'none'; sandbox"

// uploadMaxAge is how long a browser may keep a file without asking again; short, so
// that an erased file soon leaves browsers' caches too.
const uploadMaxAge = 3600

// upload serves one stored file with headers that keep a browser from taking it for
// anything else: its stored type and nosniff, a CSP that sandboxes it, images shown
// inline and PDFs offered as a download under a safe name, and an ETag (its sha256)
// that answers 304 to a browser holding it already.
func (p *Pages) upload(w http.ResponseWriter, r *http.Request) error {
	if p.svc.Uploads == nil {
		return core.Errorf(core.ENOTFOUND, "There are no uploads here.")
	}
	u, err := p.svc.Uploads.Upload(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", u.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", uploadCSP)
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Content-Disposition", contentDisposition(u.ContentType, u.FileName))
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(uploadMaxAge))
	h.Del("Vary")
	etag := `"` + u.SHA256 + `"`
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(u.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(u.Data)
	return err
}

// etagMatches reports whether an If-None-Match header names etag (or is "*").
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// contentDisposition is the Content-Disposition of a served upload (RFC 6266): inline
// for an image, attachment for anything else (a PDF opens as a download, never in the
// site's origin), with the name in filename* (RFC 5987, UTF-8) and an ASCII fallback in
// filename="", neither of which can hold a quote, a line break or a path.
func contentDisposition(contentType, name string) string {
	disposition := "attachment"
	if strings.HasPrefix(contentType, "image/") {
		disposition = "inline"
	}
	ascii := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	if ascii == "" {
		ascii = "download"
	}
	// PathEscape leaves only unreserved characters and a few sub-delims; escape
	// those RFC 5987's attr-char does not allow.
	enc := strings.NewReplacer("'", "%27", "(", "%28", ")", "%29", "*", "%2A", ";", "%3B", ",", "%2C", "=", "%3D", "@", "%40", ":", "%3A", "+", "%2B", "$", "%24", "&", "%26", "/", "%2F").
		Replace(url.PathEscape(name))
	return disposition + `; filename="` + ascii + `"; filename*=UTF-8''` + enc
}
