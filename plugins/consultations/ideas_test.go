package consultations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// ideaFixture is the service fixture with an open idea board for the residents of
// n1, two moderators and three residents of n1 (ann, bob, eve), and a resident of n2.
type ideaFixture struct {
	*fixture
	board                     string
	mod1, mod2, ann, bob, eve sdk.Principal
	outsider                  sdk.Principal
}

// ideaNow is the fixture's start: Tuesday 3 March 2026, 10:00 UTC.
var ideaNow = time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)

func newIdeaFixture(t *testing.T, cfg sdk.StoreConfig) *ideaFixture {
	t.Helper()
	f := &ideaFixture{fixture: newFixture(t, sdktest.MigratedStore(t, cfg, New().(*Plugin)))}
	f.svc.languages = []string{"fi", "sv", "da", "tr", "en"} // every notification in all five
	f.clock.Set(ideaNow)
	f.outsider = f.resident("olli", "n2")
	for _, u := range []string{"ann", "bob", "eve"} {
		f.resident(u, "n1")
		f.host.AddUser(sdk.User{ID: u, DisplayName: strings.ToUpper(u[:1]) + u[1:]}) // the name they chose
	}
	f.ann, f.bob, f.eve = f.host.Principal("ann"), f.host.Principal("bob"), f.host.Principal("eve")
	for _, m := range []string{"mod1", "mod2"} {
		f.host.Grant(m, RoleModerator, sdk.DomainCity)
	}
	f.mod1, f.mod2 = f.host.Principal("mod1"), f.host.Principal("mod2")
	f.board = f.newBoard(t, ConsultationInput{Participation: ParticipationResidents, Neighbourhoods: []string{"n1"}})
	return f
}

// newBoard publishes an idea board open from an hour ago for a week.
func (f *ideaFixture) newBoard(t *testing.T, in ConsultationInput) string {
	t.Helper()
	in.Kind, in.Title, in.Background, in.WhatNext = KindIdeas, "Ideas for Kallio's park", "What should the park have?", "The committee decides in May."
	in.OpensAt, in.ClosesAt = f.clock.Now().Add(-time.Hour), f.clock.Now().Add(7*24*time.Hour)
	return f.published(in).ID
}

func (f *ideaFixture) post(t *testing.T, who sdk.Principal, title string) Idea {
	t.Helper()
	i, err := f.svc.PostIdea(context.Background(), who, f.board, IdeaInput{Title: title, Body: "Because " + title + " helps.", ShowName: true})
	if err != nil {
		t.Fatalf("post %q: %v", title, err)
	}
	return i
}

