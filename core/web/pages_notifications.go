package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// A person's notifications (DESIGN.md §11): the list, newest first, with mark read
// and mark all read; the preferences, one delivery per declared kind; what they
// follow; and the one-click unsubscribe link of a mail, which needs no sign-in (the
// signed token in the link authorises it). Every page calls core.NotificationService,
// the same the API calls; the nav shows the unread count (notifyHTML).

const (
	notificationsPath = "/notifications"
	preferencesPath   = "/me/notifications"
	followsPath       = "/me/follows"
	unsubscribePath   = "/unsubscribe"
)

func init() {
	flashes = append(flashes, "core.flash.notification_read", "core.flash.notifications_read",
		"core.flash.preferences_saved", "core.flash.unfollowed")
}

// notificationRoutes adds the notification pages to mux. POST /unsubscribe is the one
// route the cross-origin check lets through (New): a mail client posts to it without
// cookies, from no page of this site (RFC 8058).
func (p *Pages) notificationRoutes(mux *http.ServeMux) {
	mux.Handle("GET "+notificationsPath, p.handle(p.notifications))
	mux.Handle("GET "+notificationsPath+"/{id}", p.handle(p.openNotification))
	mux.Handle("POST "+notificationsPath+"/read", p.handle(p.markRead))
	mux.Handle("POST "+notificationsPath+"/read-all", p.handle(p.markAllRead))
	mux.Handle("GET "+preferencesPath, p.handle(p.preferences))
	mux.Handle("POST "+preferencesPath, p.handle(p.savePreferences))
	mux.Handle("GET "+followsPath, p.handle(p.follows))
	mux.Handle("POST "+followsPath+"/unfollow", p.handle(p.unfollow))
	mux.Handle("GET "+unsubscribePath, p.handle(p.unsubscribeForm))
	mux.Handle("POST "+unsubscribePath, p.handle(p.unsubscribe))
}

// notificationService is the service, or the 404 panel on a node that keeps none.
func (p *Pages) notificationService() (core.NotificationService, error) {
	if p.svc.Notifications == nil {
		return nil, core.Errorf(core.ENOTFOUND, "This site keeps no notifications.")
	}
	return p.svc.Notifications, nil
}

// notificationView is one notification as the list shows it.
type notificationView struct {
	core.Notification
	// Open is the link that marks it read and leads to its item; "" when it has none.
	Open       string
	Paragraphs []string
}

// Unread reports whether the person has not read it yet.
func (n notificationView) Unread() bool { return n.ReadAt == nil }

// notificationsView is one page of the person's notifications.
type notificationsView struct {
	Items []notificationView
	// Unread tells whether any is unread, on this page or another, which offers
	// "mark all read".
	Unread bool
	Back   string
	Pages  sdkweb.Pagination
}

func (p *Pages) notifications(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	list, next, err := svc.Notifications(r.Context(), core.Page{Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	// The list is the truth: it counts afresh, and the navigation drawn with it
	// shows the same count.
	v := viewerOf(r)
	p.unread.drop(v.principal.UserID)
	unread, err := p.unread.get(r.Context(), v.principal.UserID, svc)
	if err != nil {
		return err
	}
	data := notificationsView{Back: r.URL.RequestURI(), Unread: unread > 0, Pages: sdkweb.Pagination{Next: sdkweb.CursorURL(r.URL, next)}}
	for _, n := range list {
		item := notificationView{Notification: n, Paragraphs: paragraphs(n.Body)}
		if localPath(n.Link) {
			item.Open = notificationsPath + "/" + url.PathEscape(n.ID) + "?" + url.Values{"to": {n.Link}}.Encode()
		}
		data.Items = append(data.Items, item)
	}
	loc := p.tmpl.Localizer(v.lang)
	return p.render(w, r, http.StatusOK, "notifications", data, sdk.PageMeta{Title: loc.T("core.notifications.title")})
}

// paragraphs splits a notification's plain-text body at its blank lines.
func paragraphs(body string) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			out = append(out, para)
		}
	}
	return out
}

