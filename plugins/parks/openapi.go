package parks

import (
	"encoding/json"
	"slices"

	"github.com/kvarter/kvarter/sdk"
)

// The OpenAPI paths of the plugin's routes, written by hand until the
// SDK generates them from the route table.

type obj = map[string]any

func str() obj                { return obj{"type": "string"} }
func strEnum(v ...string) obj { return obj{"type": "string", "enum": v} }
func integer() obj            { return obj{"type": "integer"} }
func boolean() obj            { return obj{"type": "boolean"} }
func dateTime() obj           { return obj{"type": "string", "format": "date-time"} }
func arr(items obj) obj       { return obj{"type": "array", "items": items} }
func counts() obj             { return obj{"type": "object", "additionalProperties": integer()} }

func object(props obj) obj {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	slices.Sort(req)
	return obj{"type": "object", "required": req, "properties": props, "additionalProperties": false}
}

func listOf(item obj) obj { return object(obj{"items": arr(item), "next_cursor": str()}) }

var (
	parkSchema = object(obj{
		"id": str(), "name": str(), "neighbourhood_id": str(), "time_zone": str(),
		"support_items": counts(), "created_at": dateTime(), "updated_at": dateTime(),
	})
	rangeSchema   = object(obj{"start": str(), "end": str()})
	hoursSchema   = object(obj{"periods": arr(object(obj{"name": str(), "from": str(), "to": str(), "closed": boolean(), "week": obj{"type": "object", "additionalProperties": arr(rangeSchema)}}))})
	rulesSchema   = object(obj{"min_duration_minutes": integer(), "max_duration_minutes": integer(), "slot_granularity_minutes": integer(), "min_notice_minutes": integer(), "booking_horizon_days": integer(), "buffer_before_minutes": integer(), "buffer_after_minutes": integer(), "max_active_bookings": integer()})
	areaSchema    = object(obj{"id": str(), "park_id": str(), "parent_id": str(), "name": str(), "capacity": integer(), "opening_hours": hoursSchema, "rules": rulesSchema, "created_at": dateTime()})
	statusSchema  = strEnum(StatusRequested, StatusApproved, StatusRejected, StatusCancelled, StatusCompleted)
	bookingSchema = object(obj{
		"id": str(), "park_id": str(), "area_id": str(), "series_id": str(), "kind": strEnum(KindEvent, KindClosure),
		"status": statusSchema, "organisation_id": str(), "organisation_name": str(), "requester_id": str(),
		"title": str(), "description": str(), "category": strEnum(Categories...), "expected_attendance": integer(),
		"public": boolean(), "support_items": counts(), "accessibility_notes": str(), "volunteers_needed": boolean(),
		"contact": object(obj{"name": str(), "email": str(), "phone": str()}),
		"start":   dateTime(), "end": dateTime(), "reason": str(), "sequence": integer(), "contested": boolean(),
		"series":     arr(object(obj{"id": str(), "start": dateTime(), "end": dateTime(), "status": statusSchema})),
		"created_at": dateTime(), "updated_at": dateTime(),
	})
	eventSchema = object(obj{
		"id": str(), "title": str(), "description": str(), "category": str(), "status": statusSchema,
		"start": dateTime(), "end": dateTime(), "park_id": str(), "park_name": str(), "neighbourhood_id": str(),
		"area_id": str(), "area_name": str(), "organisation_name": str(), "sequence": integer(), "updated_at": dateTime(),
		"json_ld": obj{"type": "object"},
	})
	availabilitySchema = object(obj{"area_id": str(), "time_zone": str(), "from": dateTime(), "to": dateTime(),
		"free": arr(object(obj{"start": dateTime(), "end": dateTime()}))})
	errorSchema = obj{"type": "object", "required": []string{"error"}, "properties": obj{"error": obj{
		"type": "object", "required": []string{"code", "message"},
		"properties": obj{"code": str(), "message": str(), "fields": obj{"type": "object", "additionalProperties": str()}},
	}}}
)

