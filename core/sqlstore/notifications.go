package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/kvarter/kvarter/core"
)

// Notifications (DESIGN.md §11, issue 17): a request from a plugin's outbox is stored
// once, with its text in every language it came in, and once per recipient, naming the
// language picked for them; the recipient's delivery of its kind decides whether a mail
// is queued now, the item waits for a digest, or it stays in the app. Everything a
// batch changes, its mails included, is written in one transaction, so a batch relayed
// again (on any node) finds its rows and adds nothing.

// NotificationSettings tune the notification service; the node fills them from config.
type NotificationSettings struct {
	// HourlyCap is how many mails of their own one person gets per hour; the rest of
	// the hour's immediate items fold into their next daily digest.
	HourlyCap int
	// Languages are the city's languages, the default first: the text of a person whose
	// language a request lacks is picked in the city's default, else English.
	Languages []string
	// UnsubscribeKey signs one-click unsubscribe links (derived from the node's key
	// file, so every node signs and checks alike).
	UnsubscribeKey []byte
	// Zone is the city's time zone; digests go out at DigestHour local time, the
	// weekly one on DigestWeekday.
	Zone          *time.Location
	DigestHour    int
	DigestWeekday time.Weekday
	// CityName and BaseURL (the city's public address, "https://kvarter.example.org")
	// go into the mails: the item's link and the unsubscribe link are absolute.
	CityName string
	BaseURL  string
}

// DefaultNotificationSettings are a cap of 10 mails an hour and digests at 07:00 (the
// weekly one on Mondays) in UTC.
func DefaultNotificationSettings() NotificationSettings {
	return NotificationSettings{HourlyCap: 10, Languages: []string{"en"}, Zone: time.UTC, DigestHour: 7, DigestWeekday: time.Monday}
}

const (
	// maxNotifyText bounds a subject a person follows (core.MaxNotificationSubject).
	maxNotifyText = core.MaxNotificationSubject
	// notifyInsertRows is how many recipients one INSERT stores: 8 parameters each,
	// well under SQLite's 32,766 and PostgreSQL's 65,535.
	notifyInsertRows = 1000
)

// NotificationService stores and delivers notifications, and serves a person's list,
// preferences and follows. It implements core.NotificationSink (for the plugin host)
// and core.NotificationService (for the pages and the API).
type NotificationService struct {
	DB       *DB
	Settings NotificationSettings

	// OnMailQueued, when set, is called after a transaction that queued mail commits:
	// it wakes this node's mail worker (MailQueue.Wake).
	OnMailQueued func()

	mu    sync.RWMutex
	kinds map[string]core.NotificationKind // by name
}

// mailQueued tells the mail worker that mail is waiting.
func (s *NotificationService) mailQueued(n int) {
	if n > 0 && s.OnMailQueued != nil {
		s.OnMailQueued()
	}
}

var (
	_ core.NotificationSink    = (*NotificationService)(nil)
	_ core.NotificationService = (*NotificationService)(nil)
)

// DeclareKinds replaces the kinds of source. A kind without a valid default is kept
// with in-app delivery: a plugin's slip should not mail people it did not mean to.
func (s *NotificationService) DeclareKinds(source string, kinds []core.NotificationKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kinds == nil {
		s.kinds = map[string]core.NotificationKind{}
	}
	for name, k := range s.kinds {
		if k.Source == source {
			delete(s.kinds, name)
		}
	}
	for _, k := range kinds {
		k.Source = source
		if !k.Default.Valid() {
			s.logger().Warn("notification kind declares no valid default delivery; in-app only", "source", source, "kind", k.Name, "default", k.Default)
			k.Default = core.DeliverInApp
		}
		s.kinds[k.Name] = k
	}
}

// kind is a declared kind by name.
func (s *NotificationService) kind(name string) (core.NotificationKind, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.kinds[name]
	return k, ok
}