// notified flushes the outbox and returns the notifications of kind that reached userID.
func (f *ideaFixture) notified(t testing.TB, userID, kind string) []sdktest.SentNotification {
	t.Helper()
	if err := f.db.FlushOutbox(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	return f.host.NotificationsTo(userID, kind)
}

// wantCode fails unless err is an *sdk.Error of code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func TestIdeas_Post(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		t.Run("OK", func(t *testing.T) {
			i, err := f.svc.PostIdea(ctx, f.ann, f.board, IdeaInput{Title: "  A pump track ", Body: "For bikes.", NeighbourhoodID: "n1", ShowName: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.svc.Idea(ctx, sdk.Principal{}, f.board, i.ID)
			if err != nil || got.Title != "A pump track" || got.AuthorName != "Ann" || got.Author != AuthorNamed || got.Status != IdeaOpen || got.Mine {
				t.Errorf("idea %+v, %v", got, err)
			}
			anon, err := f.svc.PostIdea(ctx, f.bob, f.board, IdeaInput{Title: "Benches", Body: "More of them."})
			if err != nil || anon.AuthorName != "" || anon.Author != AuthorHidden {
				t.Errorf("idea without the name %+v, %v", anon, err)
			}
		})
		before := f.count("ideas")
		for _, tc := range []struct {
			name       string
			who        sdk.Principal
			in         IdeaInput
			code, rule string
		}{
			{"ErrSignedOut", sdk.Principal{}, IdeaInput{Title: "x", Body: "y"}, sdk.CodeUnauthenticated, "sign_in"},
			{"ErrNotResident", f.outsider, IdeaInput{Title: "x", Body: "y"}, sdk.CodeForbidden, "residents"},
			{"ErrNoTitle", f.ann, IdeaInput{Title: "   ", Body: "y"}, sdk.CodeInvalid, sdk.RuleRequired},
			{"ErrTitleTooLong", f.ann, IdeaInput{Title: strings.Repeat("ä", MaxIdeaTitle+1), Body: "y"}, sdk.CodeInvalid, sdk.RuleMaxLength},
			{"ErrBodyTooLong", f.ann, IdeaInput{Title: "x", Body: strings.Repeat("ä", MaxIdeaBody+1)}, sdk.CodeInvalid, sdk.RuleMaxLength},
			{"ErrNUL", f.ann, IdeaInput{Title: "x\x00", Body: "y"}, sdk.CodeInvalid, sdk.RuleNUL},
			{"ErrBadUTF8", f.ann, IdeaInput{Title: "x\xff", Body: "y"}, sdk.CodeInvalid, sdk.RuleUTF8},
			{"ErrOtherNeighbourhood", f.ann, IdeaInput{Title: "x", Body: "y", NeighbourhoodID: "n2"}, sdk.CodeInvalid, sdk.RuleOneOf},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.PostIdea(ctx, tc.who, f.board, tc.in)
				wantRule(t, err, tc.code, tc.rule)
				if n := f.count("ideas"); n != before {
					t.Errorf("%d ideas after a refusal, want %d", n, before)
				}
			})
		}
		t.Run("ErrNotABoard", func(t *testing.T) {
			c, err := f.svc.Create(ctx, f.staff, ConsultationInput{Kind: KindPoll, Title: "Poll", Participation: ParticipationSignedIn,
				OpensAt: ideaNow, ClosesAt: ideaNow.Add(time.Hour), Questions: []QuestionInput{{Kind: QuestionSingle, Prompt: "Q", Options: []string{"a", "b"}}}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.PostIdea(ctx, f.ann, c.ID, IdeaInput{Title: "x", Body: "y"})
			wantCode(t, err, sdk.CodeNotFound) // a draft: not even seen
			if _, err := f.svc.Publish(ctx, f.staff, c.ID); err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.PostIdea(ctx, f.ann, c.ID, IdeaInput{Title: "x", Body: "y"})
			wantRule(t, err, sdk.CodeConflict, "not_idea_board")
		})
		t.Run("ErrMinAge", func(t *testing.T) {
			young := f.newBoard(t, ConsultationInput{Participation: ParticipationSignedIn, MinAge: 15})
			_, err := f.svc.PostIdea(ctx, f.outsider, young, IdeaInput{Title: "x", Body: "y"})
			wantRule(t, err, sdk.CodeInvalid, "min_age")
			if _, err := f.svc.PostIdea(ctx, f.outsider, young, IdeaInput{Title: "x", Body: "y", AgeConfirmed: true}); err != nil {
				t.Errorf("with the age confirmed: %v", err)
			}
		})
		t.Run("ErrClosed", func(t *testing.T) {
			f.clock.Advance(8 * 24 * time.Hour)
			defer f.clock.Set(ideaNow)
			n := f.count("ideas")
			_, err := f.svc.PostIdea(ctx, f.ann, f.board, IdeaInput{Title: "x", Body: "y"})
			wantRule(t, err, sdk.CodeConflict, "closed")
			if f.count("ideas") != n {
				t.Error("an idea was stored on a closed board")
			}
		})
	})
}

