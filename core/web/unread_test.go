package web

import (
	"context"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
)

// counter counts each person's unread notifications as the service would, and how
// often it was asked.
type counter struct {
	core.NotificationService
	unread map[string]int
	asked  int
}

func (c *counter) UnreadCount(ctx context.Context) (int, error) {
	c.asked++
	return c.unread[core.PrincipalFrom(ctx).UserID], nil
}

// TestUnreadCounts: the navigation's count is each person's own, kept for unreadTTL
// and no longer, and counted afresh once dropped (the person read something).
func TestUnreadCounts(t *testing.T) {
	clock := time.Date(2026, 3, 29, 0, 59, 58, 0, time.UTC)
	c := &unreadCounts{now: func() time.Time { return clock }}
	svc := &counter{unread: map[string]int{"aino": 3, "mehmet": 1}}
	get := func(user string) int {
		t.Helper()
		n, err := c.get(core.WithPrincipal(context.Background(), &core.Principal{UserID: user}), user, svc)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if get("aino") != 3 || get("mehmet") != 1 || svc.asked != 2 {
		t.Fatalf("first counts: asked %d", svc.asked)
	}
	svc.unread["aino"] = 4
	clock = clock.Add(unreadTTL - time.Millisecond)
	if get("aino") != 3 || get("mehmet") != 1 || svc.asked != 2 {
		t.Errorf("within the TTL the kept counts are shown: asked %d", svc.asked)
	}
	clock = clock.Add(time.Millisecond)
	if get("aino") != 4 || svc.asked != 3 {
		t.Errorf("after the TTL the count is asked again: asked %d", svc.asked)
	}
	svc.unread["aino"] = 0
	c.drop("aino")
	if get("aino") != 0 || svc.asked != 4 {
		t.Errorf("a dropped count is asked again: asked %d", svc.asked)
	}
	// A clock that went back does not keep a count from the future.
	clock = clock.Add(-time.Hour)
	if get("aino") != 0 || svc.asked != 5 {
		t.Errorf("after the clock went back: asked %d", svc.asked)
	}
}
