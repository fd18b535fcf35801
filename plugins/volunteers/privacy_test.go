package volunteers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestPrivacy_OrganiserSeesNoBirthDate: an organiser's view of the applications says
// whether each volunteer meets the minimum age on the shift's date and whether a check
// is valid, and holds neither the birth date nor the check's status or expiry, in any
// form the JSON could carry.
func TestPrivacy_OrganiserSeesNoBirthDate(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		// 18 on 6 June 2025, the day before the shift; the other turns 18 on the 8th.
		adult := f.volunteer(t, "adult", func(in *ProfileInput) { in.BirthDate = "2007-06-06" })
		young := f.volunteer(t, "young", func(in *ProfileInput) { in.BirthDate = "2007-06-08" })
		if _, err := f.svc.SetBackgroundCheck(ctx, f.staff, "adult", BackgroundCheck{Status: CheckCleared, Expires: "2025-06-07"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetBackgroundCheck(ctx, f.staff, "young", BackgroundCheck{Status: CheckRejected}); err != nil {
			t.Fatal(err)
		}
		o := f.published(t, nil)
		for _, p := range []sdk.Principal{adult, young} {
			if _, err := f.svc.Apply(ctx, p, o.ID, o.Shifts[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.PatchOpportunity(ctx, f.rep, o.ID, OpportunityPatch{MinAge: ptr(18)}); err != nil {
			t.Fatal(err)
		}
		views, err := applicationsOf(f.svc, f.rep, o.ID)
		if err != nil || len(views) != 2 {
			t.Fatalf("%+v, %v", views, err)
		}
		got := map[string]VolunteerProfile{}
		for _, v := range views {
			got[v.VolunteerID] = *v.Profile
		}
		if !got["adult"].MeetsMinAge || got["young"].MeetsMinAge {
			t.Errorf("meets minimum age: adult %v young %v", got["adult"].MeetsMinAge, got["young"].MeetsMinAge)
		}
		if !got["adult"].BackgroundCheckValid || got["young"].BackgroundCheckValid {
			t.Errorf("check valid: adult %v young %v", got["adult"].BackgroundCheckValid, got["young"].BackgroundCheckValid)
		}
		b, _ := json.Marshal(views)
		for _, leak := range []string{"2007", "birth", "rejected", "cleared", "expires"} {
			if strings.Contains(string(b), leak) {
				t.Errorf("the organiser's view holds %q: %s", leak, b)
			}
		}
	})
}
