package budgeting

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// hostForm sends a form to the real host as cl: multipart when file is set (its
// bytes under the field fileField), urlencoded otherwise. Redirects are not
// followed, so a page's 303 is seen. The API is called with the client's token, a page
// with its session cookie.
func hostForm(t *testing.T, core *sdktest.Core, cl *sdktest.Client, path string, values url.Values, fileField string, file []byte) (int, http.Header, []byte) {
	t.Helper()
	var body bytes.Buffer
	ct := "application/x-www-form-urlencoded"
	if fileField != "" {
		mw := multipart.NewWriter(&body)
		for k, vs := range values {
			for _, v := range vs {
				_ = mw.WriteField(k, v)
			}
		}
		fw, _ := mw.CreateFormFile(fileField, "lot.png")
		_, _ = fw.Write(file)
		_ = mw.Close()
		ct = mw.FormDataContentType()
	} else {
		body.WriteString(values.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, core.URL+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+cl.Token)
	} else {
		// Pages are for browsers: signed in by the session cookie the login set.
		req.AddCookie(&http.Cookie{Name: "kvarter_session", Value: cl.Token})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// TestHost_Attachments sends real files through a real `kvarter serve` and the plugin
// process, on SQLite and PostgreSQL: a photo through the proposal page and a photo
// through the JSON route are received by the host, listed on the proposal and served
// from /uploads/; an upload id a client writes into the form itself (someone else's
// file, or one that does not exist) never reaches the plugin, so nothing is added;
// the JSON route removes a photo for its author only; an HTML file posing as a photo
// is refused by the host with the form's message.
func TestHost_Attachments(t *testing.T) {
	var img bytes.Buffer
	_ = png.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)))
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-budgeting", Name: "budgeting"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		nbh := core.Neighbourhood("Bornova")
		off := core.NewUser("officer@example.org")
		core.Grant(off, RoleOfficer, "nbh:"+nbh)
		alice := core.NewUser("alice@example.org")
		core.VerifiedMember(alice, nbh)
		var cy Cycle
		off.Must(201, "POST", base+"/cycles", map[string]any{"neighbourhood_id": nbh, "name": "Bornova 2027", "budget": 100000,
			"currency": "TRY", "ballot": map[string]any{"type": "approval"}}).Decode(t, &cy)
		var p Proposal
		alice.Must(201, "POST", base+"/cycles/"+cy.ID+"/proposals", map[string]any{"title": "Swings", "cost": 50000}).Decode(t, &p)
		api := base + "/cycles/" + cy.ID + "/proposals/" + p.ID
		page := proposalPath(cy.ID, p.ID)
		attachments := func() []Attachment {
			t.Helper()
			var got Proposal
			core.Anonymous().Must(200, "GET", api, nil).Decode(t, &got)
			return got.Attachments
		}

		t.Run("Page", func(t *testing.T) {
			status, h, body := hostForm(t, core, alice, page+"/attachments", url.Values{"kind": {"photo"}, "alt": {"The empty lot"}}, "photo", img.Bytes())
			if status != http.StatusSeeOther || h.Get("Location") != page+"?attached=1" {
				t.Fatalf("photo through the page: %d %v %s", status, h, body)
			}
			got := attachments()
			if len(got) != 1 || got[0].Text != "The empty lot" || !strings.HasPrefix(got[0].URL, "/uploads/") {
				t.Fatalf("attachments %+v", got)
			}
			served := core.Anonymous().Must(200, "GET", got[0].URL, nil)
			if served.Header.Get("Content-Type") != "image/png" {
				t.Errorf("served as %q", served.Header.Get("Content-Type"))
			}
		})

		t.Run("JSON", func(t *testing.T) {
			status, _, body := hostForm(t, core, alice, api+"/attachments", url.Values{"alt": {"The lot at dusk"}}, "photo", img.Bytes())
			var got Proposal
			if status != http.StatusCreated || json.Unmarshal(body, &got) != nil || len(got.Attachments) != 2 || got.Attachments[1].Text != "The lot at dusk" {
				t.Fatalf("photo through the API: %d %s", status, body)
			}
			// Without alt the API answers 422 naming it, and keeps nothing.
			status, _, body = hostForm(t, core, alice, api+"/attachments", url.Values{}, "photo", img.Bytes())
			sdktest.CheckInvalid(t, status, body, "alt", "required")
		})

		t.Run("ErrForgedUploadID", func(t *testing.T) {
			// Someone else's upload, or a made-up one, written into the form as text.
			// The host drops a declared file field's value, so the plugin sees no file.
			theirs := strings.TrimPrefix(attachments()[0].URL, "/uploads/")
			for _, id := range []string{theirs, "0f6c2a4e-8b1d-4c3a-9e7f-000000000001"} {
				status, _, body := hostForm(t, core, alice, page+"/attachments", url.Values{"kind": {"photo"}, "photo": {id}, "alt": {"Not mine"}}, "", nil)
				if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "Choose a photo to add") {
					t.Errorf("forged id %s: %d %s", id, status, body)
				}
				status, _, body = hostForm(t, core, alice, api+"/attachments", url.Values{"photo": {id}, "alt": {"Not mine"}}, "", nil)
				sdktest.CheckInvalid(t, status, body, "photo", "required")
			}
			if n := len(attachments()); n != 2 {
				t.Errorf("a forged id was attached: %d attachments", n)
			}
		})

		t.Run("JSONRemove", func(t *testing.T) {
			first := attachments()[0]
			bob := core.NewUser("bob@example.org")
			core.VerifiedMember(bob, nbh)
			bob.Must(403, "DELETE", api+"/attachments/"+first.ID, nil)
			var got Proposal
			alice.Must(200, "DELETE", api+"/attachments/"+first.ID, nil).Decode(t, &got)
			if len(got.Attachments) != 1 || got.Attachments[0].ID == first.ID {
				t.Errorf("after removing: %+v", got.Attachments)
			}
			alice.Must(404, "DELETE", api+"/attachments/"+first.ID, nil)
		})

		t.Run("ErrNotAnImage", func(t *testing.T) {
			status, _, body := hostForm(t, core, alice, page+"/attachments", url.Values{"kind": {"photo"}, "alt": {"A lot"}}, "photo",
				[]byte("<html><script>alert(1)</script></html>"))
			if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "JPEG or PNG") {
				t.Errorf("HTML as a photo: %d %s", status, body)
			}
			if n := len(attachments()); n != 1 {
				t.Errorf("%d attachments", n)
			}
		})
	})
}
