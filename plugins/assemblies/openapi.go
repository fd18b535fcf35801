package assemblies

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kvarter/kvarter/sdk"
)

// The OpenAPI "paths" object, generated from the route table. Schemas are inline
// because the host merges only paths; tests validate every response against them.

type schema = map[string]any

func obj(props schema, required ...string) schema {
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func str() schema                  { return schema{"type": "string"} }
func dateTime() schema             { return schema{"type": "string", "format": "date-time"} }
func integer() schema              { return schema{"type": "integer"} }
func boolean() schema              { return schema{"type": "boolean"} }
func enum(values ...string) schema { return schema{"type": "string", "enum": values} }
func arrayOf(items schema) schema  { return schema{"type": "array", "items": items} }
func strMap() schema               { return schema{"type": "object", "additionalProperties": str()} }
func freeObject() schema           { return schema{"type": "object"} }
func withProps(s schema, more schema) schema {
	props := schema{}
	for k, v := range s["properties"].(schema) {
		props[k] = v
	}
	for k, v := range more {
		props[k] = v
	}
	out := schema{"type": "object", "properties": props}
	if r, ok := s["required"]; ok {
		out["required"] = r
	}
	return out
}

var (
	majorityEnum = enum(MajoritySimple, MajorityAbsolute, MajorityTwoThirds)
	secrecyEnum  = enum(SecrecyNamed, SecrecySecret)
	choiceEnum   = enum(ChoiceYes, ChoiceNo, ChoiceAbstain)

	rulesProps = schema{
		"quorum_percent": integer(), "quorum_absolute": integer(), "majority": majorityEnum,
		"secrecy": secrecyEnum, "membership": enum(MembershipOpen, MembershipApproval),
		"ballot_changeable": boolean(), "term_months": integer(), "org_seats": integer(),
	}

	createAssemblySchema = sdk.WithLimits(withProps(obj(schema{
		"neighbourhood_id": str(), "name": str(), "charter": str(),
	}, "neighbourhood_id", "name"), rulesProps), CreateAssemblyInput{})

	assemblySchema = withProps(obj(schema{
		"id": str(), "neighbourhood_id": str(), "name": str(), "charter": str(), "created_at": dateTime(),
		"members": integer(), "overdue_answers": integer(),
	}, "id", "neighbourhood_id", "name", "charter", "created_at", "quorum_percent", "quorum_absolute",
		"majority", "secrecy", "membership", "members", "overdue_answers"), rulesProps)

	memberSchema = obj(schema{
		"user_id": str(), "display_name": str(), "kind": enum(KindResident, KindDelegate), "organisation_id": str(),
		"status":     enum(MemberPending, MemberActive, MemberRejected, MemberLeft, MemberRemoved),
		"position":   enum(PositionChair, PositionViceChair, PositionSecretary, PositionMember),
		"term_start": dateTime(), "term_end": dateTime(), "joined_at": dateTime(), "end_reason": str(),
	}, "user_id", "display_name", "kind", "status", "position")

	delegateSchema = sdk.WithLimits(obj(schema{"organisation_id": str(), "user_id": str()}, "organisation_id"), NameDelegateInput{})
	positionSchema = sdk.WithLimits(obj(schema{
		"position":   enum(PositionChair, PositionViceChair, PositionSecretary, PositionMember),
		"term_start": dateTime(), "term_end": dateTime(),
	}, "position"), PositionInput{})
	reasonSchema = sdk.WithLimits(obj(schema{"reason": str()}), MemberDecision{})

	agendaItemSchema = obj(schema{"title": str(), "motion_id": str()}, "title")

	meetingInputSchema = sdk.WithLimits(obj(schema{
		"title": str(), "starts_at": dateTime(), "ends_at": dateTime(), "place": str(), "online_url": str(),
		"agenda": arrayOf(agendaItemSchema),
	}, "title", "starts_at", "ends_at"), MeetingInput{})

	meetingSchema = obj(schema{
		"id": str(), "assembly_id": str(), "title": str(), "starts_at": dateTime(), "ends_at": dateTime(),
		"place": str(), "online_url": str(), "status": enum(MeetingScheduled, MeetingCancelled),
		"cancel_reason": str(), "agenda": arrayOf(agendaItemSchema), "attendance": arrayOf(str()),
		"minutes_status": enum(MinutesNone, MinutesDraft, MinutesApproved, MinutesPublished),
		"minutes":        str(), "sequence": integer(), "updated_at": dateTime(),
	}, "id", "assembly_id", "title", "starts_at", "ends_at", "status", "agenda", "attendance", "minutes_status")

	meetingUpdateSchema = sdk.WithLimits(obj(schema{"reason": str(), "minutes": str(), "user_ids": arrayOf(str())}), MeetingUpdate{})

	countsSchema = obj(schema{"yes": integer(), "no": integer(), "abstain": integer()}, "yes", "no", "abstain")

	outcomeEnum = enum(StateAdopted, StateRejected, StateNoQuorum)

	motionSchema = obj(schema{
		"id": str(), "assembly_id": str(), "kind": enum(KindMotion, KindConsultation), "title": str(), "text": str(),
		"author_id":     str(),
		"state":         enum(StateDraft, StateTabled, StateVoting, StateAdopted, StateRejected, StateNoQuorum, StateWithdrawn),
		"advice_due_at": dateTime(), "sponsors": arrayOf(str()),
		"vote": obj(schema{
			"secrecy": secrecyEnum, "majority": majorityEnum, "quorum_percent": integer(), "quorum_absolute": integer(),
			"ballot_changeable": boolean(), "meeting_id": str(), "electorate": integer(), "opened_at": dateTime(),
			"closed_at": dateTime(), "outcome": outcomeEnum, "counts": countsSchema,
		}, "secrecy", "majority", "electorate", "opened_at"),
		"answer": obj(schema{
			"status": enum(AnswerSubmitted, AnswerAcknowledged, AnswerAnswered, AnswerImplemented),
			"due_at": dateTime(), "overdue": boolean(),
			"decision":  enum(DecisionAccepted, DecisionPartlyAccepted, DecisionDeclined),
			"reasoning": str(), "answered_by": str(), "answered_at": dateTime(),
		}, "status", "due_at", "overdue"),
		"timeline":   arrayOf(obj(schema{"at": dateTime(), "kind": str(), "actor_id": str(), "detail": freeObject()}, "at", "kind")),
		"created_at": dateTime(), "updated_at": dateTime(),
	}, "id", "assembly_id", "kind", "title", "text", "state", "sponsors", "created_at", "updated_at")

	motionInputSchema = sdk.WithLimits(obj(schema{
		"title": str(), "text": str(), "kind": enum(KindMotion, KindConsultation), "advice_due_at": dateTime(),
	}, "title", "text"), MotionInput{})

	openVoteSchema = sdk.WithLimits(obj(schema{"secrecy": secrecyEnum, "meeting_id": str(), "present_only": boolean()}), OpenVoteInput{})
	ballotSchema   = sdk.WithLimits(obj(schema{"choice": choiceEnum}, "choice"), ballotInput{})
	receiptSchema  = obj(schema{"motion_id": str(), "recorded": boolean(), "changed": boolean(), "choice": choiceEnum},
		"motion_id", "recorded", "changed")
	closeSchema = obj(schema{"outcome": outcomeEnum, "counts": countsSchema, "electorate": integer(), "motion": motionSchema},
		"outcome", "counts", "electorate", "motion")
	answerSchema = sdk.WithLimits(obj(schema{
		"decision": enum(DecisionAccepted, DecisionPartlyAccepted, DecisionDeclined), "reasoning": str(),
	}, "decision", "reasoning"), AnswerInput{})

	popoloSchema = obj(schema{
		"organizations": arrayOf(obj(schema{"id": str(), "name": str(), "classification": str(), "area_id": str()}, "id", "name")),
		"motions": arrayOf(obj(schema{
			"id": str(), "organization_id": str(), "creator_id": str(), "text": str(), "classification": str(),
			"date": str(), "requirement": str(), "result": enum("pass", "fail"),
		}, "id", "organization_id", "text")),
		"vote_events": arrayOf(obj(schema{
			"id": str(), "motion_id": str(), "organization_id": str(), "start_date": str(), "end_date": str(),
			"result": enum("pass", "fail"),
			"counts": arrayOf(obj(schema{"option": choiceEnum, "value": integer()}, "option", "value")),
			"votes":  arrayOf(obj(schema{"vote_event_id": str(), "voter_id": str(), "option": choiceEnum}, "voter_id", "option")),
		}, "id", "motion_id", "counts")),
	}, "organizations", "motions", "vote_events")

	errorSchema = obj(schema{"error": obj(schema{"code": str(), "message": str(), "fields": strMap()}, "code", "message")}, "error")
)

// openAPIPaths builds the paths object for the routes.
func openAPIPaths(rs []route) schema {
	paths := schema{}
	for _, r := range rs {
		item, _ := paths[r.path].(schema)
		if item == nil {
			item = schema{}
			paths[r.path] = item
		}
		var params []any
		for _, seg := range strings.Split(r.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, schema{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str()})
			}
		}
		for _, q := range r.query {
			params = append(params, schema{"name": q, "in": "query", "required": false, "schema": str()})
		}
		ok := schema{"description": http.StatusText(r.status)}
		if r.resp != nil {
			ok["content"] = schema{"application/json": schema{"schema": r.resp}}
		} else {
			ok["content"] = schema{"text/calendar": schema{"schema": str()}}
		}
		responses := schema{strconv.Itoa(r.status): ok}
		for _, code := range append([]int{500}, r.errs...) {
			responses[strconv.Itoa(code)] = schema{
				"description": http.StatusText(code),
				"content":     schema{"application/json": schema{"schema": errorSchema}},
			}
		}
		op := schema{
			"summary":              r.summary,
			"operationId":          operationID(r),
			"tags":                 []string{"assemblies"},
			"responses":            responses,
			"x-kvarter-permission": r.perm,
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.body != nil {
			op["requestBody"] = schema{"required": false, "content": schema{"application/json": schema{"schema": r.body}}}
		}
		item[strings.ToLower(r.method)] = op
	}
	return paths
}

func operationID(r route) string {
	var b strings.Builder
	b.WriteString("assemblies")
	up := true
	for _, c := range strings.ToLower(r.method) + "/" + strings.TrimPrefix(r.path, base) {
		switch {
		case c == '/' || c == '.' || c == '_' || c == '{' || c == '}':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(c)))
			up = false
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
