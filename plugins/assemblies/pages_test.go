package assemblies

import (
	"context"

	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// pageResp is a page's answer: status, Location, HTML and the meta it handed over.
type pageResp struct {
	Status   int
	Location string
	Body     string
	Meta     sdk.PageMeta
}

// visit sends a page request as who in lang, as the host forwards one (the render
// mode, the language, the Principal; the route's permission the host checked). A
// non-nil form is posted url-encoded.
func (e *env) visit(who sdk.Principal, method, path, lang string, form url.Values) pageResp {
	e.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	ctx := sdk.WithHost(sdk.WithPrincipal(context.Background(), who), e.Host)
	ctx = sdk.WithLanguage(sdk.WithRender(ctx, sdk.RenderPage), lang)
	ctx, meta := sdk.RecordPageMeta(ctx)
	rec := httptest.NewRecorder()
	e.plugin.Handler().ServeHTTP(rec, req.WithContext(ctx))
	e.Flush()
	r := pageResp{Status: rec.Code, Location: rec.Header().Get("Location"), Body: rec.Body.String(), Meta: *meta}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") && r.Status != http.StatusSeeOther {
		var problems []string
		for _, p := range webtest.CheckMarkup(webtest.ParseFragment(e.t, r.Body), webtest.Content) {
			// A card's headings are h4: the host's section is h2, the card's own h3.
			if !strings.Contains(path, "/cards/") || !strings.Contains(p, "level is skipped") {
				problems = append(problems, p)
			}
		}
		if len(problems) > 0 {
			e.t.Errorf("%s %s (%s): markup problems %v", method, path, lang, problems)
		}
	}
	return r
}

// benchHandlers are the plugins' handlers, made once per plugin for the benchmarks.
var benchHandlers = map[*Plugin]http.Handler{}

// visitQuiet is a GET of a page without the markup check, for benchmarks.
func (e *env) visitQuiet(who sdk.Principal, path string) pageResp {
	req := httptest.NewRequest("GET", path, nil)
	ctx := sdk.WithHost(sdk.WithPrincipal(context.Background(), who), e.Host)
	ctx = sdk.WithLanguage(sdk.WithRender(ctx, sdk.RenderPage), "en")
	rec := httptest.NewRecorder()
	h, ok := benchHandlers[e.plugin]
	if !ok {
		h = e.plugin.Handler() // once, as the SDK serves it
		benchHandlers[e.plugin] = h
	}
	h.ServeHTTP(rec, req.WithContext(ctx))
	return pageResp{Status: rec.Code}
}

// must is visit, failing unless the status is want.
func (e *env) mustVisit(want int, who sdk.Principal, method, path, lang string, form url.Values) pageResp {
	e.t.Helper()
	r := e.visit(who, method, path, lang, form)
	if r.Status != want {
		e.t.Fatalf("%s %s as %q = %d, want %d: %s", method, path, who.UserID, r.Status, want, r.Body)
	}
	return r
}

