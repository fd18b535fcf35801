package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/web/webtest"
)

// asPerson is a coretest account as the pages' tests sign it in.
func asPerson(u *coretest.User) person {
	return person{id: u.ID, email: u.Email, password: u.Password}
}

// hoodBySlug finds a neighbourhood, archived or not, through the service.
func hoodBySlug(t *testing.T, n *node.Node, slug string) *core.Neighbourhood {
	t.Helper()
	list, _, err := n.Neighbourhoods.ListNeighbourhoods(context.Background(), true, core.Page{Limit: core.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range list {
		if h.Slug == slug {
			return &h
		}
	}
	return nil
}

func countHoods(t *testing.T, n *node.Node) int {
	t.Helper()
	list, _, err := n.Neighbourhoods.ListNeighbourhoods(context.Background(), true, core.Page{Limit: core.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// itemOf is the text of the tree item whose link reads name: the neighbourhood and
// everything nested under it.
func itemOf(t *testing.T, body, name string) string {
	t.Helper()
	for _, a := range webtest.Find([]*html.Node{webtest.ParseDocument(t, body)}, tag(atom.A)) {
		if webtest.Text(a) == name && a.Parent.DataAtom == atom.Li {
			return webtest.Text(a.Parent)
		}
	}
	return ""
}

// forbidden holds a 403 answer to the frame's forbidden panel.
func forbidden(t *testing.T, a answer, what string) {
	t.Helper()
	if a.status != http.StatusForbidden || !strings.Contains(a.body, "You do not have access to this page") {
		t.Errorf("%s = %d, want the 403 panel", what, a.status)
	}
	checkPage(t, a, "en")
}

// people makes a resident (a verified member of hood) and a coordinator of hood.
func people(t *testing.T, n *node.Node, admin *coretest.User, hood string) (resident, coordinator *browser) {
	t.Helper()
	elif := newPerson(t, n, "elif@example.org", "Elif Yılmaz")
	zeynep := newPerson(t, n, "zeynep@example.org", "Zeynep Kaya")
	admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": zeynep.id, "role": core.RoleCoordinator, "domain": core.NeighbourhoodDomain(hood)})
	eb := signIn(t, n, elif)
	eb.must(t, http.StatusSeeOther, "POST", "/my-neighbourhood", url.Values{"neighbourhood_id": {hood}}, "/my-neighbourhood")
	admin.Must(200, "POST", "/api/v1/neighbourhoods/"+hood+"/memberships/"+elif.id+"/approve", map[string]string{})
	return eb, signIn(t, n, zeynep)
}

func TestPages_AdminNeighbourhoods(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		izmir := newHood(t, admin, "İzmir", "izmir")
		ab := signIn(t, n, asPerson(admin))
		eb, zb := people(t, n, admin, izmir)
		list := "/admin/neighbourhoods"

		t.Run("Create", func(t *testing.T) {
			checkPage(t, ab.must(t, 200, "GET", list, nil), "en")
			ab.must(t, http.StatusSeeOther, "POST", list, url.Values{"name": {"Konak"}, "slug": {""}, "parent_id": {""}, "boundary": {""}}, list)
			konak := hoodBySlug(t, n, "konak")
			if konak == nil || konak.Name != "Konak" || konak.ParentID != nil {
				t.Fatalf("Konak = %+v", konak)
			}
			square := `{"type":"Polygon","coordinates":[[[27.12,38.41],[27.14,38.41],[27.14,38.43],[27.12,38.41]]]}`
			ab.must(t, http.StatusSeeOther, "POST", list, url.Values{"name": {"Alsancak"}, "slug": {"alsancak"}, "parent_id": {konak.ID}, "boundary": {square}}, list)
			alsancak := hoodBySlug(t, n, "alsancak")
			if alsancak == nil || alsancak.ParentID == nil || *alsancak.ParentID != konak.ID || len(alsancak.Boundary) == 0 {
				t.Fatalf("Alsancak = %+v", alsancak)
			}
			a := ab.must(t, 200, "GET", list, nil)
			checkPage(t, a, "en")
			if !strings.Contains(a.body, "The neighbourhood has been added.") {
				t.Error("no flash after adding")
			}
			if item := itemOf(t, a.body, "Konak"); !strings.Contains(item, "Alsancak") {
				t.Errorf("Alsancak is not under Konak in the tree: %q", item)
			}
			if item := itemOf(t, a.body, "İzmir"); strings.Contains(item, "Alsancak") {
				t.Errorf("Alsancak is under İzmir: %q", item)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			before := countHoods(t, n)
			a := ab.do(t, "POST", list, url.Values{"name": {"Bayraklı"}, "slug": {"Bayraklı Merkez!"}}, nil)
			checkRefused(t, a, "en", "Use 1 to 64 lower-case letters")
			if v := value(t, a.body, "f-slug"); v != "Bayraklı Merkez!" {
				t.Errorf("the slug typed is not kept: %q", v)
			}
			if v := value(t, a.body, "f-name"); v != "Bayraklı" {
				t.Errorf("the name typed is not kept: %q", v)
			}
			checkRefused(t, ab.do(t, "POST", list, url.Values{"name": {"Konak"}, "slug": {"konak"}}, nil), "en", "already uses this short name")
			checkRefused(t, ab.do(t, "POST", list, url.Values{"name": {"   "}}, nil), "en")
			checkRefused(t, ab.do(t, "POST", list, url.Values{"name": {"Bayraklı"}, "boundary": {`{"type":"Point","coordinates":[27,38]}`}}, nil), "en", "GeoJSON Polygon")
			// Bad input: a NUL byte, over-long text, a parent that does not exist.
			checkRefused(t, ab.do(t, "POST", list, url.Values{"name": {"Bay\x00raklı"}}, nil), "en")
			checkRefused(t, ab.do(t, "POST", list, url.Values{"name": {strings.Repeat("ç", 101)}}, nil), "en")
			checkRefused(t, ab.do(t, "POST", list, url.Values{"name": {"Bayraklı"}, "parent_id": {"01999999-0000-7000-8000-000000000000"}}, nil), "en", "Choose an area from the list")
			if after := countHoods(t, n); after != before || hoodBySlug(t, n, "bayrakli") != nil {
				t.Errorf("a refused form added a neighbourhood: %d → %d", before, after)
			}
		})
		t.Run("Rename", func(t *testing.T) {
			konak := hoodBySlug(t, n, "konak")
			edit := list + "/" + konak.ID
			a := ab.must(t, 200, "GET", edit, nil)
			checkPage(t, a, "en")
			if value(t, a.body, "f-name") != "Konak" || value(t, a.body, "f-slug") != "konak" {
				t.Error("the form does not show the neighbourhood's details")
			}
			ab.must(t, http.StatusSeeOther, "POST", edit, url.Values{"name": {"Konak Merkez"}, "slug": {"konak-merkez"}, "parent_id": {""}, "boundary": {""}}, list)
			if h := hoodBySlug(t, n, "konak-merkez"); h == nil || h.ID != konak.ID || h.Name != "Konak Merkez" {
				t.Fatalf("after renaming: %+v", h)
			}
			// A cycle: Konak under its own child. 422, nothing changed.
			alsancak := hoodBySlug(t, n, "alsancak")
			a = ab.do(t, "POST", edit, url.Values{"name": {"Konak"}, "slug": {"konak"}, "parent_id": {alsancak.ID}}, nil)
			checkRefused(t, a, "en", "does not itself contain")
			if value(t, a.body, "f-name") != "Konak" {
				t.Error("the refused form does not keep the name typed")
			}
			if h := hoodBySlug(t, n, "konak-merkez"); h == nil || h.Name != "Konak Merkez" || h.ParentID != nil {
				t.Errorf("a refused change changed the neighbourhood: %+v", h)
			}
			ab.must(t, http.StatusNotFound, "GET", list+"/no-such-id", nil)
		})
		t.Run("Archive", func(t *testing.T) {
			alsancak := hoodBySlug(t, n, "alsancak")
			edit := list + "/" + alsancak.ID
			ab.must(t, http.StatusSeeOther, "POST", edit+"/archive", url.Values{"archived": {"true"}}, edit)
			if h := hoodBySlug(t, n, "alsancak"); h.ArchivedAt == nil {
				t.Fatal("not archived")
			}
			a := ab.must(t, 200, "GET", edit, nil)
			checkPage(t, a, "en")
			if !strings.Contains(a.body, "The neighbourhood has been archived.") || !strings.Contains(a.body, "Bring back") {
				t.Error("the archived neighbourhood's page lacks the flash or the way back")
			}
			if item := itemOf(t, ab.must(t, 200, "GET", list, nil).body, "Alsancak"); !strings.Contains(item, "Archived") {
				t.Errorf("the tree does not mark Alsancak archived: %q", item)
			}
			// Archived neighbourhoods are no parent to choose.
			if strings.Contains(ab.must(t, 200, "GET", list, nil).body, `<option value="`+alsancak.ID+`"`) {
				t.Error("an archived neighbourhood is offered as a parent")
			}
			ab.must(t, http.StatusSeeOther, "POST", edit+"/archive", url.Values{"archived": {""}}, edit)
			if h := hoodBySlug(t, n, "alsancak"); h.ArchivedAt != nil {
				t.Fatal("still archived")
			}
			// A parent archived later: the child's form shows it and keeps it.
			konak := hoodBySlug(t, n, "konak-merkez")
			ab.must(t, http.StatusSeeOther, "POST", edit, url.Values{"name": {"Alsancak"}, "slug": {"alsancak"}, "parent_id": {konak.ID}}, list)
			ab.must(t, http.StatusSeeOther, "POST", list+"/"+konak.ID+"/archive", url.Values{"archived": {"true"}}, list+"/"+konak.ID)
			a = ab.must(t, 200, "GET", edit, nil)
			if !strings.Contains(a.body, `<option value="`+konak.ID+`" selected>Konak Merkez (archived)</option>`) {
				t.Error("the form does not show the archived parent")
			}
			ab.must(t, http.StatusSeeOther, "POST", edit, url.Values{"name": {"Alsancak Limanı"}, "slug": {"alsancak"}, "parent_id": {konak.ID}}, list)
			if h := hoodBySlug(t, n, "alsancak"); h.Name != "Alsancak Limanı" || h.ParentID == nil || *h.ParentID != konak.ID {
				t.Errorf("renamed under an archived parent: %+v", h)
			}
			ab.must(t, http.StatusSeeOther, "POST", list+"/"+konak.ID+"/archive", url.Values{"archived": {"false"}}, list+"/"+konak.ID)
		})
		t.Run("ErrNotAdmin", func(t *testing.T) {
			before := countHoods(t, n)
			konak := hoodBySlug(t, n, "konak-merkez")
			for who, b := range map[string]*browser{"resident": eb, "coordinator": zb} {
				forbidden(t, b.do(t, "GET", list, nil, nil), who+" GET "+list)
				forbidden(t, b.do(t, "GET", list+"/"+konak.ID, nil, nil), who+" GET the form")
				forbidden(t, b.do(t, "POST", list, url.Values{"name": {"Buca"}}, nil), who+" POST "+list)
				forbidden(t, b.do(t, "POST", list+"/"+konak.ID, url.Values{"name": {"Buca"}, "slug": {"buca"}}, nil), who+" renaming")
				forbidden(t, b.do(t, "POST", list+"/"+konak.ID+"/archive", url.Values{"archived": {"true"}}, nil), who+" archiving")
			}
			newBrowser(n).must(t, http.StatusSeeOther, "GET", list, nil, "/sign-in")
			newBrowser(n).must(t, http.StatusSeeOther, "POST", list, url.Values{"name": {"Buca"}}, "/sign-in")
			a := ab.do(t, "POST", list, url.Values{"name": {"Buca"}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
			if a.status != http.StatusForbidden {
				t.Errorf("a cross-site post = %d", a.status)
			}
			if h := hoodBySlug(t, n, "konak-merkez"); countHoods(t, n) != before || h.Name != "Konak Merkez" || h.ArchivedAt != nil {
				t.Error("a refused request changed the neighbourhoods")
			}
		})
	})
}

// orgState reads an organisation's state and reason as stored.
func orgState(t *testing.T, n *node.Node, id string) (state, reason string) {
	t.Helper()
	var row struct {
		State  string `db:"state"`
		Reason string `db:"reason"`
	}
	db := coretest.SQL(n)
	if err := db.Get(&row, db.Rebind(`SELECT state, reason FROM organisations WHERE id = ?`), id); err != nil {
		t.Fatal(err)
	}
	return row.State, row.Reason
}

// roleIn reads a person's role in an organisation as stored, "" when not a member.
func roleIn(t *testing.T, n *node.Node, org, user string) string {
	t.Helper()
	var role string
	db := coretest.SQL(n)
	_ = db.Get(&role, db.Rebind(`SELECT role FROM organisation_members WHERE organisation_id = ? AND user_id = ?`), org, user)
	return role
}

// newOrg registers an organisation through the API as u, who becomes its
// representative.
func newOrg(t *testing.T, u *coretest.User, name, kind string, hoods ...string) string {
	t.Helper()
	r := u.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": name, "kind": kind, "description": "Mahallede dayanışma", "neighbourhood_ids": hoods})
	id, _ := r.JSON()["id"].(string)
	return id
}

func TestPages_AdminOrganisations(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		karsiyaka := newHood(t, admin, "Karşıyaka", "karsiyaka")
		bornova := newHood(t, admin, "Bornova", "bornova")
		ab := signIn(t, n, asPerson(admin))
		eb, zb := people(t, n, admin, karsiyaka)
		ayse := coretest.Register(t, n, "ayse@example.org", "Ayşe Kaya")
		can := coretest.Register(t, n, "can@example.org", "Can Öztürk")
		dernek := newOrg(t, ayse, "Karşıyaka Kadın Dayanışma Derneği", "association", karsiyaka)
		bisiklet := newOrg(t, ayse, "Bornova Bisiklet Grubu", "civic_group", bornova)
		ayse.Must(201, "POST", "/api/v1/organisations/"+dernek+"/members", map[string]string{"user_id": can.ID, "role": "member"})
		list, page := "/admin/organisations", "/admin/organisations/"+dernek

		t.Run("Pending", func(t *testing.T) {
			a := ab.must(t, 200, "GET", list, nil)
			doc := webtest.Text(checkPage(t, a, "en"))
			for _, want := range []string{"Organisations waiting for verification", "Karşıyaka Kadın Dayanışma Derneği", "Association", "Bornova Bisiklet Grubu", "Civic group"} {
				if !strings.Contains(doc, want) {
					t.Errorf("the pending list lacks %q: %s", want, doc)
				}
			}
			a = ab.must(t, 200, "GET", page, nil)
			doc = webtest.Text(checkPage(t, a, "en"))
			for _, want := range []string{"Works in: Karşıyaka", "Ayşe Kaya", "Representative", "Can Öztürk", "Verify Karşıyaka Kadın", "Reason for rejecting"} {
				if !strings.Contains(doc, want) {
					t.Errorf("the organisation's page lacks %q: %s", want, doc)
				}
			}
		})
		t.Run("Verify", func(t *testing.T) {
			ab.must(t, http.StatusSeeOther, "POST", page+"/verify", url.Values{}, page)
			if s, _ := orgState(t, n, dernek); s != core.OrganisationVerified {
				t.Fatalf("state %q", s)
			}
			a := ab.must(t, 200, "GET", page, nil)
			if !strings.Contains(a.body, "The organisation has been verified.") || strings.Contains(a.body, "/verify") {
				t.Error("after verifying: no flash, or still the decision forms")
			}
			a = ab.do(t, "POST", page+"/verify", url.Values{}, nil)
			if a.status != http.StatusConflict || !strings.Contains(a.body, "already been verified or rejected") {
				t.Errorf("verifying twice = %d", a.status)
			}
			checkPage(t, a, "en")
			if !strings.Contains(webtest.Text(checkPage(t, ab.must(t, 200, "GET", list+"?state=verified", nil), "en")), "Karşıyaka Kadın Dayanışma Derneği") {
				t.Error("the verified tab lacks the organisation")
			}
		})
		t.Run("Reject", func(t *testing.T) {
			other := list + "/" + bisiklet
			a := ab.do(t, "POST", other+"/reject", url.Values{"reason": {"  "}}, nil)
			checkRefused(t, a, "en", "Write the reason for rejecting")
			if !strings.Contains(a.body, `name="back" value="`+other+`"`) || strings.Contains(a.body, `href="`+other+`/reject"`) {
				t.Error("the refused form's breadcrumbs or language switcher lead to the action, not the organisation's page")
			}
			a = ab.do(t, "POST", other+"/reject", url.Values{"reason": {strings.Repeat("x", 501)}}, nil)
			checkRefused(t, a, "en")
			a = ab.do(t, "POST", other+"/reject", url.Values{"reason": {"Bel\x00ge"}}, nil)
			checkRefused(t, a, "en")
			if s, _ := orgState(t, n, bisiklet); s != core.OrganisationPending {
				t.Fatalf("a refused rejection made it %q", s)
			}
			ab.must(t, http.StatusSeeOther, "POST", other+"/reject", url.Values{"reason": {"Dernek tüzüğü eksik."}}, other)
			if s, r := orgState(t, n, bisiklet); s != core.OrganisationRejected || r != "Dernek tüzüğü eksik." {
				t.Fatalf("state %q, reason %q", s, r)
			}
			doc := webtest.Text(checkPage(t, ab.must(t, 200, "GET", list+"?state=rejected", nil), "en"))
			if !strings.Contains(doc, "Bornova Bisiklet Grubu") || strings.Contains(doc, "Karşıyaka Kadın") {
				t.Errorf("the rejected tab: %s", doc)
			}
			if !strings.Contains(ab.must(t, 200, "GET", other, nil).body, "Reason for the decision: Dernek tüzüğü eksik.") {
				t.Error("the page does not show the reason")
			}
		})
		t.Run("Members", func(t *testing.T) {
			member := page + "/members/"
			ab.must(t, http.StatusSeeOther, "POST", member+can.ID+"/role", url.Values{"role": {"representative"}}, page)
			if r := roleIn(t, n, dernek, can.ID); r != core.OrgRoleRepresentative {
				t.Fatalf("Can is %q", r)
			}
			ab.must(t, http.StatusSeeOther, "POST", member+ayse.ID+"/remove", url.Values{}, page)
			if r := roleIn(t, n, dernek, ayse.ID); r != "" {
				t.Fatalf("Ayşe is still %q", r)
			}
			// Can is the last representative: neither demoted nor removed.
			for _, try := range []struct{ path string }{{member + can.ID + "/role"}, {member + can.ID + "/remove"}} {
				a := ab.do(t, "POST", try.path, url.Values{"role": {"member"}}, nil)
				if a.status != http.StatusConflict || !strings.Contains(a.body, "at least one representative") {
					t.Errorf("POST %s = %d", try.path, a.status)
				}
				checkPage(t, a, "en")
			}
			if r := roleIn(t, n, dernek, can.ID); r != core.OrgRoleRepresentative {
				t.Errorf("Can became %q", r)
			}
			// The role form never adds a person, nor takes a role that does not exist.
			ab.must(t, http.StatusNotFound, "POST", member+ayse.ID+"/role", url.Values{"role": {"member"}})
			ab.must(t, http.StatusBadRequest, "POST", member+can.ID+"/role", url.Values{"role": {"owner"}})
			if r := roleIn(t, n, dernek, ayse.ID); r != "" {
				t.Errorf("the role form added Ayşe as %q", r)
			}
		})
		t.Run("AddByEmail", func(t *testing.T) {
			add := page + "/members"
			// Refusals that change nothing: no address, nobody's, a member's, a NUL,
			// a role no organisation has.
			for _, tc := range []struct {
				form url.Values
				want string
			}{
				{url.Values{"email": {" "}, "role": {"member"}}, "Enter the person's email address"},
				{url.Values{"email": {"nobody@example.org"}, "role": {"member"}}, "Nobody has an account with this email address"},
				{url.Values{"email": {"CAN@example.org"}, "role": {"member"}}, "Can Öztürk is already in the organisation"},
				{url.Values{"email": {"ay\x00se@example.org"}, "role": {"member"}}, ""},
				{url.Values{"email": {"ayse@example.org"}, "role": {"owner"}}, ""},
			} {
				a := ab.do(t, "POST", add, tc.form, nil)
				checkRefused(t, a, "en", tc.want)
			}
			if r := roleIn(t, n, dernek, ayse.ID); r != "" {
				t.Fatalf("a refused form added Ayşe as %q", r)
			}
			// Found by her address in any case, added as a representative.
			ab.must(t, http.StatusSeeOther, "POST", add, url.Values{"email": {"Ayse@Example.org"}, "role": {"representative"}}, page)
			if r := roleIn(t, n, dernek, ayse.ID); r != core.OrgRoleRepresentative {
				t.Fatalf("Ayşe is %q", r)
			}
			if a := ab.must(t, 200, "GET", page, nil); !strings.Contains(a.body, "The person was added to the organisation.") {
				t.Error("no flash after adding")
			}
			forbidden(t, eb.do(t, "POST", add, url.Values{"email": {"can@example.org"}, "role": {"member"}}, nil), "a resident adding a member")
		})
		t.Run("Coordinator", func(t *testing.T) {
			path := "/neighbourhoods/" + karsiyaka + "/organisations"
			if !strings.Contains(zb.must(t, 200, "GET", "/neighbourhoods/"+karsiyaka+"/requests", nil).body, `href="`+path+`"`) {
				t.Error("the coordinator's requests page does not lead to the organisations")
			}
			doc := webtest.Text(checkPage(t, zb.must(t, 200, "GET", path, nil), "en"))
			if !strings.Contains(doc, "Karşıyaka Kadın Dayanışma Derneği") || strings.Contains(doc, "Bornova Bisiklet") {
				t.Errorf("the coordinator's organisations: %s", doc)
			}
			forbidden(t, eb.do(t, "GET", path, nil, nil), "resident GET "+path)
			forbidden(t, zb.do(t, "GET", "/neighbourhoods/"+bornova+"/organisations", nil, nil), "coordinator of another neighbourhood")
		})
		t.Run("ErrNotAdmin", func(t *testing.T) {
			pending := newOrg(t, can, "Karşıyaka Gençlik Kulübü", "ngo", karsiyaka)
			rep := signIn(t, n, asPerson(ayse))
			for who, b := range map[string]*browser{"resident": eb, "coordinator": zb, "representative": rep} {
				forbidden(t, b.do(t, "GET", list, nil, nil), who+" GET "+list)
				forbidden(t, b.do(t, "GET", list+"?state=verified", nil, nil), who+" GET the verified tab")
				forbidden(t, b.do(t, "GET", page, nil, nil), who+" GET "+page)
				forbidden(t, b.do(t, "POST", list+"/"+pending+"/verify", url.Values{}, nil), who+" verifying")
				forbidden(t, b.do(t, "POST", list+"/"+pending+"/reject", url.Values{"reason": {"no"}}, nil), who+" rejecting")
				forbidden(t, b.do(t, "POST", page+"/members/"+can.ID+"/remove", url.Values{}, nil), who+" removing a member")
			}
			if s, _ := orgState(t, n, pending); s != core.OrganisationPending {
				t.Errorf("a refused decision made it %q", s)
			}
			if r := roleIn(t, n, dernek, can.ID); r != core.OrgRoleRepresentative {
				t.Errorf("a refused removal left Can %q", r)
			}
		})
	})
}

// startWithProbe starts a node running the probe as the built-in plugin name. On
// PostgreSQL the plugin's schema and role get a prefix of their own, dropped afterwards.
func startWithProbe(t *testing.T, db coretest.DB, bin, name string) *node.Node {
	t.Helper()
	cfg := db.Config
	cfg.Plugins = []node.PluginConfig{{Name: name}}
	if cfg.DatabaseURL != "" {
		prefix := fmt.Sprintf("tw%d_", time.Now().UnixNano()%1e9)
		cfg.PluginStorePrefix = prefix
		t.Cleanup(func() {
			if admin, err := sqlx.Open("postgres", os.Getenv(coretest.EnvDatabaseURL)); err == nil {
				sdktest.DropPluginStores(admin, prefix)
				admin.Close()
			}
		})
	}
	opt := coretest.Options()
	opt.Executable, opt.Builtins, opt.HostVersion = bin, []string{name}, "0.1.0"
	opt.PluginHealthInterval = 200 * time.Millisecond
	return coretest.StartNode(t, cfg, opt)
}

// pluginIn waits until the plugin name is in state.
func pluginIn(t *testing.T, n *node.Node, name, state string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := n.Plugins.Status(name)
		if st.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin %s is %q, not %q", name, st.State, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPages_AdminPlugins runs the host's test plugin (the probe) on a real node.
func TestPages_AdminPlugins(t *testing.T) {
	t.Run("None", func(t *testing.T) {
		n := coretest.StartNode(t, coretest.Databases(t)[0].Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		hood := newHood(t, admin, "Hamina", "hamina")
		eb, zb := people(t, n, admin, hood)
		ab := signIn(t, n, asPerson(admin))
		doc := webtest.Text(checkPage(t, ab.must(t, 200, "GET", "/admin/plugins", nil), "en"))
		if !strings.Contains(doc, "This server runs no plugins.") {
			t.Errorf("no plugins: %s", doc)
		}
		ab.must(t, http.StatusNotFound, "POST", "/admin/plugins/parks/disable", url.Values{})
		forbidden(t, eb.do(t, "GET", "/admin/plugins", nil, nil), "resident")
		forbidden(t, zb.do(t, "GET", "/admin/plugins", nil, nil), "coordinator")
	})
	bin, _ := sdktest.BuildPlugin(t, "../pluginhost/internal/probe")
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startWithProbe(t, db, bin, "alpha")
		pluginIn(t, n, "alpha", core.PluginActive)
		admin := coretest.Admin(t, n, "admin@example.org")
		hood := newHood(t, admin, "Hamina", "hamina")
		eb, zb := people(t, n, admin, hood)
		ab := signIn(t, n, asPerson(admin))
		page := "/admin/plugins"

		a := ab.must(t, 200, "GET", page, nil)
		doc := webtest.Text(checkPage(t, a, "en"))
		for _, want := range []string{"alpha", "Running", "Version", "Disable alpha", "Restart alpha"} {
			if !strings.Contains(doc, want) {
				t.Errorf("the plugins page lacks %q: %s", want, doc)
			}
		}
		for who, b := range map[string]*browser{"resident": eb, "coordinator": zb} {
			forbidden(t, b.do(t, "GET", page, nil, nil), who+" GET "+page)
			forbidden(t, b.do(t, "POST", page+"/alpha/disable", url.Values{}, nil), who+" disabling")
		}
		if st, _ := n.Plugins.Status("alpha"); st.State != core.PluginActive {
			t.Fatalf("a refused disable left alpha %q", st.State)
		}

		// The navigation, kept for everyone signed out alike, follows the plugin.
		anon := newBrowser(n)
		navShows := func() bool { return strings.Contains(anon.must(t, 200, "GET", "/", nil).body, `>alpha page</a>`) }
		if !navShows() {
			t.Error("the navigation lacks the running plugin's entry")
		}
		ab.must(t, http.StatusSeeOther, "POST", page+"/alpha/disable", url.Values{}, page)
		pluginIn(t, n, "alpha", core.PluginStopped)
		if navShows() {
			t.Error("the navigation keeps the entry of a plugin disabled")
		}
		a = ab.must(t, 200, "GET", page, nil)
		doc = webtest.Text(checkPage(t, a, "en"))
		for _, want := range []string{"The plugin is being stopped.", "Disabled", "Enable alpha"} {
			if !strings.Contains(doc, want) {
				t.Errorf("after disabling, the page lacks %q: %s", want, doc)
			}
		}
		ab.must(t, http.StatusSeeOther, "POST", page+"/alpha/enable", url.Values{}, page)
		pluginIn(t, n, "alpha", core.PluginActive)
		if !navShows() {
			t.Error("the navigation lacks the entry of the plugin enabled again")
		}
		ab.must(t, http.StatusNotFound, "POST", page+"/beta/enable", url.Values{})
		ab.must(t, http.StatusNotFound, "POST", page+"/alpha/explode", url.Values{})

		// The operators' log records each action (the host audits it).
		var actions []string
		sqlDB := coretest.SQL(n)
		if err := sqlDB.Select(&actions, sqlDB.Rebind(`SELECT action FROM plugin_commands WHERE name = ? ORDER BY seq`), "alpha"); err != nil {
			t.Fatal(err)
		}
		if strings.Join(actions, ",") != "disable,enable" {
			t.Errorf("commands recorded: %v", actions)
		}

		for _, lang := range langs {
			ab.must(t, http.StatusSeeOther, "POST", "/language", url.Values{"lang": {lang}, "back": {"/"}}, "/")
			a := ab.do(t, "GET", page, nil, nil)
			t.Run(lang, func(t *testing.T) {
				if a.status != 200 {
					t.Fatalf("status %d", a.status)
				}
				checkPage(t, a, lang)
			})
		}

		// The plugin's role is described on the grants page in the admin's language
		// when the manifest speaks it, else in its own, marked with lang.
		for lang, want := range map[string]string{
			"fi": `<dt>Koettimen ajaja (alpha_runner)</dt>`,
			"sv": `<dt lang="en">Probe runner (alpha_runner)</dt>`,
		} {
			ab.must(t, http.StatusSeeOther, "POST", "/language", url.Values{"lang": {lang}, "back": {"/"}}, "/")
			a := ab.must(t, 200, "GET", "/admin/grants", nil)
			checkPage(t, a, lang)
			if !strings.Contains(a.body, want) {
				t.Errorf("%s: the grants page lacks %s", lang, want)
			}
		}
	})
}

// TestPages_AdminPlacesEveryLanguage holds every page of this file, as shown and as
// refused, to the frame's rules and the markup checks in all five languages.
func TestPages_AdminPlacesEveryLanguage(t *testing.T) {
	n := coretest.StartNode(t, coretest.Databases(t)[0].Config, coretest.Options())
	admin := coretest.Admin(t, n, "admin@example.org")
	konak := newHood(t, admin, "Konak", "konak")
	ab := signIn(t, n, asPerson(admin))
	_, zb := people(t, n, admin, konak)
	ab.must(t, http.StatusSeeOther, "POST", "/admin/neighbourhoods", url.Values{"name": {"Alsancak"}, "parent_id": {konak}}, "/admin/neighbourhoods")
	alsancak := hoodBySlug(t, n, "alsancak").ID
	ab.must(t, http.StatusSeeOther, "POST", "/admin/neighbourhoods/"+alsancak+"/archive", url.Values{"archived": {"true"}}, "/admin/neighbourhoods/"+alsancak)
	ayse := coretest.Register(t, n, "ayse@example.org", "Ayşe Kaya")
	pending := newOrg(t, ayse, "Konak Kent Konseyi Gönüllüleri", "ngo", konak)
	verified := newOrg(t, ayse, "Kemeraltı Esnaf Derneği", "association", konak)
	ab.must(t, http.StatusSeeOther, "POST", "/admin/organisations/"+verified+"/verify", url.Values{}, "/admin/organisations/"+verified)

	pages := []struct {
		b            *browser
		method, path string
		form         url.Values
		status       int
	}{
		{ab, "GET", "/admin/neighbourhoods", nil, 200},
		{ab, "POST", "/admin/neighbourhoods", url.Values{"name": {""}, "slug": {"Kötü"}}, 422},
		{ab, "GET", "/admin/neighbourhoods/" + alsancak, nil, 200},
		{ab, "GET", "/admin/neighbourhoods/" + konak, nil, 200},
		{ab, "POST", "/admin/neighbourhoods/" + konak, url.Values{"name": {"Konak"}, "slug": {"konak"}, "parent_id": {alsancak}}, 422},
		{ab, "POST", "/admin/neighbourhoods/" + konak, url.Values{"name": {"Konak"}, "slug": {"konak"}, "boundary": {"[]"}}, 422},
		{ab, "GET", "/admin/organisations", nil, 200},
		{ab, "GET", "/admin/organisations?state=verified", nil, 200},
		{ab, "GET", "/admin/organisations?state=rejected", nil, 200},
		{ab, "GET", "/admin/organisations/" + pending, nil, 200},
		{ab, "POST", "/admin/organisations/" + pending + "/reject", url.Values{}, 422},
		{ab, "GET", "/admin/organisations/" + verified, nil, 200},
		{ab, "POST", "/admin/organisations/" + verified + "/verify", url.Values{}, 409},
		{ab, "POST", "/admin/organisations/" + verified + "/members/" + ayse.ID + "/remove", url.Values{}, 409},
		{ab, "GET", "/admin/plugins", nil, 200},
		{zb, "GET", "/neighbourhoods/" + konak + "/organisations", nil, 200},
		{zb, "GET", "/neighbourhoods/" + konak + "/members", nil, 200},
		{zb, "GET", "/admin/neighbourhoods", nil, 403},
	}
	texts := map[string]string{}
	for _, lang := range langs {
		for _, b := range []*browser{ab, zb} {
			b.must(t, http.StatusSeeOther, "POST", "/language", url.Values{"lang": {lang}, "back": {"/"}}, "/")
		}
		for _, pg := range pages {
			a := pg.b.do(t, pg.method, pg.path, pg.form, nil)
			t.Run(lang+" "+pg.method+" "+pg.path, func(t *testing.T) {
				if a.status != pg.status {
					t.Fatalf("status %d, want %d: %s", a.status, pg.status, a.body)
				}
				doc := checkPage(t, a, lang)
				if pg.status == 422 {
					checkRefused(t, a, lang)
				}
				if pg.method == "GET" && pg.status == 200 {
					texts[lang] += webtest.Text(doc)
				}
			})
		}
	}
	for _, x := range langs {
		for _, y := range langs {
			if x < y && texts[x] == texts[y] {
				t.Errorf("the pages in %s and %s are the same text", x, y)
			}
		}
	}
}

// TestPages_AdminPlacesHTMX: the admins' forms, refused under htmx, answer the
// content of <main> only, with the title and the error summary that takes focus.
func TestPages_AdminPlacesHTMX(t *testing.T) {
	n := coretest.StartNode(t, coretest.Databases(t)[0].Config, coretest.Options())
	admin := coretest.Admin(t, n, "admin@example.org")
	konak := newHood(t, admin, "Konak", "konak")
	org := newOrg(t, coretest.Register(t, n, "ayse@example.org", "Ayşe Kaya"), "Kemeraltı Esnaf Derneği", "association", konak)
	ab := signIn(t, n, asPerson(admin))
	hx := map[string]string{"HX-Request": "true", "HX-Target": "main#main"}
	for _, c := range []struct{ path, title string }{
		{"/admin/neighbourhoods", "Neighbourhoods"},
		{"/admin/neighbourhoods/" + konak, "Neighbourhood Konak"},
		{"/admin/organisations/" + org + "/reject", "Kemeraltı Esnaf Derneği"},
	} {
		a := ab.do(t, "POST", c.path, url.Values{"name": {""}, "slug": {"konak"}}, hx)
		if a.status != 422 || strings.Contains(a.body, "<html") || strings.Contains(a.body, "<footer") {
			t.Fatalf("POST %s under htmx = %d, or carries the frame", c.path, a.status)
		}
		nodes := webtest.ParseFragment(t, a.body)
		if ts := webtest.Find(nodes, tag(atom.Title)); len(ts) != 1 || !strings.HasPrefix(webtest.Text(ts[0]), c.title+" – ") {
			t.Errorf("%s: title %v", c.path, ts)
		}
		if sum := webtest.ByID(nodes, "kv-error-summary"); sum == nil {
			t.Errorf("%s: no error summary", c.path)
		} else if _, ok := webtest.Attr(sum, "autofocus"); !ok {
			t.Errorf("%s: the summary does not take focus", c.path)
		}
	}
}
