package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// Digests: once a day at the city's digest hour (local time, so 07:00 stays 07:00
// across a DST change) every node checks whether the day's digest is due; the first to
// record the period in notification_digest_runs sends it, so two nodes send it once.
// A digest mails each person with undigested items one mail and marks those items as
// carried by it in the same transaction that queues the mail (keyed by period and
// person), so an item is never mailed twice, even by a node that takes over a run
// another node left unfinished. People with nothing new get nothing.

// digestLease is how long a claimed run is another node's: a run not finished by then
// (its node stopped) is taken over.
const digestLease = 10 * time.Minute

// digestBatch is how many people one transaction of a digest run handles.
const digestBatch = 200

// digestPeriod is one digest to send: its name ("daily:2026-03-29"), which items it
// carries, and the time it became due (items stored after it wait for the next).
type digestPeriod struct {
	name   string
	digest core.Delivery
	due    time.Time
}

// duePeriods are the digests due at now: today's daily one once the local digest hour
// has come, and the weekly one on its weekday too.
func (s *NotificationService) duePeriods(now time.Time) []digestPeriod {
	zone := s.Settings.Zone
	if zone == nil {
		zone = time.UTC
	}
	local := now.In(zone)
	// time.Date resolves an hour that a spring DST change skips to the hour after it.
	due := time.Date(local.Year(), local.Month(), local.Day(), s.Settings.DigestHour, 0, 0, 0, zone)
	if now.Before(due) {
		return nil
	}
	day := local.Format(time.DateOnly)
	out := []digestPeriod{{name: "daily:" + day, digest: core.DeliverDaily, due: due}}
	if local.Weekday() == s.Settings.DigestWeekday {
		out = append(out, digestPeriod{name: "weekly:" + day, digest: core.DeliverWeekly, due: due})
	}
	return out
}

// RunDueDigests sends the digests due now that no node has sent. It reports how many
// digest mails it queued.
func (s *NotificationService) RunDueDigests(ctx context.Context) (int, error) {
	sent := 0
	for _, p := range s.duePeriods(s.DB.Clock.Now()) {
		claimed, err := s.claimDigest(ctx, p.name)
		if err != nil {
			return sent, err
		}
		if !claimed {
			continue
		}
		n, err := s.sendDigest(ctx, p)
		sent += n
		if err != nil {
			return sent, fmt.Errorf("digest %s: %w", p.name, err)
		}
		if _, err := exec(ctx, s.DB.db, `UPDATE notification_digest_runs SET finished_at = ? WHERE period = ?`, s.DB.now(), p.name); err != nil {
			return sent, fmt.Errorf("digest %s: finish: %w", p.name, err)
		}
	}
	return sent, nil
}

// claimDigest records that this node sends period, or takes over a stale claim; it
// reports false when another node has it.
func (s *NotificationService) claimDigest(ctx context.Context, period string) (bool, error) {
	now := s.DB.now()
	n, err := exec(ctx, s.DB.db, `INSERT INTO notification_digest_runs (period, claimed_at) VALUES (?, ?) ON CONFLICT (period) DO NOTHING`, period, now)
	if err != nil {
		return false, fmt.Errorf("claim digest %s: %w", period, err)
	}
	if n == 1 {
		return true, nil
	}
	n, err = exec(ctx, s.DB.db, `UPDATE notification_digest_runs SET claimed_at = ? WHERE period = ? AND finished_at IS NULL AND claimed_at < ?`,
		now, period, now.Add(-digestLease))
	if err != nil {
		return false, fmt.Errorf("take over digest %s: %w", period, err)
	}
	return n == 1, nil
}

// sendDigest queues one digest mail per person with items for p, a batch of people
// per transaction.
func (s *NotificationService) sendDigest(ctx context.Context, p digestPeriod) (int, error) {
	var people []string
	if err := selectAll(ctx, s.DB.db, &people, `SELECT DISTINCT n.user_id FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.digest = ? AND n.digest_ref IS NULL AND n.created_at <= ? AND n.read_at IS NULL AND u.deleted_at IS NULL
		ORDER BY n.user_id`, string(p.digest), p.due); err != nil {
		return 0, fmt.Errorf("find people: %w", err)
	}
	sent := 0
	for batch := range slices.Chunk(people, digestBatch) {
		err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
			n, err := s.digestBatch(ctx, tx, p, batch)
			sent += n
			return err
		})
		s.mailQueued(sent)
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// digestBatch marks the unread, undigested items of people as carried by p's digest
// and queues a digest mail for each person whose items it marked. Items read in the
// app meanwhile are marked too, without a mail of their own.
func (s *NotificationService) digestBatch(ctx context.Context, tx *sqlx.Tx, p digestPeriod, people []string) (int, error) {
	var marked []struct {
		UserID string `db:"user_id"`
		Unread bool   `db:"unread"`
	}
	if err := selectAll(ctx, tx, &marked, `UPDATE notifications SET digest_ref = ?
		WHERE digest = ? AND digest_ref IS NULL AND created_at <= ? AND user_id IN (SELECT value FROM `+s.DB.jsonStrings()+`)
		RETURNING user_id, read_at IS NULL AS unread`, p.name, string(p.digest), p.due, jsonArray(people)); err != nil {
		return 0, fmt.Errorf("mark digested: %w", err)
	}
	seen := map[string]bool{}
	var mails []core.QueuedMail
	for _, m := range marked {
		if m.Unread && !seen[m.UserID] {
			seen[m.UserID] = true
			mails = append(mails, core.QueuedMail{Key: "digest:" + p.name + ":" + m.UserID, UserID: m.UserID, Purpose: core.PurposeDigest, Ref: p.name})
		}
	}
	if len(mails) == 0 {
		return 0, nil
	}
	if err := enqueueMails(ctx, tx, mails); err != nil {
		return 0, fmt.Errorf("queue digests: %w", err)
	}
	return len(mails), nil
}

// RunDigests checks every interval whether a digest is due, until ctx ends; the first
// check is one interval after the start.
func (s *NotificationService) RunDigests(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.RunDueDigests(ctx); err != nil && ctx.Err() == nil {
			s.logger().Error("notification digest failed; it is tried again", "err", err)
		}
	}
}
