package assemblies

import (
	"net/http"

	"github.com/kvarter/kvarter/sdk"
)

// route is one HTTP route: what the manifest declares, what OpenAPI documents, and
// the handler, kept in one table so the three cannot drift apart.
type route struct {
	method, path string
	perm, domain string
	summary      string
	query        []string       // documented query parameters
	body         map[string]any // request schema; nil when the route takes no body
	status       int            // success status
	resp         map[string]any // success schema (JSON), or nil for text/calendar
	errs         []int          // documented error statuses
	handle       func(s *Service, w http.ResponseWriter, r *http.Request)
}

const (
	base      = "/api/v1/assemblies"
	asmPath   = base + "/{id}"
	motPath   = asmPath + "/motions/{motionID}"
	meetPath  = asmPath + "/meetings/{meetingID}"
	memberDec = asmPath + "/members/{userID}"
)

// Error statuses documented per kind of route.
var (
	readErrs  = []int{404}
	writeErrs = []int{400, 401, 403, 404, 409, 422}
)

func routes() []route {
	pub, participate := sdk.PermPublic, PermAssemblyParticipate
	return []route{
		{method: "GET", path: base, perm: pub, summary: "List assemblies", query: []string{"neighbourhood_id"},
			status: 200, resp: arrayOf(assemblySchema), handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Assemblies(r.Context(), r.URL.Query().Get("neighbourhood_id"))
				reply(s, w, r, 200, out, err)
			}},
		{method: "POST", path: base, perm: PermAssemblyManage, summary: "Create an assembly (coordinator of the neighbourhood or city admin)",
			body: createAssemblySchema, status: 201, resp: assemblySchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				var in CreateAssemblyInput
				if decode(s, w, r, &in) {
					out, err := s.CreateAssembly(r.Context(), principal(r), in)
					reply(s, w, r, 201, out, err)
				}
			}},
		{method: "GET", path: asmPath, perm: pub, summary: "An assembly with its rules", status: 200, resp: assemblySchema, errs: readErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Assembly(r.Context(), r.PathValue("id"))
				reply(s, w, r, 200, out, err)
			}},
		{method: "GET", path: asmPath + "/members", perm: pub, summary: "Members in the order they joined (public unless the city hides member lists)",
			status: 200, resp: arrayOf(memberSchema), errs: []int{401, 403, 404},
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Members(r.Context(), principal(r), r.PathValue("id"))
				reply(s, w, r, 200, out, err)
			}},
		{method: "POST", path: asmPath + "/members", perm: PermMemberJoin, summary: "Join (open assembly) or apply (approval assembly) yourself; no body",
			status: 201, resp: memberSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Join(r.Context(), principal(r), r.PathValue("id"))
				reply(s, w, r, 201, out, err)
			}},
		{method: "POST", path: asmPath + "/delegates", perm: PermDelegateName, summary: "Name an organisation's delegate (its representative)",
			body: delegateSchema, status: 201, resp: memberSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				var in NameDelegateInput
				if decode(s, w, r, &in) {
					out, err := s.NameDelegate(r.Context(), principal(r), r.PathValue("id"), in)
					reply(s, w, r, 201, out, err)
				}
			}},
		memberAction("approve", "Approve an application (chair, vice-chair or coordinator)"),
		memberAction("reject", "Reject an application (chair, vice-chair or coordinator)"),
		memberAction("remove", "Remove a member, with a reason (chair, vice-chair or coordinator)"),
		{method: "POST", path: memberDec + "/position", perm: participate, summary: "Appoint a member to a position (chair or coordinator)",
			body: positionSchema, status: 200, resp: memberSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				var in PositionInput
				if decode(s, w, r, &in) {
					out, err := s.SetPosition(r.Context(), principal(r), r.PathValue("id"), r.PathValue("userID"), in)
					reply(s, w, r, 200, out, err)
				}
			}},
		{method: "POST", path: asmPath + "/leave", perm: sdk.PermAuthenticated, summary: "Leave the assembly, or withdraw an application",
			status: 200, resp: memberSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Leave(r.Context(), principal(r), r.PathValue("id"))
				reply(s, w, r, 200, out, err)
			}},
		{method: "GET", path: asmPath + "/meetings", perm: pub, summary: "Meetings, earliest first", status: 200, resp: arrayOf(meetingSchema), errs: readErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Meetings(r.Context(), r.PathValue("id"))
				reply(s, w, r, 200, out, err)
			}},
		{method: "POST", path: asmPath + "/meetings", perm: participate, summary: "Schedule a meeting (chair, vice-chair, secretary or coordinator)",
			body: meetingInputSchema, status: 201, resp: meetingSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				var in MeetingInput
				if decode(s, w, r, &in) {
					out, err := s.ScheduleMeeting(r.Context(), principal(r), r.PathValue("id"), in)
					reply(s, w, r, 201, out, err)
				}
			}},
		{method: "GET", path: meetPath, perm: pub, summary: "A meeting with agenda, attendance and published minutes", status: 200, resp: meetingSchema, errs: readErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Meeting(r.Context(), r.PathValue("id"), r.PathValue("meetingID"))
				reply(s, w, r, 200, out, err)
			}},
		meetingAction("cancel", "cancel", "Cancel a meeting, with a reason"),
		meetingAction("attendance", "attendance", "Record attendance (user_ids; chair, vice-chair or secretary)"),
		meetingAction("minutes", "minutes", "Write the draft minutes (chair, vice-chair or secretary)"),
		meetingAction("minutes/approve", "approve_minutes", "Approve the draft minutes (chair or vice-chair)"),
		meetingAction("minutes/publish", "publish_minutes", "Publish approved minutes"),
		{method: "GET", path: asmPath + "/calendar.ics", perm: pub, summary: "The assembly's meetings as an iCalendar feed (RFC 5545)", status: 200, errs: readErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				b, err := s.Calendar(r.Context(), r.PathValue("id"))
				if err != nil {
					sdk.WriteError(w, r, s.log, err)
					return
				}
				w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(b)
			}},
		{method: "GET", path: asmPath + "/motions", perm: pub, summary: "Motions; filter by state, or overdue=true for answers the city owes past their deadline",
			query: []string{"state", "overdue"}, status: 200, resp: arrayOf(motionSchema), errs: readErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				out, err := s.Motions(r.Context(), r.PathValue("id"), q.Get("state"), q.Get("overdue") == "true")
				reply(s, w, r, 200, out, err)
			}},
		{method: "POST", path: asmPath + "/motions", perm: sdk.PermAuthenticated,
			summary: "Draft a motion (member), or ask for advice (kind consultation, city staff)",
			body:    motionInputSchema, status: 201, resp: motionSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				var in MotionInput
				if decode(s, w, r, &in) {
					out, err := s.CreateMotion(r.Context(), principal(r), r.PathValue("id"), in)
					reply(s, w, r, 201, out, err)
				}
			}},
		{method: "GET", path: motPath, perm: pub, summary: "A motion with its vote, the city's answer and its public timeline", status: 200, resp: motionSchema, errs: readErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Motion(r.Context(), r.PathValue("id"), r.PathValue("motionID"))
				reply(s, w, r, 200, out, err)
			}},
		motionAction(ActionSponsor, "Co-sponsor a motion (member)"),
		motionAction(ActionTable, "Table a draft motion (author, chair or vice-chair)"),
		motionAction(ActionWithdraw, "Withdraw a motion (author, chair or vice-chair)"),
		{method: "POST", path: motPath + "/vote/open", perm: participate, summary: "Open the vote on a tabled motion (chair or vice-chair); the electorate is frozen now",
			body: openVoteSchema, status: 200, resp: motionSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				var in OpenVoteInput
				if decode(s, w, r, &in) {
					out, err := s.OpenVote(r.Context(), principal(r), r.PathValue("id"), r.PathValue("motionID"), in)
					reply(s, w, r, 200, out, err)
				}
			}},
		{method: "POST", path: motPath + "/vote/ballots", perm: PermMotionVote, summary: "Cast your ballot (choice yes, no or abstain)",
			body: ballotSchema, status: 201, resp: receiptSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				var in ballotInput
				if decode(s, w, r, &in) {
					out, err := s.CastBallot(r.Context(), principal(r), r.PathValue("id"), r.PathValue("motionID"), in.Choice)
					reply(s, w, r, 201, out, err)
				}
			}},
		{method: "POST", path: motPath + "/vote/close", perm: participate, summary: "Close the vote and decide (chair or vice-chair)",
			status: 200, resp: closeSchema, errs: writeErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				m, err := s.CloseVote(r.Context(), principal(r), r.PathValue("id"), r.PathValue("motionID"))
				if err != nil {
					sdk.WriteError(w, r, s.log, err)
					return
				}
				sdk.WriteJSON(w, 200, closeResult{Outcome: m.Vote.Outcome, Counts: *m.Vote.Counts, Electorate: m.Vote.Electorate, Motion: m})
			}},
		answerAction("acknowledge", AnswerAcknowledged, nil, "Acknowledge an adopted motion (city responder)"),
		answerAction("answer", AnswerAnswered, answerSchema, "Answer an adopted motion: decision and reasoning (city responder)"),
		answerAction("implemented", AnswerImplemented, nil, "Mark an accepted motion implemented (city responder)"),
		{method: "GET", path: asmPath + "/popolo", perm: pub, summary: "Motions and votes in Popolo JSON", status: 200, resp: popoloSchema, errs: readErrs,
			handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
				out, err := s.Popolo(r.Context(), r.PathValue("id"))
				reply(s, w, r, 200, out, err)
			}},
	}
}

