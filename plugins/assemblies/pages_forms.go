package assemblies

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The pages' forms. Each reads its form with web.Decode (the API's limits: NUL bytes,
// lengths, whole numbers), calls the one Service method the JSON route calls, and
// answers 303 to the page to show next, or 422 with the form again: a broken rule
// beside its field, a refusal the person can understand (already voted, the vote is
// closed) at the top. Anything else — not found, forbidden — is the host's panel.

// cursorQuery is the list query of the page after cursor, as long as lists go.
func cursorQuery(cursor string) (sdk.ListQuery, error) {
	q, err := sdk.ListParams(&http.Request{URL: &url.URL{RawQuery: url.Values{"cursor": {cursor}}.Encode()}})
	q.Limit = sdk.MaxLimit
	return q, err
}

// refusable reports an error shown in the form rather than as the host's panel: a
// broken rule or a conflict with the state of things.
func refusable(form *web.Form, err error, prefix string) bool {
	if form.Catch(err, prefix) {
		return true
	}
	var e *sdk.Error
	if codeOf(err) == sdk.CodeConflict && asError(err, &e) {
		form.Refuse("assemblies.refused", map[string]any{"Reason": e.Message})
		return true
	}
	return false
}

func (p *Plugin) joinPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	m, err := p.svc.Join(pg.ctx, pg.who, r.PathValue("id"))
	if codeOf(err) == sdk.CodeConflict {
		return p.refuseAssembly(pg, err)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	done := "joined"
	if m.Status == MemberPending {
		done = "applied"
	}
	return pg.redirect(assemblyPath(r.PathValue("id")), done)
}

func (p *Plugin) leavePost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	if _, err := p.svc.Leave(pg.ctx, pg.who, r.PathValue("id")); err != nil {
		if codeOf(err) == sdk.CodeConflict {
			return p.refuseAssembly(pg, err)
		}
		return sdk.PageMeta{}, err
	}
	return pg.redirect(assemblyPath(r.PathValue("id")), "left")
}

// refuseAssembly shows the assembly page with a conflict at the top (422).
func (p *Plugin) refuseAssembly(pg *pageCtx, err error) (sdk.PageMeta, error) {
	var e *sdk.Error
	asError(err, &e)
	a, aerr := p.svc.Assembly(pg.ctx, pg.r.PathValue("id"))
	if aerr != nil {
		return sdk.PageMeta{}, aerr
	}
	form := web.NewForm(nil)
	form.Refuse("assemblies.refused", map[string]any{"Reason": e.Message})
	return pg.refuse("refused", struct {
		Form *web.Form
		Back string
	}{form, assemblyPath(a.ID)}, pg.meta(a.Name, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}))
}

// memberPost approves or rejects an application, or appoints a member to a position.
func (p *Plugin) memberPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	asm, user, action := r.PathValue("id"), r.PathValue("userID"), r.PathValue("action")
	var err error
	switch action {
	case "approve", "reject":
		var in MemberDecision
		if _, err := web.Decode(r, &in); err != nil {
			return sdk.PageMeta{}, err
		}
		_, err = p.svc.DecideMember(pg.ctx, pg.who, asm, user, action, in)
		action += "d"
	case "position":
		var in struct {
			Position string `json:"position" max:"32"`
		}
		if _, err := web.Decode(r, &in); err != nil {
			return sdk.PageMeta{}, err
		}
		_, err = p.svc.SetPosition(pg.ctx, pg.who, asm, user, PositionInput{Position: in.Position})
	default:
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeNotFound, "no member action %q", action)
	}
	if codeOf(err) == sdk.CodeConflict || codeOf(err) == sdk.CodeInvalid {
		return p.refuseAssembly(pg, err)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(assemblyPath(asm), action)
}

