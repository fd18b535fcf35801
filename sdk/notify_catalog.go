package sdk

import (
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk/i18n"
)

// NotifyCatalog writes a plugin's notification kinds and texts from the plugin's own
// message catalog, so that every plugin declares and words its notifications the same
// way. For the kind "<plugin>.<kind>" the catalog holds three messages:
//
//	notify.<plugin>.<kind>.label  the kind's name on the preferences page
//	notify.<plugin>.<kind>.title  one line, with {{.Placeholders}} from the data
//	notify.<plugin>.<kind>.body   plain-text paragraphs, likewise
//
// A kind worded in several ways (a vote adopted, rejected or without a quorum) keeps
// a title and body per variant, notify.<plugin>.<kind>.<variant>.title and .body,
// written with VariantTexts. A plugin keeps the messages in
// locales/notify.<tag>.toml, embedded, and makes its catalog once:
// sdk.NewNotifyCatalog(i18n.MustBundle(notifyFiles)).
type NotifyCatalog struct {
	bundle *i18n.Bundle
}

// NewNotifyCatalog reads notifications from b.
func NewNotifyCatalog(b *i18n.Bundle) *NotifyCatalog {
	return &NotifyCatalog{bundle: b}
}

// notifyID is the message id of part of kind's wording.
func notifyID(kind, part string) string { return "notify." + kind + "." + part }

// Kind declares the kind name for the manifest: its label in every language of the
// catalog, and def the delivery of a person who chose none.
func (c *NotifyCatalog) Kind(name string, def Delivery) NotificationKind {
	k := NotificationKind{Name: name, Labels: map[string]string{}, Default: def}
	for _, lang := range c.bundle.Languages() {
		if c.bundle.HasMessage(lang, notifyID(name, "label")) {
			k.Labels[lang] = c.bundle.Localizer(lang).T(notifyID(name, "label"))
		}
	}
	return k
}

// Texts writes a notification of kind in each of languages (the city's, Env.Languages)
// the catalog has, and in English, which the core falls back to for anyone else. data
// fills the messages' placeholders; a time.Time in it is written as a date and time of
// each language, a Span as a date with its start and end times, in zone (the city's
// time zone, Env.CityTimeZone; UTC when nil).
func (c *NotifyCatalog) Texts(languages []string, zone *time.Location, kind string, data map[string]any) map[string]NotificationText {
	return c.texts(languages, zone, kind, data)
}

// VariantTexts is Texts with the title and body of one variant of kind.
func (c *NotifyCatalog) VariantTexts(languages []string, zone *time.Location, kind, variant string, data map[string]any) map[string]NotificationText {
	return c.texts(languages, zone, kind+"."+variant, data)
}

// texts writes the messages notify.<id>.title and .body.
func (c *NotifyCatalog) texts(languages []string, zone *time.Location, id string, data map[string]any) map[string]NotificationText {
	if zone == nil {
		zone = time.UTC
	}
	out := make(map[string]NotificationText, len(languages)+1)
	for _, lang := range append([]string{i18n.Fallback}, languages...) {
		if _, done := out[lang]; done {
			continue
		}
		// A regional tag ("sv-FI") is written in its language; one the catalog does
		// not speak is left to the core's fallback to English.
		l := c.bundle.Localizer(lang).In(zone)
		if l.Lang() == i18n.Fallback && lang != i18n.Fallback {
			continue
		}
		local := make(map[string]any, len(data))
		for k, v := range data {
			switch t := v.(type) {
			case time.Time:
				v = l.DateTime(t)
			case Span:
				v = t.In(l)
			}
			local[k] = v
		}
		out[lang] = NotificationText{
			Title: strings.TrimSpace(l.T(notifyID(id, "title"), local)),
			Body:  strings.TrimSpace(l.T(notifyID(id, "body"), local)),
		}
	}
	return out
}

// Notice is a notification before it is worded: whom it tells, what about, and the
// data its messages are written from. Notification words it.
type Notice struct {
	// Kind is one of the manifest's kinds; Variant, when set, picks the wording of
	// one variant of it (VariantTexts).
	Kind, Variant string
	// Recipients, Followers and Except are as in Notification; Except is one person,
	// the one who acted ("" for none).
	Recipients []string
	Followers  []string
	Except     string
	Subject    string
	Link       string
	Data       map[string]any
}

// Notification words n in each of languages, in zone, as Texts does. It reports false
// when n tells nobody (no recipients and no followers), so that a plugin skips the
// notification of an empty audience instead of writing one Tx.Notify refuses.
func (c *NotifyCatalog) Notification(languages []string, zone *time.Location, n Notice) (Notification, bool) {
	if len(n.Recipients) == 0 && len(n.Followers) == 0 {
		return Notification{}, false
	}
	var texts map[string]NotificationText
	if n.Variant != "" {
		// Only the variant's words: a kind worded by variants has no title and
		// body of its own, and asking for them logs a missing message.
		texts = c.VariantTexts(languages, zone, n.Kind, n.Variant, n.Data)
	} else {
		texts = c.Texts(languages, zone, n.Kind, n.Data)
	}
	note := Notification{Kind: n.Kind, Recipients: n.Recipients, Followers: n.Followers,
		Subject: n.Subject, Link: n.Link, Texts: texts}
	if n.Except != "" {
		note.Except = []string{n.Except}
	}
	return note, true
}