// TestPages_Story is the story through the pages, on both databases: a chair
// schedules a meeting, a member drafts a motion, the chair tables it and opens a
// secret vote, six members vote in the booth, the chair closes it (adopted), the city
// answers, and an anonymous visitor reads the timeline. Every form answers 303 on
// success and 422 with its error summary focused on a broken rule.
func TestPages_Story(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		i18ntest.Strict(t, pageBundle)
		a, chair := e.assembly("karsiyaka", map[string]any{"secrecy": "secret", "ballot_changeable": false})
		members := e.members(a, 6)
		asm := "/assemblies/" + a.ID
		anon := e.As("")

		// The chair schedules a meeting: a broken rule first, then a hybrid meeting.
		e.mustVisit(200, chair, "GET", asm+"/meetings/new", "en", nil)
		bad := e.mustVisit(422, chair, "POST", asm+"/meetings", "en", url.Values{"title": {"Spring meeting"}, "date": {"2026-03-10"},
			"starts_at": {"18:00"}, "ends_at": {"17:00"}})
		if bad.Meta.Focus != "kv-error-summary" || !strings.Contains(bad.Body, "The meeting must end after it starts") ||
			!strings.Contains(bad.Body, `value="Spring meeting"`) {
			t.Errorf("refused meeting: focus %q, body %s", bad.Meta.Focus, bad.Body)
		}
		ok := e.mustVisit(303, chair, "POST", asm+"/meetings", "en", url.Values{"title": {"Spring meeting"}, "date": {"2026-03-10"},
			"starts_at": {"18:00"}, "ends_at": {"20:00"}, "place": {"Community hall"}, "online_url": {"https://meet.example.org/k"},
			"agenda": {"Opening\nBenches on the shore\n"}})
		if !strings.HasPrefix(ok.Location, asm+"/meetings/") {
			t.Fatalf("after scheduling: Location %q", ok.Location)
		}
		meeting := e.mustVisit(200, anon, "GET", strings.Split(ok.Location, "?")[0], "en", nil)
		for _, want := range []string{"Community hall, and online", "Benches on the shore", "Join the meeting online"} {
			if !strings.Contains(meeting.Body, want) {
				t.Errorf("meeting page lacks %q: %s", want, meeting.Body)
			}
		}

		// A member drafts a motion; a non-member is told to join first.
		e.resident("outsider", a.NeighbourhoodID)
		refused := e.mustVisit(422, e.As("outsider"), "POST", asm+"/motions", "en", url.Values{"title": {"Benches"}, "text": {"Six benches."}})
		if !strings.Contains(refused.Body, "Only members of the assembly may draft motions") {
			t.Errorf("outsider's draft: %s", refused.Body)
		}
		drafted := e.mustVisit(303, members[0], "POST", asm+"/motions", "en", url.Values{"title": {"Benches on the shore"}, "text": {"Place six benches.\n\nPeople want to sit."}})
		motion := strings.Split(drafted.Location, "?")[0]
		if e.visit(anon, "GET", motion, "en", nil).Status != http.StatusNotFound {
			t.Error("an anonymous visitor sees a draft")
		}

		// Its author asks two members to co-sponsor; one does.
		authorView := e.mustVisit(200, members[0], "GET", motion, "en", nil)
		if !strings.Contains(authorView.Body, "Ask members to co-sponsor") {
			t.Errorf("the author is not offered to invite co-sponsors: %s", authorView.Body)
		}
		e.mustVisit(422, members[0], "POST", motion+"/invite", "en", url.Values{})
		e.mustVisit(303, members[0], "POST", motion+"/invite", "en", url.Values{"user_ids": {members[1].UserID, members[2].UserID}})
		e.mustVisit(303, members[1], "POST", motion+"/sponsor", "en", url.Values{})
		if got := e.mustVisit(200, chair, "GET", motion, "en", nil).Body; !strings.Contains(got, "Resident "+members[1].UserID+" co-sponsored the motion.") {
			t.Errorf("the co-sponsor is not on the timeline: %s", got)
		}

		// The chair tables it and opens a secret vote.
		page := e.mustVisit(200, chair, "GET", motion, "en", nil)
		if !strings.Contains(page.Body, "Table the motion for a vote") {
			t.Errorf("the chair is not offered to table: %s", page.Body)
		}
		e.mustVisit(303, chair, "POST", motion+"/table", "en", url.Values{})
		page = e.mustVisit(200, chair, "GET", motion, "en", nil)
		if !strings.Contains(page.Body, "Open the vote") {
			t.Errorf("the chair is not offered to open the vote: %s", page.Body)
		}
		if strings.Contains(e.mustVisit(200, members[1], "GET", motion, "en", nil).Body, "Open the vote") {
			t.Error("a member is offered the chair's form")
		}
		// It goes on the agenda of a second meeting, which its timeline tells.
		if !strings.Contains(e.mustVisit(200, chair, "GET", asm+"/meetings/new", "en", nil).Body, "Benches on the shore") {
			t.Error("the meeting form does not offer the tabled motion")
		}
		e.mustVisit(303, chair, "POST", asm+"/meetings", "en", url.Values{"title": {"Vote meeting"}, "date": {"2026-03-12"},
			"starts_at": {"18:00"}, "ends_at": {"20:00"}, "place": {"Community hall"}, "motion_ids": {strings.TrimPrefix(motion, asm+"/motions/")}})
		if got := e.mustVisit(200, anon, "GET", motion, "en", nil).Body; !strings.Contains(got, "put the motion on the agenda of the meeting “Vote meeting”") {
			t.Errorf("the timeline does not say the motion is on the agenda: %s", got)
		}
		e.mustVisit(303, chair, "POST", motion+"/open", "en", url.Values{"secrecy": {"secret"}})

		// Six members vote in the booth; the receipt of a secret vote never repeats
		// the choice.
		booth := e.mustVisit(200, members[0], "GET", motion+"/vote", "en", nil)
		for _, want := range []string{"This vote is secret", "What is stored", "A ballot cannot be changed once it is cast"} {
			if !strings.Contains(booth.Body, want) {
				t.Errorf("booth lacks %q", want)
			}
		}
		none := e.mustVisit(422, members[0], "POST", motion+"/vote", "en", url.Values{})
		if none.Meta.Focus != "kv-error-summary" || !strings.Contains(none.Body, "Choose yes, no or abstain") {
			t.Errorf("a ballot without a choice: %+v %s", none.Meta, none.Body)
		}
		choices := []string{"yes", "yes", "yes", "yes", "no", "abstain"}
		// The booth answers the ballot with its confirmation, the same for every voter:
		// it says the ballot is cast and what is stored, never the choice.
		var first, cast0Title string
		for i, m := range members {
			if i == 3 {
				// The confirmation is kept per round and language: a Finnish voter of the
				// same round gets it in Finnish, title and announcement too, and the
				// English voters after them the English one.
				fi := e.mustVisit(200, m, "POST", motion+"/vote", "fi", url.Values{"choice": {choices[i]}})
				if fi.Meta.Announce != "Äänesi on annettu." || strings.Contains(fi.Body, "Your ballot is cast") || fi.Meta.Title == cast0Title {
					t.Errorf("a Finnish voter's confirmation: %+v %s", fi.Meta, fi.Body)
				}
				continue
			}
			cast := e.mustVisit(200, m, "POST", motion+"/vote", "en", url.Values{"choice": {choices[i]}})
			if !strings.Contains(cast.Body, "Your ballot is cast") || !strings.Contains(cast.Body, "What is stored") ||
				cast.Meta.Announce != "Your ballot is cast." || strings.Contains(cast.Body, `type="radio"`) {
				t.Errorf("confirmation of ballot %d: %+v %s", i, cast.Meta, cast.Body)
			}
			for _, c := range []string{"You voted", `value="yes" checked`, `value="no" checked`, `value="abstain" checked`} {
				if strings.Contains(cast.Body, c) {
					t.Errorf("the confirmation of a secret %s ballot says %q", choices[i], c)
				}
			}
			if i == 0 {
				first, cast0Title = cast.Body, cast.Meta.Title
			} else if cast.Body != first || cast.Meta.Title != cast0Title {
				t.Errorf("a %s ballot's confirmation differs from a %s one's:\n%s\n%s", choices[i], choices[0], cast.Body, first)
			}
		}
		receipt := e.mustVisit(200, members[0], "GET", motion+"/vote?done=cast", "en", nil)
		if !strings.Contains(receipt.Body, "Your ballot is cast") || strings.Contains(receipt.Body, "You voted") || receipt.Meta.Announce != "Your ballot is cast." {
			t.Errorf("receipt %+v %s", receipt.Meta, receipt.Body)
		}
		outsider := e.As("outsider")
		if spoof := e.mustVisit(200, outsider, "GET", motion+"/vote?done=cast", "en", nil); strings.Contains(spoof.Body, "Your ballot is cast") || spoof.Meta.Announce != "" {
			t.Errorf("a link with done=cast tells someone who has not voted that they have: %+v %s", spoof.Meta, spoof.Body)
		}
		again := e.mustVisit(422, members[0], "POST", motion+"/vote", "en", url.Values{"choice": {"no"}})
		if !strings.Contains(again.Body, "This could not be done") {
			t.Errorf("a second ballot: %s", again.Body)
		}

		// The chair closes it: adopted, 4–1–1.
		e.mustVisit(303, chair, "POST", motion+"/close", "en", url.Values{})

		// The city responder answers from the inbox.
		resp := e.user("kent", RoleCityResponder, sdk.DomainCity)
		inbox := e.mustVisit(200, resp, "GET", "/assemblies/inbox", "en", nil)
		if !strings.Contains(inbox.Body, "Benches on the shore") {
			t.Errorf("inbox lacks the adopted motion: %s", inbox.Body)
		}
		noReason := e.mustVisit(422, resp, "POST", motion+"/city/answered", "en", url.Values{"decision": {"accepted"}})
		if !strings.Contains(noReason.Body, "Give the reasons for the decision") {
			t.Errorf("an answer without reasons: %s", noReason.Body)
		}
		e.mustVisit(303, resp, "POST", motion+"/city/answered", "en", url.Values{"decision": {"accepted"}, "reasoning": {"Six benches will be placed in May."}})

		// An anonymous visitor reads the whole timeline, and no one's form.
		public := e.mustVisit(200, anon, "GET", motion, "en", nil)
		for _, want := range []string{"drafted the motion", "tabled the motion", "put the motion to the vote",
			"The vote closed: Adopted (4 yes, 1 no, 1 abstaining)", "sent to the city", "The city answered: The city accepts the motion",
			"Six benches will be placed in May."} {
			if !strings.Contains(public.Body, want) {
				t.Errorf("public motion page lacks %q", want)
			}
		}
		for _, never := range []string{"<form", "Open the vote", "Publish the answer"} {
			if strings.Contains(public.Body, never) {
				t.Errorf("the anonymous visitor sees %q", never)
			}
		}
		if strings.Contains(e.mustVisit(200, anon, "GET", "/assemblies/answers", "en", nil).Body, "Benches on the shore") {
			t.Error("an answered motion is still listed as owed")
		}
		card := e.mustVisit(200, anon, "GET", "/assemblies/cards/neighbourhood/"+a.NeighbourhoodID, "en", nil)
		if !strings.Contains(card.Body, "Spring meeting") || !strings.Contains(card.Body, "The city accepts the motion") {
			t.Errorf("card: %s", card.Body)
		}

		// Every page in every language: no missing message (Strict), sound markup.
		for _, lang := range pageLanguages {
			for _, path := range []string{"/assemblies", asm, strings.Split(ok.Location, "?")[0], motion, motion + "/vote", "/assemblies/answers",
				"/assemblies/cards/neighbourhood/" + a.NeighbourhoodID} {
				e.mustVisit(200, chair, "GET", path, lang, nil)
				e.mustVisit(200, anon, "GET", path, lang, nil)
			}
			e.mustVisit(200, resp, "GET", "/assemblies/inbox", lang, nil)
			e.mustVisit(200, chair, "GET", asm+"/meetings/new", lang, nil)
			e.mustVisit(200, members[0], "GET", asm+"/motions/new", lang, nil)
		}
	})
}

