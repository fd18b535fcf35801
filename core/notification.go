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
