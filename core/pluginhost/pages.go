package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// Plugin pages (DESIGN.md §10). The core's frame asks the host for a plugin's page with
// ServePage, draws the navigation from Nav and places cards from Cards. Page routes are
// matched and authorised exactly as API routes are; the HTML of a third-party plugin
// passes FilterHTML always, a built-in's when Config.FilterBuiltinHTML is set (in
// tests), and a plugin that is down answers *Unavailable, which the frame shows as its
// "temporarily unavailable" panel.

// Card slots: the host pages that show plugins' cards.
const (
	SlotHome          = "home"
	SlotNeighbourhood = "neighbourhood"
)

// DefaultCardDeadline is how long a host page waits for its cards.
const DefaultCardDeadline = 300 * time.Millisecond

// maxLabel bounds a nav or card label, in bytes: the menu has no room for prose.
const maxLabel = 200

// The page types live in core, so that the HTTP layer uses them without this package.
type (
	PageRequest  = core.PageRequest
	PageResponse = core.PageResponse
	Unavailable  = core.Unavailable
	NavItem      = core.NavItem
	CardRequest  = core.CardRequest
	CardResult   = core.CardResult
)

// FilterBuiltinHTML turns the HTML filter on or off for built-in plugins; a
// third-party plugin's HTML is always filtered. Config.FilterBuiltinHTML sets it at
// start; tests turn it on to hold the built-ins to the same rules.
func (h *Host) FilterBuiltinHTML(on bool) { h.filterBuiltins.Store(on) }

// filters reports whether p's HTML passes FilterHTML.
func (p *plugin) filters() bool { return p.kind == KindExternal || p.h.filterBuiltins.Load() }

// pagePluginOf returns the plugin whose page prefix path lies under.
func (h *Host) pagePluginOf(path string) *plugin {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return nil
	}
	name, _, _ := strings.Cut(rest, "/")
	return h.plugins[name]
}

// OwnsPage reports whether path lies under a configured plugin's page prefix
// (/<plugin> or /<plugin>/...).
func (h *Host) OwnsPage(path string) bool { return h.pagePluginOf(path) != nil }

// ServePage authorises a request for a plugin's page and forwards it with the render
// mode and language. The error is a *core.Error for the host's own refusals (no such
// page: ENOTFOUND; not signed in: EUNAUTHENTICATED; not allowed: EFORBIDDEN), an
// *Unavailable for a plugin that is down, or an internal error.
func (h *Host) ServePage(ctx context.Context, pr *core.Principal, r *PageRequest) (*PageResponse, error) {
	p := h.pagePluginOf(r.Path)
	if p == nil {
		return nil, core.Errorf(core.ENOTFOUND, "There is no page %s.", r.Path)
	}
	render := r.Render
	if render != sdk.RenderFragment {
		render = sdk.RenderPage
	}
	return p.servePage(ctx, pr, r, render, r.Path)
}

