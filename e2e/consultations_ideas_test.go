package e2e

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
)

// ideasCity is the consultations plugin's city with an open idea board for the
// residents of its neighbourhood, staff and two moderators.
type ideasCity struct {
	*pluginCity
	staff, mod1, mod2 *coretest.User
	board             string
}

func ideasStart(t *testing.T) *ideasCity {
	t.Helper()
	c := &ideasCity{pluginCity: startPluginCity(t, "consultations", "../plugins/consultations/cmd/kvarter-consultations")}
	grant := func(email, name, role string) *coretest.User {
		u := coretest.Register(t, c.n, email, name)
		c.admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": u.ID, "role": role, "domain": "city"})
		return u
	}
	c.staff = grant("staff@city.example", "Selin Aksoy", "consultation_staff")
	c.mod1 = grant("mod1@city.example", "Mert Güneş", "moderator")
	c.mod2 = grant("mod2@city.example", "Aino Virtanen", "moderator")
	now := time.Now().UTC()
	c.board = c.staff.Must(201, "POST", "/api/v1/consultations", map[string]any{"kind": "ideas", "title": "Karşıyaka sahili için fikirler",
		"background": "Sahil nasıl olmalı?", "what_next": "Meclis mayısta karar verecek.", "participation": "residents",
		"neighbourhoods": []string{c.nbh}, "opens_at": now.Add(-time.Minute).Format(time.RFC3339),
		"closes_at": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}).JSON()["id"].(string)
	c.staff.Must(200, "POST", "/api/v1/consultations/"+c.board+"/publish", nil)
	return c
}

// caseOf is the moderation case of the author's only hidden text.
func caseOf(t *testing.T, author *coretest.User) string {
	t.Helper()
	items, _ := author.Must(200, "GET", "/api/v1/consultations/moderation/cases", nil).JSON()["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("%s has %d moderation cases", author.Email, len(items))
	}
	return items[0].(map[string]any)["id"].(string)
}

var ideaLink = regexp.MustCompile(`/consultations/[0-9a-f-]{36}/ideas/([0-9a-f-]{36})`)

