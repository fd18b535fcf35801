package budgeting

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// ptr returns a pointer to v, for the optional fields of patches and reviews.
func ptr[T any](v T) *T { return &v }

// TestHandler_PatchChangesOnlyWhatItNames is issue 19's report: PATCH {"cost": N} on a
// proposal answered "title: required". Through the route, on both databases: a
// one-field patch changes that field alone, an empty patch changes nothing, a patch
// that breaks a rule is refused and changes nothing.
func TestHandler_PatchChangesOnlyWhatItNames(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		officer(api.Host, "officer", "n1")
		resident(api.Host, "alice", "n1")
		c := base + "/cycles"
		var cy Cycle
		api.Must(201, api.As("officer"), "POST", c, map[string]any{
			"neighbourhood_id": "n1", "name": "Parks", "budget": 1000_00, "currency": "EUR", "ballot": map[string]any{"type": "approval"},
		}).Decode(t, &cy)
		var p Proposal
		api.Must(201, api.As("alice"), "POST", c+"/"+cy.ID+"/proposals", map[string]any{
			"title": "Swings", "description": "Two swings", "category": "play", "location": "North park", "cost": 400_00,
		}).Decode(t, &p)
		u := c + "/" + cy.ID + "/proposals/" + p.ID

		var got Proposal
		api.Must(200, api.As("alice"), "PATCH", u, map[string]any{"cost": 60000_00}).Decode(t, &got)
		if got.Cost != 60000_00 || got.Title != "Swings" || got.Description != "Two swings" || got.Category != "play" || got.Location != "North park" {
			t.Errorf("cost-only patch gave %+v", got)
		}
		api.Must(200, api.As("alice"), "PATCH", u, map[string]any{"description": ""}).Decode(t, &got)
		if got.Description != "" || got.Title != "Swings" || got.Cost != 60000_00 {
			t.Errorf("clearing the description gave %+v", got)
		}
		api.Must(200, api.As("alice"), "PATCH", u, map[string]any{}).Decode(t, &got)
		if got.Title != "Swings" || got.Cost != 60000_00 || got.Location != "North park" {
			t.Errorf("empty patch changed %+v", got)
		}
		api.Do(api.As("alice"), "PATCH", u, map[string]any{"title": "  "}).WantInvalid(t, "title", sdk.RuleRequired)
		api.Do(api.As("alice"), "PATCH", u, map[string]any{"cost": -1}).WantInvalid(t, "cost", sdk.RuleRange)
		api.Do(api.As("alice"), "PATCH", u, `{"title": "a\u0000b"}`).WantInvalid(t, "title", "no_nul")
		api.Must(200, api.As(""), "GET", u, nil).Decode(t, &got)
		if got.Title != "Swings" || got.Cost != 60000_00 || strings.Contains(got.Title, "\x00") {
			t.Errorf("refused patches changed the proposal: %+v", got)
		}
	})
}
