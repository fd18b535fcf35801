package sqlstore

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/mail"
	"github.com/kvarter/kvarter/sdk/i18n"
)

// The mails of notifications are made when the queue sends them, not when they are
// queued (core.QueuedMail's Ref), so that queuing ten thousand stays ten thousand
// small rows. A notification's mail is its text in the language picked for its
// recipient, with a link to the item, why the person gets it, and the signed one-click
// unsubscribe of its kind (RFC 8058). A digest's mail lists the items it carries, with
// the one-click unsubscribe of that digest (sqlstore.DigestDailyKind or
// DigestWeeklyKind). The words around the texts come from the core's catalog
// (core/web/locales/notify.<tag>.toml).

// Paths of the pages (core/web) the mails link to.
const (
	notificationsPagePath = "/notifications"
	preferencesPagePath   = "/me/notifications"
	unsubscribePagePath   = "/unsubscribe"
)

// NotificationMail composes the queue's notification and digest mails; the node
// registers it for core.PurposeNotification and core.PurposeDigest.
type NotificationMail struct {
	Service *NotificationService
	// Messages is the core's catalog, for the words around the texts.
	Messages *i18n.Bundle
}

var _ core.MailComposer = (*NotificationMail)(nil)

// mailRecipient is who a queued mail goes to.
type mailRecipient struct {
	Email    *string `db:"email"`
	Name     string  `db:"display_name"`
	Language string  `db:"language"`
}

// Compose makes the mail of a queued notification or digest.
func (c *NotificationMail) Compose(ctx context.Context, m core.QueuedMail) (core.Mail, error) {
	s := c.Service
	var to mailRecipient
	if err := get(ctx, s.DB.db, &to, `SELECT email, display_name, language FROM users WHERE id = ? AND deleted_at IS NULL`, m.UserID); err != nil {
		return core.Mail{}, notFound(err, "The recipient")
	}
	if to.Email == nil || *to.Email == "" {
		return core.Mail{}, core.Errorf(core.ENOTFOUND, "The recipient has no email address.")
	}
	switch m.Purpose {
	case core.PurposeNotification:
		return c.notification(ctx, m, to)
	case core.PurposeDigest:
		return c.digest(ctx, m, to)
	}
	return core.Mail{}, fmt.Errorf("notification mail: no composer for purpose %q", m.Purpose)
}

// mailItem is one notification as a mail shows it.
type mailItem struct {
	Kind     string `db:"kind"`
	Link     string `db:"link"`
	Title    string `db:"title"`
	Body     string `db:"body"`
	Language string `db:"language"`
}

const mailItemColumns = `r.kind, r.link, t.title, t.body, n.language
	FROM notifications n
	JOIN notification_requests r ON r.id = n.request_id
	JOIN notification_texts t ON t.request_id = n.request_id AND t.language = n.language`

func (c *NotificationMail) notification(ctx context.Context, m core.QueuedMail, to mailRecipient) (core.Mail, error) {
	s := c.Service
	var it mailItem
	if err := get(ctx, s.DB.db, &it, `SELECT `+mailItemColumns+` WHERE n.id = ? AND n.user_id = ?`, m.Ref, m.UserID); err != nil {
		return core.Mail{}, notFound(err, "The notification")
	}
	loc := c.localizer(it.Language)
	kindLabel := it.Kind
	if k, ok := s.kind(it.Kind); ok {
		kindLabel = label(k, loc.Lang())
	}
	msg := mail.Message{
		Lang: it.Language, City: s.Settings.CityName, Subject: it.Title, Heading: it.Title,
		Paragraphs: paragraphs(it.Body),
		Action:     &mail.Link{URL: s.absoluteURL(cmpOr(it.Link, notificationsPagePath)), Label: loc.T("core.notify.mail.action")},
		Footer: []string{
			loc.T("core.notify.mail.why", map[string]any{"Kind": kindLabel}),
			loc.T("core.notify.mail.settings", map[string]any{"URL": s.absoluteURL(preferencesPagePath)}),
		},
		Unsubscribe: &mail.Link{URL: s.unsubscribeURL(m.UserID, it.Kind), Label: loc.T("core.notify.mail.unsubscribe")},
	}
	return mail.Compose(*to.Email, to.Name, msg)
}

