package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// recordAudit appends one entry to the audit log inside tx. The actor and request id
// come from ctx.
func recordAudit(ctx context.Context, tx sqlx.ExtContext, at time.Time, action, domain, target string, detail map[string]any) error {
	var actor *string
	if p := core.PrincipalFrom(ctx); p.Authenticated() {
		actor = &p.UserID
	}
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	_, err = exec(ctx, tx, `INSERT INTO audit_log (id, at, actor_id, action, domain, target, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		newID(), at, actor, action, domain, target, core.RequestIDFrom(ctx), string(b))
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// publishEvent writes an event to the outbox inside tx, so it is announced exactly when
// the change it describes commits.
func publishEvent(ctx context.Context, tx sqlx.ExtContext, at time.Time, eventType string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("publish %s: %w", eventType, err)
	}
	if _, err := exec(ctx, tx, `INSERT INTO outbox_events (id, type, source, payload, occurred_at) VALUES (?, ?, 'core', ?, ?)`,
		newID(), eventType, string(b), at); err != nil {
		return fmt.Errorf("publish %s: %w", eventType, err)
	}
	return nil
}

// AuditService reads the audit log.
type AuditService struct {
	DB    *DB
	Authz core.Authorizer
}

var _ core.AuditService = (*AuditService)(nil)

type auditRow struct {
	Seq       int64     `db:"seq"`
	ID        string    `db:"id"`
	At        time.Time `db:"at"`
	ActorID   *string   `db:"actor_id"`
	Action    string    `db:"action"`
	Domain    string    `db:"domain"`
	Target    string    `db:"target"`
	RequestID string    `db:"request_id"`
	Detail    string    `db:"detail"`
}

// ListAudit returns entries newest first. Only holders of core.audit.read in the city
// domain may read it.
func (s *AuditService) ListAudit(ctx context.Context, f core.AuditFilter, page core.Page) ([]core.AuditEntry, string, error) {
	if !s.Authz.Can(core.PrincipalFrom(ctx), core.PermAuditRead, core.DomainCity) {
		return nil, "", core.Errorf(core.EFORBIDDEN, "Only city administrators may read the audit log.")
	}
	page = page.Normalize()
	cur, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT seq, id, at, actor_id, action, domain, target, request_id, detail FROM audit_log WHERE 1=1`
	var args []any
	if cur != "" {
		seq, err := strconv.ParseInt(cur, 10, 64)
		if err != nil {
			return nil, "", badCursor()
		}
		q += ` AND seq < ?`
		args = append(args, seq)
	}
	for _, c := range []struct {
		col, val string
	}{{"actor_id", f.ActorID}, {"action", f.Action}, {"domain", f.Domain}, {"target", f.Target}} {
		if c.val != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.val)
		}
	}
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q += ` AND at < ?`
		args = append(args, f.Until.UTC())
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, page.Limit+1)
	var rows []auditRow
	if err := selectAll(ctx, s.DB.db, &rows, q, args...); err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	rows, next := pageRows(rows, page, func(r auditRow) string { return strconv.FormatInt(r.Seq, 10) })
	out := make([]core.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = core.AuditEntry{ID: r.ID, At: r.At.UTC(), ActorID: r.ActorID, Action: r.Action, Domain: r.Domain,
			Target: r.Target, RequestID: r.RequestID, Detail: json.RawMessage(r.Detail)}
	}
	return out, next, nil
}
