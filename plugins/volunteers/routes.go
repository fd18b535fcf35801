package volunteers

import (
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kvarter/kvarter/sdk"
)

const (
	base  = "/api/v1/volunteers"
	opp   = base + "/opportunities/{id}"
	shift = opp + "/shifts/{shiftID}"
	app   = shift + "/applications/{applicationID}"
)

// Routes is the plugin's route table: the manifest's routes, the mux and the OpenAPI
// document in one. The host checks each route's permission before the request arrives;
// the object-level checks (organiser of this opportunity, owner of this application)
// are the Service's. Each handler parses the request, calls one Service method and
// returns.
func (p *Plugin) Routes() []sdk.Route {
	routes := []sdk.Route{
		sdk.Get(base+"/profile", sdk.PermAuthenticated, p.getProfile).
			Doc("Your volunteer profile", "What you said you can do and when.").Errors(404),
		sdk.Put(base+"/profile", sdk.PermAuthenticated, p.putProfile).
			Doc("Create or replace your volunteer profile", "The background check is kept: only city staff set it."),
		sdk.Patch(base+"/profile", sdk.PermAuthenticated, p.patchProfile).
			Doc("Change part of your volunteer profile", "Fields left out keep their value; the checks are those of PUT.").Errors(404),
		sdk.Delete(base+"/profile", sdk.PermAuthenticated, p.deleteProfile).
			Doc("Delete your volunteer profile and sign-ups", "Places you held go to the wait list.").Errors(404),
		sdk.List(base+"/skills", sdk.PermAuthenticated, p.listSkills).
			Doc("The skill catalogue", "By ID."),
		sdk.Put(base+"/skills/{skillID}", PermSkillManage, p.putSkill).In(sdk.DomainCity).
			Doc("Add or rename a catalogue skill (city staff)", "The ID is 1-64 characters of a-z, 0-9, _ and -."),
		sdk.List(base+"/background-checks", PermCheckSet, p.backgroundChecks).In(sdk.DomainCity).
			With(sdk.Param{Name: "status", Enum: []string{CheckNone, CheckPending, CheckCleared, CheckRejected}, Description: "Only volunteers whose check has this status"}).
			Doc("Volunteers and their background checks (city staff)", "By user ID; needs_check marks those offering a skill that implies a check.").Errors(422),
		sdk.Put(base+"/profiles/{userID}/background-check", PermCheckSet, p.setCheck).In(sdk.DomainCity).
			Doc("Record a volunteer's background check (city staff)", ""),
		sdk.List(base+"/public/opportunities", sdk.PermPublic, p.publicOpportunities).With(publicParams...).
			Doc("Published opportunities, without sign-in", "Those with a shift still to come, in creation order, each with its shifts and free places. Nothing personal.").
			Errors(422),
		sdk.Get(base+"/public/opportunities/{id}", sdk.PermPublic, p.publicOpportunity).
			Doc("One published or closed opportunity, without sign-in", "A draft or a cancelled one answers 404.").Errors(404),
		sdk.List(base+"/opportunities", sdk.PermAuthenticated, p.listOpportunities).
			Doc("Published opportunities, and those you organise", "In creation order."),
		sdk.Post(base+"/opportunities", PermOpportunityManage, p.createOpportunity).Status(http.StatusCreated).
			Doc("Post a draft opportunity with shifts", "Without organisation_id the city posts it, which only city staff may.").
			Errors(403, 404),
		sdk.Get(opp, sdk.PermAuthenticated, p.getOpportunity).
			Doc("One opportunity", "Drafts and closed ones only to their organisers."),
		sdk.Patch(opp, PermOpportunityManage, p.patchOpportunity).
			Doc("Change an opportunity's details (organisers)", "Fields left out keep their value. Places already held are kept; stricter rules apply to new sign-ups.").
			Errors(404, 409),
		sdk.Post(opp+"/shifts", PermOpportunityManage, p.addShift).Status(http.StatusCreated).
			Doc("Add a shift (organisers)", "To a draft or published opportunity.").Errors(404, 409),
		sdk.Patch(shift, PermOpportunityManage, p.patchShift).
			Doc("Change a shift's time or places (organisers)", "A new time is told to everyone signed up; more places move the wait list up; fewer than are held is refused.").
			Errors(404, 409),
		p.setState("publish", StatePublished, "Publish a draft"),
		p.setState("close", StateClosed, "Close a published opportunity to sign-ups"),
		p.setState("cancel", StateCancelled, "Cancel an opportunity"),
		sdk.Put(opp+"/follow", sdk.PermAuthenticated, p.follow(true)).
			Doc("Follow an opportunity", "You hear when it is cancelled. Signing up for a shift follows it too.").Errors(404),
		sdk.Delete(opp+"/follow", sdk.PermAuthenticated, p.follow(false)).
			Doc("Stop following an opportunity", "").Errors(404),
		sdk.Put(shift, PermOpportunityManage, p.changeShift).
			Doc("Move a shift to another time (organisers)", "Everyone signed up for it is told; places are kept.").
			Errors(404, 409),
		sdk.Post(shift+"/cancel", PermOpportunityManage, p.cancelShift).
			Doc("Cancel a shift that has not started (organisers)", "Everyone signed up for it is told; the sign-ups go with it. To call off the last shift, cancel the opportunity.").
			Errors(404, 409),
		sdk.List(opp+"/applications", PermOpportunityManage, p.listApplications).
			Doc("Applications, with profiles and, after acceptance, contact (organisers)",
				"By shift, then in the order they were made. A withdrawn application shows no profile."),
		sdk.Get(opp+"/roster", PermOpportunityManage, p.roster).
			Doc("A roster proposal maximising the total score (organisers)", "It books nothing."),
		sdk.Post(opp+"/roster/apply", PermOpportunityManage, p.applyRoster).
			Doc("Apply the roster proposal: invite every proposed volunteer (organisers)",
				"In one transaction; placements whose volunteer already signed up or no longer fits are skipped and listed.").
			Errors(404, 409),
		sdk.List(shift+"/matches", PermOpportunityManage, p.matches).
			Doc("Eligible volunteers for a shift, ranked, with reasons (organisers)",
				"Best first, ties by volunteer ID. Only IDs, scores and reasons: the profile shows once the volunteer applied or was invited."),
		sdk.Post(shift+"/applications", sdk.PermAuthenticated, p.apply).Status(http.StatusCreated).
			Doc("Apply for a shift yourself", "On an auto-accept opportunity the place is confirmed at once, or wait-listed when the shift is full.").
			Errors(409),
		sdk.Post(shift+"/invitations", PermOpportunityManage, p.invite).Status(http.StatusCreated).
			Doc("Invite a matched volunteer (organisers)", "The volunteer confirms or withdraws.").Errors(409),
		p.decide(ActionAccept, PermOpportunityManage, "Accept an application (organisers)"),
		p.decide(ActionDecline, PermOpportunityManage, "Decline an application (organisers)"),
		p.decide(ActionConfirm, sdk.PermAuthenticated, "Confirm your place; wait-listed when the shift is full"),
		p.decide(ActionWithdraw, sdk.PermAuthenticated, "Withdraw your sign-up; the wait list moves up"),
		sdk.Post(app+"/attendance", PermOpportunityManage, p.attendance).
			Doc("Record attendance and hours, or a no-show (organisers)", "Minutes default to the shift's length.").Errors(409),
		sdk.Get(base+"/roster", PermOpportunityManage, p.dayRoster).
			Doc("One roster proposal for every shift starting on a local date that you organise",
				"Solved together: city staff plan the whole city, representatives their verified organisations. It books nothing.").
			With(sdk.Param{Name: "date", Required: true, Format: "date", Description: "The city's local date", Example: "2025-06-07"},
				sdk.Param{Name: "organisation_id", Description: "Only this organisation's opportunities"}).
			Errors(404),
		sdk.List(base+"/recommendations", sdk.PermAuthenticated, p.recommendations).
			Doc("Shifts recommended for you", "Best first, then the earliest; shifts you signed up for are left out.").Errors(404),
		sdk.Get(base+"/me", sdk.PermAuthenticated, p.myVolunteering).
			Doc("My volunteering", "Invitations, applications, confirmed shifts and wait-list places still to come, past shifts and hours given."),
		sdk.Get(base+"/me/calendar", sdk.PermAuthenticated, p.calendarLink).
			Doc("The address of your calendar feed", "Made the first time; subscribe to it in a calendar app. Needs a volunteer profile.").Errors(404),
		sdk.Post(base+"/me/calendar/reset", sdk.PermAuthenticated, p.resetCalendarLink).
			Doc("A new address for your calendar feed", "The old address stops working.").Errors(404),
		sdk.Raw("GET", base+"/calendar/{token}", sdk.PermPublic, "text/calendar", p.calendar).
			Doc("A volunteer's shifts as iCalendar", "The path is the one GET /me/calendar gives ({token} ends in .ics); held places, past and to come; a cancelled one is STATUS:CANCELLED.").
			Errors(404),
		sdk.Raw("GET", base+"/hours", sdk.PermAuthenticated, "text/csv", p.hours).Returns(Hours{}).
			Doc("Your hours", "JSON, or with format=csv a spreadsheet with a total row.").
			With(sdk.Param{Name: "format", Enum: []string{"json", "csv"}, Description: "json (the default) or csv"}).
			Errors(422),
	}
	return append(routes, p.pageRoutes()...)
}