// TestIdeas_RateLimits: the sixth idea of a day and the fourth comment of a minute are
// refused with 429 and when to try again, and change nothing; the next window takes
// them again.
func TestIdeas_RateLimits(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		var last Idea
		for i := range ideaRates[rateIdea].Limit {
			last = f.post(t, f.ann, fmt.Sprintf("Idea %d", i))
		}
		_, err := f.svc.PostIdea(ctx, f.ann, f.board, IdeaInput{Title: "One too many", Body: "y"})
		wantRule(t, err, sdk.CodeRateLimited, "rate_idea")
		var e *sdk.Error
		errors.As(err, &e)
		if want := int(14*time.Hour/time.Second) + 1; e.RetryAfter() != want || e.Status() != 429 {
			t.Errorf("retry after %d s (status %d), want %d: the day's window ends at midnight UTC", e.RetryAfter(), e.Status(), want)
		}
		if n := f.count("ideas"); n != ideaRates[rateIdea].Limit {
			t.Errorf("%d ideas stored, want %d", n, ideaRates[rateIdea].Limit)
		}
		// Another person is not held back by ann's limit.
		f.post(t, f.bob, "Bob's idea")

		for i := range ideaRates[rateComment].Limit {
			if _, err := f.svc.AddComment(ctx, f.bob, f.board, last.ID, CommentInput{Body: fmt.Sprintf("Comment %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		comments := f.count("idea_comments")
		_, err = f.svc.AddComment(ctx, f.bob, f.board, last.ID, CommentInput{Body: "Flood"})
		wantRule(t, err, sdk.CodeRateLimited, "rate_comment")
		if f.count("idea_comments") != comments {
			t.Error("a refused comment was stored")
		}
		// A refused write does not count: after the refusal the window still holds
		// the limit, not one more.
		var hits int
		if err := f.db.GetContext(ctx, &hits, f.db.Rebind(`SELECT hits FROM idea_rate_windows WHERE user_id = ? AND action = ?`), "bob", rateComment); err != nil || hits != ideaRates[rateComment].Limit {
			t.Errorf("bob's comment window holds %d, %v; want %d", hits, err, ideaRates[rateComment].Limit)
		}

		f.clock.Advance(time.Minute)
		if _, err := f.svc.AddComment(ctx, f.bob, f.board, last.ID, CommentInput{Body: "A minute later"}); err != nil {
			t.Errorf("comment in the next minute: %v", err)
		}
		f.clock.Advance(14 * time.Hour)
		if _, err := f.svc.PostIdea(ctx, f.ann, f.board, IdeaInput{Title: "Next day", Body: "y"}); err != nil {
			t.Errorf("idea on the next day: %v", err)
		}
	})
}

func TestIdeas_Support(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		i := f.post(t, f.ann, "Trees")
		for _, step := range []struct {
			who      sdk.Principal
			on       bool
			supports int
		}{{f.bob, true, 1}, {f.bob, true, 1}, {f.eve, true, 2}, {f.bob, false, 1}, {f.bob, false, 1}, {f.bob, true, 2}} {
			st, err := f.svc.Support(ctx, step.who, f.board, i.ID, step.on, false)
			if err != nil || st.Supports != step.supports || st.Supported != step.on {
				t.Fatalf("%s support=%v: %+v, %v; want %d", step.who.UserID, step.on, st, err, step.supports)
			}
		}
		got, _ := f.svc.Idea(ctx, f.bob, f.board, i.ID)
		if got.Supports != 2 || !got.Supported {
			t.Errorf("idea as bob sees it %+v", got)
		}
		var stored int
		if err := f.db.GetContext(ctx, &stored, f.db.Rebind(`SELECT COUNT(*) FROM idea_supports WHERE idea_id = ?`), i.ID); err != nil || stored != 2 {
			t.Errorf("%d support rows, %v", stored, err)
		}
		_, err := f.svc.Support(ctx, f.ann, f.board, i.ID, true, false)
		wantRule(t, err, sdk.CodeConflict, "own_idea")
		_, err = f.svc.Support(ctx, f.outsider, f.board, i.ID, true, false)
		wantRule(t, err, sdk.CodeForbidden, "residents")
		_, err = f.svc.Support(ctx, f.bob, f.board, "no-such-idea", true, false)
		wantCode(t, err, sdk.CodeNotFound)
	})
}