// TestPages_Catalog holds the pages' catalog to every language, every placeholder.
func TestPages_Catalog(t *testing.T) {
	i18ntest.CheckCatalog(t, pageLocales)
	for _, lang := range pageLanguages {
		if got := labels("assemblies.nav")[lang]; got == "" {
			t.Errorf("no nav label in %s", lang)
		}
	}
}

// TestPages_Manifest: the nav entries and the neighbourhood card are declared, page
// routes beside the API, and the inbox only for the city's responders.
func TestPages_Manifest(t *testing.T) {
	m := New().Manifest()
	if len(m.UI.Nav) != 2 || m.UI.Nav[1].Permission != PermMotionAnswer || m.UI.Nav[1].Domain != sdk.DomainCity {
		t.Errorf("nav %+v", m.UI.Nav)
	}
	if len(m.UI.Cards) != 1 || m.UI.Cards[0].Slot != "neighbourhood" || !strings.Contains(m.UI.Cards[0].Path, "{nbh}") {
		t.Errorf("cards %+v", m.UI.Cards)
	}
	pages := 0
	for _, r := range m.Routes {
		if r.Kind == sdk.RoutePage {
			pages++
			if !strings.HasPrefix(r.Path, "/assemblies") {
				t.Errorf("page %s outside the plugin's prefix", r.Path)
			}
		}
	}
	if pages != len(New().(*Plugin).pageRoutes()) {
		t.Errorf("%d page routes in the manifest", pages)
	}
}