// servePage forwards a page request and checks the answer; base is the path the HTML
// will be shown at, for the filter.
func (p *plugin) servePage(ctx context.Context, pr *core.Principal, r *PageRequest, render sdk.Render, base string) (*PageResponse, error) {
	name := p.spec.Name
	req := &core.PluginRequest{Method: r.Method, Path: r.Path, RawQuery: r.RawQuery, Header: r.Header, Body: r.Body, Language: r.Language}
	resp, err := p.forward(ctx, pr, req, render)
	if err != nil {
		var ce *core.Error
		if errors.As(err, &ce) && ce.Code == core.EUNAVAILABLE {
			return nil, &Unavailable{Plugin: name, State: p.status().State, RetryAfterSeconds: ce.RetryAfterSeconds, Err: ce}
		}
		return nil, err
	}
	out := &PageResponse{Status: resp.Status, Header: resp.Header, Meta: resp.Page}
	if out.Status >= 300 && out.Status < 400 {
		// A redirect leads to a page of this site: never elsewhere on a plugin's word.
		if loc := out.Header.Get("Location"); loc != "" && !localPath(loc) {
			p.h.logger.ErrorContext(ctx, "plugin redirected off the site", "plugin", name, "location", loc)
			return nil, fmt.Errorf("plugin %s: redirect to %q: %w", name, loc, errInvalidAnswer)
		}
		return out, nil
	}
	mediaType := mediaTypeOf(out.Header.Get("Content-Type"))
	if out.Status >= 400 && mediaType != "text/html" {
		// The SDK's error format: the frame draws its own panel for the code.
		out.Error = errorFromBody(out.Status, resp.Body)
		return out, nil
	}
	if mediaType != "text/html" && len(resp.Body) > 0 {
		p.h.logger.ErrorContext(ctx, "plugin answered a page with something else than HTML", "plugin", name, "content_type", mediaType)
		return nil, fmt.Errorf("plugin %s: page answered %q: %w", name, mediaType, errInvalidAnswer)
	}
	out.HTML = resp.Body
	if p.filters() {
		out.HTML = p.h.filtered.filter(resp.Body, name, base)
	}
	out.Meta = p.checkMeta(out.Meta)
	return out, nil
}