// TestIdeas_List walks a board most supported first and newest first, page by page.
func TestIdeas_List(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		var ids []string
		for n, who := range []sdk.Principal{f.ann, f.bob, f.eve, f.ann, f.bob} {
			f.clock.Advance(time.Minute)
			ids = append(ids, f.post(t, who, fmt.Sprintf("Idea %d", n)).ID)
		}
		// Idea 1 gets two supports, idea 3 one.
		for _, s := range []struct {
			who sdk.Principal
			id  string
		}{{f.ann, ids[1]}, {f.eve, ids[1]}, {f.bob, ids[3]}} {
			if _, err := f.svc.Support(ctx, s.who, f.board, s.id, true, false); err != nil {
				t.Fatal(err)
			}
		}
		walk := func(sort string) []string {
			got := sdktest.WalkPages(t, func(cursor string) ([]string, string) {
				q := sdk.ListQuery{Limit: 2}
				if cursor != "" {
					r := httptestRequest("?cursor=" + cursor + "&limit=2")
					var err error
					if q, err = sdk.ListParams(r); err != nil {
						t.Fatal(err)
					}
				}
				page, err := f.svc.Ideas(ctx, sdk.Principal{}, f.board, sort, q)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, i := range page.Items {
					out = append(out, i.ID)
				}
				return out, page.NextCursor
			}, func(i int) {
				// Ideas posted during the walk, by new residents, neither repeat
				// nor hide the others.
				who := fmt.Sprintf("walker-%s-%d", sort, i)
				f.host.AddMember(who, "n1")
				if _, err := f.svc.PostIdea(ctx, f.host.Principal(who), f.board, IdeaInput{Title: "During the walk", Body: "y"}); err != nil {
					t.Error(err)
				}
			})
			var mine []string
			for _, id := range got {
				if slices.Contains(ids, id) {
					mine = append(mine, id)
				}
			}
			return mine
		}
		want := []string{ids[1], ids[3], ids[4], ids[2], ids[0]}
		if got := walk(SortSupported); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("most supported:\n got %v\nwant %v", got, want)
		}
		want = []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
		if got := walk(SortNewest); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("newest:\n got %v\nwant %v", got, want)
		}
		_, err := f.svc.Ideas(ctx, sdk.Principal{}, f.board, "oldest", sdk.ListQuery{Limit: 2})
		wantRule(t, err, sdk.CodeInvalid, sdk.RuleOneOf)
	})
}

// TestIdeas_Status: staff decide with a reason, shown on the idea; the author and the
// supporters are told (the staff member who decided is not), and it is audited.
func TestIdeas_Status(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		i := f.post(t, f.ann, "Skate park")
		for _, who := range []sdk.Principal{f.bob, f.eve} {
			if _, err := f.svc.Support(ctx, who, f.board, i.ID, true, false); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.SetStatus(ctx, f.bob, f.board, i.ID, StatusInput{Status: IdeaTakenForward, Reason: "I like it"})
		wantCode(t, err, sdk.CodeForbidden)
		_, err = f.svc.SetStatus(ctx, f.staff, f.board, i.ID, StatusInput{Status: IdeaTakenForward, Reason: " "})
		wantRule(t, err, sdk.CodeInvalid, sdk.RuleRequired)
		_, err = f.svc.SetStatus(ctx, f.staff, f.board, i.ID, StatusInput{Status: IdeaOpen, Reason: "back"})
		wantRule(t, err, sdk.CodeInvalid, sdk.RuleOneOf)
		if got, _ := f.svc.Idea(ctx, sdk.Principal{}, f.board, i.ID); got.Status != IdeaOpen || len(f.contentAudits()) != 0 {
			t.Fatalf("refused decisions changed the idea %+v or were audited %+v", got, f.contentAudits())
		}

		f.clock.Advance(8 * 24 * time.Hour) // staff decide after the close
		got, err := f.svc.SetStatus(ctx, f.staff, f.board, i.ID, StatusInput{Status: IdeaTakenForward, Reason: "In the 2027 budget."})
		if err != nil || got.Status != IdeaTakenForward || got.StatusReason != "In the 2027 budget." || got.StatusAt == nil {
			t.Fatalf("decision %+v, %v", got, err)
		}
		shown, _ := f.svc.Idea(ctx, sdk.Principal{}, f.board, i.ID)
		if shown.Status != IdeaTakenForward || shown.StatusReason != "In the 2027 budget." {
			t.Errorf("shown %+v", shown)
		}
		for _, who := range []string{"ann", "bob", "eve"} {
			n := f.notified(t, who, NotifyIdeaStatus)
			if len(n) != 1 || n[0].Link != IdeaPath(f.board, i.ID) || !strings.Contains(n[0].Texts["fi"].Body, "In the 2027 budget.") ||
				!strings.HasPrefix(n[0].Texts["fi"].Title, "Viedään eteenpäin") || !strings.HasPrefix(n[0].Texts["en"].Title, "Taken forward") {
				t.Errorf("%s told %+v", who, n)
			}
		}
		if n := f.notified(t, "staff", NotifyIdeaStatus); len(n) != 0 {
			t.Errorf("the staff member was told of their own decision: %+v", n)
		}
		a := f.contentAudits()
		if len(a) != 1 || a[0].Action != "consultations.idea.status" || a[0].ActorID != "staff" || a[0].Target != IdeaSubject(i.ID) {
			t.Errorf("audit %+v", a)
		}
	})
}

