package sqlstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/sqlstore"
)

// claimsWorld is a node whose city reads residency from three providers, one per
// change rule, and the neighbourhoods their claims map to.
type claimsWorld struct {
	n     *node.Node
	clock *coretest.Clock
	admin context.Context
	nbh   map[string]string // id by slug
}

func newClaimsWorld(t testing.TB, db coretest.DB) *claimsWorld {
	t.Helper()
	cfg := db.Config
	cfg.ResidencyClaims = map[string]core.ResidencyRule{
		// Helsinki by postal code: a prefix per district, one exact code inside it.
		"suomifi": {Claim: "address.postal_code", Prefixes: map[string]string{"001": "kluuvi", "005": "kallio", "009": "nowhere", "008": "vanha"},
			Values: map[string]string{"00170": "kruununhaka"}},
		"tunnistus": {Claim: "municipality_code", Values: map[string]string{"091": "kluuvi", "049": "kallio"}, OnChange: core.ClaimChangeEnd},
		"kela":      {Claim: "municipality_code", Values: map[string]string{"091": "kluuvi", "049": "kallio"}, OnChange: core.ClaimChangeKeep},
	}
	clock := coretest.NewClock(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	opt := coretest.Options()
	opt.Clock = clock
	n := coretest.StartNode(t, cfg, opt)
	_, admin := adminContext(t, n)
	w := &claimsWorld{n: n, clock: clock, admin: admin, nbh: map[string]string{}}
	for _, slug := range []string{"kluuvi", "kallio", "kruununhaka", "vanha"} {
		nb, err := n.Neighbourhoods.CreateNeighbourhood(admin, core.NeighbourhoodInput{Name: strings.ToUpper(slug[:1]) + slug[1:], Slug: slug})
		if err != nil {
			t.Fatal(err)
		}
		w.nbh[slug] = nb.ID
	}
	archived := true
	if _, err := n.Neighbourhoods.UpdateNeighbourhood(admin, w.nbh["vanha"], core.NeighbourhoodUpdate{Archived: &archived}); err != nil {
		t.Fatal(err)
	}
	return w
}

// adminContext creates a city administrator and returns its id and a context acting
// as it.
func adminContext(t testing.TB, n *node.Node) (string, context.Context) {
	t.Helper()
	a := coretest.Admin(t, n, "admin@example.org")
	p, err := n.Identity.Authenticate(context.Background(), a.Token)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, core.WithPrincipal(context.Background(), p)
}

// person registers someone and returns their id, token and a context acting as them.
func (w *claimsWorld) person(t *testing.T, email string) (string, string, context.Context) {
	t.Helper()
	tok, ctx := signedIn(t, w.n, email)
	return core.PrincipalFrom(ctx).UserID, tok, ctx
}

// approved has the person acting in ctx ask to join the neighbourhood slug and a
// coordinator (the administrator) approve it: a membership no claim verified.
func (w *claimsWorld) approved(t *testing.T, ctx context.Context, slug string) {
	t.Helper()
	if _, err := w.n.Neighbourhoods.RequestMembership(ctx, w.nbh[slug], ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.n.Neighbourhoods.DecideMembership(w.admin, w.nbh[slug], core.PrincipalFrom(ctx).UserID, "approve", ""); err != nil {
		t.Fatal(err)
	}
}

func (w *claimsWorld) apply(t *testing.T, userID, provider string, claims map[string]any) {
	t.Helper()
	if err := w.n.Claims.ApplyClaims(context.Background(), userID, provider, claims); err != nil {
		t.Fatalf("apply %s claims: %v", provider, err)
	}
}

// membership is one row of the memberships table as the test reads it.
type membership struct {
	Neighbourhood string  `db:"neighbourhood_id"`
	State         string  `db:"state"`
	ClaimProvider *string `db:"claim_provider"`
	DecidedBy     *string `db:"decided_by"`
}

// memberships lists the person's memberships by neighbourhood slug, "slug:state" or
// "slug:state:provider" when a claim verified it, in neighbourhood order.
func (w *claimsWorld) memberships(t *testing.T, userID string) []string {
	t.Helper()
	db := coretest.SQL(w.n)
	var rows []membership
	if err := db.Select(&rows, db.Rebind(`SELECT neighbourhood_id, state, claim_provider, decided_by FROM memberships WHERE user_id = ? ORDER BY created_at, id`), userID); err != nil {
		t.Fatal(err)
	}
	slug := map[string]string{}
	for s, id := range w.nbh {
		slug[id] = s
	}
	out := []string{}
	for _, r := range rows {
		s := slug[r.Neighbourhood] + ":" + r.State
		if r.ClaimProvider != nil {
			s += ":" + *r.ClaimProvider
		}
		out = append(out, s)
	}
	return out
}

func (w *claimsWorld) wantMemberships(t *testing.T, userID string, want ...string) {
	t.Helper()
	got := w.memberships(t, userID)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("memberships %v, want %v", got, want)
	}
}

// audit is the audit log about a person: action, actor and detail, oldest first.
func (w *claimsWorld) audit(t *testing.T, userID string) []string {
	t.Helper()
	db := coretest.SQL(w.n)
	var rows []struct {
		Action string  `db:"action"`
		Actor  *string `db:"actor_id"`
		Detail string  `db:"detail"`
	}
	if err := db.Select(&rows, db.Rebind(`SELECT action, actor_id, detail FROM audit_log WHERE target = ? AND (action LIKE 'membership.claim%' OR action = 'user.birth_date_verified') ORDER BY seq`), "user:"+userID); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, r := range rows {
		actor := "system"
		if r.Actor != nil {
			actor = "person"
		}
		out = append(out, r.Action+" "+actor+" "+r.Detail)
	}
	return out
}

// events counts the outbox events of type typ about the person.
func (w *claimsWorld) events(t *testing.T, userID, typ string) int {
	t.Helper()
	db := coretest.SQL(w.n)
	var payloads []string
	if err := db.Select(&payloads, db.Rebind(`SELECT payload FROM outbox_events WHERE type = ?`), typ); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range payloads {
		var m map[string]string
		if json.Unmarshal([]byte(p), &m) == nil && m["user_id"] == userID {
			n++
		}
	}
	return n
}

func postal(code any) map[string]any {
	return map[string]any{"sub": "x", "address": map[string]any{"postal_code": code, "locality": "Helsinki"}}
}

func municipality(code string) map[string]any { return map[string]any{"municipality_code": code} }

func TestClaimsService_ApplyClaims(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		w := newClaimsWorld(t, db)

		t.Run("Verify", func(t *testing.T) {
			id, tok, _ := w.person(t, "aino@example.org")
			w.apply(t, id, "suomifi", postal("00100"))
			w.wantMemberships(t, id, "kluuvi:verified:suomifi")
			// The principal is a resident of it at once (the cache was dropped).
			p, err := w.n.Identity.Authenticate(context.Background(), tok)
			if err != nil || len(p.Neighbourhoods) != 1 || p.Neighbourhoods[0] != w.nbh["kluuvi"] || !p.HasRole(core.NeighbourhoodDomain(w.nbh["kluuvi"]), core.RoleResident) {
				t.Errorf("principal %+v, %v", p, err)
			}
			// Audited as the system's doing, naming the provider, never the code.
			if got := w.audit(t, id); len(got) != 1 || got[0] != `membership.claim_verified system {"provider":"suomifi"}` {
				t.Errorf("audit %q", got)
			}
			if n := w.events(t, id, core.EventMembershipVerified); n != 1 {
				t.Errorf("%d membership.verified events, want 1", n)
			}
		})

		t.Run("ExactValueWinsOverPrefix", func(t *testing.T) {
			id, _, _ := w.person(t, "bo@example.org")
			w.apply(t, id, "suomifi", postal("00170"))
			w.wantMemberships(t, id, "kruununhaka:verified:suomifi")
		})

		t.Run("SameClaimAgainChangesNothing", func(t *testing.T) {
			id, _, _ := w.person(t, "cem@example.org")
			w.apply(t, id, "suomifi", postal("00100"))
			w.apply(t, id, "suomifi", postal("00120")) // another code, the same neighbourhood
			w.apply(t, id, "suomifi", postal("00100"))
			w.wantMemberships(t, id, "kluuvi:verified:suomifi")
			if got := w.audit(t, id); len(got) != 1 {
				t.Errorf("audit %q, want one entry", got)
			}
		})

		t.Run("Move", func(t *testing.T) {
			id, _, _ := w.person(t, "dagny@example.org")
			w.apply(t, id, "suomifi", postal("00100"))
			w.apply(t, id, "suomifi", postal("00530"))
			w.wantMemberships(t, id, "kluuvi:revoked:suomifi", "kallio:verified:suomifi")
			got := w.audit(t, id)
			want := []string{
				`membership.claim_verified system {"provider":"suomifi"}`,
				`membership.claim_ended system {"provider":"suomifi","rule":"move"}`,
				`membership.claim_verified system {"provider":"suomifi"}`,
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("audit\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if w.events(t, id, core.EventMembershipEnded) != 1 || w.events(t, id, core.EventMembershipVerified) != 2 {
				t.Error("a move announces one end and one verification")
			}
			// The claim disappears (the person moved abroad): the membership ends.
			w.apply(t, id, "suomifi", map[string]any{"sub": "x"})
			w.wantMemberships(t, id, "kluuvi:revoked:suomifi", "kallio:revoked:suomifi")
			// And comes back: that is a change too, so it verifies again.
			w.apply(t, id, "suomifi", postal("00530"))
			w.wantMemberships(t, id, "kluuvi:revoked:suomifi", "kallio:revoked:suomifi", "kallio:verified:suomifi")
		})

		t.Run("End", func(t *testing.T) {
			id, _, _ := w.person(t, "eero@example.org")
			w.apply(t, id, "tunnistus", municipality("091"))
			w.wantMemberships(t, id, "kluuvi:verified:tunnistus")
			w.apply(t, id, "tunnistus", municipality("049"))
			w.wantMemberships(t, id, "kluuvi:revoked:tunnistus")
			// Later sign-ins with the new code do not verify it either: under "end" a
			// move goes through a coordinator.
			w.apply(t, id, "tunnistus", municipality("049"))
			w.wantMemberships(t, id, "kluuvi:revoked:tunnistus")
			if got := w.audit(t, id); len(got) != 2 || got[1] != `membership.claim_ended system {"provider":"tunnistus","rule":"end"}` {
				t.Errorf("audit %q", got)
			}
		})

		t.Run("Keep", func(t *testing.T) {
			id, _, _ := w.person(t, "fatma@example.org")
			w.apply(t, id, "kela", municipality("091"))
			w.apply(t, id, "kela", municipality("049"))
			w.apply(t, id, "kela", map[string]any{})
			w.wantMemberships(t, id, "kluuvi:verified:kela")
		})

		t.Run("UnmappedValue", func(t *testing.T) {
			id, _, _ := w.person(t, "gunnar@example.org")
			w.apply(t, id, "suomifi", postal("02100")) // Espoo: not this city's
			w.apply(t, id, "suomifi", postal(float64(100)))
			w.apply(t, id, "suomifi", postal("001\x00"))
			w.apply(t, id, "suomifi", postal(strings.Repeat("0", 10_000)))
			w.apply(t, id, "other-provider", postal("00100")) // no rule for it
			w.wantMemberships(t, id)
			if got := w.audit(t, id); len(got) != 0 {
				t.Errorf("audit %q", got)
			}
			// Unmapped, then mapped: a change, so it verifies.
			w.apply(t, id, "suomifi", postal("00100"))
			w.wantMemberships(t, id, "kluuvi:verified:suomifi")
		})

		t.Run("UnknownOrArchivedNeighbourhoodChangesNothing", func(t *testing.T) {
			id, _, _ := w.person(t, "hanna@example.org")
			w.apply(t, id, "suomifi", postal("00100"))
			w.apply(t, id, "suomifi", postal("00900")) // the config's typo: "nowhere"
			w.apply(t, id, "suomifi", postal("00800")) // archived since
			// Not a change the person made, so under "move" nothing ends either.
			w.wantMemberships(t, id, "kluuvi:verified:suomifi")
		})

		t.Run("CoordinatorVerifiedMembershipUntouched", func(t *testing.T) {
			id, _, ctx := w.person(t, "ilkka@example.org")
			w.approved(t, ctx, "kluuvi")
			w.apply(t, id, "suomifi", postal("00100")) // already verified: stays the coordinator's
			w.apply(t, id, "suomifi", postal("00530")) // moves: the coordinator's is not the claim's to end
			w.apply(t, id, "suomifi", map[string]any{})
			w.wantMemberships(t, id, "kluuvi:verified")
		})

		t.Run("MaxNeighbourhoods", func(t *testing.T) {
			id, tok, ctx := w.person(t, "jonna@example.org")
			w.approved(t, ctx, "kallio")
			// The city allows one neighbourhood per person: the claim is refused, audited.
			w.apply(t, id, "suomifi", postal("00100"))
			w.wantMemberships(t, id, "kallio:verified")
			if got := w.audit(t, id); len(got) != 1 || got[0] != `membership.claim_over_limit system {"provider":"suomifi"}` {
				t.Errorf("audit %q", got)
			}
			// Once the person leaves, the next sign-in with the same claim verifies.
			p, _ := w.n.Identity.Authenticate(context.Background(), tok)
			if err := w.n.Neighbourhoods.LeaveNeighbourhood(core.WithPrincipal(context.Background(), p), w.nbh["kallio"]); err != nil {
				t.Fatal(err)
			}
			w.apply(t, id, "suomifi", postal("00100"))
			w.wantMemberships(t, id, "kallio:left", "kluuvi:verified:suomifi")
		})

		t.Run("RequestBecomesVerified", func(t *testing.T) {
			id, _, ctx := w.person(t, "kaisa@example.org")
			if _, err := w.n.Neighbourhoods.RequestMembership(ctx, w.nbh["kallio"], "I live here"); err != nil {
				t.Fatal(err)
			}
			w.apply(t, id, "suomifi", postal("00530"))
			w.wantMemberships(t, id, "kallio:verified:suomifi")
		})

		t.Run("LeftIsNotPutBack", func(t *testing.T) {
			id, tok, _ := w.person(t, "lars@example.org")
			w.apply(t, id, "suomifi", postal("00100"))
			p, _ := w.n.Identity.Authenticate(context.Background(), tok)
			if err := w.n.Neighbourhoods.LeaveNeighbourhood(core.WithPrincipal(context.Background(), p), w.nbh["kluuvi"]); err != nil {
				t.Fatal(err)
			}
			w.apply(t, id, "suomifi", postal("00100"))
			w.wantMemberships(t, id, "kluuvi:left:suomifi")
		})

		t.Run("TwoSignInsAtOnce", func(t *testing.T) {
			id, _, _ := w.person(t, "mette@example.org")
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Go(func() { errs <- w.n.Claims.ApplyClaims(context.Background(), id, "suomifi", postal("00530")) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			w.wantMemberships(t, id, "kallio:verified:suomifi")
		})

		t.Run("ErrProvider", func(t *testing.T) {
			id, _, _ := w.person(t, "sanna@example.org")
			err := w.n.Claims.ApplyClaims(context.Background(), id, "nul\x00provider", map[string]any{"birthdate": "1990-01-01"})
			if core.ErrorCode(err) != core.EINVALID {
				t.Errorf("= %v, want invalid", err)
			}
		})

		t.Run("ErrUnknownPerson", func(t *testing.T) {
			for _, id := range []string{"0190d5a8-0000-7000-8000-000000000000", "nul\x00id", strings.Repeat("x", 100_000)} {
				err := w.n.Claims.ApplyClaims(context.Background(), id, "suomifi", postal("00100"))
				if core.ErrorCode(err) != core.ENOTFOUND {
					t.Errorf("%.20q: %v, want not found", id, err)
				}
			}
		})
	})
}

func TestClaimsService_BirthDate(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		w := newClaimsWorld(t, db)
		id, tok, ctx := w.person(t, "nea@example.org")
		age := func() (int, bool) {
			t.Helper()
			p, err := w.n.Identity.Authenticate(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			return p.VerifiedAge, p.AgeVerified
		}
		if _, ok := age(); ok {
			t.Fatal("an age before any claim")
		}
		// Not birth dates: nothing stored, nothing audited.
		for _, v := range []any{"2008-13-01", "0000-12-08", "2008", "2027-01-01", float64(2008), "2008-12-0\x00", strings.Repeat("9", 10_000)} {
			w.apply(t, id, "other-provider", map[string]any{"birthdate": v})
		}
		if _, ok := age(); ok || len(w.audit(t, id)) != 0 {
			t.Fatalf("a bad birth date was taken: %q", w.audit(t, id))
		}

		w.apply(t, id, "other-provider", map[string]any{"birthdate": "2008-12-08"})
		if a, ok := age(); !ok || a != 17 {
			t.Errorf("age %d, %v; want 17", a, ok)
		}
		// 22:30 UTC on 7 December is 8 December in Helsinki, the city's zone.
		w.clock.Advance(10*time.Hour + 30*time.Minute)
		if a, ok := age(); !ok || a != 18 {
			t.Errorf("on the birthday, age %d, %v; want 18", a, ok)
		}
		w.apply(t, id, "other-provider", map[string]any{"birthdate": "2008-12-08"}) // the same again
		if got := w.audit(t, id); len(got) != 1 || got[0] != `user.birth_date_verified system {"provider":"other-provider"}` {
			t.Errorf("audit %q (never the date)", got)
		}
		// The person sees it in their export, and deleting the account erases it.
		w.apply(t, id, "suomifi", postal("00100"))
		doc, err := w.n.Identity.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(doc["identity_claims"])
		if !strings.Contains(string(b), `"verified_birth_date":"2008-12-08"`) || !strings.Contains(string(b), `"provider":"suomifi","neighbourhood_id":"`+w.nbh["kluuvi"]+`"`) {
			t.Errorf("export identity_claims %s", b)
		}
		if mb, _ := json.Marshal(doc["memberships"]); !strings.Contains(string(mb), `"claim_provider":"suomifi"`) {
			t.Errorf("export memberships %s", mb)
		}
		if err := w.n.Identity.DeleteAccount(ctx); err != nil {
			t.Fatal(err)
		}
		sqlDB := coretest.SQL(w.n)
		var left int
		if err := sqlDB.Get(&left, sqlDB.Rebind(`SELECT (SELECT COUNT(*) FROM users WHERE id = ? AND verified_birth_date IS NOT NULL) + (SELECT COUNT(*) FROM claim_residences WHERE user_id = ?)`), id, id); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%d rows of claims outlived the account", left)
		}
		// A deleted account takes no claims.
		if err := w.n.Claims.ApplyClaims(context.Background(), id, "suomifi", postal("00100")); core.ErrorCode(err) != core.ENOTFOUND {
			t.Errorf("claims of a deleted account: %v", err)
		}
	})
}

