package core

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// Plugin states (DESIGN.md §2): starting → migrating → active ⇄ degraded → stopping →
// stopped | failed.
const (
	PluginStarting  = "starting"
	PluginMigrating = "migrating"
	PluginActive    = "active"
	PluginDegraded  = "degraded"
	PluginStopping  = "stopping"
	PluginStopped   = "stopped"
	PluginFailed    = "failed"
)

// PluginStatus is what an operator sees of one configured plugin.
type PluginStatus struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Kind is "builtin" or "external".
	Kind     string `json:"kind"`
	State    string `json:"state"`
	Restarts int    `json:"restarts"`
	// LastError is the most recent reason the plugin stopped or failed to start.
	LastError string `json:"last_error"`
}

// PluginCommand is an operator's action on a plugin, applied by every node.
type PluginCommand struct {
	Seq    int64  `db:"seq"`
	Name   string `db:"name"`
	Action string `db:"action"` // enable, disable or restart
}

// PluginOrganisation is an organisation with its representatives, as plugins see it.
type PluginOrganisation struct {
	Organisation
	Representatives []string
}

// OutboxEvent is one event in the core's outbox, in publish order (Seq).
type OutboxEvent struct {
	Seq        int64     `db:"seq"`
	ID         string    `db:"id"`
	Type       string    `db:"type"`
	Source     string    `db:"source"`
	Payload    string    `db:"payload"`
	OccurredAt time.Time `db:"occurred_at"`
}

// PluginReadiness is a configured plugin that is not active, as readiness reports it
// to a load balancer: no error text, which may hold details for operators only.
type PluginReadiness struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Required is set when the city config lists the plugin in required_plugins: the
	// node is not ready while such a plugin is neither active nor degraded.
	Required bool `json:"required"`
}

// PluginRequest is an HTTP request for a plugin route, copied out of the HTTP
// framework so that it outlives the framework's buffers. The plugin service takes
// ownership of it: Serve may change its Header.
type PluginRequest struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Plugin and Route are set by Serve once the request matches a route a plugin
	// declared: the plugin's name and the route's path template from its manifest,
	// for metrics and traces (never the raw path, which would make a series per id).
	Plugin, Route string
	// Permission is the matched route's permission from the manifest; the HTTP layer
	// caches the answers of public routes only.
	Permission string
	// Language is the requester's language (BCP 47), in which the plugin words its
	// error messages (sdk.WriteError).
	Language string
}

// PluginResponse is a plugin's complete answer.
type PluginResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// PluginService routes requests to plugins and lets operators manage them.
type PluginService interface {
	// Owns reports whether path lies under a configured plugin's prefix
	// (/api/v1/<plugin>/...), so the HTTP layer copies the request only when needed.
	Owns(path string) bool
	// BodyLimit is the largest request body, in bytes, the plugin route that method
	// and path match accepts, from the plugin's manifest; 0 when the request is for
	// no such route, so the core's own limit applies.
	BodyLimit(method, path string) int
	// RequestTimeout bounds one forwarded request. A caller may set that deadline
	// itself; Serve adds a timer only when the context has no deadline that soon.
	RequestTimeout() time.Duration
	// Serve authorises and forwards one request. Errors are *Error values (not found,
	// unauthenticated, forbidden, unavailable) or internal.
	Serve(ctx context.Context, p *Principal, r *PluginRequest) (*PluginResponse, error)
	// Allow lists the methods (HEAD with GET) that the routes of an enabled plugin
	// matching path take, sorted, for a 405's Allow header; nil when none matches.
	Allow(path string) []string
	// OpenAPIPaths merges the OpenAPI paths of every running plugin, each operation
	// completed with the answers the host gives on the plugin's behalf.
	OpenAPIPaths() map[string]any
	// ListPlugins reports every configured plugin; it needs core.plugins.manage.
	ListPlugins(ctx context.Context) ([]PluginStatus, error)
	// EnablePlugin, DisablePlugin and RestartPlugin act on one plugin and are audited;
	// they need core.plugins.manage in the city.
	EnablePlugin(ctx context.Context, name string) (*PluginStatus, error)
	DisablePlugin(ctx context.Context, name string) (*PluginStatus, error)
	RestartPlugin(ctx context.Context, name string) (*PluginStatus, error)

	// Pages (DESIGN.md §10): the frame asks for a plugin's page, draws the
	// navigation and places cards through these, without knowing the host.

	// OwnsPage reports whether path lies under a configured plugin's page prefix
	// (/<plugin> or /<plugin>/...).
	OwnsPage(path string) bool
	// ServePage authorises a request for a plugin's page and forwards it with the
	// render mode and language. Errors are *Error values for the host's refusals (no
	// such page, not signed in, not allowed), an *Unavailable for a plugin that is
	// down, or internal.
	ServePage(ctx context.Context, p *Principal, r *PageRequest) (*PageResponse, error)
	// Nav lists the nav entries of every active plugin the viewer may open, labels in
	// lang where the plugin has it; it calls no plugin.
	Nav(viewer *Principal, lang string) []NavItem
	// NavVersion changes whenever Nav's answer may change other than through the
	// viewer or the authorizer (Authorizer.Generation): a plugin starts serving or
	// stops, is enabled or disabled.
	NavVersion() uint64
	// Cards fetches the cards of one host page from every plugin in parallel and
	// returns when all answered or the request's deadline passed; late or failed
	// cards are fallbacks (a link with the card's label).
	Cards(ctx context.Context, q CardRequest) []CardResult

	// RoleText describes a plugin's role in the language lang for the admins' pages;
	// false when no configured plugin defines the role.
	RoleText(role, lang string) (RoleText, bool)
	// DataUses lists the personal data every enabled plugin declares it keeps, in
	// lang where the plugin has it, for the privacy page; it calls no plugin.
	DataUses(lang string) []PluginDataUse
}

