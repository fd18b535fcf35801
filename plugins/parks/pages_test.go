package parks

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestLists_WalkPages walks every list route two items a page while items
// are added to it concurrently (sdktest.WalkPages): no item that was there
// is lost, none is shown twice — keyset pages, stable under inserts.
func TestLists_WalkPages(t *testing.T) {
	eachStore(t, false, func(t *testing.T, variant string, cfg sdk.StoreConfig) {
		w := newWorld(t, variant, cfg, nil)
		c := newClient(t, w)
		ctx := context.Background()
		pre := "/api/v1/parks/" + w.park.ID
		// pages fetches the list at path, two a page, as pr.
		pages := func(pr sdk.Principal, path string) func(cursor string) ([]string, string) {
			return func(cursor string) ([]string, string) {
				t.Helper()
				u := path + "?limit=2"
				if strings.Contains(path, "?") {
					u = path + "&limit=2"
				}
				if cursor != "" {
					u += "&cursor=" + url.QueryEscape(cursor)
				}
				var page sdk.Page[struct {
					ID string `json:"id"`
				}]
				c.json(pr, "GET", u, nil, 200, &page)
				ids := make([]string, len(page.Items))
				for i, it := range page.Items {
					ids[i] = it.ID
				}
				return ids, page.NextCursor
			}
		}
		// walk walks the list at path as pr, inserting with insert, and checks
		// that it held at least that many items.
		walk := func(t *testing.T, pr sdk.Principal, path string, least int, insert func(i int)) {
			t.Helper()
			if got := sdktest.WalkPages(t, pages(pr, path), insert); len(got) < least {
				t.Errorf("walked %d items, want at least %d", len(got), least)
			}
		}
		// Days for bookings: each request or event gets its own, so none collide.
		var day atomic.Int64
		day.Store(9)
		approvedEvent := func() error {
			d := int(day.Add(1))
			b, err := w.request(w.rep, orgID, w.playground, d, 10, 12)
			if err != nil {
				return err
			}
			_, err = w.approve(b.ID)
			return err
		}
		for range 5 {
			if err := approvedEvent(); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("parks", func(t *testing.T) {
			for i := range 4 {
				w.must(w.svc.CreatePark(ctx, w.admin, ParkInput{Name: fmt.Sprintf("Park %c", 'M'-i), NeighbourhoodID: nbhID}))
			}
			walk(t, sdk.Principal{}, "/api/v1/parks", 5, func(i int) {
				// Names before, among and after those shown.
				if _, err := w.svc.CreatePark(ctx, w.admin, ParkInput{Name: fmt.Sprintf("Park %c%d", 'A'+i*3, i), NeighbourhoodID: nbhID}); err != nil {
					t.Error(err)
				}
			})
		})
		t.Run("areas", func(t *testing.T) {
			walk(t, sdk.Principal{}, pre+"/areas", 4, func(i int) {
				parent := []string{"", w.whole.ID, w.meadow.ID}[i%3]
				if _, err := w.svc.CreateArea(ctx, w.admin, w.park.ID, AreaInput{Name: fmt.Sprintf("Corner %d", i), ParentID: parent, Capacity: 10}); err != nil {
					t.Error(err)
				}
			})
		})
		t.Run("bookings", func(t *testing.T) {
			walk(t, w.manager, pre+"/bookings", 5, func(int) {
				if _, err := w.request(w.rep2, org2ID, w.stage, int(day.Add(1)), 10, 12); err != nil {
					t.Error(err)
				}
			})
		})
		for name, path := range map[string]string{"events": "/api/v1/parks/events", "park_events": pre + "/events"} {
			t.Run(name, func(t *testing.T) {
				walk(t, sdk.Principal{}, path, 5, func(int) {
					if err := approvedEvent(); err != nil {
						t.Error(err)
					}
				})
			})
		}
	})
}
