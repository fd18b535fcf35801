package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// The mail queue (core.MailQueueService): every mail of the core is a row first, so a
// mail is never lost with a request, a server that is down delays it only, and nodes
// sharing a database send each row once.

// MailQueueSettings tune the worker; the zero value takes the defaults.
type MailQueueSettings struct {
	// Workers send in parallel (default 4, as many as the sender's connections).
	Workers int
	// Batch is how many due rows one claim takes (default 100).
	Batch int
	// MaxAttempts is the tries before a mail is marked failed (default 8).
	MaxAttempts int
	// Backoff is the wait after the first failure, doubled after each (default one
	// minute; the eighth try comes about two hours after the first), at most MaxBackoff
	// (default six hours).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Lease is how long a claimed row stays with its worker: a node that dies while
	// sending leaves the row to another after it (default five minutes).
	Lease time.Duration
	// Poll is how often the worker looks for due rows when nothing woke it (default
	// two seconds: retries come due without a wake, and other nodes' rows too).
	Poll time.Duration
	// SendTimeout bounds one mail's composing and sending (default one minute).
	SendTimeout time.Duration
}

func (s MailQueueSettings) withDefaults() MailQueueSettings {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&s.Workers, 4)
	def(&s.Batch, 100)
	def(&s.MaxAttempts, 8)
	defD(&s.Backoff, time.Minute)
	defD(&s.MaxBackoff, 6*time.Hour)
	defD(&s.Lease, 5*time.Minute)
	defD(&s.Poll, 2*time.Second)
	defD(&s.SendTimeout, time.Minute)
	return s
}

