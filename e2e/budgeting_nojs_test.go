package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
)

// budgetingForms is a browser without JavaScript: plain GETs and form posts against
// the real node, its session in a cookie, each redirect seen rather than followed.
type budgetingForms struct {
	t     *testing.T
	forms *Forms
}

type budgetingAnswer struct {
	status   int
	location string
	body     string
}

func newBudgetingForms(t *testing.T, base, lang string) *budgetingForms {
	return &budgetingForms{t: t, forms: NewForms(t, base, lang)}
}

func (b *budgetingForms) do(method, path string, form url.Values) budgetingAnswer {
	b.t.Helper()
	a := b.forms.Send(method, path, form)
	return budgetingAnswer{a.Status, a.Location, a.Body}
}

func (b *budgetingForms) get(path string) budgetingAnswer { return b.do("GET", path, nil) }
func (b *budgetingForms) post(path string, form url.Values) budgetingAnswer {
	if form == nil {
		form = url.Values{} // a form without fields still posts as a form
	}
	return b.do("POST", path, form)
}

// want fails unless the answer has status and every part.
func (a budgetingAnswer) want(t *testing.T, what string, status int, parts ...string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: status %d, want %d (Location %q)\n%.3000s", what, a.status, status, a.location, a.body)
	}
	for _, p := range parts {
		if !strings.Contains(a.body, p) {
			t.Errorf("%s: no %q in\n%.3000s", what, p, a.body)
		}
	}
}

// signIn signs u in through the sign-in form and sets their language.
func (b *budgetingForms) signIn(u *coretest.User) {
	b.t.Helper()
	b.forms.Forget()
	b.post("/sign-in", url.Values{"email": {u.Email}, "password": {u.Password}}).want(b.t, "sign in", http.StatusSeeOther)
	b.post("/language", url.Values{"lang": {b.forms.Lang}, "back": {"/"}}).want(b.t, "language", http.StatusSeeOther)
}

// TestBudgetingPages_NoJS is the same story as TestBudgetingPages without
// JavaScript, in every language (the photo sent as a plain multipart form): each form posts as a plain browser posts it and is
// answered 303 on success, 422 with the form and its error summary on a broken rule.
func TestBudgetingPages_NoJS(t *testing.T) {
	c := newBudgetingCity(t)
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			id, others := c.cycle(t, "Karşıyaka 2027 "+lang)
			cp := "/budgeting/cycles/" + id
			b := newBudgetingForms(t, c.base, lang)

			b.signIn(c.resident)
			b.get(cp).want(t, "cycle", 200, `lang="`+lang+`"`, cp+"/propose")
			b.post(cp+"/propose", url.Values{"title": {""}, "cost": {"400"}}).want(t, "empty title", 422, "kv-error-summary", `value="400"`)
			a := b.post(cp+"/propose", url.Values{"title": {"Çınar ağaçları"}, "cost": {"400"}, "category": {"Parklar"}})
			a.want(t, "propose", 303)
			mine := strings.TrimSuffix(strings.TrimPrefix(a.location, cp+"/proposals/"), "?sent=1")
			b.get(a.location).want(t, "proposal", 200, "Çınar ağaçları")
			// A photo of the place: refused without a text alternative, then shown
			// with it.
			pp := cp + "/proposals/" + mine
			photo := pngPhoto(t)
			noAlt := b.forms.SendFile(pp+"/attachments", url.Values{"kind": {"photo"}, "alt": {""}}, "photo", "arsa.png", photo)
			budgetingAnswer{noAlt.Status, noAlt.Location, noAlt.Body}.want(t, "photo without alt", 422, "kv-error-summary", `aria-invalid="true"`)
			added := b.forms.SendFile(pp+"/attachments", url.Values{"kind": {"photo"}, "alt": {"Boş arsa, otobüs durağından"}}, "photo", "arsa.png", photo)
			budgetingAnswer{added.Status, added.Location, added.Body}.want(t, "photo", 303)
			b.get(added.Location).want(t, "proposal with its photo", 200, `alt="Boş arsa, otobüs durağından"`, `<img src="/uploads/`)

			b.signIn(c.officer)
			b.post(cp+"/phase", url.Values{"phase": {"review"}}).want(t, "to review", 303)
			b.get(cp+"/review").want(t, "review queue", 200, `name="decision-`+mine+`"`)
			b.post(cp+"/proposals/"+mine+"/review", url.Values{"decision-" + mine: {"reject"}}).want(t, "reject without reason", 422, "kv-error-summary")
			b.post(cp+"/proposals/"+mine+"/review", url.Values{"decision-" + mine: {"accept"}, "cost-" + mine: {"400"}}).want(t, "accept", 303)
			for i, o := range others {
				b.post(cp+"/proposals/"+o+"/review", url.Values{"decision-" + o: {"accept"}, "cost-" + o: {[]string{"500", "300"}[i]}}).want(t, "accept", 303)
			}
			b.post(cp+"/phase", url.Values{"phase": {"voting"}}).want(t, "to voting", 303)

			b.signIn(c.resident)
			b.get(cp+"/ballot").want(t, "ballot", 200, `type="checkbox"`)
			over := url.Values{"projects": {mine, others[0], others[1]}}
			b.post(cp+"/ballot/review", over).want(t, "over budget", 422, "kv-error-summary", `aria-invalid="true"`)
			ok := url.Values{"projects": {mine, others[0]}}
			b.post(cp+"/ballot/review", ok).want(t, "review step", 200, `type="hidden" name="projects" value="`+mine+`"`)
			cast := b.post(cp+"/ballot", ok)
			cast.want(t, "cast", 303)
			if cast.location != cp+"/ballot/cast" {
				t.Errorf("cast leads to %s", cast.location)
			}
			b.get(cast.location).want(t, "confirmation", 200)
			b.post(cp+"/ballot", ok).want(t, "a second ballot", 422, "kv-error-summary")
			c.bob.Must(201, "POST", "/api/v1/budgeting/cycles/"+id+"/ballots", map[string]any{"projects": []string{others[0], others[1]}})

			b.signIn(c.officer)
			b.post(cp+"/phase", url.Values{"phase": {"results"}}).want(t, "to results", 303)
			b.post(cp+"/tally/preview", nil).want(t, "preview", 303)
			b.get(cp+"/tally").want(t, "the preview", 200, `name="rule"`, `value="mes"`)
			newBudgetingForms(t, c.base, lang).get(cp+"/results").want(t, "results before publishing", 404)
			b.post(cp+"/tally", url.Values{"rule": {"mes"}}).want(t, "publish", 303)

			anon := newBudgetingForms(t, c.base, lang)
			res := anon.get(cp + "/results")
			res.want(t, "results", 200, "/api/v1/budgeting/cycles/"+id+"/export.pb", `id="why-`+mine+`"`, `id="why-`+others[1]+`"`)
			pb := anon.get("/api/v1/budgeting/cycles/" + id + "/export.pb")
			pb.want(t, "Pabulib file", 200, "META", "PROJECTS", "VOTES")
			// Nobody else runs this budget: the visitor cannot open its staff pages.
			if a := anon.get(cp + "/manage"); a.status == 200 {
				t.Errorf("a visitor opened the staff page")
			}
		})
	}
}