// TestPages_EditsAndMeetings covers the officers' and authors' other pages on both
// databases: edit the assembly, reschedule a meeting until it begins, record who came
// in the room and online and publish the minutes once it has, edit a draft (its
// author only), and the city's request for advice. Each refuses whom the Service
// refuses.
func TestPages_EditsAndMeetings(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		i18ntest.Strict(t, pageBundle)
		a, chair := e.assembly("bornova", nil)
		members := e.members(a, 3)
		asm := "/assemblies/" + a.ID

		// The assembly: its chair edits the name and rules; a member may not.
		if r := e.visit(members[0], "GET", asm+"/edit", "en", nil); r.Status != http.StatusForbidden {
			t.Errorf("a member opens the assembly's edit form: %d", r.Status)
		}
		form := e.mustVisit(200, chair, "GET", asm+"/edit", "fi", nil)
		if !strings.Contains(form.Body, `value="Assembly of bornova"`) {
			t.Errorf("the edit form is not prefilled: %s", form.Body)
		}
		e.mustVisit(422, chair, "POST", asm+"/edit", "en", url.Values{"name": {"Bornova"}, "charter": {"x"}, "quorum_percent": {"99999999999"},
			"majority": {"simple"}, "secrecy": {"named"}, "membership": {"open"}})
		e.mustVisit(303, chair, "POST", asm+"/edit", "en", url.Values{"name": {"Bornova Assembly"}, "charter": {"Advise on the park."},
			"quorum_percent": {"40"}, "quorum_absolute": {"0"}, "majority": {"two_thirds"}, "secrecy": {"named"}, "membership": {"open"},
			"ballot_changeable": {"true"}})
		page := e.mustVisit(200, e.As(""), "GET", asm, "en", nil)
		for _, want := range []string{"Advise on the park.", "at least 40 %", "two thirds", "You may change your ballot"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("after the edit the assembly page lacks %q", want)
			}
		}

		// A meeting: rescheduled before it begins; attendance and minutes after.
		ok := e.mustVisit(303, chair, "POST", asm+"/meetings", "en", url.Values{"title": {"Park meeting"}, "date": {"2026-03-05"},
			"starts_at": {"18:00"}, "ends_at": {"19:00"}, "online_url": {"https://meet.example.org/b"}})
		meeting := strings.Split(ok.Location, "?")[0]
		edit := e.mustVisit(200, chair, "GET", meeting+"/edit", "en", nil)
		if !strings.Contains(edit.Body, `value="2026-03-05"`) || !strings.Contains(edit.Body, `value="18:00"`) {
			t.Errorf("the meeting's form is not prefilled: %s", edit.Body)
		}
		if r := e.visit(members[0], "POST", meeting+"/edit", "en", url.Values{"title": {"Mine"}, "date": {"2026-03-06"},
			"starts_at": {"18:00"}, "ends_at": {"19:00"}, "place": {"Hall"}}); r.Status != http.StatusForbidden {
			t.Errorf("a member reschedules the meeting: %d", r.Status)
		}
		e.mustVisit(303, chair, "POST", meeting+"/edit", "en", url.Values{"title": {"Park meeting"}, "date": {"2026-03-06"},
			"starts_at": {"18:00"}, "ends_at": {"19:30"}, "place": {"Park pavilion"}, "online_url": {"https://meet.example.org/b"}})
		before := e.mustVisit(200, chair, "GET", meeting, "en", nil)
		if !strings.Contains(before.Body, "Park pavilion, and online") || strings.Contains(before.Body, "Who took part online") {
			t.Errorf("before it begins the meeting shows: %s", before.Body)
		}
		e.clock.Set(t0.Add(4*24*time.Hour + 10*time.Hour)) // 6 March, 19:00
		held := e.mustVisit(200, chair, "GET", meeting, "en", nil)
		if !strings.Contains(held.Body, "Who took part online") || strings.Contains(held.Body, "/edit") {
			t.Errorf("a held meeting's page: %s", held.Body)
		}
		e.mustVisit(303, chair, "POST", meeting+"/attendance", "en", url.Values{"user_ids": {chair.UserID, members[0].UserID},
			"remote_user_ids": {members[1].UserID}})
		e.mustVisit(303, chair, "POST", meeting+"/minutes", "en", url.Values{"minutes": {"We agreed on benches.\n\nNext time: lights."}})
		if strings.Contains(e.mustVisit(200, e.As(""), "GET", meeting, "en", nil).Body, "We agreed on benches.") {
			t.Error("draft minutes are public")
		}
		e.mustVisit(303, chair, "POST", meeting+"/approve_minutes", "en", url.Values{})
		e.mustVisit(303, chair, "POST", meeting+"/publish_minutes", "en", url.Values{})
		public := e.mustVisit(200, e.As(""), "GET", meeting, "sv", nil)
		for _, want := range []string{"We agreed on benches.", "Deltog digitalt", "Resident " + members[1].UserID, "Resident " + members[0].UserID} {
			if !strings.Contains(public.Body, want) {
				t.Errorf("the published meeting lacks %q", want)
			}
		}

		// A draft: its author edits it, nobody else.
		drafted := e.mustVisit(303, members[0], "POST", asm+"/motions", "en", url.Values{"title": {"Lights"}, "text": {"More lights."}})
		motion := strings.Split(drafted.Location, "?")[0]
		if r := e.visit(members[1], "GET", motion+"/edit", "en", nil); r.Status != http.StatusForbidden {
			t.Errorf("another member opens the draft's edit form: %d", r.Status)
		}
		if r := e.visit(members[1], "POST", motion+"/edit", "en", url.Values{"title": {"Mine"}, "text": {"Mine."}}); r.Status != http.StatusForbidden {
			t.Errorf("another member edits the draft: %d %s", r.Status, r.Body)
		}
		e.mustVisit(422, members[0], "POST", motion+"/edit", "en", url.Values{"title": {""}, "text": {"More lights."}})
		e.mustVisit(303, members[0], "POST", motion+"/edit", "en", url.Values{"title": {"Lights on the path"}, "text": {"Twelve lights."}})
		if got := e.mustVisit(200, members[2], "GET", motion, "en", nil); got.Meta.Title != "Lights on the path" || !strings.Contains(got.Body, "edited the draft") {
			t.Errorf("after the edit: %+v %s", got.Meta, got.Body)
		}

		// The city asks for advice: its own page, then the assembly's list.
		kent := e.user("kent", RoleCityResponder, sdk.DomainCity)
		if !strings.Contains(e.mustVisit(200, kent, "GET", asm, "en", nil).Body, "Ask the assembly for advice") {
			t.Error("a responder is not offered to ask for advice")
		}
		e.mustVisit(200, kent, "GET", asm+"/consultations/new", "tr", nil)
		e.mustVisit(422, kent, "POST", asm+"/consultations", "en", url.Values{"title": {"Park plan"}, "text": {"Which trees?"}})
		asked := e.mustVisit(303, kent, "POST", asm+"/consultations", "en", url.Values{"title": {"Park plan"}, "text": {"Which trees?"},
			"advice_due_at": {"2026-04-01"}})
		if got := e.mustVisit(200, e.As(""), "GET", strings.Split(asked.Location, "?")[0], "en", nil).Body; !strings.Contains(got, "Request for advice") {
			t.Errorf("the consultation's page: %s", got)
		}
		if got := e.mustVisit(200, e.As(""), "GET", asm, "en", nil).Body; !strings.Contains(got, "The city asks for advice") || !strings.Contains(got, "Park plan") {
			t.Errorf("the assembly does not list the consultation: %s", got)
		}
	})
}

