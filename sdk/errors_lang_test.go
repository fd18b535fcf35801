package sdk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
)

func TestErrorCatalog(t *testing.T) { i18ntest.CheckCatalog(t, sdk.ErrorCatalog) }

func TestError_InLanguage(t *testing.T) {
	precise := sdk.Invalid("title", sdk.RuleMaxLength, "must be at most 200 characters long")
	tests := []struct {
		name string
		err  *sdk.Error
		lang string
		want string
	}{
		{"EnglishKeepsThePreciseMessage", precise, "en", "title: must be at most 200 characters long"},
		{"RegionalEnglishToo", precise, "en-GB", "title: must be at most 200 characters long"},
		{"NoLanguageToo", precise, "", "title: must be at most 200 characters long"},
		{"UnknownLanguageToo", precise, "pl", "title: must be at most 200 characters long"},
		{"FinnishNamesFieldAndRule", precise, "fi", "”title” on liian pitkä."},
		{"RegionalSwedish", precise, "sv-FI", "”title” är för lång."},
		{"SharedWordsForNUL", sdk.Invalid("note", sdk.RuleNUL, "must not contain NUL"), "da", "“note” indeholder tegn, der ikke er tilladt."},
		{"UnknownRule", sdk.Invalid("slot", "booking_overlap", "overlaps another booking"), "tr", "“slot” alanının değeri geçerli değil."},
		{"SeveralFields", &sdk.Error{Code: sdk.CodeInvalid, Message: "x", Fields: map[string]string{"b": "x", "a": "y", "rule": "required"}}, "fi", "Osa tiedoista ei kelpaa: a, b."},
		{"NoField", sdk.RuleError(sdk.CodeInvalid, "quorum", "the quorum is not met"), "sv", "Uppgifterna är inte giltiga."},
		{"Code", sdk.Errorf(sdk.CodeNotFound, "No motion %s.", "x"), "tr", "Burada bir şey bulunamadı. Kaldırılmış olabilir ya da adres yanlış."},
		{"DeprecatedMalformedFlag", &sdk.Error{Code: sdk.CodeInvalid, Malformed: true, Message: "bad"}, "da", "Forespørgslen kan ikke læses. Kontrollér, at den er gyldig JSON i den dokumenterede form."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.err.InLanguage(tt.lang)
			if got.Message != tt.want {
				t.Errorf("Message = %q, want %q", got.Message, tt.want)
			}
			if got.Status() != tt.err.Status() || len(got.Fields) != len(tt.err.Fields) {
				t.Errorf("the code or fields changed: %+v from %+v", got, tt.err)
			}
		})
	}
	if precise.Message != "title: must be at most 200 characters long" {
		t.Error("InLanguage changed the error it was given")
	}
}

// A plugin's error answer is worded in the language the host says the requester reads.
func TestWriteError_Language(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(sdk.WithLanguage(context.Background(), "fi"))
	w := httptest.NewRecorder()
	sdk.WriteError(w, r, nil, sdk.Errorf(sdk.CodeForbidden, "Only the assembly's members may vote."))
	var body sdk.ErrorBody
	if err := json.NewDecoder(w.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusForbidden || body.Error.Code != sdk.CodeForbidden || !strings.Contains(body.Error.Message, "Sinulla ei ole oikeutta") {
		t.Errorf("got %d %+v, want 403 in Finnish", w.Code, body.Error)
	}
}
