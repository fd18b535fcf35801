package assemblies

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// The pages everyone may read: the assemblies, one assembly with its rules, members,
// meetings and motions, a meeting, a motion with its public timeline, the city's
// answers due, and the neighbourhood card. Signed in, the same pages show the viewer's
// own controls (join, draft, vote; the officers' and the city's forms).

// allOf is the first page of a list, as long as lists go: an assembly's meetings and
// motions fit on one page for years (a page of them per meeting).
var allOf = sdk.ListQuery{Limit: sdk.MaxLimit}

// stateTones colour a motion's state.
var stateTones = map[string]string{StateTabled: "info", StateVoting: "warning", StateAdopted: "success", StateRejected: "danger"}

func (pg *pageCtx) stateTag(state string) *web.Tag {
	return &web.Tag{Text: pg.t("assemblies.state." + state), Tone: stateTones[state]}
}

// indexPage lists the assemblies, all or those of one neighbourhood.
func (p *Plugin) indexPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	q, err := sdk.ListParams(r)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	list, err := p.svc.Assemblies(pg.ctx, r.URL.Query().Get("neighbourhood"), q)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	table := web.Table{Caption: pg.t("assemblies.index.caption"), RowHeaders: true, Columns: []web.Column{
		{Label: pg.t("assemblies.col.name")}, {Label: pg.t("assemblies.col.members"), Numeric: true},
		{Label: pg.t("assemblies.col.overdue"), Numeric: true}}}
	for _, a := range list.Items {
		table.Rows = append(table.Rows, []web.Cell{{Text: a.Name, Href: assemblyPath(a.ID)},
			{Text: pg.loc.Number(int64(a.Members))}, {Text: pg.loc.Number(int64(a.OverdueAnswers))}})
	}
	return pg.render("index", struct {
		Table web.Table
		Empty bool
		Pages web.Pagination
	}{table, len(list.Items) == 0, web.Pagination{Next: web.CursorURL(r.URL, list.NextCursor)}},
		sdk.PageMeta{Title: pg.t("assemblies.index.title"), NavActive: navAssemblies})
}

// assemblyView is the assembly page.
type assemblyView struct {
	A             Assembly
	Role          role
	Rules         []string
	Members       web.Table
	MembersHidden bool
	Pending       []Member
	Positions     []web.Option
	People        []web.Option
	Upcoming      web.Table
	Past          web.Table
	Motions       web.Table
	Waiting       web.Table
	Consultations web.Table
	Calendar      string
	Self          string
	Responder     bool
}

func (p *Plugin) assemblyPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	row, err := getAssemblyRow(pg.ctx, p.svc.db, r.PathValue("id"), p.svc.Now())
	if err != nil {
		return sdk.PageMeta{}, err
	}
	a := row.assembly()
	d, err := p.assemblyData(pg, a, row.DataVersion)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	var viewer role
	members, hidden, err := d.members.seenBy(pg, p, a, &viewer)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	j, err := json.Marshal(a)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	key := assemblyPageKey{ID: a.ID, Assembly: sha256.Sum256(j), Version: row.DataVersion, Until: d.until.UnixMicro(),
		Role: viewer, Responder: holds(pg.who, PermConsultationRequest, sdk.DomainCity), Hidden: hidden}
	body, err := pageMemo.BytesForFunc(key, pg.kit.For(pg.loc.Lang()), "assembly", func() (any, error) {
		return p.assemblyView(pg, a, d, viewer, key.Responder, members, hidden), nil
	})
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return sdk.PageMeta{}, web.WriteContent(pg.w, pg.r, http.StatusOK, body, pg.meta(a.Name, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}))
}

// assemblyPageKey is everything the assembly page shows, for the page memo: the
// assembly (a digest of its JSON), its lists (their data_version, and the moment they
// turn with time), and who looks (the viewer's role, whether they answer for the
// city, whether the member list is hidden from them). The language is the template's.
type assemblyPageKey struct {
	ID        string
	Assembly  [sha256.Size]byte
	Version   int64
	Until     int64
	Role      role
	Responder bool
	Hidden    bool
}

