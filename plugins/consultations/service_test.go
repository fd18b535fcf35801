package consultations

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

func TestService_Create(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		t.Run("OK", func(t *testing.T) {
			c, err := f.svc.Create(f.ctx, f.staff, survey())
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.svc.Get(f.ctx, f.staff, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Stage != StageDraft || len(got.Questions) != 5 || got.Questions[1].ShowIf == nil ||
				got.Questions[1].ShowIf.QuestionID != got.Questions[0].ID || got.Questions[1].ShowIf.OptionID != got.Questions[0].Options[0].ID {
				t.Fatalf("stored draft: %+v", got)
			}
			if !got.Editable || got.Questions[4].MaxLength != 50 || got.Questions[2].MaxChoices != 2 {
				t.Errorf("defaults: editable %v, max length %d, max choices %d", got.Editable, got.Questions[4].MaxLength, got.Questions[2].MaxChoices)
			}
			// A draft is staff's only.
			if _, err := f.svc.Get(f.ctx, f.resident("r0", "n1"), c.ID); !isNotFound(err) {
				t.Errorf("a resident read a draft: %v", err)
			}
		})
		bad := []struct {
			name, rule string
			change     func(in *ConsultationInput)
		}{
			{"no title", sdk.RuleRequired, func(in *ConsultationInput) { in.Title = "  " }},
			{"NUL in title", sdk.RuleNUL, func(in *ConsultationInput) { in.Title = "a\x00b" }},
			{"title too long", sdk.RuleMaxLength, func(in *ConsultationInput) { in.Title = strings.Repeat("ä", MaxTitle+1) }},
			{"age beyond int32", sdk.RuleRange, func(in *ConsultationInput) { in.MinAge = 1 << 40 }},
			{"closes before it opens", "after_opens", func(in *ConsultationInput) { in.ClosesAt = in.OpensAt }},
			{"unknown neighbourhood", sdk.RuleExists, func(in *ConsultationInput) { in.Neighbourhoods = []string{"n9"} }},
			{"who may take part", sdk.RuleOneOf, func(in *ConsultationInput) { in.Participation = "everyone" }},
			{"depends on a later question", "earlier_question", func(in *ConsultationInput) { in.Questions[0].ShowIf = &ShowIfInput{Question: 2} }},
			{"depends on a scale", "choice_question", func(in *ConsultationInput) { in.Questions[2].ShowIf = &ShowIfInput{Question: 1} }},
			{"depends on a missing option", sdk.RuleExists, func(in *ConsultationInput) { in.Questions[1].ShowIf.Option = 5 }},
			{"one option", "min_items", func(in *ConsultationInput) { in.Questions[0].Options = []string{"Yes"} }},
			{"same option twice", "unique", func(in *ConsultationInput) { in.Questions[0].Options = []string{"Yes", "Yes"} }},
			{"scale backwards", "scale_range", func(in *ConsultationInput) { in.Questions[1].ScaleMax = 0 }},
			{"choices beyond the options", "choices_range", func(in *ConsultationInput) { in.Questions[2].MaxChoices = 4 }},
			{"poll of two questions", "poll_one_question", func(in *ConsultationInput) { in.Kind = KindPoll }},
			{"anonymous with too much free text", "anonymous_text", func(in *ConsultationInput) {
				in.Questions = append(in.Questions, QuestionInput{Kind: QuestionText, Prompt: "More?", MaxLength: MaxAnonymousText})
			}},
			{"anonymous poll with live results", "anonymous_live_results", func(in *ConsultationInput) {
				in.Kind, in.PollResults, in.Questions = KindPoll, PollResultsAfterVote, in.Questions[:1]
			}},
		}
		for _, tc := range bad {
			t.Run("Err "+tc.name, func(t *testing.T) {
				before := f.count("consultations")
				in := survey()
				tc.change(&in)
				_, err := f.svc.Create(f.ctx, f.staff, in)
				wantRule(t, err, sdk.CodeInvalid, tc.rule)
				if f.count("consultations") != before {
					t.Error("a refused consultation was stored")
				}
			})
		}
	})
}

