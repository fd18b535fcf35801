package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kvarter/kvarter/core/coretest"
)

// budgetingCity is a node running the budgeting plugin (built from its source, run as
// the core runs any plugin), with a neighbourhood, its budget officer, a verified
// resident who proposes and votes, and a second voter.
type budgetingCity struct {
	*pluginCity
	officer, resident, bob *coretest.User
}

func newBudgetingCity(t *testing.T) *budgetingCity {
	t.Helper()
	c := &budgetingCity{pluginCity: startPluginCity(t, "budgeting", "../plugins/budgeting/cmd/kvarter-budgeting")}
	c.officer = coretest.Register(t, c.n, "ceren@example.org", "Ceren Aydın")
	c.admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": c.officer.ID, "role": "budget_officer", "domain": "nbh:" + c.nbh})
	c.resident = c.verified(t, "ayse@example.org", "Ayşe Yılmaz")
	c.bob = c.verified(t, "bulent@example.org", "Bülent Kaya")
	return c
}

// pngPhoto is a small photo as a resident's camera might save it: a PNG of a
// sky-blue field over green grass.
func pngPhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			c := color.RGBA{R: 135, G: 206, B: 235, A: 255}
			if y > 30 {
				c = color.RGBA{R: 60, G: 140, B: 60, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// cycle opens a knapsack cycle of 1,000 lira through the API, with two proposals by
// bob besides the one the story's resident makes on the page.
func (c *budgetingCity) cycle(t *testing.T, name string) (id string, others []string) {
	t.Helper()
	id = c.officer.Must(201, "POST", "/api/v1/budgeting/cycles", map[string]any{"neighbourhood_id": c.nbh, "name": name,
		"budget": 1000_00, "currency": "TRY", "ballot": map[string]any{"type": "approval", "max_cost": 1000_00}}).JSON()["id"].(string)
	for _, p := range []struct {
		title string
		cost  int
	}{{"Oyun parkı", 500_00}, {"Sokak lambaları", 300_00}} {
		others = append(others, c.bob.Must(201, "POST", "/api/v1/budgeting/cycles/"+id+"/proposals", map[string]any{"title": p.title, "cost": p.cost}).JSON()["id"].(string))
	}
	return id, others
}

// TestBudgetingPages is the story in a real browser, in every language: a
// resident proposes a project (a broken rule first) and adds a photo of the place
// (refused first without its text alternative), the officer accepts it in the
// review queue and opens voting, the resident votes on a knapsack ballot (over the
// budget first, then within it, through the review step), the officer counts with the
// Method of Equal Shares after a private preview, and a visitor reads why each project won or lost and
// downloads the Pabulib file. Every page passes axe with no serious or critical
// finding.
func TestBudgetingPages(t *testing.T) {
	c := newBudgetingCity(t)
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			id, others := c.cycle(t, "Karşıyaka 2027 "+lang)
			cp := "/budgeting/cycles/" + id
			p := SharedBrowser(t).NewPage(t)

			// The resident proposes.
			signIn(p, c.base, c.resident)
			switchLanguage(p, lang)
			p.Open(c.base + "/budgeting")
			p.AssertAccessible()
			p.Open(c.base + cp)
			p.AssertAccessible()
			p.Open(c.base + cp + "/propose")
			p.AssertAccessible()
			if s := p.WaitSwap(func() { p.Submit("main form") }); s.Status != 422 {
				t.Fatalf("an empty proposal answered %d", s.Status)
			}
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a refused proposal the focus is on %q, want the error summary", got)
			}
			p.AssertAccessible()
			p.Fill(`input[name="title"]`, "Çınar ağaçları")
			p.Fill(`input[name="cost"]`, "400")
			p.Fill(`input[name="category"]`, "Parklar")
			p.WaitSwap(func() { p.Submit("main form") })
			if !strings.Contains(p.Location(), cp+"/proposals/") {
				t.Fatalf("after proposing the address is %s", p.Location())
			}
			mine := strings.TrimSuffix(strings.SplitN(p.Location(), cp+"/proposals/", 2)[1], "?sent=1")
			p.AssertAccessible()
			// She adds a photo of the place: first without saying what it shows.
			photo := filepath.Join(t.TempDir(), "arsa.png")
			if err := os.WriteFile(photo, pngPhoto(t), 0o600); err != nil {
				t.Fatal(err)
			}
			p.do("choose a photo", chromedp.SetUploadFiles(chromedp.CSS(`input[name="photo"]`), []string{photo}))
			if s := p.WaitSwap(func() { p.Submit(`input[name="photo"]`) }); s.Status != 422 {
				t.Fatalf("a photo without its text alternative answered %d", s.Status)
			}
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a refused photo the focus is on %q, want the error summary", got)
			}
			p.AssertAccessible()
			p.do("choose the photo again", chromedp.SetUploadFiles(chromedp.CSS(`input[name="photo"]`), []string{photo}))
			p.Fill(`textarea[name="alt"]`, "Boş arsa, otobüs durağından")
			p.WaitSwap(func() { p.Submit(`input[name="photo"]`) })
			if !strings.Contains(p.Location(), "attached=1") || !Eval[bool](p, `document.querySelector('main img[alt="Boş arsa, otobüs durağından"]') !== null`) {
				t.Errorf("after adding the photo the address is %s and the photo is not shown", p.Location())
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// The officer reviews: her proposal accepted on the page, bob's through the API.
			signIn(p, c.base, c.officer)
			switchLanguage(p, lang)
			p.Open(c.base + cp + "/edit") // the set-up, still open to change
			p.AssertAccessible()
			p.Open(c.base + cp + "/manage")
			p.AssertAccessible()
			p.WaitSwap(func() { p.Submit(`form[action$="/phase"]`) }) // ideas → the next phase offered: review
			c.officer.Must(200, "GET", "/api/v1/budgeting/cycles/"+id, nil)
			p.Open(c.base + cp + "/review")
			p.AssertAccessible()
			p.Click(fmt.Sprintf(`input[name="decision-%s"][value="accept"]`, mine))
			sw := p.WaitSwap(func() { p.Submit(fmt.Sprintf(`form[action$="/proposals/%s/review"]`, mine)) })
			if !strings.Contains(p.Location(), "reviewed="+mine) {
				t.Fatalf("after reviewing (%d) the address is %s: %s", sw.Status, p.Location(), Eval[string](p, `document.querySelector("main").innerText`))
			}
			p.AssertAccessible()
			for i, o := range others {
				c.officer.Must(200, "POST", "/api/v1/budgeting/cycles/"+id+"/proposals/"+o+"/review", map[string]any{"feasible": true, "cost": []int{500_00, 300_00}[i]})
			}
			p.Open(c.base + cp + "/manage")
			p.WaitSwap(func() { p.Submit(`form[action$="/phase"]`) }) // review → voting
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// The resident votes: over the budget, refused with both sums; then within it.
			signIn(p, c.base, c.resident)
			switchLanguage(p, lang)
			p.Open(c.base + cp + "/ballot")
			p.AssertAccessible()
			for _, pid := range []string{mine, others[0], others[1]} { // 400 + 500 + 300 > 1,000
				p.Click(fmt.Sprintf(`input[name="projects"][value="%s"]`, pid))
			}
			if s := p.WaitSwap(func() { p.Submit("main form") }); s.Status != 422 {
				t.Fatalf("an over-budget ballot answered %d", s.Status)
			}
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after an over-budget ballot the focus is on %q", got)
			}
			txt := strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(Eval[string](p, `document.querySelector("main").innerText`))
			if !strings.Contains(txt, "1.200") && !strings.Contains(txt, "1,200") && !strings.Contains(txt, "1 200") {
				t.Errorf("the refusal does not give the total of 1,200: %q", txt)
			}
			p.AssertAccessible()
			p.Click(fmt.Sprintf(`input[name="projects"][value="%s"]`, others[1])) // 900 now
			p.WaitSwap(func() { p.Submit("main form") })
			p.AssertAccessible() // the review step
			p.WaitSwap(func() { p.Submit(fmt.Sprintf(`form[action="%s/ballot"][method="post"]`, cp)) })
			if !strings.HasSuffix(p.Location(), cp+"/ballot/cast") {
				t.Fatalf("after casting the address is %s", p.Location())
			}
			p.AssertAccessible()
			// The resident's home page carries the plugin's card: the budgets running
			// in her neighbourhood and what she can do in each now.
			p.Open(c.base + "/")
			p.AssertAccessible()
			if home := Eval[string](p, `document.querySelector("main").innerText`); !strings.Contains(home, "Karşıyaka 2027 "+lang) {
				t.Errorf("the home page has no budgeting card: %q", home)
			}
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
			c.bob.Must(201, "POST", "/api/v1/budgeting/cycles/"+id+"/ballots", map[string]any{"projects": []string{others[0], others[1]}})

			// The officer closes voting and counts with MES.
			signIn(p, c.base, c.officer)
			switchLanguage(p, lang)
			p.Open(c.base + cp + "/manage")
			p.WaitSwap(func() { p.Submit(`form[action$="/phase"]`) }) // voting → results
			p.Open(c.base + cp + "/tally")
			p.AssertAccessible()
			p.WaitSwap(func() { p.Submit(`form[action$="/tally/preview"]`) }) // the private preview first
			if !strings.Contains(p.Location(), "previewed=1") {
				t.Fatalf("after previewing the address is %s", p.Location())
			}
			p.AssertAccessible()
			p.Click(`input[name="rule"][value="mes"]`)
			p.WaitSwap(func() { p.Submit(`form[action$="/tally"]`) })
			if !strings.HasSuffix(p.Location(), cp+"/results") {
				t.Fatalf("after counting the address is %s", p.Location())
			}
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// A visitor reads why, and downloads the file.
			p.Open(c.base + cp + "/results")
			p.AssertAccessible()
			txt = Eval[string](p, `document.querySelector("main").innerText`)
			for _, title := range []string{"Çınar ağaçları", "Oyun parkı", "Sokak lambaları"} {
				if n := strings.Count(txt, title); n < 2 {
					t.Errorf("%s appears %d times on the results: in the table and with its reason, want both", title, n)
				}
			}
			href := Eval[string](p, `document.querySelector('main a[href$="export.pb"]').getAttribute("href")`)
			resp, err := http.Get(c.base + href)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "META") || !strings.Contains(string(body), "VOTES") {
				t.Errorf("the Pabulib download: %d %.200s", resp.StatusCode, body)
			}
		})
	}
}
