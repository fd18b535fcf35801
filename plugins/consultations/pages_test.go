package consultations

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/store"
)

// pageClient drives the plugin's handler as the host does: one viewer, one language,
// each request asking for a page (or a fragment), the host's permission check
// already passed.
type pageClient struct {
	t      testing.TB
	h      http.Handler
	pr     sdk.Principal
	lang   string
	render sdk.Render
}

type pageAnswer struct {
	Status   int
	Body     string
	Location string
	Type     string
	Meta     sdk.PageMeta
}

func (c pageClient) do(method, path string, form url.Values) pageAnswer {
	c.t.Helper()
	body := strings.NewReader("")
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	render := c.render
	if render == 0 {
		render = sdk.RenderPage
	}
	ctx := sdk.WithRender(sdk.WithLanguage(sdk.WithPrincipal(context.Background(), c.pr), c.lang), render)
	ctx, meta := sdk.RecordPageMeta(ctx)
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r.WithContext(ctx))
	a := pageAnswer{Status: w.Code, Body: w.Body.String(), Location: w.Header().Get("Location"), Type: w.Header().Get("Content-Type"), Meta: *meta}
	if w.Code < 300 && strings.Contains(a.Body, "consultations.page.") {
		c.t.Errorf("%s %s shows a message id:\n%s", method, path, a.Body)
	}
	return a
}

func (c pageClient) get(path string) pageAnswer { return c.do(http.MethodGet, path, nil) }
func (c pageClient) post(path string, form url.Values) pageAnswer {
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, path, form)
}

// want fails unless the answer has status and holds every part.
func (a pageAnswer) want(t *testing.T, what string, status int, parts ...string) pageAnswer {
	t.Helper()
	if a.Status != status {
		t.Fatalf("%s: status %d, want %d (Location %q)\n%.4000s", what, a.Status, status, a.Location, a.Body)
	}
	for _, p := range parts {
		if !strings.Contains(a.Body, p) {
			t.Errorf("%s: no %q in\n%.4000s", what, p, a.Body)
		}
	}
	return a
}

// lacks fails if the answer holds any part.
func (a pageAnswer) lacks(t *testing.T, what string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(a.Body, p) {
			t.Errorf("%s: %q should not be in\n%.4000s", what, p, a.Body)
		}
	}
}

// pagesFixture is the service fixture with the plugin's page handler.
type pagesFixture struct {
	*fixture
	h http.Handler
}

func newPagesFixture(t *testing.T, db *store.DB) *pagesFixture {
	f := newFixture(t, db)
	p := &Plugin{svc: f.svc}
	return &pagesFixture{fixture: f, h: sdk.Mux(p.Routes())}
}

func (f *pagesFixture) as(pr sdk.Principal, lang string) pageClient {
	return pageClient{t: f.t, h: f.h, pr: pr, lang: lang}
}

// idFrom is the consultation ID of a staff page's address.
var idFrom = regexp.MustCompile(`/consultations/([0-9a-f-]{36})/`)

