package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
)

// consultationsForms is a browser without JavaScript (e2e.Forms) with the checks the
// story needs.
type consultationsForms struct {
	t *testing.T
	*Forms
}

// want fails unless a has status and holds every part.
func (c consultationsForms) want(a FormAnswer, what string, status int, parts ...string) FormAnswer {
	c.t.Helper()
	if a.Status != status {
		c.t.Fatalf("%s: status %d, want %d (Location %q)\n%.3000s", what, a.Status, status, a.Location, a.Body)
	}
	for _, p := range parts {
		if !strings.Contains(a.Body, p) {
			c.t.Errorf("%s: no %q in\n%.3000s", what, p, a.Body)
		}
	}
	return a
}

func (c consultationsForms) post(path string, form url.Values) FormAnswer {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return c.Send(http.MethodPost, path, form)
}

func (c consultationsForms) get(path string) FormAnswer {
	c.t.Helper()
	return c.Send(http.MethodGet, path, nil)
}

// signIn signs u in through the sign-in form and sets the language.
func (c consultationsForms) signIn(u *coretest.User) {
	c.t.Helper()
	c.Forget()
	c.want(c.post("/sign-in", url.Values{"email": {u.Email}, "password": {u.Password}}), "sign in", http.StatusSeeOther)
	c.want(c.post("/language", url.Values{"lang": {c.Lang}, "back": {"/"}}), "language", http.StatusSeeOther)
}

// TestConsultations_NoJS is TestConsultations_Story without JavaScript, in every
// language: each form posts as a plain browser posts it, answered 303 on success and
// 422 with the form and its error summary on a broken rule. Without JavaScript the
// dependent question is on the form with its condition in words; an answer to it
// when it is not asked is dropped, not refused.
func TestConsultations_NoJS(t *testing.T) {
	c := newConsultationsCity(t)
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			b := consultationsForms{t: t, Forms: NewForms(t, c.base, lang)}
			title := "Sahil parkı " + lang

			b.signIn(c.staff)
			b.want(b.get("/consultations/new"), "new form", 200, `lang="`+lang+`"`, `name="title"`)
			form := url.Values{"kind": {"survey"}, "title": {""}, "participation": {"residents"}, "neighbourhoods": {c.nbh},
				"editable": {"1"}, "opens_date": {time.Now().AddDate(0, 0, -1).Format(time.DateOnly)},
				"closes_date": {time.Now().AddDate(0, 0, 7).Format(time.DateOnly)}}
			b.want(b.post("/consultations/new", form), "no title", 422, "kv-error-summary")
			form.Set("title", title)
			a := b.want(b.post("/consultations/new", form), "create", 303)
			m := consultationID.FindStringSubmatch(a.Location)
			if m == nil {
				t.Fatalf("create led to %q", a.Location)
			}
			path := "/consultations/" + m[1]
			b.want(b.post(path+"/questions", url.Values{"kind": {"single"}, "prompt": {"Parka gidiyor musunuz?"}, "options": {"Evet\nHayır"}, "required": {"1"}}), "first", 303)
			b.want(b.post(path+"/questions", url.Values{"kind": {"scale"}, "prompt": {"Ne sıklıkla?"}, "scale_min": {"1"}, "scale_max": {"5"},
				"required": {"1"}, "show_if": {"0:9"}}), "a condition on no such option", 422, "kv-error-summary")
			b.want(b.post(path+"/questions", url.Values{"kind": {"scale"}, "prompt": {"Ne sıklıkla?"}, "scale_min": {"1"}, "scale_max": {"5"},
				"required": {"1"}, "show_if": {"0:0"}}), "dependent", 303)
			b.want(b.post(path+"/publish", nil), "publish", 303)

			q := c.admin.Must(200, "GET", "/api/v1/consultations/"+m[1], nil).JSON()["questions"].([]any)
			first, second := q[0].(map[string]any), q[1].(map[string]any)
			field := func(q map[string]any) string { return "answers." + q["id"].(string) }
			option := func(q map[string]any, i int) string { return q["options"].([]any)[i].(map[string]any)["id"].(string) }

			b.signIn(c.aino)
			b.want(b.get(path+"/answer"), "form", 200, `name="`+field(second)+`"`, `name="`+field(first)+`"`)
			// "No" with the dependent question answered anyway: dropped, the answer stands.
			answer := url.Values{field(first): {option(first, 1)}, field(second): {"3"}}
			b.want(b.post(path+"/answer/review", url.Values{field(second): {"3"}}), "first question missing", 422, "kv-error-summary")
			b.want(b.post(path+"/answer/review", answer), "review", 200, `type="hidden"`)
			a = b.want(b.post(path+"/answer", answer), "send", 303)
			b.want(b.get(a.Location), "done", 200)
			// Changed to "yes, 5".
			answer = url.Values{field(first): {option(first, 0)}, field(second): {"5"}}
			b.want(b.get(path+"/answer"), "edit form", 200, `value="`+option(first, 1)+`" checked`)
			b.want(b.post(path+"/answer", answer), "edit", 303)

			b.signIn(c.ville)
			b.want(b.get(path+"/answer"), "unverified", 403, `href="/my-neighbourhood"`)
			b.want(b.post(path+"/answer", answer), "unverified posting", 403)

			b.signIn(c.staff)
			b.want(b.post(path+"/close", nil), "close", 303)
			b.want(b.post(path+"/results", nil), "results", 303)
			b.want(b.post(path+"/response", url.Values{"response": {""}}), "empty response", 422, "kv-error-summary")
			b.want(b.post(path+"/response", url.Values{"response": {"Parka yeni banklar konacak."}}), "respond", 303)

			// The host delivers notifications in its own time: wait for this one.
			b.signIn(c.aino)
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				a := b.want(b.get("/notifications"), "notifications", 200)
				if strings.Contains(a.Body, title) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the notifications page lacks the response to %q:\n%.3000s", title, a.Body)
				}
			}

			b.Forget()
			res := b.want(b.get(path+"/results"), "results", 200, "Parka yeni banklar konacak.", "/results.csv", "<table")
			if !strings.Contains(res.Body, "/results/charts/") {
				t.Errorf("the results show no chart:\n%.3000s", res.Body)
			}
			csv := b.get("/api/v1/consultations/" + m[1] + "/results.csv")
			b.want(csv, "CSV", 200, "Ne sıklıkla?")
		})
	}
}