func TestService_Lifecycle(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, err := f.svc.Create(f.ctx, f.staff, survey())
		if err != nil {
			t.Fatal(err)
		}
		in := survey()
		in.Title = "Cycling in Kallio and Vallila"
		in.Neighbourhoods = []string{"n2", "n1", "n2"}
		if c, err = f.svc.Update(f.ctx, f.staff, c.ID, in); err != nil || c.Title != in.Title || len(c.Neighbourhoods) != 2 {
			t.Fatalf("update: %v %+v", err, c)
		}
		if c, err = f.svc.Publish(f.ctx, f.staff, c.ID); err != nil || c.Stage != StageUpcoming {
			t.Fatalf("publish: %v %+v", err, c)
		}
		_, err = f.svc.Update(f.ctx, f.staff, c.ID, in)
		wantRule(t, err, sdk.CodeConflict, "not_draft")
		wantRule(t, f.svc.Delete(f.ctx, f.staff, c.ID), sdk.CodeConflict, "not_draft")
		f.clock.Set(c.OpensAt)
		page, err := f.svc.List(f.ctx, sdk.Principal{}, ListFilter{Stage: StageOpen, Neighbourhood: "n2"}, sdk.ListQuery{Limit: 10})
		if err != nil || len(page.Items) != 1 || page.Items[0].Stage != StageOpen {
			t.Fatalf("open list: %v %+v", err, page)
		}
		if c, err = f.svc.Close(f.ctx, f.staff, c.ID); err != nil || c.Stage != StageClosed {
			t.Fatalf("close: %v %+v", err, c)
		}
		for stage, want := range map[Stage]int{StageEnded: 1, StageClosed: 1, StageOpen: 0} {
			page, err := f.svc.List(f.ctx, sdk.Principal{}, ListFilter{Stage: stage}, sdk.ListQuery{Limit: 10})
			if err != nil || len(page.Items) != want {
				t.Errorf("list %s: %v, %d items, want %d", stage, err, len(page.Items), want)
			}
		}
		_, err = f.svc.Close(f.ctx, f.staff, c.ID)
		wantRule(t, err, sdk.CodeConflict, "closed")
	})
}

func TestService_Eligibility(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		in := survey()
		in.MinAge = 16
		c, err := f.svc.Create(f.ctx, f.staff, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Publish(f.ctx, f.staff, c.ID); err != nil {
			t.Fatal(err)
		}
		resident, other, unverified := f.resident("r1", "n1"), f.resident("r2", "n2"), f.resident("u1", "")
		check := func(who sdk.Principal, rule string) {
			t.Helper()
			e, err := f.svc.Eligibility(f.ctx, who, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if e.Rule != rule || e.CanAnswer != (rule == "") || (rule != "" && e.Message == "") {
				t.Errorf("%q: %+v, want rule %q", who.UserID, e, rule)
			}
		}
		check(resident, RuleNotOpen)
		f.clock.Set(c.OpensAt)
		check(resident, "")
		check(other, RuleResidents)
		check(unverified, RuleResidents)
		check(sdk.Principal{}, RuleSignIn)
		// The refusals as errors, each with its code; nothing is stored.
		valid := answersOf(c, 1, 0, nil, nil, "")
		_, err = f.svc.Submit(f.ctx, unverified, c.ID, AnswerInput{Answers: valid, AgeConfirmed: true})
		wantRule(t, err, sdk.CodeForbidden, RuleResidents)
		_, err = f.svc.Submit(f.ctx, sdk.Principal{}, c.ID, AnswerInput{Answers: valid, AgeConfirmed: true})
		wantRule(t, err, sdk.CodeUnauthenticated, RuleSignIn)
		_, err = f.svc.Submit(f.ctx, resident, c.ID, AnswerInput{Answers: valid})
		wantRule(t, err, sdk.CodeInvalid, RuleMinAge)
		if n := f.count("participants") + f.count("answers"); n != 0 {
			t.Fatalf("refused answers stored %d rows", n)
		}
		if e, _ := f.svc.Eligibility(f.ctx, resident, c.ID); e.ConfirmAge != 16 {
			t.Errorf("confirm age: %+v", e)
		}
		if _, err := f.svc.Submit(f.ctx, resident, c.ID, AnswerInput{Answers: valid, AgeConfirmed: true}); err != nil {
			t.Fatal(err)
		}
		check(resident, RuleAnswered)
		f.clock.Set(c.ClosesAt)
		check(other, RuleClosed)
		// In the resident's language: Finnish from the request's context.
		e, _ := f.svc.Eligibility(sdk.WithLanguage(f.ctx, "fi"), other, c.ID)
		if !strings.Contains(e.Message, "Kuuleminen päättyi") {
			t.Errorf("Finnish refusal: %q", e.Message)
		}
	})
}

