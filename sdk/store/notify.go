package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/internal/sqlstore"
)

// Notifications and follows travel through the outbox as reserved events
// (sdk.NotifyEventType, sdk.FollowEventType), written in the transaction of the change:
// a change that rolls back tells nobody, and one that commits is told even if the host
// is away at the moment.

// NotifyChunk is the most recipients one outbox row of a notification carries. A
// notification to a whole neighbourhood (ten thousand people and more) is written as
// several rows sharing its ID, so that each row, and so each relayed batch, stays small
// against the plugin connection's message limit; the core stores it once per
// recipient whichever row names them.
const NotifyChunk = 1000

// maxNotifyBytes bounds one notification row: NotifyChunk recipients and the texts
// in every language fit several times over.
const maxNotifyBytes = 256 << 10

// Notify writes n into the store's outbox in this transaction. The host stores it for
// each recipient (n.Recipients and the followers of n.Followers, less n.Except) once
// the transaction commits, and never if it rolls back. n.ID makes it idempotent per
// recipient; when empty it is the ID of the outbox row, so a notification relayed
// twice is stored once.
//
// n is checked as the host checks it (sdk.CheckNotification): its kind must be one of
// the manifest's Notifications, its subject and followers subjects of this plugin, its
// link a path, and Texts must hold English at least (NotifyCatalog.Texts writes them).
// Recipients are deduplicated; ctx is not used beyond the transaction's own.
func (tx *Tx) Notify(ctx context.Context, n sdk.Notification) error {
	plugin, declared := sqlstore.Notifications()
	kinds, _ := declared.([]sdk.NotificationKind)
	if declared == nil {
		kinds = nil
	} else if kinds == nil {
		kinds = []sdk.NotificationKind{} // a manifest without Notifications declares none
	}
	if err := sdk.CheckNotification(plugin, kinds, n); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	now := time.Now()
	if n.ID == "" {
		n.ID = newEventID(now)
	}
	recipients := dedupe(n.Recipients)
	followers := dedupe(n.Followers)
	// Every row carries the texts and the exceptions; the followers, resolved by the
	// core, travel once.
	for first := true; first || len(recipients) > 0; first = false {
		row := n
		row.Recipients = recipients[:min(NotifyChunk, len(recipients))]
		recipients = recipients[len(row.Recipients):]
		row.Followers = nil
		if first {
			row.Followers = followers
		}
		if len(row.Recipients) == 0 && len(row.Followers) == 0 {
			continue
		}
		body, err := json.Marshal(row)
		if err != nil {
			return fmt.Errorf("notify %s: encode: %w", n.Kind, err)
		}
		if len(body) > maxNotifyBytes {
			return fmt.Errorf("notify %s: one row is %d bytes, more than %d: shorten the texts", n.Kind, len(body), maxNotifyBytes)
		}
		if err := tx.insertEvent(ctx, sdk.NotifyEventType, body, now); err != nil {
			return fmt.Errorf("notify %s: %w", n.Kind, err)
		}
	}
	return nil
}

// Follow makes userID follow subject ("<plugin>.<type>:<id>" of this plugin), or stop
// following it when follow is false, once the transaction commits. The plugin decides
// who may follow what: call it after checking that the person may see the subject, and
// when the person acts on it (votes, proposes, signs up), which follows it by default.
func (tx *Tx) Follow(ctx context.Context, userID, subject string, follow bool) error {
	plugin, _ := sqlstore.Notifications()
	ns := plugin
	if ns == "" {
		ns = subjectPlugin(subject)
	}
	if err := sdk.CheckSubject(ns, subject); err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	if userID == "" {
		return fmt.Errorf("follow %s: the user ID is empty", subject)
	}
	body, err := json.Marshal(sdk.FollowChange{UserID: userID, Subject: subject, Follow: follow})
	if err != nil {
		return fmt.Errorf("follow %s: encode: %w", subject, err)
	}
	if err := tx.insertEvent(ctx, sdk.FollowEventType, body, time.Now()); err != nil {
		return fmt.Errorf("follow %s: %w", subject, err)
	}
	return nil
}

// insertEvent writes one outbox row.
func (tx *Tx) insertEvent(ctx context.Context, eventType string, body []byte, now time.Time) error {
	if ctx == nil {
		ctx = tx.ctx
	}
	_, err := tx.db.Preparer(tx.Tx).ExecContext(ctx, tx.db.Rebind(insertEvent), newEventID(now), eventType, string(body), Micros(now))
	if err != nil {
		return err
	}
	tx.emitted = true
	return nil
}

// subjectPlugin is the plugin part of "<plugin>.<type>:<id>".
func subjectPlugin(subject string) string {
	for i, r := range subject {
		if r == '.' || r == ':' {
			return subject[:i]
		}
	}
	return subject
}

// dedupe drops repeated IDs, keeping the first of each.
func dedupe(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return slices.Clip(out)
}
