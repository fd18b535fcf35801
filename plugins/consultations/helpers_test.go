package consultations

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// start is when every test's clock starts: 1 March 2027, 09:00 UTC.
var start = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

// eachStore runs fn on a fresh, migrated SQLite store and on a throwaway PostgreSQL
// schema.
func eachStore(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	sdktest.EachMigratedStore(t, New().(*Plugin), fn)
}

// fixture is a service over a migrated store with a fake host (neighbourhoods n1 and
// n2, staff "staff") and a clock the test moves.
type fixture struct {
	t     testing.TB
	svc   *Service
	host  *sdktest.FakeHost
	clock *sdktest.Clock
	db    *store.DB
	ctx   context.Context
	staff sdk.Principal
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	h := sdktest.NewFakeHost(New().Manifest())
	h.AddNeighbourhood(sdk.Neighbourhood{ID: "n1", Name: "Kallio"})
	h.AddNeighbourhood(sdk.Neighbourhood{ID: "n2", Name: "Vallila"})
	h.AddUser(sdk.User{ID: "staff"})
	h.Grant("staff", RoleStaff, sdk.DomainCity)
	c := sdktest.NewClock(start)
	svc := NewService(db, h, time.UTC, []string{"fi", "sv", "en"}, nil)
	svc.now = c.Now
	return &fixture{t: t, svc: svc, host: h, clock: c, db: db, ctx: context.Background(), staff: h.Principal("staff")}
}

// resident is a verified resident of nbh ("" for none: signed in, unverified).
func (f *fixture) resident(id, nbh string) sdk.Principal {
	f.host.AddUser(sdk.User{ID: id})
	if nbh != "" {
		f.host.AddMember(id, nbh)
	}
	return f.host.Principal(id)
}

// survey is a survey for residents of n1, open from start+1h for a week, asking:
//
//	0 "Do you cycle?" single yes/no, required
//	1 "How often?" scale 1..5, required, asked only if 0 is "yes"
//	2 "Which routes?" multiple 1..2 of A/B/C, optional
//	3 "Rank the plans" ranking of X/Y/Z
//	4 "Anything else?" text, max 50
func survey() ConsultationInput {
	return ConsultationInput{
		Kind: KindSurvey, Title: "Cycling in Kallio", Background: "We plan new cycle lanes.",
		WhatNext: "The committee decides in May.", Neighbourhoods: []string{"n1"},
		Participation: ParticipationResidents, AnonymousAllowed: true,
		OpensAt: start.Add(time.Hour), ClosesAt: start.Add(7 * 24 * time.Hour),
		Questions: []QuestionInput{
			{Kind: QuestionSingle, Prompt: "Do you cycle?", Required: true, Options: []string{"Yes", "No"}},
			{Kind: QuestionScale, Prompt: "How often?", Required: true, ScaleMin: 1, ScaleMax: 5, ScaleMinLabel: "Rarely", ScaleMaxLabel: "Daily",
				ShowIf: &ShowIfInput{Question: 0, Option: 0}},
			{Kind: QuestionMultiple, Prompt: "Which routes?", Options: []string{"A", "B", "C"}, MinChoices: 1, MaxChoices: 2},
			{Kind: QuestionRanking, Prompt: "Rank the plans", Options: []string{"X", "Y", "Z"}},
			{Kind: QuestionText, Prompt: "Anything else?", MaxLength: 50},
		},
	}
}

// published creates and publishes in, and moves the clock to its opening.
func (f *fixture) published(in ConsultationInput) *Consultation {
	f.t.Helper()
	c, err := f.svc.Create(f.ctx, f.staff, in)
	if err != nil {
		f.t.Fatalf("create: %v", err)
	}
	if c, err = f.svc.Publish(f.ctx, f.staff, c.ID); err != nil {
		f.t.Fatalf("publish: %v", err)
	}
	if f.clock.Now().Before(c.OpensAt) {
		f.clock.Set(c.OpensAt)
	}
	return c
}

// answers builds the survey's answers: yes/no, how often (0: none), routes, ranking,
// text, by position.
func answersOf(c *Consultation, cycle int, often int, routes []int, ranking []int, text string) Answers {
	a := Answers{c.Questions[0].ID: {Options: []string{c.Questions[0].Options[cycle].ID}}}
	if often > 0 {
		a[c.Questions[1].ID] = AnswerValue{Value: &often}
	}
	if len(routes) > 0 {
		var ids []string
		for _, r := range routes {
			ids = append(ids, c.Questions[2].Options[r].ID)
		}
		a[c.Questions[2].ID] = AnswerValue{Options: ids}
	}
	if len(ranking) > 0 {
		var ids []string
		for _, r := range ranking {
			ids = append(ids, c.Questions[3].Options[r].ID)
		}
		a[c.Questions[3].ID] = AnswerValue{Options: ids}
	}
	if text != "" {
		a[c.Questions[4].ID] = AnswerValue{Text: text}
	}
	return a
}

// wantRule fails unless err is an *sdk.Error with code and rule.
func wantRule(t *testing.T, err error, code, rule string) {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want a %s error with rule %s", err, code, rule)
	}
	if e.Code != code || e.Fields["rule"] != rule {
		t.Fatalf("got %s/%s (%s), want %s/%s", e.Code, e.Fields["rule"], e.Message, code, rule)
	}
}

// count counts the rows of table.
func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.GetContext(f.ctx, &n, `SELECT COUNT(*) FROM `+table); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// contentAudits are the audits of acts on ideas and comments, without those of the
// consultations themselves (publishing the board is audited too).
func (f *fixture) contentAudits() []sdk.AuditEntry {
	var out []sdk.AuditEntry
	for _, a := range f.host.Audits() {
		if !strings.HasPrefix(a.Target, consultationSubject("")) {
			out = append(out, a)
		}
	}
	return out
}