// TestClaimsService_NoBirthDateClaim: a city that reads no birth date stores none.
func TestClaimsService_NoBirthDateClaim(t *testing.T) {
	db := coretest.Databases(t)[0]
	db.Config.BirthDateClaim = core.NoBirthDateClaim
	n := coretest.StartNode(t, db.Config, coretest.Options())
	tok, ctx := signedIn(t, n, "olli@example.org")
	if err := n.Claims.ApplyClaims(context.Background(), core.PrincipalFrom(ctx).UserID, "suomifi", map[string]any{"birthdate": "1990-01-01"}); err != nil {
		t.Fatal(err)
	}
	if p, err := n.Identity.Authenticate(context.Background(), tok); err != nil || p.AgeVerified {
		t.Errorf("principal %+v, %v", p, err)
	}
}

// TestClaimsService_ThroughAPI: what a claim did is what the person's own API shows,
// checked against the OpenAPI document: the membership names its provider, and the
// export carries the birth date and where each provider placed them.
func TestClaimsService_ThroughAPI(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		w := newClaimsWorld(t, db)
		u := coretest.Register(t, w.n, "pia@example.org", "Pia")
		w.apply(t, u.ID, "suomifi", map[string]any{"address": map[string]any{"postal_code": "00530"}, "birthdate": "1990-05-17"})
		var me struct {
			Memberships []core.Membership `json:"memberships"`
		}
		u.Must(200, "GET", "/api/v1/me", nil).Decode(t, &me)
		if len(me.Memberships) != 1 || me.Memberships[0].NeighbourhoodID != w.nbh["kallio"] || me.Memberships[0].State != core.MembershipVerified || me.Memberships[0].ClaimProvider != "suomifi" {
			t.Errorf("/me memberships %+v", me.Memberships)
		}
		export := u.Must(200, "GET", "/api/v1/me/export", nil)
		var doc struct {
			IdentityClaims struct {
				BirthDate  string `json:"verified_birth_date"`
				Residences []struct {
					Provider        string `json:"provider"`
					NeighbourhoodID string `json:"neighbourhood_id"`
				} `json:"claim_residences"`
			} `json:"identity_claims"`
			Readme string `json:"readme"`
		}
		export.Decode(t, &doc)
		ic := doc.IdentityClaims
		if ic.BirthDate != "1990-05-17" || len(ic.Residences) != 1 || ic.Residences[0].Provider != "suomifi" || ic.Residences[0].NeighbourhoodID != w.nbh["kallio"] || !strings.Contains(doc.Readme, "identity_claims") {
			t.Errorf("export identity_claims %+v", ic)
		}
	})
}