func principal(r *http.Request) sdk.Principal { return sdk.PrincipalFrom(r.Context()) }

func (p *Plugin) getProfile(r *http.Request) (Profile, error) {
	return p.svc.Profile(r.Context(), principal(r))
}

func (p *Plugin) putProfile(r *http.Request, in ProfileInput) (Profile, error) {
	return p.svc.PutProfile(r.Context(), principal(r), in)
}

func (p *Plugin) patchProfile(r *http.Request, in ProfilePatch) (Profile, error) {
	return p.svc.PatchProfile(r.Context(), principal(r), in)
}

func (p *Plugin) patchOpportunity(r *http.Request, in OpportunityPatch) (Opportunity, error) {
	return p.svc.PatchOpportunity(r.Context(), principal(r), r.PathValue("id"), in)
}

func (p *Plugin) addShift(r *http.Request, in ShiftInput) (Opportunity, error) {
	return p.svc.AddShift(r.Context(), principal(r), r.PathValue("id"), in)
}

func (p *Plugin) patchShift(r *http.Request, in ShiftPatch) (Opportunity, error) {
	return p.svc.PatchShift(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), in)
}

func (p *Plugin) deleteProfile(r *http.Request, _ sdk.NoBody) (sdk.NoBody, error) {
	return sdk.NoBody{}, p.svc.DeleteProfile(r.Context(), principal(r))
}

