package sdktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/sdk"
)

// SentNotification is a notification the fake host took from the plugin's outbox: the
// rows of one notification (Tx.Notify splits a long list of recipients) merged into
// one, as the core stores it once per recipient.
type SentNotification struct {
	sdk.Notification
	// To are the people it reached, in order: its Recipients and, when it was relayed,
	// the followers of its Followers subjects, less Except.
	To []string
}

// Notifications are the notifications taken, in the order first relayed; with kinds,
// only those.
func (h *FakeHost) Notifications(kinds ...string) []SentNotification {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []SentNotification
	for _, n := range h.notes {
		if len(kinds) == 0 || slices.Contains(kinds, n.Kind) {
			out = append(out, cloneSent(n))
		}
	}
	return out
}

// NotificationsTo are the notifications that reached userID, in order; with kinds,
// only those.
func (h *FakeHost) NotificationsTo(userID string, kinds ...string) []SentNotification {
	var out []SentNotification
	for _, n := range h.Notifications(kinds...) {
		if slices.Contains(n.To, userID) {
			out = append(out, n)
		}
	}
	return out
}

// Followers are the users following subject, sorted.
func (h *FakeHost) Followers(subject string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for u, on := range h.follows[subject] {
		if on {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// FollowChanges are the follow changes taken, in order.
func (h *FakeHost) FollowChanges() []sdk.FollowChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.followLog)
}

// Follow makes userID follow subject (or not), as the core's own page would.
func (h *FakeHost) Follow(userID, subject string, follow bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.followLocked(sdk.FollowChange{UserID: userID, Subject: subject, Follow: follow})
}

// checkReserved refuses a notification or follow the core would drop: the fake host
// fails the relay instead, so that a plugin's test sees it.
func (h *FakeHost) checkReserved(e sdk.Event) error {
	plugin := h.manifest.Name
	switch e.Type {
	case sdk.NotifyEventType:
		var n sdk.Notification
		if err := json.Unmarshal(e.Payload, &n); err != nil {
			return fmt.Errorf("sdktest: notification %s: %w", e.ID, err)
		}
		var kinds []sdk.NotificationKind
		if plugin != "" {
			kinds = append([]sdk.NotificationKind{}, h.manifest.Notifications...)
		}
		if err := sdk.CheckNotification(plugin, kinds, n); err != nil {
			return fmt.Errorf("sdktest: the core would drop notification %s: %w", e.ID, err)
		}
	case sdk.FollowEventType:
		var c sdk.FollowChange
		if err := json.Unmarshal(e.Payload, &c); err != nil {
			return fmt.Errorf("sdktest: follow %s: %w", e.ID, err)
		}
		ns := plugin
		if ns == "" {
			ns, _, _ = strings.Cut(c.Subject, ".")
		}
		if err := sdk.CheckSubject(ns, c.Subject); err != nil || c.UserID == "" {
			return fmt.Errorf("sdktest: the core would drop follow %s of %q by %q: %v", e.ID, c.Subject, c.UserID, err)
		}
	}
	return nil
}

// takeReserved records a checked notification or follow; h.mu is held.
func (h *FakeHost) takeReserved(e sdk.Event) {
	if e.Type == sdk.FollowEventType {
		var c sdk.FollowChange
		_ = json.Unmarshal(e.Payload, &c) // checked
		h.followLocked(c)
		return
	}
	var n sdk.Notification
	_ = json.Unmarshal(e.Payload, &n) // checked
	if n.ID == "" {
		n.ID = e.ID
	}
	to := slices.Clone(n.Recipients)
	for _, subject := range n.Followers {
		var followers []string
		for u, on := range h.follows[subject] {
			if on {
				followers = append(followers, u)
			}
		}
		slices.Sort(followers)
		to = append(to, followers...)
	}
	except := make(map[string]bool, len(n.Except))
	for _, u := range n.Except {
		except[u] = true
	}
	to = slices.DeleteFunc(to, func(u string) bool { return except[u] })
	sent := h.noteByID[n.ID]
	if sent == nil {
		sent = &SentNotification{Notification: n}
		sent.Recipients = nil
		h.noteByID[n.ID] = sent
		h.notes = append(h.notes, sent)
	}
	sent.Followers = union(sent.Followers, n.Followers)
	sent.Recipients = union(sent.Recipients, n.Recipients)
	sent.To = union(sent.To, to)
}

func (h *FakeHost) followLocked(c sdk.FollowChange) {
	h.followLog = append(h.followLog, c)
	if h.follows[c.Subject] == nil {
		h.follows[c.Subject] = map[string]bool{}
	}
	h.follows[c.Subject][c.UserID] = c.Follow
}

// union appends to a the elements of b it does not hold, keeping a's order.
func union(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			seen[x] = true
			a = append(a, x)
		}
	}
	return a
}

func cloneSent(n *SentNotification) SentNotification {
	c := *n
	c.Recipients, c.Followers, c.Except, c.To = slices.Clone(n.Recipients), slices.Clone(n.Followers), slices.Clone(n.Except), slices.Clone(n.To)
	return c
}