// assemblyView is the assembly page's data, made only when the page memo has no
// answer for its key.
func (p *Plugin) assemblyView(pg *pageCtx, a Assembly, d *assemblyData, viewer role, responder bool, members []Member, hidden bool) assemblyView {
	v := assemblyView{A: a, Role: viewer, Responder: responder, MembersHidden: hidden,
		Rules: pg.rules(a.Rules), Calendar: calendarPath(a.ID), Self: assemblyPath(a.ID)}
	v.Members = web.Table{Caption: pg.t("assemblies.members.caption"), RowHeaders: true, Columns: []web.Column{
		{Label: pg.t("assemblies.col.name")}, {Label: pg.t("assemblies.col.position")}, {Label: pg.t("assemblies.col.represents")}}}
	for _, m := range members {
		if m.Status == MemberPending {
			v.Pending = append(v.Pending, m)
			continue
		}
		represents := pg.t("assemblies.kind.resident")
		if m.Kind == KindDelegate {
			represents = pg.t("assemblies.kind.delegate")
		}
		v.Members.Rows = append(v.Members.Rows, []web.Cell{{Text: m.DisplayName}, {Text: pg.t("assemblies.position." + m.Position)}, {Text: represents}})
		v.People = append(v.People, web.Option{Value: m.UserID, Label: m.DisplayName})
	}
	for _, pos := range []string{PositionChair, PositionViceChair, PositionSecretary, PositionMember} {
		v.Positions = append(v.Positions, web.Option{Value: pos, Label: pg.t("assemblies.position." + pos)})
	}
	v.Upcoming, v.Past = pg.meetingTables(a.ID, d.meetings, d.at)
	v.Motions, v.Waiting, v.Consultations = pg.motionTables(a.ID, d.motions, viewer.Member || viewer.Officer)
	return v
}

// rules says an assembly's rules in plain words.
func (pg *pageCtx) rules(r Rules) []string {
	var out []string
	switch {
	case r.QuorumPercent > 0:
		out = append(out, pg.t("assemblies.rules.quorum_percent", "Percent", r.QuorumPercent))
	case r.QuorumAbsolute > 0:
		out = append(out, pg.t("assemblies.rules.quorum_absolute", "Count", r.QuorumAbsolute))
	default:
		out = append(out, pg.t("assemblies.rules.quorum_none"))
	}
	out = append(out, pg.t("assemblies.rules.majority."+cmp.Or(r.Majority, MajoritySimple)),
		pg.t("assemblies.rules.secrecy."+cmp.Or(r.Secrecy, SecrecyNamed)),
		pg.t("assemblies.rules.membership."+cmp.Or(r.Membership, MembershipOpen)))
	if r.BallotChangeable {
		out = append(out, pg.t("assemblies.rules.changeable"))
	} else {
		out = append(out, pg.t("assemblies.rules.final"))
	}
	if r.TermMonths > 0 {
		out = append(out, pg.t("assemblies.rules.term", "Months", r.TermMonths))
	}
	if r.OrgSeats > 0 {
		out = append(out, pg.t("assemblies.rules.org_seats", "Seats", r.OrgSeats))
	}
	return out
}

// where is a meeting's place and/or that it can be joined online.
func (pg *pageCtx) where(m Meeting) string {
	switch {
	case m.Place != "" && m.OnlineURL != "":
		return pg.t("assemblies.meeting.hybrid", "Place", m.Place)
	case m.Place != "":
		return m.Place
	}
	return pg.t("assemblies.meeting.online")
}

func (pg *pageCtx) meetingTables(asm string, ms []Meeting, now time.Time) (upcoming, past web.Table) {
	cols := []web.Column{{Label: pg.t("assemblies.col.meeting")}, {Label: pg.t("assemblies.col.when")},
		{Label: pg.t("assemblies.col.where")}, {Label: pg.t("assemblies.col.status")}}
	upcoming = web.Table{Caption: pg.t("assemblies.meetings.upcoming"), RowHeaders: true, Columns: cols}
	past = web.Table{Caption: pg.t("assemblies.meetings.past"), RowHeaders: true, Columns: cols}
	for _, m := range ms {
		row := []web.Cell{{Text: m.Title, Href: meetingPath(asm, m.ID)}, {Text: pg.loc.DateTime(m.StartsAt)},
			{Text: pg.where(m)}, {Tag: pg.meetingTag(m)}}
		if m.EndsAt.After(now) && m.Status != MeetingCancelled {
			upcoming.Rows = append(upcoming.Rows, row)
		} else {
			past.Rows = append(past.Rows, row)
		}
	}
	slices.Reverse(past.Rows) // the latest first
	return upcoming, past
}

