package pluginhost

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/seal"
)

// maxBatch bounds the IDs of one host call, so a plugin cannot build a huge query.
const maxBatch = 1000

// hostAPI is the core as one plugin sees it (sdk.Host), served to the plugin over the
// go-plugin broker. hostside has already pinned Source and checked event types.
type hostAPI struct {
	name   string
	store  Store
	authz  core.Authorizer
	clock  core.Clock
	notify func() // wakes this node's event delivery after a publish
	// keys derives the key pair of every vote from the master key file; nil when the
	// host was started without one, and then secret ballots are refused.
	keys *seal.Keyring
	// sink takes the notifications and follows the plugin sends (nil: dropped), of
	// the kinds its manifest declares.
	sink   core.NotificationSink
	kinds  []sdk.NotificationKind
	logger *slog.Logger
}

var _ sdk.Host = (*hostAPI)(nil)

func checkBatch(ids []string) error {
	if len(ids) > maxBatch {
		return fmt.Errorf("at most %d ids per call, got %d", maxBatch, len(ids))
	}
	return nil
}

func (h *hostAPI) Users(ctx context.Context, ids []string) ([]sdk.User, error) {
	if err := checkBatch(ids); err != nil {
		return nil, err
	}
	us, err := h.store.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.User, len(us))
	for i, u := range us {
		out[i] = sdk.User{ID: u.ID, DisplayName: u.DisplayName, Locale: u.Language, Email: u.Email}
	}
	return out, nil
}

func (h *hostAPI) Neighbourhoods(ctx context.Context, ids []string) ([]sdk.Neighbourhood, error) {
	if err := checkBatch(ids); err != nil {
		return nil, err
	}
	ns, err := h.store.NeighbourhoodsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Neighbourhood, len(ns))
	for i, n := range ns {
		out[i] = sdk.Neighbourhood{ID: n.ID, Name: n.Name, Slug: n.Slug, Archived: n.ArchivedAt != nil}
		if n.ParentID != nil {
			out[i].ParentID = *n.ParentID
		}
	}
	return out, nil
}

func (h *hostAPI) Memberships(ctx context.Context, userIDs []string) ([]sdk.Membership, error) {
	if err := checkBatch(userIDs); err != nil {
		return nil, err
	}
	ms, err := h.store.VerifiedMemberships(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Membership, len(ms))
	for i, m := range ms {
		out[i] = sdk.Membership{UserID: m.UserID, NeighbourhoodID: m.NeighbourhoodID}
		if m.VerifiedAt != nil {
			out[i].VerifiedAt = *m.VerifiedAt
		}
	}
	return out, nil
}

func (h *hostAPI) Organisations(ctx context.Context, ids []string) ([]sdk.Organisation, error) {
	if err := checkBatch(ids); err != nil {
		return nil, err
	}
	os, err := h.store.OrganisationsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Organisation, len(os))
	for i, o := range os {
		out[i] = sdk.Organisation{ID: o.ID, Name: o.Name, Kind: o.Kind, Verified: o.State == core.OrganisationVerified,
			NeighbourhoodIDs: o.NeighbourhoodIDs, Representatives: o.Representatives}
	}
	return out, nil
}

func (h *hostAPI) Can(ctx context.Context, userID, permission, domain string) (bool, error) {
	if userID == "" {
		return false, nil
	}
	p, err := h.store.PrincipalOf(ctx, userID)
	if err != nil {
		return false, err
	}
	return h.authz.Can(p, permission, domain), nil
}

func (h *hostAPI) Publish(ctx context.Context, e sdk.Event) error {
	if reserved(e) {
		return h.PublishAll(ctx, []sdk.Event{e})
	}
	oe, err := h.outboxEvent(e)
	if err != nil {
		return err
	}
	if err := h.store.Publish(ctx, oe); err != nil {
		return err
	}
	if h.notify != nil {
		h.notify()
	}
	return nil
}

