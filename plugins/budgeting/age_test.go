package budgeting

import (
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// verifiedResident is a resident of n1 whose age the city's identity provider vouched
// for.
func verifiedResident(f *fixture, id string, age int) sdk.Principal {
	p := f.resident(id, "n1")
	p.AgeVerified, p.VerifiedAge = true, age
	return p
}

// TestService_CastBallotVerifiedAge: with a minimum age, an age the city's identity
// provider vouched for decides — a verified adult needs no confirmation, a verified
// minor is refused even when they tick it — and a voter without one still confirms.
func TestService_CastBallotVerifiedAge(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{MinAge: 18})
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 1000, 100, 200)
		ballot := Ballot{Projects: ids[:1]}

		t.Run("OK/VerifiedAdult", func(t *testing.T) {
			must(f.svc.CastBallot(f.ctx, verifiedResident(f, "adult", 18), c.ID, BallotInput{Ballot: ballot}))(t)
		})
		t.Run("OK/UnverifiedConfirms", func(t *testing.T) {
			must(f.svc.CastBallot(f.ctx, f.resident("confirms", "n1"), c.ID, BallotInput{Ballot: ballot, AgeConfirmed: true}))(t)
		})
		t.Run("ErrVerifiedMinor", func(t *testing.T) {
			_, err := f.svc.CastBallot(f.ctx, verifiedResident(f, "minor", 17), c.ID, BallotInput{Ballot: ballot, AgeConfirmed: true})
			wantCode(t, err, sdk.CodeForbidden)
		})
		t.Run("ErrUnverifiedWithoutConfirmation", func(t *testing.T) {
			_, err := f.svc.CastBallot(f.ctx, f.resident("silent", "n1"), c.ID, BallotInput{Ballot: ballot})
			wantCode(t, err, sdk.CodeInvalid)
		})
		if n := must(f.svc.Turnout(f.ctx, c.ID))(t); n.Voters != 2 {
			t.Errorf("turnout %+v, want the adult and the one who confirmed", n)
		}
	})
}

// TestPages_VerifiedAge walks the ballot pages without JavaScript, as plain forms, for
// three voters under a minimum age of 18: one without a verified age ticks the box, a
// verified adult is not asked, and a verified minor is told why there is no ballot and
// is refused a ballot posted anyway.
func TestPages_VerifiedAge(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Settings{MinAge: 18})
		web := pageClient{t: t, h: (&Plugin{svc: f.svc}).Handler(), lang: "en"}
		c, ids := f.votingCycle(t, BallotRules{Type: BallotApproval}, 1000, 100, 200)
		cp := cyclePath(c.ID)
		choice := url.Values{"projects": {ids[0]}}

		t.Run("UnverifiedConfirms", func(t *testing.T) {
			res := web.as(f.resident("unverified", "n1"))
			want(t, "review", res.post(cp+"/ballot/review", choice), 200, `name="age_confirmed"`, "I am at least 18 years old")
			want(t, "cast unconfirmed", res.post(cp+"/ballot", choice), 422, "kv-error-summary", "Confirm that you are at least 18 years old.")
			confirmed := url.Values{"projects": {ids[0]}, "age_confirmed": {"1"}}
			if a := res.post(cp+"/ballot", confirmed); a.Status != 303 {
				t.Fatalf("cast confirmed: %d %s", a.Status, a.Body)
			}
		})
		t.Run("VerifiedAdultIsNotAsked", func(t *testing.T) {
			res := web.as(verifiedResident(f, "adult", 18))
			rev := res.post(cp+"/ballot/review", choice)
			want(t, "review", rev, 200, cp+"/ballot")
			if strings.Contains(rev.Body, "age_confirmed") {
				t.Errorf("a verified adult is asked to confirm their age: %s", rev.Body)
			}
			if a := res.post(cp+"/ballot", choice); a.Status != 303 {
				t.Fatalf("cast: %d %s", a.Status, a.Body)
			}
		})
		t.Run("VerifiedMinorIsTold", func(t *testing.T) {
			res := web.as(verifiedResident(f, "minor", 16))
			page := res.get(cp + "/ballot")
			want(t, "ballot", page, 200, "You cannot vote in this cycle: voters must be at least 18 years old")
			if strings.Contains(page.Body, `method="post"`) {
				t.Errorf("a verified minor is offered a ballot: %s", page.Body)
			}
			want(t, "ballot in Finnish", res.in("fi").get(cp+"/ballot"), 200, "Et voi äänestää tällä kierroksella: äänestäjän on oltava vähintään 18-vuotias")
			// A ballot posted anyway, with the box ticked, is refused.
			forged := url.Values{"projects": {ids[0]}, "age_confirmed": {"1"}}
			if a := res.post(cp+"/ballot", forged); a.Status != 403 {
				t.Errorf("a verified minor's ballot: %d %s", a.Status, a.Body)
			}
		})
		if n := must(f.svc.Turnout(f.ctx, c.ID))(t); n.Voters != 2 {
			t.Errorf("turnout %+v, want the two adults", n)
		}
	})
}