func TestService_Submit(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.published(survey())
		r1, r2 := f.resident("r1", "n1"), f.resident("r2", "n1")
		t.Run("OK", func(t *testing.T) {
			a, err := f.svc.Submit(f.ctx, r1, c.ID, AnswerInput{Answers: answersOf(c, 0, 4, []int{0, 2}, []int{2, 0, 1}, "  More racks  ")})
			if err != nil {
				t.Fatal(err)
			}
			if a.EditableUntil == nil || !a.EditableUntil.Equal(c.ClosesAt) || a.Answers[c.Questions[4].ID].Text != "More racks" {
				t.Errorf("answer: %+v", a)
			}
			mine, err := f.svc.MyAnswer(f.ctx, r1, c.ID)
			if err != nil || *mine.Answers[c.Questions[1].ID].Value != 4 {
				t.Errorf("my answer: %v %+v", err, mine)
			}
		})
		t.Run("ErrOneAnswer", func(t *testing.T) {
			_, err := f.svc.Submit(f.ctx, r1, c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, "")})
			wantRule(t, err, sdk.CodeConflict, RuleAnswered)
			// Not anonymously either: the participation mark is one per person.
			_, err = f.svc.Submit(f.ctx, r1, c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, ""), Anonymous: true})
			wantRule(t, err, sdk.CodeConflict, RuleAnswered)
			if f.count("answers") != 1 || f.count("sealed_answers") != 0 {
				t.Error("a second answer was stored")
			}
		})
		t.Run("Dependency", func(t *testing.T) {
			// "No" hides "how often": an answer to it is refused...
			_, err := f.svc.Submit(f.ctx, r2, c.ID, AnswerInput{Answers: answersOf(c, 1, 3, nil, nil, "")})
			wantRule(t, err, sdk.CodeInvalid, RuleHidden)
			// ...or dropped when a form without JavaScript sent every field.
			a, err := f.svc.Submit(f.ctx, r2, c.ID, AnswerInput{Answers: answersOf(c, 1, 3, nil, nil, ""), DropHidden: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, kept := a.Answers[c.Questions[1].ID]; kept {
				t.Error("the hidden answer was kept")
			}
			// "Yes" asks it, and it is required.
			_, err = f.svc.Edit(f.ctx, r2, c.ID, AnswerInput{Answers: answersOf(c, 0, 0, nil, nil, "")})
			wantRule(t, err, sdk.CodeInvalid, sdk.RuleRequired)
			if vis := Visible(c, answersOf(c, 0, 0, nil, nil, "")); !vis[c.Questions[1].ID] {
				t.Error("Visible hides the dependent question after yes")
			}
		})
		bad := []struct {
			name, rule string
			answers    Answers
		}{
			{"unknown question", sdk.RuleExists, Answers{"q?": {Text: "x"}}},
			{"two options of a single choice", "one_option", Answers{c.Questions[0].ID: {Options: []string{c.Questions[0].Options[0].ID, c.Questions[0].Options[1].ID}}}},
			{"unknown option", sdk.RuleExists, Answers{c.Questions[0].ID: {Options: []string{"nope"}}}},
			{"too many routes", "choices_range", answersOf(c, 1, 0, []int{0, 1, 2}, nil, "")},
			{"ranked twice", "unique", answersOf(c, 1, 0, nil, []int{0, 0}, "")},
			{"scale out of range", sdk.RuleRange, answersOf(c, 0, 6, nil, nil, "")},
			{"text too long", sdk.RuleMaxLength, answersOf(c, 1, 0, nil, nil, strings.Repeat("é", 51))},
			{"NUL in text", sdk.RuleNUL, answersOf(c, 1, 0, nil, nil, "a\x00")},
			{"a value for a choice", "answer_kind", Answers{c.Questions[0].ID: {Text: "Yes"}}},
			{"required missing", sdk.RuleRequired, Answers{}},
		}
		r3 := f.resident("r3", "n1")
		for _, tc := range bad {
			t.Run("Err "+tc.name, func(t *testing.T) {
				_, err := f.svc.Submit(f.ctx, r3, c.ID, AnswerInput{Answers: tc.answers})
				wantRule(t, err, sdk.CodeInvalid, tc.rule)
			})
		}
		if n := f.count("participants"); n != 2 {
			t.Errorf("%d participants after refusals, want 2", n)
		}
		t.Run("EditUntilClose", func(t *testing.T) {
			if _, err := f.svc.Edit(f.ctx, r1, c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, "")}); err != nil {
				t.Fatal(err)
			}
			mine, _ := f.svc.MyAnswer(f.ctx, r1, c.ID)
			if mine.Answers[c.Questions[0].ID].Options[0] != c.Questions[0].Options[1].ID || len(mine.Answers) != 1 {
				t.Errorf("edited answer: %+v", mine)
			}
			f.clock.Set(c.ClosesAt)
			_, err := f.svc.Edit(f.ctx, r1, c.ID, AnswerInput{Answers: answersOf(c, 0, 2, nil, nil, "")})
			wantRule(t, err, sdk.CodeConflict, RuleClosed)
			if mine, _ := f.svc.MyAnswer(f.ctx, r1, c.ID); mine.EditableUntil != nil {
				t.Error("editable after the close")
			}
		})
	})
}

