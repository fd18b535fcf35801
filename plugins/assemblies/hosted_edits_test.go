package assemblies_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/assemblies"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHosted_EditsRefuseBadInput sends the issue 18 edits NUL bytes, numbers beyond
// 32 bits, times outside the calendar and unknown list filters through the real core
// and plugin process: each is a 422 naming the field, alike on both databases, and the
// assembly, meeting and draft keep what they had. The host refuses an anonymous edit
// before the plugin sees it.
func TestHosted_EditsRefuseBadInput(t *testing.T) {
	eachHost(t, func(t *testing.T, c *sdktest.Core, _ bool) {
		tw := newTown(t, c, "Konak", 2, nil)
		tw.chair.Do("PUT", tw.path(""), map[string]any{"name": "Konak\x00", "quorum_percent": 50}).WantInvalid(t, "name", sdk.RuleNUL)
		tw.chair.Do("PUT", tw.path(""), map[string]any{"name": "Konak", "quorum_absolute": 1 << 33}).WantInvalid(t, "quorum_absolute", sdk.RuleRange)
		if r := c.Anonymous().Do("PUT", tw.path(""), map[string]any{"name": "Taken"}); r.Status != 401 {
			t.Errorf("anonymous edit: %d %s", r.Status, r.Body)
		}
		var a assemblies.Assembly
		c.Anonymous().Must(200, "GET", tw.path(""), nil).Decode(t, &a)
		if a.Name != "Konak assembly" || a.QuorumPercent != 50 {
			t.Errorf("refused edits changed the assembly: %+v", a)
		}

		start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute)
		var mt assemblies.Meeting
		tw.chair.Must(201, "POST", tw.path("/meetings"), map[string]any{"title": "Spring", "starts_at": start,
			"ends_at": start.Add(2 * time.Hour), "place": "Hall"}).Decode(t, &mt)
		far := time.Date(9999, 6, 1, 18, 0, 0, 0, time.UTC)
		tw.chair.Do("PUT", tw.path("/meetings/"+mt.ID), map[string]any{"title": "Spring", "starts_at": far,
			"ends_at": far.Add(time.Hour), "place": "Hall"}).WantInvalid(t, "starts_at", sdk.RuleTimeRange)
		tw.chair.Do("PUT", tw.path("/meetings/"+mt.ID), map[string]any{"title": "Spring", "starts_at": start,
			"ends_at": start.Add(time.Hour), "place": "Hall", "online_url": "https://x.example/\x00"}).WantInvalid(t, "online_url", sdk.RuleNUL)
		var got assemblies.Meeting
		c.Anonymous().Must(200, "GET", tw.path("/meetings/"+mt.ID), nil).Decode(t, &got)
		if !got.StartsAt.Equal(start) || got.Sequence != mt.Sequence {
			t.Errorf("refused edits changed the meeting: %+v", got)
		}

		var m assemblies.Motion
		tw.members[1].Must(201, "POST", tw.path("/motions"), map[string]any{"title": "Benches", "text": "Four."}).Decode(t, &m)
		tw.members[1].Do("PUT", tw.path("/motions/"+m.ID), map[string]any{"title": "Benches", "text": strings.Repeat("t", 900_000)}).
			WantInvalid(t, "text", sdk.RuleMaxLength)
		tw.members[1].Do("PUT", tw.path("/motions/"+m.ID), map[string]any{"title": "B\x00", "text": "x"}).WantInvalid(t, "title", sdk.RuleNUL)
		tw.members[1].Must(200, "GET", tw.path("/motions/"+m.ID), nil).Decode(t, &m) // a draft is its author's
		if m.Title != "Benches" || m.Text != "Four." {
			t.Errorf("refused edits changed the draft: %+v", m)
		}

		c.Anonymous().Do("GET", tw.path("/meetings?when=%00"), nil).WantInvalid(t, "when", sdk.RuleNUL)
		c.Anonymous().Do("GET", tw.path("/meetings?when=someday"), nil).WantInvalid(t, "when", sdk.RuleOneOf)
		c.Anonymous().Do("GET", tw.path("/motions?kind=petition"), nil).WantInvalid(t, "kind", sdk.RuleOneOf)
		c.Anonymous().Do("GET", "/api/v1/assemblies/answers?limit=4294967297", nil).WantInvalid(t, "limit", "")
	})
}