// TestConsultationsIdeas is the idea board and its moderation in a real browser, in
// every language, axe clean on every page: a resident posts an idea (a broken rule
// first, the error summary focused); another supports and comments; a third reports
// the comment; a moderator finds it in the queue and hides it with a reason, shown in
// its place; the author of the comment reads why and appeals; another moderator
// restores it; staff decide the idea's status with a reason shown on it.
func TestConsultationsIdeas(t *testing.T) {
	c := ideasStart(t)
	boardPath := "/consultations/" + c.board + "/ideas"
	for i, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			author := c.verified(t, fmt.Sprintf("author-%s@example.org", lang), "Deniz Kaya "+strings.ToUpper(lang))
			commenter := c.verified(t, fmt.Sprintf("commenter-%s@example.org", lang), "Ece Tan "+strings.ToUpper(lang))
			reporter := c.verified(t, fmt.Sprintf("reporter-%s@example.org", lang), "Can Er "+strings.ToUpper(lang))
			title := fmt.Sprintf("Bisiklet yolu %d", i+1)

			p := SharedBrowser(t).NewPage(t)
			p.Open(c.base + boardPath)
			switchLanguage(p, lang)
			p.AssertAccessible()
			signIn(p, c.base, author)
			switchLanguage(p, lang)
			p.Open(c.base + boardPath + "/new")
			p.AssertAccessible()
			p.Fill(`textarea[name="body"]`, "Sahil boyunca güvenli bir bisiklet yolu.")
			p.WaitSwap(func() { p.Submit(`main form`) })
			if got := focusSettled(p, "kv-error-summary"); !strings.Contains(got, "kv-error-summary") {
				t.Errorf("after a broken rule the focus is on %q", got)
			}
			p.AssertAccessible()
			p.Fill(`input[name="title"]`, title)
			p.Click(`input[name="show_name"]`)
			p.WaitSwap(func() { p.Submit(`main form`) })
			m := ideaLink.FindStringSubmatch(p.Location())
			if m == nil || !strings.Contains(p.Location(), "posted=1") {
				t.Fatalf("after posting the address is %s: %s", p.Location(), p.Text("main"))
			}
			ideaID := m[1]
			ideaPath := boardPath + "/" + ideaID
			p.AssertAccessible()

			// Another resident supports and comments; a third reports the comment.
			commenter.Must(200, "PUT", "/api/v1"+ideaPath+"/support", nil)
			comment := commenter.Must(201, "POST", "/api/v1"+ideaPath+"/comments", map[string]any{"body": "Telefonum 0532 000 00 00, arayın."}).JSON()["id"].(string)
			reporter.Must(201, "POST", "/api/v1"+ideaPath+"/comments/"+comment+"/reports", map[string]any{"category": "personal_data", "body": "Telefon numarası"})
			p.Open(c.base + ideaPath)
			if got := p.Text("main"); !strings.Contains(got, "0532 000 00 00") {
				t.Errorf("the idea page does not show the comment: %s", got)
			}
			p.AssertAccessible()

			// A moderator hides it with a reason.
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
			signIn(p, c.base, c.mod1)
			switchLanguage(p, lang)
			p.Open(c.base + "/consultations/moderation")
			if got := p.Text("main"); !strings.Contains(got, "0532 000 00 00") {
				t.Fatalf("the queue does not show the reported comment: %s", got)
			}
			p.AssertAccessible()
			p.Open(c.base + ideaPath + "/comments/" + comment + "/moderate")
			p.AssertAccessible()
			p.Click(`input[name="category"][value="personal_data"]`)
			p.Fill(`textarea[name="note"]`, "Telefon numarası kişisel veridir.")
			p.WaitSwap(func() { p.Submit(`form input[name="action"][value="hide"]`) })
			p.AssertAccessible()
			p.Open(c.base + ideaPath)
			if got := p.Text("main"); strings.Contains(got, "0532 000 00 00") {
				t.Errorf("the hidden comment is still shown: %s", got)
			}
			p.AssertAccessible()

			// Its author reads why and appeals.
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
			signIn(p, c.base, commenter)
			switchLanguage(p, lang)
			caseID := caseOf(t, commenter)
			p.Open(c.base + "/consultations/moderation/cases/" + caseID)
			if got := p.Text("main"); !strings.Contains(got, "Telefon numarası kişisel veridir.") {
				t.Errorf("the case page does not give the moderator's note: %s", got)
			}
			p.AssertAccessible()
			p.WaitSwap(func() { p.Submit(`form[action$="/appeal"]`) }) // empty: refused
			p.AssertAccessible()
			p.Fill(`textarea[name="body"]`, "Bu, derneğin herkese açık numarası.")
			p.WaitSwap(func() { p.Submit(`form[action$="/appeal"]`) })
			if !strings.Contains(p.Location(), "done=appeal") {
				t.Fatalf("after appealing the address is %s", p.Location())
			}
			p.AssertAccessible()

			// Another moderator restores it.
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
			signIn(p, c.base, c.mod2)
			switchLanguage(p, lang)
			p.Open(c.base + "/consultations/moderation/cases/" + caseID)
			p.AssertAccessible()
			p.Click(`input[name="decision"][value="restored"]`)
			p.Fill(`textarea[name="reason"]`, "Derneğin numarası herkese açık.")
			p.WaitSwap(func() { p.Submit(`form[action$="/decision"]`) })
			p.AssertAccessible()

			// Staff decide the idea's status.
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
			signIn(p, c.base, c.staff)
			switchLanguage(p, lang)
			p.Open(c.base + ideaPath + "/status")
			p.AssertAccessible()
			p.Click(`input[name="status"][value="taken_forward"]`)
			p.Fill(`textarea[name="reason"]`, "2027 bütçesinde.")
			p.WaitSwap(func() { p.Submit(`main form`) })
			if got := p.Text("main"); !strings.Contains(got, "2027 bütçesinde.") || !strings.Contains(got, "0532 000 00 00") {
				t.Errorf("the idea page after the decisions: %s", got)
			}
			p.AssertAccessible()
			p.WaitLoad(func() { p.Submit(`form[action="/sign-out"]`) })
		})
	}
}