func jsonBody(s obj) obj { return obj{"content": obj{"application/json": obj{"schema": s}}} }

func op(summary string, params []obj, body obj, ok int, okSchema obj, errs ...int) obj {
	responses := obj{}
	desc := map[int]string{200: "OK", 201: "Created", 400: "Malformed input", 401: "Not signed in",
		403: "Forbidden", 404: "Not found", 409: "Conflict (the rule is named in error.fields.rule)",
		422: "Breaks a rule (named in error.fields.rule)"}
	r := jsonBody(okSchema)
	r["description"] = desc[ok]
	responses[itoa(ok)] = r
	for _, c := range errs {
		e := jsonBody(errorSchema)
		e["description"] = desc[c]
		responses[itoa(c)] = e
	}
	o := obj{"summary": summary, "responses": responses}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if body != nil {
		// Every body passes sdk.DecodeJSON's limits, answered 422 naming the field.
		if _, ok := responses["422"]; !ok {
			e := jsonBody(errorSchema)
			e["description"] = desc[422]
			responses["422"] = e
		}
		o["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": body}}}
	}
	return o
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func pathParam(name string) obj {
	return obj{"name": name, "in": "path", "required": true, "schema": str()}
}

func queryParam(name, desc string) obj {
	return obj{"name": name, "in": "query", "required": false, "schema": str(), "description": desc}
}

