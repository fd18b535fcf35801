package web_test

import (
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// TestForm_CatchUploadError: a file the host refused for a page that shows upload
// errors becomes a problem of its field, worded by the kit in the viewer's language
// unless the plugin's catalog says it better; another field's refusal is not this one.
func TestForm_CatchUploadError(t *testing.T) {
	r := httptest.NewRequest("POST", "/parks/1/photos", nil)
	r.Header.Set(sdk.UploadRefusedHeader, "photo=upload_kind&plan=upload_too_large")
	if err := sdk.UploadError(r, "caption"); err != nil {
		t.Errorf("a field without a refusal: %v", err)
	}
	f := web.NewForm(nil)
	if !f.Catch(sdk.UploadError(r, "photo"), "parks.photo") {
		t.Fatal("the refusal was not caught")
	}
	ps := f.Problems()
	if len(ps) != 1 || ps[0].Field != "photo" || !slices.Equal(ps[0].IDs, []string{"parks.photo.photo.upload_kind", "web.rule.upload_kind"}) {
		t.Errorf("problems %+v", ps)
	}
	b, err := web.NewBundle()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fi", "sv", "da", "tr", "en"} {
		loc := b.Localizer(lang)
		for _, rule := range []string{"upload_kind", "upload_damaged", "upload_pixels", "upload_empty", "upload_too_large"} {
			if got := loc.T("web.rule." + rule); got == "" || got == "web.rule."+rule {
				t.Errorf("%s: no words for %s", lang, rule)
			}
		}
	}
}
