package sdk

import (
	"fmt"
	"slices"
	"strings"
)

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

// Valid reports whether d is one of the four deliveries.
func (d Delivery) Valid() bool {
	switch d {
	case DeliverImmediately, DeliverDaily, DeliverWeekly, DeliverInApp:
		return true
	}
	return false
}

// Bounds of what a plugin declares and sends; the host checks the same.
const (
	// MaxNotificationLabel bounds a kind's label in one language.
	MaxNotificationLabel = 200
	// MaxNotificationTitle and MaxNotificationBody bound a notification's text in
	// one language: a title is a line, a body a few paragraphs.
	MaxNotificationTitle = 300
	MaxNotificationBody  = 8 << 10
	// MaxNotificationLink bounds the path of the item's page.
	MaxNotificationLink = 2000
)

// CheckNotificationKinds checks the kinds a plugin's manifest declares: each named
// "<plugin>.<kind>" once, labelled in English at least (every label a line of text),
// with a valid default delivery.
func CheckNotificationKinds(plugin string, kinds []NotificationKind) error {
	seen := make(map[string]bool, len(kinds))
	for _, k := range kinds {
		if !strings.HasPrefix(k.Name, plugin+".") || len(k.Name) == len(plugin)+1 || len(k.Name) > 200 {
			return fmt.Errorf("notification kind %q must be named %q followed by the kind", k.Name, plugin+".")
		}
		if seen[k.Name] {
			return fmt.Errorf("notification kind %q is declared twice", k.Name)
		}
		seen[k.Name] = true
		if strings.TrimSpace(k.Labels["en"]) == "" {
			return fmt.Errorf("notification kind %q has no English label (Labels[\"en\"])", k.Name)
		}
		for tag, l := range k.Labels {
			if tag == "" || strings.TrimSpace(l) == "" || len(l) > MaxNotificationLabel || strings.ContainsAny(l, "\r\n") {
				return fmt.Errorf("notification kind %q: the label for %q must be one line of at most %d bytes", k.Name, tag, MaxNotificationLabel)
			}
		}
		if !k.Default.Valid() {
			return fmt.Errorf("notification kind %q: default delivery %q is not immediately, daily, weekly or in_app", k.Name, k.Default)
		}
	}
	return nil
}

// CheckNotification checks a notification a plugin sends: a kind among kinds, a
// subject "<plugin>.<type>:<id>" of the plugin, a link that is a path on the city's
// site, someone to tell, and its text in English at least. plugin "" (a test without
// a manifest) checks the form of the kind and subject only; kinds nil, the kind's
// declaration.
func CheckNotification(plugin string, kinds []NotificationKind, n Notification) error {
	ns := plugin
	if ns == "" {
		ns, _, _ = strings.Cut(n.Kind, ".")
	}
	if !strings.HasPrefix(n.Kind, ns+".") || len(n.Kind) == len(ns)+1 {
		return fmt.Errorf("notification kind %q must start with %q", n.Kind, ns+".")
	}
	if kinds != nil && !slices.ContainsFunc(kinds, func(k NotificationKind) bool { return k.Name == n.Kind }) {
		return fmt.Errorf("notification kind %q is not among the manifest's Notifications", n.Kind)
	}
	if err := CheckSubject(ns, n.Subject); err != nil {
		return err
	}
	for _, s := range n.Followers {
		if err := CheckSubject(ns, s); err != nil {
			return fmt.Errorf("followers of %w", err)
		}
	}
	if len(n.Recipients) == 0 && len(n.Followers) == 0 {
		return fmt.Errorf("notification %s of %s has neither recipients nor followers", n.Kind, n.Subject)
	}
	if slices.Contains(n.Recipients, "") || slices.Contains(n.Except, "") {
		return fmt.Errorf("notification %s of %s: a recipient's user ID is empty", n.Kind, n.Subject)
	}
	if !strings.HasPrefix(n.Link, "/") || strings.HasPrefix(n.Link, "//") || strings.HasPrefix(n.Link, "/\\") ||
		len(n.Link) > MaxNotificationLink || strings.ContainsAny(n.Link, " \r\n\t") {
		return fmt.Errorf("notification %s: link %q must be a path on the city's site (\"/assemblies/…\")", n.Kind, n.Link)
	}
	if n.Texts["en"].Title == "" {
		return fmt.Errorf("notification %s has no English text (Texts[\"en\"])", n.Kind)
	}
	for tag, t := range n.Texts {
		switch {
		case tag == "" || len(tag) > 35:
			return fmt.Errorf("notification %s: language tag %q", n.Kind, tag)
		case strings.TrimSpace(t.Title) == "" || len(t.Title) > MaxNotificationTitle || strings.ContainsAny(t.Title, "\r\n"):
			return fmt.Errorf("notification %s: the title in %q must be one line of at most %d bytes", n.Kind, tag, MaxNotificationTitle)
		case len(t.Body) > MaxNotificationBody:
			return fmt.Errorf("notification %s: the body in %q is more than %d bytes", n.Kind, tag, MaxNotificationBody)
		}
	}
	return nil
}

// CheckSubject checks that subject names a thing of plugin: "<plugin>.<type>:<id>".
func CheckSubject(plugin, subject string) error {
	thing, id, ok := strings.Cut(subject, ":")
	if !ok || id == "" || !strings.HasPrefix(thing, plugin+".") || len(thing) == len(plugin)+1 ||
		len(subject) > 300 || strings.ContainsAny(subject, " \r\n\t") {
		return fmt.Errorf("subject %q must be %q followed by a type, a colon and an ID", subject, plugin+".")
	}
	return nil
}
