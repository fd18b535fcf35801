package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/internal/sqlstore"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

var notifyManifest = sdk.Manifest{Name: "test", Publishes: []string{"test.created"},
	Notifications: []sdk.NotificationKind{{Name: "test.thing.done", Default: sdk.DeliverImmediately, Labels: map[string]string{"en": "Done"}}}}

func thingDone(id string, recipients ...string) sdk.Notification {
	return sdk.Notification{Kind: "test.thing.done", Recipients: recipients, Subject: "test.thing:" + id, Link: "/test/things/" + id,
		Texts: map[string]sdk.NotificationText{"en": {Title: "Thing " + id + " is done", Body: "Done."}, "sv": {Title: "Sak " + id + " är klar"}}}
}

// TestTx_Notify: notifications and follows leave with the transaction of the change
// and never without it; one sent twice is taken once; a long list of recipients
// leaves in rows and batches that stay small against the connection's limit.
func TestTx_Notify(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := migrated(t, cfg)

		t.Run("OK", func(t *testing.T) {
			host := sdktest.NewFakeHost(notifyManifest)
			note := thingDone("1", "u2", "u3", "u2")
			note.Followers, note.Except = []string{"test.thing:1"}, []string{"u3"}
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.Follow(ctx, "u1", "test.thing:1", true); err != nil {
					return err
				}
				if err := tx.Follow(ctx, "u4", "test.thing:1", true); err != nil {
					return err
				}
				if err := tx.Follow(ctx, "u4", "test.thing:1", false); err != nil {
					return err
				}
				return tx.Notify(ctx, note)
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.FlushOutbox(ctx, host); err != nil {
				t.Fatal(err)
			}
			sent := host.Notifications()
			if len(sent) != 1 || !slices.Equal(sent[0].To, []string{"u2", "u1"}) || sent[0].Texts["sv"].Title != "Sak 1 är klar" || sent[0].ID == "" {
				t.Fatalf("sent %+v", sent)
			}
			if got := host.Followers("test.thing:1"); !slices.Equal(got, []string{"u1"}) {
				t.Errorf("followers %v", got)
			}
			if len(host.NotificationsTo("u3")) != 0 || len(host.NotificationsTo("u4")) != 0 {
				t.Error("the person left out, or one who stopped following, was notified")
			}
		})

		t.Run("Rollback", func(t *testing.T) {
			host := sdktest.NewFakeHost(notifyManifest)
			boom := errors.New("boom")
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.Follow(ctx, "u1", "test.thing:2", true); err != nil {
					return err
				}
				if err := tx.Notify(ctx, thingDone("2", "u2")); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			if n := pending(t, db); n != 0 {
				t.Fatalf("%d rows pending after a rollback", n)
			}
			if err := db.FlushOutbox(ctx, host); err != nil {
				t.Fatal(err)
			}
			if len(host.Notifications()) != 0 || len(host.FollowChanges()) != 0 {
				t.Error("a rolled-back change told someone")
			}
		})

		t.Run("Redelivered", func(t *testing.T) {
			relayed := newPublishHost()
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Notify(ctx, thingDone("3", "u2", "u3")) }); err != nil {
				t.Fatal(err)
			}
			if err := db.FlushOutbox(ctx, relayed); err != nil {
				t.Fatal(err)
			}
			host := sdktest.NewFakeHost(notifyManifest)
			for range 2 {
				if err := host.PublishAll(ctx, relayed.recorded()); err != nil {
					t.Fatal(err)
				}
			}
			if sent := host.Notifications(); len(sent) != 1 || len(sent[0].To) != 2 {
				t.Errorf("a batch relayed twice: %+v", sent)
			}
		})

		t.Run("ManyRecipients", func(t *testing.T) {
			recipients := make([]string, 25_000)
			for i := range recipients {
				recipients[i] = fmt.Sprintf("0198f0a2-7c3e-7000-8000-%012d", i) // as long as a UUID
			}
			note := thingDone("4", recipients...)
			// Texts as long as they may be, in five languages.
			for _, tag := range []string{"en", "fi", "sv", "da", "tr"} {
				note.Texts[tag] = sdk.NotificationText{Title: strings.Repeat("t", sdk.MaxNotificationTitle), Body: strings.Repeat("b", sdk.MaxNotificationBody)}
			}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Notify(ctx, note) }); err != nil {
				t.Fatal(err)
			}
			relayed := newPublishHost()
			relayed.batchBytes = map[int]int{}
			if err := db.FlushOutbox(ctx, relayed); err != nil {
				t.Fatal(err)
			}
			rows := relayed.recorded()
			if want := (len(recipients) + store.NotifyChunk - 1) / store.NotifyChunk; len(rows) != want {
				t.Errorf("%d rows, want %d of at most %d recipients", len(rows), want, store.NotifyChunk)
			}
			var ids []string
			for _, e := range rows {
				var n sdk.Notification
				if err := json.Unmarshal(e.Payload, &n); err != nil {
					t.Fatal(err)
				}
				if len(n.Recipients) > store.NotifyChunk {
					t.Errorf("a row carries %d recipients", len(n.Recipients))
				}
				ids = append(ids, n.ID)
			}
			if len(slices.Compact(slices.Clone(ids))) != 1 {
				t.Errorf("the rows of one notification carry several IDs: %v", slices.Compact(ids))
			}
			for batch, size := range relayed.batchBytes {
				if size > 16<<20 { // half the connection's 32 MiB message limit
					t.Errorf("batch %d carries %d bytes of payload", batch, size)
				}
			}
			host := sdktest.NewFakeHost(notifyManifest)
			if err := host.PublishAll(ctx, rows); err != nil {
				t.Fatal(err)
			}
			if sent := host.Notifications(); len(sent) != 1 || !slices.Equal(sent[0].To, recipients) {
				t.Errorf("%d notifications reached the host", len(sent))
			}
		})
	})
}

