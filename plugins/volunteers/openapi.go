package volunteers

import (
	"encoding/json"
	"strings"

	"github.com/kvarter/kvarter/sdk"
)

// The OpenAPI "paths" object of the plugin, merged by the host into
// /api/v1/openapi.json. Schemas are inlined rather than referenced so the object stands
// on its own whatever the host calls its components.

type schema = map[string]any

func obj(props map[string]any, required ...string) schema {
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}
func str() schema                { return schema{"type": "string"} }
func dateTime() schema           { return schema{"type": "string", "format": "date-time"} }
func integer() schema            { return schema{"type": "integer"} }
func number() schema             { return schema{"type": "number"} }
func boolean() schema            { return schema{"type": "boolean"} }
func arr(items schema) schema    { return schema{"type": "array", "items": items} }
func enum(vals ...string) schema { return schema{"type": "string", "enum": vals} }
func nullable(s schema) schema {
	c := schema{}
	for k, v := range s {
		c[k] = v
	}
	c["nullable"] = true
	return c
}
func list(items schema) schema { return obj(map[string]any{"items": arr(items)}, "items") }
func strMap() schema           { return schema{"type": "object", "additionalProperties": str()} }

var (
	errorSchema = obj(map[string]any{"error": obj(map[string]any{
		"code":    enum(sdk.CodeInvalid, sdk.CodeUnauthenticated, sdk.CodeForbidden, sdk.CodeNotFound, sdk.CodeConflict, sdk.CodeUnavailable, sdk.CodeInternal),
		"message": str(),
		"fields":  strMap(),
	}, "code", "message")}, "error")
	windowSchema = obj(map[string]any{"day": enum("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
		"start": str(), "end": str()}, "day", "start", "end")
	checkSchema   = obj(map[string]any{"status": enum(CheckNone, CheckPending, CheckCleared, CheckRejected), "expires": str()}, "status")
	profileSchema = obj(map[string]any{
		"user_id": str(), "skills": arr(str()), "tags": arr(str()), "languages": arr(str()),
		"availability": arr(windowSchema), "unavailable_dates": arr(str()), "neighbourhoods": arr(str()),
		"max_hours_per_week": integer(), "birth_date": str(), "background_check": checkSchema,
		"created_at": dateTime(), "updated_at": dateTime(),
	}, "user_id", "skills", "tags", "languages", "availability", "unavailable_dates", "neighbourhoods",
		"max_hours_per_week", "birth_date", "background_check", "created_at", "updated_at")
	profileInput = obj(map[string]any{
		"skills": arr(str()), "tags": arr(str()), "languages": arr(str()), "availability": arr(windowSchema),
		"unavailable_dates": arr(str()), "neighbourhoods": arr(str()), "max_hours_per_week": integer(), "birth_date": str(),
	}, "birth_date")
	skillSchema = obj(map[string]any{"id": str(), "names": strMap()}, "id", "names")
	shiftSchema = obj(map[string]any{"id": str(), "start": dateTime(), "end": dateTime(), "capacity": integer(),
		"taken": integer(), "waitlisted": integer()}, "id", "start", "end", "capacity", "taken", "waitlisted")
	opportunitySchema = obj(map[string]any{
		"id": str(), "organisation_id": str(), "title": str(), "description": str(), "neighbourhood_id": str(),
		"place": str(), "required_skills": arr(str()), "preferred_skills": arr(str()), "languages": arr(str()),
		"min_age": integer(), "needs_background_check": boolean(), "auto_accept": boolean(),
		"state": enum(StateDraft, StatePublished, StateClosed, StateCancelled), "shifts": arr(shiftSchema),
		"created_at": dateTime(), "updated_at": dateTime(),
	}, "id", "organisation_id", "title", "state", "shifts", "required_skills", "preferred_skills", "min_age",
		"needs_background_check", "created_at", "updated_at")
	opportunityInput = obj(map[string]any{
		"organisation_id": str(), "title": str(), "description": str(), "neighbourhood_id": str(), "place": str(),
		"required_skills": arr(str()), "preferred_skills": arr(str()), "languages": arr(str()), "min_age": integer(),
		"needs_background_check": boolean(), "auto_accept": boolean(),
		"shifts": arr(obj(map[string]any{"start": dateTime(), "end": dateTime(), "capacity": integer()}, "start", "end", "capacity")),
	}, "title", "shifts")
	statusEnum = enum(StatusApplied, StatusInvited, StatusAccepted, StatusConfirmed, StatusWaitlisted,
		StatusDeclined, StatusWithdrawn, StatusAttended, StatusNoShow)
	applicationProps = map[string]any{"id": str(), "opportunity_id": str(), "shift_id": str(), "volunteer_id": str(),
		"status": statusEnum, "origin": enum(StatusApplied, StatusInvited), "minutes": integer(),
		"created_at": dateTime(), "updated_at": dateTime()}
	applicationRequired = []string{"id", "opportunity_id", "shift_id", "volunteer_id", "status", "origin", "minutes", "created_at", "updated_at"}
	applicationSchema   = obj(applicationProps, applicationRequired...)
	applicationView     = func() schema {
		props := map[string]any{}
		for k, v := range applicationProps {
			props[k] = v
		}
		props["profile"] = nullable(profileSchema)
		props["contact"] = nullable(obj(map[string]any{"display_name": str(), "email": str()}, "display_name", "email"))
		return obj(props, append(applicationRequired, "profile", "contact")...)
	}()
	matchSchema = obj(map[string]any{"volunteer_id": str(), "score": integer(), "reasons": arr(str())},
		"volunteer_id", "score", "reasons")
	recommendationSchema = obj(map[string]any{"opportunity_id": str(), "title": str(), "shift_id": str(),
		"start": dateTime(), "end": dateTime(), "score": integer(), "reasons": arr(str())},
		"opportunity_id", "title", "shift_id", "start", "end", "score", "reasons")
	assignmentSchema = obj(map[string]any{"opportunity_id": str(), "shift_id": str(), "volunteer_id": str(),
		"score": integer()}, "opportunity_id", "shift_id", "volunteer_id", "score")
	rosterSchema = obj(map[string]any{"opportunity_id": str(), "total_score": integer(), "optimal": boolean(),
		"canonical": boolean(), "assignments": arr(assignmentSchema)},
		"opportunity_id", "assignments", "total_score", "optimal", "canonical")
	dayRosterSchema = obj(map[string]any{"date": str(), "organisation_id": str(), "opportunity_ids": arr(str()),
		"total_score": integer(), "optimal": boolean(), "canonical": boolean(), "assignments": arr(assignmentSchema)},
		"date", "organisation_id", "opportunity_ids", "assignments", "total_score", "optimal", "canonical")
	hoursSchema = obj(map[string]any{"volunteer_id": str(), "total_minutes": integer(), "total_hours": number(),
		"attended": integer(), "no_shows": integer(), "entries": nullable(arr(obj(map[string]any{
			"application_id": str(), "opportunity_id": str(), "title": str(), "shift_id": str(), "start": dateTime(),
			"end": dateTime(), "status": enum(StatusAttended, StatusNoShow), "minutes": integer()},
			"application_id", "opportunity_id", "title", "shift_id", "start", "end", "status", "minutes")))},
		"volunteer_id", "total_minutes", "total_hours", "attended", "no_shows", "entries")
)

func jsonBody(s schema) schema {
	return schema{"content": schema{"application/json": schema{"schema": s}}}
}

func resp(desc string, s schema) schema {
	r := jsonBody(s)
	r["description"] = desc
	return r
}

var errResp = resp("error", errorSchema)

// operation describes one route; errs lists the error statuses it can answer.
func operation(summary string, okStatus string, ok schema, body schema, query []string, errs ...string) schema {
	op := schema{"summary": summary, "tags": []string{"volunteers"}}
	responses := schema{okStatus: ok}
	for _, e := range append([]string{"401", "500"}, errs...) {
		responses[e] = errResp
	}
	op["responses"] = responses
	if body != nil {
		// Every body passes sdk.DecodeJSON's limits, answered 422 naming the field.
		responses["422"] = errResp
		rb := jsonBody(body)
		rb["required"] = true
		op["requestBody"] = rb
	}
	var params []schema
	for _, q := range query {
		params = append(params, schema{"name": q, "in": "query", "required": false, "schema": str()})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	return op
}

// pathParams lists the {param} segments of a route as OpenAPI parameters.
func pathParams(path string) []schema {
	var out []schema
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, schema{"name": seg[1 : len(seg)-1], "in": "path", "required": true, "schema": str()})
		}
	}
	return out
}

