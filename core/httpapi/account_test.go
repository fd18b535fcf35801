package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
)

// TestSessionsAndTokens: sessions are listed and revoked by their owner only; API
// tokens are shown once, work as bearer tokens and stop working when revoked.
func TestSessionsAndTokens(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		u := coretest.Register(t, n, "script@example.org", "Scripter")
		other := coretest.Register(t, n, "other@example.org", "Other")

		sessions := u.Must(200, "GET", "/api/v1/me/sessions", nil).JSON()["items"].([]any)
		if len(sessions) != 1 || sessions[0].(map[string]any)["current"] != true {
			t.Fatalf("sessions = %v, want the current one", sessions)
		}
		sid := sessions[0].(map[string]any)["id"].(string)
		if r := other.Do("DELETE", "/api/v1/me/sessions/"+sid, nil); r.Status != 404 {
			t.Fatalf("revoking someone else's session = %d, want 404", r.Status)
		}

		created := u.Must(201, "POST", "/api/v1/me/tokens", map[string]string{"name": "nightly export"}).JSON()
		token := created["token"].(string)
		tid := created["token_info"].(map[string]any)["id"].(string)
		listed := u.Must(200, "GET", "/api/v1/me/tokens", nil)
		if bytes.Contains(listed.Body, []byte(token)) {
			t.Fatal("the token list shows the secret")
		}
		script := coretest.NewClient(t, n)
		script.Token = token
		if me := script.Must(200, "GET", "/api/v1/me", nil).JSON(); me["user"].(map[string]any)["id"] != u.ID {
			t.Fatalf("the API token acts as %v", me["user"])
		}
		u.Must(204, "DELETE", "/api/v1/me/tokens/"+tid, nil)
		if r := script.Do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("revoked token = %d, want 401", r.Status)
		}
		u.Must(204, "DELETE", "/api/v1/me/sessions/"+sid, nil)
		if r := u.Do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("revoked session = %d, want 401", r.Status)
		}
	})
}

// TestSessionExpiry: idle and absolute expiry end a session.
func TestSessionExpiry(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		clock := coretest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		opt := coretest.Options()
		opt.Clock = clock
		n := coretest.StartNode(t, db.Config, opt)
		u := coretest.Register(t, n, "idle@example.org", "Idle")
		for i := 0; i < 4; i++ { // used every 6 days: idle limit (7 days) never reached
			clock.Advance(6 * 24 * time.Hour)
			u.Must(200, "GET", "/api/v1/me", nil)
		}
		clock.Advance(7 * 24 * time.Hour) // 31 days after login: absolute expiry
		if r := u.Do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("after 31 days = %d, want 401", r.Status)
		}
		// Uses are written in batches; a flush stores the latest one.
		w := coretest.Register(t, n, "busy@example.org", "Busy")
		clock.Advance(2 * time.Hour)
		w.Must(200, "GET", "/api/v1/me", nil)
		if err := n.Identity.FlushTouches(context.Background()); err != nil {
			t.Fatal(err)
		}
		var seen time.Time
		sqldb := coretest.SQL(n)
		if err := sqldb.Get(&seen, sqldb.Rebind(`SELECT last_seen_at FROM sessions WHERE user_id = ?`), w.ID); err != nil {
			t.Fatal(err)
		}
		if !seen.Equal(clock.Now()) {
			t.Fatalf("last_seen_at = %v after flush, want %v", seen, clock.Now())
		}
		v := coretest.Register(t, n, "idle2@example.org", "Idle 2")
		clock.Advance(8 * 24 * time.Hour)
		if r := v.Do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("after 8 idle days = %d, want 401", r.Status)
		}
	})
}

// TestGDPR: a person exports their data, then deletes the account; personal data is
// erased, the pseudonymous row stays, and core.user.deleted is in the outbox.
func TestGDPR(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		nbh := createNeighbourhood(t, admin, "Gaziemir")
		u := coretest.Register(t, n, "leaving@example.org", "Leyla Leaving")
		u.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", map[string]string{"note": "Atatürk Cd. 5"})
		u.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": "Gaziemir Gardeners", "kind": "civic_group", "neighbourhood_ids": []string{nbh}})

		export := u.Must(200, "GET", "/api/v1/me/export", nil)
		for _, want := range []string{"leaving@example.org", "Leyla Leaving", "Atatürk Cd. 5", "Gaziemir Gardeners", "user.login"} {
			if !bytes.Contains(export.Body, []byte(want)) {
				t.Errorf("export lacks %q", want)
			}
		}
		if strings.Contains(export.Header.Get("Content-Disposition"), "attachment") == false {
			t.Error("export is not offered as a download")
		}

		u.Must(204, "DELETE", "/api/v1/me", nil)
		if r := u.Do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("deleted account still signed in: %d", r.Status)
		}
		if got := count(t, admin.Client, `SELECT COUNT(*) FROM users WHERE id = ? AND email IS NULL AND password_hash IS NULL AND display_name = 'Deleted user' AND deleted_at IS NOT NULL`, u.ID); got != 1 {
			t.Fatal("the user row is not pseudonymised")
		}
		for _, table := range []string{"sessions", "memberships", "organisation_members", "role_grants"} {
			if got := count(t, admin.Client, `SELECT COUNT(*) FROM `+table+` WHERE user_id = ?`, u.ID); got != 0 {
				t.Errorf("%s still holds %d rows of the deleted person", table, got)
			}
		}
		var payload string
		sqldb := coretest.SQL(n)
		if err := sqldb.Get(&payload, sqldb.Rebind(`SELECT payload FROM outbox_events WHERE type = 'core.user.deleted'`)); err != nil {
			t.Fatalf("no core.user.deleted event: %v", err)
		}
		if !strings.Contains(payload, u.ID) {
			t.Fatalf("event payload %s does not name the user", payload)
		}
		// The email is free again, for a new person.
		c := coretest.NewClient(t, n)
		c.Must(201, "POST", "/api/v1/auth/register", map[string]string{"email": "leaving@example.org", "password": "a brand new passphrase", "display_name": "New", "language": "en"})
		// Logging in with the old password fails.
		if r := c.Do("POST", "/api/v1/auth/login", map[string]string{"email": "leaving@example.org", "password": u.Password}); r.Status != 401 {
			t.Fatalf("old password = %d", r.Status)
		}
	})
}