func TestService_NotEditable(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		in := survey()
		no := false
		in.Editable = &no
		c := f.published(in)
		r := f.resident("r1", "n1")
		a, err := f.svc.Submit(f.ctx, r, c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, "")})
		if err != nil || a.EditableUntil != nil {
			t.Fatalf("submit: %v %+v", err, a)
		}
		_, err = f.svc.Edit(f.ctx, r, c.ID, AnswerInput{Answers: answersOf(c, 0, 1, nil, nil, "")})
		wantRule(t, err, sdk.CodeConflict, RuleNotEditable)
	})
}

func TestService_Anonymous(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.published(survey())
		r := f.resident("r1", "n1")
		a, err := f.svc.Submit(f.ctx, r, c.ID, AnswerInput{Answers: answersOf(c, 0, 5, nil, nil, "secret"), Anonymous: true})
		if err != nil {
			t.Fatal(err)
		}
		if !a.Anonymous || len(a.Answers) != 0 || a.EditableUntil != nil {
			t.Errorf("anonymous answer shown back: %+v", a)
		}
		if f.count("answers") != 0 || f.count("sealed_answers") != 1 {
			t.Fatalf("answers %d, sealed %d; want 0 and 1", f.count("answers"), f.count("sealed_answers"))
		}
		var sealed []byte
		if err := db.GetContext(f.ctx, &sealed, `SELECT sealed FROM sealed_answers`); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("secret")) || len(sealed) < sealSize(c) {
			t.Errorf("sealed answer holds the text or is not padded: %d bytes", len(sealed))
		}
		_, err = f.svc.Edit(f.ctx, r, c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, "")})
		wantRule(t, err, sdk.CodeConflict, RuleAnonymousFinal)
		if mine, err := f.svc.MyAnswer(f.ctx, r, c.ID); err != nil || !mine.Anonymous || len(mine.Answers) != 0 {
			t.Errorf("my anonymous answer: %v %+v", err, mine)
		}
		// Where the city does not allow it, anonymity is refused.
		in := survey()
		in.AnonymousAllowed = false
		c2 := f.published(in)
		_, err = f.svc.Submit(f.ctx, r, c2.ID, AnswerInput{Answers: answersOf(c2, 1, 0, nil, nil, ""), Anonymous: true})
		wantRule(t, err, sdk.CodeInvalid, "anonymous_not_allowed")
		// At the close the sealed answer is opened into answers, without the person:
		// here by the background run once closes_at has passed.
		if err := f.svc.FinaliseClosed(f.ctx); err != nil || f.count("sealed_answers") != 1 {
			t.Fatalf("finalised before the close: %v, %d sealed", err, f.count("sealed_answers"))
		}
		f.clock.Set(c.ClosesAt)
		if err := f.svc.FinaliseClosed(f.ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.FinaliseClosed(f.ctx); err != nil { // nothing left: harmless
			t.Fatal(err)
		}
		var n int
		if err := db.GetContext(f.ctx, &n, `SELECT COUNT(*) FROM answers WHERE user_id IS NULL`); err != nil || n != 1 || f.count("sealed_answers") != 0 {
			t.Fatalf("after the close: %d unlinked answers, %d sealed (%v)", n, f.count("sealed_answers"), err)
		}
	})
}

