package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// volunteersCity is a node running the volunteers plugin, with a verified
// organisation whose representative organises, and a skill in the catalogue.
type volunteersCity struct {
	n     *node.Node
	base  string
	admin *coretest.User
	rep   *coretest.User
	org   string
}

func volunteersStart(t *testing.T) *volunteersCity {
	t.Helper()
	cfg := coretest.Databases(t)[0].Config
	bin, sum := sdktest.BuildPlugin(t, "../plugins/volunteers/cmd/kvarter-volunteers")
	cfg.Plugins = []node.PluginConfig{{Name: "volunteers", Path: bin, SHA256: sum}}
	n := coretest.StartNode(t, cfg, coretest.Options())
	waitPlugin(t, n, "volunteers")
	c := &volunteersCity{n: n, base: n.URL()}
	c.admin = coretest.Admin(t, n, "admin@city.example")
	c.rep = coretest.Register(t, n, "leyla.demir@example.org", "Leyla Demir")
	c.org = c.rep.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": "Karşıyaka Gönüllüleri", "kind": "association",
		"description": "Neighbours helping neighbours"}).JSON()["id"].(string)
	c.admin.Must(200, "POST", "/api/v1/organisations/"+c.org+"/verify", nil)
	c.admin.Must(200, "PUT", "/api/v1/volunteers/skills/first_aid", map[string]any{"names": map[string]string{
		"en": "First aid", "fi": "Ensiapu", "sv": "Första hjälpen", "da": "Førstehjælp", "tr": "İlk yardım"}})
	return c
}

// volunteersOpportunity publishes an opportunity of the organisation with one shift
// next Saturday, 10-12 in the city's time, and returns its ID and the shift's.
func (c *volunteersCity) volunteersOpportunity(t *testing.T, title string) (string, string) {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(loc).AddDate(0, 0, 2)
	for day.Weekday() != time.Saturday {
		day = day.AddDate(0, 0, 1)
	}
	start := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, loc)
	o := c.rep.Must(201, "POST", "/api/v1/volunteers/opportunities", map[string]any{"organisation_id": c.org, "title": title,
		"place": "Bostanlı Sahili", "newcomers": true, "languages": []string{"tr"}, "preferred_skills": []string{"first_aid"},
		"shifts": []map[string]any{{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339), "capacity": 4}}}).JSON()
	id := o["id"].(string)
	c.rep.Must(200, "POST", "/api/v1/volunteers/opportunities/"+id+"/publish", nil)
	return id, o["shifts"].([]any)[0].(map[string]any)["id"].(string)
}

