package core

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Notifications (DESIGN.md §11) tell people what happened to what they started or
// follow. A plugin sends one through its outbox (the SDK's Tx.Notify), already written
// in every city language; the core stores it once per recipient, shows it in the
// person's list and mails it now or in a digest, as the person chose for its kind.

// Delivery is how a person hears of a kind of notification besides the in-app list.
type Delivery string

// The deliveries a person may choose per kind.
const (
	DeliverImmediately Delivery = "immediately"
	DeliverDaily       Delivery = "daily"
	DeliverWeekly      Delivery = "weekly"
	DeliverInApp       Delivery = "in_app"
)

// Valid reports whether d is one of the four deliveries.
func (d Delivery) Valid() bool {
	switch d {
	case DeliverImmediately, DeliverDaily, DeliverWeekly, DeliverInApp:
		return true
	}
	return false
}

// NotificationKind is a kind of notification a plugin (or the core) declares: its
// name ("assemblies.motion.answered"), its label in each language (BCP 47 tag →
// text, for the preferences page) and the delivery of a person who chose none.
type NotificationKind struct {
	Name    string
	Source  string
	Labels  map[string]string
	Default Delivery
}

// NotificationText is one notification in one language: a title of one line and a
// body of plain-text paragraphs.
type NotificationText struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// NotificationRequest is a notification as a plugin (or the core) sends it, before it
// is stored per recipient.
type NotificationRequest struct {
	// ID makes delivery idempotent: a request whose ID was recorded already, for a
	// recipient, adds nothing for that recipient, on any node.
	ID string
	// Kind is one of the source's declared kinds.
	Kind   string
	Source string
	// Recipients are user IDs; Followers are subjects whose followers also receive
	// it ("assemblies.motion:<id>"). Except are left out (the person who acted).
	Recipients []string
	Followers  []string
	Except     []string
	// Subject is what it is about ("assemblies.motion:<id>"); Link is the path of its
	// page on the city's site ("/assemblies/<id>/motions/<id>").
	Subject string
	Link    string
	// Texts holds the notification in each city language (BCP 47 tag → text).
	Texts      map[string]NotificationText
	OccurredAt time.Time
}

// Bounds of a NotificationRequest the core stores; Check refuses one beyond them.
const (
	MaxNotificationRecipients = 100_000
	MaxNotificationFollowers  = 100 // subjects whose followers it reaches
	MaxNotificationLanguages  = 20
	MaxNotificationTitle      = 300
	MaxNotificationBody       = 10_000
	MaxNotificationSubject    = 500
	MaxNotificationLink       = 2000
	MaxNotificationID         = 64 // the request's and each user's
)