// MailBackoff is the wait after a mail's attempts-th failure: base doubled per
// failure, at most limit.
func MailBackoff(attempts int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < attempts && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Outcomes of one claimed mail, for the metrics.
const (
	MailOutcomeSent    = "sent"
	MailOutcomeRetry   = "retry"
	MailOutcomeFailed  = "failed"
	MailOutcomeDropped = "dropped"
)

// MailQueue queues mail and runs the worker that sends it.
type MailQueue struct {
	DB    *DB
	Authz core.Authorizer
	// Mailer sends; nil while the node has no mail server, and mail stays queued.
	Mailer   core.Mailer
	Settings MailQueueSettings
	Logger   *slog.Logger
	// OnOutcome, when set, hears each claimed mail's outcome (MailOutcome*) by
	// purpose: the metrics count them.
	OnOutcome func(purpose, outcome string)

	once      sync.Once
	wake      chan struct{}
	mu        sync.RWMutex
	composers map[string]core.MailComposer
}

var _ core.MailQueueService = (*MailQueue)(nil)

func (q *MailQueue) init() {
	q.once.Do(func() {
		q.wake = make(chan struct{}, 1)
		q.Settings = q.Settings.withDefaults()
		if q.Logger == nil {
			q.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// RegisterComposer makes c the composer of rows of purpose queued without a Mail.
func (q *MailQueue) RegisterComposer(purpose string, c core.MailComposer) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.composers == nil {
		q.composers = map[string]core.MailComposer{}
	}
	q.composers[purpose] = c
}

func (q *MailQueue) composer(purpose string) core.MailComposer {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.composers[purpose]
}

// Wake tells this node's worker that mail was queued, so that it does not wait for
// its next poll. Enqueue wakes it itself; a caller of enqueueMails calls Wake after
// its commit.
func (q *MailQueue) Wake() {
	q.init()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Enqueue queues mails in one transaction (a mail whose Key is queued already is left
// out) and wakes the worker.
func (q *MailQueue) Enqueue(ctx context.Context, mails []core.QueuedMail) error {
	if err := q.DB.tx(ctx, func(tx *sqlx.Tx) error { return enqueueMails(ctx, tx, mails) }); err != nil {
		return err
	}
	q.Wake()
	return nil
}

// dueNow is the next_at of a freshly queued row: long past, so that it is due on any
// node whatever its clock (a test's included).
var dueNow = time.Unix(0, 0).UTC()

// enqueueMails queues mails in the caller's transaction, so that a mail is queued
// exactly when the change it tells of commits. It is idempotent on Key: a mail whose
// Key was queued before (sent or not) is not queued again. Rows go in multi-row
// INSERTs (enqueueRows at a time): a notification to ten thousand people queues ten
// thousand mails, which one statement each would take seconds to.
func enqueueMails(ctx context.Context, tx *sqlx.Tx, mails []core.QueuedMail) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	for chunk := range slices.Chunk(mails, enqueueRows) {
		var q strings.Builder
		q.WriteString(`INSERT INTO mail_queue (id, mail_key, user_id, purpose, ref, mail, state, attempts, next_at, created_at, updated_at) VALUES `)
		args := make([]any, 0, 8*len(chunk))
		for i, m := range chunk {
			if m.Key == "" || m.UserID == "" || m.Purpose == "" {
				return fmt.Errorf("enqueue mail: key, user and purpose are required (key %q)", m.Key)
			}
			var body *string
			if m.Mail != nil {
				b, err := json.Marshal(m.Mail)
				if err != nil {
					return fmt.Errorf("enqueue mail %s: %w", m.Key, err)
				}
				s := string(b)
				body = &s
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)")
			args = append(args, newID(), m.Key, m.UserID, m.Purpose, m.Ref, body, dueNow, now, now)
		}
		q.WriteString(` ON CONFLICT (mail_key) DO NOTHING`)
		if _, err := exec(ctx, tx, q.String(), args...); err != nil {
			return fmt.Errorf("enqueue %d mails: %w", len(chunk), err)
		}
	}
	return nil
}

// enqueueRows is how many mails one INSERT queues: 9 parameters each, well under
// SQLite's 32,766 and PostgreSQL's 65,535.
const enqueueRows = 1000

const mailRowColumns = `id, mail_key, user_id, purpose, ref, mail, attempts`

type mailRow struct {
	ID       string  `db:"id"`
	Key      string  `db:"mail_key"`
	UserID   string  `db:"user_id"`
	Purpose  string  `db:"purpose"`
	Ref      string  `db:"ref"`
	Mail     *string `db:"mail"`
	Attempts int     `db:"attempts"`
}

// Run sends queued mail until ctx ends: it claims due rows, sends them with Workers
// goroutines, and waits for a wake or the next poll when nothing is due. Without a
// Mailer it returns at once and mail stays queued.
func (q *MailQueue) Run(ctx context.Context) {
	q.init()
	if q.Mailer == nil {
		q.Logger.Warn("mail: no mail server configured; mail stays queued until one is (docs/operators.md, \"Mail\")")
		return
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := q.SendDue(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			q.Logger.Warn("mail: claiming queued mail failed", "error", err)
		}
		if n == q.Settings.Batch {
			continue // more may be due
		}
		timer.Reset(q.Settings.Poll)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-timer.C:
		}
	}
}

// SendDue claims one batch of due mail and sends it, returning how many rows it
// claimed. Run calls it in a loop; tests call it to step the queue. The batch's
// recipients are read in one query and its sent rows marked in one, so a mail costs
// the database little more than its share of three statements a batch.
func (q *MailQueue) SendDue(ctx context.Context) (int, error) {
	q.init()
	if q.Mailer == nil {
		return 0, nil
	}
	rows, err := q.claim(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	recipients, err := q.recipients(ctx, rows)
	if err != nil {
		// Claimed but not tried: the rows come back after their lease.
		return len(rows), err
	}
	work := make(chan mailRow)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sent []string
	for range min(q.Settings.Workers, len(rows)) {
		wg.Go(func() {
			for r := range work {
				if q.send(ctx, r, recipients[r.UserID]) {
					mu.Lock()
					sent = append(sent, r.ID)
					mu.Unlock()
				}
			}
		})
	}
	for _, r := range rows {
		work <- r
	}
	close(work)
	wg.Wait()
	if len(sent) > 0 {
		// The bodies go with the send: account mail holds a live link.
		query, args, err := in(q.DB.db, `UPDATE mail_queue SET state = 'sent', mail = NULL, last_error = '', updated_at = ? WHERE id IN (?)`, q.DB.now(), sent)
		if err == nil {
			_, err = q.DB.db.ExecContext(context.WithoutCancel(ctx), query, args...)
		}
		if err != nil {
			// Sent, but still marked queued: they go again after the lease. Rare,
			// and better than a lost mail.
			q.Logger.Warn("mail: marking sent mail failed", "count", len(sent), "error", err)
		}
	}
	return len(rows), nil
}

func (q *MailQueue) claim(ctx context.Context) ([]mailRow, error) {
	query := claimMailSQLite
	if q.DB.Dialect == Postgres {
		query = claimMailPostgres
	}
	now := q.DB.now()
	var rows []mailRow
	err := q.DB.tx(ctx, func(tx *sqlx.Tx) error {
		return selectAll(ctx, tx, &rows, query, now.Add(q.Settings.Lease), now, now, q.Settings.Batch)
	})
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	return rows, nil
}

// recipient is the account a queued mail goes to, as it is at send time.
type recipient struct {
	ID          string     `db:"id"`
	Email       *string    `db:"email"`
	DisplayName string     `db:"display_name"`
	VerifiedAt  *time.Time `db:"email_verified_at"`
	DeletedAt   *time.Time `db:"deleted_at"`
}

// recipients reads the accounts of a batch's rows, by id.
func (q *MailQueue) recipients(ctx context.Context, rows []mailRow) (map[string]recipient, error) {
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.UserID)
	}
	query, args, err := in(q.DB.db, `SELECT id, email, display_name, email_verified_at, deleted_at FROM users WHERE id IN (?)`, ids)
	if err != nil {
		return nil, fmt.Errorf("mail recipients: %w", err)
	}
	var list []recipient
	if err := sqlx.SelectContext(ctx, q.DB.db, &list, query, args...); err != nil {
		return nil, fmt.Errorf("mail recipients: %w", err)
	}
	out := make(map[string]recipient, len(list))
	for _, r := range list {
		out[r.ID] = r
	}
	return out, nil
}

// send makes and sends one claimed row, records a failure or a drop, and reports
// whether the server took it. What is checked here, not when queued: the address may
// have changed or lost its verification since.
func (q *MailQueue) send(ctx context.Context, r mailRow, to recipient) bool {
	ctx, cancel := context.WithTimeout(ctx, q.Settings.SendTimeout)
	defer cancel()
	if to.Email == nil || *to.Email == "" || to.DeletedAt != nil {
		q.drop(ctx, r, core.MailDropAddressGone)
		return false
	}
	if r.Purpose != core.PurposeVerifyEmail && to.VerifiedAt == nil {
		q.drop(ctx, r, core.MailDropUnverified)
		return false
	}
	var m core.Mail
	if r.Mail != nil {
		if err := json.Unmarshal([]byte(*r.Mail), &m); err != nil {
			q.failed(ctx, r, "", fmt.Errorf("read queued mail: %w", err))
			return false
		}
		// Account mail was written for the address of its day; sent to another, it
		// would confirm or reset for the wrong one.
		if core.NormalizeEmail(m.To) != core.NormalizeEmail(*to.Email) {
			q.drop(ctx, r, core.MailDropAddressChange)
			return false
		}
	} else {
		c := q.composer(r.Purpose)
		if c == nil {
			q.drop(ctx, r, core.MailDropNoComposer)
			return false
		}
		var err error
		if m, err = c.Compose(ctx, core.QueuedMail{Key: r.Key, UserID: r.UserID, Purpose: r.Purpose, Ref: r.Ref}); err != nil {
			q.failed(ctx, r, "", fmt.Errorf("compose: %w", err))
			return false
		}
		m.To = *to.Email
		if m.ToName == "" {
			m.ToName = to.DisplayName
		}
	}
	if err := q.Mailer.Send(ctx, m); err != nil {
		q.failed(ctx, r, m.To, err)
		return false
	}
	q.outcome(r.Purpose, MailOutcomeSent)
	return true
}

// failed records a failed try: queued again after the backoff, or failed for good
// after MaxAttempts. The error loses the address before it is logged or stored.
func (q *MailQueue) failed(ctx context.Context, r mailRow, address string, cause error) {
	msg := redact(cause.Error(), address)
	now := q.DB.now()
	state, next, outcome := core.MailQueued, now.Add(MailBackoff(r.Attempts, q.Settings.Backoff, q.Settings.MaxBackoff)), MailOutcomeRetry
	if r.Attempts >= q.Settings.MaxAttempts {
		state, outcome = core.MailFailed, MailOutcomeFailed
	}
	if _, err := exec(context.WithoutCancel(ctx), q.DB.db, `UPDATE mail_queue SET state = ?, next_at = ?, last_error = ?, updated_at = ? WHERE id = ?`,
		state, next, msg, now, r.ID); err != nil {
		q.Logger.Warn("mail: recording a failure failed", "mail_id", r.ID, "error", err)
	}
	q.Logger.Warn("mail: sending failed", "mail_id", r.ID, "purpose", r.Purpose, "attempt", r.Attempts, "state", state, "error", msg)
	q.outcome(r.Purpose, outcome)
}

func (q *MailQueue) drop(ctx context.Context, r mailRow, reason string) {
	if _, err := exec(context.WithoutCancel(ctx), q.DB.db, `UPDATE mail_queue SET state = 'dropped', mail = NULL, last_error = ?, updated_at = ? WHERE id = ?`,
		reason, q.DB.now(), r.ID); err != nil {
		q.Logger.Warn("mail: recording a drop failed", "mail_id", r.ID, "error", err)
	}
	q.Logger.Info("mail: dropped", "mail_id", r.ID, "purpose", r.Purpose, "reason", reason)
	q.outcome(r.Purpose, MailOutcomeDropped)
}

func (q *MailQueue) outcome(purpose, outcome string) {
	if q.OnOutcome != nil {
		q.OnOutcome(purpose, outcome)
	}
}

// redact takes the recipient's address out of a server's answer ("550 <a@b>: no such
// user"), so that logs and the admin page never show it.
func redact(msg, address string) string {
	if address != "" {
		msg = strings.ReplaceAll(msg, address, "<recipient>")
		if local, _, ok := strings.Cut(address, "@"); ok && len(local) > 2 {
			msg = strings.ReplaceAll(msg, local, "<recipient>")
		}
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return strings.ToValidUTF8(msg, "")
}

// MailDepth counts queued and failed mail, for the metrics.
func (q *MailQueue) MailDepth(ctx context.Context) (queued, failed int, err error) {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := selectAll(ctx, q.DB.db, &rows, `SELECT state, COUNT(*) AS n FROM mail_queue WHERE state IN ('queued', 'failed') GROUP BY state`); err != nil {
		return 0, 0, fmt.Errorf("mail depth: %w", err)
	}
	for _, r := range rows {
		if r.State == core.MailQueued {
			queued = r.N
		} else {
			failed = r.N
		}
	}
	return queued, failed, nil
}

// recentMailFailures is how many failures the status lists.
const recentMailFailures = 20

// MailStatus describes the queue to a city administrator.
func (q *MailQueue) MailStatus(ctx context.Context) (core.MailStatus, error) {
	if !q.Authz.Can(core.PrincipalFrom(ctx), core.PermMailManage, core.DomainCity) {
		return core.MailStatus{}, core.Errorf(core.EFORBIDDEN, "Only city administrators may see the mail queue.")
	}
	st := core.MailStatus{Configured: q.Mailer != nil, Recent: []core.MailFailure{}}
	var err error
	if st.Queued, st.Failed, err = q.MailDepth(ctx); err != nil {
		return st, err
	}
	if err := get(ctx, q.DB.db, &st.Retrying, `SELECT COUNT(*) FROM mail_queue WHERE state = 'queued' AND last_error <> ''`); err != nil {
		return st, fmt.Errorf("mail status: %w", err)
	}
	if err := selectAll(ctx, q.DB.db, &st.Recent, `SELECT id, purpose, state, attempts, last_error, updated_at FROM mail_queue
WHERE last_error <> '' AND state IN ('queued', 'failed', 'dropped') ORDER BY updated_at DESC, id DESC LIMIT ?`, recentMailFailures); err != nil {
		return st, fmt.Errorf("mail status: %w", err)
	}
	for i := range st.Recent {
		st.Recent[i].At = st.Recent[i].At.UTC()
	}
	return st, nil
}

// RetryFailed queues every failed mail again with a fresh set of tries.
func (q *MailQueue) RetryFailed(ctx context.Context) (int, error) {
	if !q.Authz.Can(core.PrincipalFrom(ctx), core.PermMailManage, core.DomainCity) {
		return 0, core.Errorf(core.EFORBIDDEN, "Only city administrators may retry mail.")
	}
	now := q.DB.now()
	var n int64
	err := q.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if n, err = exec(ctx, tx, `UPDATE mail_queue SET state = 'queued', attempts = 0, next_at = ?, updated_at = ? WHERE state = 'failed'`, now, now); err != nil {
			return fmt.Errorf("retry mail: %w", err)
		}
		if n == 0 {
			return nil
		}
		return recordAudit(ctx, tx, now, "mail.retried", core.DomainCity, "mail_queue", map[string]any{"count": n})
	})
	if err != nil {
		return 0, err
	}
	q.Wake()
	return int(n), nil
}