func openAPIPaths() map[string]map[string]schema {
	okApp := resp("the application", applicationSchema)
	okOpp := resp("the opportunity", opportunitySchema)
	ops := map[string]map[string]schema{
		base + "/profile": {
			"get":    operation("Your volunteer profile", "200", resp("the profile", profileSchema), nil, nil, "404"),
			"put":    operation("Create or replace your volunteer profile", "200", resp("the profile", profileSchema), sdk.WithLimits(profileInput, ProfileInput{}), nil, "400"),
			"delete": operation("Delete your volunteer profile and sign-ups", "204", schema{"description": "deleted"}, nil, nil, "404"),
		},
		base + "/skills": {"get": operation("The skill catalogue", "200", resp("skills", list(skillSchema)), nil, nil)},
		base + "/skills/{skillID}": {"put": operation("Add or rename a catalogue skill (city staff)", "200",
			resp("the skill", skillSchema), sdk.WithLimits(obj(map[string]any{"names": strMap()}, "names"), skillInput{}), nil, "400", "403")},
		base + "/profiles/{userID}/background-check": {"put": operation("Record a volunteer's background check (city staff)", "200",
			resp("the profile", profileSchema), sdk.WithLimits(checkSchema, BackgroundCheck{}), nil, "400", "403", "404")},
		base + "/opportunities": {
			"get": operation("Published opportunities, and those you organise", "200",
				resp("a page", obj(map[string]any{"items": arr(opportunitySchema), "next_cursor": str()}, "items", "next_cursor")),
				nil, []string{"limit", "cursor"}, "422"),
			"post": operation("Post a draft opportunity with shifts", "201", resp("the opportunity", opportunitySchema),
				sdk.WithLimits(opportunityInput, OpportunityInput{}), nil, "400", "403", "404"),
		},
		opp:              {"get": operation("One opportunity", "200", okOpp, nil, nil, "404")},
		opp + "/publish": {"post": operation("Publish a draft", "200", okOpp, nil, nil, "403", "404", "409")},
		opp + "/close":   {"post": operation("Close a published opportunity to sign-ups", "200", okOpp, nil, nil, "403", "404", "409")},
		opp + "/cancel":  {"post": operation("Cancel an opportunity", "200", okOpp, nil, nil, "403", "404", "409")},
		opp + "/applications": {"get": operation("Applications with profiles, and contact after acceptance (organisers)", "200",
			resp("applications", list(applicationView)), nil, nil, "403", "404")},
		opp + "/roster": {"get": operation("A roster proposal maximising the total score (organisers)", "200",
			resp("the proposal", rosterSchema), nil, nil, "403", "404")},
		opp + "/shifts/{shiftID}/matches": {"get": operation("Eligible volunteers for a shift, ranked, with reasons (organisers)", "200",
			resp("ranked candidates", obj(map[string]any{"shift_id": str(), "items": arr(matchSchema)}, "shift_id", "items")),
			nil, []string{"limit"}, "422", "403", "404")},
		opp + "/shifts/{shiftID}/applications": {"post": operation("Apply for a shift yourself", "201", okApp, nil, nil, "404", "409")},
		opp + "/shifts/{shiftID}/invitations": {"post": operation("Invite a matched volunteer (organisers)", "201", okApp,
			sdk.WithLimits(obj(map[string]any{"volunteer_id": str()}, "volunteer_id"), invitationInput{}), nil, "400", "403", "404", "409")},
		app + "/accept":   {"post": operation("Accept an application (organisers)", "200", okApp, nil, nil, "403", "404", "409")},
		app + "/decline":  {"post": operation("Decline an application (organisers)", "200", okApp, nil, nil, "403", "404", "409")},
		app + "/confirm":  {"post": operation("Confirm your place; wait-listed when the shift is full", "200", okApp, nil, nil, "403", "404", "409")},
		app + "/withdraw": {"post": operation("Withdraw your sign-up; the wait list moves up", "200", okApp, nil, nil, "403", "404", "409")},
		app + "/attendance": {"post": operation("Record attendance and hours, or a no-show (organisers)", "200", okApp,
			sdk.WithLimits(obj(map[string]any{"attended": boolean(), "minutes": integer()}, "attended"), AttendanceInput{}), nil, "400", "403", "404", "409")},
		base + "/roster": {"get": operation("One roster proposal for every shift starting on a local date that you organise, "+
			"solved together (city staff: the whole city; representatives: their verified organisations)", "200",
			resp("the proposal", dayRosterSchema), nil, []string{"date", "organisation_id"}, "422", "403", "404")},
		base + "/recommendations": {"get": operation("Shifts recommended for you", "200",
			resp("recommendations", list(recommendationSchema)), nil, []string{"limit"}, "422", "404")},
	}
	hours := operation("Your hours; ?format=csv for a spreadsheet", "200", resp("the summary", hoursSchema), nil, []string{"format"}, "422")
	hours["responses"].(schema)["200"].(schema)["content"].(schema)["text/csv"] = schema{"schema": str()}
	ops[base+"/hours"] = map[string]schema{"get": hours}
	for path, methods := range ops {
		if params := pathParams(path); len(params) > 0 {
			for _, op := range methods {
				op["parameters"] = append(params, paramsOf(op)...)
			}
		}
	}
	return ops
}

func paramsOf(op schema) []schema {
	p, _ := op["parameters"].([]schema)
	return p
}

func openAPI() json.RawMessage {
	b, err := json.Marshal(openAPIPaths())
	if err != nil {
		panic(err) // static data: a failure is a programming error caught by any test
	}
	return b
}