// openNotification marks the notification read and leads to its item (?to=, a path
// of this site): the list's link to the item goes through here. Marking read is all
// a forged link could do, and only to the viewer's own notification.
func (p *Pages) openNotification(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	if err := svc.MarkRead(r.Context(), []string{r.PathValue("id")}); err != nil {
		return badRequest(err)
	}
	p.unread.drop(viewerOf(r).principal.UserID)
	to := r.URL.Query().Get("to")
	if !localPath(to) {
		to = notificationsPath
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// listBack is the list page a form on it came from (its hidden back field), so that
// marking one read stays on the same page of the list.
func listBack(r *http.Request) string {
	back := r.PostForm.Get("back")
	if back == notificationsPath || strings.HasPrefix(back, notificationsPath+"?") {
		return back
	}
	return notificationsPath
}

func (p *Pages) markRead(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 || len(ids) > core.MaxPageLimit {
		return core.Malformed("Name the notifications to mark read.")
	}
	if err := svc.MarkRead(r.Context(), ids); err != nil {
		return badRequest(err)
	}
	p.unread.drop(viewerOf(r).principal.UserID)
	p.flash(w, r, "core.flash.notification_read")
	sdkweb.Redirect(w, r, listBack(r))
	return nil
}

func (p *Pages) markAllRead(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := svc.MarkAllRead(r.Context()); err != nil {
		return err
	}
	p.unread.drop(viewerOf(r).principal.UserID)
	p.flash(w, r, "core.flash.notifications_read")
	sdkweb.Redirect(w, r, notificationsPath)
	return nil
}

// badRequest is the service's refusal of an id or subject no page of this site sends
// (too long, control characters): the bad request panel, not an internal error.
func badRequest(err error) error {
	if core.ErrorCode(err) == core.EINVALID {
		return core.Malformed("The request names no notification or subject this site sends.")
	}
	return err
}

// parseForm reads a posted url-encoded form of at most the kit's size.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, sdkweb.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return core.Malformed("The form cannot be read.")
	}
	return nil
}

// Preferences.

// deliveries are the four deliveries in the order the preferences offer them.
var deliveries = []core.Delivery{core.DeliverImmediately, core.DeliverDaily, core.DeliverWeekly, core.DeliverInApp}

// kindField is the form field of a kind's delivery.
func kindField(kind string) string { return "kind." + kind }

// kindChoice is one kind's radio group.
type kindChoice struct {
	Field, Label, Default string
}

// kindGroup is the kinds one part of the site declares, under its name.
type kindGroup struct {
	Label string
	Kinds []kindChoice
}

// preferencesView is the preferences form.
type preferencesView struct {
	Form    *sdkweb.Form
	Groups  []kindGroup
	Options []sdkweb.Option
}

func (p *Pages) preferences(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	prefs, err := svc.Preferences(r.Context())
	if err != nil {
		return err
	}
	form := sdkweb.NewForm(nil)
	for _, pr := range prefs {
		form.Set(kindField(pr.Kind.Name), string(pr.Delivery))
	}
	return p.renderPreferences(w, r, http.StatusOK, prefs, form)
}

// savePreferences changes the deliveries the person changed, all or none: a value
// that is not one of the four, or a kind nobody declares, refuses the whole form.
func (p *Pages) savePreferences(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	prefs, err := svc.Preferences(r.Context())
	if err != nil {
		return err
	}
	form := sdkweb.NewForm(r.PostForm)
	current := make(map[string]core.Delivery, len(prefs))
	for _, pr := range prefs {
		current[pr.Kind.Name] = pr.Delivery
	}
	changes := map[string]core.Delivery{}
	for name, values := range r.PostForm {
		kind, ok := strings.CutPrefix(name, "kind.")
		if !ok {
			continue
		}
		d := core.Delivery(values[0])
		switch _, declared := current[kind]; {
		case !declared:
			form.Refuse("core.notifications.prefs.unknown_kind", nil)
		case len(values) != 1 || !d.Valid():
			form.Invalid(name, "core.notifications.prefs.bad_delivery", nil)
		case d != current[kind]:
			changes[kind] = d
		}
	}
	if form.Valid() && len(changes) > 0 {
		switch err := svc.SetPreferences(r.Context(), changes); core.ErrorCode(err) {
		case "":
		case core.EINVALID:
			// A kind withdrawn since the page was drawn (its plugin restarted with
			// another manifest): nothing was changed.
			form.Refuse("core.notifications.prefs.unknown_kind", nil)
		default:
			return err
		}
	}
	if !form.Valid() {
		return p.renderPreferences(w, r, http.StatusUnprocessableEntity, prefs, form)
	}
	p.flash(w, r, "core.flash.preferences_saved")
	sdkweb.Redirect(w, r, preferencesPath)
	return nil
}