// TestVolunteersStory is the story in a real browser, in every language, axe
// clean on every page: a visitor finds an opportunity without signing in, registers,
// fills in a profile (a broken rule first) and applies; the organiser sees the
// volunteer ranked with reasons and accepts; the volunteer confirms and finds the
// shift in "my volunteering".
func TestVolunteersStory(t *testing.T) {
	c := volunteersStart(t)
	for i, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			title := fmt.Sprintf("Sahil temizliği %d", i+1)
			oppID, shiftID := c.volunteersOpportunity(t, title)
			email := fmt.Sprintf("volunteer-%s@example.org", lang)
			name := "Deniz Kaya " + strings.ToUpper(lang)

			// A visitor finds the opportunity without signing in.
			p := SharedBrowser(t).NewPage(t)
			p.Open(c.base + "/volunteers")
			switchLanguage(p, lang)
			p.Open(c.base + "/volunteers?newcomers=true")
			if got := p.Text(`main ul.kv-cards`); !strings.Contains(got, title) {
				t.Fatalf("the public list does not show %q: %s", title, got)
			}
			p.AssertAccessible()
			p.Open(c.base + "/volunteers/opportunities/" + oppID)
			if !strings.Contains(p.Text("main"), "Bostanlı Sahili") {
				t.Error("the opportunity page does not say where")
			}
			p.AssertAccessible()

			// Registers.
			p.Open(c.base + "/register")
			p.Fill(`input[name="display_name"]`, name)
			p.Fill(`input[name="email"]`, email)
			p.Fill(`input[name="password"]`, "a long enough passphrase for volunteering")
			p.WaitSwap(func() { p.Submit("main form") })
			if !strings.Contains(p.Location(), "/sign-in") {
				t.Fatalf("after registering the address is %s", p.Location())
			}
			signIn(p, c.base, &coretest.User{Email: email, Password: "a long enough passphrase for volunteering"})

			// Fills in a profile: without a birth date first.
			p.Open(c.base + "/volunteers/profile")
			p.AssertAccessible()
			p.Click(`input[name="languages"][value="tr"]`)
			p.Click(`input[name="skills"][value="first_aid"]`)
			p.Click(`input[name="avail_saturday"][value="morning"]`)
			p.WaitSwap(func() { p.Submit(`form[action="/volunteers/profile"]`) })
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a broken rule the focus is on %q", got)
			}
			p.AssertAccessible()
			// A date input takes keys in the browser's own order; set its value as the
			// picker would.
			Eval[chromedp.Void](p, `document.querySelector('input[name="birth_date"]').value = '1990-05-17'`)
			p.WaitSwap(func() { p.Submit(`form[action="/volunteers/profile"]`) })
			if !strings.Contains(p.Location(), "saved=1") {
				t.Fatalf("after saving the profile the address is %s: %s", p.Location(), p.Text("main"))
			}
			p.AssertAccessible()

			// Applies.
			p.Open(c.base + "/volunteers/opportunities/" + oppID)
			p.WaitSwap(func() { p.Submit(`form[action$="/shifts/` + shiftID + `/apply"] button`) })
			if !strings.Contains(p.Location(), "applied=1") {
				t.Fatalf("after applying the address is %s", p.Location())
			}
			p.AssertAccessible()

			// The organiser sees the ranked match with reasons and accepts.
			// Tabs of one browser share their cookies: one person at a time.
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
			o := p
			signIn(o, c.base, c.rep)
			switchLanguage(o, lang)
			o.Open(c.base + "/volunteers/organise/" + oppID + "/shifts/" + shiftID + "/matches")
			row := o.Text(`main table tbody`)
			if strings.Contains(row, name) || !strings.Contains(row, "İlk yardım") && lang == "tr" {
				t.Errorf("the matches name %s before acceptance, or lack the reasons: %s", name, row)
			}
			o.AssertAccessible()
			o.WaitSwap(func() { o.Submit(`main form[action$="/accept"] button`) })
			if !strings.Contains(o.Location(), "done=accept") {
				t.Errorf("after accepting the address is %s", o.Location())
			}
			o.AssertAccessible()
			o.WaitLoad(func() { o.Submit(`form[action="/sign-out"]`) })

			// The volunteer confirms and sees the shift in "my volunteering".
			signIn(p, c.base, &coretest.User{Email: email, Password: "a long enough passphrase for volunteering"})
			switchLanguage(p, lang)
			p.Open(c.base + "/volunteers/mine")
			p.AssertAccessible()
			p.WaitSwap(func() { p.Submit(`main form[action$="/confirm"] button`) })
			if got := p.Text(`ul[aria-labelledby="confirmed"]`); !strings.Contains(got, title) {
				t.Errorf("my volunteering does not list the confirmed shift: %s", got)
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
		})
	}
}

// TestVolunteersPages_Axe opens the organisers' and city staff's pages in a real browser
// in every language, axe clean, and a refused new opportunity with the focus on the
// error summary.
func TestVolunteersPages_Axe(t *testing.T) {
	c := volunteersStart(t)
	oppID, shiftID := c.volunteersOpportunity(t, "Kütüphane kitap günü")
	paths := []string{"/volunteers/organise", "/volunteers/organise/" + oppID,
		"/volunteers/organise/" + oppID + "/shifts/" + shiftID + "/matches", "/volunteers/organise/" + oppID + "/shifts/" + shiftID + "/edit",
		"/volunteers/organise/" + oppID + "/roster", "/volunteers/skills", "/volunteers/checks", "/volunteers/mine"}
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			p := SharedBrowser(t).NewPage(t)
			signIn(p, c.base, c.admin)
			switchLanguage(p, lang)
			for _, path := range paths {
				p.Open(c.base + path)
				p.AssertAccessible()
			}
			p.Open(c.base + "/volunteers/organise/new")
			p.AssertAccessible()
			p.WaitSwap(func() { p.Submit(`form[action="/volunteers/organise/new"]`) })
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a broken rule the focus is on %q", got)
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
		})
	}
}
