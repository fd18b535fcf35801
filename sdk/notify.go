package sdk

// Notifications (DESIGN.md §11): a plugin tells people what happened by writing a
// Notification into its outbox in the transaction of the change (store's Tx.Notify),
// already in every city language; the host stores it once per recipient and mails it
// as each recipient chose for its kind. Following works the same way (Tx.Follow): the
// plugin decides who may follow what, the core keeps who follows it.

// Delivery is how a person hears of a kind of notification besides the in-app list.
type Delivery string

// The deliveries a person may choose per kind; a kind declares the default.
const (
	DeliverImmediately Delivery = "immediately"
	DeliverDaily       Delivery = "daily"
	DeliverWeekly      Delivery = "weekly"
	DeliverInApp       Delivery = "in_app"
)

// NotificationKind is a kind of notification the plugin sends, declared in its
// manifest: Name is "<plugin>.<kind>", Labels name it for the preferences page in
// every language the plugin speaks ("en" at least), Default is the delivery of a
// person who chose none.
type NotificationKind struct {
	Name    string
	Labels  map[string]string
	Default Delivery
}

// NotificationText is a notification in one language: a title of one line and a body
// of plain-text paragraphs.
type NotificationText struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// Notification is one notification as a plugin sends it.
type Notification struct {
	// ID makes it idempotent per recipient; the outbox event's ID when empty.
	ID string `json:"id,omitempty"`
	// Kind is one of the manifest's Notifications.
	Kind string `json:"kind"`
	// Recipients are user IDs the plugin resolved (an assembly's members, a cycle's
	// voters); Followers are subjects whose followers the core adds; Except are left
	// out (the person who acted).
	Recipients []string `json:"recipients,omitempty"`
	Followers  []string `json:"followers,omitempty"`
	Except     []string `json:"except,omitempty"`
	// Subject is what it is about, "<plugin>.<type>:<id>"; Link is the path of its
	// page ("/assemblies/<id>/motions/<id>").
	Subject string `json:"subject"`
	Link    string `json:"link"`
	// Texts holds it in each city language (BCP 47 tag → text).
	Texts map[string]NotificationText `json:"texts"`
}

// Reserved outbox event types: the host takes these out of a relayed batch and hands
// them to its notification service instead of its event outbox.
const (
	NotifyEventType = "kvarter.notify"
	FollowEventType = "kvarter.follow"
)

// FollowChange is the payload of a FollowEventType event.
type FollowChange struct {
	UserID  string `json:"user_id"`
	Subject string `json:"subject"`
	Follow  bool   `json:"follow"`
}