// TestPages_Visibility attacks what the pages show: a city that keeps member lists to
// members shows them to no one else; applicants only to officers; officers' and the
// city's controls only to them (a coordinator of the neighbourhood counts as an
// officer); drafts to no visitor; and a member who is not a responder cannot answer
// for the city even by posting the form.
func TestPages_Visibility(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, map[string]string{SettingMemberListPublic: "false"})
		a, chair := e.assembly("buca", map[string]any{"membership": "approval"})
		asm := "/assemblies/" + a.ID
		applicant := e.resident("applicant", "buca")
		e.mustVisit(303, applicant, "POST", asm+"/join", "en", url.Values{})
		anon, outsider := e.As(""), e.resident("outsider", "buca")
		coord := e.user("coord", "coordinator", "nbh:buca")

		for who, p := range map[string]sdk.Principal{"anonymous": anon, "outsider": outsider} {
			body := e.mustVisit(200, p, "GET", asm, "en", nil).Body
			if !strings.Contains(body, "shows the member list to the assembly&#39;s members only") || strings.Contains(body, "Resident buca-chair") {
				t.Errorf("%s sees the hidden member list: %s", who, body)
			}
			if strings.Contains(body, "Applications") || strings.Contains(body, "Schedule a meeting") || strings.Contains(body, "Ask the assembly for advice") {
				t.Errorf("%s sees an officer's or the city's control", who)
			}
		}
		for who, p := range map[string]sdk.Principal{"chair": chair, "coordinator": coord} {
			body := e.mustVisit(200, p, "GET", asm, "en", nil).Body
			if !strings.Contains(body, "Approve Resident applicant") || !strings.Contains(body, "Schedule a meeting") {
				t.Errorf("the %s is not offered the applications and the meeting form: %s", who, body)
			}
		}
		e.mustVisit(303, chair, "POST", asm+"/members/applicant/approve", "en", url.Values{})
		if body := e.mustVisit(200, applicant, "GET", asm, "en", nil).Body; !strings.Contains(body, "Resident buca-chair") || !strings.Contains(body, "You are a member") {
			t.Errorf("an approved member's view: %s", body)
		}

		// A member's motion, adopted; only a responder may answer it.
		m := e.tabled(a, applicant, "Benches")
		e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/open", nil)
		e.Must(201, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/ballots", map[string]string{"choice": "yes"})
		e.Must(201, applicant, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/ballots", map[string]string{"choice": "yes"})
		e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/close", nil)
		motion := asm + "/motions/" + m.ID
		if strings.Contains(e.mustVisit(200, chair, "GET", motion, "en", nil).Body, "Publish the answer") {
			t.Error("the chair is offered the city's answer")
		}
		if r := e.visit(applicant, "POST", motion+"/city/answered", "en", url.Values{"decision": {"accepted"}, "reasoning": {"Yes."}}); r.Status != http.StatusForbidden {
			t.Errorf("a member answers for the city: %d", r.Status)
		}
		if got := e.mustVisit(200, anon, "GET", motion, "en", nil).Body; !strings.Contains(got, "Sent to the city") {
			t.Errorf("the adopted motion's answer status: %s", got)
		}
	})
}

