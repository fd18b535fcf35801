package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// assembliesTown is a node running the assemblies plugin as its own process, with a
// neighbourhood, an assembly whose votes are secret, its chair and five more members
// (verified residents, joined through the API), and a city responder.
type assembliesTown struct {
	n         *node.Node
	base      string
	asm       string
	chair     *coretest.User
	members   []*coretest.User // members[0] is the chair
	responder *coretest.User
}

func newAssembliesTown(t *testing.T) *assembliesTown {
	t.Helper()
	db := coretest.Databases(t)[0] // the pages are the same on both databases; the plugin's tests cover PostgreSQL
	cfg := db.Config
	bin, sum := sdktest.BuildPlugin(t, "../plugins/assemblies/cmd/kvarter-assemblies")
	cfg.Plugins = []node.PluginConfig{{Name: "assemblies", Path: bin, SHA256: sum}}
	n := coretest.StartNode(t, cfg, coretest.Options())
	waitPlugin(t, n, "assemblies")
	admin := coretest.Admin(t, n, "admin@city.example")
	nbh := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Karşıyaka"}).JSON()["id"].(string)
	tw := &assembliesTown{n: n, base: n.URL()}
	tw.asm = admin.Must(201, "POST", "/api/v1/assemblies", map[string]any{"neighbourhood_id": nbh, "name": "Karşıyaka Mahalle Meclisi",
		"charter": "Advise the municipality on the shore and the streets.", "quorum_percent": 50, "majority": "simple",
		"secrecy": "secret", "membership": "open"}).JSON()["id"].(string)
	names := []string{"Ayşe Yılmaz", "Mehmet Demir", "Elif Kaya", "Can Öztürk", "Zeynep Arslan", "Emre Şahin"}
	for i, name := range names {
		u := coretest.Register(t, n, strings.ToLower(strings.Fields(name)[0])+"@example.org", name)
		u.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", map[string]string{"note": "Cemal Gürsel Cd. " + string(rune('1'+i))})
		admin.Must(200, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships/"+u.ID+"/approve", nil)
		u.Must(201, "POST", "/api/v1/assemblies/"+tw.asm+"/members", nil)
		tw.members = append(tw.members, u)
	}
	tw.chair = tw.members[0]
	admin.Must(200, "POST", "/api/v1/assemblies/"+tw.asm+"/members/"+tw.chair.ID+"/position", map[string]any{"position": "chair"})
	tw.responder = coretest.Register(t, n, "kent@city.example", "Kent Responder")
	admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": tw.responder.ID, "role": "city_responder", "domain": "city"})
	return tw
}

// assembliesMeetingDay is a day safely ahead of now, as a date field takes it.
func assembliesMeetingDay() string { return time.Now().Add(72 * time.Hour).Format(time.DateOnly) }

// TestAssembliesPages is the story in a real browser, in every language: a
// chair schedules a meeting, a member drafts a motion, the chair tables it and opens
// a secret vote, six members vote in the booth, the chair closes it (adopted), the
// city responder answers from the inbox, and an anonymous visitor reads the timeline.
// Every page passes axe with no serious or critical finding, CSP and script errors
// fail the page (the harness), refused forms focus their error summary.
func TestAssembliesPages(t *testing.T) {
	tw := newAssembliesTown(t)
	base, asm := tw.base, "/assemblies/"+tw.asm
	choices := []string{"yes", "yes", "yes", "yes", "no", "abstain"} // adopted, 4–1–1
	choiceID := map[string]string{"yes": "#f-choice", "no": "#f-choice-2", "abstain": "#f-choice-3"}

	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			p := SharedBrowser(t).NewPage(t)
			check := func(what string) {
				t.Helper()
				if got := Eval[string](p, "document.documentElement.lang"); got != lang {
					t.Errorf("%s: <html lang=%q>, want %q", what, got, lang)
				}
				p.AssertAccessible()
			}
			as := func(u *coretest.User) {
				signIn(p, base, u)
				switchLanguage(p, lang)
			}
			signOut := func() { p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) }) }
			refused := func(what string) {
				t.Helper()
				if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
					t.Errorf("%s refused: the focus is on %q, want the error summary", what, got)
				}
				check(what + " refused")
			}

			// The chair schedules a meeting: a broken rule, then a hybrid meeting.
			as(tw.chair)
			p.Open(base + asm)
			check("assembly page, chair")
			p.Open(base + asm + "/meetings/new")
			check("new meeting")
			p.WaitSwap(func() { p.Submit(`main form[action$="/meetings"]`) })
			refused("empty meeting")
			p.Fill(`#f-title`, "Shore meeting "+lang)
			Eval[string](p, `document.getElementById("f-date").value = "`+assembliesMeetingDay()+`";
				document.getElementById("f-starts_at").value = "18:00";
				document.getElementById("f-ends_at").value = "20:00"; ""`)
			p.Fill(`#f-place`, "Community hall")
			p.Fill(`#f-online_url`, "https://meet.example.org/karsiyaka")
			p.WaitSwap(func() { p.Submit(`main form[action$="/meetings"]`) })
			if !strings.Contains(p.Location(), "/meetings/") {
				t.Fatalf("after scheduling the address is %s", p.Location())
			}
			check("meeting page")
			signOut()

			// A member drafts a motion.
			author := tw.members[1]
			as(author)
			p.Open(base + asm + "/motions/new")
			check("new motion")
			p.Fill(`#f-title`, "Benches on the shore "+lang)
			p.Fill(`#f-text`, "Place six benches along the shore path.")
			p.WaitSwap(func() { p.Submit(`main form[action$="/motions"]`) })
			motion := strings.Split(strings.TrimPrefix(p.Location(), base), "?")[0]
			if !strings.Contains(motion, "/motions/") {
				t.Fatalf("after drafting the address is %s", p.Location())
			}
			check("draft motion")
			signOut()

			// The chair tables it, opens a secret vote and votes.
			as(tw.chair)
			p.Open(base + motion)
			p.WaitSwap(func() { p.Submit(`main form[action$="/table"]`) })
			check("tabled motion")
			p.Click(`#f-secrecy`) // secret, the first option
			p.WaitSwap(func() { p.Submit(`main form[action$="/open"]`) })
			check("vote open")
			for i, u := range tw.members {
				if i > 0 {
					signOut()
					as(u)
				}
				p.Open(base + motion + "/vote")
				if i == 0 {
					check("booth")
					p.WaitSwap(func() { p.Submit(`main form`) })
					refused("ballot without a choice")
				}
				p.Click(choiceID[choices[i]])
				p.WaitSwap(func() { p.Submit(`main form`) })
				if loc := p.Location(); !strings.HasSuffix(loc, motion+"/vote") {
					t.Errorf("after a secret ballot the address is %s", loc)
				}
				if p.Text(`main [role="status"] h2`) == "" {
					t.Errorf("the booth's answer to a ballot has no confirmation")
				}
				if i == 0 {
					check("ballot cast")
				}
			}
			signOut()

			// The chair closes the vote: adopted.
			as(tw.chair)
			p.Open(base + motion)
			p.WaitSwap(func() { p.Submit(`main form[action$="/close"]`) })
			check("vote closed")
			if n := Eval[int](p, `document.querySelectorAll("main table").length`); n == 0 {
				t.Error("no result table after the close")
			}
			signOut()

			// The city responder answers from the inbox: without reasons first.
			as(tw.responder)
			p.Open(base + "/assemblies/inbox")
			check("inbox")
			p.WaitLoad(func() { p.Open(base + motion) })
			p.Click(`#f-decision`) // accepted
			p.WaitSwap(func() { p.Submit(`main form[action$="/city/answered"]`) })
			refused("answer without reasons")
			p.Click(`#f-decision`)
			p.Fill(`#f-reasoning`, "Six benches will be placed in May.")
			p.WaitSwap(func() { p.Submit(`main form[action$="/city/answered"]`) })
			check("answered")
			signOut()

			// An anonymous visitor reads the timeline, and sees no one's form.
			p.Open(base + motion)
			check("public motion")
			if n := Eval[int](p, `document.querySelectorAll(".kv-timeline li").length`); n < 6 {
				t.Errorf("the public timeline has %d steps, want drafted, tabled, opened, closed, sent and answered", n)
			}
			if n := Eval[int](p, `document.querySelectorAll("main form").length`); n != 0 {
				t.Errorf("the anonymous visitor sees %d forms", n)
			}
			if txt := Eval[string](p, `document.querySelector("main").innerText`); !strings.Contains(txt, "Six benches will be placed in May.") {
				t.Errorf("the public page lacks the city's reasoning: %q", txt)
			}
			for _, path := range []string{"/assemblies", asm, "/assemblies/answers"} {
				p.Open(base + path)
				check(path)
			}
		})
	}
}
