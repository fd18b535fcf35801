package consultations

import (
	"fmt"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// snapshot is what a staff act could change: every consultation's moments and words,
// the attachments, the decided texts and the published results, and the audit log.
func (f *fixture) snapshot() string {
	f.t.Helper()
	var rows []struct {
		ID        string `db:"id"`
		Title     string `db:"title"`
		Updated   int64  `db:"updated_at"`
		Published int64  `db:"published_at"`
		Closed    int64  `db:"closed_at"`
		Results   int64  `db:"results_at"`
		Response  string `db:"response"`
	}
	err := f.db.SelectContext(f.ctx, &rows, `SELECT id, title, updated_at, COALESCE(published_at, 0) AS published_at,
		COALESCE(closed_at, 0) AS closed_at, COALESCE(results_at, 0) AS results_at, response FROM consultations ORDER BY id`)
	if err != nil {
		f.t.Fatal(err)
	}
	var decided int
	if err := f.db.GetContext(f.ctx, &decided, `SELECT COUNT(*) FROM texts WHERE state <> 'pending'`); err != nil {
		f.t.Fatal(err)
	}
	return fmt.Sprintf("%+v attachments=%d decided=%d results=%d audits=%d", rows,
		f.count("attachments"), decided, f.count("published_results"), len(f.host.Audits()))
}

// TestService_StaffOnly: a signed-in resident who calls a staff act of the service
// directly, past any route, is refused as forbidden and changes nothing.
func TestService_StaffOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		r := f.resident("r", "n1")
		draft, err := f.svc.Create(f.ctx, f.staff, survey())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddAttachment(f.ctx, f.staff, draft.ID, "upload1", "Plan"); err != nil {
			t.Fatal(err)
		}
		c := f.published(survey())
		if _, err := f.svc.Submit(f.ctx, f.resident("a", "n1"), c.ID, AnswerInput{Answers: answersOf(c, 1, 0, nil, nil, "My phone is 040 123")}); err != nil {
			t.Fatal(err)
		}
		refused := func(name string, call func() error) {
			t.Helper()
			before := f.snapshot()
			err := call()
			if e, ok := err.(*sdk.Error); !ok || e.Code != sdk.CodeForbidden {
				t.Errorf("%s by a resident: got %v, want forbidden", name, err)
			}
			if after := f.snapshot(); after != before {
				t.Errorf("%s by a resident changed\n%s\nto\n%s", name, before, after)
			}
		}
		refused("Create", func() error { _, err := f.svc.Create(f.ctx, r, survey()); return err })
		refused("Update", func() error {
			in := survey()
			in.Title = "Hijacked"
			_, err := f.svc.Update(f.ctx, r, draft.ID, in)
			return err
		})
		refused("Delete", func() error { return f.svc.Delete(f.ctx, r, draft.ID) })
		refused("Publish", func() error { _, err := f.svc.Publish(f.ctx, r, draft.ID); return err })
		refused("AddAttachment", func() error { _, err := f.svc.AddAttachment(f.ctx, r, draft.ID, "upload2", "Mine"); return err })
		refused("RemoveAttachment", func() error { return f.svc.RemoveAttachment(f.ctx, r, draft.ID, "upload1") })
		refused("Close", func() error { _, err := f.svc.Close(f.ctx, r, c.ID); return err })

		f.clock.Set(c.ClosesAt.Add(time.Minute))
		texts, err := f.svc.Texts(f.ctx, f.staff, c.ID, sdk.ListQuery{Limit: 10})
		if err != nil || len(texts.Items) != 1 {
			t.Fatalf("texts: %v %+v", err, texts)
		}
		refused("Texts", func() error { _, err := f.svc.Texts(f.ctx, r, c.ID, sdk.ListQuery{Limit: 10}); return err })
		refused("DecideText", func() error {
			_, err := f.svc.DecideText(f.ctx, r, c.ID, texts.Items[0].ID, TextDecision{Publish: true, Redacted: "x"})
			return err
		})
		refused("PreviewResults", func() error { _, err := f.svc.PreviewResults(f.ctx, r, c.ID); return err })
		refused("PublishResults", func() error { _, err := f.svc.PublishResults(f.ctx, r, c.ID); return err })

		if _, err := f.svc.DecideText(f.ctx, f.staff, c.ID, texts.Items[0].ID, TextDecision{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PublishResults(f.ctx, f.staff, c.ID); err != nil {
			t.Fatal(err)
		}
		refused("Respond", func() error {
			_, err := f.svc.Respond(f.ctx, r, c.ID, ResponseInput{Response: "Nothing will be built."})
			return err
		})
		refused("Respond anonymously", func() error {
			_, err := f.svc.Respond(f.ctx, sdk.Principal{}, c.ID, ResponseInput{Response: "Nothing."})
			return err
		})
	})
}

// TestService_StaffActsAudited: publishing, closing, publishing results, responding
// and deleting are each audited once, after they commit, with the staff member as the
// actor; a refused act is not.
func TestService_StaffActsAudited(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.published(survey())
		if _, err := f.svc.Publish(f.ctx, f.staff, c.ID); err == nil {
			t.Fatal("published twice")
		}
		if _, err := f.svc.Close(f.ctx, f.staff, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PublishResults(f.ctx, f.staff, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Respond(f.ctx, f.staff, c.ID, ResponseInput{Response: "We build lane A."}); err != nil {
			t.Fatal(err)
		}
		draft, err := f.svc.Create(f.ctx, f.staff, survey())
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Delete(f.ctx, f.staff, draft.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"consultations.published " + consultationSubject(c.ID),
			"consultations.closed " + consultationSubject(c.ID),
			"consultations.results.published " + consultationSubject(c.ID),
			"consultations.responded " + consultationSubject(c.ID),
			"consultations.deleted " + consultationSubject(draft.ID),
		}
		got := f.host.Audits()
		if len(got) != len(want) {
			t.Fatalf("audits %+v, want %q", got, want)
		}
		for i, a := range got {
			if a.Action+" "+a.Target != want[i] || a.ActorID != "staff" || a.Domain != sdk.DomainCity {
				t.Errorf("audit %d: %+v, want %s by staff", i, a, want[i])
			}
		}
	})
}
