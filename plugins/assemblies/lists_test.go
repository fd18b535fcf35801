package assemblies

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// pages fetches a list route a few items at a time, as sdktest.WalkPages asks.
func pages[T any](t *testing.T, e *env, p sdk.Principal, path string, id func(T) string) func(cursor string) ([]string, string) {
	return func(cursor string) ([]string, string) {
		t.Helper()
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		var pg sdk.Page[T]
		e.Must(200, p, "GET", path+sep+"limit=3&cursor="+url.QueryEscape(cursor), nil).Decode(t, &pg)
		ids := make([]string, len(pg.Items))
		for i, item := range pg.Items {
			ids[i] = id(item)
		}
		return ids, pg.NextCursor
	}
}

// created posts body to path as p from the inserting goroutine, where a failure must
// not stop the test (t.Error, not t.Fatal).
func created(t *testing.T, e *env, p sdk.Principal, path string, body any) {
	if r := e.Do(p, "POST", path, body); r.Status != 201 {
		t.Errorf("POST %s during the walk: %d %s", path, r.Status, r.Body)
	}
}

// TestLists_Walk walks every list route page by page while items are added, and
// finds each item that was there before exactly once (DESIGN.md §7).
func TestLists_Walk(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		t.Run("Assemblies", func(t *testing.T) {
			e := newEnv(t, cfg, nil)
			e.neighbourhood("w")
			admin := e.admin()
			body := func(i int) map[string]any {
				return map[string]any{"neighbourhood_id": "w", "name": fmt.Sprintf("Assembly %d", i), "quorum_percent": 50}
			}
			for i := range 10 {
				e.Must(201, admin, "POST", base, body(i))
			}
			sdktest.WalkPages(t, pages(t, e, sdk.Principal{}, base, func(a Assembly) string { return a.ID }),
				func(i int) { created(t, e, admin, base, body(100+i)) })
			sdktest.WalkPages(t, pages(t, e, sdk.Principal{}, base+"?neighbourhood_id=w", func(a Assembly) string { return a.ID }),
				func(i int) { created(t, e, admin, base, body(200+i)) })
		})
		t.Run("Members", func(t *testing.T) {
			e := newEnv(t, cfg, nil)
			a, _ := e.assembly("w", nil)
			e.members(a, 9)
			path := "/api/v1/assemblies/" + a.ID + "/members"
			sdktest.WalkPages(t, pages(t, e, sdk.Principal{}, path, func(m Member) string { return m.UserID }),
				func(i int) {
					// Some join later, some at the same microsecond: the user ID breaks the tie.
					if i%2 == 0 {
						e.clock.Advance(time.Second)
					}
					created(t, e, e.resident(fmt.Sprintf("late-%02d", i), "w"), path, nil)
				})
		})
		t.Run("Meetings", func(t *testing.T) {
			e := newEnv(t, cfg, nil)
			a, chair := e.assembly("w", nil)
			path := "/api/v1/assemblies/" + a.ID + "/meetings"
			meeting := func(hours int) map[string]any {
				// Two days ahead, so that "before" those listed is still in the future.
				start := t0.Add(time.Duration(48+hours) * time.Hour)
				return map[string]any{"title": "Meeting", "starts_at": start, "ends_at": start.Add(time.Hour), "place": "Hall"}
			}
			for i := range 10 {
				e.Must(201, chair, "POST", path, meeting(24*(i%5)))
			}
			// New meetings land before, among and after those listed.
			sdktest.WalkPages(t, pages(t, e, sdk.Principal{}, path, func(m Meeting) string { return m.ID }),
				func(i int) { created(t, e, chair, path, meeting(24*(i%7)-24)) })
		})
		t.Run("Motions", func(t *testing.T) {
			e := newEnv(t, cfg, nil)
			a, chair := e.assembly("w", nil)
			path := "/api/v1/assemblies/" + a.ID + "/motions"
			for i := range 10 {
				e.Must(201, chair, "POST", path, map[string]any{"title": fmt.Sprintf("Motion %d", i), "text": "Because."})
			}
			sdktest.WalkPages(t, pages(t, e, sdk.Principal{}, path, func(m Motion) string { return m.ID }),
				func(i int) {
					created(t, e, chair, path, map[string]any{"title": fmt.Sprintf("Later %d", i), "text": "Too."})
				})
			sdktest.WalkPages(t, pages(t, e, sdk.Principal{}, path+"?state=draft", func(m Motion) string { return m.ID }),
				func(i int) {
					created(t, e, chair, path, map[string]any{"title": fmt.Sprintf("Draft %d", i), "text": "Too."})
				})
		})
	})
}

// TestLists_BadParameters checks that a list refuses a limit or cursor it cannot use
// with a clear error, on both databases: a cursor of another list's shape is not
// handed to the database.
func TestLists_BadParameters(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		e := newEnv(t, cfg, nil)
		a, _ := e.assembly("b", nil)
		anon := sdk.Principal{}
		e.Do(anon, "GET", base+"?limit=0", nil).WantInvalid(t, "limit", sdk.RuleRange)
		e.Do(anon, "GET", base+"?limit=201", nil).WantInvalid(t, "limit", sdk.RuleRange)
		e.Do(anon, "GET", "/api/v1/assemblies/"+a.ID+"/motions?state=pending", nil).WantInvalid(t, "state", sdk.RuleOneOf)
		e.Do(anon, "GET", "/api/v1/assemblies/"+a.ID+"/motions?overdue=yes", nil).WantInvalid(t, "overdue", sdk.RuleOneOf)
		for name, key := range map[string][]any{
			"StringForTime": {"2026-03-02", "x"},
			"NumberForID":   {1, 2},
			"TooShort":      {1},
		} {
			t.Run(name, func(t *testing.T) {
				for _, path := range []string{base, "/api/v1/assemblies/" + a.ID + "/members", "/api/v1/assemblies/" + a.ID + "/meetings",
					"/api/v1/assemblies/" + a.ID + "/motions"} {
					r := e.Do(anon, "GET", path+"?cursor="+sdk.EncodeCursor(key), nil)
					if r.Status != 400 || !strings.Contains(string(r.Body), `"cursor"`) {
						t.Errorf("GET %s with cursor %v: %d %s, want 400 naming cursor", path, key, r.Status, r.Body)
					}
				}
			})
		}
	})
}