// meetingForm is the form that schedules a meeting: a day, two times in the city's
// zone, a place and/or a link, and the agenda one item a line.
type meetingForm struct {
	Title     string    `json:"title" max:"300"`
	Date      web.Date  `json:"date"`
	StartsAt  web.Clock `json:"starts_at"`
	EndsAt    web.Clock `json:"ends_at"`
	Place     string    `json:"place" max:"300"`
	OnlineURL string    `json:"online_url" max:"2000"`
	Agenda    string    `json:"agenda" max:"20000"`
	// Motions are tabled motions to put on the agenda after its other items, linked
	// so that each motion's timeline says so.
	Motions []string `json:"motion_ids" max:"64"`
}

// formView is a page with one form: Action is where it posts, Edit says the form
// changes something that exists (its words differ).
type formView struct {
	A      Assembly
	Form   *web.Form
	Back   string
	Action string
	Edit   bool
	// Motions are the tabled motions a meeting's agenda may take.
	Motions []web.Option
}

func (p *Plugin) newMeetingPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	return p.showMeetingForm(pg, web.NewForm(nil), nil)
}

// showMeetingForm is the form that schedules a meeting, or, with m, changes it.
func (p *Plugin) showMeetingForm(pg *pageCtx, form *web.Form, m *Meeting) (sdk.PageMeta, error) {
	a, err := p.svc.Assembly(pg.ctx, pg.r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	role, err := p.svc.roleIn(pg.ctx, a, pg.who)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !role.Officer {
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeForbidden, "only the assembly's officers schedule its meetings")
	}
	title, self := pg.t("assemblies.meeting.new.title"), assemblyPath(a.ID)+"/meetings/new"
	v := formView{A: a, Form: form, Back: assemblyPath(a.ID), Action: assemblyPath(a.ID) + "/meetings"}
	tabled, err := p.svc.ListMotions(pg.ctx, a.ID, MotionQuery{State: StateTabled}, allOf)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	for _, mo := range tabled.Items {
		v.Motions = append(v.Motions, web.Option{Value: mo.ID, Label: mo.Title})
	}
	if m != nil {
		title, self = pg.t("assemblies.meeting.edit.title"), meetingPath(a.ID, m.ID)+"/edit"
		v.Action, v.Back, v.Edit = self, meetingPath(a.ID, m.ID), true
	}
	meta := pg.meta(title, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}, sdk.Crumb{Label: title, Href: self})
	if !form.Valid() {
		return pg.refuse("new-meeting", v, meta)
	}
	return pg.render("new-meeting", v, meta)
}

func (p *Plugin) newMeetingPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	var in meetingForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showMeetingForm(pg, form, nil)
	}
	mi := p.meetingInput(form, in, p.motionTitles(pg, in.Motions))
	if !form.Valid() {
		return p.showMeetingForm(pg, form, nil)
	}
	m, err := p.svc.ScheduleMeeting(pg.ctx, pg.who, r.PathValue("id"), mi)
	if refusable(form, err, "assemblies.meeting") {
		return p.showMeetingForm(pg, form, nil)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(meetingPath(r.PathValue("id"), m.ID), "scheduled")
}

// meetingPost is an officer's step on a meeting: cancel it, record who came, write,
// approve or publish the minutes.
func (p *Plugin) meetingPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	action := r.PathValue("action")
	if action == "edit" {
		return p.editMeetingPost(pg)
	}
	var in struct {
		Reason        string   `json:"reason" max:"4000"`
		Minutes       string   `json:"minutes" max:"100000"`
		UserIDs       []string `json:"user_ids" max:"64"`
		RemoteUserIDs []string `json:"remote_user_ids" max:"64"`
	}
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showMeeting(pg, form)
	}
	update := MeetingUpdate{Reason: in.Reason, Minutes: in.Minutes, UserIDs: in.UserIDs, RemoteUserIDs: in.RemoteUserIDs}
	switch action {
	case "cancel":
		if strings.TrimSpace(in.Reason) == "" {
			form.Invalid("reason", "web.rule.required", nil)
			return p.showMeeting(pg, form)
		}
	case "attendance":
		if update.UserIDs == nil {
			update.UserIDs = []string{}
		}
		if update.RemoteUserIDs == nil {
			update.RemoteUserIDs = []string{}
		}
	case "minutes", "approve_minutes", "publish_minutes":
	default:
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeNotFound, "no meeting action %q", action)
	}
	_, err = p.svc.UpdateMeeting(pg.ctx, pg.who, r.PathValue("id"), r.PathValue("meetingID"), action, update)
	if refusable(form, err, "assemblies.meeting") {
		return p.showMeeting(pg, form)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	done := action
	if action == "cancel" {
		done = "cancelled"
	}
	return pg.redirect(meetingPath(r.PathValue("id"), r.PathValue("meetingID")), done)
}