// PublishAll checks every event before recording any, so that one bad event refuses
// the batch, and wakes delivery once for the lot. Notifications and follows go to the
// notification service first (see sendReserved).
func (h *hostAPI) PublishAll(ctx context.Context, events []sdk.Event) error {
	if len(events) > sdk.MaxPublishBatch {
		return fmt.Errorf("at most %d events per PublishAll, got %d; none was recorded", sdk.MaxPublishBatch, len(events))
	}
	out := make([]core.OutboxEvent, 0, len(events))
	var special []sdk.Event
	for i, e := range events {
		if reserved(e) {
			if e.ID == "" {
				e.ID = uuid.Must(uuid.NewV7()).String()
			}
			special = append(special, e)
			continue
		}
		oe, err := h.outboxEvent(e)
		if err != nil {
			return fmt.Errorf("event %d of %d: %w; none was recorded", i+1, len(events), err)
		}
		out = append(out, oe)
	}
	if len(special) > 0 {
		if err := h.sendReserved(ctx, special); err != nil {
			return err
		}
	}
	if len(out) == 0 {
		return nil
	}
	added, err := h.store.PublishAll(ctx, out)
	if err != nil {
		return err
	}
	if added > 0 && h.notify != nil {
		h.notify()
	}
	return nil
}

// outboxEvent checks an event of this plugin and fills in what the plugin may leave
// empty: ID, OccurredAt and an empty payload.
func (h *hostAPI) outboxEvent(e sdk.Event) (core.OutboxEvent, error) {
	if !strings.HasPrefix(e.Type, h.name+".") {
		return core.OutboxEvent{}, fmt.Errorf("event type %q must start with %q", e.Type, h.name+".")
	}
	if e.ID == "" {
		e.ID = uuid.Must(uuid.NewV7()).String()
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = h.clock.Now()
	}
	payload := string(e.Payload)
	if payload == "" {
		payload = "{}"
	}
	if !json.Valid([]byte(payload)) {
		return core.OutboxEvent{}, fmt.Errorf("event %s: payload is not JSON", e.Type)
	}
	return core.OutboxEvent{ID: e.ID, Type: e.Type, Source: h.name, Payload: payload,
		OccurredAt: e.OccurredAt.UTC().Truncate(time.Microsecond)}, nil
}

func (h *hostAPI) Audit(ctx context.Context, e sdk.AuditEntry) error {
	if !strings.HasPrefix(e.Action, h.name+".") {
		return fmt.Errorf("audit action %q must start with %q", e.Action, h.name+".")
	}
	return h.store.AuditForPlugin(ctx, h.name, e.ActorID, e.Action, e.Domain, e.Target, e.Detail)
}

// SealingKey derives the public key of the plugin's vote voteID. The plugin's name is
// part of the derivation, so a plugin can obtain keys of its own votes only.
func (h *hostAPI) SealingKey(_ context.Context, voteID string) (seal.PublicKey, error) {
	if err := h.checkVote(voteID); err != nil {
		return seal.PublicKey{}, err
	}
	return h.keys.PublicKey(h.name, voteID)
}

// Unseal opens ballots of the plugin's vote voteID. Ballots of another plugin's vote,
// or of another vote, do not open: their key was derived from another name or ID.
func (h *hostAPI) Unseal(_ context.Context, voteID string, sealed [][]byte) ([][]byte, error) {
	if err := h.checkVote(voteID); err != nil {
		return nil, err
	}
	if len(sealed) > sdk.MaxUnsealBatch {
		return nil, fmt.Errorf("at most %d ballots per Unseal, got %d", sdk.MaxUnsealBatch, len(sealed))
	}
	return h.keys.Open(h.name, voteID, sealed)
}

func (h *hostAPI) checkVote(voteID string) error {
	if h.keys == nil {
		return fmt.Errorf("this host has no master key file, so it cannot seal ballots")
	}
	if voteID == "" || len(voteID) > 200 {
		return fmt.Errorf("a vote ID is 1 to 200 bytes, got %d", len(voteID))
	}
	return nil
}
