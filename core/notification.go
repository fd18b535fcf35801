package core

import (
	"context"
	"time"
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
