package budgeting

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/store"
)

// pageLanguages are the languages every page is written in.
var pageLanguages = i18n.Required

// TestPagesCatalog fails on a message missing from a language, an empty one, or
// placeholders that differ between languages.
func TestPagesCatalog(t *testing.T) { i18ntest.CheckCatalog(t, pageFiles) }

// pageClient drives the plugin's handler as the host does: one viewer, one language,
// each request asking for a page.
type pageClient struct {
	t    testing.TB
	h    http.Handler
	pr   sdk.Principal
	lang string
}

// pageAnswer is a page's answer: status, body, redirect and the metadata it handed
// the host.
type pageAnswer struct {
	Status   int
	Body     string
	Location string
	Meta     sdk.PageMeta
}

func (c pageClient) do(method, path string, form url.Values) pageAnswer {
	c.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	ctx := sdk.WithRender(sdk.WithLanguage(sdk.WithPrincipal(context.Background(), c.pr), c.lang), sdk.RenderPage)
	ctx, meta := sdk.RecordPageMeta(ctx)
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r.WithContext(ctx))
	a := pageAnswer{Status: w.Code, Body: w.Body.String(), Location: w.Header().Get("Location"), Meta: *meta}
	if strings.Contains(a.Body, "budgeting.") && w.Code < 300 {
		c.t.Errorf("%s %s shows a message id: %s", method, path, leakedID(a.Body))
	}
	return a
}

var idRE = regexp.MustCompile(`budgeting\.[a-z_.]+`)

func leakedID(body string) string { return idRE.FindString(body) }

func (c pageClient) get(path string) pageAnswer { return c.do("GET", path, nil) }
func (c pageClient) post(path string, form url.Values) pageAnswer {
	if form == nil {
		form = url.Values{}
	}
	return c.do("POST", path, form)
}

// as is the client for another viewer.
func (c pageClient) as(pr sdk.Principal) pageClient { c.pr = pr; return c }

// in is the client in another language.
func (c pageClient) in(lang string) pageClient { c.lang = lang; return c }

func pagesFixture(t *testing.T, db *store.DB) (*fixture, pageClient) {
	f := newFixture(t, db, Settings{})
	p := &Plugin{svc: f.svc}
	return f, pageClient{t: t, h: p.Handler(), lang: "en"}
}

func want(t *testing.T, what string, a pageAnswer, status int, contains ...string) {
	t.Helper()
	if a.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, a.Status, status, a.Body)
	}
	for _, s := range contains {
		if !strings.Contains(a.Body, s) {
			t.Errorf("%s: no %q in\n%s", what, s, a.Body)
		}
	}
}

