package assemblies

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The officers' and authors' edits: an assembly's name, charter and rules (its chair
// or a coordinator), a meeting until it begins (reschedule), a draft motion (its
// author). Each form comes prefilled with what is stored and answers as the others do.

func (p *Plugin) zone() *time.Location {
	if p.svc.Zone != nil {
		return p.svc.Zone
	}
	return time.UTC
}

// editMeetingPage shows the meeting's form filled in, to change or reschedule it.
func (p *Plugin) editMeetingPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	m, err := p.svc.Meeting(pg.ctx, r.PathValue("id"), r.PathValue("meetingID"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	start, end := m.StartsAt.In(p.zone()), m.EndsAt.In(p.zone())
	var agenda, linked []string
	for _, it := range m.Agenda {
		if it.MotionID != "" {
			linked = append(linked, it.MotionID)
		} else {
			agenda = append(agenda, it.Title)
		}
	}
	form := web.NewForm(url.Values{"title": {m.Title}, "date": {start.Format(time.DateOnly)}, "starts_at": {start.Format("15:04")},
		"ends_at": {end.Format("15:04")}, "place": {m.Place}, "online_url": {m.OnlineURL}, "agenda": {strings.Join(agenda, "\n")}, "motion_ids": linked})
	return p.showMeetingForm(pg, form, &m)
}

// meetingInput turns the meeting form into the Service's input, in the city's zone.
// titles are the titles of the motions the form links, for their agenda items.
func (p *Plugin) meetingInput(form *web.Form, in meetingForm, titles map[string]string) MeetingInput {
	mi := MeetingInput{Title: in.Title, Place: in.Place, OnlineURL: in.OnlineURL}
	if in.Date == "" {
		form.Invalid("date", "web.rule.required", nil)
	} else {
		if in.StartsAt != "" {
			mi.StartsAt, _ = in.Date.At(in.StartsAt, p.zone())
		}
		if in.EndsAt != "" {
			mi.EndsAt, _ = in.Date.At(in.EndsAt, p.zone())
		}
	}
	for _, line := range strings.Split(in.Agenda, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			mi.Agenda = append(mi.Agenda, AgendaItem{Title: line})
		}
	}
	for _, id := range in.Motions {
		mi.Agenda = append(mi.Agenda, AgendaItem{Title: titles[id], MotionID: id})
	}
	return mi
}

func (p *Plugin) editMeetingPost(pg *pageCtx) (sdk.PageMeta, error) {
	asm, id := pg.r.PathValue("id"), pg.r.PathValue("meetingID")
	m, err := p.svc.Meeting(pg.ctx, asm, id)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in meetingForm
	form, err := web.Decode(pg.r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showMeetingForm(pg, form, &m)
	}
	mi := p.meetingInput(form, in, p.motionTitles(pg, in.Motions))
	if !form.Valid() {
		return p.showMeetingForm(pg, form, &m)
	}
	_, err = p.svc.EditMeeting(pg.ctx, pg.who, asm, id, mi)
	if refusable(form, err, "assemblies.meeting") {
		return p.showMeetingForm(pg, form, &m)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(meetingPath(asm, id), "edited")
}

// editMotionPage shows a draft motion's form filled in, for its author.
func (p *Plugin) editMotionPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	m, err := p.svc.Motion(pg.ctx, r.PathValue("id"), r.PathValue("motionID"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if m.AuthorID != pg.who.UserID || m.State != StateDraft {
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeForbidden, "only the author edits a motion, and only while it is a draft")
	}
	return p.showMotionForm(pg, web.NewForm(url.Values{"title": {m.Title}, "text": {m.Text}}), &m)
}

func (p *Plugin) editMotionPost(pg *pageCtx) (sdk.PageMeta, error) {
	asm, id := pg.r.PathValue("id"), pg.r.PathValue("motionID")
	m, err := p.svc.Motion(pg.ctx, asm, id)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in motionForm
	form, err := web.Decode(pg.r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showMotionForm(pg, form, &m)
	}
	_, err = p.svc.EditMotion(pg.ctx, pg.who, asm, id, EditMotionInput{Title: in.Title, Text: in.Text})
	if refusable(form, err, "assemblies.motion") {
		return p.showMotionForm(pg, form, &m)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(motionPath(asm, id), "edited")
}

// assemblyForm is the form that edits an assembly: EditAssemblyInput as a form.
type assemblyFormView struct {
	A           Assembly
	Form        *web.Form
	Majorities  []web.Option
	Secrecies   []web.Option
	Memberships []web.Option
	Changeable  []web.Option
	Back        string
}

func (p *Plugin) editAssemblyPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	a, err := p.svc.Assembly(pg.ctx, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v := url.Values{"name": {a.Name}, "charter": {a.Charter}, "quorum_percent": {strconv.Itoa(a.QuorumPercent)},
		"quorum_absolute": {strconv.Itoa(a.QuorumAbsolute)}, "majority": {a.Majority}, "secrecy": {a.Secrecy},
		"membership": {a.Membership}, "term_months": {strconv.Itoa(a.TermMonths)}, "org_seats": {strconv.Itoa(a.OrgSeats)}}
	if a.BallotChangeable {
		v.Set("ballot_changeable", "true")
	}
	return p.showAssemblyForm(pg, a, web.NewForm(v))
}

func (p *Plugin) showAssemblyForm(pg *pageCtx, a Assembly, form *web.Form) (sdk.PageMeta, error) {
	role, err := p.svc.roleIn(pg.ctx, a, pg.who)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !role.Chair && !role.Officer {
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeForbidden, "only the chair or a coordinator edits an assembly")
	}
	opts := func(prefix string, values ...string) []web.Option {
		var out []web.Option
		for _, v := range values {
			out = append(out, web.Option{Value: v, Label: pg.t(prefix + v)})
		}
		return out
	}
	v := assemblyFormView{A: a, Form: form, Back: assemblyPath(a.ID),
		Majorities:  opts("assemblies.rules.majority.", MajoritySimple, MajorityAbsolute, MajorityTwoThirds),
		Secrecies:   opts("assemblies.secrecy.", SecrecySecret, SecrecyNamed),
		Memberships: opts("assemblies.rules.membership.", MembershipOpen, MembershipApproval),
		Changeable:  []web.Option{{Value: "true", Label: pg.t("assemblies.rules.changeable")}}}
	title := pg.t("assemblies.edit.title")
	meta := pg.meta(title, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}, sdk.Crumb{Label: title, Href: assemblyPath(a.ID) + "/edit"})
	if !form.Valid() {
		return pg.refuse("edit-assembly", v, meta)
	}
	return pg.render("edit-assembly", v, meta)
}