func (p *Plugin) listSkills(r *http.Request, q sdk.ListQuery) (sdk.Page[Skill], error) {
	return p.svc.Skills(r.Context(), q)
}

// SkillInput is the body of PUT /skills/{skillID}: the skill's name per language.
type SkillInput struct {
	Names                map[string]string `json:"names" max:"200" doc:"The skill's name by language code" example:"{\"en\":\"First aid\",\"fi\":\"Ensiapu\"}"`
	NeedsBackgroundCheck bool              `json:"needs_background_check" doc:"An opportunity requiring this skill needs a background check (working with children)"`
}

func (p *Plugin) putSkill(r *http.Request, in SkillInput) (Skill, error) {
	return p.svc.PutSkill(r.Context(), principal(r), Skill{ID: r.PathValue("skillID"), Names: in.Names, NeedsBackgroundCheck: in.NeedsBackgroundCheck})
}

func (p *Plugin) backgroundChecks(r *http.Request, q sdk.ListQuery) (sdk.Page[CheckEntry], error) {
	return p.svc.BackgroundChecks(r.Context(), principal(r), r.URL.Query().Get("status"), q)
}

func (p *Plugin) setCheck(r *http.Request, in BackgroundCheck) (Profile, error) {
	return p.svc.SetBackgroundCheck(r.Context(), principal(r), r.PathValue("userID"), in)
}

func (p *Plugin) listOpportunities(r *http.Request, q sdk.ListQuery) (sdk.Page[Opportunity], error) {
	return p.svc.Opportunities(r.Context(), principal(r), q)
}

func (p *Plugin) publicOpportunities(r *http.Request, q sdk.ListQuery) (sdk.Page[Opportunity], error) {
	f, err := publicFilter(r)
	if err != nil {
		return sdk.Page[Opportunity]{}, err
	}
	return p.svc.PublicOpportunities(r.Context(), f, q)
}

func (p *Plugin) publicOpportunity(r *http.Request) (Opportunity, error) {
	return p.svc.PublicOpportunity(r.Context(), r.PathValue("id"))
}

func (p *Plugin) createOpportunity(r *http.Request, in OpportunityInput) (Opportunity, error) {
	return p.svc.CreateOpportunity(r.Context(), principal(r), in)
}

func (p *Plugin) getOpportunity(r *http.Request) (Opportunity, error) {
	return p.svc.Opportunity(r.Context(), principal(r), r.PathValue("id"))
}

// setState is the route moving an opportunity to state to.
func (p *Plugin) setState(verb, to, summary string) sdk.Route {
	return sdk.Post(opp+"/"+verb, PermOpportunityManage, func(r *http.Request, _ sdk.NoBody) (Opportunity, error) {
		return p.svc.SetState(r.Context(), principal(r), r.PathValue("id"), to)
	}).Doc(summary, "Organisers only.").Errors(409)
}

// follow is the handler of the follow route (PUT) and of its undoing (DELETE).
func (p *Plugin) follow(on bool) func(*http.Request, sdk.NoBody) (sdk.FollowState, error) {
	return func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
		return p.svc.Follow(r.Context(), principal(r), r.PathValue("id"), on)
	}
}

func (p *Plugin) changeShift(r *http.Request, in ShiftChange) (Opportunity, error) {
	return p.svc.ChangeShift(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), in)
}

