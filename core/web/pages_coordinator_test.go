package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

func TestPages_Coordinator(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		karsiyaka := newHood(t, admin, "Karşıyaka", "karsiyaka")
		bornova := newHood(t, admin, "Bornova", "bornova")
		zeynep := newPerson(t, n, "zeynep@example.org", "Zeynep Kaya")
		admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": zeynep.id, "role": core.RoleCoordinator, "domain": core.NeighbourhoodDomain(karsiyaka)})
		elif := newPerson(t, n, "elif@example.org", "Elif Yılmaz")
		mehmet := newPerson(t, n, "mehmet@example.org", "Mehmet Demir")
		ali := newPerson(t, n, "ali@example.org", "Ali Çelik")
		eb, mb, ab := signIn(t, n, elif), signIn(t, n, mehmet), signIn(t, n, ali)
		eb.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {karsiyaka}, "note": {"Cemal Gürsel Caddesi 12"}}, "/my-neighbourhood")
		mb.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {karsiyaka}}, "/my-neighbourhood")
		ab.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {bornova}}, "/my-neighbourhood")
		zb := signIn(t, n, zeynep)
		queue := "/neighbourhoods/" + karsiyaka + "/requests"

		t.Run("Queue", func(t *testing.T) {
			if a := zb.must(t, 200, "GET", "/my-neighbourhood", nil); !strings.Contains(a.body, `href="`+queue+`"`) {
				t.Error("my neighbourhood does not lead a coordinator to the queue")
			}
			a := zb.must(t, 200, "GET", queue, nil)
			doc := webtest.Text(checkPage(t, a, "en"))
			for _, want := range []string{"Requests to join Karşıyaka", "Elif Yılmaz", "Their message: Cemal Gürsel Caddesi 12", "Mehmet Demir", "Approve Elif Yılmaz"} {
				if !strings.Contains(doc, want) {
					t.Errorf("queue lacks %q: %s", want, doc)
				}
			}
			if strings.Contains(doc, "Ali Çelik") {
				t.Error("the queue shows another neighbourhood's request")
			}
		})
		t.Run("Approve", func(t *testing.T) {
			zb.must(t, http.StatusSeeOther, "POST", queue+"/"+elif.id+"/approve", url.Values{}, queue)
			if s := stateIn(t, n, elif.id, karsiyaka); s != core.MembershipVerified {
				t.Fatalf("Elif is %q", s)
			}
			a := zb.must(t, 200, "GET", queue, nil)
			if !strings.Contains(a.body, "The request has been approved.") || strings.Contains(a.body, "Elif Yılmaz") {
				t.Error("after approving: no flash, or Elif still waits")
			}
			// Answered already: 409 and the queue with a notice, announced.
			a = zb.do(t, "POST", queue+"/"+elif.id+"/approve", url.Values{}, nil)
			if a.status != http.StatusConflict || !strings.Contains(a.body, "could not be approved") {
				t.Fatalf("approving twice = %d", a.status)
			}
			checkPage(t, a, "en")
			// The members list shows her.
			m := zb.must(t, 200, "GET", "/neighbourhoods/"+karsiyaka+"/members", nil)
			if !strings.Contains(webtest.Text(checkPage(t, m, "en")), "Elif Yılmaz") {
				t.Error("the members list lacks the approved member")
			}
		})
		t.Run("Reject", func(t *testing.T) {
			form := queue + "/" + mehmet.id + "/reject"
			checkPage(t, zb.must(t, 200, "GET", form, nil), "en")
			a := zb.do(t, "POST", form, url.Values{"reason": {"   "}}, nil)
			checkRefused(t, a, "en", "Write the reason")
			zb.must(t, http.StatusSeeOther, "POST", form, url.Values{"reason": {"Adres Bayraklı'da"}}, queue)
			if s := stateIn(t, n, mehmet.id, karsiyaka); s != core.MembershipRejected {
				t.Fatalf("Mehmet is %q", s)
			}
			if card := cardOf(t, mb.must(t, 200, "GET", "/my-neighbourhood", nil).body, "Karşıyaka"); !strings.Contains(card, "Adres Bayraklı'da") {
				t.Errorf("Mehmet does not see the reason: %q", card)
			}
			zb.must(t, http.StatusNotFound, "GET", form, nil) // answered: no longer waiting
		})
		// Attacks: a resident, a coordinator of another neighbourhood's request, a
		// request id from another neighbourhood, a post from another site.
		t.Run("ErrResident", func(t *testing.T) {
			for _, path := range []string{queue, "/neighbourhoods/" + karsiyaka + "/members", queue + "/" + ali.id + "/reject"} {
				a := eb.do(t, "GET", path, nil, nil)
				if a.status != http.StatusForbidden || !strings.Contains(a.body, "You do not have access to this page") {
					t.Errorf("resident GET %s = %d", path, a.status)
				}
				checkPage(t, a, "en")
			}
			mb.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {karsiyaka}}, "/my-neighbourhood")
			if a := eb.do(t, "POST", queue+"/"+mehmet.id+"/approve", url.Values{}, nil); a.status != http.StatusForbidden {
				t.Errorf("a resident approving = %d, want 403", a.status)
			}
			if a := eb.do(t, "POST", queue+"/"+mehmet.id+"/reject", url.Values{"reason": {"no"}}, nil); a.status != http.StatusForbidden {
				t.Errorf("a resident rejecting = %d, want 403", a.status)
			}
			newBrowser(n).must(t, http.StatusSeeOther, "POST", queue+"/"+mehmet.id+"/approve", url.Values{}, "/sign-in")
			if s := stateIn(t, n, mehmet.id, karsiyaka); s != core.MembershipRequested {
				t.Errorf("Mehmet's new request is %q", s)
			}
		})
		t.Run("ErrOtherNeighbourhood", func(t *testing.T) {
			// Ali asked to join Bornova: his id under Karşıyaka finds nothing, and
			// Bornova's queue is not Zeynep's.
			if a := zb.do(t, "POST", queue+"/"+ali.id+"/approve", url.Values{}, nil); a.status != http.StatusNotFound {
				t.Errorf("approving another neighbourhood's request through ours = %d, want 404", a.status)
			}
			if a := zb.do(t, "POST", queue+"/"+ali.id+"/reject", url.Values{"reason": {"x"}}, nil); a.status != http.StatusNotFound {
				t.Errorf("rejecting another neighbourhood's request through ours = %d, want 404", a.status)
			}
			other := "/neighbourhoods/" + bornova + "/requests"
			for _, try := range []struct{ method, path string }{{"GET", other}, {"POST", other + "/" + ali.id + "/approve"}, {"GET", "/neighbourhoods/" + bornova + "/members"}} {
				var form url.Values
				if try.method == "POST" {
					form = url.Values{}
				}
				if a := zb.do(t, try.method, try.path, form, nil); a.status != http.StatusForbidden {
					t.Errorf("%s %s = %d, want 403", try.method, try.path, a.status)
				}
			}
			if s := stateIn(t, n, ali.id, bornova); s != core.MembershipRequested {
				t.Errorf("Ali's request is %q", s)
			}
		})
		t.Run("ErrCrossSite", func(t *testing.T) {
			a := zb.do(t, "POST", queue+"/"+mehmet.id+"/approve", url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site"})
			if a.status != http.StatusForbidden {
				t.Fatalf("cross-site approve = %d", a.status)
			}
			if s := stateIn(t, n, mehmet.id, karsiyaka); s != core.MembershipRequested {
				t.Errorf("a cross-site post made Mehmet %q", s)
			}
		})
		t.Run("EveryLanguage", func(t *testing.T) {
			for _, lang := range langs {
				zb.must(t, http.StatusSeeOther, "POST", "/language", url.Values{"lang": {lang}, "back": {"/"}}, "/")
				eb.must(t, http.StatusSeeOther, "POST", "/language", url.Values{"lang": {lang}, "back": {"/"}}, "/")
				for _, c := range []struct {
					b            *browser
					method, path string
					form         url.Values
					status       int
				}{
					{zb, "GET", queue, nil, 200},
					{zb, "GET", queue + "/" + mehmet.id + "/reject", nil, 200},
					{zb, "POST", queue + "/" + mehmet.id + "/reject", url.Values{}, 422},
					{zb, "POST", queue + "/" + elif.id + "/approve", url.Values{}, 409},
					{zb, "GET", "/neighbourhoods/" + karsiyaka + "/members", nil, 200},
					{zb, "GET", "/my-neighbourhood", nil, 200},
					{eb, "GET", queue, nil, 403},
				} {
					a := c.b.do(t, c.method, c.path, c.form, nil)
					t.Run(lang+" "+c.method+" "+c.path, func(t *testing.T) {
						if a.status != c.status {
							t.Fatalf("status %d, want %d", a.status, c.status)
						}
						checkPage(t, a, lang)
						if c.status == 422 {
							checkRefused(t, a, lang)
						}
					})
				}
			}
		})
	})
}