// TestPages_SurveyStory walks a survey through its pages on both databases: staff
// prepare it with the questions builder (a broken rule first: 422 with the summary
// focused), add a dependent question and publish; a verified resident sees the
// dependency explained without JavaScript and the dependent question left out of
// the htmx fragment when it is not asked, reviews, sends (303) and sees what was
// stored, then changes it; an unverified person and a visitor are refused with the
// reason; NUL and over-long text are refused with 422 and change nothing; staff close,
// redact the free text, publish the results and respond; anyone reads the results
// with the chart (an SVG image with role=img, title and description), the table, the
// redacted text only, and the open data links.
func TestPages_SurveyStory(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newPagesFixture(t, db)
		staff := f.as(f.staff, "en")

		staff.get(pageNew).want(t, "new form", 200, `name="title"`, `value="survey"`)
		form := url.Values{"kind": {"survey"}, "title": {""}, "participation": {"residents"}, "neighbourhoods": {"n1"},
			"editable": {"1"}, "anonymous_allowed": {"1"},
			"opens_date": {"2027-03-01"}, "opens_time": {"10:00"}, "closes_date": {"2027-03-08"}, "closes_time": {"18:00"},
			"background": {"The city plans new cycle lanes.\n\nTell us how you move."}, "what_next": {"The committee decides in May."}}
		a := staff.post(pageNew, form).want(t, "no title", 422, "kv-error-summary", `value="2027-03-08"`)
		if a.Meta.Focus != "kv-error-summary" {
			t.Errorf("the refused form focuses %q", a.Meta.Focus)
		}
		form.Set("title", "Cycling in Kallio")
		a = staff.post(pageNew, form).want(t, "create", 303)
		m := idFrom.FindStringSubmatch(a.Location + "/")
		if m == nil {
			t.Fatalf("create led to %q", a.Location)
		}
		id := m[1]
		manage := managePath(id)
		staff.get(a.Location).want(t, "manage", 200, "The draft was saved.", `action="/consultations/`+id+`/questions"`)

		q := func(v url.Values, status int, what string) pageAnswer {
			t.Helper()
			return staff.post(consultationPath(id)+"/questions", v).want(t, what, status)
		}
		q(url.Values{"kind": {"single"}, "prompt": {""}, "options": {"Yes\nNo"}}, 422, "question without words")
		q(url.Values{"kind": {"single"}, "prompt": {"Do you cycle?"}, "options": {"Yes\nNo"}, "required": {"1"}}, 303, "single")
		staff.get(manage).want(t, "show_if choices", 200, `value="0:0"`, "If the answer to question 1 is “Yes”")
		q(url.Values{"kind": {"scale"}, "prompt": {"How often?"}, "scale_min": {"1"}, "scale_max": {"5"},
			"scale_min_label": {"Rarely"}, "scale_max_label": {"Daily"}, "required": {"1"}, "show_if": {"0:0"}}, 303, "dependent scale")
		q(url.Values{"kind": {"ranking"}, "prompt": {"Rank the plans"}, "options": {"Plan X\nPlan Y\nPlan Z"}}, 303, "ranking")
		q(url.Values{"kind": {"text"}, "prompt": {"Anything else?"}, "max_length": {"200"}}, 303, "text")
		staff.post(consultationPath(id)+"/publish", nil).want(t, "publish", 303)
		c, err := f.svc.Get(f.ctx, f.staff, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Questions) != 4 || c.Questions[1].ShowIf == nil || c.Questions[1].ShowIf.OptionID != c.Questions[0].Options[0].ID {
			t.Fatalf("the builder made %+v", c.Questions)
		}
		f.clock.Set(c.OpensAt.Add(time.Minute))
		yes, no := c.Questions[0].Options[0].ID, c.Questions[0].Options[1].ID
		single, scale, rank, text := fieldName(c.Questions[0].ID), fieldName(c.Questions[1].ID), c.Questions[2], fieldName(c.Questions[3].ID)

		aino := f.as(f.resident("aino", "n1"), "en")
		aino.get(consultationPath(id)).want(t, "consultation", 200, "Verified residents of Kallio can take part.",
			"Tell us how you move.", "The committee decides in May.", `href="`+answerPath(id)+`"`)
		aino.get(answerPath(id)).want(t, "form", 200, `name="`+scale+`"`,
			"Answer this only if you chose “Yes” in question 1.", `hx-get="`+answerPath(id)+`" hx-trigger="change" hx-include="closest form" hx-target="#questions"`)
		frag := aino
		frag.render = sdk.RenderFragment
		frag.get(answerPath(id)+"?"+url.Values{single: {no}}.Encode()).want(t, "fragment after no", 200, `id="questions"`).
			lacks(t, "fragment after no", `name="`+scale+`"`)
		frag.get(answerPath(id)+"?"+url.Values{single: {yes}}.Encode()).want(t, "fragment after yes", 200, `name="`+scale+`"`)

		answer := url.Values{single: {yes}, scale: {"4"}, rankName(rank.ID, rank.Options[1].ID): {"1"},
			rankName(rank.ID, rank.Options[0].ID): {"2"}, text: {"More lanes on Helsinginkatu, says Aino Virtanen"}}
		missing := url.Values{text: {"only this"}}
		aino.post(answerPath(id)+"/review", missing).want(t, "required missing", 422, "kv-error-summary", `href="#f-answers-`)
		repeated := url.Values{single: {no}, rankName(rank.ID, rank.Options[0].ID): {"1"}, rankName(rank.ID, rank.Options[1].ID): {"1"}}
		aino.post(answerPath(id)+"/review", repeated).want(t, "repeated place", 422, "Give each place to one option only")
		aino.post(answerPath(id)+"/review", answer).want(t, "review", 200, "Plan Y", "1. Plan Y; 2. Plan X",
			`type="hidden" name="`+scale+`" value="4"`, "Send my answers")
		nul := url.Values{single: {no}, text: {"a\x00b"}}
		aino.post(answerPath(id), nul).want(t, "NUL", 422, "kv-error-summary")
		long := url.Values{single: {no}, text: {strings.Repeat("ö", 201)}}
		aino.post(answerPath(id), long).want(t, "too long", 422, "kv-error-summary")
		if _, err := f.svc.MyAnswer(f.ctx, f.host.Principal("aino"), id); !isCode(err, sdk.CodeNotFound) {
			t.Fatalf("a refused answer was stored: %v", err)
		}
		a = aino.post(answerPath(id), answer).want(t, "send", 303)
		if a.Location != answerPath(id)+"/done" {
			t.Errorf("sending led to %s", a.Location)
		}
		aino.get(a.Location).want(t, "done", 200, "Your answer is stored in your name", "Plan Y", "You can change your answer until")

		// Changing it: the form shows the stored answer; a second send replaces it.
		aino.get(answerPath(id)).want(t, "edit form", 200, `value="`+yes+`" checked`, "You are changing the answer")
		answer.Set(scale, "2")
		aino.post(answerPath(id), answer).want(t, "edit", 303)
		mine, err := f.svc.MyAnswer(f.ctx, f.host.Principal("aino"), id)
		if err != nil || *mine.Answers[c.Questions[1].ID].Value != 2 {
			t.Errorf("after the edit the answer is %+v, %v", mine, err)
		}

		// Refusals: a reason, and what to do.
		ville := f.as(f.resident("ville", ""), "en")
		a = ville.get(answerPath(id)).want(t, "unverified", 403, "Why you cannot take part", `href="/my-neighbourhood"`)
		visitor := f.as(sdk.Principal{}, "en")
		visitor.get(answerPath(id)).want(t, "visitor", 403, `/sign-in?back=`)
		visitor.post(answerPath(id), answer).want(t, "visitor posting", 403)

		// The close, redaction, results and response.
		staff.post(consultationPath(id)+"/close", nil).want(t, "close", 303)
		texts := staff.get(consultationPath(id)+"/texts").want(t, "texts", 200, "says Aino Virtanen")
		tm := regexp.MustCompile(`action="/consultations/` + id + `/texts/([^"]+)"`).FindStringSubmatch(texts.Body)
		if tm == nil {
			t.Fatalf("no text form in\n%s", texts.Body)
		}
		tid := tm[1]
		staff.post(consultationPath(id)+"/texts/"+tid, url.Values{"redacted-" + tid: {"More lanes on Helsinginkatu, says […]"}}).
			want(t, "no decision", 422, "Choose whether to publish or withhold the answer")
		staff.post(consultationPath(id)+"/texts/"+tid, url.Values{"redacted-" + tid: {"More lanes on Helsinginkatu, says […]"}, "decision-" + tid: {"publish"}}).
			want(t, "decide", 303)
		visitor.get(resultsPath(id)).want(t, "results before publication", 404)
		staff.post(consultationPath(id)+"/results", nil).want(t, "publish results", 303)
		staff.post(consultationPath(id)+"/response", url.Values{"response": {""}}).want(t, "empty response", 422, "Write the city&#39;s response")
		staff.post(consultationPath(id)+"/response", url.Values{"response": {"Two new lanes will be built in 2028."}}).want(t, "respond", 303)

		res := visitor.get(resultsPath(id)).want(t, "results", 200, "Two new lanes will be built in 2028.",
			`src="`+chartURL(id, c.Questions[0].ID)+`"`, "<caption>Answers to question 1: Do you cycle?</caption>",
			"says […]", api+"/"+id+"/results.csv", "Average: 2.0.")
		res.lacks(t, "results", "Aino Virtanen")
		svg := visitor.get(chartURL(id, c.Questions[0].ID)).want(t, "chart", 200, `role="img"`, "<title id=\"chart-title\">Do you cycle?</title>", "<desc")
		if svg.Type != "image/svg+xml" {
			t.Errorf("the chart is %q", svg.Type)
		}
		if err := xml.Unmarshal([]byte(svg.Body), new(struct{})); err != nil {
			t.Errorf("the chart is not well-formed XML: %v", err)
		}
		visitor.get(chartURL(id, c.Questions[3].ID)).want(t, "no chart for free text", 404)
		visitor.get(pageBase+"?stage=ended").want(t, "closed ones", 200, "Cycling in Kallio", "The city has responded")
		visitor.get(pageBase+"?stage=open").want(t, "open ones", 200).lacks(t, "open ones", "Cycling in Kallio")

		// Every language: its own words, no id left.
		for _, lang := range i18n.Required {
			f.as(sdk.Principal{}, lang).get(resultsPath(id)).want(t, "results in "+lang, 200)
			f.as(sdk.Principal{}, lang).get(consultationPath(id)).want(t, "consultation in "+lang, 200)
		}
	})
}

