package consultations

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/web"
)

// ideaPages is the idea fixture with the plugin's page handler.
type ideaPages struct {
	*ideaFixture
	t *testing.T
	h http.Handler
}

func newIdeaPages(t *testing.T, cfg sdk.StoreConfig) *ideaPages {
	f := newIdeaFixture(t, cfg)
	return &ideaPages{ideaFixture: f, t: t, h: sdk.Mux((&Plugin{svc: f.svc}).Routes())}
}

func (f *ideaPages) as(pr sdk.Principal, lang string) pageClient {
	return pageClient{t: f.t, h: f.h, pr: pr, lang: lang}
}

// rawID finds a message id left in a page instead of its text.
var rawID = regexp.MustCompile(`consultations\.(ideas|moderation)\.[a-z_.]+`)

func noRawIDs(t *testing.T, what string, a pageAnswer) {
	t.Helper()
	if m := rawID.FindString(a.Body); m != "" {
		t.Errorf("%s shows the message id %s", what, m)
	}
}

// TestIdeasPages_Story walks the idea board's pages on both databases without
// JavaScript: a refused post (422, the summary focused, the text kept), a post (303),
// support and comment (303), a fourth comment in a minute (429 with the summary), a
// report, the moderators' queue, a hiding shown in the idea's place in the viewer's
// language, the author's appeal, the decision by another moderator, and staff's
// decision on the idea.
func TestIdeasPages_Story(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaPages(t, cfg)
		board := "/consultations/" + f.board + "/ideas"
		ann, bob, eve := f.as(f.ann, "fi"), f.as(f.bob, "sv"), f.as(f.eve, "en")

		a := ann.get(board).want(t, "board", 200, "Julkaise idea", "Ideoita ei ole vielä.")
		if a.Meta.Title != "Ideataulu: Ideas for Kallio's park" {
			t.Errorf("board title %q", a.Meta.Title)
		}
		noRawIDs(t, "board", a)
		ann.get(board+"/new").want(t, "post form", 200, `name="title"`, `name="show_name"`)

		a = ann.post(board, url.Values{"title": {strings.Repeat("x", MaxIdeaTitle+1)}, "body": {"Keep this text"}})
		a.want(t, "refused post", 422, web.ErrorSummaryID, "Keep this text")
		if a.Meta.Focus != web.ErrorSummaryID {
			t.Errorf("refused post focuses %q", a.Meta.Focus)
		}
		ann.post(board, url.Values{"title": {"x\x00"}, "body": {"y"}}).want(t, "NUL", 422, web.ErrorSummaryID)
		if n := f.count("ideas"); n != 0 {
			t.Fatalf("%d ideas after refusals", n)
		}
		a = ann.post(board, url.Values{"title": {"Uimaranta"}, "body": {"Kallioon uimaranta.\n\nSe olisi hieno."}, "show_name": {"1"}})
		a.want(t, "post", http.StatusSeeOther)
		ideaPage := strings.TrimSuffix(a.Location, "?posted=1")
		if !strings.HasPrefix(ideaPage, board+"/") {
			t.Fatalf("post redirects to %q", a.Location)
		}
		a = ann.get(a.Location).want(t, "posted idea", 200, "Ideasi on julkaistu.", "Kallioon uimaranta.", "Se olisi hieno.", "Ann")
		if a.Meta.Announce != "Ideasi on julkaistu." {
			t.Errorf("announce %q", a.Meta.Announce)
		}
		a.lacks(t, "own idea", "/support", "/report")

		bob.post(ideaPage+"/support", url.Values{"support": {"1"}}).want(t, "support", http.StatusSeeOther)
		bob.get(ideaPage).want(t, "supported", 200, "Du stöder den här idén.", "1 person stöder", "Ta tillbaka mitt stöd")
		for i := range ideaRates[rateComment].Limit {
			bob.post(ideaPage+"/comments", url.Values{"body": {"Bra idé " + string(rune('A'+i))}}).want(t, "comment", http.StatusSeeOther)
		}
		a = bob.post(ideaPage+"/comments", url.Values{"body": {"För snabbt"}})
		a.want(t, "fourth comment", http.StatusTooManyRequests, "Du har skickat 3 kommentarer", "För snabbt")
		if a.Meta.Focus != web.ErrorSummaryID {
			t.Errorf("429 focuses %q", a.Meta.Focus)
		}
		if n := f.count("idea_comments"); n != 3 {
			t.Errorf("%d comments", n)
		}

		// eve reports bob's first comment.
		cm, _ := f.svc.Comments(context.Background(), f.eve, f.board, strings.TrimPrefix(ideaPage, board+"/"), sdk.ListQuery{Limit: 10})
		commentPage := ideaPage + "/comments/" + cm.Items[0].ID
		if a := eve.get(commentPage+"/report").want(t, "report form", 200, "Bra idé A", "personal data"); a.Meta.Title != "Report this comment" {
			t.Errorf("report form title %q", a.Meta.Title)
		}
		eve.post(commentPage+"/report", url.Values{"category": {"offensive"}}).want(t, "report without text", 422, web.ErrorSummaryID)
		eve.post(commentPage+"/report", url.Values{"category": {"offensive"}, "body": {"Rude"}}).want(t, "report", http.StatusSeeOther)
		eve.post(commentPage+"/report", url.Values{"category": {"offensive"}, "body": {"Again"}}).want(t, "report again", 422, "You have already reported this.")

		mod1, mod2 := f.as(f.mod1, "da"), f.as(f.mod2, "tr")
		a = mod1.get("/consultations/moderation").want(t, "queue", 200, "Anmeldte idéer og kommentarer", "Bra idé A", "1 anmeldelse")
		noRawIDs(t, "queue", a)
		mod1.get(commentPage+"/moderate").want(t, "moderate", 200, "Rude", "krænkende eller hadefuldt")
		mod1.post(commentPage+"/moderate", url.Values{"action": {"hide"}, "category": {"offensive"}}).want(t, "hide without note", 422, web.ErrorSummaryID)
		mod1.post(commentPage+"/moderate", url.Values{"action": {"hide"}, "category": {"offensive"}, "note": {"Hold en god tone."}}).
			want(t, "hide", http.StatusSeeOther)
		a = eve.get(ideaPage).want(t, "idea with a hidden comment", 200, "Hidden by a moderator: offensive or hateful")
		a.lacks(t, "hidden comment", "Bra idé A")
		ann.get(ideaPage).want(t, "hidden comment in Finnish", 200, "Moderaattori piilotti tämän: loukkaavaa tai vihamielistä")

		// bob finds his case through the notification's link and appeals.
		c, err := f.svc.MyCases(context.Background(), f.bob)
		if err != nil || len(c) != 1 {
			t.Fatalf("bob's cases %+v, %v", c, err)
		}
		casePage := CasePath(c[0].ID)
		a = bob.get(casePage).want(t, "case", 200, "Hold en god tone.", "Bra idé A", "Skicka överklagandet")
		if a.Meta.Title != "Din dolda kommentar" {
			t.Errorf("case title %q", a.Meta.Title)
		}
		noRawIDs(t, "case", a)
		eve.get(casePage).want(t, "someone else's case", 404)
		bob.post(casePage+"/appeal", url.Values{"body": {"Det var inte elakt."}}).want(t, "appeal", http.StatusSeeOther)
		bob.post(casePage+"/appeal", url.Values{"body": {"Igen"}}).want(t, "appeal again", 422, "Du har redan överklagat.")
		mod1.get(casePage).lacks(t, "the hiding moderator's case page", `name="decision"`)
		mod1.post(casePage+"/decision", url.Values{"decision": {"upheld"}, "reason": {"x"}}).
			want(t, "the hiding moderator decides", 422, "Du skjulte det selv")
		mod2.get(casePage).want(t, "another moderator's case page", 200, `name="decision"`, "Det var inte elakt.")
		mod2.post(casePage+"/decision", url.Values{"decision": {"restored"}, "reason": {"Uygun bir yorum."}}).want(t, "decision", http.StatusSeeOther)
		eve.get(ideaPage).want(t, "restored", 200, "Bra idé A")

		staff := f.as(f.staff, "en")
		staff.get(ideaPage+"/status").want(t, "status form", 200, "Taken forward", `name="reason"`)
		staff.post(ideaPage+"/status", url.Values{"status": {"taken_forward"}}).want(t, "status without reason", 422, web.ErrorSummaryID)
		staff.post(ideaPage+"/status", url.Values{"status": {"taken_forward"}, "reason": {"In the 2027 budget."}}).want(t, "status", http.StatusSeeOther)
		ann.get(ideaPage).want(t, "decided idea", 200, "Viedään eteenpäin", "Kaupungin perustelu: In the 2027 budget.")
		ann.get(board+"?sort=newest").want(t, "board", 200, "Uimaranta", "1 kannattaja", "3 kommenttia")
	})
}