// declaredKinds are every declared kind, by source and name.
func (s *NotificationService) declaredKinds() []core.NotificationKind {
	s.mu.RLock()
	out := make([]core.NotificationKind, 0, len(s.kinds))
	for _, k := range s.kinds {
		out = append(out, k)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b core.NotificationKind) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func (s *NotificationService) logger() *slog.Logger {
	if s.DB != nil && s.DB.Logger != nil {
		return s.DB.Logger
	}
	return slog.Default()
}

// Notify stores each request for its recipients and queues the mails of those who
// hear of its kind immediately, all in one transaction. A request that breaks a rule
// (an undeclared kind, an id or text beyond the limits) refuses the whole batch with
// EINVALID, before anything is written.
func (s *NotificationService) Notify(ctx context.Context, reqs []core.NotificationRequest) error {
	kinds := make([]core.NotificationKind, len(reqs))
	for i, r := range reqs {
		k, err := s.checkRequest(r)
		if err != nil {
			if len(reqs) > 1 {
				return fmt.Errorf("notification %d of %d: %w", i+1, len(reqs), err)
			}
			return err
		}
		kinds[i] = k
	}
	queued := 0
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		queued = 0
		for i, r := range reqs {
			n, err := s.notifyOne(ctx, tx, r, kinds[i])
			if err != nil {
				return fmt.Errorf("notify %s: %w", r.ID, err)
			}
			queued += n
		}
		return nil
	})
	if err == nil {
		s.mailQueued(queued)
	}
	return err
}

// checkRequest refuses a request the service cannot store as it is: one that fails
// its own Check, or of a kind its source did not declare.
func (s *NotificationService) checkRequest(r core.NotificationRequest) (core.NotificationKind, error) {
	f := core.Fields{}
	k, ok := s.kind(r.Kind)
	switch {
	case !ok:
		f.Add("kind", core.RuleFormat, fmt.Sprintf("%q is not a declared notification kind; declare it in the manifest's notifications", r.Kind))
	case r.Source != "" && k.Source != r.Source:
		f.Add("kind", core.RuleFormat, fmt.Sprintf("%q is declared by %s, not %s", r.Kind, k.Source, r.Source))
	}
	if err := r.Check(); err != nil {
		if e, ok := err.(*core.Error); ok {
			for field, problem := range e.Fields {
				if field != "rule" {
					f.Add(field, e.Fields["rule"], problem)
				}
			}
		} else {
			return k, err
		}
	}
	return k, f.Err()
}

// plainText reports whether s is valid UTF-8 of at most max bytes without control
// characters.
func plainText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// recipientRow is one person a request reaches, with what decides their delivery.
type recipientRow struct {
	UserID   string  `db:"id"`
	Language string  `db:"language"`
	Chosen   *string `db:"chosen"`
	Mailed   int     `db:"mailed"`
}

