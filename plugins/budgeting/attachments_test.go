package budgeting

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// uploadID is an id of the form the host gives an upload (a random UUID); n makes
// each one different.
func uploadID(n int) string { return fmt.Sprintf("0f6c2a4e-8b1d-4c3a-9e7f-%012d", n) }

// TestService_Attachments: photos and documents on a proposal, on both databases —
// who may add them and when, what each needs, and that a refused one changes nothing.
func TestService_Attachments(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		off := f.officer("officer", "n1")
		c := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "Park money", Budget: 1000, Currency: "EUR",
			Ballot: BallotRules{Type: BallotApproval}}))(t)
		author := f.resident("author", "n1")
		p := must(f.svc.SubmitProposal(f.ctx, author, c.ID, ProposalInput{Title: "Swings", Cost: 500}))(t)
		photo := AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(1), Text: "  The empty lot, seen from the bus stop. "}

		t.Run("OK", func(t *testing.T) {
			got := must(f.svc.AddAttachment(f.ctx, author, c.ID, p.ID, photo))(t)
			must(f.svc.AddAttachment(f.ctx, author, c.ID, p.ID, AttachmentInput{Kind: AttachDocument, UploadID: uploadID(2), Text: "Site plan"}))(t)
			got = must(f.svc.Proposal(f.ctx, c.ID, p.ID))(t)
			if len(got.Attachments) != 2 {
				t.Fatalf("attachments %+v", got.Attachments)
			}
			a, d := got.Attachments[0], got.Attachments[1]
			if a.Kind != AttachPhoto || a.Text != "The empty lot, seen from the bus stop." || a.URL != "/uploads/"+uploadID(1) || a.ID == "" {
				t.Errorf("photo %+v", a)
			}
			if d.Kind != AttachDocument || d.Text != "Site plan" || d.URL != "/uploads/"+uploadID(2) {
				t.Errorf("document %+v", d)
			}
		})

		count := func() int {
			t.Helper()
			return len(must(f.svc.Proposal(f.ctx, c.ID, p.ID))(t).Attachments)
		}
		before := count()
		refused := []struct {
			name        string
			pr          sdk.Principal
			in          AttachmentInput
			code, field string
			rule        string
		}{
			{"ErrNoAlt", author, AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(3), Text: "  "}, sdk.CodeInvalid, "alt", sdk.RuleRequired},
			{"ErrNoTitle", author, AttachmentInput{Kind: AttachDocument, UploadID: uploadID(3)}, sdk.CodeInvalid, "title", sdk.RuleRequired},
			{"ErrNoFile", author, AttachmentInput{Kind: AttachPhoto, Text: "A swing"}, sdk.CodeInvalid, "photo", sdk.RuleRequired},
			{"ErrNotAnUpload", author, AttachmentInput{Kind: AttachPhoto, UploadID: "../../etc/passwd", Text: "A swing"}, sdk.CodeInvalid, "photo", sdk.RuleFormat},
			{"ErrKind", author, AttachmentInput{Kind: "video", UploadID: uploadID(3), Text: "A swing"}, sdk.CodeInvalid, "kind", sdk.RuleOneOf},
			{"ErrNUL", author, AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(3), Text: "A\x00swing"}, sdk.CodeInvalid, "alt", sdk.RuleNUL},
			{"ErrLongAlt", author, AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(3), Text: strings.Repeat("ä", 301)}, sdk.CodeInvalid, "alt", sdk.RuleMaxLength},
			{"ErrSameUploadTwice", author, photo, sdk.CodeConflict, "", ""},
			{"ErrNotAuthor", f.resident("bob", "n1"), AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(3), Text: "A swing"}, sdk.CodeForbidden, "", ""},
			{"ErrAnonymous", sdk.Principal{}, AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(3), Text: "A swing"}, sdk.CodeUnauthenticated, "", ""},
			{"ErrOtherOfficer", f.officer("other", "n2"), AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(3), Text: "A swing"}, sdk.CodeForbidden, "", ""},
		}
		for _, r := range refused {
			t.Run(r.name, func(t *testing.T) {
				_, err := f.svc.AddAttachment(f.ctx, r.pr, c.ID, p.ID, r.in)
				wantCode(t, err, r.code)
				if r.field != "" {
					e := err.(*sdk.Error)
					if _, ok := e.Fields[r.field]; !ok || e.Fields["rule"] != r.rule {
						t.Errorf("fields %v, want %s with rule %s", e.Fields, r.field, r.rule)
					}
				}
				if n := count(); n != before {
					t.Errorf("a refused file changed the proposal: %d attachments, want %d", n, before)
				}
			})
		}

		t.Run("ErrTooMany", func(t *testing.T) {
			for i := before; i < maxAttachments; i++ {
				must(f.svc.AddAttachment(f.ctx, author, c.ID, p.ID, AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(100 + i), Text: "Swing"}))(t)
			}
			_, err := f.svc.AddAttachment(f.ctx, author, c.ID, p.ID, AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(200), Text: "Swing"})
			wantCode(t, err, sdk.CodeInvalid)
			if rule := err.(*sdk.Error).Fields["rule"]; rule != RuleMaxAttachments {
				t.Errorf("rule %q", rule)
			}
			if n := count(); n != maxAttachments {
				t.Errorf("%d attachments", n)
			}
		})

		t.Run("Remove", func(t *testing.T) {
			first := must(f.svc.Proposal(f.ctx, c.ID, p.ID))(t).Attachments[0]
			_, err := f.svc.RemoveAttachment(f.ctx, f.resident("bob", "n1"), c.ID, p.ID, first.ID)
			wantCode(t, err, sdk.CodeForbidden)
			got := must(f.svc.RemoveAttachment(f.ctx, author, c.ID, p.ID, first.ID))(t)
			if len(got.Attachments) != maxAttachments-1 || got.Attachments[0].ID == first.ID {
				t.Errorf("after removing: %+v", got.Attachments)
			}
			_, err = f.svc.RemoveAttachment(f.ctx, author, c.ID, p.ID, first.ID)
			wantCode(t, err, sdk.CodeNotFound)
		})

		t.Run("ReviewLocksAuthorNotCity", func(t *testing.T) {
			must(f.svc.RemoveAttachment(f.ctx, author, c.ID, p.ID, must(f.svc.Proposal(f.ctx, c.ID, p.ID))(t).Attachments[0].ID))(t)
			must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseReview))(t)
			_, err := f.svc.AddAttachment(f.ctx, author, c.ID, p.ID, AttachmentInput{Kind: AttachPhoto, UploadID: uploadID(300), Text: "Swing"})
			wantCode(t, err, sdk.CodeConflict)
			got := must(f.svc.AddAttachment(f.ctx, off, c.ID, p.ID, AttachmentInput{Kind: AttachDocument, UploadID: uploadID(301), Text: "Cost estimate"}))(t)
			if last := got.Attachments[len(got.Attachments)-1]; last.Text != "Cost estimate" {
				t.Errorf("officer's document %+v", last)
			}
		})

		t.Run("ErasedAuthor", func(t *testing.T) {
			// The core deletes an erased person's uploads; their rows go too, so the
			// page links to nothing missing. The officer's document stays.
			ev := sdk.Event{ID: "ev-author", Type: sdk.EventUserDeleted, Payload: []byte(`{"user_id":"author"}`)}
			if err := sdk.Deliver(f.ctx, &Plugin{svc: f.svc}, ev); err != nil {
				t.Fatal(err)
			}
			got := must(f.svc.Proposal(f.ctx, c.ID, p.ID))(t)
			if len(got.Attachments) != 1 || got.Attachments[0].Text != "Cost estimate" {
				t.Errorf("after erasure: %+v", got.Attachments)
			}
		})
	})
}