// TestService_Results runs a survey to its end: answers named and anonymous, the close,
// redaction, results, the city's response and its notification.
func TestService_Results(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.published(survey())
		given := []struct {
			anonymous bool
			a         Answers
		}{
			{false, answersOf(c, 0, 5, []int{0}, []int{0, 1, 2}, "Call me on 040 123 4567")},
			{false, answersOf(c, 0, 3, []int{0, 1}, []int{1, 0, 2}, "")},
			{true, answersOf(c, 0, 4, []int{2}, []int{0, 2, 1}, "=HYPERLINK(\"x\")")},
			{true, answersOf(c, 1, 0, nil, []int{2}, "")},
		}
		for i, g := range given {
			who := f.resident(string(rune('a'+i)), "n1")
			if _, err := f.svc.Submit(f.ctx, who, c.ID, AnswerInput{Answers: g.a, Anonymous: g.anonymous}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.Results(f.ctx, sdk.Principal{}, c.ID)
		wantRule(t, err, sdk.CodeNotFound, "not_published")
		_, err = f.svc.PublishResults(f.ctx, f.staff, c.ID)
		wantRule(t, err, sdk.CodeConflict, "not_closed")
		f.clock.Set(c.ClosesAt.Add(time.Minute))

		texts, err := f.svc.Texts(f.ctx, f.staff, c.ID, sdk.ListQuery{Limit: 50})
		if err != nil || len(texts.Items) != 2 {
			t.Fatalf("texts: %v %+v", err, texts)
		}
		_, err = f.svc.PublishResults(f.ctx, f.staff, c.ID)
		wantRule(t, err, sdk.CodeConflict, "texts_pending")
		for _, tx := range texts.Items {
			d := TextDecision{}
			if strings.HasPrefix(tx.Original, "Call me") {
				d = TextDecision{Publish: true, Redacted: "Call me on [phone number removed]"}
			}
			_, err = f.svc.DecideText(f.ctx, f.staff, c.ID, tx.ID, TextDecision{Publish: true})
			wantRule(t, err, sdk.CodeInvalid, sdk.RuleRequired)
			if got, err := f.svc.DecideText(f.ctx, f.staff, c.ID, tx.ID, d); err != nil || got.Original != tx.Original {
				t.Fatalf("decide: %v %+v", err, got)
			}
		}
		res, err := f.svc.PublishResults(f.ctx, f.staff, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Answers != 4 {
			t.Errorf("%d answers counted, want 4", res.Answers)
		}
		q := res.Questions
		if q[0].Options[0].Count != 3 || q[0].Options[1].Count != 1 {
			t.Errorf("cycle: %+v", q[0].Options)
		}
		if q[1].Answered != 3 || q[1].Scale.Mean != 4 || q[1].Scale.Counts[4] != (ScaleStep{Value: 5, Count: 1}) {
			t.Errorf("how often: %+v", q[1].Scale)
		}
		if q[2].Options[0].Count != 2 || q[2].Options[1].Count != 1 || q[2].Options[2].Count != 1 {
			t.Errorf("routes: %+v", q[2].Options)
		}
		// Borda over X, Y, Z: (X,Y,Z)=2,1,0 (Y,X,Z)=1,2,0 (X,Z,Y)=2,0,1 (Z)=0,0,2 → X 5, Y 3, Z 3.
		if r := q[3].Options; r[0].Label != "X" || r[0].Borda != 5 || r[0].Place != 1 || r[1].Borda != 3 || r[1].Place != 2 || r[2].Place != 2 {
			t.Errorf("ranking: %+v", r)
		}
		if len(q[4].Texts) != 1 || q[4].Texts[0] != "Call me on [phone number removed]" {
			t.Errorf("published texts: %q", q[4].Texts)
		}
		_, err = f.svc.DecideText(f.ctx, f.staff, c.ID, texts.Items[0].ID, TextDecision{})
		wantRule(t, err, sdk.CodeConflict, "results_published")

		public, err := f.svc.Results(f.ctx, sdk.Principal{}, c.ID)
		if err != nil || !public.Published || public.Answers != 4 {
			t.Fatalf("public results: %v %+v", err, public)
		}
		var buf bytes.Buffer
		if err := public.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || rows[0][0] != "question_id" || len(rows) != 1+2+6+3+3+1 {
			t.Fatalf("CSV: %v %d rows %q", err, len(rows), rows)
		}
		if strings.Contains(buf.String(), "040 123") {
			t.Error("the unredacted text is in the CSV")
		}

		f.host.AddUser(sdk.User{ID: "nobody"})
		_, err = f.svc.Respond(f.ctx, f.staff, c.ID, ResponseInput{Response: " "})
		wantRule(t, err, sdk.CodeInvalid, sdk.RuleRequired)
		done, err := f.svc.Respond(f.ctx, f.staff, c.ID, ResponseInput{Response: "Lanes A and B are built in 2028."})
		if err != nil || done.Stage != StageResponded {
			t.Fatalf("respond: %v %+v", err, done)
		}
		if err := db.FlushOutbox(f.ctx, f.host); err != nil {
			t.Fatal(err)
		}
		notes := f.host.Notifications()
		if len(notes) != 1 || notes[0].Kind != NotifyResponse || strings.Join(notes[0].Recipients, ",") != "a,b,c,d" ||
			!strings.Contains(notes[0].Texts["fi"].Title, "Cycling in Kallio") || notes[0].Texts["sv"].Body == "" {
			t.Errorf("notifications: %+v", notes)
		}
		again, err := f.svc.Results(f.ctx, sdk.Principal{}, c.ID)
		if err != nil || again.Response != "Lanes A and B are built in 2028." {
			t.Errorf("results with the response: %v %+v", err, again)
		}
		_, err = f.svc.Respond(f.ctx, f.staff, c.ID, ResponseInput{Response: "Again"})
		wantRule(t, err, sdk.CodeConflict, "responded")
	})
}

func TestService_PollAfterVote(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		in := survey()
		in.Kind, in.PollResults, in.AnonymousAllowed, in.Participation = KindPoll, PollResultsAfterVote, false, ParticipationAnyone
		in.Questions = in.Questions[:1]
		c := f.published(in)
		voter := f.resident("v1", "")
		_, err := f.svc.Results(f.ctx, voter, c.ID)
		wantRule(t, err, sdk.CodeNotFound, "not_published")
		if _, err := f.svc.Submit(f.ctx, voter, c.ID, AnswerInput{Answers: answersOf(c, 0, 0, nil, nil, "")}); err != nil {
			t.Fatal(err)
		}
		// A visitor takes part too: counted, stored without anyone's ID.
		if _, err := f.svc.Submit(f.ctx, sdk.Principal{}, c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, "")}); err != nil {
			t.Fatal(err)
		}
		res, err := f.svc.Results(f.ctx, voter, c.ID)
		if err != nil || res.Published || res.Answers != 2 || res.Questions[0].Options[0].Count != 1 {
			t.Fatalf("live results: %v %+v", err, res)
		}
		// Counted again only once liveTTL has passed.
		if _, err := f.svc.Submit(f.ctx, sdk.Principal{}, c.ID, AnswerInput{Answers: answersOf(c, 0, 0, nil, nil, "")}); err != nil {
			t.Fatal(err)
		}
		if res, _ := f.svc.Results(f.ctx, voter, c.ID); res.Answers != 2 {
			t.Errorf("recounted within liveTTL: %d", res.Answers)
		}
		f.clock.Advance(liveTTL)
		if res, _ := f.svc.Results(f.ctx, voter, c.ID); res.Answers != 3 {
			t.Errorf("not recounted after liveTTL: %d", res.Answers)
		}
	})
}

