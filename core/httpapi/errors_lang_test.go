package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
)

// API errors are worded in the requester's language (DESIGN.md §7): the signed-in
// person's profile, else the language cookie of the pages, else Accept-Language, else
// the city's default. English keeps the precise message; codes and fields never change.
func TestErrors_Language(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		message := func(t *testing.T, method, path, body string, header map[string]string) (int, string, string) {
			t.Helper()
			resp, raw := coretest.RawRequest(t, method, n.URL()+path, body, header)
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, raw)
			}
			return resp.StatusCode, e.Error.Code, e.Error.Message
		}
		t.Run("AcceptLanguage", func(t *testing.T) {
			status, code, msg := message(t, "GET", "/api/v1/me", "", map[string]string{"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.5"})
			if status != 401 || code != "unauthenticated" || msg != "Kirjaudu ensin sisään." {
				t.Errorf("got %d %s %q, want 401 in Finnish", status, code, msg)
			}
			_, _, msg = message(t, "GET", "/api/v1/me", "", nil)
			if strings.Contains(msg, "Kirjaudu") || msg == "" {
				t.Errorf("without a language the city's default (English) is not used: %q", msg)
			}
		})
		t.Run("Cookie", func(t *testing.T) {
			_, _, msg := message(t, "GET", "/api/v1/me", "", map[string]string{"Cookie": "kvarter_lang=da", "Accept-Language": "fi"})
			if msg != "Log ind først." {
				t.Errorf("the language switcher's choice does not win over Accept-Language: %q", msg)
			}
		})
		t.Run("InvalidField", func(t *testing.T) {
			body := `{"email":"x@city.example","password":"a long enough passphrase","display_name":"` + strings.Repeat("a", 101) + `","language":"tr"}`
			status, code, msg := message(t, "POST", "/api/v1/auth/register", body, map[string]string{"Content-Type": "application/json", "Accept-Language": "tr"})
			if status != 422 || code != "invalid" || msg != "“display_name” çok uzun." {
				t.Errorf("got %d %s %q, want 422 naming display_name in Turkish", status, code, msg)
			}
		})
		t.Run("Profile", func(t *testing.T) {
			c := coretest.NewClient(t, n)
			pw := "a long enough passphrase for Svea"
			c.Must(201, "POST", "/api/v1/auth/register", map[string]string{"email": "sv@city.example", "password": pw, "display_name": "Svea", "language": "sv"})
			token, _ := c.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": "sv@city.example", "password": pw}).JSON()["token"].(string)
			status, code, msg := message(t, "GET", "/api/v1/neighbourhoods/01900000-0000-7000-8000-000000000000", "",
				map[string]string{"Authorization": "Bearer " + token, "Accept-Language": "fi"})
			if status != 404 || code != "not_found" || !strings.HasPrefix(msg, "Här finns ingenting.") {
				t.Errorf("got %d %s %q, want 404 in the profile's Swedish", status, code, msg)
			}
		})
	})
}
