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
		if a := res.get(cp); !strings.Contains(a.Body, "You have voted in this budget.") || strings.Contains(a.Body, cp+"/ballot\"") {
			t.Errorf("the cycle page after voting still offers the ballot: %s", a.Body)
		}
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

// TestPages_OtherBallots casts cumulative and ordinal ballots through the pages: the
// review step shows the points or the ranking, a broken rule comes back 422 with the
// form kept, and the cast ballot is the one the service counts.
func TestPages_OtherBallots(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f, web := pagesFixture(t, db)
		res := web.as(f.resident("alice", "n1"))

		c, ids := f.votingCycle(t, BallotRules{Type: BallotCumulative, Points: 10, MaxPerProject: 6}, 1000_00, 100_00, 200_00, 300_00)
		cp := cyclePath(c.ID)
		want(t, "cumulative ballot", res.get(cp+"/ballot"), 200, `name="points-`+ids[0]+`"`, "Share out up to 10 points")
		bad := res.post(cp+"/ballot/review", url.Values{"points-" + ids[0]: {"7"}, "points-" + ids[1]: {"x"}})
		want(t, "points not a number", bad, 422, "a whole number of points", `value="x"`)
		want(t, "too many for one", res.post(cp+"/ballot/review", url.Values{"points-" + ids[0]: {"7"}}), 422, "at most 6 points")
		want(t, "too many", res.post(cp+"/ballot/review", url.Values{"points-" + ids[0]: {"6"}, "points-" + ids[1]: {"6"}}), 422, "You gave 12 points; you have 10")
		form := url.Values{"points-" + ids[0]: {"6"}, "points-" + ids[2]: {"4"}}
		want(t, "cumulative review", res.post(cp+"/ballot/review", form), 200, "You gave 10 of your 10 points.")
		if a := res.post(cp+"/ballot", form); a.Status != 303 {
			t.Fatalf("cumulative cast: %d %s", a.Status, a.Body)
		}
		if n := must(f.svc.Turnout(f.ctx, c.ID))(t); n.Ballots != 1 {
			t.Errorf("turnout %+v", n)
		}

		f2, web2 := pagesFixture(t, db)
		res2 := web2.as(f2.resident("bea", "n1"))
		o, oids := f2.votingCycle(t, BallotRules{Type: BallotOrdinal, Max: 2}, 1000_00, 100_00, 200_00, 300_00)
		op := cyclePath(o.ID)
		want(t, "ordinal ballot", res2.get(op+"/ballot"), 200, `name="rank-`+oids[2]+`"`)
		want(t, "rank twice", res2.post(op+"/ballot/review", url.Values{"rank-" + oids[0]: {"1"}, "rank-" + oids[1]: {"1"}}), 422, "Rank 1 is used more than once")
		want(t, "too many ranked", res2.post(op+"/ballot/review", url.Values{"rank-" + oids[0]: {"1"}, "rank-" + oids[1]: {"2"}, "rank-" + oids[2]: {"3"}}), 422, "Choose no more than 2.")
		rev := res2.post(op+"/ballot/review", url.Values{"rank-" + oids[2]: {"1"}, "rank-" + oids[0]: {"2"}})
		want(t, "ordinal review", rev, 200, `name="rank-`+oids[2]+`" value="1"`, `name="rank-`+oids[0]+`" value="2"`)
		if strings.Index(rev.Body, "Project 3") > strings.Index(rev.Body, "Project 1") {
			t.Errorf("the review lists the ranking out of order: %s", rev.Body)
		}
		if a := res2.post(op+"/ballot", url.Values{"rank-" + oids[2]: {"1"}, "rank-" + oids[0]: {"2"}}); a.Status != 303 {
			t.Fatalf("ordinal cast: %d %s", a.Status, a.Body)
		}
	})
}