func (p *Plugin) editAssemblyPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	a, err := p.svc.Assembly(pg.ctx, r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var in EditAssemblyInput
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showAssemblyForm(pg, a, form)
	}
	_, err = p.svc.EditAssembly(pg.ctx, pg.who, a.ID, in)
	if refusable(form, err, "assemblies.edit") {
		return p.showAssemblyForm(pg, a, form)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(assemblyPath(a.ID), "edited")
}

// consultationForm is the city's request for advice: a question with a deadline.
type consultationForm struct {
	Title string   `json:"title" max:"300"`
	Text  string   `json:"text" max:"20000"`
	Due   web.Date `json:"advice_due_at"`
}

func (p *Plugin) newConsultationPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.showConsultationForm(p.page(w, r), web.NewForm(nil))
}

func (p *Plugin) showConsultationForm(pg *pageCtx, form *web.Form) (sdk.PageMeta, error) {
	a, err := p.svc.Assembly(pg.ctx, pg.r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	title := pg.t("assemblies.consultation.new.title")
	meta := pg.meta(title, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}, sdk.Crumb{Label: title, Href: assemblyPath(a.ID) + "/consultations/new"})
	v := formView{A: a, Form: form, Back: assemblyPath(a.ID), Action: assemblyPath(a.ID) + "/consultations"}
	if !form.Valid() {
		return pg.refuse("new-consultation", v, meta)
	}
	return pg.render("new-consultation", v, meta)
}

func (p *Plugin) newConsultationPost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	var in consultationForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	if !form.Valid() {
		return p.showConsultationForm(pg, form)
	}
	mi := MotionInput{Title: in.Title, Text: in.Text, Kind: KindConsultation}
	if in.Due != "" {
		// Advice is due by the end of the day, in the city's time.
		day, _ := in.Due.In(p.zone())
		due := day.AddDate(0, 0, 1).Add(-time.Second)
		mi.AdviceDueAt = &due
	}
	m, err := p.svc.CreateMotion(pg.ctx, pg.who, r.PathValue("id"), mi)
	if refusable(form, err, "assemblies.consultation") {
		return p.showConsultationForm(pg, form)
	}
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.redirect(motionPath(r.PathValue("id"), m.ID), "asked")
}

// motionTitles are the titles of the motions ids names in the request's assembly; an
// id that names none is left to the Service to refuse.
func (p *Plugin) motionTitles(pg *pageCtx, ids []string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		if m, err := getMotion(pg.ctx, p.svc.db, pg.r.PathValue("id"), id); err == nil {
			out[id] = m.Title
		} else {
			out[id] = id
		}
	}
	return out
}
