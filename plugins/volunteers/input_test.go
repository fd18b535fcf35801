package volunteers

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHost_BadInput sends volunteers a 900 KB opportunity title, NUL in a skill name,
// a capacity beyond 32 bits and a shift in the year 9999 (issue 12 items 6, 9 and 10).
// Through the real core and plugin process each is a 422 naming the field, alike on
// both databases, and nothing is stored.
func TestHost_BadInput(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-volunteers", Name: "volunteers"}, func(t *testing.T, core *sdktest.Core, _ bool) {
		h := newHostCity(t, core)
		start := h.localDay(3)
		shift := func(s time.Time, capacity int) []map[string]any {
			return []map[string]any{{"start": s.Format(time.RFC3339), "end": s.Add(2 * time.Hour).Format(time.RFC3339), "capacity": capacity}}
		}
		opp := func(title string, shifts []map[string]any) map[string]any {
			return map[string]any{"organisation_id": h.org, "title": title, "neighbourhood_id": h.nbh, "shifts": shifts}
		}
		h.rep.Do("POST", base+"/opportunities", opp(strings.Repeat("T", 900_000), shift(start, 2))).WantInvalid(t, "title", sdk.RuleMaxLength)
		h.rep.Do("POST", base+"/opportunities", opp("Litter pick\x00", shift(start, 2))).WantInvalid(t, "title", sdk.RuleNUL)
		h.rep.Do("POST", base+"/opportunities", opp("Litter pick", shift(start, 3_000_000_000))).WantInvalid(t, "shifts[0].capacity", sdk.RuleRange)
		// Shift times are text this plugin parses itself; it names the same rule.
		h.rep.Do("POST", base+"/opportunities", opp("Litter pick", shift(time.Date(9999, 6, 1, 10, 0, 0, 0, time.UTC), 2))).
			WantInvalid(t, "shifts[0].start", sdk.RuleTimeRange)
		core.Admin().Do("PUT", base+"/skills/cooking", map[string]any{"names": map[string]string{"en": "Cook\x00ing"}}).WantInvalid(t, "names.en", sdk.RuleNUL)
		var opps struct{ Items []Opportunity }
		h.rep.Must(200, "GET", base+"/opportunities", nil).Decode(t, &opps)
		if len(opps.Items) != 0 {
			t.Fatalf("refused opportunities were stored: %+v", opps.Items)
		}
		var skills struct{ Items []Skill }
		h.rep.Must(200, "GET", base+"/skills", nil).Decode(t, &skills)
		// cooking is in the default catalogue: the refused rename leaves its names as shipped.
		for _, s := range skills.Items {
			if s.ID == "cooking" && s.Names["en"] != "Cooking" {
				t.Fatalf("a refused skill was stored: %+v", s)
			}
		}
	})
}