func (p *Pages) renderPreferences(w http.ResponseWriter, r *http.Request, status int, prefs []core.NotificationPreference, form *sdkweb.Form) error {
	v := viewerOf(r)
	loc := p.tmpl.Localizer(v.lang)
	data := preferencesView{Form: form}
	for _, d := range deliveries {
		data.Options = append(data.Options, sdkweb.Option{Value: string(d), Label: loc.T("core.notifications.delivery." + string(d))})
	}
	sources := p.sourceLabels(v, loc)
	for _, pr := range prefs {
		choice := kindChoice{Field: kindField(pr.Kind.Name), Label: kindLabel(pr.Kind, loc.Lang(), p.opts.Languages[0]),
			Default: loc.T("core.notifications.prefs.default", map[string]any{"Delivery": loc.T("core.notifications.delivery." + string(pr.Kind.Default))})}
		source := sources(pr.Kind.Source)
		i := slices.IndexFunc(data.Groups, func(g kindGroup) bool { return g.Label == source })
		if i < 0 {
			data.Groups = append(data.Groups, kindGroup{Label: source})
			i = len(data.Groups) - 1
		}
		data.Groups[i].Kinds = append(data.Groups[i].Kinds, choice)
	}
	return p.render(w, r, status, "notification-preferences", data, p.meMeta(r, "core.notifications.prefs.title", form))
}

// meMeta titles one of the person's notification pages, under the list in the
// breadcrumbs, with the focus on the error summary when a form was refused.
func (p *Pages) meMeta(r *http.Request, title string, form *sdkweb.Form) sdk.PageMeta {
	meta := p.formMeta(r, title, form)
	meta.Breadcrumbs = []sdk.Crumb{{Label: p.tmpl.Localizer(viewerOf(r).lang).T("core.notifications.title"), Href: notificationsPath}}
	return meta
}

// kindLabel is the kind's label in lang, else the city's default language, else
// English, else its name.
func kindLabel(k core.NotificationKind, lang, cityDefault string) string {
	for _, l := range []string{lang, cityDefault, i18n.Fallback} {
		if s := k.Labels[l]; s != "" {
			return s
		}
	}
	return k.Name
}

// sourceLabels names the parts of the site that declare kinds: a plugin by its first
// navigation entry the viewer sees, the core as the account.
func (p *Pages) sourceLabels(v *viewer, loc *i18n.Localizer) func(string) string {
	names := map[string]string{}
	if p.svc.Plugins != nil {
		for _, it := range p.svc.Plugins.Nav(v.principal, loc.Lang()) {
			if _, seen := names[it.Plugin]; !seen {
				names[it.Plugin] = it.Label
			}
		}
	}
	return func(source string) string {
		if source == "" || source == "core" {
			return loc.T("core.notifications.prefs.source_core")
		}
		if s := names[source]; s != "" {
			return s
		}
		return source
	}
}

// Follows.

// followView is one followed subject.
type followView struct {
	core.Follow
	Label string
}

// followsView is one page of what the person follows.
type followsView struct {
	Follows []followView
	Pages   sdkweb.Pagination
}

