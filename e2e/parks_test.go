package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// parksCity is a real node running the parks plugin as a child process (as a
// third-party plugin, so its pages pass the host's HTML filter), with a
// neighbourhood, a park of two areas — a meadow and the stage within it —
// that lends chairs and tables, a park manager, and two verified civic
// groups each with a representative.
type parksCity struct {
	n                 *node.Node
	base              string
	admin, manager    *coretest.User
	rep, rep2         *coretest.User
	nbh, org, org2    string
	park, meadow      string
	stage             string
	zone              *time.Location
	orgName, org2Name string
}

func startParksCity(t *testing.T) *parksCity {
	t.Helper()
	db := coretest.Databases(t)[0]
	cfg := db.Config
	bin, sum := sdktest.BuildPlugin(t, "../plugins/parks/cmd/kvarter-parks")
	cfg.Plugins = []node.PluginConfig{{Name: "parks", Path: bin, SHA256: sum}}
	n := coretest.StartNode(t, cfg, coretest.Options())
	waitPlugin(t, n, "parks")
	c := &parksCity{n: n, base: n.URL(), orgName: "Çık Dışarı Oynayalım", org2Name: "Karşıyaka Kuklacıları"}
	c.admin = coretest.Admin(t, n, "admin@example.org")
	c.nbh = c.admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Karşıyaka"}).JSON()["id"].(string)
	c.manager = coretest.Register(t, n, "mehmet@example.org", "Mehmet Park")
	c.admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": c.manager.ID, "role": "park_manager", "domain": "nbh:" + c.nbh})
	c.rep = coretest.Register(t, n, "ayse@example.org", "Ayşe Yılmaz")
	c.rep2 = coretest.Register(t, n, "can@example.org", "Can Demir")
	c.org = parksOrg(t, c, c.rep, c.orgName)
	c.org2 = parksOrg(t, c, c.rep2, c.org2Name)

	park := c.admin.Must(201, "POST", "/api/v1/parks", map[string]any{"name": "Yaşayan Park", "neighbourhood_id": c.nbh,
		"support_items": map[string]int{"chairs": 60, "tables": 10}}).JSON()
	c.park = park["id"].(string)
	zone, err := time.LoadLocation(park["time_zone"].(string))
	if err != nil {
		t.Fatal(err)
	}
	c.zone = zone
	week := map[string]any{}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		week[d] = []map[string]string{{"start": "08:00", "end": "22:00"}}
	}
	hours := map[string]any{"periods": []map[string]any{{"name": "", "from": "01-01", "to": "12-31", "week": week}}}
	rules := map[string]int{"slot_granularity_minutes": 30, "min_duration_minutes": 60, "max_duration_minutes": 480, "booking_horizon_days": 90}
	area := func(name, parent string, capacity int) string {
		return c.admin.Must(201, "POST", "/api/v1/parks/"+c.park+"/areas", map[string]any{"name": name, "parent_id": parent,
			"capacity": capacity, "opening_hours": hours, "rules": rules}).JSON()["id"].(string)
	}
	c.meadow = area("Çayır", "", 300)
	c.stage = area("Sahne", c.meadow, 100)
	return c
}

// parksOrg: u joins the neighbourhood, registers an organisation, and the
// city admin verifies it; u is its representative.
func parksOrg(t *testing.T, c *parksCity, u *coretest.User, name string) string {
	t.Helper()
	u.Must(201, "POST", "/api/v1/neighbourhoods/"+c.nbh+"/memberships", map[string]string{"note": "Cemal Gürsel Cd. 1"})
	c.admin.Must(200, "POST", "/api/v1/neighbourhoods/"+c.nbh+"/memberships/"+u.ID+"/approve", map[string]string{})
	id := u.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": name, "kind": "civic_group",
		"neighbourhood_ids": []string{c.nbh}}).JSON()["id"].(string)
	c.admin.Must(200, "POST", "/api/v1/organisations/"+id+"/verify", nil)
	return id
}

// day is the date a story runs on: days from today in the park's zone.
func (c *parksCity) day(days int) string {
	return time.Now().In(c.zone).AddDate(0, 0, days).Format(time.DateOnly)
}

// rfc is a time of day on date in the park's zone, as the API takes it.
func (c *parksCity) rfc(date, clock string) string {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, c.zone)
	if err != nil {
		panic(err)
	}
	return t.Format(time.RFC3339)
}

// otherRequest is the second group's request for the stage, inside the
// meadow, overlapping 10:00–12:00 on date: the collision the manager sees.
func (c *parksCity) otherRequest(t *testing.T, date, title string) string {
	t.Helper()
	return c.rep2.Must(201, "POST", "/api/v1/parks/"+c.park+"/bookings", map[string]any{"area_id": c.stage,
		"organisation_id": c.org2, "start": c.rfc(date, "11:00"), "end": c.rfc(date, "13:00"), "title": title,
		"category": "culture", "expected_attendance": 30, "public": true,
		"contact": map[string]string{"name": "Can Demir", "email": "can@example.org"}}).JSON()["id"].(string)
}