// TestMembershipImport: a CSV is imported whole or not at all, with a report per row.
func TestMembershipImport(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		nbh := createNeighbourhood(t, admin, "Hamina Keskusta")
		a := coretest.Register(t, n, "a@example.org", "A")
		b := coretest.Register(t, n, "b@example.org", "B")
		_ = b

		bad := "email,neighbourhood\na@example.org,hamina-keskusta\nnobody@example.org,hamina-keskusta\nb@example.org,atlantis\n"
		r := admin.Do("POST", "/api/v1/admin/memberships/import", bad)
		if r.Status != 422 {
			t.Fatalf("bad import = %d %s", r.Status, r.Body)
		}
		var rep struct {
			Report struct {
				Imported bool
				Rows     []struct {
					Line   int
					Result string
				}
			}
		}
		r.Decode(t, &rep)
		got := fmt.Sprint(rep.Report.Rows)
		if want := "[{2 not_imported} {3 unknown_email} {4 unknown_neighbourhood}]"; got != want {
			t.Fatalf("report = %s, want %s", got, want)
		}
		if c := count(t, admin.Client, `SELECT COUNT(*) FROM memberships`); c != 0 {
			t.Fatalf("a failed import left %d memberships", c)
		}

		// A multipart upload of a good file imports every row.
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, _ := w.CreateFormFile("file", "verified.csv")
		fmt.Fprintf(fw, "a@example.org,%s\nB@example.org,hamina-keskusta\n", nbh)
		w.Close()
		req, _ := http.NewRequest("POST", n.URL()+"/api/v1/admin/memberships/import", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+admin.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ok struct {
			Imported bool
			Rows     []struct{ Result string }
		}
		json.NewDecoder(resp.Body).Decode(&ok)
		resp.Body.Close()
		if resp.StatusCode != 200 || !ok.Imported || len(ok.Rows) != 2 || ok.Rows[0].Result != "imported" {
			t.Fatalf("good import = %d %+v", resp.StatusCode, ok)
		}
		me := a.Must(200, "GET", "/api/v1/me", nil).JSON()
		if fmt.Sprint(me["roles"].(map[string]any)["nbh:"+nbh]) != "[resident]" {
			t.Fatalf("imported resident has roles %v", me["roles"])
		}
	})
}