// TestPages_Poll: a poll's question is on its page; the vote leads to the results
// when the poll shows them after voting, and says when they come otherwise.
func TestPages_Poll(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newPagesFixture(t, db)
		staff := f.as(f.staff, "en")
		for _, shown := range []PollResults{PollResultsAfterVote, PollResultsAfterClose} {
			form := url.Values{"kind": {"poll"}, "title": {"Name the square " + string(shown)}, "participation": {"signed_in"},
				"editable": {"1"}, "poll_results": {string(shown)}, "poll_prompt": {""}, "poll_options": {"Lighthouse\nHarbour"},
				"opens_date": {"2027-03-01"}, "opens_time": {"10:00"}, "closes_date": {"2027-03-08"}}
			staff.post(pageNew, form).want(t, "poll without a question", 422, `id="f-poll_prompt"`, "kv-error-summary")
			form.Set("poll_prompt", "Which name?")
			a := staff.post(pageNew, form).want(t, "poll", 303)
			id := idFrom.FindStringSubmatch(a.Location + "/")[1]
			staff.post(consultationPath(id)+"/publish", nil).want(t, "publish", 303)
			c, err := f.svc.Get(f.ctx, f.staff, id)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Set(c.OpensAt.Add(time.Minute))
			voter := f.as(f.resident("voter-"+string(shown), ""), "en")
			voter.get(consultationPath(id)).want(t, "poll page", 200, "Which name?", `action="`+answerPath(id)+`"`, "Vote")
			voter.post(answerPath(id), url.Values{}).want(t, "empty vote", 422, "kv-error-summary", "Which name?")
			q := c.Questions[0]
			voter.post(answerPath(id), url.Values{fieldName(q.ID): {q.Options[1].ID}}).want(t, "vote", 303)
			done := voter.get(answerPath(id)+"/done").want(t, "after the vote", 200)
			if shown == PollResultsAfterVote {
				done.want(t, "results after the vote", 200, `src="`+chartURL(id, q.ID)+`"`, "<th scope=\"row\">Harbour</th>")
			} else {
				done.want(t, "results later", 200, "The results will be published after the poll closes")
			}
		}
	})
}