// Check reports what keeps the core from storing r as it is, as an EINVALID error
// naming each field: an ID or a user ID that is empty, longer than
// MaxNotificationID or holds a control character; a kind, subject or text that is
// not valid UTF-8, holds a NUL or other control character (a body may hold line
// breaks and tabs) or exceeds its bound; a link that is not a path on the city's own
// site; no text at all. Whether the kind is declared is the sink's to check. The
// plugin host drops a request that fails it rather than hand it to the sink, which
// refuses it.
func (r NotificationRequest) Check() error {
	f := Fields{}
	if !notificationID(r.ID) {
		f.Add("id", RuleFormat, "must be an id of 1 to 64 printable characters")
	}
	f.CheckText("kind", r.Kind, 1, MaxNotificationSubject, false)
	if len(r.Recipients) > MaxNotificationRecipients {
		f.Add("recipients", RuleMaxLength, "must be at most 100000 people")
	}
	for _, list := range []struct {
		field string
		ids   []string
	}{{"recipients", r.Recipients}, {"except", r.Except}} {
		for _, id := range list.ids {
			if !notificationID(id) {
				f.Add(list.field, RuleFormat, "must be user ids of 1 to 64 printable characters")
				break
			}
		}
	}
	if len(r.Followers) > MaxNotificationFollowers {
		f.Add("followers", RuleMaxLength, "must be at most 100 subjects")
	}
	for _, subj := range r.Followers {
		if subj == "" || !singleLine(subj, MaxNotificationSubject) {
			f.Add("followers", RuleFormat, "must be subjects of 1 to 500 printable characters")
			break
		}
	}
	f.CheckText("subject", r.Subject, 0, MaxNotificationSubject, false)
	f.CheckText("link", r.Link, 0, MaxNotificationLink, false)
	// The link is a path on the city's own site: a mail must never send its reader
	// elsewhere ("//evil.example" is a host, not a path).
	if r.Link != "" && (!strings.HasPrefix(r.Link, "/") || strings.HasPrefix(r.Link, "//") || strings.Contains(r.Link, `\`)) {
		f.Add("link", RuleFormat, "must be a path on the city's site, starting with one /")
	}
	if len(r.Texts) == 0 {
		f.Add("texts", RuleRequired, "is required: the notification in every city language")
	}
	if len(r.Texts) > MaxNotificationLanguages {
		f.Add("texts", RuleMaxLength, "must hold at most 20 languages")
	}
	for tag, t := range r.Texts {
		if tag == "" || !singleLine(tag, 35) {
			f.Add("texts", RuleFormat, "must be keyed by language tags such as \"sv\"")
			continue
		}
		f.CheckText("texts."+tag+".title", t.Title, 1, MaxNotificationTitle, false)
		f.CheckText("texts."+tag+".body", t.Body, 0, MaxNotificationBody, true)
		if strings.ContainsRune(t.Body, 0) {
			f.Add("texts."+tag+".body", RuleNoControl, "must not contain the NUL character")
		}
	}
	return f.Err()
}

// notificationID reports whether id could name a request or a person: short text
// without control characters.
func notificationID(id string) bool {
	return id != "" && singleLine(id, MaxNotificationID)
}

// singleLine reports whether s is valid UTF-8 of at most max bytes without control
// characters.
func singleLine(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// Notification is one stored notification of one person, in their language.
type Notification struct {
	ID      string    `json:"id" db:"id"`
	Kind    string    `json:"kind" db:"kind"`
	Subject string    `json:"subject" db:"subject"`
	Link    string    `json:"link" db:"link"`
	Title   string    `json:"title" db:"title"`
	Body    string    `json:"body" db:"body"`
	Created time.Time `json:"created_at" db:"created_at"`
	// ReadAt is nil while unread.
	ReadAt *time.Time `json:"read_at" db:"read_at"`
}

// Follow is a person following a subject.
type Follow struct {
	Subject string    `json:"subject" db:"subject"`
	Created time.Time `json:"created_at" db:"created_at"`
}

// FollowChange follows or unfollows a subject for a person; plugins send it through
// their outbox (the SDK's Tx.Follow), since a plugin decides who may follow what.
type FollowChange struct {
	UserID  string
	Subject string
	Follow  bool
}

// NotificationSink receives what plugins send through their outbox. The plugin host
// calls it for every relayed batch before it records the batch's events; both are
// idempotent, so a batch relayed again changes nothing.
type NotificationSink interface {
	Notify(ctx context.Context, reqs []NotificationRequest) error
	ChangeFollows(ctx context.Context, changes []FollowChange) error
	// DeclareKinds replaces the kinds source declares (from its manifest, each time the
	// plugin starts); a request of an undeclared kind is refused.
	DeclareKinds(source string, kinds []NotificationKind)
}

// NotificationPreference is a person's delivery of one kind: Delivery is their choice,
// or the kind's default when Chosen is false.
type NotificationPreference struct {
	Kind     NotificationKind
	Delivery Delivery
	Chosen   bool
}

// NotificationService is what the pages and the API do with a person's notifications.
// Every method acts for the person in ctx (PrincipalFrom) and fails with
// EUNAUTHORIZED for an anonymous one, except Unsubscribe, which the signed token
// authorises.
type NotificationService interface {
	// Notifications lists the person's notifications, newest first.
	Notifications(ctx context.Context, page Page) ([]Notification, string, error)
	// UnreadCount counts the person's unread notifications.
	UnreadCount(ctx context.Context) (int, error)
	// MarkRead marks the given notifications of the person read (others' are
	// ignored); MarkAllRead marks all of them.
	MarkRead(ctx context.Context, ids []string) error
	MarkAllRead(ctx context.Context) error
	// Preferences lists every declared kind with the person's delivery of it.
	Preferences(ctx context.Context) ([]NotificationPreference, error)
	// SetPreferences changes the person's deliveries (kind name → delivery) in one
	// transaction; an unknown kind or delivery refuses all with EINVALID.
	SetPreferences(ctx context.Context, choices map[string]Delivery) error
	// Follows lists what the person follows; Unfollow stops following a subject.
	Follows(ctx context.Context, page Page) ([]Follow, string, error)
	Unfollow(ctx context.Context, subject string) error
	// UnsubscribeToken signs (user, kind) for the one-click link of a mail;
	// Unsubscribe checks it and sets that person's delivery of that kind to in-app
	// only, without sign-in. A token that does not verify fails with EINVALID.
	UnsubscribeToken(userID, kind string) string
	Unsubscribe(ctx context.Context, token string) (NotificationKind, error)
}

// Mail is one message to one address, with its text and HTML made from one template.
type Mail struct {
	To      string
	ToName  string
	Subject string
	Text    string
	HTML    string
	// Headers are extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post.
	Headers map[string]string
}

// Mailer sends mail. Send returns once the server took the message; an error says it
// did not, and the caller may try again later.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Mail purposes: what a queued mail is for. Only PurposeVerifyEmail may go to an
// address that is not verified.
const (
	PurposeVerifyEmail   = "verify_email"
	PurposeResetPassword = "reset_password"
	PurposeAccountExists = "account_exists"
	PurposeNotification  = "notification"
	PurposeDigest        = "digest"
)

// QueuedMail is a mail waiting in the core's mail queue. The queue's worker sends it,
// retries it with backoff when the server refuses, and shows operators what failed.
// Either Mail is set (composed when queued: account mail) or the composer registered
// for Purpose makes it from Ref when it is sent (notifications and digests, so that
// queuing ten thousand stays cheap).
type QueuedMail struct {
	// Key makes queuing idempotent: a second mail with the same Key is not queued.
	Key     string
	UserID  string
	Purpose string
	Ref     string
	Mail    *Mail
}

// MailComposer makes the mail of one queued row at send time, in the recipient's
// language; the notification service registers one for its purposes.
type MailComposer interface {
	Compose(ctx context.Context, m QueuedMail) (Mail, error)
}
