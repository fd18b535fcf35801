package httpapi

import (
	"maps"
	"net/http"
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

var components = map[string]any{
	"Error": obj(map[string]any{"error": obj(map[string]any{
		"code":       strEnum("invalid", "unauthenticated", "forbidden", "not_found", "conflict", "rate_limited", "unavailable", "internal"),
		"message":    str(),
		"fields":     schema{"type": "object", "additionalProperties": str()},
		"request_id": str(),
	}, "code", "message")}, "error"),
	"User": obj(map[string]any{"id": str(), "email": str(), "display_name": str(), "language": str(), "created_at": ts()},
		"id", "email", "display_name", "language", "created_at"),
	"Session": obj(map[string]any{"id": str(), "kind": strEnum("session", "api_token"), "name": str(), "user_agent": str(),
		"client_ip": str(), "created_at": ts(), "last_seen_at": ts(), "expires_at": ts(), "current": boolean()},
		"id", "kind", "created_at", "last_seen_at"),
	"LoginResult": obj(map[string]any{"token": str(), "csrf_token": str(), "user": ref("User")}, "token", "csrf_token", "user"),
	"NewToken":    obj(map[string]any{"token": str(), "token_info": ref("Session")}, "token", "token_info"),
	"Membership": obj(map[string]any{"id": str(), "user_id": str(), "display_name": str(), "neighbourhood_id": str(),
		"state": strEnum("requested", "verified", "rejected", "left", "revoked"), "note": str(), "reason": str(),
		"created_at": ts(), "updated_at": ts(), "verified_at": ts()},
		"id", "user_id", "neighbourhood_id", "state", "created_at", "updated_at"),
	"OrganisationRef": obj(map[string]any{"organisation_id": str(), "name": str(), "role": strEnum("member", "representative"), "verified": boolean()},
		"organisation_id", "name", "role", "verified"),
	"Me": obj(map[string]any{"user": ref("User"), "roles": schema{"type": "object", "additionalProperties": arr(str())},
		"memberships": arr(ref("Membership")), "organisations": arr(ref("OrganisationRef"))},
		"user", "roles", "memberships", "organisations"),
	"Neighbourhood": obj(map[string]any{"id": str(), "name": str(), "slug": str(), "parent_id": nullable(str()),
		"boundary": anyObject(), "created_at": ts(), "updated_at": ts(), "archived_at": ts()},
		"id", "name", "slug", "parent_id", "created_at", "updated_at"),
	"Organisation": obj(map[string]any{"id": str(), "name": str(), "kind": str(), "description": str(),
		"state": strEnum("pending", "verified", "rejected"), "reason": str(), "neighbourhood_ids": arr(str()),
		"created_at": ts(), "updated_at": ts()},
		"id", "name", "kind", "description", "state", "neighbourhood_ids", "created_at", "updated_at"),
	"OrganisationMember": obj(map[string]any{"user_id": str(), "display_name": str(), "role": strEnum("member", "representative"), "created_at": ts()},
		"user_id", "display_name", "role", "created_at"),
	"RoleGrant": obj(map[string]any{"user_id": str(), "role": str(), "domain": str(), "granted_by": str(), "created_at": ts()},
		"user_id", "role", "domain", "created_at"),
	"PluginStatus": obj(map[string]any{"name": str(), "version": str(), "kind": strEnum("builtin", "external"),
		"state":    strEnum("starting", "migrating", "active", "degraded", "stopping", "stopped", "failed"),
		"restarts": integer(), "last_error": str()}, "name", "version", "kind", "state", "restarts", "last_error"),
	"AuditEntry": obj(map[string]any{"id": str(), "at": ts(), "actor_id": nullable(str()), "action": str(), "domain": str(),
		"target": str(), "request_id": str(), "detail": anyObject()},
		"id", "at", "actor_id", "action", "domain", "target", "request_id", "detail"),
	"ImportReport": obj(map[string]any{"imported": boolean(), "rows": arr(obj(map[string]any{
		"line": integer(), "email": str(), "neighbourhood": str(),
		"result": strEnum("imported", "not_imported", "already_verified", "unknown_email", "unknown_neighbourhood", "invalid", "over_limit"),
	}, "line", "email", "neighbourhood", "result"))}, "imported", "rows"),
	"ImportFailure": obj(map[string]any{"error": schema{"type": "object"}, "report": ref("ImportReport")}, "error", "report"),
	"Health": obj(map[string]any{"status": str(), "reason": str(), "plugins_not_active": arr(obj(map[string]any{"name": str(),
		"state": strEnum("starting", "migrating", "degraded", "stopping", "stopped", "failed"), "required": boolean()}, "name", "state", "required"))}, "status"),
}

// operation describes one route for the document.
type operation struct {
	method, path, summary string
	auth                  string // "public", "user" or the permission that guards it
	body                  schema
	in                    any            // the Go type the body decodes into: its tags give the limits
	responses             map[int]schema // nil schema = no body
	query                 []string
}

var grantBody = obj(map[string]any{"user_id": str(), "role": str(), "domain": str()}, "user_id", "role", "domain")
var reasonBody = obj(map[string]any{"reason": str()})

var operations = []operation{
	{method: "GET", path: "/healthz", summary: "The process is alive", auth: "public", responses: map[int]schema{200: ref("Health")}},
	{method: "GET", path: "/readyz", summary: "The node may take traffic: the database answers, its schema is current and every required plugin is active; lists the plugins that are not active", auth: "public", responses: map[int]schema{200: ref("Health"), 503: ref("Health")}},
	{method: "GET", path: "/api/v1/openapi.json", summary: "This document", auth: "public", responses: map[int]schema{200: anyObject()}},
	{method: "POST", path: "/api/v1/auth/register", summary: "Open an account", auth: "public",
		body: obj(map[string]any{"email": str(), "password": str(), "display_name": str(), "language": str()}, "email", "password", "display_name", "language"), in: core.Registration{},
		responses: map[int]schema{201: ref("User"), 400: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/auth/login", summary: "Sign in; sets the session cookie and returns the token", auth: "public",
		body: obj(map[string]any{"email": str(), "password": str()}, "email", "password"), in: core.LoginAttempt{},
		responses: map[int]schema{200: ref("LoginResult"), 400: ref("Error"), 401: ref("Error"), 429: ref("Error")}},
	{method: "POST", path: "/api/v1/auth/logout", summary: "End this session", auth: "user", responses: map[int]schema{204: nil, 401: ref("Error")}},
	{method: "GET", path: "/api/v1/me", summary: "The acting person, their roles per domain and memberships", auth: "user", responses: map[int]schema{200: ref("Me"), 401: ref("Error")}},
	{method: "DELETE", path: "/api/v1/me", summary: "Delete the account: personal data erased, core.user.deleted published", auth: "user", responses: map[int]schema{204: nil, 401: ref("Error")}},
	{method: "GET", path: "/api/v1/me/export", summary: "Every piece of personal data held about the acting person", auth: "user", responses: map[int]schema{200: anyObject(), 401: ref("Error")}},
	{method: "GET", path: "/api/v1/me/sessions", summary: "Open sessions", auth: "user", responses: map[int]schema{200: listOf("Session"), 401: ref("Error")}},
	{method: "DELETE", path: "/api/v1/me/sessions/{id}", summary: "End one session", auth: "user", responses: map[int]schema{204: nil, 404: ref("Error")}},
	{method: "GET", path: "/api/v1/me/tokens", summary: "Personal API tokens (never the secrets)", auth: "user", responses: map[int]schema{200: listOf("Session"), 401: ref("Error")}},
	{method: "POST", path: "/api/v1/me/tokens", summary: "Create a personal API token, shown once", auth: "user",
		body: obj(map[string]any{"name": str()}, "name"), in: tokenInput{}, responses: map[int]schema{201: ref("NewToken"), 400: ref("Error")}},
	{method: "DELETE", path: "/api/v1/me/tokens/{id}", summary: "Revoke a personal API token", auth: "user", responses: map[int]schema{204: nil, 404: ref("Error")}},
	{method: "GET", path: "/api/v1/neighbourhoods", summary: "List neighbourhoods", auth: "public", query: []string{"limit", "cursor", "include_archived"},
		responses: map[int]schema{200: listOf("Neighbourhood"), 400: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods", summary: "Create a neighbourhood", auth: "core.neighbourhood.manage",
		body: obj(map[string]any{"name": str(), "slug": str(), "parent_id": nullable(str()), "boundary": anyObject()}, "name"), in: core.NeighbourhoodInput{},
		responses: map[int]schema{201: ref("Neighbourhood"), 400: ref("Error"), 403: ref("Error"), 409: ref("Error")}},
	{method: "GET", path: "/api/v1/neighbourhoods/{id}", summary: "One neighbourhood", auth: "public", responses: map[int]schema{200: ref("Neighbourhood"), 404: ref("Error")}},
	{method: "PATCH", path: "/api/v1/neighbourhoods/{id}", summary: "Change or archive a neighbourhood", auth: "core.neighbourhood.manage",
		body: obj(map[string]any{"name": str(), "slug": str(), "parent_id": nullable(str()), "boundary": anyObject(), "archived": boolean()}), in: core.NeighbourhoodUpdate{},
		responses: map[int]schema{200: ref("Neighbourhood"), 400: ref("Error"), 403: ref("Error"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods/{id}/memberships", summary: "Ask to join", auth: "user",
		body: obj(map[string]any{"note": str()}), in: noteInput{}, responses: map[int]schema{201: ref("Membership"), 400: ref("Error"), 404: ref("Error"), 409: ref("Error")}},
	{method: "GET", path: "/api/v1/neighbourhoods/{id}/memberships", summary: "Memberships, for coordinators", auth: "core.membership.decide", query: []string{"state", "limit", "cursor"},
		responses: map[int]schema{200: listOf("Membership"), 403: ref("Error"), 404: ref("Error")}},
	{method: "DELETE", path: "/api/v1/neighbourhoods/{id}/memberships/me", summary: "Leave, or withdraw a request", auth: "user", responses: map[int]schema{204: nil, 404: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods/{id}/memberships/{userID}/approve", summary: "Approve a request", auth: "core.membership.decide",
		body: reasonBody, in: reasonInput{}, responses: map[int]schema{200: ref("Membership"), 403: ref("Error"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods/{id}/memberships/{userID}/reject", summary: "Reject a request with a reason", auth: "core.membership.decide",
		body: reasonBody, in: reasonInput{}, responses: map[int]schema{200: ref("Membership"), 400: ref("Error"), 403: ref("Error"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/neighbourhoods/{id}/memberships/{userID}/revoke", summary: "Revoke a membership with a reason", auth: "core.membership.decide",
		body: reasonBody, in: reasonInput{}, responses: map[int]schema{200: ref("Membership"), 400: ref("Error"), 403: ref("Error"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/admin/memberships/import", summary: "Import verified email,neighbourhood pairs (CSV body or multipart file); all or nothing", auth: "core.membership.import",
		responses: map[int]schema{200: ref("ImportReport"), 400: ref("Error"), 403: ref("Error"), 422: ref("ImportFailure")}},
	{method: "GET", path: "/api/v1/organisations", summary: "List organisations (verified, or by state for city admins)", auth: "public", query: []string{"state", "limit", "cursor"},
		responses: map[int]schema{200: listOf("Organisation"), 403: ref("Error")}},
	{method: "POST", path: "/api/v1/organisations", summary: "Register an organisation; the founder becomes its representative", auth: "user",
		body: obj(map[string]any{"name": str(), "kind": str(), "description": str(), "neighbourhood_ids": arr(str())}, "name", "kind"), in: core.OrganisationInput{},
		responses: map[int]schema{201: ref("Organisation"), 400: ref("Error"), 401: ref("Error")}},
	{method: "GET", path: "/api/v1/organisations/{id}", summary: "One organisation", auth: "public", responses: map[int]schema{200: ref("Organisation"), 404: ref("Error")}},
	{method: "POST", path: "/api/v1/organisations/{id}/verify", summary: "Verify an organisation", auth: "core.organisation.verify",
		body: reasonBody, in: reasonInput{}, responses: map[int]schema{200: ref("Organisation"), 403: ref("Error"), 404: ref("Error"), 409: ref("Error")}},
	{method: "POST", path: "/api/v1/organisations/{id}/reject", summary: "Reject an organisation with a reason", auth: "core.organisation.verify",
		body: reasonBody, in: reasonInput{}, responses: map[int]schema{200: ref("Organisation"), 400: ref("Error"), 403: ref("Error"), 404: ref("Error"), 409: ref("Error")}},
	{method: "GET", path: "/api/v1/organisations/{id}/members", summary: "Members, for the organisation's members", auth: "user",
		responses: map[int]schema{200: listOf("OrganisationMember"), 403: ref("Error"), 404: ref("Error")}},
	{method: "POST", path: "/api/v1/organisations/{id}/members", summary: "Add a member or representative", auth: "core.organisation.members.manage",
		body: obj(map[string]any{"user_id": str(), "role": strEnum("member", "representative")}, "user_id"), in: organisationMemberInput{},
		responses: map[int]schema{201: ref("OrganisationMember"), 400: ref("Error"), 403: ref("Error"), 404: ref("Error")}},
	{method: "DELETE", path: "/api/v1/organisations/{id}/members/{userID}", summary: "Remove a member", auth: "core.organisation.members.manage",
		responses: map[int]schema{204: nil, 403: ref("Error"), 404: ref("Error"), 409: ref("Error")}},
	{method: "GET", path: "/api/v1/roles/grants", summary: "Explicit grants in a domain", auth: "core.roles.grant", query: []string{"domain"},
		responses: map[int]schema{200: listOf("RoleGrant"), 400: ref("Error"), 403: ref("Error")}},
	{method: "POST", path: "/api/v1/roles/grants", summary: "Grant a role in a domain (no escalation)", auth: "core.roles.grant",
		body: grantBody, in: grantInput{}, responses: map[int]schema{201: ref("RoleGrant"), 400: ref("Error"), 403: ref("Error"), 409: ref("Error")}},
	{method: "DELETE", path: "/api/v1/roles/grants", summary: "Revoke a role", auth: "core.roles.grant",
		body: grantBody, in: grantInput{}, responses: map[int]schema{204: nil, 400: ref("Error"), 403: ref("Error"), 404: ref("Error")}},
	{method: "GET", path: "/api/v1/admin/audit", summary: "The audit log, newest first", auth: "core.audit.read",
		query:     []string{"actor_id", "action", "domain", "target", "since", "until", "limit", "cursor"},
		responses: map[int]schema{200: listOf("AuditEntry"), 400: ref("Error"), 403: ref("Error")}},
	{method: "GET", path: "/api/v1/admin/plugins", summary: "Every configured plugin: state, version, restarts, last error", auth: "core.plugins.manage",
		responses: map[int]schema{200: obj(map[string]any{"items": arr(ref("PluginStatus"))}, "items"), 403: ref("Error")}},
	{method: "POST", path: "/api/v1/admin/plugins/{name}/enable", summary: "Start a stopped or failed plugin, forgetting its crashes", auth: "core.plugins.manage",
		responses: map[int]schema{200: ref("PluginStatus"), 403: ref("Error"), 404: ref("Error")}},
	{method: "POST", path: "/api/v1/admin/plugins/{name}/disable", summary: "Stop a plugin gracefully until it is enabled again", auth: "core.plugins.manage",
		responses: map[int]schema{200: ref("PluginStatus"), 403: ref("Error"), 404: ref("Error")}},
	{method: "POST", path: "/api/v1/admin/plugins/{name}/restart", summary: "Stop a plugin gracefully and start it again", auth: "core.plugins.manage",
		responses: map[int]schema{200: ref("PluginStatus"), 403: ref("Error"), 404: ref("Error")}},
}

// commonResponses adds the errors every route of its kind can give: a bad token (401),
// input beyond the documented limits (422), the database out of reach (503),
// a missing anti-forgery header on a cookie-authenticated unsafe request (403), a body
// over the limit (413) and an internal error (500).
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
		if op.method != "GET" {
			add(400)
			add(403)
			add(413)
		}
	}
	return out
}

type openAPIDoc struct{ doc map[string]any }

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
			responses[itoa(status)] = r
		}
		o := map[string]any{"summary": op.summary, "responses": responses, "x-kvarter-auth": op.auth}
		var params []any
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str()})
			}
		}
		for _, q := range op.query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": str()})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.auth != "public" {
			o["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}}
		}
		if op.body != nil {
			body := op.body
			if op.in != nil {
				body = sdk.WithLimits(body, op.in)
			}
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": body}}}
		}
		item[strings.ToLower(op.method)] = o
	}
	return &openAPIDoc{doc: map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Kvarter API", "version": "1",
			"description": "Kvarter core and its active plugins. Errors are {\"error\": {\"code\", \"message\", \"fields\"}}."},
		"paths": paths,
		"components": map[string]any{
			"schemas": components,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
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
