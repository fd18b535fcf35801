package budgeting

import (
	"net/url"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk/store"
)

// TestPages_CycleSetUp: the set-up pages on both databases. Opening an ordinal cycle
// names its counting rule, which the staff page and the public cycle page show; the set-up page changes everything before voting, refuses
// a broken form with 422, is closed to another neighbourhood's officer, and once
// voting has opened explains that the budget and the ballot are fixed, offers only
// what may still change and keeps the rest even when a forged form names it.
func TestPages_CycleSetUp(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f, web := pagesFixture(t, db)
		off := f.officer("officer", "n1")
		staff := web.as(off)

		form := staff.get(pageBase + "/new")
		want(t, "new form", form, 200, `name="count"`, "Points by place (Borda count)", `name="country"`)
		a := staff.post(pageBase+"/new", url.Values{"name": {"Ranked 2027"}, "neighbourhood_id": {"n1"}, "budget": {"1000"}, "currency": {"EUR"},
			"ballot_type": {"ordinal"}, "count": {"approvals"}, "country": {"Finland"}})
		if a.Status != 303 {
			t.Fatalf("open: %d %s", a.Status, a.Body)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(a.Location, pageBase+"/cycles/"), "/manage")
		c := must(f.svc.Cycle(f.ctx, id))(t)
		if c.Ballot.Type != BallotOrdinal || c.Ballot.Count != CountApprovals || c.Country != "Finland" {
			t.Fatalf("opened %+v", c)
		}
		cp := cyclePath(id)
		want(t, "manage", staff.get(cp+"/manage"), 200, cp+"/edit", "Every project you rank gets one vote from you")
		// The public cycle page names the counting rule too, before anyone votes.
		want(t, "cycle page", web.get(cp), 200, "How voting works:", "Every project you rank gets one vote from you")

		edit := staff.get(cp + "/edit")
		want(t, "edit form", edit, 200, `value="Ranked 2027"`, `value="1000"`, `name="budget"`, `name="voting_from"`, "Until voting opens you can change everything here.")
		if a := web.as(f.officer("other", "n2")).get(cp + "/edit"); a.Status != 403 {
			t.Errorf("another neighbourhood's officer opened the set-up: %d", a.Status)
		}
		if a := web.as(f.officer("other", "n2")).post(cp+"/edit", url.Values{"name": {"Taken"}}); a.Status != 403 {
			t.Errorf("another neighbourhood's officer changed the set-up: %d", a.Status)
		}

		bad := staff.post(cp+"/edit", url.Values{"name": {" "}, "budget": {"1000"}, "ballot_type": {"ordinal"}, "count": {"borda"}})
		want(t, "blank name", bad, 422, "kv-error-summary")
		if bad.Meta.Focus != "kv-error-summary" {
			t.Errorf("focus %q", bad.Meta.Focus)
		}
		if got := must(f.svc.Cycle(f.ctx, id))(t); got.Name != "Ranked 2027" || got.Ballot.Count != CountApprovals {
			t.Errorf("a refused form changed the cycle: %+v", got)
		}

		ok := staff.post(cp+"/edit", url.Values{"name": {"Ranked 2027, Kallio"}, "country": {"Finland"}, "budget": {"2500"},
			"ballot_type": {"ordinal"}, "count": {"borda"}, "max": {"3"}, "voting_from": {"2027-05-02"}})
		if ok.Status != 303 || ok.Location != cp+"/manage?edited=1" {
			t.Fatalf("save: %d %s %s", ok.Status, ok.Location, ok.Body)
		}
		got := must(f.svc.Cycle(f.ctx, id))(t)
		if got.Name != "Ranked 2027, Kallio" || got.Budget != 2500_00 || got.Ballot.Count != CountBorda || got.Ballot.Max != 3 || got.Schedule[PhaseVoting].IsZero() {
			t.Fatalf("saved %+v", got)
		}
		saved := staff.get(cp + "/manage?edited=1")
		if saved.Meta.Announce != "The changes to the set-up were saved." {
			t.Errorf("announce %q", saved.Meta.Announce)
		}

		// Voting opens: the budget and the ballot are fixed.
		must(f.svc.SetPhase(f.ctx, off, id, PhaseReview))(t)
		must(f.svc.SetPhase(f.ctx, off, id, PhaseVoting))(t)
		fixed := staff.get(cp + "/edit")
		want(t, "fixed", fixed, 200, "Voting has opened, so the budget and the ballot can no longer change", "€2,500.00", `name="results_from"`)
		if strings.Contains(fixed.Body, `name="budget"`) || strings.Contains(fixed.Body, `name="voting_from"`) {
			t.Error("the set-up after voting opened still offers the budget or a past phase's date")
		}
		want(t, "fixed in Turkish", staff.in("tr").get(cp+"/edit"), 200, "Oylama açıldı")
		forged := staff.post(cp+"/edit", url.Values{"name": {"Ranked 2027, Kallio"}, "budget": {"1"}, "ballot_type": {"approval"}})
		if forged.Status != 303 {
			t.Fatalf("save after voting opened: %d %s", forged.Status, forged.Body)
		}
		if got := must(f.svc.Cycle(f.ctx, id))(t); got.Budget != 2500_00 || got.Ballot.Type != BallotOrdinal {
			t.Errorf("a forged form changed the fixed set-up: %+v", got)
		}
	})
}