func openAPIPaths() json.RawMessage {
	id, area, bk, ev := pathParam("id"), pathParam("areaID"), pathParam("bookingID"), pathParam("eventID")
	paging := []obj{queryParam("limit", "page size"), queryParam("cursor", "opaque cursor from next_cursor")}
	calQ := append([]obj{queryParam("park_id", "one park"), queryParam("neighbourhood_id", "parks of one neighbourhood"),
		queryParam("from", "RFC 3339"), queryParam("to", "RFC 3339")}, paging...)
	ics := func(summary string, params []obj, errs ...int) obj {
		responses := obj{"200": obj{"description": "RFC 5545 calendar", "content": obj{"text/calendar": obj{"schema": str()}}}}
		for _, c := range errs {
			e := jsonBody(errorSchema)
			e["description"] = "Error"
			responses[itoa(c)] = e
		}
		return obj{"summary": summary, "parameters": params, "responses": responses}
	}
	decision := sdk.WithLimits(object(obj{"reason": str()}), decision{})
	bookingIn := obj{"type": "object", "required": []string{"area_id", "start", "end", "title", "category", "expected_attendance"},
		"properties": obj{"area_id": str(), "organisation_id": str(), "start": dateTime(), "end": dateTime(),
			"title": str(), "description": str(), "category": strEnum(Categories...), "expected_attendance": integer(),
			"public": boolean(), "support_items": counts(), "accessibility_notes": str(), "volunteers_needed": boolean(),
			"contact": object(obj{"name": str(), "email": str(), "phone": str()}), "repeat_weeks": integer()}}
	bookingIn = sdk.WithLimits(bookingIn, BookingInput{})
	paths := obj{
		"/api/v1/parks": obj{
			"get": op("List parks", []obj{queryParam("neighbourhood_id", "parks of one neighbourhood")}, nil, 200, listOf(parkSchema)),
			"post": op("Create a park", nil, sdk.WithLimits(obj{"type": "object", "required": []string{"name", "neighbourhood_id"},
				"properties": obj{"name": str(), "neighbourhood_id": str(), "time_zone": str(), "support_items": counts()}}, ParkInput{}),
				201, parkSchema, 400, 401, 403, 422),
		},
		"/api/v1/parks/events": obj{
			"get": op("Public calendar (approved public events; cancelled ones marked)", calQ, nil, 200, listOf(eventSchema), 400, 404, 422),
		},
		"/api/v1/parks/events.ics": obj{"get": ics("Public calendar as iCalendar", calQ[:4], 400, 404, 422)},
		"/api/v1/parks/{id}":       obj{"get": op("Get a park", []obj{id}, nil, 200, parkSchema, 404)},
		"/api/v1/parks/{id}/support-items": obj{
			"put": op("Replace the support catalogue", []obj{id}, sdk.WithLimits(counts(), map[string]int{}), 200, parkSchema, 400, 401, 403, 404, 422),
		},
		"/api/v1/parks/{id}/areas": obj{
			"get": op("List areas, parents first", []obj{id}, nil, 200, listOf(areaSchema), 404),
			"post": op("Create an area", []obj{id}, sdk.WithLimits(obj{"type": "object", "required": []string{"name", "capacity"},
				"properties": obj{"name": str(), "parent_id": str(), "capacity": integer(), "opening_hours": hoursSchema, "rules": rulesSchema}}, AreaInput{}),
				201, areaSchema, 400, 401, 403, 404, 422),
		},
		"/api/v1/parks/{id}/areas/{areaID}/availability": obj{
			"get": op("Free windows of an area", []obj{id, area,
				{"name": "from", "in": "query", "required": true, "schema": dateTime()},
				{"name": "to", "in": "query", "required": true, "schema": dateTime()}}, nil, 200, availabilitySchema, 400, 404, 422),
		},
		"/api/v1/parks/{id}/bookings": obj{
			"get": op("Bookings in start order (managers: all, status=requested is the approval queue; others: their own)",
				append([]obj{id, queryParam("status", "requested|approved|rejected|cancelled")}, paging...), nil, 200, listOf(bookingSchema), 400, 401, 404, 422),
			"post": op("Request a booking (repeat_weeks > 1: a weekly series)", []obj{id}, bookingIn, 201, bookingSchema, 400, 401, 403, 404, 409, 422),
		},
		"/api/v1/parks/{id}/bookings/{bookingID}": obj{
			"get": op("Get a booking", []obj{id, bk}, nil, 200, bookingSchema, 401, 404),
		},
		"/api/v1/parks/{id}/bookings/{bookingID}/approve": obj{
			"post": op("Approve a request (and its series); rejects colliding requests", []obj{id, bk}, nil, 200, bookingSchema, 401, 403, 404, 409),
		},
		"/api/v1/parks/{id}/bookings/{bookingID}/reject": obj{
			"post": op("Reject a request (and its series)", []obj{id, bk}, decision, 200, bookingSchema, 400, 401, 403, 404, 409, 422),
		},
		"/api/v1/parks/{id}/bookings/{bookingID}/cancel": obj{
			"post": op("Cancel a booking or withdraw a request (and its series)", []obj{id, bk}, decision, 200, bookingSchema, 400, 401, 403, 404, 409, 422),
		},
		"/api/v1/parks/{id}/closures": obj{
			"post": op("Close an area (a blocking booking)", []obj{id}, sdk.WithLimits(object(obj{"area_id": str(), "start": dateTime(), "end": dateTime(), "title": str()}), ClosureInput{}),
				201, bookingSchema, 400, 401, 403, 404, 409, 422),
		},
		"/api/v1/parks/{id}/events": obj{
			"get": op("Public calendar of one park", append([]obj{id}, calQ[2:]...), nil, 200, listOf(eventSchema), 400, 404, 422),
		},
		"/api/v1/parks/{id}/events.ics": obj{"get": ics("Public calendar of one park as iCalendar", append([]obj{id}, calQ[2:4]...), 400, 404, 422)},
		"/api/v1/parks/{id}/events/{eventID}": obj{"get": obj{
			"summary":    "Schema.org Event JSON-LD of one public event",
			"parameters": []obj{id, ev},
			"responses": obj{
				"200": obj{"description": "JSON-LD", "content": obj{"application/ld+json": obj{"schema": obj{"type": "object"}}}},
				"404": func() obj { e := jsonBody(errorSchema); e["description"] = "Not found"; return e }(),
			},
		}},
	}
	b, err := json.Marshal(paths)
	if err != nil {
		panic("parks: openapi: " + err.Error())
	}
	return b
}
