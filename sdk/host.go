package sdk

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kvarter/kvarter/sdk/seal"
)

// MaxPublishBatch is the most events one Host.PublishAll takes.
const MaxPublishBatch = 500

// Host is the core, seen from a plugin. Calls go over the plugin connection, so ask in
// batches where a list is natural. IDs that do not exist are left out of the results.
type Host interface {
	// Users returns the users with the given IDs.
	Users(ctx context.Context, ids []string) ([]User, error)
	// Neighbourhoods returns the neighbourhoods with the given IDs.
	Neighbourhoods(ctx context.Context, ids []string) ([]Neighbourhood, error)
	// Memberships returns the verified neighbourhood memberships of the given users.
	Memberships(ctx context.Context, userIDs []string) ([]Membership, error)
	// Organisations returns the organisations with the given IDs.
	Organisations(ctx context.Context, ids []string) ([]Organisation, error)
	// Can reports whether the user holds permission in domain ("city", "nbh:<id>",
	// "org:<id>").
	Can(ctx context.Context, userID, permission, domain string) (bool, error)
	// Publish records an event in the core's outbox. e.Type must be one of the
	// manifest's Publishes; the host fills in ID, OccurredAt and Source when empty.
	Publish(ctx context.Context, e Event) error
	// PublishAll records events in the core's outbox in one transaction, in order, each
	// as Publish would, with one call and one commit for the lot: use it to relay a
	// local outbox. An event whose ID the core's outbox holds already is skipped without
	// an error, so a relay that delivers at least once may send a batch again. Any
	// other refusal (a type not in the manifest, a payload that is not JSON, more than
	// MaxPublishBatch events) refuses the whole batch and records none of it.
	PublishAll(ctx context.Context, events []Event) error
	// Audit appends an entry to the core's audit log.
	Audit(ctx context.Context, e AuditEntry) error
	// SealingKey returns the public key the ballots of the plugin's vote voteID are
	// sealed to (DESIGN.md §13). The key never changes for a vote, so ask once and
	// seal locally: BallotBox does both.
	SealingKey(ctx context.Context, voteID string) (seal.PublicKey, error)
	// Unseal opens at most MaxUnsealBatch ballots sealed to the plugin's vote voteID and
	// returns them in order, without padding. One that does not open fails the batch.
	// A plugin can open only its own votes' ballots.
	Unseal(ctx context.Context, voteID string, sealed [][]byte) ([][]byte, error)
}

// MaxUnsealBatch is the most ballots one Host.Unseal opens.
const MaxUnsealBatch = 20_000

// User is a person known to the core.
type User struct {
	ID          string
	DisplayName string
	Locale      string
	// Email is included; the plugin decides whom it may show it to.
	Email string
}

// Neighbourhood is an area of the city.
type Neighbourhood struct {
	ID       string
	Name     string
	Slug     string
	ParentID string
	Archived bool
}

// Membership is a verified membership of a user in a neighbourhood.
type Membership struct {
	UserID          string
	NeighbourhoodID string
	VerifiedAt      time.Time
}

// Organisation is an association, club or company known to the core.
type Organisation struct {
	ID               string
	Name             string
	Kind             string
	Verified         bool
	NeighbourhoodIDs []string
	// Representatives are the user IDs of its representatives.
	Representatives []string
}

// Event is something that happened, published by the core or a plugin.
type Event struct {
	// ID identifies the event; handlers use it to be idempotent.
	ID string
	// Type is namespaced, e.g. "hello.pinged" or "core.user.deleted".
	Type       string
	OccurredAt time.Time
	Payload    json.RawMessage
	// Source is "core" or the name of the publishing plugin.
	Source string
}

// AuditEntry is one line of the core's audit log.
type AuditEntry struct {
	ActorID string
	Action  string
	Domain  string
	Target  string
	Detail  map[string]any
}