// PluginDataUse is one kind of personal data a plugin keeps, in one language (Lang):
// what it is, why it is kept and for how long. Plugin is the plugin's name in that
// language (its first nav entry's label), Name its config name.
type PluginDataUse struct {
	Name, Plugin, ID, What, Why, Kept, Lang string
}

// RoleText is a plugin's role in plain words: its name and what a holder may do, in
// the language Lang (the viewer's when the plugin speaks it).
type RoleText struct {
	Plugin, Label, About, Lang string
}

// PageRequest is a browser's request for one of a plugin's pages (under /<plugin>/),
// copied out of the HTTP framework; ServePage may change its Header.
type PageRequest struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Render is sdk.RenderPage for the content of <main>, sdk.RenderFragment for a
	// piece of a page that htmx swaps in.
	Render sdk.Render
	// Language is the viewer's negotiated language (BCP 47).
	Language string
}

// PageResponse is a plugin's answer to a page request.
type PageResponse struct {
	// Status is the plugin's: 200, 303 after a form (Header has the Location, a path
	// on this site), 422 with a form and its errors, or an error status.
	Status int
	// Header holds what the plugin may say about its answer (Content-Type, Location,
	// Cache-Control…), never cookies.
	Header http.Header
	// HTML is the content of <main> (or the fragment), filtered where the plugin's
	// kind asks for it. Empty for an error answer in the error format.
	HTML []byte
	// Meta is the page's metadata.
	Meta sdk.PageMeta
	// Error is the plugin's error answer (the SDK's error format) when it answered an
	// error status without HTML: the frame shows its own panel for Error.Code.
	Error *Error
}

// Unavailable is the answer for a plugin that is down: starting, restarting after a
// crash, failed past its crash budget, or not answering in time. The frame shows it as
// its localized "temporarily unavailable" panel. It unwraps to the *Error with code
// EUNAVAILABLE and a Retry-After that the plugin's API routes answer.
type Unavailable struct {
	Plugin string
	// State is the plugin's state as the request found it ("starting", "failed", …).
	State string
	// RetryAfterSeconds says when to try again.
	RetryAfterSeconds int
	// Err is the API's answer for the same state.
	Err *Error
}

func (u *Unavailable) Error() string { return u.Err.Error() }

// Unwrap returns the plugin's 503 as the API answers it.
func (u *Unavailable) Unwrap() error { return u.Err }

// NavItem is one link of the site's navigation, as the viewer sees it.
type NavItem struct {
	Plugin string
	// ID is the entry's id in its plugin's manifest (PageMeta.NavActive).
	ID   string
	Path string
	// Label is in Lang: the viewer's language where the plugin has it, else the
	// city's default, else English. The frame marks it with lang= when Lang is not
	// the page's language.
	Label string
	Lang  string
	Order int
}

// CardRequest asks for the cards of one host page.
type CardRequest struct {
	// Slot is the host page: "home" or "neighbourhood".
	Slot string
	// Viewer is who looks at the page; Language their language.
	Viewer   *Principal
	Language string
	// Params fill the {name} segments of card paths and domains: the neighbourhood
	// page passes {"nbh": id}.
	Params map[string]string
	// Base is the host page's path, against which relative URLs in cards resolve.
	Base string
	// Deadline bounds the wait for all cards together; the host's default when zero.
	Deadline time.Duration
}

// CardResult is one card as the host page shows it: the plugin's fragment, or, when
// the plugin did not answer in time or at all, Fallback with a link to Link labelled
// Label.
type CardResult struct {
	Plugin, ID string
	// HTML is the card's fragment, filtered as pages are; empty with Fallback.
	HTML []byte
	Meta sdk.PageMeta
	// Label (in Lang) and Link make the fallback, and may head the card.
	Label, Lang, Link string
	// Fallback is set when HTML is missing: the card was late, failed or its plugin
	// is down.
	Fallback bool
}

// pluginNameRE is what a plugin name may be: it becomes a URL segment, a file name,
// and part of a PostgreSQL identifier.
var pluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ValidPluginName reports whether name is a well-formed plugin name (lower-case
// letters, digits and _, starting with a letter, at most 40): the one rule the plugin
// host and a backup's restore both apply.
func ValidPluginName(name string) bool { return pluginNameRE.MatchString(name) }

// PluginExport is one plugin's section of a person's export: what it holds about
// them as a JSON object, and a plain-words description of each field.
type PluginExport struct {
	Plugin string
	Data   json.RawMessage
	Fields map[string]string
}

// PersonalDataExporter gathers what the plugins hold about one person, for their
// export (GDPR art. 15 and 20).
type PersonalDataExporter interface {
	// ExportUser asks every enabled plugin that keeps personal data, in the order of
	// the city config. It fails with EUNAVAILABLE when an enabled plugin cannot
	// answer: an export that silently lacks a part would tell the person wrong.
	ExportUser(ctx context.Context, userID string) ([]PluginExport, error)
}