// TestPages_Cards: the neighbourhood card lists the open consultations for the
// neighbourhood and the city-wide ones, not another neighbourhood's.
func TestPages_Cards(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newPagesFixture(t, db)
		in := survey()
		f.published(in)
		other := survey()
		other.Title, other.Neighbourhoods = "Vallila only", []string{"n2"}
		f.published(other)
		card := f.as(sdk.Principal{}, "fi").get("/consultations/cards/neighbourhood/n1").want(t, "card", 200, "Cycling in Kallio", "Kaikki kuulemiset")
		card.lacks(t, "card", "Vallila only")
		f.as(f.resident("aino", "n2"), "sv").get(pageHome).want(t, "home card", 200, "Vallila only", "stänger")
		f.as(sdk.Principal{}, "en").get(pageBase+"?stage=open&neighbourhood=n2").want(t, "list", 200, "Vallila only").lacks(t, "list", "Cycling in Kallio")
		f.as(sdk.Principal{}, "en").get(pageBase+"?stage=nonsense").want(t, "bad filter", 422, "Choose a stage from the list")
		f.as(sdk.Principal{}, "en").get(pageBase+"?stage=ended").want(t, "ended", 200, "There are no consultations to show.", `<option value="ended" selected>Closed (all)</option>`)
	})
}

