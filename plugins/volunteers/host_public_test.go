package volunteers

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_PublicWithoutSignIn: through a real core, a visitor who is not signed in
// reads the public list (filtered) and a published opportunity, is refused the signed-in
// list, a draft and a bad filter (422, not 500, on both databases); a volunteer's
// calendar feed answers by its token alone, and an organiser's application view holds
// no birth date.
func TestHost_PublicWithoutSignIn(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-volunteers", Name: "volunteers"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		h := newHostCity(t, core)
		start := h.localDay(4)
		o := h.opportunity(t, "Litter pick", map[string]any{"auto_accept": true, "newcomers": true, "min_age": 16}, 3, [2]time.Time{start, start.Add(2 * time.Hour)})
		var draft Opportunity
		h.rep.Must(201, "POST", base+"/opportunities", map[string]any{"organisation_id": h.org, "title": "Secret draft",
			"shifts": []map[string]any{{"start": start.Format(time.RFC3339),
				"end": start.Add(2 * time.Hour).Format(time.RFC3339), "capacity": 1}}}).Decode(t, &draft)
		anon := core.Anonymous()
		var page sdk.Page[Opportunity]
		anon.Must(200, "GET", base+"/public/opportunities?newcomers=true&age=16&neighbourhood_id="+h.nbh, nil).Decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != o.ID || page.Items[0].Shifts[0].Free != 3 {
			t.Fatalf("public list: %+v", page.Items)
		}
		anon.Must(200, "GET", base+"/public/opportunities?age=15", nil).Decode(t, &page)
		if len(page.Items) != 0 {
			t.Errorf("age 15 sees %+v", page.Items)
		}
		anon.Must(200, "GET", base+"/public/opportunities/"+o.ID, nil)
		anon.Must(404, "GET", base+"/public/opportunities/"+draft.ID, nil)
		anon.Must(401, "GET", base+"/opportunities", nil)
		anon.Do("GET", base+"/public/opportunities?age=99999999999", nil).WantInvalid(t, "age", sdk.RuleRange)
		anon.Do("GET", base+"/public/opportunities?from=2025-13-40", nil).WantInvalid(t, "from", RuleFormat)
		anon.Do("GET", base+"/public/opportunities?skill=%00", nil).WantInvalid(t, "skill", sdk.RuleNUL)
		anon.Do("GET", base+"/public/opportunities?skill=First%20aid", nil).WantInvalid(t, "skill", RuleFormat)

		vol := h.volunteer(t, "vol@example.org", "2000-05-05")
		vol.Must(201, "POST", base+"/opportunities/"+o.ID+"/shifts/"+o.Shifts[0].ID+"/applications", nil)
		var link CalendarLink
		vol.Must(200, "GET", base+"/me/calendar", nil).Decode(t, &link)
		feed := anon.Must(200, "GET", link.Path, nil)
		if err := ical.Validate(feed.Body); err != nil || !strings.Contains(string(feed.Body), "SUMMARY:Litter pick") {
			t.Fatalf("feed (%v):\n%s", err, feed.Body)
		}
		anon.Must(404, "GET", base+"/calendar/"+strings.Repeat("0", 48)+".ics", nil)
		var mine MyVolunteering
		vol.Must(200, "GET", base+"/me", nil).Decode(t, &mine)
		if len(mine.Confirmed) != 1 || mine.Confirmed[0].OpportunityID != o.ID {
			t.Errorf("my volunteering: %+v", mine)
		}
		apps := h.rep.Must(200, "GET", base+"/opportunities/"+o.ID+"/applications", nil)
		if strings.Contains(string(apps.Body), "2000-05-05") || !strings.Contains(string(apps.Body), `"meets_min_age":true`) {
			t.Errorf("the organiser's view: %s", apps.Body)
		}
	})
}