// TestTx_NotifyChecks: what the host would drop is refused in the transaction. Not
// parallel: the manifest's kinds are the process's.
func TestTx_NotifyChecks(t *testing.T) {
	ctx := context.Background()
	db := migrated(t, sdktest.SQLiteStore(t))
	sqlstore.SetNotifications("test", notifyManifest.Notifications)
	defer sqlstore.SetNotifications("", nil)
	bad := func(change func(n *sdk.Notification)) sdk.Notification {
		n := thingDone("1", "u1")
		change(&n)
		return n
	}
	for name, tc := range map[string]struct {
		n    sdk.Notification
		want string
	}{
		"UndeclaredKind":   {bad(func(n *sdk.Notification) { n.Kind = "test.thing.other" }), "not among the manifest's Notifications"},
		"ForeignKind":      {bad(func(n *sdk.Notification) { n.Kind = "other.thing.done" }), `must start with "test."`},
		"ForeignSubject":   {bad(func(n *sdk.Notification) { n.Subject = "other.thing:1" }), `subject "other.thing:1"`},
		"ForeignFollowers": {bad(func(n *sdk.Notification) { n.Followers = []string{"other.thing:1"} }), "followers of"},
		"SubjectWithoutID": {bad(func(n *sdk.Notification) { n.Subject = "test.thing:" }), "subject"},
		"Nobody":           {bad(func(n *sdk.Notification) { n.Recipients = nil }), "neither recipients nor followers"},
		"EmptyRecipient":   {bad(func(n *sdk.Notification) { n.Recipients = []string{"u1", ""} }), "empty"},
		"LinkElsewhere":    {bad(func(n *sdk.Notification) { n.Link = "https://evil.example/" }), "must be a path"},
		"LinkOtherHost":    {bad(func(n *sdk.Notification) { n.Link = "//evil.example/" }), "must be a path"},
		"NoEnglish":        {bad(func(n *sdk.Notification) { delete(n.Texts, "en") }), "no English text"},
		"TwoLineTitle":     {bad(func(n *sdk.Notification) { n.Texts["sv"] = sdk.NotificationText{Title: "a\nb"} }), "one line"},
		"LongBody": {bad(func(n *sdk.Notification) {
			n.Texts["sv"] = sdk.NotificationText{Title: "a", Body: strings.Repeat("b", sdk.MaxNotificationBody+1)}
		}), "body"},
	} {
		t.Run(name, func(t *testing.T) {
			err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Notify(ctx, tc.n) })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("ErrFollowForeign", func(t *testing.T) {
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Follow(ctx, "u1", "other.thing:1", true) })
		if err == nil || !strings.Contains(err.Error(), "subject") {
			t.Errorf("err = %v", err)
		}
	})
	if n := pending(t, db); n != 0 {
		t.Errorf("%d rows of refused notifications", n)
	}
}