// The assembly page is drawn once for equal data (assemblyPageKey): each change shows at
// once, and viewers who may see different things never get each other's page.
func TestPages_AssemblyPageFollowsChanges(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, map[string]string{SettingMemberListPublic: "false"})
		a, chair := e.assembly("bornova", map[string]any{"membership": "approval"})
		asm := "/assemblies/" + a.ID
		anon, applicant := e.As(""), e.resident("applicant", "bornova")
		e.mustVisit(200, anon, "GET", asm, "en", nil) // drawn and kept for strangers

		e.Must(201, applicant, "POST", "/api/v1/assemblies/"+a.ID+"/members", nil)
		mine := e.mustVisit(200, applicant, "GET", asm, "en", nil).Body
		if !strings.Contains(mine, "You have applied") {
			t.Errorf("the applicant's page does not show the application: %s", mine)
		}
		chairs := e.mustVisit(200, chair, "GET", asm, "en", nil).Body
		if !strings.Contains(chairs, "Resident applicant") {
			t.Errorf("the chair's page lacks the applicant: %s", chairs)
		}
		stranger := e.mustVisit(200, anon, "GET", asm, "en", nil).Body
		if strings.Contains(stranger, "Resident applicant") || strings.Contains(stranger, "You have applied") {
			t.Errorf("a stranger sees the applicant or another's application: %s", stranger)
		}

		e.mustVisit(303, chair, "POST", asm+"/meetings", "en", url.Values{"title": {"Autumn meeting"},
			"date": {time.Now().AddDate(0, 0, 7).Format(time.DateOnly)}, "starts_at": {"18:00"}, "ends_at": {"20:00"}, "place": {"Hall"}})
		if got := e.mustVisit(200, anon, "GET", asm, "en", nil).Body; !strings.Contains(got, "Autumn meeting") {
			t.Errorf("a new meeting does not show on the page: %s", got)
		}
		e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/members/applicant/approve", nil)
		if got := e.mustVisit(200, applicant, "GET", asm, "en", nil).Body; strings.Contains(got, "You have applied") {
			t.Errorf("the approved member's page still shows the application: %s", got)
		}
	})
}

