package httpapi_test

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// wantInvalid fails unless r is a 422 naming field with rule in error.fields.rule.
func wantInvalid(t *testing.T, r *coretest.Response, field, rule string) {
	t.Helper()
	sdktest.CheckInvalid(t, r.Status, r.Body, field, rule)
}

// TestEdgeInput sends the core what PostgreSQL cannot store and SQLite stores (issue
// 12 item 6): NUL in the unauthenticated login and in registration, in a JSON document
// kept as it came, in a path and in a query. Each is a 422 naming the field on both
// databases, and nothing is stored.
func TestEdgeInput(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		anon := coretest.NewClient(t, n)
		usersBefore := count(t, admin.Client, `SELECT COUNT(*) FROM users`)
		nbhBefore := count(t, admin.Client, `SELECT COUNT(*) FROM neighbourhoods`)

		wantInvalid(t, anon.Do("POST", "/api/v1/auth/login", map[string]string{"email": "admin\x00@city.example", "password": "whatever it is"}), "email", sdk.RuleNUL)
		wantInvalid(t, anon.Do("POST", "/api/v1/auth/register", map[string]string{"email": "new@example.org",
			"password": "long enough passphrase", "display_name": "New\x00", "language": "en"}), "display_name", sdk.RuleNUL)
		wantInvalid(t, anon.Do("POST", "/api/v1/auth/register", map[string]string{"email": "new@example.org",
			"password": "long enough passphrase", "display_name": "New", "language": strings.Repeat("e", 17)}), "language", sdk.RuleMaxLength)
		wantInvalid(t, admin.Do("POST", "/api/v1/neighbourhoods", map[string]any{"name": "Konak",
			"boundary": map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, "name": "a\x00b"}}), "boundary.name", sdk.RuleNUL)
		wantInvalid(t, admin.Do("GET", "/api/v1/admin/audit?actor_id=%00", nil), "actor_id", sdk.RuleNUL)
		wantInvalid(t, anon.Do("GET", "/api/v1/neighbourhoods/%00", nil), "path", sdk.RuleNUL)
		wantInvalid(t, anon.Do("GET", "/api/v1/neighbourhoods?cursor=%FF", nil), "cursor", sdk.RuleUTF8)

		if got := count(t, admin.Client, `SELECT COUNT(*) FROM users`); got != usersBefore {
			t.Fatalf("users changed: %d → %d", usersBefore, got)
		}
		if got := count(t, admin.Client, `SELECT COUNT(*) FROM neighbourhoods`); got != nbhBefore {
			t.Fatalf("neighbourhoods changed: %d → %d", nbhBefore, got)
		}
	})
}

// TestMembershipImport_BOM imports a CSV as spreadsheet programs save it, with a UTF-8
// byte-order mark before the header (issue 12 item 10), and one with NUL in an email,
// which is refused row by row like any invalid line rather than failing in the database.
func TestMembershipImport_BOM(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		admin := coretest.Admin(t, n, "admin@city.example")
		createNeighbourhood(t, admin, "Hamina Keskusta")
		coretest.Register(t, n, "a@example.org", "A")

		r := admin.Do("POST", "/api/v1/admin/memberships/import", "\ufeffemail,neighbourhood\r\na@example.org,hamina-keskusta\r\n")
		var ok struct {
			Imported bool
			Rows     []struct {
				Line   int
				Result string
			}
		}
		r.Decode(t, &ok)
		if r.Status != 200 || !ok.Imported || len(ok.Rows) != 1 || ok.Rows[0].Result != "imported" || ok.Rows[0].Line != 2 {
			t.Fatalf("import with a BOM = %d %s, want the one row imported", r.Status, r.Body)
		}
		r = admin.Do("POST", "/api/v1/admin/memberships/import", "a\x00@example.org,hamina-keskusta\n")
		var failed struct {
			Report struct {
				Rows []struct {
					Line   int
					Result string
				}
			}
		}
		r.Decode(t, &failed)
		if r.Status != 422 || len(failed.Report.Rows) != 1 || failed.Report.Rows[0].Result != "invalid" {
			t.Fatalf("import with NUL = %d %s, want 422 with the row invalid", r.Status, r.Body)
		}

		if c := count(t, admin.Client, `SELECT COUNT(*) FROM memberships WHERE state = 'verified'`); c != 1 {
			t.Fatalf("%d verified memberships, want 1", c)
		}
	})
}