// TestConsultationsIdeas_NoJS is the same story without JavaScript, in every
// language: plain forms, 303 after each success, 422 with the error summary on a
// broken rule, 429 on a fourth comment in a minute.
func TestConsultationsIdeas_NoJS(t *testing.T) {
	c := ideasStart(t)
	boardPath := "/consultations/" + c.board + "/ideas"
	for i, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			author := c.verified(t, fmt.Sprintf("nojs-author-%s@example.org", lang), "Deniz Kaya")
			commenter := c.verified(t, fmt.Sprintf("nojs-commenter-%s@example.org", lang), "Ece Tan")
			reporter := c.verified(t, fmt.Sprintf("nojs-reporter-%s@example.org", lang), "Can Er")

			as := func(u *coretest.User) *Forms {
				f := NewForms(t, c.base, lang)
				if a := f.Send("POST", "/sign-in", url.Values{"email": {u.Email}, "password": {u.Password}}); a.Status != 303 {
					t.Fatalf("sign in %s: %d", u.Email, a.Status)
				}
				return f
			}
			must := func(a FormAnswer, status int, what string) FormAnswer {
				t.Helper()
				if a.Status != status {
					t.Fatalf("%s: %d, want %d (to %q)\n%.3000s", what, a.Status, status, a.Location, a.Body)
				}
				return a
			}

			a := as(author)
			must(a.Send("GET", boardPath, nil), 200, "board")
			must(a.Send("POST", boardPath, url.Values{"title": {""}, "body": {"Kept"}}), 422, "empty title")
			posted := must(a.Send("POST", boardPath, url.Values{"title": {fmt.Sprintf("Çeşme %d", i)}, "body": {"Sahile çeşme."}}), 303, "post")
			m := ideaLink.FindStringSubmatch(posted.Location)
			if m == nil {
				t.Fatalf("post goes to %q", posted.Location)
			}
			ideaPath := boardPath + "/" + m[1]

			cm := as(commenter)
			must(cm.Send("POST", ideaPath+"/support", url.Values{"support": {"1"}}), 303, "support")
			for n := range 3 {
				must(cm.Send("POST", ideaPath+"/comments", url.Values{"body": {fmt.Sprintf("Yorum %d", n)}}), 303, "comment")
			}
			if got := must(cm.Send("POST", ideaPath+"/comments", url.Values{"body": {"Çok hızlı"}}), 429, "fourth comment"); !strings.Contains(got.Body, "kv-error-summary") {
				t.Error("the 429 page has no error summary")
			}
			comment := commenter.Must(200, "GET", "/api/v1"+ideaPath+"/comments", nil).JSON()["items"].([]any)[0].(map[string]any)["id"].(string)
			commentPath := ideaPath + "/comments/" + comment

			r := as(reporter)
			must(r.Send("GET", commentPath+"/report", nil), 200, "report form")
			must(r.Send("POST", commentPath+"/report", url.Values{"category": {"spam"}, "body": {"Reklam"}}), 303, "report")

			m1 := as(c.mod1)
			if got := must(m1.Send("GET", "/consultations/moderation", nil), 200, "queue"); !strings.Contains(got.Body, "Yorum 0") {
				t.Errorf("the queue lacks the comment")
			}
			must(m1.Send("POST", commentPath+"/moderate", url.Values{"action": {"hide"}, "category": {"spam"}, "note": {"Reklam."}}), 303, "hide")
			if got := must(r.Send("GET", ideaPath, nil), 200, "idea"); strings.Contains(got.Body, "Yorum 0") {
				t.Error("the hidden comment is shown")
			}

			caseID := caseOf(t, commenter)
			must(cm.Send("GET", "/consultations/moderation/cases/"+caseID, nil), 200, "case")
			must(cm.Send("POST", "/consultations/moderation/cases/"+caseID+"/appeal", url.Values{"body": {"Reklam değil."}}), 303, "appeal")
			must(cm.Send("POST", "/consultations/moderation/cases/"+caseID+"/appeal", url.Values{"body": {"Yine"}}), 422, "second appeal")
			must(m1.Send("POST", "/consultations/moderation/cases/"+caseID+"/decision", url.Values{"decision": {"upheld"}, "reason": {"x"}}), 422, "same moderator")
			m2 := as(c.mod2)
			must(m2.Send("POST", "/consultations/moderation/cases/"+caseID+"/decision", url.Values{"decision": {"upheld"}, "reason": {"Reklam."}}), 303, "decision")

			st := as(c.staff)
			must(st.Send("POST", ideaPath+"/status", url.Values{"status": {"under_review"}, "reason": {"Bakıyoruz."}}), 303, "status")
			if got := must(a.Send("GET", ideaPath, nil), 200, "idea"); !strings.Contains(got.Body, "Bakıyoruz.") || strings.Contains(got.Body, "Yorum 0") {
				t.Errorf("the idea page after the decisions:\n%.3000s", got.Body)
			}
		})
	}
}