// motionForm drafts a motion.
type motionForm struct {
	Title string `json:"title" max:"300"`
	Text  string `json:"text" max:"20000"`
}

func (p *Plugin) newMotionPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.showMotionForm(p.page(w, r), web.NewForm(nil), nil)
}

// showMotionForm is the form that drafts a motion, or, with m, edits the draft.
func (p *Plugin) showMotionForm(pg *pageCtx, form *web.Form, m *Motion) (sdk.PageMeta, error) {
	a, err := p.svc.Assembly(pg.ctx, pg.r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	title, self := pg.t("assemblies.motion.new.title"), assemblyPath(a.ID)+"/motions/new"
	v := formView{A: a, Form: form, Back: assemblyPath(a.ID), Action: assemblyPath(a.ID) + "/motions"}
	if m != nil {
		title, self = pg.t("assemblies.motion.edit.title"), motionPath(a.ID, m.ID)+"/edit"
		v.Action, v.Back, v.Edit = motionPath(a.ID, m.ID)+"/edit", motionPath(a.ID, m.ID), true
	}
	meta := pg.meta(title, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}, sdk.Crumb{Label: title, Href: self})
	if !form.Valid() {
		return pg.refuse("new-motion", v, meta)
	}
	return pg.render("new-motion", v, meta)
}

func (p *Plugin) newMotionPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	var in motionForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showMotionForm(pg, form, nil)
	}
	m, err := p.svc.CreateMotion(pg.ctx, pg.who, r.PathValue("id"), MotionInput{Title: in.Title, Text: in.Text})
	if codeOf(err) == sdk.CodeForbidden {
		form.Refuse("assemblies.motion.members_only", nil)
		return p.showMotionForm(pg, form, nil)
	}
	if refusable(form, err, "assemblies.motion") {
		return p.showMotionForm(pg, form, nil)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(motionPath(r.PathValue("id"), m.ID), "drafted")
}

// motionPost is a step on a motion: co-sponsor, table, withdraw; the chair's open and
// close of the vote.
func (p *Plugin) motionPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	asm, id, action := r.PathValue("id"), r.PathValue("motionID"), r.PathValue("action")
	if action == "edit" {
		return p.editMotionPost(pg)
	}
	var in struct {
		Secrecy     string   `json:"secrecy" max:"32"`
		MeetingID   string   `json:"meeting_id" max:"64"`
		PresentOnly bool     `json:"present_only"`
		UserIDs     []string `json:"user_ids" max:"64"`
	}
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showMotion(pg, form)
	}
	switch action {
	case string(ActionSponsor), string(ActionTable), string(ActionWithdraw):
		_, err = p.svc.ActOnMotion(pg.ctx, pg.who, asm, id, MotionAction(action))
	case "open":
		_, err = p.svc.OpenVote(pg.ctx, pg.who, asm, id, OpenVoteInput{Secrecy: in.Secrecy, MeetingID: in.MeetingID, PresentOnly: in.PresentOnly})
	case "close":
		_, err = p.svc.CloseVote(pg.ctx, pg.who, asm, id)
	case "invite":
		_, err = p.svc.InviteSponsors(pg.ctx, pg.who, asm, id, InviteInput{UserIDs: in.UserIDs})
	default:
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeNotFound, "no motion action %q", action)
	}
	prefix := "assemblies.open"
	if action == "invite" {
		prefix = "assemblies.invite"
	}
	if refusable(form, err, prefix) {
		return p.showMotion(pg, form)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(motionPath(asm, id), action)
}