func TestService_EraseUser(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.published(survey())
		r := f.resident("r1", "n1")
		if _, err := f.svc.Submit(f.ctx, r, c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, "")}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // delivered at least once
			if err := f.svc.EraseUser(f.ctx, "r1"); err != nil {
				t.Fatal(err)
			}
		}
		var linked int
		if err := db.GetContext(f.ctx, &linked, `SELECT COUNT(*) FROM answers WHERE user_id IS NOT NULL`); err != nil || linked != 0 || f.count("participants") != 0 || f.count("answers") != 1 {
			t.Errorf("after erasure: %d linked answers, %d participants, %d answers", linked, f.count("participants"), f.count("answers"))
		}
	})
}

// TestService_Check applies the answer's checks without writing: the review step of
// the survey's pages.
func TestService_Check(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.published(survey())
		r := f.resident("r1", "n1")
		good := AnswerInput{Answers: answersOf(c, 0, 2, nil, nil, "")}
		if err := f.svc.Check(f.ctx, r, c.ID, good); err != nil {
			t.Fatal(err)
		}
		wantRule(t, f.svc.Check(f.ctx, r, c.ID, AnswerInput{Answers: answersOf(c, 1, 2, nil, nil, "")}), sdk.CodeInvalid, RuleHidden)
		wantRule(t, f.svc.Check(f.ctx, f.resident("o1", "n2"), c.ID, good), sdk.CodeForbidden, RuleResidents)
		if f.count("participants")+f.count("answers") != 0 {
			t.Fatal("Check wrote something")
		}
		if _, err := f.svc.Submit(f.ctx, r, c.ID, AnswerInput{Answers: good.Answers, Anonymous: true}); err != nil {
			t.Fatal(err)
		}
		wantRule(t, f.svc.Check(f.ctx, r, c.ID, good), sdk.CodeConflict, RuleAnswered)
	})
}

