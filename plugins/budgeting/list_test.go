package budgeting

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHandler_ListsWalk walks every list route page by page while cycles and proposals
// are added concurrently (sdktest.WalkPages): no item is lost or shown twice. A bad
// limit or cursor is refused. On SQLite and PostgreSQL.
func TestHandler_ListsWalk(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		api := newAPI(t, cfg, nil)
		officer(api.Host, "officer", "n1")
		resident(api.Host, "alice", "n1")
		newCycle := func(name string) (Cycle, int) {
			var c Cycle
			r := api.Do(api.As("officer"), "POST", base+"/cycles", map[string]any{
				"neighbourhood_id": "n1", "name": name, "budget": 1000, "currency": "EUR", "ballot": map[string]any{"type": "approval"},
			})
			if r.Status == 201 {
				r.Decode(t, &c)
			}
			return c, r.Status
		}
		// ids reads a page of a list at path.
		ids := func(path, cursor string) ([]string, string) {
			var page sdk.Page[struct {
				ID string `json:"id"`
			}]
			api.Must(200, api.As(""), "GET", path+"&cursor="+url.QueryEscape(cursor), nil).Decode(t, &page)
			out := make([]string, len(page.Items))
			for i, it := range page.Items {
				out[i] = it.ID
			}
			return out, page.NextCursor
		}

		var first Cycle
		for i := range 7 {
			c, _ := newCycle(fmt.Sprintf("Cycle %d", i))
			if i == 0 {
				first = c
			}
		}
		t.Run("Cycles", func(t *testing.T) {
			got := sdktest.WalkPages(t, func(cursor string) ([]string, string) {
				return ids(base+"/cycles?neighbourhood_id=n1&limit=3", cursor)
			}, func(i int) {
				if _, status := newCycle(fmt.Sprintf("Added %d", i)); status != 201 {
					t.Errorf("adding a cycle while walking: status %d", status)
				}
			})
			if len(got) < 7 {
				t.Errorf("walked %d cycles, want at least the 7 made before", len(got))
			}
		})
		t.Run("Proposals", func(t *testing.T) {
			path := base + "/cycles/" + first.ID + "/proposals"
			submit := func(title string) int {
				return api.Do(api.As("alice"), "POST", path, map[string]any{"title": title, "cost": 100}).Status
			}
			for i := range 7 {
				if status := submit(fmt.Sprintf("Idea %d", i)); status != 201 {
					t.Fatalf("submit: status %d", status)
				}
			}
			got := sdktest.WalkPages(t, func(cursor string) ([]string, string) {
				return ids(path+"?status=submitted&limit=3", cursor)
			}, func(i int) {
				if status := submit(fmt.Sprintf("Added %d", i)); status != 201 {
					t.Errorf("adding a proposal while walking: status %d", status)
				}
			})
			if len(got) < 7 {
				t.Errorf("walked %d proposals, want at least the 7 made before", len(got))
			}
		})
		t.Run("ErrParams", func(t *testing.T) {
			for _, q := range []string{"?limit=0", "?limit=201", "?limit=x"} {
				api.Do(api.As(""), "GET", base+"/cycles"+q, nil).WantInvalid(t, "limit", sdk.RuleRange)
			}
			if r := api.Do(api.As(""), "GET", base+"/cycles?cursor=not-a-cursor", nil); r.Status != 400 {
				t.Errorf("a made-up cursor: status %d %s, want 400", r.Status, r.Body)
			}
			api.Do(api.As(""), "GET", base+"/cycles/"+first.ID+"/proposals?status=approved", nil).WantInvalid(t, "status", sdk.RuleOneOf)
		})
	})
}