// TestPages_BadInput: text and numbers a database could choke on (a NUL byte, a cost
// past int64 or past what the import allows) are refused with 422 and the form, on
// both databases, and nothing is stored.
func TestPages_BadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f, web := pagesFixture(t, db)
		off := f.officer("officer", "n1")
		c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "Harbour", Budget: 1000_00, Currency: "EUR",
			Ballot: BallotRules{Type: BallotApproval}}))(t)
		res := web.as(f.resident("alice", "n1"))
		cp := cyclePath(c.ID)
		for name, form := range map[string]url.Values{
			"NUL in the title":      {"title": {"Bench\x00es"}, "cost": {"10"}},
			"NUL in the place":      {"title": {"Benches"}, "cost": {"10"}, "location": {"\x00"}},
			"cost past int64":       {"title": {"Benches"}, "cost": {"99999999999999999999"}},
			"cost past the limit":   {"title": {"Benches"}, "cost": {"10000000000000"}},
			"negative cost":         {"title": {"Benches"}, "cost": {"-5"}},
			"title too long":        {"title": {strings.Repeat("ä", 201)}, "cost": {"10"}},
			"not valid UTF-8 title": {"title": {"\xff\xfe"}, "cost": {"10"}},
		} {
			if a := res.post(cp+"/propose", form); a.Status != 422 || !strings.Contains(a.Body, "kv-error-summary") {
				t.Errorf("%s: %d %s", name, a.Status, a.Body)
			}
		}
		if ps := must(listProposals(f.ctx, db, c.ID, ""))(t); len(ps) != 0 {
			t.Errorf("refused proposals were stored: %+v", ps)
		}
		staff := web.as(off)
		must(f.svc.SubmitProposal(f.ctx, f.resident("bob", "n1"), c.ID, ProposalInput{Title: "Lights", Cost: 100_00}))(t)
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseReview))(t)
		pid := must(listProposals(f.ctx, db, c.ID, ""))(t)[0].ID
		for name, form := range map[string]url.Values{
			"NUL in the reason":  {"decision-" + pid: {"reject"}, "reason-" + pid: {"no\x00"}},
			"cost past int64":    {"decision-" + pid: {"accept"}, "cost-" + pid: {"99999999999999999999"}},
			"unknown decision":   {"decision-" + pid: {"maybe"}},
			"merge into nothing": {"decision-" + pid: {"merge"}},
		} {
			if a := staff.post(proposalPath(c.ID, pid)+"/review", form); a.Status != 422 || !strings.Contains(a.Body, "kv-error-summary") {
				t.Errorf("review, %s: %d %s", name, a.Status, a.Body)
			}
		}
		if p := must(f.svc.Proposal(f.ctx, c.ID, pid))(t); p.Status != StatusSubmitted {
			t.Errorf("a refused review changed the proposal: %+v", p)
		}
	})
}

// TestPages_Guards: each staff page answers only an officer of the cycle's own
// neighbourhood, and a resident edits only their own proposal.
func TestPages_Guards(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f, web := pagesFixture(t, db)
		off := f.officer("officer", "n1")
		c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "Harbour", Budget: 1000_00, Currency: "EUR",
			Ballot: BallotRules{Type: BallotApproval}}))(t)
		cp := cyclePath(c.ID)
		alice, bob := f.resident("alice", "n1"), f.resident("bob", "n1")
		pr := must(f.svc.SubmitProposal(f.ctx, alice, c.ID, ProposalInput{Title: "Benches", Cost: 100_00}))(t)
		anon := must(f.svc.SubmitProposal(f.ctx, alice, c.ID, ProposalInput{Title: "Quiet bench", Cost: 10_00, Anonymous: true}))(t)
		if a := web.as(bob).get(proposalPath(c.ID, anon.ID)); a.Status != 200 || strings.Contains(a.Body, ">alice<") || !strings.Contains(a.Body, "A resident") {
			t.Errorf("an anonymous proposal shows its author to others: %s", a.Body)
		}
		if a := web.as(alice).get(proposalPath(c.ID, anon.ID)); !strings.Contains(a.Body, ">alice<") {
			t.Errorf("the author does not see their own name: %s", a.Body)
		}
		want(t, "anonymous kept on edit", web.as(alice).get(proposalPath(c.ID, anon.ID)+"/edit"), 200, `name="anonymous" value="1" checked`)
		want(t, "author edits", web.as(alice).get(proposalPath(c.ID, pr.ID)+"/edit"), 200, `value="Benches"`, `value="100"`)
		if a := web.as(alice).post(proposalPath(c.ID, pr.ID)+"/edit", url.Values{"title": {"Benches by the canal"}, "cost": {"120"}}); a.Status != 303 {
			t.Fatalf("edit: %d %s", a.Status, a.Body)
		}
		if p := must(f.svc.Proposal(f.ctx, c.ID, pr.ID))(t); p.Title != "Benches by the canal" || p.Cost != 120_00 {
			t.Errorf("edited: %+v", p)
		}
		if a := web.as(bob).get(proposalPath(c.ID, pr.ID) + "/edit"); a.Status != 403 {
			t.Errorf("another resident opened the edit form: %d", a.Status)
		}
		if a := web.as(bob).post(proposalPath(c.ID, pr.ID)+"/edit", url.Values{"title": {"Mine now"}, "cost": {"1"}}); a.Status != 403 {
			t.Errorf("another resident edited: %d %s", a.Status, a.Body)
		}
		other := web.as(f.officer("other", "n2"))
		for _, path := range []string{cp + "/manage", cp + "/review", cp + "/paper", cp + "/tally"} {
			if a := other.get(path); a.Status != 403 {
				t.Errorf("an officer of another neighbourhood opened %s: %d", path, a.Status)
			}
			if a := web.as(bob).get(path); a.Status != 403 {
				t.Errorf("a resident opened %s: %d", path, a.Status)
			}
		}
		for _, path := range []string{cp + "/tally", cp + "/tally/preview", cp + "/paper", proposalPath(c.ID, pr.ID) + "/review"} {
			if a := other.post(path, url.Values{"rule": {"mes"}}); a.Status != 403 {
				t.Errorf("an officer of another neighbourhood posted %s: %d", path, a.Status)
			}
		}
		if p := must(f.svc.Proposal(f.ctx, c.ID, pr.ID))(t); p.Title != "Benches by the canal" {
			t.Errorf("changed by someone else: %+v", p)
		}
	})
}

