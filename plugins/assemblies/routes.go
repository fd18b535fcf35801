package assemblies

import (
	"net/http"

	"github.com/kvarter/kvarter/sdk"
)

// Paths of the route table.
const (
	base       = "/api/v1/assemblies"
	asmPath    = base + "/{id}"
	memberPath = asmPath + "/members/{userID}"
	meetPath   = asmPath + "/meetings/{meetingID}"
	motPath    = asmPath + "/motions/{motionID}"
)

// Routes is the plugin's route table: the manifest's routes, its handler (sdk.Mux)
// and its OpenAPI document in one. Handlers read the request, call one Service method
// and return its answer; every rule and object-level check ("chair of this assembly")
// is the Service's, which is why most routes also answer 403 and 409 themselves.
func (p *Plugin) Routes() []sdk.Route {
	pub, participate := sdk.PermPublic, PermAssemblyParticipate
	routes := []sdk.Route{
		sdk.List(base, pub, func(r *http.Request, q sdk.ListQuery) (sdk.Page[Assembly], error) {
			return p.svc.Assemblies(r.Context(), r.URL.Query().Get("neighbourhood_id"), q)
		}).With(sdk.Param{Name: "neighbourhood_id", Description: "Only the assemblies of this neighbourhood"}).
			Doc("Assemblies", "Oldest first."),
		sdk.List(base+"/answers", pub, func(r *http.Request, q sdk.ListQuery) (sdk.Page[DueAnswer], error) {
			overdue, err := boolParam(r, "overdue")
			if err != nil {
				return sdk.Page[DueAnswer]{}, err
			}
			return p.svc.AnswersDue(r.Context(), overdue, q)
		}).With(sdk.Param{Name: "overdue", Type: "boolean", Description: "true: only those past their deadline"}).
			Doc("Answers the city owes", "Every adopted motion of every assembly still waiting for the city's answer, nearest deadline first, with its assembly."),
		sdk.Get(base+"/summary", pub, func(r *http.Request) (NeighbourhoodSummary, error) {
			nbh := r.URL.Query().Get("neighbourhood_id")
			if nbh == "" {
				return NeighbourhoodSummary{}, invalid("neighbourhood_id", "is required", sdk.RuleRequired)
			}
			return p.svc.Summary(r.Context(), nbh)
		}).With(sdk.Param{Name: "neighbourhood_id", Required: true, Description: "The neighbourhood"}).
			Doc("A neighbourhood's assemblies at a glance", "The next meeting, up to five open votes and the city's five latest answers: the cards of the neighbourhood's page."),
		sdk.Post(base, PermAssemblyManage, func(r *http.Request, in CreateAssemblyInput) (Assembly, error) {
			return p.svc.CreateAssembly(r.Context(), sdk.PrincipalFrom(r.Context()), in)
		}).Status(http.StatusCreated).Errors(403).
			Doc("Create an assembly", "By a coordinator of the neighbourhood or a city admin."),
		sdk.Get(asmPath, pub, func(r *http.Request) (Assembly, error) {
			return p.svc.Assembly(r.Context(), r.PathValue("id"))
		}).Doc("An assembly with its rules", ""),
		sdk.Put(asmPath, participate, func(r *http.Request, in EditAssemblyInput) (Assembly, error) {
			return p.svc.EditAssembly(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
		}).Errors(403).
			Doc("Edit an assembly", "Name, charter and rules, replaced whole; by its chair or a coordinator. A vote already open keeps the rules it opened with."),

		sdk.List(asmPath+"/members", pub, func(r *http.Request, q sdk.ListQuery) (sdk.Page[Member], error) {
			return p.svc.Members(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), q)
		}).Errors(401, 403).
			Doc("Members", "In the order they applied; officers also see applicants. Public unless the city keeps member lists to members."),
		sdk.Post(asmPath+"/members", PermMemberJoin, func(r *http.Request, _ sdk.NoBody) (Member, error) {
			return p.svc.Join(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"))
		}).Status(http.StatusCreated).Errors(409).
			Doc("Join", "Join an open assembly, or apply to an approval assembly, yourself: verified residents of its neighbourhood."),
		sdk.Post(asmPath+"/delegates", PermDelegateName, func(r *http.Request, in NameDelegateInput) (Member, error) {
			return p.svc.NameDelegate(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
		}).Status(http.StatusCreated).Errors(409).
			Doc("Name an organisation's delegate", "By a representative of a verified organisation active in the neighbourhood."),
		p.memberAction("approve", "Approve an application", "By the chair, the vice-chair or a coordinator."),
		p.memberAction("reject", "Reject an application", "By the chair, the vice-chair or a coordinator."),
		p.memberAction("remove", "Remove a member", "With a reason, by the chair, the vice-chair or a coordinator."),
		sdk.Post(memberPath+"/position", participate, func(r *http.Request, in PositionInput) (Member, error) {
			return p.svc.SetPosition(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("userID"), in)
		}).Errors(409).
			Doc("Appoint a member to a position", "By the chair or a coordinator; a new chair, vice-chair or secretary replaces the old one."),
		sdk.Get(asmPath+"/membership", sdk.PermAuthenticated, func(r *http.Request) (Member, error) {
			m, found, err := p.svc.Membership(r.Context(), r.PathValue("id"), sdk.PrincipalFrom(r.Context()).UserID)
			if err == nil && !found {
				err = sdk.Errorf(sdk.CodeNotFound, "you have not joined or applied to this assembly")
			}
			return m, err
		}).Errors(404).Doc("Your membership", "Whatever its status: pending, active, left, removed or rejected."),
		sdk.Post(asmPath+"/leave", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (Member, error) {
			return p.svc.Leave(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"))
		}).Errors(409).Doc("Leave the assembly, or withdraw an application", ""),

		sdk.List(asmPath+"/meetings", pub, func(r *http.Request, q sdk.ListQuery) (sdk.Page[Meeting], error) {
			return p.svc.MeetingsWhen(r.Context(), r.PathValue("id"), r.URL.Query().Get("when"), q)
		}).With(sdk.Param{Name: "when", Enum: []string{MeetingsUpcoming, MeetingsPast}, Description: "upcoming: not yet begun; past: begun (held) or whose time has gone; all by default"}).
			Doc("Meetings", "Earliest first, with agenda, attendance and published minutes."),
		sdk.Post(asmPath+"/meetings", participate, func(r *http.Request, in MeetingInput) (Meeting, error) {
			return p.svc.ScheduleMeeting(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
		}).Status(http.StatusCreated).
			Doc("Schedule a meeting", "By the chair, the vice-chair, the secretary or a coordinator."),
		sdk.Get(meetPath, pub, func(r *http.Request) (Meeting, error) {
			return p.svc.Meeting(r.Context(), r.PathValue("id"), r.PathValue("meetingID"))
		}).Doc("A meeting", "With agenda, attendance and published minutes."),
		sdk.Put(meetPath, participate, func(r *http.Request, in MeetingInput) (Meeting, error) {
			return p.svc.EditMeeting(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("meetingID"), in)
		}).Errors(403, 409).
			Doc("Edit or reschedule a meeting", "Title, time, place, online link and agenda, replaced whole, until the meeting begins; by an officer or a coordinator."),
		meetingAction(p, "cancel", "cancel", func(in CancelInput) MeetingUpdate { return MeetingUpdate{Reason: in.Reason} }).
			Doc("Cancel a meeting", "With a reason, by an officer or a coordinator."),
		meetingAction(p, "attendance", "attendance", func(in AttendanceInput) MeetingUpdate {
			return MeetingUpdate{UserIDs: in.UserIDs, RemoteUserIDs: in.RemoteUserIDs}
		}).Doc("Record attendance", "In the room and online; replaces the list, once the meeting has begun; by the chair, the vice-chair or the secretary."),
		meetingAction(p, "minutes", "minutes", func(in MinutesInput) MeetingUpdate { return MeetingUpdate{Minutes: in.Minutes} }).
			Doc("Write the draft minutes", "By the chair, the vice-chair or the secretary; shown to them until published."),
		meetingAction(p, "minutes/approve", "approve_minutes", func(sdk.NoBody) MeetingUpdate { return MeetingUpdate{} }).
			Doc("Approve the draft minutes", "By the chair or the vice-chair."),
		meetingAction(p, "minutes/publish", "publish_minutes", func(sdk.NoBody) MeetingUpdate { return MeetingUpdate{} }).
			Doc("Publish approved minutes", "By the chair, the vice-chair or the secretary."),
		sdk.Raw(http.MethodGet, asmPath+"/calendar.ics", pub, "text/calendar", func(w http.ResponseWriter, r *http.Request) error {
			b, err := p.svc.Calendar(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
			_, err = w.Write(b)
			return err
		}).Doc("The assembly's meetings as an iCalendar feed", "RFC 5545."),

		sdk.List(asmPath+"/motions", pub, func(r *http.Request, q sdk.ListQuery) (sdk.Page[Motion], error) {
			overdue, err := boolParam(r, "overdue")
			if err != nil {
				return sdk.Page[Motion]{}, err
			}
			awaiting, err := boolParam(r, "awaiting")
			if err != nil {
				return sdk.Page[Motion]{}, err
			}
			return p.svc.ListMotions(r.Context(), r.PathValue("id"), MotionQuery{State: r.URL.Query().Get("state"),
				Kind: r.URL.Query().Get("kind"), Overdue: overdue, Awaiting: awaiting, Viewer: sdk.PrincipalFrom(r.Context())}, q)
		}).With(sdk.Param{Name: "awaiting", Type: "boolean", Description: "true: only adopted motions still waiting for the city's answer (answer.overdue marks the late ones)"},
			sdk.Param{Name: "state", Enum: MotionStates, Description: "Only the motions in this state"},
			sdk.Param{Name: "kind", Enum: []string{KindMotion, KindConsultation}, Description: "Only members' motions, or only the city's consultations"},
			sdk.Param{Name: "overdue", Type: "boolean", Description: "true: only adopted motions the city has not answered by their deadline"}).
			Doc("Motions", "Oldest first."),
		sdk.Post(asmPath+"/motions", sdk.PermAuthenticated, func(r *http.Request, in MotionInput) (Motion, error) {
			return p.svc.CreateMotion(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
		}).Status(http.StatusCreated).Errors(403).
			Doc("Draft a motion, or ask for advice", "A member drafts a motion; city staff raise a consultation (kind consultation) with a deadline."),
		sdk.Get(motPath, pub, func(r *http.Request) (Motion, error) {
			return p.svc.MotionFor(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"))
		}).Doc("A motion", "With its vote, the city's answer and its public timeline. A draft only to its author and the assembly's members and officers."),
		sdk.Put(motPath, participate, func(r *http.Request, in EditMotionInput) (Motion, error) {
			return p.svc.EditMotion(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"), in)
		}).Errors(403, 409).
			Doc("Edit a draft motion", "Title and text, by its author, until it is tabled; the edit is on its timeline."),
		p.motionAction(ActionSponsor, "Co-sponsor a motion", "By a member other than its author."),
		sdk.Post(motPath+"/invite", participate, func(r *http.Request, in InviteInput) (Invited, error) {
			ids, err := p.svc.InviteSponsors(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"), in)
			return Invited{UserIDs: ids}, err
		}).Errors(403, 409).Doc("Ask members to co-sponsor a motion", "By its author, while it is a draft or tabled; each member named is told at once."),
		p.motionAction(ActionTable, "Table a draft motion", "By its author, the chair or the vice-chair."),
		p.motionAction(ActionWithdraw, "Withdraw a motion", "By its author, the chair or the vice-chair."),
		sdk.Post(motPath+"/vote/open", participate, func(r *http.Request, in OpenVoteInput) (Motion, error) {
			return p.svc.OpenVote(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"), in)
		}).OptionalBody().Errors(409).
			Doc("Open the vote on a tabled motion", "By the chair or the vice-chair; who may vote is fixed now."),
		sdk.Post(motPath+"/vote/ballots", PermMotionVote, func(r *http.Request, in BallotInput) (Receipt, error) {
			return p.svc.CastBallot(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"), in.Choice)
		}).Status(http.StatusCreated).Errors(409).
			Doc("Cast your ballot", "A receipt; it repeats the choice only in a named vote."),
		sdk.Get(motPath+"/vote/ballot", sdk.PermAuthenticated, func(r *http.Request) (BallotStatus, error) {
			return p.svc.MyBallot(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"))
		}).Doc("Your place in the vote", "Whether you may vote and whether you have; never what you chose."),
		sdk.Post(motPath+"/vote/close", participate, func(r *http.Request, _ sdk.NoBody) (CloseResult, error) {
			m, err := p.svc.CloseVote(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"))
			if err != nil {
				return CloseResult{}, err
			}
			return CloseResult{Outcome: m.Vote.Outcome, Counts: *m.Vote.Counts, Electorate: m.Vote.Electorate, Motion: m}, nil
		}).Errors(409).Doc("Close the vote and decide", "By the chair or the vice-chair."),
		answerAction(p, "acknowledge", AnswerAcknowledged, func(sdk.NoBody) AnswerInput { return AnswerInput{} }).
			Doc("Acknowledge an adopted motion", "By a city responder."),
		answerAction(p, "answer", AnswerAnswered, func(in AnswerInput) AnswerInput { return in }).
			Doc("Answer an adopted motion", "The city's decision, always with its reasoning; by a city responder."),
		answerAction(p, "implemented", AnswerImplemented, func(sdk.NoBody) AnswerInput { return AnswerInput{} }).
			Doc("Mark an accepted motion implemented", "By a city responder."),
		sdk.Put(asmPath+"/follow", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
			return p.svc.FollowAssembly(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), true)
		}).OptionalBody().Doc("Follow an assembly", "Hear of its motions, results, meetings and minutes. Members hear of them anyway."),
		sdk.Delete(asmPath+"/follow", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
			return p.svc.FollowAssembly(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), false)
		}).OptionalBody().Doc("Stop following an assembly", ""),
		sdk.Put(motPath+"/follow", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
			return p.svc.FollowMotion(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"), true)
		}).OptionalBody().Doc("Follow a motion", "Hear of its result and the city's answer. Drafting, co-sponsoring, tabling and voting follow it already."),
		sdk.Delete(motPath+"/follow", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
			return p.svc.FollowMotion(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"), false)
		}).OptionalBody().Doc("Stop following a motion", ""),
		sdk.Get(asmPath+"/popolo", pub, func(r *http.Request) (PopoloExport, error) {
			return p.svc.Popolo(r.Context(), r.PathValue("id"))
		}).Doc("Motions and votes in Popolo JSON", "popoloproject.com; named votes list who voted what."),
	}
	return append(routes, p.pageRoutes()...)
}

// Invited are the members newly asked to co-sponsor.
type Invited struct {
	UserIDs []string `json:"user_ids" nullable:"false"`
}

// BallotInput is the body of a ballot.
type BallotInput struct {
	Choice string `json:"choice" max:"32" enum:"yes,no,abstain"`
}

// CloseResult is the answer of the close: the outcome and counts up front, the whole
// motion alongside.
type CloseResult struct {
	Outcome    string `json:"outcome" enum:"adopted,rejected,no_quorum"`
	Counts     Counts `json:"counts"`
	Electorate int    `json:"electorate"`
	Motion     Motion `json:"motion"`
}

func (p *Plugin) memberAction(action, summary, description string) sdk.Route {
	return sdk.Post(memberPath+"/"+action, PermAssemblyParticipate, func(r *http.Request, in MemberDecision) (Member, error) {
		return p.svc.DecideMember(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("userID"), action, in)
	}).OptionalBody().Errors(409).Doc(summary, description)
}

func (p *Plugin) motionAction(action MotionAction, summary, description string) sdk.Route {
	return sdk.Post(motPath+"/"+string(action), PermAssemblyParticipate, func(r *http.Request, _ sdk.NoBody) (Motion, error) {
		return p.svc.ActOnMotion(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"), action)
	}).Errors(409).Doc(summary, description)
}

// meetingAction is a route of UpdateMeeting, whose body In tells the action what it
// needs (or nothing).
func meetingAction[In any](p *Plugin, suffix, action string, update func(In) MeetingUpdate) sdk.Route {
	return sdk.Post(meetPath+"/"+suffix, PermAssemblyParticipate, func(r *http.Request, in In) (Meeting, error) {
		return p.svc.UpdateMeeting(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("meetingID"), action, update(in))
	}).Errors(409)
}

// answerAction is a step of the city's answer, checked in the city domain.
func answerAction[In any](p *Plugin, suffix, step string, answer func(In) AnswerInput) sdk.Route {
	return sdk.Post(motPath+"/"+suffix, PermMotionAnswer, func(r *http.Request, in In) (Motion, error) {
		return p.svc.Answer(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("motionID"), step, answer(in))
	}).In(sdk.DomainCity).Errors(409)
}

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, invalid(name, "must be true or false", sdk.RuleOneOf)
}
