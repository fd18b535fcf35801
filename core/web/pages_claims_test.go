package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
)

// TestPages_MyNeighbourhoodByClaim: the "my neighbourhood" page says when the identity
// service's address confirmed a membership, and why one it confirmed ended, in the
// person's language.
func TestPages_MyNeighbourhoodByClaim(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfg := db.Config
		cfg.ResidencyClaims = map[string]core.ResidencyRule{"suomifi": {Claim: "address.postal_code", Prefixes: map[string]string{"001": "kluuvi", "005": "kallio"}}}
		n := coretest.StartNode(t, cfg, coretest.Options())
		admin := coretest.Admin(t, n, "admin@example.org")
		newHood(t, admin, "Kluuvi", "kluuvi")
		newHood(t, admin, "Kallio", "kallio")
		aino := newPerson(t, n, "aino@example.org", "Aino Virtanen")
		b := signIn(t, n, aino)
		claims := func(code string) map[string]any {
			return map[string]any{"address": map[string]any{"postal_code": code}}
		}

		if err := n.Claims.ApplyClaims(context.Background(), aino.id, "suomifi", claims("00100")); err != nil {
			t.Fatal(err)
		}
		a := b.must(t, 200, "GET", "/my-neighbourhood", nil)
		checkPage(t, a, "en")
		if card := cardOf(t, a.body, "Kluuvi"); !strings.Contains(card, "Confirmed from the address the identity service gave when you signed in.") {
			t.Errorf("card %q", card)
		}

		if err := n.Claims.ApplyClaims(context.Background(), aino.id, "suomifi", claims("00530")); err != nil {
			t.Fatal(err)
		}
		// Aino reads the site in Finnish from now on.
		b.must(t, 303, "POST", "/profile", url.Values{"display_name": {aino.name}, "email": {aino.email}, "language": {"fi"}})
		a = b.must(t, 200, "GET", "/my-neighbourhood", nil)
		checkPage(t, a, "fi")
		if card := cardOf(t, a.body, "Kluuvi"); !strings.Contains(card, "Jäsenyys päättyi, koska tunnistuspalvelu ei kirjautuessasi enää ilmoittanut osoitetta tältä asuinalueelta.") {
			t.Errorf("ended card %q", card)
		}
		if card := cardOf(t, a.body, "Kallio"); !strings.Contains(card, "Vahvistettu osoitteesta, jonka tunnistuspalvelu ilmoitti kirjautuessasi.") {
			t.Errorf("moved card %q", card)
		}
		// Deleting the account says it erases what the identity service said; the
		// privacy page says the birth date is kept and plugins see only the age.
		if a := b.must(t, 200, "GET", "/me/data", nil); !strings.Contains(a.body, "Myös tunnistuspalvelusta saadut tiedot poistetaan") {
			t.Error("the data page does not say deletion erases the identity service's birth date and neighbourhood")
		}
		if a := b.must(t, 200, "GET", "/privacy", nil); !strings.Contains(a.body, "kaupungin palvelut näkevät siitä vain ikäsi") {
			t.Error("the privacy page does not name the verified birth date")
		}
	})
}