func (c *NotificationMail) digest(ctx context.Context, m core.QueuedMail, to mailRecipient) (core.Mail, error) {
	s := c.Service
	var items []mailItem
	if err := selectAll(ctx, s.DB.db, &items, `SELECT `+mailItemColumns+` WHERE n.user_id = ? AND n.digest_ref = ? ORDER BY n.created_at, n.id`, m.UserID, m.Ref); err != nil {
		return core.Mail{}, fmt.Errorf("digest items: %w", err)
	}
	if len(items) == 0 {
		return core.Mail{}, core.Errorf(core.ENOTFOUND, "The digest %s of this person holds nothing.", m.Ref)
	}
	period, _, _ := strings.Cut(m.Ref, ":") // "daily" or "weekly"
	if period != string(core.DeliverWeekly) {
		period = string(core.DeliverDaily)
	}
	loc := c.localizer(to.Language)
	subject := loc.N("core.notify.digest."+period+".subject", len(items), map[string]any{"Count": len(items)})
	var paras []string
	for _, it := range items {
		p := it.Title
		if first := firstParagraph(it.Body); first != "" {
			p += "\n" + first
		}
		paras = append(paras, p+"\n"+s.absoluteURL(cmpOr(it.Link, notificationsPagePath)))
	}
	kind := DigestDailyKind
	if period == string(core.DeliverWeekly) {
		kind = DigestWeeklyKind
	}
	msg := mail.Message{
		Lang: loc.Lang(), City: s.Settings.CityName, Subject: subject, Heading: subject, Paragraphs: paras,
		Action: &mail.Link{URL: s.absoluteURL(notificationsPagePath), Label: loc.T("core.notify.digest.action")},
		Footer: []string{
			loc.T("core.notify.digest.why." + period),
			loc.T("core.notify.mail.settings", map[string]any{"URL": s.absoluteURL(preferencesPagePath)}),
		},
		Unsubscribe: &mail.Link{URL: s.unsubscribeURL(m.UserID, kind), Label: loc.T("core.notify.digest.unsubscribe." + period)},
	}
	return mail.Compose(*to.Email, to.Name, msg)
}

// localizer speaks lang, else the city's default language, else English.
func (c *NotificationMail) localizer(lang string) *i18n.Localizer {
	var fallbacks []string
	if l := c.Service.Settings.Languages; len(l) > 0 {
		fallbacks = l[:1]
	}
	return c.Messages.Localizer(lang, fallbacks...)
}

// label is a kind's name in lang, else in English, else its name.
func label(k core.NotificationKind, lang string) string {
	return cmpOr(k.Labels[lang], k.Labels["en"], k.Name)
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// absoluteURL is path on the city's public site.
func (s *NotificationService) absoluteURL(path string) string {
	base := ""
	if s.Settings.BaseURL != nil {
		base = s.Settings.BaseURL()
	}
	return strings.TrimSuffix(base, "/") + path
}

// unsubscribeURL is the one-click link of (user, kind): the page that asks on GET and
// acts on POST (RFC 8058's List-Unsubscribe=One-Click).
func (s *NotificationService) unsubscribeURL(userID, kind string) string {
	return s.absoluteURL(unsubscribePagePath + "?t=" + url.QueryEscape(s.UnsubscribeToken(userID, kind)))
}

// paragraphs splits plain text at blank lines.
func paragraphs(body string) []string {
	var out []string
	for p := range strings.SplitSeq(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func firstParagraph(body string) string {
	if ps := paragraphs(body); len(ps) > 0 {
		return ps[0]
	}
	return ""
}