func (p *Plugin) cancelShift(r *http.Request, _ sdk.NoBody) (Opportunity, error) {
	return p.svc.CancelShift(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"))
}

func (p *Plugin) listApplications(r *http.Request, q sdk.ListQuery) (sdk.Page[ApplicationView], error) {
	return p.svc.Applications(r.Context(), principal(r), r.PathValue("id"), q)
}

func (p *Plugin) roster(r *http.Request) (Roster, error) {
	return p.svc.Roster(r.Context(), principal(r), r.PathValue("id"))
}

func (p *Plugin) applyRoster(r *http.Request, _ sdk.NoBody) (RosterApplied, error) {
	return p.svc.ApplyRoster(r.Context(), principal(r), r.PathValue("id"))
}

func (p *Plugin) dayRoster(r *http.Request) (DayRoster, error) {
	q := r.URL.Query()
	return p.svc.DayRoster(r.Context(), principal(r), q.Get("date"), q.Get("organisation_id"))
}

func (p *Plugin) matches(r *http.Request, q sdk.ListQuery) (sdk.Page[MatchCandidate], error) {
	return p.svc.Matches(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), q)
}

func (p *Plugin) apply(r *http.Request, _ sdk.NoBody) (Application, error) {
	return p.svc.Apply(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"))
}

// InvitationInput is the body of an invitation.
type InvitationInput struct {
	VolunteerID string `json:"volunteer_id" max:"64" doc:"The user invited, one the matches list shows"`
}

func (p *Plugin) invite(r *http.Request, in InvitationInput) (Application, error) {
	return p.svc.Invite(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), in.VolunteerID)
}

// decide is the route applying action to an application.
func (p *Plugin) decide(action, perm, summary string) sdk.Route {
	return sdk.Post(app+"/"+action, perm, func(r *http.Request, _ sdk.NoBody) (Application, error) {
		return p.svc.Decide(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), r.PathValue("applicationID"), action)
	}).Doc(summary, "").Errors(409)
}

func (p *Plugin) attendance(r *http.Request, in AttendanceInput) (Application, error) {
	return p.svc.RecordAttendance(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), r.PathValue("applicationID"), in)
}

func (p *Plugin) recommendations(r *http.Request, q sdk.ListQuery) (sdk.Page[Recommendation], error) {
	return p.svc.Recommendations(r.Context(), principal(r), q)
}

func (p *Plugin) myVolunteering(r *http.Request) (MyVolunteering, error) {
	return p.svc.MyVolunteering(r.Context(), principal(r))
}

func (p *Plugin) calendarLink(r *http.Request) (CalendarLink, error) {
	return p.svc.CalendarLink(r.Context(), principal(r))
}

func (p *Plugin) resetCalendarLink(r *http.Request, _ sdk.NoBody) (CalendarLink, error) {
	return p.svc.ResetCalendarLink(r.Context(), principal(r))
}

// calendar answers a volunteer's feed; the token is the path's last segment less ".ics".
func (p *Plugin) calendar(w http.ResponseWriter, r *http.Request) error {
	token, ok := strings.CutSuffix(r.PathValue("token"), ".ics")
	if !ok {
		return sdk.Errorf(sdk.CodeNotFound, "no such calendar")
	}
	cal, err := p.svc.Calendar(r.Context(), token)
	if err != nil {
		return err
	}
	b, err := cal.Bytes()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// hours answers the summary as JSON, or as CSV for a spreadsheet.
func (p *Plugin) hours(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		return invalid("format", "must be json or csv", RuleEnum)
	}
	hs, err := p.svc.Hours(r.Context(), principal(r))
	if err != nil {
		return err
	}
	if format != "csv" {
		sdk.WriteJSON(w, http.StatusOK, hs)
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="volunteer-hours.csv"`)
	w.WriteHeader(http.StatusOK)
	return writeHoursCSV(w, hs)
}

// writeHoursCSV writes one row per shift and a total row; hours have two decimals so a
// spreadsheet sums them without surprises.
func writeHoursCSV(w io.Writer, hs Hours) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"date", "opportunity", "start", "end", "status", "hours"})
	for _, e := range hs.Entries {
		_ = cw.Write([]string{e.Start.Format("2006-01-02"), csvSafe(e.Title), e.Start.Format("2006-01-02T15:04:05Z07:00"),
			e.End.Format("2006-01-02T15:04:05Z07:00"), e.Status, strconv.FormatFloat(float64(e.Minutes)/60, 'f', 2, 64)})
	}
	_ = cw.Write([]string{"", "total", "", "", "", strconv.FormatFloat(hs.TotalHours, 'f', 2, 64)})
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a title a spreadsheet would read as a formula from being run as one.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
