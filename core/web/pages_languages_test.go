package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html/atom"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// TestPages_AccountEveryLanguage holds every page of this file set, as shown and
// as refused, to the frame's rules and the markup checks in all five languages,
// chosen with the switcher (which the profile keeps).
func TestPages_AccountEveryLanguage(t *testing.T) {
	n := coretest.StartNode(t, coretest.Databases(t)[0].Config, coretest.Options())
	admin := coretest.Admin(t, n, "admin@example.org")
	hood := newHood(t, admin, "Karşıyaka", "karsiyaka")
	other := newHood(t, admin, "Bornova", "bornova")
	elif := newPerson(t, n, "elif@example.org", "Elif Yılmaz")
	b := signIn(t, n, elif)
	b.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {other}, "note": {"Kazım Dirik"}}, "/my-neighbourhood")
	admin.Must(200, "POST", "/api/v1/neighbourhoods/"+other+"/memberships/"+elif.id+"/reject", map[string]string{"reason": "Adres Bayraklı'da"})
	b.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {hood}}, "/my-neighbourhood")

	checkEveryLanguage(t, b, "/my-neighbourhood", []langPage{
		{"GET", "/profile", nil, 200},
		{"GET", "/profile/password", nil, 200},
		{"GET", "/my-neighbourhood", nil, 200},
		{"POST", "/profile", url.Values{"display_name": {""}, "email": {"x"}}, 422},
		{"POST", "/profile", url.Values{"display_name": {"Elif"}, "email": {"x"}, "language": {"tr"}}, 422},
		{"POST", "/profile/password", url.Values{"current_password": {"wrong password!"}, "new_password": {"a brand new passphrase"}}, 422},
		{"POST", "/profile/password", url.Values{"current_password": {elif.password}, "new_password": {"elif"}}, 422},
		{"POST", "/my-neighbourhood", url.Values{}, 422},
		{"POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {hood}}, 422},
		{"POST", "/my-neighbourhood/leave", url.Values{"neighbourhood_id": {"none"}}, 404},
		{"GET", "/me/tokens", nil, 200},
		{"POST", "/me/tokens", url.Values{"name": {""}, "scope": {"read"}}, 422},
		{"POST", "/me/tokens", url.Values{"name": {"Pano"}, "scope": {"root"}}, 422},
		{"GET", "/me/data", nil, 200},
		{"POST", "/me/data/delete", url.Values{}, 422},
	})
}

// langPage is a page to render in every language, and the status it answers.
type langPage struct {
	method, path string
	form         url.Values
	status       int
}

// checkEveryLanguage switches b to each language in turn and holds every page, as
// shown and as refused, to the frame's rules and the markup checks; the text of the
// GET of distinct must differ between any two languages (nothing left untranslated).
func checkEveryLanguage(t *testing.T, b *browser, distinct string, pages []langPage) {
	t.Helper()
	texts := map[string]string{}
	for _, lang := range langs {
		b.must(t, http.StatusSeeOther, "POST", "/language", url.Values{"lang": {lang}, "back": {"/"}}, "/")
		for _, pg := range pages {
			a := b.do(t, pg.method, pg.path, pg.form, nil)
			t.Run(lang+" "+pg.method+" "+pg.path, func(t *testing.T) {
				if a.status != pg.status {
					t.Fatalf("status %d, want %d: %s", a.status, pg.status, a.body)
				}
				doc := checkPage(t, a, lang)
				if pg.status == 422 {
					checkRefused(t, a, lang)
				}
				if pg.path == distinct && pg.method == "GET" {
					texts[lang] = webtest.Text(doc)
				}
			})
		}
	}
	for _, x := range langs {
		for _, y := range langs {
			if x < y && texts[x] == texts[y] {
				t.Errorf("%s in %s and %s is the same text", distinct, x, y)
			}
		}
	}
}

// TestPages_AccountHTMX: the new forms, refused under htmx, answer the content of
// <main> only, with the title and the error summary that takes focus.
func TestPages_AccountHTMX(t *testing.T) {
	n := coretest.StartNode(t, coretest.Databases(t)[0].Config, coretest.Options())
	b := signIn(t, n, newPerson(t, n, "elif@example.org", "Elif Yılmaz"))
	hx := map[string]string{"HX-Request": "true", "HX-Target": "main#main"}
	for path, title := range map[string]string{"/profile": "Your details", "/profile/password": "Change your password", "/my-neighbourhood": "My neighbourhood"} {
		a := b.do(t, "POST", path, url.Values{"display_name": {""}}, hx)
		if a.status != 422 || strings.Contains(a.body, "<html") || strings.Contains(a.body, "<footer") {
			t.Fatalf("POST %s under htmx = %d, or carries the frame", path, a.status)
		}
		nodes := webtest.ParseFragment(t, a.body)
		if ts := webtest.Find(nodes, tag(atom.Title)); len(ts) != 1 || !strings.HasPrefix(webtest.Text(ts[0]), title+" – ") {
			t.Errorf("%s: title %v", path, ts)
		}
		if sum := webtest.ByID(nodes, "kv-error-summary"); sum == nil {
			t.Errorf("%s: no error summary", path)
		} else if _, ok := webtest.Attr(sum, "autofocus"); !ok {
			t.Errorf("%s: the summary does not take focus", path)
		}
	}
}
