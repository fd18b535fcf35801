package pluginhost

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// Notifications and follows reach the host as reserved events in a plugin's relayed
// outbox batch (sdk.NotifyEventType, sdk.FollowEventType). The host takes them out,
// checks each against the plugin (a kind its manifest declares, subjects of its own),
// and hands them to the notification service before it records the rest of the batch:
// both sides skip what they hold already, so a batch the relay sends again, after
// either step failed, changes nothing.

// coreKinds are a manifest's notification kinds as the core names them.
func coreKinds(source string, kinds []sdk.NotificationKind) []core.NotificationKind {
	out := make([]core.NotificationKind, len(kinds))
	for i, k := range kinds {
		out[i] = core.NotificationKind{Name: k.Name, Source: source, Labels: k.Labels, Default: core.Delivery(k.Default)}
	}
	return out
}

// reserved reports whether an event is a notification or a follow.
func reserved(e sdk.Event) bool {
	return e.Type == sdk.NotifyEventType || e.Type == sdk.FollowEventType
}

// sendReserved hands the batch's notifications and follows to the sink, in the order
// the plugin wrote them (a follow written before a notification to the followers
// counts for it), as runs of one type.
//
// One that fails the checks is dropped with a warning rather than refusing the
// batch: it can never pass, and refusing would hold every later event of the plugin
// for ever. The SDK's Tx.Notify and Tx.Follow make the same checks while the change
// can still roll back, so this happens only to a plugin that bypasses them or whose
// manifest lost a kind with notifications still in its outbox.
func (h *hostAPI) sendReserved(ctx context.Context, events []sdk.Event) error {
	if h.sink == nil {
		h.logger.Debug("no notification service: notifications and follows dropped", "plugin", h.name, "events", len(events))
		return nil
	}
	var reqs []core.NotificationRequest
	var changes []core.FollowChange
	flush := func() error {
		if len(reqs) > 0 {
			if err := h.sink.Notify(ctx, reqs); err != nil {
				return fmt.Errorf("notifications of %s: %w", h.name, err)
			}
			reqs = nil
		}
		if len(changes) > 0 {
			if err := h.sink.ChangeFollows(ctx, changes); err != nil {
				return fmt.Errorf("follows of %s: %w", h.name, err)
			}
			changes = nil
		}
		return nil
	}
	for _, e := range events {
		switch e.Type {
		case sdk.NotifyEventType:
			req, err := h.notificationRequest(e)
			if err != nil {
				h.logger.Warn("notification dropped", "plugin", h.name, "event", e.ID, "error", err)
				continue
			}
			if len(changes) > 0 {
				if err := flush(); err != nil {
					return err
				}
			}
			reqs = append(reqs, req)
		case sdk.FollowEventType:
			change, err := h.followChange(e)
			if err != nil {
				h.logger.Warn("follow dropped", "plugin", h.name, "event", e.ID, "error", err)
				continue
			}
			if len(reqs) > 0 {
				if err := flush(); err != nil {
					return err
				}
			}
			changes = append(changes, change)
		}
	}
	return flush()
}

// notificationRequest decodes and checks a notification event of this plugin.
func (h *hostAPI) notificationRequest(e sdk.Event) (core.NotificationRequest, error) {
	var n sdk.Notification
	if err := json.Unmarshal(e.Payload, &n); err != nil {
		return core.NotificationRequest{}, fmt.Errorf("decode: %w", err)
	}
	kinds := h.kinds
	if kinds == nil {
		kinds = []sdk.NotificationKind{}
	}
	if err := sdk.CheckNotification(h.name, kinds, n); err != nil {
		return core.NotificationRequest{}, err
	}
	id := n.ID
	if id == "" {
		id = e.ID
	}
	at := e.OccurredAt
	if at.IsZero() {
		at = h.clock.Now()
	}
	texts := make(map[string]core.NotificationText, len(n.Texts))
	for tag, t := range n.Texts {
		texts[tag] = core.NotificationText{Title: t.Title, Body: t.Body}
	}
	req := core.NotificationRequest{ID: id, Kind: n.Kind, Source: h.name, Recipients: n.Recipients,
		Followers: n.Followers, Except: n.Except, Subject: n.Subject, Link: n.Link, Texts: texts, OccurredAt: at.UTC()}
	// The core's own bounds (control characters, id lengths) are the last word: the
	// service would refuse the whole batch for one such request.
	if err := req.Check(); err != nil {
		return core.NotificationRequest{}, err
	}
	return req, nil
}

// followChange decodes and checks a follow event of this plugin.
func (h *hostAPI) followChange(e sdk.Event) (core.FollowChange, error) {
	var c sdk.FollowChange
	if err := json.Unmarshal(e.Payload, &c); err != nil {
		return core.FollowChange{}, fmt.Errorf("decode: %w", err)
	}
	if err := sdk.CheckSubject(h.name, c.Subject); err != nil {
		return core.FollowChange{}, err
	}
	if c.UserID == "" {
		return core.FollowChange{}, fmt.Errorf("follow of %s without a user", c.Subject)
	}
	return core.FollowChange{UserID: c.UserID, Subject: c.Subject, Follow: c.Follow}, nil
}