// The motion page is drawn once for equal data too (renderSummed), and reads the
// viewer's membership with the motion: each viewer still gets only the buttons that
// are theirs, a draft stays hidden from strangers, and each step shows at once.
func TestPages_MotionPageFollowsChanges(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("karsiyaka", nil)
		ms := e.members(a, 2)
		author, other := ms[0], ms[1]
		anon, outsider := e.As(""), e.resident("outsider", "karsiyaka")
		var m Motion
		e.Must(201, author, "POST", "/api/v1/assemblies/"+a.ID+"/motions", map[string]any{"title": "Benches", "text": "Six benches."}).Decode(t, &m)
		page := "/assemblies/" + a.ID + "/motions/" + m.ID

		mine := e.mustVisit(200, author, "GET", page, "en", nil).Body
		if !strings.Contains(mine, "Edit the draft") || strings.Contains(mine, "Co-sponsor this motion") {
			t.Errorf("the author's draft: want edit, no co-sponsoring: %s", mine)
		}
		theirs := e.mustVisit(200, other, "GET", page, "en", nil).Body
		if strings.Contains(theirs, "Edit the draft") || !strings.Contains(theirs, "Co-sponsor this motion") {
			t.Errorf("another member's view of the draft: want co-sponsoring, no edit: %s", theirs)
		}
		for name, p := range map[string]sdk.Principal{"anonymous": anon, "a resident who is no member": outsider} {
			if r := e.visit(p, "GET", page, "en", nil); r.Status != http.StatusNotFound {
				t.Errorf("%s sees the draft: %d", name, r.Status)
			}
		}

		e.Must(200, other, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/sponsor", nil)
		if got := e.mustVisit(200, other, "GET", page, "en", nil).Body; !strings.Contains(got, "Resident "+other.UserID) ||
			strings.Contains(got, "Co-sponsor this motion") {
			t.Errorf("the new co-sponsor's page: want their name, no second co-sponsoring: %s", got)
		}
		e.Must(200, author, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/table", nil)
		if got := e.mustVisit(200, chair, "GET", page, "en", nil).Body; !strings.Contains(got, "Open the vote") {
			t.Errorf("the chair's page of a tabled motion lacks the vote's form: %s", got)
		}
		for name, p := range map[string]sdk.Principal{"anonymous": anon, "a resident who is no member": outsider, "a member": other} {
			got := e.mustVisit(200, p, "GET", page, "en", nil).Body
			if strings.Contains(got, "Open the vote") || strings.Contains(got, "Withdraw the motion") || !strings.Contains(got, "Resident "+other.UserID) {
				t.Errorf("%s's page of the tabled motion: %s", name, got)
			}
		}

		e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/open", map[string]any{})
		if got := e.mustVisit(200, anon, "GET", page, "en", nil).Body; strings.Contains(got, "Close the vote and count") {
			t.Errorf("a stranger is offered to close the vote: %s", got)
		}
		if got := e.mustVisit(200, chair, "GET", page, "en", nil).Body; !strings.Contains(got, "Close the vote and count") {
			t.Errorf("the chair's page of the vote lacks closing it: %s", got)
		}
		e.Must(201, ms[0], "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": "yes"})
		e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/close", nil)
		if got := e.mustVisit(200, anon, "GET", page, "en", nil).Body; strings.Contains(got, "Close the vote and count") ||
			!strings.Contains(got, "Result") {
			t.Errorf("the closed vote's page does not show its result at once: %s", got)
		}
	})
}

