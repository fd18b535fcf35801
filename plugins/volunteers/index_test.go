package volunteers

import (
	"context"
	"slices"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestService_IndexStaleWhileRevalidate: when building the index is expensive, a write
// does not make the next matches request rebuild it; that request gets the previous
// ranking while one background goroutine rebuilds, and later requests see the write.
// A stale ranking never over-books: applying re-checks overlaps against the database.
func TestService_IndexStaleWhileRevalidate(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		f := newFixture(t, cfg)
		// Every index counts as large.
		svc := NewService(f.db, f.host, Config{Location: f.loc, InlineRebuildProfiles: 1}, f.clock.Now, nil)
		t.Cleanup(svc.Close)
		ids := func(o Opportunity) []string {
			t.Helper()
			got, err := matchesOf(svc, f.rep, o.ID, o.Shifts[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range got {
				out = append(out, c.VolunteerID)
			}
			return out
		}
		f.volunteer(t, "anna", nil)
		morning := f.published(t, nil) // Saturday 9-12
		if got := ids(morning); !slices.Equal(got, []string{"anna"}) {
			t.Fatalf("first build: %v", got)
		}

		bo := f.volunteer(t, "bo", nil)
		if got := ids(morning); !slices.Equal(got, []string{"anna"}) {
			t.Fatalf("right after a write the previous ranking is served: %v", got)
		}
		svc.WaitRebuild()
		if got := ids(morning); !slices.Equal(got, []string{"anna", "bo"}) {
			t.Fatalf("after the background rebuild: %v", got)
		}

		// Bo takes an overlapping shift elsewhere. The stale index still ranks Bo for
		// the morning, but applying checks the database and refuses the overlap.
		other := f.published(t, func(in *OpportunityInput) {
			in.Title, in.AutoAccept, in.Shifts = "Fair", true, []ShiftInput{f.saturday(10, 14, 5)}
		})
		if _, err := svc.Apply(ctx, bo, other.ID, other.Shifts[0].ID); err != nil {
			t.Fatal(err)
		}
		if got := ids(morning); !slices.Contains(got, "bo") {
			t.Fatalf("the stale ranking was expected to still hold bo: %v", got)
		}
		_, err := svc.Apply(ctx, bo, morning.ID, morning.Shifts[0].ID)
		wantCode(t, err, sdk.CodeConflict)
		svc.WaitRebuild()
		if got := ids(morning); !slices.Equal(got, []string{"anna"}) {
			t.Fatalf("after the rebuild bo's commitment excludes them: %v", got)
		}
	})
}