// closeResult is the answer of the close: the outcome and counts up front, the whole
// motion alongside.
type closeResult struct {
	Outcome    string `json:"outcome"`
	Counts     Counts `json:"counts"`
	Electorate int    `json:"electorate"`
	Motion     Motion `json:"motion"`
}

func memberAction(action, summary string) route {
	return route{method: "POST", path: memberDec + "/" + action, perm: PermAssemblyParticipate, summary: summary,
		body: reasonSchema, status: 200, resp: memberSchema, errs: writeErrs,
		handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
			var in MemberDecision
			if decode(s, w, r, &in) {
				out, err := s.DecideMember(r.Context(), principal(r), r.PathValue("id"), r.PathValue("userID"), action, in)
				reply(s, w, r, 200, out, err)
			}
		}}
}

func meetingAction(suffix, action, summary string) route {
	return route{method: "POST", path: meetPath + "/" + suffix, perm: PermAssemblyParticipate, summary: summary,
		body: meetingUpdateSchema, status: 200, resp: meetingSchema, errs: writeErrs,
		handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
			var in MeetingUpdate
			if decode(s, w, r, &in) {
				out, err := s.UpdateMeeting(r.Context(), principal(r), r.PathValue("id"), r.PathValue("meetingID"), action, in)
				reply(s, w, r, 200, out, err)
			}
		}}
}