// TestClaimsService_Logs: a rule that names a neighbourhood the city lacks is reported
// at start and at the sign-in that meets it, naming the provider and the neighbourhood
// but never the person's claim value.
func TestClaimsService_Logs(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		w := newClaimsWorld(t, db)
		var log bytes.Buffer
		svc := &sqlstore.ClaimsService{DB: w.n.DB, Neighbourhoods: w.n.Neighbourhoods, Rules: w.n.Config.ResidencyClaims,
			Logger: slog.New(slog.NewJSONHandler(&log, nil))}
		if err := svc.WarnUnknownNeighbourhoods(context.Background()); err != nil {
			t.Fatal(err)
		}
		start := log.String()
		for _, want := range []string{`"level":"WARN"`, `"provider":"suomifi"`, `"neighbourhood":"nowhere"`, `"neighbourhood":"vanha"`} {
			if !strings.Contains(start, want) {
				t.Errorf("start log lacks %s:\n%s", want, start)
			}
		}
		if strings.Contains(start, "kluuvi") || strings.Count(start, "\n") != 2 {
			t.Errorf("start log warns of more than the two missing neighbourhoods:\n%s", start)
		}
		log.Reset()
		id, _, _ := w.person(t, "rasmus@example.org")
		if err := svc.ApplyClaims(context.Background(), id, "suomifi", postal("00987")); err != nil {
			t.Fatal(err)
		}
		if got := log.String(); !strings.Contains(got, `"level":"ERROR"`) || !strings.Contains(got, `"neighbourhood":"nowhere"`) || strings.Contains(got, "00987") {
			t.Errorf("sign-in log:\n%s", got)
		}
	})
}