// TestService_OneAnswerConcurrent sends one person's answer eight times at once, named
// and anonymous: exactly one is stored, the others are refused as answered.
func TestService_OneAnswerConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.published(survey())
		r := f.resident("r1", "n1")
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				_, err := f.svc.Submit(f.ctx, r, c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, ""), Anonymous: i%2 == 0})
				errs <- err
			}()
		}
		ok := 0
		for range 8 {
			if err := <-errs; err == nil {
				ok++
			} else {
				wantRule(t, err, sdk.CodeConflict, RuleAnswered)
			}
		}
		if ok != 1 || f.count("participants") != 1 || f.count("answers")+f.count("sealed_answers") != 1 {
			t.Errorf("%d accepted; %d participants, %d answers, %d sealed", ok, f.count("participants"), f.count("answers"), f.count("sealed_answers"))
		}
	})
}

// TestService_RespondLongTitle: a title of 200 three-byte characters still makes a
// notification whose title the host takes (at most sdk.MaxNotificationTitle bytes).
func TestService_RespondLongTitle(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		in := survey()
		in.Title, in.Questions = strings.Repeat("漢", MaxTitle), in.Questions[:1]
		c := f.published(in)
		if _, err := f.svc.Submit(f.ctx, f.resident("r1", "n1"), c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, "")}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(c.ClosesAt)
		if _, err := f.svc.PublishResults(f.ctx, f.staff, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Respond(f.ctx, f.staff, c.ID, ResponseInput{Response: "Done."}); err != nil {
			t.Fatal(err)
		}
		if err := db.FlushOutbox(f.ctx, f.host); err != nil {
			t.Fatal(err)
		}
		for lang, text := range f.host.Notifications()[0].Texts {
			if len(text.Title) > sdk.MaxNotificationTitle || !utf8.ValidString(text.Title) {
				t.Errorf("%s title of %d bytes: %q", lang, len(text.Title), text.Title)
			}
		}
	})
}

// TestService_DefinitionKept: a published consultation's definition is read once and
// kept; later reads give the same, and what one caller changes in its copy does not
// reach the next.
func TestService_DefinitionKept(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.published(survey())
		first, err := f.svc.Get(f.ctx, sdk.Principal{}, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		first.Questions[0].Prompt = "changed by a caller"
		first.Neighbourhoods = append(first.Neighbourhoods[:0], "n9")
		again, err := f.svc.Get(f.ctx, sdk.Principal{}, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if again.Questions[0].Prompt != "Do you cycle?" || again.Neighbourhoods[0] != "n1" || len(again.Questions) != 5 ||
			again.Questions[1].ShowIf.OptionID != c.Questions[0].Options[0].ID {
			t.Errorf("kept definition: %+v", again)
		}
		// The row itself is read each time: closing shows at once.
		if _, err := f.svc.Close(f.ctx, f.staff, c.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(f.ctx, sdk.Principal{}, c.ID); got.Stage != StageClosed {
			t.Errorf("stage after close: %s", got.Stage)
		}
	})
}
