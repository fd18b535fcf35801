package e2e

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// SessionCookie is the name of the node's session cookie over plain HTTP.
const SessionCookie = "kvarter_session"

// Forms is a browser without JavaScript against a real node, for the no-JS half of a
// story (DESIGN.md §10): plain GETs and url-encoded form posts as the site's own pages
// send them (Sec-Fetch-Site: same-origin), in the language Lang, the session in a
// cookie jar, and no redirect followed, so a test sees each 303 of Post/Redirect/Get.
type Forms struct {
	tb   testing.TB
	base string
	// Lang is the Accept-Language of every request.
	Lang string
	jar  *cookiejar.Jar
}

// FormAnswer is the node's answer to one request of Forms.
type FormAnswer struct {
	Status   int
	Location string
	Body     string
}

// NewForms is a browser without JavaScript, signed out, at base (the node's URL).
func NewForms(tb testing.TB, base, lang string) *Forms {
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &Forms{tb: tb, base: base, Lang: lang, jar: jar}
}

// Send sends one request: a form post when form is not nil (any method), else a
// request without a body.
func (f *Forms) Send(method, path string, form url.Values) FormAnswer {
	f.tb.Helper()
	if form == nil {
		return f.send(method, path, "", nil)
	}
	return f.send(method, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// SendFile posts a multipart/form-data form, as a page's form with a file input
// sends it: form's fields, and data as the file fileName chosen in field.
func (f *Forms) SendFile(path string, form url.Values, field, fileName string, data []byte) FormAnswer {
	f.tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				f.tb.Fatal(err)
			}
		}
	}
	fw, err := mw.CreateFormFile(field, fileName)
	if err == nil {
		_, err = fw.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		f.tb.Fatal(err)
	}
	return f.send(http.MethodPost, path, mw.FormDataContentType(), &body)
}

// send sends one request with body of contentType ("" for none).
func (f *Forms) send(method, path, contentType string, body io.Reader) FormAnswer {
	f.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, f.base+path, body)
	if err != nil {
		f.tb.Fatal(err)
	}
	req.Header.Set("Accept-Language", f.Lang)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Sec-Fetch-Site", "same-origin") // what a browser sends with the site's own form
	}
	client := &http.Client{Jar: f.jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		f.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.tb.Fatal(err)
	}
	return FormAnswer{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(data)}
}

// Session is the session cookie's value, "" when signed out.
func (f *Forms) Session() string {
	u, err := url.Parse(f.base)
	if err != nil {
		f.tb.Fatal(err)
	}
	for _, c := range f.jar.Cookies(u) {
		if c.Name == SessionCookie {
			return c.Value
		}
	}
	return ""
}

// SetSession signs the browser in with a session token made elsewhere (the API's
// sign-in), as if it had signed in through the page.
func (f *Forms) SetSession(token string) {
	u, err := url.Parse(f.base)
	if err != nil {
		f.tb.Fatal(err)
	}
	f.jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: token, Path: "/"}})
}

// Forget drops every cookie, as a fresh browser has none: the next sign-in is another
// person's.
func (f *Forms) Forget() {
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.tb.Fatal(err)
	}
	f.jar = jar
}