func (pg *pageCtx) meetingTag(m Meeting) *web.Tag {
	switch {
	case m.Status == MeetingCancelled:
		return &web.Tag{Text: pg.t("assemblies.meeting.status.cancelled"), Tone: "danger"}
	case m.MinutesStatus == MinutesPublished:
		return &web.Tag{Text: pg.t("assemblies.meeting.status.minutes"), Tone: "success"}
	}
	return &web.Tag{Text: pg.t("assemblies.meeting.status." + m.Status), Tone: "info"}
}

// motionTables are the motions (drafts only to members), the adopted ones waiting for
// the city's answer, and the city's requests for advice.
func (pg *pageCtx) motionTables(asm string, ms []Motion, member bool) (motions, waiting, consultations web.Table) {
	motions = web.Table{Caption: pg.t("assemblies.motions.caption"), RowHeaders: true, Columns: []web.Column{
		{Label: pg.t("assemblies.col.motion")}, {Label: pg.t("assemblies.col.state")}, {Label: pg.t("assemblies.col.updated")}}}
	waiting = web.Table{Caption: pg.t("assemblies.waiting.caption"), RowHeaders: true, Columns: []web.Column{
		{Label: pg.t("assemblies.col.motion")}, {Label: pg.t("assemblies.col.due")}, {Label: pg.t("assemblies.col.status")}}}
	consultations = web.Table{Caption: pg.t("assemblies.consultations.caption"), RowHeaders: true, Columns: []web.Column{
		{Label: pg.t("assemblies.col.question")}, {Label: pg.t("assemblies.col.advice_due")}, {Label: pg.t("assemblies.col.state")}}}
	for _, m := range ms {
		if m.State == StateDraft && !member {
			continue
		}
		href := motionPath(asm, m.ID)
		if m.Kind == KindConsultation {
			due := ""
			if m.AdviceDueAt != nil {
				due = pg.loc.Date(*m.AdviceDueAt)
			}
			consultations.Rows = append(consultations.Rows, []web.Cell{{Text: m.Title, Href: href}, {Text: due}, {Tag: pg.stateTag(m.State)}})
			continue
		}
		motions.Rows = append(motions.Rows, []web.Cell{{Text: m.Title, Href: href}, {Tag: pg.stateTag(m.State)}, {Text: pg.loc.Date(m.UpdatedAt)}})
		if a := m.Answer; a != nil && (a.Status == AnswerSubmitted || a.Status == AnswerAcknowledged) {
			waiting.Rows = append(waiting.Rows, []web.Cell{{Text: m.Title, Href: href}, {Text: pg.loc.Date(a.DueAt)}, {Tag: pg.answerTag(a)}})
		}
	}
	return motions, waiting, consultations
}

func (pg *pageCtx) answerTag(a *Answer) *web.Tag {
	if a.Overdue && (a.Status == AnswerSubmitted || a.Status == AnswerAcknowledged) {
		return &web.Tag{Text: pg.t("assemblies.answer.overdue"), Tone: "danger"}
	}
	tone := "info"
	if a.Status == AnswerAnswered || a.Status == AnswerImplemented {
		tone = "success"
	}
	return &web.Tag{Text: pg.t("assemblies.answer.status." + a.Status), Tone: tone}
}

// meetingView is the meeting page.
type meetingView struct {
	A         Assembly
	M         Meeting
	Role      role
	Where     string
	Tag       *web.Tag
	Agenda    []agendaLine
	Present   []string
	Remote    []string
	Minutes   string
	Held      bool
	Form      *web.Form
	People    []web.Option
	Self      string
	Cancelled bool
}

type agendaLine struct{ Title, Href string }

func (p *Plugin) meetingPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	return p.showMeeting(pg, nil)
}

