package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
)

// consultationsCity is a pluginCity running the consultations plugin, with a member
// of the city's staff who runs consultations (a verified resident there too), a
// verified resident and a person who signed up but is not verified.
type consultationsCity struct {
	*pluginCity
	staff, aino, ville *coretest.User
}

func newConsultationsCity(t *testing.T) *consultationsCity {
	t.Helper()
	c := &consultationsCity{pluginCity: startPluginCity(t, "consultations", "../plugins/consultations/cmd/kvarter-consultations")}
	c.staff = c.verified(t, "selin@example.org", "Selin Arslan")
	c.admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": c.staff.ID, "role": "consultation_staff", "domain": "city"})
	c.aino = c.verified(t, "ayse@example.org", "Ayşe Yılmaz")
	c.ville = coretest.Register(t, c.n, "veli@example.org", "Veli Demir")
	return c
}

// shoot writes a screenshot of the page for a person to look at, when
// KVARTER_E2E_SCREENSHOTS names a folder: KVARTER_E2E_SCREENSHOTS=/tmp/shots go test
// -run 'TestConsultations_Story/fi'.
func shoot(p *Page, name string) {
	if dir := os.Getenv("KVARTER_E2E_SCREENSHOTS"); dir != "" {
		p.Screenshot(filepath.Join(dir, name+".png"))
	}
}

// consultationID is the consultation's ID in a page's address.
var consultationID = regexp.MustCompile(`/consultations/([0-9a-f-]{36})`)