// notifyOne stores one request and its recipients' rows and queues their mails; it
// reports how many mails it queued.
func (s *NotificationService) notifyOne(ctx context.Context, tx *sqlx.Tx, r core.NotificationRequest, k core.NotificationKind) (int, error) {
	now := s.DB.now()
	occurred := r.OccurredAt.UTC().Truncate(time.Microsecond)
	if r.OccurredAt.IsZero() {
		occurred = now
	}
	if _, err := exec(ctx, tx, `INSERT INTO notification_requests (id, kind, source, subject, link, occurred_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, r.ID, r.Kind, k.Source, r.Subject, r.Link, occurred, now); err != nil {
		return 0, fmt.Errorf("store request: %w", err)
	}
	if err := s.storeTexts(ctx, tx, r); err != nil {
		return 0, err
	}
	recipients, err := s.resolveRecipients(ctx, tx, r, now)
	if err != nil {
		return 0, err
	}
	if len(recipients) == 0 {
		return 0, nil
	}
	rows := make([]notificationInsert, len(recipients))
	for i, rc := range recipients {
		d := k.Default
		if rc.Chosen != nil && core.Delivery(*rc.Chosen).Valid() {
			d = core.Delivery(*rc.Chosen)
		}
		row := notificationInsert{id: newID(), userID: rc.UserID, language: s.pickLanguage(r.Texts, rc.Language), delivery: d}
		switch d {
		case core.DeliverImmediately:
			// The hour's mails counted are those committed or stored by this batch:
			// batches for one person in flight at once on two connections may each
			// send the last mail under the cap. A plugin's outbox relays in order, so
			// that takes two sources at the same instant.
			if rc.Mailed < s.cap() {
				row.mailed = true
			} else {
				// Over the hourly cap: the next daily digest carries it.
				row.digest = string(core.DeliverDaily)
			}
		case core.DeliverDaily, core.DeliverWeekly:
			row.digest = string(d)
		}
		rows[i] = row
	}
	if err := s.insertNotifications(ctx, tx, r.ID, rows, now); err != nil {
		return 0, err
	}
	return queueNotificationMails(ctx, tx, r.ID, now)
}

// queueNotificationMails queues the mail of each notification of the request that this
// transaction stored to be mailed (mailed_at = now): the set-based twin of
// enqueueMails, keyed alike ("notification:<id>", so a row queued already is left
// out), with the notification's id as the row's. One statement whatever the number of
// recipients, with nothing sent from Go per row, keeps a fan-out to ten thousand
// people within its budget (BenchmarkNotificationService_FanOut).
func queueNotificationMails(ctx context.Context, tx *sqlx.Tx, requestID string, now time.Time) (int, error) {
	n, err := exec(ctx, tx, `INSERT INTO mail_queue (id, mail_key, user_id, purpose, ref, mail, state, attempts, next_at, created_at, updated_at)
		SELECT n.id, 'notification:' || n.id, n.user_id, ?, n.id, NULL, 'queued', 0, ?, ?, ?
		FROM notifications n WHERE n.request_id = ? AND n.mailed_at = ?
		ON CONFLICT (mail_key) DO NOTHING`, core.PurposeNotification, dueNow, now, now, requestID, now)
	if err != nil {
		return 0, fmt.Errorf("queue mails: %w", err)
	}
	return int(n), nil
}

func (s *NotificationService) cap() int {
	if s.Settings.HourlyCap <= 0 {
		return DefaultNotificationSettings().HourlyCap
	}
	return s.Settings.HourlyCap
}

// storeTexts stores the request's text in each language once; a request delivered
// again keeps the texts it was first stored with.
func (s *NotificationService) storeTexts(ctx context.Context, tx *sqlx.Tx, r core.NotificationRequest) error {
	tags := make([]string, 0, len(r.Texts))
	for tag := range r.Texts {
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	var b strings.Builder
	b.WriteString(`INSERT INTO notification_texts (request_id, language, title, body) VALUES `)
	args := make([]any, 0, 4*len(tags))
	for i, tag := range tags {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?)")
		args = append(args, r.ID, tag, r.Texts[tag].Title, r.Texts[tag].Body)
	}
	b.WriteString(` ON CONFLICT (request_id, language) DO NOTHING`)
	if _, err := exec(ctx, tx, b.String(), args...); err != nil {
		return fmt.Errorf("store texts: %w", err)
	}
	return nil
}

// resolveRecipients finds the people a request reaches and has not reached yet: its
// recipients and the followers of its subjects, minus Except, among the people who
// exist and have not erased their account; with each one's language, their chosen
// delivery of the kind, and how many mails of their own they got in the last hour.
// The id lists travel as one JSON array parameter each, so ten thousand recipients
// are one statement. A mail is queued when its row is stored, so the hour's mails are
// found by created_at on the list's index, and no index of its own slows every insert.
func (s *NotificationService) resolveRecipients(ctx context.Context, tx *sqlx.Tx, r core.NotificationRequest, now time.Time) ([]recipientRow, error) {
	list := s.DB.jsonStrings()
	q := `SELECT u.id, u.language, p.delivery AS chosen,
			(SELECT count(*) FROM notifications m WHERE m.user_id = u.id AND m.created_at > ? AND m.mailed_at IS NOT NULL) AS mailed
		FROM users u
		LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.kind = ?
		WHERE u.deleted_at IS NULL
		AND (u.id IN (SELECT value FROM ` + list + `)
			OR u.id IN (SELECT f.user_id FROM follows f WHERE f.subject IN (SELECT value FROM ` + list + `)))
		AND u.id NOT IN (SELECT value FROM ` + list + `)
		AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.request_id = ? AND n.user_id = u.id)
		ORDER BY u.id`
	var rows []recipientRow
	if err := selectAll(ctx, tx, &rows, q, now.Add(-time.Hour), r.Kind,
		jsonArray(r.Recipients), jsonArray(r.Followers), jsonArray(r.Except), r.ID); err != nil {
		return nil, fmt.Errorf("resolve recipients: %w", err)
	}
	return rows, nil
}

// jsonStrings is a table function of the strings in one JSON array parameter, with
// the column value.
func (d *DB) jsonStrings() string {
	if d.Dialect == Postgres {
		return `jsonb_array_elements_text(CAST(? AS jsonb))`
	}
	return `json_each(?)`
}

func jsonArray(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// pickLanguage is the language of the text a person reads: theirs, else the city's
// default, else English, else the first the request has (by tag, so every node picks
// the same). A regional tag falls back to its language ("sv-FI" reads "sv").
func (s *NotificationService) pickLanguage(texts map[string]core.NotificationText, userLang string) string {
	cityDefault := "en"
	if len(s.Settings.Languages) > 0 {
		cityDefault = s.Settings.Languages[0]
	}
	for _, want := range []string{userLang, baseLanguage(userLang), cityDefault, "en"} {
		if _, ok := texts[want]; ok && want != "" {
			return want
		}
	}
	tags := make([]string, 0, len(texts))
	for tag := range texts {
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	return tags[0]
}

func baseLanguage(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	return base
}

// notificationInsert is one recipient's row as decided in Go.
type notificationInsert struct {
	id, userID, language string
	delivery             core.Delivery
	mailed               bool
	digest               string // "" when no digest carries it
}

// insertNotifications stores the rows in multi-row INSERTs. A row a concurrent
// delivery of the same request stored first (UNIQUE (request_id, user_id)) is
// skipped: that delivery queued its mail.
func (s *NotificationService) insertNotifications(ctx context.Context, tx *sqlx.Tx, requestID string, rows []notificationInsert, now time.Time) error {
	if s.DB.Dialect == Postgres {
		return insertNotificationsPostgres(ctx, tx, requestID, rows, now)
	}
	for chunk := range slices.Chunk(rows, notifyInsertRows) {
		var b strings.Builder
		b.WriteString(`INSERT INTO notifications (id, request_id, user_id, language, delivery, created_at, mailed_at, digest) VALUES `)
		args := make([]any, 0, 8*len(chunk))
		for i, row := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			var mailed *time.Time
			if row.mailed {
				mailed = &now
			}
			var digest *string
			if row.digest != "" {
				digest = &row.digest
			}
			args = append(args, row.id, requestID, row.userID, row.language, string(row.delivery), now, mailed, digest)
		}
		b.WriteString(` ON CONFLICT (request_id, user_id) DO NOTHING`)
		if _, err := exec(ctx, tx, b.String(), args...); err != nil {
			return fmt.Errorf("store notifications: %w", err)
		}
	}
	return nil
}

// insertNotificationsPostgres is insertNotifications as one statement of one array per
// column (dialect-only: unnest). PostgreSQL binds six arrays far faster than the
// 80,000 parameters of ten thousand rows.
func insertNotificationsPostgres(ctx context.Context, tx *sqlx.Tx, requestID string, rows []notificationInsert, now time.Time) error {
	n := len(rows)
	ids, users, langs, deliveries, digests := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	mailed := make([]bool, n)
	for i, r := range rows {
		ids[i], users[i], langs[i], deliveries[i], mailed[i], digests[i] = r.id, r.userID, r.language, string(r.delivery), r.mailed, r.digest
	}
	_, err := exec(ctx, tx, `INSERT INTO notifications (id, request_id, user_id, language, delivery, created_at, mailed_at, digest)
		SELECT u.id, ?, u.user_id, u.language, u.delivery, CAST(? AS timestamptz), CASE WHEN u.mailed THEN CAST(? AS timestamptz) END, NULLIF(u.digest, '')
		FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS boolean[]), CAST(? AS text[]))
			AS u(id, user_id, language, delivery, mailed, digest)
		ON CONFLICT (request_id, user_id) DO NOTHING`,
		requestID, now, now, pq.Array(ids), pq.Array(users), pq.Array(langs), pq.Array(deliveries), pq.Array(mailed), pq.Array(digests))
	if err != nil {
		return fmt.Errorf("store notifications: %w", err)
	}
	return nil
}

// ChangeFollows follows and unfollows subjects for people, in order, in one
// transaction. A change for someone who does not exist (or erased their account) is
// skipped: the plugin's outbox must not stall on it.
func (s *NotificationService) ChangeFollows(ctx context.Context, changes []core.FollowChange) error {
	f := core.Fields{}
	for _, c := range changes {
		if !plainID(c.UserID) {
			f.Add("user_id", core.RuleFormat, "must be a user id of 1 to 64 printable characters")
		}
		if c.Subject == "" || !plainText(c.Subject, maxNotifyText) {
			f.Add("subject", core.RuleFormat, fmt.Sprintf("must be a subject of 1 to %d printable characters", maxNotifyText))
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	now := s.DB.now()
	return s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		for _, c := range changes {
			var err error
			if c.Follow {
				_, err = exec(ctx, tx, `INSERT INTO follows (user_id, subject, created_at)
					SELECT id, ?, ? FROM users WHERE id = ? AND deleted_at IS NULL
					ON CONFLICT (user_id, subject) DO NOTHING`, c.Subject, now, c.UserID)
			} else {
				_, err = exec(ctx, tx, `DELETE FROM follows WHERE user_id = ? AND subject = ?`, c.UserID, c.Subject)
			}
			if err != nil {
				return fmt.Errorf("change follow of %s: %w", c.Subject, err)
			}
		}
		return nil
	})
}

// notificationColumns read a person's notification with its text in their language.
const notificationColumns = `n.id, r.kind, r.subject, r.link, t.title, t.body, n.created_at, n.read_at
	FROM notifications n
	JOIN notification_requests r ON r.id = n.request_id
	JOIN notification_texts t ON t.request_id = n.request_id AND t.language = n.language`

// Notifications lists the person's notifications, newest first.
func (s *NotificationService) Notifications(ctx context.Context, page core.Page) ([]core.Notification, string, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, "", err
	}
	page = page.Normalize()
	parts, err := cursorParts(page.Cursor, 2)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + notificationColumns + ` WHERE n.user_id = ?`
	args := []any{p.UserID}
	if parts != nil {
		at, err := cursorTime(parts[0])
		if err != nil {
			return nil, "", err
		}
		q += ` AND (n.created_at < ? OR (n.created_at = ? AND n.id < ?))`
		args = append(args, at, at, parts[1])
	}
	var rows []core.Notification
	if err := selectAll(ctx, s.DB.db, &rows, q+` ORDER BY n.created_at DESC, n.id DESC LIMIT ?`, append(args, page.Limit+1)...); err != nil {
		return nil, "", fmt.Errorf("list notifications: %w", err)
	}
	rows, next := pageRows(rows, page, func(n core.Notification) string { return keyTime(n.Created) + keySep + n.ID })
	for i := range rows {
		rows[i].Created = rows[i].Created.UTC()
		if rows[i].ReadAt != nil {
			t := rows[i].ReadAt.UTC()
			rows[i].ReadAt = &t
		}
	}
	return rows, next, nil
}

// UnreadCount counts the person's unread notifications.
func (s *NotificationService) UnreadCount(ctx context.Context) (int, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	if err := get(ctx, s.DB.db, &n, `SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, p.UserID); err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

