package pluginhost

import (
	"context"

	"github.com/kvarter/kvarter/core"
)

// Store is what the plugin host keeps in the core database: the policy a plugin's
// manifest brings, the read-only views of people and places plugins ask for, the
// outbox and delivery cursors, operators' commands, plugin status, and PostgreSQL store
// provisioning. sqlstore.PluginStore implements it; the node chooses it, so this
// package never depends on the SQL storage.
type Store interface {
	// Dialect is sdk.DialectSQLite or sdk.DialectPostgres. On PostgreSQL several
	// nodes share the database, each plugin gets a schema and login of its own, and
	// outbox sequence numbers may commit out of order.
	Dialect() string

	// RegisterPluginPolicy stores the role permissions a plugin's manifest declares
	// and says how many were new.
	RegisterPluginPolicy(ctx context.Context, plugin string, perms []core.RolePermission) (added int, err error)
	PrincipalOf(ctx context.Context, userID string) (*core.Principal, error)
	UsersByID(ctx context.Context, ids []string) ([]core.User, error)
	NeighbourhoodsByID(ctx context.Context, ids []string) ([]core.Neighbourhood, error)
	VerifiedMemberships(ctx context.Context, userIDs []string) ([]core.Membership, error)
	OrganisationsByID(ctx context.Context, ids []string) ([]core.PluginOrganisation, error)
	AuditForPlugin(ctx context.Context, plugin, actorID, action, domain, target string, detail map[string]any) error

	// Publish appends one event to the outbox (a conflict if its id is taken);
	// PublishAll appends a batch in one transaction, skips ids the outbox holds, and
	// says how many it added.
	Publish(ctx context.Context, e core.OutboxEvent) error
	PublishAll(ctx context.Context, events []core.OutboxEvent) (int, error)
	EventsAfter(ctx context.Context, after int64, limit int) ([]core.OutboxEvent, error)
	EventCursor(ctx context.Context, subscriber string) (int64, error)
	AdvanceEventCursor(ctx context.Context, subscriber string, seq int64) error
	RecordDeliveryFailure(ctx context.Context, subscriber string, reason string) error
	// TryEventLock runs fn unless another node delivers subscriber's events, and
	// reports whether it ran; WithMigrationLock waits for its turn.
	TryEventLock(ctx context.Context, subscriber string, fn func() error) (bool, error)
	WithMigrationLock(ctx context.Context, plugin string, fn func() error) error

	SavePluginStatus(ctx context.Context, st core.PluginStatus) error
	RecordPluginCommand(ctx context.Context, name, action string) (int64, error)
	PluginCommandsAfter(ctx context.Context, after int64) ([]core.PluginCommand, error)
	PluginWishes(ctx context.Context) (wishes map[string]string, lastSeq int64, err error)

	// DatabaseName, EnsureExtension and ProvisionPostgresStore serve PostgreSQL only.
	DatabaseName(ctx context.Context) (string, error)
	EnsureExtension(ctx context.Context, ext string) (installed bool, err error)
	ProvisionPostgresStore(ctx context.Context, schema, role string) (password string, err error)
}