// TestConsultations_Story is the story in a real browser, in each of the
// five languages, with axe run on every page it passes (no serious or critical
// finding, no CSP violation, no script error): staff prepare a survey whose second
// question depends on the first (a broken rule first: 422 and the error summary
// focused), and publish it; a verified resident answers — the dependent question
// leaves and comes back as the first answer changes (htmx asks the server) — reviews,
// sends, sees the confirmation, finds the survey in the cards of the home page and the
// neighbourhood's page, and changes the answer; an unverified person is
// refused with the reason; staff close it, publish the results and the city's
// response; the resident finds the notification; a visitor reads the results, with
// the chart loaded, and downloads the CSV; in Finnish the results page also reflows
// on a 320 px phone.
func TestConsultations_Story(t *testing.T) {
	c := newConsultationsCity(t)
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			title := "Bisiklet yolları " + lang
			p := SharedBrowser(t).NewPage(t)

			// Staff prepare the survey with the questions builder.
			signIn(p, c.base, c.staff)
			switchLanguage(p, lang)
			p.Open(c.base + "/consultations/new")
			p.AssertAccessible()
			parksSetValue(p, `input[name="opens_date"]`, time.Now().AddDate(0, 0, -1).Format(time.DateOnly))
			parksSetValue(p, `input[name="closes_date"]`, time.Now().AddDate(0, 0, 7).Format(time.DateOnly))
			p.Click(`input[name="neighbourhoods"][value="` + c.nbh + `"]`)
			p.Fill(`textarea[name="background"]`, "Belediye sahil boyunca yeni bisiklet yolları planlıyor.")
			p.Fill(`textarea[name="what_next"]`, "Meclis mart ayında karar verecek.")
			p.WaitSwap(func() { p.Submit("main form") })
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a broken rule the focus is on %q", got)
			}
			p.AssertAccessible()
			shoot(p, "consultations-new-refused-"+lang)
			p.Fill(`input[name="title"]`, title)
			p.WaitSwap(func() { p.Submit("main form") })
			m := consultationID.FindStringSubmatch(p.Location())
			if m == nil || !strings.Contains(p.Location(), "/manage?done=created") {
				t.Fatalf("after creating, the address is %s:\n%s", p.Location(), p.Text("main"))
			}
			id := m[1]
			path := "/consultations/" + id
			p.AssertAccessible()
			p.Fill(`form[action$="/questions"] input[name="prompt"]`, "Bisiklete biniyor musunuz?")
			p.Fill(`form[action$="/questions"] textarea[name="options"]`, "Evet\nHayır")
			p.Click(`form[action$="/questions"] input[name="required"]`)
			p.WaitSwap(func() { p.Submit(`form[action$="/questions"]`) })
			p.Click(`form[action$="/questions"] input[name="kind"][value="scale"]`)
			p.Fill(`form[action$="/questions"] input[name="prompt"]`, "Ne sıklıkla?")
			p.Fill(`form[action$="/questions"] input[name="scale_min"]`, "1")
			p.Fill(`form[action$="/questions"] input[name="scale_max"]`, "5")
			p.Fill(`form[action$="/questions"] input[name="scale_min_label"]`, "Nadiren")
			p.Fill(`form[action$="/questions"] input[name="scale_max_label"]`, "Her gün")
			p.Click(`form[action$="/questions"] input[name="required"]`)
			parksSetValue(p, `form[action$="/questions"] select[name="show_if"]`, "0:0")
			p.WaitSwap(func() { p.Submit(`form[action$="/questions"]`) })
			if !strings.Contains(p.Location(), "done=question") {
				t.Fatalf("after adding the dependent question, the address is %s:\n%s", p.Location(), p.Text("main"))
			}
			p.AssertAccessible()
			p.WaitSwap(func() { p.Submit(`form[action$="/publish"]`) })
			if !strings.Contains(p.Location(), "done=published") {
				t.Fatalf("after publishing, the address is %s:\n%s", p.Location(), p.Text("main"))
			}
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// A verified resident answers; the dependent question follows the first.
			signIn(p, c.base, c.aino)
			switchLanguage(p, lang)
			p.Open(c.base + path)
			p.AssertAccessible()
			p.Open(c.base + path + "/answer")
			p.AssertAccessible()
			shoot(p, "consultations-answer-"+lang)
			q := c.admin.Must(200, "GET", "/api/v1/consultations/"+id, nil).JSON()["questions"].([]any)[0].(map[string]any)
			opts := q["options"].([]any)
			yes := `main input[type="radio"][value="` + opts[0].(map[string]any)["id"].(string) + `"]`
			no := `main input[type="radio"][value="` + opts[1].(map[string]any)["id"].(string) + `"]`
			scale := `main input[type="radio"][value="4"]`
			if n := Eval[int](p, `document.querySelectorAll('main input[type="radio"][value="4"]').length`); n != 1 {
				t.Fatalf("without an answer the form shows %d scale points 4, want the dependent question with its condition", n)
			}
			p.WaitSwap(func() { p.Click(no) })
			if n := Eval[int](p, `document.querySelectorAll('main input[type="radio"][value="4"]').length`); n != 0 {
				t.Errorf("after “Hayır” the dependent question is still asked")
			}
			p.AssertAccessible()
			p.WaitSwap(func() { p.Click(yes) })
			p.Click(scale)
			p.WaitSwap(func() { p.Submit(`main form[action$="/review"]`) })
			if !strings.Contains(p.Text("main"), "Her gün") && !strings.Contains(p.Text("main"), "4") {
				t.Errorf("the review step shows:\n%s", p.Text("main"))
			}
			p.AssertAccessible()
			p.WaitSwap(func() { p.Submit(`main form[method="post"][action$="/answer"]`) })
			if !strings.HasSuffix(p.Location(), path+"/answer/done") {
				t.Fatalf("after sending, the address is %s:\n%s", p.Location(), p.Text("main"))
			}
			p.AssertAccessible()
			// The home page and the neighbourhood's page carry the plugin's cards.
			for _, page := range []string{"/", "/neighbourhoods/" + c.nbh} {
				p.Open(c.base + page)
				if got := Eval[string](p, `document.querySelector("main").innerText`); !strings.Contains(got, title) {
					t.Errorf("%s has no card with the open survey: %q", page, got)
				}
				p.AssertAccessible()
			}
			// Changing the answer: the form holds it; sending again replaces it.
			p.Open(c.base + path + "/answer")
			if !Eval[bool](p, `document.querySelector('main input[type="radio"][value="4"]').checked`) {
				t.Error("the form to change the answer does not show it")
			}
			p.Click(`main input[type="radio"][value="2"]`)
			p.WaitSwap(func() { p.Submit(`main form[action$="/review"]`) })
			p.WaitSwap(func() { p.Submit(`main form[method="post"][action$="/answer"]`) })
			if !strings.HasSuffix(p.Location(), path+"/answer/done") {
				t.Fatalf("after changing, the address is %s", p.Location())
			}
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// An unverified person is refused, with the reason.
			signIn(p, c.base, c.ville)
			switchLanguage(p, lang)
			p.Open(c.base + path + "/answer")
			if !Eval[bool](p, `!!document.querySelector('main a[href="/my-neighbourhood"]')`) {
				t.Errorf("the refusal does not lead to joining the neighbourhood:\n%s", p.Text("main"))
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// Staff close it, publish the results and the city's response.
			signIn(p, c.base, c.staff)
			switchLanguage(p, lang)
			p.Open(c.base + path + "/manage")
			p.WaitSwap(func() { p.Submit(`form[action$="/close"]`) })
			p.AssertAccessible()
			p.WaitSwap(func() { p.Submit(`form[action$="/results"]`) })
			if !strings.Contains(p.Location(), path+"/results") {
				t.Fatalf("after publishing the results, the address is %s:\n%s", p.Location(), p.Text("main"))
			}
			p.Open(c.base + path + "/response")
			p.AssertAccessible()
			p.Fill(`textarea[name="response"]`, "Sahil boyunca iki yeni bisiklet yolu 2028'de yapılacak.")
			p.WaitSwap(func() { p.Submit("main form") })
			if !strings.Contains(p.Text("main"), "2028") {
				t.Errorf("the results page lacks the response:\n%s", p.Text("main"))
			}
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// The resident is told.
			signIn(p, c.base, c.aino)
			switchLanguage(p, lang)
			// The host delivers notifications in its own time: wait for this one.
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				p.Open(c.base + "/notifications")
				if strings.Contains(p.Text("main"), title) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the notifications page lacks the response to %q:\n%s", title, p.Text("main"))
				}
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// A visitor reads the results and downloads the CSV.
			switchLanguage(p, lang)
			p.Open(c.base + path + "/results")
			if !Eval[bool](p, `[...document.querySelectorAll('main img')].length > 0 && [...document.querySelectorAll('main img')].every(i => i.complete && i.naturalWidth > 0 && i.alt.length > 0)`) {
				t.Error("a chart did not load, or has no text alternative")
			}
			if n := Eval[int](p, `document.querySelectorAll('main table caption').length`); n != 2 {
				t.Errorf("%d tables of figures, want one per question", n)
			}
			p.AssertAccessible()
			shoot(p, "consultations-results-"+lang)
			if lang == "fi" { // Finnish's long words are the first to stick out
				p.Phone320()
				p.Open(c.base + path + "/results")
				p.AssertReflow()
				p.Open(c.base + path)
				p.AssertReflow()
				p.Open(c.base + path + "/results")
			}
			href := Eval[string](p, `document.querySelector('main a[href$="results.csv"]').getAttribute('href')`)
			resp, err := http.Get(c.base + href)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(body), "Ne sıklıkla?") {
				t.Errorf("the CSV: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
}