// The assembly page keeps what it read of the assembly's lists while its
// data_version stands (migration 0006): a change made past the Service — as another
// node, or an operator, would make it — shows at once, and so does what time turns:
// a meeting that ends moves to the past ones, an answer that falls due is overdue.
func TestPages_AssemblyPageFollowsTimeAndOtherWriters(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, chair := e.assembly("buca", nil)
		ms := e.members(a, 3)
		asm, anon := "/assemblies/"+a.ID, e.As("")
		section := func(body, from, to string) string {
			i := strings.Index(body, from)
			if i < 0 {
				return ""
			}
			rest := body[i:]
			if j := strings.Index(rest, to); j >= 0 {
				return rest[:j]
			}
			return rest
		}
		start := e.clock.Now().Add(3 * time.Hour).UTC().Truncate(time.Minute)
		var mt Meeting
		e.Must(201, chair, "POST", "/api/v1/assemblies/"+a.ID+"/meetings", map[string]any{"title": "Evening meeting",
			"starts_at": start, "ends_at": start.Add(2 * time.Hour), "place": "Hall"}).Decode(t, &mt)
		if got := section(e.mustVisit(200, anon, "GET", asm, "en", nil).Body, "Upcoming meetings", "Past meetings"); !strings.Contains(got, "Evening meeting") {
			t.Errorf("the new meeting is not upcoming: %s", got)
		}

		// Another writer renames the meeting straight in the database.
		if _, err := e.svc.db.ExecContext(context.Background(), e.svc.db.Rebind(`UPDATE meetings SET title = ? WHERE id = ?`), "Renamed elsewhere", mt.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.mustVisit(200, anon, "GET", asm, "en", nil).Body; !strings.Contains(got, "Renamed elsewhere") {
			t.Errorf("a change made past the Service does not show: %s", got)
		}

		// Time: the meeting begins (held), then ends (past), with no write at all.
		e.clock.Set(start.Add(time.Hour))
		if got := section(e.mustVisit(200, anon, "GET", asm, "en", nil).Body, "Upcoming meetings", "Past meetings"); !strings.Contains(got, "Held") {
			t.Errorf("the meeting under way is not held: %s", got)
		}
		e.clock.Set(start.Add(3 * time.Hour))
		if got := section(e.mustVisit(200, anon, "GET", asm, "en", nil).Body, "Past meetings", "</table>"); !strings.Contains(got, "Renamed elsewhere") {
			t.Errorf("the ended meeting is not among the past ones: %s", got)
		}

		// An adopted motion's answer falls due.
		m := e.tabled(a, ms[0], "Benches")
		e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/open", map[string]any{})
		for _, p := range append(ms, chair) {
			e.Must(201, p, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/ballots", map[string]any{"choice": "yes"})
		}
		e.Must(200, chair, "POST", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID+"/vote/close", nil)
		var adopted Motion
		e.Must(200, anon, "GET", "/api/v1/assemblies/"+a.ID+"/motions/"+m.ID, nil).Decode(t, &adopted)
		if adopted.State != StateAdopted || adopted.Answer == nil {
			t.Fatalf("the motion is not adopted with an answer owed: %+v", adopted)
		}
		before := e.mustVisit(200, anon, "GET", asm, "en", nil).Body
		if strings.Contains(before, ">Overdue<") {
			t.Errorf("an answer not yet due is overdue: %s", before)
		}
		e.clock.Set(adopted.Answer.DueAt.Add(time.Minute))
		if got := e.mustVisit(200, anon, "GET", asm, "en", nil).Body; !strings.Contains(got, ">Overdue<") {
			t.Errorf("the answer past its deadline is not overdue on the page: %s", got)
		}
	})
}