// answerPost is the city's step on an adopted motion: acknowledge, answer with
// reasoning, mark implemented.
func (p *Plugin) answerPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	asm, id, step := r.PathValue("id"), r.PathValue("motionID"), r.PathValue("step")
	var in AnswerInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showMotion(pg, form)
	}
	switch step {
	case AnswerAcknowledged, AnswerImplemented:
		in = AnswerInput{}
	case AnswerAnswered:
	default:
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeNotFound, "no answer step %q", step)
	}
	_, err = p.svc.Answer(pg.ctx, pg.who, asm, id, step, in)
	if refusable(form, err, "assemblies.answer") {
		return p.showMotion(pg, form)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(motionPath(asm, id), step)
}

// boothView is the voting booth.
type boothView struct {
	A        Assembly
	M        Motion
	Secret   bool
	Change   bool
	Open     bool
	Cast     bool
	Choices  []web.Option
	Form     *web.Form
	Self     string
	Motion   string
	Electors int
	// Status is the viewer's place in the vote: whether they may vote, have voted
	// and may still change their ballot.
	Status BallotStatus
}

func (p *Plugin) boothPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.showBooth(p.page(w, r), web.NewForm(nil))
}

func (p *Plugin) showBooth(pg *pageCtx, form *web.Form) (sdk.PageMeta, error) {
	a, err := p.assemblyFor(pg, pg.r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	// The booth needs the motion and its vote, not its sponsors and timeline.
	row, err := getMotion(pg.ctx, p.svc.db, a.ID, pg.r.PathValue("motionID"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	m := row.motion(p.svc.Now())
	if m.Vote == nil {
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeNotFound, "motion %q has not been put to the vote", m.ID)
	}
	q := pg.r.URL.Query()
	v := boothView{A: a, M: m, Secret: m.Vote.Secrecy == SecrecySecret, Change: m.Vote.BallotChangeable, Open: m.State == StateVoting,
		Form: form, Self: boothPath(a.ID, m.ID), Motion: motionPath(a.ID, m.ID), Electors: m.Vote.Electorate,
		Cast: q.Get("done") == "cast"}
	if pg.who.Authenticated() {
		var err error
		if v.Status, err = p.svc.MyBallot(pg.ctx, pg.who, a.ID, m.ID); err != nil {
			return sdk.PageMeta{}, err
		}
	}
	// The receipt is shown to whoever has voted, never on the word of the address: a
	// link with ?done=cast must not tell someone who has not voted that they have.
	v.Cast = v.Cast && v.Status.Voted
	for _, c := range Choices {
		v.Choices = append(v.Choices, web.Option{Value: c, Label: pg.t("assemblies.choice." + c)})
	}
	title := pg.t("assemblies.booth.title", "Motion", m.Title)
	meta := pg.meta(title, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}, sdk.Crumb{Label: m.Title, Href: v.Motion},
		sdk.Crumb{Label: pg.t("assemblies.booth.crumb"), Href: v.Self})
	if !v.Cast {
		meta.Announce = ""
	}
	if !form.Valid() {
		return pg.refuse("booth", v, meta)
	}
	return pg.render("booth", v, meta)
}

func (p *Plugin) boothPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	var in BallotInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showBooth(pg, form)
	}
	if in.Choice == "" {
		form.Invalid("choice", "assemblies.booth.choose", nil)
		return p.showBooth(pg, form)
	}
	rc, err := p.svc.CastBallot(pg.ctx, pg.who, r.PathValue("id"), r.PathValue("motionID"), in.Choice)
	if codeOf(err) == sdk.CodeForbidden {
		form.Refuse("assemblies.booth.not_elector", nil)
		return p.showBooth(pg, form)
	}
	if refusable(form, err, "assemblies.booth") {
		return p.showBooth(pg, form)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return p.boothConfirmation(pg, r.PathValue("id"), r.PathValue("motionID"), rc)
}
