package budgeting

import (
	"encoding/json"
	"strings"

	"github.com/kvarter/kvarter/sdk"
)

// The OpenAPI "paths" object is built in Go from small helpers, like the core's, so a
// schema is written once and every route's responses are listed next to it. Plugins
// cannot add components, so schemas are inlined.

type schema = map[string]any

func str() schema     { return schema{"type": "string"} }
func integer() schema { return schema{"type": "integer"} }
func boolean() schema { return schema{"type": "boolean"} }
func ts() schema      { return schema{"type": "string", "format": "date-time"} }
func arr(items schema) schema {
	return schema{"type": "array", "items": items}
}
func enum(vals ...string) schema { return schema{"type": "string", "enum": vals} }
func mapOf(v schema) schema      { return schema{"type": "object", "additionalProperties": v} }
func nullable(s schema) schema {
	out := schema{"nullable": true}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// obj is a closed object: the listed properties, the named ones required.
func obj(props map[string]any, required ...string) schema {
	s := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func phaseEnum() schema {
	vals := make([]string, len(Phases))
	for i, p := range Phases {
		vals[i] = string(p)
	}
	return enum(vals...)
}

var (
	errorSchema = obj(map[string]any{"error": obj(map[string]any{
		"code":       enum(sdk.CodeInvalid, sdk.CodeUnauthenticated, sdk.CodeForbidden, sdk.CodeNotFound, sdk.CodeConflict, sdk.CodeInternal),
		"message":    str(),
		"fields":     mapOf(str()),
		"request_id": str(),
	}, "code", "message")}, "error")

	ballotRulesSchema = obj(map[string]any{
		"type": enum(BallotApproval, BallotCumulative, BallotOrdinal), "min": integer(), "max": integer(),
		"max_cost": integer(), "points": integer(), "max_per_project": integer(),
	}, "type")

	cycleSchema = obj(map[string]any{
		"id": str(), "parent_id": str(), "neighbourhood_id": str(), "name": str(), "budget": integer(),
		"currency": str(), "ballot": ballotRulesSchema, "support_top_n": integer(), "simulation": boolean(),
		"mes_integral": boolean(), "phase": phaseEnum(), "schedule": mapOf(ts()), "created_at": ts(), "updated_at": ts(),
	}, "id", "neighbourhood_id", "name", "budget", "currency", "ballot", "phase", "schedule", "created_at", "updated_at")

	proposalSchema = obj(map[string]any{
		"id": str(), "cycle_id": str(), "author_id": str(), "title": str(), "description": str(),
		"category": str(), "location": str(), "cost": integer(), "final_cost": integer(),
		"status": enum(StatusSubmitted, StatusNotShortlisted, StatusFeasible, StatusInfeasible, StatusMerged),
		"reason": str(), "merged_into": str(), "supports": integer(),
		"implementation": enum("", ImplPlanned, ImplInProgress, ImplDone),
		"updates": arr(obj(map[string]any{
			"status": enum(ImplPlanned, ImplInProgress, ImplDone), "note": str(), "at": ts(),
		}, "status", "note", "at")),
		"created_at": ts(), "updated_at": ts(),
	}, "id", "cycle_id", "title", "cost", "status", "updates", "created_at", "updated_at")

	tieSchema = obj(map[string]any{
		"phase": enum("greedy", "mes", "add1", "completion"), "step": integer(), "projects": arr(str()),
		"chosen": str(), "decisive": boolean(), "endowment": schema{"type": "number"}, "runs": integer(),
	}, "phase", "step", "projects", "chosen", "decisive")

	resultSchema = obj(map[string]any{
		"cycle_id": str(), "rule": enum("greedy", "greedy-no-skip", "greedy-threshold", "mes"),
		"completion": enum("", "none", "add1", "add1u"), "tie_break": arr(str()), "increment": integer(),
		"exhaustive_stop": boolean(), "integral": boolean(), "threshold": integer(), "unit": integer(), "ballot_hash": str(),
		"ballots": integer(), "paper_ballots": integer(), "currency": str(), "budget": integer(),
		"cost": integer(), "leftover": integer(), "endowment": nullable(schema{"type": "number"}),
		"endowment_exact": str(), "winners": arr(str()),
		"projects": arr(obj(map[string]any{
			"id": str(), "title": str(), "cost": integer(), "votes": integer(), "score": integer(),
			"rank": integer(), "selected": boolean(),
		}, "id", "title", "cost", "votes", "score", "rank", "selected")),
		"ties": arr(tieSchema),
		"purchases": arr(obj(map[string]any{
			"project": str(), "step": integer(), "price": schema{"type": "number"}, "price_exact": str(),
			"paid_price": integer(), "paid_all": integer(),
		}, "project", "step", "price", "price_exact", "paid_price", "paid_all")),
		"shortfalls": arr(obj(map[string]any{
			"project": str(), "cost": integer(), "money": schema{"type": "number"},
		}, "project", "cost", "money")),
		"completed":   arr(str()),
		"explanation": str(), "summary": str(), "published_at": ts(),
	}, "cycle_id", "rule", "ballot_hash", "ballots", "budget", "cost", "leftover", "winners", "projects", "ties", "explanation", "summary", "published_at")

	ballotBody = obj(map[string]any{
		"projects": arr(str()), "points": mapOf(integer()),
	})

	proposalBody = obj(map[string]any{
		"title": str(), "description": str(), "category": str(), "location": str(), "cost": integer(),
	}, "title", "cost")
)

func listSchema(item schema) schema {
	return obj(map[string]any{"items": arr(item), "next_cursor": str()}, "items")
}

// op describes one operation.
type op struct {
	method, path, summary string
	query                 []string
	body                  schema
	in                    any    // the Go type the body decodes into: its tags give the limits
	bodyType              string // default application/json
	responses             map[int]schema
	text                  map[int]bool // responses that are text/plain
}

func operations() []op {
	c := base + "/cycles"
	p := c + "/{id}/proposals/{proposalID}"
	e := func(codes ...int) map[int]schema {
		m := map[int]schema{}
		for _, code := range codes {
			m[code] = errorSchema
		}
		return m
	}
	with := func(m map[int]schema, code int, s schema) map[int]schema { m[code] = s; return m }
	return []op{
		{method: "GET", path: c, summary: "List budgeting cycles", query: []string{"neighbourhood_id", "parent_id", "limit", "cursor"},
			responses: with(e(422), 200, listSchema(cycleSchema))},
		{method: "POST", path: c, summary: "Open a cycle in a neighbourhood (budget in minor units)",
			body: obj(map[string]any{
				"parent_id": str(), "neighbourhood_id": str(), "name": str(), "budget": integer(), "currency": str(),
				"ballot": ballotRulesSchema, "support_top_n": integer(), "simulation": boolean(),
				"mes_integral": boolean(), "phases": mapOf(nullable(ts())),
			}, "neighbourhood_id", "name", "budget", "currency", "ballot"), in: CreateCycleInput{},
			responses: with(e(400, 401, 403, 422), 201, cycleSchema)},
		{method: "GET", path: c + "/{id}", summary: "One cycle", responses: with(e(404), 200, cycleSchema)},
		{method: "POST", path: c + "/{id}/phase", summary: "Move a cycle forward to a phase",
			body: obj(map[string]any{"phase": phaseEnum()}, "phase"), in: phaseInput{},
			responses: with(e(400, 401, 403, 404, 409, 422), 200, cycleSchema)},
		{method: "GET", path: c + "/{id}/proposals", summary: "List a cycle's proposals", query: []string{"status", "limit", "cursor"},
			responses: with(e(404, 422), 200, listSchema(proposalSchema))},
		{method: "POST", path: c + "/{id}/proposals", summary: "Submit a proposal (ideas phase)", body: proposalBody, in: ProposalInput{},
			responses: with(e(400, 401, 403, 404, 409, 422), 201, proposalSchema)},
		{method: "GET", path: p, summary: "One proposal with its implementation updates", responses: with(e(404), 200, proposalSchema)},
		{method: "PATCH", path: p, summary: "Edit one's own proposal until review", body: proposalBody, in: ProposalInput{},
			responses: with(e(400, 401, 403, 404, 409, 422), 200, proposalSchema)},
		{method: "POST", path: p + "/support", summary: "Support an idea (support phase)",
			responses: with(e(401, 403, 404, 409), 200, proposalSchema)},
		{method: "POST", path: p + "/review", summary: "Review: feasible with final cost, infeasible with reason, or duplicate_of",
			body: obj(map[string]any{"feasible": boolean(), "cost": integer(), "reason": str(), "duplicate_of": str()}), in: ReviewInput{},
			responses: with(e(400, 401, 403, 404, 409, 422), 200, proposalSchema)},
		{method: "POST", path: p + "/updates", summary: "Dated public implementation update (planned → in_progress → done)",
			body: obj(map[string]any{"status": enum(ImplPlanned, ImplInProgress, ImplDone), "note": str()}, "status"), in: UpdateInput{},
			responses: with(e(400, 401, 403, 404, 409, 422), 201, proposalSchema)},
		{method: "POST", path: c + "/{id}/ballots", summary: "Cast a ballot: projects (approval, ordinal) or points (cumulative)",
			body: obj(map[string]any{
				"projects": arr(str()), "points": mapOf(integer()), "age_confirmed": boolean(), "replace_token": str(),
			}), in: BallotInput{},
			responses: with(e(400, 401, 403, 404, 409, 422), 201, obj(map[string]any{
				"cycle_id": str(), "replaced": boolean(), "replace_token": str(),
			}, "cycle_id", "replaced"))},
		{method: "POST", path: c + "/{id}/paper-ballots", summary: "Enter paper ballots (officers)",
			body: obj(map[string]any{"ballots": arr(ballotBody)}, "ballots"), in: paperBallotsInput{},
			responses: with(e(400, 401, 403, 404, 409, 422), 201, obj(map[string]any{"recorded": integer()}, "recorded"))},
		{method: "GET", path: c + "/{id}/turnout", summary: "Number of online voters and of ballots",
			responses: with(e(404), 200, obj(map[string]any{"voters": integer(), "ballots": integer()}, "voters", "ballots"))},
		{method: "POST", path: c + "/{id}/tally", summary: "Tally and publish results (officers), rule and options as in `kvarter pb tally`",
			body: obj(map[string]any{
				"rule": enum("greedy", "greedy-no-skip", "greedy-threshold", "mes"), "completion": enum("none", "add1", "add1u"),
				"no_exhaustive_stop": boolean(), "tie_break": str(), "increment": integer(), "threshold": integer(),
			}), in: TallyInput{},
			responses: with(e(400, 401, 403, 404, 409, 422), 201, resultSchema)},
		{method: "GET", path: c + "/{id}/results", summary: "Published results with a plain-language explanation",
			responses: with(e(404), 200, resultSchema)},
		{method: "GET", path: c + "/{id}/export.pb", summary: "Anonymised ballots as a Pabulib file, once results are published",
			responses: with(e(404, 409), 200, str()), text: map[int]bool{200: true}},
		{method: "POST", path: c + "/{id}/import", summary: "Import a Pabulib file into an empty simulation cycle (budget and costs at most 10^12 whole units; 422 names the line)",
			body: str(), bodyType: "text/plain",
			responses: with(e(400, 401, 403, 404, 409, 422), 201, obj(map[string]any{
				"projects": integer(), "ballots": integer(), "project_ids": mapOf(str()),
			}, "projects", "ballots", "project_ids"))},
	}
}

// openAPI renders the paths object.
func openAPI() json.RawMessage {
	paths := map[string]any{}
	for _, o := range operations() {
		item, _ := paths[o.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[o.path] = item
		}
		var params []any
		for _, seg := range strings.Split(o.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, schema{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str()})
			}
		}
		for _, qp := range o.query {
			params = append(params, schema{"name": qp, "in": "query", "required": false, "schema": str()})
		}
		resps := map[string]any{}
		for code, s := range o.responses {
			media := "application/json"
			if o.text[code] {
				media = "text/plain"
			}
			resps[itoa(code)] = schema{"description": statusText(code), "content": schema{media: schema{"schema": s}}}
		}
		operation := schema{"summary": o.summary, "tags": []string{"budgeting"}, "responses": resps}
		if len(params) > 0 {
			operation["parameters"] = params
		}
		if o.body != nil {
			bt := o.bodyType
			if bt == "" {
				bt = "application/json"
			}
			body := o.body
			if o.in != nil {
				body = sdk.WithLimits(body, o.in)
			}
			operation["requestBody"] = schema{"required": true, "content": schema{bt: schema{"schema": body}}}
		}
		item[strings.ToLower(o.method)] = operation
	}
	b, err := json.Marshal(paths)
	if err != nil {
		panic(err) // built from literals above; cannot fail
	}
	return b
}

func itoa(n int) string {
	return string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 400:
		return "Malformed request"
	case 401:
		return "Not signed in"
	case 403:
		return "Not allowed"
	case 404:
		return "Not found"
	case 409:
		return "Conflicts with the cycle's state (phase, already voted, already published)"
	case 422:
		return "Invalid input; ballot errors name the broken rule in fields.rule"
	}
	return "Response"
}
