package httpapi

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// schema is a JSON Schema object as OpenAPI 3.0 uses it.
type schema = map[string]any

func str() schema                { return schema{"type": "string"} }
func strEnum(v ...string) schema { return schema{"type": "string", "enum": v} }
func ts() schema                 { return schema{"type": "string", "format": "date-time"} }
func nullable(s schema) schema {
	c := maps.Clone(s)
	c["nullable"] = true
	return c
}
func boolean() schema         { return schema{"type": "boolean"} }
func integer() schema         { return schema{"type": "integer"} }
func arr(items schema) schema { return schema{"type": "array", "items": items} }
func ref(name string) schema  { return schema{"$ref": "#/components/schemas/" + name} }
func anyObject() schema       { return schema{"type": "object", "additionalProperties": true} }

// obj is a closed object: the listed properties, the named ones required.
func obj(props map[string]any, required ...string) schema {
	s := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func listOf(name string) schema {
	return obj(map[string]any{"items": arr(ref(name)), "next_cursor": str()}, "items")
}

func uuid() schema { return schema{"type": "string", "format": "uuid", "maxLength": 64} }

// withExample is s with an example value.
func withExample(s schema, example any) schema {
	c := maps.Clone(s)
	c["example"] = example
	return c
}

var components = map[string]any{
	"Error": obj(map[string]any{"error": obj(map[string]any{
		"code":    strEnum(sdk.Codes()...),
		"message": withExample(str(), "title: must be at most 200 characters long"),
		"fields": withExample(schema{"type": "object", "additionalProperties": str(),
			"description": "The fields at fault, each with its problem; \"rule\" names the rule broken."},
			map[string]any{"title": "must be at most 200 characters long", "rule": "max_length"}),
		"request_id": withExample(schema{"type": "string", "description": "The request's id, as in X-Request-ID and the logs."}, "4f1c2a9e0b7d3c51a"),
	}, "code", "message", "request_id")}, "error"),
	"User": withExample(obj(map[string]any{"id": uuid(), "email": schema{"type": "string", "format": "email"}, "display_name": str(), "language": str(), "created_at": ts(),
		"email_verified": schema{"type": "boolean", "description": "The person followed the link mailed to the address; until then they get no mail but the confirmation."}},
		"id", "email", "display_name", "language", "created_at", "email_verified"),
		map[string]any{"id": "01900000-0000-7000-8000-000000000001", "email": "ayse@example.org", "display_name": "Ayşe", "language": "tr", "created_at": "2026-05-01T09:30:00Z", "email_verified": true}),
	"Session": obj(map[string]any{"id": uuid(), "kind": strEnum("session", "api_token"), "name": str(), "user_agent": str(),
		"client_ip": str(), "created_at": ts(), "last_seen_at": ts(), "expires_at": ts(), "current": boolean(),
		"scope": strEnum("full", "read")},
		"id", "kind", "created_at", "last_seen_at"),
	"LoginResult": obj(map[string]any{"token": str(), "csrf_token": str(), "user": ref("User")}, "token", "csrf_token", "user"),
	"NewToken":    obj(map[string]any{"token": str(), "token_info": ref("Session")}, "token", "token_info"),
	"Membership": withExample(obj(map[string]any{"id": uuid(), "user_id": uuid(), "display_name": str(), "neighbourhood_id": uuid(),
		"state": strEnum("requested", "verified", "rejected", "left", "revoked"), "note": str(), "reason": str(),
		"created_at": ts(), "updated_at": ts(), "verified_at": ts(),
		"claim_provider": schema{"type": "string", "description": "The identity provider whose claim (a postal or municipality code, say) verified the membership; absent when a coordinator or an import did."}},
		"id", "user_id", "neighbourhood_id", "state", "created_at", "updated_at"),
		map[string]any{"id": "01900000-0000-7000-8000-000000000003", "user_id": "01900000-0000-7000-8000-000000000001",
			"neighbourhood_id": "01900000-0000-7000-8000-000000000002", "state": "verified", "created_at": "2026-05-01T09:30:00Z", "updated_at": "2026-05-02T10:00:00Z", "verified_at": "2026-05-02T10:00:00Z"}),
	"OrganisationRef": obj(map[string]any{"organisation_id": uuid(), "name": str(), "role": strEnum("member", "representative"), "verified": boolean()},
		"organisation_id", "name", "role", "verified"),
	"Me": obj(map[string]any{"user": ref("User"), "roles": schema{"type": "object", "additionalProperties": arr(str()),
		"description": "Roles per domain (\"city\", \"nbh:<id>\", \"org:<id>\")."},
		"memberships": arr(ref("Membership")), "organisations": arr(ref("OrganisationRef"))},
		"user", "roles", "memberships", "organisations"),
	"Neighbourhood": withExample(obj(map[string]any{"id": uuid(), "name": str(), "slug": str(), "parent_id": nullable(uuid()),
		"boundary": geoJSON(), "created_at": ts(), "updated_at": ts(), "archived_at": ts()},
		"id", "name", "slug", "parent_id", "created_at", "updated_at"),
		map[string]any{"id": "01900000-0000-7000-8000-000000000002", "name": "Old Town", "slug": "old-town", "parent_id": nil,
			"created_at": "2026-04-01T08:00:00Z", "updated_at": "2026-04-01T08:00:00Z"}),
	"Organisation": withExample(obj(map[string]any{"id": uuid(), "name": str(), "kind": str(), "description": str(),
		"state": strEnum("pending", "verified", "rejected"), "reason": str(), "neighbourhood_ids": arr(uuid()),
		"created_at": ts(), "updated_at": ts()},
		"id", "name", "kind", "description", "state", "neighbourhood_ids", "created_at", "updated_at"),
		map[string]any{"id": "01900000-0000-7000-8000-000000000004", "name": "Old Town Gardeners", "kind": "association",
			"description": "We keep the square green.", "state": "verified", "neighbourhood_ids": []any{"01900000-0000-7000-8000-000000000002"},
			"created_at": "2026-04-03T12:00:00Z", "updated_at": "2026-04-04T09:00:00Z"}),
	"OrganisationMember": obj(map[string]any{"user_id": uuid(), "display_name": str(), "role": strEnum("member", "representative"), "created_at": ts()},
		"user_id", "display_name", "role", "created_at"),
	"RoleGrant": obj(map[string]any{"user_id": uuid(), "display_name": str(), "role": str(), "domain": str(), "granted_by": str(), "created_at": ts()},
		"user_id", "role", "domain", "created_at"),
	"PluginStatus": obj(map[string]any{"name": str(), "version": str(), "kind": strEnum("builtin", "external"),
		"state":    strEnum("starting", "migrating", "active", "degraded", "stopping", "stopped", "failed"),
		"restarts": integer(), "last_error": str()}, "name", "version", "kind", "state", "restarts", "last_error"),
	"AuditEntry": obj(map[string]any{"id": uuid(), "at": ts(), "actor_id": nullable(uuid()), "action": str(), "domain": str(),
		"target": str(), "request_id": str(), "detail": anyObject()},
		"id", "at", "actor_id", "action", "domain", "target", "request_id", "detail"),
	"ImportReport": obj(map[string]any{"imported": boolean(), "rows": arr(obj(map[string]any{
		"line": integer(), "email": str(), "neighbourhood": str(),
		"result": strEnum("imported", "not_imported", "already_verified", "unknown_email", "unknown_neighbourhood", "invalid", "over_limit"),
	}, "line", "email", "neighbourhood", "result"))}, "imported", "rows"),
	"ImportFailure": obj(map[string]any{"error": schema{"type": "object"}, "report": ref("ImportReport")}, "error", "report"),
	"Notification": withExample(obj(map[string]any{"id": uuid(), "kind": str(), "subject": str(), "link": str(), "title": str(), "body": str(),
		"created_at": ts(), "read_at": nullable(ts())}, "id", "kind", "subject", "link", "title", "body", "created_at", "read_at"),
		map[string]any{"id": "01900000-0000-7000-8000-000000000005", "kind": "assemblies.motion.answered", "subject": "assemblies.motion:01900000-0000-7000-8000-000000000006",
			"link": "/assemblies/01900000-0000-7000-8000-000000000007/motions/01900000-0000-7000-8000-000000000006", "title": "The city answered your motion",
			"body": "The city will repave Harbour Street in May.", "created_at": "2026-05-04T08:00:00Z", "read_at": nil}),
	"NotificationPreference": withExample(obj(map[string]any{"kind": str(), "source": str(), "label": schema{"type": "string", "description": "The kind's name in the requester's language."},
		"labels":  schema{"type": "object", "additionalProperties": str(), "description": "The kind's name in every language its plugin speaks (BCP 47 tag → text)."},
		"default": deliveries(), "delivery": deliveries(), "chosen": schema{"type": "boolean", "description": "Whether the person chose the delivery; false means the kind's default."}},
		"kind", "source", "label", "labels", "default", "delivery", "chosen"),
		map[string]any{"kind": "assemblies.motion.answered", "source": "assemblies", "label": "The city answered a motion", "labels": map[string]any{"en": "The city answered a motion"},
			"default": "immediately", "delivery": "daily", "chosen": true}),
	"Follow":       obj(map[string]any{"subject": withExample(str(), "assemblies.motion:01900000-0000-7000-8000-000000000006"), "created_at": ts()}, "subject", "created_at"),
	"UnreadCount":  obj(map[string]any{"count": integer()}, "count"),
	"Unsubscribed": obj(map[string]any{"kind": str(), "delivery": deliveries()}, "kind", "delivery"),
	"Health": obj(map[string]any{"status": str(), "reason": str(), "plugins_not_active": arr(obj(map[string]any{"name": str(),
		"state": strEnum("starting", "migrating", "degraded", "stopping", "stopped", "failed"), "required": boolean()}, "name", "state", "required"))}, "status"),
}

// deliveries are the ways a person hears of a kind of notification.
func deliveries() schema {
	return strEnum(string(core.DeliverImmediately), string(core.DeliverDaily), string(core.DeliverWeekly), string(core.DeliverInApp))
}

// geoJSON is a neighbourhood's boundary: a GeoJSON Polygon or MultiPolygon.
func geoJSON() schema {
	return schema{"type": "object", "additionalProperties": true, "description": "A GeoJSON Polygon or MultiPolygon (RFC 7946)."}
}

// param is a path or query parameter of an operation.
type param struct {
	name   string
	schema schema
	desc   string
}

// Query parameters the core's routes share.
var (
	limitParam  = param{"limit", schema{"type": "integer", "minimum": 1, "maximum": core.MaxPageLimit, "default": core.DefaultPageLimit}, "Items per page."}
	cursorParam = param{"cursor", schema{"type": "string", "maxLength": 1000}, "The next_cursor of the previous page; absent for the first."}
)

// operation describes one route for the document.
type operation struct {
	method, path string
	id           string // operationId
	summary      string
	desc         string
	auth         string // "public", "user" or the permission that guards it
	body         schema
	in           any            // the Go type the body decodes into: its tags give the limits
	example      any            // an example request body
	responses    map[int]schema // nil schema = no body
	query        []param
}

// listParams are a list's own query parameters and the page's.
func listParams(own ...param) []param { return append(own, limitParam, cursorParam) }

var grantBody = obj(map[string]any{"user_id": uuid(), "role": str(), "domain": str()}, "user_id", "role", "domain")
var grantExample = map[string]any{"user_id": "01900000-0000-7000-8000-000000000001", "role": "coordinator", "domain": "nbh:01900000-0000-7000-8000-000000000002"}
var reasonBody = obj(map[string]any{"reason": schema{"type": "string", "description": "Why; required when refusing, shown to the person concerned."}})
var reasonExample = map[string]any{"reason": "The address is outside the district."}
var membershipStates = param{"state", strEnum("requested", "verified", "rejected", "left", "revoked"), "Only memberships in this state."}

var operations = []operation{
	{method: "GET", path: "/healthz", id: "healthz", summary: "The process is alive",
		desc: "Answers 200 while the process runs, whatever its database or plugins do: for a liveness probe.", auth: "public", responses: map[int]schema{200: ref("Health")}},
	{method: "GET", path: "/readyz", id: "readyz", summary: "The node may take traffic",
		desc: "200 when the database answers, its schema is current and every required plugin is active; lists the plugins that are not active. For a load balancer's readiness probe.",
		auth: "public", responses: map[int]schema{200: ref("Health"), 503: ref("Health")}},
	{method: "GET", path: "/api/v1/openapi.json", id: "getOpenAPI", summary: "This document",
		desc: "The OpenAPI 3 description of the core's routes and those of every active plugin.", auth: "public", responses: map[int]schema{200: anyObject()}},
	{method: "POST", path: "/api/v1/auth/register", id: "register", summary: "Open an account",
		desc: "Registers a person with a local password and mails a link that confirms the address (POST /api/v1/auth/verify-email). The answer is the same for an address that has an account, so that nobody learns who is registered: no account is made then, and the address's owner is mailed instead.", auth: "public",
		body:      obj(map[string]any{"email": schema{"type": "string", "format": "email"}, "password": schema{"type": "string", "minLength": 10, "format": "password"}, "display_name": str(), "language": str()}, "email", "password", "display_name", "language"),
		in:        core.Registration{},
		example:   map[string]any{"email": "ayse@example.org", "password": "sea breeze over the bay", "display_name": "Ayşe", "language": "tr"},
		responses: map[int]schema{201: ref("User")}},
	{method: "POST", path: "/api/v1/auth/verify-email", id: "verifyEmail", summary: "Confirm an email address",
		desc: "Confirms the address a confirmation link was mailed to, with the link's token (the t parameter). A token works once, for 48 hours, and only while the address is still the account's; refused, the answer is 422 with the rule \"token\".", auth: "public",
		body: obj(map[string]any{"token": str()}, "token"), in: core.EmailVerification{}, example: map[string]any{"token": "q3Zp0v7dX1c9uV3sYy8mG4b2Kf6nL0aHwRjT5eDiQoE"},
		responses: map[int]schema{204: nil, 422: ref("Error")}},
	{method: "POST", path: "/api/v1/auth/password/forgot", id: "forgotPassword", summary: "Ask for a password reset link",
		desc: "Mails a link to choose a new password to the address, if it has an account; the answer is 204 either way. At most three links an hour are sent to one account.", auth: "public",
		body: obj(map[string]any{"email": schema{"type": "string", "format": "email"}}, "email"), in: core.PasswordResetRequest{}, example: map[string]any{"email": "ayse@example.org"},
		responses: map[int]schema{204: nil, 422: ref("Error")}},
	{method: "POST", path: "/api/v1/auth/password/reset", id: "resetPassword", summary: "Set a new password from a reset link",
		desc: "Sets a new password (the same rules as registration) with a reset link's token, which works once, for one hour. Every session and API token of the person ends. A refused token answers 422 with the rule \"token\".", auth: "public",
		body: obj(map[string]any{"token": str(), "new_password": schema{"type": "string", "minLength": 10, "format": "password"}}, "token", "new_password"), in: core.PasswordReset{},
		example:   map[string]any{"token": "q3Zp0v7dX1c9uV3sYy8mG4b2Kf6nL0aHwRjT5eDiQoE", "new_password": "a new sea breeze over the bay"},
		responses: map[int]schema{204: nil, 422: ref("Error")}},
	{method: "POST", path: "/api/v1/me/verify-email", id: "resendVerification", summary: "Mail the confirmation link again",
		desc: "Mails a fresh confirmation link to the acting person's address unless it is confirmed; at most three an hour.", auth: "user",
		responses: map[int]schema{204: nil}},
	{method: "POST", path: "/api/v1/auth/login", id: "login", summary: "Sign in",
		desc: "Checks the password, sets the session and anti-forgery cookies and returns the session token for scripts. Repeated failures are throttled (429 with Retry-After).", auth: "public",
		body: obj(map[string]any{"email": schema{"type": "string", "format": "email"}, "password": schema{"type": "string", "format": "password"}}, "email", "password"), in: core.LoginAttempt{},
		example:   map[string]any{"email": "ayse@example.org", "password": "sea breeze over the bay"},
		responses: map[int]schema{200: ref("LoginResult"), 429: ref("Error")}},
	{method: "POST", path: "/api/v1/auth/logout", id: "logout", summary: "Sign out",
		desc: "Ends this session and clears its cookies.", auth: "user", responses: map[int]schema{204: nil}},
	{method: "GET", path: "/api/v1/me", id: "getMe", summary: "The signed-in person",
		desc: "The acting person, their roles per domain, their neighbourhood memberships and organisations.", auth: "user", responses: map[int]schema{200: ref("Me")}},
	{method: "DELETE", path: "/api/v1/me", id: "deleteMe", summary: "Delete the account",
		desc: "Erases the person's personal data, files they uploaded through plugins included, ends every session and tells every plugin (core.user.deleted).", auth: "user", responses: map[int]schema{204: nil}},
	{method: "GET", path: "/api/v1/me/export", id: "exportMe", summary: "Export my data",
		desc: "Every piece of personal data held about the acting person, as a JSON download (GDPR art. 15 and 20): the core's, and under plugins one section per enabled plugin that keeps personal data, its data described field by field in fields. Answers 503 when such a plugin cannot answer, rather than leave its part out.", auth: "user", responses: map[int]schema{200: anyObject(), 503: ref("Error")}},
	{method: "GET", path: "/api/v1/me/sessions", id: "listSessions", summary: "My sessions",
		desc: "The open sign-in sessions of the acting person, oldest first; the one making the request is marked current.", auth: "user",
		query: listParams(), responses: map[int]schema{200: listOf("Session")}},
	{method: "DELETE", path: "/api/v1/me/sessions/{id}", id: "revokeSession", summary: "End one session",
		desc: "Signs one of the acting person's sessions out, on whatever device it is.", auth: "user", responses: map[int]schema{204: nil, 404: ref("Error")}},
	{method: "GET", path: "/api/v1/me/tokens", id: "listTokens", summary: "My API tokens",
		desc: "The acting person's personal API tokens, oldest first (never the secrets).", auth: "user",
		query: listParams(), responses: map[int]schema{200: listOf("Session")}},
	{method: "POST", path: "/api/v1/me/tokens", id: "createToken", summary: "Create an API token",
		desc: "Creates a personal API token for scripts; the token is shown once, in this answer. A token of scope read (default full) may only make GET, HEAD and OPTIONS requests; anything else answers 403.", auth: "user",
		body: obj(map[string]any{"name": str(), "scope": strEnum("full", "read")}, "name"), in: tokenInput{}, example: map[string]any{"name": "Home automation", "scope": "read"},
		responses: map[int]schema{201: ref("NewToken")}},
	{method: "DELETE", path: "/api/v1/me/tokens/{id}", id: "revokeToken", summary: "Revoke an API token",
		desc: "Revokes one of the acting person's API tokens at once.", auth: "user", responses: map[int]schema{204: nil, 404: ref("Error")}},
	{method: "GET", path: "/api/v1/me/notifications", id: "listNotifications", summary: "My notifications",
		desc: "The acting person's notifications, newest first, each in their language.", auth: "user",
		query: listParams(), responses: map[int]schema{200: listOf("Notification")}},
	{method: "GET", path: "/api/v1/me/notifications/unread-count", id: "countUnreadNotifications", summary: "How many notifications are unread",
		desc: "The number of the acting person's notifications not yet marked read, for a badge.", auth: "user", responses: map[int]schema{200: ref("UnreadCount")}},
	{method: "POST", path: "/api/v1/me/notifications/read", id: "markNotificationsRead", summary: "Mark notifications read",
		desc: "Marks the given notifications of the acting person read; ids of others' or unknown ones are ignored.", auth: "user",
		body: obj(map[string]any{"ids": schema{"type": "array", "maxItems": 1000, "items": uuid()}}, "ids"), in: markReadInput{},
		example: map[string]any{"ids": []any{"01900000-0000-7000-8000-000000000005"}}, responses: map[int]schema{204: nil}},
	{method: "POST", path: "/api/v1/me/notifications/read-all", id: "markAllNotificationsRead", summary: "Mark every notification read",
		desc: "Marks all of the acting person's notifications read.", auth: "user", responses: map[int]schema{204: nil}},
	{method: "GET", path: "/api/v1/me/notification-preferences", id: "listNotificationPreferences", summary: "My notification deliveries",
		desc: "Every kind of notification the city's plugins send, with how the acting person hears of it: immediately by mail, in a daily or weekly digest, or in the app only.",
		auth: "user", responses: map[int]schema{200: listOf("NotificationPreference")}},
	{method: "PUT", path: "/api/v1/me/notification-preferences", id: "setNotificationPreferences", summary: "Choose notification deliveries",
		desc: "Sets the acting person's delivery of the given kinds, all or none: an unknown kind or delivery refuses the whole request (422, each named in fields). Answers every kind as GET does.",
		auth: "user", body: obj(map[string]any{"deliveries": schema{"type": "object", "additionalProperties": deliveries(), "description": "Kind name → delivery."}}, "deliveries"),
		in: preferencesInput{}, example: map[string]any{"deliveries": map[string]any{"assemblies.motion.answered": "daily"}},
		responses: map[int]schema{200: listOf("NotificationPreference")}},
	{method: "GET", path: "/api/v1/me/follows", id: "listFollows", summary: "What I follow",
		desc: "The subjects the acting person follows (a motion, an assembly, a budgeting cycle...), newest first; their followers hear of what happens to them.", auth: "user",
		query: listParams(), responses: map[int]schema{200: listOf("Follow")}},
	{method: "DELETE", path: "/api/v1/me/follows/{subject}", id: "unfollow", summary: "Stop following",
		desc: "Stops the acting person following a subject (percent-encoded, such as assemblies.motion%3A<id>); one not followed is no error.", auth: "user",
		responses: map[int]schema{204: nil}},
	{method: "POST", path: "/api/v1/notifications/unsubscribe", id: "unsubscribe", summary: "One-click unsubscribe (RFC 8058)",
		desc: "The target of a notification mail's List-Unsubscribe header: sets the delivery of the mail's kind (for a digest, of every kind in it) to in-app only for the person the token was signed for. " +
			"Mail clients POST the body List-Unsubscribe=One-Click (form-encoded) to the link; no sign-in is needed, the signed token is the authority. A token that does not verify answers 422 and changes nothing.",
		auth: "public", query: []param{{"token", schema{"type": "string", "maxLength": 1000}, "The signed token of the mail's link."}},
		responses: map[int]schema{200: ref("Unsubscribed")}},
	{method: "GET", path: "/api/v1/neighbourhoods", id: "listNeighbourhoods", summary: "List neighbourhoods",
		desc: "The city's neighbourhoods in the order they were created; archived ones only on request.", auth: "public",
		query:     listParams(param{"include_archived", boolean(), "Include archived neighbourhoods."}),
		responses: map[int]schema{200: listOf("Neighbourhood")}},
	{method: "POST", path: "/api/v1/neighbourhoods", id: "createNeighbourhood", summary: "Create a neighbourhood",
		desc: "Creates a neighbourhood; the slug is derived from the name unless given.", auth: "core.neighbourhood.manage",
		body: obj(map[string]any{"name": str(), "slug": str(), "parent_id": nullable(uuid()), "boundary": geoJSON()}, "name"), in: core.NeighbourhoodInput{},
		example:   map[string]any{"name": "Old Town", "slug": "old-town"},
		responses: map[int]schema{201: ref("Neighbourhood"), 409: ref("Error")}},
	{method: "GET", path: "/api/v1/neighbourhoods/{id}", id: "getNeighbourhood", summary: "One neighbourhood",
		desc: "A neighbourhood with its boundary.", auth: "public", responses: map[int]schema{200: ref("Neighbourhood"), 404: ref("Error")}},
	{method: "PATCH", path: "/api/v1/neighbourhoods/{id}", id: "updateNeighbourhood", summary: "Change a neighbourhood",
		desc: "Changes the given fields of a neighbourhood, or archives it.", auth: "core.neighbourhood.manage",
		body: obj(map[string]any{"name": str(), "slug": str(), "parent_id": nullable(uuid()), "boundary": geoJSON(), "archived": boolean()}), in: core.NeighbourhoodUpdate{},
		example:   map[string]any{"name": "Old Town and Harbour"},
		responses: map[int]schema{200: ref("Neighbourhood"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods/{id}/memberships", id: "requestMembership", summary: "Ask to join",
		desc: "Asks to become a verified member (a resident) of a neighbourhood; a coordinator decides.", auth: "user",
		body: obj(map[string]any{"note": str()}), in: noteInput{}, example: map[string]any{"note": "I live on Harbour Street."},
		responses: map[int]schema{201: ref("Membership"), 404: ref("Error"), 409: ref("Error")}},
	{method: "GET", path: "/api/v1/neighbourhoods/{id}/memberships", id: "listMemberships", summary: "Memberships of a neighbourhood",
		desc: "The neighbourhood's memberships, for its coordinators, in the order they were asked for.", auth: "core.membership.decide",
		query: listParams(membershipStates), responses: map[int]schema{200: listOf("Membership"), 404: ref("Error")}},
	{method: "DELETE", path: "/api/v1/neighbourhoods/{id}/memberships/me", id: "leaveNeighbourhood", summary: "Leave a neighbourhood",
		desc: "Leaves the neighbourhood, or withdraws a request to join.", auth: "user", responses: map[int]schema{204: nil, 404: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods/{id}/memberships/{userID}/approve", id: "approveMembership", summary: "Approve a request to join",
		desc: "Makes the person a verified member of the neighbourhood.", auth: "core.membership.decide",
		body: reasonBody, in: reasonInput{}, example: map[string]any{}, responses: map[int]schema{200: ref("Membership"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods/{id}/memberships/{userID}/reject", id: "rejectMembership", summary: "Reject a request to join",
		desc: "Refuses a request to join, with a reason the person sees.", auth: "core.membership.decide",
		body: reasonBody, in: reasonInput{}, example: reasonExample, responses: map[int]schema{200: ref("Membership"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods/{id}/memberships/{userID}/revoke", id: "revokeMembership", summary: "Revoke a membership",
		desc: "Ends a verified membership, with a reason the person sees.", auth: "core.membership.decide",
		body: reasonBody, in: reasonInput{}, example: reasonExample, responses: map[int]schema{200: ref("Membership"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/admin/memberships/import", id: "importMemberships", summary: "Import verified memberships",
		desc: "Imports lines of email,neighbourhood (a CSV body or a multipart file named file) as verified memberships: all or nothing, with a report per line.", auth: "core.membership.import",
		responses: map[int]schema{200: ref("ImportReport"), 422: ref("ImportFailure")}},
	{method: "GET", path: "/api/v1/organisations", id: "listOrganisations", summary: "List organisations",
		desc: "Verified organisations, in the order they registered; city admins may list pending or rejected ones by state.", auth: "public",
		query:     listParams(param{"state", strEnum("pending", "verified", "rejected"), "Only organisations in this state (other than verified: city admins only)."}),
		responses: map[int]schema{200: listOf("Organisation"), 403: ref("Error")}},
	{method: "POST", path: "/api/v1/organisations", id: "createOrganisation", summary: "Register an organisation",
		desc: "Registers an organisation for verification; the founder becomes its representative.", auth: "user",
		body: obj(map[string]any{"name": str(), "kind": str(), "description": str(), "neighbourhood_ids": arr(uuid())}, "name", "kind"), in: core.OrganisationInput{},
		example:   map[string]any{"name": "Old Town Gardeners", "kind": "association", "description": "We keep the square green.", "neighbourhood_ids": []any{"01900000-0000-7000-8000-000000000002"}},
		responses: map[int]schema{201: ref("Organisation")}},
	{method: "GET", path: "/api/v1/organisations/{id}", id: "getOrganisation", summary: "One organisation",
		desc: "An organisation and the neighbourhoods it works in.", auth: "public", responses: map[int]schema{200: ref("Organisation"), 404: ref("Error")}},
	{method: "POST", path: "/api/v1/organisations/{id}/verify", id: "verifyOrganisation", summary: "Verify an organisation",
		desc: "Marks a pending organisation verified, so it may act as one in plugins.", auth: "core.organisation.verify",
		body: reasonBody, in: reasonInput{}, example: map[string]any{}, responses: map[int]schema{200: ref("Organisation"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/organisations/{id}/reject", id: "rejectOrganisation", summary: "Reject an organisation",
		desc: "Refuses a pending organisation, with a reason its representative sees.", auth: "core.organisation.verify",
		body: reasonBody, in: reasonInput{}, example: reasonExample, responses: map[int]schema{200: ref("Organisation"), 404: ref("Error"), 409: ref("Error")}},
	{method: "GET", path: "/api/v1/organisations/{id}/members", id: "listOrganisationMembers", summary: "Members of an organisation",
		desc: "The organisation's members and representatives, in the order they joined; for its own members.", auth: "user",
		query: listParams(), responses: map[int]schema{200: listOf("OrganisationMember"), 403: ref("Error"), 404: ref("Error")}},
	{method: "POST", path: "/api/v1/organisations/{id}/members", id: "addOrganisationMember", summary: "Add a member",
		desc: "Adds a member or representative to the organisation.", auth: "core.organisation.members.manage",
		body: obj(map[string]any{"user_id": uuid(), "role": strEnum("member", "representative")}, "user_id"), in: organisationMemberInput{},
		example:   map[string]any{"user_id": "01900000-0000-7000-8000-000000000001", "role": "member"},
		responses: map[int]schema{201: ref("OrganisationMember"), 404: ref("Error")}},
	{method: "DELETE", path: "/api/v1/organisations/{id}/members/{userID}", id: "removeOrganisationMember", summary: "Remove a member",
		desc: "Removes a member; the last representative cannot be removed.", auth: "core.organisation.members.manage",
		responses: map[int]schema{204: nil, 404: ref("Error"), 409: ref("Error")}},
	{method: "GET", path: "/api/v1/users", id: "searchUsers", summary: "Find people",
		desc: "People whose email address or display name contains q, in any case, ordered by name; without q, everyone. " +
			"For picking the person of a role grant; never shows passwords or sessions.", auth: "core.users.read",
		query: listParams(param{"q", schema{"type": "string", "maxLength": core.MaxUserQuery, "example": "ayse"},
			"Part of an email address or a name; % and _ are plain characters."}),
		responses: map[int]schema{200: listOf("User")}},
	{method: "GET", path: "/api/v1/users/{id}", id: "getUser", summary: "One person",
		desc: "A person's account details (never passwords or sessions), for holders of core.users.read.", auth: "core.users.read",
		responses: map[int]schema{200: ref("User"), 404: ref("Error")}},
	{method: "GET", path: "/api/v1/roles/grants", id: "listGrants", summary: "Role grants in a domain",
		desc: "The roles granted explicitly in a domain, oldest first (roles that follow from membership are not listed).", auth: "core.roles.grant",
		query:     listParams(param{"domain", schema{"type": "string", "maxLength": 100, "default": "city"}, "\"city\", \"nbh:<id>\" or \"org:<id>\"."}),
		responses: map[int]schema{200: listOf("RoleGrant")}},
	{method: "POST", path: "/api/v1/roles/grants", id: "grantRole", summary: "Grant a role",
		desc: "Grants a role in a domain; no one grants a role they do not hold.", auth: "core.roles.grant",
		body: grantBody, in: grantInput{}, example: grantExample, responses: map[int]schema{201: ref("RoleGrant"), 409: ref("Error")}},
	{method: "DELETE", path: "/api/v1/roles/grants", id: "revokeRole", summary: "Revoke a role",
		desc: "Revokes a role granted in a domain.", auth: "core.roles.grant",
		body: grantBody, in: grantInput{}, example: grantExample, responses: map[int]schema{204: nil, 404: ref("Error")}},
	{method: "GET", path: "/api/v1/admin/audit", id: "listAudit", summary: "The audit log",
		desc: "Who did what, where and when, newest first, filtered by the given fields.", auth: "core.audit.read",
		query: listParams(
			param{"actor_id", uuid(), "Only entries by this person."},
			param{"action", schema{"type": "string", "maxLength": 100}, "Only this action, such as neighbourhood.created."},
			param{"domain", schema{"type": "string", "maxLength": 100}, "Only entries in this domain."},
			param{"target", schema{"type": "string", "maxLength": 200}, "Only entries about this target, such as user:<id>."},
			param{"since", ts(), "Only entries at or after this time."},
			param{"until", ts(), "Only entries before this time."}),
		responses: map[int]schema{200: listOf("AuditEntry")}},
	{method: "GET", path: "/api/v1/admin/plugins", id: "listPlugins", summary: "The city's plugins",
		desc: "Every configured plugin with its state, version, restarts and last error, by name.", auth: "core.plugins.manage",
		query: listParams(), responses: map[int]schema{200: listOf("PluginStatus")}},
	{method: "POST", path: "/api/v1/admin/plugins/{name}/enable", id: "enablePlugin", summary: "Enable a plugin",
		desc: "Starts a stopped or failed plugin, forgetting its crashes; every node follows.", auth: "core.plugins.manage",
		responses: map[int]schema{200: ref("PluginStatus"), 404: ref("Error")}},
	{method: "POST", path: "/api/v1/admin/plugins/{name}/disable", id: "disablePlugin", summary: "Disable a plugin",
		desc: "Stops a plugin gracefully until it is enabled again; its routes answer 404.", auth: "core.plugins.manage",
		responses: map[int]schema{200: ref("PluginStatus"), 404: ref("Error")}},
	{method: "POST", path: "/api/v1/admin/plugins/{name}/restart", id: "restartPlugin", summary: "Restart a plugin",
		desc: "Stops a plugin gracefully and starts it again.", auth: "core.plugins.manage",
		responses: map[int]schema{200: ref("PluginStatus"), 404: ref("Error")}},
}

// commonResponses adds the errors every route of its kind can give: a bad token (401),
// an unreadable request (400), input beyond the documented limits or breaking a rule
// (422), a missing permission or anti-forgery header (403), a body over the limit
// (413), the database out of reach (503) and an internal error (500).
func commonResponses(op operation) map[int]schema {
	out := maps.Clone(op.responses)
	add := func(status int) {
		if _, ok := out[status]; !ok {
			out[status] = ref("Error")
		}
	}
	if strings.HasPrefix(op.path, "/api/v1/") {
		add(401)
		add(500)
		// Input limits (sdk.CheckInput on bodies, checkURL on paths and queries) name
		// the rule broken; a database that cannot be reached answers 503.
		add(422)
		add(503)
		if op.method != "GET" || slices.ContainsFunc(op.query, func(p param) bool { return p.name == "cursor" }) {
			add(400)
		}
		if op.method != "GET" || op.auth != "public" && op.auth != "user" {
			add(403)
		}
		if op.method != "GET" && op.method != "DELETE" || op.body != nil {
			add(413)
		}
	}
	return out
}

type openAPIDoc struct{ doc map[string]any }

// responseHeaders documents the headers of an answer: Retry-After on 429 and 503.
func responseHeaders(status int) map[string]any {
	if status != 429 && status != 503 {
		return nil
	}
	return map[string]any{"Retry-After": map[string]any{"description": "Seconds to wait before trying again.",
		"schema": schema{"type": "integer", "minimum": 1}}}
}

// signInRequired is an operation's security: a bearer token or the session cookie.
var signInRequired = []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}}

func buildOpenAPI() *openAPIDoc {
	paths := map[string]any{}
	for _, op := range operations {
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		responses := map[string]any{}
		for status, sch := range commonResponses(op) {
			r := map[string]any{"description": statusText(status)}
			if sch != nil {
				r["content"] = map[string]any{"application/json": map[string]any{"schema": sch}}
			}
			if h := responseHeaders(status); h != nil {
				r["headers"] = h
			}
			responses[itoa(status)] = r
		}
		o := map[string]any{"operationId": op.id, "summary": op.summary, "description": op.desc, "responses": responses, "x-kvarter-auth": op.auth}
		var params []any
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				sch := uuid()
				if name == "name" {
					sch = schema{"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"}
				}
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": sch})
			}
		}
		for _, q := range op.query {
			params = append(params, map[string]any{"name": q.name, "in": "query", "schema": q.schema, "description": q.desc})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.auth == "public" {
			o["security"] = []any{}
		} else {
			o["security"] = signInRequired
		}
		if op.body != nil {
			body := op.body
			if op.in != nil {
				body = sdk.WithLimits(body, op.in)
			}
			media := map[string]any{"schema": body}
			if op.example != nil {
				media["example"] = op.example
			}
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": media}}
		}
		item[strings.ToLower(op.method)] = o
	}
	return &openAPIDoc{doc: map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Kvarter API", "version": "1",
			"description": "Kvarter core and its active plugins (DESIGN.md §7). Every error is " +
				"{\"error\": {\"code\", \"message\", \"fields\", \"request_id\"}}; every list is " +
				"{\"items\", \"next_cursor\"} and takes limit and cursor."},
		"servers": []any{map[string]any{"url": "/", "description": "The city's Kvarter that served this document."}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": components,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "A session token from POST /api/v1/auth/login or a personal API token."},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie,
					"description": "The session cookie a browser gets at sign-in (named " + SecureSessionCookie + " over HTTPS); unsafe methods also need the " + CSRFHeader + " header."},
			},
		},
	}}
}

// Document returns the OpenAPI document with the paths of every active plugin merged in.
func (s *Server) Document() map[string]any {
	doc := maps.Clone(s.openapi.doc)
	paths := maps.Clone(doc["paths"].(map[string]any))
	if s.plugins != nil {
		for p, item := range s.plugins.OpenAPIPaths() {
			if _, taken := paths[p]; !taken {
				paths[p] = item
			}
		}
	}
	doc["paths"] = paths
	return doc
}

func (s *Server) getOpenAPI(c *fiber.Ctx) error { return c.JSON(s.Document()) }

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "Response"
}

func itoa(n int) string { return strconv.Itoa(n) }
