package core

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry records one security-relevant action. The log is append-only.
type AuditEntry struct {
	ID        string          `json:"id"`
	At        time.Time       `json:"at"`
	ActorID   *string         `json:"actor_id"`
	Action    string          `json:"action"`
	Domain    string          `json:"domain"`
	Target    string          `json:"target"`
	RequestID string          `json:"request_id"`
	Detail    json.RawMessage `json:"detail"`
}

// AuditFilter narrows an audit query. Zero fields do not filter.
type AuditFilter struct {
	ActorID string
	Action  string
	Domain  string
	Target  string
	Since   time.Time
	Until   time.Time
}

// AuditService reads the audit log.
type AuditService interface {
	ListAudit(ctx context.Context, f AuditFilter, page Page) ([]AuditEntry, string, error)
}

// Core event types published to the outbox.
const (
	EventMembershipVerified = "core.membership.verified"
	EventMembershipEnded    = "core.membership.ended"
	EventUserDeleted        = "core.user.deleted"
)