// TestPages_StaffForms opens a cycle through the set-up form, enters a paper ballot,
// publishes and reports on a funded project, and shows the neighbourhood card.
func TestPages_StaffForms(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f, web := pagesFixture(t, db)
		off := f.officer("officer", "n1")
		staff := web.as(off)
		want(t, "set-up form", staff.get(pageBase+"/new"), 200, `name="neighbourhood_id"`, `value="n1"`)
		want(t, "set-up without a name", staff.post(pageBase+"/new", url.Values{"neighbourhood_id": {"n1"}, "budget": {"1000"}, "currency": {"EUR"}, "ballot_type": {"approval"}}), 422, "kv-error-summary")
		a := staff.post(pageBase+"/new", url.Values{"name": {"Harbour 2027"}, "neighbourhood_id": {"n1"}, "budget": {"1000"}, "currency": {"eur"},
			"ballot_type": {"approval"}, "knapsack": {"1"}, "voting_from": {"2026-06-01"}})
		if a.Status != 303 || !strings.HasSuffix(a.Location, "/manage") {
			t.Fatalf("set-up: %d %s", a.Status, a.Body)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(a.Location, pageBase+"/cycles/"), "/manage")
		c := must(f.svc.Cycle(f.ctx, id))(t)
		if c.Budget != 1000_00 || c.Currency != "EUR" || c.Ballot.MaxCost != 1000_00 || c.Schedule[PhaseVoting].IsZero() {
			t.Errorf("the cycle set up: %+v", c)
		}
		// The card: the phase, until when (voting starts on 1 June), and the one thing
		// a resident can do now, as a link.
		want(t, "card", web.get(pageBase+"/cards/neighbourhood/n1"), 200, "Harbour 2027", "Ideas (until 1 Jun 2026)", "Residents can propose projects now.",
			`<a class="ds-link" href="`+cyclePath(id)+`/propose">Propose a project</a>`)
		want(t, "card in Danish", web.in("da").get(pageBase+"/cards/neighbourhood/n1"), 200, "Foreslå et projekt")
		want(t, "empty card", web.get(pageBase+"/cards/neighbourhood/n2"), 200, "No participatory budget is running")
		want(t, "home card", web.as(f.resident("dana", "n1")).get(pageBase+"/cards/home"), 200, "Harbour 2027")
		want(t, "home card elsewhere", web.as(f.resident("emil", "n2")).get(pageBase+"/cards/home"), 200, "No participatory budget is running")

		v, ids := f.votingCycle(t, BallotRules{Type: BallotApproval, MaxCost: 500_00}, 500_00, 300_00, 200_00, 400_00)
		vp := cyclePath(v.ID)
		want(t, "card while voting", web.get(pageBase+"/cards/neighbourhood/n1"), 200, `<a class="ds-link" href="`+vp+`/ballot">Vote</a>`)
		want(t, "paper form", staff.get(vp+"/paper"), 200, `type="checkbox"`)
		want(t, "paper over budget", staff.post(vp+"/paper", url.Values{"projects": {ids[0], ids[2]}}), 422, "more than")
		if a := staff.post(vp+"/paper", url.Values{"projects": {ids[0], ids[1]}}); a.Status != 303 {
			t.Fatalf("paper: %d %s", a.Status, a.Body)
		}
		want(t, "paper again", staff.get(vp+"/paper?recorded=1"), 200, "The paper ballot was recorded.")
		must(f.svc.SetPhase(f.ctx, off, v.ID, PhaseResults))(t)
		staff.post(vp+"/tally/preview", nil)
		if a := staff.post(vp+"/tally", url.Values{"rule": {"greedy"}}); a.Status != 303 {
			t.Fatalf("publish greedy: %d %s", a.Status, a.Body)
		}
		want(t, "funded project", staff.get(proposalPath(v.ID, ids[0])), 200, `name="status"`, "Publish the update")
		if a := staff.post(proposalPath(v.ID, ids[0])+"/updates", url.Values{"status": {"in_progress"}, "note": {"Benches ordered"}}); a.Status != 303 {
			t.Fatalf("update: %d %s", a.Status, a.Body)
		}
		want(t, "progress", web.get(proposalPath(v.ID, ids[0])), 200, "In progress", "Benches ordered")
		want(t, "results by most votes", web.get(vp+"/results"), 200, "most votes were funded")
	})
}
