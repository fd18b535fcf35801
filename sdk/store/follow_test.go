package store_test

import (
	"context"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestDB_Follow: a follow route's change leaves through the outbox, and the answer says
// where the caller stands; a subject of another form is refused and sends nothing.
func TestDB_Follow(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := migrated(t, cfg)
		host := sdktest.NewFakeHost(notifyManifest)
		st, err := db.Follow(ctx, "u1", "test.thing:1", true)
		if err != nil || st != (sdk.FollowState{Subject: "test.thing:1", Following: true}) {
			t.Fatalf("follow = %+v, %v", st, err)
		}
		if err := db.FlushOutbox(ctx, host); err != nil {
			t.Fatal(err)
		}
		if got := host.Followers("test.thing:1"); len(got) != 1 || got[0] != "u1" {
			t.Fatalf("followers = %v", got)
		}
		if st, err = db.Follow(ctx, "u1", "test.thing:1", false); err != nil || st.Following {
			t.Fatalf("unfollow = %+v, %v", st, err)
		}
		if err := db.FlushOutbox(ctx, host); err != nil {
			t.Fatal(err)
		}
		if got := host.Followers("test.thing:1"); len(got) != 0 {
			t.Fatalf("followers after unfollowing = %v", got)
		}
		if _, err := db.Follow(ctx, "u1", "not a subject", true); err == nil {
			t.Fatal("followed a malformed subject")
		}
		if n, err := db.PendingEvents(ctx); err != nil || n != 0 {
			t.Fatalf("pending = %d, %v", n, err)
		}
	})
}
