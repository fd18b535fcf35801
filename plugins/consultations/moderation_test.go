package consultations

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestModeration_Story: a comment is reported twice, a moderator hides it with a
// reason shown in its place, its author is told and appeals once, the moderator who hid
// it may not decide, another restores it, the author is told again; every step is
// audited and no audit entry or notification names the reporters.
func TestModeration_Story(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		idea := f.post(t, f.ann, "Allotments")
		cm, err := f.svc.AddComment(ctx, f.bob, f.board, idea.ID, CommentInput{Body: "My neighbour at Kallionkatu 5 B 12 grows weed", ShowName: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []sdk.Principal{f.ann, f.eve} {
			if _, err := f.svc.ReportItem(ctx, who, f.board, idea.ID, cm.ID, ReportInput{Category: CategoryPersonalData, Body: "An address"}); err != nil {
				t.Fatal(err)
			}
		}
		q, err := f.svc.Queue(ctx, f.mod1, sdk.ListQuery{Limit: 10})
		if err != nil || len(q.Items) != 1 || q.Items[0].Target.ID != cm.ID || q.Items[0].Target.IdeaID != idea.ID ||
			len(q.Items[0].Reports) != 2 || !strings.Contains(q.Items[0].Body, "Kallionkatu") {
			t.Fatalf("queue %+v, %v", q, err)
		}
		if raw, _ := json.Marshal(q); strings.Contains(string(raw), `"ann"`) || strings.Contains(string(raw), `"eve"`) {
			t.Errorf("the queue names the reporters: %s", raw)
		}

		c, err := f.svc.Hide(ctx, f.mod1, f.board, idea.ID, cm.ID, HideInput{Category: CategoryPersonalData, Note: "It names someone's home address."})
		if err != nil {
			t.Fatal(err)
		}
		if q, _ := f.svc.Queue(ctx, f.mod1, sdk.ListQuery{Limit: 10}); len(q.Items) != 0 {
			t.Errorf("the hidden comment is still queued: %+v", q.Items)
		}
		shown, _ := f.svc.Comments(ctx, sdk.Principal{}, f.board, idea.ID, sdk.ListQuery{Limit: 10})
		if len(shown.Items) != 1 || shown.Items[0].Body != "" || shown.Items[0].Hidden == nil || shown.Items[0].Hidden.Category != CategoryPersonalData {
			t.Errorf("hidden comment shown as %+v", shown.Items)
		}
		told := f.notified(t, "bob", NotifyHidden)
		if len(told) != 1 || told[0].Link != CasePath(c.ID) || !strings.Contains(told[0].Texts["fi"].Body, "It names someone's home address.") ||
			told[0].Texts["sv"].Title != "En moderator har dolt din kommentar" {
			t.Fatalf("author told %+v", told)
		}

		// Only the author appeals, and once.
		_, err = f.svc.Appeal(ctx, f.eve, c.ID, AppealInput{Body: "Not me"})
		wantCode(t, err, sdk.CodeNotFound)
		_, err = f.svc.Appeal(ctx, f.bob, c.ID, AppealInput{Body: "   "})
		wantRule(t, err, sdk.CodeInvalid, sdk.RuleRequired)
		mine, err := f.svc.Case(ctx, f.bob, c.ID)
		if err != nil || !mine.MayAppeal || mine.Body == "" || mine.Note != "It names someone's home address." {
			t.Fatalf("case as its author sees it %+v, %v", mine, err)
		}
		if _, err := f.svc.Appeal(ctx, f.bob, c.ID, AppealInput{Body: "It is a public shop's address."}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Appeal(ctx, f.bob, c.ID, AppealInput{Body: "Again"})
		wantRule(t, err, sdk.CodeConflict, "appealed")

		appeals, err := f.svc.Appeals(ctx, f.mod2, sdk.ListQuery{Limit: 10})
		if err != nil || len(appeals.Items) != 1 || !appeals.Items[0].MayDecide || appeals.Items[0].Appeal != "It is a public shop's address." {
			t.Fatalf("appeals %+v, %v", appeals, err)
		}
		_, err = f.svc.Decide(ctx, f.mod1, c.ID, DecisionInput{Decision: DecisionUpheld, Reason: "I stand by it"})
		wantRule(t, err, sdk.CodeForbidden, "same_moderator")
		_, err = f.svc.Decide(ctx, f.bob, c.ID, DecisionInput{Decision: DecisionRestored, Reason: "Mine"})
		wantCode(t, err, sdk.CodeForbidden)
		f.clock.Advance(time.Hour)
		decided, err := f.svc.Decide(ctx, f.mod2, c.ID, DecisionInput{Decision: DecisionRestored, Reason: "The address is a shop's, listed publicly."})
		if err != nil || decided.Decision != DecisionRestored {
			t.Fatalf("decision %+v, %v", decided, err)
		}
		_, err = f.svc.Decide(ctx, f.mod2, c.ID, DecisionInput{Decision: DecisionUpheld, Reason: "Changed my mind"})
		wantRule(t, err, sdk.CodeConflict, "decided")
		shown, _ = f.svc.Comments(ctx, sdk.Principal{}, f.board, idea.ID, sdk.ListQuery{Limit: 10})
		if shown.Items[0].Hidden != nil || !strings.Contains(shown.Items[0].Body, "Kallionkatu") {
			t.Errorf("restored comment shown as %+v", shown.Items[0])
		}
		if told := f.notified(t, "bob", NotifyDecided); len(told) != 1 || told[0].Texts["en"].Title != "Your appeal was accepted" ||
			!strings.Contains(told[0].Texts["tr"].Body, "listed publicly") {
			t.Errorf("author told of the decision %+v", told)
		}

		var actions []string
		for _, a := range f.contentAudits() {
			actions = append(actions, a.ActorID+" "+a.Action+" "+a.Target)
			if a.Domain != sdk.DomainCity {
				t.Errorf("audit %+v not in the city domain", a)
			}
		}
		want := []string{
			"ann consultations.content.reported consultations.comment:" + cm.ID,
			"eve consultations.content.reported consultations.comment:" + cm.ID,
			"mod1 consultations.content.hidden consultations.comment:" + cm.ID,
			"bob consultations.content.appealed consultations.comment:" + cm.ID,
			"mod2 consultations.content.appeal_decided consultations.comment:" + cm.ID,
		}
		if strings.Join(actions, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit:\n%s\nwant\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestModeration_Refusals: what moderation refuses, each changing nothing.
func TestModeration_Refusals(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		idea := f.post(t, f.ann, "Sauna")
		report := ReportInput{Category: CategorySpam, Body: "Advert"}
		_, err := f.svc.ReportItem(ctx, f.ann, f.board, idea.ID, "", report)
		wantRule(t, err, sdk.CodeConflict, "own_text")
		_, err = f.svc.ReportItem(ctx, sdk.Principal{}, f.board, idea.ID, "", report)
		wantCode(t, err, sdk.CodeUnauthenticated)
		_, err = f.svc.ReportItem(ctx, f.bob, f.board, idea.ID, "", ReportInput{Category: "rude", Body: "x"})
		wantRule(t, err, sdk.CodeInvalid, sdk.RuleOneOf)
		_, err = f.svc.ReportItem(ctx, f.bob, f.board, idea.ID, "", ReportInput{Category: CategorySpam, Body: strings.Repeat("x", MaxReport+1)})
		wantRule(t, err, sdk.CodeInvalid, sdk.RuleMaxLength)
		if _, err := f.svc.ReportItem(ctx, f.bob, f.board, idea.ID, "", report); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.ReportItem(ctx, f.bob, f.board, idea.ID, "", report)
		wantRule(t, err, sdk.CodeConflict, "reported")
		if n := f.count("moderation_reports"); n != 1 {
			t.Errorf("%d reports stored, want 1", n)
		}

		_, err = f.svc.Queue(ctx, f.bob, sdk.ListQuery{Limit: 10})
		wantCode(t, err, sdk.CodeForbidden)
		_, err = f.svc.Hide(ctx, f.bob, f.board, idea.ID, "", HideInput{Category: CategorySpam, Note: "x"})
		wantCode(t, err, sdk.CodeForbidden)
		_, err = f.svc.Hide(ctx, f.mod1, f.board, idea.ID, "", HideInput{Category: CategorySpam, Note: ""})
		wantRule(t, err, sdk.CodeInvalid, sdk.RuleRequired)
		if n := f.count("moderation_cases"); n != 0 {
			t.Errorf("%d cases after refusals", n)
		}

		// Keeping closes the reports without hiding anything.
		if err := f.svc.Keep(ctx, f.mod1, f.board, idea.ID, "", KeepInput{Note: " A fair idea; Ann Example lives at Main St 1 "}); err != nil {
			t.Fatal(err)
		}
		// The note may name people: it is kept with the reports, never in the audit log.
		var notes []string
		if err := f.db.SelectContext(ctx, &notes, f.db.Rebind(`SELECT note FROM moderation_reports WHERE target_id = ? AND state = 'kept'`), idea.ID); err != nil ||
			len(notes) == 0 || notes[0] != "A fair idea; Ann Example lives at Main St 1" {
			t.Errorf("kept note %q %v", notes, err)
		}
		kept := 0
		for _, a := range f.host.Audits() {
			if a.Action == "consultations.content.kept" {
				kept++
			}
			if _, ok := a.Detail["note"]; ok || strings.Contains(fmt.Sprint(a.Detail), "Ann Example") {
				t.Errorf("the moderator's note is in the audit log: %+v", a)
			}
		}
		if kept != 1 {
			t.Errorf("%d keep audits, want 1", kept)
		}
		if q, _ := f.svc.Queue(ctx, f.mod1, sdk.ListQuery{Limit: 10}); len(q.Items) != 0 {
			t.Errorf("kept idea still queued %+v", q.Items)
		}
		c, err := f.svc.Hide(ctx, f.mod1, f.board, idea.ID, "", HideInput{Category: CategoryOffTopic, Note: "Not about the park"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Hide(ctx, f.mod2, f.board, idea.ID, "", HideInput{Category: CategorySpam, Note: "again"})
		wantRule(t, err, sdk.CodeConflict, "hidden")
		_, err = f.svc.ReportItem(ctx, f.eve, f.board, idea.ID, "", report)
		wantRule(t, err, sdk.CodeConflict, "hidden")
		_, err = f.svc.Support(ctx, f.bob, f.board, idea.ID, true, false)
		wantRule(t, err, sdk.CodeConflict, "hidden")
		_, err = f.svc.AddComment(ctx, f.bob, f.board, idea.ID, CommentInput{Body: "x"})
		wantRule(t, err, sdk.CodeConflict, "hidden")
		// Nothing to decide before an appeal; a hidden idea shows no text to anyone
		// but its author and the moderators.
		_, err = f.svc.Decide(ctx, f.mod2, c.ID, DecisionInput{Decision: DecisionUpheld, Reason: "x"})
		wantRule(t, err, sdk.CodeConflict, "not_appealed")
		for _, who := range []sdk.Principal{{}, f.bob} {
			got, _ := f.svc.Idea(ctx, who, f.board, idea.ID)
			if got.Title != "" || got.Body != "" || got.Hidden == nil || got.Hidden.Category != CategoryOffTopic {
				t.Errorf("hidden idea as %q sees it %+v", who.UserID, got)
			}
		}
		_, err = f.svc.Case(ctx, f.bob, c.ID)
		wantCode(t, err, sdk.CodeNotFound)
		if got, err := f.svc.Case(ctx, f.mod2, c.ID); err != nil || got.Title != "Sauna" || got.MayDecide {
			t.Errorf("case as a moderator sees it before an appeal %+v, %v", got, err)
		}
		if cases, err := f.svc.MyCases(ctx, f.ann); err != nil || len(cases) != 1 || cases[0].ID != c.ID || !cases[0].MayAppeal {
			t.Errorf("ann's cases %+v, %v", cases, err)
		}

		// An upheld hiding stays.
		if _, err := f.svc.Appeal(ctx, f.ann, c.ID, AppealInput{Body: "It is about the park's sauna"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Decide(ctx, f.mod2, c.ID, DecisionInput{Decision: DecisionUpheld, Reason: "The park has no sauna plans."}); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Idea(ctx, sdk.Principal{}, f.board, idea.ID); got.Hidden == nil {
			t.Error("an upheld hiding was lifted")
		}
		if told := f.notified(t, "ann", NotifyDecided); len(told) != 1 || told[0].Texts["da"].Title != "Du fik ikke medhold i din klage" {
			t.Errorf("ann told %+v", told)
		}
	})
}
