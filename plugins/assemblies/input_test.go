package assemblies_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/assemblies"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHosted_BadInput sends assemblies meetings in the years 0000 and 9999, a 900 KB
// motion, NUL in a title and a quorum beyond 32 bits (issue 12 items 6, 9 and 10).
// Through the real core and plugin process each is a 422 naming the field, alike on
// both databases, and nothing is stored.
func TestHosted_BadInput(t *testing.T) {
	eachHost(t, func(t *testing.T, c *sdktest.Core, _ bool) {
		tw := newTown(t, c, "Bayrakli", 2, nil)
		admin := c.Admin()
		admin.Do("POST", "/api/v1/assemblies", map[string]any{"neighbourhood_id": tw.nbh, "name": "Second",
			"quorum_absolute": 1 << 33}).WantInvalid(t, "quorum_absolute", sdk.RuleRange)
		admin.Do("POST", "/api/v1/assemblies", map[string]any{"neighbourhood_id": tw.nbh, "name": "Second\x00"}).WantInvalid(t, "name", sdk.RuleNUL)

		for _, year := range []int{0, 9999} {
			start := time.Date(year, 6, 1, 18, 0, 0, 0, time.UTC)
			tw.chair.Do("POST", tw.path("/meetings"), map[string]any{"title": "Far away", "starts_at": start,
				"ends_at": start.Add(2 * time.Hour), "place": "Hall"}).WantInvalid(t, "starts_at", sdk.RuleTimeRange)
		}
		start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute)
		tw.chair.Do("POST", tw.path("/meetings"), map[string]any{"title": "Spring\x00", "starts_at": start,
			"ends_at": start.Add(2 * time.Hour), "place": "Hall"}).WantInvalid(t, "title", sdk.RuleNUL)
		tw.chair.Do("POST", tw.path("/meetings"), map[string]any{"title": "Spring", "starts_at": start,
			"ends_at": start.Add(2 * time.Hour), "place": strings.Repeat("p", 301)}).WantInvalid(t, "place", sdk.RuleMaxLength)
		var meetings sdk.Page[assemblies.Meeting]
		c.Anonymous().Must(200, "GET", tw.path("/meetings"), nil).Decode(t, &meetings)
		if len(meetings.Items) != 0 {
			t.Fatalf("refused meetings were stored: %+v", meetings)
		}

		tw.members[1].Do("POST", tw.path("/motions"), map[string]any{"title": "Benches", "text": strings.Repeat("t", 900_000)}).
			WantInvalid(t, "text", sdk.RuleMaxLength)
		var motions sdk.Page[assemblies.Motion]
		c.Anonymous().Must(200, "GET", tw.path("/motions"), nil).Decode(t, &motions)
		if len(motions.Items) != 0 {
			t.Fatalf("refused motions were stored: %+v", motions)
		}
	})
}
