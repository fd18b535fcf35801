package main

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// The probe's notifications: one kind, and a route that writes follows, notifications
// and (for "alpha") an event in one transaction, so tests can watch what the host
// hands its notification service.

// notifyKinds are the kinds the probe declares.
func (p *probe) notifyKinds() []sdk.NotificationKind {
	return []sdk.NotificationKind{{Name: p.name + ".thing.done", Default: sdk.DeliverImmediately,
		Labels: map[string]string{"en": "A thing is done", "fi": "Asia on tehty"}}}
}

// notifyRoute is POST /api/v1/<name>/notify.
func (p *probe) notifyRoute() sdk.Route {
	return sdk.Route{Method: "POST", Path: "/api/v1/" + p.name + "/notify", Permission: sdk.PermPublic, MaxBodyBytes: 4 << 20}
}

// notify writes {"follows": [...], "notifications": [...]} and, with "emit", an
// EventType event, in one transaction, which "rollback" rolls back.
func (p *probe) notify(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Follows       []sdk.FollowChange `json:"follows"`
		Notifications []sdk.Notification `json:"notifications"`
		Emit          bool               `json:"emit"`
		Rollback      bool               `json:"rollback"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, 400, map[string]any{"error": err.Error()})
		return
	}
	errRollback := errors.New("rolled back as asked")
	err := p.db.InTx(r.Context(), func(tx *store.Tx) error {
		for _, f := range in.Follows {
			if err := tx.Follow(r.Context(), f.UserID, f.Subject, f.Follow); err != nil {
				return err
			}
		}
		for _, n := range in.Notifications {
			if err := tx.Notify(r.Context(), n); err != nil {
				return err
			}
		}
		if in.Emit {
			if err := tx.Emit(EventType, map[string]int{"seq": -1}); err != nil {
				return err
			}
		}
		if in.Rollback {
			return errRollback
		}
		return nil
	})
	switch {
	case errors.Is(err, errRollback):
		writeJSON(w, 409, map[string]any{"error": err.Error()})
	case err != nil:
		writeJSON(w, 422, map[string]any{"error": err.Error()})
	default:
		writeJSON(w, 200, map[string]any{"ok": true})
	}
}