// TestOrganisations: a founder registers an organisation and represents it; it is
// hidden until verified; representatives manage members; others cannot.
func TestOrganisations(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		nbh := createNeighbourhood(t, admin, "Buca")
		founder := coretest.Register(t, n, "founder@example.org", "Founder")
		member := coretest.Register(t, n, "member@example.org", "Member")
		stranger := coretest.Register(t, n, "stranger@example.org", "Stranger")

		org := founder.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": "Buca Play Days", "kind": "association", "description": "Play days in the park", "neighbourhood_ids": []string{nbh}}).JSON()
		id := org["id"].(string)
		if org["state"] != "pending" {
			t.Fatalf("new organisation state = %v", org["state"])
		}
		if r := stranger.Do("GET", "/api/v1/organisations/"+id, nil); r.Status != 404 {
			t.Fatalf("a stranger sees a pending organisation: %d", r.Status)
		}
		if r := stranger.Do("POST", "/api/v1/organisations/"+id+"/verify", nil); r.Status != 403 {
			t.Fatalf("a stranger verifies: %d", r.Status)
		}
		admin.Must(200, "POST", "/api/v1/organisations/"+id+"/verify", nil)
		stranger.Must(200, "GET", "/api/v1/organisations/"+id, nil)
		if r := admin.Do("POST", "/api/v1/organisations/"+id+"/reject", map[string]string{"reason": "late"}); r.Status != 409 {
			t.Fatalf("rejecting a verified organisation = %d", r.Status)
		}

		if r := stranger.Do("POST", "/api/v1/organisations/"+id+"/members", map[string]string{"user_id": stranger.ID}); r.Status != 403 {
			t.Fatalf("a stranger adds themself: %d", r.Status)
		}
		founder.Must(201, "POST", "/api/v1/organisations/"+id+"/members", map[string]string{"user_id": member.ID, "role": "representative"})
		me := member.Must(200, "GET", "/api/v1/me", nil).JSON()
		if roles := fmt.Sprint(me["roles"].(map[string]any)["org:"+id]); roles != "[org_member org_representative]" {
			t.Fatalf("member's roles = %s", roles)
		}
		members := member.Must(200, "GET", "/api/v1/organisations/"+id+"/members", nil).JSON()["items"].([]any)
		if len(members) != 2 {
			t.Fatalf("members = %v", members)
		}
		member.Must(204, "DELETE", "/api/v1/organisations/"+id+"/members/"+founder.ID, nil)
		if r := member.Do("DELETE", "/api/v1/organisations/"+id+"/members/"+member.ID, nil); r.Status != 409 {
			t.Fatalf("removing the last representative = %d", r.Status)
		}
		list := stranger.Must(200, "GET", "/api/v1/organisations", nil).JSON()["items"].([]any)
		if len(list) != 1 {
			t.Fatalf("public list = %v", list)
		}
		if r := stranger.Do("GET", "/api/v1/organisations?state=pending", nil); r.Status != 403 {
			t.Fatalf("a stranger lists pending organisations: %d", r.Status)
		}
	})
}

// TestAudit: city admins page through the audit log with filters; each entry carries
// the request id of the request that caused it.
func TestAudit(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		var ids []string
		for i := 0; i < 5; i++ {
			r := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]string{"name": fmt.Sprintf("District %d", i)})
			ids = append(ids, r.Header.Get("X-Request-ID"))
		}
		page1 := admin.Must(200, "GET", "/api/v1/admin/audit?action=neighbourhood.created&limit=3", nil).JSON()
		items := page1["items"].([]any)
		if len(items) != 3 || page1["next_cursor"] == nil {
			t.Fatalf("page 1 = %v", page1)
		}
		if items[0].(map[string]any)["request_id"] != ids[4] {
			t.Fatalf("newest entry has request id %v, want %s", items[0].(map[string]any)["request_id"], ids[4])
		}
		page2 := admin.Must(200, "GET", "/api/v1/admin/audit?action=neighbourhood.created&limit=3&cursor="+page1["next_cursor"].(string), nil).JSON()
		if items2 := page2["items"].([]any); len(items2) != 2 || page2["next_cursor"] != "" {
			t.Fatalf("page 2 = %v", page2)
		}
		if r := admin.Do("GET", "/api/v1/admin/audit?since=yesterday", nil); r.Status != 422 {
			t.Fatalf("bad since = %d", r.Status)
		}
	})
}

// TestMe_RolesFromEverySource: a principal's roles come from explicit grants, verified
// neighbourhoods and organisation memberships (PostgreSQL loads them with the session
// in one statement, SQLite in two); a pending membership gives nothing, and a person
// with no roles at all is still signed in.
func TestMe_RolesFromEverySource(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		a, b := createNeighbourhood(t, admin, "Alsancak"), createNeighbourhood(t, admin, "Buca")

		none := coretest.Register(t, n, "none@example.org", "No Roles")
		if roles := none.Must(200, "GET", "/api/v1/me", nil).JSON()["roles"].(map[string]any); len(roles) != 0 {
			t.Errorf("a person without roles has %v", roles)
		}

		u := coretest.Register(t, n, "many@example.org", "Many Roles")
		u.Must(201, "POST", "/api/v1/neighbourhoods/"+a+"/memberships", map[string]string{})
		u.Must(201, "POST", "/api/v1/neighbourhoods/"+b+"/memberships", map[string]string{})
		admin.Must(200, "POST", "/api/v1/neighbourhoods/"+b+"/memberships/"+u.ID+"/approve", map[string]string{})
		org := u.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": "Buca Play Days", "kind": "association", "neighbourhood_ids": []string{b}}).JSON()["id"].(string)
		admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": u.ID, "role": "coordinator", "domain": "nbh:" + a})

		me := u.Must(200, "GET", "/api/v1/me", nil).JSON()
		got := map[string][]string{}
		for d, rs := range me["roles"].(map[string]any) {
			for _, r := range rs.([]any) {
				got[d] = append(got[d], r.(string))
			}
		}
		want := map[string][]string{
			"nbh:" + a:   {"coordinator"}, // granted; the membership there is still pending
			"nbh:" + b:   {"resident"},
			"org:" + org: {"org_member", "org_representative"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("roles %v, want %v", got, want)
		}
		orgs := me["organisations"].([]any)
		if len(orgs) != 1 || orgs[0].(map[string]any)["organisation_id"] != org || orgs[0].(map[string]any)["verified"] != false {
			t.Errorf("organisations %v", orgs)
		}
	})
}