// TestIdeas_OpenData: the open data holds the board's ideas, supports, statuses and
// comments, hidden ones without their text, and no user ID nor a name not chosen to be
// shown.
func TestIdeas_OpenData(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		shown := f.post(t, f.ann, "Playground")
		quiet, err := f.svc.PostIdea(ctx, f.bob, f.board, IdeaInput{Title: "Dog park", Body: "Fenced."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Support(ctx, f.eve, f.board, shown.ID, true, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddComment(ctx, f.eve, f.board, shown.ID, CommentInput{Body: "Call me on 040 123 4567"}); err != nil {
			t.Fatal(err)
		}
		cm, _ := f.svc.Comments(ctx, sdk.Principal{}, f.board, shown.ID, sdk.ListQuery{Limit: 10})
		if _, err := f.svc.Hide(ctx, f.mod1, f.board, shown.ID, cm.Items[0].ID, HideInput{Category: CategoryPersonalData, Note: "Phone number"}); err != nil {
			t.Fatal(err)
		}
		data, err := f.svc.IdeaBoardData(ctx, sdk.Principal{}, f.board)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(data)
		for _, secret := range []string{"040 123 4567", `"ann"`, `"bob"`, `"eve"`, "Bob", "Eve", "Phone number", "author_id"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("the open data holds %q: %s", secret, raw)
			}
		}
		if data.Format != IdeaBoardFormat || len(data.Ideas) != 2 || data.Ideas[0].ID != shown.ID || data.Ideas[0].Supports != 1 ||
			data.Ideas[0].AuthorName != "Ann" || data.Ideas[1].ID != quiet.ID || data.Ideas[1].Author != AuthorHidden ||
			len(data.Ideas[0].Comments) != 1 || data.Ideas[0].Comments[0].Hidden == nil || data.Ideas[0].Comments[0].Hidden.Category != CategoryPersonalData {
			t.Errorf("open data %s", raw)
		}
	})
}