// showMeeting renders the meeting page, with form's problems when a form was refused.
func (p *Plugin) showMeeting(pg *pageCtx, form *web.Form) (sdk.PageMeta, error) {
	a, err := p.svc.Assembly(pg.ctx, pg.r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	m, err := p.svc.Meeting(pg.ctx, a.ID, pg.r.PathValue("meetingID"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v := meetingView{A: a, M: m, Where: pg.where(m), Tag: pg.meetingTag(m), Form: form, Self: meetingPath(a.ID, m.ID),
		Cancelled: m.Status == MeetingCancelled, Held: !m.StartsAt.After(p.svc.Now())}
	if v.Role, err = p.svc.roleIn(pg.ctx, a, pg.who); err != nil {
		return sdk.PageMeta{}, err
	}
	for _, it := range m.Agenda {
		l := agendaLine{Title: it.Title}
		if it.MotionID != "" {
			l.Href = motionPath(a.ID, it.MotionID)
		}
		v.Agenda = append(v.Agenda, l)
	}
	if m.MinutesStatus == MinutesPublished || v.Role.Officer {
		v.Minutes = m.Minutes
	}
	if v.Role.Officer && v.Form == nil {
		v.Form = web.NewForm(nil)
		v.Form.Set("minutes", m.Minutes)
		var room []string
		for _, id := range m.Attendance {
			if !slices.Contains(m.Remote, id) {
				room = append(room, id)
			}
		}
		v.Form.Set("user_ids", room...)
		v.Form.Set("remote_user_ids", m.Remote...)
	}
	members, err := p.svc.Members(pg.ctx, pg.who, a.ID, allOf)
	if err == nil {
		names := map[string]string{}
		for _, mb := range members.Items {
			names[mb.UserID] = mb.DisplayName
			if mb.Status == MemberActive {
				v.People = append(v.People, web.Option{Value: mb.UserID, Label: mb.DisplayName})
			}
		}
		for _, id := range m.Attendance {
			if n := names[id]; n != "" && !slices.Contains(m.Remote, id) {
				v.Present = append(v.Present, n)
			}
		}
		for _, id := range m.Remote {
			if n := names[id]; n != "" {
				v.Remote = append(v.Remote, n)
			}
		}
	}
	meta := pg.meta(m.Title, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}, sdk.Crumb{Label: m.Title, Href: v.Self})
	if !form.Valid() {
		return pg.refuse("meeting", v, meta)
	}
	return pg.render("meeting", v, meta)
}

// motionView is the motion page.
type motionView struct {
	// A is the assembly's name and address, all the page shows of it: the whole
	// assembly would lengthen the page's digest (renderSummed) for nothing.
	A         assemblyRef
	M         Motion
	Role      role
	Responder bool
	Tag       *web.Tag
	Author    string
	Sponsors  []string
	// timeline draws the motion's history in the viewer's words (Timeline).
	timeline    func() []timelineLine
	Counts      *Counts
	Outcome     string
	Answer      *Answer
	AnswerTag   *web.Tag
	Decision    string
	Meetings    []web.Option
	Secrecy     []web.Option
	Decisions   []web.Option
	Form        *web.Form
	Self        string
	Booth       string
	CanTable    bool
	CanSponsor  bool
	CanWithdraw bool
	CanEdit     bool
	// Invitable are the members the author may ask to co-sponsor.
	Invitable []web.Option
}

// Timeline is the motion's history in the viewer's words. It is worded only when the
// page is drawn, not for every view of a page kept by renderSummed: its words come from
// M.Timeline and the names of M's author and sponsors, all in the page's digest.
func (v motionView) Timeline() []timelineLine {
	if v.timeline == nil {
		return nil
	}
	return v.timeline()
}

// assemblyRef names an assembly on a page about something of it.
type assemblyRef struct{ ID, Name string }

type timelineLine struct {
	At   time.Time
	Text string
}

func (p *Plugin) motionPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	return p.showMotion(p.page(w, r), nil)
}

func (p *Plugin) showMotion(pg *pageCtx, form *web.Form) (sdk.PageMeta, error) {
	a, err := p.assemblyFor(pg, pg.r.PathValue("id"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	m, err := p.svc.Motion(pg.ctx, a.ID, pg.r.PathValue("motionID"))
	if err != nil {
		return sdk.PageMeta{}, err
	}
	v := motionView{A: assemblyRef{ID: a.ID, Name: a.Name}, M: m, Tag: pg.stateTag(m.State), Form: form, Self: motionPath(a.ID, m.ID), Booth: boothPath(a.ID, m.ID),
		Role: roleOf(a, pg.who, nil)}
	// The viewer's membership decides only what members may still do with the motion
	// (co-sponsor, table, withdraw, vote): a decided one reads as the JSON route does.
	if m.State == StateDraft || m.State == StateTabled || m.State == StateVoting {
		if v.Role, err = p.svc.roleIn(pg.ctx, a, pg.who); err != nil {
			return sdk.PageMeta{}, err
		}
	}
	if m.State == StateDraft && !v.Role.Member && !v.Role.Officer && m.AuthorID != pg.who.UserID {
		// A draft is its author's and the members' until it is tabled.
		return sdk.PageMeta{}, sdk.Errorf(sdk.CodeNotFound, "no motion %q", m.ID)
	}
	if v.Responder, err = p.isResponder(pg.ctx, pg.who); err != nil {
		return sdk.PageMeta{}, err
	}
	ids := append([]string{m.AuthorID}, m.Sponsors...)
	names := p.names(pg, ids)
	v.Author = names[m.AuthorID]
	for _, id := range m.Sponsors {
		v.Sponsors = append(v.Sponsors, names[id])
	}
	authorOrChair := m.AuthorID == pg.who.UserID || v.Role.Chair
	v.CanEdit = m.State == StateDraft && m.AuthorID == pg.who.UserID && m.Kind == KindMotion
	v.CanTable = m.State == StateDraft && authorOrChair && m.Kind == KindMotion
	v.CanWithdraw = (m.State == StateDraft || m.State == StateTabled) && authorOrChair
	v.CanSponsor = (m.State == StateDraft || m.State == StateTabled) && v.Role.Member && m.AuthorID != pg.who.UserID &&
		!slices.Contains(m.Sponsors, pg.who.UserID)
	v.timeline = func() []timelineLine {
		lines := make([]timelineLine, len(m.Timeline))
		for i, e := range m.Timeline {
			lines[i] = timelineLine{At: e.At, Text: pg.timelineText(e, names)}
		}
		return lines
	}
	if m.AuthorID == pg.who.UserID && m.Kind == KindMotion && (m.State == StateDraft || m.State == StateTabled) {
		var seen role // the same as v.Role, read again with the list
		members, _, err := p.listAssemblyMembers(pg, a, &seen)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		for _, mb := range members {
			if mb.Status == MemberActive && mb.UserID != m.AuthorID && !slices.Contains(m.Sponsors, mb.UserID) {
				v.Invitable = append(v.Invitable, web.Option{Value: mb.UserID, Label: mb.DisplayName})
			}
		}
	}
	if m.Vote != nil && m.Vote.Counts != nil {
		v.Counts, v.Outcome = m.Vote.Counts, pg.t("assemblies.outcome."+m.Vote.Outcome)
	}
	if m.Answer != nil {
		v.Answer, v.AnswerTag = m.Answer, pg.answerTag(m.Answer)
		if m.Answer.Decision != "" {
			v.Decision = pg.t("assemblies.decision." + m.Answer.Decision)
		}
	}
	if v.Role.Chair && m.State == StateTabled {
		v.Secrecy = []web.Option{{Value: SecrecySecret, Label: pg.t("assemblies.secrecy.secret")}, {Value: SecrecyNamed, Label: pg.t("assemblies.secrecy.named")}}
		v.Meetings = []web.Option{{Value: "", Label: pg.t("assemblies.open.no_meeting")}}
		meetings, err := p.svc.Meetings(pg.ctx, a.ID, allOf)
		if err != nil {
			return sdk.PageMeta{}, err
		}
		for _, mt := range meetings.Items {
			if mt.Status != MeetingCancelled {
				v.Meetings = append(v.Meetings, web.Option{Value: mt.ID, Label: mt.Title + " – " + pg.loc.Date(mt.StartsAt)})
			}
		}
		if v.Form == nil {
			v.Form = web.NewForm(nil)
			v.Form.Set("secrecy", a.Secrecy)
		}
	}
	if v.Responder && m.Answer != nil {
		for _, d := range []string{DecisionAccepted, DecisionPartlyAccepted, DecisionDeclined} {
			v.Decisions = append(v.Decisions, web.Option{Value: d, Label: pg.t("assemblies.decision." + d)})
		}
	}
	meta := pg.meta(m.Title, sdk.Crumb{Label: a.Name, Href: assemblyPath(a.ID)}, sdk.Crumb{Label: m.Title, Href: v.Self})
	if !form.Valid() {
		return pg.refuse("motion", v, meta)
	}
	if v.Form == nil { // a form's values are not in its JSON: only a page without one is kept
		return pg.renderSummed("motion", m.ID, v, meta)
	}
	return pg.render("motion", v, meta)
}

// names are the display names of users: from the page's short-lived cache, the rest
// from the host in one call.
func (p *Plugin) names(pg *pageCtx, ids []string) map[string]string {
	out := map[string]string{}
	var missing []Member
	now := time.Now()
	for _, id := range ids {
		if id == "" {
			continue
		}
		if c, ok := displayNames.get(nameKey{p.svc, id}); ok && now.Before(c.until) {
			out[id] = c.name
		} else {
			missing = append(missing, Member{UserID: id})
		}
	}
	if len(missing) == 0 {
		return out
	}
	for _, m := range p.svc.namedAll(pg.ctx, missing) {
		out[m.UserID] = m.DisplayName
		if m.DisplayName != "" { // a failed lookup is asked again next time
			displayNames.put(nameKey{p.svc, m.UserID}, cachedName{m.DisplayName, now.Add(nameTTL)})
		}
	}
	return out
}

// displayNames caches the display names pages show (authors, sponsors, members, the
// timeline's actors) for nameTTL: a page of forty members would otherwise ask the host
// for forty names on every view. A changed or erased name shows on pages at most
// nameTTL later; the JSON routes and notifications ask the host every time.
var displayNames = newPageCache[cachedName]()

type nameKey struct {
	svc *Service
	id  string
}

type cachedName struct {
	name  string
	until time.Time
}

const (
	nameTTL        = 30 * time.Second
	maxCachedNames = 50000
)

// timelineText says one step of a motion's life.
func (pg *pageCtx) timelineText(e TimelineEntry, names map[string]string) string {
	id := "assemblies.timeline." + e.Kind
	if !pg.loc.Has(id) {
		id = "assemblies.timeline.other"
	}
	data := map[string]any{"Who": names[e.ActorID]}
	if e.ActorID != "" && data["Who"] == "" {
		data["Who"] = pg.t("assemblies.someone")
	}
	switch e.Kind {
	case "vote_opened":
		if s, ok := e.Detail["secrecy"].(string); ok {
			data["Secrecy"] = pg.t("assemblies.secrecy." + s)
		}
	case "vote_closed":
		if o, ok := e.Detail["outcome"].(string); ok {
			data["Outcome"] = pg.t("assemblies.outcome." + o)
		}
		if c, ok := e.Detail["counts"].(map[string]any); ok {
			data["Yes"], data["No"], data["Abstain"] = c["yes"], c["no"], c["abstain"]
		}
	case "submitted_to_city", "answer_overdue":
		if s, ok := e.Detail["answer_due_at"].(string); ok {
			if due, err := time.Parse(time.RFC3339Nano, s); err == nil {
				data["Due"] = pg.loc.Date(due)
			}
		}
	case "on_agenda", "meeting_moved":
		data["Meeting"], _ = e.Detail["meeting"].(string)
		if s, ok := e.Detail["starts_at"].(string); ok {
			if at, err := time.Parse(time.RFC3339Nano, s); err == nil {
				data["When"] = pg.loc.DateTime(at)
			}
		}
	case "answered":
		if d, ok := e.Detail["decision"].(string); ok {
			data["Decision"] = pg.t("assemblies.decision." + d)
		}
	}
	return pg.loc.T(id, data)
}

// answersPage is every adopted motion the city has still to answer, across the
// assemblies, by due date: the press's and the council's view, public.
func (p *Plugin) answersPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	t, err := p.dueTable(pg, false)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	return pg.render("answers", struct {
		Table web.Table
		Inbox bool
	}{t, false}, pg.meta(pg.t("assemblies.answers.title"), sdk.Crumb{Label: pg.t("assemblies.answers.title"), Href: pathAnswers}))
}

// inboxPage is the city responders' inbox: the same motions with the steps they take.
func (p *Plugin) inboxPage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	t, err := p.dueTable(pg, true)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := pg.meta(pg.t("assemblies.inbox.title"), sdk.Crumb{Label: pg.t("assemblies.inbox.title"), Href: pathInbox})
	meta.NavActive = navInbox
	return pg.render("answers", struct {
		Table web.Table
		Inbox bool
	}{t, true}, meta)
}

// dueTable lists the adopted motions waiting for the city's answer, the earliest due
// first, across every assembly (a page of them; the cursor pages on).
func (p *Plugin) dueTable(pg *pageCtx, inbox bool) (web.Table, error) {
	q, err := sdk.ListParams(pg.r)
	if err != nil {
		return web.Table{}, err
	}
	due, err := p.svc.AnswersDue(pg.ctx, false, q)
	if err != nil {
		return web.Table{}, err
	}
	caption := pg.t("assemblies.answers.caption")
	if inbox {
		caption = pg.t("assemblies.inbox.caption")
	}
	t := web.Table{Caption: caption, RowHeaders: true, Columns: []web.Column{{Label: pg.t("assemblies.col.motion")},
		{Label: pg.t("assemblies.col.assembly")}, {Label: pg.t("assemblies.col.due")}, {Label: pg.t("assemblies.col.status")}}}
	for _, d := range due.Items {
		t.Rows = append(t.Rows, []web.Cell{{Text: d.Title, Href: motionPath(d.AssemblyID, d.ID)}, {Text: d.AssemblyName, Href: assemblyPath(d.AssemblyID)},
			{Text: pg.loc.Date(d.Answer.DueAt)}, {Tag: pg.answerTag(d.Answer)}})
	}
	return t, nil
}

// neighbourhoodCard is the card on the core's neighbourhood page: the next meeting,
// the open votes and the latest answers of the neighbourhood's assemblies (the
// Service's Summary, three reads however many assemblies there are).
func (p *Plugin) neighbourhoodCard(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	pg := p.page(w, r)
	nbh := r.PathValue("nbh")
	sum, err := p.svc.Summary(pg.ctx, nbh)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	list, err := p.svc.Assemblies(pg.ctx, nbh, allOf)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	names := map[string]string{}
	for _, a := range list.Items {
		names[a.ID] = a.Name
	}
	type line struct{ Text, Href, Meta string }
	var v struct {
		Next    *line
		Votes   []line
		Answers []line
		Index   string
	}
	v.Index = pagesBase + "?neighbourhood=" + url.QueryEscape(nbh)
	if m := sum.NextMeeting; m != nil {
		v.Next = &line{Text: m.Title, Href: meetingPath(m.AssemblyID, m.ID), Meta: pg.loc.DateTime(m.StartsAt) + " · " + pg.where(*m)}
	}
	for _, m := range sum.OpenVotes {
		v.Votes = append(v.Votes, line{Text: m.Title, Href: motionPath(m.AssemblyID, m.ID), Meta: names[m.AssemblyID]})
	}
	for i, m := range sum.LatestAnswers {
		if i == 3 || m.Answer == nil {
			break
		}
		v.Answers = append(v.Answers, line{Text: m.Title, Href: motionPath(m.AssemblyID, m.ID), Meta: pg.t("assemblies.decision." + m.Answer.Decision)})
	}
	return pg.render("card", v, sdk.PageMeta{Title: pg.t("assemblies.card.title")})
}

// The assembly page's lists, read straight from the store for the assembly the page
// has already loaded: the Service's list methods each load it again to check that it
// exists, which for one page is four reads of the same row (BenchmarkPages).

func (p *Plugin) listAssemblyMeetings(pg *pageCtx, a Assembly, now time.Time) ([]Meeting, error) {
	rows, err := listMeetings(pg.ctx, p.svc.db, a.ID, allOf)
	if err != nil {
		return nil, err
	}
	ms := make([]Meeting, len(rows))
	for i, r := range rows {
		ms[i] = r.meeting(now)
	}
	return ms, nil // the page shows no agenda or attendance: fillMeetings would read them for nothing
}

func (p *Plugin) listAssemblyMotions(pg *pageCtx, a Assembly, now time.Time) ([]Motion, error) {
	rows, err := listMotions(pg.ctx, p.svc.db, a.ID, motionFilter{}, allOf)
	if err != nil {
		return nil, err
	}
	ms := make([]Motion, len(rows))
	for i, r := range rows {
		ms[i] = r.motion(now)
	}
	return ms, nil
}

// listAssemblyMembers are the members the viewer may see (memberData.seenBy), read now.
func (p *Plugin) listAssemblyMembers(pg *pageCtx, a Assembly, r *role) (ms []Member, hidden bool, err error) {
	d, err := p.readMembers(pg, a.ID)
	if err != nil {
		return nil, false, err
	}
	return d.seenBy(pg, p, a, r)
}

// memberData is what a page reads of an assembly's members for any viewer: the
// active members and the applicants, and, when that list was cut at the limit, the
// active members alone; with their names.
type memberData struct {
	rows   []memberRow
	active []memberRow // nil unless rows was cut
	names  map[string]string
}

func (p *Plugin) readMembers(pg *pageCtx, assemblyID string) (memberData, error) {
	var d memberData
	var err error
	if d.rows, err = listMembers(pg.ctx, p.svc.db, assemblyID, []string{MemberActive, MemberPending}, allOf); err != nil {
		return d, err
	}
	if len(d.rows) == allOf.Limit {
		// The list was cut at the limit, so applicants, whom only officers see, may
		// have taken members' places in it: non-officers get the members alone.
		if d.active, err = listMembers(pg.ctx, p.svc.db, assemblyID, []string{MemberActive}, allOf); err != nil {
			return d, err
		}
	}
	ids := make([]string, 0, len(d.rows)+len(d.active))
	for _, rows := range [][]memberRow{d.rows, d.active} {
		for _, row := range rows {
			ids = append(ids, row.UserID)
		}
	}
	d.names = p.names(pg, ids)
	return d, nil
}

// seenBy are the members the viewer may see, as Service.Members decides: officers see
// the applicants too; a city that keeps lists to members shows them to members and
// officers only (hidden is then true for everyone else). It sets the viewer's role
// from the same rows: a person with no active or pending membership (one who left,
// or was refused) is to the page what a stranger is.
func (d memberData) seenBy(pg *pageCtx, p *Plugin, a Assembly, r *role) (ms []Member, hidden bool, err error) {
	var mine *memberRow
	for i := range d.rows {
		if pg.who.Authenticated() && d.rows[i].UserID == pg.who.UserID {
			mine = &d.rows[i]
		}
	}
	*r = roleOf(a, pg.who, mine)
	if mine == nil && len(d.rows) == allOf.Limit {
		// A list cut at the limit may leave out the viewer's row: ask for it.
		if *r, err = p.svc.roleIn(pg.ctx, a, pg.who); err != nil {
			return nil, false, err
		}
	}
	if !p.svc.MemberListPublic && !r.Member && !r.Officer {
		return nil, true, nil
	}
	rows := d.rows
	if d.active != nil && !r.Officer {
		rows = d.active
	}
	for _, row := range rows {
		if row.Status == MemberActive || r.Officer {
			m := row.member()
			m.DisplayName = d.names[m.UserID]
			ms = append(ms, m)
		}
	}
	return ms, false, nil
}

// assemblyData is what the assembly page reads of an assembly besides its own row —
// its members, meetings and motions — as read at at. It stands while the assembly's
// data_version does (every change of those rows counts it up: migration 0006) and
// until the first moment after at when something on the page turns with time: a
// meeting begins or ends, an answer falls due, or the names are nameTTL old.
type assemblyData struct {
	version   int64
	at, until time.Time
	members   memberData
	meetings  []Meeting
	motions   []Motion
}

// assemblyData is a's data at version: kept from an earlier page while it stands.
// Pages only read it: its slices are shared.
func (p *Plugin) assemblyData(pg *pageCtx, a Assembly, version int64) (*assemblyData, error) {
	now, key := p.svc.Now(), nameKey{p.svc, a.ID}
	if d, ok := assemblyLists.get(key); ok && d.version == version && now.Before(d.until) {
		return d, nil
	}
	d := &assemblyData{version: version, at: now, until: now.Add(nameTTL)}
	var err error
	if d.members, err = p.readMembers(pg, a.ID); err != nil {
		return nil, err
	}
	if d.meetings, err = p.listAssemblyMeetings(pg, a, now); err != nil {
		return nil, err
	}
	if d.motions, err = p.listAssemblyMotions(pg, a, now); err != nil {
		return nil, err
	}
	turn := func(t time.Time) {
		if !t.Before(now) && t.Before(d.until) {
			d.until = t
		}
	}
	for _, m := range d.meetings {
		if m.Status != MeetingCancelled {
			turn(m.StartsAt)
			turn(m.EndsAt)
		}
	}
	for _, m := range d.motions {
		if ans := m.Answer; ans != nil && (ans.Status == AnswerSubmitted || ans.Status == AnswerAcknowledged) {
			turn(ans.DueAt)
		}
	}
	assemblyLists.put(key, d)
	return d, nil
}

var assemblyLists = newPageCache[*assemblyData]()
