package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// EventUserDeleted is the core's event when a person deletes their account (GDPR
// erasure); its payload is [UserDeleted].
const EventUserDeleted = "core.user.deleted"

// UserDeleted is the payload of [EventUserDeleted].
type UserDeleted struct {
	// UserID is the person whose data must go.
	UserID string `json:"user_id"`
}

// Erasure asks a plugin to erase one person's data.
type Erasure struct {
	// UserID is the person to erase; never empty.
	UserID string
	// EventID is the core.user.deleted event that asked, for a plugin that records
	// which requests it has handled.
	EventID string
}

// Eraser is implemented by plugins that keep personal data. The SDK subscribes such a
// plugin to [EventUserDeleted] (its manifest need not list it) and hands each one to
// EraseUser instead of HandleEvent. Delivery is at least once, so erasing a person a
// second time must be harmless.
type Eraser interface {
	EraseUser(ctx context.Context, e Erasure) error
}

// Deliver hands e to p as the host's delivery does: a core.user.deleted to EraseUser
// when p is an [Eraser], every other event to its [EventHandler]; an event p has no
// handler for is done. Tests use it to deliver an event the way the host would.
func Deliver(ctx context.Context, p Plugin, e Event) error {
	if er, ok := p.(Eraser); ok && e.Type == EventUserDeleted {
		var body UserDeleted
		if err := json.Unmarshal(e.Payload, &body); err != nil || body.UserID == "" {
			// The core always names the person; a payload without one would fail the
			// same way on every redelivery, so it is logged and dropped.
			LoggerFrom(ctx).ErrorContext(ctx, "core.user.deleted without a user; dropped", "event_id", e.ID)
			return nil
		}
		if err := er.EraseUser(ctx, Erasure{UserID: body.UserID, EventID: e.ID}); err != nil {
			return fmt.Errorf("erase user (event %s): %w", e.ID, err)
		}
		return nil
	}
	if h, ok := p.(EventHandler); ok {
		return h.HandleEvent(ctx, e)
	}
	return nil
}

// handlesEvents reports whether p takes events at all.
func handlesEvents(p Plugin) bool {
	_, handler := p.(EventHandler)
	_, eraser := p.(Eraser)
	return handler || eraser
}

// ManifestOf is p's manifest as the host receives it: an Eraser subscribed to
// EventUserDeleted.
func ManifestOf(p Plugin) Manifest {
	m := p.Manifest()
	if _, ok := p.(Eraser); ok && !slices.Contains(m.Subscribes, EventUserDeleted) {
		m.Subscribes = append(slices.Clone(m.Subscribes), EventUserDeleted)
	}
	return m
}