func (p *Pages) follows(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	list, next, err := svc.Follows(r.Context(), core.Page{Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	data := followsView{Pages: sdkweb.Pagination{Next: sdkweb.CursorURL(r.URL, next)}}
	for _, f := range list {
		data.Follows = append(data.Follows, followView{Follow: f, Label: subjectLabel(loc, f.Subject)})
	}
	return p.render(w, r, http.StatusOK, "follows", data, p.meMeta(r, "core.follows.title", nil))
}

// subjectLabel names what a subject ("assemblies.motion:<id>") is, in words: the
// catalog's name of its type, or the type itself for one the core does not know.
func subjectLabel(loc *i18n.Localizer, subject string) string {
	typ, _, _ := strings.Cut(subject, ":")
	if id := "core.follows.subject." + typ; typ != "" && loc.Has(id) {
		return loc.T(id)
	}
	return loc.T("core.follows.subject.other", map[string]any{"Subject": typ})
}

func (p *Pages) unfollow(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	subject := r.PostForm.Get("subject")
	if subject == "" {
		return core.Malformed("Name what to unfollow.")
	}
	if err := svc.Unfollow(r.Context(), subject); err != nil {
		return badRequest(err)
	}
	p.flash(w, r, "core.flash.unfollowed")
	sdkweb.Redirect(w, r, followsPath)
	return nil
}

// Unsubscribe.

// unsubscribeView is the one-click link's page: the question, the answer, or the
// refusal of a link that does not verify.
type unsubscribeView struct {
	Token string
	// Kind names what stops (or stopped), in the viewer's language; "" when the
	// service cannot say before it acts.
	Kind string
	Done bool
	Bad  bool
}

// UnsubscribeChecker is a notification service that can name the kind an
// unsubscribe token stops without acting on it, for the question the link's page
// asks first. The service need not be one: the page then asks without naming it.
type UnsubscribeChecker interface {
	CheckUnsubscribe(token string) (core.NotificationKind, error)
}

// unsubscribeForm asks before it acts (GET must change nothing: mail scanners open
// links); the button posts the same URL.
func (p *Pages) unsubscribeForm(w http.ResponseWriter, r *http.Request) error {
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	token := r.URL.Query().Get("t")
	data := unsubscribeView{Token: token}
	if token == "" {
		return p.renderUnsubscribe(w, r, http.StatusBadRequest, unsubscribeView{Bad: true})
	}
	if c, ok := svc.(UnsubscribeChecker); ok {
		kind, err := c.CheckUnsubscribe(token)
		switch core.ErrorCode(err) {
		case "":
			data.Kind = p.kindName(r, kind)
		case core.EINVALID:
			return p.renderUnsubscribe(w, r, http.StatusBadRequest, unsubscribeView{Bad: true})
		default:
			return err
		}
	}
	return p.renderUnsubscribe(w, r, http.StatusOK, data)
}

// unsubscribe stops mail of the token's kind to the token's person: the page's
// button, or a mail client's one-click POST (List-Unsubscribe=One-Click, RFC 8058),
// which carries no cookie and no Origin of this site. The signed token alone
// authorises it; whoever is signed in in this browser plays no part.
func (p *Pages) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	svc, err := p.notificationService()
	if err != nil {
		return err
	}
	token := r.URL.Query().Get("t")
	if token == "" {
		return p.renderUnsubscribe(w, r, http.StatusBadRequest, unsubscribeView{Bad: true})
	}
	kind, err := svc.Unsubscribe(r.Context(), token)
	switch core.ErrorCode(err) {
	case "":
	case core.EINVALID, core.ENOTFOUND:
		return p.renderUnsubscribe(w, r, http.StatusBadRequest, unsubscribeView{Bad: true})
	default:
		return err
	}
	return p.renderUnsubscribe(w, r, http.StatusOK, unsubscribeView{Kind: p.kindName(r, kind), Done: true})
}

// kindName is the kind's label in the viewer's language; a digest's link names the
// digest ("digest.daily", "digest.weekly"), in the catalog's words.
func (p *Pages) kindName(r *http.Request, kind core.NotificationKind) string {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	if id := "core.unsubscribe.kind." + kind.Name; len(kind.Labels) == 0 && strings.HasPrefix(kind.Name, "digest.") && loc.Has(id) {
		return loc.T(id)
	}
	return kindLabel(kind, loc.Lang(), p.opts.Languages[0])
}

func (p *Pages) renderUnsubscribe(w http.ResponseWriter, r *http.Request, status int, data unsubscribeView) error {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	title := "core.unsubscribe.title"
	switch {
	case data.Bad:
		title = "core.unsubscribe.bad.title"
	case data.Done:
		title = "core.unsubscribe.done.title"
	}
	meta := sdk.PageMeta{Title: loc.T(title)}
	if data.Done {
		meta.Announce = meta.Title
	}
	return p.render(w, r, status, "unsubscribe", data, meta)
}

// The unread count in the navigation.

// notifyLink is the navigation's link to the list, with the unread count.
type notifyLink struct {
	Count   int
	Current bool
}

// notifyHTML is the navigation's link to the person's notifications with their unread
// count, drawn once per language, count and page (listHTML): the count is the only
// thing of the person's in it, and the same count draws the same link for anyone.
// The count is the person's own, kept a moment (unreadCounts).
func (p *Pages) notifyHTML(r *http.Request, v *viewer) (template.HTML, error) {
	if p.svc.Notifications == nil || !v.principal.Authenticated() {
		return "", nil
	}
	n, err := p.unread.get(r.Context(), v.principal.UserID, p.svc.Notifications)
	if err != nil {
		// The link without a count rather than no page: the count is a courtesy.
		p.opts.Logger.ErrorContext(r.Context(), "page: unread count", "err", err)
	}
	l := notifyLink{Count: n, Current: r.URL.Path == notificationsPath}
	tmpl := p.tmpl.For(v.lang)
	var buf [64]byte
	key := strconv.AppendInt(listKey(buf[:0], "core-notify", v.lang), int64(n), 10)
	if l.Current {
		key = append(key, '*')
	}
	return p.listHTML(key, func() (template.HTML, error) {
		return execHTML(tmpl, "core-notify", []notifyLink{l})
	})
}

// unreadTTL is how long the navigation shows a person's unread count before counting
// again: counting on every page would cost a query per page (more than the frame),
// and a count a few seconds old is no harm. The person's own reading, and opening the
// list, count afresh at once; a notification that arrives shows in the list at once
// and in the navigation within unreadTTL, on every node.
const unreadTTL = 10 * time.Second

// maxUnreadCounts bounds the counts kept; when full, they are all dropped.
const maxUnreadCounts = 10000

// unreadCounts keeps each person's unread count for unreadTTL, keyed by the person:
// one person's count is never shown to another.
type unreadCounts struct {
	m sync.Map // user id → unreadCount
	n atomic.Int64
	// now is the clock (time.Now): tests move it.
	now func() time.Time
}

type unreadCount struct {
	count int
	at    time.Time
}

// get is the person's unread count, from the service when the kept one is older
// than unreadTTL. ctx carries the person (the service counts for them).
func (c *unreadCounts) get(ctx context.Context, userID string, svc core.NotificationService) (int, error) {
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	t := now()
	if e, ok := c.m.Load(userID); ok {
		if e := e.(unreadCount); t.Sub(e.at) < unreadTTL && !t.Before(e.at) {
			return e.count, nil
		}
	}
	n, err := svc.UnreadCount(ctx)
	if err != nil {
		return 0, err
	}
	if _, loaded := c.m.Swap(userID, unreadCount{count: n, at: t}); !loaded && c.n.Add(1) > maxUnreadCounts {
		c.m.Clear()
		c.n.Store(0)
	}
	return n, nil
}

// drop forgets the person's count, so the next page counts afresh.
func (c *unreadCounts) drop(userID string) {
	if _, ok := c.m.LoadAndDelete(userID); ok {
		c.n.Add(-1)
	}
}