// maxMarkRead bounds the ids of one MarkRead: a page holds at most core.MaxPageLimit.
const maxMarkRead = 1000

// MarkRead marks the given notifications of the person read; ids of others' are
// ignored, as are unknown ones.
func (s *NotificationService) MarkRead(ctx context.Context, ids []string) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	f := core.Fields{}
	if len(ids) > maxMarkRead {
		f.Add("ids", core.RuleMaxLength, fmt.Sprintf("must be at most %d ids", maxMarkRead))
	}
	for _, id := range ids {
		if !plainID(id) {
			f.Add("ids", core.RuleFormat, "must be notification ids of 1 to 64 printable characters")
			break
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = exec(ctx, s.DB.db, `UPDATE notifications SET read_at = ?
		WHERE user_id = ? AND read_at IS NULL AND id IN (SELECT value FROM `+s.DB.jsonStrings()+`)`, s.DB.now(), p.UserID, jsonArray(ids))
	if err != nil {
		return fmt.Errorf("mark read: %w", err)
	}
	return nil
}

// MarkAllRead marks all of the person's notifications read.
func (s *NotificationService) MarkAllRead(ctx context.Context) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if _, err := exec(ctx, s.DB.db, `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, s.DB.now(), p.UserID); err != nil {
		return fmt.Errorf("mark all read: %w", err)
	}
	return nil
}

// Preferences lists every declared kind with the person's delivery of it.
func (s *NotificationService) Preferences(ctx context.Context) ([]core.NotificationPreference, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	chosen, err := s.chosenDeliveries(ctx, s.DB.db, p.UserID)
	if err != nil {
		return nil, err
	}
	kinds := s.declaredKinds()
	out := make([]core.NotificationPreference, len(kinds))
	for i, k := range kinds {
		out[i] = core.NotificationPreference{Kind: k, Delivery: k.Default}
		if d, ok := chosen[k.Name]; ok && d.Valid() {
			out[i].Delivery, out[i].Chosen = d, true
		}
	}
	return out, nil
}

func (s *NotificationService) chosenDeliveries(ctx context.Context, q sqlx.ExtContext, userID string) (map[string]core.Delivery, error) {
	var rows []struct {
		Kind     string `db:"kind"`
		Delivery string `db:"delivery"`
	}
	if err := selectAll(ctx, q, &rows, `SELECT kind, delivery FROM notification_preferences WHERE user_id = ?`, userID); err != nil {
		return nil, fmt.Errorf("read preferences: %w", err)
	}
	out := make(map[string]core.Delivery, len(rows))
	for _, r := range rows {
		out[r.Kind] = core.Delivery(r.Delivery)
	}
	return out, nil
}

// SetPreferences changes the person's deliveries in one transaction; an unknown kind
// or delivery refuses all with EINVALID, naming each.
func (s *NotificationService) SetPreferences(ctx context.Context, choices map[string]core.Delivery) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	f := core.Fields{}
	for name, d := range choices {
		field := name
		if !plainText(name, maxNotifyText) {
			field = "kind"
		}
		if _, ok := s.kind(name); !ok {
			f.Add(field, core.RuleFormat, "is not a notification kind of this city")
		} else if !d.Valid() {
			f.Add(field, core.RuleFormat, "must be immediately, daily, weekly or in_app")
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	now := s.DB.now()
	return s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		for name, d := range choices {
			if err := setDelivery(ctx, tx, p.UserID, name, d, now); err != nil {
				return err
			}
		}
		return nil
	})
}

func setDelivery(ctx context.Context, tx *sqlx.Tx, userID, kind string, d core.Delivery, now time.Time) error {
	_, err := exec(ctx, tx, `INSERT INTO notification_preferences (user_id, kind, delivery, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, kind) DO UPDATE SET delivery = excluded.delivery, updated_at = excluded.updated_at`, userID, kind, string(d), now)
	if err != nil {
		return fmt.Errorf("set delivery of %s: %w", kind, err)
	}
	return nil
}

// Follows lists what the person follows, newest first.
func (s *NotificationService) Follows(ctx context.Context, page core.Page) ([]core.Follow, string, error) {
	p, err := requireUser(ctx)
	if err != nil {
		return nil, "", err
	}
	page = page.Normalize()
	key, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT subject, created_at FROM follows WHERE user_id = ?`
	args := []any{p.UserID}
	if key != "" {
		// The time, then the subject: a subject may hold keySep, a time never does.
		t, subject, ok := strings.Cut(key, keySep)
		if !ok {
			return nil, "", badCursor()
		}
		at, err := cursorTime(t)
		if err != nil {
			return nil, "", err
		}
		q += ` AND (created_at < ? OR (created_at = ? AND subject > ?))`
		args = append(args, at, at, subject)
	}
	var rows []core.Follow
	if err := selectAll(ctx, s.DB.db, &rows, q+` ORDER BY created_at DESC, subject LIMIT ?`, append(args, page.Limit+1)...); err != nil {
		return nil, "", fmt.Errorf("list follows: %w", err)
	}
	rows, next := pageRows(rows, page, func(f core.Follow) string { return keyTime(f.Created) + keySep + f.Subject })
	for i := range rows {
		rows[i].Created = rows[i].Created.UTC()
	}
	return rows, next, nil
}

// Unfollow stops the person following subject; following it no more is no error.
func (s *NotificationService) Unfollow(ctx context.Context, subject string) error {
	p, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if subject == "" || !plainText(subject, maxNotifyText) {
		return core.InvalidField("subject", core.RuleFormat, fmt.Sprintf("must be a subject of 1 to %d printable characters", maxNotifyText))
	}
	if _, err := exec(ctx, s.DB.db, `DELETE FROM follows WHERE user_id = ? AND subject = ?`, p.UserID, subject); err != nil {
		return fmt.Errorf("unfollow: %w", err)
	}
	return nil
}

// notificationDataOf is what the notification service holds about a person, for the
// export of their data (GDPR art. 15 and 20): every notification in their language,
// what they follow and the deliveries they chose.
func notificationDataOf(ctx context.Context, q sqlx.ExtContext, userID string) (map[string]any, error) {
	var items []core.Notification
	if err := selectAll(ctx, q, &items, `SELECT `+notificationColumns+` WHERE n.user_id = ? ORDER BY n.created_at, n.id`, userID); err != nil {
		return nil, fmt.Errorf("export notifications: %w", err)
	}
	var follows []core.Follow
	if err := selectAll(ctx, q, &follows, `SELECT subject, created_at FROM follows WHERE user_id = ? ORDER BY created_at, subject`, userID); err != nil {
		return nil, fmt.Errorf("export follows: %w", err)
	}
	var prefs []struct {
		Kind     string `json:"kind" db:"kind"`
		Delivery string `json:"delivery" db:"delivery"`
	}
	if err := selectAll(ctx, q, &prefs, `SELECT kind, delivery FROM notification_preferences WHERE user_id = ? ORDER BY kind`, userID); err != nil {
		return nil, fmt.Errorf("export notification preferences: %w", err)
	}
	for i := range items {
		items[i].Created = items[i].Created.UTC()
	}
	for i := range follows {
		follows[i].Created = follows[i].Created.UTC()
	}
	return map[string]any{"items": items, "follows": follows, "deliveries": prefs}, nil
}