// TestChart_SVG: the chart escapes what people wrote and draws a bar for every value.
func TestChart_SVG(t *testing.T) {
	c := chart{Title: `<script>alert("x")</script>`, Desc: "a & b", Bars: []chartBar{
		{Label: "Yes <b>", Value: 3, Text: "3 (75 %)"}, {Label: strings.Repeat("long ", 20), Value: 1, Text: "1 (25 %)"}, {Label: "None", Value: 0, Text: "0"}}}
	out := string(c.svg())
	if strings.Contains(out, "<script>") || strings.Contains(out, "<b>") {
		t.Errorf("unescaped text in\n%s", out)
	}
	if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
		t.Errorf("not well-formed: %v\n%s", err, out)
	}
	if n := strings.Count(out, `fill="`+chartBarC+`"`); n != 3 {
		t.Errorf("%d bars, want 3", n)
	}
	if !strings.Contains(out, `width="2"`) && !strings.Contains(out, "…") {
		t.Errorf("a long label is not shortened:\n%s", out)
	}
}

// TestPagesCatalog fails on a page message missing from a language, an empty one, a
// plural without every form, or placeholders that differ between languages.
func TestPagesCatalog(t *testing.T) { i18ntest.CheckCatalog(t, localeFiles) }

// TestPages_Attachments: staff attach a document to a draft as the host forwards it
// (the file's upload id in its field); a missing name or a file the host refused comes
// back as the form with the reason; the published consultation links the document.
func TestPages_Attachments(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newPagesFixture(t, db)
		in := survey()
		c, err := f.svc.Create(f.ctx, f.staff, in)
		if err != nil {
			t.Fatal(err)
		}
		staff := f.as(f.staff, "en")
		path := consultationPath(c.ID) + "/attachments"
		staff.post(path, url.Values{"name": {""}, "file": {"0190a1b2-upload"}}).want(t, "no name", 422, "kv-error-summary", `id="f-name"`)

		refused := httptest.NewRequest(http.MethodPost, path, strings.NewReader(url.Values{"name": {"Plan"}}.Encode()))
		refused.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		refused.Header.Set(sdk.UploadRefusedHeader, url.Values{"file": {"upload_kind"}}.Encode())
		ctx, _ := sdk.RecordPageMeta(sdk.WithRender(sdk.WithLanguage(sdk.WithPrincipal(context.Background(), f.staff), "en"), sdk.RenderPage))
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, refused.WithContext(ctx))
		if w.Code != 422 || !strings.Contains(w.Body.String(), `href="#f-file"`) {
			t.Errorf("a refused file: %d\n%s", w.Code, w.Body.String())
		}

		staff.post(path, url.Values{"name": {"Cycle lane plan (PDF)"}, "file": {"0190a1b2-upload"}}).want(t, "attach", 303)
		if _, err := f.svc.Publish(f.ctx, f.staff, c.ID); err != nil {
			t.Fatal(err)
		}
		f.as(sdk.Principal{}, "fi").get(consultationPath(c.ID)).want(t, "public page", 200,
			`href="/uploads/0190a1b2-upload"`, "Cycle lane plan (PDF)", "Asiakirjat")
	})
}