func motionAction(action MotionAction, summary string) route {
	return route{method: "POST", path: motPath + "/" + string(action), perm: PermAssemblyParticipate, summary: summary,
		status: 200, resp: motionSchema, errs: writeErrs,
		handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
			out, err := s.ActOnMotion(r.Context(), principal(r), r.PathValue("id"), r.PathValue("motionID"), action)
			reply(s, w, r, 200, out, err)
		}}
}

func answerAction(suffix, step string, body map[string]any, summary string) route {
	return route{method: "POST", path: motPath + "/" + suffix, perm: PermMotionAnswer, domain: sdk.DomainCity, summary: summary,
		body: body, status: 200, resp: motionSchema, errs: writeErrs,
		handle: func(s *Service, w http.ResponseWriter, r *http.Request) {
			var in AnswerInput
			if decode(s, w, r, &in) {
				out, err := s.Answer(r.Context(), principal(r), r.PathValue("id"), r.PathValue("motionID"), step, in)
				reply(s, w, r, 200, out, err)
			}
		}}
}

func principal(r *http.Request) sdk.Principal { return sdk.PrincipalFrom(r.Context()) }

// decode reads an optional JSON body into v (sdk.DecodeJSON): an empty body leaves v at
// its zero value, so "POST with no body" works.
// ballotInput is the body of a ballot.
type ballotInput struct {
	Choice string `json:"choice" max:"32"`
}

func decode(s *Service, w http.ResponseWriter, r *http.Request, v any) bool {
	if err := sdk.DecodeJSON(r, v, true); err != nil {
		sdk.WriteError(w, r, s.log, err)
		return false
	}
	return true
}

func reply(s *Service, w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		sdk.WriteError(w, r, s.log, err)
		return
	}
	sdk.WriteJSON(w, status, v)
}