// mediaTypeOf is the media type of a Content-Type header, lower-cased and without
// parameters; "" when the header cannot be read. The SDK's pages say exactly
// "text/html; charset=utf-8", which is known without parsing.
func mediaTypeOf(contentType string) string {
	if contentType == "text/html; charset=utf-8" {
		return "text/html"
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	return mediaType
}

// checkMeta keeps what of a page's metadata the frame may use: breadcrumbs that stay
// on the site, and focus on the plugin's own elements rather than the frame's (kv-).
// NavActive names an entry of this plugin's manifest; the frame looks it up there.
func (p *plugin) checkMeta(m sdk.PageMeta) sdk.PageMeta {
	if slices.ContainsFunc(m.Breadcrumbs, offSite) {
		// Only then a copy: every crumb usually stays.
		m.Breadcrumbs = slices.DeleteFunc(slices.Clone(m.Breadcrumbs), offSite)
	}
	if frameID(m.Focus) {
		m.Focus = ""
	}
	return m
}

// offSite reports a crumb that would lead off the site.
func offSite(c sdk.Crumb) bool { return c.Href != "" && !localPath(c.Href) }

// localPath reports a URL that is a path on this site: "/x", not "//host/x", "/\host"
// or "https://host".
func localPath(v string) bool {
	// A path LocalPath takes holds nothing normalizeURL drops: most are taken so.
	return core.LocalPath(v) || core.LocalPath(normalizeURL(v))
}

// errorFromBody reads the SDK's error format; anything else is an internal error.
func errorFromBody(status int, body []byte) *core.Error {
	var e struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || sdk.StatusOf(e.Error.Code) != status {
		return core.Errorf(core.EINTERNAL, "internal error")
	}
	return &core.Error{Code: e.Error.Code, Message: e.Error.Message, Fields: e.Error.Fields}
}

// Nav lists the nav entries of every active plugin the viewer may open, in the
// viewer's language lang, sorted by order and then by plugin and id. It calls no plugin:
// the entries come from the manifests.
func (h *Host) Nav(viewer *core.Principal, lang string) []NavItem {
	var out []NavItem
	for _, name := range h.order {
		p := h.plugins[name]
		man := p.serving()
		if man == nil {
			continue
		}
		for _, n := range man.UI.Nav {
			if h.authorise(viewer, n.Permission, n.Domain) != nil {
				continue
			}
			label, tag := h.pickLabel(n.Labels, lang)
			out = append(out, NavItem{Plugin: name, ID: n.ID, Path: n.Path, Label: label, Lang: tag, Order: n.Order})
		}
	}
	slices.SortStableFunc(out, func(a, b NavItem) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		if c := strings.Compare(a.Plugin, b.Plugin); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// NavVersion moves after every change of a plugin's state or enablement, the
// only things besides the viewer and the policy that Nav's answer depends on.
func (h *Host) NavVersion() uint64 { return h.navVersion.Load() }

// serving returns p's manifest while it is active (or degraded, still serving).
func (p *plugin) serving() *sdk.Manifest {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.enabled || (p.state != core.PluginActive && p.state != core.PluginDegraded) {
		return nil
	}
	return p.manifest
}

// pickLabel chooses a label: the viewer's language (exactly, then its base language),
// then the city's default, then English, then the first by tag so the choice is stable.
func (h *Host) pickLabel(labels map[string]string, lang string) (label, tag string) {
	want := []string{lang, baseLanguage(lang)}
	if len(h.cfg.Languages) > 0 {
		want = append(want, h.cfg.Languages[0])
	}
	want = append(want, "en")
	for _, w := range want {
		if w == "" {
			continue
		}
		for t, l := range labels {
			if strings.EqualFold(t, w) {
				return l, t
			}
		}
	}
	tags := make([]string, 0, len(labels))
	for t := range labels {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	if len(tags) == 0 {
		return "", ""
	}
	return labels[tags[0]], tags[0]
}

// baseLanguage is the primary subtag of a BCP 47 tag: "sv" of "sv-FI".
func baseLanguage(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	return base
}

// Cards fetches the cards the viewer may see for a slot, from every plugin in
// parallel, and returns them in the order of the plugins and their manifests when
// all have answered or the deadline has passed, whichever comes first. A card that
// has not answered by then, or failed, is a fallback link; a card whose permission
// the viewer lacks is left out. Requests still running at the deadline are cancelled.
func (h *Host) Cards(ctx context.Context, q CardRequest) []CardResult {
	if q.Deadline <= 0 {
		q.Deadline = DefaultCardDeadline
	}
	if q.Base == "" {
		q.Base = "/"
	}
	type job struct {
		p    *plugin
		card sdk.Card
		path string
	}
	var jobs []job
	var out []CardResult
	for _, name := range h.order {
		p := h.plugins[name]
		p.mu.Lock()
		man, enabled := p.manifest, p.enabled
		p.mu.Unlock()
		if man == nil || !enabled {
			continue
		}
		for _, c := range man.UI.Cards {
			if c.Slot != q.Slot {
				continue
			}
			path, ok1 := fill(c.Path, q.Params)
			domain, ok2 := fill(c.Domain, q.Params)
			if !ok1 || !ok2 || h.authorise(q.Viewer, c.Permission, domain) != nil {
				continue
			}
			label, tag := h.pickLabel(c.Labels, q.Language)
			out = append(out, CardResult{Plugin: name, ID: c.ID, Label: label, Lang: tag, Link: c.Link, Fallback: true})
			jobs = append(jobs, job{p: p, card: c, path: path})
		}
	}
	if len(jobs) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, q.Deadline)
	defer cancel()
	type done struct {
		i    int
		resp *PageResponse
	}
	results := make(chan done, len(jobs)) // buffered: a late card never blocks
	for i, j := range jobs {
		go func() {
			resp, err := j.p.servePage(ctx, q.Viewer, &PageRequest{Method: http.MethodGet, Path: j.path, Language: q.Language},
				sdk.RenderFragment, q.Base)
			if err != nil || resp.Status != http.StatusOK || resp.Error != nil {
				if err != nil && ctx.Err() == nil {
					h.logger.WarnContext(ctx, "card failed", "plugin", j.p.spec.Name, "card", j.card.ID, "err", err)
				}
				resp = nil
			}
			results <- done{i, resp}
		}()
	}
	for range jobs {
		select {
		case d := <-results:
			if d.resp != nil {
				out[d.i].HTML, out[d.i].Meta, out[d.i].Fallback = d.resp.HTML, d.resp.Meta, false
			}
		case <-ctx.Done():
			return out // the rest stay fallbacks
		}
	}
	return out
}

// fill replaces the {name} segments of a path or domain with params; false when one
// is missing or would change the path's shape.
func fill(tmpl string, params map[string]string) (string, bool) {
	if !strings.Contains(tmpl, "{") {
		return tmpl, true
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), true
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return "", false
		}
		v := params[tmpl[i+1:i+j]]
		if v == "" || strings.ContainsAny(v, "/?#%\\") || v == "." || v == ".." {
			return "", false
		}
		b.WriteString(tmpl[:i])
		b.WriteString(v)
		tmpl = tmpl[i+j+1:]
	}
}

// checkUI refuses a UI section the host could not draw safely: entries and cards must
// lead to the plugin's own pages, carry labels and say who may see them.
func checkUI(name string, ui sdk.UI, routes *routeTable) error {
	prefix := pagePrefix(name)
	ownPage := func(path string) bool {
		r, _, ok := routes.match(http.MethodGet, path)
		return ok && r.Kind == sdk.RoutePage && (path == prefix || strings.HasPrefix(path, prefix+"/"))
	}
	ids := map[string]bool{}
	for _, n := range ui.Nav {
		what := fmt.Sprintf("nav entry %q", n.ID)
		if n.ID == "" || ids["nav "+n.ID] {
			return fmt.Errorf("%s: every nav entry needs an id of its own", what)
		}
		ids["nav "+n.ID] = true
		if strings.Contains(n.Path, "{") || !ownPage(n.Path) {
			return fmt.Errorf("%s: path %q must be one of the plugin's GET pages, without parameters", what, n.Path)
		}
		if n.Domain != "" && n.Domain != sdk.DomainCity {
			return fmt.Errorf("%s: domain must be \"\" or \"city\"", what)
		}
		if err := checkAccess(what, n.Permission); err != nil {
			return err
		}
		if err := checkLabels(what, n.Labels); err != nil {
			return err
		}
	}
	for _, c := range ui.Cards {
		what := fmt.Sprintf("card %q", c.ID)
		if c.ID == "" || ids["card "+c.ID] {
			return fmt.Errorf("%s: every card needs an id of its own", what)
		}
		ids["card "+c.ID] = true
		if c.Slot != SlotHome && c.Slot != SlotNeighbourhood {
			return fmt.Errorf("%s: slot must be %q or %q", what, SlotHome, SlotNeighbourhood)
		}
		if !ownPage(c.Path) {
			return fmt.Errorf("%s: path %q must be one of the plugin's GET pages", what, c.Path)
		}
		if !localPath(c.Link) {
			return fmt.Errorf("%s: link %q must be a path on this site", what, c.Link)
		}
		kind, param, _ := strings.Cut(c.Domain, ":")
		if c.Domain != "" && c.Domain != sdk.DomainCity && !((kind == "nbh" || kind == "org") && strings.HasPrefix(param, "{") && strings.HasSuffix(param, "}")) {
			return fmt.Errorf("%s: domain must be \"\", \"city\", \"nbh:{param}\" or \"org:{param}\"", what)
		}
		if err := checkAccess(what, c.Permission); err != nil {
			return err
		}
		if err := checkLabels(what, c.Labels); err != nil {
			return err
		}
	}
	return nil
}

func checkAccess(what, perm string) error {
	if perm == "" {
		return fmt.Errorf("%s: no permission (use %q or %q for everyone)", what, sdk.PermPublic, sdk.PermAuthenticated)
	}
	return nil
}

func checkLabels(what string, labels map[string]string) error {
	if len(labels) == 0 {
		return fmt.Errorf("%s: no labels (one per language, at least \"en\")", what)
	}
	for tag, l := range labels {
		if tag == "" || strings.TrimSpace(l) == "" || len(l) > maxLabel {
			return fmt.Errorf("%s: label %q for %q must be text of at most %d bytes", what, l, tag, maxLabel)
		}
	}
	return nil
}
