package sdk_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
)

// TestRoute_Upload: declaring a file field grows the route's body limit to hold every
// declared file and the form around them, never past MaxRouteBodyBytes, and never
// shrinks a larger limit the route set itself.
func TestRoute_Upload(t *testing.T) {
	noop := func(http.ResponseWriter, *http.Request) (sdk.PageMeta, error) { return sdk.PageMeta{}, nil }
	r := sdk.PostPage("/x/photos", sdk.PermPublic, noop).Upload("photo", 5<<20, sdk.UploadImage).Upload("plan", 3<<20, sdk.UploadPDF, sdk.UploadImage)
	if len(r.Uploads) != 2 || r.Uploads[1].Name != "plan" || !slices.Equal(r.Uploads[1].Kinds, []string{sdk.UploadPDF, sdk.UploadImage}) {
		t.Errorf("uploads %+v", r.Uploads)
	}
	if r.MaxBodyBytes <= 8<<20 || r.MaxBodyBytes > 9<<20 {
		t.Errorf("body limit %d for 8 MiB of files", r.MaxBodyBytes)
	}
	if big := sdk.PostPage("/x/big", sdk.PermPublic, noop).Upload("a", 20<<20, sdk.UploadPDF).Upload("b", 20<<20, sdk.UploadPDF); big.MaxBodyBytes != sdk.MaxRouteBodyBytes {
		t.Errorf("body limit %d, want the most a route may declare", big.MaxBodyBytes)
	}
	if own := sdk.PostPage("/x/own", sdk.PermPublic, noop).MaxBody(20<<20).Upload("a", 1<<20, sdk.UploadImage); own.MaxBodyBytes != 20<<20 {
		t.Errorf("body limit %d, want the route's own 20 MiB", own.MaxBodyBytes)
	}
}

// TestUploadID: the ids the host put in the form, empty values (no file chosen)
// skipped; a query parameter of the same name is not an upload.
func TestUploadID(t *testing.T) {
	r := httptest.NewRequest("POST", "/x/photos?photo=from-query", strings.NewReader("photo=&photo=id-1&photo=id-2&caption=x"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := sdk.UploadIDs(r, "photo"); !slices.Equal(got, []string{"id-1", "id-2"}) {
		t.Errorf("UploadIDs = %v", got)
	}
	if got := sdk.UploadID(r, "photo"); got != "id-1" {
		t.Errorf("UploadID = %q", got)
	}
	if got := sdk.UploadID(r, "plan"); got != "" {
		t.Errorf("UploadID of a field without a file = %q", got)
	}
	if got := sdk.UploadURL("6f1c2a9e/../x"); got != "/uploads/6f1c2a9e%2F..%2Fx" {
		t.Errorf("UploadURL = %q", got)
	}
}

// TestOpenAPI_Uploads: an API route with file fields documents a multipart form with
// each file as binary of its accepted types, and the host's 413 and 422.
func TestOpenAPI_Uploads(t *testing.T) {
	rt := sdk.Raw("POST", "/api/v1/parks/{id}/plans", "parks.plan.add", "application/json",
		func(http.ResponseWriter, *http.Request) error { return nil }).Upload("plan", 10<<20, sdk.UploadPDF, sdk.UploadImage)
	var paths map[string]map[string]map[string]any
	if err := json.Unmarshal(sdk.OpenAPI([]sdk.Route{rt}), &paths); err != nil {
		t.Fatal(err)
	}
	op := paths["/api/v1/parks/{id}/plans"]["post"]
	form := op["requestBody"].(map[string]any)["content"].(map[string]any)["multipart/form-data"].(map[string]any)
	plan := form["schema"].(map[string]any)["properties"].(map[string]any)["plan"].(map[string]any)
	if plan["format"] != "binary" || !strings.Contains(plan["description"].(string), "10485760 bytes") {
		t.Errorf("plan %v", plan)
	}
	if ct := form["encoding"].(map[string]any)["plan"].(map[string]any)["contentType"]; ct != "application/pdf, image/jpeg, image/png" {
		t.Errorf("content types %v", ct)
	}
	responses := op["responses"].(map[string]any)
	if responses["413"] == nil || responses["422"] == nil {
		t.Errorf("responses %v lack 413 or 422", responses)
	}
}