// TestPages_Story walks the story through the pages, on both databases: a
// resident proposes (a broken rule first), the officer reviews and moves the phases,
// the resident votes on a knapsack ballot (over the budget first, then within it,
// through the review step), the officer counts with MES, and a visitor reads why each
// project won or lost and finds the Pabulib file.
func TestPages_Story(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f, web := pagesFixture(t, db)
		off := f.officer("officer", "n1")
		alice := f.resident("alice", "n1")
		c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "Harbour 2026", Budget: 1000_00, Currency: "EUR",
			Ballot: BallotRules{Type: BallotApproval, MaxCost: 1000_00}}))(t)
		cp := cyclePath(c.ID)
		res := web.as(alice)

		want(t, "cycles", web.get(pageBase), 200, "Harbour 2026", "Residents can propose projects now.")
		want(t, "cycle", res.get(cp), 200, cp+"/propose")
		want(t, "propose form", res.get(cp+"/propose"), 200, `name="title"`)

		bad := res.post(cp+"/propose", url.Values{"title": {" "}, "cost": {"12x"}})
		want(t, "propose, broken", bad, 422, "kv-error-summary", `aria-invalid="true"`, "12x")
		if bad.Meta.Focus != "kv-error-summary" {
			t.Errorf("focus %q", bad.Meta.Focus)
		}
		var ids []string
		for _, p := range []struct{ title, cost string }{{"Benches", "600"}, {"Lights", "500"}, {"Trees", "300"}} {
			a := res.post(cp+"/propose", url.Values{"title": {p.title}, "cost": {p.cost}, "category": {"Parks"}})
			if a.Status != 303 || !strings.HasPrefix(a.Location, cp+"/proposals/") {
				t.Fatalf("propose: %d %s %s", a.Status, a.Location, a.Body)
			}
			ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(a.Location, cp+"/proposals/"), "?sent=1"))
		}
		if a := web.get(proposalPath(c.ID, ids[0])); a.Status != 200 || a.Meta.Title != "Benches" || !strings.Contains(a.Body, "€600.00") {
			t.Errorf("proposal: %d %+v %s", a.Status, a.Meta, a.Body)
		}

		// Staff only: a resident cannot open the staff pages of the cycle.
		if a := res.get(cp + "/manage"); a.Status != 403 {
			t.Errorf("a resident opened the staff page: %d", a.Status)
		}
		other := web.as(f.officer("other", "n2"))
		if a := other.post(cp+"/phase", url.Values{"phase": {"review"}}); a.Status != 403 {
			t.Errorf("another neighbourhood's officer moved the phase: %d", a.Status)
		}
		staff := web.as(off)
		want(t, "manage", staff.get(cp+"/manage"), 200, `name="phase"`)
		if a := staff.post(cp+"/phase", url.Values{"phase": {"review"}}); a.Status != 303 {
			t.Fatalf("phase: %d %s", a.Status, a.Body)
		}
		want(t, "review queue", staff.get(cp+"/review"), 200, "Benches", `name="decision-`+ids[0]+`"`)
		r := staff.post(proposalPath(c.ID, ids[0])+"/review", url.Values{"decision-" + ids[0]: {"reject"}})
		want(t, "reject without reason", r, 422, "Give the reason")
		for _, id := range ids {
			a := staff.post(proposalPath(c.ID, id)+"/review", url.Values{"decision-" + id: {"accept"}, "cost-" + id: {map[string]string{ids[0]: "600", ids[1]: "500", ids[2]: "300"}[id]}})
			if a.Status != 303 {
				t.Fatalf("accept: %d %s", a.Status, a.Body)
			}
		}
		staff.post(cp+"/phase", url.Values{"phase": {"voting"}})

		want(t, "ballot", res.get(cp+"/ballot"), 200, `type="checkbox"`, "€1,000.00")
		over := res.post(cp+"/ballot/review", url.Values{"projects": {ids[0], ids[1]}})
		want(t, "over budget", over, 422, "Your choices cost €1,100.00, which is €100.00 more than the €1,000.00 you can spend.")
		if strings.Count(over.Body, "checked") != 2 {
			t.Errorf("the refused ballot lost its choices: %s", over.Body)
		}
		rev := res.post(cp+"/ballot/review", url.Values{"projects": {ids[0], ids[2]}})
		want(t, "review step", rev, 200, "Your choices cost €900.00 of the €1,000.00 you can spend.", `name="projects" value="`+ids[0]+`"`)
		cast := res.post(cp+"/ballot", url.Values{"projects": {ids[0], ids[2]}})
		if cast.Status != 303 || cast.Location != cp+"/ballot/cast" {
			t.Fatalf("cast: %d %s %s", cast.Status, cast.Location, cast.Body)
		}
		want(t, "cast", res.get(cp+"/ballot/cast"), 200, "Your ballot was cast.")
		again := res.post(cp+"/ballot", url.Values{"projects": {ids[1]}})
		want(t, "second ballot", again, 422, "already voted")
		bob := web.as(f.resident("bob", "n1"))
		bob.post(cp+"/ballot", url.Values{"projects": {ids[1], ids[2]}})

		staff.post(cp+"/phase", url.Values{"phase": {"results"}})
		want(t, "tally before a preview", staff.get(cp+"/tally"), 200, cp+"/tally/preview")
		if a := staff.post(cp+"/tally", url.Values{"rule": {"mes"}}); a.Status != 422 {
			t.Errorf("publishing without a preview: %d", a.Status)
		}
		if a := staff.post(cp+"/tally/preview", nil); a.Status != 303 || a.Location != cp+"/tally?previewed=1" {
			t.Fatalf("preview: %d %s", a.Status, a.Body)
		}
		if a := web.as(sdk.Principal{}).get(cp + "/results"); a.Status != 404 {
			t.Errorf("the preview is public: %d", a.Status)
		}
		pv := staff.get(cp + "/tally?previewed=1")
		want(t, "preview", pv, 200, "What each rule would fund", "Method of Equal Shares", "Most votes first", `value="mes"`, "Voters with no funded project")
		if pv.Meta.Announce == "" {
			t.Error("the preview is not announced")
		}
		if a := staff.post(cp+"/tally", url.Values{"rule": {"mes"}}); a.Status != 303 || a.Location != cp+"/results" {
			t.Fatalf("publish: %d %s", a.Status, a.Body)
		}
		out := web.as(sdk.Principal{}).get(cp + "/results")
		want(t, "results", out, 200, "Method of Equal Shares", "/api/v1/budgeting/cycles/"+c.ID+"/export.pb", "Why each project won or lost",
			`id="why-`+ids[0]+`"`, `id="why-`+ids[1]+`"`, `id="why-`+ids[2]+`"`, "who together had enough of their equal shares left")

		for _, lang := range pageLanguages {
			in := web.in(lang)
			for _, path := range []string{pageBase, cp, proposalPath(c.ID, ids[0]), cp + "/results", pageBase + "/cards/neighbourhood/n1"} {
				if a := in.get(path); a.Status != 200 {
					t.Errorf("%s %s: %d %s", lang, path, a.Status, a.Body)
				}
			}
			for _, path := range []string{cp + "/manage", cp + "/tally", cp + "/paper", pageBase + "/new"} {
				if a := in.as(off).get(path); a.Status != 200 {
					t.Errorf("%s %s: %d %s", lang, path, a.Status, a.Body)
				}
			}
		}
	})
}