// TestIdeasPages_Languages renders every page of the board in the five languages
// without a message id left over.
func TestIdeasPages_Languages(t *testing.T) {
	f := newIdeaPages(t, sdktest.SQLiteStore(t))
	ctx := context.Background()
	idea := f.post(t, f.ann, "Sauna")
	cm, err := f.svc.AddComment(ctx, f.bob, f.board, idea.ID, CommentInput{Body: "Hyvä"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReportItem(ctx, f.eve, f.board, idea.ID, cm.ID, ReportInput{Category: CategorySpam, Body: "x"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Hide(ctx, f.mod1, f.board, idea.ID, "", HideInput{Category: CategoryOffTopic, Note: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Appeal(ctx, f.ann, c.ID, AppealInput{Body: "y"}); err != nil {
		t.Fatal(err)
	}
	board := "/consultations/" + f.board + "/ideas"
	page := board + "/" + idea.ID
	for _, lang := range []string{"fi", "sv", "da", "tr", "en"} {
		for _, p := range []struct {
			who  sdk.Principal
			path string
		}{
			{sdk.Principal{}, board}, {f.bob, board + "/new"}, {f.bob, page}, {f.bob, page + "/report"},
			{f.bob, page + "/comments/" + cm.ID + "/report"}, {f.staff, page + "/status"},
			{f.mod2, "/consultations/moderation"}, {f.mod2, page + "/comments/" + cm.ID + "/moderate"},
			{f.ann, CasePath(c.ID)}, {f.mod2, CasePath(c.ID)},
		} {
			a := f.as(p.who, lang).get(p.path)
			if a.Status != 200 {
				t.Errorf("%s %s: %d", lang, p.path, a.Status)
			}
			noRawIDs(t, lang+" "+p.path, a)
		}
	}
}