// TestService_UpdatePhotos: a report on a funded project carries photos, which need
// their text alternative; a refused report records nothing.
func TestService_UpdatePhotos(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 1000, 400, 900)
		off := f.officer("officer", "n1")
		must(f.svc.CastBallot(f.ctx, f.resident("v1", "n1"), c.ID, BallotInput{Ballot: Ballot{Projects: ids[:1]}}))(t)
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseResults))(t)
		must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "greedy"}))(t)

		t.Run("ErrNoAlt", func(t *testing.T) {
			_, err := f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplInProgress,
				Photos: []AttachmentInput{{Kind: AttachPhoto, UploadID: uploadID(1)}}})
			wantCode(t, err, sdk.CodeInvalid)
			if got := must(f.svc.Proposal(f.ctx, c.ID, ids[0]))(t); len(got.Updates) != 0 || got.Implementation != ImplPlanned {
				t.Errorf("a refused update was recorded: %+v", got)
			}
		})
		t.Run("OK", func(t *testing.T) {
			got := must(f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplInProgress, Note: "Swings ordered",
				Photos: []AttachmentInput{{Kind: AttachPhoto, UploadID: uploadID(1), Text: "The frame of the swings, standing"}}}))(t)
			f.clock.Advance(1)
			got = must(f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplDone, Note: "Open"}))(t)
			if len(got.Updates) != 2 || len(got.Updates[0].Photos) != 1 || len(got.Updates[1].Photos) != 0 {
				t.Fatalf("updates %+v", got.Updates)
			}
			if ph := got.Updates[0].Photos[0]; ph.Text != "The frame of the swings, standing" || ph.URL != "/uploads/"+uploadID(1) {
				t.Errorf("photo %+v", ph)
			}
			if len(got.Attachments) != 0 {
				t.Errorf("an update's photo listed as the proposal's own: %+v", got.Attachments)
			}
		})
		t.Run("ErrSameUploadTwice", func(t *testing.T) {
			_, err := f.svc.UpdateImplementation(f.ctx, off, c.ID, ids[0], UpdateInput{Status: ImplDone,
				Photos: []AttachmentInput{{Kind: AttachPhoto, UploadID: uploadID(1), Text: "Again"}}})
			wantCode(t, err, sdk.CodeConflict)
			if got := must(f.svc.Proposal(f.ctx, c.ID, ids[0]))(t); len(got.Updates) != 2 {
				t.Errorf("the refused update was recorded: %d updates", len(got.Updates))
			}
		})
	})
}

