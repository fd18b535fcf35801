package consultations

import (
	"context"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestService_VerifiedAge: where the city's identity service verified a person's age,
// it decides the minimum age of surveys and idea boards: a verified 15-year-old is
// refused even with the box ticked (forbidden, not a field to correct), and a verified
// adult takes part without ticking it. Without a verified age the tick box stays.
func TestService_VerifiedAge(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newIdeaFixture(t, cfg)
		ctx := context.Background()
		aged := func(id string, age int) sdk.Principal {
			p := f.resident(id, "n1")
			p.AgeVerified, p.VerifiedAge = true, age
			return p
		}
		child, adult, undeclared := aged("teen", 15), aged("adult", 40), f.resident("plain", "n1")

		in := survey()
		in.MinAge = 16
		c := f.published(in)
		valid := answersOf(c, 1, 0, nil, nil, "")
		_, err := f.svc.Submit(ctx, child, c.ID, AnswerInput{Answers: valid, AgeConfirmed: true})
		wantRule(t, err, sdk.CodeForbidden, RuleMinAge)
		err = f.svc.Check(ctx, child, c.ID, AnswerInput{Answers: valid, AgeConfirmed: true})
		wantRule(t, err, sdk.CodeForbidden, RuleMinAge)
		if e, err := f.svc.Eligibility(ctx, child, c.ID); err != nil || e.CanAnswer || e.Rule != RuleMinAge || e.ConfirmAge != 0 {
			t.Errorf("eligibility of a verified 15-year-old: %+v %v", e, err)
		}
		if n := f.count("participants") + f.count("answers"); n != 0 {
			t.Fatalf("the refused answer stored %d rows", n)
		}
		if e, err := f.svc.Eligibility(ctx, adult, c.ID); err != nil || !e.CanAnswer || e.ConfirmAge != 0 {
			t.Errorf("eligibility of a verified adult: %+v %v", e, err)
		}
		if _, err := f.svc.Submit(ctx, adult, c.ID, AnswerInput{Answers: valid}); err != nil {
			t.Fatalf("a verified adult without the box: %v", err)
		}
		_, err = f.svc.Submit(ctx, undeclared, c.ID, AnswerInput{Answers: valid})
		wantRule(t, err, sdk.CodeInvalid, RuleMinAge)
		if _, err := f.svc.Submit(ctx, undeclared, c.ID, AnswerInput{Answers: valid, AgeConfirmed: true}); err != nil {
			t.Fatalf("an unverified resident who confirmed: %v", err)
		}

		board := f.newBoard(t, ConsultationInput{Participation: ParticipationSignedIn, MinAge: 16})
		_, err = f.svc.PostIdea(ctx, child, board, IdeaInput{Title: "Skate ramp", Body: "For us.", AgeConfirmed: true})
		wantRule(t, err, sdk.CodeForbidden, RuleMinAge)
		if n := f.count("ideas"); n != 0 {
			t.Fatalf("the refused idea stored %d rows", n)
		}
		if _, err := f.svc.PostIdea(ctx, adult, board, IdeaInput{Title: "Benches", Body: "For everyone."}); err != nil {
			t.Fatalf("a verified adult posts without the box: %v", err)
		}
		_, err = f.svc.PostIdea(ctx, undeclared, board, IdeaInput{Title: "Trees", Body: "Shade."})
		wantRule(t, err, sdk.CodeInvalid, RuleMinAge)
	})
}