// TestParks_Story is the story in a real browser, in each of the
// five languages, with axe run on every page it passes (no serious or
// critical finding, no CSP violation, no script error): a representative
// finds a free slot on an area's page and asks for it with chairs and tables
// (a broken rule first: 422, the error summary focused); another group has
// asked for the stage inside the meadow at the same time; the manager sees
// the two side by side in the queue, rejects the other with a reason and
// approves the first; the event is on the public calendar and its page.
func TestParks_Story(t *testing.T) {
	c := startParksCity(t)
	for i, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			date := c.day(3 + i)
			title := "Sokakta resim " + lang
			otherTitle := "Kukla gösterisi " + lang
			other := c.otherRequest(t, date, otherTitle)
			p := SharedBrowser(t).NewPage(t)

			// The representative finds the free slot and asks for it.
			signIn(p, c.base, c.rep)
			switchLanguage(p, lang)
			p.Open(c.base + "/parks/" + c.park)
			p.AssertAccessible()
			p.Open(c.base + "/parks/" + c.park + "/areas/" + c.meadow + "?from=" + date + "&days=1")
			p.AssertAccessible()
			p.WaitSwap(func() { p.Click(fmt.Sprintf(`main a[href*="date=%s"]`, date)) })
			if !strings.Contains(p.Location(), "/request?") {
				t.Fatalf("the free slot led to %s", p.Location())
			}
			p.AssertAccessible()
			parksSetValue(p, `input[name="start"]`, "10:00")
			parksSetValue(p, `input[name="end"]`, "12:00")
			p.Fill(`input[name="expected_attendance"]`, "40")
			p.Fill(`input[name="item_chairs"]`, "20")
			p.Fill(`input[name="item_tables"]`, "4")
			p.Fill(`input[name="contact_email"]`, "ayse@example.org")
			// Without a title: 422, the summary takes focus.
			p.WaitSwap(func() { p.Submit("main form") })
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a broken rule the focus is on %q", got)
			}
			p.AssertAccessible()
			p.Fill(`input[name="title"]`, title)
			p.WaitSwap(func() { p.Submit("main form") })
			if !strings.Contains(p.Location(), "sent=1") {
				t.Fatalf("after sending, the address is %s:\n%s", p.Location(), p.Text("main"))
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// The manager sees the collision, rejects the other, approves the first.
			signIn(p, c.base, c.manager)
			switchLanguage(p, lang)
			p.Open(c.base + "/parks/" + c.park + "/queue")
			if tables := Eval[int](p, `[...document.querySelectorAll("main table")].filter(t => t.textContent.includes(`+jsString(title)+`) && t.textContent.includes(`+jsString(otherTitle)+`)).length`); tables != 1 {
				t.Errorf("the two requests are not side by side in one table (%d)", tables)
			}
			p.AssertAccessible()
			p.Open(c.base + "/parks/" + c.park + "/bookings/" + other)
			p.AssertAccessible()
			p.Fill(`textarea[name="reason"]`, "Sahne o saatte büyük bir etkinliğe ayrıldı.")
			p.WaitSwap(func() { p.Submit(`main form[action$="/reject"]`) })
			if !strings.Contains(p.Location(), "done=rejected") {
				t.Errorf("after rejecting, the address is %s", p.Location())
			}
			p.AssertAccessible()
			p.Open(c.base + "/parks/" + c.park + "/queue")
			p.WaitSwap(func() { p.Submit(`main form[action$="/approve"]`) })
			if !strings.Contains(p.Location(), "done=approved") {
				t.Errorf("after approving, the address is %s", p.Location())
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			// Anyone finds the event on the calendar and opens its page.
			switchLanguage(p, lang)
			p.Open(c.base + "/parks/calendar?" + url.Values{"view": {"day"}, "date": {date}}.Encode())
			if !strings.Contains(p.Text("main"), title) || strings.Contains(p.Text("main"), otherTitle) {
				t.Errorf("the calendar shows:\n%s", p.Text("main"))
			}
			p.AssertAccessible()
			p.WaitSwap(func() { p.Click(fmt.Sprintf(`main a[href^="/parks/%s/events/"]`, c.park)) })
			if got := p.Text("h1"); got != title {
				t.Errorf("the event page's heading is %q", got)
			}
			p.AssertAccessible()
		})
	}
}

// parksSetValue sets a control's value as a picker would: typing into a
// time input depends on the browser's locale (AM/PM), a chosen value does not.
func parksSetValue(p *Page, sel, value string) {
	p.tb.Helper()
	if !Eval[bool](p, `(() => { const el = document.querySelector(`+jsString(sel)+`); if (!el) return false; el.value = `+jsString(value)+`; return el.value === `+jsString(value)+`; })()`) {
		p.tb.Fatalf("set %s to %s: no such control, or it refused the value", sel, value)
	}
}

// TestParks_PagesAccessible opens the pages the story does not pass through —
// the parks list, the month's calendar, a group's bookings, and the managers'
// park, area and closure forms, with a refused closure's 422 — in each of the
// five languages, and fails on any serious or critical axe finding.
func TestParks_PagesAccessible(t *testing.T) {
	c := startParksCity(t)
	c.otherRequest(t, c.day(4), "Kukla gösterisi")
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			p := SharedBrowser(t).NewPage(t)
			p.Open(c.base + "/parks")
			switchLanguage(p, lang)
			for _, path := range []string{"/parks", "/parks/calendar?view=month", "/parks/" + c.park + "/areas/" + c.stage} {
				p.Open(c.base + path)
				p.AssertAccessible()
			}
			signIn(p, c.base, c.rep2)
			switchLanguage(p, lang)
			p.Open(c.base + "/parks/bookings")
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })

			signIn(p, c.base, c.manager)
			switchLanguage(p, lang)
			for _, path := range []string{"/parks/" + c.park, "/parks/" + c.park + "/edit", "/parks/" + c.park + "/areas/new",
				"/parks/" + c.park + "/areas/" + c.meadow + "/edit", "/parks/" + c.park + "/closures"} {
				p.Open(c.base + path)
				p.AssertAccessible()
			}
			// A closure without its dates: 422, the summary focused.
			p.Fill(`input[name="title"]`, "Çim ekimi")
			p.WaitSwap(func() { p.Submit(`main form[action$="/closures"]`) })
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a broken rule the focus is on %q", got)
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
		})
	}
}