// TestPages_Attachments: the proposal page's file forms, on both databases. The
// handler gets the form as the host forwards it: the file's id in the file field.
// A photo without its text alternative comes back 422 with the summary focused; a
// photo and a document are shown (the photo with its alt text, the document as a
// link named by its title); a visitor sees them without the forms; the author can
// remove one; and a funded project's update carries its photo.
func TestPages_Attachments(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f, web := pagesFixture(t, db)
		off := f.officer("officer", "n1")
		alice := f.resident("alice", "n1")
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 1000_00, 400_00, 900_00)
		// A proposal of alice's in a cycle still taking ideas.
		c2 := must(f.svc.CreateCycle(f.ctx, off, CreateCycleInput{NeighbourhoodID: "n1", Name: "Harbour 2027", Budget: 1000_00, Currency: "EUR",
			Ballot: BallotRules{Type: BallotApproval}}))(t)
		p := must(f.svc.SubmitProposal(f.ctx, alice, c2.ID, ProposalInput{Title: "Swings", Cost: 500_00}))(t)
		pp := proposalPath(c2.ID, p.ID)
		res := web.as(alice)

		page := res.get(pp)
		want(t, "proposal, author", page, 200, `enctype="multipart/form-data"`, `name="photo"`, `type="file"`, `name="alt"`, `name="document"`, "No photos or documents yet.")
		if a := web.get(pp); strings.Contains(a.Body, `name="photo"`) {
			t.Error("a visitor is offered the file forms")
		}
		if a := web.as(f.resident("bob", "n1")).get(pp); strings.Contains(a.Body, `name="photo"`) {
			t.Error("another resident is offered the file forms")
		}

		bad := res.post(pp+"/attachments", url.Values{"kind": {"photo"}, "photo": {uploadID(1)}, "alt": {" "}})
		want(t, "photo without alt", bad, 422, "Describe what the photo shows", `aria-invalid="true"`)
		if bad.Meta.Focus != "kv-error-summary" || strings.Contains(bad.Body, uploadID(1)) {
			t.Errorf("refused photo: focus %q, or the upload id shown back", bad.Meta.Focus)
		}
		noFile := res.post(pp+"/attachments", url.Values{"kind": {"document"}, "title": {"Site plan"}})
		want(t, "document without file", noFile, 422, "Choose a PDF document to add")
		if n := len(must(f.svc.Proposal(f.ctx, c2.ID, p.ID))(t).Attachments); n != 0 {
			t.Fatalf("refused forms added %d files", n)
		}

		ok := res.post(pp+"/attachments", url.Values{"kind": {"photo"}, "photo": {uploadID(1)}, "alt": {"The empty lot by the school"}})
		if ok.Status != 303 || ok.Location != pp+"?attached=1" {
			t.Fatalf("add photo: %d %s %s", ok.Status, ok.Location, ok.Body)
		}
		res.post(pp+"/attachments", url.Values{"kind": {"document"}, "document": {uploadID(2)}, "title": {"Site plan"}})
		shown := res.get(pp + "?attached=1")
		want(t, "after adding", shown, 200, `<img src="/uploads/`+uploadID(1)+`" alt="The empty lot by the school"`,
			`<a class="ds-link" href="/uploads/`+uploadID(2)+`">Site plan</a>`, "The file was added to the proposal.")
		if shown.Meta.Announce != "The file was added to the proposal." {
			t.Errorf("announce %q", shown.Meta.Announce)
		}
		want(t, "visitor", web.get(pp), 200, `alt="The empty lot by the school"`, "Site plan")
		want(t, "visitor in Finnish", web.in("fi").get(pp), 200, "Kuvat ja asiakirjat")

		got := must(f.svc.Proposal(f.ctx, c2.ID, p.ID))(t)
		rm := res.post(pp+"/attachments/"+got.Attachments[1].ID+"/remove", nil)
		if rm.Status != 303 {
			t.Fatalf("remove: %d %s", rm.Status, rm.Body)
		}
		if a := web.get(pp); strings.Contains(a.Body, "Site plan") {
			t.Error("the removed document is still shown")
		}
		if a := web.as(f.resident("bob", "n1")).post(pp+"/attachments/"+got.Attachments[0].ID+"/remove", nil); a.Status != 403 {
			t.Errorf("another resident removed a photo: %d", a.Status)
		}

		// A funded project's report with a photo.
		staff := web.as(off)
		must(f.svc.CastBallot(f.ctx, f.resident("v1", "n1"), c.ID, BallotInput{Ballot: Ballot{Projects: ids[:1]}}))(t)
		must(f.svc.SetPhase(f.ctx, off, c.ID, PhaseResults))(t)
		must(f.svc.Tally(f.ctx, off, c.ID, TallyInput{Rule: "greedy"}))(t)
		// One ballot: the results speak of it in the singular (the catalog's plural
		// forms), in English and in Finnish.
		want(t, "results of one ballot", web.get(cyclePath(c.ID)+"/results"), 200, "1 ballot was counted.", "Supported by 1 voter.")
		want(t, "results of one ballot in Finnish", web.in("fi").get(cyclePath(c.ID)+"/results"), 200, "Laskettiin 1 ääni.", "Hanketta kannatti 1 äänestäjä.")
		fp := proposalPath(c.ID, ids[0])
		want(t, "update form", staff.get(fp), 200, `action="`+fp+`/updates" enctype="multipart/form-data"`, `name="photo"`)
		noAlt := staff.post(fp+"/updates", url.Values{"status": {"in_progress"}, "note": {"Frame up"}, "photo": {uploadID(3)}})
		want(t, "update photo without alt", noAlt, 422, "Describe what the photo shows")
		up := staff.post(fp+"/updates", url.Values{"status": {"in_progress"}, "note": {"Frame up"}, "photo": {uploadID(3)}, "alt": {"The swing frame standing on the lot"}})
		if up.Status != 303 {
			t.Fatalf("update: %d %s", up.Status, up.Body)
		}
		want(t, "update shown", web.get(fp), 200, "Frame up", `<img src="/uploads/`+uploadID(3)+`" alt="The swing frame standing on the lot"`)
	})
}
