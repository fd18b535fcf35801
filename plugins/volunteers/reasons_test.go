package volunteers

import (
	"context"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestReasons_CodesAndOneLanguage: the mixed reasons ["speaks tr", "İlk yardım",
// "free Saturday morning"] for a Turkish-speaking reader become English phrases
// throughout, with codes and data a page words in its reader's language.
func TestReasons_CodesAndOneLanguage(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		if _, err := f.svc.PutSkill(ctx, f.staff, Skill{ID: "first_aid", Names: map[string]string{"en": "First aid", "tr": "İlk yardım"}}); err != nil {
			t.Fatal(err)
		}
		vol := f.volunteer(t, "vol", func(in *ProfileInput) { in.Languages = []string{"tr"} })
		vol.Locale = "tr"
		o := f.published(t, func(in *OpportunityInput) {
			in.Languages, in.PreferredSkills = []string{"tr"}, []string{"first_aid"}
		})
		wantPhrases := []string{"speaks Turkish", "First aid", "free Saturday morning", "helps in this neighbourhood", "has not volunteered recently"}
		wantCodes := []match.Reason{{Kind: match.ReasonSpeaks, Value: "tr"}, {Kind: match.ReasonSkill, Value: "first_aid"},
			{Kind: match.ReasonFree, Value: "saturday", Part: "morning"}, {Kind: match.ReasonNeighbourhood}, {Kind: match.ReasonNoRecent}}
		recs, err := recommendationsFor(f.svc, vol)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%+v, %v", recs, err)
		}
		if !slices.Equal(recs[0].Reasons, wantPhrases) || !slices.Equal(recs[0].ReasonCodes, wantCodes) {
			t.Errorf("recommendation reasons %q codes %+v", recs[0].Reasons, recs[0].ReasonCodes)
		}
		rep := f.rep
		rep.Locale = "tr"
		ms, err := matchesOf(f.svc, rep, o.ID, o.Shifts[0].ID)
		if err != nil || len(ms) != 1 {
			t.Fatalf("%+v, %v", ms, err)
		}
		if !slices.Equal(ms[0].Reasons, wantPhrases) || !slices.Equal(ms[0].ReasonCodes, wantCodes) {
			t.Errorf("match reasons %q codes %+v", ms[0].Reasons, ms[0].ReasonCodes)
		}
	})
}