// TestIdeas_Erasure: an erased author's idea and comment stay, by "a former member";
// their support goes and stops counting; their export lists everything before.
func TestIdeas_Erasure(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		mine := f.post(t, f.bob, "Bob's idea")
		other := f.post(t, f.ann, "Ann's idea")
		if _, err := f.svc.Support(ctx, f.bob, f.board, other.ID, true, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddComment(ctx, f.bob, f.board, other.ID, CommentInput{Body: "Good one", ShowName: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ReportItem(ctx, f.bob, f.board, other.ID, "", ReportInput{Category: CategorySpam, Body: "Advert"}); err != nil {
			t.Fatal(err)
		}
		p := &Plugin{svc: f.svc}
		p.DB = f.db
		export, err := p.ExportUser(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]int{"ideas": 1, "idea_comments": 1, "idea_supports": 1, "reports": 1} {
			if recs, _ := export.Data[key].([]map[string]any); len(recs) != want {
				t.Errorf("export %s: %v, want %d records", key, export.Data[key], want)
			}
			if export.Fields[key] == "" {
				t.Errorf("export field %s is not described", key)
			}
		}

		for range 2 { // erasing twice changes nothing more
			if err := f.svc.EraseUser(ctx, "bob"); err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.svc.Idea(ctx, sdk.Principal{}, f.board, mine.ID)
		if err != nil || got.Title != "Bob's idea" || got.Author != AuthorErased || got.AuthorName != "" {
			t.Errorf("erased author's idea %+v, %v", got, err)
		}
		got, _ = f.svc.Idea(ctx, sdk.Principal{}, f.board, other.ID)
		if got.Supports != 0 {
			t.Errorf("an erased person's support still counts: %+v", got)
		}
		cm, _ := f.svc.Comments(ctx, sdk.Principal{}, f.board, other.ID, sdk.ListQuery{Limit: 10})
		if len(cm.Items) != 1 || cm.Items[0].Body != "Good one" || cm.Items[0].Author != AuthorErased {
			t.Errorf("erased author's comment %+v", cm.Items)
		}
		for _, q := range []string{`SELECT COUNT(*) FROM ideas WHERE author_id = 'bob'`, `SELECT COUNT(*) FROM idea_comments WHERE author_id = 'bob'`,
			`SELECT COUNT(*) FROM idea_supports WHERE user_id = 'bob'`, `SELECT COUNT(*) FROM moderation_reports WHERE reporter_id = 'bob'`,
			`SELECT COUNT(*) FROM idea_rate_windows WHERE user_id = 'bob'`} {
			var n int
			if err := f.db.GetContext(ctx, &n, q); err != nil || n != 0 {
				t.Errorf("%s = %d, %v", q, n, err)
			}
		}
		if export, err := p.ExportUser(ctx, "bob"); err != nil || len(export.Data["ideas"].([]map[string]any)) != 0 {
			t.Errorf("export after erasure %v, %v", export.Data, err)
		}
	})
}

// httptestRequest is a GET request with query, for reading list parameters.
func httptestRequest(query string) *http.Request {
	return httptest.NewRequest(http.MethodGet, "/x"+query, nil)
}

// TestIdeas_StatusLongText: an idea's title of the most characters, each of several
// bytes (Turkish letters and emoji), and the longest reason in emoji still make a
// notification the host takes, clipped at whole characters; the decision is not
// refused for it.
func TestIdeas_StatusLongText(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		title := strings.Repeat("ğüş🛹", MaxIdeaTitle/4) + strings.Repeat("ı", MaxIdeaTitle%4)
		reason := strings.Repeat("🚲", MaxStatusReason)
		i := f.post(t, f.ann, title)
		got, err := f.svc.SetStatus(ctx, f.staff, f.board, i.ID, StatusInput{Status: IdeaNotTakenForward, Reason: reason})
		if err != nil || got.Status != IdeaNotTakenForward || got.StatusReason != reason {
			t.Fatalf("decision on a long idea: %+v, %v", got.Status, err)
		}
		n := f.notified(t, "ann", NotifyIdeaStatus)
		if len(n) != 1 || len(n[0].Texts) != 5 {
			t.Fatalf("ann told %+v", n)
		}
		for lang, text := range n[0].Texts {
			if len(text.Title) > sdk.MaxNotificationTitle || len(text.Body) > sdk.MaxNotificationBody ||
				!utf8.ValidString(text.Title) || !utf8.ValidString(text.Body) {
				t.Errorf("%s: title of %d bytes, body of %d bytes, or not UTF-8", lang, len(text.Title), len(text.Body))
			}
			if !strings.Contains(text.Title, "ğüş🛹ğüş🛹") || !strings.Contains(text.Title, "…") || !strings.Contains(text.Body, "🚲🚲🚲") {
				t.Errorf("%s: the clipped title or reason is missing: %q", lang, text.Title)
			}
		}
	})
}
