package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

// TestPages_OIDCResidency: residency and age from the provider's claims, end to end
// through the real callback and the node's own claims service, on both databases. A
// sign-in whose ID token carries a Helsinki postal code makes the person a verified
// resident of its neighbourhood; a later sign-in with another code moves them; the
// birth date reaches plugins as an age.
func TestPages_OIDCResidency(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		o := startOIDCNodeWith(t, db, func(c *node.Config) {
			c.ResidencyClaims = map[string]core.ResidencyRule{"city": {Claim: "address.postal_code",
				Prefixes: map[string]string{"001": "kluuvi", "005": "kallio"}, OnChange: core.ClaimChangeMove}}
		}, aino)
		admin := coretest.Admin(t, o.n, "admin@example.org")
		hood := map[string]string{}
		for _, slug := range []string{"kluuvi", "kallio"} {
			r := admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]string{"name": slug, "slug": slug})
			hood[slug], _ = r.JSON()["id"].(string)
		}
		principal := func(b *browser) *core.Principal {
			t.Helper()
			p, err := o.n.Identity.Authenticate(context.Background(), sessionCookie(b, o.base))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}

		o.op.SetClaims(aino.ID, map[string]any{"address": map[string]any{"postal_code": "00100", "locality": "Helsinki"}, "birthdate": "1990-05-17"})
		b := newBrowser(t, o.base)
		if p := o.signIn(b, aino); p.status != http.StatusSeeOther {
			t.Fatalf("sign-in = %d: %s", p.status, p.body)
		}
		p := principal(b)
		if len(p.Neighbourhoods) != 1 || p.Neighbourhoods[0] != hood["kluuvi"] || !p.AgeVerified || p.VerifiedAge < 35 {
			t.Fatalf("after the first sign-in: %+v", p)
		}

		o.op.SetClaims(aino.ID, map[string]any{"address": map[string]any{"postal_code": "00530"}, "birthdate": "1990-05-17"})
		b2 := newBrowser(t, o.base)
		if p := o.signIn(b2, aino); p.status != http.StatusSeeOther {
			t.Fatalf("second sign-in = %d: %s", p.status, p.body)
		}
		if p := principal(b2); len(p.Neighbourhoods) != 1 || p.Neighbourhoods[0] != hood["kallio"] {
			t.Fatalf("after moving: %+v", p)
		}
		var audited int
		_ = coretest.SQL(o.n).Get(&audited, coretest.SQL(o.n).Rebind(`SELECT COUNT(*) FROM audit_log WHERE action IN ('membership.claim_verified', 'membership.claim_ended') AND actor_id IS NULL AND detail NOT LIKE '%00530%'`))
		if audited != 3 {
			t.Errorf("%d claim audit rows, want verified, ended, verified", audited)
		}
	})
}
