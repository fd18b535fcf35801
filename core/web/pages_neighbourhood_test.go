package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// newHood creates a neighbourhood through the API as the city's administrator.
func newHood(t *testing.T, admin *coretest.User, name, slug string) string {
	t.Helper()
	r := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]string{"name": name, "slug": slug})
	id, _ := r.JSON()["id"].(string)
	return id
}

// cardOf is the text of the membership card headed name on the "my neighbourhood" page.
func cardOf(t *testing.T, body, name string) string {
	t.Helper()
	for _, h := range webtest.Find([]*html.Node{webtest.ParseDocument(t, body)}, tag(atom.H3)) {
		if webtest.Text(h) == name {
			return webtest.Text(h.Parent)
		}
	}
	return ""
}

func stateIn(t *testing.T, n *node.Node, userID, hoodID string) string {
	t.Helper()
	var state string
	err := coretest.SQL(n).Get(&state, coretest.SQL(n).Rebind(`SELECT state FROM memberships WHERE user_id = ? AND neighbourhood_id = ? ORDER BY id DESC LIMIT 1`), userID, hoodID)
	if err != nil {
		return ""
	}
	return state
}

func TestPages_MyNeighbourhood(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		karsiyaka := newHood(t, admin, "Karşıyaka", "karsiyaka")
		bornova := newHood(t, admin, "Bornova", "bornova")
		elif := newPerson(t, n, "elif@example.org", "Elif Yılmaz")
		mehmet := newPerson(t, n, "mehmet@example.org", "Mehmet Demir")
		b := signIn(t, n, elif)

		t.Run("ErrSignedOut", func(t *testing.T) {
			newBrowser(n).must(t, http.StatusSeeOther, "GET", "/my-neighbourhood", nil, "/sign-in")
			newBrowser(n).must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {karsiyaka}}, "/sign-in")
		})
		t.Run("Empty", func(t *testing.T) {
			a := b.must(t, 200, "GET", "/my-neighbourhood", nil)
			doc := checkPage(t, a, "en")
			if !strings.Contains(webtest.Text(doc), "You have not asked to join a neighbourhood yet.") {
				t.Error("no word for a person without memberships")
			}
			// A link naming a neighbourhood opens the form with it chosen.
			if a := b.must(t, 200, "GET", "/my-neighbourhood?neighbourhood="+bornova, nil); !strings.Contains(a.body, `<option value="`+bornova+`" selected>`) {
				t.Error("the neighbourhood named in the link is not chosen")
			}
			for _, name := range []string{"Karşıyaka", "Bornova"} {
				if !strings.Contains(a.body, ">"+name+"</option>") {
					t.Errorf("%s is not offered", name)
				}
			}
		})
		t.Run("ErrRulesKeepValues", func(t *testing.T) {
			a := b.do(t, "POST", "/my-neighbourhood", url.Values{"note": {"I live on Cemal Gürsel Caddesi"}}, nil)
			checkRefused(t, a, "en", "Choose the neighbourhood you want to join")
			if !strings.Contains(a.body, "I live on Cemal Gürsel Caddesi</textarea>") {
				t.Error("the note is not kept")
			}
			a = b.do(t, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {"no-such-id"}}, nil)
			checkRefused(t, a, "en", "Choose one of the neighbourhoods in the list")
			a = b.do(t, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {karsiyaka}, "note": {strings.Repeat("ş", 501)}}, nil)
			checkRefused(t, a, "en", "500 characters")
			if s := stateIn(t, n, elif.id, karsiyaka); s != "" {
				t.Errorf("a refused form made a membership: %s", s)
			}
		})
		t.Run("AskRejectAskApproveLeave", func(t *testing.T) {
			b.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {karsiyaka}, "note": {"Cemal Gürsel Caddesi"}}, "/my-neighbourhood")
			a := b.must(t, 200, "GET", "/my-neighbourhood", nil)
			card := cardOf(t, a.body, "Karşıyaka")
			for _, want := range []string{"Waiting for approval", "Your message: Cemal Gürsel Caddesi", "Withdraw the request"} {
				if !strings.Contains(card, want) {
					t.Errorf("card %q lacks %q", card, want)
				}
			}
			if !strings.Contains(a.body, "Your request has been sent") {
				t.Error("no flash")
			}
			a = b.do(t, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {karsiyaka}}, nil)
			checkRefused(t, a, "en", "You have already asked to join this neighbourhood")

			admin.Must(200, "POST", "/api/v1/neighbourhoods/"+karsiyaka+"/memberships/"+elif.id+"/reject", map[string]string{"reason": "The address is in Bayraklı"})
			card = cardOf(t, b.must(t, 200, "GET", "/my-neighbourhood", nil).body, "Karşıyaka")
			for _, want := range []string{"Not approved", "Reason given: The address is in Bayraklı", "You can ask again"} {
				if !strings.Contains(card, want) {
					t.Errorf("card %q lacks %q", card, want)
				}
			}
			if strings.Contains(card, "Withdraw") || strings.Contains(card, "Leave") {
				t.Error("a rejected request offers to withdraw or leave")
			}

			b.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {karsiyaka}}, "/my-neighbourhood")
			admin.Must(200, "POST", "/api/v1/neighbourhoods/"+karsiyaka+"/memberships/"+elif.id+"/approve", map[string]string{})
			card = cardOf(t, b.must(t, 200, "GET", "/my-neighbourhood", nil).body, "Karşıyaka")
			if !strings.Contains(card, "Member") || !strings.Contains(card, "Leave the neighbourhood") || strings.Contains(card, "Not approved") {
				t.Errorf("card after approval: %q", card)
			}

			b.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood/leave", url.Values{"neighbourhood_id": {karsiyaka}}, "/my-neighbourhood")
			a = b.must(t, 200, "GET", "/my-neighbourhood", nil)
			if card := cardOf(t, a.body, "Karşıyaka"); !strings.Contains(card, "Left") || strings.Contains(card, "Leave the") {
				t.Errorf("card after leaving: %q", card)
			}
			if !strings.Contains(a.body, "You have left the neighbourhood.") {
				t.Error("no flash after leaving")
			}
		})
		t.Run("Withdraw", func(t *testing.T) {
			b.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {bornova}}, "/my-neighbourhood")
			b.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood/leave", url.Values{"neighbourhood_id": {bornova}}, "/my-neighbourhood")
			if a := b.must(t, 200, "GET", "/my-neighbourhood", nil); !strings.Contains(a.body, "Your request has been withdrawn.") {
				t.Error("no flash after withdrawing")
			}
			if s := stateIn(t, n, elif.id, bornova); s != "left" {
				t.Errorf("state %q, want left", s)
			}
		})
		// Attacks: leave acts only on the person's own membership, whatever
		// neighbourhood is posted; a post from another site changes nothing.
		t.Run("ErrSomeoneElsesMembership", func(t *testing.T) {
			m := signIn(t, n, mehmet)
			b.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {bornova}}, "/my-neighbourhood")
			a := m.do(t, "POST", "/my-neighbourhood/leave", url.Values{"neighbourhood_id": {bornova}, "user_id": {elif.id}}, nil)
			if a.status != http.StatusNotFound {
				t.Fatalf("leaving another person's neighbourhood = %d, want 404", a.status)
			}
			checkPage(t, a, "en")
			if s := stateIn(t, n, elif.id, bornova); s != "requested" {
				t.Errorf("Elif's request is now %q", s)
			}
		})
		t.Run("ErrCrossSite", func(t *testing.T) {
			for _, path := range []string{"/my-neighbourhood", "/my-neighbourhood/leave"} {
				a := b.do(t, "POST", path, url.Values{"neighbourhood_id": {bornova}}, map[string]string{"Origin": "https://evil.example"})
				if a.status != http.StatusForbidden {
					t.Fatalf("cross-site %s = %d, want 403", path, a.status)
				}
			}
			if s := stateIn(t, n, elif.id, bornova); s != "requested" {
				t.Errorf("a cross-site post changed the request to %q", s)
			}
		})
	})
}
